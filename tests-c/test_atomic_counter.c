/* zmq_atomic_counter_*.
 *
 * Pins (src/zmq_utils.cpp, src/atomic_counter.hpp):
 *  - new starts at 0; set stores any int; value reads it back;
 *  - inc returns the value BEFORE the increment;
 *  - dec returns 1 if the value AFTER the decrement is non-zero, else 0;
 *  - the counter is a 32-bit unsigned word seen through int: dec below 0
 *    gives -1 (and returns 1), INT_MAX + 1 wraps to INT_MIN;
 *  - destroy frees and sets the caller's pointer to NULL (a NULL *pointer
 *    is accepted: `delete NULL`);
 *  - inc/dec are atomic across threads (zmq_threadstart hammer). */
#include "testutil.h"

#include <limits.h>

#define HAMMER_COUNT 100000

static void inc_hammer (void *counter)
{
    for (int i = 0; i < HAMMER_COUNT; i++)
        zmq_atomic_counter_inc (counter);
}

static void dec_hammer (void *counter)
{
    for (int i = 0; i < HAMMER_COUNT; i++)
        zmq_atomic_counter_dec (counter);
}

int main (void)
{
    test_init ();

    void *counter = zmq_atomic_counter_new ();
    CHECK (counter != NULL);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), 0);

    //  inc returns the old value.
    CHECK_INT_EQ (zmq_atomic_counter_inc (counter), 0);
    CHECK_INT_EQ (zmq_atomic_counter_inc (counter), 1);
    CHECK_INT_EQ (zmq_atomic_counter_inc (counter), 2);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), 3);

    //  dec returns whether the new value is non-zero.
    CHECK_INT_EQ (zmq_atomic_counter_dec (counter), 1); //  3 -> 2
    CHECK_INT_EQ (zmq_atomic_counter_dec (counter), 1); //  2 -> 1
    CHECK_INT_EQ (zmq_atomic_counter_dec (counter), 0); //  1 -> 0
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), 0);
    //  Below zero: wraps to -1, which is non-zero.
    CHECK_INT_EQ (zmq_atomic_counter_dec (counter), 1);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), -1);
    CHECK_INT_EQ (zmq_atomic_counter_inc (counter), -1); //  -1 -> 0
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), 0);

    //  set / value.
    zmq_atomic_counter_set (counter, 5);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), 5);
    zmq_atomic_counter_set (counter, -3);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), -3);
    CHECK_INT_EQ (zmq_atomic_counter_inc (counter), -3);
    CHECK_INT_EQ (zmq_atomic_counter_dec (counter), 1); //  -2 -> -3
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), -3);
    zmq_atomic_counter_set (counter, 1);
    CHECK_INT_EQ (zmq_atomic_counter_dec (counter), 0);

    //  Wrap-around at the int boundary.
    zmq_atomic_counter_set (counter, INT_MAX);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), INT_MAX);
    CHECK_INT_EQ (zmq_atomic_counter_inc (counter), INT_MAX);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), INT_MIN);
    CHECK_INT_EQ (zmq_atomic_counter_dec (counter), 1);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), INT_MAX);

    //  Independent counters.
    void *other = zmq_atomic_counter_new ();
    CHECK (other != NULL && other != counter);
    CHECK_INT_EQ (zmq_atomic_counter_value (other), 0);
    zmq_atomic_counter_set (other, 42);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), INT_MAX);
    CHECK_INT_EQ (zmq_atomic_counter_value (other), 42);
    zmq_atomic_counter_destroy (&other);
    CHECK (other == NULL);

    //  Two threads incrementing concurrently.
    zmq_atomic_counter_set (counter, 0);
    void *t1 = zmq_threadstart (inc_hammer, counter);
    void *t2 = zmq_threadstart (inc_hammer, counter);
    CHECK (t1 != NULL && t2 != NULL);
    zmq_threadclose (t1);
    zmq_threadclose (t2);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), 2 * HAMMER_COUNT);

    //  One incrementing, one decrementing: back where it started.
    t1 = zmq_threadstart (inc_hammer, counter);
    t2 = zmq_threadstart (dec_hammer, counter);
    CHECK (t1 != NULL && t2 != NULL);
    zmq_threadclose (t1);
    zmq_threadclose (t2);
    CHECK_INT_EQ (zmq_atomic_counter_value (counter), 2 * HAMMER_COUNT);

    zmq_atomic_counter_destroy (&counter);
    CHECK (counter == NULL);
    //  Destroying through a pointer that is already NULL is harmless.
    zmq_atomic_counter_destroy (&counter);
    CHECK (counter == NULL);

    TEST_PASS ();
}
