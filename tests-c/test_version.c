/* zmq_version and the ZMQ_VERSION* macros.
 *
 * Pins: the runtime version is 4.3.x with x >= 4 (Debian ships 4.3.4, we
 * report 4.3.5, so the patch level is only bounded below); the runtime
 * major/minor agree with the header's; ZMQ_VERSION is ZMQ_MAKE_VERSION of the
 * three header macros, i.e. major * 10000 + minor * 100 + patch.
 *
 * NULL out-parameters are not tested: libzmq's zmq_version stores through all
 * three pointers unconditionally (src/zmq.cpp), so NULL would crash. */
#include "testutil.h"

int main (void)
{
    test_init ();

    //  Header macros are self-consistent.
    CHECK (ZMQ_VERSION_MAJOR == 4);
    CHECK (ZMQ_VERSION_MINOR == 3);
    CHECK (ZMQ_VERSION_PATCH >= 4);
    CHECK_INT_EQ (ZMQ_VERSION, ZMQ_MAKE_VERSION (ZMQ_VERSION_MAJOR,
                                                 ZMQ_VERSION_MINOR,
                                                 ZMQ_VERSION_PATCH));
    CHECK_INT_EQ (ZMQ_MAKE_VERSION (4, 3, 4), 40304);
    CHECK_INT_EQ (ZMQ_MAKE_VERSION (1, 2, 3), 10203);
    CHECK_INT_EQ (ZMQ_VERSION, ZMQ_VERSION_MAJOR * 10000
                                 + ZMQ_VERSION_MINOR * 100 + ZMQ_VERSION_PATCH);

    //  Runtime version: every out-parameter is written.
    int major = -1, minor = -1, patch = -1;
    zmq_version (&major, &minor, &patch);
    printf ("runtime libzmq version %d.%d.%d (header %d.%d.%d)\n", major,
            minor, patch, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR,
            ZMQ_VERSION_PATCH);
    CHECK_INT_EQ (major, 4);
    CHECK_INT_EQ (minor, 3);
    CHECK (patch >= 4);
    CHECK_INT_EQ (major, ZMQ_VERSION_MAJOR);
    CHECK_INT_EQ (minor, ZMQ_VERSION_MINOR);
    CHECK (ZMQ_MAKE_VERSION (major, minor, patch)
           >= ZMQ_MAKE_VERSION (4, 3, 4));

    //  Repeated calls give the same answer.
    int major2 = -1, minor2 = -1, patch2 = -1;
    zmq_version (&major2, &minor2, &patch2);
    CHECK (major2 == major && minor2 == minor && patch2 == patch);

    TEST_PASS ();
}
