/* Guide chapter 1, "Shared Queue (DEALER and ROUTER sockets)": rrclient,
 * rrworker and rrbroker, all threads of one process talking over tcp.
 *
 * rrbroker: a ROUTER frontend and a DEALER backend, both bound to tcp on
 * 127.0.0.1 with wildcard ports, and a zmq_poll loop moving whole multipart
 * messages between them in both directions; it stops once it has relayed
 * every expected request and reply.
 * rrclient (CLIENTS threads): a REQ connected to the frontend, ROUNDS
 * requests "req <client> <n>", each reply checked to be the answer to that
 * very request.
 * rrworker (WORKERS threads): a REP connected to the backend, answering
 * "req <c> <n>" with "rep <c> <n> <worker>" until the context is shut down,
 * where its blocking receive must fail with ETERM.
 * Exit 0 when every client got every reply and every worker saw ETERM. */
#include "guide.h"

#define CLIENTS 4
#define WORKERS 3
#define ROUNDS 50

static void *ctx;
static char frontend_ep[256], backend_ep[256];
static int worker_served[WORKERS];

static void *rrclient (void *arg)
{
    int id = (int) (intptr_t) arg;
    void *req = guide_socket (ctx, ZMQ_REQ);
    ZCHECK (zmq_connect (req, frontend_ep));
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
    }
    ZCHECK (zmq_close (req));
    return NULL;
}

static void *rrworker (void *arg)
{
    int id = (int) (intptr_t) arg;
    void *rep = ZPTR (zmq_socket (ctx, ZMQ_REP)); //  no timeout: ETERM ends it
    set_int (rep, ZMQ_LINGER, 0); //  (options fail with ETERM after shutdown)
    ZCHECK (zmq_connect (rep, backend_ep));
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
        if (sscanf (msg, "req %d %d", &c, &k) != 2)
            DIE ("worker %d: bad request \"%s\"", id, msg);
        char reply[64];
        snprintf (reply, sizeof reply, "rep %d %d %d", c, k, id);
        s_send (rep, reply, 0);
        worker_served[id]++;
    }
    ZCHECK (zmq_close (rep));
    return NULL;
}

int main (void)
{
    guide_init ("rrbroker");
    ctx = ZPTR (zmq_ctx_new ());
    void *frontend = guide_socket (ctx, ZMQ_ROUTER);
    void *backend = guide_socket (ctx, ZMQ_DEALER);
    guide_bind (frontend, "tcp", frontend_ep);
    guide_bind (backend, "tcp", backend_ep);

    pthread_t workers[WORKERS], clients[CLIENTS];
    for (int i = 0; i < WORKERS; i++)
        workers[i] = guide_thread (rrworker, (void *) (intptr_t) i);
    for (int i = 0; i < CLIENTS; i++)
        clients[i] = guide_thread (rrclient, (void *) (intptr_t) i);

    //  The broker.
    int requests = 0, replies = 0;
    while (replies < CLIENTS * ROUNDS) {
        zmq_pollitem_t items[] = {{frontend, 0, ZMQ_POLLIN, 0},
                                  {backend, 0, ZMQ_POLLIN, 0}};
        int rc = ZCHECK (zmq_poll (items, 2, GUIDE_IO_TIMEOUT_MS));
        if (rc == 0)
            DIE ("broker idle for %d ms after %d requests, %d replies",
                 GUIDE_IO_TIMEOUT_MS, requests, replies);
        if (items[0].revents & ZMQ_POLLIN) {
            guide_forward (frontend, backend);
            requests++;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            guide_forward (backend, frontend);
            replies++;
        }
    }
    if (requests != CLIENTS * ROUNDS)
        DIE ("broker relayed %d requests, expected %d", requests,
             CLIENTS * ROUNDS);

    for (int i = 0; i < CLIENTS; i++)
        pthread_join (clients[i], NULL);
    ZCHECK (zmq_close (frontend));
    ZCHECK (zmq_close (backend));
    //  Workers block in zmq_recv until the context shuts down (ETERM).
    ZCHECK (zmq_ctx_shutdown (ctx));
    for (int i = 0; i < WORKERS; i++)
        pthread_join (workers[i], NULL);
    ZCHECK (zmq_ctx_term (ctx));
    int total = 0;
    for (int i = 0; i < WORKERS; i++)
        total += worker_served[i];
    if (total != CLIENTS * ROUNDS)
        DIE ("workers served %d requests, expected %d", total,
             CLIENTS * ROUNDS);
    printf ("PASS rrbroker: %d clients x %d requests through the broker, "
            "worker shares",
            CLIENTS, ROUNDS);
    for (int i = 0; i < WORKERS; i++)
        printf (" %d", worker_served[i]);
    printf ("\n");
    return 0;
}
