// SPDX-License-Identifier: MIT
// Internal: a condition variable whose waiters may be tasks or threads,
// used with an ordinary pthread mutex. A waiting task parks (its worker runs
// other tasks); a waiting thread blocks. The mutex is never held across the
// wait, so tasks may share it with threads as long as they hold it briefly.
#ifndef CORPC_RUNTIME_COND_H
#define CORPC_RUNTIME_COND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/sched.h"

typedef struct corpc__cond_waiter corpc__cond_waiter;

typedef struct corpc__cond {
	corpc__cond_waiter *head; // under the caller's mutex
} corpc__cond;

#define CORPC__COND_INIT                                                      \
	{                                                                     \
		NULL                                                          \
	}

// With `mu` held: releases it, waits for a signal or `deadline`
// (corpc_now() clock, CORPC_DEADLINE_NONE: none), takes it again. May wake
// spuriously: callers loop on their condition.
void corpc__cond_wait(corpc__cond *c, pthread_mutex_t *mu, int64_t deadline);

// With the mutex held: wakes the longest waiting waiter / every waiter. A
// waiter whose wait timed out may take a signal too: waiters re-check their
// condition.
void corpc__cond_signal(corpc__cond *c);
void corpc__cond_broadcast(corpc__cond *c);

#endif // CORPC_RUNTIME_COND_H
