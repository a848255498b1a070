#!/bin/sh
# Debian's signed Secure Boot chain for UEFI PCs, into OUT: shim (Microsoft
# signed, from shim-signed) as shimx64.efi, and GRUB's signed network image
# (grub-efi-amd64-signed's grubnetx64.efi.signed) beside it as grubx64.efi,
# the name shim loads. Both come from Debian main with apt-get download and
# dpkg-deb -x: installing them would run GRUB's set-up scripts on this
# machine. The kernel they boot is Debian's, which Debian signs.
# Usage: secure-boot.sh CACHE WORK OUT
set -eu
cache=$1 work=$2 out=$3
mkdir -p "$cache" "$work"
shim=$("$(dirname "$0")/cached-deb.sh" "$cache" shim-signed)
grub=$("$(dirname "$0")/cached-deb.sh" "$cache" grub-efi-amd64-signed)
dpkg-deb -x "$shim" "$work"
dpkg-deb -x "$grub" "$work"
cp "$work/usr/lib/shim/shimx64.efi.signed" "$out/shimx64.efi"
cp "$work/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" "$out/grubx64.efi"
echo "netboot: Secure Boot chain: shimx64.efi ($(dpkg-deb -f "$shim" Version)), grubx64.efi ($(dpkg-deb -f "$grub" Version))" >&2
