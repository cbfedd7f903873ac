/* ZMQ_STREAM sockets: raw tcp peers addressed by routing id.
 *
 * Pins:
 *  - a bound STREAM with ZMQ_STREAM_NOTIFY at its default (1) receives
 *    [id, ""] when a raw tcp client connects; the id is 5 bytes, a zero byte
 *    then a big-endian uint32 that grows by one per connection; bytes the
 *    client writes arrive as [id, bytes]; [id, bytes] sent reaches the client
 *    raw (no framing); [id, ""] sent closes that connection (the client
 *    reads EOF) and no disconnect notification follows; a connection the
 *    client closes gives [id, ""];
 *  - ZMQ_STREAM_NOTIFY=0: no connect or disconnect frames (the monitor's
 *    DISCONNECTED event marks the disconnect); getsockopt (ZMQ_STREAM_NOTIFY)
 *    fails with EINVAL (libzmq has no getter for it);
 *  - a connecting STREAM gets [id, ""] once its connection to a raw tcp
 *    listener is up; ZMQ_CONNECT_ROUTING_ID names that connection (used once:
 *    the next zmq_connect gets a generated 5-byte id);
 *  - sending with an unknown id frame (with ZMQ_SNDMORE) fails with
 *    EHOSTUNREACH and leaves the socket expecting an id frame again;
 *  - an id frame sent without ZMQ_SNDMORE succeeds, and the next frame is
 *    taken as its body and silently dropped;
 *  - STREAM to STREAM over tcp: each side gets [id, ""] for the connection,
 *    then bytes flow both ways. */
#include "testutil.h"

#include <poll.h>
#include <sys/time.h>

#define ID_MAX 256

/* Sets a receive timeout on a raw fd so reads are bounded. */
static void raw_set_timeout (int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    CHECK (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
}

static void raw_write (int fd, const char *s)
{
    size_t n = strlen (s);
    CHECK (send (fd, s, n, MSG_NOSIGNAL) == (ssize_t) n);
}

/* Reads exactly strlen (expect) bytes from fd and checks them; while waiting
 * the zmq socket is polled too, so libzmq can process its commands. */
static void raw_expect (int fd, void *zsock, const char *expect)
{
    size_t n = strlen (expect), got = 0;
    char buf[256];
    CHECK (n < sizeof buf);
    int64_t deadline = test_now_ms () + 5000;
    while (got < n) {
        zmq_pollitem_t items[2] = {{zsock, 0, ZMQ_POLLIN, 0},
                                   {NULL, fd, ZMQ_POLLIN, 0}};
        CHECK (zmq_poll (items, 2, 100) >= 0);
        CHECK (test_now_ms () < deadline);
        if (!(items[1].revents & ZMQ_POLLIN))
            continue;
        ssize_t r = read (fd, buf + got, n - got);
        CHECK (r > 0);
        got += (size_t) r;
    }
    CHECK (memcmp (buf, expect, n) == 0);
}

/* Waits (polling the zmq socket too) until fd reads EOF. */
static void raw_expect_eof (int fd, void *zsock)
{
    int64_t deadline = test_now_ms () + 5000;
    while (1) {
        zmq_pollitem_t items[2] = {{zsock, 0, ZMQ_POLLIN, 0},
                                   {NULL, fd, ZMQ_POLLIN, 0}};
        CHECK (zmq_poll (items, 2, 100) >= 0);
        CHECK (test_now_ms () < deadline);
        if (items[1].revents & ZMQ_POLLIN) {
            char c;
            CHECK (read (fd, &c, 1) == 0);
            return;
        }
    }
}

/* Receives an id frame (RCVMORE 1) into id; returns its size. */
static size_t recv_id (void *sock, unsigned char *id)
{
    int n = zmq_recv (sock, id, ID_MAX, 0);
    if (n == -1)
        FAIL ("zmq_recv (id) failed: %s (errno %d)", zmq_strerror (errno),
              errno);
    CHECK (n > 0 && n <= ID_MAX);
    CHECK_INT_EQ (test_get_int (sock, ZMQ_RCVMORE), 1);
    return (size_t) n;
}

/* Receives [id, body] and checks both. */
static void recv_from (void *sock, const unsigned char *id, size_t id_size,
                       const char *body)
{
    unsigned char got[ID_MAX];
    size_t n = recv_id (sock, got);
    CHECK_INT_EQ (n, id_size);
    CHECK (memcmp (got, id, id_size) == 0);
    RECV_STR (sock, body, 0);
}

/* Receives a generated 5-byte id and checks its shape. */
static void recv_generated_id (void *sock, unsigned char *id)
{
    CHECK_INT_EQ (recv_id (sock, id), 5);
    CHECK_INT_EQ (id[0], 0);
}

static uint32_t id_number (const unsigned char *id)
{
    return ((uint32_t) id[1] << 24) | ((uint32_t) id[2] << 16)
           | ((uint32_t) id[3] << 8) | id[4];
}

static void send_to (void *sock, const unsigned char *id, size_t id_size,
                     const char *body)
{
    CHECK_INT_EQ (zmq_send (sock, id, id_size, ZMQ_SNDMORE), (int) id_size);
    SEND_STR (sock, body, 0);
}

static void *new_stream (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_STREAM);
    CHECK (s);
    test_set_int (s, ZMQ_RCVTIMEO, 5000);
    test_set_int (s, ZMQ_SNDTIMEO, 5000);
    return s;
}

static void test_bound_notify (void *ctx)
{
    void *stream = new_stream (ctx);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (stream, "tcp", ep);
    int port = test_port_of (ep);

    //  Connect notification.
    int a = test_raw_connect (port);
    raw_set_timeout (a, 5000);
    unsigned char id_a[ID_MAX];
    recv_generated_id (stream, id_a);
    RECV_STR (stream, "", 0);

    //  Raw bytes in, raw bytes out.
    raw_write (a, "hello");
    recv_from (stream, id_a, 5, "hello");
    send_to (stream, id_a, 5, "world");
    raw_expect (a, stream, "world");

    //  A second connection gets the next id.
    int b = test_raw_connect (port);
    raw_set_timeout (b, 5000);
    unsigned char id_b[ID_MAX];
    recv_generated_id (stream, id_b);
    RECV_STR (stream, "", 0);
    CHECK (id_number (id_b) == (uint32_t) (id_number (id_a) + 1));

    //  An unknown id: EHOSTUNREACH, and the socket still expects an id.
    unsigned char unknown[5];
    memcpy (unknown, id_b, 5);
    unknown[4] ^= 0x80;
    CHECK_ERRNO (zmq_send (stream, unknown, 5, ZMQ_SNDMORE), EHOSTUNREACH);
    CHECK_ERRNO (zmq_send (stream, "nobody", 6, ZMQ_SNDMORE | ZMQ_DONTWAIT),
                 EHOSTUNREACH);
    send_to (stream, id_b, 5, "to-b");
    raw_expect (b, stream, "to-b");

    //  An id frame without SNDMORE is accepted; the next frame is its
    //  body and is dropped.
    CHECK_INT_EQ (zmq_send (stream, id_a, 5, 0), 5);
    CHECK_INT_EQ (zmq_send (stream, "dropped", 7, 0), 7);
    send_to (stream, id_a, 5, "kept");
    raw_expect (a, stream, "kept");

    //  An empty body closes the connection; no notification follows.
    send_to (stream, id_a, 5, "");
    raw_expect_eof (a, stream);
    close (a);
    CHECK_NOTHING_WITHIN (stream, 200);

    //  The peer closes: [id, ""].
    close (b);
    recv_from (stream, id_b, 5, "");

    test_close_zero_linger (stream);
}

static void test_notify_off (void *ctx)
{
    void *stream = new_stream (ctx);
    int v = 12345;
    size_t size = sizeof v;
    CHECK_ERRNO (zmq_getsockopt (stream, ZMQ_STREAM_NOTIFY, &v, &size),
                 EINVAL);
    test_set_int (stream, ZMQ_STREAM_NOTIFY, 0);
    CHECK_OK (zmq_socket_monitor (stream, "inproc://stream-notify-off",
                                  ZMQ_EVENT_DISCONNECTED));
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (mon);
    test_set_int (mon, ZMQ_RCVTIMEO, 5000);
    CHECK_OK (zmq_connect (mon, "inproc://stream-notify-off"));

    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (stream, "tcp", ep);
    int a = test_raw_connect (test_port_of (ep));
    raw_set_timeout (a, 5000);
    //  The first frame is the data: there was no connect notification.
    raw_write (a, "ping");
    unsigned char id[ID_MAX];
    recv_generated_id (stream, id);
    RECV_STR (stream, "ping", 0);
    send_to (stream, id, 5, "pong");
    raw_expect (a, stream, "pong");

    //  Disconnect: the monitor sees it, the socket gets no frame.
    close (a);
    unsigned char ev[16];
    CHECK_INT_EQ (zmq_recv (mon, ev, sizeof ev, 0), 6);
    uint16_t event;
    memcpy (&event, ev, 2);
    CHECK_INT_EQ (event, ZMQ_EVENT_DISCONNECTED);
    char addr[TEST_ENDPOINT_MAX];
    int n = zmq_recv (mon, addr, sizeof addr - 1, 0);
    CHECK (n > 0);
    CHECK_NOTHING_WITHIN (stream, 200);

    test_close_zero_linger (stream);
    test_close_zero_linger (mon);
}

/* Accepts one connection, waiting at most 5 s. */
static int raw_accept (int lfd)
{
    struct pollfd p = {lfd, POLLIN, 0};
    CHECK (poll (&p, 1, 5000) == 1);
    int fd = accept (lfd, NULL, NULL);
    CHECK (fd >= 0);
    raw_set_timeout (fd, 5000);
    return fd;
}

static void test_connect_out (void *ctx)
{
    int port;
    int lfd = test_raw_listen (&port);
    char ep[TEST_ENDPOINT_MAX];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);

    void *stream = new_stream (ctx);
    CHECK_OK (zmq_setsockopt (stream, ZMQ_CONNECT_ROUTING_ID, "peerA", 5));
    CHECK_OK (zmq_connect (stream, ep));
    int a = raw_accept (lfd);
    recv_from (stream, (const unsigned char *) "peerA", 5, "");
    raw_write (a, "hi");
    recv_from (stream, (const unsigned char *) "peerA", 5, "hi");
    send_to (stream, (const unsigned char *) "peerA", 5, "yo");
    raw_expect (a, stream, "yo");

    //  ZMQ_CONNECT_ROUTING_ID was used up: the next connection gets a
    //  generated id.
    CHECK_OK (zmq_connect (stream, ep));
    int b = raw_accept (lfd);
    unsigned char id_b[ID_MAX];
    recv_generated_id (stream, id_b);
    RECV_STR (stream, "", 0);
    raw_write (b, "from-b");
    recv_from (stream, id_b, 5, "from-b");
    send_to (stream, id_b, 5, "to-b");
    raw_expect (b, stream, "to-b");
    send_to (stream, (const unsigned char *) "peerA", 5, "to-a");
    raw_expect (a, stream, "to-a");

    test_close_zero_linger (stream);
    close (a);
    close (b);
    close (lfd);
}

static void test_stream_to_stream (void *ctx)
{
    void *server = new_stream (ctx);
    void *client = new_stream (ctx);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (server, "tcp", ep);
    CHECK_OK (zmq_connect (client, ep));

    unsigned char sid[ID_MAX], cid[ID_MAX];
    recv_generated_id (server, cid); //  the server's id for the client
    RECV_STR (server, "", 0);
    recv_generated_id (client, sid); //  the client's id for the server
    RECV_STR (client, "", 0);

    send_to (client, sid, 5, "abc");
    recv_from (server, cid, 5, "abc");
    send_to (server, cid, 5, "xyz");
    recv_from (client, sid, 5, "xyz");

    test_close_zero_linger (client);
    test_close_zero_linger (server);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_bound_notify (ctx);
    test_notify_off (ctx);
    test_connect_out (ctx);
    test_stream_to_stream (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
