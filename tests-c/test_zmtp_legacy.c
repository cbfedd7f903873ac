/* Peers speaking older ZMTP revisions, over raw tcp sockets.
 *
 * Pins: a ZMTP 2.0 peer (RFC 15: signature, revision 1, its socket type,
 * then its identity and messages as frames) gets back our signature, major
 * version 3, our socket type and our (empty) identity frame, and its
 * messages arrive; an unversioned ZMTP 1.0 peer (RFC 13: identity frame
 * first, length counting the flags octet) gets back only our 10-byte
 * signature (the header of our identity frame) and its messages arrive. */
#include "testutil.h"

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

    //  ZMTP 2.0.
    int v2 = test_raw_connect (port);
    static const unsigned char v2_greeting[] = {0xFF, 0, 0, 0, 0, 0, 0, 0,
                                                1,    0x7F, 1, ZMQ_PUSH};
    test_write_all (v2, v2_greeting, sizeof v2_greeting);
    test_write_all (v2, "\x00\x00", 2);               //  empty identity
    test_write_all (v2, "\x01\x05hello\x00\x05world", 14); //  a two-part message
    unsigned char back[14];
    test_read_exactly (v2, back, sizeof back);
    static const unsigned char expect_v2[] = {
      0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, ZMQ_PULL, 0, 0};
    CHECK (memcmp (back, expect_v2, sizeof expect_v2) == 0);
    RECV_STR (pull, "hello", 1);
    RECV_STR (pull, "world", 0);

    //  ZMTP 1.0 (unversioned).
    int v1 = test_raw_connect (port);
    test_write_all (v1, "\x01\x00", 2);                           //  empty identity
    test_write_all (v1, "\x06\x01hello\x06\x00there", 14);      //  a two-part message
    RECV_STR (pull, "hello", 1);
    RECV_STR (pull, "there", 0);
    unsigned char sig[10];
    test_read_exactly (v1, sig, sizeof sig);
    static const unsigned char expect_v1[] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F};
    CHECK (memcmp (sig, expect_v1, sizeof expect_v1) == 0);

    close (v1);
    close (v2);
    test_close_zero_linger (pull);
    CHECK_OK (zmq_ctx_term (ctx));
    TEST_PASS ();
}
