/* PUB/SUB publish-subscribe semantics (RFC 29), over inproc, tcp and ipc.
 *
 * Pins:
 *  - a SUB receives a message only if its first frame starts with one of
 *    its subscriptions (byte prefix, case-sensitive, binary-safe: a topic may
 *    hold NUL bytes); a message equal to the topic matches; the empty
 *    message matches only the empty subscription; the empty subscription
 *    matches everything; a message matching several subscriptions arrives
 *    once; later frames of a multipart message are never matched and the
 *    message arrives whole (RCVMORE on all but the last frame);
 *  - several SUBs on one PUB each get their own copy of what they match;
 *  - subscriptions are counted on the SUB: subscribing twice and
 *    unsubscribing once keeps the topic (messages still flow end to end);
 *    the second unsubscribe stops it; unsubscribing a topic never subscribed
 *    succeeds (returns 0) and changes nothing; after an unsubscribe the SUB
 *    no longer delivers that topic while an overlapping longer topic still
 *    flows;
 *  - zmq_send on SUB and zmq_recv on PUB fail with ENOTSUP; ZMQ_SUBSCRIBE and
 *    ZMQ_UNSUBSCRIBE on a PUB fail with EINVAL, and reading ZMQ_SUBSCRIBE on
 *    a SUB fails with EINVAL (write-only);
 *  - a PUB never blocks: with no peer at all, with a bound PUB and no
 *    connection, with a connected SUB that subscribed to nothing, zmq_send
 *    (blocking or ZMQ_DONTWAIT) succeeds at once;
 *  - a SUB that connects (and subscribes) before the PUB binds gets its
 *    subscription through once the PUB binds (tcp, ipc and inproc);
 *  - tcp: a SUB whose PUB is closed and replaced by a new PUB bound on the
 *    same port reconnects and resubscribes by itself;
 *  - a slow subscriber (small SNDHWM on the PUB, small RCVHWM on the SUB,
 *    not reading) makes the PUB drop whole messages while every zmq_send
 *    with ZMQ_DONTWAIT succeeds: what arrives afterwards is a subsequence of
 *    what was sent, in order, each message with all its three frames; and
 *    once the SUB has drained, new messages flow again;
 *  - ZMQ_INVERT_MATCHING=1 on both PUB and SUB: the SUB receives exactly the
 *    messages that do NOT match its subscriptions (including the empty
 *    message); with no subscription at all it receives everything; with the
 *    empty subscription it receives nothing; the option reads back as 1
 *    (0 by default). */
#include "testutil.h"

static void *new_sub (void *ctx)
{
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    CHECK (sub);
    test_set_int (sub, ZMQ_RCVTIMEO, 5000);
    test_set_int (sub, ZMQ_RECONNECT_IVL, 10);
    return sub;
}

static void subscribe (void *sub, const void *topic, size_t len)
{
    CHECK_OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, topic, len));
}

static void unsubscribe (void *sub, const void *topic, size_t len)
{
    CHECK_OK (zmq_setsockopt (sub, ZMQ_UNSUBSCRIBE, topic, len));
}

#define SUB_STR(sub, s) subscribe ((sub), (s), strlen (s))
#define UNSUB_STR(sub, s) unsubscribe ((sub), (s), strlen (s))

/* Publishes "<prefix>probe<N>" (N = 0, 1, ...) until sub receives one (the
 * subscription covering prefix has reached the PUB), then receives probes
 * up to the last one sent: each probe after the first delivered one was
 * published with the subscription in place, so all of them arrive, in
 * order.  Leaves sub with nothing pending from the probes. */
static void sync_sub (void *pub, void *sub, const char *prefix)
{
    int64_t deadline = test_now_ms () + 5000;
    int sent = 0;
    while (1) {
        char s[64];
        snprintf (s, sizeof s, "%sprobe%d", prefix, sent++);
        SEND_STR (pub, s, ZMQ_DONTWAIT);
        if (test_wait_readable (sub, 20))
            break;
        CHECK (test_now_ms () < deadline);
    }
    size_t plen = strlen (prefix);
    int last = -1;
    while (last != sent - 1) {
        char buf[128];
        int n = zmq_recv (sub, buf, sizeof buf - 1, 0);
        if (n == -1)
            FAIL ("sync_sub: zmq_recv failed: %s", zmq_strerror (errno));
        buf[n] = '\0';
        if (strncmp (buf, prefix, plen) != 0
            || strncmp (buf + plen, "probe", 5) != 0)
            FAIL ("sync_sub: unexpected message \"%s\"", buf);
        CHECK_INT_EQ (test_get_int (sub, ZMQ_RCVMORE), 0);
        int k = atoi (buf + plen + 5);
        CHECK (k > last && k < sent);
        last = k;
    }
}

static void test_prefix_matching (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    test_bind_any (pub, transport, ep);
    void *sub = new_sub (ctx);
    CHECK_OK (zmq_connect (sub, ep));
    SUB_STR (sub, "A");
    sync_sub (pub, sub, "A");

    SEND_STR (pub, "B1", 0);
    SEND_STR (pub, "A1", 0);
    SEND_STR (pub, "a1", 0);
    SEND_STR (pub, "AB", 0);
    test_send_bytes (pub, "", 0, 0);
    SEND_STR (pub, "A", 0);
    SEND_STR (pub, "BA", 0);
    //  Later frames are not matched, whatever they hold.
    SEND_STR (pub, "A2", ZMQ_SNDMORE);
    SEND_STR (pub, "B", ZMQ_SNDMORE);
    test_send_bytes (pub, "", 0, 0);
    SEND_STR (pub, "B3", ZMQ_SNDMORE);
    SEND_STR (pub, "A", 0);
    SEND_STR (pub, "Aend", 0);

    RECV_STR (sub, "A1", 0);
    RECV_STR (sub, "AB", 0);
    RECV_STR (sub, "A", 0);
    RECV_STR (sub, "A2", 1);
    RECV_STR (sub, "B", 1);
    test_recv_bytes (sub, "", 0, 0);
    RECV_STR (sub, "Aend", 0);
    CHECK_NOTHING_WITHIN (sub, 0);

    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
}

static void test_subscribe_all (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    test_bind_any (pub, transport, ep);
    void *sub = new_sub (ctx);
    CHECK_OK (zmq_connect (sub, ep));
    subscribe (sub, "", 0);
    sync_sub (pub, sub, "");

    test_send_bytes (pub, "", 0, 0);
    SEND_STR (pub, "x", 0);
    test_send_bytes (pub, "\0\1\2", 3, ZMQ_SNDMORE);
    SEND_STR (pub, "tail", 0);
    SEND_STR (pub, "end", 0);
    test_recv_bytes (sub, "", 0, 0);
    RECV_STR (sub, "x", 0);
    test_recv_bytes (sub, "\0\1\2", 3, 1);
    RECV_STR (sub, "tail", 0);
    RECV_STR (sub, "end", 0);
    CHECK_NOTHING_WITHIN (sub, 0);

    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
}

static void test_multiple_subscriptions (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    test_bind_any (pub, transport, ep);
    void *sub = new_sub (ctx);
    CHECK_OK (zmq_connect (sub, ep));
    SUB_STR (sub, "A");
    SUB_STR (sub, "AB");
    SUB_STR (sub, "B");
    subscribe (sub, "\0x", 2);
    //  "D" twice: one unsubscribe must leave it in place.
    SUB_STR (sub, "D");
    SUB_STR (sub, "D");
    SUB_STR (sub, "Z");
    //  A topic never subscribed: unsubscribing it is not an error.
    UNSUB_STR (sub, "Q");
    UNSUB_STR (sub, "D");
    sync_sub (pub, sub, "Z");

    SEND_STR (pub, "A1", 0);
    SEND_STR (pub, "AB1", 0); //  matches "A" and "AB": delivered once
    SEND_STR (pub, "B1", 0);
    SEND_STR (pub, "C1", 0);
    SEND_STR (pub, "Q1", 0);
    test_send_bytes (pub, "\0x1", 3, 0);
    test_send_bytes (pub, "\0y1", 3, 0);
    test_send_bytes (pub, "\0", 1, 0);
    SEND_STR (pub, "D1", 0);
    SEND_STR (pub, "Zend", 0);
    RECV_STR (sub, "A1", 0);
    RECV_STR (sub, "AB1", 0);
    RECV_STR (sub, "B1", 0);
    test_recv_bytes (sub, "\0x1", 3, 0);
    RECV_STR (sub, "D1", 0);
    RECV_STR (sub, "Zend", 0);
    CHECK_NOTHING_WITHIN (sub, 0);

    //  Second unsubscribe of "D" and unsubscribe of "A": "AB" still flows.
    UNSUB_STR (sub, "D");
    UNSUB_STR (sub, "A");
    SEND_STR (pub, "D2", 0);
    SEND_STR (pub, "A2", 0);
    SEND_STR (pub, "AB2", 0);
    SEND_STR (pub, "AC2", 0);
    SEND_STR (pub, "B2", 0);
    SEND_STR (pub, "Zend", 0);
    RECV_STR (sub, "AB2", 0);
    RECV_STR (sub, "B2", 0);
    RECV_STR (sub, "Zend", 0);
    CHECK_NOTHING_WITHIN (sub, 0);

    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
}

static void test_fan_out (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    test_bind_any (pub, transport, ep);
    void *sub1 = new_sub (ctx);
    void *sub2 = new_sub (ctx);
    CHECK_OK (zmq_connect (sub1, ep));
    CHECK_OK (zmq_connect (sub2, ep));
    SUB_STR (sub1, "one");
    SUB_STR (sub1, "all");
    SUB_STR (sub2, "two");
    SUB_STR (sub2, "all");
    //  Each SUB syncs on a topic only it has.
    sync_sub (pub, sub1, "one");
    sync_sub (pub, sub2, "two");
    SEND_STR (pub, "one1", 0);
    SEND_STR (pub, "two1", 0);
    SEND_STR (pub, "all1", ZMQ_SNDMORE);
    SEND_STR (pub, "x", 0);
    SEND_STR (pub, "three", 0);
    SEND_STR (pub, "allend", 0);
    RECV_STR (sub1, "one1", 0);
    RECV_STR (sub1, "all1", 1);
    RECV_STR (sub1, "x", 0);
    RECV_STR (sub1, "allend", 0);
    RECV_STR (sub2, "two1", 0);
    RECV_STR (sub2, "all1", 1);
    RECV_STR (sub2, "x", 0);
    RECV_STR (sub2, "allend", 0);
    CHECK_NOTHING_WITHIN (sub1, 0);
    CHECK_NOTHING_WITHIN (sub2, 0);
    test_close_zero_linger (sub1);
    test_close_zero_linger (sub2);
    test_close_zero_linger (pub);
}

static void test_errors (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    test_bind_any (pub, "inproc", ep);
    void *sub = new_sub (ctx);
    CHECK_OK (zmq_connect (sub, ep));
    SUB_STR (sub, "");

    char buf[16];
    CHECK_ERRNO (zmq_send (sub, "x", 1, 0), ENOTSUP);
    CHECK_ERRNO (zmq_send (sub, "x", 1, ZMQ_DONTWAIT), ENOTSUP);
    CHECK_ERRNO (zmq_send (sub, "x", 1, ZMQ_SNDMORE), ENOTSUP);
    CHECK_ERRNO (zmq_recv (pub, buf, sizeof buf, 0), ENOTSUP);
    CHECK_ERRNO (zmq_recv (pub, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);

    CHECK_ERRNO (zmq_setsockopt (pub, ZMQ_SUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (pub, ZMQ_UNSUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (pub, ZMQ_SUBSCRIBE, "", 0), EINVAL);
    size_t len = sizeof buf;
    CHECK_ERRNO (zmq_getsockopt (sub, ZMQ_SUBSCRIBE, buf, &len), EINVAL);
    len = sizeof buf;
    CHECK_ERRNO (zmq_getsockopt (sub, ZMQ_UNSUBSCRIBE, buf, &len), EINVAL);

    //  The sockets still work after the failed calls.
    sync_sub (pub, sub, "");
    SEND_STR (pub, "ok", 0);
    RECV_STR (sub, "ok", 0);
    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
}

static void send_many_at_once (void *pub, int count)
{
    for (int i = 0; i < count; i++) {
        int64_t t0 = test_now_ms ();
        SEND_STR (pub, "nobody", i % 2 ? ZMQ_DONTWAIT : 0);
        CHECK (test_now_ms () - t0 < 1000);
    }
}

static void test_never_blocks (void *ctx)
{
    //  No peer, not bound, no timeout set: still never blocks.
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    send_many_at_once (pub, 2000);
    SEND_STR (pub, "part", ZMQ_SNDMORE);
    SEND_STR (pub, "part", 0);

    //  Bound, nobody connected.
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pub, "tcp", ep);
    send_many_at_once (pub, 2000);

    //  Connected SUBs with no subscription (and a small HWM).
    void *sub = new_sub (ctx);
    test_set_int (sub, ZMQ_RCVHWM, 1);
    CHECK_OK (zmq_connect (sub, ep));
    void *sub2 = new_sub (ctx);
    char ep2[TEST_ENDPOINT_MAX];
    test_bind_any (pub, "inproc", ep2);
    CHECK_OK (zmq_connect (sub2, ep2));
    send_many_at_once (pub, 5000);
    CHECK_NOTHING_WITHIN (sub, 50);
    CHECK_NOTHING_WITHIN (sub2, 0);

    //  A connecting PUB whose peer does not exist.
    void *pub2 = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub2);
    char dead[TEST_ENDPOINT_MAX];
    test_free_tcp_endpoint (dead);
    CHECK_OK (zmq_connect (pub2, dead));
    CHECK_OK (zmq_connect (pub2, "inproc://pubsub-nobody-here"));
    send_many_at_once (pub2, 2000);

    test_close_zero_linger (sub);
    test_close_zero_linger (sub2);
    test_close_zero_linger (pub);
    test_close_zero_linger (pub2);
}

static void test_connect_before_bind (void *ctx, const char *transport)
{
    static int seq = 0;
    char ep[TEST_ENDPOINT_MAX];
    if (strcmp (transport, "tcp") == 0)
        test_free_tcp_endpoint (ep);
    else if (strcmp (transport, "ipc") == 0)
        snprintf (ep, sizeof ep, "ipc://%s/late-%d", test_ipc_dir (), ++seq);
    else
        snprintf (ep, sizeof ep, "inproc://pubsub-late-%d-%d", (int) getpid (),
                  ++seq);

    void *sub = new_sub (ctx);
    CHECK_OK (zmq_connect (sub, ep));
    SUB_STR (sub, "T");
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    CHECK_OK (zmq_bind (pub, ep));
    sync_sub (pub, sub, "T");
    SEND_STR (pub, "U1", 0);
    SEND_STR (pub, "T1", ZMQ_SNDMORE);
    SEND_STR (pub, "x", 0);
    RECV_STR (sub, "T1", 1);
    RECV_STR (sub, "x", 0);
    CHECK_NOTHING_WITHIN (sub, 0);
    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
}

static void test_pub_restart (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    test_bind_any (pub, "tcp", ep);
    void *sub = new_sub (ctx);
    CHECK_OK (zmq_connect (sub, ep));
    SUB_STR (sub, "R");
    SUB_STR (sub, "S");
    sync_sub (pub, sub, "R");
    SEND_STR (pub, "S-before", 0);
    RECV_STR (sub, "S-before", 0);

    for (int round = 0; round < 2; round++) {
        test_close_zero_linger (pub);
        pub = zmq_socket (ctx, ZMQ_PUB);
        CHECK (pub);
        //  The old listener closes asynchronously: retry while the port is
        //  still taken.
        int64_t deadline = test_now_ms () + 5000;
        while (zmq_bind (pub, ep) != 0) {
            CHECK_INT_EQ (errno, EADDRINUSE);
            CHECK (test_now_ms () < deadline);
            test_sleep_ms (10);
        }
        //  Both subscriptions come back with the reconnection.
        sync_sub (pub, sub, "R");
        sync_sub (pub, sub, "S");
        SEND_STR (pub, "X-after", 0);
        SEND_STR (pub, "S-after", 0);
        RECV_STR (sub, "S-after", 0);
        CHECK_NOTHING_WITHIN (sub, 0);
    }
    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
}

static void test_slow_subscriber (void *ctx, const char *transport)
{
    //  Large frames over tcp/ipc so that the socket buffers cannot hold
    //  everything.
    int inproc = strcmp (transport, "inproc") == 0;
    const int count = inproc ? 200 : 3000;
    const size_t body = inproc ? 16 : 8000;
    char ep[TEST_ENDPOINT_MAX];
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    test_set_int (pub, ZMQ_SNDHWM, 2);
    test_bind_any (pub, transport, ep);
    void *sub = new_sub (ctx);
    test_set_int (sub, ZMQ_RCVHWM, 2);
    CHECK_OK (zmq_connect (sub, ep));
    SUB_STR (sub, "M");
    SUB_STR (sub, "sync");
    sync_sub (pub, sub, "sync");

    char *frame = malloc (body);
    CHECK (frame);
    for (int i = 0; i < count; i++) {
        char head[16];
        snprintf (head, sizeof head, "M%06d", i);
        SEND_STR (pub, head, ZMQ_DONTWAIT | ZMQ_SNDMORE);
        memset (frame, 'a' + i % 26, body);
        memcpy (frame, head, strlen (head));
        test_send_bytes (pub, frame, body, ZMQ_DONTWAIT | ZMQ_SNDMORE);
        SEND_STR (pub, head + 1, ZMQ_DONTWAIT);
    }

    //  Read what arrived until the line has been quiet for a while.
    char *buf = malloc (body + 1);
    CHECK (buf);
    int received = 0, last = -1;
    while (test_wait_readable (sub, 300)) {
        char head[32];
        int n = zmq_recv (sub, head, sizeof head - 1, 0);
        CHECK_INT_EQ (n, 7);
        head[n] = '\0';
        CHECK (head[0] == 'M');
        int k = atoi (head + 1);
        CHECK (k > last && k < count);
        last = k;
        CHECK_INT_EQ (test_get_int (sub, ZMQ_RCVMORE), 1);
        CHECK_INT_EQ (zmq_recv (sub, buf, body, 0), body);
        CHECK (memcmp (buf, head, 7) == 0);
        CHECK (buf[body - 1] == 'a' + k % 26);
        CHECK_INT_EQ (test_get_int (sub, ZMQ_RCVMORE), 1);
        RECV_STR (sub, head + 1, 0);
        received++;
    }
    CHECK (received >= 1);
    CHECK (received < count);

    //  The subscriber has caught up: traffic flows again.
    sync_sub (pub, sub, "sync");
    SEND_STR (pub, "Mlast", ZMQ_SNDMORE);
    SEND_STR (pub, "x", 0);
    RECV_STR (sub, "Mlast", 1);
    RECV_STR (sub, "x", 0);
    free (frame);
    free (buf);
    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
}

static void test_invert_matching (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    CHECK (pub);
    CHECK_INT_EQ (test_get_int (pub, ZMQ_INVERT_MATCHING), 0);
    test_set_int (pub, ZMQ_INVERT_MATCHING, 1);
    CHECK_INT_EQ (test_get_int (pub, ZMQ_INVERT_MATCHING), 1);
    test_bind_any (pub, transport, ep);
    void *sub = new_sub (ctx);
    CHECK_INT_EQ (test_get_int (sub, ZMQ_INVERT_MATCHING), 0);
    test_set_int (sub, ZMQ_INVERT_MATCHING, 1);
    CHECK_INT_EQ (test_get_int (sub, ZMQ_INVERT_MATCHING), 1);
    CHECK_OK (zmq_connect (sub, ep));
    SUB_STR (sub, "A");
    SUB_STR (sub, "C");
    //  Probes start with "B": they do not match, so they pass.
    sync_sub (pub, sub, "B");

    SEND_STR (pub, "A1", 0);
    SEND_STR (pub, "B1", 0);
    SEND_STR (pub, "AB", 0);
    SEND_STR (pub, "C1", 0);
    SEND_STR (pub, "D1", 0);
    test_send_bytes (pub, "", 0, 0);
    SEND_STR (pub, "A2", ZMQ_SNDMORE);
    SEND_STR (pub, "x", 0);
    SEND_STR (pub, "D2", ZMQ_SNDMORE);
    SEND_STR (pub, "A", 0);
    SEND_STR (pub, "Bend", 0);
    RECV_STR (sub, "B1", 0);
    RECV_STR (sub, "D1", 0);
    test_recv_bytes (sub, "", 0, 0);
    RECV_STR (sub, "D2", 1);
    RECV_STR (sub, "A", 0);
    RECV_STR (sub, "Bend", 0);
    CHECK_NOTHING_WITHIN (sub, 0);

    //  No subscription at all: everything matches "nothing", so everything
    //  passes.
    //  (The PUB applies the unsubscriptions in order: once "C" passes, so
    //  does "A".)
    UNSUB_STR (sub, "A");
    UNSUB_STR (sub, "C");
    sync_sub (pub, sub, "C");
    SEND_STR (pub, "A3", 0);
    RECV_STR (sub, "A3", 0);

    //  The empty subscription matches everything: nothing passes.
    subscribe (sub, "", 0);
    SEND_STR (pub, "A4", 0);
    SEND_STR (pub, "Z4", 0);
    CHECK_NOTHING_WITHIN (sub, 100);

    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++) {
        const char *tr = test_transports[t];
        test_prefix_matching (ctx, tr);
        test_subscribe_all (ctx, tr);
        test_multiple_subscriptions (ctx, tr);
        test_fan_out (ctx, tr);
        test_connect_before_bind (ctx, tr);
        test_slow_subscriber (ctx, tr);
        test_invert_matching (ctx, tr);
    }
    test_errors (ctx);
    test_never_blocks (ctx);
    test_pub_restart (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
