#!/usr/bin/env bash
# The oldest Node pinget supports (package.json engines: >=22.19), for test/bundle-oldest-node.test.ts:
# npm's node-linux-<arch> package into the gitignored tmp/node-oldest/, never into the project's dependencies.
# Idempotent: does nothing when the stamp matches.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=tmp/node-oldest
arch="$(node -p process.arch)"
want="node-linux-${arch}@22.19.0"
if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$want" ] && [ -x "$dir/node_modules/node-linux-${arch}/bin/node" ]; then
  exit 0
fi
mkdir -p "$dir"
cd "$dir"
printf '{ "name": "pinget-test-node-oldest", "private": true }\n' > package.json
npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$want"
"node_modules/node-linux-${arch}/bin/node" --version
printf '%s' "$want" > .installed
