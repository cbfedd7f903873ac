#!/bin/sh
# Proves that build/lib/libzmq.so.5 and include/zmq.h can stand in for
# Debian's libzmq 4.3.4 (libzmq3-dev): exported symbols, SONAME, every macro
# of the upstream header by value, every upstream prototype re-declared after
# our header, struct layouts; then the ctest checks of the Rust declarations
# against both headers.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
OUT=$TOP/build/abi
LIB=build/lib/libzmq.so.5
UPSTREAM_LIB=$(ls /usr/lib/*-linux-gnu/libzmq.so.5 2>/dev/null | head -n 1)
mkdir -p "$OUT"
fail() { echo "abi-check: $*" >&2; exit 1; }

# --- Symbols ---------------------------------------------------------------
readelf -d "$LIB" | grep -q 'SONAME.*\[libzmq.so.5\]' || fail "SONAME is not libzmq.so.5"
nm -D --defined-only "$LIB" | awk '{print $3}' | grep -v '^$' | sort > "$OUT/ours.syms"
if grep -v '^zmq_' "$OUT/ours.syms"; then fail "symbols other than zmq_* are exported"; fi
nm -D --defined-only "$UPSTREAM_LIB" | awk '$2 == "T" {print $3}' | sort > "$OUT/upstream.syms"
missing=$(comm -23 "$OUT/upstream.syms" "$OUT/ours.syms")
[ -z "$missing" ] || fail "missing upstream symbols: $missing"
grep -o 'pub fn zmq_[a-z0-9_]*' zmq-capi/src/abi.rs | sed 's/pub fn //' | sort > "$OUT/declared.syms"
if ! diff -u "$OUT/declared.syms" "$OUT/ours.syms"; then
    fail "exports differ from the declarations in zmq-capi/src/abi.rs"
fi
echo "symbols: $(wc -l < "$OUT/ours.syms") exported, all zmq_*; all $(wc -l < "$OUT/upstream.syms") of Debian's present; SONAME libzmq.so.5"

# --- Macros and layouts ------------------------------------------------------
# Every macro Debian's zmq.h defines (beyond what its system includes define),
# stable and draft, must exist in ours with the same value.
sys_macros() { printf '#include <errno.h>\n#include <stddef.h>\n#include <stdio.h>\n#include <stdint.h>\n' | gcc -dM -E -x c - | sort; }
sys_macros > "$OUT/sys.macros"
for variant in stable draft; do
    defs=""; [ $variant = draft ] && defs="-DZMQ_BUILD_DRAFT_API"
    printf '#include <zmq.h>\n' | gcc $defs -dM -E -x c - | sort > "$OUT/upstream.$variant.all"
    # One line per macro: "obj NAME", "empty NAME" or "fn NAME".
    comm -23 "$OUT/upstream.$variant.all" "$OUT/sys.macros" | sed -n \
        -e 's/^#define \([A-Za-z_][A-Za-z0-9_]*\)(.*$/fn \1/p' \
        -e 's/^#define \([A-Za-z_][A-Za-z0-9_]*\) *$/empty \1/p' \
        -e 's/^#define \([A-Za-z_][A-Za-z0-9_]*\) .*$/obj \1/p' \
        | grep -v -e ' __ZMQ_H_INCLUDED__$' -e ' ZMQ_EXPORT$' > "$OUT/upstream.$variant.macros"
    prog=$OUT/macros.$variant.c
    cat > "$prog" <<'C'
#include <zmq.h>
#include <stddef.h>
#include <stdio.h>
#define P(n) _Generic ((n), char *: print_s, const char *: print_s, default: print_i) (#n, (n))
static void print_i (const char *n, long long v) { printf ("%s=%lld\n", n, v); }
static void print_s (const char *n, const char *v) { printf ("%s=\"%s\"\n", n, v); }
int main (void)
{
    (void) print_s;
    (void) print_i;
C
    while read -r kind name; do
        case $kind in
            obj) printf '    P (%s);\n' "$name" ;;
            empty) printf '#ifndef %s\n#error %s is not defined\n#endif\n    puts ("%s defined");\n' "$name" "$name" "$name" ;;
            fn) printf '#ifndef %s\n#error %s is not defined\n#endif\n' "$name" "$name" ;;
        esac
    done < "$OUT/upstream.$variant.macros" >> "$prog"
    cat >> "$prog" <<'C'
    printf ("ZMQ_MAKE_VERSION(1,2,3)=%d\n", ZMQ_MAKE_VERSION (1, 2, 3));
    printf ("zmq_msg_t size=%zu align=%zu\n", sizeof (zmq_msg_t), _Alignof (zmq_msg_t));
    printf ("zmq_pollitem_t size=%zu align=%zu offsets=%zu,%zu,%zu,%zu\n",
            sizeof (zmq_pollitem_t), _Alignof (zmq_pollitem_t),
            offsetof (zmq_pollitem_t, socket), offsetof (zmq_pollitem_t, fd),
            offsetof (zmq_pollitem_t, events), offsetof (zmq_pollitem_t, revents));
#ifdef ZMQ_BUILD_DRAFT_API
    printf ("zmq_poller_event_t size=%zu offsets=%zu,%zu,%zu,%zu\n",
            sizeof (zmq_poller_event_t), offsetof (zmq_poller_event_t, socket),
            offsetof (zmq_poller_event_t, fd), offsetof (zmq_poller_event_t, user_data),
            offsetof (zmq_poller_event_t, events));
#endif
    return 0;
}
C
    gcc -std=gnu11 -Wall -Werror $defs "$prog" -o "$OUT/macros.$variant.upstream"
    gcc -std=gnu11 -Wall -Werror $defs -Iinclude "$prog" -o "$OUT/macros.$variant.ours"
    "$OUT/macros.$variant.upstream" > "$OUT/macros.$variant.upstream.txt"
    "$OUT/macros.$variant.ours" > "$OUT/macros.$variant.ours.txt"
    if ! diff -u "$OUT/macros.$variant.upstream.txt" "$OUT/macros.$variant.ours.txt"; then
        fail "$variant macros or layouts differ from Debian's zmq.h"
    fi
    n=$(grep -c '^obj' "$OUT/upstream.$variant.macros")
    e=$(grep -c -v '^obj' "$OUT/upstream.$variant.macros")
    echo "macros ($variant): all $n valued macros of Debian's zmq.h equal in ours, $e more defined; layouts identical"

    # Upstream's prototypes, re-declared after including ours: any difference
    # in a signature is a compile error.
    {
        printf '#include <zmq.h>\n#define ZMQ_EXPORT\n'
        awk -v draft=$variant '
            /^#ifdef ZMQ_BUILD_DRAFT_API/ { indraft = 1 }
            /^#endif \/\/ ZMQ_BUILD_DRAFT_API/ { indraft = 0 }
            /^ZMQ_EXPORT/ { collecting = 1; buf = "" }
            collecting { buf = buf $0 "\n"; if ($0 ~ /;[ \t]*$/) { collecting = 0;
                if (!indraft || draft == "draft") printf "%s", buf } }
        ' /usr/include/zmq.h
        printf 'int main (void) { return 0; }\n'
    } > "$OUT/protos.$variant.c"
    gcc -std=gnu11 -Wall -Werror $defs -Iinclude "$OUT/protos.$variant.c" -o "$OUT/protos.$variant"
    np=$(grep -c '^ZMQ_EXPORT' "$OUT/protos.$variant.c")
    echo "prototypes ($variant): $np upstream declarations agree with ours"
done

# --- ctest: the Rust declarations against both headers --------------------
cargo run -q -p abi-ctest-upstream
LD_LIBRARY_PATH="$TOP/build/lib" cargo run -q -p abi-ctest-ours
echo "abi-check: passed"
