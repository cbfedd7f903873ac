/* ZMQ_MAXMSGSIZE on a receiving socket.
 *
 * Pins:
 *  - the default is -1 (no limit) and the option reads back as an int64;
 *  - over tcp and ipc, a frame larger than the limit (101 bytes with a limit
 *    of 100, short-frame encoding; 1001 with 1000, long-frame encoding) is
 *    never delivered: the receiver drops that connection; a frame of
 *    exactly the limit is delivered; the limit applies per frame, so a
 *    multipart message whose frames are each within it is delivered whole
 *    even if their total exceeds it;
 *  - after the drop, a fresh connection from another socket delivers, and
 *    the offending sender reconnects by itself (its later messages arrive);
 *  - inproc does not apply the limit (the big message is delivered). */
#include "testutil.h"

#include <stdint.h>

static void send_size (void *s, size_t size, int flags)
{
    char buf[2048];
    CHECK (size <= sizeof buf);
    memset (buf, 'm', size);
    CHECK_INT_EQ (zmq_send (s, buf, size, flags), (int) size);
}

static void recv_size (void *s, size_t size, int more)
{
    char buf[2048];
    CHECK_INT_EQ (zmq_recv (s, buf, sizeof buf, 0), (int) size);
    CHECK_INT_EQ (test_get_int (s, ZMQ_RCVMORE), more);
}

static void test_default (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_PULL);
    CHECK (s);
    int64_t v = 0;
    size_t size = sizeof v;
    CHECK_OK (zmq_getsockopt (s, ZMQ_MAXMSGSIZE, &v, &size));
    CHECK_INT_EQ (size, sizeof (int64_t));
    CHECK_INT_EQ (v, -1);
    v = 1000;
    CHECK_OK (zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &v, sizeof v));
    v = 0;
    CHECK_OK (zmq_getsockopt (s, ZMQ_MAXMSGSIZE, &v, &size));
    CHECK_INT_EQ (v, 1000);
    test_close_zero_linger (s);
}

static void test_limit (void *ctx, const char *transport, int64_t max)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    CHECK_OK (zmq_setsockopt (pull, ZMQ_MAXMSGSIZE, &max, sizeof max));
    test_bind_any (pull, transport, ep);

    void *offender = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (offender);
    test_set_int (offender, ZMQ_RECONNECT_IVL, 10);
    CHECK_OK (zmq_connect (offender, ep));

    if (strcmp (transport, "inproc") == 0) {
        send_size (offender, (size_t) max + 1, 0);
        recv_size (pull, (size_t) max + 1, 0);
        test_close_zero_linger (offender);
        test_close_zero_linger (pull);
        return;
    }

    //  Within the limit: fine, also per frame.
    send_size (offender, (size_t) max, 0);
    recv_size (pull, (size_t) max, 0);
    send_size (offender, (size_t) max - 10, ZMQ_SNDMORE);
    send_size (offender, (size_t) max - 10, 0);
    recv_size (pull, (size_t) max - 10, 1);
    recv_size (pull, (size_t) max - 10, 0);

    //  One byte over: never delivered.
    send_size (offender, (size_t) max + 1, 0);
    CHECK_NOTHING_WITHIN (pull, 250);

    //  A fresh connection delivers.
    void *fresh = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (fresh);
    CHECK_OK (zmq_connect (fresh, ep));
    send_size (fresh, (size_t) max, 0);
    recv_size (pull, (size_t) max, 0);

    //  The offender reconnects: keep sending small numbered messages until
    //  one arrives (those sent before it noticed the drop may be lost).
    int64_t deadline = test_now_ms () + 5000;
    int k = 0;
    while (1) {
        CHECK_INT_EQ (zmq_send (offender, &k, sizeof k, ZMQ_DONTWAIT),
                      sizeof k);
        k++;
        if (test_wait_readable (pull, 50))
            break;
        CHECK (test_now_ms () < deadline);
    }
    int got = -1;
    CHECK_INT_EQ (zmq_recv (pull, &got, sizeof got, 0), sizeof got);
    CHECK (got >= 0 && got < k);

    test_close_zero_linger (fresh);
    test_close_zero_linger (offender);
    test_close_zero_linger (pull);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_default (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++) {
        test_limit (ctx, test_transports[t], 100);
        test_limit (ctx, test_transports[t], 1000);
    }
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
