/* zmq_has capability queries.
 *
 * Our library answers truthfully (yes only for what really works), so the
 * specific answers are only printed, never asserted.  Pinned: every answer is
 * 0 or 1, the same question gets the same answer, and unknown capabilities
 * (including the empty string, wrong case, and transports such as "tcp" that
 * libzmq does not list) are 0.
 * (Debian's libzmq 4.3.4 answers 1 for ipc, pgm, tipc, norm, curve, gssapi
 * and 0 for draft, vmci, ws, wss.) */
#include "testutil.h"

int main (void)
{
    test_init ();

    const char *known[] = {"ipc",    "pgm",   "tipc", "norm", "curve",
                           "gssapi", "draft", "vmci", "ws",   "wss"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const int answer = zmq_has (known[i]);
        printf ("zmq_has (\"%s\") = %d\n", known[i], answer);
        CHECK (answer == 0 || answer == 1);
        CHECK_INT_EQ (zmq_has (known[i]), answer);
    }

    //  Unknown capabilities.
    const char *unknown[] = {"foo", "", "IPC", "Curve", "ipc ", "tcp",
                             "inproc", "udp", "curve\n"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_INT_EQ (zmq_has (unknown[i]), 0);

    TEST_PASS ();
}
