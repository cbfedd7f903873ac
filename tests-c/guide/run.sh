#!/bin/sh
# The ZeroMQ Guide's patterns as self-checking tests:
#   hwserver.c  hwserver + hwclient (REQ/REP, server in a child process)
#   taskvent.c  taskvent + taskwork + tasksink (PUSH/PULL pipeline, workers in
#               child processes, PUB kill signal, zmq_poll)
#   rrbroker.c  rrbroker + rrclient + rrworker (ROUTER/DEALER broker, zmq_poll)
#   mtserver.c  mtserver (ROUTER tcp / DEALER inproc, zmq_proxy, REP workers)
#   wuserver.c  wuserver + wuclient (PUB/SUB weather updates, prefix filters)
#   psenvpub.c  psenvpub + psenvsub (multipart pub-sub envelopes)
#   syncpub.c   syncpub + syncsub (PUB/SUB with REQ/REP synchronisation)
#   wuproxy.c   wuproxy (XSUB/XPUB zmq_proxy with capture, subscriptions
#               forwarded upstream)
#   msgqueue.c  msgqueue (ROUTER/DEALER zmq_proxy, REQ clients, REP workers)
#   lpclient.c  lpclient + lpserver (lazy pirate: REQ retries, server overload,
#               crash and restart)
#   ppqueue.c   ppqueue + ppworker (paranoid pirate: heartbeats, worker killed,
#               queue freeze, worker reconnect with backoff)
#
#   tests-c/guide/run.sh [--control-only | --all] [--repeat N]
#
# Each program is built once against Debian's /usr/include/zmq.h and -lzmq
# and run on Debian's libzmq ("libzmq", must pass) and on ours through
# LD_LIBRARY_PATH=build/lib ("ours").  A program that starts its peers with
# guide_spawn (guide.h: they re-execute the program, a fresh image) also runs
# crossed: "libzmq/ours" = its main process on Debian's libzmq and every
# spawned process on ours (GUIDE_PEER_LIB), "ours/libzmq" the other way
# round; such a program keeps its peers in separate processes talking tcp.
# The runs involving ours are skipped and shown as pending while
# tests-c/guide/PENDING exists, and, program by program, for the programs
# named in tests-c/guide/pending.txt (behaviour ours does not have yet);
# --all or GUIDE_ALL=1 runs them anyway.  --control-only (or
# GUIDE_CONTROL_ONLY=1) runs only libzmq.
# GUIDE_OURS_LIB=DIR tests the libzmq.so.5 in DIR as "ours" instead of build/lib.
# GUIDE_PROGRAMS="a b" runs only those programs.
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
pending_progs=""
# is_pending name: listed in pending.txt (one name per line, # comments).
is_pending() { grep -v '^#' "$HERE/pending.txt" 2>/dev/null | grep -qx "$1"; }
printf '%-10s %-12s %-12s %-12s %-12s\n' program libzmq ours libzmq/ours ours/libzmq
for src in "$HERE"/*.c; do
    name=$(basename "$src" .c)
    if [ -n "${GUIDE_PROGRAMS:-}" ]; then
        case " $GUIDE_PROGRAMS " in *" $name "*) ;; *) continue ;; esac
    fi
    if ! { gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread "$src" \
            -o "$OUT/$name.tmp.$$" -lzmq && mv -f "$OUT/$name.tmp.$$" "$OUT/$name"; }; then
        rm -f "$OUT/$name.tmp.$$"
        fail=$((fail + 1)); failed="$failed $name[build]"
        printf '%-10s %-12s %-12s %-12s %-12s\n' "$name" build-FAIL - - -
        continue
    fi
    crosses=0
    grep -q 'guide_spawn (' "$src" && crosses=1
    ours_state=$ours
    if [ $ours = run ] && is_pending "$name" && [ "$force_all" != 1 ]; then
        ours_state=pending
        pending_progs="$pending_progs $name"
    fi
    cells=""
    for lib in libzmq ours libzmq/ours ours/libzmq; do
        case $lib in
            */*) [ $crosses = 1 ] || { cells="$cells -"; continue; } ;;
        esac
        if [ $lib != libzmq ] && [ $ours_state != run ]; then
            cells="$cells $ours_state"; continue
        fi
        case $lib in
            libzmq) set -- env -u LD_LIBRARY_PATH -u GUIDE_PEER_LIB ;;
            ours) set -- env -u GUIDE_PEER_LIB LD_LIBRARY_PATH="$OURS_LIB" ;;
            libzmq/ours) set -- env -u LD_LIBRARY_PATH GUIDE_PEER_LIB="$OURS_LIB" ;;
            ours/libzmq) set -- env LD_LIBRARY_PATH="$OURS_LIB" GUIDE_PEER_LIB=system ;;
        esac
        tag=$(echo "$lib" | tr / -)
        bad=0
        n=1
        while [ $n -le "$repeat" ]; do
            log=$OUT/$name.$tag.$n.log
            if [ $lib != libzmq ] && [ ! -e "$OURS_LIB/libzmq.so.5" ]; then
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
    printf '%-10s %-12s %-12s %-12s %-12s\n' "$name" $cells
done
if [ $ours = run ] && [ "$(lib_sum)" != "$sum_before" ]; then
    echo "guide: WARNING: $OURS_LIB/libzmq.so.5 changed during this run (rebuilt?)"
fi
if [ $ours = pending ]; then
    echo "guide: ours runs pending ($HERE/PENDING: $(head -n 1 "$HERE/PENDING"))"
fi
[ -z "$pending_progs" ] ||
    echo "guide: ours runs pending for$pending_progs ($HERE/pending.txt)"
echo "guide: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "guide failed:$failed"; exit 1; }
