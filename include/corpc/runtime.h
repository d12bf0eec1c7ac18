// SPDX-License-Identifier: MIT
// corpc: the runtime. Every server handler runs as a coroutine (a "task")
// on a few scheduler threads; your own code can run there too.
//
// Inside a task, whatever waits suspends the task instead of blocking its
// thread: corpc calls on any transport (send, recv, finish, unary calls),
// corpc_sleep_ms, corpc_offload, corpc_task_join. One scheduler thread can
// so keep thousands of calls in flight. From a plain thread the same
// functions block as usual.
//
// A stream is best driven where it was opened: one opened on a plain
// thread and then driven from a task still blocks that task's thread
// while it waits (and one opened in a task must be destroyed before that
// task's runtime).
//
// What a task must not do: block its thread for long on anything corpc does
// not know about (sleep(), a blocking read, a lock held for long, heavy CPU
// work). Every other task of that scheduler thread would wait. Run such
// work through corpc_offload, or use a server's thread-per-call mode
// (server.h). A task stays on the thread that started it, but other tasks
// run on that thread whenever it waits: do not hold a mutex across a corpc
// call, and do not keep pointers into thread-local storage across one.
#ifndef CORPC_RUNTIME_H
#define CORPC_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corpc/decl.h"
#include "corpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corpc_runtime corpc_runtime;
typedef struct corpc_task    corpc_task;

// Runtime options. Zero-initialise; NULL means all defaults.
typedef struct corpc_runtime_opts {
	// Scheduler threads; 0 means one per online CPU.
	unsigned threads;
	// Coroutine stack size in bytes; 0 means 256 KiB. Rounded up to whole
	// pages.
	size_t stack_size;
	// Inaccessible guard region below each coroutine stack, in bytes; 0
	// means 64 KiB. An overflow faults there (SIGSEGV) instead of writing
	// into another coroutine's stack; frames larger than the guard are
	// caught only in code built with -fstack-clash-protection (README).
	// Costs address space, not memory.
	size_t stack_guard_size;
	// Most threads of the blocking-work pool (corpc_offload); 0 means 64.
	// Threads start on demand and exit after 10 s idle; work beyond the
	// limit waits for a free thread, first come first served.
	unsigned blocking_threads;
} corpc_runtime_opts;

// Creates a runtime in *out and starts its threads. The caller owns it
// (corpc_runtime_destroy). Errors: CORPC_ENOMEM, CORPC_ESYS (a thread
// could not start).
CORPC_DECL corpc_err corpc_runtime_create(
    const corpc_runtime_opts *opts, corpc_runtime **out);

// Waits until every task on the runtime has returned, then stops its
// threads and frees it. Servers using it (corpc_server_opts.runtime) must
// be destroyed first, and every stream opened inside its tasks destroyed.
// From one of its own tasks it returns at once and the rest happens on
// another thread once every task (the caller too) has returned; no new
// task may be spawned meanwhile (CORPC_ESTATE). NULL is allowed.
CORPC_DECL void corpc_runtime_destroy(corpc_runtime *rt);

// Returns the number of scheduler threads of `rt`.
CORPC_DECL unsigned corpc_runtime_threads(const corpc_runtime *rt);

// Returns the runtime whose task is running on the calling thread, or
// NULL on a plain thread.
CORPC_DECL corpc_runtime *corpc_runtime_current(void);

// Starts fn(arg) as a task on `rt`. From a task of `rt` it starts on the
// same thread (it runs when the caller next waits or yields); otherwise on
// the runtime's threads in turn. With `out`, the caller owns the task
// handle and must corpc_task_join it; with `out` NULL the task is detached
// and frees itself when fn returns. `arg` is passed as is; what it points
// to must stay valid while fn uses it. Any thread.
// Errors: CORPC_EINVAL (NULL rt or fn), CORPC_ENOMEM, CORPC_ESTATE (the
// runtime is being destroyed).
CORPC_DECL corpc_err corpc_task_spawn(
    corpc_runtime *rt, void (*fn)(void *arg), void *arg, corpc_task **out);

// Waits until the task's fn has returned, then frees the handle. From a
// task it suspends the caller; from a plain thread it blocks. Once per
// handle. NULL is allowed.
CORPC_DECL void corpc_task_join(corpc_task *task);

// Lets the other ready tasks of this scheduler thread run, then returns.
// Use it in long CPU-bound loops inside a task. Outside a task, a no-op.
CORPC_DECL void corpc_task_yield(void);

// Sleeps for `ms` milliseconds: inside a task (handlers included) the task
// is suspended and its thread runs others; on a plain thread the thread
// sleeps. ms <= 0 returns at once.
CORPC_DECL void corpc_sleep_ms(int64_t ms);

// Runs fn(arg) on a separate pool of threads meant for blocking work (file
// I/O, blocking libraries, long computations), and returns when fn has
// returned. Inside a task, the task is suspended meanwhile and its thread
// runs others (the pattern of Tokio's spawn_blocking); on a plain thread,
// fn simply runs on the calling thread. fn must not call corpc_offload
// itself. Errors: CORPC_EINVAL (NULL fn), CORPC_ENOMEM, CORPC_ESYS (no
// thread could start; fn did not run).
CORPC_DECL corpc_err corpc_offload(void (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif // CORPC_RUNTIME_H
