#!/bin/sh
# Install Debian packages that are not installed yet, as root or through
# password-less sudo. Exits 1 (installing nothing) where neither is possible.
# Usage: sh scripts/apt-install.sh PACKAGE...
set -eu
missing=""
for package in "$@"; do
    # "install ok installed": a removed package can still be known to dpkg.
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "apt-get not found; cannot install:$missing" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then SUDO=""
elif sudo -n true 2>/dev/null; then SUDO="sudo -n"
else echo "not root and no password-less sudo; cannot install:$missing" >&2; exit 1
fi
echo "Installing Debian packages:$missing ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
