#!/bin/sh
# make netboot: what lab machines PXE-boot, into OUT (dist/netboot):
#   vmlinuz      Debian's current amd64 kernel (kernel/README.md), or KERNEL
#   initrd.img   busybox, the ezio executable and its libraries, the modules
#                of kernel/modules.txt and their firmware; cpio, zstd -19
#   undionly.kpxe, snponly.efi, pxelinux.cfg/default   (build/netboot/pxe.sh)
#   shimx64.efi, grubx64.efi   Debian's signed Secure Boot chain (secure-boot.sh)
# Only Debian's archive is used (apt-get download), cached in CACHE.
# Usage: netboot.sh OUT EZIO CACHE [KERNEL MODULES_DIR]
set -eu
here=$(cd "$(dirname "$0")/netboot" && pwd)
out=$1 ezio=$2 cache=$3 kernel=${4:-} modules=${5:-}
[ -x "$ezio" ] || { echo "netboot: $ezio is missing: run make build" >&2; exit 1; }
if [ -n "$kernel" ] || [ -n "$modules" ]; then
  [ -f "$kernel" ] || { echo "netboot: KERNEL=$kernel is not a file: give the kernel image (vmlinuz)" >&2; exit 2; }
  [ -d "$modules" ] || { echo "netboot: MODULES=$modules is not a directory: give the kernel's lib/modules/VERSION tree" >&2; exit 2; }
fi

mkdir -p "$cache" "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/ezio-netboot.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

if [ -z "$kernel" ]; then
  set -- $("$here/kernel.sh" "$cache" "$work/kernel")
  kernel=$1 modules=$2
fi
echo "netboot: kernel $(basename "$modules")" >&2

"$here/rootfs.sh" "$work/root" "$ezio"
"$here/modules.sh" "$modules" "$work/root" "$cache" "$work/modules"

# Fixed times and owners: the same inputs give the same initrd.
find "$work/root" -exec touch -h -d @0 {} +
echo "netboot: compressing the initrd (zstd -19: a minute or two)" >&2
(cd "$work/root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
  zstd -19 -T0 -q > "$work/initrd.img"

cp "$kernel" "$work/vmlinuz"
"$here/pxe.sh" "$work"
"$here/secure-boot.sh" "$cache" "$work/secure-boot" "$work"
for f in vmlinuz initrd.img undionly.kpxe snponly.efi shimx64.efi grubx64.efi; do mv "$work/$f" "$out/$f"; done
mkdir -p "$out/pxelinux.cfg"
mv "$work/pxelinux.cfg/default" "$out/pxelinux.cfg/default"

size=$(wc -c < "$out/initrd.img")
echo "netboot: $out/initrd.img is $((size / 1048576)) MiB ($size bytes); kernel $(wc -c < "$out/vmlinuz") bytes" >&2
