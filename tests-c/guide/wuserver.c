/* Guide chapter 1, "Getting the Message Out": wuserver and wuclient
 * (weather updates over PUB/SUB).
 *
 * wuserver is the main process: a PUB bound to tcp on 127.0.0.1 (wildcard
 * port) publishing "<zipcode> <temperature> <humidity> <seq>" for zipcodes
 * ZIP_FIRST .. ZIP_FIRST + ZIPS - 1 in a fixed pseudo-random order, without
 * waiting for anybody (late joiners simply miss the start), until every
 * client has said it is done.  Temperature and humidity are functions of
 * (zipcode, seq), seq counting the updates of that zipcode.
 * wuclient runs CLIENTS times, each a separate process (guide_spawn, so
 * run.sh can put it on the other library): a SUB connected over tcp with one
 * prefix subscription ("10001 ", "10007 ", or "1001", which covers ten
 * zipcodes).  It takes UPDATES updates and checks every one starts with its
 * prefix, parses, carries the temperature and humidity its (zipcode, seq)
 * implies, and that seq grows per zipcode (PUB may drop when a subscriber
 * lags, so gaps are allowed); then it reports its average temperature to
 * the parent, which checks it against the expected range.
 * Exit 0 when every client got its updates and exited 0. */
#include "guide.h"

#define CLIENTS 3
#define UPDATES 200
#define ZIP_FIRST 10000
#define ZIPS 20

static const char *const prefixes[CLIENTS] = {"10001 ", "10007 ", "1001"};

static int temperature (int zip, long seq)
{
    return (zip % 17) * 5 - 40 + (int) ((seq * 7 + zip) % 11) - 5;
}

static int humidity (int zip, long seq)
{
    return 10 + (int) ((seq * 13 + zip * 3) % 81);
}

static int wuclient (const char *arg, int fd)
{
    char ep[256];
    int id;
    if (sscanf (arg, "%255s %d", ep, &id) != 2 || id < 0 || id >= CLIENTS)
        DIE ("bad argument \"%s\"", arg);
    const char *filter = prefixes[id];
    void *ctx = ZPTR (zmq_ctx_new ());
    void *sub = guide_socket (ctx, ZMQ_SUB);
    ZCHECK (zmq_connect (sub, ep));
    ZCHECK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, filter, strlen (filter)));

    long last_seq[ZIPS];
    for (int z = 0; z < ZIPS; z++)
        last_seq[z] = -1;
    long total_temp = 0;
    int min_temp = 1000, max_temp = -1000;
    for (int n = 0; n < UPDATES; n++) {
        char update[128];
        if (s_recv (sub, update, sizeof update))
            DIE ("update \"%s\" has more frames", update);
        if (strncmp (update, filter, strlen (filter)) != 0)
            DIE ("update \"%s\" does not match the subscription \"%s\"",
                 update, filter);
        int zip, temp, hum, used = 0;
        long seq;
        if (sscanf (update, "%d %d %d %ld%n", &zip, &temp, &hum, &seq, &used)
              != 4
            || update[used] != '\0' || zip < ZIP_FIRST
            || zip >= ZIP_FIRST + ZIPS)
            DIE ("malformed update \"%s\"", update);
        if (temp != temperature (zip, seq) || hum != humidity (zip, seq))
            DIE ("update \"%s\": expected temperature %d humidity %d", update,
                 temperature (zip, seq), humidity (zip, seq));
        if (seq <= last_seq[zip - ZIP_FIRST])
            DIE ("zipcode %d: seq %ld after %ld", zip, seq,
                 last_seq[zip - ZIP_FIRST]);
        last_seq[zip - ZIP_FIRST] = seq;
        total_temp += temp;
        for (long s = 0; s < 11; s++) {
            int t = temperature (zip, s);
            if (t < min_temp)
                min_temp = t;
            if (t > max_temp)
                max_temp = t;
        }
    }
    char line[128];
    snprintf (line, sizeof line, "%d %ld %d %d", id, total_temp, min_temp,
              max_temp);
    guide_write_line (fd, line);
    fprintf (stderr, "wuclient %d: average temperature for '%s' was %.1fF\n",
             id, filter, (double) total_temp / UPDATES);
    ZCHECK (zmq_close (sub));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

int main (int argc, char **argv)
{
    static const guide_role_t roles[] = {{"wuclient", wuclient}};
    guide_roles (argc, argv, roles, 1);
    guide_init ("wuserver");

    void *ctx = ZPTR (zmq_ctx_new ());
    void *pub = guide_socket (ctx, ZMQ_PUB);
    char ep[256];
    guide_bind (pub, "tcp", ep);

    guide_child_t clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        char arg[300];
        snprintf (arg, sizeof arg, "%s %d", ep, i);
        clients[i] = guide_spawn ("wuclient", arg);
    }

    long seq[ZIPS] = {0};
    long sent = 0;
    uint32_t x = 2463534242u;
    int done[CLIENTS] = {0}, ndone = 0;
    while (ndone < CLIENTS) {
        for (int k = 0; k < 64; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            int z = (int) (x % ZIPS);
            int zip = ZIP_FIRST + z;
            char update[128];
            snprintf (update, sizeof update, "%05d %d %d %ld", zip,
                      temperature (zip, seq[z]), humidity (zip, seq[z]),
                      seq[z]);
            s_send (pub, update, 0);
            seq[z]++;
            sent++;
        }
        guide_sleep_ms (1);
        for (int i = 0; i < CLIENTS; i++) {
            char line[128];
            if (done[i] || !guide_try_line (clients[i].fd, line, sizeof line))
                continue;
            int id, lo, hi;
            long total;
            if (sscanf (line, "%d %ld %d %d", &id, &total, &lo, &hi) != 4
                || id != i)
                DIE ("client %d: bad report \"%s\"", i, line);
            if (total < (long) lo * UPDATES || total > (long) hi * UPDATES)
                DIE ("client %d: average %.1f outside [%d, %d]", i,
                     (double) total / UPDATES, lo, hi);
            done[i] = 1;
            ndone++;
        }
    }
    for (int i = 0; i < CLIENTS; i++)
        guide_reap (&clients[i], "wuclient");
    ZCHECK (zmq_close (pub));
    ZCHECK (zmq_ctx_term (ctx));
    printf ("PASS wuserver/wuclient: %d subscribers x %d updates, %ld "
            "published\n",
            CLIENTS, UPDATES, sent);
    return 0;
}
