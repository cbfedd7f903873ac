/* ZMQ_FD and ZMQ_EVENTS: the socket's edge-triggered notification fd and
 * its exact readiness flags.
 *
 * Pins:
 *  - ZMQ_FD is an int (optvallen sizeof (int); a smaller buffer -> EINVAL)
 *    naming a pollable fd, the same on every call;
 *  - ZMQ_EVENTS is exact: a PUSH with no peer is 0; with a peer it is
 *    ZMQ_POLLOUT until the pipe is full (inproc HWM 1 + 1: after two
 *    messages it is 0) and POLLOUT again as soon as the PULL has read one;
 *    a PULL is never POLLOUT and is POLLIN exactly while a message is
 *    queued; a REQ is POLLOUT before a request, 0 while awaiting the reply,
 *    POLLIN once it is there; mid-multipart on the receiving side POLLIN
 *    stays set until the last part is read;
 *  - edge-triggered: after reading ZMQ_EVENTS, poll(2) on ZMQ_FD with
 *    timeout 0 reports it not readable; a message arriving (inproc, tcp,
 *    ipc) makes it readable; once ZMQ_EVENTS has been read again it is not
 *    readable any more even though a message is still queued (so callers
 *    must drain until EAGAIN); the writer's fd likewise becomes readable
 *    when the reader frees room in a full pipe. */
#include "testutil.h"

#include <poll.h>

static int get_fd (void *s)
{
    int fd = -1;
    size_t size = sizeof fd;
    CHECK_OK (zmq_getsockopt (s, ZMQ_FD, &fd, &size));
    CHECK_INT_EQ (size, sizeof (int));
    CHECK (fd >= 0);
    return fd;
}

static int events (void *s)
{
    return test_get_int (s, ZMQ_EVENTS);
}

static int fd_readable (int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll (&p, 1, timeout_ms);
    CHECK (rc >= 0);
    return rc == 1 && (p.revents & POLLIN);
}

/* Waits (bounded) until ZMQ_EVENTS shows all of want, using ZMQ_FD as an
 * application would. */
static void wait_events (void *s, int want)
{
    int fd = get_fd (s);
    int64_t deadline = test_now_ms () + 5000;
    while ((events (s) & want) != want) {
        int64_t left = deadline - test_now_ms ();
        CHECK (left > 0);
        fd_readable (fd, (int) left);
    }
}

static void test_fd_option (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s);
    int fd = get_fd (s);
    CHECK_INT_EQ (get_fd (s), fd);
    char small[2];
    size_t size = sizeof small;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_FD, small, &size), EINVAL);
    //  A fresh socket's fd is quiet once ZMQ_EVENTS has been read.
    CHECK_INT_EQ (events (s), 0);
    CHECK (!fd_readable (fd, 0));
    test_close_zero_linger (s);
}

static void test_exact_events (void *ctx)
{
    char ep[TEST_ENDPOINT_MAX];
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (push && pull);
    test_set_int (push, ZMQ_SNDHWM, 1);
    test_set_int (pull, ZMQ_RCVHWM, 1);
    CHECK_INT_EQ (events (push), 0);
    CHECK_INT_EQ (events (pull), 0);
    test_bind_any (pull, "inproc", ep);
    CHECK_OK (zmq_connect (push, ep));
    CHECK_INT_EQ (events (push), ZMQ_POLLOUT);
    CHECK_INT_EQ (events (pull), 0);

    int push_fd = get_fd (push);
    SEND_STR (push, "1", ZMQ_DONTWAIT);
    CHECK_INT_EQ (events (push), ZMQ_POLLOUT);
    CHECK_INT_EQ (events (pull), ZMQ_POLLIN);
    SEND_STR (push, "2", ZMQ_DONTWAIT);
    CHECK_INT_EQ (events (push), 0);
    CHECK_ERRNO (zmq_send (push, "3", 1, ZMQ_DONTWAIT), EAGAIN);
    CHECK (!fd_readable (push_fd, 0));

    //  The reader frees a slot: the writer is told through its fd.
    RECV_STR (pull, "1", 0);
    CHECK (fd_readable (push_fd, 5000));
    CHECK_INT_EQ (events (push), ZMQ_POLLOUT);
    CHECK (!fd_readable (push_fd, 0));
    CHECK_INT_EQ (events (pull), ZMQ_POLLIN);
    RECV_STR (pull, "2", 0);
    CHECK_INT_EQ (events (pull), 0);

    //  Multipart: POLLIN until the last part is read.
    SEND_STR (push, "a", ZMQ_SNDMORE);
    CHECK_INT_EQ (events (pull), 0);
    SEND_STR (push, "b", 0);
    CHECK_INT_EQ (events (pull), ZMQ_POLLIN);
    RECV_STR (pull, "a", 1);
    CHECK_INT_EQ (events (pull), ZMQ_POLLIN);
    RECV_STR (pull, "b", 0);
    CHECK_INT_EQ (events (pull), 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);

    //  REQ/REP.
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (rep && req);
    test_bind_any (rep, "inproc", ep);
    CHECK_OK (zmq_connect (req, ep));
    CHECK_INT_EQ (events (req), ZMQ_POLLOUT);
    CHECK_INT_EQ (events (rep), 0);
    SEND_STR (req, "q", 0);
    CHECK_INT_EQ (events (req), 0);
    CHECK_INT_EQ (events (rep), ZMQ_POLLIN);
    RECV_STR (rep, "q", 0);
    CHECK_INT_EQ (events (rep), ZMQ_POLLOUT);
    SEND_STR (rep, "r", 0);
    CHECK_INT_EQ (events (rep), 0);
    CHECK_INT_EQ (events (req), ZMQ_POLLIN);
    RECV_STR (req, "r", 0);
    CHECK_INT_EQ (events (req), ZMQ_POLLOUT);
    test_close_zero_linger (req);
    test_close_zero_linger (rep);
}

static void test_edge_triggered (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b);
    test_bind_any (a, transport, ep);
    CHECK_OK (zmq_connect (b, ep));
    test_bounce (a, b);
    int fd = get_fd (a);

    //  Quiet after ZMQ_EVENTS.
    CHECK_INT_EQ (events (a), ZMQ_POLLOUT);
    CHECK (!fd_readable (fd, 0));

    //  A message arrives: the fd fires.
    SEND_STR (b, "m1", 0);
    CHECK (fd_readable (fd, 5000));
    wait_events (a, ZMQ_POLLIN);
    CHECK_INT_EQ (events (a), ZMQ_POLLIN | ZMQ_POLLOUT);
    RECV_STR (a, "m1", 0);
    char buf[8];
    CHECK_ERRNO (zmq_recv (a, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_INT_EQ (events (a), ZMQ_POLLOUT);
    CHECK (!fd_readable (fd, 0));

    //  Two messages, one read: the fd stays quiet although one is queued.
    SEND_STR (b, "m2", 0);
    SEND_STR (b, "m3", 0);
    if (strcmp (transport, "inproc") == 0) {
        CHECK (fd_readable (fd, 5000));
        CHECK_INT_EQ (events (a), ZMQ_POLLIN | ZMQ_POLLOUT);
        CHECK (!fd_readable (fd, 0));
        RECV_STR (a, "m2", 0);
        CHECK_INT_EQ (events (a), ZMQ_POLLIN | ZMQ_POLLOUT);
        CHECK (!fd_readable (fd, 0));
        RECV_STR (a, "m3", 0);
    } else {
        //  Over the wire the two may arrive in one go or two.
        wait_events (a, ZMQ_POLLIN);
        RECV_STR (a, "m2", 0);
        wait_events (a, ZMQ_POLLIN);
        RECV_STR (a, "m3", 0);
    }
    CHECK_ERRNO (zmq_recv (a, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_INT_EQ (events (a), ZMQ_POLLOUT);
    CHECK (!fd_readable (fd, 0));

    test_close_zero_linger (a);
    test_close_zero_linger (b);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_fd_option (ctx);
    test_exact_events (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++)
        test_edge_triggered (ctx, test_transports[t]);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
