#!/bin/sh
# Installs the Debian packages the tests need, when missing (CI runs as root).
set -e
need=""
for pkg in libzmq3-dev pkg-config gcc; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
[ -z "$need" ] && exit 0
echo "installing:$need"
if [ "$(id -u)" != 0 ]; then
    echo "test-deps: need root to install:$need" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
