/* zmq_socket_monitor: events over tcp, their values, endpoints and order.
 *
 * Each event is two frames: 6 bytes (uint16 event, uint32 value, host
 * order) with ZMQ_RCVMORE set, then the endpoint string.  Pins:
 *  - argument checks: a non-inproc endpoint (tcp, ipc, or an unknown
 *    scheme) fails with EPROTONOSUPPORT; "inproc" without "://" or an empty
 *    inproc name with EINVAL; event bits above 0xFFFF with EINVAL; a NULL
 *    socket with ENOTSOCK; an unassigned bit below 0x10000 (0x8000) and a
 *    mask of 0 are accepted; a NULL endpoint (stop) succeeds even when not
 *    monitoring;
 *  - a bound DEALER (ZMQ_EVENT_ALL) reports LISTENING (value: the listening
 *    fd, whose local port is the bound one), then ACCEPTED (value: the
 *    accepted fd, local port the bound one) and HANDSHAKE_SUCCEEDED (value
 *    0), all with endpoint "tcp://127.0.0.1:PORT" as ZMQ_LAST_ENDPOINT reads;
 *    the connecting DEALER reports CONNECT_DELAYED (optional: libzmq emits it
 *    when connect() says EINPROGRESS), CONNECTED (value: the fd, whose peer
 *    port is the bound one), HANDSHAKE_SUCCEEDED (value 0), same endpoint;
 *  - the client closing gives the client's monitor MONITOR_STOPPED only
 *    (value 0, empty endpoint) and the server's DISCONNECTED (value: the
 *    ACCEPTED fd); closing the server then gives CLOSED (value: the
 *    LISTENING fd) and MONITOR_STOPPED;
 *  - a mask of CONNECTED|DISCONNECTED delivers only those (no handshake or
 *    reconnect events, no MONITOR_STOPPED on stop);
 *  - a connect to a port nobody listens on, ZMQ_RECONNECT_IVL 50, reports
 *    CONNECT_RETRIED with the next interval (50 plus jitter below 50) and
 *    the endpoint; stopping with a NULL endpoint gives MONITOR_STOPPED and
 *    then nothing more;
 *  - binding a port already bound fails with EADDRINUSE (when monitored,
 *    libzmq's errno is clobbered to EAGAIN, so only -1 is checked) and reports
 *    BIND_FAILED (value EADDRINUSE, endpoint "127.0.0.1:PORT", without the
 *    scheme); with ZMQ_EVENT_ALL a CLOSED event with an empty endpoint
 *    comes first;
 *  - handshake failures from a raw tcp peer: a ZMTP 3 greeting with the
 *    mechanism "FOO" gives ACCEPTED, HANDSHAKE_FAILED_PROTOCOL
 *    (ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH), DISCONNECTED; a NULL
 *    greeting followed by a HELLO command gives HANDSHAKE_FAILED_PROTOCOL
 *    (ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND); a peer that connects and
 *    closes at once gives HANDSHAKE_FAILED_NO_DETAIL (value: an errno, not
 *    checked) then DISCONNECTED. */
#include "testutil.h"

static int local_port (int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    CHECK (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
    return ntohs (addr.sin_port);
}

static int peer_port (int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    CHECK (getpeername (fd, (struct sockaddr *) &addr, &len) == 0);
    return ntohs (addr.sin_port);
}

static void test_bad_args (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (s);
    CHECK_ERRNO (zmq_socket_monitor (s, "tcp://127.0.0.1:5555", ZMQ_EVENT_ALL),
                 EPROTONOSUPPORT);
    CHECK_ERRNO (zmq_socket_monitor (s, "ipc:///tmp/monitor", ZMQ_EVENT_ALL),
                 EPROTONOSUPPORT);
    CHECK_ERRNO (zmq_socket_monitor (s, "foo://bar", ZMQ_EVENT_ALL),
                 EPROTONOSUPPORT);
    CHECK_ERRNO (zmq_socket_monitor (s, "inproc", ZMQ_EVENT_ALL), EINVAL);
    CHECK_ERRNO (zmq_socket_monitor (s, "inproc://", ZMQ_EVENT_ALL), EINVAL);
    CHECK_ERRNO (zmq_socket_monitor (s, "inproc://mon-bits", 0x10000), EINVAL);
    CHECK_ERRNO (zmq_socket_monitor (s, "inproc://mon-bits", 0x7fffffff),
                 EINVAL);
    CHECK_ERRNO (zmq_socket_monitor (NULL, "inproc://mon-null", ZMQ_EVENT_ALL),
                 ENOTSOCK);
    CHECK_OK (zmq_socket_monitor (s, NULL, 0));
    CHECK_OK (zmq_socket_monitor (s, "inproc://mon-8000", 0x8000));
    CHECK_OK (zmq_socket_monitor (s, NULL, 0));
    CHECK_OK (zmq_socket_monitor (s, "inproc://mon-zero", 0));
    CHECK_OK (zmq_socket_monitor (s, NULL, 0));
    test_close_zero_linger (s);
}

static void test_lifecycle (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_DEALER);
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (server && client);
    test_set_int (server, ZMQ_RCVTIMEO, 5000);
    test_set_int (client, ZMQ_RCVTIMEO, 5000);
    void *smon = test_monitor (ctx, server, "inproc://mon-server", ZMQ_EVENT_ALL);
    void *cmon = test_monitor (ctx, client, "inproc://mon-client", ZMQ_EVENT_ALL);

    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (server, "tcp", ep);
    int port = test_port_of (ep);
    CHECK_OK (zmq_connect (client, ep));
    test_bounce (server, client);

    //  Server: LISTENING, ACCEPTED, HANDSHAKE_SUCCEEDED.
    int listen_fd = (int) test_expect_event (smon, ZMQ_EVENT_LISTENING, ep);
    CHECK_INT_EQ (local_port (listen_fd), port);
    int accepted_fd = (int) test_expect_event (smon, ZMQ_EVENT_ACCEPTED, ep);
    CHECK (accepted_fd != listen_fd);
    CHECK_INT_EQ (local_port (accepted_fd), port);
    CHECK_INT_EQ (test_expect_event (smon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ep), 0);
    CHECK_NOTHING_WITHIN (smon, 0);

    //  Client: [CONNECT_DELAYED], CONNECTED, HANDSHAKE_SUCCEEDED.
    test_event_t ev;
    CHECK (test_recv_event (cmon, &ev, 5000));
    if (ev.event == ZMQ_EVENT_CONNECT_DELAYED) {
        CHECK_STR_EQ (ev.addr, ep);
        CHECK (test_recv_event (cmon, &ev, 5000));
    }
    CHECK_INT_EQ (ev.event, ZMQ_EVENT_CONNECTED);
    CHECK_STR_EQ (ev.addr, ep);
    int connected_fd = (int) ev.value;
    CHECK_INT_EQ (peer_port (connected_fd), port);
    CHECK_INT_EQ (peer_port (accepted_fd), local_port (connected_fd));
    CHECK_INT_EQ (test_expect_event (cmon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ep), 0);
    CHECK_NOTHING_WITHIN (cmon, 0);

    //  The client goes: its monitor stops; the server sees DISCONNECTED.
    test_close_zero_linger (client);
    CHECK_INT_EQ (test_expect_event (cmon, ZMQ_EVENT_MONITOR_STOPPED, ""), 0);
    CHECK_INT_EQ (test_expect_event (smon, ZMQ_EVENT_DISCONNECTED, ep),
                  accepted_fd);

    //  The server goes: CLOSED (the listener), MONITOR_STOPPED.
    test_close_zero_linger (server);
    CHECK_INT_EQ (test_expect_event (smon, ZMQ_EVENT_CLOSED, ep), listen_fd);
    CHECK_INT_EQ (test_expect_event (smon, ZMQ_EVENT_MONITOR_STOPPED, ""), 0);
    CHECK_NOTHING_WITHIN (smon, 100);
    CHECK_NOTHING_WITHIN (cmon, 0);
    test_close_zero_linger (smon);
    test_close_zero_linger (cmon);
}

static void test_mask (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_DEALER);
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (server && client);
    test_set_int (server, ZMQ_RCVTIMEO, 5000);
    test_set_int (client, ZMQ_RCVTIMEO, 5000);
    test_set_int (client, ZMQ_RECONNECT_IVL, 20);
    void *cmon = test_monitor (ctx, client, "inproc://mon-mask",
                          ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (server, "tcp", ep);
    CHECK_OK (zmq_connect (client, ep));
    test_bounce (server, client);
    test_expect_event (cmon, ZMQ_EVENT_CONNECTED, ep);
    test_close_zero_linger (server);
    test_expect_event (cmon, ZMQ_EVENT_DISCONNECTED, ep);
    //  The client keeps retrying (CONNECT_DELAYED, CLOSED, CONNECT_RETRIED
    //  every ~20-40 ms), none of which is in the mask.
    CHECK_NOTHING_WITHIN (cmon, 300);
    CHECK_OK (zmq_socket_monitor (client, NULL, 0));
    CHECK_NOTHING_WITHIN (cmon, 100);
    test_close_zero_linger (client);
    test_close_zero_linger (cmon);
}

static void test_retried_and_stop (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    test_free_tcp_endpoint (ep);
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (client);
    test_set_int (client, ZMQ_RECONNECT_IVL, 50);
    void *mon = test_monitor (ctx, client, "inproc://mon-retry",
                         ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_MONITOR_STOPPED);
    CHECK_OK (zmq_connect (client, ep));
    for (int i = 0; i < 3; i++) {
        uint32_t ivl = test_expect_event (mon, ZMQ_EVENT_CONNECT_RETRIED, ep);
        CHECK (ivl >= 50 && ivl < 100);
    }
    CHECK_OK (zmq_socket_monitor (client, NULL, 0));
    //  Retries may have been queued before the stop.
    test_event_t ev;
    do
        CHECK (test_recv_event (mon, &ev, 5000));
    while (ev.event == ZMQ_EVENT_CONNECT_RETRIED);
    CHECK_INT_EQ (ev.event, ZMQ_EVENT_MONITOR_STOPPED);
    CHECK_INT_EQ (ev.value, 0);
    CHECK_STR_EQ (ev.addr, "");
    CHECK_NOTHING_WITHIN (mon, 200);
    test_close_zero_linger (client);
    test_close_zero_linger (mon);
}

static void test_bind_failed (void *ctx)
{
    void *first = zmq_socket (ctx, ZMQ_DEALER);
    void *second = zmq_socket (ctx, ZMQ_DEALER);
    void *third = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (first && second && third);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (first, "tcp", ep);
    char bare[TEST_ENDPOINT_MAX];
    snprintf (bare, sizeof bare, "%s", ep + strlen ("tcp://"));

    //  Unmonitored, the failure is EADDRINUSE.
    CHECK_ERRNO (zmq_bind (second, ep), EADDRINUSE);

    //  Monitored, libzmq 4.3.4 sends the event before returning, which
    //  leaves errno EAGAIN: only the failure itself is checked.
    void *mon2 = test_monitor (ctx, second, "inproc://mon-bind-failed",
                          ZMQ_EVENT_BIND_FAILED);
    CHECK_INT_EQ (zmq_bind (second, ep), -1);
    CHECK_INT_EQ (test_expect_event (mon2, ZMQ_EVENT_BIND_FAILED, bare),
                  EADDRINUSE);
    CHECK_NOTHING_WITHIN (mon2, 0);

    void *mon3 = test_monitor (ctx, third, "inproc://mon-bind-failed-all",
                          ZMQ_EVENT_ALL);
    CHECK_INT_EQ (zmq_bind (third, ep), -1);
    test_expect_event (mon3, ZMQ_EVENT_CLOSED, "");
    CHECK_INT_EQ (test_expect_event (mon3, ZMQ_EVENT_BIND_FAILED, bare),
                  EADDRINUSE);
    CHECK_NOTHING_WITHIN (mon3, 0);

    test_close_zero_linger (first);
    test_close_zero_linger (second);
    test_close_zero_linger (third);
    test_close_zero_linger (mon2);
    test_close_zero_linger (mon3);
}

/* A 64-byte ZMTP 3.0 greeting (as client) with the given mechanism. */
static void send_greeting (int fd, const char *mechanism)
{
    unsigned char g[64];
    memset (g, 0, sizeof g);
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 0;
    memcpy (g + 12, mechanism, strlen (mechanism));
    test_write_all (fd, g, sizeof g);
}

static void test_handshake_failed (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (server);
    void *mon = test_monitor (ctx, server, "inproc://mon-handshake",
                         ZMQ_EVENT_ALL & ~ZMQ_EVENT_LISTENING);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (server, "tcp", ep);
    int port = test_port_of (ep);

    //  Mechanism mismatch.
    int fd = test_raw_connect (port);
    send_greeting (fd, "FOO");
    int accepted = (int) test_expect_event (mon, ZMQ_EVENT_ACCEPTED, ep);
    CHECK_INT_EQ (test_expect_event (mon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ep),
                  ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    CHECK_INT_EQ (test_expect_event (mon, ZMQ_EVENT_DISCONNECTED, ep), accepted);
    close (fd);

    //  NULL mechanism, then a HELLO command instead of READY.
    fd = test_raw_connect (port);
    send_greeting (fd, "NULL");
    test_write_all (fd, "\x04\x06\x05HELLO", 8);
    accepted = (int) test_expect_event (mon, ZMQ_EVENT_ACCEPTED, ep);
    CHECK_INT_EQ (test_expect_event (mon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ep),
                  ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND);
    CHECK_INT_EQ (test_expect_event (mon, ZMQ_EVENT_DISCONNECTED, ep), accepted);
    close (fd);

    //  Connects and goes away during the handshake.
    fd = test_raw_connect (port);
    close (fd);
    accepted = (int) test_expect_event (mon, ZMQ_EVENT_ACCEPTED, ep);
    test_expect_event (mon, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, ep);
    CHECK_INT_EQ (test_expect_event (mon, ZMQ_EVENT_DISCONNECTED, ep), accepted);

    CHECK_NOTHING_WITHIN (mon, 0);
    test_close_zero_linger (server);
    test_expect_event (mon, ZMQ_EVENT_CLOSED, ep);
    test_expect_event (mon, ZMQ_EVENT_MONITOR_STOPPED, "");
    test_close_zero_linger (mon);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_bad_args (ctx);
    test_lifecycle (ctx);
    test_mask (ctx);
    test_retried_and_stop (ctx);
    test_bind_failed (ctx);
    test_handshake_failed (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
