// SPDX-License-Identifier: MIT
// Internal: waiting on corpc's clock. Every deadline is CLOCK_MONOTONIC
// nanoseconds (corpc_now); condition variables that wait for one must use
// the same clock.
#ifndef CORPC_CORE_CLOCK_H
#define CORPC_CORE_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

// Initialises `cv` to time out on CLOCK_MONOTONIC. Returns pthread's code.
int corpc__cond_init_monotonic(pthread_cond_t *cv);

// The instant `mono_ns` (corpc_now() clock) as a timespec for
// pthread_cond_timedwait on such a condition variable.
struct timespec corpc__timespec_at(int64_t mono_ns);

#endif // CORPC_CORE_CLOCK_H
