/* Small helpers shared by the Guide-pattern tests in tests-c/guide/.
 *
 * Every program is built against Debian's /usr/include/zmq.h and -lzmq and
 * run on Debian's libzmq and on ours (LD_LIBRARY_PATH).  An alarm bounds each
 * process; every check that fails prints where and exits non-zero. */
#ifndef GUIDE_H_INCLUDED
#define GUIDE_H_INCLUDED

#include <zmq.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
    //  Which libzmq.so is mapped (the version alone does not tell Debian's
    //  from ours).
    char path[512] = "?";
    FILE *maps = fopen ("/proc/self/maps", "r");
    if (maps) {
        char line[1024];
        while (fgets (line, sizeof line, maps)) {
            char *p = strchr (line, '/');
            if (p && strstr (p, "libzmq")) {
                p[strcspn (p, "\n")] = '\0';
                snprintf (path, sizeof path, "%s", p);
                break;
            }
        }
        fclose (maps);
    }
    fprintf (stderr, "%s[%d]: libzmq %d.%d.%d (%s)\n", name, (int) getpid (),
             major, minor, patch, path);
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

/* ---- Re-executed child processes: crossing the two libraries. ----------
 * guide_spawn starts this same program again (/proc/self/exe) as a fresh
 * process image in a named role, with one string argument and one end of a
 * socketpair to the parent (as guide_fork does).  main() must call
 * guide_roles() first: when the process was started as a role it runs it
 * and exits with its return value.
 * Being a new image, the child may run on another libzmq than its parent:
 * with GUIDE_PEER_LIB set in the environment, spawned processes run with
 * LD_LIBRARY_PATH=$GUIDE_PEER_LIB, or with LD_LIBRARY_PATH unset (Debian's
 * libzmq) when it is "system".  run.sh uses that to run each program that
 * spawns with its main process on one library and its spawned processes on
 * the other.  Without GUIDE_PEER_LIB the child inherits the environment.
 * Spawn from the main thread only (the child's PDEATHSIG fires when the
 * spawning thread ends); it is safe once zmq contexts exist (the child only
 * execs). */

typedef int (*guide_role_fn) (const char *arg, int fd);

typedef struct
{
    const char *name;
    guide_role_fn fn;
} guide_role_t;

#define GUIDE_ROLE_FLAG "--guide-role"

static inline void guide_roles (int argc, char **argv,
                                const guide_role_t *roles, size_t n)
{
    if (argc < 2 || strcmp (argv[1], GUIDE_ROLE_FLAG) != 0)
        return;
    if (argc != 5) {
        fprintf (stderr, "usage: %s %s role fd arg\n", argv[0],
                 GUIDE_ROLE_FLAG);
        exit (2);
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp (roles[i].name, argv[2]) == 0) {
            guide_init (roles[i].name);
            exit (roles[i].fn (argv[4], atoi (argv[3])));
        }
    fprintf (stderr, "%s: unknown role \"%s\"\n", argv[0], argv[2]);
    exit (2);
}

extern char **environ;

static inline guide_child_t guide_spawn (const char *role, const char *arg)
{
    int sv[2];
    CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    //  Everything the child needs is prepared before fork: between fork and
    //  exec it makes only async-signal-safe calls.
    char fdstr[16];
    snprintf (fdstr, sizeof fdstr, "%d", sv[1]);
    char *argv[] = {(char *) role, (char *) GUIDE_ROLE_FLAG, (char *) role,
                    fdstr, (char *) arg, NULL};
    const char *peer = getenv ("GUIDE_PEER_LIB");
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = calloc (n + 2, sizeof *envp);
    char *ld = NULL;
    CHECK (envp != NULL);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!peer || strncmp (environ[i], "LD_LIBRARY_PATH=", 16) != 0)
            envp[k++] = environ[i];
    if (peer && strcmp (peer, "system") != 0) {
        size_t len = strlen ("LD_LIBRARY_PATH=") + strlen (peer) + 1;
        ld = malloc (len);
        CHECK (ld != NULL);
        snprintf (ld, len, "LD_LIBRARY_PATH=%s", peer);
        envp[k++] = ld;
    }
    envp[k] = NULL;

    pid_t parent = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (1);
        if (fcntl (sv[1], F_SETFD, 0) != 0) //  keep the child's end on exec
            _exit (1);
        execve ("/proc/self/exe", argv, envp);
        _exit (127);
    }
    close (sv[1]);
    free (envp);
    free (ld);
    guide_child_t c = {pid, sv[0]};
    return c;
}

/* Non-blocking: 1 and a line in buf if the child has written a whole line
 * (or more) to fd, 0 if nothing is waiting yet.  A partial line is waited
 * for (bounded by the watchdog); the channel carries whole lines only. */
static inline int guide_try_line (int fd, char *buf, size_t cap)
{
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll (&p, 1, 0);
    if (rc < 0 && errno == EINTR)
        return 0;
    CHECK (rc >= 0);
    if (rc == 0)
        return 0;
    guide_read_line (fd, buf, cap);
    return 1;
}

static inline int64_t guide_clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void guide_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* Waits for the child and checks it ended the given way: exit status
 * want_exit (>= 0), or killed by signal -want_exit. */
static inline void guide_reap_as (guide_child_t *c, const char *what,
                                  int want_exit)
{
    int status;
    pid_t r;
    do
        r = waitpid (c->pid, &status, 0);
    while (r == -1 && errno == EINTR);
    CHECK (r == c->pid);
    close (c->fd);
    int ok = want_exit >= 0
               ? WIFEXITED (status) && WEXITSTATUS (status) == want_exit
               : WIFSIGNALED (status) && WTERMSIG (status) == -want_exit;
    if (!ok)
        DIE ("%s (pid %d) %s %d, expected %s %d", what, (int) c->pid,
             WIFEXITED (status) ? "exited with" : "killed by signal",
             WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status),
             want_exit >= 0 ? "exit" : "signal",
             want_exit >= 0 ? want_exit : -want_exit);
}

#endif
