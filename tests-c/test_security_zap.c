/* ZAP (RFC 27) on the NULL mechanism: when the handler is asked, what it is
 * told, and what each kind of reply does.
 *
 * Pins (observed on libzmq 4.3.4):
 *  - with ZMQ_ZAP_DOMAIN set, a NULL server asks the handler at
 *    inproc://zeromq.zap.01 once per connection: six frames, "1.0", request
 *    id "1" (every connection), the domain, the address ("127.0.0.1" over
 *    tcp; over ipc "localhost:UID:GID:PID" of the peer process), the server
 *    socket's own ZMQ_ROUTING_ID, "NULL", and no credential frames;
 *  - a 200 reply lets the connection up (HANDSHAKE_SUCCEEDED on both sides);
 *    the reply's user id is the messages' "User-Id" and its metadata
 *    properties are message properties too (zmq_msg_gets);
 *  - without a domain the handler is not asked (even when bound, and even
 *    with ZMQ_ZAP_ENFORCE_DOMAIN); with a domain and no handler bound the
 *    connection is allowed (ZMQ_ZAP_ENFORCE_DOMAIN 0, the default);
 *  - 400 and 500: HANDSHAKE_FAILED_AUTH with value 400/500 on the server and
 *    (from the ERROR command) on the client, DISCONNECTED on both, nothing
 *    delivered and no reconnect;
 *  - 300: HANDSHAKE_FAILED_AUTH 300 on the server only; no ERROR is sent, the
 *    server (usually) holds the connection until ZMQ_HANDSHAKE_IVL runs out,
 *    then DISCONNECTED; the client sees the connection close
 *    (HANDSHAKE_FAILED_NO_DETAIL, DISCONNECTED) and reconnects, which makes
 *    a second request;
 *  - a malformed reply gives HANDSHAKE_FAILED_PROTOCOL on the server with
 *    ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION (version not "1.0"),
 *    ZAP_BAD_REQUEST_ID (id not echoed), ZAP_INVALID_STATUS_CODE (anything
 *    but "200", "300", "400", "500": "201", "600", "20", "2000", "abc"),
 *    ZAP_MALFORMED_REPLY (5 or 7 frames), ZAP_INVALID_METADATA (a truncated
 *    property), then DISCONNECTED (at once, or, racily, only when
 *    ZMQ_HANDSHAKE_IVL runs out); the client sees only the connection close
 *    (HANDSHAKE_FAILED_NO_DETAIL, DISCONNECTED) and reconnects;
 *  - a handler that never replies: the handshake waits until
 *    ZMQ_HANDSHAKE_IVL, then the server drops the connection;
 *  - ZMQ_ZAP_ENFORCE_DOMAIN (draft option 93, which Debian's libzmq
 *    accepts) reads 0 by default and back as set; with a domain and no
 *    handler bound the server reports HANDSHAKE_FAILED_NO_DETAIL with value
 *    EFAULT and the connection never comes up (libzmq lets the handshake
 *    wait for ZMQ_HANDSHAKE_IVL). */
#include "testutil.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define DOMAIN "test-domain"
#define SERVER_ROUTING_ID "SRV"

/* One case: a context, an optional handler, a server and a client. */
typedef struct
{
    void *ctx;
    test_zap_t zap;
    int has_zap;
    void *server, *smon;
    void *client, *cmon;
    char ep[TEST_ENDPOINT_MAX];
} fixture_t;

/* Server options for a case. */
typedef struct
{
    const char *transport;
    const char *domain;
    int enforce;
    int handshake_ivl;
} server_conf_t;

/* Starts a case: a handler (when reply is not NULL) answering with reply,
 * a NULL-mechanism DEALER server bound as conf says, and a DEALER client
 * connected to it that has sent "hello".  Both are monitored for handshake
 * events and disconnects. */
static void setup (fixture_t *f, const test_zap_reply_t *reply,
                   const server_conf_t *conf)
{
    memset (f, 0, sizeof *f);
    f->ctx = zmq_ctx_new ();
    CHECK (f->ctx);
    if (reply) {
        test_zap_start (&f->zap, f->ctx, NULL, (void *) reply);
        f->has_zap = 1;
    }
    f->server = zmq_socket (f->ctx, ZMQ_DEALER);
    CHECK (f->server);
    test_set_int (f->server, ZMQ_RCVTIMEO, 5000);
    if (conf->domain)
        CHECK_OK (zmq_setsockopt (f->server, ZMQ_ZAP_DOMAIN, conf->domain,
                                  strlen (conf->domain)));
    if (conf->enforce)
        test_set_int (f->server, ZMQ_ZAP_ENFORCE_DOMAIN, 1);
    if (conf->handshake_ivl)
        test_set_int (f->server, ZMQ_HANDSHAKE_IVL, conf->handshake_ivl);
    CHECK_OK (zmq_setsockopt (f->server, ZMQ_ROUTING_ID, SERVER_ROUTING_ID,
                              strlen (SERVER_ROUTING_ID)));
    f->smon = test_monitor (f->ctx, f->server, "inproc://zap-smon",
                            TEST_HANDSHAKE_EVENTS);
    test_bind_any (f->server, conf->transport ? conf->transport : "tcp",
                   f->ep);

    f->client = zmq_socket (f->ctx, ZMQ_DEALER);
    CHECK (f->client);
    test_set_int (f->client, ZMQ_RCVTIMEO, 5000);
    test_set_int (f->client, ZMQ_RECONNECT_IVL, 20);
    f->cmon = test_monitor (f->ctx, f->client, "inproc://zap-cmon",
                            TEST_HANDSHAKE_EVENTS);
    CHECK_OK (zmq_connect (f->client, f->ep));
    test_send_unless_refused (f->client, "hello");
}

static void teardown (fixture_t *f)
{
    test_close_zero_linger (f->client);
    test_close_zero_linger (f->server);
    test_close_zero_linger (f->smon);
    test_close_zero_linger (f->cmon);
    if (f->has_zap)
        test_zap_stop (&f->zap);
    CHECK_OK (zmq_ctx_term (f->ctx));
}

/* The connection came up: both sides report HANDSHAKE_SUCCEEDED and "hello"
 * arrives with the given User-Id (NULL: none). */
static void expect_up (fixture_t *f, const char *user_id)
{
    CHECK_INT_EQ (
      test_expect_event (f->smon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f->ep), 0);
    CHECK_INT_EQ (
      test_expect_event (f->cmon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f->ep), 0);
    test_recv_with_user_id (f->server, "hello", 5, 0, user_id);
    SEND_STR (f->server, "back", 0);
    RECV_STR (f->client, "back", 0);
}

static void check_request (const test_zap_request_t *req, const char *address)
{
    CHECK_INT_EQ (req->frame_count, 6);
    CHECK_STR_EQ (req->version, "1.0");
    CHECK_STR_EQ (req->request_id, "1");
    CHECK_STR_EQ (req->domain, DOMAIN);
    CHECK_STR_EQ (req->address, address);
    //  Observed on 4.3.4: the routing id frame is the server socket's own
    //  ZMQ_ROUTING_ID.
    CHECK_INT_EQ (req->routing_id_size, strlen (SERVER_ROUTING_ID));
    CHECK_STR_EQ (req->routing_id, SERVER_ROUTING_ID);
    CHECK_STR_EQ (req->mechanism, "NULL");
    CHECK_INT_EQ (req->credential_count, 0);
}

static const server_conf_t with_domain = {NULL, DOMAIN, 0, 0};

static void test_allowed (void)
{
    //  Metadata: "Hello" = "World", "X-Two" = "" (RFC 23 properties).
    static const char metadata[] = "\x05Hello\x00\x00\x00\x05World"
                                   "\x05X-Two\x00\x00\x00\x00";
    test_zap_reply_t reply = {0};
    reply.status_code = "200";
    reply.status_text = "OK";
    reply.user_id = "anonymous-user";
    reply.metadata = metadata;
    reply.metadata_size = sizeof metadata - 1;
    fixture_t f;
    setup (&f, &reply, &with_domain);
    CHECK_INT_EQ (
      test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f.ep), 0);
    CHECK_INT_EQ (
      test_expect_event (f.cmon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f.ep), 0);
    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    CHECK_INT_EQ (zmq_msg_recv (&msg, f.server, 0), 5);
    CHECK_STR_EQ (zmq_msg_gets (&msg, "User-Id"), "anonymous-user");
    CHECK_STR_EQ (zmq_msg_gets (&msg, "Hello"), "World");
    CHECK_STR_EQ (zmq_msg_gets (&msg, "X-Two"), "");
    CHECK_OK (zmq_msg_close (&msg));
    SEND_STR (f.server, "back", 0);
    RECV_STR (f.client, "back", 0);
    CHECK_INT_EQ (test_zap_requests (&f.zap), 1);
    test_zap_request_t req;
    test_zap_last (&f.zap, &req);
    check_request (&req, "127.0.0.1");
    teardown (&f);

    //  Over ipc the address is the peer's credentials.
    server_conf_t ipc = with_domain;
    ipc.transport = "ipc";
    setup (&f, &reply, &ipc);
    test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f.ep);
    RECV_STR (f.server, "hello", 0);
    test_zap_last (&f.zap, &req);
    char address[128];
    snprintf (address, sizeof address, "localhost:%d:%d:%d", (int) getuid (),
              (int) getgid (), (int) getpid ());
    check_request (&req, address);
    teardown (&f);
}

static void test_not_asked (void)
{
    //  No domain: a bound handler is not asked, even with enforcement on.
    static const test_zap_reply_t deny = {.status_code = "400"};
    server_conf_t no_domain = {NULL, NULL, 0, 0};
    fixture_t f;
    for (int enforce = 0; enforce < 2; enforce++) {
        no_domain.enforce = enforce;
        setup (&f, &deny, &no_domain);
        expect_up (&f, NULL);
        CHECK_INT_EQ (test_zap_requests (&f.zap), 0);
        teardown (&f);
    }

    //  A domain but no handler: allowed.
    setup (&f, NULL, &with_domain);
    expect_up (&f, NULL);
    teardown (&f);
}

static void test_denied (void)
{
    static const char *const codes[] = {"400", "500"};
    for (int i = 0; i < 2; i++) {
        test_zap_reply_t reply = {0};
        reply.status_code = codes[i];
        reply.status_text = "denied";
        fixture_t f;
        setup (&f, &reply, &with_domain);
        int value = atoi (codes[i]);
        CHECK_INT_EQ (
          test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, f.ep),
          value);
        test_expect_event (f.smon, ZMQ_EVENT_DISCONNECTED, f.ep);
        CHECK_INT_EQ (
          test_expect_event (f.cmon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, f.ep),
          value);
        test_expect_event (f.cmon, ZMQ_EVENT_DISCONNECTED, f.ep);
        //  No reconnect (RECONNECT_IVL is 20 ms).
        CHECK_NOTHING_WITHIN (f.server, 200);
        CHECK_NOTHING_WITHIN (f.smon, 0);
        CHECK_NOTHING_WITHIN (f.cmon, 0);
        CHECK_INT_EQ (test_zap_requests (&f.zap), 1);
        teardown (&f);
    }
}

static void test_temporary_failure (void)
{
    static const test_zap_reply_t reply = {.status_code = "300",
                                           .status_text = "try later"};
    server_conf_t conf = with_domain;
    conf.handshake_ivl = 200;
    fixture_t f;
    setup (&f, &reply, &conf);
    CHECK_INT_EQ (
      test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, f.ep), 300);
    //  Observed on 4.3.4: no ERROR command; the connection usually stays
    //  until the handshake interval is over (now and then it is dropped at
    //  once, so the time is not checked).
    test_expect_event (f.smon, ZMQ_EVENT_DISCONNECTED, f.ep);
    TEST_EXPECT_CLOSED_BY_PEER (f.cmon, f.ep);
    //  The client reconnects and asks again (request id "1" again).
    CHECK_INT_EQ (
      test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, f.ep), 300);
    CHECK (test_zap_requests (&f.zap) >= 2);
    test_zap_request_t req;
    test_zap_last (&f.zap, &req);
    check_request (&req, "127.0.0.1");
    CHECK_NOTHING_WITHIN (f.server, 0);
    teardown (&f);
}

static void test_malformed (void)
{
    static const char bad_metadata[] = "\x05Hello\x00\x00\x00";
    struct
    {
        test_zap_reply_t reply;
        uint32_t error;
    } cases[] = {
      {{.version = "2.0"}, ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION},
      {{.request_id = "bogus"}, ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID},
      {{.status_code = "201"}, ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE},
      {{.status_code = "600"}, ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE},
      {{.status_code = "20"}, ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE},
      {{.status_code = "2000"}, ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE},
      {{.status_code = "abc"}, ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE},
      {{.extra_frame = 1}, ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY},
      {{.omit_metadata = 1}, ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY},
      {{.metadata = bad_metadata, .metadata_size = sizeof bad_metadata - 1},
       ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA},
    };
    server_conf_t conf = with_domain;
    conf.handshake_ivl = 100;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t f;
        setup (&f, &cases[i].reply, &conf);
        //  The first case also follows the client's second attempt.
        int attempts = i == 0 ? 2 : 1;
        for (int attempt = 0; attempt < attempts; attempt++) {
            uint32_t err = test_expect_event (
              f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, f.ep);
            if (err != cases[i].error)
                FAIL ("case %zu: protocol error 0x%x, expected 0x%x", i, err,
                      cases[i].error);
            //  Observed on 4.3.4: the server drops the connection at once
            //  or, when the reply was read straight after the request was
            //  sent, lets the handshake stall until ZMQ_HANDSHAKE_IVL
            //  (reporting HANDSHAKE_FAILED_NO_DETAIL for the timeout).
            test_event_t ev;
            CHECK (test_recv_event (f.smon, &ev, 5000));
            if (ev.event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                CHECK (test_recv_event (f.smon, &ev, 5000));
            CHECK_INT_EQ (ev.event, ZMQ_EVENT_DISCONNECTED);
            //  No ERROR command: the client sees the close and reconnects.
            TEST_EXPECT_CLOSED_BY_PEER (f.cmon, f.ep);
        }
        CHECK_NOTHING_WITHIN (f.server, 0);
        CHECK (test_zap_requests (&f.zap) >= attempts);
        teardown (&f);
    }
}

static void test_no_reply (void)
{
    static const test_zap_reply_t reply = {.no_reply = 1};
    server_conf_t conf = with_domain;
    conf.handshake_ivl = 200;
    fixture_t f;
    setup (&f, &reply, &conf);
    int64_t start = test_now_ms ();
    test_event_t ev;
    CHECK (test_recv_event (f.smon, &ev, 5000));
    //  The handshake timer fires (the value is an errno, not checked).
    CHECK_INT_EQ (ev.event, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    test_expect_event (f.smon, ZMQ_EVENT_DISCONNECTED, f.ep);
    CHECK (test_now_ms () - start >= 150);
    TEST_EXPECT_CLOSED_BY_PEER (f.cmon, f.ep);
    CHECK_NOTHING_WITHIN (f.server, 0);
    CHECK_INT_EQ (test_zap_requests (&f.zap), 1);
    teardown (&f);
}

static void test_enforce_domain (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (s);
    CHECK_INT_EQ (test_get_int (s, ZMQ_ZAP_ENFORCE_DOMAIN), 0);
    test_set_int (s, ZMQ_ZAP_ENFORCE_DOMAIN, 1);
    CHECK_INT_EQ (test_get_int (s, ZMQ_ZAP_ENFORCE_DOMAIN), 1);
    test_set_int (s, ZMQ_ZAP_ENFORCE_DOMAIN, 0);
    CHECK_INT_EQ (test_get_int (s, ZMQ_ZAP_ENFORCE_DOMAIN), 0);
    test_close_zero_linger (s);
    CHECK_OK (zmq_ctx_term (ctx));

    //  A domain, enforcement, no handler: refused.
    server_conf_t conf = {NULL, DOMAIN, 1, 300};
    fixture_t f;
    setup (&f, NULL, &conf);
    CHECK_INT_EQ (
      test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, f.ep),
      EFAULT);
    //  Observed on 4.3.4: libzmq reports EFAULT once more and then lets the
    //  handshake wait for ZMQ_HANDSHAKE_IVL before dropping the connection;
    //  only the refusal is checked here.
    CHECK_NOTHING_WITHIN (f.server, 200);
    test_event_t ev;
    while (test_recv_event (f.cmon, &ev, 0))
        CHECK (ev.event != ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    teardown (&f);
}

int main (void)
{
    test_init ();
    test_allowed ();
    test_not_asked ();
    test_denied ();
    test_temporary_failure ();
    test_malformed ();
    test_no_reply ();
    test_enforce_domain ();
    TEST_PASS ();
}
