#!/bin/sh
# Builds and runs every tests-c/test_*.c (and tests-c/guide/*.c when present).
#
# Each test is built twice:
#   ours:   against include/zmq.h with -Wall -Wextra -Werror, linked to
#           build/lib/libzmq.so, run on our library;
#   oracle: against Debian's /usr/include/zmq.h, linked to Debian's -lzmq, run
#           on Debian's libzmq (the reference) and then on ours through
#           LD_LIBRARY_PATH (link substitution, as users will run it).
# A test whose first line contains "ORACLE: skip" runs only as "ours" (for
# behaviour Debian's build cannot show, such as the draft API).
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
OUT=$TOP/build/tests-c
mkdir -p "$OUT"
CFLAGS="-std=gnu11 -O1 -g -Wall -Wextra -Werror -DZMQ_BUILD_DRAFT_API -Itests-c"
pass=0
fail=0
failed=""

run() { # label binary [env...]
    label=$1; bin=$2; shift 2
    if env "$@" timeout 60 "$bin" >"$OUT/$(basename "$bin").$label.log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed="$failed $(basename "$bin")[$label]"
        echo "FAIL $(basename "$bin") [$label]:"
        sed 's/^/    /' "$OUT/$(basename "$bin").$label.log" | tail -20
    fi
}

for src in tests-c/test_*.c; do
    name=$(basename "$src" .c)
    if ! gcc $CFLAGS -Iinclude "$src" -o "$OUT/$name.ours" \
            -Lbuild/lib -Wl,-rpath,"$TOP/build/lib" -lzmq -lpthread; then
        fail=$((fail + 1)); failed="$failed $name[build-ours]"; continue
    fi
    run ours "$OUT/$name.ours"
    if head -n 1 "$src" | grep -q "ORACLE: skip"; then
        continue
    fi
    if ! gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -Itests-c "$src" \
            -o "$OUT/$name.oracle" -lzmq -lpthread; then
        fail=$((fail + 1)); failed="$failed $name[build-oracle]"; continue
    fi
    run libzmq "$OUT/$name.oracle"
    run subst "$OUT/$name.oracle" LD_LIBRARY_PATH="$TOP/build/lib"
done

echo "tests-c: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
