/* Guide chapter 4, "Client-Side Reliability (Lazy Pirate Pattern)": lpclient
 * and lpserver.
 *
 * lpserver is a separate process (guide_spawn): a REP bound to tcp on
 * 127.0.0.1 answering "req <client> <n>" with "rep <client> <n>".  Its first
 * incarnation (generation 0) binds a wildcard port and hands the endpoint to
 * the parent; at the OVERLOAD_AT-th request it receives it simulates CPU
 * overload (it sleeps OVERLOAD_MS, longer than the clients wait, before
 * answering), and at the CRASH_AT-th it simulates a crash: it exits with
 * CRASH_EXIT without answering.  The parent then starts generation 1 on the
 * same endpoint after RESTART_MS; that one serves until told to quit.
 * lpclient runs CLIENTS times as threads of the main process, each a lazy
 * pirate: a REQ sends a request and polls for the reply for at most
 * TIMEOUT_MS; on a timeout it closes the socket (linger 0), opens and
 * connects a new one and sends the request again, at most RETRIES times in a
 * row before it gives up (a failure).  Every reply must answer the request
 * outstanding on that socket.
 * Exit 0 when every client completed ROUNDS requests, retried at least once
 * (the overload and the crash each cost a timeout), generation 0 crashed as
 * scripted and generation 1 served the rest. */
#include "guide.h"

#define CLIENTS 2
#define ROUNDS 30
#define TIMEOUT_MS 250
#define RETRIES 8
#define OVERLOAD_AT 10
#define OVERLOAD_MS 600
#define CRASH_AT 25
#define CRASH_EXIT 42
#define RESTART_MS 100

static int lpserver (const char *arg, int fd)
{
    char where[256];
    int generation;
    if (sscanf (arg, "%255s %d", where, &generation) != 2)
        DIE ("bad argument \"%s\"", arg);
    void *ctx = ZPTR (zmq_ctx_new ());
    void *rep = guide_socket (ctx, ZMQ_REP);
    set_int (rep, ZMQ_LINGER, 0);
    //  A restarted server takes its predecessor's port; the old listener is
    //  gone with its process, but allow for a slow kernel.
    int64_t deadline = guide_clock_ms () + 5000;
    while (zmq_bind (rep, where) == -1) {
        if (errno != EADDRINUSE || guide_clock_ms () > deadline)
            DIE ("zmq_bind (%s): %s", where, zmq_strerror (errno));
        guide_sleep_ms (20);
    }
    char ep[256];
    size_t len = sizeof ep;
    ZCHECK (zmq_getsockopt (rep, ZMQ_LAST_ENDPOINT, ep, &len));
    guide_write_line (fd, ep);

    int received = 0;
    for (;;) {
        zmq_pollitem_t items[] = {{rep, 0, ZMQ_POLLIN, 0},
                                  {NULL, fd, ZMQ_POLLIN, 0}};
        if (ZCHECK (zmq_poll (items, 2, GUIDE_TIMEOUT_S * 1000)) == 0)
            DIE ("lpserver: idle");
        if (items[1].revents & ZMQ_POLLIN) {
            char line[32];
            guide_read_line (fd, line, sizeof line);
            if (strcmp (line, "quit") != 0)
                DIE ("lpserver: unexpected \"%s\"", line);
            break;
        }
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        char req[64], reply[64];
        if (s_recv (rep, req, sizeof req))
            DIE ("request \"%s\" has more frames", req);
        received++;
        int c, n;
        if (sscanf (req, "req %d %d", &c, &n) != 2)
            DIE ("bad request \"%s\"", req);
        if (generation == 0 && received == CRASH_AT) {
            fprintf (stderr, "lpserver: simulating a crash at \"%s\"\n", req);
            _exit (CRASH_EXIT);
        }
        if (generation == 0 && received == OVERLOAD_AT) {
            fprintf (stderr, "lpserver: simulating CPU overload at \"%s\"\n",
                     req);
            guide_sleep_ms (OVERLOAD_MS);
        }
        snprintf (reply, sizeof reply, "rep %d %d", c, n);
        s_send (rep, reply, 0);
    }
    char line[32];
    snprintf (line, sizeof line, "received %d", received);
    guide_write_line (fd, line);
    ZCHECK (zmq_close (rep));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

static void *ctx;
static char server_ep[256];

struct client
{
    int id, retries;
};

static void *new_client_socket (void)
{
    void *req = guide_socket (ctx, ZMQ_REQ);
    set_int (req, ZMQ_LINGER, 0);
    ZCHECK (zmq_connect (req, server_ep));
    return req;
}

static void *lpclient (void *arg)
{
    struct client *c = arg;
    void *req = new_client_socket ();
    for (int n = 0; n < ROUNDS; n++) {
        char request[64], want[64];
        snprintf (request, sizeof request, "req %d %d", c->id, n);
        snprintf (want, sizeof want, "rep %d %d", c->id, n);
        s_send (req, request, 0);
        int retries_left = RETRIES;
        for (;;) {
            zmq_pollitem_t item = {req, 0, ZMQ_POLLIN, 0};
            if (ZCHECK (zmq_poll (&item, 1, TIMEOUT_MS)) > 0) {
                char reply[64];
                if (s_recv (req, reply, sizeof reply))
                    DIE ("client %d: reply \"%s\" has more frames", c->id,
                         reply);
                if (strcmp (reply, want) != 0)
                    DIE ("client %d: request \"%s\" got reply \"%s\"", c->id,
                         request, reply);
                break;
            }
            //  No reply: abandon this socket, as the Guide does.
            if (--retries_left == 0)
                DIE ("client %d: no reply to \"%s\" after %d tries, "
                     "abandoning",
                     c->id, request, RETRIES);
            c->retries++;
            fprintf (stderr, "client %d: no reply to \"%s\", retrying\n",
                     c->id, request);
            ZCHECK (zmq_close (req));
            req = new_client_socket ();
            s_send (req, request, 0);
        }
    }
    ZCHECK (zmq_close (req));
    return NULL;
}

int main (int argc, char **argv)
{
    static const guide_role_t roles[] = {{"lpserver", lpserver}};
    guide_roles (argc, argv, roles, 1);
    guide_init ("lpclient");

    guide_child_t server = guide_spawn ("lpserver", "tcp://127.0.0.1:* 0");
    guide_read_line (server.fd, server_ep, sizeof server_ep);

    ctx = ZPTR (zmq_ctx_new ());
    pthread_t t[CLIENTS];
    struct client clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        clients[i] = (struct client){i, 0};
        t[i] = guide_thread (lpclient, &clients[i]);
    }

    //  Generation 0 must crash as scripted; then restart it.
    guide_reap_as (&server, "lpserver generation 0", CRASH_EXIT);
    guide_sleep_ms (RESTART_MS);
    char arg[300], ep[256];
    snprintf (arg, sizeof arg, "%s 1", server_ep);
    server = guide_spawn ("lpserver", arg);
    guide_read_line (server.fd, ep, sizeof ep);
    if (strcmp (ep, server_ep) != 0)
        DIE ("restarted server is at %s, not %s", ep, server_ep);

    for (int i = 0; i < CLIENTS; i++)
        pthread_join (t[i], NULL);
    ZCHECK (zmq_ctx_term (ctx));
    char line[32];
    int received;
    guide_write_line (server.fd, "quit");
    guide_read_line (server.fd, line, sizeof line);
    if (sscanf (line, "received %d", &received) != 1 || received < 1)
        DIE ("lpserver generation 1: \"%s\"", line);
    guide_reap (&server, "lpserver generation 1");

    int retries = 0;
    for (int i = 0; i < CLIENTS; i++)
        retries += clients[i].retries;
    if (retries < 1)
        DIE ("no client ever retried, yet the server crashed");
    printf ("PASS lpclient/lpserver: %d clients x %d requests, %d retries, "
            "server crashed once and restarted (%d requests after)\n",
            CLIENTS, ROUNDS, retries, received);
    return 0;
}
