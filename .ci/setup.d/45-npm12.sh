#!/usr/bin/env bash
# npm 12.2.3 for test/install-story.test.ts: npm >= 12.2.2 (pacote 22.0.1, npm/pacote#494) is the first npm
# whose `npm install -g git+URL` prepares the clone with a local install; npm 11 and older inherit --global
# there and leave a link into a deleted clone (npm/cli#9406), which scripts/prepare.mjs refuses in one line.
# Into the gitignored tmp/npm12/, never into the project's dependencies. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=tmp/npm12
want=npm@12.2.3
if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$want" ] && [ -f "$dir/node_modules/npm/bin/npm-cli.js" ]; then
  exit 0
fi
mkdir -p "$dir"
printf '{ "name": "pinget-scratch-npm12", "private": true }\n' > "$dir/package.json"
(cd "$dir" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$want")
printf '%s' "$want" > "$dir/.installed"
