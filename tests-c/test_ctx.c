/* Context lifecycle and every context option, without sockets.
 *
 * Pins: zmq_ctx_new/term/shutdown/destroy and the legacy zmq_init/zmq_term;
 * zmq_ctx_set/zmq_ctx_get defaults, accepted and rejected values (EINVAL),
 * set-only options, unknown options; NULL and foreign context pointers give
 * EFAULT (libzmq checks a tag word in the object).
 *
 * Oracle quirks pinned here (the oracle wins over the man pages):
 *  - ZMQ_SOCKET_LIMIT and ZMQ_THREAD_PRIORITY are both 3: get(3) is the socket
 *    limit (65535), set(3) sets the thread priority.
 *  - zmq_ctx_get (ZMQ_THREAD_SCHED_POLICY) returns the default -1 as a value
 *    and leaves errno alone.
 *  - option 10 (ZMQ_ZERO_COPY_RECV, draft in the header) works in the stable
 *    library: default 1.
 *  - options can still be set/get after zmq_ctx_shutdown. */
#include "testutil.h"

#include <limits.h>

//  A zeroed object that is not a context (large, so the tag check reads
//  inside it whatever the object layout).
static char foreign[65536];

static void test_lifecycle (void)
{
    //  Plain new/term.
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);

    //  Two independent contexts.
    void *a = zmq_ctx_new ();
    void *b = zmq_ctx_new ();
    CHECK (a != NULL && b != NULL && a != b);
    CHECK_OK (zmq_ctx_set (a, ZMQ_IO_THREADS, 3));
    CHECK_INT_EQ (zmq_ctx_get (a, ZMQ_IO_THREADS), 3);
    CHECK_INT_EQ (zmq_ctx_get (b, ZMQ_IO_THREADS), 1);
    CHECK_INT_EQ (zmq_ctx_term (b), 0);
    CHECK_INT_EQ (zmq_ctx_term (a), 0);

    //  zmq_ctx_destroy is an alias of zmq_ctx_term.
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_destroy (ctx), 0);

    //  shutdown is idempotent and is followed by term.
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_shutdown (ctx), 0);
    CHECK_INT_EQ (zmq_ctx_shutdown (ctx), 0);
    //  Options remain readable and settable after shutdown.
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 1);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 2), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 2);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);

    //  Legacy API: zmq_init (n) sets ZMQ_IO_THREADS; zmq_term terminates.
    ctx = zmq_init (3);
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 3);
    CHECK_INT_EQ (zmq_term (ctx), 0);

    ctx = zmq_init (0);
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 0);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);

    ctx = zmq_init (1);
    CHECK (ctx != NULL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 1);
    CHECK_INT_EQ (zmq_ctx_destroy (ctx), 0);

    CHECK_NULL_ERRNO (zmq_init (-1), EINVAL);
    CHECK_NULL_ERRNO (zmq_init (INT_MIN), EINVAL);
}

static void test_bad_handles (void)
{
    CHECK_ERRNO (zmq_ctx_term (NULL), EFAULT);
    CHECK_ERRNO (zmq_ctx_destroy (NULL), EFAULT);
    CHECK_ERRNO (zmq_term (NULL), EFAULT);
    CHECK_ERRNO (zmq_ctx_shutdown (NULL), EFAULT);
    CHECK_ERRNO (zmq_ctx_set (NULL, ZMQ_IO_THREADS, 1), EFAULT);
    CHECK_ERRNO (zmq_ctx_get (NULL, ZMQ_IO_THREADS), EFAULT);

    CHECK_ERRNO (zmq_ctx_term (foreign), EFAULT);
    CHECK_ERRNO (zmq_ctx_destroy (foreign), EFAULT);
    CHECK_ERRNO (zmq_term (foreign), EFAULT);
    CHECK_ERRNO (zmq_ctx_shutdown (foreign), EFAULT);
    CHECK_ERRNO (zmq_ctx_set (foreign, ZMQ_IO_THREADS, 1), EFAULT);
    CHECK_ERRNO (zmq_ctx_get (foreign, ZMQ_IO_THREADS), EFAULT);
    //  The handle check comes before the option check.
    CHECK_ERRNO (zmq_ctx_set (NULL, 9999, 1), EFAULT);
    CHECK_ERRNO (zmq_ctx_get (NULL, 9999), EFAULT);
}

static void test_defaults (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);

    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), ZMQ_IO_THREADS_DFLT);
    CHECK_INT_EQ (ZMQ_IO_THREADS_DFLT, 1);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), ZMQ_MAX_SOCKETS_DFLT);
    CHECK_INT_EQ (ZMQ_MAX_SOCKETS_DFLT, 1023);
    //  epoll-based build: no fd limit, so the socket limit is 65535.
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_SOCKET_LIMIT), 65535);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IPV6), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_BLOCKY), 1);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), INT_MAX);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MSG_T_SIZE), (int) sizeof (zmq_msg_t));
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MSG_T_SIZE), 64);

    //  The scheduling policy default (-1) is returned as a value: errno is
    //  not touched.
    CHECK_INT_EQ (ZMQ_THREAD_SCHED_POLICY_DFLT, -1);
    errno = 0;
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_SCHED_POLICY), -1);
    CHECK_INT_EQ (errno, 0);

    //  Thread name prefix: get returns atoi() of the prefix, "" -> 0.
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_NAME_PREFIX), 0);

    //  ZMQ_THREAD_PRIORITY == ZMQ_SOCKET_LIMIT == 3: get answers the limit.
    CHECK_INT_EQ (ZMQ_THREAD_PRIORITY, ZMQ_SOCKET_LIMIT);
    CHECK_INT_EQ (ZMQ_THREAD_PRIORITY_DFLT, -1);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_PRIORITY), 65535);

    //  Option 10 is ZMQ_ZERO_COPY_RECV (declared only in the draft API, but
    //  the stable library implements it): default on.
    CHECK_INT_EQ (zmq_ctx_get (ctx, 10), 1);

    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
}

static void test_set_get (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);

    //  ZMQ_IO_THREADS: >= 0.
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 0), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 4), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 4);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_IO_THREADS, -1), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_IO_THREADS, INT_MIN), EINVAL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 4);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 1), 0);

    //  ZMQ_MAX_SOCKETS: >= 1; no upper clipping with epoll.
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 0), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, -1), EINVAL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 1023);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 1), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 1);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 1000000), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 1000000);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 512), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 512);
    //  The socket limit is unaffected.
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_SOCKET_LIMIT), 65535);

    //  ZMQ_IPV6: >= 0, stored as a boolean.
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_IPV6, 1), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IPV6), 1);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_IPV6, 5), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IPV6), 1);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_IPV6, 0), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IPV6), 0);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_IPV6, -1), EINVAL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_IPV6), 0);

    //  ZMQ_BLOCKY: >= 0, stored as a boolean.
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_BLOCKY, 0), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_BLOCKY), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_BLOCKY, 7), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_BLOCKY), 1);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_BLOCKY, -1), EINVAL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_BLOCKY), 1);

    //  ZMQ_MAX_MSGSZ: >= 0 (0 accepted).
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, 1000), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), 1000);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, 0), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, INT_MAX), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), INT_MAX);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, -1), EINVAL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), INT_MAX);

    //  ZMQ_MSG_T_SIZE and ZMQ_SOCKET_LIMIT are read-only... except that
    //  ZMQ_SOCKET_LIMIT's number (3) is also ZMQ_THREAD_PRIORITY, so setting
    //  it succeeds (and sets the priority); the limit read back is unchanged.
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_MSG_T_SIZE, 64), EINVAL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_MSG_T_SIZE), 64);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_SOCKET_LIMIT, 10), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_SOCKET_LIMIT), 65535);

    //  ZMQ_THREAD_PRIORITY: >= 0 (the default -1 cannot be set back).
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_PRIORITY, 0), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_PRIORITY, 5), 0);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_PRIORITY, -1), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_PRIORITY,
                              ZMQ_THREAD_PRIORITY_DFLT),
                 EINVAL);

    //  ZMQ_THREAD_SCHED_POLICY: >= 0, any value stored as is.
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, -1), EINVAL);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, 0), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_SCHED_POLICY), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, 99), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_SCHED_POLICY), 99);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, -2), EINVAL);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_SCHED_POLICY), 99);

    //  ZMQ_THREAD_AFFINITY_CPU_ADD/REMOVE: a set of cpu numbers >= 0;
    //  adding twice is fine, removing a cpu not in the set is EINVAL;
    //  both are set-only.
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 0), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, -1), EINVAL);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 0), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 0), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 1), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 5000), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 0), 0);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 0), EINVAL);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 1), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 5000), 0);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, -1),
                 EINVAL);
    CHECK_ERRNO (zmq_ctx_get (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD), EINVAL);
    CHECK_ERRNO (zmq_ctx_get (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE), EINVAL);

    //  ZMQ_THREAD_NAME_PREFIX: any int (stored as its decimal text); get
    //  returns it back as an int.
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 1234), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_NAME_PREFIX), 1234);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, -5), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_NAME_PREFIX), -5);
    CHECK_INT_EQ (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 0), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, ZMQ_THREAD_NAME_PREFIX), 0);

    //  Option 10 (ZMQ_ZERO_COPY_RECV): >= 0, boolean.
    CHECK_INT_EQ (zmq_ctx_set (ctx, 10, 0), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, 10), 0);
    CHECK_INT_EQ (zmq_ctx_set (ctx, 10, 3), 0);
    CHECK_INT_EQ (zmq_ctx_get (ctx, 10), 1);
    CHECK_ERRNO (zmq_ctx_set (ctx, 10, -1), EINVAL);

    //  Unknown options.
    const int unknown[] = {0,  -1, 11,   12,      41,     43,
                           69, 71, 9999, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK_ERRNO (zmq_ctx_set (ctx, unknown[i], 1), EINVAL);
        CHECK_ERRNO (zmq_ctx_get (ctx, unknown[i]), EINVAL);
    }

    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
}

int main (void)
{
    test_init ();
    test_lifecycle ();
    test_bad_handles ();
    test_defaults ();
    test_set_get ();
    TEST_PASS ();
}
