#!/bin/sh
# Debian's current amd64 kernel for the netboot image. linux-image-amd64 is
# only a meta package: the real one (linux-image-6.1.0-NN-amd64) is resolved
# with apt-cache every time, never written down, since its ABI name changes
# with each kernel update. Its .deb is kept in CACHE; it is unpacked into
# WORK, and the unpacked vmlinuz and modules directory are printed.
# Usage: kernel.sh CACHE WORK   ->   VMLINUZ MODULES_DIR
set -eu
cache=$1 work=$2

real_package () {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

pkg=$(real_package)
if [ -z "$pkg" ]; then
  apt-get update -q >/dev/null 2>&1 || true
  pkg=$(real_package)
fi
[ -n "$pkg" ] || { echo "netboot: apt-cache knows no linux-image-amd64: check /etc/apt/sources.list and run apt-get update" >&2; exit 1; }
kver=${pkg#linux-image-}

mkdir -p "$cache"
deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | tail -n 1 || true)
if [ -z "$deb" ]; then
  echo "netboot: downloading $pkg (Debian's linux-image-amd64)" >&2
  # The _apt sandbox user cannot write into the cache: download as ourselves.
  download () { (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null); }
  download || { apt-get update -q >/dev/null 2>&1; download; } ||
    { echo "netboot: apt-get download $pkg failed: is Debian's archive reachable?" >&2; exit 1; }
  deb=$(ls "$cache/${pkg}_"*.deb | tail -n 1)
  for old in "$cache"/linux-image-*.deb; do [ "$old" = "$deb" ] || rm -f "$old"; done
fi

dpkg-deb -x "$deb" "$work"
echo "$work/boot/vmlinuz-$kver $work/lib/modules/$kver"
