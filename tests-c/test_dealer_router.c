/* DEALER/ROUTER routing: routing-id frames, ZMQ_ROUTING_ID,
 * ZMQ_CONNECT_ROUTING_ID, ZMQ_ROUTER_MANDATORY, ZMQ_ROUTER_HANDOVER,
 * ZMQ_PROBE_ROUTER, DEALER load balancing and fair queueing.
 *
 * Pins (inproc, tcp and ipc unless said otherwise):
 *  - a ROUTER receives [routing id][frames...] with RCVMORE on all but the
 *    last; an anonymous peer's generated id is 5 bytes starting with a zero
 *    byte, and different peers get different ids; replying with
 *    [id][frames...] reaches exactly that peer, frames intact;
 *  - ZMQ_ROUTING_ID set on a DEALER before connecting is what the ROUTER
 *    sees (1 byte and 255 bytes both work);
 *  - ZMQ_CONNECT_ROUTING_ID on a connecting ROUTER names the peer on that
 *    connection: [name][data] can be sent right after zmq_connect (even with
 *    ZMQ_ROUTER_MANDATORY, over tcp before the connection is up) and
 *    replies come back under that name;
 *  - ZMQ_ROUTER_MANDATORY is write-only (getsockopt -> EINVAL);
 *  - without ZMQ_ROUTER_MANDATORY a message to an unknown id is silently
 *    dropped (every zmq_send returns its size); with it the id frame fails
 *    with EHOSTUNREACH, while a lone id frame without ZMQ_SNDMORE is
 *    accepted and ignored; when the peer's pipe is full (inproc, ROUTER
 *    SNDHWM 1 + DEALER RCVHWM 1 = 2 messages) the id frame fails with EAGAIN
 *    (with ZMQ_DONTWAIT at once, with SNDTIMEO after the timeout), and
 *    succeeds again after the DEALER drains; once the peer is gone the id is
 *    EHOSTUNREACH again;
 *  - a second peer with an id already in use is ignored (its messages never
 *    arrive, replies keep going to the first) unless ZMQ_ROUTER_HANDOVER is
 *    set, in which case the newcomer takes the id over;
 *  - ZMQ_PROBE_ROUTER on a connecting DEALER makes the bound ROUTER receive
 *    [id][""] as soon as the connection is up, before any user message;
 *  - a DEALER connected to several peers sends round-robin in connection
 *    order; a bound DEALER with several inproc DEALERs connected fair-queues
 *    (one message per peer in turn). */
#include "testutil.h"

static int recv_id (void *router, char *id)
{
    int n = zmq_recv (router, id, 256, 0);
    CHECK (n > 0);
    CHECK (n <= 255);
    CHECK_INT_EQ (test_get_int (router, ZMQ_RCVMORE), 1);
    return n;
}

static void send_id (void *router, const char *id, int len)
{
    CHECK_INT_EQ (zmq_send (router, id, len, ZMQ_SNDMORE), len);
}

static void test_basic_routing (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *d1 = zmq_socket (ctx, ZMQ_DEALER);
    void *d2 = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (router && d1 && d2);
    test_bind_any (router, transport, ep);
    CHECK_OK (zmq_connect (d1, ep));
    CHECK_OK (zmq_connect (d2, ep));

    SEND_STR (d1, "from1", ZMQ_SNDMORE);
    SEND_STR (d1, "", ZMQ_SNDMORE);
    SEND_STR (d1, "end1", 0);
    char id1[256], id2[256];
    int n1 = recv_id (router, id1);
    CHECK_INT_EQ (n1, 5);
    CHECK_INT_EQ (id1[0], 0);
    RECV_STR (router, "from1", 1);
    RECV_STR (router, "", 1);
    RECV_STR (router, "end1", 0);

    SEND_STR (d2, "from2", 0);
    int n2 = recv_id (router, id2);
    CHECK_INT_EQ (n2, 5);
    CHECK_INT_EQ (id2[0], 0);
    CHECK (memcmp (id1, id2, 5) != 0);
    RECV_STR (router, "from2", 0);

    //  Replies go to the right peer.
    send_id (router, id2, n2);
    SEND_STR (router, "to2", ZMQ_SNDMORE);
    SEND_STR (router, "", 0);
    send_id (router, id1, n1);
    SEND_STR (router, "to1", 0);
    RECV_STR (d1, "to1", 0);
    RECV_STR (d2, "to2", 1);
    RECV_STR (d2, "", 0);
    CHECK_NOTHING_WITHIN (d1, 0);
    CHECK_NOTHING_WITHIN (d2, 0);

    test_close_zero_linger (d1);
    test_close_zero_linger (d2);
    test_close_zero_linger (router);
}

static void test_routing_id (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    char longid[255];
    memset (longid, 'L', sizeof longid);
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *d1 = zmq_socket (ctx, ZMQ_DEALER);
    void *d2 = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (router && d1 && d2);
    CHECK_OK (zmq_setsockopt (d1, ZMQ_ROUTING_ID, "A", 1));
    CHECK_OK (zmq_setsockopt (d2, ZMQ_ROUTING_ID, longid, sizeof longid));
    test_bind_any (router, transport, ep);
    CHECK_OK (zmq_connect (d1, ep));
    CHECK_OK (zmq_connect (d2, ep));

    char id[256];
    SEND_STR (d1, "hi", 0);
    CHECK_INT_EQ (recv_id (router, id), 1);
    CHECK_INT_EQ (id[0], 'A');
    RECV_STR (router, "hi", 0);
    SEND_STR (d2, "ho", 0);
    CHECK_INT_EQ (recv_id (router, id), 255);
    CHECK (memcmp (id, longid, 255) == 0);
    RECV_STR (router, "ho", 0);

    send_id (router, longid, 255);
    SEND_STR (router, "for-L", 0);
    send_id (router, "A", 1);
    SEND_STR (router, "for-A", 0);
    RECV_STR (d1, "for-A", 0);
    RECV_STR (d2, "for-L", 0);

    test_close_zero_linger (d1);
    test_close_zero_linger (d2);
    test_close_zero_linger (router);
}

static void test_connect_routing_id (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *server = zmq_socket (ctx, ZMQ_DEALER);
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (server && router);
    test_bind_any (server, transport, ep);
    test_set_int (router, ZMQ_ROUTER_MANDATORY, 1);
    CHECK_OK (zmq_setsockopt (router, ZMQ_CONNECT_ROUTING_ID, "srv", 3));
    CHECK_OK (zmq_connect (router, ep));
    //  The name is usable at once.
    send_id (router, "srv", 3);
    SEND_STR (router, "hello", 0);
    RECV_STR (server, "hello", 0);
    SEND_STR (server, "back", 0);
    char id[256];
    CHECK_INT_EQ (recv_id (router, id), 3);
    CHECK (memcmp (id, "srv", 3) == 0);
    RECV_STR (router, "back", 0);
    test_close_zero_linger (router);
    test_close_zero_linger (server);

    //  ROUTER to ROUTER: the bound one sees the connecting one's own
    //  routing id, the connecting one addresses the bound one by the name.
    void *rbind = zmq_socket (ctx, ZMQ_ROUTER);
    void *rconn = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (rbind && rconn);
    CHECK_OK (zmq_setsockopt (rconn, ZMQ_ROUTING_ID, "Y", 1));
    test_bind_any (rbind, transport, ep);
    CHECK_OK (zmq_setsockopt (rconn, ZMQ_CONNECT_ROUTING_ID, "conn1", 5));
    CHECK_OK (zmq_connect (rconn, ep));
    send_id (rconn, "conn1", 5);
    SEND_STR (rconn, "ping", 0);
    CHECK_INT_EQ (recv_id (rbind, id), 1);
    CHECK_INT_EQ (id[0], 'Y');
    RECV_STR (rbind, "ping", 0);
    send_id (rbind, "Y", 1);
    SEND_STR (rbind, "pong", 0);
    CHECK_INT_EQ (recv_id (rconn, id), 5);
    CHECK (memcmp (id, "conn1", 5) == 0);
    RECV_STR (rconn, "pong", 0);
    test_close_zero_linger (rconn);
    test_close_zero_linger (rbind);
}

static void test_mandatory (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (router);
    test_bind_any (router, transport, ep);

    //  Default: unknown peers are silently dropped.
    //  The option is write-only in libzmq 4.3.
    int value = -1;
    size_t size = sizeof value;
    CHECK_ERRNO (zmq_getsockopt (router, ZMQ_ROUTER_MANDATORY, &value, &size),
                 EINVAL);
    CHECK_INT_EQ (zmq_send (router, "UNKNOWN", 7, ZMQ_SNDMORE), 7);
    CHECK_INT_EQ (zmq_send (router, "DATA", 4, 0), 4);

    test_set_int (router, ZMQ_ROUTER_MANDATORY, 1);
    CHECK_ERRNO (zmq_send (router, "UNKNOWN", 7, ZMQ_SNDMORE), EHOSTUNREACH);
    CHECK_ERRNO (zmq_send (router, "UNKNOWN", 7, ZMQ_SNDMORE | ZMQ_DONTWAIT),
                 EHOSTUNREACH);
    //  A lone id frame (no SNDMORE) is not a routable message: ignored.
    CHECK_INT_EQ (zmq_send (router, "UNKNOWN", 7, 0), 7);

    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (dealer);
    CHECK_OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "X", 1));
    CHECK_OK (zmq_connect (dealer, ep));
    SEND_STR (dealer, "Hello", 0);
    char id[256];
    CHECK_INT_EQ (recv_id (router, id), 1);
    RECV_STR (router, "Hello", 0);
    send_id (router, "X", 1);
    SEND_STR (router, "Hi", 0);
    RECV_STR (dealer, "Hi", 0);

    //  Peer gone: unreachable again (the disconnect is noticed
    //  asynchronously, so poll for it).
    test_close_zero_linger (dealer);
    int64_t deadline = test_now_ms () + 5000;
    while (1) {
        errno = 0;
        int rc = zmq_send (router, "X", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        if (rc == -1) {
            CHECK_INT_EQ (errno, EHOSTUNREACH);
            break;
        }
        CHECK_INT_EQ (rc, 1);
        SEND_STR (router, "lost", 0);
        CHECK (test_now_ms () < deadline);
        test_sleep_ms (5);
    }
    test_close_zero_linger (router);
}

static void test_mandatory_full (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (router && dealer);
    test_set_int (router, ZMQ_ROUTER_MANDATORY, 1);
    test_set_int (router, ZMQ_SNDHWM, 1);
    test_set_int (dealer, ZMQ_RCVHWM, 1);
    test_bind_any (router, "inproc", ep);
    CHECK_OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "X", 1));
    CHECK_OK (zmq_connect (dealer, ep));
    SEND_STR (dealer, "Hello", 0);
    char id[256];
    CHECK_INT_EQ (recv_id (router, id), 1);
    RECV_STR (router, "Hello", 0);

    //  Two-part messages; the HWM counts whole messages.
    int sent = 0;
    while (1) {
        errno = 0;
        int rc = zmq_send (router, "X", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        if (rc == -1) {
            CHECK_INT_EQ (errno, EAGAIN);
            break;
        }
        SEND_STR (router, "a", ZMQ_SNDMORE);
        SEND_STR (router, "b", 0);
        sent++;
        CHECK (sent < 100);
    }
    CHECK_INT_EQ (sent, 2);
    //  Blocking with a timeout: EAGAIN after the timeout.
    test_set_int (router, ZMQ_SNDTIMEO, 100);
    int64_t t0 = test_now_ms ();
    CHECK_ERRNO (zmq_send (router, "X", 1, ZMQ_SNDMORE), EAGAIN);
    int64_t elapsed = test_now_ms () - t0;
    CHECK (elapsed >= 95);
    CHECK (elapsed < 2000);
    //  The failure did not leave a half-built message behind: the next
    //  frame is again taken as an id.
    CHECK_ERRNO (zmq_send (router, "UNKNOWN", 7, ZMQ_SNDMORE | ZMQ_DONTWAIT),
                 EHOSTUNREACH);

    //  Drain: sending works again.
    for (int i = 0; i < sent; i++) {
        RECV_STR (dealer, "a", 1);
        RECV_STR (dealer, "b", 0);
    }
    test_set_int (router, ZMQ_SNDTIMEO, 5000);
    send_id (router, "X", 1);
    SEND_STR (router, "again", 0);
    RECV_STR (dealer, "again", 0);
    test_close_zero_linger (dealer);
    test_close_zero_linger (router);
}

static void test_duplicate_id (void *ctx, const char *transport, int handover)
{
    char ep[TEST_ENDPOINT_MAX];
    char id[256];
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (router);
    if (handover)
        test_set_int (router, ZMQ_ROUTER_HANDOVER, 1);
    test_bind_any (router, transport, ep);

    void *d1 = zmq_socket (ctx, ZMQ_DEALER);
    void *d2 = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (d1 && d2);
    CHECK_OK (zmq_setsockopt (d1, ZMQ_ROUTING_ID, "X", 1));
    CHECK_OK (zmq_setsockopt (d2, ZMQ_ROUTING_ID, "X", 1));
    CHECK_OK (zmq_connect (d1, ep));
    SEND_STR (d1, "one", 0);
    CHECK_INT_EQ (recv_id (router, id), 1);
    CHECK_INT_EQ (id[0], 'X');
    RECV_STR (router, "one", 0);

    CHECK_OK (zmq_connect (d2, ep));
    SEND_STR (d2, "two", 0);
    if (handover) {
        CHECK_INT_EQ (recv_id (router, id), 1);
        CHECK_INT_EQ (id[0], 'X');
        RECV_STR (router, "two", 0);
        send_id (router, "X", 1);
        SEND_STR (router, "to-new", 0);
        RECV_STR (d2, "to-new", 0);
        CHECK_NOTHING_WITHIN (d1, 100);
    } else {
        CHECK_NOTHING_WITHIN (router, 250);
        SEND_STR (d1, "three", 0);
        CHECK_INT_EQ (recv_id (router, id), 1);
        RECV_STR (router, "three", 0);
        send_id (router, "X", 1);
        SEND_STR (router, "to-old", 0);
        RECV_STR (d1, "to-old", 0);
        CHECK_NOTHING_WITHIN (d2, 100);
    }
    test_close_zero_linger (d1);
    test_close_zero_linger (d2);
    test_close_zero_linger (router);
}

static void test_probe_router (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    char id[256];
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (router && dealer);
    test_bind_any (router, transport, ep);
    CHECK_OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "X", 1));
    test_set_int (dealer, ZMQ_PROBE_ROUTER, 1);
    CHECK_OK (zmq_connect (dealer, ep));

    //  The probe arrives without the dealer sending anything.
    CHECK_INT_EQ (recv_id (router, id), 1);
    CHECK_INT_EQ (id[0], 'X');
    RECV_STR (router, "", 0);

    SEND_STR (dealer, "after", 0);
    CHECK_INT_EQ (recv_id (router, id), 1);
    RECV_STR (router, "after", 0);
    send_id (router, "X", 1);
    SEND_STR (router, "reply", 0);
    RECV_STR (dealer, "reply", 0);
    test_close_zero_linger (dealer);
    test_close_zero_linger (router);
}

static void test_dealer_round_robin (void *ctx, const char *transport)
{
    enum { N = 3 };
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (dealer);
    void *peers[N];
    for (int i = 0; i < N; i++) {
        peers[i] = zmq_socket (ctx, ZMQ_DEALER);
        CHECK (peers[i]);
        char ep[TEST_ENDPOINT_MAX];
        test_bind_any (peers[i], transport, ep);
        CHECK_OK (zmq_connect (dealer, ep));
    }
    for (int k = 0; k < 2 * N; k++) {
        char s[16];
        snprintf (s, sizeof s, "m%d", k);
        SEND_STR (dealer, s, ZMQ_SNDMORE);
        SEND_STR (dealer, "end", 0);
    }
    for (int k = 0; k < 2 * N; k++) {
        char s[16];
        snprintf (s, sizeof s, "m%d", k);
        RECV_STR (peers[k % N], s, 1);
        RECV_STR (peers[k % N], "end", 0);
    }
    //  And replies from all of them come back.
    for (int i = 0; i < N; i++) {
        char s[16];
        snprintf (s, sizeof s, "r%d", i);
        SEND_STR (peers[i], s, 0);
    }
    int seen = 0;
    for (int i = 0; i < N; i++) {
        char buf[16];
        int n = zmq_recv (dealer, buf, sizeof buf - 1, 0);
        CHECK_INT_EQ (n, 2);
        int who = buf[1] - '0';
        CHECK (buf[0] == 'r' && who >= 0 && who < N && !(seen & (1 << who)));
        seen |= 1 << who;
    }
    for (int i = 0; i < N; i++)
        test_close_zero_linger (peers[i]);
    test_close_zero_linger (dealer);
}

static void test_dealer_fair_queue (void *ctx)
{
    enum { N = 3 };
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (dealer);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (dealer, "inproc", ep);
    void *peers[N];
    for (int i = 0; i < N; i++) {
        peers[i] = zmq_socket (ctx, ZMQ_DEALER);
        CHECK (peers[i]);
        CHECK_OK (zmq_connect (peers[i], ep));
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 2; k++) {
            char s[16];
            snprintf (s, sizeof s, "%c%d", 'A' + i, k);
            SEND_STR (peers[i], s, 0);
        }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < N; i++) {
            char s[16];
            snprintf (s, sizeof s, "%c%d", 'A' + i, k);
            RECV_STR (dealer, s, 0);
        }
    for (int i = 0; i < N; i++)
        test_close_zero_linger (peers[i]);
    test_close_zero_linger (dealer);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++) {
        const char *tr = test_transports[t];
        test_basic_routing (ctx, tr);
        test_routing_id (ctx, tr);
        test_connect_routing_id (ctx, tr);
        test_mandatory (ctx, tr);
        test_duplicate_id (ctx, tr, 0);
        test_duplicate_id (ctx, tr, 1);
        test_probe_router (ctx, tr);
        test_dealer_round_robin (ctx, tr);
    }
    test_mandatory_full (ctx);
    test_dealer_fair_queue (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
