/* What every benchmark program shares: failure reporting, a monotonic clock,
 * endpoint passing between processes, argument parsing and the result line.
 *
 * The programs are written against the public zmq.h only and built once
 * against Debian's header and -lzmq; bench/run.sh runs each build on Debian's
 * libzmq and on ours (LD_LIBRARY_PATH).  Define BENCH_NAME (a string literal)
 * before including this header.
 *
 * Conventions:
 *  - a failure prints "NAME[mode] FAIL: ..." on stderr and exits 1 at once
 *    (_exit: a wedged context must not hang the exit);
 *  - a binder binds an endpoint such as tcp://127.0.0.1:* and publishes the
 *    endpoints it got (ZMQ_LAST_ENDPOINT), one a line, in a file written
 *    atomically (temporary file + rename); the connecter waits for that file;
 *  - whoever sends last waits for its peers' "done" files (bench_mark_done)
 *    before closing, so nothing depends on delivery at close;
 *  - the measurement is one line on stdout: "RESULT key=value ...";
 *  - a two-party pattern (thr, lat) is one bench_pair_main call: its binder
 *    and connecter roles run as two processes over tcp/ipc, or as two
 *    threads of one process over inproc. */
#ifndef BENCH_H_INCLUDED
#define BENCH_H_INCLUDED

#include <zmq.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench.h"
#endif

/* How long a connecter waits for its binder's endpoint file. */
#define BENCH_ENDPOINT_WAIT_MS 30000
#define BENCH_EP_MAX 256
/* Where a binder that needs no particular transport binds: an ephemeral port. */
#define BENCH_TCP_ANY "tcp://127.0.0.1:*"

static const char *bench_mode = "?";

#define DIE(...)                                                               \
    do {                                                                       \
        fprintf (stderr, BENCH_NAME "[%s] FAIL: ", bench_mode);               \
        fprintf (stderr, __VA_ARGS__);                                         \
        fprintf (stderr, "\n");                                                \
        fflush (stdout);                                                       \
        _exit (1);                                                             \
    } while (0)

/* An int-returning zmq call that must not fail; yields its result. */
#define ZCHECK(expr)                                                           \
    ({                                                                         \
        int rc_ = (int) (expr);                                                \
        if (rc_ == -1)                                                         \
            DIE ("%s: %s (errno %d)", #expr, zmq_strerror (errno), errno);     \
        rc_;                                                                   \
    })

/* A pointer-returning zmq call that must not return NULL. */
#define ZPTR(expr)                                                             \
    ({                                                                         \
        void *p_ = (void *) (expr);                                            \
        if (!p_)                                                               \
            DIE ("%s: %s (errno %d)", #expr, zmq_strerror (errno), errno);     \
        p_;                                                                    \
    })

static inline int64_t bench_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void bench_set_int (void *sock, int opt, int val)
{
    ZCHECK (zmq_setsockopt (sock, opt, &val, sizeof val));
}

/* A new socket of TYPE bound to ENDPOINT (may end in ":*"). */
static inline void *bench_bind (void *ctx, int type, const char *endpoint)
{
    void *s = ZPTR (zmq_socket (ctx, type));
    if (zmq_bind (s, endpoint) == -1)
        DIE ("zmq_bind %s: %s", endpoint, zmq_strerror (errno));
    return s;
}

/* A new socket of TYPE connected to ENDPOINT. */
static inline void *bench_connect (void *ctx, int type, const char *endpoint)
{
    void *s = ZPTR (zmq_socket (ctx, type));
    if (zmq_connect (s, endpoint) == -1)
        DIE ("zmq_connect %s: %s", endpoint, zmq_strerror (errno));
    return s;
}

/* Writes the endpoints the N sockets are bound to, one a line, to PATH. */
static inline void bench_publish_endpoints (const char *path, void **socks,
                                            int n)
{
    char tmp[4096];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
    FILE *f = fopen (tmp, "w");
    if (!f)
        DIE ("cannot write %s: %s", tmp, strerror (errno));
    for (int i = 0; i < n; i++) {
        char ep[BENCH_EP_MAX];
        size_t len = sizeof ep;
        ZCHECK (zmq_getsockopt (socks[i], ZMQ_LAST_ENDPOINT, ep, &len));
        fprintf (f, "%s\n", ep);
    }
    if (fclose (f) != 0 || rename (tmp, path) != 0)
        DIE ("cannot publish %s: %s", path, strerror (errno));
}

/* Waits for PATH (written by bench_publish_endpoints) and reads N endpoints. */
static inline void bench_wait_endpoints (const char *path,
                                         char eps[][BENCH_EP_MAX], int n)
{
    FILE *f;
    for (int waited = 0; !(f = fopen (path, "r")); waited++) {
        if (waited >= BENCH_ENDPOINT_WAIT_MS)
            DIE ("no endpoint file %s after %d ms", path, waited);
        usleep (1000);
    }
    for (int i = 0; i < n; i++) {
        if (!fgets (eps[i], BENCH_EP_MAX, f))
            DIE ("endpoint file %s: line %d missing", path, i + 1);
        eps[i][strcspn (eps[i], "\n")] = 0;
    }
    fclose (f);
}

/* Tells the processes waiting in bench_wait_done on EPFILE that party ID has
 * finished (creates EPFILE.done.ID).  A sender must not close its socket until
 * the receiver has everything: closing right after the last send can lose the
 * tail over ipc in libzmq 4.3.4 (its issue 4660), linger or not. */
static inline void bench_mark_done (const char *epfile, int id)
{
    char path[4096];
    snprintf (path, sizeof path, "%s.done.%d", epfile, id);
    FILE *f = fopen (path, "w");
    if (!f || fclose (f) != 0)
        DIE ("cannot create %s: %s", path, strerror (errno));
}

/* Waits until parties 0 .. N-1 have called bench_mark_done on EPFILE (with no
 * bound of its own: run.sh bounds every process with timeout(1)). */
static inline void bench_wait_done (const char *epfile, int n)
{
    char path[4096];
    for (int id = 0; id < n; id++) {
        snprintf (path, sizeof path, "%s.done.%d", epfile, id);
        while (access (path, F_OK) != 0)
            usleep (1000);
    }
}

/* A positive integer argument. */
static inline long bench_arg_long (const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol (s, &end, 10);
    if (errno || *end || v <= 0)
        DIE ("bad %s '%s' (a positive integer)", what, s);
    return v;
}

/* Receives one message into MSG and checks its size. */
static inline void bench_recv_sized (void *sock, zmq_msg_t *msg, size_t size)
{
    if (zmq_msg_recv (msg, sock, 0) == -1)
        DIE ("zmq_msg_recv: %s", zmq_strerror (errno));
    if (zmq_msg_size (msg) != size)
        DIE ("message of %zu bytes, expected %zu", zmq_msg_size (msg), size);
}

static inline pthread_t bench_thread (void *(*fn) (void *), void *arg)
{
    pthread_t t;
    if (pthread_create (&t, NULL, fn, arg) != 0)
        DIE ("pthread_create failed");
    return t;
}

static inline void bench_join (pthread_t t)
{
    if (pthread_join (t, NULL) != 0)
        DIE ("pthread_join failed");
}

static inline void bench_ctx_term (void *ctx)
{
    while (zmq_ctx_term (ctx) == -1)
        if (errno != EINTR)
            DIE ("zmq_ctx_term: %s", zmq_strerror (errno));
}

/* One side of a two-party benchmark: a socket, a message size, a count. */
typedef struct
{
    void *sock;
    size_t size;
    long count;
} bench_job;

typedef void *(*bench_role) (void *job);

typedef struct
{
    const char *mode; /* the mode argument naming this role */
    int type;         /* its socket type */
    bench_role run;
} bench_side;

/* The main of a two-party benchmark NAME:
 *   NAME BINDER BIND_ENDPOINT EPFILE SIZE COUNT   binds, publishes EPFILE
 *   NAME CONNECTER EPFILE SIZE COUNT              connects to EPFILE's
 *   NAME inproc SIZE COUNT                        both, as two threads
 * where BINDER and CONNECTER are the sides' mode names. */
static inline int bench_pair_main (int argc, char **argv, bench_side binder,
                                   bench_side connecter)
{
    bench_mode = argc > 1 ? argv[1] : "?";
    void *ctx = ZPTR (zmq_ctx_new ());
    bench_job job;

    if (!strcmp (bench_mode, binder.mode) && argc == 6) {
        job.size = bench_arg_long (argv[4], "SIZE");
        job.count = bench_arg_long (argv[5], "COUNT");
        job.sock = bench_bind (ctx, binder.type, argv[2]);
        bench_publish_endpoints (argv[3], &job.sock, 1);
        binder.run (&job);
        bench_mark_done (argv[3], 0);
    } else if (!strcmp (bench_mode, connecter.mode) && argc == 5) {
        char ep[1][BENCH_EP_MAX];
        job.size = bench_arg_long (argv[3], "SIZE");
        job.count = bench_arg_long (argv[4], "COUNT");
        bench_wait_endpoints (argv[2], ep, 1);
        job.sock = bench_connect (ctx, connecter.type, ep[0]);
        connecter.run (&job);
        bench_wait_done (argv[2], 1);
    } else if (!strcmp (bench_mode, "inproc") && argc == 4) {
        const char *ep = "inproc://" BENCH_NAME;
        bench_job bjob;
        bjob.size = job.size = bench_arg_long (argv[2], "SIZE");
        bjob.count = job.count = bench_arg_long (argv[3], "COUNT");
        bjob.sock = bench_bind (ctx, binder.type, ep);
        pthread_t t = bench_thread (binder.run, &bjob);
        job.sock = bench_connect (ctx, connecter.type, ep);
        connecter.run (&job);
        bench_join (t);
        ZCHECK (zmq_close (bjob.sock));
    } else {
        fprintf (stderr,
                 "usage:\n  " BENCH_NAME " %s BIND_ENDPOINT EPFILE SIZE COUNT\n"
                 "  " BENCH_NAME " %s EPFILE SIZE COUNT\n"
                 "  " BENCH_NAME " inproc SIZE COUNT\n",
                 binder.mode, connecter.mode);
        return 2;
    }
    ZCHECK (zmq_close (job.sock));
    bench_ctx_term (ctx);
    return 0;
}

#endif
