/* Context termination with open sockets, blocked calls and pending
 * messages.
 *
 * Pins:
 *  - zmq_ctx_term does not return while a socket is open: once it has
 *    started, calls on that socket fail with ETERM (a blocked zmq_recv in
 *    another thread is woken with ETERM), and zmq_ctx_term returns 0 only
 *    after zmq_close;
 *  - zmq_ctx_shutdown wakes a zmq_recv and a zmq_poll blocked in other
 *    threads with -1/ETERM, returns 0 at once, and zmq_ctx_term then waits
 *    for those threads to close their sockets;
 *  - after zmq_ctx_shutdown: zmq_send, zmq_recv, zmq_msg_send, zmq_msg_recv,
 *    zmq_bind, zmq_connect, zmq_unbind, zmq_disconnect all fail with ETERM
 *    (also with ZMQ_DONTWAIT); zmq_poll on the socket fails with ETERM;
 *    zmq_close still returns 0;
 *  - ZMQ_LINGER 0 with messages queued for a peer that never appears:
 *    zmq_close and zmq_ctx_term return promptly (< 1 s);
 *  - ZMQ_LINGER 200 in the same situation: zmq_ctx_term returns after the
 *    linger period (>= ~200 ms after zmq_close, < 2 s);
 *  - ZMQ_LINGER -1 (the default): messages sent just before zmq_close are
 *    still delivered (zmq_ctx_term of the sender's context waits for it),
 *    even when the connection was not up yet at close time. */
#include "testutil.h"

#include <pthread.h>

struct term_arg
{
    void *ctx;
    volatile int done;
    int rc;
};

static void *term_thread (void *arg_)
{
    struct term_arg *arg = (struct term_arg *) arg_;
    arg->rc = zmq_ctx_term (arg->ctx);
    __atomic_store_n (&arg->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_term_waits_for_close (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *s = zmq_socket (ctx, ZMQ_PULL);
    CHECK (s);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (s, "tcp", ep);

    struct term_arg arg = {ctx, 0, -1};
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, term_thread, &arg) == 0);
    //  Blocks until the termination reaches this socket.
    char buf[8];
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, 0), ETERM);
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), ETERM);
    //  zmq_ctx_term is still waiting for this socket.
    test_sleep_ms (50);
    CHECK (!__atomic_load_n (&arg.done, __ATOMIC_SEQ_CST));
    CHECK_OK (zmq_close (s));
    CHECK (pthread_join (thread, NULL) == 0);
    CHECK_INT_EQ (arg.rc, 0);
}

struct blocked_arg
{
    void *ctx;
    const char *ep;
    int use_poll;
    int rc;
    int err;
};

static void *blocked_thread (void *arg_)
{
    struct blocked_arg *arg = (struct blocked_arg *) arg_;
    void *s = zmq_socket (arg->ctx, ZMQ_PULL);
    CHECK (s);
    CHECK_OK (zmq_connect (s, arg->ep));
    errno = 0;
    if (arg->use_poll) {
        zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
        arg->rc = zmq_poll (&item, 1, -1);
    } else {
        char buf[8];
        arg->rc = zmq_recv (s, buf, sizeof buf, 0);
    }
    arg->err = errno;
    CHECK_OK (zmq_close (s));
    return NULL;
}

static void test_shutdown_wakes_blocked (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    struct blocked_arg args[2] = {{ctx, "inproc://nobody-binds", 0, 0, 0},
                                  {ctx, "inproc://nobody-binds", 1, 0, 0}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        CHECK (pthread_create (&threads[i], NULL, blocked_thread, &args[i])
               == 0);
    //  Let the threads reach their blocking calls (if they are late, the
    //  calls fail with ETERM all the same).
    test_sleep_ms (50);
    int64_t t0 = test_now_ms ();
    CHECK_OK (zmq_ctx_shutdown (ctx));
    CHECK (test_now_ms () - t0 < 1000);
    for (int i = 0; i < 2; i++) {
        CHECK (pthread_join (threads[i], NULL) == 0);
        CHECK_INT_EQ (args[i].rc, -1);
        CHECK_INT_EQ (args[i].err, ETERM);
    }
    CHECK_OK (zmq_ctx_term (ctx));
}

static void test_after_shutdown (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (s, "tcp", ep);
    CHECK_OK (zmq_ctx_shutdown (ctx));

    char buf[8];
    CHECK_ERRNO (zmq_send (s, "x", 1, 0), ETERM);
    CHECK_ERRNO (zmq_send (s, "x", 1, ZMQ_DONTWAIT), ETERM);
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, 0), ETERM);
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), ETERM);
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init_size (&msg, 1));
    CHECK_ERRNO (zmq_msg_send (&msg, s, 0), ETERM);
    CHECK_ERRNO (zmq_msg_recv (&msg, s, 0), ETERM);
    CHECK_OK (zmq_msg_close (&msg));
    CHECK_ERRNO (zmq_bind (s, "tcp://127.0.0.1:*"), ETERM);
    CHECK_ERRNO (zmq_bind (s, "inproc://after-shutdown"), ETERM);
    CHECK_ERRNO (zmq_connect (s, "inproc://after-shutdown"), ETERM);
    CHECK_ERRNO (zmq_unbind (s, ep), ETERM);
    CHECK_ERRNO (zmq_disconnect (s, ep), ETERM);
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    CHECK_ERRNO (zmq_poll (&item, 1, 0), ETERM);
    CHECK_ERRNO (zmq_poll (&item, 1, -1), ETERM);
    CHECK_OK (zmq_close (s));
    CHECK_OK (zmq_ctx_term (ctx));
}

static void test_linger_zero (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    char ep[TEST_ENDPOINT_MAX];
    test_free_tcp_endpoint (ep);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    CHECK_OK (zmq_connect (push, ep));
    for (int i = 0; i < 10; i++)
        SEND_STR (push, "pending", ZMQ_DONTWAIT);
    //  The same on an inproc name that is never bound.
    void *push2 = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push2);
    CHECK_OK (zmq_connect (push2, "inproc://never-bound"));
    SEND_STR (push2, "pending", ZMQ_DONTWAIT);

    int64_t t0 = test_now_ms ();
    test_close_zero_linger (push);
    test_close_zero_linger (push2);
    CHECK_OK (zmq_ctx_term (ctx));
    CHECK (test_now_ms () - t0 < 1000);
}

static void test_linger_timeout (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    char ep[TEST_ENDPOINT_MAX];
    test_free_tcp_endpoint (ep);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    test_set_int (push, ZMQ_LINGER, 200);
    CHECK_OK (zmq_connect (push, ep));
    SEND_STR (push, "pending", ZMQ_DONTWAIT);
    int64_t t0 = test_now_ms ();
    CHECK_OK (zmq_close (push));
    CHECK_OK (zmq_ctx_term (ctx));
    int64_t e = test_now_ms () - t0;
    CHECK (e >= 180);
    CHECK (e < 2000);
}

static void test_linger_delivers (const char *transport)
{
    void *ctx_recv = zmq_ctx_new ();
    void *ctx_send = zmq_ctx_new ();
    CHECK (ctx_recv && ctx_send);
    void *pull = zmq_socket (ctx_recv, ZMQ_PULL);
    CHECK (pull);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pull, transport, ep);

    void *push = zmq_socket (ctx_send, ZMQ_PUSH);
    CHECK (push);
    CHECK_OK (zmq_connect (push, ep));
    for (int i = 0; i < 100; i++) {
        char s[16];
        snprintf (s, sizeof s, "msg%d", i);
        SEND_STR (push, s, 0);
    }
    CHECK_OK (zmq_close (push));
    CHECK_OK (zmq_ctx_term (ctx_send));

    for (int i = 0; i < 100; i++) {
        char s[16];
        snprintf (s, sizeof s, "msg%d", i);
        RECV_STR (pull, s, 0);
    }
    test_close_zero_linger (pull);
    CHECK_OK (zmq_ctx_term (ctx_recv));
}

int main (void)
{
    test_init ();
    test_term_waits_for_close ();
    test_shutdown_wakes_blocked ();
    test_after_shutdown ();
    test_linger_zero ();
    test_linger_timeout ();
    test_linger_delivers ("tcp");
    test_linger_delivers ("ipc");
    TEST_PASS ();
}
