// SPDX-License-Identifier: MIT
// Monotonic condition variables and deadlines as timespecs.
#include "core/clock.h"

int
corpc__cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rv = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return rv;
}

struct timespec
corpc__timespec_at(int64_t mono_ns)
{
	return (struct timespec) {
	    .tv_sec  = (time_t) (mono_ns / 1000000000),
	    .tv_nsec = (long) (mono_ns % 1000000000),
	};
}
