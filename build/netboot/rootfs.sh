#!/bin/sh
# The initramfs's own files in ROOT: busybox (static) with its applet links,
# the ezio single executable and the tools a capture runs, with exactly the
# shared libraries ldd names for them, at the same paths, and /init with its
# stages and udhcpc hook.
# Usage: rootfs.sh ROOT EZIO
set -eu
root=$1 ezio=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
initramfs=$(cd "$here/../../initramfs" && pwd)
busybox=/bin/busybox
ldd "$busybox" 2>&1 | grep -q 'not a dynamic executable' ||
  { echo "netboot: $busybox is not static: install Debian's busybox-static" >&2; exit 1; }

mkdir -p "$root"
cd "$root"
mkdir -p bin sbin usr/bin usr/sbin dev proc sys run tmp etc root lib64 lib/x86_64-linux-gnu
chmod 1777 tmp
cp "$busybox" bin/busybox
# --install -s would point the links at the host's paths: make them relative.
for applet in $("$busybox" --list-full); do
  [ -e "$applet" ] && continue
  case $applet in
    bin/busybox) continue ;;
    bin/*) target=busybox ;;
    */*/*) target=../../bin/busybox ;;
    */*) target=../bin/busybox ;;
  esac
  ln -s "$target" "$applet"
done

cp "$ezio" usr/bin/ezio
"$here/libs.sh" . "$ezio"
"$here/capture-tools.sh" .

cp "$initramfs/init" init
cp "$initramfs/init_functions" init_functions
cp "$initramfs/udhcpc.script" etc/udhcpc.script
chmod 755 init etc/udhcpc.script
# The kernel opens /dev/console for /init before anything can mount devtmpfs.
mknod -m 600 dev/console c 5 1
mknod -m 666 dev/null c 1 3
