/* What every interop program shares: failure reporting, the run's watchdog,
 * a monotonic clock and an int option setter.  Define INTEROP_NAME (the
 * program's name, a string literal) before including it.
 *
 * A failure prints "NAME[role pattern] FAIL where: ..." (pattern and where
 * only when set) and exits 1; the watchdog exits 3. */
#ifndef INTEROP_H_INCLUDED
#define INTEROP_H_INCLUDED

#include <zmq.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef INTEROP_NAME
#error "define INTEROP_NAME before including interop.h"
#endif

/* Which side this process plays, the scenario, and a note on where in it. */
static const char *g_role = "?";
static const char *g_pattern = "";
static char g_where[160] = "";

#define DIE(...)                                                               \
    do {                                                                       \
        fprintf (stderr, INTEROP_NAME "[%s%s%s] FAIL%s: ", g_role,            \
                 *g_pattern ? " " : "", g_pattern, g_where);                  \
        fprintf (stderr, __VA_ARGS__);                                         \
        fprintf (stderr, "\n");                                                \
        exit (1);                                                              \
    } while (0)

/* An int-returning zmq call that must not fail; yields its result. */
#define ZCHECK(expr)                                                           \
    ({                                                                         \
        int rc_ = (int) (expr);                                                \
        if (rc_ == -1)                                                         \
            DIE ("%s: %s (errno %d)", #expr, zmq_strerror (errno), errno);     \
        rc_;                                                                   \
    })

static void interop_on_alarm (int sig)
{
    (void) sig;
    static const char msg[] = INTEROP_NAME ": run timed out (watchdog)\n";
    if (write (2, msg, sizeof msg - 1) < 0) {
    }
    _exit (3);
}

/* Bounds the whole run. */
static inline void interop_watchdog (unsigned seconds)
{
    signal (SIGALRM, interop_on_alarm);
    alarm (seconds);
}

static inline int64_t now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void set_int (void *sock, int opt, int val)
{
    ZCHECK (zmq_setsockopt (sock, opt, &val, sizeof val));
}

#endif
