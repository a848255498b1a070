#!/bin/sh
# The kernel modules of kernel/modules.txt and every module they depend on,
# copied from MODULES_DIR (a lib/modules/KVER tree) into ROOT and indexed for
# modprobe; then the firmware files those modules ask for, taken from the
# Debian packages of kernel/firmware-packages.txt (main) and, unless
# FIRMWARE=free, kernel/firmware-non-free.txt (non-free-firmware). Prints what
# it included and what it left out, and why.
# Usage: [FIRMWARE=free] modules.sh MODULES_DIR ROOT CACHE WORK
set -eu
src=$1 root=$2 cache=$3 work=$4
kernel_dir=$(cd "$(dirname "$0")/../../kernel" && pwd)
kver=$(basename "$src")
dst=$root/lib/modules/$kver
mkdir -p "$dst" "$work"

# Module names use '_' where file names may use '-'.
find "$src" -type f \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) |
  awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n); print n, $0 }' > "$work/index"
sed 's/.*\///; s/\.ko$//; s/-/_/g' "$src/modules.builtin" 2>/dev/null > "$work/builtin" || : > "$work/builtin"

file_of () { awk -v n="$1" '$1 == n { print $2; exit }' "$work/index"; }

# Breadth-first over depends and softdeps (r8169 wants its PHY driver, realtek).
wanted=$(sed 's/#.*//' "$kernel_dir/modules.txt" | tr -s ' \t' '\n\n' | grep -v '^$' | tr '-' '_')
: > "$work/included"; : > "$work/builtin-hit"; : > "$work/absent"; : > "$work/soft"
queue=$wanted
while [ -n "$queue" ]; do
  next=
  for m in $queue; do
    grep -qx "$m" "$work/included" "$work/builtin-hit" "$work/absent" && continue
    f=$(file_of "$m")
    if [ -z "$f" ]; then
      if grep -qx "$m" "$work/builtin"; then echo "$m" >> "$work/builtin-hit"
      # A soft dependency may name an alias (crct10dif): optional, noted only.
      elif ! grep -qx "$m" "$work/soft"; then echo "$m" >> "$work/absent"; fi
      continue
    fi
    echo "$m" >> "$work/included"
    echo "$f" >> "$work/files"
    deps=$(modinfo -F depends "$f" | tr ",-" " _")
    soft=$(modinfo -F softdep "$f" | tr " -" "\n_" | grep -v -e ":$" -e "^$" || true)
    [ -n "$soft" ] && echo "$soft" >> "$work/soft"
    next="$next $deps $soft"
  done
  queue=$next
done

# Uncompressed: modprobe in busybox reads plain .ko, and zstd packs the
# whole initrd better than each module alone.
while read -r f; do
  rel=${f#"$src"/}
  out=$dst/${rel%.xz}; out=${out%.zst}; out=${out%.gz}
  mkdir -p "$(dirname "$out")"
  case $f in
    *.xz) xz -dc "$f" > "$out" ;;
    *.zst) zstd -qdc "$f" > "$out" ;;
    *.gz) gzip -dc "$f" > "$out" ;;
    *) cp "$f" "$out" ;;
  esac
done < "$work/files"
for index in modules.order modules.builtin modules.builtin.modinfo; do
  [ -f "$src/$index" ] && cp "$src/$index" "$dst/"
done
depmod -b "$root" "$kver"

count=$(wc -l < "$work/included")
echo "netboot: modules: $count ($(du -sh "$dst" | cut -f1)) for the $(echo $wanted | wc -w) of kernel/modules.txt and their dependencies" >&2
[ -s "$work/builtin-hit" ] && echo "netboot: modules built into this kernel: $(echo $(cat "$work/builtin-hit"))" >&2
[ -s "$work/absent" ] && echo "netboot: modules this kernel lacks (left out): $(echo $(cat "$work/absent"))" >&2

# Firmware: Debian main's, and non-free-firmware's unless FIRMWARE=free.
mkdir -p "$work/firmware"
free=$(sed 's/#.*//' "$kernel_dir/firmware-packages.txt")
non_free=
if [ "${FIRMWARE:-non-free}" != free ]; then
  non_free=$(sed 's/#.*//' "$kernel_dir/firmware-non-free.txt")
  # shellcheck disable=SC2086
  "$(dirname "$0")/non-free-firmware.sh" "$cache" $non_free
fi
for pkg in $free $non_free; do
  dpkg-deb -x "$("$(dirname "$0")/cached-deb.sh" "$cache" "$pkg")" "$work/firmware"
done
found=0 missing=
for f in $(find "$dst" -name '*.ko'); do
  lacking=0
  for fw in $(modinfo -F firmware "$f"); do
    for dir in "$work/firmware/lib/firmware" "$work/firmware/usr/lib/firmware"; do
      if [ -f "$dir/$fw" ]; then
        mkdir -p "$root/lib/firmware/$(dirname "$fw")"
        cp "$dir/$fw" "$root/lib/firmware/$fw"
        found=$((found + 1)); continue 2
      fi
    done
    lacking=$((lacking + 1))
  done
  [ "$lacking" -gt 0 ] && missing="$missing $(basename "$f" .ko) ($lacking)"
done
fw_size=$(du -sh "$root/lib/firmware" 2>/dev/null | cut -f1)
echo "netboot: firmware: $found files (${fw_size:-0}) from Debian main${non_free:+ and non-free-firmware}" >&2
note=
[ -z "$non_free" ] && note=' (FIRMWARE=free: non-free-firmware left out)'
[ -n "$missing" ] && echo "netboot: firmware that no package of kernel/firmware-*.txt ships$note, left out for:$missing" >&2
exit 0
