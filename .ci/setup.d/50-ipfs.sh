#!/usr/bin/env bash
# A real IPFS node for test/ipfs-roundtrip.test.ts: js-ipfs (npm ipfs-core + ipfs-http-server, deprecated,
# their last releases) serving the Kubo RPC API. Its current transitive dependencies call
# Promise.withResolvers, so it no longer runs on Node 20; it runs on Node 24 from npm's node-linux-<arch>
# package. Both go into the gitignored tmp/ipfs-node/, never into the project's dependencies.
# Idempotent: does nothing when the stamp matches.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=tmp/ipfs-node
arch="$(node -p process.arch)"
want="node-linux-${arch}@24.21.0 ipfs-core@0.18.1 ipfs-http-server@0.15.1"
if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$want" ] && [ -x "$dir/node_modules/node-linux-${arch}/bin/node" ]; then
  exit 0
fi
mkdir -p "$dir"
cd "$dir"
printf '{ "name": "pinget-test-ipfs-node", "private": true }\n' > package.json
# shellcheck disable=SC2086
npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error $want
"node_modules/node-linux-${arch}/bin/node" --version
printf '%s' "$want" > .installed
