#!/usr/bin/env bash
# Builds Alpine's package manager from ../shared/vendor/ (Debian does not package it), both generations:
# apk 2.14 (Alpine <= 3.22) and apk 3.0 (Alpine >= 3.23, Wolfi). Each archive is checked against the
# vendor folder's SHA256SUMS first. Builds into the ignored tmp/vendor/ and writes two wrappers,
# tmp/vendor/bin/apk2 and tmp/vendor/bin/apk3, that run the built binary with its own libapk.
# Idempotent: does nothing when both wrappers already run. Tests find them through test/helpers/real-apk.ts.
set -euo pipefail
cd "$(dirname "$0")/../.."
vendor="${PINGET_VENDOR_DIR:-../shared/vendor}"
out="$PWD/tmp/vendor"
if "$out/bin/apk2" --version >/dev/null 2>&1 && "$out/bin/apk3" --version >/dev/null 2>&1; then
  exit 0
fi
(cd "$vendor" && sha256sum --quiet -c SHA256SUMS)
mkdir -p "$out/bin"
build2="$out/apk-tools-2.14.10"
rm -rf "$build2"
tar -xzf "$vendor/apk-tools-2.14.10.tar.gz" -C "$out"
make -C "$build2" -j2 LUA=no >"$out/apk2-build.log" 2>&1 || { tail -30 "$out/apk2-build.log"; exit 1; }
build3="$out/apk-tools-3.0.6"
rm -rf "$build3"
tar -xzf "$vendor/apk-tools-3.0.6.tar.gz" -C "$out"
(cd "$build3" && meson setup build -Dlua=disabled -Ddocs=disabled -Dtests=disabled -Dpython=disabled \
  && ninja -C build) >"$out/apk3-build.log" 2>&1 || { tail -30 "$out/apk3-build.log"; exit 1; }
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s/src/apk "$@"\n' "$build2" "$build2" >"$out/bin/apk2"
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/build/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s/build/src/apk "$@"\n' "$build3" "$build3" >"$out/bin/apk3"
chmod +x "$out/bin/apk2" "$out/bin/apk3"
"$out/bin/apk2" --version
"$out/bin/apk3" --version
