/* XPUB/XSUB: subscriptions as messages (RFC 29), and the XPUB options.
 *
 * Pins (inproc, tcp and ipc unless noted):
 *  - a SUB subscribing to a topic makes the XPUB receive "\x01topic" (one
 *    frame, RCVMORE 0; "\x01" alone for the empty topic, binary-safe), and
 *    unsubscribing makes it receive "\x00topic"; the XPUB sends a message
 *    only to the peers whose subscriptions match its first frame;
 *  - duplicates are filtered: a second SUB subscribing to a topic already
 *    subscribed gives the XPUB nothing, and an unsubscribe passes only when
 *    the last subscriber of the topic goes;
 *  - a SUB that is closed or disconnects makes the XPUB receive "\x00topic"
 *    for each of its topics that no other peer has (in some order);
 *  - ZMQ_XPUB_VERBOSE: every subscribe passes (even a second one from the
 *    same SUB), unsubscribes still pass only for the last subscriber;
 *    ZMQ_XPUB_VERBOSER: every subscribe and every unsubscribe passes, and a
 *    peer going away yields "\x00topic" for each of its topics even when
 *    other peers still have them;
 *  - ZMQ_XPUB_MANUAL: every subscribe and unsubscribe is passed (duplicates
 *    too) and nothing is applied: ZMQ_SUBSCRIBE/ZMQ_UNSUBSCRIBE on the XPUB
 *    apply to the peer the last received notification came from (before
 *    any notification, ZMQ_SUBSCRIBE succeeds and does nothing); a peer
 *    going away yields "\x00topic" for the topics it had asked for and not
 *    cancelled; an XSUB does not filter what it receives (it gets "B" while
 *    it asked for "A", because the XPUB application subscribed it to "B");
 *  - ZMQ_XPUB_WELCOME_MSG: every new peer is sent the welcome message first;
 *    a SUB delivers it if it subscribed to a matching prefix before
 *    connecting, otherwise drops it; an XSUB always delivers it; an empty
 *    welcome message (length 0) turns the feature off;
 *  - ZMQ_XPUB_NODROP (inproc): with SNDHWM 3 on the XPUB and RCVHWM 2 on
 *    the SUB, exactly 5 messages fit, then zmq_send with ZMQ_DONTWAIT gets
 *    EAGAIN and a blocking send with ZMQ_SNDTIMEO 100 gets EAGAIN after the
 *    timeout; after the SUB drains, a blocking send succeeds; messages for
 *    which no peer matches are always accepted; without the option all sends
 *    succeed and only the first 5 arrive; over tcp/ipc, blocking sends with
 *    ZMQ_SNDTIMEO 200 to a SUB that does not read eventually time out with
 *    EAGAIN, and every message accepted before arrives, in order;
 *  - XSUB: sending "\x01topic"/"\x00topic" subscribes/unsubscribes upstream
 *    (a PUB then filters for it); an unsubscribe for a topic the XSUB does
 *    not hold is not sent upstream, and subscriptions are counted (two
 *    "\x01d" then one "\x00d" sends nothing upstream, the second does), while
 *    every subscribe is sent upstream (a verbose XPUB sees both "\x01d");
 *    any other message (first byte not 0 or 1, or empty) is sent upstream as
 *    is: an XPUB receives it verbatim (multipart kept), a PUB drops it;
 *    ZMQ_SUBSCRIBE on an XSUB fails with EINVAL;
 *  - options: ZMQ_XPUB_VERBOSE, ZMQ_XPUB_VERBOSER, ZMQ_XPUB_MANUAL,
 *    ZMQ_XPUB_NODROP and ZMQ_XPUB_WELCOME_MSG are write-only (zmq_getsockopt
 *    fails with EINVAL); the int ones reject a negative value or a size
 *    other than sizeof (int) with EINVAL and accept any other value (2);
 *    they are accepted on PUB and rejected with EINVAL on SUB, XSUB and
 *    PUSH; ZMQ_SUBSCRIBE on an XPUB without ZMQ_XPUB_MANUAL fails with
 *    EINVAL;
 *  - the draft options ZMQ_ONLY_FIRST_SUBSCRIBE (108) and
 *    ZMQ_XPUB_MANUAL_LAST_VALUE (98), when the library accepts them (Debian's
 *    libzmq 4.3.4 does): with ZMQ_ONLY_FIRST_SUBSCRIBE on both XSUB and XPUB,
 *    a multipart message whose first frame is a subscription is all
 *    subscriptions (each frame reaches the XPUB as a separate notification,
 *    RCVMORE 0), while one whose first frame is not is all user data
 *    ("\x01C" in a later frame subscribes nothing); with
 *    ZMQ_XPUB_MANUAL_LAST_VALUE, the first message sent after the
 *    application subscribes the last notifying peer goes only to that peer. */
#include "testutil.h"

#ifndef ZMQ_ONLY_FIRST_SUBSCRIBE
#define ZMQ_ONLY_FIRST_SUBSCRIBE 108
#endif
#ifndef ZMQ_XPUB_MANUAL_LAST_VALUE
#define ZMQ_XPUB_MANUAL_LAST_VALUE 98
#endif

static void *new_socket (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    CHECK (s);
    test_set_int (s, ZMQ_RCVTIMEO, 5000);
    test_set_int (s, ZMQ_SNDTIMEO, 5000);
    test_set_int (s, ZMQ_RECONNECT_IVL, 10);
    return s;
}

/* Expects the XPUB to receive a (un)subscription notification for topic. */
static void expect_notice (void *xpub, int subscribe, const char *topic)
{
    char buf[128];
    buf[0] = subscribe ? 1 : 0;
    size_t len = strlen (topic);
    memcpy (buf + 1, topic, len);
    test_recv_bytes (xpub, buf, len + 1, 0);
}

/* Sends a (un)subscription message from an XSUB. */
static void xsub_send (void *xsub, int subscribe, const char *topic)
{
    char buf[128];
    buf[0] = subscribe ? 1 : 0;
    size_t len = strlen (topic);
    memcpy (buf + 1, topic, len);
    test_send_bytes (xsub, buf, len + 1, 0);
}

static void sub_str (void *sub, const char *topic)
{
    CHECK_OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, topic, strlen (topic)));
}

static void unsub_str (void *sub, const char *topic)
{
    CHECK_OK (zmq_setsockopt (sub, ZMQ_UNSUBSCRIBE, topic, strlen (topic)));
}

static void *bound_xpub (void *ctx, const char *transport, char *ep)
{
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    test_bind_any (xpub, transport, ep);
    return xpub;
}

static void *connected (void *ctx, int type, const char *ep)
{
    void *s = new_socket (ctx, type);
    CHECK_OK (zmq_connect (s, ep));
    return s;
}

/* Receives n notifications and checks they are exactly the expected ones
 * (given as "\x01topic"/"\x00topic" strings, topics without NULs), in any
 * order. */
static void expect_notice_set (void *xpub, const char *const *expected, int n)
{
    int seen[16] = {0};
    CHECK (n <= 16);
    for (int i = 0; i < n; i++) {
        char buf[128];
        int len = zmq_recv (xpub, buf, sizeof buf - 1, 0);
        if (len == -1)
            FAIL ("expect_notice_set: notification %d of %d missing: %s", i,
                  n, zmq_strerror (errno));
        CHECK_INT_EQ (test_get_int (xpub, ZMQ_RCVMORE), 0);
        int found = 0;
        for (int j = 0; j < n && !found; j++) {
            //  expected[j] is "\x01..." or "" + topic for unsubscribes,
            //  written as "\x01t" / "\x02t" (2 meaning a 0 byte).
            size_t elen = strlen (expected[j]);
            if (!seen[j] && (size_t) len == elen
                && (unsigned char) buf[0]
                     == ((unsigned char) expected[j][0] == 2 ? 0 : 1)
                && memcmp (buf + 1, expected[j] + 1, elen - 1) == 0) {
                seen[j] = 1;
                found = 1;
            }
        }
        if (!found) {
            buf[len] = '\0';
            FAIL ("expect_notice_set: unexpected notification %d \"%s\"",
                  buf[0], buf + 1);
        }
    }
}

/* Waits until sock is readable while making other process its commands
 * (zmq_getsockopt ZMQ_EVENTS does): over inproc, a pipe between two
 * application threads' sockets only finishes closing when both sides have
 * processed the handshake. */
static void wait_readable_pumping (void *sock, void *other)
{
    int64_t deadline = test_now_ms () + 5000;
    while (!test_wait_readable (sock, 10)) {
        (void) test_get_int (other, ZMQ_EVENTS);
        CHECK (test_now_ms () < deadline);
    }
}

static void test_notifications (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = bound_xpub (ctx, transport, ep);
    void *sub = connected (ctx, ZMQ_SUB, ep);

    sub_str (sub, "topic");
    expect_notice (xpub, 1, "topic");
    sub_str (sub, "");
    test_recv_bytes (xpub, "\1", 1, 0);
    CHECK_OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "\0z\0", 3));
    test_recv_bytes (xpub, "\1\0z\0", 4, 0);
    unsub_str (sub, "");
    test_recv_bytes (xpub, "\0", 1, 0);
    CHECK_OK (zmq_setsockopt (sub, ZMQ_UNSUBSCRIBE, "\0z\0", 3));
    test_recv_bytes (xpub, "\0\0z\0", 4, 0);

    //  The XPUB filters: "topic" is the one subscription left.
    SEND_STR (xpub, "other", 0);
    SEND_STR (xpub, "topic1", ZMQ_SNDMORE);
    SEND_STR (xpub, "other", 0);
    SEND_STR (xpub, "t", 0);
    SEND_STR (xpub, "topic2", 0);
    RECV_STR (sub, "topic1", 1);
    RECV_STR (sub, "other", 0);
    RECV_STR (sub, "topic2", 0);

    unsub_str (sub, "topic");
    expect_notice (xpub, 0, "topic");
    CHECK_NOTHING_WITHIN (xpub, 0);
    CHECK_NOTHING_WITHIN (sub, 0);
    test_close_zero_linger (sub);
    test_close_zero_linger (xpub);
}

static void test_duplicates (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = bound_xpub (ctx, transport, ep);
    void *sub1 = connected (ctx, ZMQ_SUB, ep);
    void *sub2 = connected (ctx, ZMQ_SUB, ep);

    sub_str (sub1, "t");
    expect_notice (xpub, 1, "t");
    //  Same topic from another peer, then from the same peer: filtered.
    //  A marker subscription on the same pipe shows nothing came before.
    sub_str (sub2, "t");
    sub_str (sub2, "m2");
    expect_notice (xpub, 1, "m2");
    sub_str (sub1, "t");
    sub_str (sub1, "m1");
    expect_notice (xpub, 1, "m1");

    //  sub1 holds "t" twice: its first unsubscribe stays inside the SUB; the
    //  second reaches the XPUB, which still has sub2 on "t".
    unsub_str (sub1, "t");
    unsub_str (sub1, "t");
    unsub_str (sub1, "m1");
    expect_notice (xpub, 0, "m1");
    //  Messages for "t" still reach sub2 but no longer sub1.
    SEND_STR (xpub, "t1", 0);
    SEND_STR (xpub, "m2end", 0);
    RECV_STR (sub2, "t1", 0);
    RECV_STR (sub2, "m2end", 0);
    //  The last subscriber goes: the unsubscribe passes.
    unsub_str (sub2, "t");
    expect_notice (xpub, 0, "t");
    CHECK_NOTHING_WITHIN (sub1, 0);
    CHECK_NOTHING_WITHIN (xpub, 0);

    test_close_zero_linger (sub1);
    test_close_zero_linger (sub2);
    test_close_zero_linger (xpub);
}

static void test_peer_goes_away (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = bound_xpub (ctx, transport, ep);
    void *sub1 = connected (ctx, ZMQ_SUB, ep);
    void *sub2 = connected (ctx, ZMQ_SUB, ep);
    void *sub3 = connected (ctx, ZMQ_SUB, ep);

    sub_str (sub1, "t");
    sub_str (sub1, "u");
    sub_str (sub1, "v");
    expect_notice (xpub, 1, "t");
    expect_notice (xpub, 1, "u");
    expect_notice (xpub, 1, "v");
    sub_str (sub2, "t");
    sub_str (sub2, "m2");
    expect_notice (xpub, 1, "m2");
    sub_str (sub3, "v");
    sub_str (sub3, "w");
    expect_notice (xpub, 1, "w");

    //  sub1 closes: "t" (sub2) and "v" (sub3) remain; only "u" goes.
    test_close_zero_linger (sub1);
    expect_notice (xpub, 0, "u");
    //  Nothing else came from sub1's departure (it would be queued before
    //  sub2's marker).
    sub_str (sub2, "m4");
    expect_notice (xpub, 1, "m4");

    //  sub3 disconnects: "v" and "w" go.
    CHECK_OK (zmq_disconnect (sub3, ep));
    wait_readable_pumping (xpub, sub3);
    const char *const gone3[] = {"\2v", "\2w"};
    expect_notice_set (xpub, gone3, 2);

    //  sub2 closes: all its topics go.
    test_close_zero_linger (sub2);
    const char *const gone2[] = {"\2t", "\2m2", "\2m4"};
    expect_notice_set (xpub, gone2, 3);
    CHECK_NOTHING_WITHIN (xpub, 0);
    test_close_zero_linger (sub3);
    test_close_zero_linger (xpub);
}

static void test_verbose (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    test_set_int (xpub, ZMQ_XPUB_VERBOSE, 1);
    test_bind_any (xpub, transport, ep);
    void *sub1 = connected (ctx, ZMQ_SUB, ep);
    void *sub2 = connected (ctx, ZMQ_SUB, ep);

    sub_str (sub1, "t");
    expect_notice (xpub, 1, "t");
    sub_str (sub2, "t");
    expect_notice (xpub, 1, "t");
    sub_str (sub2, "t");
    expect_notice (xpub, 1, "t");

    //  Unsubscribes: only the last holder's passes.
    unsub_str (sub1, "t");
    sub_str (sub1, "m1");
    expect_notice (xpub, 1, "m1");
    unsub_str (sub2, "t"); //  stays in sub2 (held twice)
    unsub_str (sub2, "t");
    expect_notice (xpub, 0, "t");

    //  A peer going away: its topics no one else has.
    sub_str (sub2, "m1");
    expect_notice (xpub, 1, "m1");
    sub_str (sub2, "m2");
    expect_notice (xpub, 1, "m2");
    test_close_zero_linger (sub2);
    expect_notice (xpub, 0, "m2");
    sub_str (sub1, "m3");
    expect_notice (xpub, 1, "m3");
    CHECK_NOTHING_WITHIN (xpub, 0);

    test_close_zero_linger (sub1);
    test_close_zero_linger (xpub);
}

static void test_verboser (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    test_set_int (xpub, ZMQ_XPUB_VERBOSER, 1);
    test_bind_any (xpub, transport, ep);
    void *sub1 = connected (ctx, ZMQ_SUB, ep);
    void *sub2 = connected (ctx, ZMQ_SUB, ep);

    sub_str (sub1, "t");
    expect_notice (xpub, 1, "t");
    sub_str (sub2, "t");
    expect_notice (xpub, 1, "t");
    unsub_str (sub1, "t");
    expect_notice (xpub, 0, "t");
    unsub_str (sub2, "t");
    expect_notice (xpub, 0, "t");

    //  A peer going away: all its topics, shared or not.
    sub_str (sub1, "c");
    expect_notice (xpub, 1, "c");
    sub_str (sub2, "c");
    expect_notice (xpub, 1, "c");
    sub_str (sub2, "d");
    expect_notice (xpub, 1, "d");
    test_close_zero_linger (sub2);
    const char *const gone[] = {"\2c", "\2d"};
    expect_notice_set (xpub, gone, 2);
    //  sub1 still gets "c".
    SEND_STR (xpub, "c1", 0);
    RECV_STR (sub1, "c1", 0);
    CHECK_NOTHING_WITHIN (xpub, 0);

    test_close_zero_linger (sub1);
    test_close_zero_linger (xpub);
}

static void test_manual (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    test_set_int (xpub, ZMQ_XPUB_MANUAL, 1);
    //  No notification received yet: accepted, no effect.
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "A", 1));
    test_bind_any (xpub, transport, ep);
    void *xsub = connected (ctx, ZMQ_XSUB, ep);

    xsub_send (xsub, 1, "A");
    expect_notice (xpub, 1, "A");
    //  Subscribe that peer to "B" instead.
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "B", 1));
    SEND_STR (xpub, "A1", 0);
    SEND_STR (xpub, "B1", 0);
    SEND_STR (xpub, "C1", 0);
    SEND_STR (xpub, "B2", ZMQ_SNDMORE);
    SEND_STR (xpub, "A", 0);
    RECV_STR (xsub, "B1", 0);
    RECV_STR (xsub, "B2", 1);
    RECV_STR (xsub, "A", 0);

    //  Duplicates are passed too; the XSUB counts its own subscriptions, so
    //  only its second "\x00A" goes upstream.
    xsub_send (xsub, 1, "A");
    expect_notice (xpub, 1, "A");
    xsub_send (xsub, 0, "A");
    xsub_send (xsub, 0, "A");
    expect_notice (xpub, 0, "A");
    //  Unsubscribe the peer from "B", subscribe it to "C".
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_UNSUBSCRIBE, "B", 1));
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "C", 1));
    SEND_STR (xpub, "B3", 0);
    SEND_STR (xpub, "A3", 0);
    SEND_STR (xpub, "C3", 0);
    RECV_STR (xsub, "C3", 0);

    //  The peer goes away: what it asked for and did not cancel ("D") is
    //  unsubscribed.
    xsub_send (xsub, 1, "D");
    expect_notice (xpub, 1, "D");
    test_close_zero_linger (xsub);
    expect_notice (xpub, 0, "D");
    CHECK_NOTHING_WITHIN (xpub, 0);
    test_close_zero_linger (xpub);
}

static void test_welcome (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, "W", 1));
    test_bind_any (xpub, transport, ep);

    //  Subscribed to "W" before connecting: the welcome comes first.  (The
    //  XPUB takes the new peer in, and sends it the welcome, when it
    //  processes its commands: receiving the subscription makes it do so.)
    void *sub1 = new_socket (ctx, ZMQ_SUB);
    sub_str (sub1, "W");
    CHECK_OK (zmq_connect (sub1, ep));
    expect_notice (xpub, 1, "W");
    RECV_STR (sub1, "W", 0);

    //  Subscribed to something else: the SUB drops the welcome.
    void *sub2 = new_socket (ctx, ZMQ_SUB);
    sub_str (sub2, "X");
    CHECK_OK (zmq_connect (sub2, ep));
    expect_notice (xpub, 1, "X");
    SEND_STR (xpub, "Xend", 0);
    RECV_STR (sub2, "Xend", 0);

    //  An XSUB does not filter: it gets the welcome whatever it subscribes.
    void *xsub = connected (ctx, ZMQ_XSUB, ep);
    xsub_send (xsub, 1, "Z");
    expect_notice (xpub, 1, "Z");
    RECV_STR (xsub, "W", 0);

    //  An empty welcome message turns the feature off for new peers.
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, "", 0));
    void *xsub2 = connected (ctx, ZMQ_XSUB, ep);
    xsub_send (xsub2, 1, "Y");
    expect_notice (xpub, 1, "Y");
    SEND_STR (xpub, "Yend", 0);
    RECV_STR (xsub2, "Yend", 0);
    CHECK_NOTHING_WITHIN (sub1, 0);
    CHECK_NOTHING_WITHIN (sub2, 0);
    CHECK_NOTHING_WITHIN (xsub, 0);

    test_close_zero_linger (sub1);
    test_close_zero_linger (sub2);
    test_close_zero_linger (xsub);
    test_close_zero_linger (xsub2);
    test_close_zero_linger (xpub);
}

static void test_nodrop_inproc (void *ctx, int nodrop)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    test_set_int (xpub, ZMQ_SNDHWM, 3);
    if (nodrop)
        test_set_int (xpub, ZMQ_XPUB_NODROP, 1);
    test_bind_any (xpub, "inproc", ep);
    void *sub = new_socket (ctx, ZMQ_SUB);
    test_set_int (sub, ZMQ_RCVHWM, 2);
    CHECK_OK (zmq_connect (sub, ep));
    sub_str (sub, "m");
    expect_notice (xpub, 1, "m");

    int sent = 0;
    while (sent < 100) {
        char s[16];
        snprintf (s, sizeof s, "m%d", sent);
        errno = 0;
        if (zmq_send (xpub, s, strlen (s), ZMQ_DONTWAIT) == -1) {
            CHECK_INT_EQ (errno, EAGAIN);
            break;
        }
        sent++;
    }
    CHECK_INT_EQ (sent, nodrop ? 5 : 100);
    //  Not matching: never blocked.
    for (int i = 0; i < 20; i++)
        SEND_STR (xpub, "x", ZMQ_DONTWAIT);
    if (nodrop) {
        test_set_int (xpub, ZMQ_SNDTIMEO, 100);
        int64_t t0 = test_now_ms ();
        CHECK_ERRNO (zmq_send (xpub, "m-late", 6, 0), EAGAIN);
        int64_t elapsed = test_now_ms () - t0;
        CHECK (elapsed >= 95 && elapsed < 2000);
    }
    for (int i = 0; i < 5; i++) {
        char s[16];
        snprintf (s, sizeof s, "m%d", i);
        RECV_STR (sub, s, 0);
    }
    CHECK_NOTHING_WITHIN (sub, 0);
    //  Drained: with ZMQ_XPUB_NODROP a blocking send waits for the pipe to
    //  reopen and goes through; without it, messages are dropped until the
    //  XPUB has seen the pipe reopen.
    test_set_int (xpub, ZMQ_SNDTIMEO, 5000);
    if (nodrop) {
        SEND_STR (xpub, "m-again", 0);
        RECV_STR (sub, "m-again", 0);
    } else {
        int64_t deadline = test_now_ms () + 5000;
        do {
            SEND_STR (xpub, "m-again", 0);
            CHECK (test_now_ms () < deadline);
        } while (!test_wait_readable (sub, 10));
        RECV_STR (sub, "m-again", 0);
    }
    test_close_zero_linger (sub);
    test_close_zero_linger (xpub);
}

static void test_nodrop_wire (void *ctx, const char *transport)
{
    enum { SIZE = 1000, MAX = 200000 };
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    test_set_int (xpub, ZMQ_SNDHWM, 10);
    test_set_int (xpub, ZMQ_XPUB_NODROP, 1);
    test_bind_any (xpub, transport, ep);
    void *sub = new_socket (ctx, ZMQ_SUB);
    test_set_int (sub, ZMQ_RCVHWM, 10);
    CHECK_OK (zmq_connect (sub, ep));
    sub_str (sub, "");
    expect_notice (xpub, 1, "");

    //  Blocking sends with a timeout: they wait while the connection drains
    //  and time out once the subscriber's side is full.
    test_set_int (xpub, ZMQ_SNDTIMEO, 200);
    static char frame[SIZE];
    memset (frame, 'x', sizeof frame);
    int sent = 0;
    while (sent < MAX) {
        memcpy (frame, &sent, sizeof sent);
        errno = 0;
        if (zmq_send (xpub, frame, SIZE, 0) == -1) {
            CHECK_INT_EQ (errno, EAGAIN);
            break;
        }
        sent++;
    }
    CHECK (sent > 20 && sent < MAX);
    //  Nothing was dropped.
    for (int i = 0; i < sent; i++) {
        CHECK_INT_EQ (zmq_recv (sub, frame, SIZE, 0), SIZE);
        int k;
        memcpy (&k, frame, sizeof k);
        CHECK_INT_EQ (k, i);
    }
    CHECK_NOTHING_WITHIN (sub, 0);
    test_set_int (xpub, ZMQ_SNDTIMEO, 5000);
    SEND_STR (xpub, "again", 0);
    RECV_STR (sub, "again", 0);
    test_close_zero_linger (sub);
    test_close_zero_linger (xpub);
}

/* Publishes "<prefix>probe" until the XSUB receives one, then a marker,
 * and drains the XSUB up to the marker. */
static void sync_xsub (void *pub, void *xsub, const char *prefix)
{
    int64_t deadline = test_now_ms () + 5000;
    char probe[64], mark[64];
    snprintf (probe, sizeof probe, "%sprobe", prefix);
    snprintf (mark, sizeof mark, "%smark", prefix);
    while (1) {
        SEND_STR (pub, probe, ZMQ_DONTWAIT);
        if (test_wait_readable (xsub, 20))
            break;
        CHECK (test_now_ms () < deadline);
    }
    SEND_STR (pub, mark, 0);
    while (1) {
        char buf[64];
        int n = zmq_recv (xsub, buf, sizeof buf - 1, 0);
        CHECK (n >= 0);
        buf[n] = '\0';
        if (strcmp (buf, mark) == 0)
            break;
        CHECK_STR_EQ (buf, probe);
    }
}

static void test_xsub_with_pub (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *pub = new_socket (ctx, ZMQ_PUB);
    test_bind_any (pub, transport, ep);
    void *xsub = connected (ctx, ZMQ_XSUB, ep);

    CHECK_ERRNO (zmq_setsockopt (xsub, ZMQ_SUBSCRIBE, "T", 1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (xsub, ZMQ_UNSUBSCRIBE, "T", 1), EINVAL);

    xsub_send (xsub, 1, "T");
    sync_xsub (pub, xsub, "T");
    SEND_STR (pub, "U1", 0);
    SEND_STR (pub, "T1", 0);
    SEND_STR (pub, "Tend", 0);
    RECV_STR (xsub, "T1", 0);
    RECV_STR (xsub, "Tend", 0);

    //  A user message upstream: the PUB drops it, the link keeps working.
    SEND_STR (xsub, "hello", 0);
    SEND_STR (xsub, "multi", ZMQ_SNDMORE);
    SEND_STR (xsub, "part", 0);
    test_send_bytes (xsub, "", 0, 0);

    //  Unsubscribe "T", subscribe "V": "T" no longer comes (the XSUB itself
    //  would not filter it).
    xsub_send (xsub, 0, "T");
    xsub_send (xsub, 1, "V");
    sync_xsub (pub, xsub, "V");
    SEND_STR (pub, "T2", 0);
    SEND_STR (pub, "V2", 0);
    RECV_STR (xsub, "V2", 0);
    CHECK_NOTHING_WITHIN (xsub, 0);
    test_close_zero_linger (xsub);
    test_close_zero_linger (pub);
}

static void test_xsub_with_xpub (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    test_set_int (xpub, ZMQ_XPUB_VERBOSE, 1);
    test_bind_any (xpub, transport, ep);
    void *xsub = connected (ctx, ZMQ_XSUB, ep);

    //  User messages pass upstream verbatim.
    SEND_STR (xsub, "hello", 0);
    RECV_STR (xpub, "hello", 0);
    SEND_STR (xsub, "multi", ZMQ_SNDMORE);
    SEND_STR (xsub, "part", 0);
    RECV_STR (xpub, "multi", 1);
    RECV_STR (xpub, "part", 0);
    test_send_bytes (xsub, "", 0, 0);
    test_recv_bytes (xpub, "", 0, 0);
    test_send_bytes (xsub, "\2x", 2, 0);
    test_recv_bytes (xpub, "\2x", 2, 0);

    //  Every subscribe goes upstream (the verbose XPUB shows both).
    xsub_send (xsub, 1, "d");
    xsub_send (xsub, 1, "d");
    expect_notice (xpub, 1, "d");
    expect_notice (xpub, 1, "d");
    //  Unsubscribes are counted: only the second goes; one for a topic
    //  never subscribed goes nowhere.
    xsub_send (xsub, 0, "never");
    xsub_send (xsub, 0, "d");
    xsub_send (xsub, 1, "mark1");
    expect_notice (xpub, 1, "mark1");
    xsub_send (xsub, 0, "d");
    expect_notice (xpub, 0, "d");
    xsub_send (xsub, 1, "");
    test_recv_bytes (xpub, "\1", 1, 0);
    CHECK_NOTHING_WITHIN (xpub, 0);

    //  Downstream: the XSUB gets what matches.
    SEND_STR (xpub, "any", 0);
    RECV_STR (xsub, "any", 0);
    test_close_zero_linger (xsub);
    test_close_zero_linger (xpub);
}

static void test_options (void *ctx)
{
    const int write_only[] = {ZMQ_XPUB_VERBOSE, ZMQ_XPUB_VERBOSER,
                              ZMQ_XPUB_MANUAL, ZMQ_XPUB_NODROP};
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (xpub && pub && sub && xsub && push);

    CHECK_ERRNO (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (xpub, ZMQ_UNSUBSCRIBE, "a", 1), EINVAL);

    for (size_t i = 0; i < sizeof write_only / sizeof write_only[0]; i++) {
        int opt = write_only[i];
        int value = -1;
        size_t size = sizeof value;
        CHECK_ERRNO (zmq_getsockopt (xpub, opt, &value, &size), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (xpub, opt, &value, sizeof value), EINVAL);
        value = 1;
        CHECK_ERRNO (zmq_setsockopt (xpub, opt, &value, 2), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (xpub, opt, &value, 8), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (xpub, opt, NULL, 0), EINVAL);
        test_set_int (xpub, opt, 0);
        test_set_int (xpub, opt, 2);
        test_set_int (xpub, opt, 0);
        size = sizeof value;
        CHECK_ERRNO (zmq_getsockopt (xpub, opt, &value, &size), EINVAL);
        //  A PUB takes them too; the others do not.
        test_set_int (pub, opt, 1);
        test_set_int (pub, opt, 0);
        CHECK_ERRNO (zmq_setsockopt (sub, opt, &value, sizeof value), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (xsub, opt, &value, sizeof value), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (push, opt, &value, sizeof value), EINVAL);
    }
    char buf[16];
    size_t size = sizeof buf;
    CHECK_ERRNO (zmq_getsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, buf, &size),
                 EINVAL);
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, "hi", 2));
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, NULL, 0));
    CHECK_OK (zmq_setsockopt (pub, ZMQ_XPUB_WELCOME_MSG, "hi", 2));
    CHECK_ERRNO (zmq_setsockopt (sub, ZMQ_XPUB_WELCOME_MSG, "hi", 2), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (xsub, ZMQ_XPUB_WELCOME_MSG, "hi", 2), EINVAL);
    size = sizeof buf;
    CHECK_ERRNO (zmq_getsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, buf, &size),
                 EINVAL);

    //  The draft options, where accepted, are write-only as well.
    const int drafts[] = {ZMQ_ONLY_FIRST_SUBSCRIBE, ZMQ_XPUB_MANUAL_LAST_VALUE};
    for (size_t i = 0; i < 2; i++) {
        int one = 1;
        if (zmq_setsockopt (xpub, drafts[i], &one, sizeof one) != 0) {
            CHECK_INT_EQ (errno, EINVAL);
            printf ("draft option %d not supported: skipped\n", drafts[i]);
            continue;
        }
        int value = -1;
        size = sizeof value;
        CHECK_ERRNO (zmq_getsockopt (xpub, drafts[i], &value, &size), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (xpub, drafts[i], &value, sizeof value),
                     EINVAL);
        CHECK_ERRNO (zmq_setsockopt (sub, drafts[i], &one, sizeof one),
                     EINVAL);
    }
    test_close_zero_linger (xpub);
    test_close_zero_linger (pub);
    test_close_zero_linger (sub);
    test_close_zero_linger (xsub);
    test_close_zero_linger (push);
}

static void test_only_first_subscribe (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    int one = 1;
    if (zmq_setsockopt (xpub, ZMQ_ONLY_FIRST_SUBSCRIBE, &one, sizeof one)
        != 0) {
        CHECK_INT_EQ (errno, EINVAL);
        test_close_zero_linger (xpub);
        return;
    }
    test_bind_any (xpub, transport, ep);
    void *xsub = new_socket (ctx, ZMQ_XSUB);
    test_set_int (xsub, ZMQ_ONLY_FIRST_SUBSCRIBE, 1);
    CHECK_OK (zmq_connect (xsub, ep));
    //  A SUB does not take the option.
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    CHECK (sub);
    CHECK_ERRNO (
      zmq_setsockopt (sub, ZMQ_ONLY_FIRST_SUBSCRIBE, &one, sizeof one), EINVAL);
    test_close_zero_linger (sub);

    //  First frame a subscription: every frame is one.
    test_send_bytes (xsub, "\1A", 2, ZMQ_SNDMORE);
    test_send_bytes (xsub, "\1B", 2, 0);
    expect_notice (xpub, 1, "A");
    expect_notice (xpub, 1, "B");
    //  First frame user data: the rest is user data too.
    test_send_bytes (xsub, "u", 1, ZMQ_SNDMORE);
    test_send_bytes (xsub, "\1C", 2, 0);
    test_recv_bytes (xpub, "u", 1, 1);
    test_recv_bytes (xpub, "\1C", 2, 0);
    CHECK_NOTHING_WITHIN (xpub, 0);

    SEND_STR (xpub, "C1", 0);
    SEND_STR (xpub, "A1", 0);
    SEND_STR (xpub, "C2", 0);
    SEND_STR (xpub, "B1", 0);
    RECV_STR (xsub, "A1", 0);
    RECV_STR (xsub, "B1", 0);
    CHECK_NOTHING_WITHIN (xsub, 0);
    test_close_zero_linger (xsub);
    test_close_zero_linger (xpub);
}

static void test_manual_last_value (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    int one = 1;
    if (zmq_setsockopt (xpub, ZMQ_XPUB_MANUAL_LAST_VALUE, &one, sizeof one)
        != 0) {
        CHECK_INT_EQ (errno, EINVAL);
        test_close_zero_linger (xpub);
        return;
    }
    test_bind_any (xpub, transport, ep);
    void *xsub1 = connected (ctx, ZMQ_XSUB, ep);
    xsub_send (xsub1, 1, "A");
    expect_notice (xpub, 1, "A");
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "B", 1));
    SEND_STR (xpub, "A", 0);
    SEND_STR (xpub, "B", 0);
    RECV_STR (xsub1, "B", 0);

    //  A second peer subscribes to "B": the next "B" is its alone (the last
    //  value for the newcomer), the one after goes to both.
    void *xsub2 = connected (ctx, ZMQ_XSUB, ep);
    xsub_send (xsub2, 1, "B");
    expect_notice (xpub, 1, "B");
    CHECK_OK (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "B", 1));
    SEND_STR (xpub, "B-last", 0);
    SEND_STR (xpub, "B-all", 0);
    RECV_STR (xsub2, "B-last", 0);
    RECV_STR (xsub2, "B-all", 0);
    RECV_STR (xsub1, "B-all", 0);
    CHECK_NOTHING_WITHIN (xsub1, 0);
    CHECK_NOTHING_WITHIN (xsub2, 0);
    test_close_zero_linger (xsub1);
    test_close_zero_linger (xsub2);
    test_close_zero_linger (xpub);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++) {
        const char *tr = test_transports[t];
        test_notifications (ctx, tr);
        test_duplicates (ctx, tr);
        test_peer_goes_away (ctx, tr);
        test_verbose (ctx, tr);
        test_verboser (ctx, tr);
        test_manual (ctx, tr);
        test_welcome (ctx, tr);
        test_xsub_with_pub (ctx, tr);
        test_xsub_with_xpub (ctx, tr);
        test_only_first_subscribe (ctx, tr);
        test_manual_last_value (ctx, tr);
        if (strcmp (tr, "inproc") != 0)
            test_nodrop_wire (ctx, tr);
    }
    test_nodrop_inproc (ctx, 1);
    test_nodrop_inproc (ctx, 0);
    test_options (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
