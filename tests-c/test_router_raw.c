/* ZMQ_ROUTER_RAW (deprecated, zmq_setsockopt(3)): a ROUTER that talks raw
 * TCP, as a STREAM socket does.
 *
 * Pins (observed on libzmq 4.3.4):
 *  - ROUTER and REP take any int >= 0 (REP to no visible effect); other
 *    types and negative values fail with EINVAL; the option is write-only;
 *  - a raw tcp client is announced by [id, ""]; its bytes arrive as
 *    [id, bytes]; [id, bytes] writes them back unframed; the client's close
 *    is announced by [id, ""].
 * Not pinned: sending [id, ""]. The man page says it closes the connection;
 * libzmq 4.3.4 drops the connection's pipe but leaves the TCP connection
 * open (later data to the id is dropped, the client never sees EOF). Ours
 * closes it, as STREAM does. */
#include "testutil.h"

static void test_option_rules (void *ctx)
{
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (router && rep && dealer);
    int v = -1;
    CHECK_ERRNO (zmq_setsockopt (router, ZMQ_ROUTER_RAW, &v, sizeof v), EINVAL);
    v = 0;
    CHECK_OK (zmq_setsockopt (router, ZMQ_ROUTER_RAW, &v, sizeof v));
    CHECK_OK (zmq_setsockopt (rep, ZMQ_ROUTER_RAW, &v, sizeof v));
    CHECK_ERRNO (zmq_setsockopt (dealer, ZMQ_ROUTER_RAW, &v, sizeof v), EINVAL);
    size_t len = sizeof v;
    CHECK_ERRNO (zmq_getsockopt (router, ZMQ_ROUTER_RAW, &v, &len), EINVAL);
    test_close_zero_linger (router);
    test_close_zero_linger (rep);
    test_close_zero_linger (dealer);
}

static void test_raw_conversation (void *ctx)
{
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (router);
    test_set_int (router, ZMQ_ROUTER_RAW, 1);
    test_set_int (router, ZMQ_RCVTIMEO, 5000);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (router, "tcp", ep);
    int fd = test_raw_connect (test_port_of (ep));

    //  The connection is announced by an empty message.
    unsigned char id[256];
    int idlen = zmq_recv (router, id, sizeof id, 0);
    CHECK (idlen > 0);
    CHECK_INT_EQ (test_get_int (router, ZMQ_RCVMORE), 1);
    test_recv_bytes (router, "", 0, 0);

    //  Raw bytes in, as [id, bytes].
    test_write_all (fd, "GET / HTTP/1.0\r\n\r\n", 18);
    unsigned char got_id[256];
    CHECK_INT_EQ (zmq_recv (router, got_id, sizeof got_id, 0), idlen);
    CHECK (memcmp (got_id, id, (size_t) idlen) == 0);
    test_recv_bytes (router, "GET / HTTP/1.0\r\n\r\n", 18, 0);

    //  Raw bytes out, with no framing.
    test_send_bytes (router, id, (size_t) idlen, ZMQ_SNDMORE);
    test_send_bytes (router, "HTTP/1.0 200 OK\r\n", 17, 0);
    unsigned char reply[17];
    test_read_exactly (fd, reply, sizeof reply);
    CHECK (memcmp (reply, "HTTP/1.0 200 OK\r\n", sizeof reply) == 0);

    //  The client's close is announced by an empty message.
    close (fd);
    CHECK_INT_EQ (zmq_recv (router, got_id, sizeof got_id, 0), idlen);
    CHECK (memcmp (got_id, id, (size_t) idlen) == 0);
    test_recv_bytes (router, "", 0, 0);
    test_close_zero_linger (router);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_option_rules (ctx);
    test_raw_conversation (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
