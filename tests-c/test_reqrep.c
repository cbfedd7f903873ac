/* REQ/REP request-reply semantics (RFC 28), plus ZMQ_REQ_CORRELATE and
 * ZMQ_REQ_RELAXED.
 *
 * Pins:
 *  - REQ/REP round trips (single and multipart, empty frames) over inproc,
 *    tcp and ipc;
 *  - state machine: REQ recv before any send -> EFSM; REQ second send
 *    before the reply -> EFSM (and the reply still arrives afterwards); REP
 *    send before recv -> EFSM; REP recv while a reply is owed -> EFSM;
 *    REQ with no peer: send ZMQ_DONTWAIT -> EAGAIN and the REQ stays in the
 *    "may send" state (recv still EFSM); REP with no peer: recv DONTWAIT ->
 *    EAGAIN; a REQ may keep sending the parts of a multipart request, but
 *    not a new request after its last part (EFSM); a REP that has read only
 *    the first part of a request cannot send (EFSM), and one that has sent
 *    only the first part of its reply cannot recv (EFSM);
 *  - one REP serving several REQs routes each reply back to its requester;
 *  - a REQ connected to several REPs sends requests round-robin in
 *    connection order (the pipes exist at connect time, even over tcp);
 *  - envelopes: a ROUTER sees [routing id]["" delimiter][body...] from a
 *    REQ; a reply lacking the empty delimiter is skipped by the REQ over
 *    inproc (the next well-formed one is taken) but over tcp/ipc it makes
 *    the REQ drop the connection (losing what followed) without ever
 *    reconnecting (its pipe goes away: a relaxed send then fails with
 *    EAGAIN, and that failed send still abandoned the outstanding request,
 *    so recv -> EFSM); REP hides the envelope: a DEALER must send an
 *    empty delimiter (a message without one is silently dropped), and the
 *    whole envelope (several hops + delimiter) is echoed before the reply;
 *  - ZMQ_REQ_CORRELATE: the REQ prefixes a 4-byte request id frame before
 *    the delimiter, incrementing by one per request (in host byte order);
 *    replies carrying another id are dropped;
 *  - ZMQ_REQ_RELAXED: a second send is allowed; only the reply to the last
 *    request is received (stale replies from the earlier peer are dropped);
 *    the earlier pipe stays usable (round-robin continues with it); with
 *    CORRELATE, a stale reply on the same pipe is dropped too, including
 *    when both requests were queued before the server bound (tcp);
 *  - ZMQ_REQ_CORRELATE / ZMQ_REQ_RELAXED on a non-REQ socket -> EINVAL. */
#include "testutil.h"

#include <stdint.h>

static void test_round_trips (void *ctx, const char *transport)
{
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (rep && req);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (rep, transport, ep);
    CHECK_OK (zmq_connect (req, ep));

    for (int i = 0; i < 10; i++) {
        char q[16], a[16];
        snprintf (q, sizeof q, "q%d", i);
        snprintf (a, sizeof a, "a%d", i);
        SEND_STR (req, q, 0);
        RECV_STR (rep, q, 0);
        SEND_STR (rep, a, 0);
        RECV_STR (req, a, 0);
    }

    //  Multipart request and reply, with empty frames in the body.
    SEND_STR (req, "1", ZMQ_SNDMORE);
    SEND_STR (req, "", ZMQ_SNDMORE);
    SEND_STR (req, "3", 0);
    RECV_STR (rep, "1", 1);
    RECV_STR (rep, "", 1);
    RECV_STR (rep, "3", 0);
    SEND_STR (rep, "", ZMQ_SNDMORE);
    SEND_STR (rep, "B", 0);
    RECV_STR (req, "", 1);
    RECV_STR (req, "B", 0);

    //  Empty request and reply.
    CHECK_INT_EQ (zmq_send (req, NULL, 0, 0), 0);
    RECV_STR (rep, "", 0);
    CHECK_INT_EQ (zmq_send (rep, NULL, 0, 0), 0);
    RECV_STR (req, "", 0);

    test_close_zero_linger (req);
    test_close_zero_linger (rep);
}

static void test_state_machine (void *ctx)
{
    char buf[16];
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (rep && req);

    //  Lone sockets.
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, 0), EFSM);
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    CHECK_ERRNO (zmq_send (rep, "x", 1, 0), EFSM);
    CHECK_ERRNO (zmq_send (rep, "x", 1, ZMQ_DONTWAIT), EFSM);
    //  A REQ with no peer cannot send; that does not change its state.
    CHECK_ERRNO (zmq_send (req, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    //  A REP with no peer has nothing to receive.
    CHECK_ERRNO (zmq_recv (rep, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_send (rep, "x", 1, ZMQ_DONTWAIT), EFSM);

    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (rep, "inproc", ep);
    CHECK_OK (zmq_connect (req, ep));

    SEND_STR (req, "first", 0);
    CHECK_ERRNO (zmq_send (req, "second", 6, 0), EFSM);
    CHECK_ERRNO (zmq_send (req, "second", 6, ZMQ_DONTWAIT), EFSM);
    RECV_STR (rep, "first", 0);
    CHECK_ERRNO (zmq_recv (rep, buf, sizeof buf, 0), EFSM);
    CHECK_ERRNO (zmq_recv (rep, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    SEND_STR (rep, "reply", 0);
    CHECK_ERRNO (zmq_send (rep, "again", 5, 0), EFSM);
    RECV_STR (req, "reply", 0);
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);

    //  In the middle of a multipart request the REQ may keep sending.
    SEND_STR (req, "p1", ZMQ_SNDMORE);
    SEND_STR (req, "p2", 0);
    CHECK_ERRNO (zmq_send (req, "p3", 2, 0), EFSM);
    RECV_STR (rep, "p1", 1);
    CHECK_ERRNO (zmq_send (rep, "r", 1, 0), EFSM);
    RECV_STR (rep, "p2", 0);
    SEND_STR (rep, "r1", ZMQ_SNDMORE);
    CHECK_ERRNO (zmq_recv (rep, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    SEND_STR (rep, "r2", 0);
    RECV_STR (req, "r1", 1);
    RECV_STR (req, "r2", 0);

    //  The option does not exist on other socket types.
    int one = 1;
    CHECK_ERRNO (zmq_setsockopt (rep, ZMQ_REQ_CORRELATE, &one, sizeof one),
                 EINVAL);
    CHECK_ERRNO (zmq_setsockopt (rep, ZMQ_REQ_RELAXED, &one, sizeof one),
                 EINVAL);

    test_close_zero_linger (req);
    test_close_zero_linger (rep);
}

static void test_rep_serves_many (void *ctx, const char *transport)
{
    enum { N = 4 };
    void *rep = zmq_socket (ctx, ZMQ_REP);
    CHECK (rep);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (rep, transport, ep);
    void *reqs[N];
    for (int i = 0; i < N; i++) {
        reqs[i] = zmq_socket (ctx, ZMQ_REQ);
        CHECK (reqs[i]);
        CHECK_OK (zmq_connect (reqs[i], ep));
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            char q[16];
            snprintf (q, sizeof q, "%d", i);
            SEND_STR (reqs[i], q, 0);
        }
        //  Answer each request (in whatever order they come) with a reply
        //  derived from its content.
        int seen = 0;
        for (int k = 0; k < N; k++) {
            char buf[16];
            int n = zmq_recv (rep, buf, sizeof buf - 1, 0);
            CHECK_INT_EQ (n, 1);
            buf[n] = '\0';
            int who = buf[0] - '0';
            CHECK (who >= 0 && who < N);
            CHECK (!(seen & (1 << who)));
            seen |= 1 << who;
            char a[16];
            snprintf (a, sizeof a, "for-%d", who);
            SEND_STR (rep, a, 0);
        }
        for (int i = 0; i < N; i++) {
            char a[16];
            snprintf (a, sizeof a, "for-%d", i);
            RECV_STR (reqs[i], a, 0);
        }
    }
    for (int i = 0; i < N; i++)
        test_close_zero_linger (reqs[i]);
    test_close_zero_linger (rep);
}

static void test_req_round_robin (void *ctx, const char *transport)
{
    enum { N = 3 };
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (req);
    void *reps[N];
    for (int i = 0; i < N; i++) {
        reps[i] = zmq_socket (ctx, ZMQ_REP);
        CHECK (reps[i]);
        char ep[TEST_ENDPOINT_MAX];
        test_bind_any (reps[i], transport, ep);
        CHECK_OK (zmq_connect (req, ep));
    }
    for (int k = 0; k < 3 * N; k++) {
        char q[16];
        snprintf (q, sizeof q, "req%d", k);
        SEND_STR (req, q, 0);
        RECV_STR (reps[k % N], q, 0);
        SEND_STR (reps[k % N], q, 0);
        RECV_STR (req, q, 0);
    }
    for (int i = 0; i < N; i++)
        test_close_zero_linger (reps[i]);
    test_close_zero_linger (req);
}

/* Receives one frame of exactly size bytes into buf. */
static void recv_frame (void *s, void *buf, size_t cap, int size, int more)
{
    int n = zmq_recv (s, buf, cap, 0);
    CHECK_INT_EQ (n, size);
    CHECK_INT_EQ (test_get_int (s, ZMQ_RCVMORE), more);
}

static void test_envelopes (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    char rid[256];
    int rid_len;

    //  REQ -> ROUTER: [rid][""][body]; the ROUTER must echo the delimiter.
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (router && req);
    test_bind_any (router, transport, ep);
    CHECK_OK (zmq_connect (req, ep));
    SEND_STR (req, "body1", ZMQ_SNDMORE);
    SEND_STR (req, "body2", 0);
    rid_len = zmq_recv (router, rid, sizeof rid, 0);
    CHECK (rid_len > 0);
    CHECK_INT_EQ (test_get_int (router, ZMQ_RCVMORE), 1);
    RECV_STR (router, "", 1);
    RECV_STR (router, "body1", 1);
    RECV_STR (router, "body2", 0);

    CHECK_INT_EQ (zmq_send (router, rid, rid_len, ZMQ_SNDMORE), rid_len);
    SEND_STR (router, "", ZMQ_SNDMORE);
    SEND_STR (router, "reply1", ZMQ_SNDMORE);
    SEND_STR (router, "reply2", 0);
    RECV_STR (req, "reply1", 1);
    RECV_STR (req, "reply2", 0);
    test_close_zero_linger (req);
    test_close_zero_linger (router);

    //  DEALER -> REP: the DEALER provides the delimiter.
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (rep && dealer);
    test_bind_any (rep, transport, ep);
    CHECK_OK (zmq_connect (dealer, ep));

    //  No delimiter at all: dropped.
    SEND_STR (dealer, "no-delimiter", 0);
    SEND_STR (dealer, "still", ZMQ_SNDMORE);
    SEND_STR (dealer, "none", 0);
    //  Proper request.
    SEND_STR (dealer, "", ZMQ_SNDMORE);
    SEND_STR (dealer, "request", 0);
    RECV_STR (rep, "request", 0);
    SEND_STR (rep, "reply", 0);
    RECV_STR (dealer, "", 1);
    RECV_STR (dealer, "reply", 0);

    //  A multi-hop envelope is returned intact ahead of the reply.
    SEND_STR (dealer, "hop1", ZMQ_SNDMORE);
    SEND_STR (dealer, "hop2", ZMQ_SNDMORE);
    SEND_STR (dealer, "", ZMQ_SNDMORE);
    SEND_STR (dealer, "q1", ZMQ_SNDMORE);
    SEND_STR (dealer, "q2", 0);
    RECV_STR (rep, "q1", 1);
    RECV_STR (rep, "q2", 0);
    SEND_STR (rep, "r1", ZMQ_SNDMORE);
    SEND_STR (rep, "r2", 0);
    RECV_STR (dealer, "hop1", 1);
    RECV_STR (dealer, "hop2", 1);
    RECV_STR (dealer, "", 1);
    RECV_STR (dealer, "r1", 1);
    RECV_STR (dealer, "r2", 0);

    //  Nothing else came through.
    CHECK_ERRNO (zmq_recv (rep, rid, sizeof rid, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_recv (dealer, rid, sizeof rid, ZMQ_DONTWAIT), EAGAIN);

    test_close_zero_linger (dealer);
    test_close_zero_linger (rep);
}

/* A reply without the empty delimiter.  Over inproc the REQ skips it and
 * takes the next well-formed reply.  Over tcp and ipc the REQ's session
 * rejects it as a protocol error: the connection is dropped (with whatever
 * followed it, so the good reply is lost) and, being a protocol error, it is
 * NOT re-established: the REQ ends up with no pipe (send -> EAGAIN). */
static void test_malformed_reply (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    char rid[256], rid2[256];
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (router && req);
    test_set_int (req, ZMQ_REQ_RELAXED, 1);
    test_set_int (req, ZMQ_RECONNECT_IVL, 10);
    test_bind_any (router, transport, ep);
    CHECK_OK (zmq_connect (req, ep));

    SEND_STR (req, "question", 0);
    int rid_len = zmq_recv (router, rid, sizeof rid, 0);
    CHECK (rid_len > 0);
    RECV_STR (router, "", 1);
    RECV_STR (router, "question", 0);

    CHECK_INT_EQ (zmq_send (router, rid, rid_len, ZMQ_SNDMORE), rid_len);
    SEND_STR (router, "malformed", 0);
    CHECK_INT_EQ (zmq_send (router, rid, rid_len, ZMQ_SNDMORE), rid_len);
    SEND_STR (router, "", ZMQ_SNDMORE);
    SEND_STR (router, "good", 0);

    if (strcmp (transport, "inproc") == 0) {
        RECV_STR (req, "good", 0);
        SEND_STR (req, "again", 0);
        CHECK_INT_EQ (zmq_recv (router, rid2, sizeof rid2, 0), rid_len);
        CHECK (memcmp (rid, rid2, rid_len) == 0);
    } else {
        CHECK_NOTHING_WITHIN (req, 250);
        //  The session is gone for good (a protocol error is not followed
        //  by a reconnect): soon the REQ has no pipe left to send on.
        int64_t deadline = test_now_ms () + 5000;
        while (zmq_send (req, "again", 5, ZMQ_DONTWAIT) == 5) {
            CHECK (test_now_ms () < deadline);
            test_sleep_ms (5);
        }
        CHECK_INT_EQ (errno, EAGAIN);
        CHECK_NOTHING_WITHIN (router, 100);
        //  The failed relaxed send still abandoned the outstanding request.
        char buf[16];
        CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
        test_close_zero_linger (req);
        test_close_zero_linger (router);
        return;
    }
    RECV_STR (router, "", 1);
    RECV_STR (router, "again", 0);

    test_close_zero_linger (req);
    test_close_zero_linger (router);
}

static void test_correlate (void *ctx, const char *transport)
{
    char ep[TEST_ENDPOINT_MAX];
    char rid[256];
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (router && req);
    test_set_int (req, ZMQ_REQ_CORRELATE, 1);
    test_bind_any (router, transport, ep);
    CHECK_OK (zmq_connect (req, ep));

    uint32_t prev_id = 0;
    for (int k = 0; k < 3; k++) {
        SEND_STR (req, "ask", 0);
        int rid_len = zmq_recv (router, rid, sizeof rid, 0);
        CHECK (rid_len > 0);
        CHECK_INT_EQ (test_get_int (router, ZMQ_RCVMORE), 1);
        uint32_t id;
        recv_frame (router, &id, sizeof id, 4, 1);
        if (k > 0)
            CHECK (id == prev_id + 1);
        prev_id = id;
        RECV_STR (router, "", 1);
        RECV_STR (router, "ask", 0);

        //  A reply with a wrong id is dropped, then the right one passes.
        uint32_t wrong = id + 1000;
        CHECK_INT_EQ (zmq_send (router, rid, rid_len, ZMQ_SNDMORE), rid_len);
        CHECK_INT_EQ (zmq_send (router, &wrong, 4, ZMQ_SNDMORE), 4);
        SEND_STR (router, "", ZMQ_SNDMORE);
        SEND_STR (router, "wrong", 0);
        CHECK_INT_EQ (zmq_send (router, rid, rid_len, ZMQ_SNDMORE), rid_len);
        CHECK_INT_EQ (zmq_send (router, &id, 4, ZMQ_SNDMORE), 4);
        SEND_STR (router, "", ZMQ_SNDMORE);
        SEND_STR (router, "right", 0);
        RECV_STR (req, "right", 0);
    }
    test_close_zero_linger (req);
    test_close_zero_linger (router);
}

static void test_relaxed (void *ctx, const char *transport)
{
    enum { N = 5 };
    char ep[TEST_ENDPOINT_MAX];
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (req);
    test_set_int (req, ZMQ_REQ_RELAXED, 1);
    test_set_int (req, ZMQ_REQ_CORRELATE, 1);
    void *reps[N];
    for (int i = 0; i < N; i++) {
        reps[i] = zmq_socket (ctx, ZMQ_REP);
        CHECK (reps[i]);
        test_bind_any (reps[i], transport, ep);
        CHECK_OK (zmq_connect (req, ep));
    }

    //  Second send before any reply: allowed; goes to the next REP.
    SEND_STR (req, "A", ZMQ_SNDMORE);
    SEND_STR (req, "B", 0);
    RECV_STR (reps[0], "A", 1);
    RECV_STR (reps[0], "B", 0);
    SEND_STR (req, "C", ZMQ_SNDMORE);
    SEND_STR (req, "D", 0);
    RECV_STR (reps[1], "C", 1);
    RECV_STR (reps[1], "D", 0);
    //  The reply to the first request is discarded, the second one is read.
    SEND_STR (reps[0], "WRONG", 0);
    SEND_STR (reps[1], "OK", 0);
    RECV_STR (req, "OK", 0);

    //  An ordinary cycle.
    SEND_STR (req, "E", 0);
    RECV_STR (reps[2], "E", 0);
    SEND_STR (reps[2], "F", ZMQ_SNDMORE);
    SEND_STR (reps[2], "G", 0);
    RECV_STR (req, "F", 1);
    RECV_STR (req, "G", 0);

    //  Second send after the first reply already reached the REQ.
    SEND_STR (req, "H", 0);
    RECV_STR (reps[3], "H", 0);
    SEND_STR (reps[3], "BAD", 0);
    CHECK (test_wait_readable (req, 5000));
    SEND_STR (req, "I", 0);
    RECV_STR (reps[4], "I", 0);
    SEND_STR (reps[4], "GOOD", 0);
    RECV_STR (req, "GOOD", 0);

    //  The pipe of the abandoned first request is still in the rotation.
    SEND_STR (req, "J", 0);
    RECV_STR (reps[0], "J", 0);
    SEND_STR (reps[0], "K", 0);
    RECV_STR (req, "K", 0);

    test_close_zero_linger (req);
    for (int i = 0; i < N; i++)
        test_close_zero_linger (reps[i]);
}

/* Two requests queued on the same pipe before the server reads either
 * (over tcp, before the server is even bound): only the reply to the second
 * is delivered. */
static void test_relaxed_queued (void *ctx, int bind_late)
{
    char ep[TEST_ENDPOINT_MAX];
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK (router && req);
    test_set_int (req, ZMQ_REQ_RELAXED, 1);
    test_set_int (req, ZMQ_REQ_CORRELATE, 1);
    test_set_int (req, ZMQ_RECONNECT_IVL, 10);
    if (bind_late)
        test_free_tcp_endpoint (ep);
    else
        test_bind_any (router, "tcp", ep);
    CHECK_OK (zmq_connect (req, ep));
    SEND_STR (req, "TO_BE_DISCARDED", 0);
    SEND_STR (req, "TO_BE_ANSWERED", 0);
    if (bind_late)
        CHECK_OK (zmq_bind (router, ep));

    for (int m = 0; m < 2; m++) {
        //  Echo every frame of one request back.
        int more;
        do {
            zmq_msg_t part;
            CHECK_OK (zmq_msg_init (&part));
            CHECK (zmq_msg_recv (&part, router, 0) >= 0);
            more = zmq_msg_more (&part);
            CHECK (zmq_msg_send (&part, router, more ? ZMQ_SNDMORE : 0) >= 0);
            CHECK_OK (zmq_msg_close (&part));
        } while (more);
    }
    RECV_STR (req, "TO_BE_ANSWERED", 0);
    //  The stale reply never surfaces; the REQ is back in its send state.
    CHECK (!test_wait_readable (req, 100));
    char buf[32];
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);

    test_close_zero_linger (req);
    test_close_zero_linger (router);
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_state_machine (ctx);
    for (int t = 0; t < TEST_TRANSPORT_COUNT; t++) {
        const char *tr = test_transports[t];
        test_round_trips (ctx, tr);
        test_rep_serves_many (ctx, tr);
        test_req_round_robin (ctx, tr);
        test_envelopes (ctx, tr);
        test_malformed_reply (ctx, tr);
        test_correlate (ctx, tr);
        test_relaxed (ctx, tr);
    }
    test_relaxed_queued (ctx, 0);
    test_relaxed_queued (ctx, 1);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
