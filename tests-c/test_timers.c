/* zmq_timers_*.
 *
 * Pins (src/zmq.cpp, src/timers.cpp):
 *  - new gives a handle; destroy frees it and NULLs the caller's pointer;
 *    destroy of a pointer to NULL, and every call with a NULL or foreign
 *    handle, fail with EFAULT;
 *  - add: NULL handler -> EFAULT; ids are 1, 2, 3, ... per timers object;
 *    interval 0 is accepted;
 *  - cancel / set_interval / reset of an unknown id -> EINVAL; cancelling
 *    twice -> EINVAL; a cancelled timer never fires and is purged by the
 *    next timeout/execute, after which set_interval/reset are EINVAL too
 *    (before the purge they still return 0: a libzmq quirk);
 *  - timeout: -1 with no live timers, else ms until the next one (0 when
 *    overdue); execute runs every due handler with (id, arg), in due order,
 *    and re-arms it for another interval; execute returns 0;
 *  - set_interval re-arms from now with the new interval; reset re-arms
 *    from now with the same interval.
 * Not tested: executing an interval-0 timer (libzmq's execute loops forever
 * re-running it). */
#include "testutil.h"

#define MAX_CALLS 64

static int call_count;
static int call_ids[MAX_CALLS];
static void *call_args[MAX_CALLS];

static void handler (int timer_id, void *arg)
{
    if (call_count < MAX_CALLS) {
        call_ids[call_count] = timer_id;
        call_args[call_count] = arg;
    }
    call_count++;
}

static void reset_calls (void)
{
    call_count = 0;
    memset (call_ids, 0, sizeof call_ids);
    memset (call_args, 0, sizeof call_args);
}

//  Sleep until the next timer is due (bounded), then execute.
static void wait_and_execute (void *timers)
{
    for (int i = 0; i < 100; i++) {
        const long timeout = zmq_timers_timeout (timers);
        CHECK (timeout >= 0);
        if (timeout == 0)
            break;
        usleep ((useconds_t) timeout * 1000 + 500);
    }
    CHECK_INT_EQ (zmq_timers_timeout (timers), 0);
    CHECK_INT_EQ (zmq_timers_execute (timers), 0);
}

static char foreign[4096];

static void test_bad_handles (void)
{
    void *null_timers = NULL;
    CHECK_ERRNO (zmq_timers_destroy (&null_timers), EFAULT);
    CHECK_ERRNO (zmq_timers_add (NULL, 10, handler, NULL), EFAULT);
    CHECK_ERRNO (zmq_timers_cancel (NULL, 1), EFAULT);
    CHECK_ERRNO (zmq_timers_set_interval (NULL, 1, 10), EFAULT);
    CHECK_ERRNO (zmq_timers_reset (NULL, 1), EFAULT);
    CHECK_ERRNO (zmq_timers_timeout (NULL), EFAULT);
    CHECK_ERRNO (zmq_timers_execute (NULL), EFAULT);

    void *fake = foreign;
    CHECK_ERRNO (zmq_timers_add (fake, 10, handler, NULL), EFAULT);
    CHECK_ERRNO (zmq_timers_cancel (fake, 1), EFAULT);
    CHECK_ERRNO (zmq_timers_set_interval (fake, 1, 10), EFAULT);
    CHECK_ERRNO (zmq_timers_reset (fake, 1), EFAULT);
    CHECK_ERRNO (zmq_timers_timeout (fake), EFAULT);
    CHECK_ERRNO (zmq_timers_execute (fake), EFAULT);
    CHECK_ERRNO (zmq_timers_destroy (&fake), EFAULT);
    CHECK (fake == foreign); //  untouched on failure
}

static void test_empty (void)
{
    void *timers = zmq_timers_new ();
    CHECK (timers != NULL);
    CHECK_INT_EQ (zmq_timers_timeout (timers), -1);
    CHECK_INT_EQ (zmq_timers_execute (timers), 0);

    const int unknown_ids[] = {1, 0, -1, 12345};
    for (size_t i = 0; i < sizeof unknown_ids / sizeof unknown_ids[0]; i++) {
        CHECK_ERRNO (zmq_timers_cancel (timers, unknown_ids[i]), EINVAL);
        CHECK_ERRNO (zmq_timers_set_interval (timers, unknown_ids[i], 10),
                     EINVAL);
        CHECK_ERRNO (zmq_timers_reset (timers, unknown_ids[i]), EINVAL);
    }
    CHECK_ERRNO (zmq_timers_add (timers, 10, NULL, NULL), EFAULT);
    //  The failed add did not consume an id.
    CHECK_INT_EQ (zmq_timers_add (timers, 100000, handler, NULL), 1);

    CHECK_INT_EQ (zmq_timers_destroy (&timers), 0);
    CHECK (timers == NULL);
    CHECK_ERRNO (zmq_timers_destroy (&timers), EFAULT);
}

static void test_ids_and_cancel (void)
{
    void *timers = zmq_timers_new ();
    CHECK (timers != NULL);

    //  Sequential ids.
    CHECK_INT_EQ (zmq_timers_add (timers, 100000, handler, NULL), 1);
    CHECK_INT_EQ (zmq_timers_add (timers, 200000, handler, NULL), 2);
    CHECK_INT_EQ (zmq_timers_add (timers, 300000, handler, NULL), 3);
    //  Ids are per object.
    void *other = zmq_timers_new ();
    CHECK (other != NULL);
    CHECK_INT_EQ (zmq_timers_add (other, 100000, handler, NULL), 1);
    CHECK_INT_EQ (zmq_timers_destroy (&other), 0);

    const long timeout = zmq_timers_timeout (timers);
    CHECK (timeout > 99000 && timeout <= 100000);

    //  Cancel: once OK, twice EINVAL.
    CHECK_INT_EQ (zmq_timers_cancel (timers, 1), 0);
    CHECK_ERRNO (zmq_timers_cancel (timers, 1), EINVAL);
    //  Quirk: until purged, set_interval/reset of the cancelled id succeed.
    CHECK_INT_EQ (zmq_timers_set_interval (timers, 1, 5), 0);
    CHECK_INT_EQ (zmq_timers_reset (timers, 1), 0);
    CHECK_ERRNO (zmq_timers_cancel (timers, 1), EINVAL);
    //  The next timer in line is timer 2; timer 1 is purged now.
    const long timeout2 = zmq_timers_timeout (timers);
    CHECK (timeout2 > 199000 && timeout2 <= 200000);
    CHECK_ERRNO (zmq_timers_set_interval (timers, 1, 5), EINVAL);
    CHECK_ERRNO (zmq_timers_reset (timers, 1), EINVAL);
    CHECK_ERRNO (zmq_timers_cancel (timers, 1), EINVAL);

    //  Cancel everything: timeout -1.
    CHECK_INT_EQ (zmq_timers_cancel (timers, 2), 0);
    CHECK_INT_EQ (zmq_timers_cancel (timers, 3), 0);
    CHECK_INT_EQ (zmq_timers_timeout (timers), -1);
    CHECK_INT_EQ (zmq_timers_execute (timers), 0);

    //  Interval 0 is accepted (due at once); cancel it before executing.
    const int zero_id = zmq_timers_add (timers, 0, handler, NULL);
    CHECK_INT_EQ (zero_id, 4);
    CHECK_INT_EQ (zmq_timers_timeout (timers), 0);
    CHECK_INT_EQ (zmq_timers_cancel (timers, zero_id), 0);
    CHECK_INT_EQ (zmq_timers_timeout (timers), -1);

    //  A cancelled timer does not fire even when due.
    reset_calls ();
    const int short_id = zmq_timers_add (timers, 5, handler, NULL);
    CHECK_INT_EQ (short_id, 5);
    CHECK_INT_EQ (zmq_timers_cancel (timers, short_id), 0);
    usleep (15000);
    CHECK_INT_EQ (zmq_timers_execute (timers), 0);
    CHECK_INT_EQ (call_count, 0);
    CHECK_ERRNO (zmq_timers_cancel (timers, short_id), EINVAL);

    CHECK_INT_EQ (zmq_timers_destroy (&timers), 0);
    CHECK (timers == NULL);
}

static void test_execute (void)
{
    void *timers = zmq_timers_new ();
    CHECK (timers != NULL);
    int arg_a = 0, arg_b = 0;

    //  Not due yet: nothing runs.
    reset_calls ();
    const int id_a = zmq_timers_add (timers, 300, handler, &arg_a);
    const int id_b = zmq_timers_add (timers, 150, handler, &arg_b);
    CHECK (id_a > 0 && id_b > 0 && id_a != id_b);
    long timeout = zmq_timers_timeout (timers);
    CHECK (timeout > 0 && timeout <= 150);
    CHECK_INT_EQ (zmq_timers_execute (timers), 0);
    CHECK_INT_EQ (call_count, 0);

    //  Both due: handlers run once each, earliest first, with id and arg.
    usleep (350000);
    CHECK_INT_EQ (zmq_timers_timeout (timers), 0);
    CHECK_INT_EQ (zmq_timers_execute (timers), 0);
    CHECK_INT_EQ (call_count, 2);
    CHECK_INT_EQ (call_ids[0], id_b);
    CHECK (call_args[0] == &arg_b);
    CHECK_INT_EQ (call_ids[1], id_a);
    CHECK (call_args[1] == &arg_a);

    //  Re-armed for another interval: not due right after executing.
    timeout = zmq_timers_timeout (timers);
    CHECK (timeout > 0 && timeout <= 150);
    CHECK_INT_EQ (zmq_timers_execute (timers), 0);
    CHECK_INT_EQ (call_count, 2);

    //  Periodic: the 150 ms timer fires again.
    reset_calls ();
    wait_and_execute (timers);
    CHECK (call_count >= 1);
    CHECK_INT_EQ (call_ids[0], id_b);

    CHECK_INT_EQ (zmq_timers_cancel (timers, id_a), 0);
    CHECK_INT_EQ (zmq_timers_cancel (timers, id_b), 0);
    CHECK_INT_EQ (zmq_timers_timeout (timers), -1);

    //  set_interval: re-armed from now with the new interval.
    reset_calls ();
    const int id_c = zmq_timers_add (timers, 100000, handler, NULL);
    timeout = zmq_timers_timeout (timers);
    CHECK (timeout > 99000);
    CHECK_INT_EQ (zmq_timers_set_interval (timers, id_c, 30), 0);
    timeout = zmq_timers_timeout (timers);
    CHECK (timeout >= 0 && timeout <= 30);
    wait_and_execute (timers);
    CHECK_INT_EQ (call_count, 1);
    CHECK_INT_EQ (call_ids[0], id_c);
    //  The new interval sticks after firing.
    timeout = zmq_timers_timeout (timers);
    CHECK (timeout >= 0 && timeout <= 30);

    //  reset: re-armed from now with the same interval.
    CHECK_INT_EQ (zmq_timers_set_interval (timers, id_c, 200), 0);
    usleep (120000);
    timeout = zmq_timers_timeout (timers);
    CHECK (timeout >= 0 && timeout <= 80);
    CHECK_INT_EQ (zmq_timers_reset (timers, id_c), 0);
    timeout = zmq_timers_timeout (timers);
    CHECK (timeout > 150 && timeout <= 200);

    CHECK_INT_EQ (zmq_timers_destroy (&timers), 0);
    CHECK (timers == NULL);
}

int main (void)
{
    test_init ();
    test_bad_handles ();
    test_empty ();
    test_ids_and_cancel ();
    test_execute ();
    TEST_PASS ();
}
