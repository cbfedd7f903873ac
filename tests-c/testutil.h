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

#ifndef TEST_TIMEOUT_SECONDS
#define TEST_TIMEOUT_SECONDS 30
#endif

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

/* Sends str on a connecting socket whose handshake may already have failed
 * for good: a fatal handshake error (authentication refused, mechanism
 * mismatch) ends the connection without reconnecting and takes the
 * socket's only pipe with it, after which a blocking send would wait
 * forever, in libzmq as in ours. So the send does not wait: EAGAIN is
 * accepted, anything else fails. */
static inline void test_send_unless_refused (void *sock, const char *str)
{
    int n = zmq_send (sock, str, strlen (str), ZMQ_DONTWAIT);
    if (n == -1 && errno != EAGAIN)
        FAIL ("zmq_send: %s (errno %d)", zmq_strerror (errno), errno);
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

/* A plain listening tcp socket on 127.0.0.1 (ephemeral port, stored in
 * *port), for tests that play a raw peer or hand libzmq a socket. */
static inline int test_raw_listen (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0);
    CHECK (listen (fd, 8) == 0);
    socklen_t len = sizeof addr;
    CHECK (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
    *port = ntohs (addr.sin_port);
    return fd;
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


/* ---- Monitor events (the helpers of the security and transport tests). -- */

typedef struct
{
    int event;
    uint32_t value;
    char addr[TEST_ENDPOINT_MAX];
} test_event_t;

/* Receives one event from a monitor PAIR (see test_monitor) within
 * timeout_ms; returns 0 when none came. */
static inline int test_recv_event (void *mon, test_event_t *ev, int timeout_ms)
{
    if (!test_wait_readable (mon, timeout_ms))
        return 0;
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    CHECK_INT_EQ (zmq_msg_recv (&msg, mon, ZMQ_DONTWAIT), 6);
    CHECK (zmq_msg_more (&msg));
    const unsigned char *data = (const unsigned char *) zmq_msg_data (&msg);
    uint16_t event;
    memcpy (&event, data, 2);
    memcpy (&ev->value, data + 2, 4);
    ev->event = event;
    CHECK_OK (zmq_msg_close (&msg));

    CHECK_OK (zmq_msg_init (&msg));
    int n = zmq_msg_recv (&msg, mon, ZMQ_DONTWAIT);
    CHECK (n >= 0 && n < TEST_ENDPOINT_MAX);
    CHECK (!zmq_msg_more (&msg));
    memcpy (ev->addr, zmq_msg_data (&msg), (size_t) n);
    ev->addr[n] = '\0';
    CHECK_OK (zmq_msg_close (&msg));
    return 1;
}

/* Receives the next event (within 5 s), checks its number, and its endpoint
 * when addr is not NULL; returns its value.  (A macro, so that a failure
 * names the caller's line.) */
#define test_expect_event(mon, event, addr)                                    \
    test_expect_event_at_ (__FILE__, __LINE__, (mon), (event), (addr))

static inline uint32_t test_expect_event_at_ (const char *file, int line,
                                              void *mon, int event,
                                              const char *addr)
{
    test_event_t ev;
    if (!test_recv_event (mon, &ev, 5000))
        FAIL ("called at %s:%d: no event, expected 0x%x", file, line, event);
    if (ev.event != event)
        FAIL ("called at %s:%d: event 0x%x (value %u, \"%s\"), expected 0x%x",
              file, line, ev.event, ev.value, ev.addr, event);
    if (addr && strcmp (ev.addr, addr) != 0)
        FAIL ("called at %s:%d: event 0x%x at \"%s\", expected \"%s\"", file,
              line, event, ev.addr, addr);
    return ev.value;
}

/* The handshake events (and DISCONNECTED) the security tests monitor. */
#define TEST_HANDSHAKE_EVENTS                                                  \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL      \
     | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH   \
     | ZMQ_EVENT_DISCONNECTED)

/* The connecting side's events when its peer closed the connection during
 * the handshake: HANDSHAKE_FAILED_NO_DETAIL with the errno of the failed
 * read (EPIPE for a clean close, ECONNRESET if the close became a reset),
 * then DISCONNECTED. */
#define TEST_EXPECT_CLOSED_BY_PEER(mon, ep)                                    \
    do {                                                                       \
        uint32_t err_ =                                                        \
          test_expect_event ((mon), ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,      \
                             (ep));                                            \
        if (err_ != EPIPE && err_ != ECONNRESET)                               \
            FAIL ("HANDSHAKE_FAILED_NO_DETAIL value %u, expected EPIPE or "    \
                  "ECONNRESET",                                                \
                  err_);                                                       \
        test_expect_event ((mon), ZMQ_EVENT_DISCONNECTED, (ep));               \
    } while (0)

/* Receives one frame and checks its size bytes, ZMQ_RCVMORE, and its
 * "User-Id" property (user_id NULL: it has none, zmq_msg_gets fails with
 * EINVAL). */
static inline void test_recv_with_user_id (void *sock, const void *data,
                                           size_t size, int more,
                                           const char *user_id)
{
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    int n = zmq_msg_recv (&msg, sock, 0);
    if (n == -1)
        FAIL ("zmq_msg_recv: %s (errno %d)", zmq_strerror (errno), errno);
    if (n != (int) size || memcmp (zmq_msg_data (&msg), data, size) != 0)
        FAIL ("received %d bytes, expected %zu bytes (\"%.*s\")", n, size,
              (int) (size < 32 ? size : 32), (const char *) data);
    CHECK_INT_EQ (zmq_msg_more (&msg), more);
    if (user_id)
        CHECK_STR_EQ (zmq_msg_gets (&msg, "User-Id"), user_id);
    else
        CHECK_NULL_ERRNO (zmq_msg_gets (&msg, "User-Id"), EINVAL);
    CHECK_OK (zmq_msg_close (&msg));
}

/* Checks a string option reads back as expect, NUL-terminated (size
 * strlen (expect) + 1). */
static inline void test_check_string_option (void *sock, int option,
                                             const char *expect)
{
    char buf[300];
    size_t size = sizeof buf;
    CHECK_OK (zmq_getsockopt (sock, option, buf, &size));
    CHECK_INT_EQ (size, strlen (expect) + 1);
    CHECK_INT_EQ (buf[size - 1], '\0');
    CHECK_STR_EQ (buf, expect);
}

/* ---- A ZAP handler (RFC 27) on its own thread, for the security tests. -- */

#include <pthread.h>

#define TEST_ZAP_FRAME_MAX 256
#define TEST_ZAP_CREDENTIALS_MAX 4

/* One request as the handler received it.  The first six frames are kept
 * as strings (routing_id also with its size), the credential frames as
 * bytes. */
typedef struct
{
    int frame_count;
    char version[TEST_ZAP_FRAME_MAX];
    char request_id[TEST_ZAP_FRAME_MAX];
    char domain[TEST_ZAP_FRAME_MAX];
    char address[TEST_ZAP_FRAME_MAX];
    char routing_id[TEST_ZAP_FRAME_MAX];
    size_t routing_id_size;
    char mechanism[TEST_ZAP_FRAME_MAX];
    int credential_count;
    unsigned char credentials[TEST_ZAP_CREDENTIALS_MAX][TEST_ZAP_FRAME_MAX];
    size_t credential_sizes[TEST_ZAP_CREDENTIALS_MAX];
} test_zap_request_t;

/* The reply a policy chooses.  Unset (NULL) fields take the well-formed
 * defaults: version "1.0", the request's id, status text "", user id "",
 * empty metadata.  extra_frame appends a seventh (empty) frame and
 * omit_metadata leaves out the sixth, which make the reply malformed;
 * no_reply makes the handler not answer at all (it then cannot take another
 * request). */
typedef struct
{
    const char *version;
    const char *request_id;
    const char *status_code;
    const char *status_text;
    const char *user_id;
    const void *metadata;
    size_t metadata_size;
    int extra_frame;
    int omit_metadata;
    int no_reply;
} test_zap_reply_t;

typedef void (*test_zap_policy_fn) (const test_zap_request_t *request,
                                    test_zap_reply_t *reply, void *arg);

typedef struct
{
    pthread_t thread;
    void *handler;        //  REP bound at inproc://zeromq.zap.01 (thread's)
    void *control;        //  PAIR, main thread's end
    void *thread_control; //  PAIR, the thread's end
    test_zap_policy_fn policy;
    void *arg;
    pthread_mutex_t lock;
    int requests;
    test_zap_request_t last;
} test_zap_t;

/* Receives one frame of a ZAP request into buf (NUL-terminated); returns its
 * size and stores ZMQ_RCVMORE in *more. */
static inline size_t test_zap_recv_frame_ (void *sock, void *buf, int *more)
{
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    CHECK_OK (zmq_msg_recv (&msg, sock, 0));
    size_t n = zmq_msg_size (&msg);
    if (n >= TEST_ZAP_FRAME_MAX)
        FAIL ("ZAP request frame of %zu bytes", n);
    memcpy (buf, zmq_msg_data (&msg), n);
    ((char *) buf)[n] = '\0';
    *more = zmq_msg_more (&msg);
    CHECK_OK (zmq_msg_close (&msg));
    return n;
}

static inline void *test_zap_thread_ (void *arg)
{
    test_zap_t *zap = (test_zap_t *) arg;
    while (1) {
        zmq_pollitem_t items[2] = {{zap->thread_control, 0, ZMQ_POLLIN, 0},
                                   {zap->handler, 0, ZMQ_POLLIN, 0}};
        CHECK (zmq_poll (items, 2, -1) >= 0);
        if (items[0].revents & ZMQ_POLLIN)
            break; //  "STOP"
        if (!(items[1].revents & ZMQ_POLLIN))
            continue;

        test_zap_request_t req;
        memset (&req, 0, sizeof req);
        char *fixed[6] = {req.version,    req.request_id, req.domain,
                          req.address,    req.routing_id, req.mechanism};
        int more = 1;
        for (int i = 0; i < 6 && more; i++) {
            size_t n = test_zap_recv_frame_ (zap->handler, fixed[i], &more);
            if (i == 4)
                req.routing_id_size = n;
            req.frame_count++;
        }
        while (more) {
            int i = req.credential_count;
            if (i == TEST_ZAP_CREDENTIALS_MAX)
                FAIL ("more than %d ZAP credential frames", i);
            req.credential_sizes[i] =
              test_zap_recv_frame_ (zap->handler, req.credentials[i], &more);
            req.credential_count++;
            req.frame_count++;
        }

        test_zap_reply_t reply;
        memset (&reply, 0, sizeof reply);
        if (zap->policy)
            zap->policy (&req, &reply, zap->arg);
        else if (zap->arg)
            reply = *(const test_zap_reply_t *) zap->arg;
        if (!reply.status_code)
            reply.status_code = "200";

        pthread_mutex_lock (&zap->lock);
        zap->last = req;
        zap->requests++;
        pthread_mutex_unlock (&zap->lock);

        if (reply.no_reply)
            continue;
        const char *strings[5] = {
          reply.version ? reply.version : "1.0",
          reply.request_id ? reply.request_id : req.request_id,
          reply.status_code, reply.status_text ? reply.status_text : "",
          reply.user_id ? reply.user_id : ""};
        for (int i = 0; i < 5; i++)
            SEND_STR (zap->handler, strings[i],
                      i < 4 || !reply.omit_metadata ? ZMQ_SNDMORE : 0);
        if (!reply.omit_metadata)
            test_send_bytes (zap->handler, reply.metadata, reply.metadata_size,
                         reply.extra_frame ? ZMQ_SNDMORE : 0);
        if (reply.extra_frame)
            test_send_bytes (zap->handler, "", 0, 0);
    }
    //  Unbinding is synchronous (closing alone releases the name later).
    CHECK_OK (zmq_unbind (zap->handler, "inproc://zeromq.zap.01"));
    test_close_zero_linger (zap->handler);
    test_close_zero_linger (zap->thread_control);
    return NULL;
}

/* Binds a ZAP handler in ctx (at inproc://zeromq.zap.01, before returning,
 * so the next handshake finds it) and starts its thread, which answers each
 * request as policy decides (with policy NULL, arg is a test_zap_reply_t
 * used for every reply; with both NULL, every reply is a plain 200). */
static inline void test_zap_start (test_zap_t *zap, void *ctx,
                                   test_zap_policy_fn policy, void *arg)
{
    static int seq = 0;
    memset (zap, 0, sizeof *zap);
    zap->policy = policy;
    zap->arg = arg;
    pthread_mutex_init (&zap->lock, NULL);
    zap->handler = zmq_socket (ctx, ZMQ_REP);
    zap->control = zmq_socket (ctx, ZMQ_PAIR);
    zap->thread_control = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (zap->handler && zap->control && zap->thread_control);
    CHECK_OK (zmq_bind (zap->handler, "inproc://zeromq.zap.01"));
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://test-zap-control-%d", ++seq);
    CHECK_OK (zmq_bind (zap->control, ep));
    CHECK_OK (zmq_connect (zap->thread_control, ep));
    CHECK (pthread_create (&zap->thread, NULL, test_zap_thread_, zap) == 0);
}

/* Stops the handler thread (which unbinds and closes its sockets). */
static inline void test_zap_stop (test_zap_t *zap)
{
    SEND_STR (zap->control, "STOP", 0);
    CHECK (pthread_join (zap->thread, NULL) == 0);
    test_close_zero_linger (zap->control);
    pthread_mutex_destroy (&zap->lock);
}

/* How many requests the handler has received so far. */
static inline int test_zap_requests (test_zap_t *zap)
{
    pthread_mutex_lock (&zap->lock);
    int n = zap->requests;
    pthread_mutex_unlock (&zap->lock);
    return n;
}

/* Copies the last request received (there must have been one). */
static inline void test_zap_last (test_zap_t *zap, test_zap_request_t *req)
{
    pthread_mutex_lock (&zap->lock);
    int n = zap->requests;
    *req = zap->last;
    pthread_mutex_unlock (&zap->lock);
    CHECK (n > 0);
}

#endif
