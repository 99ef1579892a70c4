#!/usr/bin/env bash
# A real IPFS node for test/ipfs-roundtrip.test.ts: js-ipfs (npm ipfs-core + ipfs-http-server, deprecated,
# their last releases) serving the Kubo RPC API. Its current transitive dependencies call
# Promise.withResolvers, so it no longer runs on Node 20; it runs on Node 24 from npm's node-linux-<arch>
# package. Both go into the gitignored tmp/ipfs-node/, never into the project's dependencies.
set -euo pipefail
arch="$(node -p process.arch)"
exec bash "$(dirname "$0")/../scratch-npm-install.sh" tmp/ipfs-node "node-linux-${arch}@24.21.0" ipfs-core@0.18.1 ipfs-http-server@0.15.1
