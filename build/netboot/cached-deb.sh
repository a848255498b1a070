#!/bin/sh
# Prints the path of PACKAGE's .deb in CACHE, fetching it first with
# apt-get download (from the system's own sources) when it is not there.
# Usage: cached-deb.sh CACHE PACKAGE
set -eu
cache=$1 pkg=$2
deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | tail -n 1 || true)
if [ -z "$deb" ]; then
  # The _apt sandbox user cannot write into the cache: download as ourselves.
  (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
    { echo "netboot: apt-get download $pkg failed: is Debian's archive reachable?" >&2; exit 1; }
  deb=$(ls "$cache/${pkg}_"*.deb | tail -n 1)
fi
echo "$deb"
