// SPDX-License-Identifier: MIT
// Internal: stackful coroutines on Boost.Context's fcontext (C linkage in
// libboost_context), with pooled mmap stacks behind a guard page, and the
// ASan, TSan and valgrind annotations that make switches visible to those
// tools.
//
// Every thread has a fiber of its own (its own stack, in TLS), so that a
// switch always goes from one fiber struct to another: the one switched away
// from keeps its saved context and its stack bounds. Two ways to switch:
// - resume/yield pairs (the coroutine transport): resume runs a fiber until
//   it yields back to whoever resumed it;
// - corpc__fiber_switch: a plain jump, used by the scheduler to run a task
//   and by a task to park, possibly from inside a fiber it resumed.
#ifndef CORPC_RUNTIME_FIBER_H
#define CORPC_RUNTIME_FIBER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct corpc__stack      corpc__stack;
typedef struct corpc__stack_pool corpc__stack_pool;

// Guard region below each coroutine stack when none is asked for.
#define CORPC__STACK_GUARD_DEFAULT (64u * 1024u)

// A pool of stacks of one size (rounded up to pages), each with a guard
// region of `guard_size` bytes below it (0: the default; rounded up to
// pages). Thread-safe. Returns NULL when out of memory.
corpc__stack_pool *corpc__stack_pool_create(
    size_t stack_size, size_t guard_size);
// Frees the pool and its idle stacks, or, while stacks are still out, marks
// it to be freed when the last one is put back.
void corpc__stack_pool_destroy(corpc__stack_pool *pool);
// Takes a stack (reused, or mapped). NULL when out of memory.
corpc__stack *corpc__stack_get(corpc__stack_pool *pool);
// Returns a stack (NULL: only the count of one taken); the pool keeps a
// bounded number and unmaps the rest.
void corpc__stack_put(corpc__stack_pool *pool, corpc__stack *stack);

// Boost.Context's assembly entry points (extern "C" in fcontext.hpp).
typedef void *corpc__fcontext;
typedef struct {
	corpc__fcontext fctx;
	void           *data;
} corpc__transfer;
extern corpc__transfer jump_fcontext(corpc__fcontext const to, void *vp);
extern corpc__fcontext make_fcontext(
    void *sp, size_t size, void (*fn)(corpc__transfer));

#if defined(__SANITIZE_ADDRESS__)
#define CORPC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORPC_ASAN 1
#endif
#endif

#ifdef CORPC_ASAN
#include <sanitizer/common_interface_defs.h>
#define CORPC_START_SWITCH(save, bottom, size)                                \
	__sanitizer_start_switch_fiber(save, bottom, size)
#define CORPC_FINISH_SWITCH(save, bottom, size)                               \
	__sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define CORPC_START_SWITCH(save, bottom, size)                                \
	((void) (save), (void) (bottom), (void) (size))
#define CORPC_FINISH_SWITCH(save, bottom, size)                               \
	((void) (save), (void) (bottom), (void) (size))
#endif

// ThreadSanitizer must be told of each switch too, or it takes one stack's
// frames for another's.
#if defined(__SANITIZE_THREAD__)
#define CORPC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORPC_TSAN 1
#endif
#endif

#ifdef CORPC_TSAN
#include <sanitizer/tsan_interface.h>
#define CORPC_TSAN_SWITCH(fiber) __tsan_switch_to_fiber(fiber, 0)
#else
#define CORPC_TSAN_SWITCH(fiber) ((void) (fiber))
#endif

struct corpc__stack {
	corpc__stack *next;
	void         *map;      // mapping start (guard page)
	size_t        map_size; // guard + usable
	void         *bottom;   // lowest usable address
	size_t        size;     // usable bytes
	unsigned      valgrind_id;
};

typedef struct corpc__fiber {
	void *ctx; // saved context while not running
	struct corpc__fiber
	    *caller;         // resume/yield: who resumed it; a task's
	                     // root fiber: its scheduler's thread fiber
	corpc__stack *stack; // NULL for a thread's own stack
	void (*fn)(void *arg);
	void *arg;
	bool  done; // fn returned; the stack may be reused
	// ASan: this fiber's stack bounds (learned at the first switch away
	// for a thread's own stack) and its fake stack while switched away.
	const void *bottom;
	size_t      size;
	void       *fake_stack;
	// TSan: this fiber's context.
	void *tsan_fiber;
	// What runs on it, named in a stack overflow report: a handler's
	// method path while one runs (static storage), else NULL.
	const char *label;
	// While it runs: the record of the thread it runs on. Every switch
	// passes it on to the fiber switched to, so that a yield needs no
	// thread-local read (a fiber that parks may come back on another
	// thread; the switch that brings it back sets this anew).
	struct corpc__thread_self *self;
} corpc__fiber;

// What a thread knows of itself: its own fiber, the fiber running now, and
// for a scheduler thread its worker and the task it runs.
typedef struct corpc__thread_self {
	corpc__fiber          own;
	corpc__fiber         *current;
	struct corpc__worker *worker; // NULL: not a scheduler thread
	struct corpc_task    *task; // the task running on this worker, or NULL
} corpc__thread_self;

// This thread's record. Not inlined on purpose: a fiber may be resumed on
// another thread than the one it left, and the compiler must not reuse a
// thread-local address computed before a switch.
corpc__thread_self *corpc__self(void) __attribute__((noinline));

// This thread's record as it is, NULL if the thread never used corpc:
// async-signal-safe (no set-up), for the overflow report.
corpc__thread_self *corpc__self_peek(void);

// Stack overflow reports (overflow.c). Once per process: a SIGSEGV handler
// that names the method whose coroutine ran into its guard region, then
// dies of the signal as before. Installed only where SIGSEGV still has its
// default action (a sanitizer's or the program's own handler is kept).
void corpc__overflow_report_install(void);
// Per thread, before it first runs a fiber: an alternate signal stack for
// that handler (an overflowed stack has no room for it), unless the thread
// has one already. Freed when the thread exits.
void corpc__overflow_thread_init(void);

// Prepares `f` to run fn(arg) on `stack` at the first switch to it; when fn
// returns, the fiber switches to f->caller for good.
void corpc__fiber_init(
    corpc__fiber *f, corpc__stack *stack, void (*fn)(void *), void *arg);

// Frees what init made besides the stack (a TSan context). The fiber must
// have finished or never run.
void corpc__fiber_fini(corpc__fiber *f);

// Jumps from `from` (running now, on this thread) to `to`; returns when
// something switches back to `from`. The caller has set self->current.
static inline void
corpc__fiber_switch(corpc__fiber *from, corpc__fiber *to)
{
	to->self = from->self;
	CORPC_START_SWITCH(&from->fake_stack, to->bottom, to->size);
	CORPC_TSAN_SWITCH(to->tsan_fiber);
	corpc__transfer t    = jump_fcontext(to->ctx, from);
	corpc__fiber   *prev = t.data;
	prev->ctx            = t.fctx;
	CORPC_FINISH_SWITCH(from->fake_stack, &prev->bottom, &prev->size);
}

// Runs fiber `f` until it yields or fn returns. Any thread, but one at a
// time; a fiber may resume another (nesting). Inline: every call frame
// between the caller and the switch costs a mispredicted return.
static inline void
corpc__fiber_resume(corpc__fiber *f)
{
	corpc__thread_self *self = corpc__self();
	corpc__fiber       *cur  = self->current;
	f->caller                = cur;
	self->current            = f;
	corpc__fiber_switch(cur, f);
}

// From inside fiber `f`: suspends it and returns to its resumer. The
// thread comes from f->self, read now (after any earlier switch).
static inline void
corpc__fiber_yield(corpc__fiber *f)
{
	corpc__fiber *to = f->caller;
	f->self->current = to;
	corpc__fiber_switch(f, to);
}

#endif // CORPC_RUNTIME_FIBER_H
