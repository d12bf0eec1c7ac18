// SPDX-License-Identifier: MIT
// Internal: the runtime that runs handlers and the user's tasks as
// coroutines on a few scheduler threads ("workers").
//
// - A task is a coroutine on a pooled stack. It stays on the worker that
//   started it (nothing thread-bound is ever held across a suspension
//   point by corpc itself; see the README for handlers).
// - Waiting is parking: a task parks and its worker runs other tasks; a
//   plain thread parks on a condition variable. Whoever makes the awaited
//   thing happen unparks the waiter, from any thread (corpc__unpark).
// - Each worker waits for work with its poller: a condition variable at
//   first, gRPC's completion queue once a network call or server needs one
//   (grpc_poller.c installs it). A poller dispatches its events on the
//   worker's thread, outside any task.
//
// Lock order: runtime mu, then worker mu, then a poller's own lock. No
// corpc lock is held while user code runs.
#ifndef CORPC_RUNTIME_SCHED_H
#define CORPC_RUNTIME_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corpc/runtime.h"
#include "runtime/fiber.h"

typedef struct corpc_task    corpc__task; // corpc_task in runtime.h
typedef struct corpc__worker corpc__worker;

// ---- pollers ---------------------------------------------------------------

typedef struct corpc__poller_ops {
	// Waits for events until `deadline` (corpc_now() clock;
	// CORPC_DEADLINE_NONE: no limit; in the past: do not wait) or a kick,
	// and dispatches what arrived. Worker thread only.
	void (*p_wait)(void *poller, int64_t deadline);
	// Makes the current or next p_wait return soon. Any thread.
	void (*p_kick)(void *poller);
	// Frees the poller on its worker's thread, once the worker stops and
	// nothing can post events to it any more.
	void (*p_destroy)(void *poller);
} corpc__poller_ops;

// Returns worker w's poller of kind `ops`, installing one made by
// create(arg) (on the calling thread) if the worker has another kind. The
// worker switches to it at its next turn; events may be posted to it at
// once. Returns NULL if create failed. Any thread.
void *corpc__worker_poller(corpc__worker *w, const corpc__poller_ops *ops,
    void *(*create)(void *arg), void                                 *arg);

// ---- parking ---------------------------------------------------------------

// Who waits: a task, or a plain thread.
typedef struct corpc__parker corpc__parker;

// The calling task's parker, or the calling thread's.
corpc__parker *corpc__parker_self(void);

// Waits until unparked or until `deadline` (CORPC_DEADLINE_NONE: none). An
// unpark that came first makes it return at once; it may also return
// spuriously, so callers loop on their condition. `p` must be the
// caller's own parker.
void corpc__park(corpc__parker *p, int64_t deadline);

// Wakes `p` (or makes its next park return at once). Any thread.
void corpc__unpark(corpc__parker *p);

// ---- tasks -----------------------------------------------------------------

// The worker this thread is, or NULL for a plain thread.
corpc__worker *corpc__worker_current(void);

// The runtime of worker `w`.
corpc_runtime *corpc__worker_runtime(const corpc__worker *w);

// The task running on this thread (a worker inside a task), or NULL. A
// fiber that a task resumed (the coroutine transport's handlers) counts as
// that task.
corpc__task *corpc__task_current(void);

// Starts fn(arg) as a task on runtime `rt`: on worker `on` if not NULL,
// else on the calling worker if it belongs to `rt`, else on the next worker
// in turn. `stacks` NULL means the runtime's own stacks. With `out` the
// task is joinable (corpc__task_join), else it frees itself at the end.
// Errors: CORPC_ENOMEM, CORPC_ESTATE (the runtime is stopping).
corpc_err corpc__task_spawn(corpc_runtime *rt, corpc__worker *on,
    corpc__stack_pool *stacks, void (*fn)(void *), void *arg,
    corpc__task **out);

// Waits for a joinable task to end and frees it. Any task or thread.
void corpc__task_join(corpc__task *t);

// From a task: lets the other tasks ready on this worker run first, if
// there are any. Elsewhere, a no-op. Returns true if it switched.
bool corpc__task_yield(void);

// ---- runtime ---------------------------------------------------------------

// The number of workers of `rt` and the i-th one.
unsigned       corpc__runtime_threads(const corpc_runtime *rt);
corpc__worker *corpc__runtime_worker(corpc_runtime *rt, unsigned i);

// Runs fn(arg) on the runtime's blocking-work pool, and waits for it
// (parking). Errors: CORPC_ENOMEM, CORPC_ESYS (no thread could start).
corpc_err corpc__runtime_offload(
    corpc_runtime *rt, void (*fn)(void *), void *arg);

#endif // CORPC_RUNTIME_SCHED_H
