#!/bin/sh
# The ZeroMQ Guide's chapter-1 patterns as self-checking tests:
#   hwserver.c  hwserver + hwclient (REQ/REP, server in a child process)
#   taskvent.c  taskvent + taskwork + tasksink (PUSH/PULL pipeline, workers in
#               child processes, PUB kill signal, zmq_poll)
#   rrbroker.c  rrbroker + rrclient + rrworker (ROUTER/DEALER broker, zmq_poll)
#   mtserver.c  mtserver (ROUTER tcp / DEALER inproc, zmq_proxy, REP workers)
#
#   tests-c/guide/run.sh [--control-only | --all] [--repeat N]
#
# Each program is built once against Debian's /usr/include/zmq.h and -lzmq
# and run on Debian's libzmq ("libzmq", must pass) and on ours through
# LD_LIBRARY_PATH=build/lib ("ours").  The ours runs are skipped and shown as
# pending while tests-c/guide/PENDING exists (--all or GUIDE_ALL=1 runs them
# anyway); --control-only (or GUIDE_CONTROL_ONLY=1) runs only libzmq.
# GUIDE_OURS_LIB=DIR tests the libzmq.so.5 in DIR as "ours" instead of build/lib.
# Every run is bounded by timeout(1) (and each program's own watchdog).
# Exit status non-zero if any run that ran failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=$TOP/build/tests-c/guide
OURS_LIB=${GUIDE_OURS_LIB:-$TOP/build/lib}
control_only=${GUIDE_CONTROL_ONLY:-0}
force_all=${GUIDE_ALL:-0}
repeat=${GUIDE_REPEAT:-1}
while [ $# -gt 0 ]; do
    case $1 in
        --control-only) control_only=1 ;;
        --all) force_all=1 ;;
        --repeat) shift; repeat=${1:?--repeat needs a number} ;;
        --repeat=*) repeat=${1#--repeat=} ;;
        *) echo "usage: $0 [--control-only | --all] [--repeat N]" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$OUT"

ours=run
if [ "$control_only" = 1 ]; then
    ours=skipped
elif [ -e "$HERE/PENDING" ] && [ "$force_all" != 1 ]; then
    ours=pending
fi

lib_sum() { md5sum "$OURS_LIB/libzmq.so.5" 2>/dev/null | cut -c1-12; }
sum_before=$(lib_sum)
[ $ours != run ] || echo "guide: ours = $OURS_LIB/libzmq.so.5 (md5 ${sum_before:-none})"
pass=0
fail=0
failed=""
printf '%-10s %-14s %-14s\n' program libzmq ours
for src in "$HERE"/*.c; do
    name=$(basename "$src" .c)
    if ! { gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread "$src" \
            -o "$OUT/$name.tmp.$$" -lzmq && mv -f "$OUT/$name.tmp.$$" "$OUT/$name"; }; then
        rm -f "$OUT/$name.tmp.$$"
        fail=$((fail + 1)); failed="$failed $name[build]"
        printf '%-10s %-14s %-14s\n' "$name" build-FAIL -
        continue
    fi
    cells=""
    for lib in libzmq ours; do
        if [ $lib = ours ] && [ $ours != run ]; then
            cells="$cells $ours"; continue
        fi
        if [ $lib = ours ]; then
            set -- env LD_LIBRARY_PATH="$OURS_LIB"
        else
            set -- env -u LD_LIBRARY_PATH
        fi
        bad=0
        n=1
        while [ $n -le "$repeat" ]; do
            log=$OUT/$name.$lib.$n.log
            if [ $lib = ours ] && [ ! -e "$OURS_LIB/libzmq.so.5" ]; then
                echo "missing $OURS_LIB/libzmq.so.5" >"$log"; rc=127
            else
                timeout -k 5 60 "$@" "$OUT/$name" >"$log" 2>&1
                rc=$?
            fi
            if [ $rc -ne 0 ]; then
                bad=$((bad + 1))
                echo "  FAIL $name [$lib] run $n (exit $rc):"
                sed 's/^/      /' "$log" | tail -10
            fi
            n=$((n + 1))
        done
        if [ $bad -eq 0 ]; then
            pass=$((pass + 1))
            [ "$repeat" -gt 1 ] && cells="$cells PASSx$repeat" || cells="$cells PASS"
        else
            fail=$((fail + 1)); failed="$failed $name[$lib]"
            cells="$cells FAIL$bad/$repeat"
        fi
    done
    # shellcheck disable=SC2086
    printf '%-10s %-14s %-14s\n' "$name" $cells
done
if [ $ours = run ] && [ "$(lib_sum)" != "$sum_before" ]; then
    echo "guide: WARNING: $OURS_LIB/libzmq.so.5 changed during this run (rebuilt?)"
fi
if [ $ours = pending ]; then
    echo "guide: ours runs pending ($HERE/PENDING: $(head -n 1 "$HERE/PENDING"))"
fi
echo "guide: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "guide failed:$failed"; exit 1; }
