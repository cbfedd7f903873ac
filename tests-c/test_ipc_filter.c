/* ZMQ_IPC_FILTER_PID / _UID / _GID: peer-credential filters on an ipc
 * listener (Linux SO_PEERCRED).
 *
 * Pins (observed on libzmq 4.3.4):
 *  - the options take a 4-byte int (any value, negative too) that is added
 *    to the set for that kind; NULL/0 clears the set; other sizes and a
 *    non-NULL zero-size value fail with EINVAL; getsockopt of any of them
 *    fails with EINVAL (write-only);
 *  - with no filters every peer is accepted; once any filter is set a peer
 *    is accepted when its uid, gid or pid is in the matching set (one match
 *    of any kind is enough: a wrong uid plus our pid is accepted); otherwise
 *    the listener closes the accepted connection at once: the server's
 *    monitor reports ACCEPT_FAILED (not ACCEPTED; the value is a stale
 *    errno, not checked), the client reports CONNECTED,
 *    HANDSHAKE_FAILED_NO_DETAIL, DISCONNECTED and keeps reconnecting, nothing
 *    is delivered.  (Not covered: libzmq also admits a peer whose user is
 *    listed as a member of a filtered gid's group in the group database);
 *  - the filters are taken when zmq_bind runs: set afterwards they do not
 *    affect that listener; tcp listeners ignore them. */
#include "testutil.h"

#include <grp.h>

#ifndef ZMQ_IPC_FILTER_PID
#define ZMQ_IPC_FILTER_PID 58
#define ZMQ_IPC_FILTER_UID 59
#define ZMQ_IPC_FILTER_GID 60
#endif

#define SERVER_EVENTS                                                          \
    (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_ACCEPT_FAILED                              \
     | ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
#define CLIENT_EVENTS                                                          \
    (ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL                \
     | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED)

typedef struct
{
    int option;
    int value;
} filter_t;

static void test_options (void *ctx)
{
    static const int options[] = {ZMQ_IPC_FILTER_PID, ZMQ_IPC_FILTER_UID,
                                  ZMQ_IPC_FILTER_GID};
    void *s = zmq_socket (ctx, ZMQ_PULL);
    CHECK (s);
    for (int i = 0; i < 3; i++) {
        int v = 0;
        size_t size = sizeof v;
        CHECK_ERRNO (zmq_getsockopt (s, options[i], &v, &size), EINVAL);
        test_set_int (s, options[i], 5);
        test_set_int (s, options[i], -1);
        test_set_int (s, options[i], 0);
        CHECK_ERRNO (zmq_getsockopt (s, options[i], &v, &size), EINVAL);
        int64_t wide = 5;
        CHECK_ERRNO (zmq_setsockopt (s, options[i], &wide, sizeof wide),
                     EINVAL);
        CHECK_ERRNO (zmq_setsockopt (s, options[i], &wide, 2), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (s, options[i], &v, 0), EINVAL);
        CHECK_OK (zmq_setsockopt (s, options[i], NULL, 0));
    }
    test_close_zero_linger (s);
}

/* A gid that names no group (so no one is a member by name) and is not
 * ours. */
static int foreign_gid (void)
{
    for (int gid = 54321; gid < 54421; gid++)
        if (gid != (int) getgid () && getgrgid ((gid_t) gid) == NULL)
            return gid;
    FAIL ("no unused gid found");
}

/* Binds a PULL on ipc with the given filters (set before zmq_bind), connects
 * a PUSH, and checks the outcome: accepted (the message arrives) or
 * refused (the connection is closed at once, again on each retry). */
static void check_filters (const filter_t *filters, int count, int accepted)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *server = zmq_socket (ctx, ZMQ_PULL);
    CHECK (server);
    test_set_int (server, ZMQ_RCVTIMEO, 5000);
    for (int i = 0; i < count; i++)
        test_set_int (server, filters[i].option, filters[i].value);
    void *smon = test_monitor (ctx, server, "inproc://ipc-filter-smon",
                               SERVER_EVENTS);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (server, "ipc", ep);

    void *client = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (client);
    test_set_int (client, ZMQ_RECONNECT_IVL, 20);
    void *cmon = test_monitor (ctx, client, "inproc://ipc-filter-cmon",
                               CLIENT_EVENTS);
    CHECK_OK (zmq_connect (client, ep));
    SEND_STR (client, "hello", 0);

    if (accepted) {
        RECV_STR (server, "hello", 0);
        test_expect_event (smon, ZMQ_EVENT_ACCEPTED, ep);
        test_expect_event (smon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ep);
        test_expect_event (cmon, ZMQ_EVENT_CONNECTED, ep);
        test_expect_event (cmon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ep);
    } else {
        for (int attempt = 0; attempt < 2; attempt++) {
            //  Observed on 4.3.4: the value is whatever errno held (0 here).
            test_expect_event (smon, ZMQ_EVENT_ACCEPT_FAILED, ep);
            test_expect_event (cmon, ZMQ_EVENT_CONNECTED, ep);
            TEST_EXPECT_CLOSED_BY_PEER (cmon, ep);
        }
        CHECK_NOTHING_WITHIN (server, 0);
    }

    test_close_zero_linger (client);
    test_close_zero_linger (server);
    test_close_zero_linger (smon);
    test_close_zero_linger (cmon);
    CHECK_OK (zmq_ctx_term (ctx));
}

static void test_filters (void)
{
    const int uid = (int) getuid (), gid = (int) getgid (),
              pid = (int) getpid ();
    const filter_t own_uid = {ZMQ_IPC_FILTER_UID, uid},
                   own_gid = {ZMQ_IPC_FILTER_GID, gid},
                   own_pid = {ZMQ_IPC_FILTER_PID, pid},
                   other_uid = {ZMQ_IPC_FILTER_UID, uid + 1},
                   other_gid = {ZMQ_IPC_FILTER_GID, foreign_gid ()},
                   other_pid = {ZMQ_IPC_FILTER_PID, pid + 1};

    check_filters (NULL, 0, 1);
    check_filters (&own_uid, 1, 1);
    check_filters (&own_gid, 1, 1);
    check_filters (&own_pid, 1, 1);
    check_filters (&other_uid, 1, 0);
    check_filters (&other_gid, 1, 0);
    check_filters (&other_pid, 1, 0);

    //  One match of any kind is enough.
    const filter_t uid_set[] = {other_uid, own_uid};
    check_filters (uid_set, 2, 1);
    const filter_t mixed[] = {other_uid, own_pid};
    check_filters (mixed, 2, 1);
    const filter_t none_match[] = {other_uid, other_gid, other_pid};
    check_filters (none_match, 3, 0);
}

/* NULL/0 clears a set; filters set after zmq_bind and tcp listeners. */
static void test_clear (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *server = zmq_socket (ctx, ZMQ_PULL);
    CHECK (server);
    test_set_int (server, ZMQ_RCVTIMEO, 5000);
    test_set_int (server, ZMQ_IPC_FILTER_UID, (int) getuid () + 1);
    CHECK_OK (zmq_setsockopt (server, ZMQ_IPC_FILTER_UID, NULL, 0));
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (server, "ipc", ep);
    void *client = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (client);
    CHECK_OK (zmq_connect (client, ep));
    SEND_STR (client, "cleared", 0);
    RECV_STR (server, "cleared", 0);

    //  Set after the bind: that listener is unaffected.
    test_set_int (server, ZMQ_IPC_FILTER_UID, (int) getuid () + 1);
    void *late = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (late);
    CHECK_OK (zmq_connect (late, ep));
    SEND_STR (late, "late", 0);
    RECV_STR (server, "late", 0);

    //  A tcp listener ignores the filters.
    test_bind_any (server, "tcp", ep);
    void *tcp = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (tcp);
    CHECK_OK (zmq_connect (tcp, ep));
    SEND_STR (tcp, "tcp", 0);
    RECV_STR (server, "tcp", 0);

    test_close_zero_linger (client);
    test_close_zero_linger (late);
    test_close_zero_linger (tcp);
    test_close_zero_linger (server);
    CHECK_OK (zmq_ctx_term (ctx));
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_options (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    test_filters ();
    test_clear ();
    TEST_PASS ();
}
