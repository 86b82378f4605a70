#!/bin/sh
# Print the path of a working Python X.Y interpreter, or explain how to get one.
# Usage: sh scripts/find-python.sh 3.13
# Looks on PATH (skipping pyenv shims that point at no installed version), then in
# pyenv's versions folder, then in /usr/bin and /usr/local/bin.
set -u
want=$1
works() {
    "$1" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" \
        >/dev/null 2>&1
}
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
for candidate in "$(command -v "python$want" 2>/dev/null)" \
                 "$pyenv_root"/versions/"$want".*/bin/"python$want" \
                 /usr/local/bin/"python$want" /usr/bin/"python$want"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && works "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done
echo "Python $want not found (looked on PATH, in $pyenv_root/versions, /usr/local/bin and" \
     "/usr/bin). Install it (for example \`pyenv install $want\`) or name one:" \
     "make PYTHON_${2:-X}=/path/to/python$want" >&2
exit 1
