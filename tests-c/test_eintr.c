/* Blocking calls interrupted by a signal.
 *
 * A SIGUSR1 handler is installed without SA_RESTART and a helper thread
 * pthread_kill()s the blocked main thread (repeatedly, every 20 ms, until
 * the call has returned, so the test does not depend on timing).  The
 * SIGALRM watchdog of testutil stays in place.
 *
 * Pins: a blocking zmq_recv (no timeout, and with ZMQ_RCVTIMEO 5000), a
 * blocking zmq_msg_recv, a blocking zmq_send on a PUSH with no peer, and
 * zmq_poll with timeout -1 and with a long positive timeout, all return
 * -1 with errno EINTR; the handler ran; afterwards the socket works
 * normally (a message sent later is received). */
#include "testutil.h"

#include <pthread.h>

static volatile sig_atomic_t signals_caught = 0;

static void on_usr1 (int sig)
{
    (void) sig;
    signals_caught++;
}

struct killer_arg
{
    pthread_t target;
    volatile int stop;
};

static void *killer (void *arg_)
{
    struct killer_arg *arg = (struct killer_arg *) arg_;
    while (!__atomic_load_n (&arg->stop, __ATOMIC_SEQ_CST)) {
        test_sleep_ms (20);
        if (!__atomic_load_n (&arg->stop, __ATOMIC_SEQ_CST))
            pthread_kill (arg->target, SIGUSR1);
    }
    return NULL;
}

enum op
{
    OP_RECV,
    OP_MSG_RECV,
    OP_SEND,
    OP_POLL_INFINITE,
    OP_POLL_LONG
};

static void interrupt (void *ctx, enum op op, int rcvtimeo)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (pull && push);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pull, "tcp", ep);
    if (rcvtimeo)
        test_set_int (pull, ZMQ_RCVTIMEO, rcvtimeo);

    struct killer_arg arg;
    arg.target = pthread_self ();
    arg.stop = 0;
    pthread_t thread;
    int before = signals_caught;
    CHECK (pthread_create (&thread, NULL, killer, &arg) == 0);

    char buf[16];
    zmq_msg_t msg;
    zmq_pollitem_t item = {pull, 0, ZMQ_POLLIN, 0};
    int64_t t0 = test_now_ms ();
    errno = 0;
    int rc;
    switch (op) {
        case OP_RECV:
            rc = zmq_recv (pull, buf, sizeof buf, 0);
            break;
        case OP_MSG_RECV:
            CHECK_OK (zmq_msg_init (&msg));
            rc = zmq_msg_recv (&msg, pull, 0);
            CHECK_OK (zmq_msg_close (&msg));
            break;
        case OP_SEND:
            //  push has no peer yet: blocks.
            rc = zmq_send (push, "x", 1, 0);
            break;
        case OP_POLL_INFINITE:
            rc = zmq_poll (&item, 1, -1);
            break;
        default:
            rc = zmq_poll (&item, 1, 10000);
            break;
    }
    int err = errno;
    __atomic_store_n (&arg.stop, 1, __ATOMIC_SEQ_CST);
    CHECK (pthread_join (thread, NULL) == 0);
    if (rc != -1 || err != EINTR)
        FAIL ("op %d: rc %d errno %d (%s), expected -1/EINTR", (int) op, rc,
              err, zmq_strerror (err));
    CHECK (signals_caught > before);
    CHECK (test_now_ms () - t0 < 5000);

    //  Still usable.
    CHECK_OK (zmq_connect (push, ep));
    SEND_STR (push, "after", 0);
    RECV_STR (pull, "after", 0);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
}

int main (void)
{
    test_init ();
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset (&sa.sa_mask);
    sa.sa_flags = 0; //  no SA_RESTART
    CHECK (sigaction (SIGUSR1, &sa, NULL) == 0);

    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    interrupt (ctx, OP_RECV, 0);
    interrupt (ctx, OP_RECV, 5000);
    interrupt (ctx, OP_MSG_RECV, 0);
    interrupt (ctx, OP_SEND, 0);
    interrupt (ctx, OP_POLL_INFINITE, 0);
    interrupt (ctx, OP_POLL_LONG, 0);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
