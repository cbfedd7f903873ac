/* The zmq_msg_* family without sockets.
 *
 * Pins:
 *  - init/init_size/init_data: sizes, data pointers (non-NULL even for size
 *    0, except init_data (NULL, 0)), zero-copy data pointer is the user's.
 *  - the free function runs exactly once, with (data, hint), when the LAST
 *    reference is closed; init_data with a NULL ffn never frees.
 *  - messages of up to 33 bytes are stored inline (VSM): a copy has its own
 *    data pointer and ZMQ_SHARED stays 0; from 34 bytes on the body is on the
 *    heap and a copy shares it (same pointer) and both report ZMQ_SHARED 1.
 *  - init_data with a NULL ffn ("constant" message) reports ZMQ_SHARED 1
 *    from the start; with an ffn it is 0 until copied.
 *  - copy/move onto an initialised destination release the old content.
 *  - move leaves the source an empty (size 0) valid message.
 *  - zmq_msg_get: ZMQ_MORE 0, ZMQ_SHARED as above, ZMQ_SRCFD without
 *    metadata -1/EINVAL, unknown property EINVAL; zmq_msg_set always EINVAL;
 *    zmq_msg_gets without metadata NULL/EINVAL.
 *  - a closed (or zeroed) message is invalid: close/copy/move report EFAULT.
 *    (zmq_msg_data/size on an invalid message assert in libzmq: not tested.)
 */
#include "testutil.h"

#include <stdint.h>

static int free_calls;
static void *free_data;
static void *free_hint;

static void counting_free (void *data, void *hint)
{
    free_calls++;
    free_data = data;
    free_hint = hint;
}

static void reset_free (void)
{
    free_calls = 0;
    free_data = NULL;
    free_hint = NULL;
}

static void test_init_variants (void)
{
    zmq_msg_t msg;

    //  zmq_msg_init: empty, data pointer usable (non-NULL), no flags.
    CHECK_INT_EQ (zmq_msg_init (&msg), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK (zmq_msg_data (&msg) != NULL);
    CHECK_INT_EQ (zmq_msg_more (&msg), 0);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_MORE), 0);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    //  init_size 0.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 0), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK (zmq_msg_data (&msg) != NULL);
    CHECK_INT_EQ (zmq_msg_more (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    //  init_size small: writable.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 10), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 10);
    CHECK (zmq_msg_data (&msg) != NULL);
    memcpy (zmq_msg_data (&msg), "0123456789", 10);
    CHECK (memcmp (zmq_msg_data (&msg), "0123456789", 10) == 0);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    //  init_size large: writable across the whole body.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 100000), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 100000);
    unsigned char *p = (unsigned char *) zmq_msg_data (&msg);
    CHECK (p != NULL);
    memset (p, 0xab, 100000);
    CHECK (p[0] == 0xab && p[99999] == 0xab);
    CHECK_INT_EQ (zmq_msg_more (&msg), 0);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    //  A closed message can be initialised again.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 5), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_INT_EQ (zmq_msg_init (&msg), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
}

static void test_init_data (void)
{
    zmq_msg_t msg, copy;
    static char buf[256];
    memcpy (buf, "hello", 5);

    //  Zero-copy: the data pointer is the user buffer; ffn runs at close
    //  with (data, hint), exactly once.
    reset_free ();
    CHECK_INT_EQ (
      zmq_msg_init_data (&msg, buf, 5, counting_free, (void *) 0x1234), 0);
    CHECK (zmq_msg_data (&msg) == buf);
    CHECK_INT_EQ (zmq_msg_size (&msg), 5);
    CHECK_INT_EQ (zmq_msg_more (&msg), 0);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 0);
    CHECK_INT_EQ (free_calls, 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_INT_EQ (free_calls, 1);
    CHECK (free_data == buf);
    CHECK (free_hint == (void *) 0x1234);

    //  Even a small zero-copy message keeps the user pointer (no inlining).
    reset_free ();
    CHECK_INT_EQ (zmq_msg_init_data (&msg, buf, 1, counting_free, NULL), 0);
    CHECK (zmq_msg_data (&msg) == buf);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_INT_EQ (free_calls, 1);
    CHECK (free_hint == NULL);

    //  The free function runs only when the LAST reference goes.
    reset_free ();
    CHECK_INT_EQ (
      zmq_msg_init_data (&msg, buf, 200, counting_free, (void *) 0x77), 0);
    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_copy (&copy, &msg), 0);
    CHECK (zmq_msg_data (&copy) == buf);
    CHECK_INT_EQ (zmq_msg_size (&copy), 200);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 1);
    CHECK_INT_EQ (zmq_msg_get (&copy, ZMQ_SHARED), 1);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_INT_EQ (free_calls, 0);
    //  The survivor is still valid (and still flagged shared).
    CHECK (zmq_msg_data (&copy) == buf);
    CHECK_INT_EQ (zmq_msg_size (&copy), 200);
    CHECK_INT_EQ (zmq_msg_get (&copy, ZMQ_SHARED), 1);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (free_calls, 1);
    CHECK (free_data == buf);
    CHECK (free_hint == (void *) 0x77);

    //  Three references: freed on the third close only.
    reset_free ();
    zmq_msg_t third;
    CHECK_INT_EQ (zmq_msg_init_data (&msg, buf, 64, counting_free, NULL), 0);
    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_init (&third), 0);
    CHECK_INT_EQ (zmq_msg_copy (&copy, &msg), 0);
    CHECK_INT_EQ (zmq_msg_copy (&third, &copy), 0);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_INT_EQ (free_calls, 0);
    CHECK (zmq_msg_data (&third) == buf);
    CHECK_INT_EQ (zmq_msg_close (&third), 0);
    CHECK_INT_EQ (free_calls, 1);

    //  Moving does not add a reference: freed once, at the destination's
    //  close.
    reset_free ();
    CHECK_INT_EQ (zmq_msg_init_data (&msg, buf, 50, counting_free, NULL), 0);
    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_move (&copy, &msg), 0);
    CHECK (zmq_msg_data (&copy) == buf);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_INT_EQ (free_calls, 0);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (free_calls, 1);

    //  NULL ffn: a constant message; it reports ZMQ_SHARED 1 at once, copies
    //  share the pointer, nothing is ever freed.
    reset_free ();
    CHECK_INT_EQ (zmq_msg_init_data (&msg, buf, 5, NULL, NULL), 0);
    CHECK (zmq_msg_data (&msg) == buf);
    CHECK_INT_EQ (zmq_msg_size (&msg), 5);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 1);
    CHECK_INT_EQ (zmq_msg_init (&copy), 0);
    CHECK_INT_EQ (zmq_msg_copy (&copy, &msg), 0);
    CHECK (zmq_msg_data (&copy) == buf);
    CHECK_INT_EQ (zmq_msg_get (&copy, ZMQ_SHARED), 1);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK (zmq_msg_data (&copy) == buf);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (free_calls, 0);

    //  NULL data with size 0 is allowed, with or without ffn; ffn still runs
    //  once, with NULL data.
    reset_free ();
    CHECK_INT_EQ (
      zmq_msg_init_data (&msg, NULL, 0, counting_free, (void *) 0x5), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK (zmq_msg_data (&msg) == NULL);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_INT_EQ (free_calls, 1);
    CHECK (free_data == NULL);
    CHECK (free_hint == (void *) 0x5);

    CHECK_INT_EQ (zmq_msg_init_data (&msg, NULL, 0, NULL, NULL), 0);
    CHECK_INT_EQ (zmq_msg_size (&msg), 0);
    CHECK (zmq_msg_data (&msg) == NULL);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);

    //  Copying or moving onto an initialised destination releases the
    //  destination's previous content first.
    reset_free ();
    zmq_msg_t small;
    CHECK_INT_EQ (zmq_msg_init_data (&copy, buf, 50, counting_free, NULL), 0);
    CHECK_INT_EQ (zmq_msg_init_size (&small, 3), 0);
    CHECK_INT_EQ (zmq_msg_copy (&copy, &small), 0);
    CHECK_INT_EQ (free_calls, 1);
    CHECK_INT_EQ (zmq_msg_size (&copy), 3);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (zmq_msg_close (&small), 0);

    reset_free ();
    CHECK_INT_EQ (zmq_msg_init_data (&copy, buf, 50, counting_free, NULL), 0);
    CHECK_INT_EQ (zmq_msg_init_size (&small, 3), 0);
    CHECK_INT_EQ (zmq_msg_move (&copy, &small), 0);
    CHECK_INT_EQ (free_calls, 1);
    CHECK_INT_EQ (zmq_msg_size (&copy), 3);
    CHECK_INT_EQ (zmq_msg_size (&small), 0);
    CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    CHECK_INT_EQ (zmq_msg_close (&small), 0);
    CHECK_INT_EQ (free_calls, 1);
}

static void test_copy_sharing (void)
{
    //  Inline (VSM) threshold is 33 bytes on 64-bit libzmq.
    for (size_t size = 0; size <= 100; size++) {
        zmq_msg_t msg, copy;
        CHECK_INT_EQ (zmq_msg_init_size (&msg, size), 0);
        memset (zmq_msg_data (&msg), (int) size, size);
        CHECK_INT_EQ (zmq_msg_init (&copy), 0);
        CHECK_INT_EQ (zmq_msg_copy (&copy, &msg), 0);
        CHECK_INT_EQ (zmq_msg_size (&copy), size);
        CHECK (memcmp (zmq_msg_data (&copy), zmq_msg_data (&msg), size) == 0);
        const int large = size > 33;
        CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), large);
        CHECK_INT_EQ (zmq_msg_get (&copy, ZMQ_SHARED), large);
        if (large)
            CHECK (zmq_msg_data (&copy) == zmq_msg_data (&msg));
        else
            CHECK (zmq_msg_data (&copy) != zmq_msg_data (&msg));

        //  Closing the original keeps the copy valid and intact.
        CHECK_INT_EQ (zmq_msg_close (&msg), 0);
        CHECK_INT_EQ (zmq_msg_size (&copy), size);
        const unsigned char *p = (const unsigned char *) zmq_msg_data (&copy);
        for (size_t i = 0; i < size; i++)
            CHECK (p[i] == (unsigned char) size);
        CHECK_INT_EQ (zmq_msg_close (&copy), 0);
    }

    //  A large body shared by copies: writes through one are visible in the
    //  other (same storage).
    zmq_msg_t a, b;
    CHECK_INT_EQ (zmq_msg_init_size (&a, 100000), 0);
    CHECK_INT_EQ (zmq_msg_init (&b), 0);
    CHECK_INT_EQ (zmq_msg_copy (&b, &a), 0);
    ((char *) zmq_msg_data (&a))[500] = 'Z';
    CHECK (((char *) zmq_msg_data (&b))[500] == 'Z');
    CHECK_INT_EQ (zmq_msg_close (&b), 0);
    //  Once the last copy is gone the survivor still says "shared".
    CHECK_INT_EQ (zmq_msg_get (&a, ZMQ_SHARED), 1);
    CHECK_INT_EQ (zmq_msg_close (&a), 0);
}

static void test_move (void)
{
    zmq_msg_t src, dst;
    CHECK_INT_EQ (zmq_msg_init_size (&src, 100), 0);
    memset (zmq_msg_data (&src), 'a', 100);
    void *body = zmq_msg_data (&src);
    CHECK_INT_EQ (zmq_msg_init (&dst), 0);
    CHECK_INT_EQ (zmq_msg_move (&dst, &src), 0);
    CHECK (zmq_msg_data (&dst) == body);
    CHECK_INT_EQ (zmq_msg_size (&dst), 100);
    //  The source is an empty, valid message.
    CHECK_INT_EQ (zmq_msg_size (&src), 0);
    CHECK_INT_EQ (zmq_msg_more (&src), 0);
    CHECK_INT_EQ (zmq_msg_get (&src, ZMQ_SHARED), 0);
    CHECK_INT_EQ (zmq_msg_close (&src), 0);
    CHECK_INT_EQ (zmq_msg_close (&dst), 0);

    //  Small message: contents travel.
    CHECK_INT_EQ (zmq_msg_init_size (&src, 4), 0);
    memcpy (zmq_msg_data (&src), "abcd", 4);
    CHECK_INT_EQ (zmq_msg_init (&dst), 0);
    CHECK_INT_EQ (zmq_msg_move (&dst, &src), 0);
    CHECK_INT_EQ (zmq_msg_size (&dst), 4);
    CHECK (memcmp (zmq_msg_data (&dst), "abcd", 4) == 0);
    CHECK_INT_EQ (zmq_msg_size (&src), 0);
    CHECK_INT_EQ (zmq_msg_close (&src), 0);
    CHECK_INT_EQ (zmq_msg_close (&dst), 0);
}

static void test_properties (void)
{
    zmq_msg_t msg;
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 10), 0);

    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_MORE), 0);
    CHECK_INT_EQ (zmq_msg_get (&msg, ZMQ_SHARED), 0);
    //  No metadata, hence no "__fd": -1 with EINVAL.
    CHECK_ERRNO (zmq_msg_get (&msg, ZMQ_SRCFD), EINVAL);
    CHECK_ERRNO (zmq_msg_get (&msg, 0), EINVAL);
    CHECK_ERRNO (zmq_msg_get (&msg, 4), EINVAL);
    CHECK_ERRNO (zmq_msg_get (&msg, -1), EINVAL);
    CHECK_ERRNO (zmq_msg_get (&msg, 12345), EINVAL);

    //  No property can be set.
    CHECK_ERRNO (zmq_msg_set (&msg, ZMQ_MORE, 1), EINVAL);
    CHECK_ERRNO (zmq_msg_set (&msg, ZMQ_SHARED, 1), EINVAL);
    CHECK_ERRNO (zmq_msg_set (&msg, ZMQ_SRCFD, 3), EINVAL);
    CHECK_ERRNO (zmq_msg_set (&msg, 0, 0), EINVAL);
    CHECK_ERRNO (zmq_msg_set (&msg, 12345, 1), EINVAL);
    CHECK_INT_EQ (zmq_msg_more (&msg), 0);

    //  No metadata: every property lookup fails with EINVAL.
    CHECK_NULL_ERRNO (zmq_msg_gets (&msg, "Socket-Type"), EINVAL);
    CHECK_NULL_ERRNO (zmq_msg_gets (&msg, "User-Id"), EINVAL);
    CHECK_NULL_ERRNO (zmq_msg_gets (&msg, "Peer-Address"), EINVAL);
    CHECK_NULL_ERRNO (zmq_msg_gets (&msg, "Routing-Id"), EINVAL);
    CHECK_NULL_ERRNO (zmq_msg_gets (&msg, "__fd"), EINVAL);
    CHECK_NULL_ERRNO (zmq_msg_gets (&msg, ""), EINVAL);

    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
}

static void test_invalid_messages (void)
{
    zmq_msg_t msg, other;

    //  Closing twice: the second close sees an invalid message.
    CHECK_INT_EQ (zmq_msg_init_size (&msg, 100), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_ERRNO (zmq_msg_close (&msg), EFAULT);

    CHECK_INT_EQ (zmq_msg_init (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_ERRNO (zmq_msg_close (&msg), EFAULT);

    //  An all-zero zmq_msg_t is not a valid message.
    memset (&msg, 0, sizeof msg);
    CHECK_ERRNO (zmq_msg_close (&msg), EFAULT);

    //  copy/move from an invalid source: EFAULT, destination untouched.
    CHECK_INT_EQ (zmq_msg_init_size (&other, 7), 0);
    memset (&msg, 0, sizeof msg);
    CHECK_ERRNO (zmq_msg_copy (&other, &msg), EFAULT);
    CHECK_ERRNO (zmq_msg_move (&other, &msg), EFAULT);
    CHECK_INT_EQ (zmq_msg_size (&other), 7);

    //  copy/move to a closed destination: EFAULT (the destination must be a
    //  valid message, it is closed first); the source is untouched.
    CHECK_INT_EQ (zmq_msg_init (&msg), 0);
    CHECK_INT_EQ (zmq_msg_close (&msg), 0);
    CHECK_ERRNO (zmq_msg_copy (&msg, &other), EFAULT);
    CHECK_ERRNO (zmq_msg_move (&msg, &other), EFAULT);
    CHECK_INT_EQ (zmq_msg_size (&other), 7);
    CHECK_INT_EQ (zmq_msg_get (&other, ZMQ_SHARED), 0);
    CHECK_INT_EQ (zmq_msg_close (&other), 0);
}

int main (void)
{
    test_init ();
    test_init_variants ();
    test_init_data ();
    test_copy_sharing ();
    test_move ();
    test_properties ();
    test_invalid_messages ();
    TEST_PASS ();
}
