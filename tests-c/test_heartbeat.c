/* ZMTP heartbeats: ZMQ_HEARTBEAT_IVL, ZMQ_HEARTBEAT_TIMEOUT, ZMQ_HEARTBEAT_TTL.
 *
 * Pins:
 *  - defaults: IVL 0, TIMEOUT -1, TTL 0; IVL and TIMEOUT take any int >= 0
 *    and read back as set (negative: EINVAL, so TIMEOUT cannot be set back
 *    to its default -1); TTL is kept in deciseconds: the value is divided by
 *    100 (truncating toward zero) and must then lie in 0..65535, so 150 reads
 *    back 100, -99 is accepted and reads 0, -100 and 6553600 fail with
 *    EINVAL; a wrong option size fails with EINVAL;
 *  - a raw ZMTP 3.1 DEALER peer (NULL handshake done by hand) of a bound
 *    ROUTER with IVL 100, TIMEOUT 300, TTL 1000 receives PING commands
 *    (flags 0x04, size 7, "\4PING", TTL 10 deciseconds big-endian, no
 *    context); answering nothing, it reads EOF no sooner than ~TIMEOUT after
 *    the first PING, and the ROUTER's monitor reports HANDSHAKE_SUCCEEDED then
 *    DISCONNECTED;
 *  - TIMEOUT unset (-1) means IVL: the silent peer is dropped too;
 *  - a PING sent to a socket without heartbeats gets a PONG with the same
 *    context ("\4PONG" + context; a context over 16 bytes is cut to 16; no
 *    context gives a bare "\4PONG"), and messages still flow;
 *  - a PING carrying a TTL (3 deciseconds) makes the receiver drop the
 *    connection when nothing more arrives within that TTL;
 *  - two libzmq sockets heartbeating each other (IVL 50, TIMEOUT 150,
 *    TTL 500 both sides) stay connected across many intervals, and messages
 *    flow before and after. */
#include "testutil.h"

#include <sys/time.h>

static void test_options (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (s);
    CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_IVL), 0);
    CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_TIMEOUT), -1);
    CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_TTL), 0);

    static const int any[] = {0, 1, 99, 150, 6553600, 0x7fffffff, 100};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        test_set_int (s, ZMQ_HEARTBEAT_IVL, any[i]);
        CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_IVL), any[i]);
        test_set_int (s, ZMQ_HEARTBEAT_TIMEOUT, any[i]);
        CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_TIMEOUT), any[i]);
    }
    int v = -1;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HEARTBEAT_IVL, &v, sizeof v), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HEARTBEAT_TIMEOUT, &v, sizeof v),
                 EINVAL);
    CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_IVL), 100);
    CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_TIMEOUT), 100);

    static const struct
    {
        int set, get;
    } ttl[] = {{0, 0},           {1, 0},         {99, 0},
               {100, 100},       {150, 100},     {199, 100},
               {1000, 1000},     {-1, 0},        {-99, 0},
               {6553500, 6553500}, {6553599, 6553500}, {2500, 2500}};
    for (size_t i = 0; i < sizeof ttl / sizeof ttl[0]; i++) {
        test_set_int (s, ZMQ_HEARTBEAT_TTL, ttl[i].set);
        CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_TTL), ttl[i].get);
    }
    static const int bad_ttl[] = {-100, -1000, 6553600, 0x7fffffff};
    for (size_t i = 0; i < sizeof bad_ttl / sizeof bad_ttl[0]; i++)
        CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HEARTBEAT_TTL, &bad_ttl[i],
                                     sizeof (int)),
                     EINVAL);
    CHECK_INT_EQ (test_get_int (s, ZMQ_HEARTBEAT_TTL), 2500);

    short small = 5;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HEARTBEAT_IVL, &small, sizeof small),
                 EINVAL);
    int64_t wide = 5;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HEARTBEAT_TTL, &wide, sizeof wide),
                 EINVAL);
    size_t size = sizeof wide;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_HEARTBEAT_TIMEOUT, &wide, &size),
                 EINVAL);
    test_close_zero_linger (s);
}

/* ---- A raw ZMTP 3.1 peer. ------------------------------------------------ */

/* Reads one ZMTP frame: returns its size, or -1 on a clean EOF before the
 * frame started. */
static int read_frame (int fd, unsigned char *flags, unsigned char *body,
                       size_t max)
{
    ssize_t r = read (fd, flags, 1);
    if (r == 0)
        return -1;
    if (r != 1)
        FAIL ("read returned %d (errno %d)", (int) r, errno);
    uint64_t size;
    if (*flags & 0x02) {
        unsigned char b[8];
        test_read_exactly (fd, b, 8);
        size = 0;
        for (int i = 0; i < 8; i++)
            size = (size << 8) | b[i];
    } else {
        unsigned char b;
        test_read_exactly (fd, &b, 1);
        size = b;
    }
    CHECK (size <= max);
    test_read_exactly (fd, body, (size_t) size);
    return (int) size;
}

/* Connects to port and completes the NULL handshake as a ZMTP 3.1 DEALER. */
static int raw_peer (int port)
{
    int fd = test_raw_connect (port);
    struct timeval tv = {3, 0};
    CHECK (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);

    unsigned char g[64];
    memset (g, 0, sizeof g);
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 1;
    memcpy (g + 12, "NULL", 4);
    test_write_all (fd, g, sizeof g);
    static const unsigned char ready[] =
      "\x04\x1c\x05READY\x0bSocket-Type\x00\x00\x00\x06"
      "DEALER";
    test_write_all (fd, ready, sizeof ready - 1);

    unsigned char peer[64];
    test_read_exactly (fd, peer, sizeof peer);
    CHECK (peer[0] == 0xff && peer[9] == 0x7f && peer[10] == 3);
    CHECK (memcmp (peer + 12, "NULL\0", 5) == 0);
    unsigned char flags, body[256];
    int n = read_frame (fd, &flags, body, sizeof body);
    CHECK (n >= 6);
    CHECK_INT_EQ (flags, 0x04);
    CHECK (memcmp (body, "\x05READY", 6) == 0);
    return fd;
}

static uint32_t expect_event (void *mon, int event)
{
    unsigned char buf[6];
    CHECK_INT_EQ (zmq_recv (mon, buf, sizeof buf, 0), 6);
    uint16_t got;
    uint32_t value;
    memcpy (&got, buf, 2);
    memcpy (&value, buf + 2, 4);
    if (got != event)
        FAIL ("event 0x%x, expected 0x%x", got, event);
    char addr[TEST_ENDPOINT_MAX];
    CHECK (zmq_recv (mon, addr, sizeof addr, 0) >= 0);
    CHECK_INT_EQ (test_get_int (mon, ZMQ_RCVMORE), 0);
    return value;
}

/* A silent raw peer of a ROUTER with heartbeats gets PINGs, then is dropped
 * no sooner than min_drop_ms after the first PING. */
static void test_silent_peer (void *ctx, int set_timeout)
{
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (router);
    test_set_int (router, ZMQ_HEARTBEAT_IVL, 100);
    int timeout = 100;
    if (set_timeout) {
        timeout = 300;
        test_set_int (router, ZMQ_HEARTBEAT_TIMEOUT, timeout);
    }
    test_set_int (router, ZMQ_HEARTBEAT_TTL, 1000);
    void *mon = test_monitor (ctx, router,
                         set_timeout ? "inproc://hb-silent-timeout"
                                     : "inproc://hb-silent-default",
                         ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                           | ZMQ_EVENT_DISCONNECTED);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (router, "tcp", ep);
    int64_t t0 = test_now_ms ();
    int fd = raw_peer (test_port_of (ep));
    expect_event (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);

    unsigned char flags, body[64];
    int pings = 0;
    int64_t first_ping = 0;
    while (1) {
        int n = read_frame (fd, &flags, body, sizeof body);
        if (n == -1)
            break;
        CHECK_INT_EQ (flags, 0x04);
        CHECK_INT_EQ (n, 7);
        CHECK (memcmp (body, "\x04PING\x00\x0a", 7) == 0);
        if (pings++ == 0) {
            first_ping = test_now_ms ();
            CHECK (first_ping - t0 < 1000);
        }
        CHECK (pings < 50);
    }
    int64_t dropped = test_now_ms ();
    CHECK (pings >= 1);
    CHECK (dropped - first_ping >= timeout - 50);
    CHECK (dropped - first_ping < 3000);
    expect_event (mon, ZMQ_EVENT_DISCONNECTED);
    close (fd);
    test_close_zero_linger (router);
    test_close_zero_linger (mon);
}

/* Sends PING (ttl in deciseconds, context) and expects the PONG. */
static void ping_pong (int fd, unsigned ttl, const char *context,
                       size_t context_len, size_t pong_len)
{
    unsigned char ping[64];
    ping[0] = 0x04;
    ping[1] = (unsigned char) (7 + context_len);
    memcpy (ping + 2, "\x04PING", 5);
    ping[7] = (unsigned char) (ttl >> 8);
    ping[8] = (unsigned char) ttl;
    memcpy (ping + 9, context, context_len);
    test_write_all (fd, ping, 9 + context_len);
    unsigned char flags, body[64];
    int n = read_frame (fd, &flags, body, sizeof body);
    CHECK_INT_EQ (flags, 0x04);
    CHECK_INT_EQ (n, 5 + (int) pong_len);
    CHECK (memcmp (body, "\x04PONG", 5) == 0);
    CHECK (memcmp (body + 5, context, pong_len) == 0);
}

static void test_pong (void *ctx)
{
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (dealer);
    test_set_int (dealer, ZMQ_RCVTIMEO, 5000);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (dealer, "tcp", ep);
    int fd = raw_peer (test_port_of (ep));

    ping_pong (fd, 0, "ctx-1", 5, 5);
    ping_pong (fd, 0, "", 0, 0);
    ping_pong (fd, 0, "0123456789abcdefXYZW", 20, 16);

    //  Messages still flow both ways.
    test_write_all (fd, "\x00\x02hi", 4);
    RECV_STR (dealer, "hi", 0);
    SEND_STR (dealer, "back", 0);
    unsigned char flags, body[64];
    CHECK_INT_EQ (read_frame (fd, &flags, body, sizeof body), 4);
    CHECK_INT_EQ (flags, 0x00);
    CHECK (memcmp (body, "back", 4) == 0);

    close (fd);
    test_close_zero_linger (dealer);
}

static void test_remote_ttl (void *ctx)
{
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (dealer);
    void *mon = test_monitor (ctx, dealer, "inproc://hb-remote-ttl",
                         ZMQ_EVENT_DISCONNECTED);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (dealer, "tcp", ep);
    int fd = raw_peer (test_port_of (ep));

    //  A PING announcing a TTL of 3 deciseconds; then silence.
    int64_t t0 = test_now_ms ();
    ping_pong (fd, 3, "t", 1, 1);
    unsigned char flags, body[64];
    CHECK_INT_EQ (read_frame (fd, &flags, body, sizeof body), -1);
    int64_t elapsed = test_now_ms () - t0;
    CHECK (elapsed >= 250 && elapsed < 3000);
    expect_event (mon, ZMQ_EVENT_DISCONNECTED);
    close (fd);
    test_close_zero_linger (dealer);
    test_close_zero_linger (mon);
}

static void test_both_sides (void *ctx)
{
    void *server = zmq_socket (ctx, ZMQ_DEALER);
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (server && client);
    void *socks[2] = {server, client};
    for (int i = 0; i < 2; i++) {
        test_set_int (socks[i], ZMQ_HEARTBEAT_IVL, 50);
        test_set_int (socks[i], ZMQ_HEARTBEAT_TIMEOUT, 150);
        test_set_int (socks[i], ZMQ_HEARTBEAT_TTL, 500);
        test_set_int (socks[i], ZMQ_RCVTIMEO, 5000);
    }
    void *smon = test_monitor (ctx, server, "inproc://hb-both-server",
                          ZMQ_EVENT_DISCONNECTED);
    void *cmon = test_monitor (ctx, client, "inproc://hb-both-client",
                          ZMQ_EVENT_DISCONNECTED);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (server, "tcp", ep);
    CHECK_OK (zmq_connect (client, ep));
    test_bounce (server, client);
    //  Ten heartbeat intervals, three timeouts and a TTL pass in silence.
    CHECK_NOTHING_WITHIN (server, 600);
    CHECK_NOTHING_WITHIN (smon, 0);
    CHECK_NOTHING_WITHIN (cmon, 0);
    test_bounce (server, client);
    test_close_zero_linger (client);
    test_close_zero_linger (server);
    test_close_zero_linger (smon);
    test_close_zero_linger (cmon);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_options (ctx);
    test_silent_peer (ctx, 1);
    test_silent_peer (ctx, 0);
    test_pong (ctx);
    test_remote_ttl (ctx);
    test_both_sides (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
