#!/usr/bin/env bash
# The oldest Node pinget supports (package.json engines: >=22.19), for test/bundle-oldest-node.test.ts:
# npm's node-linux-<arch> package into the gitignored tmp/node-oldest/.
set -euo pipefail
arch="$(node -p process.arch)"
exec bash "$(dirname "$0")/../scratch-npm-install.sh" tmp/node-oldest "node-linux-${arch}@22.19.0"
