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

/* ---- Messaging helpers (used by the engine tests). ---------------------- */

#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds. */
static inline int64_t test_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps for ms milliseconds (only for pacing poll loops, never to sync). */
static inline void test_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR) {
    }
}

#define TEST_ENDPOINT_MAX 256

/* Reads ZMQ_LAST_ENDPOINT of sock into ep (TEST_ENDPOINT_MAX bytes). */
static inline void test_last_endpoint (void *sock, char *ep)
{
    size_t len = TEST_ENDPOINT_MAX;
    CHECK_OK (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, ep, &len));
    CHECK (len > 1 && ep[len - 1] == '\0');
}

/* A private directory for ipc socket files, made with mkdtemp under $TMPDIR
 * (or /tmp) on first use and emptied and removed at exit (libzmq leaves the
 * socket files of explicit ipc paths behind after unbind and close). */
#include <dirent.h>
static char test_ipc_dir_[64];

static void test_ipc_dir_cleanup_ (void)
{
    //  Names are collected before unlinking (unlinking while reading a
    //  directory may make readdir skip entries on some filesystems).
    for (int pass = 0; pass < 5; pass++) {
        if (rmdir (test_ipc_dir_) == 0 || errno == ENOENT)
            return;
        DIR *dir = opendir (test_ipc_dir_);
        if (!dir)
            return;
        char names[64][128];
        int count = 0;
        struct dirent *entry;
        while (count < 64 && (entry = readdir (dir)) != NULL) {
            if (strcmp (entry->d_name, ".") == 0
                || strcmp (entry->d_name, "..") == 0)
                continue;
            snprintf (names[count++], sizeof names[0], "%.127s",
                      entry->d_name);
        }
        closedir (dir);
        for (int i = 0; i < count; i++) {
            char path[256];
            snprintf (path, sizeof path, "%.63s/%.127s", test_ipc_dir_,
                      names[i]);
            unlink (path);
        }
    }
}

static inline const char *test_ipc_dir (void)
{
    if (test_ipc_dir_[0] == '\0') {
        //  Under $TMPDIR when it is short enough for ipc paths, else /tmp.
        const char *parent = getenv ("TMPDIR");
        if (parent == NULL || parent[0] != '/' || strlen (parent) > 40)
            parent = "/tmp";
        snprintf (test_ipc_dir_, sizeof test_ipc_dir_, "%s/zmqtest-XXXXXX",
                  parent);
        CHECK (mkdtemp (test_ipc_dir_) != NULL);
        atexit (test_ipc_dir_cleanup_);
    }
    return test_ipc_dir_;
}

/* Binds sock to a fresh endpoint of the given transport ("inproc", "tcp" on
 * 127.0.0.1 with an ephemeral port, or "ipc" in test_ipc_dir ()) and
 * stores the endpoint a peer can connect to in ep (TEST_ENDPOINT_MAX bytes). */
static inline void test_bind_any (void *sock, const char *transport, char *ep)
{
    static int inproc_seq = 0;
    if (strcmp (transport, "inproc") == 0) {
        snprintf (ep, TEST_ENDPOINT_MAX, "inproc://test-%d-%d", (int) getpid (),
                  ++inproc_seq);
        CHECK_OK (zmq_bind (sock, ep));
        char last[TEST_ENDPOINT_MAX];
        test_last_endpoint (sock, last);
        CHECK_STR_EQ (last, ep);
    } else if (strcmp (transport, "tcp") == 0) {
        CHECK_OK (zmq_bind (sock, "tcp://127.0.0.1:*"));
        test_last_endpoint (sock, ep);
        CHECK (strncmp (ep, "tcp://127.0.0.1:", 16) == 0);
    } else if (strcmp (transport, "ipc") == 0) {
        static int ipc_seq = 0;
        snprintf (ep, TEST_ENDPOINT_MAX, "ipc://%s/%d", test_ipc_dir (),
                  ++ipc_seq);
        CHECK_OK (zmq_bind (sock, ep));
        char last[TEST_ENDPOINT_MAX];
        test_last_endpoint (sock, last);
        CHECK_STR_EQ (last, ep);
    } else
        FAIL ("unknown transport %s", transport);
}

/* The transports every wire-level test loops over. */
static const char *const test_transports[] = {"inproc", "tcp", "ipc"};
#define TEST_TRANSPORT_COUNT 3

/* Sends a string (without its NUL) and checks the whole of it was sent. */
#define SEND_STR(sock, str, flags)                                             \
    do {                                                                       \
        const char *s_ = (str);                                                \
        int n_ = zmq_send ((sock), s_, strlen (s_), (flags));                  \
        if (n_ != (int) strlen (s_))                                           \
            FAIL ("zmq_send (%s, \"%s\") returned %d: %s (errno %d)", #sock,  \
                  s_, n_, zmq_strerror (errno), errno);                        \
    } while (0)

/* Receives one frame (blocking unless flags say otherwise) and checks it
 * equals str; more is the expected ZMQ_RCVMORE (0 or 1). */
#define RECV_STR(sock, str, more)                                              \
    do {                                                                       \
        const char *s_ = (str);                                                \
        char b_[1024];                                                         \
        int n_ = zmq_recv ((sock), b_, sizeof b_ - 1, 0);                      \
        if (n_ == -1)                                                          \
            FAIL ("zmq_recv (%s) expecting \"%s\" failed: %s (errno %d)",      \
                  #sock, s_, zmq_strerror (errno), errno);                     \
        if (n_ > (int) sizeof b_ - 1)                                          \
            n_ = (int) sizeof b_ - 1;                                          \
        b_[n_] = '\0';                                                         \
        if (strcmp (b_, s_) != 0)                                              \
            FAIL ("zmq_recv (%s) got \"%s\", expected \"%s\"", #sock, b_, s_); \
        int m_ = -1;                                                           \
        size_t ms_ = sizeof m_;                                                \
        CHECK_OK (zmq_getsockopt ((sock), ZMQ_RCVMORE, &m_, &ms_));           \
        if (m_ != (more))                                                      \
            FAIL ("zmq_recv (%s) \"%s\": RCVMORE %d, expected %d", #sock, s_,  \
                  m_, (more));                                                 \
    } while (0)

/* Waits up to timeout_ms for sock to become readable; returns 1 if it did. */
static inline int test_wait_readable (void *sock, int timeout_ms)
{
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll (&item, 1, timeout_ms);
    CHECK (rc >= 0);
    return rc == 1 && (item.revents & ZMQ_POLLIN);
}

/* Checks nothing arrives on sock within timeout_ms (libzmq's tests use such
 * bounded waits to show a message is not delivered). */
#define CHECK_NOTHING_WITHIN(sock, timeout_ms)                                 \
    do {                                                                       \
        if (test_wait_readable ((sock), (timeout_ms)))                         \
            FAIL ("%s unexpectedly readable", #sock);                          \
        char b_[16];                                                           \
        CHECK_ERRNO (zmq_recv ((sock), b_, sizeof b_, ZMQ_DONTWAIT), EAGAIN);  \
    } while (0)

/* Sends "bounce" from client; server receives it and sends it back; client
 * receives it.  Works for REQ/REP, DEALER/DEALER, PAIR/PAIR: proves the
 * connection is up in both directions. */
static inline void test_bounce (void *server, void *client)
{
    SEND_STR (client, "bounce", 0);
    RECV_STR (server, "bounce", 0);
    SEND_STR (server, "bounce", 0);
    RECV_STR (client, "bounce", 0);
}

/* Sets an int socket option. */
static inline void test_set_int (void *sock, int option, int value)
{
    CHECK_OK (zmq_setsockopt (sock, option, &value, sizeof value));
}

/* Reads an int socket option. */
static inline int test_get_int (void *sock, int option)
{
    int value = -1;
    size_t size = sizeof value;
    CHECK_OK (zmq_getsockopt (sock, option, &value, &size));
    CHECK_INT_EQ (size, sizeof (int));
    return value;
}

/* Closes sock with linger 0. */
static inline void test_close_zero_linger (void *sock)
{
    test_set_int (sock, ZMQ_LINGER, 0);
    CHECK_OK (zmq_close (sock));
}

/* Writes "tcp://127.0.0.1:PORT" for a port that was free a moment ago (found
 * with a plain socket bound to port 0 and closed at once), for tests that
 * must connect before anything is bound. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
static inline void test_free_tcp_endpoint (char *ep)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    addr.sin_port = 0;
    CHECK (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0);
    socklen_t len = sizeof addr;
    CHECK (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
    close (fd);
    snprintf (ep, TEST_ENDPOINT_MAX, "tcp://127.0.0.1:%d",
              (int) ntohs (addr.sin_port));
}

/* Sends len bytes as one frame and checks all were sent. */
static inline void test_send_bytes (void *sock, const void *data, size_t len,
                                    int flags)
{
    int n = zmq_send (sock, data, len, flags);
    if (n != (int) len)
        FAIL ("zmq_send of %d bytes returned %d: %s", (int) len, n,
              zmq_strerror (errno));
}

/* Receives one frame (up to 256 bytes) and checks it holds exactly the len
 * bytes at data (which may contain NULs), with ZMQ_RCVMORE equal to more. */
static inline void test_recv_bytes (void *sock, const void *data, size_t len,
                                    int more)
{
    char buf[256];
    int n = zmq_recv (sock, buf, sizeof buf, 0);
    if (n == -1)
        FAIL ("zmq_recv expecting %d bytes failed: %s (errno %d)", (int) len,
              zmq_strerror (errno), errno);
    if (n != (int) len || memcmp (buf, data, len) != 0) {
        char shown[64];
        int k = 0;
        for (int i = 0; i < n && i < (int) sizeof buf && k < 56; i++)
            k += snprintf (shown + k, sizeof shown - k,
                           buf[i] >= 32 && buf[i] < 127 ? "%c" : "\\%d",
                           (unsigned char) buf[i]);
        FAIL ("zmq_recv got %d bytes \"%s\", expected %d bytes", n, shown,
              (int) len);
    }
    CHECK_INT_EQ (test_get_int (sock, ZMQ_RCVMORE), more);
}

/* The port of a "tcp://host:port" endpoint. */
static inline int test_port_of (const char *ep)
{
    const char *colon = strrchr (ep, ':');
    CHECK (colon);
    return atoi (colon + 1);
}

/* Writes all of buf to a raw socket (no SIGPIPE if the peer is gone). */
static inline void test_write_all (int fd, const void *buf, size_t n)
{
    CHECK (send (fd, buf, n, MSG_NOSIGNAL) == (ssize_t) n);
}

/* Reads exactly n bytes from a raw socket (EOF or an error fails). */
static inline void test_read_exactly (int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read (fd, buf + got, n - got);
        if (r <= 0)
            FAIL ("read returned %d (errno %d) after %zu of %zu bytes",
                  (int) r, errno, got, n);
        got += (size_t) r;
    }
}

/* Starts monitoring sock (zmq_socket_monitor) on the inproc name for the
 * given events; returns the PAIR that reads them (ZMQ_RCVTIMEO 5 s). */
static inline void *test_monitor (void *ctx, void *sock, const char *name,
                                  int events)
{
    CHECK_OK (zmq_socket_monitor (sock, name, events));
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (mon);
    test_set_int (mon, ZMQ_RCVTIMEO, 5000);
    CHECK_OK (zmq_connect (mon, name));
    return mon;
}

/* A plain tcp connection to 127.0.0.1:port, for tests that play a raw
 * (possibly hostile or legacy) peer. */
static inline int test_raw_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    addr.sin_port = htons ((unsigned short) port);
    CHECK (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0);
    return fd;
}

#endif
