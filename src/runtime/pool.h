// SPDX-License-Identifier: MIT
// Internal: a pool of threads started on demand, for work that blocks (the
// runtime's blocking-work pool behind corpc_offload, a server's
// thread-per-call handlers). Idle threads exit after a while; at
// `max_threads`, jobs wait in order of arrival for a thread to be free.
#ifndef CORPC_RUNTIME_POOL_H
#define CORPC_RUNTIME_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "corpc/status.h"

typedef struct corpc__pool corpc__pool;

// One job: the caller fills fn and arg; borrowed until fn is called.
typedef struct corpc__pool_job {
	struct corpc__pool_job *next;
	void (*fn)(void *arg);
	void *arg;
} corpc__pool_job;

// Creates a pool of at most `max_threads` threads (0: no limit) with
// `stack_size`-byte stacks (0: the system's default) whose idle threads
// exit after `idle_ms`. NULL when out of memory.
corpc__pool *corpc__pool_create(
    unsigned max_threads, size_t stack_size, int64_t idle_ms);

// Runs job->fn(job->arg) on a pool thread: an idle one, a new one, or (at
// max_threads) the first one to become free. Any thread.
// Errors: CORPC_ESYS when no thread runs and none could be started (the
// job will not run), CORPC_ESTATE (the pool is being destroyed).
corpc_err corpc__pool_run(corpc__pool *p, corpc__pool_job *job);

// Threads alive now (for tests and the load tool).
unsigned corpc__pool_threads(corpc__pool *p);

// Waits until every job has run, stops the threads and frees the pool.
// NULL is allowed.
void corpc__pool_destroy(corpc__pool *p);

#endif // CORPC_RUNTIME_POOL_H
