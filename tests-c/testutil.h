/* Shared helpers for the C conformance tests.
 *
 * Every test is one program, one behaviour area.  It is built twice: against
 * our include/zmq.h (with -Wall -Wextra -Werror) and against Debian's
 * /usr/include/zmq.h; the second binary is run against both Debian's libzmq
 * and ours (LD_LIBRARY_PATH), so a test asserts only what libzmq itself does.
 * A watchdog (alarm) bounds every test so a hang fails fast. */
#ifndef TESTUTIL_H_INCLUDED
#define TESTUTIL_H_INCLUDED

#include <zmq.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_TIMEOUT_SECONDS 30

static void testutil_on_alarm (int sig)
{
    (void) sig;
    static const char msg[] = "test timed out (watchdog)\n";
    if (write (2, msg, sizeof msg - 1) < 0) {
    }
    _exit (2);
}

/* Call first in main(): arms the watchdog. */
static inline void test_init (void)
{
    signal (SIGALRM, testutil_on_alarm);
    alarm (TEST_TIMEOUT_SECONDS);
    setvbuf (stdout, NULL, _IONBF, 0);
}

#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf (stderr, "%s:%d: ", __FILE__, __LINE__);                       \
        fprintf (stderr, __VA_ARGS__);                                         \
        fprintf (stderr, "\n");                                                \
        exit (1);                                                              \
    } while (0)

/* A condition that must hold. */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            FAIL ("CHECK failed: %s", #cond);                                  \
    } while (0)

/* An int-returning zmq call that must succeed (not -1); yields the result. */
#define CHECK_OK(expr)                                                         \
    ({                                                                         \
        int rc_ = (int) (expr);                                                \
        if (rc_ == -1)                                                         \
            FAIL ("%s failed: %s (errno %d)", #expr, zmq_strerror (errno),     \
                  errno);                                                      \
        rc_;                                                                   \
    })

/* An int-returning zmq call that must fail with -1 and the given errno. */
#define CHECK_ERRNO(expr, err)                                                 \
    do {                                                                       \
        errno = 0;                                                             \
        int rc_ = (int) (expr);                                                \
        int e_ = errno;                                                        \
        if (rc_ != -1)                                                         \
            FAIL ("%s returned %d, expected -1 (errno %s)", #expr, rc_, #err); \
        if (e_ != (err))                                                       \
            FAIL ("%s: errno %d (%s), expected %s", #expr, e_,                 \
                  zmq_strerror (e_), #err);                                    \
    } while (0)

/* A pointer-returning zmq call that must fail with NULL and the given errno. */
#define CHECK_NULL_ERRNO(expr, err)                                            \
    do {                                                                       \
        errno = 0;                                                             \
        const void *p_ = (const void *) (expr);                                \
        int e_ = errno;                                                        \
        if (p_ != NULL)                                                        \
            FAIL ("%s returned non-NULL, expected NULL (errno %s)", #expr,     \
                  #err);                                                       \
        if (e_ != (err))                                                       \
            FAIL ("%s: errno %d (%s), expected %s", #expr, e_,                 \
                  zmq_strerror (e_), #err);                                    \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                     \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ == NULL || b_ == NULL || strcmp (a_, b_) != 0)                  \
            FAIL ("%s (\"%s\") != %s (\"%s\")", #a, a_ ? a_ : "(null)", #b,    \
                  b_ ? b_ : "(null)");                                         \
    } while (0)

/* Two integer expressions that must be equal; prints both values on failure. */
#define CHECK_INT_EQ(a, b)                                                     \
    do {                                                                       \
        long long ia_ = (long long) (a), ib_ = (long long) (b);                \
        if (ia_ != ib_)                                                        \
            FAIL ("%s (%lld) != %s (%lld)", #a, ia_, #b, ib_);                 \
    } while (0)

#define TEST_PASS()                                                            \
    do {                                                                       \
        printf ("PASS %s\n", __FILE__);                                        \
        return 0;                                                              \
    } while (0)

#endif
