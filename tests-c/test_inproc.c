/* The inproc transport: naming, ordering of bind and connect, unbind and
 * disconnect, and context scoping.
 *
 * Pins:
 *  - connect then bind works: messages (single and multipart) sent by the
 *    connecting PAIR before the bind are delivered after it, in order, and
 *    the pair then works both ways; the routing id of a DEALER that connected before the ROUTER
 *    bound is what the ROUTER sees;
 *  - several sockets connecting to one bound name, and one socket
 *    connecting to several bound names (all before or after the binds);
 *  - binding a name already bound in the same context -> EADDRINUSE (same
 *    or other socket); inproc names are per context: another context can
 *    bind the same name, and a connect in another context is accepted but
 *    never reaches the first context's socket;
 *  - "inproc://" with an empty name -> EINVAL for bind and connect;
 *  - ZMQ_LAST_ENDPOINT is the inproc URI after bind;
 *  - zmq_unbind frees the name (another socket can bind it, new connects go
 *    there) while the connection made before the unbind keeps working;
 *    zmq_unbind of a name this socket did not bind -> ENOENT;
 *  - zmq_disconnect drops the connecting socket's pipe (a PUSH with no other
 *    peer then gets EAGAIN); disconnecting something never connected ->
 *    ENOENT;
 *  - a socket connected to a never-bound name can be closed and the context
 *    terminated without hanging (linger 0), also via zmq_ctx_shutdown;
 *  - small messages keep their bodies across the pipe: the receiver of a
 *    zmq_send_const message gets the very bytes (same pointer, ZMQ_SHARED
 *    1), and of a zmq_msg_init_data message the caller's buffer, whose free
 *    function runs when the receiver closes it, not when it is sent. */
#include "testutil.h"

static void test_connect_before_bind (void *ctx)
{
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (b);
    CHECK_OK (zmq_connect (b, "inproc://cbb"));
    SEND_STR (b, "early1", ZMQ_DONTWAIT);
    SEND_STR (b, "early2", ZMQ_SNDMORE | ZMQ_DONTWAIT);
    SEND_STR (b, "early3", ZMQ_DONTWAIT);

    void *a = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a);
    CHECK_OK (zmq_bind (a, "inproc://cbb"));
    char ep[TEST_ENDPOINT_MAX];
    test_last_endpoint (a, ep);
    CHECK_STR_EQ (ep, "inproc://cbb");
    RECV_STR (a, "early1", 0);
    RECV_STR (a, "early2", 1);
    RECV_STR (a, "early3", 0);
    test_bounce (a, b);
    test_close_zero_linger (a);
    test_close_zero_linger (b);

    //  Routing id of a DEALER connecting before the ROUTER binds.
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (dealer);
    CHECK_OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "early-bird", 10));
    CHECK_OK (zmq_connect (dealer, "inproc://cbb-router"));
    SEND_STR (dealer, "hi", 0);
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK (router);
    CHECK_OK (zmq_bind (router, "inproc://cbb-router"));
    RECV_STR (router, "early-bird", 1);
    RECV_STR (router, "hi", 0);
    SEND_STR (router, "early-bird", ZMQ_SNDMORE);
    SEND_STR (router, "hello", 0);
    RECV_STR (dealer, "hello", 0);
    test_close_zero_linger (dealer);
    test_close_zero_linger (router);
}

static void test_multiple (void *ctx)
{
    enum { N = 4 };
    //  N connectors, half before and half after the bind.
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    void *pushes[N];
    for (int i = 0; i < N; i++) {
        pushes[i] = zmq_socket (ctx, ZMQ_PUSH);
        CHECK (pushes[i]);
        if (i == N / 2)
            CHECK_OK (zmq_bind (pull, "inproc://many-to-one"));
        CHECK_OK (zmq_connect (pushes[i], "inproc://many-to-one"));
        char s[16];
        snprintf (s, sizeof s, "%d", i);
        SEND_STR (pushes[i], s, 0);
    }
    int seen = 0;
    for (int i = 0; i < N; i++) {
        char buf[8];
        CHECK_INT_EQ (zmq_recv (pull, buf, sizeof buf, 0), 1);
        int who = buf[0] - '0';
        CHECK (who >= 0 && who < N && !(seen & (1 << who)));
        seen |= 1 << who;
    }
    for (int i = 0; i < N; i++)
        test_close_zero_linger (pushes[i]);
    test_close_zero_linger (pull);

    //  One connector, N bound names (round-robin in connect order).
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    void *pulls[N];
    for (int i = 0; i < N; i++) {
        char ep[32];
        snprintf (ep, sizeof ep, "inproc://one-to-many-%d", i);
        pulls[i] = zmq_socket (ctx, ZMQ_PULL);
        CHECK (pulls[i]);
        if (i % 2 == 0)
            CHECK_OK (zmq_bind (pulls[i], ep));
        CHECK_OK (zmq_connect (push, ep));
        if (i % 2 == 1)
            CHECK_OK (zmq_bind (pulls[i], ep));
    }
    for (int i = 0; i < N; i++) {
        char s[16];
        snprintf (s, sizeof s, "to%d", i);
        SEND_STR (push, s, 0);
    }
    for (int i = 0; i < N; i++) {
        char s[16];
        snprintf (s, sizeof s, "to%d", i);
        RECV_STR (pulls[i], s, 0);
        test_close_zero_linger (pulls[i]);
    }
    test_close_zero_linger (push);
}

static void test_names (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b);
    CHECK_OK (zmq_bind (a, "inproc://taken"));
    CHECK_ERRNO (zmq_bind (a, "inproc://taken"), EADDRINUSE);
    CHECK_ERRNO (zmq_bind (b, "inproc://taken"), EADDRINUSE);
    CHECK_ERRNO (zmq_bind (b, "inproc://"), EINVAL);
    CHECK_ERRNO (zmq_connect (b, "inproc://"), EINVAL);
    //  Names are case-sensitive strings.
    CHECK_OK (zmq_bind (b, "inproc://TAKEN"));
    test_close_zero_linger (a);
    test_close_zero_linger (b);

    //  Another context: a separate namespace.
    void *ctx2 = zmq_ctx_new ();
    CHECK (ctx2);
    void *x = zmq_socket (ctx, ZMQ_PULL);
    void *y = zmq_socket (ctx2, ZMQ_PUSH);
    void *z = zmq_socket (ctx2, ZMQ_PULL);
    CHECK (x && y && z);
    CHECK_OK (zmq_bind (x, "inproc://scoped"));
    CHECK_OK (zmq_connect (y, "inproc://scoped"));
    SEND_STR (y, "which?", ZMQ_DONTWAIT);
    CHECK_NOTHING_WITHIN (x, 100);
    //  ... it is pending in ctx2, where binding the name completes it.
    CHECK_OK (zmq_bind (z, "inproc://scoped"));
    RECV_STR (z, "which?", 0);
    CHECK_NOTHING_WITHIN (x, 0);
    test_close_zero_linger (x);
    test_close_zero_linger (y);
    test_close_zero_linger (z);
    CHECK_OK (zmq_ctx_term (ctx2));
}

static void test_unbind (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    void *c = zmq_socket (ctx, ZMQ_PAIR);
    void *d = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b && c && d);
    CHECK_ERRNO (zmq_unbind (a, "inproc://unb"), ENOENT);
    CHECK_OK (zmq_bind (a, "inproc://unb"));
    CHECK_ERRNO (zmq_unbind (b, "inproc://unb"), ENOENT);
    CHECK_OK (zmq_connect (b, "inproc://unb"));
    test_bounce (a, b);

    CHECK_OK (zmq_unbind (a, "inproc://unb"));
    CHECK_ERRNO (zmq_unbind (a, "inproc://unb"), ENOENT);
    //  The existing connection survives.
    test_bounce (a, b);
    //  The name is free again.
    CHECK_OK (zmq_bind (c, "inproc://unb"));
    CHECK_OK (zmq_connect (d, "inproc://unb"));
    test_bounce (c, d);
    test_bounce (a, b);
    //  Binding again after unbind on the original socket: name now taken.
    CHECK_ERRNO (zmq_bind (a, "inproc://unb"), EADDRINUSE);

    test_close_zero_linger (a);
    test_close_zero_linger (b);
    test_close_zero_linger (c);
    test_close_zero_linger (d);
}

static void test_disconnect (void *ctx)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (pull && push);
    CHECK_OK (zmq_bind (pull, "inproc://disc"));
    CHECK_ERRNO (zmq_disconnect (push, "inproc://disc"), ENOENT);
    CHECK_OK (zmq_connect (push, "inproc://disc"));
    SEND_STR (push, "before", 0);
    RECV_STR (pull, "before", 0);
    CHECK_OK (zmq_disconnect (push, "inproc://disc"));
    CHECK_ERRNO (zmq_disconnect (push, "inproc://disc"), ENOENT);
    CHECK_ERRNO (zmq_send (push, "after", 5, ZMQ_DONTWAIT), EAGAIN);
    CHECK_NOTHING_WITHIN (pull, 100);
    //  Reconnecting works.
    CHECK_OK (zmq_connect (push, "inproc://disc"));
    SEND_STR (push, "again", 0);
    RECV_STR (pull, "again", 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

static void test_pending_connect_cleanup (int use_shutdown)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *s = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (s);
    CHECK_OK (zmq_connect (s, "inproc://never"));
    SEND_STR (s, "lost", ZMQ_DONTWAIT);
    int64_t t0 = test_now_ms ();
    if (use_shutdown)
        CHECK_OK (zmq_ctx_shutdown (ctx));
    test_close_zero_linger (s);
    CHECK_OK (zmq_ctx_term (ctx));
    CHECK (test_now_ms () - t0 < 1000);
}

static const char const_body[] = "a constant body";
static int zc_freed;

static void zc_free (void *data, void *hint)
{
    (void) data;
    (void) hint;
    zc_freed++;
}

static void test_bodies_not_copied (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b);
    CHECK_OK (zmq_bind (a, "inproc://bodies"));
    CHECK_OK (zmq_connect (b, "inproc://bodies"));

    CHECK_INT_EQ (zmq_send_const (a, const_body, sizeof const_body, 0),
                  (int) sizeof const_body);
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    CHECK_INT_EQ (zmq_msg_recv (&msg, b, 0), (int) sizeof const_body);
    CHECK (zmq_msg_data (&msg) == (void *) const_body);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 1);

    static char buf[32] = "a zero-copy body";
    zmq_msg_t zc;
    CHECK_OK (zmq_msg_init_data (&zc, buf, 20, zc_free, NULL));
    CHECK_INT_EQ (zmq_msg_send (&zc, a, 0), 20);
    CHECK_INT_EQ (zc_freed, 0);
    CHECK_INT_EQ (zmq_msg_recv (&msg, b, 0), 20);
    CHECK (zmq_msg_data (&msg) == (void *) buf);
    CHECK_INT_EQ (zc_freed, 0);
    CHECK_OK (zmq_msg_close (&msg));
    CHECK_INT_EQ (zc_freed, 1);
    CHECK_OK (zmq_close (a));
    CHECK_OK (zmq_close (b));
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_connect_before_bind (ctx);
    test_multiple (ctx);
    test_names (ctx);
    test_unbind (ctx);
    test_disconnect (ctx);
    test_bodies_not_copied (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    test_pending_connect_cleanup (0);
    test_pending_connect_cleanup (1);
    TEST_PASS ();
}
