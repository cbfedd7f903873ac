/* Hostile peers over raw tcp cannot hurt a bound socket.
 *
 * Pins: garbage bytes, a truncated greeting, a peer that vanishes mid
 * greeting, and a valid greeting followed by a READY and then a frame header
 * declaring an exabyte: the process survives without allocating the
 * declared size, and a well-behaved peer that connects afterwards delivers
 * its message. (Garbage whose first byte is not 0xFF reads as an unversioned
 * ZMTP 1.0 stream, so libzmq, and we, may deliver some of it as messages;
 * those are skipped here.) */
#include "testutil.h"

/* Sends bytes, ignoring a peer that already hung up. */
static void send_bytes (int fd, const void *buf, size_t n)
{
    ssize_t rc = send (fd, buf, n, MSG_NOSIGNAL);
    (void) rc;
}

int main (void)
{
    test_init ();
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (ctx && pull);
    test_set_int (pull, ZMQ_RCVTIMEO, 5000);
    char ep[TEST_ENDPOINT_MAX];
    test_bind_any (pull, "tcp", ep);
    int port = atoi (strrchr (ep, ':') + 1);

    //  Garbage.
    int a = test_raw_connect (port);
    unsigned char junk[4096];
    unsigned int seed = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        seed = seed * 1103515245u + 12345u;
        junk[i] = (unsigned char) (seed >> 16);
    }
    send_bytes (a, junk, sizeof junk);

    //  A truncated greeting, then gone.
    int b = test_raw_connect (port);
    send_bytes (b, "\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03", 11);
    close (b);

    //  A valid ZMTP 3.0 greeting and READY from a PUSH, then a data frame
    //  whose header declares 2^60 bytes.
    int c = test_raw_connect (port);
    unsigned char greeting[64];
    memset (greeting, 0, sizeof greeting);
    greeting[0] = 0xff;
    greeting[8] = 1;
    greeting[9] = 0x7f;
    greeting[10] = 3;
    memcpy (greeting + 12, "NULL", 4);
    send_bytes (c, greeting, sizeof greeting);
    static const unsigned char ready[] = "\x04\x1a\x05READY\x0bSocket-Type\x00\x00\x00\x04PUSH";
    send_bytes (c, ready, sizeof ready - 1);
    static const unsigned char huge[] = {0x02, 0x10, 0, 0, 0, 0, 0, 0, 0, 'x', 'y'};
    send_bytes (c, huge, sizeof huge);

    //  A well-behaved peer still gets through.
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push);
    CHECK_OK (zmq_connect (push, ep));
    SEND_STR (push, "still here", 0);
    char buf[64];
    int found = 0;
    for (int i = 0; i < 10000 && !found; i++) {
        int n = zmq_recv (pull, buf, sizeof buf - 1, 0);
        CHECK (n >= 0);
        found = n == 10 && memcmp (buf, "still here", 10) == 0;
    }
    CHECK (found);

    close (a);
    close (c);
    test_close_zero_linger (push);
    test_close_zero_linger (pull);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
