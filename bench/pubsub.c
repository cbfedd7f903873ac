/* PUB fan-out: one publisher, NSUBS subscriber processes, SIZE-byte messages,
 * SNDHWM and RCVHWM 0 (unlimited) so nothing is dropped.
 *
 *   pubsub pub EPFILE NSUBS SIZE COUNT
 *   pubsub sub EPFILE ID SIZE COUNT        (ID = 0 .. NSUBS-1)
 *
 * Start-up: the publisher binds its PUB socket and a REP sync socket to
 * tcp://127.0.0.1:* and publishes both endpoints.  Until every subscriber has checked in it sends a 1-byte probe
 * "P" every 10 ms; a subscriber subscribes to everything, waits for a probe
 * (so its subscription has reached the publisher), then checks in with a
 * REQ/REP round trip.  The publisher then sends COUNT data messages and a
 * 1-byte end marker "E", and keeps its socket open until every subscriber
 * has marked itself done.
 *
 * Each subscriber skips probes, times from its first data message to its
 * last, checks it got exactly COUNT, and reports
 *   RESULT msgs=N secs=S msg_per_s=R */
#define BENCH_NAME "pubsub"
#include "bench.h"

#define PROBE_INTERVAL_MS 10

static void publish (const char *epfile, int nsubs, size_t size, long count)
{
    void *ctx = ZPTR (zmq_ctx_new ());
    void *pub = ZPTR (zmq_socket (ctx, ZMQ_PUB));
    bench_set_int (pub, ZMQ_SNDHWM, 0);
    ZCHECK (zmq_bind (pub, BENCH_TCP_ANY));
    void *sync = bench_bind (ctx, ZMQ_REP, BENCH_TCP_ANY);
    void *socks[2] = {pub, sync};
    bench_publish_endpoints (epfile, socks, 2);

    zmq_pollitem_t item = {sync, 0, ZMQ_POLLIN, 0};
    for (int ready = 0; ready < nsubs;) {
        ZCHECK (zmq_send (pub, "P", 1, 0));
        if (ZCHECK (zmq_poll (&item, 1, PROBE_INTERVAL_MS)) == 0)
            continue;
        char buf[8];
        ZCHECK (zmq_recv (sync, buf, sizeof buf, 0));
        ZCHECK (zmq_send (sync, "go", 2, 0));
        ready++;
    }

    char *data = malloc (size);
    if (!data)
        DIE ("out of memory");
    memset (data, 'd', size);
    for (long i = 0; i < count; i++)
        ZCHECK (zmq_send (pub, data, size, 0));
    ZCHECK (zmq_send (pub, "E", 1, 0));
    bench_wait_done (epfile, nsubs);
    free (data);
    ZCHECK (zmq_close (sync));
    ZCHECK (zmq_close (pub));
    bench_ctx_term (ctx);
}

static void subscribe (const char *epfile, int id, size_t size, long count)
{
    char eps[2][BENCH_EP_MAX];
    bench_wait_endpoints (epfile, eps, 2);
    void *ctx = ZPTR (zmq_ctx_new ());
    void *sub = ZPTR (zmq_socket (ctx, ZMQ_SUB));
    bench_set_int (sub, ZMQ_RCVHWM, 0);
    ZCHECK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0));
    if (zmq_connect (sub, eps[0]) == -1)
        DIE ("zmq_connect %s: %s", eps[0], zmq_strerror (errno));

    zmq_msg_t msg;
    ZCHECK (zmq_msg_init (&msg));
    ZCHECK (zmq_msg_recv (&msg, sub, 0)); /* a probe: we are subscribed */
    void *sync = bench_connect (ctx, ZMQ_REQ, eps[1]);
    char buf[8];
    ZCHECK (zmq_send (sync, "ready", 5, 0));
    ZCHECK (zmq_recv (sync, buf, sizeof buf, 0));

    long got = 0;
    int64_t start = 0, last = 0;
    for (;;) {
        ZCHECK (zmq_msg_recv (&msg, sub, 0));
        const size_t n = zmq_msg_size (&msg);
        const char *p = zmq_msg_data (&msg);
        if (n == size && size > 1) {
            last = bench_now_ns ();
            if (got++ == 0)
                start = last;
        } else if (n == 1 && *p == 'P' && got == 0)
            continue;
        else if (n == 1 && *p == 'E')
            break;
        else
            DIE ("unexpected %zu-byte message after %ld data messages", n,
                 got);
    }
    if (got != count)
        DIE ("received %ld data messages, expected %ld", got, count);
    const double secs = last > start ? (last - start) / 1e9 : 1e-9;
    printf ("RESULT msgs=%ld secs=%.6f msg_per_s=%.1f\n", got, secs,
            (got > 1 ? got - 1 : 1) / secs);
    fflush (stdout);
    bench_mark_done (epfile, id);
    ZCHECK (zmq_msg_close (&msg));
    ZCHECK (zmq_close (sync));
    ZCHECK (zmq_close (sub));
    bench_ctx_term (ctx);
}

int main (int argc, char **argv)
{
    bench_mode = argc > 1 ? argv[1] : "?";
    if (!strcmp (bench_mode, "pub") && argc == 6)
        publish (argv[2], bench_arg_long (argv[3], "NSUBS"),
                 bench_arg_long (argv[4], "SIZE"),
                 bench_arg_long (argv[5], "COUNT"));
    else if (!strcmp (bench_mode, "sub") && argc == 6)
        subscribe (argv[2], atoi (argv[3]), bench_arg_long (argv[4], "SIZE"),
                   bench_arg_long (argv[5], "COUNT"));
    else {
        fprintf (stderr, "usage:\n"
                         "  pubsub pub EPFILE NSUBS SIZE COUNT\n"
                         "  pubsub sub EPFILE ID SIZE COUNT\n");
        return 2;
    }
    return 0;
}
