/* PUSH/PULL pipeline semantics (RFC 30).
 *
 * Pins:
 *  - a PUSH connected to several PULLs hands out messages round-robin in
 *    connection order (over inproc, tcp and ipc: the connecting side's pipes
 *    exist from zmq_connect on, before the connection is up); a multipart
 *    message goes whole to one PULL and counts once in the rotation; a bound
 *    PUSH with inproc PULLs connecting to it does the same;
 *  - a PULL bound with several inproc PUSHes connected fair-queues: one
 *    message from each peer in turn (A1 B1 C1 A2 B2 C2), a multipart message
 *    is never interleaved with another; over tcp/ipc (a PULL connected to
 *    several bound PUSHes) every message arrives, in order per sender;
 *  - zmq_recv on PUSH and zmq_send on PULL -> ENOTSUP;
 *  - PUSH with no peer: zmq_send with ZMQ_DONTWAIT -> EAGAIN; with
 *    ZMQ_SNDTIMEO 100 -> EAGAIN after at least ~100 ms (and well under 2 s);
 *    ZMQ_SNDTIMEO 0 -> EAGAIN at once;
 *  - nothing is dropped while the peer is missing: a PUSH connected to an
 *    inproc name or a tcp port that is bound only later queues its messages
 *    and the PULL, once bound, receives all of them in order; a bound PUSH
 *    whose PULL connects later blocks in zmq_send until the peer arrives and
 *    then delivers. */
#include "testutil.h"

#include <pthread.h>

static void test_round_robin (void *ctx, const char *transport)
{
    enum { N = 3 };
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    void *pulls[N];
    for (int i = 0; i < N; i++) {
        pulls[i] = zmq_socket (ctx, ZMQ_PULL);
        CHECK (pulls[i]);
        char ep[TEST_ENDPOINT_MAX];
        test_bind_any (pulls[i], transport, ep);
        CHECK_OK (zmq_connect (push, ep));
    }
    //  Three rounds; the second message of each round is multipart.
    for (int k = 0; k < 3 * N; k++) {
        char s[16];
        snprintf (s, sizeof s, "m%d", k);
        if (k % N == 1) {
            SEND_STR (push, s, ZMQ_SNDMORE);
            SEND_STR (push, "tail", 0);
        } else
            SEND_STR (push, s, 0);
    }
    for (int k = 0; k < 3 * N; k++) {
        char s[16];
        snprintf (s, sizeof s, "m%d", k);
        if (k % N == 1) {
            RECV_STR (pulls[k % N], s, 1);
            RECV_STR (pulls[k % N], "tail", 0);
        } else
            RECV_STR (pulls[k % N], s, 0);
    }
    for (int i = 0; i < N; i++) {
        CHECK_NOTHING_WITHIN (pulls[i], 0);
        test_close_zero_linger (pulls[i]);
    }
    test_close_zero_linger (push);
}

static void test_bound_push_round_robin (void *ctx)
{
    enum { N = 3 };
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (push, "inproc", ep);
    void *pulls[N];
    for (int i = 0; i < N; i++) {
        pulls[i] = zmq_socket (ctx, ZMQ_PULL);
        CHECK (pulls[i]);
        CHECK_OK (zmq_connect (pulls[i], ep));
    }
    for (int k = 0; k < 2 * N; k++) {
        char s[16];
        snprintf (s, sizeof s, "m%d", k);
        SEND_STR (push, s, 0);
    }
    for (int k = 0; k < 2 * N; k++) {
        char s[16];
        snprintf (s, sizeof s, "m%d", k);
        RECV_STR (pulls[k % N], s, 0);
    }
    for (int i = 0; i < N; i++)
        test_close_zero_linger (pulls[i]);
    test_close_zero_linger (push);
}

static void test_fair_queue_inproc (void *ctx)
{
    enum { N = 3 };
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pull, "inproc", ep);
    void *pushes[N];
    for (int i = 0; i < N; i++) {
        pushes[i] = zmq_socket (ctx, ZMQ_PUSH);
        CHECK (pushes[i]);
        CHECK_OK (zmq_connect (pushes[i], ep));
    }
    //  Each sender queues two messages; the first of B is multipart.
    for (int i = 0; i < N; i++) {
        char s[16];
        snprintf (s, sizeof s, "%c1", 'A' + i);
        if (i == 1) {
            SEND_STR (pushes[i], s, ZMQ_SNDMORE);
            SEND_STR (pushes[i], "more", 0);
        } else
            SEND_STR (pushes[i], s, 0);
        snprintf (s, sizeof s, "%c2", 'A' + i);
        SEND_STR (pushes[i], s, 0);
    }
    for (int round = 1; round <= 2; round++)
        for (int i = 0; i < N; i++) {
            char s[16];
            snprintf (s, sizeof s, "%c%d", 'A' + i, round);
            if (i == 1 && round == 1) {
                RECV_STR (pull, s, 1);
                RECV_STR (pull, "more", 0);
            } else
                RECV_STR (pull, s, 0);
        }
    CHECK_NOTHING_WITHIN (pull, 0);
    for (int i = 0; i < N; i++)
        test_close_zero_linger (pushes[i]);
    test_close_zero_linger (pull);
}

static void test_fair_queue_wire (void *ctx, const char *transport)
{
    enum { N = 3, M = 20 };
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    void *pushes[N];
    for (int i = 0; i < N; i++) {
        pushes[i] = zmq_socket (ctx, ZMQ_PUSH);
        CHECK (pushes[i]);
        char ep[TEST_ENDPOINT_MAX];
        test_bind_any (pushes[i], transport, ep);
        CHECK_OK (zmq_connect (pull, ep));
    }
    for (int k = 0; k < M; k++)
        for (int i = 0; i < N; i++) {
            char s[16];
            snprintf (s, sizeof s, "%c%d", 'A' + i, k);
            SEND_STR (pushes[i], s, ZMQ_SNDMORE);
            SEND_STR (pushes[i], "x", 0);
        }
    int next[N] = {0};
    for (int k = 0; k < N * M; k++) {
        char buf[16];
        int n = zmq_recv (pull, buf, sizeof buf - 1, 0);
        CHECK (n >= 2);
        buf[n] = '\0';
        int who = buf[0] - 'A';
        CHECK (who >= 0 && who < N);
        CHECK_INT_EQ (atoi (buf + 1), next[who]);
        next[who]++;
        CHECK_INT_EQ (test_get_int (pull, ZMQ_RCVMORE), 1);
        RECV_STR (pull, "x", 0);
    }
    CHECK_NOTHING_WITHIN (pull, 0);
    for (int i = 0; i < N; i++)
        test_close_zero_linger (pushes[i]);
    test_close_zero_linger (pull);
}

static void test_wrong_direction (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (push && pull);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pull, "inproc", ep);
    CHECK_OK (zmq_connect (push, ep));
    char buf[8];
    CHECK_ERRNO (zmq_recv (push, buf, sizeof buf, 0), ENOTSUP);
    CHECK_ERRNO (zmq_recv (push, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);
    CHECK_ERRNO (zmq_send (pull, "x", 1, 0), ENOTSUP);
    CHECK_ERRNO (zmq_send (pull, "x", 1, ZMQ_DONTWAIT), ENOTSUP);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

static void test_no_peer (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    CHECK_ERRNO (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);

    test_set_int (push, ZMQ_SNDTIMEO, 0);
    int64_t t0 = test_now_ms ();
    CHECK_ERRNO (zmq_send (push, "x", 1, 0), EAGAIN);
    CHECK (test_now_ms () - t0 < 500);

    test_set_int (push, ZMQ_SNDTIMEO, 100);
    t0 = test_now_ms ();
    CHECK_ERRNO (zmq_send (push, "x", 1, 0), EAGAIN);
    int64_t elapsed = test_now_ms () - t0;
    CHECK (elapsed >= 95);
    CHECK (elapsed < 2000);

    //  Being bound changes nothing while nobody is connected.
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (push, "tcp", ep);
    CHECK_ERRNO (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    t0 = test_now_ms ();
    CHECK_ERRNO (zmq_send (push, "x", 1, 0), EAGAIN);
    elapsed = test_now_ms () - t0;
    CHECK (elapsed >= 95);
    CHECK (elapsed < 2000);
    test_close_zero_linger (push);
}

static void test_queue_before_bind (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    static int seq = 0;
    if (strcmp (transport, "inproc") == 0)
        snprintf (ep, sizeof ep, "inproc://late-pull-%d", ++seq);
    else
        test_free_tcp_endpoint (ep);

    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    test_set_int (push, ZMQ_RECONNECT_IVL, 10);
    CHECK_OK (zmq_connect (push, ep));
    for (int k = 0; k < 50; k++) {
        char s[16];
        snprintf (s, sizeof s, "early%d", k);
        SEND_STR (push, s, ZMQ_DONTWAIT);
    }

    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    CHECK_OK (zmq_bind (pull, ep));
    SEND_STR (push, "late", 0);
    for (int k = 0; k < 50; k++) {
        char s[16];
        snprintf (s, sizeof s, "early%d", k);
        RECV_STR (pull, s, 0);
    }
    RECV_STR (pull, "late", 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

struct connector_arg
{
    void *ctx;
    const char *ep;
};

static void *late_connector (void *arg_)
{
    struct connector_arg *arg = (struct connector_arg *) arg_;
    void *pull = zmq_socket (arg->ctx, ZMQ_PULL);
    CHECK (pull);
    //  Give the main thread time to block in zmq_send first.
    test_sleep_ms (50);
    CHECK_OK (zmq_connect (pull, arg->ep));
    for (int k = 0; k < 5; k++) {
        char s[16];
        snprintf (s, sizeof s, "wait%d", k);
        RECV_STR (pull, s, 0);
    }
    test_close_zero_linger (pull);
    return NULL;
}

static void test_bound_push_blocks_until_peer (void *ctx, const char *transport)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (push, transport, ep);
    test_set_int (push, ZMQ_SNDTIMEO, 10000);
    struct connector_arg arg = {ctx, ep};
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, late_connector, &arg) == 0);
    for (int k = 0; k < 5; k++) {
        char s[16];
        snprintf (s, sizeof s, "wait%d", k);
        SEND_STR (push, s, 0);
    }
    CHECK (pthread_join (thread, NULL) == 0);
    test_close_zero_linger (push);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++) {
        test_round_robin (ctx, test_transports[t]);
        test_fair_queue_wire (ctx, test_transports[t]);
        test_bound_push_blocks_until_peer (ctx, test_transports[t]);
    }
    test_bound_push_round_robin (ctx);
    test_fair_queue_inproc (ctx);
    test_wrong_direction (ctx);
    test_no_peer (ctx);
    test_queue_before_bind (ctx, "inproc");
    test_queue_before_bind (ctx, "tcp");
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
