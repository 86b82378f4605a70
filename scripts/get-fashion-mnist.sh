#!/bin/sh
# Make the real Fashion-MNIST available to d2lutils, installing nothing that is
# already there: Debian's dataset-fashion-mnist package where apt is usable
# (root, or password-less sudo), else the official download into the cache.
# d2lutils.data verifies whichever copy it finds.
set -eu
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -m d2lutils.data --no-download >/dev/null 2>&1; then
    sh "$(dirname "$0")/apt-install.sh" dataset-fashion-mnist || true
fi
# Finds the files (or downloads them), verifies them, and says where they are;
# fails with instructions when neither worked.
"$PYTHON" -m d2lutils.data
