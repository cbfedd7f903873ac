/* zmq_stopwatch_*, zmq_sleep, zmq_threadstart / zmq_threadclose.
 *
 * Pins: the stopwatch counts microseconds on a monotonic clock
 * (intermediate readings never decrease, follow real elapsed time, and stop
 * returns at least the last intermediate); zmq_sleep (1) sleeps at least
 * about one second (only a lower bound and a generous upper bound);
 * zmq_sleep (0) returns at once; zmq_threadstart runs the function with the
 * given argument on another thread, and zmq_threadclose joins it (its
 * effects are visible afterwards). */
#include "testutil.h"

#include <pthread.h>
#include <time.h>

static unsigned long long now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (unsigned long long) ts.tv_sec * 1000000ull
           + (unsigned long long) ts.tv_nsec / 1000ull;
}

static void test_stopwatch (void)
{
    void *watch = zmq_stopwatch_start ();
    CHECK (watch != NULL);

    unsigned long last = zmq_stopwatch_intermediate (watch);
    for (int i = 0; i < 1000; i++) {
        const unsigned long t = zmq_stopwatch_intermediate (watch);
        CHECK (t >= last);
        last = t;
    }

    //  20 ms of real time shows up as >= 20000 us.
    const unsigned long before = zmq_stopwatch_intermediate (watch);
    const unsigned long long real_before = now_us ();
    usleep (20000);
    const unsigned long long real_after = now_us ();
    const unsigned long after = zmq_stopwatch_intermediate (watch);
    CHECK (after - before >= 19000);
    //  ...and agrees with CLOCK_MONOTONIC within a generous margin.
    const unsigned long long real = real_after - real_before;
    CHECK (after - before + 5000000ull >= real);
    CHECK (after - before <= real + 5000000ull);

    const unsigned long total = zmq_stopwatch_stop (watch);
    CHECK (total >= after);
    CHECK (total < 10000000ul);

    //  A fresh stopwatch starts near zero.
    watch = zmq_stopwatch_start ();
    CHECK (watch != NULL);
    CHECK (zmq_stopwatch_intermediate (watch) < 1000000ul);
    CHECK (zmq_stopwatch_stop (watch) < 1000000ul);
}

static void test_sleep (void)
{
    void *watch = zmq_stopwatch_start ();
    zmq_sleep (0);
    CHECK (zmq_stopwatch_intermediate (watch) < 1000000ul);
    zmq_stopwatch_stop (watch);

    watch = zmq_stopwatch_start ();
    zmq_sleep (1);
    const unsigned long elapsed = zmq_stopwatch_stop (watch);
    printf ("zmq_sleep (1) took %lu us\n", elapsed);
    CHECK (elapsed >= 990000ul);
    CHECK (elapsed < 10000000ul);
}

struct thread_args
{
    int value;
    int result;
    pthread_t thread_id;
};

static void thread_fn (void *arg)
{
    struct thread_args *args = (struct thread_args *) arg;
    usleep (50000); //  make a missing join visible
    args->thread_id = pthread_self ();
    args->result = args->value * 2;
}

static void test_thread (void)
{
    struct thread_args args;
    memset (&args, 0, sizeof args);
    args.value = 21;
    args.result = -1;

    void *thread = zmq_threadstart (thread_fn, &args);
    CHECK (thread != NULL);
    zmq_threadclose (thread);
    //  Joined: the result is there, computed on another thread.
    CHECK_INT_EQ (args.result, 42);
    CHECK (!pthread_equal (args.thread_id, pthread_self ()));

    //  Several threads at once, each with its own argument.
    struct thread_args many[4];
    void *threads[4];
    for (int i = 0; i < 4; i++) {
        memset (&many[i], 0, sizeof many[i]);
        many[i].value = i + 1;
        many[i].result = -1;
        threads[i] = zmq_threadstart (thread_fn, &many[i]);
        CHECK (threads[i] != NULL);
    }
    for (int i = 0; i < 4; i++)
        zmq_threadclose (threads[i]);
    for (int i = 0; i < 4; i++)
        CHECK_INT_EQ (many[i].result, 2 * (i + 1));
}

int main (void)
{
    test_init ();
    test_stopwatch ();
    test_sleep ();
    test_thread ();
    TEST_PASS ();
}
