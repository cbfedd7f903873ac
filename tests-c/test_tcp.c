// The tcp transport: endpoint syntax, wildcard binds, ZMQ_LAST_ENDPOINT,
// unbind/disconnect, IPv6, source addresses and connect-before-bind.
//
// Pins:
//  - ZMQ_LAST_ENDPOINT is "" (size 1) before any bind or connect;
//    bind "tcp://127.0.0.1:*" and ":0" pick an ephemeral port and report
//    "tcp://127.0.0.1:PORT"; "tcp://*:*" reports "tcp://0.0.0.0:PORT"; an
//    interface name ("lo") is accepted and reported as its address; after
//    zmq_connect, ZMQ_LAST_ENDPOINT is the string given to connect;
//  - binding a port in use -> EADDRINUSE;
//  - bind errors: no port, empty port, non-numeric port, port 65536 ->
//    EINVAL; "tcp://" -> EINVAL; no "://" -> EINVAL; unknown host or
//    interface name (including "localhost": bind does no DNS) -> ENODEV;
//    unknown transport -> EPROTONOSUPPORT; connect with a "*" host or port
//    -> EINVAL; connect resolves names lazily ("tcp://localhost:PORT"
//    works; an unresolvable name is accepted by zmq_connect);
//  - IPv6 (when the host has ::1): without ZMQ_IPV6, bind "tcp://[::1]:*"
//    -> ENODEV; with it, LAST_ENDPOINT is "tcp://[::1]:PORT", "tcp://*:*"
//    gives "tcp://[::]:PORT" and 127.0.0.1 gives
//    "tcp://[::ffff:127.0.0.1]:PORT"; messages flow over [::1];
//  - zmq_unbind needs the LAST_ENDPOINT string: the wildcard form
//    ("tcp://127.0.0.1:*", "tcp://*:*", "tcp://*:PORT") -> ENOENT;
//    unbinding twice or something never bound -> ENOENT; a tcp unbind also
//    drops the connections accepted on that endpoint: messages arriving on
//    them are discarded, and once the unbinding socket has processed its
//    commands the connection is closed (a connected PUSH with ZMQ_IMMEDIATE
//    loses its pipe); the port can be bound again, after which the peer
//    reconnects by itself;
//  - zmq_disconnect matches the exact connect string ("localhost" is not
//    "127.0.0.1"), removes every connection made with it, then -> ENOENT;
//    a PUSH with no connection left gets EAGAIN;
//  - a source address "tcp://127.0.0.1:SRCPORT;127.0.0.1:PORT" makes the
//    connection come from SRCPORT; "tcp://127.0.0.1:0;..." is accepted too;
//  - connect before bind: with ZMQ_RECONNECT_IVL 10 the connection is made
//    once the peer binds, and queued messages are delivered both ways.
#include "testutil.h"

static void test_last_endpoint_forms (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    void *s = zmq_socket (ctx, ZMQ_PULL);
    CHECK (s);
    size_t len = sizeof ep;
    CHECK_OK (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &len));
    CHECK_INT_EQ (len, 1);
    CHECK_STR_EQ (ep, "");

    CHECK_OK (zmq_bind (s, "tcp://127.0.0.1:*"));
    test_last_endpoint (s, ep);
    CHECK (strncmp (ep, "tcp://127.0.0.1:", 16) == 0);
    CHECK (test_port_of (ep) > 0 && test_port_of (ep) < 65536);

    CHECK_OK (zmq_bind (s, "tcp://127.0.0.1:0"));
    test_last_endpoint (s, ep);
    CHECK (strncmp (ep, "tcp://127.0.0.1:", 16) == 0);
    CHECK (test_port_of (ep) > 0);

    CHECK_OK (zmq_bind (s, "tcp://*:*"));
    test_last_endpoint (s, ep);
    CHECK (strncmp (ep, "tcp://0.0.0.0:", 14) == 0);
    CHECK (test_port_of (ep) > 0);
    //  Reachable through loopback.
    char conn[TEST_ENDPOINT_MAX];
    snprintf (conn, sizeof conn, "tcp://127.0.0.1:%d", test_port_of (ep));
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    CHECK_OK (zmq_connect (push, conn));
    test_last_endpoint (push, ep);
    CHECK_STR_EQ (ep, conn);
    SEND_STR (push, "via-any", 0);
    RECV_STR (s, "via-any", 0);

    CHECK_OK (zmq_bind (s, "tcp://lo:*"));
    test_last_endpoint (s, ep);
    CHECK (strncmp (ep, "tcp://127.0.0.1:", 16) == 0);

    //  A name is resolved when connecting.
    snprintf (conn, sizeof conn, "tcp://localhost:%d", test_port_of (ep));
    void *push2 = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push2);
    CHECK_OK (zmq_connect (push2, conn));
    test_last_endpoint (push2, ep);
    CHECK_STR_EQ (ep, conn);
    SEND_STR (push2, "via-localhost", 0);
    RECV_STR (s, "via-localhost", 0);

    test_close_zero_linger (push);
    test_close_zero_linger (push2);
    test_close_zero_linger (s);
}

static void test_errors (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    void *t = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s && t);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (s, "tcp", ep);
    CHECK_ERRNO (zmq_bind (t, ep), EADDRINUSE);
    CHECK_ERRNO (zmq_bind (s, ep), EADDRINUSE);

    CHECK_ERRNO (zmq_bind (t, "tcp://127.0.0.1"), EINVAL);
    CHECK_ERRNO (zmq_bind (t, "tcp://127.0.0.1:"), EINVAL);
    CHECK_ERRNO (zmq_bind (t, "tcp://127.0.0.1:abc"), EINVAL);
    CHECK_ERRNO (zmq_bind (t, "tcp://127.0.0.1:65536"), EINVAL);
    CHECK_ERRNO (zmq_bind (t, "tcp://"), EINVAL);
    CHECK_ERRNO (zmq_bind (t, "127.0.0.1:5555"), EINVAL);
    CHECK_ERRNO (zmq_bind (t, "tcp:/127.0.0.1:5555"), EINVAL);
    CHECK_ERRNO (zmq_bind (t, "tcp://nonexistent-iface:*"), ENODEV);
    CHECK_ERRNO (zmq_bind (t, "tcp://localhost:*"), ENODEV);
    CHECK_ERRNO (zmq_bind (t, "tcp://256.1.1.1:*"), ENODEV);
    CHECK_ERRNO (zmq_bind (t, "foo://bar"), EPROTONOSUPPORT);
    CHECK_ERRNO (zmq_bind (t, "tcp://[::1]:*"), ENODEV);

    CHECK_ERRNO (zmq_connect (t, "tcp://127.0.0.1:*"), EINVAL);
    CHECK_ERRNO (zmq_connect (t, "tcp://*:5555"), EINVAL);
    CHECK_ERRNO (zmq_connect (t, "tcp://127.0.0.1"), EINVAL);
    CHECK_ERRNO (zmq_connect (t, "tcp://127.0.0.1:abc"), EINVAL);
    CHECK_ERRNO (zmq_connect (t, "foo://bar"), EPROTONOSUPPORT);
    //  Not resolved at connect time.
    CHECK_OK (zmq_connect (t, "tcp://nonexistent.invalid:5555"));

    //  Nothing was bound or connected by the failures.
    test_close_zero_linger (t);
    test_close_zero_linger (s);
}

static int have_ipv6_loopback (void)
{
    int fd = socket (AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in6 addr;
    memset (&addr, 0, sizeof addr);
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    int ok = bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
    close (fd);
    return ok;
}

static void test_ipv6 (void *ctx)
{
    if (!have_ipv6_loopback ()) {
        printf ("no IPv6 loopback: IPv6 part skipped\n");
        return;
    }
    char ep[TEST_ENDPOINT_MAX];
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    void *c = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s && c);
    CHECK_INT_EQ (test_get_int (s, ZMQ_IPV6), 0);
    test_set_int (s, ZMQ_IPV6, 1);
    test_set_int (c, ZMQ_IPV6, 1);
    CHECK_INT_EQ (test_get_int (s, ZMQ_IPV6), 1);

    CHECK_OK (zmq_bind (s, "tcp://*:*"));
    test_last_endpoint (s, ep);
    CHECK (strncmp (ep, "tcp://[::]:", 11) == 0);
    CHECK_OK (zmq_bind (s, "tcp://127.0.0.1:*"));
    test_last_endpoint (s, ep);
    CHECK (strncmp (ep, "tcp://[::ffff:127.0.0.1]:", 25) == 0);
    CHECK_OK (zmq_bind (s, "tcp://[::1]:*"));
    test_last_endpoint (s, ep);
    CHECK (strncmp (ep, "tcp://[::1]:", 12) == 0);
    CHECK (test_port_of (ep) > 0);

    CHECK_OK (zmq_connect (c, ep));
    test_bounce (s, c);
    test_close_zero_linger (c);
    test_close_zero_linger (s);
}

static void test_unbind (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX], any[TEST_ENDPOINT_MAX], buf[32];
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    CHECK_ERRNO (zmq_unbind (pull, "tcp://127.0.0.1:1"), ENOENT);
    CHECK_OK (zmq_bind (pull, "tcp://127.0.0.1:*"));
    test_last_endpoint (pull, ep);
    CHECK_OK (zmq_bind (pull, "tcp://*:*"));
    test_last_endpoint (pull, any);
    CHECK_ERRNO (zmq_unbind (pull, "tcp://127.0.0.1:*"), ENOENT);
    CHECK_ERRNO (zmq_unbind (pull, "tcp://*:*"), ENOENT);
    snprintf (buf, sizeof buf, "tcp://*:%d", test_port_of (any));
    CHECK_ERRNO (zmq_unbind (pull, buf), ENOENT);
    CHECK_OK (zmq_unbind (pull, any));
    CHECK_ERRNO (zmq_unbind (pull, any), ENOENT);

    //  Unbinding drops the accepted connection too: a PUSH with
    //  ZMQ_IMMEDIATE loses its pipe (sends get EAGAIN) once it notices.
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    test_set_int (push, ZMQ_RECONNECT_IVL, 10);
    test_set_int (push, ZMQ_IMMEDIATE, 1);
    test_set_int (push, ZMQ_SNDTIMEO, 5000);
    CHECK_OK (zmq_connect (push, ep));
    SEND_STR (push, "before", 0);
    RECV_STR (pull, "before", 0);
    CHECK_OK (zmq_unbind (pull, ep));
    CHECK_ERRNO (zmq_unbind (pull, ep), ENOENT);
    //  The accepted connection is closed once the PULL has processed the
    //  termination (any call that processes commands, here ZMQ_EVENTS);
    //  until then it stays open and what arrives on it is discarded.
    int64_t deadline = test_now_ms () + 5000;
    while (zmq_send (push, "during", 6, ZMQ_DONTWAIT) == 6) {
        CHECK (test_now_ms () < deadline);
        CHECK_INT_EQ (test_get_int (pull, ZMQ_EVENTS), 0);
        test_sleep_ms (5);
    }
    CHECK_INT_EQ (errno, EAGAIN);

    //  Bind the same port again (the old listener closes asynchronously):
    //  the PUSH reconnects on its own. Some "during" may or may not have
    //  made it before the drop.
    deadline = test_now_ms () + 5000;
    while (zmq_bind (pull, ep) != 0) {
        CHECK_INT_EQ (errno, EADDRINUSE);
        CHECK (test_now_ms () < deadline);
        test_sleep_ms (10);
    }
    SEND_STR (push, "after", 0);
    int n;
    while ((n = zmq_recv (pull, buf, sizeof buf, 0)) == 6)
        CHECK (memcmp (buf, "during", 6) == 0);
    CHECK_INT_EQ (n, 5);
    CHECK (memcmp (buf, "after", 5) == 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

static void test_disconnect (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX], alias[TEST_ENDPOINT_MAX];
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (pull && push);
    test_bind_any (pull, "tcp", ep);
    snprintf (alias, sizeof alias, "tcp://localhost:%d", test_port_of (ep));
    CHECK_ERRNO (zmq_disconnect (push, ep), ENOENT);
    CHECK_OK (zmq_connect (push, alias));
    CHECK_ERRNO (zmq_disconnect (push, ep), ENOENT);
    CHECK_OK (zmq_disconnect (push, alias));
    CHECK_ERRNO (zmq_disconnect (push, alias), ENOENT);

    //  Two connections with the same string go away together.
    CHECK_OK (zmq_connect (push, ep));
    CHECK_OK (zmq_connect (push, ep));
    SEND_STR (push, "one", 0);
    SEND_STR (push, "two", 0);
    //  One went over each connection: arrival order is not fixed.
    char b1[8] = "", b2[8] = "";
    CHECK_INT_EQ (zmq_recv (pull, b1, sizeof b1 - 1, 0), 3);
    CHECK_INT_EQ (zmq_recv (pull, b2, sizeof b2 - 1, 0), 3);
    CHECK ((strcmp (b1, "one") == 0 && strcmp (b2, "two") == 0)
           || (strcmp (b1, "two") == 0 && strcmp (b2, "one") == 0));
    CHECK_OK (zmq_disconnect (push, ep));
    CHECK_ERRNO (zmq_disconnect (push, ep), ENOENT);
    CHECK_ERRNO (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    CHECK_NOTHING_WITHIN (pull, 100);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

static void test_source_address (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX], src[TEST_ENDPOINT_MAX], conn[512];
    void *server = zmq_socket (ctx, ZMQ_PAIR);
    void *client = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (server && client);
    test_bind_any (server, "tcp", ep);
    test_free_tcp_endpoint (src);
    snprintf (conn, sizeof conn, "tcp://127.0.0.1:%d;127.0.0.1:%d",
              test_port_of (src), test_port_of (ep));
    CHECK_OK (zmq_connect (client, conn));
    SEND_STR (client, "from-src", 0);
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    CHECK_INT_EQ (zmq_msg_recv (&msg, server, 0), 8);
    int fd = zmq_msg_get (&msg, ZMQ_SRCFD);
    CHECK (fd >= 0);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    CHECK (getpeername (fd, (struct sockaddr *) &peer, &len) == 0);
    CHECK_INT_EQ (ntohs (peer.sin_port), test_port_of (src));
    CHECK_OK (zmq_msg_close (&msg));
    test_close_zero_linger (client);
    test_close_zero_linger (server);

    //  Source port 0: any port.
    server = zmq_socket (ctx, ZMQ_PAIR);
    client = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (server && client);
    test_bind_any (server, "tcp", ep);
    snprintf (conn, sizeof conn, "tcp://127.0.0.1:0;127.0.0.1:%d",
              test_port_of (ep));
    CHECK_OK (zmq_connect (client, conn));
    test_bounce (server, client);
    test_close_zero_linger (client);
    test_close_zero_linger (server);
}

static void test_connect_before_bind (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    test_free_tcp_endpoint (ep);
    void *client = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (client);
    test_set_int (client, ZMQ_RECONNECT_IVL, 10);
    CHECK_OK (zmq_connect (client, ep));
    SEND_STR (client, "queued1", 0);
    SEND_STR (client, "queued2", 0);
    void *server = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (server);
    CHECK_OK (zmq_bind (server, ep));
    RECV_STR (server, "queued1", 0);
    RECV_STR (server, "queued2", 0);
    SEND_STR (server, "back", 0);
    RECV_STR (client, "back", 0);
    test_close_zero_linger (client);
    test_close_zero_linger (server);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_last_endpoint_forms (ctx);
    test_errors (ctx);
    test_ipv6 (ctx);
    test_unbind (ctx);
    test_disconnect (ctx);
    test_source_address (ctx);
    test_connect_before_bind (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
