/* Request/reply through a broker: NCLIENTS REQ client threads -> ROUTER
 * frontend | zmq_proxy | DEALER backend -> NWORKERS REP worker threads (echo),
 * SIZE-byte requests, the broker in its own process, all over tcp.
 *
 *   proxy broker EPFILE
 *       binds ROUTER and DEALER to tcp://127.0.0.1:*, publishes both
 *       endpoints, runs zmq_proxy (in a thread) until the other process has
 *       marked itself done, then shuts its context down.
 *   proxy clients EPFILE NCLIENTS NWORKERS SIZE COUNT
 *       starts the workers, then the clients; each client makes WARMUP round
 *       trips, all meet at a barrier, then each makes COUNT / NCLIENTS timed
 *       round trips.  Reports, from the barrier to the last client's end,
 *   RESULT rts=N secs=S rt_per_s=R */
#define BENCH_NAME "proxy"
#include "bench.h"

#define WARMUP 200

static void *run_proxy (void *arg)
{
    void **socks = arg;
    if (zmq_proxy (socks[0], socks[1], NULL) != -1 || errno != ETERM)
        DIE ("zmq_proxy ended with %s instead of ETERM", zmq_strerror (errno));
    ZCHECK (zmq_close (socks[0]));
    ZCHECK (zmq_close (socks[1]));
    return NULL;
}

static void broker (const char *epfile)
{
    void *ctx = ZPTR (zmq_ctx_new ());
    void *socks[2] = {bench_bind (ctx, ZMQ_ROUTER, BENCH_TCP_ANY),
                      bench_bind (ctx, ZMQ_DEALER, BENCH_TCP_ANY)};
    bench_publish_endpoints (epfile, socks, 2);
    pthread_t proxy = bench_thread (run_proxy, socks);
    bench_wait_done (epfile, 1);
    ZCHECK (zmq_ctx_shutdown (ctx));
    bench_join (proxy);
    bench_ctx_term (ctx);
}

typedef struct
{
    void *ctx;
    const char *endpoint;
    size_t size;
    long count; /* a client's timed round trips */
    pthread_barrier_t *barrier;
} party;

/* A REP worker: echoes until its context is shut down. */
static void *worker (void *arg)
{
    const party *w = arg;
    void *rep = bench_connect (w->ctx, ZMQ_REP, w->endpoint);
    zmq_msg_t msg;
    ZCHECK (zmq_msg_init (&msg));
    while (zmq_msg_recv (&msg, rep, 0) != -1) {
        if (zmq_msg_size (&msg) != w->size)
            DIE ("worker: request of %zu bytes, expected %zu",
                 zmq_msg_size (&msg), w->size);
        if (zmq_msg_send (&msg, rep, 0) == -1)
            break;
    }
    if (errno != ETERM)
        DIE ("worker: %s", zmq_strerror (errno));
    ZCHECK (zmq_msg_close (&msg));
    ZCHECK (zmq_close (rep));
    return NULL;
}

static void round_trip (void *req, char *buf, size_t size)
{
    ZCHECK (zmq_send (req, buf, size, 0));
    const int n = ZCHECK (zmq_recv (req, buf, size, 0));
    if ((size_t) n != size)
        DIE ("client: reply of %d bytes, expected %zu", n, size);
}

static void *client (void *arg)
{
    const party *c = arg;
    void *req = bench_connect (c->ctx, ZMQ_REQ, c->endpoint);
    char *buf = malloc (c->size);
    if (!buf)
        DIE ("out of memory");
    memset (buf, 'r', c->size);
    for (int i = 0; i < WARMUP; i++)
        round_trip (req, buf, c->size);
    pthread_barrier_wait (c->barrier);
    for (long i = 0; i < c->count; i++)
        round_trip (req, buf, c->size);
    free (buf);
    ZCHECK (zmq_close (req));
    return NULL;
}

static void clients (const char *epfile, int nclients, int nworkers,
                     size_t size, long count)
{
    char eps[2][BENCH_EP_MAX];
    bench_wait_endpoints (epfile, eps, 2);
    void *ctx = ZPTR (zmq_ctx_new ());
    pthread_barrier_t barrier;
    pthread_barrier_init (&barrier, NULL, nclients + 1);
    party w = {ctx, eps[1], size, 0, NULL};
    party c = {ctx, eps[0], size, count / nclients, &barrier};
    pthread_t workers[nworkers], cls[nclients];
    for (int i = 0; i < nworkers; i++)
        workers[i] = bench_thread (worker, &w);
    for (int i = 0; i < nclients; i++)
        cls[i] = bench_thread (client, &c);

    pthread_barrier_wait (&barrier);
    const int64_t start = bench_now_ns ();
    for (int i = 0; i < nclients; i++)
        bench_join (cls[i]);
    const int64_t end = bench_now_ns ();
    const long rts = c.count * nclients;
    const double secs = end > start ? (end - start) / 1e9 : 1e-9;
    printf ("RESULT rts=%ld secs=%.6f rt_per_s=%.1f\n", rts, secs, rts / secs);
    fflush (stdout);

    bench_mark_done (epfile, 0);
    ZCHECK (zmq_ctx_shutdown (ctx));
    for (int i = 0; i < nworkers; i++)
        bench_join (workers[i]);
    bench_ctx_term (ctx);
    pthread_barrier_destroy (&barrier);
}

int main (int argc, char **argv)
{
    bench_mode = argc > 1 ? argv[1] : "?";
    if (!strcmp (bench_mode, "broker") && argc == 3)
        broker (argv[2]);
    else if (!strcmp (bench_mode, "clients") && argc == 7)
        clients (argv[2], bench_arg_long (argv[3], "NCLIENTS"),
                 bench_arg_long (argv[4], "NWORKERS"),
                 bench_arg_long (argv[5], "SIZE"),
                 bench_arg_long (argv[6], "COUNT"));
    else {
        fprintf (stderr, "usage:\n"
                         "  proxy broker EPFILE\n"
                         "  proxy clients EPFILE NCLIENTS NWORKERS SIZE COUNT\n");
        return 2;
    }
    return 0;
}
