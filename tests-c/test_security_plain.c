/* The PLAIN security mechanism (RFC 24) with a ZAP handler (RFC 27).
 *
 * Pins (observed on libzmq 4.3.4):
 *  - options: ZMQ_MECHANISM is ZMQ_NULL (0) and ZMQ_PLAIN_SERVER 0 on a
 *    fresh socket, ZMQ_PLAIN_USERNAME/PASSWORD "" (size 1); setting a
 *    username or password makes the socket a PLAIN client (MECHANISM
 *    ZMQ_PLAIN, PLAIN_SERVER 0, even after PLAIN_SERVER 1); they read back
 *    NUL-terminated (size length + 1), and a buffer too small for them fails
 *    with EINVAL; NULL/0 switches the mechanism back to NULL but keeps the
 *    stored value; a non-NULL empty value or more than 255 bytes fails with
 *    EINVAL; PLAIN_SERVER 1 makes a PLAIN server, 0 makes it NULL again, 2
 *    fails with EINVAL;
 *  - good credentials: the handler gets one 8-frame request: "1.0", request
 *    id "1", the server's ZMQ_ZAP_DOMAIN, the client address "127.0.0.1", the
 *    server socket's own ZMQ_ROUTING_ID, "PLAIN", the username, the password;
 *    its 200 reply lets messages flow both ways; messages the server receives
 *    carry the reply's user id as "User-Id" (zmq_msg_gets), the client's do
 *    not (EINVAL); each side reports HANDSHAKE_SUCCEEDED; ZMQ_MECHANISM is
 *    ZMQ_PLAIN on both;
 *  - wrong password: the handler's 400 gives HANDSHAKE_FAILED_AUTH with value
 *    400 on the server and (from the ERROR command) on the client, then
 *    DISCONNECTED on both; nothing is delivered; the client does not
 *    reconnect (a single ZAP request);
 *  - a NULL client: HANDSHAKE_FAILED_PROTOCOL
 *    ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH on both sides, no ZAP request,
 *    no reconnect;
 *  - no ZAP handler bound: the server reports HANDSHAKE_FAILED_NO_DETAIL with
 *    value EFAULT, nothing is delivered; (unmonitored) it drops the
 *    connection: the client reports HANDSHAKE_FAILED_NO_DETAIL (EPIPE: the
 *    peer closed) and DISCONNECTED, and keeps reconnecting and failing. */
#include "testutil.h"

#define USERNAME "admin"
#define PASSWORD "secret"
#define USER_ID "admin-id"
#define DOMAIN "plain-domain"
#define SERVER_ROUTING_ID "SRV"

static void plain_policy (const test_zap_request_t *req,
                          test_zap_reply_t *reply, void *arg)
{
    (void) arg;
    if (req->credential_count == 2 && req->credential_sizes[0] == 5
        && memcmp (req->credentials[0], USERNAME, 5) == 0
        && req->credential_sizes[1] == 6
        && memcmp (req->credentials[1], PASSWORD, 6) == 0) {
        reply->status_code = "200";
        reply->status_text = "OK";
        reply->user_id = USER_ID;
    } else {
        reply->status_code = "400";
        reply->status_text = "Invalid username or password";
    }
}

static void test_options (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (s);
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_NULL);
    CHECK_INT_EQ (test_get_int (s, ZMQ_PLAIN_SERVER), 0);
    test_check_string_option (s, ZMQ_PLAIN_USERNAME, "");
    test_check_string_option (s, ZMQ_PLAIN_PASSWORD, "");

    //  A username makes a PLAIN client.
    CHECK_OK (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, USERNAME, 5));
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_PLAIN);
    CHECK_INT_EQ (test_get_int (s, ZMQ_PLAIN_SERVER), 0);
    test_check_string_option (s, ZMQ_PLAIN_USERNAME, USERNAME);
    char small[3];
    size_t size = sizeof small;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_PLAIN_USERNAME, small, &size), EINVAL);

    //  NULL/0 goes back to NULL; the value stays.
    CHECK_OK (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, NULL, 0));
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_NULL);
    test_check_string_option (s, ZMQ_PLAIN_USERNAME, USERNAME);
    CHECK_OK (zmq_setsockopt (s, ZMQ_PLAIN_PASSWORD, PASSWORD, 6));
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_PLAIN);
    test_check_string_option (s, ZMQ_PLAIN_PASSWORD, PASSWORD);
    CHECK_OK (zmq_setsockopt (s, ZMQ_PLAIN_PASSWORD, NULL, 0));
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_NULL);

    //  Sizes: empty (non-NULL) and over 255 bytes are refused.
    char big[256];
    memset (big, 'u', sizeof big);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, "", 0), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, big, 256), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_PLAIN_PASSWORD, big, 256), EINVAL);
    CHECK_OK (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, big, 255));
    char back[300];
    size = sizeof back;
    CHECK_OK (zmq_getsockopt (s, ZMQ_PLAIN_USERNAME, back, &size));
    CHECK_INT_EQ (size, 256);

    //  PLAIN_SERVER: 1 makes a server, a username makes it a client again,
    //  0 goes back to NULL, other values are refused.
    test_set_int (s, ZMQ_PLAIN_SERVER, 1);
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_PLAIN);
    CHECK_INT_EQ (test_get_int (s, ZMQ_PLAIN_SERVER), 1);
    CHECK_OK (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, USERNAME, 5));
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_PLAIN);
    CHECK_INT_EQ (test_get_int (s, ZMQ_PLAIN_SERVER), 0);
    test_set_int (s, ZMQ_PLAIN_SERVER, 1);
    test_set_int (s, ZMQ_PLAIN_SERVER, 0);
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_NULL);
    CHECK_INT_EQ (test_get_int (s, ZMQ_PLAIN_SERVER), 0);
    int two = 2;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_PLAIN_SERVER, &two, sizeof two),
                 EINVAL);
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_NULL);
    test_close_zero_linger (s);
}

/* A PLAIN server DEALER bound on tcp with a handshake monitor. */
static void *new_server (void *ctx, void **mon, char *ep)
{
    void *server = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (server);
    test_set_int (server, ZMQ_RCVTIMEO, 5000);
    test_set_int (server, ZMQ_PLAIN_SERVER, 1);
    CHECK_OK (zmq_setsockopt (server, ZMQ_ZAP_DOMAIN, DOMAIN, strlen (DOMAIN)));
    CHECK_OK (zmq_setsockopt (server, ZMQ_ROUTING_ID, SERVER_ROUTING_ID,
                              strlen (SERVER_ROUTING_ID)));
    *mon = test_monitor (ctx, server, "inproc://plain-server-mon",
                         TEST_HANDSHAKE_EVENTS);
    test_bind_any (server, "tcp", ep);
    return server;
}

/* A client DEALER with the given credentials (NULL: the NULL mechanism),
 * reconnecting quickly, with a handshake monitor. */
static void *new_client (void *ctx, const char *user, const char *pass,
                         void **mon, const char *ep)
{
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (client);
    test_set_int (client, ZMQ_RCVTIMEO, 5000);
    test_set_int (client, ZMQ_RECONNECT_IVL, 20);
    if (user) {
        CHECK_OK (zmq_setsockopt (client, ZMQ_PLAIN_USERNAME, user,
                                  strlen (user)));
        CHECK_OK (zmq_setsockopt (client, ZMQ_PLAIN_PASSWORD, pass,
                                  strlen (pass)));
    }
    static int seq = 0;
    char name[64];
    snprintf (name, sizeof name, "inproc://plain-client-mon-%d", ++seq);
    *mon = test_monitor (ctx, client, name, TEST_HANDSHAKE_EVENTS);
    CHECK_OK (zmq_connect (client, ep));
    return client;
}

/* One case: a context with the ZAP handler, a monitored PLAIN server and a
 * monitored client with the given credentials (NULL: the NULL mechanism). */
typedef struct
{
    void *ctx;
    test_zap_t zap;
    void *server, *smon;
    void *client, *cmon;
    char ep[TEST_ENDPOINT_MAX];
} fixture_t;

static void setup (fixture_t *f, const char *user, const char *pass)
{
    f->ctx = zmq_ctx_new ();
    CHECK (f->ctx);
    test_zap_start (&f->zap, f->ctx, plain_policy, NULL);
    f->server = new_server (f->ctx, &f->smon, f->ep);
    f->client = new_client (f->ctx, user, pass, &f->cmon, f->ep);
}

static void teardown (fixture_t *f)
{
    test_close_zero_linger (f->client);
    test_close_zero_linger (f->server);
    test_close_zero_linger (f->smon);
    test_close_zero_linger (f->cmon);
    test_zap_stop (&f->zap);
    CHECK_OK (zmq_ctx_term (f->ctx));
}

static void test_good_credentials (void)
{
    fixture_t f;
    setup (&f, USERNAME, PASSWORD);

    for (int i = 0; i < 3; i++) {
        SEND_STR (f.client, "ping", 0);
        test_recv_with_user_id (f.server, "ping", 4, 0, USER_ID);
        SEND_STR (f.server, "pong", 0);
        test_recv_with_user_id (f.client, "pong", 4, 0, NULL);
    }
    CHECK_INT_EQ (test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f.ep),
                  0);
    CHECK_INT_EQ (test_expect_event (f.cmon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f.ep),
                  0);
    CHECK_INT_EQ (test_get_int (f.server, ZMQ_MECHANISM), ZMQ_PLAIN);
    CHECK_INT_EQ (test_get_int (f.client, ZMQ_MECHANISM), ZMQ_PLAIN);
    CHECK_INT_EQ (test_get_int (f.server, ZMQ_PLAIN_SERVER), 1);
    CHECK_INT_EQ (test_get_int (f.client, ZMQ_PLAIN_SERVER), 0);

    //  The request, frame by frame.
    CHECK_INT_EQ (test_zap_requests (&f.zap), 1);
    test_zap_request_t req;
    test_zap_last (&f.zap, &req);
    CHECK_INT_EQ (req.frame_count, 8);
    CHECK_STR_EQ (req.version, "1.0");
    CHECK_STR_EQ (req.request_id, "1");
    CHECK_STR_EQ (req.domain, DOMAIN);
    CHECK_STR_EQ (req.address, "127.0.0.1");
    //  Observed on 4.3.4: the routing id frame is the server socket's own
    //  ZMQ_ROUTING_ID, not the client's.
    CHECK_INT_EQ (req.routing_id_size, strlen (SERVER_ROUTING_ID));
    CHECK_STR_EQ (req.routing_id, SERVER_ROUTING_ID);
    CHECK_STR_EQ (req.mechanism, "PLAIN");
    CHECK_INT_EQ (req.credential_count, 2);
    CHECK_INT_EQ (req.credential_sizes[0], 5);
    CHECK_STR_EQ ((const char *) req.credentials[0], USERNAME);
    CHECK_INT_EQ (req.credential_sizes[1], 6);
    CHECK_STR_EQ ((const char *) req.credentials[1], PASSWORD);

    teardown (&f);
}

static void test_wrong_password (void)
{
    fixture_t f;
    setup (&f, USERNAME, "wrong");
    test_send_unless_refused (f.client, "ping");

    CHECK_INT_EQ (
      test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, f.ep), 400);
    test_expect_event (f.smon, ZMQ_EVENT_DISCONNECTED, f.ep);
    CHECK_INT_EQ (
      test_expect_event (f.cmon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, f.ep), 400);
    test_expect_event (f.cmon, ZMQ_EVENT_DISCONNECTED, f.ep);
    CHECK_NOTHING_WITHIN (f.server, 300);
    //  Observed on 4.3.4: an authentication failure ends the session, so
    //  the client does not reconnect (RECONNECT_IVL is 20 ms).
    CHECK_NOTHING_WITHIN (f.smon, 0);
    CHECK_NOTHING_WITHIN (f.cmon, 0);
    CHECK_INT_EQ (test_zap_requests (&f.zap), 1);
    test_zap_request_t req;
    test_zap_last (&f.zap, &req);
    CHECK_STR_EQ ((const char *) req.credentials[1], "wrong");

    teardown (&f);
}

static void test_null_client (void)
{
    fixture_t f;
    setup (&f, NULL, NULL);
    test_send_unless_refused (f.client, "ping");

    CHECK_INT_EQ (
      test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, f.ep),
      ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    test_expect_event (f.smon, ZMQ_EVENT_DISCONNECTED, f.ep);
    CHECK_INT_EQ (
      test_expect_event (f.cmon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, f.ep),
      ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    test_expect_event (f.cmon, ZMQ_EVENT_DISCONNECTED, f.ep);
    CHECK_NOTHING_WITHIN (f.server, 300);
    CHECK_NOTHING_WITHIN (f.smon, 0);
    CHECK_NOTHING_WITHIN (f.cmon, 0);
    CHECK_INT_EQ (test_zap_requests (&f.zap), 0);

    teardown (&f);
}

static void test_no_handler (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *smon, *cmon;
    char ep[TEST_ENDPOINT_MAX];
    void *server = new_server (ctx, &smon, ep);
    void *client = new_client (ctx, USERNAME, PASSWORD, &cmon, ep);
    test_send_unless_refused (client, "ping");
    //  The server cannot reach a handler.
    CHECK_INT_EQ (
      test_expect_event (smon, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, ep),
      EFAULT);
    CHECK_NOTHING_WITHIN (server, 100);
    test_close_zero_linger (client);
    test_close_zero_linger (server);
    test_close_zero_linger (smon);
    test_close_zero_linger (cmon);
    CHECK_OK (zmq_ctx_term (ctx));

    //  Observed on 4.3.4: when that event goes to a monitor, sending it may
    //  leave errno EAGAIN and libzmq's engine then stalls instead of closing
    //  the connection; so the close is checked with the server unmonitored.
    //  The client sees the connection close and tries again, and fails the
    //  same way.
    ctx = zmq_ctx_new ();
    CHECK (ctx);
    server = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (server);
    test_set_int (server, ZMQ_PLAIN_SERVER, 1);
    test_bind_any (server, "tcp", ep);
    client = new_client (ctx, USERNAME, PASSWORD, &cmon, ep);
    test_send_unless_refused (client, "ping");
    for (int i = 0; i < 2; i++)
        TEST_EXPECT_CLOSED_BY_PEER (cmon, ep);
    CHECK_NOTHING_WITHIN (server, 0);
    test_close_zero_linger (client);
    test_close_zero_linger (server);
    test_close_zero_linger (cmon);
    CHECK_OK (zmq_ctx_term (ctx));
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_options (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    test_good_credentials ();
    test_wrong_password ();
    test_null_client ();
    test_no_handler ();
    TEST_PASS ();
}
