/* One side of the cross-process ZMQ_STREAM interop scenario: a STREAM
 * socket talking raw bytes with plain sockets and with another STREAM.
 *
 *   stream server <bind-endpoint>      (tcp://127.0.0.1:* or ipc:///dir/x)
 *   stream client <endpoint>
 *
 * The server binds a STREAM, prints its resolved ZMQ_LAST_ENDPOINT as one
 * line on stdout and serves four connections, one conversation each, told
 * apart by routing id.  A conversation is a header line
 * "HELLO <label> <n> <keep|close>\n" and n bytes of a pattern derived from
 * (label, offset), in whatever pieces the stream delivers; once the server
 * has checked all n bytes it answers with two messages, "OK <label> <n>\n"
 * and the n bytes transformed (each XOR 0x5a).  For "close" the client
 * then says "BYE\n" and the server closes the connection itself
 * ([id][""]: libzmq drops what the connection has not sent yet, hence the
 * BYE); for "keep" the client closes it.
 * The server checks: a connect notification ([id][""], ZMQ_STREAM_NOTIFY's
 * default) comes before any data of a connection; a disconnect notification
 * comes for each connection the client closed, and none for the ones the
 * server closed (as libzmq 4.3 does); nothing else arrives.
 *
 * The client, in one process:
 *   A, B  two plain sockets (AF_INET or AF_UNIX, no libzmq) open at once,
 *         their requests interleaved: A's header and first half, all of B,
 *         A's second half.  B ("close", 5000 bytes): reply, then EOF from
 *         the server.  A ("keep", 200000 bytes): reply, then the client
 *         closes its socket.
 *   C     a STREAM socket of the client's libzmq (its reconnection interval
 *         longer than the run: with reconnection off, libzmq 4.3 may drop
 *         the disconnect notification with the pipe): the
 *         connect notification, the request as one message, the reply in
 *         whatever pieces it comes, then the disconnect notification once
 *         the server closed ("close", 300000 bytes).
 *   D     another STREAM socket: the request in three messages, the reply,
 *         then the client closes the connection with [id][""] ("keep",
 *         70000 bytes).
 * So the client's library matters for C and D only; A and B show the
 * server's library against plain sockets.
 * Every wait is bounded and an alarm bounds the run.  Exit 0 on success,
 * 1 with a message on any mismatch. */
#define INTEROP_NAME "stream"
#include "interop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#define IO_TIMEOUT_MS 10000
#define RUN_TIMEOUT_S 60
#define GRACE_MS 200
#define CONVERSATIONS 4
#define MAX_ID 256

static unsigned char pattern (char label, size_t i)
{
    return (unsigned char) ((i * 131 + (size_t) label * 7 + (i >> 9))
                            ^ (i >> 3));
}

/* The conversation plan, shared by both sides. */
typedef struct
{
    char label;
    size_t n;
    int keep; //  1: the client closes; 0: the server closes
} plan_t;

static const plan_t plans[CONVERSATIONS] = {
  {'A', 200000, 1}, {'B', 5000, 0}, {'C', 300000, 0}, {'D', 70000, 1}};

static const plan_t *plan_of (char label)
{
    for (int i = 0; i < CONVERSATIONS; i++)
        if (plans[i].label == label)
            return &plans[i];
    return NULL;
}

static size_t header_of (const plan_t *p, char *buf, size_t cap)
{
    return (size_t) snprintf (buf, cap, "HELLO %c %zu %s\n", p->label, p->n,
                              p->keep ? "keep" : "close");
}

/* ---- Server ---------------------------------------------------------------- */

typedef struct
{
    unsigned char id[MAX_ID];
    size_t idlen;
    char header[64];
    size_t hlen;
    const plan_t *plan;
    size_t got;
    int replied, closed_by_server, disconnected;
} conv_t;

static conv_t convs[16];
static int nconvs;

static conv_t *find_conv (const unsigned char *id, size_t len)
{
    for (int i = 0; i < nconvs; i++)
        if (convs[i].idlen == len && memcmp (convs[i].id, id, len) == 0)
            return &convs[i];
    return NULL;
}

static void send_to (void *sock, const conv_t *c, const void *data,
                     size_t len)
{
    if (zmq_send (sock, c->id, c->idlen, ZMQ_SNDMORE) != (int) c->idlen)
        DIE ("zmq_send (routing id): %s (errno %d)", zmq_strerror (errno),
             errno);
    if (zmq_send (sock, data, len, 0) != (int) len)
        DIE ("zmq_send (%zu bytes): %s (errno %d)", len, zmq_strerror (errno),
             errno);
}

/* Takes a piece of a conversation's byte stream. */
static void take (void *sock, conv_t *c, const unsigned char *data,
                  size_t len)
{
    size_t off = 0;
    while (!c->plan && off < len) {
        char ch = (char) data[off++];
        if (c->hlen + 1 >= sizeof c->header)
            DIE ("header line too long");
        if (ch != '\n') {
            c->header[c->hlen++] = ch;
            continue;
        }
        c->header[c->hlen] = '\0';
        char label, mode[8];
        size_t n;
        if (sscanf (c->header, "HELLO %c %zu %7s", &label, &n, mode) != 3
            || !plan_of (label) || plan_of (label)->n != n
            || strcmp (mode, plan_of (label)->keep ? "keep" : "close") != 0)
            DIE ("bad header \"%s\"", c->header);
        for (int i = 0; i < nconvs; i++)
            if (convs[i].plan && convs[i].plan->label == label)
                DIE ("conversation %c twice", label);
        c->plan = plan_of (label);
    }
    if (!c->plan)
        return;
    if (c->replied) {
        //  After the reply of a "close" conversation: "BYE\n".
        static const char bye[] = "BYE\n";
        for (; off < len; off++, c->got++) {
            size_t k = c->got - c->plan->n;
            if (c->plan->keep || k >= 4 || data[off] != (unsigned char) bye[k])
                DIE ("conversation %c: unexpected byte 0x%02x after the reply",
                     c->plan->label, data[off]);
        }
        if (c->got == c->plan->n + 4) {
            send_to (sock, c, "", 0);
            c->closed_by_server = 1;
            fprintf (stderr, "stream[server]: conversation %c closed\n",
                     c->plan->label);
        }
        return;
    }
    for (; off < len && c->got < c->plan->n; off++, c->got++) {
        if (data[off] != pattern (c->plan->label, c->got))
            DIE ("conversation %c: byte %zu is 0x%02x, expected 0x%02x",
                 c->plan->label, c->got, data[off],
                 pattern (c->plan->label, c->got));
    }
    if (c->got == c->plan->n && !c->replied) {
        char head[64];
        snprintf (head, sizeof head, "OK %c %zu\n", c->plan->label,
                  c->plan->n);
        send_to (sock, c, head, strlen (head));
        unsigned char *body = malloc (c->plan->n);
        if (!body)
            DIE ("out of memory");
        for (size_t i = 0; i < c->plan->n; i++)
            body[i] = pattern (c->plan->label, i) ^ 0x5a;
        send_to (sock, c, body, c->plan->n);
        free (body);
        c->replied = 1;
        fprintf (stderr, "stream[server]: conversation %c answered\n",
                 c->plan->label);
        if (off < len)
            take (sock, c, data + off, len - off);
    }
}

static int server_done (void)
{
    int done = 0;
    for (int i = 0; i < nconvs; i++)
        if (convs[i].replied
            && (convs[i].closed_by_server || convs[i].disconnected))
            done++;
    return done == CONVERSATIONS;
}

static void server (void *ctx, const char *endpoint)
{
    void *sock = zmq_socket (ctx, ZMQ_STREAM);
    if (!sock)
        DIE ("zmq_socket (ZMQ_STREAM): %s", zmq_strerror (errno));
    set_int (sock, ZMQ_SNDTIMEO, IO_TIMEOUT_MS);
    set_int (sock, ZMQ_LINGER, 1000);
    if (zmq_bind (sock, endpoint) == -1)
        DIE ("zmq_bind (%s): %s (errno %d)", endpoint, zmq_strerror (errno),
             errno);
    char ep[256];
    size_t eplen = sizeof ep;
    ZCHECK (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, ep, &eplen));
    printf ("%s\n", ep);
    fflush (stdout);

    size_t cap = 1 << 20;
    unsigned char *buf = malloc (cap);
    if (!buf)
        DIE ("out of memory");
    int64_t last = now_ms (), grace_until = -1;
    for (;;) {
        if (grace_until < 0 && server_done ())
            grace_until = now_ms () + GRACE_MS;
        int64_t t = now_ms ();
        if (grace_until >= 0 && t >= grace_until)
            break;
        if (t - last > IO_TIMEOUT_MS)
            DIE ("nothing for %d ms (%d connections seen)", IO_TIMEOUT_MS,
                 nconvs);
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        if (ZCHECK (zmq_poll (&item, 1, 20)) == 0)
            continue;
        last = now_ms ();
        unsigned char id[MAX_ID];
        int idlen = zmq_recv (sock, id, sizeof id, 0);
        if (idlen < 0)
            DIE ("zmq_recv (routing id): %s", zmq_strerror (errno));
        int more = 0;
        size_t sz = sizeof more;
        ZCHECK (zmq_getsockopt (sock, ZMQ_RCVMORE, &more, &sz));
        if (!more || idlen == 0 || idlen > MAX_ID)
            DIE ("a routing id frame of %d bytes%s", idlen,
                 more ? "" : " without more");
        int n = zmq_recv (sock, buf, cap, 0);
        if (n < 0)
            DIE ("zmq_recv (data): %s", zmq_strerror (errno));
        if ((size_t) n > cap)
            DIE ("a data frame of %d bytes", n);
        ZCHECK (zmq_getsockopt (sock, ZMQ_RCVMORE, &more, &sz));
        if (more)
            DIE ("a data frame with more");
        conv_t *c = find_conv (id, (size_t) idlen);
        if (grace_until >= 0)
            DIE ("a %d-byte message for %s connection after the end", n,
                 c ? "a known" : "an unknown");
        if (n == 0 && !c) {
            //  Connect notification.
            if (nconvs == (int) (sizeof convs / sizeof *convs))
                DIE ("too many connections");
            c = &convs[nconvs++];
            memset (c, 0, sizeof *c);
            memcpy (c->id, id, (size_t) idlen);
            c->idlen = (size_t) idlen;
            continue;
        }
        if (!c)
            DIE ("%d bytes from an unknown routing id before its connect "
                 "notification",
                 n);
        if (n == 0) {
            //  Disconnect notification.
            if (c->closed_by_server)
                DIE ("a disconnect notification for conversation %c, which "
                     "the server closed",
                     c->plan->label);
            if (!c->replied || c->disconnected)
                DIE ("unexpected disconnect notification (conversation %c)",
                     c->plan ? c->plan->label : '?');
            c->disconnected = 1;
            fprintf (stderr, "stream[server]: conversation %c: peer closed\n",
                     c->plan->label);
            continue;
        }
        if (c->closed_by_server || c->disconnected)
            DIE ("data for a closed connection");
        take (sock, c, buf, (size_t) n);
    }
    if (nconvs != CONVERSATIONS)
        DIE ("%d connections, expected %d", nconvs, CONVERSATIONS);
    free (buf);
    ZCHECK (zmq_close (sock));
}

/* ---- Client ---------------------------------------------------------------- */

static int raw_connect (const char *ep)
{
    int fd;
    if (strncmp (ep, "tcp://", 6) == 0) {
        const char *colon = strrchr (ep, ':');
        int port = colon ? atoi (colon + 1) : 0;
        if (port <= 0)
            DIE ("bad tcp endpoint %s", ep);
        struct sockaddr_in a;
        memset (&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons ((uint16_t) port);
        a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        fd = socket (AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect (fd, (struct sockaddr *) &a, sizeof a) != 0)
            DIE ("connect to %s: %s", ep, strerror (errno));
    } else if (strncmp (ep, "ipc://", 6) == 0) {
        struct sockaddr_un a;
        memset (&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        if (strlen (ep + 6) >= sizeof a.sun_path)
            DIE ("ipc path too long");
        strcpy (a.sun_path, ep + 6);
        fd = socket (AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect (fd, (struct sockaddr *) &a, sizeof a) != 0)
            DIE ("connect to %s: %s", ep, strerror (errno));
    } else
        DIE ("unsupported endpoint %s", ep);
    return fd;
}

static void write_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        struct pollfd pf = {fd, POLLOUT, 0};
        if (poll (&pf, 1, IO_TIMEOUT_MS) <= 0)
            DIE ("raw socket not writable for %d ms", IO_TIMEOUT_MS);
        ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            DIE ("send: %s", strerror (errno));
        p += n;
        len -= (size_t) n;
    }
}

/* Reads exactly len bytes (or, with len 0, waits for EOF). */
static void read_exact (int fd, void *buf, size_t len)
{
    char *p = buf;
    char dummy;
    int want_eof = len == 0;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll (&pf, 1, IO_TIMEOUT_MS) <= 0)
            DIE ("raw socket: nothing for %d ms (%s)", IO_TIMEOUT_MS,
                 want_eof ? "waiting for EOF" : "reading the reply");
        ssize_t n = read (fd, want_eof ? &dummy : p, want_eof ? 1 : len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            DIE ("read: %s", strerror (errno));
        if (want_eof) {
            if (n != 0)
                DIE ("data after the reply where EOF was expected");
            return;
        }
        if (n == 0)
            DIE ("EOF with %zu bytes of the reply missing", len);
        p += n;
        len -= (size_t) n;
        if (len == 0)
            return;
    }
}

/* Checks a reply (header line and transformed body) held in buf. */
static void check_reply (const plan_t *p, const unsigned char *buf,
                         size_t len)
{
    char head[64];
    size_t hl = (size_t) snprintf (head, sizeof head, "OK %c %zu\n", p->label,
                                   p->n);
    if (len != hl + p->n)
        DIE ("conversation %c: reply of %zu bytes, expected %zu", p->label,
             len, hl + p->n);
    if (memcmp (buf, head, hl) != 0)
        DIE ("conversation %c: reply header \"%.*s\"", p->label, (int) hl,
             (const char *) buf);
    for (size_t i = 0; i < p->n; i++)
        if (buf[hl + i] != (pattern (p->label, i) ^ 0x5a))
            DIE ("conversation %c: reply byte %zu is 0x%02x, expected 0x%02x",
                 p->label, i, buf[hl + i], pattern (p->label, i) ^ 0x5a);
}

static unsigned char *request_of (const plan_t *p, size_t *len)
{
    char head[64];
    size_t hl = header_of (p, head, sizeof head);
    unsigned char *buf = malloc (hl + p->n);
    if (!buf)
        DIE ("out of memory");
    memcpy (buf, head, hl);
    for (size_t i = 0; i < p->n; i++)
        buf[hl + i] = pattern (p->label, i);
    *len = hl + p->n;
    return buf;
}

static void raw_reply (int fd, const plan_t *p)
{
    size_t len = 32 + p->n;
    unsigned char *buf = malloc (len);
    if (!buf)
        DIE ("out of memory");
    char head[64];
    size_t hl = (size_t) snprintf (head, sizeof head, "OK %c %zu\n", p->label,
                                   p->n);
    read_exact (fd, buf, hl + p->n);
    check_reply (p, buf, hl + p->n);
    free (buf);
}

/* A STREAM connection of the client's library: returns the routing id of
 * its connect notification. */
static void *zmq_conn (void *ctx, const char *ep, unsigned char *id,
                       size_t *idlen)
{
    void *s = zmq_socket (ctx, ZMQ_STREAM);
    if (!s)
        DIE ("zmq_socket (ZMQ_STREAM): %s", zmq_strerror (errno));
    set_int (s, ZMQ_RCVTIMEO, IO_TIMEOUT_MS);
    set_int (s, ZMQ_SNDTIMEO, IO_TIMEOUT_MS);
    set_int (s, ZMQ_RECONNECT_IVL, 2 * RUN_TIMEOUT_S * 1000);
    set_int (s, ZMQ_LINGER, 1000);
    if (zmq_connect (s, ep) == -1)
        DIE ("zmq_connect (%s): %s", ep, zmq_strerror (errno));
    int n = zmq_recv (s, id, MAX_ID, 0);
    if (n <= 0 || n > MAX_ID)
        DIE ("connect notification: routing id of %d bytes (%s)", n,
             n < 0 ? zmq_strerror (errno) : "");
    *idlen = (size_t) n;
    char b[8];
    n = zmq_recv (s, b, sizeof b, 0);
    if (n != 0)
        DIE ("connect notification: %d bytes of data, expected none (%s)", n,
             n < 0 ? zmq_strerror (errno) : "");
    return s;
}

/* Receives [id][data] on s into buf at *off (cap); returns the data size
 * (0: a notification). */
static size_t zmq_take (void *s, const unsigned char *id, size_t idlen,
                        unsigned char *buf, size_t *off, size_t cap)
{
    unsigned char rid[MAX_ID];
    int n = zmq_recv (s, rid, sizeof rid, 0);
    if (n < 0)
        DIE ("zmq_recv (routing id): %s (errno %d)%s", zmq_strerror (errno),
             errno, errno == EAGAIN ? " - timed out" : "");
    if ((size_t) n != idlen || memcmp (rid, id, idlen) != 0)
        DIE ("a message from another routing id (%d bytes)", n);
    n = zmq_recv (s, buf + *off, cap - *off, 0);
    if (n < 0)
        DIE ("zmq_recv (data): %s", zmq_strerror (errno));
    if ((size_t) n > cap - *off)
        DIE ("more reply data than expected");
    *off += (size_t) n;
    return (size_t) n;
}

static void zmq_send_to (void *s, const unsigned char *id, size_t idlen,
                         const void *data, size_t len)
{
    if (zmq_send (s, id, idlen, ZMQ_SNDMORE) != (int) idlen
        || zmq_send (s, data, len, 0) != (int) len)
        DIE ("zmq_send: %s (errno %d)", zmq_strerror (errno), errno);
}

static void zmq_reply (void *s, const unsigned char *id, size_t idlen,
                       const plan_t *p)
{
    char head[64];
    size_t hl = (size_t) snprintf (head, sizeof head, "OK %c %zu\n", p->label,
                                   p->n);
    size_t total = hl + p->n, off = 0;
    unsigned char *buf = malloc (total);
    if (!buf)
        DIE ("out of memory");
    while (off < total)
        if (zmq_take (s, id, idlen, buf, &off, total) == 0)
            DIE ("conversation %c: disconnected after %zu of %zu bytes",
                 p->label, off, total);
    check_reply (p, buf, total);
    free (buf);
}

static void client (void *ctx, const char *ep)
{
    size_t len, len_a;
    //  A and B: plain sockets.
    snprintf (g_where, sizeof g_where, " [A, B: plain sockets]");
    int a = raw_connect (ep), b = raw_connect (ep);
    unsigned char *req_a = request_of (plan_of ('A'), &len_a);
    size_t half = len_a / 2;
    write_all (a, req_a, half);
    unsigned char *req_b = request_of (plan_of ('B'), &len);
    write_all (b, req_b, len);
    free (req_b);
    write_all (a, req_a + half, len_a - half);
    free (req_a);
    raw_reply (b, plan_of ('B'));
    write_all (b, "BYE\n", 4);
    read_exact (b, NULL, 0); //  the server closes B
    close (b);
    raw_reply (a, plan_of ('A'));
    close (a); //  the client closes A

    //  C: a STREAM; the server closes.
    snprintf (g_where, sizeof g_where, " [C: STREAM, the server closes]");
    unsigned char id[MAX_ID];
    size_t idlen;
    void *s = zmq_conn (ctx, ep, id, &idlen);
    unsigned char *req = request_of (plan_of ('C'), &len);
    zmq_send_to (s, id, idlen, req, len);
    free (req);
    zmq_reply (s, id, idlen, plan_of ('C'));
    zmq_send_to (s, id, idlen, "BYE\n", 4);
    snprintf (g_where, sizeof g_where,
              " [C: STREAM, the server closes: disconnect notification]");
    {
        unsigned char b1[16];
        size_t off = 0;
        if (zmq_take (s, id, idlen, b1, &off, sizeof b1) != 0)
            DIE ("data after the reply where the disconnect notification "
                 "was expected");
    }
    ZCHECK (zmq_close (s));

    //  D: another STREAM, the request in three pieces; the client closes.
    snprintf (g_where, sizeof g_where, " [D: STREAM, the client closes]");
    s = zmq_conn (ctx, ep, id, &idlen);
    req = request_of (plan_of ('D'), &len);
    size_t cut1 = 10, cut2 = len / 2;
    zmq_send_to (s, id, idlen, req, cut1);
    zmq_send_to (s, id, idlen, req + cut1, cut2 - cut1);
    zmq_send_to (s, id, idlen, req + cut2, len - cut2);
    free (req);
    zmq_reply (s, id, idlen, plan_of ('D'));
    zmq_send_to (s, id, idlen, "", 0);
    ZCHECK (zmq_close (s));
    g_where[0] = '\0';
}

int main (int argc, char **argv)
{
    interop_watchdog (RUN_TIMEOUT_S);
    signal (SIGPIPE, SIG_IGN);
    if (argc != 3) {
        fprintf (stderr, "usage: %s server|client endpoint\n", argv[0]);
        return 2;
    }
    g_role = argv[1];
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    fprintf (stderr, "stream[%s]: libzmq %d.%d.%d (pid %d)\n", g_role, major,
             minor, patch, (int) getpid ());
    void *ctx = zmq_ctx_new ();
    if (!ctx)
        DIE ("zmq_ctx_new: %s", zmq_strerror (errno));
    if (strcmp (g_role, "server") == 0)
        server (ctx, argv[2]);
    else if (strcmp (g_role, "client") == 0)
        client (ctx, argv[2]);
    else
        DIE ("unknown role");
    ZCHECK (zmq_ctx_term (ctx));
    fprintf (stderr, "stream[%s]: OK\n", g_role);
    return 0;
}
