/* Guide chapter 2, "Intermediaries and Proxies": wuproxy, between a weather
 * publisher and its subscribers.
 *
 *   wupub (PUB, bound) -> [XSUB | wuproxy | XPUB (bound)] -> wusub (SUB) x2
 *
 * wupub is a separate process (guide_spawn): a PUB bound to tcp on
 * 127.0.0.1 (wildcard port) that hands its endpoint to the parent and then
 * publishes "<zipcode> <temperature> <seq>" for zipcodes ZIP_FIRST ..
 * ZIP_FIRST + ZIPS - 1 round-robin until told to stop.
 * wuproxy is the main process: an XSUB connected to wupub, an XPUB bound to
 * tcp, and zmq_proxy between them in its own thread, with a capture socket
 * (PUSH over inproc) read by another thread.
 * wusub runs SUBSCRIBERS times, each a separate process (guide_spawn): a
 * SUB connected to the proxy's XPUB with a one-zipcode subscription; it takes
 * UPDATES updates and checks each is its zipcode's, in order of seq.
 * What the capture sees proves the subscriptions crossed the proxy and were
 * applied upstream: every "\x01<zipcode> " the subscribers sent, and then
 * updates for subscribed zipcodes only (wupub filters, so an update of a
 * zipcode nobody subscribed to must never reach the proxy).
 * At the end the proxy context is shut down: zmq_proxy must return -1 with
 * ETERM.  Exit 0 when all of that held and every process exited 0. */
#include "guide.h"

#define SUBSCRIBERS 2
#define UPDATES 100
#define ZIP_FIRST 10000
#define ZIPS 10

static const char *const filters[SUBSCRIBERS] = {"10001 ", "10006 "};

static int wupub (const char *arg, int fd)
{
    (void) arg;
    void *ctx = ZPTR (zmq_ctx_new ());
    void *pub = guide_socket (ctx, ZMQ_PUB);
    char ep[256];
    guide_bind (pub, "tcp", ep);
    guide_write_line (fd, ep);
    long seq = 0;
    for (;;) {
        for (int z = 0; z < ZIPS; z++) {
            char update[64];
            snprintf (update, sizeof update, "%05d %d %ld", ZIP_FIRST + z,
                      (int) ((seq * 31 + z) % 100) - 20, seq);
            s_send (pub, update, 0);
        }
        seq++;
        guide_sleep_ms (1);
        char line[32];
        if (guide_try_line (fd, line, sizeof line)) {
            if (strcmp (line, "stop") != 0)
                DIE ("unexpected \"%s\" from the parent", line);
            break;
        }
    }
    fprintf (stderr, "wupub: %ld rounds of %d zipcodes\n", seq, ZIPS);
    ZCHECK (zmq_close (pub));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

static int wusub (const char *arg, int fd)
{
    char ep[256];
    int id;
    if (sscanf (arg, "%255s %d", ep, &id) != 2 || id < 0 || id >= SUBSCRIBERS)
        DIE ("bad argument \"%s\"", arg);
    void *ctx = ZPTR (zmq_ctx_new ());
    void *sub = guide_socket (ctx, ZMQ_SUB);
    ZCHECK (zmq_connect (sub, ep));
    ZCHECK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, filters[id],
                            strlen (filters[id])));
    long last = -1;
    for (int n = 0; n < UPDATES; n++) {
        char update[64];
        if (s_recv (sub, update, sizeof update))
            DIE ("update \"%s\" has more frames", update);
        int zip, temp;
        long seq;
        if (strncmp (update, filters[id], strlen (filters[id])) != 0
            || sscanf (update, "%d %d %ld", &zip, &temp, &seq) != 3)
            DIE ("subscriber '%s': unexpected update \"%s\"", filters[id],
                 update);
        if (seq <= last)
            DIE ("subscriber '%s': seq %ld after %ld", filters[id], seq, last);
        last = seq;
    }
    guide_write_line (fd, "done");
    ZCHECK (zmq_close (sub));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

struct proxy
{
    void *frontend, *backend, *capture;
};

static void *proxy_routine (void *arg)
{
    struct proxy *p = arg;
    errno = 0;
    int rc = zmq_proxy (p->frontend, p->backend, p->capture);
    if (rc != -1 || errno != ETERM)
        DIE ("zmq_proxy returned %d (errno %d: %s), expected -1 with ETERM",
             rc, errno, zmq_strerror (errno));
    ZCHECK (zmq_close (p->frontend));
    ZCHECK (zmq_close (p->backend));
    ZCHECK (zmq_close (p->capture));
    return NULL;
}

struct listener
{
    void *pull;
    int subscribed[ZIPS]; //  "\x01<zip> " seen
    int unsubscribed;     //  "\x00..." seen
    long updates;
};

static void *listener_routine (void *arg)
{
    struct listener *l = arg;
    for (;;) {
        char buf[64];
        int n = zmq_recv (l->pull, buf, sizeof buf - 1, 0);
        if (n == -1) {
            if (errno == ETERM)
                break;
            DIE ("capture: zmq_recv: %s", zmq_strerror (errno));
        }
        buf[n] = '\0';
        if (n > 0 && (buf[0] == 1 || buf[0] == 0)) {
            int zip;
            if (n != 7 || buf[6] != ' ' || sscanf (buf + 1, "%d", &zip) != 1
                || zip < ZIP_FIRST || zip >= ZIP_FIRST + ZIPS)
                DIE ("capture: unexpected subscription message of %d bytes",
                     n);
            if (buf[0] == 1)
                l->subscribed[zip - ZIP_FIRST]++;
            else
                l->unsubscribed++;
            continue;
        }
        int zip;
        if (sscanf (buf, "%d", &zip) != 1 || zip < ZIP_FIRST
            || zip >= ZIP_FIRST + ZIPS)
            DIE ("capture: unexpected message \"%s\"", buf);
        if (!l->subscribed[zip - ZIP_FIRST])
            DIE ("capture: update \"%s\" crossed the proxy, but nobody "
                 "subscribed to %d",
                 buf, zip);
        l->updates++;
    }
    ZCHECK (zmq_close (l->pull));
    return NULL;
}

int main (int argc, char **argv)
{
    static const guide_role_t roles[] = {{"wupub", wupub}, {"wusub", wusub}};
    guide_roles (argc, argv, roles, 2);
    guide_init ("wuproxy");

    guide_child_t publisher = guide_spawn ("wupub", "-");
    char pub_ep[256];
    guide_read_line (publisher.fd, pub_ep, sizeof pub_ep);

    void *ctx = ZPTR (zmq_ctx_new ());
    struct proxy p;
    p.frontend = ZPTR (zmq_socket (ctx, ZMQ_XSUB));
    p.backend = ZPTR (zmq_socket (ctx, ZMQ_XPUB));
    p.capture = ZPTR (zmq_socket (ctx, ZMQ_PUSH));
    set_int (p.frontend, ZMQ_LINGER, 0);
    set_int (p.backend, ZMQ_LINGER, 0);
    set_int (p.capture, ZMQ_LINGER, 0);
    ZCHECK (zmq_connect (p.frontend, pub_ep));
    char backend_ep[256], capture_ep[256];
    guide_bind (p.backend, "tcp", backend_ep);
    struct listener l;
    memset (&l, 0, sizeof l);
    l.pull = ZPTR (zmq_socket (ctx, ZMQ_PULL));
    set_int (l.pull, ZMQ_LINGER, 0);
    guide_bind (l.pull, "inproc://wuproxy-capture", capture_ep);
    ZCHECK (zmq_connect (p.capture, capture_ep));
    pthread_t listener = guide_thread (listener_routine, &l);
    pthread_t proxy = guide_thread (proxy_routine, &p);

    guide_child_t subs[SUBSCRIBERS];
    for (int i = 0; i < SUBSCRIBERS; i++) {
        char arg[300];
        snprintf (arg, sizeof arg, "%s %d", backend_ep, i);
        subs[i] = guide_spawn ("wusub", arg);
    }
    for (int i = 0; i < SUBSCRIBERS; i++) {
        char line[32];
        guide_read_line (subs[i].fd, line, sizeof line);
        if (strcmp (line, "done") != 0)
            DIE ("subscriber %d: \"%s\"", i, line);
        guide_reap (&subs[i], "wusub");
    }
    guide_write_line (publisher.fd, "stop");
    guide_reap (&publisher, "wupub");

    ZCHECK (zmq_ctx_shutdown (ctx));
    pthread_join (proxy, NULL);
    pthread_join (listener, NULL);
    ZCHECK (zmq_ctx_term (ctx));

    for (int i = 0; i < SUBSCRIBERS; i++) {
        int zip = atoi (filters[i]);
        if (l.subscribed[zip - ZIP_FIRST] != 1)
            DIE ("capture: subscription to %d seen %d times, expected once",
                 zip, l.subscribed[zip - ZIP_FIRST]);
    }
    if (l.updates < (long) UPDATES * SUBSCRIBERS)
        DIE ("capture: only %ld updates crossed the proxy, the subscribers "
             "took %d",
             l.updates, UPDATES * SUBSCRIBERS);
    printf ("PASS wuproxy: %d subscriptions and %ld updates crossed the "
            "proxy (%d unsubscriptions)\n",
            SUBSCRIBERS, l.updates, l.unsubscribed);
    return 0;
}
