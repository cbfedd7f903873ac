/* Guide chapter 2, "Pub-Sub Message Envelopes": psenvpub and psenvsub.
 *
 * psenvpub is the main process: a PUB bound to tcp on 127.0.0.1 (wildcard
 * port) publishing, round after round until every subscriber is done, one
 * envelope per key: [key][contents], the key in a frame of its own so that
 * the subscription prefix matches the key only.  Keys "A" and "B" carry two
 * frames, [key]["<key> contents <round>"]; key "C" carries three,
 * [key]["C header <round>"]["C body <round>"].
 * psenvsub runs once per subscription set, each a separate process
 * (guide_spawn): "B" alone (the Guide's subscriber), and "A" plus "C" (two
 * subscriptions on one SUB).  Each takes ENVELOPES envelopes and checks every
 * one is whole (the right number of frames, ZMQ_RCVMORE on all but the last),
 * has a key it subscribed to, and the contents that key and round imply, and
 * that rounds grow per key (PUB may drop whole messages for a lagging
 * subscriber, never parts of one).  The "A"+"C" subscriber must see both of
 * its keys.  Exit 0 when every subscriber passed. */
#include "guide.h"

#define ENVELOPES 150

static const char *const subscriptions[] = {"B", "AC"};
#define SUBSCRIBERS ((int) (sizeof subscriptions / sizeof *subscriptions))

static int frames_of (char key)
{
    return key == 'C' ? 3 : 2;
}

static void expected_frame (char key, int frame, long round, char *buf,
                            size_t cap)
{
    if (frame == 0)
        snprintf (buf, cap, "%c", key);
    else if (key != 'C')
        snprintf (buf, cap, "%c contents %ld", key, round);
    else
        snprintf (buf, cap, "C %s %ld", frame == 1 ? "header" : "body", round);
}

static int psenvsub (const char *arg, int fd)
{
    char ep[256];
    int id;
    if (sscanf (arg, "%255s %d", ep, &id) != 2 || id < 0 || id >= SUBSCRIBERS)
        DIE ("bad argument \"%s\"", arg);
    const char *keys = subscriptions[id];
    void *ctx = ZPTR (zmq_ctx_new ());
    void *sub = guide_socket (ctx, ZMQ_SUB);
    ZCHECK (zmq_connect (sub, ep));
    for (const char *k = keys; *k; k++)
        ZCHECK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, k, 1));

    long last_round[3] = {-1, -1, -1};
    int per_key[3] = {0, 0, 0};
    for (int n = 0; n < ENVELOPES; n++) {
        char frame[128], want[128];
        int more = s_recv (sub, frame, sizeof frame);
        if (strlen (frame) != 1 || !strchr (keys, frame[0]))
            DIE ("subscriber '%s': envelope with key \"%s\"", keys, frame);
        char key = frame[0];
        if (!more)
            DIE ("subscriber '%s': key %c without contents", keys, key);
        long round = -1;
        for (int f = 1; f < frames_of (key); f++) {
            more = s_recv (sub, frame, sizeof frame);
            if (more != (f + 1 < frames_of (key)))
                DIE ("subscriber '%s': key %c frame %d \"%s\": more flag %d",
                     keys, key, f, frame, more);
            if (f == 1) {
                const char *sp = strrchr (frame, ' ');
                if (!sp || sscanf (sp + 1, "%ld", &round) != 1)
                    DIE ("subscriber '%s': bad contents \"%s\"", keys, frame);
            }
            expected_frame (key, f, round, want, sizeof want);
            if (strcmp (frame, want) != 0)
                DIE ("subscriber '%s': key %c frame %d: got \"%s\", expected "
                     "\"%s\"",
                     keys, key, f, frame, want);
        }
        if (round <= last_round[key - 'A'])
            DIE ("subscriber '%s': key %c round %ld after %ld", keys, key,
                 round, last_round[key - 'A']);
        last_round[key - 'A'] = round;
        per_key[key - 'A']++;
    }
    for (const char *k = keys; *k; k++)
        if (per_key[*k - 'A'] == 0)
            DIE ("subscriber '%s': no envelope with key %c", keys, *k);
    fprintf (stderr, "psenvsub '%s': A %d, B %d, C %d\n", keys, per_key[0],
             per_key[1], per_key[2]);
    guide_write_line (fd, "done");
    ZCHECK (zmq_close (sub));
    ZCHECK (zmq_ctx_term (ctx));
    return 0;
}

int main (int argc, char **argv)
{
    static const guide_role_t roles[] = {{"psenvsub", psenvsub}};
    guide_roles (argc, argv, roles, 1);
    guide_init ("psenvpub");

    void *ctx = ZPTR (zmq_ctx_new ());
    void *pub = guide_socket (ctx, ZMQ_PUB);
    char ep[256];
    guide_bind (pub, "tcp", ep);

    guide_child_t subs[SUBSCRIBERS];
    for (int i = 0; i < SUBSCRIBERS; i++) {
        char arg[300];
        snprintf (arg, sizeof arg, "%s %d", ep, i);
        subs[i] = guide_spawn ("psenvsub", arg);
    }

    int done[SUBSCRIBERS] = {0}, ndone = 0;
    long round;
    for (round = 0; ndone < SUBSCRIBERS; round++) {
        for (char key = 'A'; key <= 'C'; key++)
            for (int f = 0; f < frames_of (key); f++) {
                char frame[128];
                expected_frame (key, f, round, frame, sizeof frame);
                s_send (pub, frame, f + 1 < frames_of (key) ? ZMQ_SNDMORE : 0);
            }
        if (round % 8 == 7)
            guide_sleep_ms (1);
        for (int i = 0; i < SUBSCRIBERS; i++) {
            char line[64];
            if (!done[i] && guide_try_line (subs[i].fd, line, sizeof line)) {
                if (strcmp (line, "done") != 0)
                    DIE ("subscriber %d: \"%s\"", i, line);
                done[i] = 1;
                ndone++;
            }
        }
    }
    for (int i = 0; i < SUBSCRIBERS; i++)
        guide_reap (&subs[i], "psenvsub");
    ZCHECK (zmq_close (pub));
    ZCHECK (zmq_ctx_term (ctx));
    printf ("PASS psenvpub/psenvsub: %d subscribers x %d envelopes, %ld "
            "rounds published\n",
            SUBSCRIBERS, ENVELOPES, round);
    return 0;
}
