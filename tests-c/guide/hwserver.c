/* Guide chapter 1, "Ask and Ye Shall Receive": hwserver and hwclient.
 *
 * hwserver runs in a child process: a REP socket bound to tcp on 127.0.0.1
 * with a wildcard port; it hands its endpoint to the parent over a
 * socketpair and answers every "Hello <client> <n>" with
 * "World <client> <n>", CLIENTS * ROUNDS times, then exits.
 * hwclient runs CLIENTS times as threads of the parent, each with a REQ
 * socket making ROUNDS round trips and checking every reply is the answer to
 * its own request.  Exit 0 when the server answered everything and every
 * client got every reply. */
#include "guide.h"

#define CLIENTS 3
#define ROUNDS 100

static int hwserver (void *arg, int fd)
{
    (void) arg;
    void *ctx = ZPTR (zmq_ctx_new ());
    void *rep = guide_socket (ctx, ZMQ_REP);
    char ep[256];
    guide_bind (rep, "tcp", ep);
    guide_write_line (fd, ep);

    int seen[CLIENTS] = {0};
    for (int i = 0; i < CLIENTS * ROUNDS; i++) {
        char req[64], reply[80];
        if (s_recv (rep, req, sizeof req))
            DIE ("request \"%s\" has more frames", req);
        int c, n;
        if (sscanf (req, "Hello %d %d", &c, &n) != 2 || c < 0 || c >= CLIENTS)
            DIE ("bad request \"%s\"", req);
        if (n != seen[c])
            DIE ("client %d: request %d arrived, expected %d", c, n, seen[c]);
        seen[c]++;
        snprintf (reply, sizeof reply, "World %d %d", c, n);
        s_send (rep, reply, 0);
    }
    ZCHECK (zmq_close (rep));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

struct client_arg
{
    void *ctx;
    const char *ep;
    int id;
};

static void *hwclient (void *p)
{
    struct client_arg *a = p;
    void *req = guide_socket (a->ctx, ZMQ_REQ);
    ZCHECK (zmq_connect (req, a->ep));
    for (int n = 0; n < ROUNDS; n++) {
        char msg[64];
        snprintf (msg, sizeof msg, "Hello %d %d", a->id, n);
        s_send (req, msg, 0);
        snprintf (msg, sizeof msg, "World %d %d", a->id, n);
        s_expect (req, msg);
    }
    ZCHECK (zmq_close (req));
    return NULL;
}

int main (void)
{
    guide_init ("hwserver");
    guide_child_t server = guide_fork (hwserver, NULL, "hwserver-child");
    char ep[256];
    guide_read_line (server.fd, ep, sizeof ep);

    void *ctx = ZPTR (zmq_ctx_new ());
    pthread_t t[CLIENTS];
    struct client_arg args[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        args[i] = (struct client_arg){ctx, ep, i};
        t[i] = guide_thread (hwclient, &args[i]);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join (t[i], NULL);
    ZCHECK (zmq_ctx_term (ctx));
    guide_reap (&server, "hwserver");
    printf ("PASS hwserver/hwclient: %d clients x %d round trips\n", CLIENTS,
            ROUNDS);
    return 0;
}
