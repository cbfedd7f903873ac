/* The CURVE security mechanism (RFC 25/26) with a ZAP handler (RFC 27).
 *
 * Pins (observed on libzmq 4.3.4):
 *  - options: the three keys read as 32 zero bytes (Z85 "000...0") on a fresh
 *    socket; a key is set as 32 raw bytes, 40 Z85 characters, or 41 bytes
 *    (Z85 and a NUL); it reads back raw with a 32-byte buffer and as Z85
 *    text with 41 bytes (size 41, NUL-terminated); any other size (0, 31,
 *    33, 39, 40 on reading, 42), NULL, a character outside the Z85 alphabet,
 *    or 41 bytes without the final NUL fail with EINVAL (the key unchanged,
 *    except after a bad character: see below); setting a key makes
 *    ZMQ_MECHANISM ZMQ_CURVE; ZMQ_CURVE_SERVER 1 makes a server, a server key
 *    then makes it a client (CURVE_SERVER reads 0), 0 goes back to NULL, 2
 *    fails with EINVAL;
 *  - good keys, in each of the three formats: messages flow both ways
 *    (several, multipart, 100 KB); the handler gets one 7-frame request:
 *    "1.0", "1", the domain ("" when unset), "127.0.0.1", the server's
 *    routing id ("" when unset), "CURVE", and the client's 32-byte public
 *    key; the reply's user id is the server-side messages' "User-Id";
 *    HANDSHAKE_SUCCEEDED on both sides; no handler bound: allowed, no
 *    User-Id;
 *  - a client with the wrong server key (or a secret key not matching its
 *    public key): the server reports HANDSHAKE_FAILED_PROTOCOL
 *    ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC and DISCONNECTED, the handler is
 *    not asked; the client sees the connection close
 *    (HANDSHAKE_FAILED_NO_DETAIL, DISCONNECTED) and reconnects;
 *  - the handler's 400: HANDSHAKE_FAILED_AUTH 400 on both sides, no
 *    reconnect; a NULL or PLAIN client: HANDSHAKE_FAILED_PROTOCOL
 *    ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH on both sides;
 *  - XPUB/SUB over CURVE: the subscription reaches the XPUB through the
 *    encrypted connection and the SUB gets only its topic;
 *  - raw tcp peers after a CURVE greeting (the server's greeting is ZMTP 3.1,
 *    "CURVE", as-server byte 0): a 200-byte HELLO whose crypto is garbage
 *    gives HANDSHAKE_FAILED_PROTOCOL ZMTP_CRYPTOGRAPHIC, a short HELLO
 *    ZMTP_MALFORMED_COMMAND_HELLO, a READY command ZMTP_UNEXPECTED_COMMAND,
 *    a message frame ZMTP_MALFORMED_COMMAND_UNSPECIFIED, then DISCONNECTED;
 *    junk bytes give DISCONNECTED (libzmq reports no handshake event for
 *    them; not checked); each time the peer reads EOF, and a good client
 *    then still gets through. */
#include "testutil.h"

#include <sys/time.h>

#define USER_ID "curve-user"

typedef struct
{
    char public_z85[41];
    char secret_z85[41];
    uint8_t public_raw[32];
    uint8_t secret_raw[32];
} keypair_t;

static keypair_t server_keys, client_keys, other_keys;

static void new_keypair (keypair_t *k)
{
    CHECK_OK (zmq_curve_keypair (k->public_z85, k->secret_z85));
    CHECK (zmq_z85_decode (k->public_raw, k->public_z85));
    CHECK (zmq_z85_decode (k->secret_raw, k->secret_z85));
}

/* Accepts client_keys' public key only. */
static void curve_policy (const test_zap_request_t *req,
                          test_zap_reply_t *reply, void *arg)
{
    (void) arg;
    if (req->credential_count == 1 && req->credential_sizes[0] == 32
        && memcmp (req->credentials[0], client_keys.public_raw, 32) == 0) {
        reply->status_code = "200";
        reply->user_id = USER_ID;
    } else {
        reply->status_code = "400";
        reply->status_text = "Unknown key";
    }
}

/* Key formats: 32 raw bytes, 40 Z85 characters, 41 bytes (Z85 + NUL). */
enum
{
    FMT_RAW,
    FMT_Z85,
    FMT_Z85_NUL
};

static void set_key (void *sock, int option, const char *z85,
                     const uint8_t *raw, int fmt)
{
    if (fmt == FMT_RAW)
        CHECK_OK (zmq_setsockopt (sock, option, raw, 32));
    else
        CHECK_OK (zmq_setsockopt (sock, option, z85, fmt == FMT_Z85 ? 40 : 41));
}

static void check_key (void *sock, int option, const keypair_t *k,
                       int secret)
{
    const char *z85 = secret ? k->secret_z85 : k->public_z85;
    const uint8_t *raw = secret ? k->secret_raw : k->public_raw;
    uint8_t got_raw[32];
    size_t size = 32;
    CHECK_OK (zmq_getsockopt (sock, option, got_raw, &size));
    CHECK_INT_EQ (size, 32);
    CHECK (memcmp (got_raw, raw, 32) == 0);
    char got_z85[41];
    size = 41;
    CHECK_OK (zmq_getsockopt (sock, option, got_z85, &size));
    CHECK_INT_EQ (size, 41);
    CHECK_STR_EQ (got_z85, z85);
}

static void test_options (void *ctx)
{
    static const int keys[] = {ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY,
                               ZMQ_CURVE_SERVERKEY};
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (s);
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_NULL);
    CHECK_INT_EQ (test_get_int (s, ZMQ_CURVE_SERVER), 0);
    for (int i = 0; i < 3; i++) {
        uint8_t raw[32], zero[32] = {0};
        size_t size = 32;
        CHECK_OK (zmq_getsockopt (s, keys[i], raw, &size));
        CHECK_INT_EQ (size, 32);
        CHECK (memcmp (raw, zero, 32) == 0);
        char z85[41];
        size = 41;
        CHECK_OK (zmq_getsockopt (s, keys[i], z85, &size));
        CHECK_STR_EQ (z85, "0000000000000000000000000000000000000000");
        char big[64];
        static const size_t bad_get[] = {0, 31, 33, 40, 42, 64};
        for (size_t j = 0; j < sizeof bad_get / sizeof bad_get[0]; j++) {
            size = bad_get[j];
            CHECK_ERRNO (zmq_getsockopt (s, keys[i], big, &size), EINVAL);
        }
    }
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_NULL);

    //  Each format, read back both ways.
    for (int fmt = FMT_RAW; fmt <= FMT_Z85_NUL; fmt++) {
        set_key (s, ZMQ_CURVE_PUBLICKEY, client_keys.public_z85,
                 client_keys.public_raw, fmt);
        check_key (s, ZMQ_CURVE_PUBLICKEY, &client_keys, 0);
        set_key (s, ZMQ_CURVE_SECRETKEY, client_keys.secret_z85,
                 client_keys.secret_raw, fmt);
        check_key (s, ZMQ_CURVE_SECRETKEY, &client_keys, 1);
        set_key (s, ZMQ_CURVE_SERVERKEY, server_keys.public_z85,
                 server_keys.public_raw, fmt);
        check_key (s, ZMQ_CURVE_SERVERKEY, &server_keys, 0);
        //  Start over with the other key values.
        set_key (s, ZMQ_CURVE_PUBLICKEY, other_keys.public_z85,
                 other_keys.public_raw, FMT_RAW);
        set_key (s, ZMQ_CURVE_SECRETKEY, other_keys.secret_z85,
                 other_keys.secret_raw, FMT_RAW);
        set_key (s, ZMQ_CURVE_SERVERKEY, other_keys.public_z85,
                 other_keys.public_raw, FMT_RAW);
    }
    CHECK_INT_EQ (test_get_int (s, ZMQ_MECHANISM), ZMQ_CURVE);
    CHECK_INT_EQ (test_get_int (s, ZMQ_CURVE_SERVER), 0);

    //  Bad values leave the key as it was.
    char bad_char[41];
    memcpy (bad_char, client_keys.public_z85, 41);
    bad_char[7] = '"'; //  not in the Z85 alphabet
    char no_nul[41];
    memcpy (no_nul, client_keys.public_z85, 40);
    no_nul[40] = 'x';
    static const size_t bad_sizes[] = {1, 31, 33, 39, 42};
    for (int i = 0; i < 3; i++) {
        for (size_t j = 0; j < sizeof bad_sizes / sizeof bad_sizes[0]; j++)
            CHECK_ERRNO (zmq_setsockopt (s, keys[i], client_keys.public_z85,
                                         bad_sizes[j]),
                         EINVAL);
        CHECK_ERRNO (zmq_setsockopt (s, keys[i], client_keys.public_z85, 0),
                     EINVAL);
        CHECK_ERRNO (zmq_setsockopt (s, keys[i], NULL, 0), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (s, keys[i], no_nul, 41), EINVAL);
        uint8_t raw[32];
        size_t size = 32;
        CHECK_OK (zmq_getsockopt (s, keys[i], raw, &size));
        CHECK (memcmp (raw,
                       i == 1 ? other_keys.secret_raw : other_keys.public_raw,
                       32)
               == 0);
        //  Observed on 4.3.4: libzmq decodes into the key in place, so the
        //  4-byte groups before the bad character have replaced the key's
        //  first bytes by then; the key is not checked after this.
        CHECK_ERRNO (zmq_setsockopt (s, keys[i], bad_char, 40), EINVAL);
    }

    //  CURVE_SERVER.
    void *t = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (t);
    set_key (t, ZMQ_CURVE_SECRETKEY, server_keys.secret_z85,
             server_keys.secret_raw, FMT_Z85);
    CHECK_INT_EQ (test_get_int (t, ZMQ_MECHANISM), ZMQ_CURVE);
    test_set_int (t, ZMQ_CURVE_SERVER, 1);
    CHECK_INT_EQ (test_get_int (t, ZMQ_CURVE_SERVER), 1);
    CHECK_INT_EQ (test_get_int (t, ZMQ_MECHANISM), ZMQ_CURVE);
    int two = 2;
    CHECK_ERRNO (zmq_setsockopt (t, ZMQ_CURVE_SERVER, &two, sizeof two),
                 EINVAL);
    set_key (t, ZMQ_CURVE_SERVERKEY, server_keys.public_z85,
             server_keys.public_raw, FMT_Z85);
    CHECK_INT_EQ (test_get_int (t, ZMQ_CURVE_SERVER), 0);
    CHECK_INT_EQ (test_get_int (t, ZMQ_MECHANISM), ZMQ_CURVE);
    test_set_int (t, ZMQ_CURVE_SERVER, 1);
    test_set_int (t, ZMQ_CURVE_SERVER, 0);
    CHECK_INT_EQ (test_get_int (t, ZMQ_MECHANISM), ZMQ_NULL);
    CHECK_INT_EQ (test_get_int (t, ZMQ_CURVE_SERVER), 0);

    test_close_zero_linger (s);
    test_close_zero_linger (t);
}

/* A case: a context, an optional handler, a server and a client. */
typedef struct
{
    void *ctx;
    test_zap_t zap;
    int has_zap;
    void *server, *smon;
    void *client, *cmon;
    char ep[TEST_ENDPOINT_MAX];
} fixture_t;

static void *new_curve_server (void *ctx, int type, int fmt)
{
    void *server = zmq_socket (ctx, type);
    CHECK (server);
    test_set_int (server, ZMQ_RCVTIMEO, 5000);
    test_set_int (server, ZMQ_CURVE_SERVER, 1);
    set_key (server, ZMQ_CURVE_SECRETKEY, server_keys.secret_z85,
             server_keys.secret_raw, fmt);
    return server;
}

/* A client of the given type with its keys set in format fmt: the server
 * key is server_public's public key, its own public key client_pair's and
 * its secret key client_secret's (a pair other than client_pair makes a
 * mismatched client). */
static void *new_curve_client (void *ctx, int type, int fmt,
                               const keypair_t *server_public,
                               const keypair_t *client_pair,
                               const keypair_t *client_secret)
{
    void *client = zmq_socket (ctx, type);
    CHECK (client);
    test_set_int (client, ZMQ_RCVTIMEO, 5000);
    test_set_int (client, ZMQ_RECONNECT_IVL, 20);
    set_key (client, ZMQ_CURVE_SERVERKEY, server_public->public_z85,
             server_public->public_raw, fmt);
    set_key (client, ZMQ_CURVE_PUBLICKEY, client_pair->public_z85,
             client_pair->public_raw, fmt);
    set_key (client, ZMQ_CURVE_SECRETKEY, client_secret->secret_z85,
             client_secret->secret_raw, fmt);
    return client;
}

/* Makes a client socket whose keys (if any) are set in format fmt. */
typedef void *(*client_maker_t) (void *ctx, int fmt);

/* Starts a case with a CURVE DEALER server (and a handler when with_zap)
 * and the client make_client makes, connected, both monitored. */
static void setup (fixture_t *f, int with_zap, int fmt,
                   client_maker_t make_client)
{
    memset (f, 0, sizeof *f);
    f->ctx = zmq_ctx_new ();
    CHECK (f->ctx);
    if (with_zap) {
        test_zap_start (&f->zap, f->ctx, curve_policy, NULL);
        f->has_zap = 1;
    }
    f->server = new_curve_server (f->ctx, ZMQ_DEALER, fmt);
    f->smon = test_monitor (f->ctx, f->server, "inproc://curve-smon",
                            TEST_HANDSHAKE_EVENTS);
    test_bind_any (f->server, "tcp", f->ep);
    f->client = make_client (f->ctx, fmt);
    f->cmon = test_monitor (f->ctx, f->client, "inproc://curve-cmon",
                            TEST_HANDSHAKE_EVENTS);
    CHECK_OK (zmq_connect (f->client, f->ep));
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

static void *good_client (void *ctx, int fmt)
{
    return new_curve_client (ctx, ZMQ_DEALER, fmt, &server_keys, &client_keys,
                             &client_keys);
}

static void *wrong_server_key_client (void *ctx, int fmt)
{
    return new_curve_client (ctx, ZMQ_DEALER, fmt, &other_keys, &client_keys,
                             &client_keys);
}

static void *mismatched_secret_client (void *ctx, int fmt)
{
    return new_curve_client (ctx, ZMQ_DEALER, fmt, &server_keys, &client_keys,
                             &other_keys);
}

static void *unknown_client (void *ctx, int fmt)
{
    return new_curve_client (ctx, ZMQ_DEALER, fmt, &server_keys, &other_keys,
                             &other_keys);
}

static void *null_client (void *ctx, int fmt)
{
    (void) fmt;
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (client);
    test_set_int (client, ZMQ_RECONNECT_IVL, 20);
    return client;
}

static void *plain_client (void *ctx, int fmt)
{
    void *client = null_client (ctx, fmt);
    CHECK_OK (zmq_setsockopt (client, ZMQ_PLAIN_USERNAME, "user", 4));
    CHECK_OK (zmq_setsockopt (client, ZMQ_PLAIN_PASSWORD, "pass", 4));
    return client;
}

/* Several messages each way, a multipart one, and 100 KB each way. */
static void exchange (void *server, void *client, const char *user_id)
{
    for (int i = 0; i < 5; i++) {
        char buf[32];
        int n = snprintf (buf, sizeof buf, "request %d", i);
        test_send_bytes (client, buf, (size_t) n, 0);
        test_recv_with_user_id (server, buf, (size_t) n, 0, user_id);
        n = snprintf (buf, sizeof buf, "reply %d", i);
        test_send_bytes (server, buf, (size_t) n, 0);
        test_recv_with_user_id (client, buf, (size_t) n, 0, NULL);
    }
    test_send_bytes (client, "part1", 5, ZMQ_SNDMORE);
    test_send_bytes (client, "", 0, ZMQ_SNDMORE);
    test_send_bytes (client, "part3", 5, 0);
    test_recv_with_user_id (server, "part1", 5, 1, user_id);
    test_recv_with_user_id (server, "", 0, 1, user_id);
    test_recv_with_user_id (server, "part3", 5, 0, user_id);

    size_t big_size = 100 * 1024;
    unsigned char *big = (unsigned char *) malloc (big_size);
    CHECK (big);
    for (size_t i = 0; i < big_size; i++)
        big[i] = (unsigned char) (i * 7 + (i >> 10));
    test_send_bytes (client, big, big_size, 0);
    test_recv_with_user_id (server, big, big_size, 0, user_id);
    test_send_bytes (server, big, big_size, ZMQ_SNDMORE);
    test_send_bytes (server, "tail", 4, 0);
    test_recv_with_user_id (client, big, big_size, 1, NULL);
    test_recv_with_user_id (client, "tail", 4, 0, NULL);
    free (big);
}

static void test_good_keys (void)
{
    for (int fmt = FMT_RAW; fmt <= FMT_Z85_NUL; fmt++) {
        fixture_t f;
        setup (&f, 1, fmt, good_client);
        exchange (f.server, f.client, USER_ID);
        CHECK_INT_EQ (
          test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f.ep), 0);
        CHECK_INT_EQ (
          test_expect_event (f.cmon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f.ep), 0);
        CHECK_INT_EQ (test_get_int (f.server, ZMQ_MECHANISM), ZMQ_CURVE);
        CHECK_INT_EQ (test_get_int (f.client, ZMQ_MECHANISM), ZMQ_CURVE);

        CHECK_INT_EQ (test_zap_requests (&f.zap), 1);
        test_zap_request_t req;
        test_zap_last (&f.zap, &req);
        CHECK_INT_EQ (req.frame_count, 7);
        CHECK_STR_EQ (req.version, "1.0");
        CHECK_STR_EQ (req.request_id, "1");
        CHECK_STR_EQ (req.domain, "");
        CHECK_STR_EQ (req.address, "127.0.0.1");
        CHECK_INT_EQ (req.routing_id_size, 0);
        CHECK_STR_EQ (req.mechanism, "CURVE");
        CHECK_INT_EQ (req.credential_count, 1);
        CHECK_INT_EQ (req.credential_sizes[0], 32);
        CHECK (memcmp (req.credentials[0], client_keys.public_raw, 32) == 0);
        teardown (&f);
    }

    //  No handler bound: any client with the right server key is allowed.
    fixture_t f;
    setup (&f, 0, FMT_Z85, unknown_client);
    test_send_unless_refused (f.client, "hi");
    test_recv_with_user_id (f.server, "hi", 2, 0, NULL);
    test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, f.ep);
    teardown (&f);
}

static void test_crypto_failures (void)
{
    client_maker_t clients[] = {wrong_server_key_client,
                                mismatched_secret_client};
    for (int i = 0; i < 2; i++) {
        fixture_t f;
        setup (&f, 1, FMT_Z85, clients[i]);
        test_send_unless_refused (f.client, "hi");
        for (int attempt = 0; attempt < 2; attempt++) {
            CHECK_INT_EQ (test_expect_event (
                            f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, f.ep),
                          ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
            test_expect_event (f.smon, ZMQ_EVENT_DISCONNECTED, f.ep);
            //  The client is only told by the close, and tries again.
            TEST_EXPECT_CLOSED_BY_PEER (f.cmon, f.ep);
        }
        CHECK_NOTHING_WITHIN (f.server, 0);
        CHECK_INT_EQ (test_zap_requests (&f.zap), 0);
        teardown (&f);
    }
}

static void test_refusals (void)
{
    //  The handler refuses the key.
    fixture_t f;
    setup (&f, 1, FMT_Z85, unknown_client);
    test_send_unless_refused (f.client, "hi");
    CHECK_INT_EQ (
      test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, f.ep), 400);
    test_expect_event (f.smon, ZMQ_EVENT_DISCONNECTED, f.ep);
    CHECK_INT_EQ (
      test_expect_event (f.cmon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, f.ep), 400);
    test_expect_event (f.cmon, ZMQ_EVENT_DISCONNECTED, f.ep);
    CHECK_NOTHING_WITHIN (f.server, 200);
    CHECK_NOTHING_WITHIN (f.smon, 0);
    CHECK_INT_EQ (test_zap_requests (&f.zap), 1);
    test_zap_request_t req;
    test_zap_last (&f.zap, &req);
    CHECK (memcmp (req.credentials[0], other_keys.public_raw, 32) == 0);
    teardown (&f);

    //  Other mechanisms.
    client_maker_t clients[] = {null_client, plain_client};
    for (int i = 0; i < 2; i++) {
        setup (&f, 1, FMT_Z85, clients[i]);
        test_send_unless_refused (f.client, "hi");
        CHECK_INT_EQ (
          test_expect_event (f.smon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, f.ep),
          ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
        CHECK_INT_EQ (
          test_expect_event (f.cmon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, f.ep),
          ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
        CHECK_NOTHING_WITHIN (f.server, 0);
        CHECK_INT_EQ (test_zap_requests (&f.zap), 0);
        teardown (&f);
    }
}

static void test_pubsub (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_zap_t zap;
    test_zap_start (&zap, ctx, curve_policy, NULL);
    void *pub = new_curve_server (ctx, ZMQ_XPUB, FMT_Z85);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pub, "tcp", ep);
    void *sub = new_curve_client (ctx, ZMQ_SUB, FMT_Z85, &server_keys,
                                  &client_keys, &client_keys);
    CHECK_OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "topic", 5));
    CHECK_OK (zmq_connect (sub, ep));

    //  The subscription came through the encrypted connection.
    test_recv_bytes (pub, "\x01topic", 6, 0);
    SEND_STR (pub, "other data", 0);
    SEND_STR (pub, "topic data", 0);
    SEND_STR (pub, "topical", 0);
    RECV_STR (sub, "topic data", 0);
    RECV_STR (sub, "topical", 0);
    CHECK_NOTHING_WITHIN (sub, 100);
    CHECK_INT_EQ (test_zap_requests (&zap), 1);

    test_close_zero_linger (sub);
    test_close_zero_linger (pub);
    test_zap_stop (&zap);
    CHECK_OK (zmq_ctx_term (ctx));
}

/* A raw tcp peer sends a CURVE client greeting, reads the server's, then
 * sends bad bytes: the server drops it (reporting the protocol error, or,
 * when error is 0, perhaps some protocol error) and the raw peer reads
 * EOF. */
static void raw_attempt (void *mon, const char *ep, const void *bytes,
                         size_t size, uint32_t error)
{
    int fd = test_raw_connect (test_port_of (ep));
    struct timeval tv = {5, 0};
    CHECK (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    unsigned char greeting[64];
    memset (greeting, 0, sizeof greeting);
    greeting[0] = 0xff;
    greeting[9] = 0x7f;
    greeting[10] = 3;
    memcpy (greeting + 12, "CURVE", 5);
    test_write_all (fd, greeting, sizeof greeting);

    unsigned char in[64];
    test_read_exactly (fd, in, sizeof in);
    CHECK_INT_EQ (in[0], 0xff);
    CHECK_INT_EQ (in[9], 0x7f);
    CHECK_INT_EQ (in[10], 3);
    CHECK_INT_EQ (in[11], 1);
    CHECK (memcmp (in + 12, "CURVE\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20) == 0);
    //  Observed on 4.3.4: libzmq never sets the as-server byte.
    CHECK_INT_EQ (in[32], 0);

    test_write_all (fd, bytes, size);
    if (error)
        CHECK_INT_EQ (
          test_expect_event (mon, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ep),
          error);
    else {
        test_event_t ev;
        CHECK (test_recv_event (mon, &ev, 5000));
        if (ev.event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
            CHECK (test_recv_event (mon, &ev, 5000));
        CHECK_INT_EQ (ev.event, ZMQ_EVENT_DISCONNECTED);
    }
    if (error)
        test_expect_event (mon, ZMQ_EVENT_DISCONNECTED, ep);
    char c;
    CHECK (recv (fd, &c, 1, 0) == 0);
    close (fd);
}

static void test_raw_garbage (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_zap_t zap;
    test_zap_start (&zap, ctx, curve_policy, NULL);
    void *server = new_curve_server (ctx, ZMQ_DEALER, FMT_RAW);
    void *mon = test_monitor (ctx, server, "inproc://curve-raw-mon",
                              TEST_HANDSHAKE_EVENTS);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (server, "tcp", ep);

    //  A HELLO of the right size (200 bytes) whose crypto is garbage.
    unsigned char hello[202];
    memset (hello, 0xab, sizeof hello);
    hello[0] = 0x04; //  command, short
    hello[1] = 200;
    memcpy (hello + 2, "\x05HELLO\x01\x00", 8);
    memset (hello + 10, 0, 72); //  padding
    raw_attempt (mon, ep, hello, sizeof hello,
                 ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
    //  A short HELLO.
    hello[1] = 100;
    raw_attempt (mon, ep, hello, 102,
                 ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO);
    //  READY before anything.
    raw_attempt (mon, ep, "\x04\x06\x05READY", 8,
                 ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND);
    //  A message frame instead of a command.
    raw_attempt (mon, ep, "\x00\x05hello", 7,
                 ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED);
    //  Junk (it reads as a long frame of an impossible size; observed on
    //  4.3.4: the decoder fails without a handshake event).
    unsigned char junk[300];
    for (int i = 0; i < 300; i++)
        junk[i] = (unsigned char) (i * 37 + 11);
    raw_attempt (mon, ep, junk, sizeof junk, 0);
    CHECK_INT_EQ (test_zap_requests (&zap), 0);

    //  The server still serves a good client.
    void *client = good_client (ctx, FMT_RAW);
    CHECK_OK (zmq_connect (client, ep));
    test_send_bytes (client, "still here", 10, 0);
    test_recv_with_user_id (server, "still here", 10, 0, USER_ID);
    CHECK_INT_EQ (test_expect_event (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ep),
                  0);

    test_close_zero_linger (client);
    test_close_zero_linger (server);
    test_close_zero_linger (mon);
    test_zap_stop (&zap);
    CHECK_OK (zmq_ctx_term (ctx));
}

int main (void)
{
    test_init ();
    new_keypair (&server_keys);
    new_keypair (&client_keys);
    new_keypair (&other_keys);
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    test_options (ctx);
    CHECK_OK (zmq_ctx_term (ctx));
    test_good_keys ();
    test_crypto_failures ();
    test_refusals ();
    test_pubsub ();
    test_raw_garbage ();
    TEST_PASS ();
}
