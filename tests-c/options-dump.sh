#!/bin/sh
# Compares every socket type's socket options between Debian's libzmq and
# another libzmq build.
#
# Usage: tests-c/options-dump.sh LIBDIR
#   LIBDIR is a directory holding the libzmq.so.5 to compare (e.g. build/lib).
#
# Builds tests-c/options_dump.c once against Debian's /usr/include/zmq.h and
# -lzmq, runs it on Debian's libzmq (the reference) and again with
# LD_LIBRARY_PATH=LIBDIR, and diffs the two outputs (getsockopt defaults and
# accepted sizes, setsockopt results and read-back values; see the comment at
# the top of options_dump.c for the line format).  Prints the first 80 lines
# of the diff and exits 1 when they differ (or when either run fails), 0 when
# they are identical.  Outputs and the full diff are kept in $OUT (default
# build/options-dump, relative to the project root).
set -u
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 LIBDIR (a directory holding libzmq.so.5)" >&2
    exit 2
fi
LIBDIR=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
OUT=${OUT:-$(pwd)/build/options-dump}
mkdir -p "$OUT"

if ! gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -Itests-c \
        tests-c/options_dump.c -o "$OUT/options_dump" -lzmq -lpthread; then
    echo "options-dump: build failed" >&2
    exit 2
fi

status=0
# The reference: Debian's libzmq (an empty LD_LIBRARY_PATH so an inherited one
# cannot substitute another library).
if ! timeout 120 env LD_LIBRARY_PATH= "$OUT/options_dump" \
        >"$OUT/libzmq.txt" 2>"$OUT/libzmq.err"; then
    echo "options-dump: the run on Debian's libzmq failed:" >&2
    tail -5 "$OUT/libzmq.err" >&2
    status=1
fi
if ! timeout 120 env LD_LIBRARY_PATH="$LIBDIR" "$OUT/options_dump" \
        >"$OUT/subst.txt" 2>"$OUT/subst.err"; then
    echo "options-dump: the run on $LIBDIR failed (its output may be cut short):"
    tail -5 "$OUT/subst.err"
    status=1
fi

# Known differences (tests-c/options-dump-known.txt) are left out of the
# comparison: a dump line names its option as its fourth field.
known=$(grep -v '^#' tests-c/options-dump-known.txt | grep . | tr '\n' ' ')
for side in libzmq subst; do
    awk -v known="$known" 'BEGIN { n = split(known, k, " ");
            for (i = 1; i <= n; i++) skip[k[i]] = 1 }
        !($4 in skip)' "$OUT/$side.txt" >"$OUT/$side.compared.txt"
done
if diff -u "$OUT/libzmq.compared.txt" "$OUT/subst.compared.txt" >"$OUT/diff.txt"; then
    echo "options-dump: identical ($(wc -l <"$OUT/libzmq.compared.txt") of" \
        "$(wc -l <"$OUT/libzmq.txt") lines compared; the rest are the known" \
        "differences of tests-c/options-dump-known.txt)"
else
    changed=$(grep -c '^[-+][a-z]' "$OUT/diff.txt")
    echo "options-dump: outputs differ ($changed changed lines;" \
        "--- Debian's libzmq, +++ $LIBDIR; full diff in $OUT/diff.txt):"
    head -n 80 "$OUT/diff.txt"
    status=1
fi
exit $status
