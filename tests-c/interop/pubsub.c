/* One side of a cross-process publish-subscribe interop scenario.
 *
 *   pubsub server <pattern> <bind-endpoint>
 *   pubsub client <pattern> "<endpoint> [<control-endpoint>]"
 *
 * As with peer.c, the server binds (tcp://127.0.0.1:* or ipc:///dir/x.sock),
 * prints what the client needs as one line on stdout (the resolved
 * endpoint, and for "pubsub" a second, control endpoint), and the client
 * connects; each side runs on the libzmq LD_LIBRARY_PATH selects and prints
 * its version on stderr.  Every blocking call is bounded (RCVTIMEO,
 * SNDTIMEO, and deadlines on every wait) and an alarm bounds the run.
 * Exit 0 on success, 1 with a message on any mismatch.
 *
 * pubsub: PUB (server, bound) -> SUB (client), with a REQ (client) / REP
 *   (server) control connection so that nothing depends on timing:
 *   1. The server publishes "weather.tick" every TICK_MS until the client,
 *      having received one (its subscription is in), says "ready".  Then
 *      ROUNDS rounds of "weather.london <r>", ["weather.paris <r>"]["body
 *      <r>"] (two frames), "news.sports <r>", "news.politics <r>", "wea <r>",
 *      "" (empty), "sports <r>", and "weather.end".  The client subscribed to
 *      "weather." and "news.sports": it must get exactly its topics, in
 *      order, multipart messages whole, and nothing else.
 *   2. The client unsubscribes from "news.sports" and says so; the server
 *      publishes rounds of "news.sports <k>", "weather.mark <k>" until the
 *      client says "stop", which it does after CUT_ROUNDS marks in a row
 *      without sports; then "weather.end2".  Once a round has come without
 *      its sports message, no sports message may follow.
 *   3. The other way round: the client binds a second SUB (subscribed to
 *      "rev.") and sends its endpoint; the server connects a second PUB to
 *      it, ticks "rev.tick" until the client is "ready2", then publishes
 *      rounds of "rev.x <r>", "other <r>", ["rev.y <r>"]["tail <r>"] and
 *      "rev.end".  So subscriptions travel from a bound SUB to a connecting
 *      PUB, too.
 *
 * xpub-xsub: XPUB (server, bound) <- XSUB (client);
 * xsub-xpub: XSUB (server, bound) <- XPUB (client).  The same script either
 *   way; the XSUB side drives it and every step is confirmed by a message
 *   the other side must see before it acts, so again nothing is timed:
 *     XSUB sends \x01alpha           XPUB receives exactly "\x01alpha",
 *                                    publishes alpha.1, beta.0, [alpha.2]
 *                                    [body], "", alpha.end
 *     XSUB receives alpha.1, [alpha.2][body], alpha.end (only)
 *     XSUB sends \x01beta twice,     XPUB receives \x01beta once (not
 *       then \x01gamma               verbose: a duplicate is not passed on),
 *                                    then \x01gamma
 *     XSUB sends \x00beta, \x01delta XPUB receives \x01delta only (beta is
 *                                    still subscribed once)
 *     XSUB sends \x00beta, \x01epsilon  XPUB receives \x00beta, \x01epsilon
 *     XSUB sends \x00alpha           XPUB receives \x00alpha, publishes
 *                                    alpha.after, gamma.1, beta.2, delta.1,
 *                                    z\0y.0, epsilon.end
 *     XSUB receives gamma.1, delta.1, epsilon.end (only)
 *     XSUB sends \x01 z\0y (a topic  XPUB receives it, publishes z\0x,
 *       with a NUL byte)             z\0y!, gamma.end
 *     XSUB receives z\0y!, gamma.end
 *     XSUB sends "done" (a plain     XPUB receives "done", publishes
 *       message, passed upstream)    gamma.bye
 *     XSUB receives gamma.bye; nothing else is left on either side.
 *   With the XSUB bound, its first subscription is sent before any XPUB has
 *   connected: it must go out when the XPUB arrives. */
#define INTEROP_NAME "pubsub"
#include "interop.h"

#define IO_TIMEOUT_MS 10000
#define RUN_TIMEOUT_S 60
#define TICK_MS 10
#define ROUNDS 50
#define CUT_ROUNDS 20
#define HWM 100000

static void stage (const char *s)
{
    snprintf (g_where, sizeof g_where, " [%s]", s);
}

static void *new_socket (void *ctx, int type)
{
    void *sock = zmq_socket (ctx, type);
    if (!sock)
        DIE ("zmq_socket (%d): %s (errno %d)", type, zmq_strerror (errno),
             errno);
    set_int (sock, ZMQ_RCVTIMEO, IO_TIMEOUT_MS);
    set_int (sock, ZMQ_SNDTIMEO, IO_TIMEOUT_MS);
    return sock;
}

static void send_bytes (void *sock, const void *data, size_t len, int flags)
{
    int rc = zmq_send (sock, data, len, flags);
    if (rc != (int) len)
        DIE ("zmq_send (%zu bytes): %s (errno %d)", len, zmq_strerror (errno),
             errno);
}

static void send_str (void *sock, const char *s, int flags)
{
    send_bytes (sock, s, strlen (s), flags);
}

static void sendf (void *sock, int flags, const char *fmt, int r)
{
    char buf[128];
    snprintf (buf, sizeof buf, fmt, r);
    send_str (sock, buf, flags);
}

/* Receives one frame into buf (cap bytes, NUL added); returns its size, and
 * its more flag in *more. */
static size_t recv_frame (void *sock, char *buf, size_t cap, int *more)
{
    int n = zmq_recv (sock, buf, cap - 1, 0);
    if (n == -1)
        DIE ("zmq_recv: %s (errno %d)%s", zmq_strerror (errno), errno,
             errno == EAGAIN ? " - timed out" : "");
    if ((size_t) n > cap - 1)
        DIE ("frame of %d bytes does not fit %zu", n, cap - 1);
    buf[n] = '\0';
    int opt = 0;
    size_t sz = sizeof opt;
    ZCHECK (zmq_getsockopt (sock, ZMQ_RCVMORE, &opt, &sz));
    *more = opt;
    return (size_t) n;
}

/* Receives one frame that must be exactly (data, len) with the given more
 * flag. */
static void expect_bytes (void *sock, const void *data, size_t len,
                          int want_more)
{
    char buf[256];
    int more;
    size_t n = recv_frame (sock, buf, sizeof buf, &more);
    if (n != len || memcmp (buf, data, len) != 0) {
        char shown[300];
        size_t k = 0;
        for (size_t i = 0; i < n && k + 5 < sizeof shown; i++)
            k += (size_t) snprintf (shown + k, sizeof shown - k,
                                    (unsigned char) buf[i] < 32
                                        || (unsigned char) buf[i] > 126
                                      ? "\\x%02x"
                                      : "%c",
                                    (unsigned char) buf[i]);
        shown[k] = '\0';
        DIE ("expected a %zu-byte frame \"%.*s\", got %zu bytes \"%s\"", len,
             (int) len, (const char *) data, n, shown);
    }
    if (more != want_more)
        DIE ("frame \"%s\": more flag %d, expected %d", buf, more, want_more);
}

static void expect_str (void *sock, const char *s, int want_more)
{
    expect_bytes (sock, s, strlen (s), want_more);
}

static void expectf (void *sock, int want_more, const char *fmt, int r)
{
    char buf[128];
    snprintf (buf, sizeof buf, fmt, r);
    expect_str (sock, buf, want_more);
}

/* Nothing (else) to receive on sock right now. */
static void expect_nothing (void *sock, const char *what)
{
    char buf[64];
    int n = zmq_recv (sock, buf, sizeof buf, ZMQ_DONTWAIT);
    if (n != -1)
        DIE ("unexpected extra message of %d bytes on the %s", n, what);
    if (errno != EAGAIN)
        DIE ("final recv on the %s: %s (errno %d)", what, zmq_strerror (errno),
             errno);
}

/* ---- pubsub -------------------------------------------------------------- */

/* Server: publishes tick on pub every TICK_MS until the request ask arrives
 * on the REP ctl, answered with answer. */
static void tick_until (void *pub, void *ctl, const char *tick,
                        const char *ask, const char *answer)
{
    int64_t deadline = now_ms () + IO_TIMEOUT_MS;
    for (;;) {
        if (now_ms () > deadline)
            DIE ("no \"%s\" after ticking for %d ms", ask, IO_TIMEOUT_MS);
        send_str (pub, tick, 0);
        zmq_pollitem_t item = {ctl, 0, ZMQ_POLLIN, 0};
        if (ZCHECK (zmq_poll (&item, 1, TICK_MS)) > 0)
            break;
    }
    expect_str (ctl, ask, 0);
    send_str (ctl, answer, 0);
}

/* Client: a REQ round trip. */
static void ask (void *ctl, const char *question, const char *answer)
{
    send_str (ctl, question, 0);
    expect_str (ctl, answer, 0);
}

/* Client: waits for the first tick on sub, then says ready; returns once
 * the server stopped ticking.  Leftover ticks are skipped by skip_ticks. */
static void wait_tick (void *sub, void *ctl, const char *tick,
                       const char *ready, const char *go)
{
    expect_str (sub, tick, 0);
    ask (ctl, ready, go);
}

/* Client: receives the first frame after the ticks into buf. */
static size_t skip_ticks (void *sub, const char *tick, char *buf, size_t cap,
                          int *more)
{
    for (;;) {
        size_t n = recv_frame (sub, buf, cap, more);
        if (strcmp (buf, tick) != 0 || *more)
            return n;
    }
}

static void pubsub_server (void *ctx, const char *endpoint)
{
    void *pub = new_socket (ctx, ZMQ_PUB);
    set_int (pub, ZMQ_SNDHWM, HWM);
    if (zmq_bind (pub, endpoint) == -1)
        DIE ("zmq_bind (%s): %s", endpoint, zmq_strerror (errno));
    char ep[256], ctl_ep[300];
    size_t len = sizeof ep;
    ZCHECK (zmq_getsockopt (pub, ZMQ_LAST_ENDPOINT, ep, &len));
    void *ctl = new_socket (ctx, ZMQ_REP);
    if (strncmp (endpoint, "ipc://", 6) == 0)
        snprintf (ctl_ep, sizeof ctl_ep, "%s-ctl", endpoint);
    else
        snprintf (ctl_ep, sizeof ctl_ep, "tcp://127.0.0.1:*");
    if (zmq_bind (ctl, ctl_ep) == -1)
        DIE ("zmq_bind (%s): %s", ctl_ep, zmq_strerror (errno));
    len = sizeof ctl_ep;
    ZCHECK (zmq_getsockopt (ctl, ZMQ_LAST_ENDPOINT, ctl_ep, &len));
    printf ("%s %s\n", ep, ctl_ep);
    fflush (stdout);

    stage ("1: filtering");
    tick_until (pub, ctl, "weather.tick", "ready", "go");
    for (int r = 0; r < ROUNDS; r++) {
        sendf (pub, 0, "weather.london %d", r);
        sendf (pub, ZMQ_SNDMORE, "weather.paris %d", r);
        sendf (pub, 0, "body %d", r);
        sendf (pub, 0, "news.sports %d", r);
        sendf (pub, 0, "news.politics %d", r);
        sendf (pub, 0, "wea %d", r);
        send_str (pub, "", 0);
        sendf (pub, 0, "sports %d", r);
    }
    send_str (pub, "weather.end", 0);

    stage ("2: unsubscribe");
    expect_str (ctl, "unsubscribed", 0);
    send_str (ctl, "ok", 0);
    int64_t deadline = now_ms () + IO_TIMEOUT_MS;
    for (int k = 0;; k++) {
        if (now_ms () > deadline)
            DIE ("no \"stop\" after %d rounds", k);
        sendf (pub, 0, "news.sports %d", k);
        sendf (pub, 0, "weather.mark %d", k);
        zmq_pollitem_t item = {ctl, 0, ZMQ_POLLIN, 0};
        if (ZCHECK (zmq_poll (&item, 1, 2)) > 0)
            break;
    }
    expect_str (ctl, "stop", 0);
    send_str (ctl, "ok", 0);
    send_str (pub, "weather.end2", 0);

    stage ("3: PUB connects to a bound SUB");
    char req[300], rev_ep[300];
    int more;
    recv_frame (ctl, req, sizeof req, &more);
    if (more || sscanf (req, "bound %299s", rev_ep) != 1)
        DIE ("expected \"bound <endpoint>\", got \"%s\"", req);
    void *pub2 = new_socket (ctx, ZMQ_PUB);
    set_int (pub2, ZMQ_SNDHWM, HWM);
    if (zmq_connect (pub2, rev_ep) == -1)
        DIE ("zmq_connect (%s): %s", rev_ep, zmq_strerror (errno));
    send_str (ctl, "connected", 0);
    tick_until (pub2, ctl, "rev.tick", "ready2", "go2");
    for (int r = 0; r < ROUNDS; r++) {
        sendf (pub2, 0, "rev.x %d", r);
        sendf (pub2, 0, "other %d", r);
        sendf (pub2, ZMQ_SNDMORE, "rev.y %d", r);
        sendf (pub2, 0, "tail %d", r);
    }
    send_str (pub2, "rev.end", 0);

    stage ("done");
    expect_str (ctl, "done", 0);
    send_str (ctl, "bye", 0);
    expect_nothing (ctl, "control REP");
    ZCHECK (zmq_close (pub));
    ZCHECK (zmq_close (pub2));
    ZCHECK (zmq_close (ctl));
}

static void pubsub_client (void *ctx, const char *arg)
{
    char ep[300], ctl_ep[300];
    if (sscanf (arg, "%299s %299s", ep, ctl_ep) != 2)
        DIE ("expected \"<endpoint> <control-endpoint>\", got \"%s\"", arg);
    void *sub = new_socket (ctx, ZMQ_SUB);
    set_int (sub, ZMQ_RCVHWM, HWM);
    if (zmq_connect (sub, ep) == -1)
        DIE ("zmq_connect (%s): %s", ep, zmq_strerror (errno));
    ZCHECK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "weather.", 8));
    ZCHECK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "news.sports", 11));
    void *ctl = new_socket (ctx, ZMQ_REQ);
    if (zmq_connect (ctl, ctl_ep) == -1)
        DIE ("zmq_connect (%s): %s", ctl_ep, zmq_strerror (errno));

    stage ("1: filtering");
    wait_tick (sub, ctl, "weather.tick", "ready", "go");
    char buf[256], want[64];
    int more;
    skip_ticks (sub, "weather.tick", buf, sizeof buf, &more);
    for (int r = 0; r < ROUNDS; r++) {
        snprintf (g_where, sizeof g_where, " [1: filtering, round %d]", r);
        snprintf (want, sizeof want, "weather.london %d", r);
        if (r > 0)
            recv_frame (sub, buf, sizeof buf, &more);
        if (strcmp (buf, want) != 0 || more)
            DIE ("expected \"%s\", got \"%s\"%s", want, buf,
                 more ? " with more" : "");
        expectf (sub, 1, "weather.paris %d", r);
        expectf (sub, 0, "body %d", r);
        expectf (sub, 0, "news.sports %d", r);
    }
    expect_str (sub, "weather.end", 0);

    stage ("2: unsubscribe");
    ZCHECK (zmq_setsockopt (sub, ZMQ_UNSUBSCRIBE, "news.sports", 11));
    ask (ctl, "unsubscribed", "ok");
    int cut = -1, quiet = 0, last_sports = -1, next_mark = -1;
    while (quiet < CUT_ROUNDS) {
        int k;
        recv_frame (sub, buf, sizeof buf, &more);
        if (more)
            DIE ("\"%s\" with more", buf);
        if (sscanf (buf, "news.sports %d", &k) == 1) {
            if (cut >= 0)
                DIE ("\"%s\" after round %d came without sports", buf, cut);
            if (next_mark >= 0 && k != next_mark)
                DIE ("\"%s\", expected round %d", buf, next_mark);
            last_sports = k;
        } else if (sscanf (buf, "weather.mark %d", &k) == 1) {
            if (next_mark >= 0 && k != next_mark)
                DIE ("\"%s\", expected round %d", buf, next_mark);
            next_mark = k + 1;
            if (last_sports != k) {
                if (cut < 0)
                    cut = k;
                quiet++;
            }
        } else
            DIE ("unexpected \"%s\"", buf);
    }
    ask (ctl, "stop", "ok");
    for (;;) {
        int k;
        recv_frame (sub, buf, sizeof buf, &more);
        if (strcmp (buf, "weather.end2") == 0 && !more)
            break;
        if (more || sscanf (buf, "weather.mark %d", &k) != 1 || k != next_mark)
            DIE ("after the cut at round %d: unexpected \"%s\"", cut, buf);
        next_mark++;
    }

    stage ("3: PUB connects to a bound SUB");
    void *rev = new_socket (ctx, ZMQ_SUB);
    set_int (rev, ZMQ_RCVHWM, HWM);
    char rev_ep[320], req[400];
    if (strncmp (ep, "ipc://", 6) == 0)
        snprintf (rev_ep, sizeof rev_ep, "%s-rev", ep);
    else
        snprintf (rev_ep, sizeof rev_ep, "tcp://127.0.0.1:*");
    if (zmq_bind (rev, rev_ep) == -1)
        DIE ("zmq_bind (%s): %s", rev_ep, zmq_strerror (errno));
    size_t len = sizeof rev_ep;
    ZCHECK (zmq_getsockopt (rev, ZMQ_LAST_ENDPOINT, rev_ep, &len));
    ZCHECK (zmq_setsockopt (rev, ZMQ_SUBSCRIBE, "rev.", 4));
    snprintf (req, sizeof req, "bound %s", rev_ep);
    ask (ctl, req, "connected");
    wait_tick (rev, ctl, "rev.tick", "ready2", "go2");
    skip_ticks (rev, "rev.tick", buf, sizeof buf, &more);
    for (int r = 0; r < ROUNDS; r++) {
        snprintf (g_where, sizeof g_where, " [3: reverse, round %d]", r);
        snprintf (want, sizeof want, "rev.x %d", r);
        if (r > 0)
            recv_frame (rev, buf, sizeof buf, &more);
        if (strcmp (buf, want) != 0 || more)
            DIE ("expected \"%s\", got \"%s\"%s", want, buf,
                 more ? " with more" : "");
        expectf (rev, 1, "rev.y %d", r);
        expectf (rev, 0, "tail %d", r);
    }
    expect_str (rev, "rev.end", 0);

    stage ("done");
    ask (ctl, "done", "bye");
    expect_nothing (sub, "SUB");
    expect_nothing (rev, "bound SUB");
    ZCHECK (zmq_close (sub));
    ZCHECK (zmq_close (rev));
    ZCHECK (zmq_close (ctl));
}

/* ---- xpub-xsub / xsub-xpub ------------------------------------------------ */

static void send_sub (void *xsub, int subscribe, const char *topic,
                      size_t len)
{
    char buf[64];
    buf[0] = (char) subscribe;
    memcpy (buf + 1, topic, len);
    send_bytes (xsub, buf, len + 1, 0);
}

static void expect_sub (void *xpub, int subscribe, const char *topic,
                        size_t len)
{
    char buf[64];
    buf[0] = (char) subscribe;
    memcpy (buf + 1, topic, len);
    expect_bytes (xpub, buf, len + 1, 0);
}

#define S(lit) lit, sizeof lit - 1

static void xsub_side (void *xsub)
{
    stage ("subscribe alpha");
    send_sub (xsub, 1, S ("alpha"));
    expect_str (xsub, "alpha.1", 0);
    expect_str (xsub, "alpha.2", 1);
    expect_str (xsub, "body", 0);
    expect_str (xsub, "alpha.end", 0);

    stage ("duplicate subscriptions");
    send_sub (xsub, 1, S ("beta"));
    send_sub (xsub, 1, S ("beta"));
    send_sub (xsub, 1, S ("gamma"));
    send_sub (xsub, 0, S ("beta"));
    send_sub (xsub, 1, S ("delta"));
    send_sub (xsub, 0, S ("beta"));
    send_sub (xsub, 1, S ("epsilon"));
    send_sub (xsub, 0, S ("alpha"));
    stage ("filtering after the changes");
    expect_str (xsub, "gamma.1", 0);
    expect_str (xsub, "delta.1", 0);
    expect_str (xsub, "epsilon.end", 0);

    stage ("binary topic");
    send_sub (xsub, 1, S ("z\0y"));
    expect_bytes (xsub, S ("z\0y!"), 0);
    expect_str (xsub, "gamma.end", 0);

    stage ("message upstream");
    send_str (xsub, "done", 0);
    expect_str (xsub, "gamma.bye", 0);
    expect_nothing (xsub, "XSUB");
}

static void xpub_side (void *xpub)
{
    stage ("subscribe alpha");
    expect_sub (xpub, 1, S ("alpha"));
    send_str (xpub, "alpha.1", 0);
    send_str (xpub, "beta.0", 0);
    send_str (xpub, "alpha.2", ZMQ_SNDMORE);
    send_str (xpub, "body", 0);
    send_str (xpub, "", 0);
    send_str (xpub, "alpha.end", 0);

    stage ("duplicate subscriptions");
    expect_sub (xpub, 1, S ("beta"));
    expect_sub (xpub, 1, S ("gamma"));
    expect_sub (xpub, 1, S ("delta"));
    expect_sub (xpub, 0, S ("beta"));
    expect_sub (xpub, 1, S ("epsilon"));
    expect_sub (xpub, 0, S ("alpha"));
    stage ("filtering after the changes");
    send_str (xpub, "alpha.after", 0);
    send_str (xpub, "gamma.1", 0);
    send_str (xpub, "beta.2", 0);
    send_str (xpub, "delta.1", 0);
    send_bytes (xpub, S ("z\0y.0"), 0);
    send_str (xpub, "epsilon.end", 0);

    stage ("binary topic");
    expect_sub (xpub, 1, S ("z\0y"));
    send_bytes (xpub, S ("z\0x"), 0);
    send_bytes (xpub, S ("z\0y!"), 0);
    send_str (xpub, "gamma.end", 0);

    stage ("message upstream");
    expect_str (xpub, "done", 0);
    expect_nothing (xpub, "XPUB");
    send_str (xpub, "gamma.bye", 0);
}

static void x_run (void *ctx, int server, int xpub_binds, const char *ep)
{
    int is_xpub = server == xpub_binds;
    void *sock = new_socket (ctx, is_xpub ? ZMQ_XPUB : ZMQ_XSUB);
    if (server) {
        if (zmq_bind (sock, ep) == -1)
            DIE ("zmq_bind (%s): %s", ep, zmq_strerror (errno));
        char resolved[256];
        size_t len = sizeof resolved;
        ZCHECK (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, resolved, &len));
        printf ("%s\n", resolved);
        fflush (stdout);
    } else if (zmq_connect (sock, ep) == -1)
        DIE ("zmq_connect (%s): %s", ep, zmq_strerror (errno));
    if (is_xpub)
        xpub_side (sock);
    else
        xsub_side (sock);
    //  Default linger: the XPUB's last message must still go out.
    ZCHECK (zmq_close (sock));
}

int main (int argc, char **argv)
{
    interop_watchdog (RUN_TIMEOUT_S);
    if (argc != 4) {
        fprintf (stderr,
                 "usage: %s server|client pubsub|xpub-xsub|xsub-xpub "
                 "endpoint\n",
                 argv[0]);
        return 2;
    }
    g_role = argv[1];
    g_pattern = argv[2];
    int server;
    if (strcmp (g_role, "server") == 0)
        server = 1;
    else if (strcmp (g_role, "client") == 0)
        server = 0;
    else
        DIE ("unknown role");
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    fprintf (stderr, "pubsub[%s %s]: libzmq %d.%d.%d (pid %d)\n", g_role,
             g_pattern, major, minor, patch, (int) getpid ());

    void *ctx = zmq_ctx_new ();
    if (!ctx)
        DIE ("zmq_ctx_new: %s", zmq_strerror (errno));
    if (strcmp (g_pattern, "pubsub") == 0) {
        if (server)
            pubsub_server (ctx, argv[3]);
        else
            pubsub_client (ctx, argv[3]);
    } else if (strcmp (g_pattern, "xpub-xsub") == 0)
        x_run (ctx, server, 1, argv[3]);
    else if (strcmp (g_pattern, "xsub-xpub") == 0)
        x_run (ctx, server, 0, argv[3]);
    else
        DIE ("unknown pattern");
    g_where[0] = '\0';
    ZCHECK (zmq_ctx_term (ctx));
    fprintf (stderr, "pubsub[%s %s]: OK\n", g_role, g_pattern);
    return 0;
}
