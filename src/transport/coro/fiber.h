// Internal: stackful coroutines on Boost.Context's fcontext (C linkage in
// libboost_context), with pooled mmap stacks behind a guard page, and the
// ASan fiber and valgrind stack annotations that make switches visible to
// those tools.
#ifndef CORPC_CORO_FIBER_H
#define CORPC_CORO_FIBER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct corpc__stack      corpc__stack;
typedef struct corpc__stack_pool corpc__stack_pool;

// A pool of stacks of one size (rounded up to pages; a guard page below).
// Thread-safe. Returns NULL when out of memory.
corpc__stack_pool *corpc__stack_pool_create(size_t stack_size);
// Frees the pool and its idle stacks; every stack must have been put back.
void corpc__stack_pool_destroy(corpc__stack_pool *pool);
// Takes a stack (reused, or mapped). NULL when out of memory.
corpc__stack *corpc__stack_get(corpc__stack_pool *pool);
// Returns a stack; the pool keeps a bounded number and unmaps the rest.
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
#define CORPC_START_SWITCH(save, bottom, size)                                 \
	__sanitizer_start_switch_fiber(save, bottom, size)
#define CORPC_FINISH_SWITCH(save, bottom, size)                                \
	__sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define CORPC_START_SWITCH(save, bottom, size)                                 \
	((void) (save), (void) (bottom), (void) (size))
#define CORPC_FINISH_SWITCH(save, bottom, size)                                \
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
#define CORPC_TSAN_CURRENT() __tsan_get_current_fiber()
#define CORPC_TSAN_SWITCH(fiber) __tsan_switch_to_fiber(fiber, 0)
#else
#define CORPC_TSAN_CURRENT() NULL
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
	void         *ctx;    // the fiber's saved context while suspended
	void         *caller; // the resumer's saved context while running
	corpc__stack *stack;
	void (*fn)(void *arg);
	void *arg;
	bool  running; // between resume and yield/finish
	bool  done;    // fn returned; the stack may be reused
	// ASan bookkeeping: the resumer's stack, and our fake stack.
	const void *caller_bottom;
	size_t      caller_size;
	void       *fake_stack;
	// TSan bookkeeping: this fiber's context and its resumer's.
	void *tsan_fiber;
	void *tsan_caller;
} corpc__fiber;

// Prepares `f` to run fn(arg) on `stack` at the first resume.
void corpc__fiber_init(
    corpc__fiber *f, corpc__stack *stack, void (*fn)(void *), void *arg);

// Frees what init made besides the stack (a TSan context). The fiber must
// have finished or never run.
void corpc__fiber_fini(corpc__fiber *f);

// Runs the fiber until it yields or fn returns. Any thread, but one at a
// time; a fiber may resume another (nesting). Inline: every call frame
// between the caller and the switch costs a mispredicted return.
static inline void
corpc__fiber_resume(corpc__fiber *f)
{
	void *fake = NULL;
	f->running     = true;
	f->tsan_caller = CORPC_TSAN_CURRENT();
	CORPC_START_SWITCH(&fake, f->stack->bottom, f->stack->size);
	CORPC_TSAN_SWITCH(f->tsan_fiber);
	corpc__transfer t = jump_fcontext(f->ctx, f);
	CORPC_FINISH_SWITCH(fake, NULL, NULL);
	f->ctx = t.fctx; // where it yielded (meaningless once done)
}

// From inside the fiber: suspends it and returns to its resumer.
static inline void
corpc__fiber_yield(corpc__fiber *f)
{
	f->running = false;
	CORPC_START_SWITCH(&f->fake_stack, f->caller_bottom, f->caller_size);
	CORPC_TSAN_SWITCH(f->tsan_caller);
	corpc__transfer t = jump_fcontext(f->caller, f);
	CORPC_FINISH_SWITCH(f->fake_stack, &f->caller_bottom, &f->caller_size);
	f->caller = t.fctx;
}

#endif // CORPC_CORO_FIBER_H
