/* zmq_poll over sockets and plain file descriptors.
 *
 * Pins:
 *  - a PAIR with nothing queued is POLLOUT-only (when it has a peer) and a
 *    PAIR/PUSH with no peer is neither; ZMQ_POLLIN appears once a message
 *    is queued (inproc, tcp, ipc) and goes away when it is read; only the
 *    requested events are reported (events 0 -> revents 0); the return
 *    value counts items with at least one event;
 *  - a plain pipe(2) fd polled together with sockets: POLLIN only after a
 *    byte is written; POLLOUT on the write end; a socket item takes
 *    precedence over its fd field;
 *  - timeout 0 returns at once; a positive timeout with nothing ready
 *    returns 0 after at least ~that long; -1 waits until another thread
 *    sends a message (or writes to the pipe);
 *  - zmq_poll (NULL, 0, 0) returns 0; (NULL, 0, 50) returns 0 after ~50 ms;
 *    nitems < 0 -> EINVAL; NULL items with nitems > 0 -> EFAULT. */
#include "testutil.h"

#include <pthread.h>

static void test_socket_events (void *ctx, const char *transport)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    void *lonely = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (a && b && lonely);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (a, transport, ep);
    CHECK_OK (zmq_connect (b, ep));
    test_bounce (a, b);

    zmq_pollitem_t items[3] = {{a, 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0},
                               {b, 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0},
                               {lonely, 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0}};
    CHECK_INT_EQ (zmq_poll (items, 3, 0), 2);
    CHECK_INT_EQ (items[0].revents, ZMQ_POLLOUT);
    CHECK_INT_EQ (items[1].revents, ZMQ_POLLOUT);
    CHECK_INT_EQ (items[2].revents, 0);

    SEND_STR (b, "data", 0);
    //  Wait for it (tcp/ipc deliver asynchronously).
    items[0].events = ZMQ_POLLIN;
    CHECK_INT_EQ (zmq_poll (items, 1, 5000), 1);
    CHECK_INT_EQ (items[0].revents, ZMQ_POLLIN);
    items[0].events = ZMQ_POLLIN | ZMQ_POLLOUT;
    CHECK_INT_EQ (zmq_poll (items, 3, 0), 2);
    CHECK_INT_EQ (items[0].revents, ZMQ_POLLIN | ZMQ_POLLOUT);
    CHECK_INT_EQ (items[1].revents, ZMQ_POLLOUT);

    //  Only requested events are reported.
    items[0].events = ZMQ_POLLOUT;
    CHECK_INT_EQ (zmq_poll (items, 1, 0), 1);
    CHECK_INT_EQ (items[0].revents, ZMQ_POLLOUT);
    items[0].events = 0;
    items[0].revents = 12345;
    CHECK_INT_EQ (zmq_poll (items, 1, 0), 0);
    CHECK_INT_EQ (items[0].revents, 0);

    RECV_STR (a, "data", 0);
    items[0].events = ZMQ_POLLIN;
    CHECK_INT_EQ (zmq_poll (items, 1, 0), 0);
    CHECK_INT_EQ (items[0].revents, 0);

    test_close_zero_linger (lonely);
    test_close_zero_linger (a);
    test_close_zero_linger (b);
}

static void test_mixed_fd (void *ctx)
{
    int fds[2];
    CHECK (pipe (fds) == 0);
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (a, "inproc", ep);
    CHECK_OK (zmq_connect (b, ep));

    zmq_pollitem_t items[3] = {{NULL, fds[0], ZMQ_POLLIN, 0},
                               {a, 0, ZMQ_POLLIN, 0},
                               {NULL, fds[1], ZMQ_POLLOUT, 0}};
    CHECK_INT_EQ (zmq_poll (items, 3, 0), 1);
    CHECK_INT_EQ (items[0].revents, 0);
    CHECK_INT_EQ (items[1].revents, 0);
    CHECK_INT_EQ (items[2].revents, ZMQ_POLLOUT);

    CHECK (write (fds[1], "x", 1) == 1);
    CHECK_INT_EQ (zmq_poll (items, 2, 0), 1);
    CHECK_INT_EQ (items[0].revents, ZMQ_POLLIN);
    CHECK_INT_EQ (items[1].revents, 0);

    SEND_STR (b, "m", 0);
    CHECK_INT_EQ (zmq_poll (items, 3, 0), 3);
    CHECK_INT_EQ (items[0].revents, ZMQ_POLLIN);
    CHECK_INT_EQ (items[1].revents, ZMQ_POLLIN);
    CHECK_INT_EQ (items[2].revents, ZMQ_POLLOUT);

    char c;
    CHECK (read (fds[0], &c, 1) == 1);
    CHECK_INT_EQ (zmq_poll (items, 2, 0), 1);
    CHECK_INT_EQ (items[0].revents, 0);
    CHECK_INT_EQ (items[1].revents, ZMQ_POLLIN);
    RECV_STR (a, "m", 0);

    //  With a socket set, the fd field is ignored (the pipe's read end is
    //  readable again, the socket is not).
    CHECK (write (fds[1], "y", 1) == 1);
    zmq_pollitem_t both = {a, fds[0], ZMQ_POLLIN, 0};
    CHECK_INT_EQ (zmq_poll (&both, 1, 0), 0);
    CHECK_INT_EQ (both.revents, 0);

    test_close_zero_linger (a);
    test_close_zero_linger (b);
    close (fds[0]);
    close (fds[1]);
}

static void test_timeouts (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a);
    int fds[2];
    CHECK (pipe (fds) == 0);
    zmq_pollitem_t items[2] = {{a, 0, ZMQ_POLLIN, 0},
                               {NULL, fds[0], ZMQ_POLLIN, 0}};
    int64_t t0 = test_now_ms ();
    CHECK_INT_EQ (zmq_poll (items, 2, 0), 0);
    CHECK (test_now_ms () - t0 < 500);

    t0 = test_now_ms ();
    CHECK_INT_EQ (zmq_poll (items, 2, 100), 0);
    int64_t e = test_now_ms () - t0;
    CHECK (e >= 95 && e < 2000);

    //  Socket only, and fd only.
    t0 = test_now_ms ();
    CHECK_INT_EQ (zmq_poll (items, 1, 100), 0);
    e = test_now_ms () - t0;
    CHECK (e >= 95 && e < 2000);
    t0 = test_now_ms ();
    CHECK_INT_EQ (zmq_poll (items + 1, 1, 100), 0);
    e = test_now_ms () - t0;
    CHECK (e >= 95 && e < 2000);

    test_close_zero_linger (a);
    close (fds[0]);
    close (fds[1]);

    //  No items at all.
    CHECK_INT_EQ (zmq_poll (NULL, 0, 0), 0);
    t0 = test_now_ms ();
    CHECK_INT_EQ (zmq_poll (NULL, 0, 50), 0);
    e = test_now_ms () - t0;
    CHECK (e >= 45 && e < 2000);
    zmq_pollitem_t dummy = {NULL, 0, ZMQ_POLLIN, 0};
    CHECK_ERRNO (zmq_poll (&dummy, -1, 0), EINVAL);
    CHECK_ERRNO (zmq_poll (NULL, 1, 0), EFAULT);
}

struct sender_arg
{
    void *ctx;
    const char *ep;
    int fd;
};

static void *delayed_sender (void *arg_)
{
    struct sender_arg *arg = (struct sender_arg *) arg_;
    test_sleep_ms (100);
    if (arg->ep) {
        void *s = zmq_socket (arg->ctx, ZMQ_PAIR);
        CHECK (s);
        CHECK_OK (zmq_connect (s, arg->ep));
        SEND_STR (s, "wake", 0);
        //  Linger (default -1) makes close wait until it is delivered.
        CHECK_OK (zmq_close (s));
    } else
        CHECK (write (arg->fd, "w", 1) == 1);
    return NULL;
}

static void test_infinite (void *ctx, const char *transport)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (a, transport, ep);
    int fds[2];
    CHECK (pipe (fds) == 0);
    zmq_pollitem_t items[2] = {{a, 0, ZMQ_POLLIN, 0},
                               {NULL, fds[0], ZMQ_POLLIN, 0}};

    struct sender_arg arg = {ctx, ep, -1};
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, delayed_sender, &arg) == 0);
    int64_t t0 = test_now_ms ();
    CHECK_INT_EQ (zmq_poll (items, 2, -1), 1);
    CHECK (test_now_ms () - t0 >= 90);
    CHECK_INT_EQ (items[0].revents, ZMQ_POLLIN);
    CHECK_INT_EQ (items[1].revents, 0);
    RECV_STR (a, "wake", 0);
    CHECK (pthread_join (thread, NULL) == 0);

    //  The same, woken by the plain fd.
    arg.ep = NULL;
    arg.fd = fds[1];
    CHECK (pthread_create (&thread, NULL, delayed_sender, &arg) == 0);
    t0 = test_now_ms ();
    CHECK_INT_EQ (zmq_poll (items, 2, -1), 1);
    CHECK (test_now_ms () - t0 >= 90);
    CHECK_INT_EQ (items[0].revents, 0);
    CHECK_INT_EQ (items[1].revents, ZMQ_POLLIN);
    CHECK (pthread_join (thread, NULL) == 0);

    test_close_zero_linger (a);
    close (fds[0]);
    close (fds[1]);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++) {
        test_socket_events (ctx, test_transports[t]);
        test_infinite (ctx, test_transports[t]);
    }
    test_mixed_fd (ctx);
    test_timeouts (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
