#!/bin/sh
# What the PXE firmware loads before our kernel, into OUT: Debian's iPXE
# (undionly.kpxe for BIOS, snponly.efi for UEFI; both then fetch boot.ipxe,
# which 'ezio serve' generates) and a pxelinux.cfg/default for labs that
# already boot pxelinux (Debian's pxelinux package has pxelinux.0).
# Usage: pxe.sh OUT
set -eu
out=$1
for f in undionly.kpxe snponly.efi; do
  [ -f "/usr/lib/ipxe/$f" ] || { echo "netboot: /usr/lib/ipxe/$f is missing: install Debian's ipxe" >&2; exit 1; }
  cp "/usr/lib/ipxe/$f" "$out/$f"
done
mkdir -p "$out/pxelinux.cfg"
cat > "$out/pxelinux.cfg/default" <<'CFG'
# ezio for pxelinux (BIOS). The initramfs finds the server at the DHCP
# next-server, port 8080; add ezio.server=http://HOST:PORT to APPEND if
# 'ezio serve' runs elsewhere. IPAPPEND 2 adds BOOTIF=, the NIC that booted.
# The last console= is /dev/console: the screen, as on every boot path.
DEFAULT ezio
PROMPT 0
LABEL ezio
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND loglevel=3 console=ttyS0,115200n8 console=tty0
  IPAPPEND 2
CFG
