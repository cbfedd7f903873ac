/* One side of a cross-process wire interop scenario.
 *
 *   peer server <pattern> <bind-endpoint> [sizes...]
 *   peer client <pattern> <connect-endpoint> [sizes...]
 *   peer version       (prints the running libzmq version on stdout)
 *
 * pattern: reqrep | dealer-router | pushpull | pair.
 * The server binds (e.g. tcp://127.0.0.1:* or ipc:///dir/x.sock), prints its
 * resolved ZMQ_LAST_ENDPOINT as one line on stdout, then serves; the client
 * connects to that endpoint.  Built once against Debian's zmq.h; which
 * libzmq runs is chosen by LD_LIBRARY_PATH, and both sides print the version
 * they run on stderr.
 *
 * For every body size s (default: 0 1 33 34 255 256 8191 65536 1048576),
 * REPS messages are exchanged; every frame's bytes are derived from
 * (pattern, direction, size, index, frame) and checked on receipt, as are
 * frame sizes, frame counts and ZMQ_RCVMORE (both zmq_msg_more and the
 * socket option).  Frame shapes mix the body with a third-size frame and an
 * empty frame, so the 33/34 (inline message) and 255/256 (long frame)
 * boundaries appear at several positions of a multipart message.
 *
 *   reqrep:        REQ sends [s, s/3]; REP replies [s/3, 0, s].
 *   dealer-router: DEALER (fixed binary routing id) sends REPS messages
 *                  [s, 0, s/3] back to back; ROUTER (ROUTER_MANDATORY)
 *                  checks the id frame and answers each with
 *                  [id][s/3, s]; the DEALER then reads the REPS replies.
 *   pushpull:      PUSH (client) sends [s, s/3] (odd index: [s, s/3, 0]);
 *                  PULL (server) checks them.
 *   pair:          both sides send REPS messages of size s at once
 *                  (client [s, s/3], server [s/3, s, 0]), then both read.
 *   curve, plain:  dealer-router with the CURVE or PLAIN mechanism: the
 *                  ROUTER is the security server, with a ZAP handler thread
 *                  (REP at inproc://zeromq.zap.01) that checks the request
 *                  (version, mechanism, the client's public key or username
 *                  and password) and answers 200 with a user id; every
 *                  frame the server receives must carry that "User-Id".
 *
 * Except for pushpull (one-way by nature), the conversation ends with a
 * one-frame "done" from the client that the server waits for, so the
 * server never relies on its linger to deliver the last reply.
 *
 * Every blocking call is bounded (RCVTIMEO/SNDTIMEO) and an alarm bounds
 * the whole run.  Exit 0 on success; 1 with a message on any mismatch. */
#define INTEROP_NAME "peer"
#include "interop.h"

#include <pthread.h>

#define REPS 3
#define IO_TIMEOUT_MS 10000
#define RUN_TIMEOUT_S 60
#define MAX_FRAMES 4

enum { P_REQREP = 1, P_DEALER_ROUTER, P_PUSHPULL, P_PAIR };
enum { DIR_C2S = 0, DIR_S2C = 1 };

typedef struct
{
    int n;
    size_t len[MAX_FRAMES];
} shape_t;

static shape_t shape_of (int pattern, int dir, size_t s, int index)
{
    shape_t sh;
    memset (&sh, 0, sizeof sh);
    switch (pattern) {
        case P_REQREP:
            if (dir == DIR_C2S) {
                sh.n = 2;
                sh.len[0] = s;
                sh.len[1] = s / 3;
            } else {
                sh.n = 3;
                sh.len[0] = s / 3;
                sh.len[1] = 0;
                sh.len[2] = s;
            }
            break;
        case P_DEALER_ROUTER:
            if (dir == DIR_C2S) {
                sh.n = 3;
                sh.len[0] = s;
                sh.len[1] = 0;
                sh.len[2] = s / 3;
            } else {
                sh.n = 2;
                sh.len[0] = s / 3;
                sh.len[1] = s;
            }
            break;
        case P_PUSHPULL:
            sh.n = (index & 1) ? 3 : 2;
            sh.len[0] = s;
            sh.len[1] = s / 3;
            sh.len[2] = 0;
            break;
        case P_PAIR:
            if (dir == DIR_C2S) {
                sh.n = 2;
                sh.len[0] = s;
                sh.len[1] = s / 3;
            } else {
                sh.n = 3;
                sh.len[0] = s / 3;
                sh.len[1] = s;
                sh.len[2] = 0;
            }
            break;
        default:
            DIE ("bad pattern");
    }
    return sh;
}

/* Deterministic content: xorshift32 stream seeded from the frame's identity. */
static void fill (unsigned char *buf, size_t len, int pattern, int dir,
                  size_t s, int index, int frame)
{
    uint32_t x = (uint32_t) s * 2654435761u ^ (uint32_t) index * 40503u
                 ^ (uint32_t) frame * 0x9e3779b9u ^ (uint32_t) dir * 0x5bd1e995u
                 ^ (uint32_t) pattern * 0x27d4eb2du;
    x = x ? x : 0x12345678u;
    for (size_t j = 0; j < len; j++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[j] = (unsigned char) (x >> 11);
    }
}

static unsigned char *g_buf; /* scratch for expected / outgoing content */

static void send_frame (void *sock, const void *data, size_t len, int more)
{
    int rc = zmq_send (sock, data, len, more ? ZMQ_SNDMORE : 0);
    if (rc == -1)
        DIE ("zmq_send (%zu bytes%s): %s (errno %d)", len,
             more ? ", SNDMORE" : "", zmq_strerror (errno), errno);
    if ((size_t) rc != len)
        DIE ("zmq_send (%zu bytes) returned %d", len, rc);
}

static void send_message (void *sock, int pattern, int dir, size_t s,
                          int index)
{
    shape_t sh = shape_of (pattern, dir, s, index);
    for (int f = 0; f < sh.n; f++) {
        snprintf (g_where, sizeof g_where, " [send size %zu msg %d frame %d]",
                  s, index, f);
        fill (g_buf, sh.len[f], pattern, dir, s, index, f);
        send_frame (sock, g_buf, sh.len[f], f + 1 < sh.n);
    }
    g_where[0] = '\0';
}

/* Receives one frame; checks its size, content (when want != NULL) and that
 * more-flag equals want_more. */
/* Set by the curve and plain patterns on the server: each received frame
 * must carry this "User-Id" property. */
static const char *g_user_id;

static void recv_frame (void *sock, const void *want, size_t want_len,
                        int want_more)
{
    zmq_msg_t msg;
    ZCHECK (zmq_msg_init (&msg));
    int rc = zmq_msg_recv (&msg, sock, 0);
    if (rc == -1)
        DIE ("zmq_msg_recv: %s (errno %d)%s", zmq_strerror (errno), errno,
             errno == EAGAIN ? " - timed out" : "");
    size_t got = zmq_msg_size (&msg);
    if ((size_t) rc != got)
        DIE ("zmq_msg_recv returned %d but zmq_msg_size is %zu", rc, got);
    if (got != want_len)
        DIE ("frame size %zu, expected %zu", got, want_len);
    if (want && got) {
        const unsigned char *d = zmq_msg_data (&msg);
        if (memcmp (d, want, got) != 0) {
            size_t j = 0;
            while (d[j] == ((const unsigned char *) want)[j])
                j++;
            DIE ("content differs at byte %zu of %zu (got 0x%02x, want "
                 "0x%02x)",
                 j, got, d[j], ((const unsigned char *) want)[j]);
        }
    }
    if (g_user_id) {
        const char *uid = zmq_msg_gets (&msg, "User-Id");
        if (!uid || strcmp (uid, g_user_id) != 0)
            DIE ("User-Id %s, expected %s", uid ? uid : "(none)", g_user_id);
    }
    int more = zmq_msg_more (&msg);
    int opt = -1;
    size_t optlen = sizeof opt;
    ZCHECK (zmq_getsockopt (sock, ZMQ_RCVMORE, &opt, &optlen));
    if (more != want_more || opt != want_more)
        DIE ("more flag: zmq_msg_more %d, ZMQ_RCVMORE %d, expected %d", more,
             opt, want_more);
    ZCHECK (zmq_msg_close (&msg));
}

static void recv_message (void *sock, int pattern, int dir, size_t s,
                          int index)
{
    shape_t sh = shape_of (pattern, dir, s, index);
    for (int f = 0; f < sh.n; f++) {
        snprintf (g_where, sizeof g_where, " [recv size %zu msg %d frame %d]",
                  s, index, f);
        fill (g_buf, sh.len[f], pattern, dir, s, index, f);
        recv_frame (sock, g_buf, sh.len[f], f + 1 < sh.n);
    }
    g_where[0] = '\0';
}

static const unsigned char g_dealer_id[] = {'D', 'i', 0x00, 0xff, 0x80, '!'};
static const char g_done[] = "done";

static void send_done (void *sock)
{
    snprintf (g_where, sizeof g_where, " [send done]");
    send_frame (sock, g_done, sizeof g_done - 1, 0);
    g_where[0] = '\0';
}

static void recv_done (void *sock)
{
    snprintf (g_where, sizeof g_where, " [recv done]");
    recv_frame (sock, g_done, sizeof g_done - 1, 0);
    g_where[0] = '\0';
}

static void recv_id (void *sock)
{
    recv_frame (sock, g_dealer_id, sizeof g_dealer_id, 1);
}

/* Keys from zmq_curve(7)'s example; PLAIN credentials. */
static const char g_server_public[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char g_server_secret[] = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
static const char g_client_public[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char g_client_secret[] = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
static const char g_username[] = "interop";
static const char g_password[] = "pass\x01word";
static const char g_zap_user[] = "interop-user";

enum { SEC_NONE = 0, SEC_CURVE, SEC_PLAIN };

/* Receives one frame as a NUL-terminated string (at most cap - 1 bytes);
 * returns its size and whether more follow, or -1 when the context ends. */
static int zap_frame (void *rep, char *buf, size_t cap, int *more)
{
    int n = zmq_recv (rep, buf, cap - 1, 0);
    if (n == -1)
        return -1;
    buf[n < (int) cap - 1 ? n : (int) cap - 1] = '\0';
    int opt = 0;
    size_t optlen = sizeof opt;
    ZCHECK (zmq_getsockopt (rep, ZMQ_RCVMORE, &opt, &optlen));
    *more = opt;
    return n;
}

/* The ZAP handler (RFC 27): answers 200 to the expected client only. */
static void *zap_handler (void *arg)
{
    void *rep = arg;
    char f[9][64];
    int sizes[9];
    while (1) {
        int count = 0, more = 1;
        while (more && count < 9) {
            sizes[count] = zap_frame (rep, f[count], sizeof f[count], &more);
            if (sizes[count] == -1)
                goto done;
            count++;
        }
        if (more)
            DIE ("zap: request of more than 9 frames");
        unsigned char client_key[32];
        zmq_z85_decode (client_key, g_client_public);
        int ok = count >= 6 && strcmp (f[0], "1.0") == 0;
        if (ok && strcmp (f[5], "CURVE") == 0)
            ok = count == 7 && sizes[6] == 32
                 && memcmp (f[6], client_key, 32) == 0;
        else if (ok && strcmp (f[5], "PLAIN") == 0)
            ok = count == 8 && strcmp (f[6], g_username) == 0
                 && strcmp (f[7], g_password) == 0;
        else
            ok = 0;
        if (!ok)
            fprintf (stderr, "peer: zap refuses a %d-frame request (%s)\n",
                     count, count > 5 ? f[5] : "?");
        ZCHECK (zmq_send (rep, "1.0", 3, ZMQ_SNDMORE));
        ZCHECK (zmq_send (rep, f[1], strlen (f[1]), ZMQ_SNDMORE));
        ZCHECK (zmq_send (rep, ok ? "200" : "400", 3, ZMQ_SNDMORE));
        ZCHECK (zmq_send (rep, ok ? "OK" : "no", 2, ZMQ_SNDMORE));
        ZCHECK (zmq_send (rep, g_zap_user, ok ? strlen (g_zap_user) : 0,
                          ZMQ_SNDMORE));
        ZCHECK (zmq_send (rep, "", 0, 0));
    }
done:
    zmq_close (rep);
    return NULL;
}

/* Sets up CURVE or PLAIN on `sock` (the server side also binds the ZAP
 * handler, whose thread is returned for joining). */
static int setup_security (void *ctx, void *sock, int security, int server,
                           pthread_t *zap)
{
    if (security == SEC_NONE)
        return 0;
    if (server) {
        void *rep = zmq_socket (ctx, ZMQ_REP);
        if (!rep || zmq_bind (rep, "inproc://zeromq.zap.01") == -1)
            DIE ("zap handler: %s", zmq_strerror (errno));
        if (pthread_create (zap, NULL, zap_handler, rep) != 0)
            DIE ("pthread_create");
        g_user_id = g_zap_user;
    }
    if (security == SEC_CURVE) {
        if (server) {
            set_int (sock, ZMQ_CURVE_SERVER, 1);
            ZCHECK (zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, g_server_secret, 40));
        } else {
            ZCHECK (zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, g_server_public, 40));
            ZCHECK (zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, g_client_public, 40));
            ZCHECK (zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, g_client_secret, 40));
        }
    } else if (server) {
        set_int (sock, ZMQ_PLAIN_SERVER, 1);
    } else {
        ZCHECK (zmq_setsockopt (sock, ZMQ_PLAIN_USERNAME, g_username,
                                strlen (g_username)));
        ZCHECK (zmq_setsockopt (sock, ZMQ_PLAIN_PASSWORD, g_password,
                                strlen (g_password)));
    }
    return server;
}

int main (int argc, char **argv)
{
    interop_watchdog (RUN_TIMEOUT_S);
    if (argc == 2 && strcmp (argv[1], "version") == 0) {
        int ma, mi, pa;
        zmq_version (&ma, &mi, &pa);
        printf ("%d.%d.%d\n", ma, mi, pa);
        return 0;
    }
    if (argc < 4) {
        fprintf (stderr, "usage: %s server|client reqrep|dealer-router|"
                         "pushpull|pair endpoint [sizes...]\n",
                 argv[0]);
        return 2;
    }
    g_role = argv[1];
    g_pattern = argv[2];
    const char *endpoint = argv[3];
    int server;
    if (strcmp (g_role, "server") == 0)
        server = 1;
    else if (strcmp (g_role, "client") == 0)
        server = 0;
    else
        DIE ("unknown role");
    int pattern;
    int security = SEC_NONE;
    if (strcmp (g_pattern, "curve") == 0)
        security = SEC_CURVE;
    else if (strcmp (g_pattern, "plain") == 0)
        security = SEC_PLAIN;
    if (security != SEC_NONE)
        pattern = P_DEALER_ROUTER;
    else if (strcmp (g_pattern, "reqrep") == 0)
        pattern = P_REQREP;
    else if (strcmp (g_pattern, "dealer-router") == 0)
        pattern = P_DEALER_ROUTER;
    else if (strcmp (g_pattern, "pushpull") == 0)
        pattern = P_PUSHPULL;
    else if (strcmp (g_pattern, "pair") == 0)
        pattern = P_PAIR;
    else
        DIE ("unknown pattern");

    static const size_t default_sizes[] = {0,   1,    33,    34,     255,
                                           256, 8191, 65536, 1048576};
    size_t nsizes = argc > 4 ? (size_t) (argc - 4)
                             : sizeof default_sizes / sizeof *default_sizes;
    size_t *sizes = calloc (nsizes, sizeof *sizes);
    size_t max_size = 1;
    for (size_t k = 0; k < nsizes; k++) {
        if (argc > 4) {
            char *end;
            sizes[k] = strtoul (argv[4 + k], &end, 10);
            if (*end || end == argv[4 + k])
                DIE ("bad size %s", argv[4 + k]);
        } else
            sizes[k] = default_sizes[k];
        if (sizes[k] > max_size)
            max_size = sizes[k];
    }
    g_buf = malloc (max_size);
    if (!sizes || !g_buf)
        DIE ("out of memory");

    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    fprintf (stderr, "peer[%s %s]: libzmq %d.%d.%d (pid %d)\n", g_role,
             g_pattern, major, minor, patch, (int) getpid ());

    void *ctx = zmq_ctx_new ();
    if (!ctx)
        DIE ("zmq_ctx_new: %s", zmq_strerror (errno));
    int type;
    switch (pattern) {
        case P_REQREP:
            type = server ? ZMQ_REP : ZMQ_REQ;
            break;
        case P_DEALER_ROUTER:
            type = server ? ZMQ_ROUTER : ZMQ_DEALER;
            break;
        case P_PUSHPULL:
            type = server ? ZMQ_PULL : ZMQ_PUSH;
            break;
        default:
            type = ZMQ_PAIR;
    }
    void *sock = zmq_socket (ctx, type);
    if (!sock)
        DIE ("zmq_socket: %s (errno %d)", zmq_strerror (errno), errno);
    set_int (sock, ZMQ_RCVTIMEO, IO_TIMEOUT_MS);
    set_int (sock, ZMQ_SNDTIMEO, IO_TIMEOUT_MS);
    if (pattern == P_DEALER_ROUTER && !server)
        ZCHECK (zmq_setsockopt (sock, ZMQ_ROUTING_ID, g_dealer_id,
                                sizeof g_dealer_id));
    if (pattern == P_DEALER_ROUTER && server)
        set_int (sock, ZMQ_ROUTER_MANDATORY, 1);
    if (security == SEC_CURVE && !zmq_has ("curve"))
        DIE ("this libzmq has no CURVE");
    pthread_t zap;
    int has_zap = setup_security (ctx, sock, security, server, &zap);

    if (server) {
        if (zmq_bind (sock, endpoint) == -1)
            DIE ("zmq_bind (%s): %s (errno %d)", endpoint,
                 zmq_strerror (errno), errno);
        char ep[256];
        size_t eplen = sizeof ep;
        ZCHECK (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, ep, &eplen));
        printf ("%s\n", ep);
        fflush (stdout);
    } else {
        if (zmq_connect (sock, endpoint) == -1)
            DIE ("zmq_connect (%s): %s (errno %d)", endpoint,
                 zmq_strerror (errno), errno);
    }

    for (size_t k = 0; k < nsizes; k++) {
        size_t s = sizes[k];
        switch (pattern) {
            case P_REQREP:
                for (int i = 0; i < REPS; i++) {
                    if (server) {
                        recv_message (sock, pattern, DIR_C2S, s, i);
                        send_message (sock, pattern, DIR_S2C, s, i);
                    } else {
                        send_message (sock, pattern, DIR_C2S, s, i);
                        recv_message (sock, pattern, DIR_S2C, s, i);
                    }
                }
                break;
            case P_DEALER_ROUTER:
                if (server) {
                    for (int i = 0; i < REPS; i++) {
                        snprintf (g_where, sizeof g_where,
                                  " [recv size %zu msg %d routing id]", s, i);
                        recv_id (sock);
                        recv_message (sock, pattern, DIR_C2S, s, i);
                        snprintf (g_where, sizeof g_where,
                                  " [send size %zu msg %d routing id]", s, i);
                        send_frame (sock, g_dealer_id, sizeof g_dealer_id, 1);
                        send_message (sock, pattern, DIR_S2C, s, i);
                    }
                } else {
                    for (int i = 0; i < REPS; i++)
                        send_message (sock, pattern, DIR_C2S, s, i);
                    for (int i = 0; i < REPS; i++)
                        recv_message (sock, pattern, DIR_S2C, s, i);
                }
                break;
            case P_PUSHPULL:
                for (int i = 0; i < REPS; i++) {
                    if (server)
                        recv_message (sock, pattern, DIR_C2S, s, i);
                    else
                        send_message (sock, pattern, DIR_C2S, s, i);
                }
                break;
            case P_PAIR: {
                int out = server ? DIR_S2C : DIR_C2S;
                int in = server ? DIR_C2S : DIR_S2C;
                for (int i = 0; i < REPS; i++)
                    send_message (sock, pattern, out, s, i);
                for (int i = 0; i < REPS; i++)
                    recv_message (sock, pattern, in, s, i);
                break;
            }
        }
    }

    //  Closing handshake (see header comment).
    if (pattern != P_PUSHPULL) {
        if (server) {
            if (pattern == P_DEALER_ROUTER) {
                snprintf (g_where, sizeof g_where, " [recv done routing id]");
                recv_id (sock);
            }
            recv_done (sock);
        } else {
            send_done (sock);
        }
    }

    //  Nothing unexpected left over.
    {
        char b[16];
        if (pattern != P_PUSHPULL || server) {
            if (zmq_recv (sock, b, sizeof b, ZMQ_DONTWAIT) != -1)
                DIE ("unexpected extra message after the scenario");
            if (errno != EAGAIN && errno != EFSM)
                DIE ("final recv: %s (errno %d)", zmq_strerror (errno), errno);
        }
    }

    //  Default linger: a client's last messages (pushpull data, "done") must
    //  still be delivered after close.
    ZCHECK (zmq_close (sock));
    ZCHECK (zmq_ctx_term (ctx));
    if (has_zap)
        pthread_join (zap, NULL);
    free (g_buf);
    free (sizes);
    fprintf (stderr, "peer[%s %s]: OK (%zu sizes x %d messages)\n", g_role,
             g_pattern, nsizes, REPS);
    return 0;
}
