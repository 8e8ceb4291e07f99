#!/bin/sh
# The layering of the house and the self-sufficiency of its headers, checked on every
# `make test` (run through `make check-layout`, which passes the compiler flags in).
#
#   layering  core/ includes no HTTP, JSON, database, curl or MPI header and nothing of
#             daemon/, api/ or cli/; only api/ includes microhttpd.h; only the store
#             files (daemon/store*) include a database header (sqlite3.h, libpq-fe.h);
#             only the communicator's one file (daemon/comm_mpi*) includes mpi.h; JSON
#             (jansson.h) lives in api/ and cli/; cli/ includes nothing of core/, daemon/
#             or api/ (it talks HTTP); daemon/ includes api/ only in the files that wire
#             the process together (daemon/main*, daemon/serve*, daemon/train*).
#   headers   every header compiles on its own (it includes what it uses), with the
#             flags of its part.
#   sizes     no source file outside tests/ is over 900 lines.
#
# Prints one line per problem and ends with "N passed, N failed" (one check each).
# Environment (from the Makefile): CC, CFLAGS, CORE_CFLAGS, DAEMON_CFLAGS, CLI_CFLAGS.
cd "$(dirname "$0")/.."
PASS=0
FAIL=0
CC=${CC:-cc}
MAX_LINES=900

check() { # label problems...
    label=$1
    shift
    if [ -z "$*" ]; then
        PASS=$((PASS + 1))
        echo "$label: ok"
    else
        FAIL=$((FAIL + 1))
        echo "$label: FAILED"
        for p in "$@"; do echo "  $p"; done
    fi
}

# files under $1 (a folder or a list of paths) that include a header matching $2
includes() { # regex paths...
    re=$1
    shift
    grep -lE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($re)[>\"]" "$@" 2>/dev/null
}

src() { # folders...
    for d in "$@"; do
        [ -d "$d" ] && find "$d" -name '*.[ch]' | sort
    done
}

CORE=$(src core)
DAEMON=$(src daemon)
API=$(src api)
CLI=$(src cli)
ALL="$CORE $DAEMON $API $CLI"

check "core includes no HTTP, JSON, database, curl or MPI header" \
    $(includes 'sqlite3\.h|microhttpd\.h|jansson\.h|curl/.*|libpq-fe\.h|mpi\.h' $CORE)
check "core includes nothing of daemon/, api/ or cli/" \
    $(includes '(daemon|api|cli)/.*' $CORE)
check "only api/ includes microhttpd.h" \
    $(includes 'microhttpd\.h' $ALL | grep -v '^api/')
check "only the store files include a database header" \
    $(includes 'sqlite3\.h|libpq-fe\.h' $ALL | grep -v '^daemon/store')
check "only the MPI communicator includes mpi.h" \
    $(includes 'mpi\.h' $ALL | grep -v '^daemon/comm_mpi')
check "JSON lives in api/ and cli/" \
    $(includes 'jansson\.h' $ALL | grep -vE '^(api|cli)/')
check "cli/ includes nothing of core/, daemon/ or api/" \
    $(includes '(core|daemon|api)/.*' $CLI)
check "daemon/ includes api/ only where the process is wired together" \
    $(includes 'api/.*' $DAEMON | grep -vE '^daemon/(main|serve|train)')

# every header on its own, with the flags of its part
bad=""
for h in $CORE $DAEMON $API $CLI; do
    case $h in *.h) ;; *) continue ;; esac
    case $h in
    core/*) flags=$CORE_CFLAGS ;;
    cli/*) flags=$CLI_CFLAGS ;;
    *) flags=$DAEMON_CFLAGS ;;
    esac
    # shellcheck disable=SC2086
    if ! out=$(printf '#include "%s"\n' "$h" | $CC $CFLAGS $flags -fsyntax-only -x c - 2>&1); then
        bad="$bad $h"
        echo "$out" | head -5
    fi
done
check "every header compiles on its own" $bad

long=""
for f in $(git ls-files '*.c' '*.h' '*.js' '*.mjs' '*.py' '*.sh' 2>/dev/null | grep -v '^tests/'); do
    n=$(wc -l <"$f")
    [ "$n" -gt $MAX_LINES ] && long="$long $f:$n"
done
check "no source file outside tests/ over $MAX_LINES lines" $long

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
