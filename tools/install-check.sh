#!/bin/sh
# `make install PREFIX=... DESTDIR=...` lays out lib/, include/, lib/pkgconfig/
# so that `gcc prog.c $(pkg-config --cflags --libs libzmq)` builds against ours;
# and a program built against Debian's libzmq runs on ours by LD_LIBRARY_PATH
# and LD_PRELOAD.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "install-check: $*" >&2; exit 1; }

make -s install PREFIX=/opt/zmq-rs DESTDIR="$WORK/stage" >/dev/null
for f in lib/libzmq.so.5 lib/libzmq.so lib/libzmq.a lib/pkgconfig/libzmq.pc include/zmq.h include/zmq_utils.h; do
    [ -e "$WORK/stage/opt/zmq-rs/$f" ] || fail "DESTDIR install lacks $f"
done
grep -q '^prefix=/opt/zmq-rs$' "$WORK/stage/opt/zmq-rs/lib/pkgconfig/libzmq.pc" || fail "bad prefix in libzmq.pc"

make -s install PREFIX="$WORK/prefix" >/dev/null
PC=$WORK/prefix/lib/pkgconfig/libzmq.pc
grep -q '^Name: libzmq$' "$PC" || fail "libzmq.pc lacks Name: libzmq"
cat > "$WORK/prog.c" <<'C'
#include <zmq.h>
#include <stdio.h>
int main (void)
{
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    void *ctx = zmq_ctx_new ();
    if (!ctx || zmq_ctx_get (ctx, ZMQ_IO_THREADS) != 1 || zmq_ctx_term (ctx) != 0)
        return 1;
    printf ("%d.%d.%d\n", major, minor, patch);
    return 0;
}
C
flags=$(PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig" pkg-config --cflags --libs libzmq)
case "$flags" in *"-I$WORK/prefix/include"*"-L$WORK/prefix/lib"*|*"-L$WORK/prefix/lib"*"-I$WORK/prefix/include"*) ;;
    *) fail "pkg-config gives '$flags'" ;; esac
gcc -Wall -Werror "$WORK/prog.c" -o "$WORK/prog" $flags -Wl,-rpath,"$WORK/prefix/lib"
[ "$("$WORK/prog")" = "4.3.5" ] || fail "pkg-config build does not run on ours"
ldd "$WORK/prog" | grep -q "$WORK/prefix/lib/libzmq.so.5" || fail "pkg-config build not linked to ours"
echo "install: DESTDIR and PREFIX layouts complete; pkg-config build runs on ours"

# Static linking with the .a (and its private libraries).
gcc -Wall -Werror "$WORK/prog.c" -o "$WORK/prog-static" -I"$WORK/prefix/include" \
    "$WORK/prefix/lib/libzmq.a" $(PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig" pkg-config --static --libs-only-l libzmq | sed 's/-lzmq//')
[ "$("$WORK/prog-static")" = "4.3.5" ] || fail "static build does not run"
echo "install: static libzmq.a links and runs"

# Link substitution: built against Debian's header and library, run on ours.
gcc -Wall -Werror "$WORK/prog.c" -o "$WORK/prog-debian" -lzmq
[ "$("$WORK/prog-debian")" = "4.3.4" ] || fail "oracle build does not run on Debian's libzmq"
LD_LIBRARY_PATH="$TOP/build/lib" ldd "$WORK/prog-debian" | grep -q "$TOP/build/lib/libzmq.so.5" \
    || fail "LD_LIBRARY_PATH does not select ours"
[ "$(LD_LIBRARY_PATH="$TOP/build/lib" "$WORK/prog-debian")" = "4.3.5" ] || fail "LD_LIBRARY_PATH run is not ours"
[ "$(LD_PRELOAD="$TOP/build/lib/libzmq.so.5" "$WORK/prog-debian")" = "4.3.5" ] || fail "LD_PRELOAD run is not ours"
echo "install: Debian-built program runs on ours via LD_LIBRARY_PATH and LD_PRELOAD"
