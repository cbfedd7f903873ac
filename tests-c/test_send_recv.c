/* The send/recv API family on connected sockets.
 *
 * Pins (PAIR sockets; inproc, tcp and ipc where the wire matters):
 *  - zmq_recv into a short buffer returns the full message size and copies
 *    only len bytes (the rest of the buffer untouched); len 0 with a NULL
 *    buffer works the same way;
 *  - zmq_send_const sends the bytes and returns their count;
 *  - zmq_msg_send returns the size and leaves the zmq_msg_t empty (size 0,
 *    reusable); zmq_msg_recv returns the size and replaces previous content;
 *    zmq_sendmsg / zmq_recvmsg behave the same;
 *  - zmq_sendiov (ZMQ_SNDMORE: every iovec but the last carries MORE)
 *    returns the size of the last part; zmq_recviov returns the number of
 *    parts read, sets *count, allocates every iov_base with malloc, and
 *    stops at *count parts leaving the rest for later; both give EINVAL
 *    for a NULL array or a zero count;
 *  - ZMQ_SNDMORE: a half-sent multipart message is invisible to the
 *    receiver (EAGAIN, not readable) until its last part is sent, then all
 *    parts arrive with ZMQ_RCVMORE / zmq_msg_more / zmq_msg_get (ZMQ_MORE)
 *    set on all but the last;
 *  - ZMQ_DONTWAIT on an empty socket -> EAGAIN; ZMQ_RCVTIMEO / ZMQ_SNDTIMEO
 *    0 -> EAGAIN at once; 100 -> EAGAIN after at least ~100 ms; -1 default;
 *  - zero-length messages and a 1 MiB message arrive intact;
 *  - every size from 0 to 200 bytes (across the sizes a message is kept
 *    inline, and those a pipe carries as bytes), as single frames and as
 *    two-part messages, arrives intact when received again and again into
 *    the same zmq_msg_t; a zmq_msg_copy of a received message keeps its
 *    bytes while the original receives the next one; each keeps the
 *    connection's metadata;
 *  - a failed zmq_msg_send (EAGAIN) leaves the message with the caller
 *    (content intact, still to be closed);
 *  - zmq_msg_get (ZMQ_SRCFD) is -1 for inproc and, over tcp, the fd of the
 *    receiving side's connection (its local port is the bound port);
 *  - metadata: over tcp/ipc zmq_msg_gets gives "Socket-Type" (the peer's
 *    type, "PAIR") and over tcp "Peer-Address" "127.0.0.1"; over inproc a
 *    message has no metadata (NULL, EINVAL). */
#include "testutil.h"

#include <sys/uio.h>

static void make_pair (void *ctx, const char *transport, void **a, void **b)
{
    *a = zmq_socket (ctx, ZMQ_PAIR);
    *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (*a && *b);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (*a, transport, ep);
    CHECK_OK (zmq_connect (*b, ep));
    test_bounce (*a, *b);
}

static void test_truncation (void *a, void *b)
{
    char buf[8];
    memset (buf, '#', sizeof buf);
    CHECK_INT_EQ (zmq_send (a, "0123456789", 10, 0), 10);
    CHECK_INT_EQ (zmq_recv (b, buf, 4, 0), 10);
    CHECK (memcmp (buf, "0123####", 8) == 0);
    CHECK_INT_EQ (test_get_int (b, ZMQ_RCVMORE), 0);

    CHECK_INT_EQ (zmq_send (a, "abc", 3, 0), 3);
    CHECK_INT_EQ (zmq_recv (b, NULL, 0, 0), 3);
}

static const char const_data[] = "constant data";

static void test_send_const (void *a, void *b)
{
    CHECK_INT_EQ (zmq_send_const (a, const_data, 8, ZMQ_SNDMORE), 8);
    CHECK_INT_EQ (zmq_send_const (a, const_data + 9, 4, 0), 4);
    RECV_STR (b, "constant", 1);
    RECV_STR (b, "data", 0);
}

static void test_msg_api (void *a, void *b)
{
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init_size (&msg, 5));
    memcpy (zmq_msg_data (&msg), "hello", 5);
    CHECK_INT_EQ (zmq_msg_send (&msg, a, ZMQ_SNDMORE), 5);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    //  The emptied message can be sent again (an empty frame).
    CHECK_INT_EQ (zmq_msg_send (&msg, a, ZMQ_SNDMORE), 0);
    CHECK_OK (zmq_msg_close (&msg));
    CHECK_OK (zmq_msg_init_size (&msg, 3));
    memcpy (zmq_msg_data (&msg), "end", 3);
    CHECK_INT_EQ (zmq_sendmsg (a, &msg, 0), 3);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK_OK (zmq_msg_close (&msg));

    zmq_msg_t in;
    CHECK_OK (zmq_msg_init_size (&in, 100));
    memset (zmq_msg_data (&in), 'z', 100);
    CHECK_INT_EQ (zmq_msg_recv (&in, b, 0), 5);
    CHECK_INT_EQ (zmq_msg_size (&in), 5);
    CHECK (memcmp (zmq_msg_data (&in), "hello", 5) == 0);
    CHECK_INT_EQ (zmq_msg_more (&in), 1);
    CHECK_INT_EQ (zmq_msg_get (&in, ZMQ_MORE), 1);
    CHECK_INT_EQ (zmq_recvmsg (b, &in, 0), 0);
    CHECK_INT_EQ (zmq_msg_size (&in), 0);
    CHECK_INT_EQ (zmq_msg_more (&in), 1);
    CHECK_INT_EQ (zmq_msg_recv (&in, b, 0), 3);
    CHECK (memcmp (zmq_msg_data (&in), "end", 3) == 0);
    CHECK_INT_EQ (zmq_msg_more (&in), 0);
    CHECK_INT_EQ (zmq_msg_get (&in, ZMQ_MORE), 0);
    CHECK_INT_EQ (test_get_int (b, ZMQ_RCVMORE), 0);
    CHECK_OK (zmq_msg_close (&in));
}

static void test_iov (void *a, void *b)
{
    struct iovec out[3] = {{(void *) "one", 3}, {(void *) "", 0},
                           {(void *) "three!", 6}};
    CHECK_INT_EQ (zmq_sendiov (a, out, 3, ZMQ_SNDMORE), 6);

    struct iovec in[8];
    size_t count = 8;
    CHECK_INT_EQ (zmq_recviov (b, in, &count, 0), 3);
    CHECK_INT_EQ (count, 3);
    CHECK_INT_EQ (in[0].iov_len, 3);
    CHECK (memcmp (in[0].iov_base, "one", 3) == 0);
    CHECK_INT_EQ (in[1].iov_len, 0);
    CHECK_INT_EQ (in[2].iov_len, 6);
    CHECK (memcmp (in[2].iov_base, "three!", 6) == 0);
    for (int i = 0; i < 3; i++)
        free (in[i].iov_base);

    //  A 3-part message read with room for 2: the third stays queued.
    CHECK_INT_EQ (zmq_sendiov (a, out, 3, ZMQ_SNDMORE), 6);
    count = 2;
    CHECK_INT_EQ (zmq_recviov (b, in, &count, 0), 2);
    CHECK_INT_EQ (count, 2);
    CHECK_INT_EQ (in[0].iov_len, 3);
    CHECK_INT_EQ (in[1].iov_len, 0);
    free (in[0].iov_base);
    free (in[1].iov_base);
    CHECK_INT_EQ (test_get_int (b, ZMQ_RCVMORE), 1);
    RECV_STR (b, "three!", 0);

    //  Single part.
    CHECK_INT_EQ (zmq_sendiov (a, out + 2, 1, 0), 6);
    count = 4;
    CHECK_INT_EQ (zmq_recviov (b, in, &count, 0), 1);
    CHECK_INT_EQ (count, 1);
    CHECK_INT_EQ (in[0].iov_len, 6);
    free (in[0].iov_base);

    //  Argument errors.
    CHECK_ERRNO (zmq_sendiov (a, NULL, 1, 0), EINVAL);
    CHECK_ERRNO (zmq_sendiov (a, out, 0, 0), EINVAL);
    count = 0;
    CHECK_ERRNO (zmq_recviov (b, in, &count, 0), EINVAL);
    count = 1;
    CHECK_ERRNO (zmq_recviov (b, NULL, &count, 0), EINVAL);
    CHECK_ERRNO (zmq_recviov (b, in, NULL, 0), EINVAL);
    //  Nothing pending: EAGAIN with DONTWAIT.
    count = 1;
    CHECK_ERRNO (zmq_recviov (b, in, &count, ZMQ_DONTWAIT), EAGAIN);
}

static void test_atomicity (void *a, void *b)
{
    char buf[16];
    SEND_STR (a, "part1", ZMQ_SNDMORE);
    SEND_STR (a, "part2", ZMQ_SNDMORE);
    CHECK (!test_wait_readable (b, 100));
    CHECK_ERRNO (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    SEND_STR (a, "part3", 0);
    RECV_STR (b, "part1", 1);
    RECV_STR (b, "part2", 1);
    RECV_STR (b, "part3", 0);
}

static void test_empty_and_large (void *a, void *b)
{
    CHECK_INT_EQ (zmq_send (a, NULL, 0, 0), 0);
    CHECK_INT_EQ (zmq_send (a, "", 0, ZMQ_SNDMORE), 0);
    CHECK_INT_EQ (zmq_send (a, "", 0, 0), 0);
    RECV_STR (b, "", 0);
    RECV_STR (b, "", 1);
    RECV_STR (b, "", 0);

    const size_t big = 1024 * 1024;
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init_size (&msg, big));
    unsigned char *p = (unsigned char *) zmq_msg_data (&msg);
    for (size_t i = 0; i < big; i++)
        p[i] = (unsigned char) (i * 7 + (i >> 11));
    CHECK_INT_EQ (zmq_msg_send (&msg, a, 0), big);
    CHECK_OK (zmq_msg_close (&msg));
    CHECK_OK (zmq_msg_init (&msg));
    CHECK_INT_EQ (zmq_msg_recv (&msg, b, 0), big);
    p = (unsigned char *) zmq_msg_data (&msg);
    for (size_t i = 0; i < big; i++)
        if (p[i] != (unsigned char) (i * 7 + (i >> 11)))
            FAIL ("byte %zu differs", i);
    CHECK_OK (zmq_msg_close (&msg));
}

static unsigned char pattern_byte (size_t size, size_t i)
{
    return (unsigned char) (size * 31 + i * 7 + 1);
}

static void send_pattern (void *s, size_t size, int flags)
{
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init_size (&msg, size));
    unsigned char *p = (unsigned char *) zmq_msg_data (&msg);
    for (size_t i = 0; i < size; i++)
        p[i] = pattern_byte (size, i);
    CHECK_INT_EQ (zmq_msg_send (&msg, s, flags), (int) size);
    CHECK_OK (zmq_msg_close (&msg));
}

static void check_pattern (zmq_msg_t *msg, size_t size, int more,
                           const char *transport)
{
    CHECK_INT_EQ (zmq_msg_size (msg), size);
    CHECK_INT_EQ (zmq_msg_more (msg), more);
    const unsigned char *p = (const unsigned char *) zmq_msg_data (msg);
    for (size_t i = 0; i < size; i++)
        if (p[i] != pattern_byte (size, i))
            FAIL ("size %zu: byte %zu differs", size, i);
    if (strcmp (transport, "tcp") == 0)
        CHECK_STR_EQ (zmq_msg_gets (msg, "Peer-Address"), "127.0.0.1");
}

static void test_sizes_into_one_msg (void *a, void *b, const char *transport)
{
    zmq_msg_t msg, copy;
    CHECK_OK (zmq_msg_init (&msg));
    CHECK_OK (zmq_msg_init (&copy));
    for (size_t size = 0; size <= 200; size++) {
        send_pattern (a, size, 0);
        send_pattern (a, size, ZMQ_SNDMORE);
        send_pattern (a, 200 - size, 0);
        CHECK_INT_EQ (zmq_msg_recv (&msg, b, 0), (int) size);
        check_pattern (&msg, size, 0, transport);
        if (size % 3 == 0) {
            //  A copy shares what it can; the next receive must not write
            //  into what the copy still holds.
            CHECK_OK (zmq_msg_copy (&copy, &msg));
        }
        CHECK_INT_EQ (zmq_msg_recv (&msg, b, 0), (int) size);
        check_pattern (&msg, size, 1, transport);
        CHECK_INT_EQ (zmq_msg_recv (&msg, b, 0), (int) (200 - size));
        check_pattern (&msg, 200 - size, 0, transport);
        if (size % 3 == 0)
            check_pattern (&copy, size, 0, transport);
    }
    CHECK_OK (zmq_msg_close (&copy));
    CHECK_OK (zmq_msg_close (&msg));
}

static void test_metadata (void *a, void *b, const char *transport)
{
    SEND_STR (a, "meta", 0);
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    CHECK_INT_EQ (zmq_msg_recv (&msg, b, 0), 4);
    int fd = zmq_msg_get (&msg, ZMQ_SRCFD);
    if (strcmp (transport, "inproc") == 0) {
        CHECK_INT_EQ (fd, -1);
        CHECK_NULL_ERRNO (zmq_msg_gets (&msg, "Socket-Type"), EINVAL);
    } else {
        CHECK (fd >= 0);
        CHECK_STR_EQ (zmq_msg_gets (&msg, "Socket-Type"), "PAIR");
        if (strcmp (transport, "tcp") == 0)
            CHECK_STR_EQ (zmq_msg_gets (&msg, "Peer-Address"), "127.0.0.1");
    }
    CHECK_OK (zmq_msg_close (&msg));

    //  On the binding side (a), the fd is the accepted connection, whose
    //  local port is the bound port.
    if (strcmp (transport, "tcp") == 0) {
        SEND_STR (b, "meta", 0);
        CHECK_OK (zmq_msg_init (&msg));
        CHECK_INT_EQ (zmq_msg_recv (&msg, a, 0), 4);
        fd = zmq_msg_get (&msg, ZMQ_SRCFD);
        CHECK (fd >= 0);
        struct sockaddr_in addr;
        socklen_t len = sizeof addr;
        CHECK (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
        char ep[TEST_ENDPOINT_MAX];
        test_last_endpoint (a, ep);
        CHECK_INT_EQ (ntohs (addr.sin_port), atoi (strrchr (ep, ':') + 1));
        CHECK_OK (zmq_msg_close (&msg));
    }
}

static void test_on_transport (void *ctx, const char *transport)
{
    void *a, *b;
    make_pair (ctx, transport, &a, &b);
    test_truncation (a, b);
    test_send_const (a, b);
    test_msg_api (a, b);
    test_iov (a, b);
    test_atomicity (a, b);
    test_empty_and_large (a, b);
    test_sizes_into_one_msg (a, b, transport);
    test_metadata (a, b, transport);
    CHECK_NOTHING_WITHIN (a, 0);
    CHECK_NOTHING_WITHIN (b, 0);
    test_close_zero_linger (a);
    test_close_zero_linger (b);
}

static void test_timeouts (void *ctx)
{
    char buf[8];
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s);
    CHECK_INT_EQ (test_get_int (s, ZMQ_RCVTIMEO), -1);
    CHECK_INT_EQ (test_get_int (s, ZMQ_SNDTIMEO), -1);
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_send (s, "x", 1, ZMQ_DONTWAIT), EAGAIN);

    test_set_int (s, ZMQ_RCVTIMEO, 0);
    test_set_int (s, ZMQ_SNDTIMEO, 0);
    int64_t t0 = test_now_ms ();
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, 0), EAGAIN);
    CHECK_ERRNO (zmq_send (s, "x", 1, 0), EAGAIN);
    CHECK (test_now_ms () - t0 < 500);

    test_set_int (s, ZMQ_RCVTIMEO, 100);
    test_set_int (s, ZMQ_SNDTIMEO, 100);
    CHECK_INT_EQ (test_get_int (s, ZMQ_RCVTIMEO), 100);
    t0 = test_now_ms ();
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, 0), EAGAIN);
    int64_t e = test_now_ms () - t0;
    CHECK (e >= 95 && e < 2000);
    t0 = test_now_ms ();
    CHECK_ERRNO (zmq_send (s, "x", 1, 0), EAGAIN);
    e = test_now_ms () - t0;
    CHECK (e >= 95 && e < 2000);
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    t0 = test_now_ms ();
    CHECK_ERRNO (zmq_msg_recv (&msg, s, 0), EAGAIN);
    e = test_now_ms () - t0;
    CHECK (e >= 95 && e < 2000);
    //  DONTWAIT overrides a timeout.
    t0 = test_now_ms ();
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK (test_now_ms () - t0 < 500);

    //  A failed send leaves the message (and its content) with the caller.
    CHECK_OK (zmq_msg_close (&msg));
    CHECK_OK (zmq_msg_init_size (&msg, 4));
    memcpy (zmq_msg_data (&msg), "keep", 4);
    CHECK_ERRNO (zmq_msg_send (&msg, s, ZMQ_DONTWAIT), EAGAIN);
    CHECK_INT_EQ (zmq_msg_size (&msg), 4);
    CHECK (memcmp (zmq_msg_data (&msg), "keep", 4) == 0);
    CHECK_OK (zmq_msg_close (&msg));
    test_close_zero_linger (s);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++)
        test_on_transport (ctx, test_transports[t]);
    test_timeouts (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
