/* PAIR sockets exchanging messages over inproc, tcp and ipc.
 *
 * Pins: a bound PAIR and a connected PAIR exchange single-part and
 * multipart messages both ways, in order, with ZMQ_RCVMORE set on every part
 * but the last (zmq_recv returns each part's size); empty frames survive;
 * 100 messages in a row keep their order; with no peer a PAIR send with
 * ZMQ_DONTWAIT and a recv with ZMQ_DONTWAIT fail with EAGAIN (a connected but
 * unbound inproc PAIR can queue, so that case uses a lone socket); a PAIR
 * accepts only one peer: a second PAIR connecting to the bound one never gets
 * its messages through, while the first pair keeps working. */
#include "testutil.h"

static void test_exchange (void *ctx, const char *transport)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (a, transport, ep);
    CHECK_OK (zmq_connect (b, ep));

    //  b -> a first (a learns nothing special from being the binder).
    SEND_STR (b, "hello", 0);
    RECV_STR (a, "hello", 0);
    SEND_STR (a, "world", 0);
    RECV_STR (b, "world", 0);

    //  Multipart both ways, including an empty frame in the middle.
    SEND_STR (a, "one", ZMQ_SNDMORE);
    SEND_STR (a, "", ZMQ_SNDMORE);
    SEND_STR (a, "three", 0);
    RECV_STR (b, "one", 1);
    RECV_STR (b, "", 1);
    RECV_STR (b, "three", 0);

    SEND_STR (b, "x", ZMQ_SNDMORE);
    SEND_STR (b, "y", 0);
    RECV_STR (a, "x", 1);
    RECV_STR (a, "y", 0);

    //  zmq_recv returns the frame size.
    char buf[32];
    CHECK_INT_EQ (zmq_send (a, "abcdef", 6, 0), 6);
    CHECK_INT_EQ (zmq_recv (b, buf, sizeof buf, 0), 6);
    CHECK (memcmp (buf, "abcdef", 6) == 0);

    //  An empty message.
    CHECK_INT_EQ (zmq_send (b, NULL, 0, 0), 0);
    CHECK_INT_EQ (zmq_recv (a, buf, sizeof buf, 0), 0);
    CHECK_INT_EQ (test_get_int (a, ZMQ_RCVMORE), 0);

    //  Ordering of a burst, both directions interleaved.
    for (int i = 0; i < 100; i++) {
        char s[16];
        snprintf (s, sizeof s, "a%d", i);
        SEND_STR (a, s, 0);
        snprintf (s, sizeof s, "b%d", i);
        SEND_STR (b, s, 0);
    }
    for (int i = 0; i < 100; i++) {
        char s[16];
        snprintf (s, sizeof s, "a%d", i);
        RECV_STR (b, s, 0);
        snprintf (s, sizeof s, "b%d", i);
        RECV_STR (a, s, 0);
    }

    //  Nothing left over.
    CHECK_ERRNO (zmq_recv (a, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    test_close_zero_linger (b);
    test_close_zero_linger (a);
}

static void test_no_peer (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a);
    char buf[8];
    CHECK_ERRNO (zmq_send (a, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_recv (a, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    //  Bound but nobody connected: still no pipe, still EAGAIN.
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (a, "tcp", ep);
    CHECK_ERRNO (zmq_send (a, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_recv (a, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    test_close_zero_linger (a);
}

static void test_second_peer_ignored (void *ctx, const char *transport)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    void *c = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b && c);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (a, transport, ep);
    CHECK_OK (zmq_connect (b, ep));
    test_bounce (a, b);

    CHECK_OK (zmq_connect (c, ep));
    //  c may or may not be able to queue this (its pipe exists until the
    //  refusal reaches it); either way a never sees it.
    zmq_send (c, "intruder", 8, ZMQ_DONTWAIT);
    SEND_STR (b, "legit", 0);
    RECV_STR (a, "legit", 0);
    CHECK_NOTHING_WITHIN (a, 200);

    test_bounce (a, b);

    test_close_zero_linger (c);
    test_close_zero_linger (b);
    test_close_zero_linger (a);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++)
        test_exchange (ctx, test_transports[t]);
    test_no_peer (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++)
        test_second_peer_ignored (ctx, test_transports[t]);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
