#!/bin/sh
# Cross-process wire interop: our libzmq.so.5 against Debian's libzmq.
#
#   tests-c/interop/run.sh [--control-only | --all] [--repeat N]
#
# peer.c, pubsub.c, stream.c and million.c are built once against Debian's
# /usr/include/zmq.h and -lzmq; each process picks its library at run time:
#   libzmq = Debian's (LD_LIBRARY_PATH unset),
#   ours   = LD_LIBRARY_PATH=build/lib (our libzmq.so.5).
# Every scenario (reqrep, dealer-router, pushpull, pair, and dealer-router
# under the CURVE and PLAIN mechanisms with a ZAP handler, from peer.c; pubsub,
# xpub-xsub, xsub-xpub from pubsub.c; stream from stream.c, a STREAM server
# against plain sockets and STREAM clients; all over tcp and ipc; and a
# million 1-byte messages PUSH->PULL over ipc and tcp) runs in the pairings
#   libzmq/libzmq   control (server/client)
#   ours/libzmq     our server, Debian's client
#   libzmq/ours     Debian's server, our client
#   ours/ours
# Every process is bounded by timeout(1); ipc endpoints live in a mktemp -d
# directory removed on exit.
#
# Modes: --control-only (or INTEROP_CONTROL_ONLY=1) runs only libzmq/libzmq.
# By default the ours pairings are skipped and shown as "pending" while
# tests-c/interop/PENDING exists, and, scenario by scenario, for the
# scenarios named in tests-c/interop/pending.txt (behaviour ours does not
# have yet); --all (or INTEROP_ALL=1) runs them anyway.
# INTEROP_OURS_LIB=DIR tests the libzmq.so.5 in DIR as "ours" instead of build/lib.
# --repeat N (or INTEROP_REPEAT=N) runs every cell N times; INTEROP_SCENARIOS
# (default "reqrep dealer-router pushpull pair curve plain pubsub xpub-xsub
# xsub-xpub stream million") picks scenarios.
#
# Exit status: non-zero if any pairing that ran failed, except that message
# loss in the million-message scenario is only reported ("loss"), never
# counted as a failure, when Debian's libzmq is the receiving (PULL) side: in
# the control, and in libzmq/ours over ipc.  That loss is upstream issue 4660
# and, by libzmq's source and these measurements, it is on the receiver:
# libzmq 4.3.4's stream engine, its input stopped by a full RCVHWM pipe, gets
# the EPOLLHUP that a closing ipc (AF_UNIX) peer raises, marks an I/O error
# and stops reading, so whatever is still in the kernel buffer is dropped
# (a tcp peer's FIN raises no EPOLLHUP, and tcp does not lose).  Measured
# here: the control over ipc loses in most runs (0.5-5% of the messages), and
# so does libzmq/ours over ipc in many, while ours/libzmq (libzmq sending,
# ours receiving) never did.  Where ours receives (ours/libzmq, ours/ours)
# and everywhere over tcp, it must be exactly 1,000,000 every time.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=$TOP/build/tests-c/interop
OURS_LIB=${INTEROP_OURS_LIB:-$TOP/build/lib}
COUNT=${INTEROP_MILLION_COUNT:-1000000}
PROC_TIMEOUT=60
MILLION_TIMEOUT=120

control_only=${INTEROP_CONTROL_ONLY:-0}
force_all=${INTEROP_ALL:-0}
repeat=${INTEROP_REPEAT:-1}
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

mkdir -p "$OUT/logs"
PEER=$OUT/peer
MILLION=$OUT/million
CFLAGS="-std=gnu11 -O2 -g -Wall -Wextra -Werror"
# Debian's header and library only (no -I of our include/).
# (Built to a temporary name and renamed, so a concurrent run's processes
# never see a half-written binary.)
for prog in peer million pubsub stream; do
    gcc $CFLAGS "$HERE/$prog.c" -o "$OUT/$prog.tmp.$$" -lzmq &&
        mv -f "$OUT/$prog.tmp.$$" "$OUT/$prog" ||
        { rm -f "$OUT/$prog.tmp.$$"; echo "interop: build of $prog.c failed"; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zmq-interop.XXXXXX") || exit 1
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

RESULTS=$TMP/results  # lines: scenario pairing verdict
: >"$RESULTS"
pending_scen=""

ours_pending=0
if [ "$control_only" = 1 ]; then
    ours_pending=1
elif [ -e "$HERE/PENDING" ] && [ "$force_all" != 1 ]; then
    ours_pending=2
fi

# libenv <libzmq|ours>: the env(1) arguments selecting the library.
libenv() {
    if [ "$1" = ours ]; then echo "LD_LIBRARY_PATH=$OURS_LIB"; else echo "-u LD_LIBRARY_PATH"; fi
}

v_libzmq=$(env -u LD_LIBRARY_PATH "$PEER" version)
if [ -e "$OURS_LIB/libzmq.so.5" ]; then
    v_ours=$(env LD_LIBRARY_PATH="$OURS_LIB" "$PEER" version 2>/dev/null || echo "?")
else
    v_ours="missing ($OURS_LIB/libzmq.so.5)"
fi
lib_sum() { md5sum "$OURS_LIB/libzmq.so.5" 2>/dev/null | cut -c1-12; }
sum_before=$(lib_sum)
echo "interop: libzmq = $v_libzmq (Debian), ours = $v_ours ($OURS_LIB, md5 ${sum_before:-none})"

# alive pid: the process exists and is not a zombie (a dead background job
# stays signalable until it is waited for).
alive() {
    st=$(sed "s/.*) //" "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -n "$st" ] && [ "$st" != Z ]
}

# wait_endpoint pid file: waits (bounded, 10 s) for the server's first stdout
# line, which must be an endpoint; fails at once if the server exits first.
wait_endpoint() {
    i=0
    while [ $i -lt 200 ]; do
        if head -n 1 "$2" 2>/dev/null | grep -q "://"; then
            head -n 1 "$2"; return 0
        fi
        alive "$1" || { head -n 1 "$2" 2>/dev/null | grep "://"; return; }
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# bind_ep transport tag
bind_ep() {
    if [ "$1" = tcp ]; then echo "tcp://127.0.0.1:*"; else echo "ipc://$TMP/$2.sock"; fi
}

# record scenario pairing verdict [logprefix]
record() {
    echo "$1 $2 $3" >>"$RESULTS"
    case $3 in
        PASS|loss*) ;;
        *) echo "  $1 [$2]: $3 (logs: $4.*.log)"
           for f in "$4".server.log "$4".client.log; do
               [ -e "$f" ] && sed 's/^/      /' "$f" | tail -8
           done ;;
    esac
}

# prog_args pattern: the program (and its pattern argument) for a scenario.
prog_args() {
    case $1 in
        pubsub|xpub-xsub|xsub-xpub) echo "$OUT/pubsub $1" ;;
        stream) echo "$OUT/stream" ;;
        *) echo "$PEER $1" ;;
    esac
}

# is_pending scenario: listed in pending.txt (one name per line, # comments).
is_pending() { grep -v '^#' "$HERE/pending.txt" 2>/dev/null | grep -qx "$1"; }

# run_peer pairing srvlib clilib pattern transport n
run_peer() {
    scen=$4/$5
    tag=$(echo "$1" | tr / -).$4.$5.$6
    log=$OUT/logs/$tag
    set -- "$@" $(prog_args "$4")
    prog=$7; pat=${8:-}
    rm -f "$log".*.log "$TMP/$tag.sock"*
    # shellcheck disable=SC2086
    timeout -k 5 $PROC_TIMEOUT env $(libenv "$2") "$prog" server $pat "$(bind_ep "$5" "$tag")" \
        >"$TMP/$tag.ep" 2>"$log.server.log" &
    spid=$!
    PIDS="$PIDS $spid"
    if ! ep=$(wait_endpoint $spid "$TMP/$tag.ep"); then
        kill $spid 2>/dev/null; wait $spid 2>/dev/null
        record "$scen" "$1" "FAIL(no-endpoint)" "$log"; return
    fi
    # shellcheck disable=SC2086
    timeout -k 5 $PROC_TIMEOUT env $(libenv "$3") "$prog" client $pat "$ep" \
        >/dev/null 2>"$log.client.log"
    crc=$?
    # A failed client leaves the server waiting out its receive timeout; end
    # it at once (its status then reads as killed).
    [ $crc -eq 0 ] || kill $spid 2>/dev/null
    wait $spid
    src=$?
    if [ $src -eq 0 ] && [ $crc -eq 0 ]; then
        record "$scen" "$1" PASS "$log"
    else
        record "$scen" "$1" "FAIL(s=$src,c=$crc)" "$log"
    fi
}

# run_million pairing srvlib clilib transport n  (server = PULL, client = PUSH)
run_million() {
    scen=million/$4
    tag=$(echo "$1" | tr / -).million.$4.$5
    log=$OUT/logs/$tag
    done_file=$TMP/$tag.done
    rm -f "$log".*.log "$done_file" "$TMP/$tag.sock"
    timeout -k 5 $MILLION_TIMEOUT env $(libenv "$2") "$MILLION" pull "$(bind_ep "$4" "$tag")" \
        "$COUNT" "$done_file" >"$TMP/$tag.ep" 2>"$log.server.log" &
    spid=$!
    PIDS="$PIDS $spid"
    if ! ep=$(wait_endpoint $spid "$TMP/$tag.ep"); then
        kill $spid 2>/dev/null; wait $spid 2>/dev/null
        record "$scen" "$1" "FAIL(no-endpoint)" "$log"; return
    fi
    timeout -k 5 $MILLION_TIMEOUT env $(libenv "$3") "$MILLION" push "$ep" "$COUNT" \
        >/dev/null 2>"$log.client.log"
    crc=$?
    [ $crc -eq 0 ] || kill $spid 2>/dev/null
    : >"$done_file"
    wait $spid
    src=$?
    got=$(sed -n 's/^received \([0-9]*\) of .*/\1/p' "$TMP/$tag.ep")
    echo "$1 $4 ${got:-?}" >>"$OUT/logs/million-counts"
    if [ $src -eq 0 ] && [ $crc -eq 0 ]; then
        record "$scen" "$1" PASS "$log"
    elif [ $src -eq 4 ] && [ $crc -eq 0 ] && { [ "$1" = libzmq/libzmq ] ||
            { [ "$2" = libzmq ] && [ "$4" = ipc ]; }; }; then
        record "$scen" "$1" "loss$((COUNT - ${got:-0}))" "$log"
        echo "  $scen [$1]: received ${got:-?} of $COUNT (Debian's libzmq PULL side, issue 4660; not a failure)"
    else
        record "$scen" "$1" "FAIL(s=$src,c=$crc,got=${got:-?})" "$log"
    fi
}

SCENARIOS=${INTEROP_SCENARIOS:-reqrep dealer-router pushpull pair curve plain pubsub xpub-xsub xsub-xpub stream million}
PATTERNS=$(echo " $SCENARIOS " | sed 's/ million / /')
TRANSPORTS="tcp ipc"
PAIRINGS="libzmq/libzmq ours/libzmq libzmq/ours ours/ours"
: >"$OUT/logs/million-counts"

for pairing in $PAIRINGS; do
    srv=${pairing%/*}
    cli=${pairing#*/}
    if [ "$pairing" != libzmq/libzmq ] && [ $ours_pending -ne 0 ]; then
        v=pending; [ $ours_pending -eq 1 ] && v=skipped
        for p in $SCENARIOS; do
            for t in $TRANSPORTS; do echo "$p/$t $pairing $v" >>"$RESULTS"; done
        done
        continue
    fi
    if [ "$pairing" != libzmq/libzmq ] && [ ! -e "$OURS_LIB/libzmq.so.5" ]; then
        for p in $SCENARIOS; do
            for t in $TRANSPORTS; do echo "$p/$t $pairing FAIL(no-lib)" >>"$RESULTS"; done
        done
        continue
    fi
    n=1
    while [ $n -le "$repeat" ]; do
        for p in $PATTERNS; do
            if [ "$pairing" != libzmq/libzmq ] && is_pending "$p" && [ "$force_all" != 1 ]; then
                if [ $n -eq 1 ]; then
                    for t in $TRANSPORTS; do echo "$p/$t $pairing pending" >>"$RESULTS"; done
                    case " $pending_scen " in *" $p "*) ;; *) pending_scen="$pending_scen $p" ;; esac
                fi
                continue
            fi
            for t in $TRANSPORTS; do run_peer "$pairing" "$srv" "$cli" "$p" "$t" $n; done
        done
        case " $SCENARIOS " in
            *" million "*)
                if [ "$pairing" != libzmq/libzmq ] && is_pending million && [ "$force_all" != 1 ]; then
                    [ $n -gt 1 ] || for t in ipc tcp; do echo "million/$t $pairing pending" >>"$RESULTS"; done
                else
                    for t in ipc tcp; do run_million "$pairing" "$srv" "$cli" "$t" $n; done
                fi ;;
        esac
        n=$((n + 1))
    done
done

# Summary: one row per scenario, one column per pairing; with --repeat, a
# cell reads PASS only if every run passed, else e.g. "FAIL 2/5" (or, for
# the control's million, "loss 1/5").
awk -v pairings="$PAIRINGS" -v repeat="$repeat" '
    { key = $1 SUBSEP $2; runs[key]++
      if ($3 == "PASS") pass[key]++
      else if ($3 ~ /^loss/) loss[key]++
      else if ($3 == "pending" || $3 == "skipped") state[key] = $3
      else fail[key]++
      if (!($1 in seen)) { seen[$1] = 1; order[++nscen] = $1 } }
    END {
        np = split(pairings, P, " ")
        printf "%-20s", "scenario (srv/cli)"
        for (j = 1; j <= np; j++) printf " %-14s", P[j]
        printf "\n"
        for (i = 1; i <= nscen; i++) {
            s = order[i]; printf "%-20s", s
            for (j = 1; j <= np; j++) {
                key = s SUBSEP P[j]
                if (key in state) cell = state[key]
                else if (!(key in runs)) cell = "-"
                else if (fail[key]) cell = sprintf("FAIL %d/%d", fail[key], runs[key])
                else if (loss[key]) cell = sprintf("loss %d/%d", loss[key], runs[key])
                else cell = runs[key] > 1 ? sprintf("PASS x%d", runs[key]) : "PASS"
                printf " %-14s", cell
            }
            printf "\n"
        }
    }' "$RESULTS"

if [ -s "$OUT/logs/million-counts" ]; then
    echo "million-message counts received (pairing transport count):"
    sed 's/^/    /' "$OUT/logs/million-counts"
fi

[ "$(lib_sum)" = "$sum_before" ] ||
    echo "interop: WARNING: $OURS_LIB/libzmq.so.5 changed during this run (rebuilt?); results mix two builds"
nfail=$(awk '$3 != "PASS" && $3 !~ /^loss/ && $3 != "pending" && $3 != "skipped"' "$RESULTS" | wc -l)
npass=$(awk '$3 == "PASS"' "$RESULTS" | wc -l)
nloss=$(awk '$3 ~ /^loss/' "$RESULTS" | wc -l)
npend=$(awk '$3 == "pending"' "$RESULTS" | wc -l)
if [ $ours_pending -eq 2 ]; then
    echo "interop: ours pairings pending ($HERE/PENDING: $(head -n 1 "$HERE/PENDING"))"
fi
[ -z "$pending_scen" ] ||
    echo "interop: ours pairings pending for$pending_scen ($HERE/pending.txt)"
echo "interop: $npass passed, $nfail failed, $nloss million-loss on a libzmq receiver (tolerated), $npend pending"
[ "$nfail" -eq 0 ]
