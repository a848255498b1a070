#!/bin/sh
# What a capture runs on the lab machine (engine/used-blocks): partclone for
# each filesystem whose used blocks it maps (partcloneTools in engine/used-blocks/partclone.ts),
# util-linux's blkid to name them and losetup to read one partition (not
# busybox's, which lack the options used), into ROOT's /usr/sbin, ahead of
# busybox's on /init's PATH, with their libraries.
# Usage: capture-tools.sh ROOT
set -eu
root=$1
here=$(cd "$(dirname "$0")" && pwd)
tools=
for fs in extfs fat exfat ntfs xfs btrfs hfsplus f2fs minix apfs reiser4; do
  tools="$tools /usr/sbin/partclone.$fs"
done
tools="$tools /usr/sbin/blkid /usr/sbin/losetup"
mkdir -p "$root/usr/sbin"
for tool in $tools; do
  [ -x "$tool" ] || { echo "netboot: $tool is missing: install Debian's partclone and util-linux (build/deps.sh)" >&2; exit 1; }
  # A busybox applet link of that name would be followed, and busybox overwritten.
  rm -f "$root$tool"
  cp -L "$tool" "$root$tool"
done
"$here/libs.sh" "$root" $tools
