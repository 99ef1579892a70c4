#!/usr/bin/env bash
# Usage: trixie-download.sh DIR PACKAGE...
# Downloads the named .debs of Debian trixie (or $SUITE) into DIR through a TEMPORARY apt configuration derived
# from this machine's own Debian sources with the suite renamed, so no mirror host is written into the
# repository and the system's sources are never touched. Used by .ci/setup.d/ for tools bookworm lacks.
set -euo pipefail
out="$1"
shift
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
SUITE="${SUITE:-trixie}"
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
work="$(mktemp -d)"
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/deb"
# apt downloads as the _apt user when it exists
chown _apt "$work/deb" "$work/archives/partial" 2>/dev/null || true

# Debian base-archive URIs from deb822 .sources files and one-line sources.list entries whose suite is the
# machine's own codename (not -updates/-security, which live elsewhere or under other names).
uris=()
for f in /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  # deb822 stanzas are separated by blank lines; keep URIs of stanzas listing "$codename" as a suite.
  while IFS= read -r u; do uris+=("$u"); done < <(awk -v cn="$codename" '
    BEGIN { RS=""; FS="\n" }
    {
      uris=""; suites=""; types=""; enabled="yes"
      for (i = 1; i <= NF; i++) {
        line = $i
        if (line ~ /^[ \t]*#/) continue
        if (line ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", line); uris = line }
        else if (line ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", line); suites = " " line " " }
        else if (line ~ /^Types:/) { sub(/^Types:[ \t]*/, "", line); types = " " line " " }
        else if (line ~ /^Enabled:/) { sub(/^Enabled:[ \t]*/, "", line); enabled = line }
      }
      if (enabled != "no" && types ~ / deb / && suites ~ (" " cn " ")) {
        n = split(uris, u, /[ \t]+/)
        for (j = 1; j <= n; j++) if (u[j] != "") print u[j]
      }
    }' "$f")
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -e "$f" ] || continue
  while read -r type rest; do
    [ "$type" = deb ] || continue
    # drop an optional [options] block, then take URI and suite
    rest="$(sed -E 's/^\[[^]]*\][[:space:]]*//' <<<"$rest")"
    read -r uri suite _ <<<"$rest"
    [ "$suite" = "$codename" ] && uris+=("$uri")
  done < "$f"
done
if [ "${#uris[@]}" -eq 0 ]; then
  echo "trixie-download.sh: no Debian source for suite '$codename' found in /etc/apt; install $* from Debian $SUITE by hand" >&2
  exit 1
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
: > "$work/sources.list"
for u in $(printf '%s\n' "${uris[@]}" | sort -u); do
  if [ -r "$keyring" ]; then
    echo "deb [signed-by=$keyring] $u $SUITE main" >> "$work/sources.list"
  else
    echo "deb $u $SUITE main" >> "$work/sources.list"
  fi
done

apt_opts=(
  -o "Dir::Etc::sourcelist=$work/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache::Archives=$work/archives"
  -o "Dir::Cache::pkgcache="
  -o "Dir::Cache::srcpkgcache="
  -o "APT::Get::List-Cleanup=0"
)
$SUDO apt-get "${apt_opts[@]}" update -qq
(cd "$work/deb" && $SUDO apt-get "${apt_opts[@]}" download "$@")
mkdir -p "$out"
cp "$work"/deb/*.deb "$out"/
