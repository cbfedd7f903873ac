/* Replies and the messages after them arrive whole and in order, over every
 * transport, whatever their sizes.
 *
 * Ours writes a reply (a message sent after one was received) straight to an
 * idle tcp/ipc connection from the sending thread, and everything else
 * through the pipe and the I/O thread; a reply larger than the socket's
 * buffer is written in part, and the I/O thread finishes it. These checks
 * hold for any correct library, so they run on libzmq too.
 *
 * Pins:
 *  - REQ/REP round trips with bodies from 0 bytes to 4 MiB (beyond any
 *    socket buffer), multipart replies [s/3, 0, s], every byte checked;
 *  - DEALER/ROUTER: for each request the ROUTER answers with a burst (the
 *    first message large, the rest small, then a large one again), so a
 *    partly written reply is followed by queued messages: the DEALER gets
 *    every message of every burst, in order, intact;
 *  - a REP whose REQ went away (closed, linger 0) still sends its reply:
 *    zmq_send succeeds (the reply is dropped) and the process is not
 *    killed by SIGPIPE (the default disposition is kept here);
 *  - after all that, the REP still serves a new REQ;
 *  - a REQ whose server goes away while it waits for the answer (its
 *    connection closes under it) times out with EAGAIN after its
 *    ZMQ_RCVTIMEO, as with any silent server;
 *  - a server that replies with 4 MiB (more than the socket takes at once)
 *    and at once closes its socket and terminates its context (default
 *    linger) still delivers the whole reply to a client in another
 *    context; so does a bound PUSH that queues 4 MiB messages and closes
 *    at once (through the pipe: a PUSH sends no replies);
 *  - a PUSH that queues three 4 MiB messages on a connection and then
 *    disconnects it still delivers them (a disconnect lingers, as a close
 *    does);
 *  - a bound socket closed before it ever looked at a connection that
 *    completed its handshake (no send, recv or poll in between) lets its
 *    context terminate while the peer stays connected. */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>

#define BIG (4 * 1024 * 1024)

/* The bytes of the frame being sent or checked; each thread has its own. */
static __thread unsigned char *scratch;

static void fill (unsigned char *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char) (seed * 131u + i * 7u + (i >> 9));
}

static void send_frame (void *sock, size_t len, unsigned seed, int flags)
{
    fill (scratch, len, seed);
    int n = zmq_send (sock, scratch, len, flags);
    if (n != (int) len)
        FAIL ("send of %zu bytes returned %d: %s", len, n,
              zmq_strerror (errno));
}

static void recv_frame (void *sock, size_t len, unsigned seed, int more)
{
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    if (zmq_msg_recv (&msg, sock, 0) == -1)
        FAIL ("recv of %zu bytes (seed %u) failed: %s", len, seed,
              zmq_strerror (errno));
    if (zmq_msg_size (&msg) != len)
        FAIL ("got %zu bytes, expected %zu (seed %u)", zmq_msg_size (&msg),
              len, seed);
    fill (scratch, len, seed);
    if (len && memcmp (zmq_msg_data (&msg), scratch, len) != 0)
        FAIL ("bytes of a %zu-byte frame (seed %u) differ", len, seed);
    CHECK_INT_EQ (zmq_msg_more (&msg), more);
    CHECK_OK (zmq_msg_close (&msg));
}

static const size_t sizes[] = {0, 1, 33, 255, 256, 8191, 65536, 300000, BIG, 7};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* A REQ with the given receive timeout, connected to ep. */
static void *new_req (void *ctx, const char *ep, int rcvtimeo)
{
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (req);
    test_set_int (req, ZMQ_RCVTIMEO, rcvtimeo);
    CHECK_OK (zmq_connect (req, ep));
    return req;
}

/* A REP bound to a fresh endpoint of transport (stored in ep). */
static void *new_rep (void *ctx, const char *transport, char *ep)
{
    void *rep = zmq_socket (ctx, ZMQ_REP);
    CHECK (rep);
    test_set_int (rep, ZMQ_RCVTIMEO, 10000);
    test_bind_any (rep, transport, ep);
    return rep;
}

/* One request of qsize bytes and its one-frame reply of asize bytes. */
static void round_trip (void *req, void *rep, size_t qsize, size_t asize,
                        unsigned seed)
{
    send_frame (req, qsize, seed, 0);
    recv_frame (rep, qsize, seed, 0);
    send_frame (rep, asize, seed + 1, 0);
    recv_frame (req, asize, seed + 1, 0);
}

static void test_req_rep (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *rep = new_rep (ctx, transport, ep);
    void *req = new_req (ctx, ep, 10000);
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < NSIZES; i++) {
            const size_t s = sizes[i];
            const unsigned seed = round * 100 + i;
            send_frame (req, s, seed, 0);
            recv_frame (rep, s, seed, 0);
            send_frame (rep, s / 3, seed + 1, ZMQ_SNDMORE);
            send_frame (rep, 0, 0, ZMQ_SNDMORE);
            send_frame (rep, s, seed + 2, 0);
            recv_frame (req, s / 3, seed + 1, 1);
            recv_frame (req, 0, 0, 1);
            recv_frame (req, s, seed + 2, 0);
        }
    }
    test_close_zero_linger (req);

    //  A new requester on the same REP, with a reply beyond the buffers.
    req = new_req (ctx, ep, 10000);
    round_trip (req, rep, 100, BIG, 5);
    test_close_zero_linger (req);

    //  The requester vanishes before the reply: the reply is dropped.
    req = new_req (ctx, ep, 10000);
    send_frame (req, 10, 7, 0);
    recv_frame (rep, 10, 7, 0);
    test_close_zero_linger (req);
    send_frame (rep, BIG, 8, 0);

    req = new_req (ctx, ep, 10000);
    round_trip (req, rep, 3, 4, 9);
    test_close_zero_linger (req);
    test_close_zero_linger (rep);
}

static void test_server_vanishes (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *rep = new_rep (ctx, transport, ep);
    void *req = new_req (ctx, ep, 300);
    for (unsigned i = 0; i < 3; i++)
        round_trip (req, rep, 10, 20, 10 * i);
    send_frame (req, 10, 3, 0);
    recv_frame (rep, 10, 3, 0);
    test_close_zero_linger (rep);
    char buf[8];
    const int64_t start = test_now_ms ();
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, 0), EAGAIN);
    CHECK (test_now_ms () - start >= 250);
    test_close_zero_linger (req);
}

/* A client thread, in a context of its own, of a server that closes and
 * terminates its context (default linger) while the client is still to
 * read: the client's body, and its context and endpoint. */
typedef struct
{
    void (*body) (void *ctx, const char *ep);
    void *ctx;
    char ep[TEST_ENDPOINT_MAX];
    pthread_t thread;
} client_t;

static void *client_main (void *arg)
{
    client_t *c = arg;
    scratch = malloc (BIG);
    CHECK (scratch);
    c->body (c->ctx, c->ep);
    free (scratch);
    return NULL;
}

static void start_client (client_t *c)
{
    CHECK (pthread_create (&c->thread, NULL, client_main, c) == 0);
}

static void end_server (void *server, void *sctx, client_t *c)
{
    CHECK_OK (zmq_close (server));
    CHECK_OK (zmq_ctx_term (sctx));
    CHECK (pthread_join (c->thread, NULL) == 0);
    CHECK_OK (zmq_ctx_term (c->ctx));
}

static void req_reads_slowly (void *ctx, const char *ep)
{
    void *req = new_req (ctx, ep, 10000);
    send_frame (req, 1, 0, 0);
    recv_frame (req, 0, 1, 0);
    send_frame (req, 5, 21, 0);
    test_sleep_ms (50); // the server has closed by now, its reply half sent
    recv_frame (req, BIG, 22, 0);
    test_close_zero_linger (req);
}

static void test_reply_survives_close (const char *transport)
{
    void *sctx = zmq_ctx_new ();
    client_t c = {req_reads_slowly, zmq_ctx_new (), "", 0};
    CHECK (sctx && c.ctx);
    void *rep = new_rep (sctx, transport, c.ep);
    start_client (&c);
    recv_frame (rep, 1, 0, 0);
    send_frame (rep, 0, 1, 0);
    recv_frame (rep, 5, 21, 0);
    send_frame (rep, BIG, 22, 0);
    end_server (rep, sctx, &c);
}

static void pull_reads_slowly (void *ctx, const char *ep)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    test_set_int (pull, ZMQ_RCVTIMEO, 10000);
    CHECK_OK (zmq_connect (pull, ep));
    recv_frame (pull, 1, 30, 0);
    test_sleep_ms (50); // the server has closed by now
    for (unsigned i = 0; i < 3; i++)
        recv_frame (pull, BIG, 31 + i, 0);
    test_close_zero_linger (pull);
}

static void test_push_survives_close (const char *transport)
{
    void *sctx = zmq_ctx_new ();
    client_t c = {pull_reads_slowly, zmq_ctx_new (), "", 0};
    CHECK (sctx && c.ctx);
    void *push = zmq_socket (sctx, ZMQ_PUSH);
    CHECK (push);
    test_bind_any (push, transport, c.ep);
    start_client (&c);
    send_frame (push, 1, 30, 0); // waits for the connection
    for (unsigned i = 0; i < 3; i++)
        send_frame (push, BIG, 31 + i, 0);
    end_server (push, sctx, &c);
}

static void test_disconnect_delivers (void *ctx, const char *transport)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (pull && push);
    test_set_int (pull, ZMQ_RCVTIMEO, 10000);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pull, transport, ep);
    CHECK_OK (zmq_connect (push, ep));
    send_frame (push, 1, 40, 0);
    recv_frame (pull, 1, 40, 0);
    for (unsigned i = 0; i < 3; i++)
        send_frame (push, BIG, 41 + i, 0);
    CHECK_OK (zmq_disconnect (push, ep));
    for (unsigned i = 0; i < 3; i++)
        recv_frame (pull, BIG, 41 + i, 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

static void test_close_before_attach (const char *transport)
{
    void *sctx = zmq_ctx_new ();
    void *cctx = zmq_ctx_new ();
    CHECK (sctx && cctx);
    char ep[TEST_ENDPOINT_MAX];
    void *rep = new_rep (sctx, transport, ep);
    void *mon = test_monitor (sctx, rep, "inproc://close-before-attach",
                              ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    void *req = new_req (cctx, ep, 10000);
    test_expect_event (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, NULL);
    test_sleep_ms (50); // the session hands its pipe to the socket meanwhile
    test_close_zero_linger (mon);
    CHECK_OK (zmq_close (rep));
    CHECK_OK (zmq_ctx_term (sctx));
    test_close_zero_linger (req);
    CHECK_OK (zmq_ctx_term (cctx));
}

#define BURST 200

static void test_bursts (void *ctx, const char *transport)
{
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (router && dealer);
    test_set_int (router, ZMQ_RCVTIMEO, 10000);
    test_set_int (dealer, ZMQ_RCVTIMEO, 10000);
    test_set_int (router, ZMQ_SNDHWM, 0);
    test_set_int (dealer, ZMQ_RCVHWM, 0);
    CHECK_OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "D", 1));
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (router, transport, ep);
    CHECK_OK (zmq_connect (dealer, ep));
    for (unsigned round = 0; round < 4; round++) {
        send_frame (dealer, 16, round, 0);
        char id[8];
        CHECK_INT_EQ (zmq_recv (router, id, sizeof id, 0), 1);
        recv_frame (router, 16, round, 0);
        for (unsigned k = 0; k < BURST; k++) {
            const size_t s = (k == 0 || k == BURST - 1) ? BIG : 1 + k % 40;
            CHECK_INT_EQ (zmq_send (router, "D", 1, ZMQ_SNDMORE), 1);
            send_frame (router, s, round * 1000 + k, 0);
        }
        for (unsigned k = 0; k < BURST; k++) {
            const size_t s = (k == 0 || k == BURST - 1) ? BIG : 1 + k % 40;
            recv_frame (dealer, s, round * 1000 + k, 0);
        }
    }
    test_close_zero_linger (dealer);
    test_close_zero_linger (router);
}

int main (void)
{
    test_init ();
    scratch = malloc (BIG);
    CHECK (scratch);
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++) {
        test_req_rep (ctx, test_transports[t]);
        test_bursts (ctx, test_transports[t]);
        test_server_vanishes (ctx, test_transports[t]);
        if (strcmp (test_transports[t], "inproc") != 0)
        {
            test_reply_survives_close (test_transports[t]);
            test_push_survives_close (test_transports[t]);
            test_disconnect_delivers (ctx, test_transports[t]);
            test_close_before_attach (test_transports[t]);
        }
    }
    CHECK_OK (zmq_ctx_term (ctx));
    free (scratch);
    printf ("test_reply_order: ok\n");
    return 0;
}
