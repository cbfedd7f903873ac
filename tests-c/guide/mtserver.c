/* Guide chapter 1, "Multithreading with ZeroMQ": mtserver.
 *
 * The server: a ROUTER frontend bound to tcp on 127.0.0.1 (wildcard port), a
 * DEALER backend bound to inproc, zmq_proxy between them in its own thread,
 * and WORKERS worker threads, each a REP connected to the inproc backend
 * answering "Hello <client> <n>" with "World <client> <n>".
 * The clients: CLIENTS threads sharing a separate context (as an outside
 * process would), each a REQ connected over tcp making ROUNDS round trips and
 * checking every reply answers its own request.
 * Then the server context is shut down: zmq_proxy must return -1 with ETERM
 * and every worker's blocking receive must fail with ETERM.  Exit 0 when all
 * of that held. */
#include "guide.h"

#define CLIENTS 5
#define WORKERS 4
#define ROUNDS 40

static void *server_ctx;
static char frontend_ep[256];
static int worker_served[WORKERS];

static void *worker_routine (void *arg)
{
    int id = (int) (intptr_t) arg;
    void *rep = ZPTR (zmq_socket (server_ctx, ZMQ_REP));
    set_int (rep, ZMQ_LINGER, 0);
    ZCHECK (zmq_connect (rep, "inproc://mtserver-workers"));
    for (;;) {
        char msg[64];
        int n = zmq_recv (rep, msg, sizeof msg - 1, 0);
        if (n == -1) {
            if (errno == ETERM)
                break;
            DIE ("worker %d: zmq_recv: %s", id, zmq_strerror (errno));
        }
        msg[n] = '\0';
        int c, k;
        if (sscanf (msg, "Hello %d %d", &c, &k) != 2)
            DIE ("worker %d: bad request \"%s\"", id, msg);
        char reply[64];
        snprintf (reply, sizeof reply, "World %d %d", c, k);
        s_send (rep, reply, 0);
        worker_served[id]++;
    }
    ZCHECK (zmq_close (rep));
    return NULL;
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

struct client
{
    void *ctx;
    int id;
};

static void *client_routine (void *arg)
{
    struct client *c = arg;
    void *req = guide_socket (c->ctx, ZMQ_REQ);
    ZCHECK (zmq_connect (req, frontend_ep));
    for (int n = 0; n < ROUNDS; n++) {
        char msg[64];
        snprintf (msg, sizeof msg, "Hello %d %d", c->id, n);
        s_send (req, msg, 0);
        snprintf (msg, sizeof msg, "World %d %d", c->id, n);
        s_expect (req, msg);
    }
    ZCHECK (zmq_close (req));
    return NULL;
}

int main (void)
{
    guide_init ("mtserver");
    server_ctx = ZPTR (zmq_ctx_new ());
    struct proxy p;
    p.frontend = ZPTR (zmq_socket (server_ctx, ZMQ_ROUTER));
    p.backend = ZPTR (zmq_socket (server_ctx, ZMQ_DEALER));
    set_int (p.frontend, ZMQ_LINGER, 0);
    set_int (p.backend, ZMQ_LINGER, 0);
    guide_bind (p.frontend, "tcp", frontend_ep);
    char backend_ep[256];
    guide_bind (p.backend, "inproc://mtserver-workers", backend_ep);

    pthread_t workers[WORKERS], clients[CLIENTS];
    for (int i = 0; i < WORKERS; i++)
        workers[i] = guide_thread (worker_routine, (void *) (intptr_t) i);
    pthread_t proxy = guide_thread (proxy_routine, &p);

    void *client_ctx = ZPTR (zmq_ctx_new ());
    struct client cargs[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cargs[i] = (struct client){client_ctx, i};
        clients[i] = guide_thread (client_routine, &cargs[i]);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join (clients[i], NULL);
    ZCHECK (zmq_ctx_term (client_ctx));

    ZCHECK (zmq_ctx_shutdown (server_ctx));
    pthread_join (proxy, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_join (workers[i], NULL);
    ZCHECK (zmq_ctx_term (server_ctx));

    int total = 0;
    for (int i = 0; i < WORKERS; i++)
        total += worker_served[i];
    if (total != CLIENTS * ROUNDS)
        DIE ("workers served %d requests, expected %d", total,
             CLIENTS * ROUNDS);
    printf ("PASS mtserver: %d clients x %d requests, worker shares", CLIENTS,
            ROUNDS);
    for (int i = 0; i < WORKERS; i++)
        printf (" %d", worker_served[i]);
    printf ("\n");
    return 0;
}
