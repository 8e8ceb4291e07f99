#!/bin/sh
# Installs the Debian packages that ganctl needs to build, run and test, and only
# the ones that are missing: on a ready machine this costs one dpkg query.
#   scripts/deps.sh build   what `make` and `make run` need
#   scripts/deps.sh test    that plus what `make test` needs
#   scripts/deps.sh bench   that plus what `make bench` needs (PyTorch for the reference)
set -eu

BUILD="build-essential pkg-config libopenblas-dev liblapacke-dev libmicrohttpd-dev \
libjansson-dev libsqlite3-dev sqlite3 libpq-dev libpng-dev zlib1g-dev libcurl4-openssl-dev \
libsystemd-dev dataset-fashion-mnist openmpi-bin libopenmpi-dev"
# postgresql: the tests start throwaway servers of it (tests/integration/pgserver.py)
TEST="libcmocka-dev curl clang libclang-rt-dev python3 python3-onnx chromium valgrind wrk \
prometheus postgresql"
BENCH="python3 python3-torch"

case "${1:-build}" in
build) WANT="$BUILD" ;;
test) WANT="$BUILD $TEST" ;;
bench) WANT="$BUILD $BENCH" ;;
*) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

MISSING=""
for p in $WANT; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *" installed") ;;
    *) MISSING="$MISSING $p" ;;
    esac
done
# The browser tests need node and npm; this kind of machine ships node 20, a plain
# Debian 12 gets Debian's.
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null 2>&1; then
    MISSING="$MISSING nodejs npm"
fi
[ -z "$MISSING" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "ganctl: missing Debian packages:$MISSING" >&2
    echo "run as root:  apt-get update && apt-get install -y --no-install-recommends$MISSING" >&2
    exit 1
fi
echo "ganctl: installing$MISSING" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $MISSING >/dev/null
