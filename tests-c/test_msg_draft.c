/* ORACLE: skip (draft API not exported by Debian's libzmq) */
/* Draft message API: zmq_msg_init_buffer, routing ids and groups.
 *
 * Semantics derived from libzmq's src/msg.cpp and src/zmq.cpp (4.3.x):
 *  - zmq_msg_init_buffer = init_size + memcpy: the data is a private copy
 *    (pointer differs from the caller's buffer, contents equal), for inline
 *    (<= 33 bytes) and heap sizes; NULL buffer with size 0 is allowed.
 *  - routing id: 0 on every freshly initialised message; setting 0 fails
 *    with EINVAL and leaves the old value; any other uint32 is stored; copy
 *    keeps it, move transfers it and re-initialises the source (0).
 *  - group: "" (not NULL) on a fresh message; up to ZMQ_GROUP_MAX_LENGTH
 *    (255) characters stored exactly (short <= 14 inline, longer on the
 *    heap, refcounted across copies).  Setting a longer string does NOT fail:
 *    libzmq measures it with strnlen (group, 255), so it is silently
 *    truncated to its first 255 characters and 0 is returned.
 */
#ifndef ZMQ_BUILD_DRAFT_API
#define ZMQ_BUILD_DRAFT_API
#endif
#include "testutil.h"

#include <stdint.h>

static void test_init_buffer (void)
{
    const size_t sizes[] = {1, 5, 33, 34, 100, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const size_t size = sizes[i];
        unsigned char *buf = (unsigned char *) malloc (size);
        CHECK (buf != NULL);
        for (size_t j = 0; j < size; j++)
            buf[j] = (unsigned char) (j * 7 + size);

        zmq_msg_t msg;
        CHECK_INT_EQ (zmq_msg_init_buffer (&msg, buf, size), 0);
        CHECK_INT_EQ (zmq_msg_size (&msg), size);
        CHECK (zmq_msg_data (&msg) != NULL);
        CHECK (zmq_msg_data (&msg) != (void *) buf);
        CHECK (memcmp (zmq_msg_data (&msg), buf, size) == 0);
        CHECK_INT_EQ (zmq_msg_more (&msg), 0);
        CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 0);

        //  It is a copy: changing the caller's buffer changes nothing.
        buf[0] ^= 0xff;
        CHECK (((unsigned char *) zmq_msg_data (&msg))[0]
               == (unsigned char) (buf[0] ^ 0xff));
        free (buf);
        CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    }

    //  Size 0: NULL buffer allowed.
    zmq_msg_t msg;
    CHECK_INT_EQ (zmq_msg_init_buffer (&msg, NULL, 0), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    CHECK_INT_EQ (zmq_msg_init_buffer (&msg, "x", 0), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
}

static void test_routing_id (void)
{
    zmq_msg_t msg, copy;

    CHECK_INT_EQ (zmq_msg_init (&msg), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 0);
    CHECK_ERRNO (zmq_msg_set_routing_id (&msg, 0), EINVAL);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 0);

    CHECK_INT_EQ (zmq_msg_set_routing_id (&msg, 42), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 42);
    //  A failed set keeps the previous value.
    CHECK_ERRNO (zmq_msg_set_routing_id (&msg, 0), EINVAL);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 42);
    CHECK_INT_EQ (zmq_msg_set_routing_id (&msg, UINT32_MAX), 0);
    CHECK (zmq_msg_routing_id (&msg) == UINT32_MAX);
    CHECK_INT_EQ (zmq_msg_set_routing_id (&msg, 7), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 7);

    //  Copy keeps it; move transfers it and resets the source.
    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_copy (&copy, &msg), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&copy), 7);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);

    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_move (&copy, &msg), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&copy), 7);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    //  Every init variant starts at 0.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 1000), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 0);
    CHECK_INT_EQ (zmq_msg_set_routing_id (&msg, 1), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 1);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    static char data[8];
    CHECK_INT_EQ (zmq_msg_init_data (&msg, data, sizeof data, NULL, NULL), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    CHECK_INT_EQ (zmq_msg_init_buffer (&msg, "abc", 3), 0);
    CHECK_INT_EQ (zmq_msg_routing_id (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
}

static void test_group (void)
{
    zmq_msg_t msg, copy;
    char group[600];

    CHECK_INT_EQ (zmq_msg_init (&msg), 0);
    CHECK_STR_EQ (zmq_msg_group (&msg), "");

    CHECK_INT_EQ (zmq_msg_set_group (&msg, "abc"), 0);
    CHECK_STR_EQ (zmq_msg_group (&msg), "abc");
    CHECK_INT_EQ (zmq_msg_set_group (&msg, ""), 0);
    CHECK_STR_EQ (zmq_msg_group (&msg), "");

    //  Lengths around the short/long storage boundary and the maximum.
    const size_t lengths[] = {1, 13, 14, 15, 16, 100, 254, 255};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        const size_t len = lengths[i];
        for (size_t j = 0; j < len; j++)
            group[j] = (char) ('a' + (j % 26));
        group[len] = '\0';
        zmq_msg_t m;
        CHECK_INT_EQ (zmq_msg_init_size (&m, 10), 0);
        CHECK_INT_EQ (zmq_msg_set_group (&m, group), 0);
        CHECK_INT_EQ (strlen (zmq_msg_group (&m)), len);
        CHECK_STR_EQ (zmq_msg_group (&m), group);
        CHECK_INT_EQ (zmq_msg_close (&m), 0);
    }

    //  Longer than ZMQ_GROUP_MAX_LENGTH: accepted, truncated to 255.
    CHECK_INT_EQ (ZMQ_GROUP_MAX_LENGTH, 255);
    const size_t too_long[] = {256, 300, 599};
    for (size_t i = 0; i < sizeof too_long / sizeof too_long[0]; i++) {
        const size_t len = too_long[i];
        memset (group, 'G', len);
        group[len] = '\0';
        group[254] = 'L'; //  the last character kept
        zmq_msg_t m;
        CHECK_INT_EQ (zmq_msg_init (&m), 0);
        CHECK_INT_EQ (zmq_msg_set_group (&m, group), 0);
        const char *got = zmq_msg_group (&m);
        CHECK (got != NULL);
        CHECK_INT_EQ (strlen (got), ZMQ_GROUP_MAX_LENGTH);
        CHECK (strncmp (got, group, ZMQ_GROUP_MAX_LENGTH) == 0);
        CHECK (got[254] == 'L');
        CHECK_INT_EQ (zmq_msg_close (&m), 0);
    }

    //  Copies keep the group; a long group survives closing the original.
    memset (group, 'x', 200);
    group[200] = '\0';
    CHECK_INT_EQ (zmq_msg_set_group (&msg, group), 0);
    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_copy (&copy, &msg), 0);
    CHECK_STR_EQ (zmq_msg_group (&copy), group);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_STR_EQ (zmq_msg_group (&copy), group);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);

    //  Short group through copy and move.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 40), 0);
    CHECK_INT_EQ (zmq_msg_set_group (&msg, "news"), 0);
    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_copy (&copy, &msg), 0);
    CHECK_STR_EQ (zmq_msg_group (&copy), "news");
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_move (&copy, &msg), 0);
    CHECK_STR_EQ (zmq_msg_group (&copy), "news");
    CHECK_STR_EQ (zmq_msg_group (&msg), "");
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    //  Fresh messages of every kind have an empty group.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 1000), 0);
    CHECK_STR_EQ (zmq_msg_group (&msg), "");
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_INT_EQ (zmq_msg_init_buffer (&msg, "abc", 3), 0);
    CHECK_STR_EQ (zmq_msg_group (&msg), "");
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
}

int main (void)
{
    test_init ();
    test_init_buffer ();
    test_routing_id ();
    test_group ();
    TEST_PASS ();
}
