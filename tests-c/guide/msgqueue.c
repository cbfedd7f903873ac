/* Guide chapter 2, "Built-in Proxy Function": msgqueue, the request-reply
 * broker made of zmq_proxy, between rrclient-style REQ clients and
 * rrworker-style REP workers.
 *
 * msgqueue is the main process: a ROUTER frontend and a DEALER backend, both
 * bound to tcp on 127.0.0.1 (wildcard ports), and zmq_proxy between them in
 * its own thread.
 * The workers (WORKERS) and the clients (CLIENTS) are separate processes
 * (guide_spawn), so run.sh can put them on the other library than the
 * broker.  A worker is a REP connected to the backend answering
 * "req <client> <n>" with "rep <client> <n> <worker>" until the parent tells
 * it to quit (zmq_poll on the socket and on its channel to the parent), then
 * reports how many requests it served.  A client is a REQ connected to the
 * frontend making ROUNDS requests, each reply checked to answer that very
 * request.
 * Then the broker's context is shut down: zmq_proxy must return -1 with
 * ETERM.  Exit 0 when every client got every reply and the workers served
 * exactly CLIENTS * ROUNDS requests between them. */
#include "guide.h"

#define CLIENTS 4
#define WORKERS 3
#define ROUNDS 50

static int client (const char *arg, int fd)
{
    char ep[256];
    int id;
    if (sscanf (arg, "%255s %d", ep, &id) != 2)
        DIE ("bad argument \"%s\"", arg);
    void *ctx = ZPTR (zmq_ctx_new ());
    void *req = guide_socket (ctx, ZMQ_REQ);
    ZCHECK (zmq_connect (req, ep));
    int per_worker[WORKERS] = {0};
    for (int n = 0; n < ROUNDS; n++) {
        char msg[64], reply[64];
        snprintf (msg, sizeof msg, "req %d %d", id, n);
        s_send (req, msg, 0);
        if (s_recv (req, reply, sizeof reply))
            DIE ("client %d: reply \"%s\" has more frames", id, reply);
        int c, k, w;
        if (sscanf (reply, "rep %d %d %d", &c, &k, &w) != 3 || c != id
            || k != n || w < 0 || w >= WORKERS)
            DIE ("client %d: request %d got reply \"%s\"", id, n, reply);
        per_worker[w]++;
    }
    fprintf (stderr, "client %d: %d replies, from workers %d %d %d\n", id,
             ROUNDS, per_worker[0], per_worker[1], per_worker[2]);
    guide_write_line (fd, "done");
    ZCHECK (zmq_close (req));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

static int worker (const char *arg, int fd)
{
    char ep[256];
    int id;
    if (sscanf (arg, "%255s %d", ep, &id) != 2)
        DIE ("bad argument \"%s\"", arg);
    void *ctx = ZPTR (zmq_ctx_new ());
    void *rep = guide_socket (ctx, ZMQ_REP);
    ZCHECK (zmq_connect (rep, ep));
    int served = 0;
    for (;;) {
        zmq_pollitem_t items[] = {{rep, 0, ZMQ_POLLIN, 0},
                                  {NULL, fd, ZMQ_POLLIN, 0}};
        if (ZCHECK (zmq_poll (items, 2, GUIDE_TIMEOUT_S * 1000)) == 0)
            DIE ("worker %d: idle", id);
        if (items[0].revents & ZMQ_POLLIN) {
            char msg[64], reply[64];
            if (s_recv (rep, msg, sizeof msg))
                DIE ("worker %d: request \"%s\" has more frames", id, msg);
            int c, k;
            if (sscanf (msg, "req %d %d", &c, &k) != 2)
                DIE ("worker %d: bad request \"%s\"", id, msg);
            snprintf (reply, sizeof reply, "rep %d %d %d", c, k, id);
            s_send (rep, reply, 0);
            served++;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char line[32];
            guide_read_line (fd, line, sizeof line);
            if (strcmp (line, "quit") != 0)
                DIE ("worker %d: unexpected \"%s\"", id, line);
            break;
        }
    }
    char line[32];
    snprintf (line, sizeof line, "served %d", served);
    guide_write_line (fd, line);
    ZCHECK (zmq_close (rep));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

struct proxy
{
    void *frontend, *backend;
};

static void *proxy_routine (void *arg)
{
    struct proxy *p = arg;
    errno = 0;
    int rc = zmq_proxy (p->frontend, p->backend, NULL);
    if (rc != -1 || errno != ETERM)
        DIE ("zmq_proxy returned %d (errno %d: %s), expected -1 with ETERM",
             rc, errno, zmq_strerror (errno));
    ZCHECK (zmq_close (p->frontend));
    ZCHECK (zmq_close (p->backend));
    return NULL;
}

int main (int argc, char **argv)
{
    static const guide_role_t roles[] = {{"msgqueue-client", client},
                                         {"msgqueue-worker", worker}};
    guide_roles (argc, argv, roles, 2);
    guide_init ("msgqueue");

    void *ctx = ZPTR (zmq_ctx_new ());
    struct proxy p;
    p.frontend = ZPTR (zmq_socket (ctx, ZMQ_ROUTER));
    p.backend = ZPTR (zmq_socket (ctx, ZMQ_DEALER));
    set_int (p.frontend, ZMQ_LINGER, 0);
    set_int (p.backend, ZMQ_LINGER, 0);
    char frontend_ep[256], backend_ep[256];
    guide_bind (p.frontend, "tcp", frontend_ep);
    guide_bind (p.backend, "tcp", backend_ep);
    pthread_t proxy = guide_thread (proxy_routine, &p);

    guide_child_t workers[WORKERS], clients[CLIENTS];
    for (int i = 0; i < WORKERS; i++) {
        char arg[300];
        snprintf (arg, sizeof arg, "%s %d", backend_ep, i);
        workers[i] = guide_spawn ("msgqueue-worker", arg);
    }
    for (int i = 0; i < CLIENTS; i++) {
        char arg[300];
        snprintf (arg, sizeof arg, "%s %d", frontend_ep, i);
        clients[i] = guide_spawn ("msgqueue-client", arg);
    }
    for (int i = 0; i < CLIENTS; i++) {
        char line[32];
        guide_read_line (clients[i].fd, line, sizeof line);
        if (strcmp (line, "done") != 0)
            DIE ("client %d: \"%s\"", i, line);
        guide_reap (&clients[i], "client");
    }
    int total = 0, served[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        char line[32];
        guide_write_line (workers[i].fd, "quit");
        guide_read_line (workers[i].fd, line, sizeof line);
        if (sscanf (line, "served %d", &served[i]) != 1)
            DIE ("worker %d: \"%s\"", i, line);
        total += served[i];
        guide_reap (&workers[i], "worker");
    }
    if (total != CLIENTS * ROUNDS)
        DIE ("workers served %d requests, expected %d", total,
             CLIENTS * ROUNDS);

    ZCHECK (zmq_ctx_shutdown (ctx));
    pthread_join (proxy, NULL);
    ZCHECK (zmq_ctx_term (ctx));
    printf ("PASS msgqueue: %d clients x %d requests through zmq_proxy, "
            "worker shares",
            CLIENTS, ROUNDS);
    for (int i = 0; i < WORKERS; i++)
        printf (" %d", served[i]);
    printf ("\n");
    return 0;
}
