/* Latency, REQ <-> REP round trips, after libzmq's local_lat/remote_lat, but
 * timing every round trip (clock_gettime(CLOCK_MONOTONIC)) after a warm-up of
 * WARMUP round trips, so the mean, median and 99th percentile are known.
 *
 *   lat rep BIND_ENDPOINT EPFILE SIZE COUNT   REP binds, publishes, echoes
 *   lat req EPFILE SIZE COUNT                 REQ connects, times (other process)
 *   lat inproc SIZE COUNT                     both, as two threads
 *
 * RESULT count=N mean_us=M p50_us=P p99_us=Q */
#define BENCH_NAME "lat"
#include "bench.h"

#define WARMUP 1000

/* The REP side: echoes WARMUP + COUNT requests. */
static void *echo_all (void *arg)
{
    const bench_job *job = arg;
    zmq_msg_t msg;
    ZCHECK (zmq_msg_init (&msg));
    for (long i = 0; i < WARMUP + job->count; i++) {
        bench_recv_sized (job->sock, &msg, job->size);
        ZCHECK (zmq_msg_send (&msg, job->sock, 0));
    }
    ZCHECK (zmq_msg_close (&msg));
    return NULL;
}

static int cmp_i64 (const void *a, const void *b)
{
    const int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static void round_trip (const bench_job *job, char *buf)
{
    ZCHECK (zmq_send (job->sock, buf, job->size, 0));
    const int n = ZCHECK (zmq_recv (job->sock, buf, job->size, 0));
    if ((size_t) n != job->size)
        DIE ("reply of %d bytes, expected %zu", n, job->size);
}

/* The REQ side: WARMUP untimed round trips, then COUNT timed ones. */
static void *time_round_trips (void *arg)
{
    const bench_job *job = arg;
    char *buf = malloc (job->size);
    int64_t *ns = malloc (job->count * sizeof *ns);
    if (!buf || !ns)
        DIE ("out of memory");
    memset (buf, 'x', job->size);
    for (long i = 0; i < WARMUP; i++)
        round_trip (job, buf);
    double sum = 0;
    for (long i = 0; i < job->count; i++) {
        const int64_t t0 = bench_now_ns ();
        round_trip (job, buf);
        ns[i] = bench_now_ns () - t0;
        sum += ns[i];
    }
    qsort (ns, job->count, sizeof *ns, cmp_i64);
    printf ("RESULT count=%ld mean_us=%.3f p50_us=%.3f p99_us=%.3f\n",
            job->count, sum / job->count / 1e3, ns[job->count / 2] / 1e3,
            ns[job->count * 99 / 100] / 1e3);
    fflush (stdout);
    free (ns);
    free (buf);
    return NULL;
}

int main (int argc, char **argv)
{
    return bench_pair_main (argc, argv,
                            (bench_side){"rep", ZMQ_REP, echo_all},
                            (bench_side){"req", ZMQ_REQ, time_round_trips});
}
