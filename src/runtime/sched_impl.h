// SPDX-License-Identifier: MIT
// Internal to src/runtime: the structures behind sched.h, shared by
// sched.c (workers, runtimes), task.c (tasks, parking, timers) and api.c.
#ifndef CORPC_RUNTIME_SCHED_IMPL_H
#define CORPC_RUNTIME_SCHED_IMPL_H

#include <pthread.h>

#include "runtime/event.h"
#include "runtime/pool.h"
#include "runtime/sched.h"

// Task parker states.
enum { PARK_EMPTY, PARK_PARKED, PARK_NOTIFIED };

struct corpc__parker {
	corpc__task *task;  // NULL: a thread's parker
	atomic_int   state; // tasks: PARK_*
	// Threads.
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            notified;
};

// Why a task switched back to its worker.
typedef enum task_why { TASK_RUN, TASK_PARKING, TASK_YIELDING } task_why;

struct corpc_task {
	corpc__parker parker;
	corpc__fiber  fiber;     // the task's own (root) fiber
	corpc__fiber *resume_at; // where it parked: root or a fiber it resumed
	corpc__worker     *worker;
	corpc__stack_pool *stacks;
	corpc__task       *next; // run queue, inbox or free list
	void (*fn)(void *);
	void        *arg;
	task_why     why;
	bool         joinable;
	int64_t      due;      // timer: when a timed park ends
	size_t       heap_pos; // timer heap index + 1; 0: no timer
	corpc__event ended;    // fn returned (joinable tasks)
};

typedef struct task_queue {
	corpc__task *head, *tail;
	size_t       len;
} task_queue;

// task.c: a thread parker for `p` (the built-in poller is one, too).
void corpc__thread_parker_init(corpc__parker *p);
void corpc__thread_parker_fini(corpc__parker *p);

// A poller the worker used before: kept until it stops, so that a kick
// racing with the switch never touches freed memory.
typedef struct retired_poller {
	struct retired_poller   *next;
	const corpc__poller_ops *ops;
	void                    *poller;
} retired_poller;

struct corpc__worker {
	corpc_runtime *rt;
	unsigned       index;
	pthread_t      thread;
	bool           thread_started;
	corpc__fiber  *own; // the thread's own fiber, set by the thread

	// The worker's thread only.
	task_queue    ready;
	corpc__task **heap; // timers: a min-heap on due
	size_t        heap_len, heap_cap;

	// Under mu.
	pthread_mutex_t          mu;
	task_queue               inbox; // tasks made ready by other threads
	bool                     sleeping;
	bool                     stopping;
	const corpc__poller_ops *ops; // the poller in use
	void                    *poller;
	const corpc__poller_ops *next_ops; // to switch to at the next turn
	void                    *next_poller;
	retired_poller          *retired;
	corpc__parker            cvp; // the built-in poller: a thread parker
};

struct corpc_runtime {
	corpc_runtime_opts opts;
	unsigned           n;
	corpc__worker    **workers;
	corpc__stack_pool *stacks;
	corpc__pool       *blocking;
	atomic_uint        turn; // round-robin placement

	pthread_mutex_t mu;
	pthread_cond_t  cv; // signalled when the last task ends
	size_t          tasks;
	bool            stopping;
	corpc__task    *free_tasks; // pooled task structs
	size_t          free_count;
};

// task.c: makes `t` ready on its worker (from any thread).
void corpc__task_enqueue(corpc__task *t);
// task.c: runs ready task `t` on worker `w` until it parks, yields or ends.
void corpc__task_run(corpc__worker *w, corpc__task *t);
// task.c: ends timed parks that are due; returns the next due time or
// CORPC_DEADLINE_NONE.
int64_t corpc__timers_fire(corpc__worker *w);
// task.c: frees the pooled task structs of `rt` (at destroy).
void corpc__tasks_free(corpc_runtime *rt);

// sched.c: appends to the inbox of `w` and kicks it if it sleeps.
void corpc__worker_push_remote(corpc__worker *w, corpc__task *t);
// sched.c: queue helpers.
void         corpc__queue_push(task_queue *q, corpc__task *t);
corpc__task *corpc__queue_pop(task_queue *q);

#endif // CORPC_RUNTIME_SCHED_IMPL_H
