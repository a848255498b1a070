#!/bin/sh
# dist/ezio.cjs -> dist/ezio: Node's own single-executable build on the
# project's pinned Node. (@yao-pkg/pkg would download a Node build from
# hosts that neither this machine nor many lab networks reach; see README.)
# The blob must be made by the very Node binary it is injected into.
set -eu
node=$1 bundle=$2 out=$3
dir=$(dirname "$out")
cat > "$dir/sea.json" <<JSON
{ "main": "$bundle", "output": "$dir/ezio.blob", "disableExperimentalSEAWarning": true, "useCodeCache": false }
JSON
"$node" --experimental-sea-config "$dir/sea.json" >/dev/null 2>&1
cp "$node" "$out.tmp"
chmod u+w "$out.tmp"
strip -s "$out.tmp" 2>/dev/null || true
"$node" node_modules/postject/dist/cli.js "$out.tmp" NODE_SEA_BLOB "$dir/ezio.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >"$dir/postject.log" 2>&1 \
  || { cat "$dir/postject.log" >&2; exit 1; }
# The stripped binary makes postject warn about section names: harmless, checked here.
"$out.tmp" --version >/dev/null || { echo "sea: $out.tmp does not run" >&2; exit 1; }
rm -f "$dir/postject.log"
rm -f "$dir/ezio.blob" "$dir/sea.json"
mv "$out.tmp" "$out"
