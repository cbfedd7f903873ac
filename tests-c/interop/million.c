/* A million 1-byte messages PUSH -> PULL across two processes, default HWMs.
 *
 *   million pull <bind-endpoint> <count> <done-file>
 *   million push <connect-endpoint> <count>
 *
 * The puller binds, prints its resolved ZMQ_LAST_ENDPOINT as one line on
 * stdout and counts what arrives; message i carries the byte (i & 0xff), so
 * a gap or reordering is seen where it happens, not only as a short count.
 * The pusher connects, sends <count> messages, closes with the default
 * linger and terminates its context (which must deliver everything), then
 * exits.  The driving script creates <done-file> once the pusher has exited;
 * from then on the puller gives up after QUIET_MS without a message (messages
 * lost for good, e.g. upstream issue 4660 with libzmq 4.3.4 over ipc).
 * Without the done-file the puller waits up to STALL_MS between messages.
 *
 * The puller prints "received N of COUNT" on stdout as its second line and
 * exits 0 if exactly COUNT arrived in order, 4 if messages were lost or out
 * of order, 1 on any other error.  Both sides print the libzmq version they
 * run on stderr. */
#define INTEROP_NAME "million"
#include "interop.h"

#define RUN_TIMEOUT_S 90
#define STALL_MS 20000
#define QUIET_MS 2000

static int pull (void *ctx, const char *endpoint, long count,
                 const char *done_file)
{
    void *sock = zmq_socket (ctx, ZMQ_PULL);
    if (!sock)
        DIE ("zmq_socket: %s", zmq_strerror (errno));
    if (zmq_bind (sock, endpoint) == -1)
        DIE ("zmq_bind (%s): %s (errno %d)", endpoint, zmq_strerror (errno),
             errno);
    char ep[256];
    size_t eplen = sizeof ep;
    ZCHECK (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, ep, &eplen));
    printf ("%s\n", ep);
    fflush (stdout);

    long received = 0;
    long first_bad = -1; /* first index whose byte was not the expected one */
    int64_t start = -1;
    int64_t last = now_ms ();
    int done_seen = 0;
    while (received < count) {
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, 100);
        if (rc == -1 && errno != EINTR)
            DIE ("zmq_poll: %s (errno %d)", zmq_strerror (errno), errno);
        int64_t now = now_ms ();
        if (rc > 0) {
            unsigned char b[2];
            int n;
            while (received < count
                   && (n = zmq_recv (sock, b, sizeof b, ZMQ_DONTWAIT)) != -1) {
                if (n != 1)
                    DIE ("message %ld has %d bytes, expected 1", received, n);
                if (b[0] != (unsigned char) (received & 0xff) && first_bad < 0)
                    first_bad = received;
                received++;
            }
            if (received < count && errno != EAGAIN)
                DIE ("zmq_recv: %s (errno %d)", zmq_strerror (errno), errno);
            if (start < 0)
                start = now;
            last = now_ms ();
            continue;
        }
        if (!done_seen && access (done_file, F_OK) == 0) {
            done_seen = 1;
            if (last < now)
                last = now; /* the quiet period starts once the pusher ended */
        }
        if (done_seen && now - last >= QUIET_MS)
            break;
        if (now - last >= STALL_MS) {
            fprintf (stderr, "million[pull]: no message for %d ms\n",
                     STALL_MS);
            break;
        }
    }
    //  Nothing beyond the count.
    if (received == count) {
        char b[2];
        if (zmq_recv (sock, b, sizeof b, ZMQ_DONTWAIT) != -1)
            DIE ("more than %ld messages arrived", count);
    }
    int64_t elapsed = start < 0 ? 0 : now_ms () - start;
    printf ("received %ld of %ld\n", received, count);
    fflush (stdout);
    fprintf (stderr, "million[pull]: received %ld of %ld in %lld ms%s\n",
             received, count, (long long) elapsed,
             first_bad >= 0 ? " (gap or reorder)" : "");
    if (first_bad >= 0)
        fprintf (stderr,
                 "million[pull]: first unexpected byte at message %ld\n",
                 first_bad);
    set_int (sock, ZMQ_LINGER, 0);
    ZCHECK (zmq_close (sock));
    return received == count && first_bad < 0 ? 0 : 4;
}

static int push (void *ctx, const char *endpoint, long count)
{
    void *sock = zmq_socket (ctx, ZMQ_PUSH);
    if (!sock)
        DIE ("zmq_socket: %s", zmq_strerror (errno));
    set_int (sock, ZMQ_SNDTIMEO, 10000);
    if (zmq_connect (sock, endpoint) == -1)
        DIE ("zmq_connect (%s): %s (errno %d)", endpoint,
             zmq_strerror (errno), errno);
    int64_t start = now_ms ();
    for (long i = 0; i < count; i++) {
        unsigned char b = (unsigned char) (i & 0xff);
        int rc = zmq_send (sock, &b, 1, 0);
        if (rc != 1)
            DIE ("zmq_send of message %ld returned %d: %s (errno %d)", i, rc,
                 zmq_strerror (errno), errno);
    }
    int64_t sent = now_ms ();
    //  Default linger (infinite): close and ctx_term must deliver the rest.
    ZCHECK (zmq_close (sock));
    fprintf (stderr, "million[push]: sent %ld in %lld ms\n", count,
             (long long) (sent - start));
    return 0;
}

int main (int argc, char **argv)
{
    interop_watchdog (RUN_TIMEOUT_S);
    if (argc < 4 || (strcmp (argv[1], "pull") == 0 && argc < 5)) {
        fprintf (stderr,
                 "usage: %s pull endpoint count done-file | push endpoint "
                 "count\n",
                 argv[0]);
        return 2;
    }
    g_role = argv[1];
    char *end;
    long count = strtol (argv[3], &end, 10);
    if (*end || count < 0)
        DIE ("bad count %s", argv[3]);
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    fprintf (stderr, "million[%s]: libzmq %d.%d.%d (pid %d)\n", g_role, major,
             minor, patch, (int) getpid ());
    void *ctx = zmq_ctx_new ();
    if (!ctx)
        DIE ("zmq_ctx_new: %s", zmq_strerror (errno));
    int rc;
    if (strcmp (g_role, "pull") == 0)
        rc = pull (ctx, argv[2], count, argv[4]);
    else if (strcmp (g_role, "push") == 0)
        rc = push (ctx, argv[2], count);
    else
        DIE ("unknown role %s", g_role);
    int64_t t = now_ms ();
    ZCHECK (zmq_ctx_term (ctx));
    if (strcmp (g_role, "push") == 0)
        fprintf (stderr, "million[push]: context terminated after %lld ms\n",
                 (long long) (now_ms () - t));
    return rc;
}
