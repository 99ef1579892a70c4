#!/usr/bin/env bash
# Docker Engine 26 with BuildKit and buildx for test/docker-build.test.ts (issue 24). Bookworm's docker.io is
# 20.10 (its BuildKit knows neither SOURCE_DATE_EPOCH nor the containerd image store), so we take trixie's
# containerd, docker.io, docker-cli and docker-buildx (they need only libc6 >= 2.34; bookworm's runc and tini
# serve) through .ci/trixie-download.sh, from this machine's own Debian mirror. No daemon is started: a
# policy-rc.d refuses service starts while the packages configure (the test runs its own dockerd on a private
# socket). Idempotent: does nothing when /usr/sbin/dockerd and /usr/bin/docker buildx both run.
set -euo pipefail
if /usr/sbin/dockerd --version >/dev/null 2>&1 && /usr/bin/docker buildx version >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
deb="$(mktemp -d)"
policy=""
cleanup() {
  rm -rf "$deb"
  [ -z "$policy" ] || $SUDO rm -f "$policy"
}
trap cleanup EXIT
bash "$(dirname "$0")/../trixie-download.sh" "$deb" containerd docker.io docker-cli docker-buildx
if [ ! -e /usr/sbin/policy-rc.d ]; then
  policy=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\n# set by pinget .ci/setup.d/30-docker.sh while it installs Docker; removed after\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
fi
DEBIAN_FRONTEND=noninteractive $SUDO dpkg -i "$deb"/*.deb
/usr/sbin/dockerd --version
/usr/bin/docker buildx version
