#!/bin/sh
# The shared libraries ldd names for each FILE, copied into ROOT at the
# same paths, so that FILE runs there as it runs here.
# Usage: libs.sh ROOT FILE...
set -eu
root=$1
shift
for file in "$@"; do
  ldd "$file" | awk '/=> \// { print $3 } /^\t\// { print $1 }'
done | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
