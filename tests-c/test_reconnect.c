/* Reconnection of connecting sockets, and ZMQ_IMMEDIATE.
 *
 * Pins:
 *  - tcp and ipc: a connecting PAIR (ZMQ_RECONNECT_IVL 10) whose peer is
 *    closed reconnects by itself to a new socket bound on the same endpoint
 *    (the port of the first wildcard bind), and traffic flows both ways;
 *    the same when the peer only unbinds and binds again;
 *  - ZMQ_IMMEDIATE=1: no pipe exists before the connection is up, so a PUSH
 *    connected to a tcp port nobody listens on gets EAGAIN (ZMQ_DONTWAIT at
 *    once, ZMQ_SNDTIMEO 100 after ~100 ms); once the peer binds, a blocking send succeeds and
 *    arrives; when the peer goes away the pipe goes too (sends get EAGAIN
 *    again) until it comes back; inproc ignores ZMQ_IMMEDIATE (a connect to
 *    a name not bound yet still queues);
 *  - with ZMQ_IMMEDIATE=1 and one live plus one dead endpoint, every message
 *    goes to the live peer; without it (default 0) the dead endpoint's pipe
 *    exists from zmq_connect on and takes every other message
 *    (round-robin), which is then delivered once that peer binds;
 *  - ZMQ_IMMEDIATE defaults to 0 and reads back what was set. */
#include "testutil.h"

/* Sends numbered probes from client until server receives one (the
 * connection is back), then a marker; drains server up to the marker, and
 * checks the probes arrived in order. */
static void wait_reconnected (void *server, void *client)
{
    int64_t deadline = test_now_ms () + 5000;
    int sent = 0;
    while (1) {
        char s[32];
        snprintf (s, sizeof s, "probe%d", sent++);
        SEND_STR (client, s, ZMQ_DONTWAIT);
        if (test_wait_readable (server, 50))
            break;
        CHECK (test_now_ms () < deadline);
    }
    SEND_STR (client, "marker", 0);
    int last = -1;
    while (1) {
        char buf[16];
        int n = zmq_recv (server, buf, sizeof buf - 1, 0);
        CHECK (n > 0);
        buf[n] = '\0';
        if (strcmp (buf, "marker") == 0)
            break;
        CHECK (strncmp (buf, "probe", 5) == 0);
        int k = atoi (buf + 5);
        CHECK (k > last);
        last = k;
    }
}

static void test_peer_replaced (void *ctx, const char *transport,
                                int same_socket)
{
    char ep[TEST_ENDPOINT_MAX];
    void *server = zmq_socket (ctx, ZMQ_PAIR);
    void *client = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (server && client);
    test_set_int (client, ZMQ_RECONNECT_IVL, 10);
    CHECK_INT_EQ (test_get_int (client, ZMQ_RECONNECT_IVL), 10);
    test_bind_any (server, transport, ep);
    CHECK_OK (zmq_connect (client, ep));
    test_bounce (server, client);

    if (same_socket)
        CHECK_OK (zmq_unbind (server, ep));
    else {
        test_close_zero_linger (server);
        server = zmq_socket (ctx, ZMQ_PAIR);
        CHECK (server);
    }
    //  The old listener closes asynchronously: retry while the address is
    //  still taken.
    int64_t deadline = test_now_ms () + 5000;
    while (zmq_bind (server, ep) != 0) {
        CHECK_INT_EQ (errno, EADDRINUSE);
        CHECK (test_now_ms () < deadline);
        test_sleep_ms (10);
    }
    wait_reconnected (server, client);
    test_bounce (server, client);
    test_bounce (server, client);
    test_close_zero_linger (client);
    test_close_zero_linger (server);
}

static void test_immediate_no_peer (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    test_free_tcp_endpoint (ep);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    CHECK_INT_EQ (test_get_int (push, ZMQ_IMMEDIATE), 0);
    test_set_int (push, ZMQ_IMMEDIATE, 1);
    CHECK_INT_EQ (test_get_int (push, ZMQ_IMMEDIATE), 1);
    test_set_int (push, ZMQ_RECONNECT_IVL, 10);
    CHECK_OK (zmq_connect (push, ep));
    CHECK_ERRNO (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    test_set_int (push, ZMQ_SNDTIMEO, 100);
    int64_t t0 = test_now_ms ();
    CHECK_ERRNO (zmq_send (push, "x", 1, 0), EAGAIN);
    int64_t e = test_now_ms () - t0;
    CHECK (e >= 95 && e < 2000);

    //  The peer appears: a blocking send waits for the connection.
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    CHECK_OK (zmq_bind (pull, ep));
    test_set_int (push, ZMQ_SNDTIMEO, 5000);
    SEND_STR (push, "connected", 0);
    RECV_STR (pull, "connected", 0);

    //  The peer goes away: the pipe goes with it.
    test_close_zero_linger (pull);
    int64_t deadline = test_now_ms () + 5000;
    while (zmq_send (push, "lost?", 5, ZMQ_DONTWAIT) == 5) {
        CHECK (test_now_ms () < deadline);
        test_sleep_ms (10);
    }
    CHECK_INT_EQ (errno, EAGAIN);

    //  ... and comes back.
    pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    deadline = test_now_ms () + 5000;
    while (zmq_bind (pull, ep) != 0) {
        CHECK_INT_EQ (errno, EADDRINUSE);
        CHECK (test_now_ms () < deadline);
        test_sleep_ms (10);
    }
    SEND_STR (push, "back", 0);
    RECV_STR (pull, "back", 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);

    //  inproc ignores ZMQ_IMMEDIATE: connecting to a name not bound yet
    //  still creates the pipe, so the message is queued and delivered.
    push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    test_set_int (push, ZMQ_IMMEDIATE, 1);
    CHECK_OK (zmq_connect (push, "inproc://immediate-later"));
    SEND_STR (push, "queued", ZMQ_DONTWAIT);
    pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    CHECK_OK (zmq_bind (pull, "inproc://immediate-later"));
    SEND_STR (push, "bound", 0);
    RECV_STR (pull, "queued", 0);
    RECV_STR (pull, "bound", 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

static void test_live_and_dead (void *ctx, int immediate)
{
    char live[TEST_ENDPOINT_MAX], dead[TEST_ENDPOINT_MAX];
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (push && pull);
    test_set_int (push, ZMQ_IMMEDIATE, immediate);
    test_set_int (push, ZMQ_RECONNECT_IVL, 10);
    test_bind_any (pull, "tcp", live);
    test_free_tcp_endpoint (dead);
    CHECK_OK (zmq_connect (push, dead));
    CHECK_OK (zmq_connect (push, live));
    test_set_int (push, ZMQ_SNDTIMEO, 5000);
    for (int i = 0; i < 10; i++) {
        char s[16];
        snprintf (s, sizeof s, "m%d", i);
        SEND_STR (push, s, 0);
    }
    if (immediate) {
        for (int i = 0; i < 10; i++) {
            char s[16];
            snprintf (s, sizeof s, "m%d", i);
            RECV_STR (pull, s, 0);
        }
    } else {
        //  Odd ones went to the live peer, even ones wait for the dead one.
        for (int i = 1; i < 10; i += 2) {
            char s[16];
            snprintf (s, sizeof s, "m%d", i);
            RECV_STR (pull, s, 0);
        }
        void *late = zmq_socket (ctx, ZMQ_PULL);
        CHECK (late);
        CHECK_OK (zmq_bind (late, dead));
        for (int i = 0; i < 10; i += 2) {
            char s[16];
            snprintf (s, sizeof s, "m%d", i);
            RECV_STR (late, s, 0);
        }
        test_close_zero_linger (late);
    }
    CHECK_NOTHING_WITHIN (pull, 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_peer_replaced (ctx, "tcp", 0);
    test_peer_replaced (ctx, "tcp", 1);
    test_peer_replaced (ctx, "ipc", 0);
    test_peer_replaced (ctx, "ipc", 1);
    test_immediate_no_peer (ctx);
    test_live_and_dead (ctx, 1);
    test_live_and_dead (ctx, 0);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
