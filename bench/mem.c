/* Idle memory: N DEALER sockets, then N connections from them to one ROUTER,
 * all in one process over tcp; the resident set size (RSS) each step adds.
 *
 *   mem N
 *
 * Steps, each measured from /proc/self/statm once the step is complete:
 *   0. a context, the ROUTER bound to tcp://127.0.0.1:*, and one DEALER
 *      connected and answered (so the I/O thread, the listener and every
 *      lazily built structure of a first connection exist);
 *   1. N more DEALER sockets, not connected: RSS added per socket;
 *   2. each connects to the ROUTER and sends one 8-byte message; the ROUTER
 *      receives all N and answers each, and every DEALER receives its answer
 *      (both directions of every connection have carried a message): RSS
 *      added per connection, both of its ends together (the DEALER's session
 *      and engine, the ROUTER's, their pipes and buffers).
 * RESULT per_socket_kib=... per_conn_kib=... (KiB = 1024 bytes). */
#define BENCH_NAME "mem"
#include "bench.h"

#include <sys/resource.h>

static long rss_bytes (void)
{
    FILE *f = fopen ("/proc/self/statm", "r");
    long size, resident;
    if (!f || fscanf (f, "%ld %ld", &size, &resident) != 2)
        DIE ("cannot read /proc/self/statm");
    fclose (f);
    return resident * sysconf (_SC_PAGESIZE);
}

/* Sends DEALER's 8-byte request: its ID. */
static void dealer_hello (void *dealer, long id)
{
    char body[8];
    memcpy (body, &id, sizeof body);
    ZCHECK (zmq_send (dealer, body, sizeof body, 0));
}

/* Receives N requests on ROUTER and answers each with its own body. */
static void router_answer (void *router, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t rid, body;
        zmq_msg_init (&rid);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&rid, router, 0) == -1)
            DIE ("router recv: %s", zmq_strerror (errno));
        if (!zmq_msg_more (&rid))
            DIE ("routing id frame without a body");
        bench_recv_sized (router, &body, 8);
        ZCHECK (zmq_msg_send (&rid, router, ZMQ_SNDMORE));
        ZCHECK (zmq_msg_send (&body, router, 0));
    }
}

/* Receives DEALER's answer and checks that it echoes ID. */
static void dealer_answered (void *dealer, long id)
{
    char body[8];
    int rc = zmq_recv (dealer, body, sizeof body, 0);
    if (rc != (int) sizeof body || memcmp (body, &id, sizeof body) != 0)
        DIE ("dealer %ld: wrong answer (rc %d: %s)", id, rc,
             rc == -1 ? zmq_strerror (errno) : "size or bytes");
}

/* Closes SOCK, dropping whatever it still holds (ZMQ_LINGER 0). */
static void close_now (void *sock)
{
    bench_set_int (sock, ZMQ_LINGER, 0);
    ZCHECK (zmq_close (sock));
}

int main (int argc, char **argv)
{
    bench_mode = "mem";
    if (argc != 2)
        DIE ("usage: mem N");
    long n = bench_arg_long (argv[1], "N");

    /* Two descriptors a connection, one or two a socket, and some spare. */
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
        DIE ("getrlimit: %s", strerror (errno));
    rlim_t need = (rlim_t) (4 * n + 256);
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need
                        ? need
                        : rl.rlim_max;
        if (rl.rlim_cur < need || setrlimit (RLIMIT_NOFILE, &rl) != 0)
            DIE ("need %lu open files (limit %lu)", (unsigned long) need,
                 (unsigned long) rl.rlim_max);
    }

    void *ctx = ZPTR (zmq_ctx_new ());
    ZCHECK (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, (int) n + 64));
    /* A backlog for every connection at once: with the default (100) the
     * kernel drops the SYNs of a burst of connects, and each waits out TCP's
     * retransmission back-off (1 s, 3 s, 7 s, ...). */
    void *router = ZPTR (zmq_socket (ctx, ZMQ_ROUTER));
    bench_set_int (router, ZMQ_BACKLOG, (int) n + 64);
    if (zmq_bind (router, BENCH_TCP_ANY) == -1)
        DIE ("zmq_bind %s: %s", BENCH_TCP_ANY, zmq_strerror (errno));
    char ep[BENCH_EP_MAX];
    size_t len = sizeof ep;
    ZCHECK (zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, ep, &len));

    void *first = bench_connect (ctx, ZMQ_DEALER, ep);
    dealer_hello (first, -1);
    router_answer (router, 1);
    dealer_answered (first, -1);
    long rss0 = rss_bytes ();

    void **dealers = malloc (sizeof (void *) * (size_t) n);
    if (!dealers)
        DIE ("out of memory");
    for (long i = 0; i < n; i++)
        dealers[i] = ZPTR (zmq_socket (ctx, ZMQ_DEALER));
    long rss1 = rss_bytes ();

    for (long i = 0; i < n; i++) {
        if (zmq_connect (dealers[i], ep) == -1)
            DIE ("zmq_connect %s: %s", ep, zmq_strerror (errno));
        dealer_hello (dealers[i], i);
    }
    router_answer (router, n);
    for (long i = 0; i < n; i++)
        dealer_answered (dealers[i], i);
    long rss2 = rss_bytes ();

    printf ("RESULT per_socket_kib=%.1f per_conn_kib=%.1f rss_kib=%ld\n",
            (double) (rss1 - rss0) / 1024.0 / (double) n,
            (double) (rss2 - rss1) / 1024.0 / (double) n, rss2 / 1024);
    fflush (stdout);

    for (long i = 0; i < n; i++)
        close_now (dealers[i]);
    close_now (first);
    close_now (router);
    free (dealers);
    bench_ctx_term (ctx);
    return 0;
}
