/* Throughput, PUSH -> PULL, after libzmq's local_thr/remote_thr: the sender
 * sends COUNT messages of SIZE bytes (zmq_msg_init_size + zmq_msg_send each);
 * the receiver times from the first message to the last and reports
 * COUNT - 1 messages over that interval.
 *
 *   thr recv BIND_ENDPOINT EPFILE SIZE COUNT   PULL binds, publishes EPFILE
 *   thr send EPFILE SIZE COUNT                 PUSH connects (other process)
 *   thr inproc SIZE COUNT                      both, as two threads
 *
 * RESULT msgs=N secs=S msg_per_s=R mb_per_s=M   (MB = 10^6 bytes) */
#define BENCH_NAME "thr"
#include "bench.h"

static void *receive_all (void *arg)
{
    const bench_job *job = arg;
    zmq_msg_t msg;
    ZCHECK (zmq_msg_init (&msg));
    bench_recv_sized (job->sock, &msg, job->size);
    const int64_t start = bench_now_ns ();
    for (long i = 1; i < job->count; i++)
        bench_recv_sized (job->sock, &msg, job->size);
    const int64_t end = bench_now_ns ();
    ZCHECK (zmq_msg_close (&msg));

    const long timed = job->count > 1 ? job->count - 1 : 1;
    const double secs = end > start ? (end - start) / 1e9 : 1e-9;
    printf ("RESULT msgs=%ld secs=%.6f msg_per_s=%.1f mb_per_s=%.3f\n",
            job->count, secs, timed / secs,
            timed * (double) job->size / secs / 1e6);
    fflush (stdout);
    return NULL;
}

static void *send_all (void *arg)
{
    const bench_job *job = arg;
    for (long i = 0; i < job->count; i++) {
        zmq_msg_t msg;
        ZCHECK (zmq_msg_init_size (&msg, job->size));
        ZCHECK (zmq_msg_send (&msg, job->sock, 0));
    }
    return NULL;
}

int main (int argc, char **argv)
{
    return bench_pair_main (argc, argv,
                            (bench_side){"recv", ZMQ_PULL, receive_all},
                            (bench_side){"send", ZMQ_PUSH, send_all});
}
