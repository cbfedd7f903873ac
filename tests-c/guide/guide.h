/* Small helpers shared by the Guide-pattern tests in tests-c/guide/.
 *
 * Every program is built against Debian's /usr/include/zmq.h and -lzmq and
 * run on Debian's libzmq and on ours (LD_LIBRARY_PATH).  An alarm bounds each
 * process; every check that fails prints where and exits non-zero. */
#ifndef GUIDE_H_INCLUDED
#define GUIDE_H_INCLUDED

#include <zmq.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUIDE_TIMEOUT_S 30
#define GUIDE_IO_TIMEOUT_MS 10000

static const char *guide_name = "guide";

#define DIE(...)                                                               \
    do {                                                                       \
        fprintf (stderr, "%s[%d] FAIL %s:%d: ", guide_name, (int) getpid (),   \
                 __FILE__, __LINE__);                                          \
        fprintf (stderr, __VA_ARGS__);                                         \
        fprintf (stderr, "\n");                                                \
        exit (1);                                                              \
    } while (0)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            DIE ("CHECK failed: %s", #cond);                                   \
    } while (0)

/* An int-returning zmq call that must not return -1. */
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
        if (p_ == NULL)                                                        \
            DIE ("%s: %s (errno %d)", #expr, zmq_strerror (errno), errno);     \
        p_;                                                                    \
    })

static void guide_on_alarm (int sig)
{
    (void) sig;
    static const char msg[] = "guide test timed out (watchdog)\n";
    if (write (2, msg, sizeof msg - 1) < 0) {
    }
    _exit (3);
}

/* Call first in main() and in every forked child: arms the watchdog and
 * prints the libzmq version this process runs on stderr. */
static inline void guide_init (const char *name)
{
    guide_name = name;
    signal (SIGALRM, guide_on_alarm);
    alarm (GUIDE_TIMEOUT_S);
    setvbuf (stdout, NULL, _IONBF, 0);
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    fprintf (stderr, "%s[%d]: libzmq %d.%d.%d\n", name, (int) getpid (),
             major, minor, patch);
}

static inline void set_int (void *sock, int opt, int val)
{
    ZCHECK (zmq_setsockopt (sock, opt, &val, sizeof val));
}

/* A socket with bounded send and receive timeouts. */
static inline void *guide_socket (void *ctx, int type)
{
    void *sock = ZPTR (zmq_socket (ctx, type));
    set_int (sock, ZMQ_RCVTIMEO, GUIDE_IO_TIMEOUT_MS);
    set_int (sock, ZMQ_SNDTIMEO, GUIDE_IO_TIMEOUT_MS);
    return sock;
}

/* Binds sock to transport "tcp" (127.0.0.1, wildcard port) or to the given
 * inproc name, and writes the resolved endpoint into ep (256 bytes). */
static inline void guide_bind (void *sock, const char *where, char *ep)
{
    ZCHECK (zmq_bind (sock, strcmp (where, "tcp") == 0 ? "tcp://127.0.0.1:*"
                                                         : where));
    size_t len = 256;
    ZCHECK (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, ep, &len));
}

/* Sends a NUL-free string as one frame. */
static inline void s_send (void *sock, const char *str, int flags)
{
    int n = zmq_send (sock, str, strlen (str), flags);
    if (n != (int) strlen (str))
        DIE ("zmq_send \"%s\": %s (errno %d)", str, zmq_strerror (errno),
             errno);
}

/* Receives one frame as a string into buf (size cap); returns ZMQ_RCVMORE.
 * A timeout or error is fatal. */
static inline int s_recv (void *sock, char *buf, size_t cap)
{
    int n = zmq_recv (sock, buf, cap - 1, 0);
    if (n == -1)
        DIE ("zmq_recv: %s (errno %d)", zmq_strerror (errno), errno);
    if ((size_t) n > cap - 1)
        DIE ("frame of %d bytes does not fit %zu", n, cap - 1);
    buf[n] = '\0';
    int more = 0;
    size_t sz = sizeof more;
    ZCHECK (zmq_getsockopt (sock, ZMQ_RCVMORE, &more, &sz));
    return more;
}

/* Receives one single-frame string and checks it equals want. */
static inline void s_expect (void *sock, const char *want)
{
    char buf[256];
    if (s_recv (sock, buf, sizeof buf))
        DIE ("expected single frame \"%s\", got \"%s\" with more", want, buf);
    if (strcmp (buf, want) != 0)
        DIE ("expected \"%s\", got \"%s\"", want, buf);
}

/* Forwards one whole multipart message from 'from' to 'to' (zmq_msg API). */
static inline void guide_forward (void *from, void *to)
{
    for (;;) {
        zmq_msg_t msg;
        ZCHECK (zmq_msg_init (&msg));
        ZCHECK (zmq_msg_recv (&msg, from, 0));
        int more = zmq_msg_more (&msg);
        ZCHECK (zmq_msg_send (&msg, to, more ? ZMQ_SNDMORE : 0));
        if (!more)
            break;
    }
}

static inline pthread_t guide_thread (void *(*fn) (void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create (&t, NULL, fn, arg);
    if (rc != 0)
        DIE ("pthread_create: %s", strerror (rc));
    return t;
}

/* ---- Parent + child processes. -----------------------------------------
 * Fork before any zmq context exists in the parent.  The child gets one
 * end of a pipe to talk to the parent (e.g. to hand over an endpoint), dies
 * with the parent (PDEATHSIG) and has its own watchdog. */

typedef struct
{
    pid_t pid;
    int fd; /* parent's end: read from / write to the child */
} guide_child_t;

/* Starts fn(arg, fd) in a child process; its return value is the child's
 * exit status. */
static inline guide_child_t guide_fork (int (*fn) (void *, int), void *arg,
                                        const char *name)
{
    int sv[2];
    CHECK (socketpair (AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    pid_t parent = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        close (sv[0]);
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (1);
        guide_init (name);
        exit (fn (arg, sv[1]));
    }
    close (sv[1]);
    guide_child_t c = {pid, sv[0]};
    return c;
}

/* Writes one line (without newline in s) to fd. */
static inline void guide_write_line (int fd, const char *s)
{
    size_t len = strlen (s);
    char buf[512];
    CHECK (len + 1 < sizeof buf);
    memcpy (buf, s, len);
    buf[len] = '\n';
    size_t off = 0;
    while (off < len + 1) {
        ssize_t n = write (fd, buf + off, len + 1 - off);
        if (n < 0 && errno == EINTR)
            continue;
        CHECK (n > 0);
        off += (size_t) n;
    }
}

/* Reads one line from fd into buf (cap bytes), without the newline. */
static inline void guide_read_line (int fd, char *buf, size_t cap)
{
    size_t off = 0;
    for (;;) {
        char ch;
        ssize_t n = read (fd, &ch, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            DIE ("peer process closed its channel before a full line");
        if (ch == '\n')
            break;
        CHECK (off + 1 < cap);
        buf[off++] = ch;
    }
    buf[off] = '\0';
}

/* Waits for the child (bounded by the watchdog) and checks it exited 0. */
static inline void guide_reap (guide_child_t *c, const char *what)
{
    int status;
    pid_t r;
    do
        r = waitpid (c->pid, &status, 0);
    while (r == -1 && errno == EINTR);
    CHECK (r == c->pid);
    close (c->fd);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        DIE ("%s (pid %d) %s %d", what, (int) c->pid,
             WIFEXITED (status) ? "exited with" : "killed by signal",
             WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
}

#endif
