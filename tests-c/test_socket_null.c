/* Socket functions given NULL or foreign handles (after libzmq's
 * tests/test_socket_null.cpp).
 *
 * Pins: every function taking a socket answers -1/ENOTSOCK for NULL and for
 * a pointer that is not a socket (libzmq checks a tag word), before looking
 * at any other argument; zmq_socket with a NULL or non-context handle is
 * NULL/EFAULT and with an unknown type NULL/EINVAL; zmq_proxy and
 * zmq_proxy_steerable with a NULL frontend/backend are -1/EFAULT; zmq_poll
 * with no items returns 0, with nitems < 0 is EINVAL, ignores items whose
 * socket is NULL and fd is -1, and is ENOTSOCK for a foreign socket pointer;
 * a context passed as socket is ENOTSOCK and a socket passed as context is
 * EFAULT.
 * Not tested: zmq_poll (NULL, 1, 0) (libzmq dereferences the NULL array) and
 * any use of a socket after zmq_close (use-after-free in libzmq). */
#include "testutil.h"

#include <sys/uio.h>

//  A zeroed object that is neither a socket nor a context (large enough
//  for the tag check to read inside it).
static char foreign[65536];

static void check_not_socket (void *s)
{
    int value = 0;
    size_t value_size = sizeof value;
    char buf[16] = "hello";
    struct iovec iov = {buf, 5};
    size_t count = 1;
    zmq_msg_t msg;

    CHECK_ERRNO (zmq_close (s), ENOTSOCK);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_LINGER, &value, sizeof value),
                 ENOTSOCK);
    CHECK_ERRNO (zmq_setsockopt (s, 9999, NULL, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_TYPE, &value, &value_size), ENOTSOCK);
    CHECK_ERRNO (zmq_getsockopt (s, 9999, NULL, NULL), ENOTSOCK);
    CHECK_ERRNO (zmq_bind (s, "inproc://null"), ENOTSOCK);
    CHECK_ERRNO (zmq_bind (s, NULL), ENOTSOCK);
    CHECK_ERRNO (zmq_connect (s, "inproc://null"), ENOTSOCK);
    CHECK_ERRNO (zmq_connect (s, NULL), ENOTSOCK);
    CHECK_ERRNO (zmq_unbind (s, "inproc://null"), ENOTSOCK);
    CHECK_ERRNO (zmq_disconnect (s, "inproc://null"), ENOTSOCK);
    CHECK_ERRNO (zmq_send (s, buf, 5, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_send (s, NULL, 0, ZMQ_DONTWAIT), ENOTSOCK);
    CHECK_ERRNO (zmq_send_const (s, buf, 5, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSOCK);
    CHECK_ERRNO (zmq_socket_monitor (s, "inproc://monitor", ZMQ_EVENT_ALL),
                 ENOTSOCK);
    CHECK_ERRNO (zmq_socket_monitor (s, NULL, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_sendiov (s, &iov, 1, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_recviov (s, &iov, &count, 0), ENOTSOCK);
    //  The handle is rejected before *count is touched.
    CHECK_INT_EQ (count, 1);

    //  Message-based calls leave the message alone.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 5), 0);
    memcpy (zmq_msg_data (&msg), "abcde", 5);
    CHECK_ERRNO (zmq_msg_send (&msg, s, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_msg_recv (&msg, s, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_sendmsg (s, &msg, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_recvmsg (s, &msg, 0), ENOTSOCK);
    CHECK_INT_EQ (zmq_msg_size (&msg), 5);
    CHECK (memcmp (zmq_msg_data (&msg), "abcde", 5) == 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
}

static void test_null_and_foreign_sockets (void)
{
    check_not_socket (NULL);
    check_not_socket (foreign);
}

static void test_socket_creation_errors (void)
{
    CHECK_NULL_ERRNO (zmq_socket (NULL, ZMQ_PAIR), EFAULT);
    CHECK_NULL_ERRNO (zmq_socket (foreign, ZMQ_PAIR), EFAULT);
    //  The context check comes before the type check.
    CHECK_NULL_ERRNO (zmq_socket (NULL, 12345), EFAULT);

    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_NULL_ERRNO (zmq_socket (ctx, 12345), EINVAL);
    CHECK_NULL_ERRNO (zmq_socket (ctx, -1), EINVAL);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
}

static void test_proxy_and_poll (void)
{
    CHECK_ERRNO (zmq_proxy (NULL, NULL, NULL), EFAULT);
    CHECK_ERRNO (zmq_proxy_steerable (NULL, NULL, NULL, NULL), EFAULT);

    //  No items: returns 0 at once (timeout 0) or after the timeout.
    CHECK_INT_EQ (zmq_poll (NULL, 0, 0), 0);
    CHECK_INT_EQ (zmq_poll (NULL, 0, 10), 0);
    zmq_pollitem_t item;
    memset (&item, 0, sizeof item);
    CHECK_INT_EQ (zmq_poll (&item, 0, 0), 0);

    //  Negative count.
    CHECK_ERRNO (zmq_poll (NULL, -1, 0), EINVAL);
    CHECK_ERRNO (zmq_poll (&item, -1, 0), EINVAL);

    //  An item with no socket and fd -1 is ignored.
    item.socket = NULL;
    item.fd = -1;
    item.events = ZMQ_POLLIN | ZMQ_POLLOUT;
    item.revents = 0x7f;
    CHECK_INT_EQ (zmq_poll (&item, 1, 0), 0);
    CHECK_INT_EQ (item.revents, 0);

    //  A foreign socket pointer is not a socket.
    item.socket = foreign;
    item.fd = -1;
    item.events = ZMQ_POLLIN;
    CHECK_ERRNO (zmq_poll (&item, 1, 0), ENOTSOCK);
}

static void test_handle_confusion (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    void *socket = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (socket != NULL);

    //  A context is not a socket.  (libzmq decides this by reading its tag
    //  word at the socket's tag offset inside the context object: valgrind
    //  flags it as uninitialised, but it never matches in practice.)
    CHECK_ERRNO (zmq_close (ctx), ENOTSOCK);
    CHECK_ERRNO (zmq_bind (ctx, "inproc://confused"), ENOTSOCK);
    int value = 0;
    size_t value_size = sizeof value;
    CHECK_ERRNO (zmq_getsockopt (ctx, ZMQ_TYPE, &value, &value_size),
                 ENOTSOCK);
    zmq_pollitem_t item = {ctx, -1, ZMQ_POLLIN, 0};
    CHECK_ERRNO (zmq_poll (&item, 1, 0), ENOTSOCK);

    //  A socket is not a context.
    CHECK_ERRNO (zmq_ctx_term (socket), EFAULT);
    CHECK_ERRNO (zmq_ctx_shutdown (socket), EFAULT);
    CHECK_ERRNO (zmq_ctx_set (socket, ZMQ_IO_THREADS, 1), EFAULT);
    CHECK_ERRNO (zmq_ctx_get (socket, ZMQ_IO_THREADS), EFAULT);
    CHECK_NULL_ERRNO (zmq_socket (socket, ZMQ_PAIR), EFAULT);

    //  A real socket with a NULL partner in zmq_proxy.
    CHECK_ERRNO (zmq_proxy (socket, NULL, NULL), EFAULT);
    CHECK_ERRNO (zmq_proxy (NULL, socket, NULL), EFAULT);

    //  Both are still fine.
    CHECK_OK (zmq_getsockopt (socket, ZMQ_TYPE, &value, &value_size));
    CHECK_INT_EQ (value, ZMQ_PAIR);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 1);

    CHECK_INT_EQ (zmq_close (socket), 0);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
}

int main (void)
{
    test_init ();
    test_null_and_foreign_sockets ();
    test_socket_creation_errors ();
    test_proxy_and_poll ();
    test_handle_confusion ();
    TEST_PASS ();
}
