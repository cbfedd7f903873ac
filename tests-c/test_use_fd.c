/* ZMQ_USE_FD: zmq_bind adopts a listening socket the application made.
 *
 * Pins (observed on libzmq 4.3.4):
 *  - ZMQ_USE_FD reads -1 by default and back as set; -1 and any value from
 *    0 up are accepted, -2 and sizes other than 4 fail with EINVAL;
 *  - tcp: with ZMQ_USE_FD set to a listening socket on 127.0.0.1, zmq_bind
 *    uses that socket: ZMQ_LAST_ENDPOINT is its address even when the bind
 *    endpoint names another port or "*", and a REQ connecting to its port
 *    gets replies; ipc: likewise with an AF_UNIX listening socket,
 *    ZMQ_LAST_ENDPOINT is "ipc://" and its path (also when the bind
 *    endpoint is the ipc wildcard, a "*" for the path);
 *  - the socket is libzmq's from then on: it is closed when the zmq socket
 *    is (checked after zmq_ctx_term);
 *  - a connecting socket ignores ZMQ_USE_FD (the descriptor is left alone).
 * (Not tested, as libzmq aborts on them: binding twice with the same
 * ZMQ_USE_FD, or with a descriptor that is not open.) */
#include "testutil.h"

#include <fcntl.h>
#include <sys/un.h>

static void test_option (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_REP);
    CHECK (s);
    CHECK_INT_EQ (test_get_int (s, ZMQ_USE_FD), -1);
    test_set_int (s, ZMQ_USE_FD, 1000);
    CHECK_INT_EQ (test_get_int (s, ZMQ_USE_FD), 1000);
    test_set_int (s, ZMQ_USE_FD, 0);
    CHECK_INT_EQ (test_get_int (s, ZMQ_USE_FD), 0);
    int bad = -2;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_USE_FD, &bad, sizeof bad), EINVAL);
    int64_t wide = 3;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_USE_FD, &wide, sizeof wide), EINVAL);
    CHECK_INT_EQ (test_get_int (s, ZMQ_USE_FD), 0);
    test_set_int (s, ZMQ_USE_FD, -1);
    CHECK_INT_EQ (test_get_int (s, ZMQ_USE_FD), -1);
    test_close_zero_linger (s);
}

/* A listening unix socket at path. */
static int ipc_listener (const char *path)
{
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_un addr;
    memset (&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    CHECK (strlen (path) < sizeof addr.sun_path);
    strcpy (addr.sun_path, path);
    CHECK (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0);
    CHECK (listen (fd, 8) == 0);
    return fd;
}

/* Binds a REP with ZMQ_USE_FD fd to bind_ep, checks ZMQ_LAST_ENDPOINT is
 * expect_ep, round-trips twice with a REQ connected to expect_ep, and checks
 * libzmq closed fd once everything is closed. */
static void check_adopted (int fd, const char *bind_ep, const char *expect_ep)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *rep = zmq_socket (ctx, ZMQ_REP);
    CHECK (rep);
    test_set_int (rep, ZMQ_RCVTIMEO, 5000);
    test_set_int (rep, ZMQ_USE_FD, fd);
    CHECK_OK (zmq_bind (rep, bind_ep));
    char last[TEST_ENDPOINT_MAX];
    test_last_endpoint (rep, last);
    CHECK_STR_EQ (last, expect_ep);

    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (req);
    test_set_int (req, ZMQ_RCVTIMEO, 5000);
    CHECK_OK (zmq_connect (req, expect_ep));
    for (int i = 0; i < 2; i++) {
        SEND_STR (req, "request", 0);
        RECV_STR (rep, "request", 0);
        SEND_STR (rep, "reply", 0);
        RECV_STR (req, "reply", 0);
    }
    CHECK (fcntl (fd, F_GETFD) != -1);
    test_close_zero_linger (req);
    test_close_zero_linger (rep);
    CHECK_OK (zmq_ctx_term (ctx));
    //  libzmq closed the adopted descriptor.
    errno = 0;
    CHECK (fcntl (fd, F_GETFD) == -1 && errno == EBADF);
}

static void test_tcp (void)
{
    int port;
    int fd = test_raw_listen (&port);
    char ep[TEST_ENDPOINT_MAX];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    check_adopted (fd, ep, ep);

    //  The endpoint given to zmq_bind does not choose the port.
    fd = test_raw_listen (&port);
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    check_adopted (fd, "tcp://127.0.0.1:*", ep);
}

static void test_ipc (void)
{
    char path[128], ep[TEST_ENDPOINT_MAX];
    snprintf (path, sizeof path, "%s/use-fd-1", test_ipc_dir ());
    snprintf (ep, sizeof ep, "ipc://%s", path);
    check_adopted (ipc_listener (path), ep, ep);

    snprintf (path, sizeof path, "%s/use-fd-2", test_ipc_dir ());
    snprintf (ep, sizeof ep, "ipc://%s", path);
    check_adopted (ipc_listener (path), "ipc://*", ep);
}

static void test_connect_side (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (rep && req);
    test_set_int (rep, ZMQ_RCVTIMEO, 5000);
    test_set_int (req, ZMQ_RCVTIMEO, 5000);
    int fd = dup (2);
    CHECK (fd >= 0);
    test_set_int (req, ZMQ_USE_FD, fd);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (rep, "tcp", ep);
    CHECK_OK (zmq_connect (req, ep));
    SEND_STR (req, "request", 0);
    RECV_STR (rep, "request", 0);
    SEND_STR (rep, "reply", 0);
    RECV_STR (req, "reply", 0);
    test_close_zero_linger (req);
    test_close_zero_linger (rep);
    CHECK_OK (zmq_ctx_term (ctx));
    CHECK (fcntl (fd, F_GETFD) != -1);
    close (fd);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_option (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    test_tcp ();
    test_ipc ();
    test_connect_side ();
    TEST_PASS ();
}
