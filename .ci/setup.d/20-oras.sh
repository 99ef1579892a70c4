#!/usr/bin/env bash
# Installs the `oras` CLI for the OCI tests. Bookworm does not package it; trixie does (1.2.x, needs only
# libc6 >= 2.34, which bookworm has): .ci/trixie-download.sh fetches that one .deb from this machine's own
# Debian mirror. Idempotent: does nothing when oras runs.
set -euo pipefail
if command -v oras >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
deb="$(mktemp -d)"
trap 'rm -rf "$deb"' EXIT
SUITE="${ORAS_SUITE:-trixie}" bash "$(dirname "$0")/../trixie-download.sh" "$deb" oras
$SUDO dpkg -i "$deb"/oras_*.deb
oras version
