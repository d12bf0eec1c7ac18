// SPDX-License-Identifier: MIT
// Internal: a reusable one-shot event between one waiter and one setter on
// any threads: "this batch completed", "this task ended".
//
// The setter may run on another thread and the waiter may free the event's
// memory as soon as its wait returns, so the setter claims the waiter slot
// (BUSY) before it marks the event done and releases it only after the
// unpark; a waiter that sees done waits out a BUSY slot. The window is the
// length of one unpark.
#ifndef CORPC_RUNTIME_EVENT_H
#define CORPC_RUNTIME_EVENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/sched.h"

typedef struct corpc__event {
	atomic_bool              done;
	_Atomic(corpc__parker *) waiter; // NULL, a parker, or EVENT_BUSY
} corpc__event;

// Not set, no waiter. Before each use; nothing may set it concurrently.
void corpc__event_reset(corpc__event *e);

// Marks the event done and wakes its waiter. Once per reset; any thread.
void corpc__event_set(corpc__event *e);

// True once set (acquire: what the setter wrote before is visible).
static inline bool
corpc__event_is_set(corpc__event *e)
{
	return atomic_load_explicit(&e->done, memory_order_acquire);
}

// Waits until set or until `deadline` (CORPC_DEADLINE_NONE: none), parking
// the calling task or thread. Returns true if set. One waiter at a time.
bool corpc__event_wait(corpc__event *e, int64_t deadline);

#endif // CORPC_RUNTIME_EVENT_H
