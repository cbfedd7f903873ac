/* A closed socket's linger deadline ends only that socket's connection.
 *
 * Pins: a PUSH (ZMQ_LINGER 2000, ZMQ_RECONNECT_IVL 20) connected to a tcp
 * endpoint nobody listens on yet is closed with three messages queued: its
 * connection lingers, and goes on trying to reconnect (the close must not
 * cancel the reconnection it waits for).  A PULL then binds there and gets
 * all three, so the lingering connection is done well before its deadline.
 * A new PUSH connects to another PULL in the same context (its connection
 * may take the place the old one had in the I/O thread) and traffic flows;
 * it still flows, every message in order, after the old deadline has passed
 * (the deadline must not end a connection that came after it). */
#include "testutil.h"

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);

    //  The PULL the second PUSH will use is bound first, so that its
    //  listener exists before the lingering connection goes.
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (pull);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pull, "tcp", ep);

    //  A PUSH closed before its peer exists: it lingers with its messages.
    char late_ep[TEST_ENDPOINT_MAX];
    test_free_tcp_endpoint (late_ep);
    void *old = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (old);
    test_set_int (old, ZMQ_LINGER, 2000);
    test_set_int (old, ZMQ_RECONNECT_IVL, 20);
    CHECK_OK (zmq_connect (old, late_ep));
    SEND_STR (old, "late1", 0);
    SEND_STR (old, "late2", 0);
    SEND_STR (old, "late3", 0);
    int64_t closed_at = test_now_ms ();
    CHECK_OK (zmq_close (old));

    //  The peer comes and gets everything, long before the deadline: the
    //  lingering connection is done.
    void *late = zmq_socket (ctx, ZMQ_PULL);
    CHECK (late);
    CHECK_OK (zmq_bind (late, late_ep));
    test_set_int (late, ZMQ_RCVTIMEO, 5000);
    RECV_STR (late, "late1", 0);
    RECV_STR (late, "late2", 0);
    RECV_STR (late, "late3", 0);
    CHECK (test_now_ms () - closed_at < 2000);

    //  A new connection, up and carrying messages.
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    CHECK_OK (zmq_connect (push, ep));
    test_set_int (pull, ZMQ_RCVTIMEO, 5000);
    test_set_int (push, ZMQ_SNDTIMEO, 5000);
    SEND_STR (push, "first", 0);
    RECV_STR (pull, "first", 0);

    //  Past the old deadline, it still works, and nothing was lost.
    int sent = 0;
    while (test_now_ms () - closed_at < 2300) {
        char s[32];
        snprintf (s, sizeof s, "msg%d", sent++);
        SEND_STR (push, s, 0);
        RECV_STR (pull, s, 0);
        test_sleep_ms (20);
    }
    for (int i = 0; i < 10; i++) {
        char s[32];
        snprintf (s, sizeof s, "after%d", i);
        SEND_STR (push, s, 0);
        RECV_STR (pull, s, 0);
    }

    test_close_zero_linger (push);
    test_close_zero_linger (pull);
    test_close_zero_linger (late);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
