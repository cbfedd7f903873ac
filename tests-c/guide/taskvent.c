/* Guide chapter 1, "Divide and Conquer": taskvent, taskwork and tasksink,
 * over PUSH/PULL only.
 *
 * taskwork runs WORKERS times, each in a child process: a PULL connected to
 * the ventilator and a PUSH connected to the sink; it announces "READY",
 * does each task (a few ms of simulated work, then result = n * n + 7) and
 * leaves on "END", saying "BYE" to the sink.
 * tasksink is a thread of the parent: a PULL bound to tcp for results.  It
 * waits until every worker has said "READY", then lets the ventilator go
 * (inproc PAIR), takes the ventilator's "START <count>" and every
 * "RESULT <n> <value> <worker>", and checks each task came back exactly once
 * with the right value and that the total of all results is the expected
 * one.  The ventilator then sends "END"s until every worker has said BYE.
 * taskvent is the parent's main thread: a PUSH bound to tcp hands out
 * TASKS tasks round-robin to the workers after sending "START" to the sink
 * through a PUSH connected to the sink's PULL.  Exit 0 when the total checks
 * out and every worker exited 0.  The per-worker share is printed, not
 * checked (PUSH only balances over connections already up). */
#include "guide.h"

#include <time.h>

static int64_t guide_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define WORKERS 3
#define TASKS 100

static long long task_result (int n)
{
    return (long long) n * n + 7;
}

static int taskwork (void *arg, int fd)
{
    int id = (int) (intptr_t) arg;
    char line[800], vent_ep[256], sink_ep[256];
    guide_read_line (fd, line, sizeof line);
    if (sscanf (line, "%255s %255s", vent_ep, sink_ep) != 2)
        DIE ("bad endpoint line \"%s\"", line);

    void *ctx = ZPTR (zmq_ctx_new ());
    void *receiver = guide_socket (ctx, ZMQ_PULL);
    void *sender = guide_socket (ctx, ZMQ_PUSH);
    ZCHECK (zmq_connect (receiver, vent_ep));
    ZCHECK (zmq_connect (sender, sink_ep));

    char msg[128];
    snprintf (msg, sizeof msg, "READY %d", id);
    s_send (sender, msg, 0);

    int done = 0;
    for (;;) {
        zmq_pollitem_t items[] = {{receiver, 0, ZMQ_POLLIN, 0}};
        int rc = ZCHECK (zmq_poll (items, 1, GUIDE_IO_TIMEOUT_MS));
        if (rc == 0)
            DIE ("worker %d: nothing for %d ms", id, GUIDE_IO_TIMEOUT_MS);
        if (items[0].revents & ZMQ_POLLIN) {
            int n, ms;
            if (s_recv (receiver, msg, sizeof msg))
                DIE ("task \"%s\" has more frames", msg);
            if (strcmp (msg, "END") == 0) {
                snprintf (msg, sizeof msg, "BYE %d", id);
                s_send (sender, msg, 0);
                break;
            }
            if (sscanf (msg, "TASK %d %d", &n, &ms) != 2)
                DIE ("bad task \"%s\"", msg);
            struct timespec ts = {0, ms * 1000000L};
            nanosleep (&ts, NULL); //  the simulated work
            snprintf (msg, sizeof msg, "RESULT %d %lld %d", n, task_result (n),
                      id);
            s_send (sender, msg, 0);
            done++;
        }
    }
    fprintf (stderr, "taskwork %d: %d tasks\n", id, done);
    ZCHECK (zmq_close (receiver));
    ZCHECK (zmq_close (sender));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

struct sink
{
    void *results, *go;
    int per_worker[WORKERS];
};

static void *tasksink (void *p)
{
    struct sink *s = p;
    char msg[128];

    //  Wait for every worker.
    int ready[WORKERS] = {0}, nready = 0;
    while (nready < WORKERS) {
        zmq_pollitem_t item = {s->results, 0, ZMQ_POLLIN, 0};
        if (ZCHECK (zmq_poll (&item, 1, GUIDE_IO_TIMEOUT_MS)) == 0)
            DIE ("only %d of %d workers ready", nready, WORKERS);
        int w;
        s_recv (s->results, msg, sizeof msg);
        if (sscanf (msg, "READY %d", &w) != 1 || w < 0 || w >= WORKERS
            || ready[w])
            DIE ("sink: unexpected \"%s\" while waiting for workers", msg);
        ready[w] = 1;
        nready++;
    }
    s_send (s->go, "GO", 0);

    //  The batch: one START and TASKS results, in any interleaving.
    static int seen[TASKS];
    int started = 0, nresults = 0;
    long long total = 0, expected = 0;
    for (int n = 0; n < TASKS; n++)
        expected += task_result (n);
    while (nresults < TASKS || !started) {
        int n, w, count;
        long long value;
        if (s_recv (s->results, msg, sizeof msg))
            DIE ("sink: \"%s\" has more frames", msg);
        if (sscanf (msg, "START %d", &count) == 1) {
            if (started || count != TASKS)
                DIE ("sink: unexpected \"%s\"", msg);
            started = 1;
        } else if (sscanf (msg, "RESULT %d %lld %d", &n, &value, &w) == 3) {
            if (n < 0 || n >= TASKS || seen[n] || w < 0 || w >= WORKERS)
                DIE ("sink: unexpected \"%s\"", msg);
            if (value != task_result (n))
                DIE ("sink: task %d: result %lld, expected %lld", n, value,
                     task_result (n));
            seen[n] = 1;
            total += value;
            s->per_worker[w]++;
            nresults++;
        } else
            DIE ("sink: unexpected \"%s\"", msg);
    }
    if (total != expected)
        DIE ("sink: total %lld, expected %lld", total, expected);
    return NULL;
}

int main (void)
{
    guide_init ("taskvent");
    guide_child_t workers[WORKERS];
    for (int w = 0; w < WORKERS; w++)
        workers[w] = guide_fork (taskwork, (void *) (intptr_t) w, "taskwork");

    void *ctx = ZPTR (zmq_ctx_new ());
    struct sink s;
    memset (&s, 0, sizeof s);
    char vent_ep[256], sink_ep[256], line[800];
    void *tasks = guide_socket (ctx, ZMQ_PUSH);
    guide_bind (tasks, "tcp", vent_ep);
    s.results = guide_socket (ctx, ZMQ_PULL);
    guide_bind (s.results, "tcp", sink_ep);
    void *go = guide_socket (ctx, ZMQ_PAIR);
    char go_ep[256];
    guide_bind (go, "inproc://taskvent-go", go_ep);
    s.go = guide_socket (ctx, ZMQ_PAIR);
    ZCHECK (zmq_connect (s.go, go_ep));
    void *to_sink = guide_socket (ctx, ZMQ_PUSH);
    ZCHECK (zmq_connect (to_sink, sink_ep));

    snprintf (line, sizeof line, "%s %s", vent_ep, sink_ep);
    for (int w = 0; w < WORKERS; w++)
        guide_write_line (workers[w].fd, line);
    pthread_t sink_thread = guide_thread (tasksink, &s);

    //  The ventilator.
    s_expect (go, "GO");
    char msg[64];
    snprintf (msg, sizeof msg, "START %d", TASKS);
    s_send (to_sink, msg, 0);
    for (int n = 0; n < TASKS; n++) {
        snprintf (msg, sizeof msg, "TASK %d %d", n, n % 3);
        s_send (tasks, msg, 0);
    }

    pthread_join (sink_thread, NULL);
    //  Send ENDs until every worker has said BYE (a worker that left may
    //  still be handed one; its pipe goes away with it).
    int bye[WORKERS] = {0}, nbye = 0;
    int64_t deadline = guide_now_ms () + GUIDE_IO_TIMEOUT_MS;
    while (nbye < WORKERS) {
        if (guide_now_ms () > deadline)
            DIE ("only %d of %d workers said BYE", nbye, WORKERS);
        zmq_send (tasks, "END", 3, ZMQ_DONTWAIT);
        zmq_pollitem_t item = {s.results, 0, ZMQ_POLLIN, 0};
        if (ZCHECK (zmq_poll (&item, 1, 10)) == 0)
            continue;
        int w;
        s_recv (s.results, msg, sizeof msg);
        if (sscanf (msg, "BYE %d", &w) != 1 || w < 0 || w >= WORKERS || bye[w])
            DIE ("unexpected \"%s\" while waiting for BYE", msg);
        bye[w] = 1;
        nbye++;
    }
    for (int w = 0; w < WORKERS; w++)
        guide_reap (&workers[w], "taskwork");
    ZCHECK (zmq_close (tasks));
    ZCHECK (zmq_close (to_sink));
    ZCHECK (zmq_close (go));
    ZCHECK (zmq_close (s.go));
    ZCHECK (zmq_close (s.results));
    ZCHECK (zmq_ctx_term (ctx));
    printf ("PASS taskvent/taskwork/tasksink: %d tasks, shares", TASKS);
    for (int w = 0; w < WORKERS; w++)
        printf (" %d", s.per_worker[w]);
    printf ("\n");
    return 0;
}
