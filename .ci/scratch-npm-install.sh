#!/usr/bin/env bash
# Usage: scratch-npm-install.sh DIR PACKAGE@VERSION...
# Installs npm packages (a Node binary from npm's node-linux-<arch>, tools that need it) into the gitignored
# DIR under the repo root, never into the project's dependencies. Idempotent: does nothing when DIR's stamp
# names the same packages and its node-linux-<arch> binary runs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$1"
shift
want="$*"
arch="$(node -p process.arch)"
node_bin="$dir/node_modules/node-linux-${arch}/bin/node"
if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$want" ] && [ -x "$node_bin" ]; then
  exit 0
fi
mkdir -p "$dir"
printf '{ "name": "pinget-scratch-%s", "private": true }\n' "$(basename "$dir")" > "$dir/package.json"
(cd "$dir" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$@")
"$node_bin" --version
printf '%s' "$want" > "$dir/.installed"
