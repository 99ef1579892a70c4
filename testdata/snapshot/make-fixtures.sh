#!/usr/bin/env bash
# Rebuilds the snapshot-archive fixtures: tiny real .deb files (dpkg-deb), laid out as the archives
# serve them, with mr/ API answers in the documented JSON format whose hashes are those files' own.
# The public archives cannot be reached from tests, so their answers are recorded here in their format
# with bytes of packages built here. Run from anywhere; rewrites debian/, ubuntu/ and the lockfiles.
set -euo pipefail
cd "$(dirname "$0")"
export SOURCE_DATE_EPOCH=1704067200
rm -rf debian ubuntu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build NAME VERSION ARCH -> path of the .deb in $work
build() {
  local name=$1 version=$2 arch=$3 dir="$work/$1_$3"
  mkdir -p "$dir/DEBIAN" "$dir/usr/share/doc/$name"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: pinget tests <tests@invalid>\nDescription: pinget snapshot fixture\n' \
    "$name" "$version" "$arch" >"$dir/DEBIAN/control"
  printf '%s %s %s\n' "$name" "$version" "$arch" >"$dir/usr/share/doc/$name/README"
  find "$dir" -exec touch -h -d @"$SOURCE_DATE_EPOCH" {} +
  dpkg-deb --root-owner-group -Zgzip --build "$dir" "$work/${name}_${version#*:}_$arch.deb" >/dev/null
  echo "$work/${name}_${version#*:}_$arch.deb"
}
place() { mkdir -p "$(dirname "$2")"; cp "$1" "$2"; }
sha1() { sha1sum "$1" | cut -c1-40; }
sha256() { sha256sum "$1" | cut -c1-64; }
size() { stat -c %s "$1"; }

hello=$(build hello 2.10-2 amd64)
sec_amd64=$(build libhello1 1:2.0-1+deb12u1 amd64)
sec_arm64=$(build libhello1 1:2.0-1+deb12u1 arm64)
u_amd64=$(build hello 2.10-3 amd64)
u_arm64=$(build hello 2.10-3 arm64)
u_doc=$(build hello-doc 2.10-3 all)

TS=20240101T000000Z
place "$hello" "debian/archive/debian/$TS/pool/main/h/hello/hello_2.10-2_amd64.deb"
place "$hello" "debian/file/$(sha1 "$hello")"
place "$sec_amd64" "debian/archive/debian-security/$TS/pool/updates/main/h/hello/libhello1_2.0-1+deb12u1_amd64.deb"
place "$sec_amd64" "debian/archive/debian-security/20231215T120000Z/pool/updates/main/h/hello/libhello1_2.0-1+deb12u1_amd64.deb"
place "$sec_amd64" "debian/file/$(sha1 "$sec_amd64")"
place "$sec_arm64" "debian/file/$(sha1 "$sec_arm64")"

mkdir -p debian/mr/binary/hello/2.10-2 'debian/mr/binary/libhello1/1:2.0-1+deb12u1'
cat >debian/mr/binary/hello/2.10-2/binfiles <<JSON
{
  "_comment": "foo",
  "binary": "hello",
  "binary_version": "2.10-2",
  "fileinfo": {
    "$(sha1 "$hello")": [
      {
        "archive_name": "debian",
        "first_seen": "20190328T102712Z",
        "name": "hello_2.10-2_amd64.deb",
        "path": "/pool/main/h/hello",
        "size": $(size "$hello")
      }
    ]
  },
  "result": [
    {
      "architecture": "amd64",
      "hash": "$(sha1 "$hello")"
    }
  ]
}
JSON
cat >'debian/mr/binary/libhello1/1:2.0-1+deb12u1/binfiles' <<JSON
{
  "_comment": "foo",
  "binary": "libhello1",
  "binary_version": "1:2.0-1+deb12u1",
  "fileinfo": {
    "$(sha1 "$sec_arm64")": [
      {
        "archive_name": "debian-security",
        "first_seen": "20231215T120000Z",
        "name": "libhello1_2.0-1+deb12u1_arm64.deb",
        "path": "/pool/updates/main/h/hello",
        "size": $(size "$sec_arm64")
      }
    ],
    "$(sha1 "$sec_amd64")": [
      {
        "archive_name": "debian-security",
        "first_seen": "20231215T120000Z",
        "name": "libhello1_2.0-1+deb12u1_amd64.deb",
        "path": "/pool/updates/main/h/hello",
        "size": $(size "$sec_amd64")
      }
    ]
  },
  "result": [
    {
      "architecture": "arm64",
      "hash": "$(sha1 "$sec_arm64")"
    },
    {
      "architecture": "amd64",
      "hash": "$(sha1 "$sec_amd64")"
    }
  ]
}
JSON

UTS=20240301T030400Z
place "$u_amd64" "ubuntu/ubuntu/$UTS/pool/main/h/hello/hello_2.10-3_amd64.deb"
place "$u_arm64" "ubuntu/ubuntu-ports/$UTS/pool/main/h/hello/hello_2.10-3_arm64.deb"
place "$u_doc" "ubuntu/ubuntu-ports/$UTS/pool/main/h/hello/hello-doc_2.10-3_all.deb"

{
  echo '# pinget lockfile v1'
  echo '# distro: debian 12 (bookworm) amd64'
  echo '# snapshot: 2024-01-01T00:00:00Z'
  echo "$(sha256 "$hello")  pool/main/h/hello/hello_2.10-2_amd64.deb"
  echo "$(sha256 "$sec_amd64")  pool/updates/main/h/hello/libhello1_2.0-1+deb12u1_amd64.deb"
} >SHA256SUMS-debian-amd64
{
  echo '# pinget lockfile v1'
  echo '# distro: ubuntu 24.04 (noble) arm64'
  echo '# snapshot: 2024-03-01T03:04:00Z'
  echo "$(sha256 "$u_doc")  pool/main/h/hello/hello-doc_2.10-3_all.deb"
  echo "$(sha256 "$u_arm64")  pool/main/h/hello/hello_2.10-3_arm64.deb"
} >SHA256SUMS-ubuntu-arm64
{
  echo '# pinget lockfile v1'
  echo '# distro: ubuntu 24.04 (noble) amd64'
  echo '# snapshot: 2024-03-01T03:04:00Z'
  echo "$(sha256 "$u_amd64")  pool/main/h/hello/hello_2.10-3_amd64.deb"
} >SHA256SUMS-ubuntu-amd64
