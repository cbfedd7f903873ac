/* zmq_proxy, zmq_proxy_steerable and zmq_device.
 *
 * Pins (libzmq 4.3.4): a ROUTER/DEALER proxy carries REQ requests to REP
 * workers and routes the replies back to the right client; the capture socket
 * gets a copy of every part in both directions, in order, with its more flag
 * (a ROUTER frontend adds its 5-byte routing id, first byte 0, and REQ the
 * empty delimiter); zmq_proxy returns -1/ETERM when the context is terminated
 * (zmq_ctx_term, or zmq_ctx_shutdown) and the proxy thread can then close its
 * sockets; an XSUB/XPUB proxy forwards a SUB's subscription (captured as
 * "\x01topic" before any data) to a PUB and the matching messages back;
 * zmq_proxy_steerable with a PAIR control socket: STATISTICS replies with 8
 * frames of 8 bytes (uint64, host order) -- frontend msgs in, bytes in, msgs
 * out, bytes out, then the same for the backend -- where a multipart message
 * counts as ONE message and its bytes are the sum of its parts (4.3.4; later
 * libzmq counts parts); PAUSE stops forwarding in both directions (messages
 * stay queued, statistics do not move) until RESUME; TERMINATE makes it
 * return 0; the control commands are themselves copied to the capture socket
 * (4.3.4); with a REP control socket STATISTICS is answered the same way;
 * with a NULL control socket zmq_proxy_steerable is zmq_proxy;
 * zmq_device (ZMQ_QUEUE, ZMQ_FORWARDER, ZMQ_STREAMER) proxies without capture
 * and returns -1/ETERM too; zmq_proxy and zmq_proxy_steerable with a NULL
 * frontend or backend return -1/EFAULT.
 * Not tested: zmq_device with NULL sockets (4.3.4 does not check and
 * crashes); unknown control commands (4.3.4 asserts and aborts); the reply a
 * REP control socket gets to PAUSE/RESUME/TERMINATE (4.3.4 sends none, the
 * current man page says an empty one). */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>

/* ---- Running a proxy in a thread. ------------------------------------- */

enum proxy_kind
{
    KIND_PROXY,
    KIND_STEERABLE,
    KIND_DEVICE
};

typedef struct
{
    enum proxy_kind kind;
    int device_type;
    void *frontend, *backend, *capture, *control;
    int keep_open; //  1: the test closes the proxy's sockets after the join
    int rc, err;
    pthread_t thread;
} proxy_run_t;

static void proxy_close (proxy_run_t *run)
{
    void *socks[4] = {run->frontend, run->backend, run->capture, run->control};
    //  Only zmq_close: after the context is terminated every other call on
    //  a socket (zmq_setsockopt included) fails with ETERM.  Linger is
    //  already 0 (make_proxy_socket).
    for (int i = 0; i < 4; i++)
        if (socks[i])
            CHECK_OK (zmq_close (socks[i]));
}

static void *proxy_main (void *arg)
{
    proxy_run_t *run = (proxy_run_t *) arg;
    errno = 0;
    if (run->kind == KIND_PROXY)
        run->rc = zmq_proxy (run->frontend, run->backend, run->capture);
    else if (run->kind == KIND_STEERABLE)
        run->rc = zmq_proxy_steerable (run->frontend, run->backend,
                                       run->capture, run->control);
    else
        run->rc = zmq_device (run->device_type, run->frontend, run->backend);
    run->err = errno;
    if (!run->keep_open)
        proxy_close (run);
    return NULL;
}

static void proxy_start (proxy_run_t *run)
{
    run->rc = 12345;
    run->err = 0;
    CHECK (pthread_create (&run->thread, NULL, proxy_main, run) == 0);
}

static void proxy_join (proxy_run_t *run)
{
    CHECK (pthread_join (run->thread, NULL) == 0);
}

/* A socket for the proxy itself: linger 0, otherwise default options. */
static void *make_proxy_socket (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    CHECK (s != NULL);
    test_set_int (s, ZMQ_LINGER, 0);
    return s;
}

/* A socket for the test's side: linger 0 and bounded send and receive
 * timeouts (so a missing message fails the test quickly instead of
 * hanging). */
static void *make_socket (void *ctx, int type)
{
    void *s = make_proxy_socket (ctx, type);
    test_set_int (s, ZMQ_RCVTIMEO, 5000);
    test_set_int (s, ZMQ_SNDTIMEO, 5000);
    return s;
}

/* Receives one frame into buf (NUL-terminated); returns its size and stores
 * the more flag. */
static int recv_frame (void *s, char *buf, size_t bufsz, int *more)
{
    int n = zmq_recv (s, buf, bufsz - 1, 0);
    if (n == -1)
        FAIL ("zmq_recv failed: %s (errno %d)", zmq_strerror (errno), errno);
    CHECK (n < (int) bufsz);
    buf[n] = '\0';
    int m = -1;
    size_t ms = sizeof m;
    CHECK_OK (zmq_getsockopt (s, ZMQ_RCVMORE, &m, &ms));
    *more = m;
    return n;
}

/* Checks the next captured part is a ROUTER routing id (5 bytes, first byte
 * 0) with more set, and stores it in id. */
static void recv_capture_id (void *sink, unsigned char *id)
{
    char buf[64];
    int more;
    int n = recv_frame (sink, buf, sizeof buf, &more);
    CHECK_INT_EQ (n, 5);
    CHECK_INT_EQ (buf[0], 0);
    CHECK_INT_EQ (more, 1);
    memcpy (id, buf, 5);
}

/* ---- ROUTER/DEALER queue with capture, ended by zmq_ctx_term. ---------- */

static void test_queue_with_capture (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    char front_ep[TEST_ENDPOINT_MAX], back_ep[TEST_ENDPOINT_MAX],
      cap_ep[TEST_ENDPOINT_MAX];

    proxy_run_t run;
    memset (&run, 0, sizeof run);
    run.kind = KIND_PROXY;
    run.frontend = make_proxy_socket (ctx, ZMQ_ROUTER);
    test_bind_any (run.frontend, "tcp", front_ep);
    run.backend = make_proxy_socket (ctx, ZMQ_DEALER);
    test_bind_any (run.backend, "inproc", back_ep);
    run.capture = make_proxy_socket (ctx, ZMQ_PUSH);
    test_bind_any (run.capture, "inproc", cap_ep);

    void *sink = make_socket (ctx, ZMQ_PULL);
    CHECK_OK (zmq_connect (sink, cap_ep));
    void *client = make_socket (ctx, ZMQ_REQ);
    CHECK_OK (zmq_connect (client, front_ep));
    void *worker = make_socket (ctx, ZMQ_REP);
    CHECK_OK (zmq_connect (worker, back_ep));

    proxy_start (&run);

    //  A single-part request and reply.
    SEND_STR (client, "hello", 0);
    RECV_STR (worker, "hello", 0);
    SEND_STR (worker, "world", 0);
    RECV_STR (client, "world", 0);

    //  A multipart request and reply.
    SEND_STR (client, "a", ZMQ_SNDMORE);
    SEND_STR (client, "bc", 0);
    RECV_STR (worker, "a", 1);
    RECV_STR (worker, "bc", 0);
    SEND_STR (worker, "x", ZMQ_SNDMORE);
    SEND_STR (worker, "yz", 0);
    RECV_STR (client, "x", 1);
    RECV_STR (client, "yz", 0);

    //  The capture saw every part, both directions, in order: the ROUTER's
    //  routing id, REQ's empty delimiter, then the body.
    unsigned char id[5], id2[5];
    recv_capture_id (sink, id);
    RECV_STR (sink, "", 1);
    RECV_STR (sink, "hello", 0);
    recv_capture_id (sink, id2);
    CHECK (memcmp (id, id2, 5) == 0);
    RECV_STR (sink, "", 1);
    RECV_STR (sink, "world", 0);
    recv_capture_id (sink, id2);
    CHECK (memcmp (id, id2, 5) == 0);
    RECV_STR (sink, "", 1);
    RECV_STR (sink, "a", 1);
    RECV_STR (sink, "bc", 0);
    recv_capture_id (sink, id2);
    CHECK (memcmp (id, id2, 5) == 0);
    RECV_STR (sink, "", 1);
    RECV_STR (sink, "x", 1);
    RECV_STR (sink, "yz", 0);
    CHECK_NOTHING_WITHIN (sink, 0);

    //  A second client and a second worker: each reply goes back to the
    //  client that asked, whichever worker answered.
    void *client2 = make_socket (ctx, ZMQ_REQ);
    CHECK_OK (zmq_connect (client2, front_ep));
    void *worker2 = make_socket (ctx, ZMQ_REP);
    CHECK_OK (zmq_connect (worker2, back_ep));
    SEND_STR (client, "one", 0);
    SEND_STR (client2, "two", 0);
    for (int answered = 0; answered < 2;) {
        zmq_pollitem_t items[] = {{worker, 0, ZMQ_POLLIN, 0},
                                  {worker2, 0, ZMQ_POLLIN, 0}};
        CHECK (zmq_poll (items, 2, 5000) > 0);
        for (int i = 0; i < 2; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            char buf[64], reply[80];
            int more;
            recv_frame (items[i].socket, buf, sizeof buf, &more);
            CHECK_INT_EQ (more, 0);
            CHECK (strcmp (buf, "one") == 0 || strcmp (buf, "two") == 0);
            snprintf (reply, sizeof reply, "re:%s", buf);
            SEND_STR (items[i].socket, reply, 0);
            answered++;
        }
    }
    RECV_STR (client, "re:one", 0);
    RECV_STR (client2, "re:two", 0);
    //  Four more messages of three parts each went through the capture.
    for (int i = 0; i < 4; i++) {
        recv_capture_id (sink, id2);
        RECV_STR (sink, "", 1);
        char buf[64];
        int more;
        recv_frame (sink, buf, sizeof buf, &more);
        CHECK_INT_EQ (more, 0);
    }
    CHECK_NOTHING_WITHIN (sink, 0);

    //  Terminating the context ends the proxy with ETERM; zmq_ctx_term
    //  returns once the proxy thread has closed its sockets.
    void *mine[] = {sink, client, client2, worker, worker2};
    for (int i = 0; i < 5; i++)
        test_close_zero_linger (mine[i]);
    CHECK_OK (zmq_ctx_term (ctx));
    proxy_join (&run);
    CHECK_INT_EQ (run.rc, -1);
    CHECK_INT_EQ (run.err, ETERM);
}

/* ---- XSUB/XPUB forwarder. --------------------------------------------- */

/* pub publishes (through a forwarder) to sub, which subscribed to
 * "weather": publishes until the subscription has reached pub (the first
 * "weather sunny" arrives), then "weather END"; returns how many "weather
 * sunny" sub received (all of them, up to the END). */
static int pubsub_through (void *pub, void *sub)
{
    int received = 0;
    int64_t deadline = test_now_ms () + 5000;
    while (received == 0) {
        CHECK (test_now_ms () < deadline);
        SEND_STR (pub, "news junk", 0);
        SEND_STR (pub, "weather sunny", 0);
        if (test_wait_readable (sub, 10)) {
            RECV_STR (sub, "weather sunny", 0);
            received++;
        }
    }
    SEND_STR (pub, "weather END", 0);
    while (1) {
        char buf[64];
        int more;
        recv_frame (sub, buf, sizeof buf, &more);
        CHECK_INT_EQ (more, 0);
        if (strcmp (buf, "weather END") == 0)
            break;
        CHECK_STR_EQ (buf, "weather sunny");
        received++;
    }
    return received;
}

static void test_xsub_xpub (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    char front_ep[TEST_ENDPOINT_MAX], back_ep[TEST_ENDPOINT_MAX],
      cap_ep[TEST_ENDPOINT_MAX];

    proxy_run_t run;
    memset (&run, 0, sizeof run);
    run.kind = KIND_PROXY;
    run.frontend = make_proxy_socket (ctx, ZMQ_XSUB);
    test_bind_any (run.frontend, "inproc", front_ep);
    run.backend = make_proxy_socket (ctx, ZMQ_XPUB);
    test_bind_any (run.backend, "tcp", back_ep);
    run.capture = make_proxy_socket (ctx, ZMQ_PUSH);
    test_bind_any (run.capture, "inproc", cap_ep);
    void *sink = make_socket (ctx, ZMQ_PULL);
    CHECK_OK (zmq_connect (sink, cap_ep));

    void *pub = make_socket (ctx, ZMQ_PUB);
    CHECK_OK (zmq_connect (pub, front_ep));
    void *sub = make_socket (ctx, ZMQ_SUB);
    CHECK_OK (zmq_connect (sub, back_ep));
    CHECK_OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "weather", 7));

    proxy_start (&run);
    int received = pubsub_through (pub, sub);

    //  The capture saw the subscription first (backend to frontend), then
    //  exactly the data the SUB got (PUB filtered "news junk" out).
    char buf[64];
    int more;
    int n = recv_frame (sink, buf, sizeof buf, &more);
    CHECK_INT_EQ (n, 8);
    CHECK (memcmp (buf, "\001weather", 8) == 0);
    CHECK_INT_EQ (more, 0);
    int captured = 0;
    while (1) {
        recv_frame (sink, buf, sizeof buf, &more);
        CHECK_INT_EQ (more, 0);
        if (strcmp (buf, "weather END") == 0)
            break;
        CHECK_STR_EQ (buf, "weather sunny");
        captured++;
    }
    CHECK_INT_EQ (captured, received);
    CHECK_NOTHING_WITHIN (sink, 0);

    test_close_zero_linger (sink);
    test_close_zero_linger (pub);
    test_close_zero_linger (sub);
    CHECK_OK (zmq_ctx_term (ctx));
    proxy_join (&run);
    CHECK_INT_EQ (run.rc, -1);
    CHECK_INT_EQ (run.err, ETERM);
}

/* ---- zmq_proxy_steerable. --------------------------------------------- */

/* Sends STATISTICS on ctl and reads the 8-frame reply into stats. */
static void get_stats (void *ctl, uint64_t *stats)
{
    SEND_STR (ctl, "STATISTICS", 0);
    for (int i = 0; i < 8; i++) {
        zmq_msg_t msg;
        CHECK_OK (zmq_msg_init (&msg));
        int n = zmq_msg_recv (&msg, ctl, 0);
        if (n == -1)
            FAIL ("STATISTICS frame %d: %s", i, zmq_strerror (errno));
        CHECK_INT_EQ (n, 8);
        CHECK_INT_EQ (zmq_msg_size (&msg), 8);
        memcpy (&stats[i], zmq_msg_data (&msg), 8);
        CHECK_INT_EQ (zmq_msg_more (&msg), i < 7);
        CHECK_OK (zmq_msg_close (&msg));
    }
}

static void check_stats (void *ctl, uint64_t fmi, uint64_t fbi, uint64_t fmo,
                         uint64_t fbo, uint64_t bmi, uint64_t bbi,
                         uint64_t bmo, uint64_t bbo)
{
    uint64_t s[8];
    get_stats (ctl, s);
    const uint64_t want[8] = {fmi, fbi, fmo, fbo, bmi, bbi, bmo, bbo};
    for (int i = 0; i < 8; i++)
        if (s[i] != want[i])
            FAIL ("STATISTICS frame %d is %llu, expected %llu", i,
                  (unsigned long long) s[i], (unsigned long long) want[i]);
}

static void test_steerable_pair (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    char front_ep[TEST_ENDPOINT_MAX], back_ep[TEST_ENDPOINT_MAX],
      cap_ep[TEST_ENDPOINT_MAX], ctl_ep[TEST_ENDPOINT_MAX];

    proxy_run_t run;
    memset (&run, 0, sizeof run);
    run.kind = KIND_STEERABLE;
    run.keep_open = 1;
    run.frontend = make_proxy_socket (ctx, ZMQ_PAIR);
    test_bind_any (run.frontend, "inproc", front_ep);
    run.backend = make_proxy_socket (ctx, ZMQ_PAIR);
    test_bind_any (run.backend, "tcp", back_ep);
    run.capture = make_proxy_socket (ctx, ZMQ_PUSH);
    test_bind_any (run.capture, "inproc", cap_ep);
    run.control = make_proxy_socket (ctx, ZMQ_PAIR);
    test_bind_any (run.control, "inproc", ctl_ep);

    void *sink = make_socket (ctx, ZMQ_PULL);
    CHECK_OK (zmq_connect (sink, cap_ep));
    void *ctl = make_socket (ctx, ZMQ_PAIR);
    CHECK_OK (zmq_connect (ctl, ctl_ep));
    void *client = make_socket (ctx, ZMQ_PAIR);
    CHECK_OK (zmq_connect (client, front_ep));
    void *worker = make_socket (ctx, ZMQ_PAIR);
    CHECK_OK (zmq_connect (worker, back_ep));

    proxy_start (&run);

    //  Nothing has gone through yet.
    check_stats (ctl, 0, 0, 0, 0, 0, 0, 0, 0);

    //  Known traffic: a 2-part message (2 + 3 bytes) and a 5-byte one from
    //  the client, a 3-byte one back from the worker.
    SEND_STR (client, "ab", ZMQ_SNDMORE);
    SEND_STR (client, "cde", 0);
    SEND_STR (client, "hello", 0);
    RECV_STR (worker, "ab", 1);
    RECV_STR (worker, "cde", 0);
    RECV_STR (worker, "hello", 0);
    SEND_STR (worker, "xyz", 0);
    RECV_STR (client, "xyz", 0);
    //  A multipart message counts once; bytes are the sum of its parts.
    check_stats (ctl, 2, 10, 1, 3, 1, 3, 2, 10);

    //  PAUSE: the reply to a later STATISTICS shows it was handled (control
    //  commands are handled in order).  Nothing moves either way.
    SEND_STR (ctl, "PAUSE", 0);
    check_stats (ctl, 2, 10, 1, 3, 1, 3, 2, 10);
    SEND_STR (client, "queued-1", 0);
    SEND_STR (client, "queued-2", 0);
    SEND_STR (worker, "queued-back", 0);
    CHECK_NOTHING_WITHIN (worker, 200);
    CHECK_NOTHING_WITHIN (client, 0);
    check_stats (ctl, 2, 10, 1, 3, 1, 3, 2, 10);

    //  RESUME: the queued messages go through, in order.
    SEND_STR (ctl, "RESUME", 0);
    RECV_STR (worker, "queued-1", 0);
    RECV_STR (worker, "queued-2", 0);
    RECV_STR (client, "queued-back", 0);
    check_stats (ctl, 4, 26, 2, 14, 2, 14, 4, 26);

    //  PAUSE and RESUME again with nothing queued: traffic still flows.
    SEND_STR (ctl, "PAUSE", 0);
    SEND_STR (ctl, "RESUME", 0);
    test_bounce (worker, client);
    check_stats (ctl, 5, 32, 3, 20, 3, 20, 5, 32);

    //  TERMINATE: zmq_proxy_steerable returns 0.
    SEND_STR (ctl, "TERMINATE", 0);
    proxy_join (&run);
    CHECK_INT_EQ (run.rc, 0);

    //  The capture got the traffic and, in 4.3.4, each control command.
    const char *const captured[] = {
      "STATISTICS", "ab",         "cde",         "hello",      "xyz",
      "STATISTICS", "PAUSE",      "STATISTICS",  "STATISTICS", "RESUME",
      "queued-1",   "queued-2",   "queued-back", "STATISTICS", "PAUSE",
      "RESUME",     "bounce",     "bounce",      "STATISTICS", "TERMINATE"};
    const int ncaptured = (int) (sizeof captured / sizeof captured[0]);
    for (int i = 0; i < ncaptured; i++)
        RECV_STR (sink, captured[i], strcmp (captured[i], "ab") == 0);
    CHECK_NOTHING_WITHIN (sink, 0);

    proxy_close (&run);
    test_close_zero_linger (sink);
    test_close_zero_linger (ctl);
    test_close_zero_linger (client);
    test_close_zero_linger (worker);
    CHECK_OK (zmq_ctx_term (ctx));
}

/* REQ/REP control: STATISTICS gets the same 8-frame reply; TERMINATE ends the
 * proxy (whether a reply to it is sent is not checked). */
static void test_steerable_rep (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    char front_ep[TEST_ENDPOINT_MAX], back_ep[TEST_ENDPOINT_MAX],
      ctl_ep[TEST_ENDPOINT_MAX];

    proxy_run_t run;
    memset (&run, 0, sizeof run);
    run.kind = KIND_STEERABLE;
    run.keep_open = 1;
    run.frontend = make_proxy_socket (ctx, ZMQ_PULL);
    test_bind_any (run.frontend, "inproc", front_ep);
    run.backend = make_proxy_socket (ctx, ZMQ_PUSH);
    test_bind_any (run.backend, "inproc", back_ep);
    run.control = make_proxy_socket (ctx, ZMQ_REP);
    test_bind_any (run.control, "inproc", ctl_ep);

    void *ctl = make_socket (ctx, ZMQ_REQ);
    CHECK_OK (zmq_connect (ctl, ctl_ep));
    void *source = make_socket (ctx, ZMQ_PUSH);
    CHECK_OK (zmq_connect (source, front_ep));
    void *sinkw = make_socket (ctx, ZMQ_PULL);
    CHECK_OK (zmq_connect (sinkw, back_ep));

    proxy_start (&run);
    SEND_STR (source, "task-1", 0);
    SEND_STR (source, "t2", ZMQ_SNDMORE);
    SEND_STR (source, "part", 0);
    RECV_STR (sinkw, "task-1", 0);
    RECV_STR (sinkw, "t2", 1);
    RECV_STR (sinkw, "part", 0);
    //  One-way: the backend never receives, the frontend never sends.
    check_stats (ctl, 2, 12, 0, 0, 0, 0, 2, 12);
    check_stats (ctl, 2, 12, 0, 0, 0, 0, 2, 12);

    SEND_STR (ctl, "TERMINATE", 0);
    proxy_join (&run);
    CHECK_INT_EQ (run.rc, 0);

    proxy_close (&run);
    test_close_zero_linger (ctl);
    test_close_zero_linger (source);
    test_close_zero_linger (sinkw);
    CHECK_OK (zmq_ctx_term (ctx));
}

/* A NULL control socket: zmq_proxy_steerable is zmq_proxy (ETERM at the
 * end). */
static void test_steerable_null_control (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    char front_ep[TEST_ENDPOINT_MAX], back_ep[TEST_ENDPOINT_MAX];
    proxy_run_t run;
    memset (&run, 0, sizeof run);
    run.kind = KIND_STEERABLE;
    run.frontend = make_proxy_socket (ctx, ZMQ_ROUTER);
    test_bind_any (run.frontend, "inproc", front_ep);
    run.backend = make_proxy_socket (ctx, ZMQ_DEALER);
    test_bind_any (run.backend, "ipc", back_ep);
    void *client = make_socket (ctx, ZMQ_REQ);
    CHECK_OK (zmq_connect (client, front_ep));
    void *worker = make_socket (ctx, ZMQ_REP);
    CHECK_OK (zmq_connect (worker, back_ep));

    proxy_start (&run);
    test_bounce (worker, client);

    test_close_zero_linger (client);
    test_close_zero_linger (worker);
    CHECK_OK (zmq_ctx_term (ctx));
    proxy_join (&run);
    CHECK_INT_EQ (run.rc, -1);
    CHECK_INT_EQ (run.err, ETERM);
}

/* ---- zmq_device. ------------------------------------------------------ */

static void test_device_queue (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    char front_ep[TEST_ENDPOINT_MAX], back_ep[TEST_ENDPOINT_MAX];
    proxy_run_t run;
    memset (&run, 0, sizeof run);
    run.kind = KIND_DEVICE;
    run.device_type = ZMQ_QUEUE;
    run.frontend = make_proxy_socket (ctx, ZMQ_ROUTER);
    test_bind_any (run.frontend, "tcp", front_ep);
    run.backend = make_proxy_socket (ctx, ZMQ_DEALER);
    test_bind_any (run.backend, "tcp", back_ep);
    void *client = make_socket (ctx, ZMQ_REQ);
    CHECK_OK (zmq_connect (client, front_ep));
    void *worker = make_socket (ctx, ZMQ_REP);
    CHECK_OK (zmq_connect (worker, back_ep));

    proxy_start (&run);
    SEND_STR (client, "q1", ZMQ_SNDMORE);
    SEND_STR (client, "q2", 0);
    RECV_STR (worker, "q1", 1);
    RECV_STR (worker, "q2", 0);
    SEND_STR (worker, "r", 0);
    RECV_STR (client, "r", 0);
    test_bounce (worker, client);

    test_close_zero_linger (client);
    test_close_zero_linger (worker);
    CHECK_OK (zmq_ctx_term (ctx));
    proxy_join (&run);
    CHECK_INT_EQ (run.rc, -1);
    CHECK_INT_EQ (run.err, ETERM);
}

static void test_device_forwarder (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    char front_ep[TEST_ENDPOINT_MAX], back_ep[TEST_ENDPOINT_MAX];
    proxy_run_t run;
    memset (&run, 0, sizeof run);
    run.kind = KIND_DEVICE;
    run.device_type = ZMQ_FORWARDER;
    run.frontend = make_proxy_socket (ctx, ZMQ_XSUB);
    test_bind_any (run.frontend, "tcp", front_ep);
    run.backend = make_proxy_socket (ctx, ZMQ_XPUB);
    test_bind_any (run.backend, "inproc", back_ep);
    void *pub = make_socket (ctx, ZMQ_PUB);
    CHECK_OK (zmq_connect (pub, front_ep));
    void *sub = make_socket (ctx, ZMQ_SUB);
    CHECK_OK (zmq_connect (sub, back_ep));
    CHECK_OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "weather", 7));

    proxy_start (&run);
    CHECK (pubsub_through (pub, sub) >= 1);

    test_close_zero_linger (pub);
    test_close_zero_linger (sub);
    CHECK_OK (zmq_ctx_term (ctx));
    proxy_join (&run);
    CHECK_INT_EQ (run.rc, -1);
    CHECK_INT_EQ (run.err, ETERM);
}

/* PULL/PUSH streamer, ended by zmq_ctx_shutdown (the proxy returns ETERM
 * before any socket is closed). */
static void test_device_streamer (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    char front_ep[TEST_ENDPOINT_MAX], back_ep[TEST_ENDPOINT_MAX];
    proxy_run_t run;
    memset (&run, 0, sizeof run);
    run.kind = KIND_DEVICE;
    run.device_type = ZMQ_STREAMER;
    run.frontend = make_proxy_socket (ctx, ZMQ_PULL);
    test_bind_any (run.frontend, "inproc", front_ep);
    run.backend = make_proxy_socket (ctx, ZMQ_PUSH);
    test_bind_any (run.backend, "tcp", back_ep);
    void *source = make_socket (ctx, ZMQ_PUSH);
    CHECK_OK (zmq_connect (source, front_ep));
    void *sinkw = make_socket (ctx, ZMQ_PULL);
    CHECK_OK (zmq_connect (sinkw, back_ep));

    proxy_start (&run);
    for (int i = 0; i < 10; i++) {
        char buf[32];
        snprintf (buf, sizeof buf, "task %d", i);
        SEND_STR (source, buf, 0);
    }
    SEND_STR (source, "multi", ZMQ_SNDMORE);
    SEND_STR (source, "part", 0);
    for (int i = 0; i < 10; i++) {
        char buf[32];
        snprintf (buf, sizeof buf, "task %d", i);
        RECV_STR (sinkw, buf, 0);
    }
    RECV_STR (sinkw, "multi", 1);
    RECV_STR (sinkw, "part", 0);

    CHECK_OK (zmq_ctx_shutdown (ctx));
    proxy_join (&run);
    CHECK_INT_EQ (run.rc, -1);
    CHECK_INT_EQ (run.err, ETERM);
    test_close_zero_linger (source);
    test_close_zero_linger (sinkw);
    CHECK_OK (zmq_ctx_term (ctx));
}

/* ---- Invalid arguments. ----------------------------------------------- */

static void test_null_sockets (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s != NULL);
    CHECK_ERRNO (zmq_proxy (NULL, s, NULL), EFAULT);
    CHECK_ERRNO (zmq_proxy (s, NULL, NULL), EFAULT);
    CHECK_ERRNO (zmq_proxy (NULL, NULL, NULL), EFAULT);
    CHECK_ERRNO (zmq_proxy_steerable (NULL, s, NULL, NULL), EFAULT);
    CHECK_ERRNO (zmq_proxy_steerable (s, NULL, NULL, s), EFAULT);
    CHECK_OK (zmq_close (s));
    CHECK_OK (zmq_ctx_term (ctx));
}

int main (void)
{
    test_init ();
    test_null_sockets ();
    test_queue_with_capture ();
    test_xsub_xpub ();
    test_steerable_pair ();
    test_steerable_rep ();
    test_steerable_null_control ();
    test_device_queue ();
    test_device_forwarder ();
    test_device_streamer ();
    TEST_PASS ();
}
