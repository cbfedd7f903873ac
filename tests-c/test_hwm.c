/* High-water marks (ZMQ_SNDHWM / ZMQ_RCVHWM) over inproc, where libzmq's
 * queue limits are exact.
 *
 * Pins:
 *  - an inproc pipe holds SNDHWM (sender) + RCVHWM (receiver) messages:
 *    defaults 1000 + 1000 = 2000; 1 + 1 = 2; 5 + 3 = 8; the same for
 *    PUSH/PULL, PAIR and DEALER, whether the receiver bound first or the
 *    sender connected first (both before any message is sent); after that,
 *    zmq_send with ZMQ_DONTWAIT fails with EAGAIN;
 *  - if either side's HWM is 0 the pipe is unlimited: 100000 (0/0) or
 *    10000 (1/0, 0/1, either connect order) sends with ZMQ_DONTWAIT all
 *    succeed and arrive in order;
 *  - the limit counts whole messages: with 1 + 1, two 3-part messages fit
 *    and the first frame of a third one fails with EAGAIN;
 *  - after the receiver drains everything, sending resumes: as many blocking
 *    sends as the limit succeed, then ZMQ_DONTWAIT gives EAGAIN again;
 *  - a PUSH connected to an inproc name not bound yet queues exactly its own
 *    SNDHWM messages (1, 3, 10); once the PULL binds they are all delivered
 *    in order and the connection works normally;
 *  - raising ZMQ_SNDHWM after the connection exists applies to it at once:
 *    1 + 1 raised to 5 on the sender gives 6 (connect-before-bind, as in
 *    libzmq's test, and bind-first); getsockopt reads the new value back. */
#include "testutil.h"

static int fill (void *s)
{
    int n = 0;
    while (n < 200000) {
        errno = 0;
        if (zmq_send (s, &n, sizeof n, ZMQ_DONTWAIT) != (int) sizeof n) {
            CHECK_INT_EQ (errno, EAGAIN);
            break;
        }
        n++;
    }
    return n;
}

static void drain_exactly (void *s, int count)
{
    for (int i = 0; i < count; i++) {
        int v = -1;
        CHECK_INT_EQ (zmq_recv (s, &v, sizeof v, ZMQ_DONTWAIT), sizeof v);
        CHECK_INT_EQ (v, i);
    }
    CHECK_ERRNO (zmq_recv (s, NULL, 0, ZMQ_DONTWAIT), EAGAIN);
}

static int seq = 0;

static void new_endpoint (char *ep)
{
    snprintf (ep, TEST_ENDPOINT_MAX, "inproc://hwm-%d", ++seq);
}

/* Opens sender/receiver with the given HWMs (-1: default) and connects them
 * in the given order. */
static void open_pair (void *ctx, int stype, int rtype, int sndhwm, int rcvhwm,
                       int connect_first, void **snd, void **rcv)
{
    char ep[TEST_ENDPOINT_MAX];
    new_endpoint (ep);
    *snd = zmq_socket (ctx, stype);
    *rcv = zmq_socket (ctx, rtype);
    CHECK (*snd && *rcv);
    if (sndhwm >= 0)
        test_set_int (*snd, ZMQ_SNDHWM, sndhwm);
    if (rcvhwm >= 0)
        test_set_int (*rcv, ZMQ_RCVHWM, rcvhwm);
    if (connect_first) {
        CHECK_OK (zmq_connect (*snd, ep));
        CHECK_OK (zmq_bind (*rcv, ep));
    } else {
        CHECK_OK (zmq_bind (*rcv, ep));
        CHECK_OK (zmq_connect (*snd, ep));
    }
}

static void check_limit (void *ctx, int stype, int rtype, int sndhwm,
                         int rcvhwm, int connect_first, int expected)
{
    void *snd, *rcv;
    open_pair (ctx, stype, rtype, sndhwm, rcvhwm, connect_first, &snd, &rcv);
    int sent = fill (snd);
    if (sent != expected)
        FAIL ("type %d->%d hwm %d/%d connect_first %d: %d sent, expected %d",
              stype, rtype, sndhwm, rcvhwm, connect_first, sent, expected);
    CHECK_ERRNO (zmq_send (snd, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    drain_exactly (rcv, expected);

    //  Sending resumes after the drain (blocking sends pick up the
    //  receiver's progress), up to the same limit.
    if (expected < 200000) {
        test_set_int (snd, ZMQ_SNDTIMEO, 5000);
        for (int i = 0; i < expected; i++)
            CHECK_INT_EQ (zmq_send (snd, &i, sizeof i, 0), sizeof i);
        CHECK_ERRNO (zmq_send (snd, "x", 1, ZMQ_DONTWAIT), EAGAIN);
        drain_exactly (rcv, expected);
    }
    test_close_zero_linger (snd);
    test_close_zero_linger (rcv);
}

static void test_limits (void *ctx)
{
    const int types[3][2] = {
      {ZMQ_PUSH, ZMQ_PULL}, {ZMQ_PAIR, ZMQ_PAIR}, {ZMQ_DEALER, ZMQ_DEALER}};
    for (int t = 0; t < 3; t++)
        for (int cf = 0; cf < 2; cf++) {
            check_limit (ctx, types[t][0], types[t][1], -1, -1, cf, 2000);
            check_limit (ctx, types[t][0], types[t][1], 1, 1, cf, 2);
            check_limit (ctx, types[t][0], types[t][1], 5, 3, cf, 8);
        }
}

static void test_unlimited (void *ctx)
{
    const int hwms[3][2] = {{0, 0}, {1, 0}, {0, 1}};
    for (int h = 0; h < 3; h++)
        for (int cf = 0; cf < 2; cf++) {
            void *snd, *rcv;
            open_pair (ctx, ZMQ_PUSH, ZMQ_PULL, hwms[h][0], hwms[h][1], cf,
                       &snd, &rcv);
            //  100000 once, 10000 for the other combinations (keeps the
            //  test quick under valgrind).
            const int count = (h == 0 && cf == 0) ? 100000 : 10000;
            for (int i = 0; i < count; i++)
                CHECK_INT_EQ (zmq_send (snd, &i, sizeof i, ZMQ_DONTWAIT),
                              sizeof i);
            drain_exactly (rcv, count);
            test_close_zero_linger (snd);
            test_close_zero_linger (rcv);
        }
}

static void test_multipart_counts_once (void *ctx)
{
    void *snd, *rcv;
    open_pair (ctx, ZMQ_PUSH, ZMQ_PULL, 1, 1, 0, &snd, &rcv);
    for (int m = 0; m < 2; m++) {
        SEND_STR (snd, "a", ZMQ_SNDMORE | ZMQ_DONTWAIT);
        SEND_STR (snd, "b", ZMQ_SNDMORE | ZMQ_DONTWAIT);
        SEND_STR (snd, "c", ZMQ_DONTWAIT);
    }
    CHECK_ERRNO (zmq_send (snd, "a", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT), EAGAIN);
    for (int m = 0; m < 2; m++) {
        RECV_STR (rcv, "a", 1);
        RECV_STR (rcv, "b", 1);
        RECV_STR (rcv, "c", 0);
    }
    CHECK_ERRNO (zmq_recv (rcv, NULL, 0, ZMQ_DONTWAIT), EAGAIN);
    test_close_zero_linger (snd);
    test_close_zero_linger (rcv);
}

static void test_before_bind (void *ctx, int sndhwm)
{
    char ep[TEST_ENDPOINT_MAX];
    new_endpoint (ep);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (push && pull);
    test_set_int (push, ZMQ_SNDHWM, sndhwm);
    test_set_int (pull, ZMQ_RCVHWM, 1);
    CHECK_OK (zmq_connect (push, ep));
    CHECK_INT_EQ (fill (push), sndhwm);
    CHECK_OK (zmq_bind (pull, ep));
    for (int i = 0; i < sndhwm; i++) {
        int v = -1;
        CHECK_INT_EQ (zmq_recv (pull, &v, sizeof v, 0), sizeof v);
        CHECK_INT_EQ (v, i);
    }
    test_set_int (push, ZMQ_SNDTIMEO, 5000);
    SEND_STR (push, "after", 0);
    RECV_STR (pull, "after", 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

static void test_raise_after_connect (void *ctx, int connect_first)
{
    void *push, *pull;
    open_pair (ctx, ZMQ_PUSH, ZMQ_PULL, 1, 1, connect_first, &push, &pull);
    test_set_int (push, ZMQ_SNDHWM, 5);
    CHECK_INT_EQ (test_get_int (push, ZMQ_SNDHWM), 5);
    CHECK_INT_EQ (fill (push), 6);
    drain_exactly (pull, 6);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_limits (ctx);
    test_unlimited (ctx);
    test_multipart_counts_once (ctx);
    test_before_bind (ctx, 1);
    test_before_bind (ctx, 3);
    test_before_bind (ctx, 10);
    test_raise_after_connect (ctx, 1);
    test_raise_after_connect (ctx, 0);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
