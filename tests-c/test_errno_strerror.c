/* zmq_errno and zmq_strerror, and the libzmq-specific errno values.
 *
 * Pins: zmq_errno() is the calling thread's errno after a failing call;
 * zmq_strerror gives libzmq's own fixed texts for EFSM, ENOCOMPATPROTO,
 * ETERM, EMTHREAD and also EHOSTUNREACH (src/err.cpp: "Host unreachable",
 * where glibc says "No route to host") and strerror()'s text for everything
 * else (system errnos, 0, unknown numbers; checked for -5..299); the
 * ZMQ_HAUSNUMERO-based values are the ones the header defines. */
#include "testutil.h"

static int thread_errno = -1;

static void errno_thread (void *arg)
{
    (void) arg;
    //  A failing call in this thread sets this thread's errno only.
    zmq_msg_t msg;
    if (zmq_msg_init (&msg) == 0 && zmq_msg_set (&msg, ZMQ_MORE, 1) == -1)
        thread_errno = zmq_errno ();
    zmq_msg_close (&msg);
}

int main (void)
{
    test_init ();

    //  The header's numbering.
    CHECK_INT_EQ (ZMQ_HAUSNUMERO, 156384712);
    CHECK_INT_EQ (EFSM, ZMQ_HAUSNUMERO + 51);
    CHECK_INT_EQ (ENOCOMPATPROTO, ZMQ_HAUSNUMERO + 52);
    CHECK_INT_EQ (ETERM, ZMQ_HAUSNUMERO + 53);
    CHECK_INT_EQ (EMTHREAD, ZMQ_HAUSNUMERO + 54);
    CHECK_INT_EQ (EFSM, 156384763);
    CHECK_INT_EQ (ENOCOMPATPROTO, 156384764);
    CHECK_INT_EQ (ETERM, 156384765);
    CHECK_INT_EQ (EMTHREAD, 156384766);

    //  libzmq's own messages (exact text from src/err.cpp).
    CHECK_STR_EQ (zmq_strerror (EFSM),
                  "Operation cannot be accomplished in current state");
    CHECK_STR_EQ (zmq_strerror (ENOCOMPATPROTO),
                  "The protocol is not compatible with the socket type");
    CHECK_STR_EQ (zmq_strerror (ETERM), "Context was terminated");
    CHECK_STR_EQ (zmq_strerror (EMTHREAD), "No thread available");
    //  Surprise: libzmq overrides the system text of EHOSTUNREACH too.
    CHECK_STR_EQ (zmq_strerror (EHOSTUNREACH), "Host unreachable");

    //  Everything else is strerror()'s text.
    //  (Every number from -5 to 299 except EHOSTUNREACH.)
    for (int e = -5; e < 300; e++) {
        if (e == EHOSTUNREACH)
            continue;
        char copy[256];
        snprintf (copy, sizeof copy, "%s", strerror (e));
        CHECK_STR_EQ (zmq_strerror (e), copy);
    }
    CHECK_STR_EQ (zmq_strerror (EINVAL), "Invalid argument");
    CHECK_STR_EQ (zmq_strerror (EAGAIN), "Resource temporarily unavailable");

    //  Numbers libzmq does not know fall through to strerror as well
    //  (glibc: "Unknown error N"), including the unused ZMQ_HAUSNUMERO + n
    //  slots (on Linux ENOTSUP..ENETRESET are the system's own numbers).
    for (int e = ZMQ_HAUSNUMERO - 2; e < ZMQ_HAUSNUMERO + 100; e++) {
        if (e >= EFSM && e <= EMTHREAD)
            continue;
        char copy[256];
        snprintf (copy, sizeof copy, "%s", strerror (e));
        CHECK_STR_EQ (zmq_strerror (e), copy);
    }
    CHECK_STR_EQ (zmq_strerror (ZMQ_HAUSNUMERO + 55),
                  "Unknown error 156384767");

    //  zmq_errno() reflects errno after a failing call.
    errno = 0;
    CHECK (zmq_ctx_term (NULL) == -1);
    CHECK_INT_EQ (zmq_errno (), EFAULT);
    CHECK_INT_EQ (zmq_errno (), errno);

    zmq_msg_t msg;
    CHECK_OK (zmq_msg_init (&msg));
    CHECK (zmq_msg_get (&msg, 12345) == -1);
    CHECK_INT_EQ (zmq_errno (), EINVAL);

    CHECK (zmq_close (NULL) == -1);
    CHECK_INT_EQ (zmq_errno (), ENOTSOCK);
    CHECK_OK (zmq_msg_close (&msg));

    //  errno is per thread.
    errno = ETERM;
    void *thread = zmq_threadstart (errno_thread, NULL);
    CHECK (thread != NULL);
    zmq_threadclose (thread);
    CHECK_INT_EQ (thread_errno, EINVAL);
    CHECK_INT_EQ (zmq_errno (), ETERM);

    //  zmq_errno is just errno: whatever was stored is returned.
    errno = ETERM;
    CHECK_INT_EQ (zmq_errno (), ETERM);
    errno = 0;
    CHECK_INT_EQ (zmq_errno (), 0);

    TEST_PASS ();
}
