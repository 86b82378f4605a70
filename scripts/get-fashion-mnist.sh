#!/bin/sh
# Make the real Fashion-MNIST available to d2lutils, installing nothing that is
# already there: Debian's dataset-fashion-mnist package where apt is usable
# (root, or password-less sudo), else the official download into the cache.
# d2lutils.data verifies whichever copy it finds.
set -eu
PYTHON=${PYTHON:-python3}

if "$PYTHON" -m d2lutils.data --no-download >/dev/null 2>&1; then
    "$PYTHON" -m d2lutils.data --no-download
    exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
    if [ "$SUDO" != none ]; then
        echo "Installing Debian's dataset-fashion-mnist ..."
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
    fi
fi

# Finds the files (or downloads them), verifies them, and says where they are;
# fails with instructions when neither worked.
"$PYTHON" -m d2lutils.data
