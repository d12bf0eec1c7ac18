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
} corpc__fiber;

// Prepares `f` to run fn(arg) on `stack` at the first resume.
void corpc__fiber_init(
    corpc__fiber *f, corpc__stack *stack, void (*fn)(void *), void *arg);

// Runs the fiber until it yields or fn returns. Any thread, but one at a
// time; a fiber may resume another (nesting).
void corpc__fiber_resume(corpc__fiber *f);

// From inside the fiber: suspends it and returns to its resumer.
void corpc__fiber_yield(corpc__fiber *f);

#endif // CORPC_CORO_FIBER_H
