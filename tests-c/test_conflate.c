/* ZMQ_CONFLATE: keep only the last message.
 *
 * Pins:
 *  - ZMQ_CONFLATE reads 0 by default on every socket type, reads back 1 and
 *    0 after setting them; values other than 0 and 1 and sizes other than
 *    sizeof (int) fail with EINVAL (and leave the value unchanged);
 *  - inproc, where the connecting socket's options make the pipe: a
 *    conflating PULL, SUB or DEALER that connects keeps only the newest
 *    message: after 10 messages are sent it receives exactly one, the last;
 *    a conflating PUSH or DEALER that connects makes its peer receive only
 *    the last of the messages it sent (the pipe conflates both ways);
 *    CONFLATE on a socket that
 *    binds an inproc endpoint has no effect (all 10 arrive); CONFLATE has
 *    no effect on PAIR (all 10 arrive, either way); a conflating pipe has
 *    no HWM: a conflating PUSH with ZMQ_SNDHWM 1 accepts 1000 sends with
 *    ZMQ_DONTWAIT and the peer then receives only the last;
 *  - multipart messages are not supported: over inproc, after five 3-frame
 *    messages only the very last frame survives (one frame, RCVMORE 0);
 *  - tcp and ipc, with the conflating PULL/SUB/DEALER bound or connecting:
 *    of 100 messages sent in a burst, what arrives is in order, ends with
 *    the last message, is fewer than 100, and nothing follows it; a
 *    conflating PUSH connected to a tcp port not bound yet sends only its
 *    last message once the PULL binds. */
#include "testutil.h"

static void *new_socket (void *ctx, int type, int conflate)
{
    void *s = zmq_socket (ctx, type);
    CHECK (s);
    test_set_int (s, ZMQ_RCVTIMEO, 5000);
    test_set_int (s, ZMQ_SNDTIMEO, 5000);
    test_set_int (s, ZMQ_RECONNECT_IVL, 10);
    if (conflate) {
        test_set_int (s, ZMQ_CONFLATE, 1);
        CHECK_INT_EQ (test_get_int (s, ZMQ_CONFLATE), 1);
    }
    if (type == ZMQ_SUB)
        CHECK_OK (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "", 0));
    return s;
}

static void send_numbered (void *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        char buf[16];
        snprintf (buf, sizeof buf, "m%d", i);
        SEND_STR (s, buf, 0);
    }
}

static void recv_numbered (void *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        char buf[16];
        snprintf (buf, sizeof buf, "m%d", i);
        RECV_STR (s, buf, 0);
    }
}

static void test_option (void *ctx)
{
    const int types[] = {ZMQ_PAIR,   ZMQ_PUB,  ZMQ_SUB,    ZMQ_REQ,
                         ZMQ_REP,    ZMQ_DEALER, ZMQ_ROUTER, ZMQ_PULL,
                         ZMQ_PUSH,   ZMQ_XPUB, ZMQ_XSUB,   ZMQ_STREAM};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        void *s = zmq_socket (ctx, types[i]);
        CHECK (s);
        CHECK_INT_EQ (test_get_int (s, ZMQ_CONFLATE), 0);
        test_set_int (s, ZMQ_CONFLATE, 1);
        CHECK_INT_EQ (test_get_int (s, ZMQ_CONFLATE), 1);
        int bad[] = {2, -1, 100};
        for (size_t j = 0; j < 3; j++)
            CHECK_ERRNO (zmq_setsockopt (s, ZMQ_CONFLATE, &bad[j], sizeof (int)),
                         EINVAL);
        int one = 1;
        CHECK_ERRNO (zmq_setsockopt (s, ZMQ_CONFLATE, &one, 2), EINVAL);
        int64_t wide = 1;
        CHECK_ERRNO (zmq_setsockopt (s, ZMQ_CONFLATE, &wide, sizeof wide),
                     EINVAL);
        CHECK_INT_EQ (test_get_int (s, ZMQ_CONFLATE), 1);
        test_set_int (s, ZMQ_CONFLATE, 0);
        CHECK_INT_EQ (test_get_int (s, ZMQ_CONFLATE), 0);
        CHECK_ERRNO (zmq_setsockopt (s, ZMQ_CONFLATE, &bad[0], sizeof (int)),
                     EINVAL);
        CHECK_INT_EQ (test_get_int (s, ZMQ_CONFLATE), 0);
        CHECK_OK (zmq_close (s));
    }
}

/* Opens sender (type stype) and receiver (rtype) over inproc; the one
 * flagged with *_conflate sets ZMQ_CONFLATE; recv_binds says which side
 * binds (the other connects). */
static void open_inproc (void *ctx, int stype, int sconf, int rtype,
                         int rconf, int recv_binds, void **snd, void **rcv)
{
    char ep[TEST_ENDPOINT_MAX];
    *snd = new_socket (ctx, stype, sconf);
    *rcv = new_socket (ctx, rtype, rconf);
    if (recv_binds) {
        test_bind_any (*rcv, "inproc", ep);
        CHECK_OK (zmq_connect (*snd, ep));
    } else {
        test_bind_any (*snd, "inproc", ep);
        CHECK_OK (zmq_connect (*rcv, ep));
    }
}

/* For PUB/SUB: publishes probes until the SUB gets one (the subscription
 * has arrived), then a marker, and reads until the marker (with conflation
 * some probes are never seen). */
static void sync_pubsub (void *pub, void *sub)
{
    int64_t deadline = test_now_ms () + 5000;
    while (1) {
        SEND_STR (pub, "probe", ZMQ_DONTWAIT);
        if (test_wait_readable (sub, 20))
            break;
        CHECK (test_now_ms () < deadline);
    }
    SEND_STR (pub, "synced", 0);
    while (1) {
        char buf[16];
        int n = zmq_recv (sub, buf, sizeof buf - 1, 0);
        CHECK (n >= 0);
        buf[n] = '\0';
        if (strcmp (buf, "synced") == 0)
            break;
        CHECK_STR_EQ (buf, "probe");
    }
    CHECK_NOTHING_WITHIN (sub, 0);
}

/* Sends m0..m9 from snd, then checks rcv gets exactly "m9". */
static void expect_only_last_inproc (void *snd, void *rcv)
{
    send_numbered (snd, 0, 10);
    RECV_STR (rcv, "m9", 0);
    CHECK_NOTHING_WITHIN (rcv, 0);
    //  And again, the pipe still works.
    send_numbered (snd, 10, 13);
    RECV_STR (rcv, "m12", 0);
    CHECK_NOTHING_WITHIN (rcv, 0);
}

static void expect_all_inproc (void *snd, void *rcv)
{
    send_numbered (snd, 0, 10);
    recv_numbered (rcv, 0, 10);
    CHECK_NOTHING_WITHIN (rcv, 0);
}

static void close_pair (void *a, void *b)
{
    test_close_zero_linger (a);
    test_close_zero_linger (b);
}

static void test_inproc (void *ctx)
{
    void *snd, *rcv;

    //  Conflating receivers that connect.
    open_inproc (ctx, ZMQ_PUSH, 0, ZMQ_PULL, 1, 0, &snd, &rcv);
    expect_only_last_inproc (snd, rcv);
    close_pair (snd, rcv);

    open_inproc (ctx, ZMQ_DEALER, 0, ZMQ_DEALER, 1, 0, &snd, &rcv);
    expect_only_last_inproc (snd, rcv);
    close_pair (snd, rcv);

    open_inproc (ctx, ZMQ_PUB, 0, ZMQ_SUB, 1, 0, &snd, &rcv);
    sync_pubsub (snd, rcv);
    expect_only_last_inproc (snd, rcv);
    close_pair (snd, rcv);

    //  Conflating senders that connect: their peer gets only the last.
    open_inproc (ctx, ZMQ_PUSH, 1, ZMQ_PULL, 0, 1, &snd, &rcv);
    expect_only_last_inproc (snd, rcv);
    close_pair (snd, rcv);

    open_inproc (ctx, ZMQ_DEALER, 1, ZMQ_DEALER, 0, 1, &snd, &rcv);
    expect_only_last_inproc (snd, rcv);
    close_pair (snd, rcv);

    //  The binding side's CONFLATE does not apply to inproc pipes.
    open_inproc (ctx, ZMQ_PUSH, 0, ZMQ_PULL, 1, 1, &snd, &rcv);
    expect_all_inproc (snd, rcv);
    close_pair (snd, rcv);

    open_inproc (ctx, ZMQ_DEALER, 0, ZMQ_DEALER, 1, 1, &snd, &rcv);
    expect_all_inproc (snd, rcv);
    close_pair (snd, rcv);

    //  PAIR ignores CONFLATE.
    open_inproc (ctx, ZMQ_PAIR, 0, ZMQ_PAIR, 1, 0, &snd, &rcv);
    expect_all_inproc (snd, rcv);
    close_pair (snd, rcv);

    open_inproc (ctx, ZMQ_PAIR, 1, ZMQ_PAIR, 0, 1, &snd, &rcv);
    expect_all_inproc (snd, rcv);
    close_pair (snd, rcv);

    //  (Not pinned: a conflating PUSH connecting over inproc before the PULL
    //  binds.  libzmq 4.3.4 writes its routing-id message into the pipe, the
    //  messages overwrite it, and the bind side then discards the first
    //  message as the routing id: the PULL gets nothing.)
    char ep[TEST_ENDPOINT_MAX];
    //  No HWM on a conflating pipe.
    snd = new_socket (ctx, ZMQ_PUSH, 1);
    test_set_int (snd, ZMQ_SNDHWM, 1);
    rcv = new_socket (ctx, ZMQ_PULL, 0);
    test_set_int (rcv, ZMQ_RCVHWM, 1);
    test_bind_any (rcv, "inproc", ep);
    CHECK_OK (zmq_connect (snd, ep));
    for (int i = 0; i < 1000; i++) {
        char buf[16];
        snprintf (buf, sizeof buf, "m%d", i);
        SEND_STR (snd, buf, ZMQ_DONTWAIT);
    }
    RECV_STR (rcv, "m999", 0);
    CHECK_NOTHING_WITHIN (rcv, 0);
    close_pair (snd, rcv);
}

static void test_multipart_inproc (void *ctx)
{
    void *snd, *rcv;
    open_inproc (ctx, ZMQ_PUSH, 0, ZMQ_PULL, 1, 0, &snd, &rcv);
    for (int i = 0; i < 5; i++) {
        char buf[16];
        snprintf (buf, sizeof buf, "head%d", i);
        SEND_STR (snd, buf, ZMQ_SNDMORE);
        snprintf (buf, sizeof buf, "body%d", i);
        SEND_STR (snd, buf, ZMQ_SNDMORE);
        snprintf (buf, sizeof buf, "tail%d", i);
        SEND_STR (snd, buf, 0);
    }
    RECV_STR (rcv, "tail4", 0);
    CHECK_NOTHING_WITHIN (rcv, 0);
    close_pair (snd, rcv);
}

/* Sends m0..m(n-1) in a burst; rcv must receive an increasing subsequence
 * that ends with the last message, fewer than n, and then nothing. */
static void expect_conflated_wire (void *snd, void *rcv, int n)
{
    send_numbered (snd, 0, n);
    int last = -1, received = 0;
    while (last != n - 1) {
        char buf[16];
        int len = zmq_recv (rcv, buf, sizeof buf - 1, 0);
        if (len == -1)
            FAIL ("no m%d: %s", n - 1, zmq_strerror (errno));
        buf[len] = '\0';
        CHECK (buf[0] == 'm');
        int k = atoi (buf + 1);
        CHECK (k > last && k < n);
        CHECK_INT_EQ (test_get_int (rcv, ZMQ_RCVMORE), 0);
        last = k;
        received++;
    }
    CHECK (received < n);
    CHECK_NOTHING_WITHIN (rcv, 50);
}

static void test_wire (void *ctx, const char *transport, int stype, int rtype,
                       int recv_binds)
{
    char ep[TEST_ENDPOINT_MAX];
    void *snd = new_socket (ctx, stype, 0);
    void *rcv = new_socket (ctx, rtype, 1);
    if (recv_binds) {
        test_bind_any (rcv, transport, ep);
        CHECK_OK (zmq_connect (snd, ep));
    } else {
        test_bind_any (snd, transport, ep);
        CHECK_OK (zmq_connect (rcv, ep));
    }
    if (stype == ZMQ_PUB) {
        //  The bound SUB's subscription goes out once it has processed the
        //  new connection: polling it in sync_pubsub does that.
        sync_pubsub (snd, rcv);
    } else {
        //  Connection up (the first message waits for it).
        SEND_STR (snd, "hello", 0);
        RECV_STR (rcv, "hello", 0);
    }
    expect_conflated_wire (snd, rcv, 100);
    expect_conflated_wire (snd, rcv, 100);
    close_pair (snd, rcv);
}

static void test_push_connect_before_bind_tcp (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    test_free_tcp_endpoint (ep);
    void *push = new_socket (ctx, ZMQ_PUSH, 1);
    CHECK_OK (zmq_connect (push, ep));
    send_numbered (push, 0, 10);
    void *pull = new_socket (ctx, ZMQ_PULL, 0);
    CHECK_OK (zmq_bind (pull, ep));
    RECV_STR (pull, "m9", 0);
    CHECK_NOTHING_WITHIN (pull, 100);
    close_pair (push, pull);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_option (ctx);
    test_inproc (ctx);
    test_multipart_inproc (ctx);
    const char *const wires[] = {"tcp", "ipc"};
    for (int t = 0; t < 2; t++)
        for (int recv_binds = 0; recv_binds < 2; recv_binds++) {
            test_wire (ctx, wires[t], ZMQ_PUSH, ZMQ_PULL, recv_binds);
            test_wire (ctx, wires[t], ZMQ_DEALER, ZMQ_DEALER, recv_binds);
            test_wire (ctx, wires[t], ZMQ_PUB, ZMQ_SUB, recv_binds);
        }
    test_push_connect_before_bind_tcp (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
