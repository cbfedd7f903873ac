#!/usr/bin/env bash
# Benchmarks Debian's libzmq ("libzmq") against ours, side by side; see
# bench/README.md for what each cell measures.
#
#   bench/run.sh [SELECTOR...]
#
# A SELECTOR is a group (thr lat pubsub proxy mem cg) or a glob on cell names
# (e.g. 'thr-tcp-*' '*-1MiB' lat-ipc-1B); none runs every cell.
#   BENCH_CELLS="thr lat"  selectors, when no arguments are given
#   BENCH_PAIRS=N          libzmq/ours pairs per cell (default 9; 2 when quick)
#   BENCH_CG_PAIRS=N       pairs per callgrind cell (default 3; 1 when quick)
#   BENCH_QUICK=1          a tenth of the message counts: a smoke test
#   BENCH_OURS_LIB=DIR     ours is DIR/libzmq.so.5 (default build/lib)
#   BENCH_TIMEOUT=S        bound on each process (default 60; callgrind runs
#                          BENCH_CG_TIMEOUT, default 300)
#   BENCH_OUT=FILE         the Markdown report (default bench/results.md)
#
# The programs (thr.c lat.c pubsub.c proxy.c mem.c version.c, sharing bench.h) are
# built once against Debian's /usr/include/zmq.h and -lzmq into bench/bin/.
# Each cell runs its trial on libzmq (no LD_LIBRARY_PATH) and on ours
# (LD_LIBRARY_PATH=BENCH_OURS_LIB) alternately, A/B/A/B, and reports the
# median of each side and the ratio ours/libzmq.  A side whose trial fails
# (non-zero exit, crash, timeout, wrong count, no result) shows FAIL in that
# cell and is not run again in it; the report then says why and how to
# reproduce it.  Exit status: 0, or 1 if any trial failed.
set -u
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
OURS_LIB=$(cd "${BENCH_OURS_LIB:-$TOP/build/lib}" 2>/dev/null && pwd) || {
    echo "bench: no directory ${BENCH_OURS_LIB:-$TOP/build/lib}" >&2
    exit 2
}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
    PAIRS=${BENCH_PAIRS:-2} CG_PAIRS=${BENCH_CG_PAIRS:-1} DIV=10
else
    PAIRS=${BENCH_PAIRS:-9} CG_PAIRS=${BENCH_CG_PAIRS:-3} DIV=1
fi
TIMEOUT=${BENCH_TIMEOUT:-60}
CG_TIMEOUT=${BENCH_CG_TIMEOUT:-300}
OUT=${BENCH_OUT:-$HERE/results.md}
BIN=$HERE/bin
if [ $# -gt 0 ]; then
    SELECTORS=("$@")
else
    read -ra SELECTORS <<<"${BENCH_CELLS:-}"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
declare -A LIVE=() # pid -> process name, for the trial under way
cleanup() {
    local pid
    for pid in "${!LIVE[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
T0=$(date +%s)

# ---- build ------------------------------------------------------------------
mkdir -p "$BIN"
for prog in thr lat pubsub proxy mem version; do
    gcc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread "$HERE/$prog.c" \
        -o "$BIN/$prog.tmp.$$" -lzmq && mv -f "$BIN/$prog.tmp.$$" "$BIN/$prog" || {
        echo "bench: building $prog failed" >&2
        exit 2
    }
done

# ---- the two sides ------------------------------------------------------------
# side_env SIDE: the env(1) prefix that selects the side's library.
side_env() {
    if [ "$1" = ours ]; then
        ENV=(env "LD_LIBRARY_PATH=$OURS_LIB")
    else
        ENV=(env -u LD_LIBRARY_PATH)
    fi
}
side_version() {
    side_env "$1"
    "${ENV[@]}" timeout 10 "$BIN/version"
}
lib_sum() { md5sum "$OURS_LIB/libzmq.so.5" 2>/dev/null | cut -c1-12; }
LIBZMQ_VERSION=$(side_version libzmq) || LIBZMQ_VERSION="? (version helper failed)"
OURS_VERSION=$(side_version ours) || OURS_VERSION="? (version helper failed)"
case $OURS_VERSION in
    *" $OURS_LIB/libzmq.so.5") ;;
    *) echo "bench: ours is not loaded from $OURS_LIB: '$OURS_VERSION'" >&2; exit 2 ;;
esac
case $LIBZMQ_VERSION in
    *" $OURS_LIB/"*) echo "bench: libzmq side loads ours: '$LIBZMQ_VERSION'" >&2; exit 2 ;;
esac
SUM_BEFORE=$(lib_sum)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- running one trial ----------------------------------------------------------
# A trial runs in a fresh directory $RUN; spawn starts its processes, reap waits
# for them.  On success the trial sets VALS (its metrics, space-separated).
SIDE=libzmq
TMO=$TIMEOUT
REPRO=""
WHY=""
run_seq=0

new_run() {
    run_seq=$((run_seq + 1))
    RUN=$TMP/run.$run_seq
    mkdir -p "$RUN"
    REPRO=""
}

# spawn NAME CMD...: CMD on the current side under timeout(1), in the
# background, stdout to $RUN/NAME.out and stderr to $RUN/NAME.err.
spawn() {
    local name=$1
    shift
    side_env "$SIDE"
    "${ENV[@]}" timeout -k 5 "$TMO" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err" &
    LIVE[$!]=$name
    local line
    line=$(printf '%q ' "${ENV[@]}" timeout "$TMO" "$@")
    REPRO+="  ${line//$RUN//tmp/bench-repro}&"$'\n'
}

describe_rc() {
    case $1 in
        124) echo "timed out after ${TMO}s" ;;
        137) echo "killed (SIGKILL) after timing out" ;;
        12[5-7]) echo "could not run (exit $1)" ;;
        *) if [ "$1" -gt 128 ]; then
               echo "killed by signal $(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"
           else
               echo "exit $1"
           fi ;;
    esac
}

# reap: waits for every spawned process; once one fails, ends the others.
# Returns 0 when all exited 0, else 1 with WHY set.
reap() {
    local pid rc name failed=0
    WHY=""
    while [ ${#LIVE[@]} -gt 0 ]; do
        pid=""
        wait -n -p pid "${!LIVE[@]}"
        rc=$?
        if [ -z "${pid:-}" ]; then
            # bash 5.2's `wait -n` can return 127 without naming a child
            # (-p unsets the variable), seemingly for one that ended while
            # a command substitution ran: wait for the first one by itself
            # (`wait PID` finds a saved status).
            for pid in "${!LIVE[@]}"; do break; done
            wait "$pid"
            rc=$?
        fi
        name=${LIVE[$pid]}
        unset "LIVE[$pid]"
        if [ "$rc" -ne 0 ] && [ $failed = 0 ]; then
            failed=1
            WHY="$name: $(describe_rc "$rc")"
            local err
            err=$(tail -c 400 "$RUN/$name.err" 2>/dev/null | tr '\n' ' ')
            [ -z "$err" ] || WHY+=" ($err)"
            for pid in "${!LIVE[@]}"; do kill -TERM "$pid" 2>/dev/null; done
        fi
    done
    return $failed
}

# result NAME KEY: KEY's value in the RESULT line of process NAME.
result() {
    sed -n "s/^RESULT.* $2=\([^ ]*\).*/\1/p" "$RUN/$1.out" | head -1
}

# check_vals: fails the trial when a metric is missing.
check_vals() {
    if [ -z "$VALS" ] || [ "$(echo "$VALS" | wc -w)" -ne "$1" ]; then
        WHY="no RESULT line (stdout: $(head -c 200 "$RUN"/*.out | tr '\n' ' '))"
        return 1
    fi
}

# The bind endpoint of a two-process trial on TRANSPORT.
bind_endpoint() {
    case $1 in
        tcp) echo "tcp://127.0.0.1:*" ;;
        ipc) echo "ipc://$RUN/$2.ipc" ;;
    esac
}

# trial_pair PROG BINDER CONNECTER REPORTER TRANSPORT SIZE COUNT: a thr or lat
# trial; REPORTER names the process whose RESULT counts (BINDER or CONNECTER;
# the one process over inproc).
trial_pair() {
    local prog=$1 binder=$2 connecter=$3 reporter=$4 tr=$5 size=$6 count=$7
    if [ "$tr" = inproc ]; then
        spawn "$reporter" "$BIN/$prog" inproc "$size" "$count"
    else
        spawn "$binder" "$BIN/$prog" "$binder" "$(bind_endpoint "$tr" "$prog")" \
            "$RUN/ep" "$size" "$count"
        spawn "$connecter" "$BIN/$prog" "$connecter" "$RUN/ep" "$size" "$count"
    fi
    reap || return 1
}

trial_thr() {
    trial_pair thr recv send recv "$@" || return 1
    VALS="$(result recv msg_per_s) $(result recv mb_per_s)"
    check_vals 2
}

trial_lat() {
    trial_pair lat rep req req "$@" || return 1
    VALS="$(result req mean_us) $(result req p50_us) $(result req p99_us)"
    check_vals 3
}

# trial_pubsub NSUBS SIZE COUNT: VALS = average and minimum rate per subscriber.
trial_pubsub() {
    local nsubs=$1 size=$2 count=$3 i
    spawn pub "$BIN/pubsub" pub "$RUN/ep" "$nsubs" "$size" "$count"
    for ((i = 0; i < nsubs; i++)); do
        spawn "sub$i" "$BIN/pubsub" sub "$RUN/ep" "$i" "$size" "$count"
    done
    reap || return 1
    VALS=$(for ((i = 0; i < nsubs; i++)); do result "sub$i" msg_per_s; done |
        awk 'NR == 1 || $1 < min { min = $1 } { sum += $1 }
             END { if (NR == '"$nsubs"') printf "%.1f %.1f", sum / NR, min }')
    check_vals 2
}

# trial_proxy NCLIENTS NWORKERS SIZE COUNT
trial_proxy() {
    spawn broker "$BIN/proxy" broker "$RUN/ep"
    spawn clients "$BIN/proxy" clients "$RUN/ep" "$@"
    reap || return 1
    VALS=$(result clients rt_per_s)
    check_vals 1
}

# trial_mem N: VALS = RSS added per idle socket and per idle connection (KiB).
trial_mem() {
    spawn mem "$BIN/mem" "$1"
    reap || return 1
    VALS="$(result mem per_socket_kib) $(result mem per_conn_kib)"
    check_vals 2
}

# trial_cg SIZE COUNT: the tcp thr trial with both processes under callgrind;
# VALS = instructions (Ir) per message: both processes, sender, receiver.
trial_cg() {
    local size=$1 count=$2 role
    local vg=(valgrind --tool=callgrind --trace-children=no -q)
    spawn recv "${vg[@]}" "--callgrind-out-file=$RUN/cg.recv" "$BIN/thr" recv \
        "tcp://127.0.0.1:*" "$RUN/ep" "$size" "$count"
    spawn send "${vg[@]}" "--callgrind-out-file=$RUN/cg.send" "$BIN/thr" send \
        "$RUN/ep" "$size" "$count"
    reap || return 1
    local ir=()
    for role in send recv; do
        ir+=("$(sed -n 's/^summary: *//p' "$RUN/cg.$role" 2>/dev/null)")
    done
    VALS=$(awk -v s="${ir[0]}" -v r="${ir[1]}" -v n="$count" \
        'BEGIN { if (s != "" && r != "") printf "%.1f %.1f %.1f", (s + r) / n, s / n, r / n }')
    check_vals 3 || { WHY="no callgrind summary"; return 1; }
}

# ---- the cells ----------------------------------------------------------------
# Each cell: ID|KIND|PAIRS|TIMEOUT|TRIAL...  (KIND picks the unit and format)
CELLS=()
cell() { CELLS+=("$1|$2|$3|$4|$5"); }
n() { local v=$(($1 / DIV)); [ $v -ge 1 ] || v=1; echo $v; }
label() {
    case $1 in
        1048576) echo 1MiB ;; 65536) echo 64KiB ;; 1024) echo 1KiB ;; *) echo "$1B" ;;
    esac
}
for tr in tcp ipc inproc; do
    for size in 1 64 1024 65536 1048576; do
        case $tr:$size in
            inproc:1 | inproc:64) count=4000000 ;;
            *:1 | *:64) count=2000000 ;;
            inproc:1024) count=1000000 ;;
            *:1024) count=300000 ;;
            inproc:65536) count=300000 ;;
            *:65536) count=15000 ;;
            inproc:*) count=50000 ;;
            *) count=1000 ;;
        esac
        cell "thr-$tr-$(label $size)" thr "$PAIRS" "$TIMEOUT" \
            "trial_thr $tr $size $(n $count)"
    done
done
for tr in tcp ipc inproc; do
    for size in 1 1024; do
        cell "lat-$tr-$(label $size)" lat "$PAIRS" "$TIMEOUT" \
            "trial_lat $tr $size $(n 10000)"
    done
done
cell pubsub-1sub-64B pubsub1 "$PAIRS" "$TIMEOUT" "trial_pubsub 1 64 $(n 1000000)"
cell pubsub-4sub-64B pubsub "$PAIRS" "$TIMEOUT" "trial_pubsub 4 64 $(n 500000)"
cell proxy-4req-2rep-64B proxy "$PAIRS" "$TIMEOUT" "trial_proxy 4 2 64 $(n 10000)"
cell mem-1000dealers mem "$PAIRS" "$TIMEOUT" "trial_mem $(n 1000)"
cell cg-tcp-64B cg "$CG_PAIRS" "$CG_TIMEOUT" "trial_cg 64 $(n 100000)"
cell cg-tcp-64B-1msg cg1 "$CG_PAIRS" "$CG_TIMEOUT" "trial_cg 64 1"

selected() { # ID
    local s
    [ ${#SELECTORS[@]} -gt 0 ] || return 0
    for s in "${SELECTORS[@]}"; do
        case $1 in $s) return 0 ;; esac
        [ "$s" = "${1%%-*}" ] && return 0
    done
    return 1
}

# ---- statistics and formatting ----------------------------------------------------
# median FILE COLUMN
median() {
    awk -v c="$2" '{ print $c }' "$1" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
                                   else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# fmt STYLE VALUE: rate (4.12M), num (263.4), int (2306)
fmt() {
    awk -v s="$1" -v x="$2" 'BEGIN {
        if (s == "rate") {
            if (x >= 1e9) printf "%.2fG", x / 1e9
            else if (x >= 1e6) printf "%.2fM", x / 1e6
            else if (x >= 1e4) printf "%.1fk", x / 1e3
            else printf "%.0f", x
        } else if (s == "int") printf "%.0f", x
        else printf "%.1f", x }'
}
# steal_ticks: "STEAL TOTAL", the CPU time (all CPUs, in ticks) the
# hypervisor gave to other guests, and all CPU time, since boot.
steal_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t }' /proc/stat; }

# steal_pct "S0 T0" "S1 T1": the share of CPU time stolen in between, in %.
steal_pct() {
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
        d = y[2] - x[2]; if (d > 0) printf "%.0f%%", 100 * (y[1] - x[1]) / d; else print "-" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }'; }

# kind_info KIND: UNIT, STYLES (one per metric), SHAPE (how the metrics are
# joined: @1 @2 @3 stand for them) and RSHAPE (the same for the ratios).
kind_info() {
    case $1 in
        thr) UNIT="msg/s (MB/s)" STYLES="rate num" SHAPE="@1 (@2)" RSHAPE="@1" ;;
        lat) UNIT="µs: mean / p50 / p99" STYLES="num num num" SHAPE="@1 / @2 / @3" ;;
        pubsub1) UNIT="msg/s received" STYLES="rate" SHAPE="@1" ;;
        pubsub) UNIT="msg/s per subscriber: avg (min)" STYLES="rate rate" SHAPE="@1 (@2)" ;;
        proxy) UNIT="round trips/s, all clients" STYLES="rate" SHAPE="@1" ;;
        mem) UNIT="KiB RSS per idle socket / per connection" STYLES="num num" SHAPE="@1 / @2" ;;
        cg) UNIT="Ir/msg: send+recv (send / recv)" STYLES="int int int" SHAPE="@1 (@2 / @3)" ;;
        cg1) UNIT="Ir per 1-msg run: send+recv (send / recv)" STYLES="rate rate rate" SHAPE="@1 (@2 / @3)" ;;
    esac
    [ "$1" = thr ] || RSHAPE=$SHAPE
}
# shape SHAPE V1 [V2 [V3]]
shape() {
    local s=$1
    s=${s/@1/$2}
    s=${s/@2/${3:-}}
    s=${s/@3/${4:-}}
    echo "$s"
}

ROWS=""
RAW=""
FAILURES=""
any_fail=0
ncells=0
for c in "${CELLS[@]}"; do
    IFS='|' read -r id kind _ _ _ <<<"$c"
    selected "$id" && ncells=$((ncells + 1))
done
if [ $ncells = 0 ]; then
    echo "bench: no cell matches: ${SELECTORS[*]}" >&2
    exit 2
fi

# ---- the run --------------------------------------------------------------------
icell=0
for c in "${CELLS[@]}"; do
    IFS='|' read -r id kind pairs TMO trial <<<"$c"
    selected "$id" || continue
    icell=$((icell + 1))
    kind_info "$kind"
    nmetrics=$(echo "$STYLES" | wc -w)
    printf '[%2d/%d] %-22s' "$icell" "$ncells" "$id" >&2
    t_cell=$(date +%s)
    st_cell=$(steal_ticks)
    declare -A failed=([libzmq]="" [ours]="")
    : >"$TMP/vals.libzmq"
    : >"$TMP/vals.ours"
    for ((p = 1; p <= pairs; p++)); do
        for SIDE in libzmq ours; do
            [ -z "${failed[$SIDE]}" ] || continue
            new_run
            VALS=""
            # shellcheck disable=SC2086
            if $trial; then
                echo "$VALS" >>"$TMP/vals.$SIDE"
                printf '.' >&2
            else
                printf '!' >&2
                failed[$SIDE]="trial $p: $WHY"
                any_fail=1
                FAILURES+="- **$id** on $SIDE, ${failed[$SIDE]}"$'\n'
                FAILURES+="  Reproduce: \`BENCH_PAIRS=1 bench/run.sh $id\`, or by hand:"$'\n'
                FAILURES+='  ```sh'$'\n'"  mkdir -p /tmp/bench-repro && rm -f /tmp/bench-repro/*"$'\n'
                FAILURES+="$REPRO  wait"$'\n''  ```'$'\n'
            fi
            rm -rf "$RUN"
        done
    done
    declare -A cellval=() med=()
    for SIDE in libzmq ours; do
        if [ -n "${failed[$SIDE]}" ] || [ ! -s "$TMP/vals.$SIDE" ]; then
            cellval[$SIDE]=FAIL
            continue
        fi
        parts=()
        i=0
        for style in $STYLES; do
            i=$((i + 1))
            med[$SIDE,$i]=$(median "$TMP/vals.$SIDE" $i)
            parts+=("$(fmt "$style" "${med[$SIDE,$i]}")")
        done
        cellval[$SIDE]=$(shape "$SHAPE" "${parts[@]}")
    done
    if [ "${cellval[libzmq]}" != FAIL ] && [ "${cellval[ours]}" != FAIL ]; then
        parts=()
        for ((i = 1; i <= nmetrics; i++)); do
            parts+=("$(ratio "${med[libzmq,$i]}" "${med[ours,$i]}")")
        done
        r=$(shape "$RSHAPE" "${parts[@]}")
    else
        r="-"
    fi
    st=$(steal_pct "$st_cell" "$(steal_ticks)")
    ROWS+="| $id | $UNIT | ${cellval[libzmq]} | ${cellval[ours]} | $r | $st |"$'\n'
    RAW+="| $id"
    for SIDE in libzmq ours; do
        RAW+=" | $(while read -r v _; do fmt "${STYLES%% *}" "$v"; printf ' '; done \
            <"$TMP/vals.$SIDE")${failed[$SIDE]:+FAIL}"
        RAW=${RAW% }
    done
    RAW+=" |"$'\n'
    printf ' libzmq %s | ours %s | ratio %s  (%ss, steal %s)\n' "${cellval[libzmq]}" \
        "${cellval[ours]}" "$r" $(($(date +%s) - t_cell)) "$st" >&2
done

# ---- the report -------------------------------------------------------------------
ELAPSED=$(($(date +%s) - T0))
SUM_AFTER=$(lib_sum)
lib_note=""
[ "$SUM_BEFORE" = "$SUM_AFTER" ] ||
    lib_note=" **(changed during the run: md5 $SUM_BEFORE before, $SUM_AFTER after)**"
{
    echo "# Benchmark: Debian's libzmq vs ours"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
    echo "- load average (1/5/15 min): $LOAD_BEFORE at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
    echo "- libzmq: $LIBZMQ_VERSION"
    echo "- ours: $OURS_VERSION (md5 $SUM_BEFORE)$lib_note"
    echo "- $PAIRS libzmq/ours pairs per cell ($CG_PAIRS for callgrind cells), alternating;" \
         "$([ "$QUICK" = 1 ] && echo "QUICK mode (a tenth of the counts)" || echo "full counts");" \
         "run took ${ELAPSED}s"
    echo
    echo "| cell | unit | libzmq median | ours median | ratio ours/libzmq | steal |"
    echo "| --- | --- | --- | --- | --- | --- |"
    printf '%s' "$ROWS"
    echo
    echo "Ratio = ours median / libzmq median, metric by metric. For rates (msg/s," \
         "round trips/s) a ratio above 1 means ours is faster; for latency (µs) and" \
         "instruction counts (Ir) and memory (KiB) a ratio below 1 means ours is faster (or smaller)." \
         "Medians are over the pairs; the machine is shared and noisy, so trust the" \
         "ratio of alternating runs more than the absolute numbers." \
         "FAIL: that library failed the cell (see below). M = 10^6, k = 10^3, MB = 10^6 bytes." \
         "Steal: the share of the machine's CPU time the hypervisor gave to other guests" \
         "while the cell ran (/proc/stat); at more than a few percent, both libraries'" \
         "threads were stopped at random and the cell's figures are that much less telling."
    if [ -n "$FAILURES" ]; then
        echo
        echo "## Failures"
        echo
        printf '%s' "$FAILURES"
    fi
    echo
    echo "<details><summary>Every run's first metric, in order</summary>"
    echo
    echo "| cell | libzmq | ours |"
    echo "| --- | --- | --- |"
    printf '%s' "$RAW"
    echo
    echo "</details>"
} >"$OUT.tmp.$$" && mv -f "$OUT.tmp.$$" "$OUT"
cat "$OUT"
exit $any_fail
