/* Socket creation and lifecycle without messaging.
 *
 * Pins: zmq_socket works for every stable type 0..11 and ZMQ_TYPE reads it
 * back (optvallen set to sizeof (int)); int options need optvallen exactly
 * sizeof (int) (2, 0 or 8 -> EINVAL, value untouched); unknown options
 * (9999) and setting read-only ZMQ_TYPE are EINVAL; ZMQ_LINGER defaults to
 * -1 (0 for SUB and XSUB), or to 0 when the context has ZMQ_BLOCKY 0;
 * zmq_close returns 0 and then zmq_ctx_term returns 0 promptly; after
 * zmq_ctx_shutdown zmq_socket is NULL/ETERM (even for an invalid type); with
 * ZMQ_MAX_SOCKETS 2 the third socket is NULL/EMFILE (even for an invalid
 * type), and raising ZMQ_MAX_SOCKETS once sockets exist is accepted and read
 * back but does not lift the limit (libzmq sizes its slot table when the
 * first socket is created).
 * Not tested: creating a socket right after closing one at the limit (the
 * slot is freed asynchronously by the reaper thread, so it is racy). */
#include "testutil.h"

#include <stdint.h>

static void test_all_types (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);

    //  ZMQ_PAIR .. ZMQ_STREAM.
    CHECK_INT_EQ (ZMQ_PAIR, 0);
    CHECK_INT_EQ (ZMQ_STREAM, 11);
    const int types[] = {ZMQ_PAIR, ZMQ_PUB,    ZMQ_SUB,    ZMQ_REQ,
                         ZMQ_REP,  ZMQ_DEALER, ZMQ_ROUTER, ZMQ_PULL,
                         ZMQ_PUSH, ZMQ_XPUB,   ZMQ_XSUB,   ZMQ_STREAM};
    void *sockets[12];
    for (int i = 0; i < 12; i++) {
        CHECK_INT_EQ (types[i], i);
        sockets[i] = zmq_socket (ctx, types[i]);
        CHECK (sockets[i] != NULL);
        for (int j = 0; j < i; j++)
            CHECK (sockets[j] != sockets[i]);

        int type = -1;
        size_t type_size = sizeof type;
        CHECK_INT_EQ (zmq_getsockopt (sockets[i], ZMQ_TYPE, &type, &type_size),
                      0);
        CHECK_INT_EQ (type, types[i]);
        CHECK_INT_EQ (type_size, sizeof (int));

        int linger = 12345;
        size_t linger_size = sizeof linger;
        CHECK_INT_EQ (
          zmq_getsockopt (sockets[i], ZMQ_LINGER, &linger, &linger_size), 0);
        //  SUB and XSUB force linger 0 (pending subscriptions are never
        //  worth waiting for); every other type inherits -1 (ZMQ_BLOCKY).
        const int sub = types[i] == ZMQ_SUB || types[i] == ZMQ_XSUB;
        CHECK_INT_EQ (linger, sub ? 0 : -1);
    }

    for (int i = 0; i < 12; i++)
        CHECK_INT_EQ (zmq_close (sockets[i]), 0);

    void *watch = zmq_stopwatch_start ();
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
    CHECK (zmq_stopwatch_stop (watch) < 2000000ul);
}

static void test_option_errors (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    void *socket = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (socket != NULL);

    //  optvallen must be exactly sizeof (int) for an int option.
    int type = 777;
    size_t type_size = 2;
    CHECK_ERRNO (zmq_getsockopt (socket, ZMQ_TYPE, &type, &type_size), EINVAL);
    CHECK_INT_EQ (type, 777);
    type_size = 0;
    CHECK_ERRNO (zmq_getsockopt (socket, ZMQ_TYPE, &type, &type_size), EINVAL);
    CHECK_INT_EQ (type, 777);
    int64_t wide = -7;
    size_t wide_size = sizeof wide;
    CHECK_ERRNO (zmq_getsockopt (socket, ZMQ_TYPE, &wide, &wide_size), EINVAL);
    CHECK_INT_EQ (wide, -7);
    CHECK_INT_EQ (wide_size, sizeof wide);

    //  Unknown options.
    int value = 1;
    size_t value_size = sizeof value;
    CHECK_ERRNO (zmq_getsockopt (socket, 9999, &value, &value_size), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (socket, 9999, &value, sizeof value), EINVAL);
    CHECK_ERRNO (zmq_getsockopt (socket, -1, &value, &value_size), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (socket, -1, &value, sizeof value), EINVAL);

    //  ZMQ_TYPE is read-only.
    CHECK_ERRNO (zmq_setsockopt (socket, ZMQ_TYPE, &value, sizeof value),
                 EINVAL);
    //  Wrong size for an int option on set.
    CHECK_ERRNO (zmq_setsockopt (socket, ZMQ_LINGER, &value, 2), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (socket, ZMQ_LINGER, &wide, sizeof wide),
                 EINVAL);

    //  A valid set still works afterwards.
    value = 250;
    CHECK_INT_EQ (zmq_setsockopt (socket, ZMQ_LINGER, &value, sizeof value), 0);
    value = 0;
    value_size = sizeof value;
    CHECK_INT_EQ (zmq_getsockopt (socket, ZMQ_LINGER, &value, &value_size), 0);
    CHECK_INT_EQ (value, 250);

    CHECK_INT_EQ (zmq_close (socket), 0);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
}

static void test_blocky_linger (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_BLOCKY, 0), 0);
    void *socket = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (socket != NULL);
    int linger = 12345;
    size_t linger_size = sizeof linger;
    CHECK_INT_EQ (zmq_getsockopt (socket, ZMQ_LINGER, &linger, &linger_size),
                  0);
    CHECK_INT_EQ (linger, 0);
    CHECK_INT_EQ (zmq_close (socket), 0);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
}

static void test_term_without_sockets (void)
{
    //  Default ZMQ_BLOCKY, never any socket: immediate.
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_BLOCKY), 1);
    void *watch = zmq_stopwatch_start ();
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
    CHECK (zmq_stopwatch_stop (watch) < 2000000ul);

    //  Sockets created and closed: also prompt.
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    void *a = zmq_socket (ctx, ZMQ_PUSH);
    void *b = zmq_socket (ctx, ZMQ_PULL);
    CHECK (a != NULL && b != NULL);
    CHECK_INT_EQ (zmq_close (a), 0);
    CHECK_INT_EQ (zmq_close (b), 0);
    watch = zmq_stopwatch_start ();
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
    CHECK (zmq_stopwatch_stop (watch) < 2000000ul);
}

static void test_after_shutdown (void)
{
    //  Shutdown before any socket.
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_shutdown (ctx), 0);
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_PAIR), ETERM);
    CHECK_NULL_ERRNO (zmq_socket (ctx, 12345), ETERM);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);

    //  Shutdown with an open socket.
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    void *socket = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (socket != NULL);
    CHECK_INT_EQ (zmq_ctx_shutdown (ctx), 0);
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_PAIR), ETERM);
    CHECK_INT_EQ (zmq_close (socket), 0);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
}

static void test_max_sockets (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 2), 0);

    void *a = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a != NULL);
    void *b = zmq_socket (ctx, ZMQ_PUB);
    CHECK (b != NULL);
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_PAIR), EMFILE);
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_SUB), EMFILE);

    //  Raising the limit now is accepted but has no effect.
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 10), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 10);
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_PAIR), EMFILE);

    //  An invalid type with all slots taken: the slot check comes first.
    CHECK_NULL_ERRNO (zmq_socket (ctx, 12345), EMFILE);

    CHECK_INT_EQ (zmq_close (a), 0);
    CHECK_INT_EQ (zmq_close (b), 0);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);

    //  ZMQ_MAX_SOCKETS 1.
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 1), 0);
    a = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (a != NULL);
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_DEALER), EMFILE);
    CHECK_INT_EQ (zmq_close (a), 0);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
}

int main (void)
{
    test_init ();
    test_all_types ();
    test_option_errors ();
    test_blocky_linger ();
    test_term_without_sockets ();
    test_after_shutdown ();
    test_max_sockets ();
    TEST_PASS ();
}
