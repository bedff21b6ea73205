/*
 * How far apart the machine's first and last cpus are: the time a cache line takes to go
 * from one to the other and back, two threads pinned there handing a counter over.
 *
 * pgtrace's reading hands every event across cores (the scan's tape to the decoding, the
 * decoding's batches to the replay), and on this project's 2-cpu VM the host places the
 * two vCPUs close (some 80 ns) or far (some 370 ns) from one minute to the next. Far, a
 * 1M-event run took 1.2x the wall time and CPU time it took close, where the floor, one
 * thread, did not move (docs/performance.md, stop 61). The benchmarks print this beside
 * their rounds so that a slow round can be told from a slow pgtrace.
 *
 *     cc -O2 -pthread -o core-trip core-trip.c
 *     ./core-trip
 *
 * Prints the median of 7 batches of 20,000 round trips, in nanoseconds, as an integer; prints
 * nothing on a machine of one cpu, or where the threads cannot be pinned. It pins to cpu 0
 * and the last online cpu whatever affinity it was started with. A cpu busy with other
 * work can read as far, or farther (a spinning loop on the last cpu: 80-1,226 ns over 20
 * probes): the figure means the placement only on a machine running nothing else, as the
 * benchmarks want it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { BATCHES = 7, TRIPS = 20000 };

static _Alignas(64) atomic_long counter;
/* Set when the answering thread could not be pinned: a line of its own, never written else. */
static _Alignas(64) atomic_int failed;
static int far_cpu;

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Answers each odd count with the next even one. */
static void *answer(void *unused) {
    (void)unused;
    if (pin(far_cpu) != 0) {
        atomic_store(&failed, 1);
        return NULL;
    }
    for (long count = 1; count < 2L * BATCHES * TRIPS; count += 2) {
        while (atomic_load_explicit(&counter, memory_order_acquire) != count)
            ;
        atomic_store_explicit(&counter, count + 1, memory_order_release);
    }
    return NULL;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 2 || pin(0) != 0) return 0;
    far_cpu = (int)cpus - 1;
    pthread_t thread;
    if (pthread_create(&thread, NULL, answer, NULL) != 0) return 0;
    double batches[BATCHES];
    long count = 0;
    for (int batch = 0; batch < BATCHES; batch++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (int trip = 0; trip < TRIPS; trip++) {
            atomic_store_explicit(&counter, ++count, memory_order_release);
            while (atomic_load_explicit(&counter, memory_order_acquire) != count + 1)
                if (atomic_load_explicit(&failed, memory_order_relaxed)) {
                    pthread_join(thread, NULL);
                    return 0;
                }
            count++;
        }
        clock_gettime(CLOCK_MONOTONIC, &end);
        batches[batch] = ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / TRIPS;
    }
    pthread_join(thread, NULL);
    qsort(batches, BATCHES, sizeof batches[0], by_value);
    printf("%.0f\n", batches[BATCHES / 2]);
    return 0;
}
