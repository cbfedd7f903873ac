/* Guide chapter 4, "Robust Reliable Queuing (Paranoid Pirate Pattern)":
 * ppqueue, ppworker, and lazy pirate clients.
 *
 * ppqueue is the main process: a ROUTER frontend for the clients and a
 * ROUTER backend for the workers, both bound to tcp on 127.0.0.1 (wildcard
 * ports).  It keeps the idle workers in least-recently-used order, each with
 * an expiry (HEARTBEAT_LIVENESS heartbeat intervals from the last sign of
 * life), sends every idle worker a HEARTBEAT each HEARTBEAT_MS, purges the
 * workers that expired, and only polls the frontend while a worker is idle.
 * A worker's single-frame READY or HEARTBEAT, or its reply, puts it (back)
 * at the end of the idle list; a request goes to the first.
 * ppworker runs WORKERS times, each a separate process (guide_spawn): a
 * DEALER with routing id "W<worker>-<generation>" connected to the backend,
 * which says READY, answers requests, sends a HEARTBEAT each HEARTBEAT_MS
 * and counts down its liveness when a heartbeat interval passes without
 * anything from the queue; at zero it sleeps its reconnect interval (from
 * INTERVAL_INIT_MS, doubling up to INTERVAL_MAX_MS, back to the start once
 * the queue is heard again), closes its socket and reconnects with a new
 * one (the next generation).
 * The clients (CLIENTS threads of the main process, their own context) are
 * lazy pirates as in lpclient.c: TIMEOUT_MS per try, RETRIES tries, a new
 * REQ socket for each.
 *
 * Failures, scripted by the queue so that the run is deterministic:
 *   - when it has handed out its KILL_AT-th request, the queue kills the
 *     worker process it gave it to (SIGKILL): the request is lost, the
 *     client must retry, and the queue must stop using the dead worker once
 *     it has expired (the run cannot finish otherwise);
 *   - when it has handed out its FREEZE_AT-th request, the queue freezes
 *     for FREEZE_MS (no heartbeats, nothing read), several heartbeat
 *     liveness periods: every surviving worker must notice the heartbeat
 *     loss, back off and reconnect, and the queue must later hear READY from
 *     its new generation.
 * Exit 0 when every client completed ROUNDS requests, the killed worker
 * died of SIGKILL, and every other worker reconnected and quit cleanly. */
#include "guide.h"

#define CLIENTS 3
#define ROUNDS 20
#define WORKERS 3
#define HEARTBEAT_LIVENESS 3
#define HEARTBEAT_MS 100
#define INTERVAL_INIT_MS 100
#define INTERVAL_MAX_MS 800
#define WORK_MS 2
#define TIMEOUT_MS 400
#define RETRIES 10
#define KILL_AT 10
#define FREEZE_AT 30
#define FREEZE_MS 1000
#define MAX_IDLE 64

#define PPP_READY "\001"
#define PPP_HEARTBEAT "\002"

/* Receives one whole message into frames (at most max, initialised here);
 * returns the frame count.  More frames than max is a failure. */
static int recv_frames (void *sock, zmq_msg_t *frames, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            DIE ("message of more than %d frames", max);
        ZCHECK (zmq_msg_init (&frames[n]));
        if (zmq_msg_recv (&frames[n], sock, 0) == -1)
            DIE ("zmq_msg_recv: %s (errno %d)", zmq_strerror (errno), errno);
        if (!zmq_msg_more (&frames[n++]))
            return n;
    }
}

/* ---- The worker. ------------------------------------------------------ */

static void *worker_socket (void *ctx, const char *ep, int id, int generation)
{
    void *sock = guide_socket (ctx, ZMQ_DEALER);
    set_int (sock, ZMQ_LINGER, 0);
    char rid[32];
    snprintf (rid, sizeof rid, "W%d-%d", id, generation);
    ZCHECK (zmq_setsockopt (sock, ZMQ_ROUTING_ID, rid, strlen (rid)));
    ZCHECK (zmq_connect (sock, ep));
    s_send (sock, PPP_READY, 0);
    return sock;
}

static int ppworker (const char *arg, int fd)
{
    char ep[256];
    int id;
    if (sscanf (arg, "%255s %d", ep, &id) != 2)
        DIE ("bad argument \"%s\"", arg);
    void *ctx = ZPTR (zmq_ctx_new ());
    int generation = 0;
    void *worker = worker_socket (ctx, ep, id, generation);
    int liveness = HEARTBEAT_LIVENESS;
    int interval = INTERVAL_INIT_MS, max_backoff = 0;
    int served = 0, reconnects = 0;
    int64_t heartbeat_at = guide_clock_ms () + HEARTBEAT_MS;
    for (;;) {
        zmq_pollitem_t items[] = {{worker, 0, ZMQ_POLLIN, 0},
                                  {NULL, fd, ZMQ_POLLIN, 0}};
        ZCHECK (zmq_poll (items, 2, HEARTBEAT_MS));
        if (items[0].revents & ZMQ_POLLIN) {
            zmq_msg_t frames[3];
            int n = recv_frames (worker, frames, 3);
            if (n == 3) {
                //  A request: [client][""][request]; the reply goes back in
                //  the same envelope (the client's id is binary, resent as
                //  read).
                char request[64];
                size_t len = zmq_msg_size (&frames[2]);
                CHECK (len < sizeof request);
                memcpy (request, zmq_msg_data (&frames[2]), len);
                request[len] = '\0';
                int c, k;
                if (zmq_msg_size (&frames[1]) != 0
                    || sscanf (request, "req %d %d", &c, &k) != 2)
                    DIE ("worker %d: bad request \"%s\"", id, request);
                guide_sleep_ms (WORK_MS);
                char reply[64];
                snprintf (reply, sizeof reply, "rep %d %d %d", c, k, id);
                ZCHECK (zmq_msg_send (&frames[0], worker, ZMQ_SNDMORE));
                ZCHECK (zmq_msg_send (&frames[1], worker, ZMQ_SNDMORE));
                s_send (worker, reply, 0);
                ZCHECK (zmq_msg_close (&frames[2]));
                served++;
            } else {
                if (n != 1 || zmq_msg_size (&frames[0]) != 1
                    || memcmp (zmq_msg_data (&frames[0]), PPP_HEARTBEAT, 1)
                         != 0)
                    DIE ("worker %d: invalid message (%d frames)", id, n);
                ZCHECK (zmq_msg_close (&frames[0]));
            }
            liveness = HEARTBEAT_LIVENESS;
            interval = INTERVAL_INIT_MS;
        } else if (!(items[1].revents & ZMQ_POLLIN)
                   && --liveness == 0) {
            fprintf (stderr,
                     "worker %d: heartbeat failure, can't reach queue; "
                     "reconnecting in %d ms\n",
                     id, interval);
            guide_sleep_ms (interval);
            if (interval > max_backoff)
                max_backoff = interval;
            if (interval < INTERVAL_MAX_MS)
                interval *= 2;
            ZCHECK (zmq_close (worker));
            worker = worker_socket (ctx, ep, id, ++generation);
            reconnects++;
            liveness = HEARTBEAT_LIVENESS;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char line[32];
            guide_read_line (fd, line, sizeof line);
            if (strcmp (line, "quit") != 0)
                DIE ("worker %d: unexpected \"%s\"", id, line);
            break;
        }
        if (guide_clock_ms () > heartbeat_at) {
            heartbeat_at = guide_clock_ms () + HEARTBEAT_MS;
            s_send (worker, PPP_HEARTBEAT, 0);
        }
    }
    char line[128];
    snprintf (line, sizeof line, "served %d reconnects %d backoff %d", served,
              reconnects, max_backoff);
    guide_write_line (fd, line);
    ZCHECK (zmq_close (worker));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

/* ---- The clients (lazy pirates). -------------------------------------- */

static char frontend_ep[256];
static void *client_ctx;
static int clients_done;

struct client
{
    int id, retries;
    int per_worker[WORKERS];
};

static void *new_client_socket (void)
{
    void *req = guide_socket (client_ctx, ZMQ_REQ);
    set_int (req, ZMQ_LINGER, 0);
    ZCHECK (zmq_connect (req, frontend_ep));
    return req;
}

static void *client_routine (void *arg)
{
    struct client *c = arg;
    void *req = new_client_socket ();
    for (int n = 0; n < ROUNDS; n++) {
        char request[64];
        snprintf (request, sizeof request, "req %d %d", c->id, n);
        s_send (req, request, 0);
        int retries_left = RETRIES;
        for (;;) {
            zmq_pollitem_t item = {req, 0, ZMQ_POLLIN, 0};
            if (ZCHECK (zmq_poll (&item, 1, TIMEOUT_MS)) > 0) {
                char reply[64];
                if (s_recv (req, reply, sizeof reply))
                    DIE ("client %d: reply \"%s\" has more frames", c->id,
                         reply);
                int cc, k, w;
                if (sscanf (reply, "rep %d %d %d", &cc, &k, &w) != 3
                    || cc != c->id || k != n || w < 0 || w >= WORKERS)
                    DIE ("client %d: request \"%s\" got reply \"%s\"", c->id,
                         request, reply);
                c->per_worker[w]++;
                break;
            }
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
    __atomic_add_fetch (&clients_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* ---- The queue. --------------------------------------------------------- */

typedef struct
{
    char rid[32]; //  "W<worker>-<generation>"
    int64_t expiry;
} idle_worker_t;

static idle_worker_t idle[MAX_IDLE];
static int nidle;

static void parse_rid (const zmq_msg_t *frame, char *rid, int *worker,
                       int *generation)
{
    size_t len = zmq_msg_size (frame);
    if (len == 0 || len >= 32)
        DIE ("queue: worker routing id of %zu bytes", len);
    memcpy (rid, zmq_msg_data ((zmq_msg_t *) frame), len);
    rid[len] = '\0';
    if (sscanf (rid, "W%d-%d", worker, generation) != 2 || *worker < 0
        || *worker >= WORKERS)
        DIE ("queue: unexpected worker routing id \"%s\"", rid);
}

/* The worker is ready: to the end of the idle list, with a fresh expiry. */
static void worker_ready (const char *rid)
{
    for (int i = 0; i < nidle; i++)
        if (strcmp (idle[i].rid, rid) == 0) {
            memmove (&idle[i], &idle[i + 1],
                     (size_t) (nidle - i - 1) * sizeof *idle);
            nidle--;
            break;
        }
    CHECK (nidle < MAX_IDLE);
    snprintf (idle[nidle].rid, sizeof idle[nidle].rid, "%s", rid);
    idle[nidle].expiry =
      guide_clock_ms () + HEARTBEAT_MS * HEARTBEAT_LIVENESS;
    nidle++;
}

int main (int argc, char **argv)
{
    static const guide_role_t roles[] = {{"ppworker", ppworker}};
    guide_roles (argc, argv, roles, 1);
    guide_init ("ppqueue");

    void *ctx = ZPTR (zmq_ctx_new ());
    void *frontend = guide_socket (ctx, ZMQ_ROUTER);
    void *backend = guide_socket (ctx, ZMQ_ROUTER);
    set_int (frontend, ZMQ_LINGER, 0);
    set_int (backend, ZMQ_LINGER, 0);
    char backend_ep[256];
    guide_bind (frontend, "tcp", frontend_ep);
    guide_bind (backend, "tcp", backend_ep);

    guide_child_t workers[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        char arg[300];
        snprintf (arg, sizeof arg, "%s %d", backend_ep, i);
        workers[i] = guide_spawn ("ppworker", arg);
    }
    client_ctx = ZPTR (zmq_ctx_new ());
    pthread_t clients[CLIENTS];
    struct client cargs[CLIENTS];
    memset (cargs, 0, sizeof cargs);
    for (int i = 0; i < CLIENTS; i++) {
        cargs[i].id = i;
        clients[i] = guide_thread (client_routine, &cargs[i]);
    }

    int forwarded = 0, replies = 0, purged = 0, killed = -1;
    int max_generation[WORKERS] = {0}; //  highest one heard READY from
    int64_t heartbeat_at = guide_clock_ms () + HEARTBEAT_MS;
    while (__atomic_load_n (&clients_done, __ATOMIC_SEQ_CST) < CLIENTS) {
        zmq_pollitem_t items[] = {{backend, 0, ZMQ_POLLIN, 0},
                                  {frontend, 0, ZMQ_POLLIN, 0}};
        //  Poll the frontend only while a worker is idle.
        ZCHECK (zmq_poll (items, nidle ? 2 : 1, HEARTBEAT_MS));

        if (items[0].revents & ZMQ_POLLIN) {
            zmq_msg_t frames[4];
            int n = recv_frames (backend, frames, 4);
            char rid[32];
            int w, generation;
            parse_rid (&frames[0], rid, &w, &generation);
            if (n == 2) {
                //  Control: READY or HEARTBEAT.
                const char *data = zmq_msg_data (&frames[1]);
                if (zmq_msg_size (&frames[1]) != 1
                    || (data[0] != PPP_READY[0]
                        && data[0] != PPP_HEARTBEAT[0]))
                    DIE ("queue: invalid control message from \"%s\"", rid);
                if (data[0] == PPP_READY[0]
                    && generation > max_generation[w])
                    max_generation[w] = generation;
                ZCHECK (zmq_msg_close (&frames[1]));
            } else if (n == 4) {
                //  A reply: [client][""][body] to the frontend.
                ZCHECK (zmq_msg_send (&frames[1], frontend, ZMQ_SNDMORE));
                ZCHECK (zmq_msg_send (&frames[2], frontend, ZMQ_SNDMORE));
                ZCHECK (zmq_msg_send (&frames[3], frontend, 0));
                replies++;
            } else
                DIE ("queue: %d-frame message from \"%s\"", n, rid);
            ZCHECK (zmq_msg_close (&frames[0]));
            worker_ready (rid);
        }
        if (nidle > 0 && (items[1].revents & ZMQ_POLLIN)) {
            zmq_msg_t frames[3];
            int n = recv_frames (frontend, frames, 3);
            if (n != 3 || zmq_msg_size (&frames[1]) != 0)
                DIE ("queue: client message of %d frames", n);
            idle_worker_t target = idle[0];
            memmove (&idle[0], &idle[1], (size_t) (nidle - 1) * sizeof *idle);
            nidle--;
            ZCHECK (zmq_send (backend, target.rid, strlen (target.rid),
                              ZMQ_SNDMORE));
            for (int f = 0; f < 3; f++)
                ZCHECK (zmq_msg_send (&frames[f], backend,
                                      f < 2 ? ZMQ_SNDMORE : 0));
            forwarded++;
            if (forwarded == KILL_AT) {
                int w, generation;
                CHECK (sscanf (target.rid, "W%d-%d", &w, &generation) == 2);
                fprintf (stderr, "queue: killing worker %d (\"%s\")\n", w,
                         target.rid);
                CHECK (kill (workers[w].pid, SIGKILL) == 0);
                killed = w;
            }
            if (forwarded == FREEZE_AT) {
                fprintf (stderr, "queue: freezing for %d ms\n", FREEZE_MS);
                guide_sleep_ms (FREEZE_MS);
                heartbeat_at = guide_clock_ms ();
            }
        }

        int64_t now = guide_clock_ms ();
        if (now >= heartbeat_at) {
            for (int i = 0; i < nidle; i++) {
                ZCHECK (zmq_send (backend, idle[i].rid, strlen (idle[i].rid),
                                  ZMQ_SNDMORE));
                s_send (backend, PPP_HEARTBEAT, 0);
            }
            heartbeat_at = now + HEARTBEAT_MS;
        }
        //  Purge the expired workers (the list is in order of expiry).
        while (nidle > 0 && idle[0].expiry < now) {
            fprintf (stderr, "queue: worker \"%s\" expired\n", idle[0].rid);
            memmove (&idle[0], &idle[1], (size_t) (nidle - 1) * sizeof *idle);
            nidle--;
            purged++;
        }
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join (clients[i], NULL);
    ZCHECK (zmq_ctx_term (client_ctx));

    int total_retries = 0;
    for (int i = 0; i < CLIENTS; i++)
        total_retries += cargs[i].retries;
    for (int i = 0; i < WORKERS; i++) {
        if (i == killed) {
            guide_reap_as (&workers[i], "ppworker (killed)", -SIGKILL);
            continue;
        }
        char line[128];
        int served, reconnects, backoff;
        guide_write_line (workers[i].fd, "quit");
        guide_read_line (workers[i].fd, line, sizeof line);
        if (sscanf (line, "served %d reconnects %d backoff %d", &served,
                    &reconnects, &backoff)
            != 3)
            DIE ("worker %d: \"%s\"", i, line);
        guide_reap (&workers[i], "ppworker");
        fprintf (stderr,
                 "worker %d: served %d, reconnected %d times (longest "
                 "backoff %d ms), queue heard READY from generation %d\n",
                 i, served, reconnects, backoff, max_generation[i]);
        if (reconnects < 1)
            DIE ("worker %d never reconnected, though the queue froze for "
                 "%d ms",
                 i, FREEZE_MS);
        if (max_generation[i] < 1)
            DIE ("the queue never heard READY from a reconnected worker %d",
                 i);
    }
    ZCHECK (zmq_close (frontend));
    ZCHECK (zmq_close (backend));
    ZCHECK (zmq_ctx_term (ctx));
    if (killed == -1)
        DIE ("no worker was killed");
    if (total_retries < 1)
        DIE ("no client ever retried");
    printf ("PASS ppqueue/ppworker: %d clients x %d requests, %d handed out, "
            "%d replies, %d client retries, %d expiries, one worker killed\n",
            CLIENTS, ROUNDS, forwarded, replies, total_retries, purged);
    return 0;
}
