#!/bin/sh
# Fetches Debian packages from the non-free-firmware component into CACHE,
# through a private sources list and package lists of its own under CACHE:
# the system's own sources (often main only) are read, never changed. The
# archive is the one the system already uses for main. Nothing is installed.
# Usage: non-free-firmware.sh CACHE PACKAGE...
set -eu
mkdir -p "$1"
cache=$(cd "$1" && pwd)
shift
missing=
for p in "$@"; do
  ls "$cache/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

uri=$( (sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
  sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\([^[:space:]]*\).*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null) |
  grep -v -e security -e updates | grep '/debian/\{0,1\}$' | head -n 1)
[ -n "$uri" ] || { echo "netboot: no Debian archive in /etc/apt/sources*: cannot fetch non-free firmware (FIRMWARE=free builds without it)" >&2; exit 1; }
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
apt=$cache/apt-non-free-firmware
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/sources.list.d"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite non-free-firmware" > "$apt/sources.list"
set -- -q -o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/sources.list.d" \
  -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt" -o APT::Sandbox::User=root
echo "netboot: fetching non-free firmware from $uri $suite non-free-firmware:$missing" >&2
apt-get "$@" update >/dev/null ||
  { echo "netboot: apt-get update of $uri $suite non-free-firmware failed: is Debian's archive reachable? (FIRMWARE=free builds without it)" >&2; exit 1; }
# shellcheck disable=SC2086
(cd "$cache" && apt-get "$@" download $missing >/dev/null) ||
  { echo "netboot: apt-get download$missing failed" >&2; exit 1; }
