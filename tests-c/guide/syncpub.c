/* Guide chapter 2, "Node Coordination": syncpub and syncsub.
 *
 * syncpub is the main process: a PUB and a REP, both bound to tcp on
 * 127.0.0.1 (wildcard ports).  It waits for SUBSCRIBERS synchronisation
 * requests on the REP (answering each), then publishes UPDATES updates
 * "update <n>" and a final "END".  Its SNDHWM is 0 (no limit): the burst
 * must not be dropped however far behind a subscriber is.
 * syncsub runs SUBSCRIBERS times, each a separate process (guide_spawn):
 * a SUB connected over tcp and subscribed to everything, then a REQ to the
 * REP sending "sync <id>".  It must then receive every update, in order,
 * and the END; it reports its count to the parent.
 *
 * As the Guide itself warns, the REQ/REP exchange alone does not prove the
 * SUB's connection and subscription have reached the publisher (they travel
 * over another tcp connection).  So that the test is deterministic without
 * sleeping, a second round settles it: after the sync round the publisher
 * sends "WAIT" ticks on the PUB every TICK_MS until every subscriber has
 * answered "ready <id>" on the REQ, which a subscriber does on its first
 * tick.  Ticks are ignored; everything after them is checked.
 * Exit 0 when every subscriber received all UPDATES updates and the END. */
#include "guide.h"

#define SUBSCRIBERS 3
#define UPDATES 1000
#define TICK_MS 5

/* s_recv with the stage in the failure message. */
static void sub_recv (void *sub, char *buf, size_t cap, const char *stage,
                      int n)
{
    int len = zmq_recv (sub, buf, cap - 1, 0);
    if (len == -1)
        DIE ("SUB receive %s (after %d updates): %s (errno %d)", stage, n,
             zmq_strerror (errno), errno);
    CHECK ((size_t) len < cap);
    buf[len] = '\0';
    int more = 0;
    size_t sz = sizeof more;
    ZCHECK (zmq_getsockopt (sub, ZMQ_RCVMORE, &more, &sz));
    if (more)
        DIE ("\"%s\" has more frames", buf);
}

static int syncsub (const char *arg, int fd)
{
    char pub_ep[256], sync_ep[256];
    int id;
    if (sscanf (arg, "%255s %255s %d", pub_ep, sync_ep, &id) != 3)
        DIE ("bad argument \"%s\"", arg);
    void *ctx = ZPTR (zmq_ctx_new ());
    void *sub = guide_socket (ctx, ZMQ_SUB);
    ZCHECK (zmq_connect (sub, pub_ep));
    ZCHECK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0));
    void *sync = guide_socket (ctx, ZMQ_REQ);
    ZCHECK (zmq_connect (sync, sync_ep));

    char msg[64];
    snprintf (msg, sizeof msg, "sync %d", id);
    s_send (sync, msg, 0);
    s_expect (sync, "go");

    //  The settling round: the first tick proves the subscription is in.
    char update[64];
    sub_recv (sub, update, sizeof update, "of the first tick", 0);
    if (strcmp (update, "WAIT") != 0)
        DIE ("expected a WAIT tick first, got \"%s\"", update);
    snprintf (msg, sizeof msg, "ready %d", id);
    s_send (sync, msg, 0);
    s_expect (sync, "ok");

    int ticks = 1, n = 0;
    for (;;) {
        sub_recv (sub, update, sizeof update, "of an update", n);
        if (strcmp (update, "WAIT") == 0) {
            if (n > 0)
                DIE ("WAIT tick after update %d", n - 1);
            ticks++;
            continue;
        }
        if (strcmp (update, "END") == 0)
            break;
        int k;
        if (sscanf (update, "update %d", &k) != 1 || k != n)
            DIE ("expected \"update %d\", got \"%s\"", n, update);
        n++;
    }
    if (n != UPDATES)
        DIE ("END after %d updates, expected %d", n, UPDATES);
    fprintf (stderr, "syncsub %d: %d updates (after %d ticks)\n", id, n,
             ticks);
    snprintf (msg, sizeof msg, "received %d", n);
    guide_write_line (fd, msg);
    ZCHECK (zmq_close (sub));
    ZCHECK (zmq_close (sync));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

int main (int argc, char **argv)
{
    static const guide_role_t roles[] = {{"syncsub", syncsub}};
    guide_roles (argc, argv, roles, 1);
    guide_init ("syncpub");

    void *ctx = ZPTR (zmq_ctx_new ());
    void *pub = guide_socket (ctx, ZMQ_PUB);
    set_int (pub, ZMQ_SNDHWM, 0);
    char pub_ep[256], sync_ep[256];
    guide_bind (pub, "tcp", pub_ep);
    void *sync = guide_socket (ctx, ZMQ_REP);
    guide_bind (sync, "tcp", sync_ep);

    guide_child_t subs[SUBSCRIBERS];
    for (int i = 0; i < SUBSCRIBERS; i++) {
        char arg[600];
        snprintf (arg, sizeof arg, "%s %s %d", pub_ep, sync_ep, i);
        subs[i] = guide_spawn ("syncsub", arg);
    }

    //  The Guide's synchronisation: one request from every subscriber.
    int seen[SUBSCRIBERS] = {0};
    for (int n = 0; n < SUBSCRIBERS; n++) {
        char msg[64];
        int id;
        if (s_recv (sync, msg, sizeof msg))
            DIE ("\"%s\" has more frames", msg);
        if (sscanf (msg, "sync %d", &id) != 1 || id < 0 || id >= SUBSCRIBERS
            || seen[id])
            DIE ("unexpected sync request \"%s\"", msg);
        seen[id] = 1;
        s_send (sync, "go", 0);
    }

    //  The settling round (see the header comment).
    int ready = 0, ticks = 0;
    int64_t deadline = guide_clock_ms () + GUIDE_IO_TIMEOUT_MS;
    while (ready < SUBSCRIBERS) {
        if (guide_clock_ms () > deadline)
            DIE ("only %d of %d subscribers saw a tick", ready, SUBSCRIBERS);
        s_send (pub, "WAIT", 0);
        ticks++;
        zmq_pollitem_t item = {sync, 0, ZMQ_POLLIN, 0};
        if (ZCHECK (zmq_poll (&item, 1, TICK_MS)) == 0)
            continue;
        char msg[64];
        int id;
        s_recv (sync, msg, sizeof msg);
        if (sscanf (msg, "ready %d", &id) != 1 || id < 0 || id >= SUBSCRIBERS
            || seen[id] != 1)
            DIE ("unexpected \"%s\" while ticking", msg);
        seen[id] = 2;
        ready++;
        s_send (sync, "ok", 0);
    }

    for (int n = 0; n < UPDATES; n++) {
        char update[64];
        snprintf (update, sizeof update, "update %d", n);
        s_send (pub, update, 0);
    }
    s_send (pub, "END", 0);

    for (int i = 0; i < SUBSCRIBERS; i++) {
        char line[64];
        guide_read_line (subs[i].fd, line, sizeof line);
        char want[64];
        snprintf (want, sizeof want, "received %d", UPDATES);
        if (strcmp (line, want) != 0)
            DIE ("subscriber %d: \"%s\"", i, line);
        guide_reap (&subs[i], "syncsub");
    }
    ZCHECK (zmq_close (pub));
    ZCHECK (zmq_close (sync));
    ZCHECK (zmq_ctx_term (ctx));
    printf ("PASS syncpub/syncsub: %d subscribers x %d updates (%d ticks to "
            "settle)\n",
            SUBSCRIBERS, UPDATES, ticks);
    return 0;
}
