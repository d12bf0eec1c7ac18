// SPDX-License-Identifier: MIT
// Fibers: the stack pool, each thread's own fiber, and the entry that
// runs a fiber's function and leaves it for good.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/fiber.h"

#ifdef CORPC_ASAN
#include <sanitizer/asan_interface.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORPC_HAVE_VALGRIND 1
#endif
#endif

struct corpc__stack_pool {
	pthread_mutex_t mu;
	size_t          size;
	size_t          guard; // inaccessible bytes below each stack
	corpc__stack   *idle;
	size_t          idle_count;
	size_t          out;     // stacks taken and not put back
	bool            closing; // destroyed: free the pool at the last put
};

// Idle stacks kept per pool; a burst beyond this is unmapped afterwards.
#define POOL_KEEP 256

corpc__stack_pool *
corpc__stack_pool_create(size_t stack_size, size_t guard_size)
{
	corpc__stack_pool *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	size_t page = (size_t) sysconf(_SC_PAGESIZE);
	p->size     = (stack_size + page - 1) / page * page;
	if (guard_size == 0) {
		guard_size = CORPC__STACK_GUARD_DEFAULT;
	}
	p->guard = (guard_size + page - 1) / page * page;
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

// A stack's frames may end in a switch, not a return, and leave ASan's
// redzones poisoned; unpoison before each use and before unmapping, or a
// later user of the memory sees stale poison.
static void
stack_unpoison(corpc__stack *s)
{
#ifdef CORPC_ASAN
	__asan_unpoison_memory_region(s->bottom, s->size);
#else
	(void) s;
#endif
}

static void
stack_free(corpc__stack *s)
{
	stack_unpoison(s);
#ifdef CORPC_HAVE_VALGRIND
	VALGRIND_STACK_DEREGISTER(s->valgrind_id);
#endif
	munmap(s->map, s->map_size);
	free(s);
}

static void
pool_free(corpc__stack_pool *pool)
{
	while (pool->idle != NULL) {
		corpc__stack *s = pool->idle;
		pool->idle      = s->next;
		stack_free(s);
	}
	pthread_mutex_destroy(&pool->mu);
	free(pool);
}

void
corpc__stack_pool_destroy(corpc__stack_pool *pool)
{
	if (pool == NULL) {
		return;
	}
	pthread_mutex_lock(&pool->mu);
	pool->closing = true;
	bool last     = pool->out == 0;
	pthread_mutex_unlock(&pool->mu);
	if (last) {
		pool_free(pool);
	}
}

corpc__stack *
corpc__stack_get(corpc__stack_pool *pool)
{
	pthread_mutex_lock(&pool->mu);
	corpc__stack *s = pool->idle;
	if (s != NULL) {
		pool->idle = s->next;
		pool->idle_count--;
	}
	pool->out++;
	pthread_mutex_unlock(&pool->mu);
	if (s != NULL) {
		stack_unpoison(s);
		return s;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		corpc__stack_put(pool, NULL);
		return NULL;
	}
	s->map_size = pool->size + pool->guard;
	s->map      = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->map == MAP_FAILED) {
		free(s);
		corpc__stack_put(pool, NULL);
		return NULL;
	}
	// The guard region below the stack turns an overflow into a fault: a
	// frame up to its size cannot step over it into a neighbour, and
	// -fstack-clash-protection makes larger frames probe every page.
	// Address space only (MAP_NORESERVE, never touched).
	mprotect(s->map, pool->guard, PROT_NONE);
	s->bottom = (char *) s->map + pool->guard;
	s->size   = pool->size;
#ifdef CORPC_HAVE_VALGRIND
	s->valgrind_id =
	    VALGRIND_STACK_REGISTER(s->bottom, (char *) s->bottom + s->size);
#endif
	return s;
}

void
corpc__stack_put(corpc__stack_pool *pool, corpc__stack *s)
{
	pthread_mutex_lock(&pool->mu);
	pool->out--;
	if (s != NULL && !pool->closing && pool->idle_count < POOL_KEEP) {
		s->next    = pool->idle;
		pool->idle = s;
		pool->idle_count++;
		s = NULL;
	}
	bool last = pool->closing && pool->out == 0;
	pthread_mutex_unlock(&pool->mu);
	if (s != NULL) {
		stack_free(s);
	}
	if (last) {
		pool_free(pool);
	}
}

static __thread corpc__thread_self thread_self
    __attribute__((tls_model("initial-exec")));

// A thread's first use of corpc. Out of line, so that corpc__self (once
// per coroutine resume) is a few instructions with no stack frame.
static corpc__thread_self *thread_self_init(corpc__thread_self *self)
    __attribute__((noinline, cold));

static corpc__thread_self *
thread_self_init(corpc__thread_self *self)
{
	self->own.self = self;
	self->current  = &self->own;
	corpc__overflow_thread_init();
#ifdef CORPC_TSAN
	self->own.tsan_fiber = __tsan_get_current_fiber();
#endif
	return self;
}

corpc__thread_self *
corpc__self(void)
{
	corpc__thread_self *self = &thread_self;
	if (__builtin_expect(self->current == NULL, 0)) {
		return thread_self_init(self);
	}
	return self;
}

corpc__thread_self *
corpc__self_peek(void)
{
	return thread_self.current != NULL ? &thread_self : NULL;
}

static void
fiber_entry(corpc__transfer t)
{
	corpc__fiber *prev = t.data;
	prev->ctx          = t.fctx;
	CORPC_FINISH_SWITCH(NULL, &prev->bottom, &prev->size);
	corpc__fiber *f = corpc__self()->current;
	f->fn(f->arg);
	f->done = true;
	// Leaving for good: NULL tells ASan to drop this fiber's fake stack.
	corpc__fiber *to = f->caller;
	f->self->current = to;
	to->self         = f->self;
	CORPC_START_SWITCH(NULL, to->bottom, to->size);
	CORPC_TSAN_SWITCH(to->tsan_fiber);
	jump_fcontext(to->ctx, f);
	abort(); // a finished fiber is never resumed
}

void
corpc__fiber_init(
    corpc__fiber *f, corpc__stack *stack, void (*fn)(void *), void *arg)
{
	f->stack      = stack;
	f->fn         = fn;
	f->arg        = arg;
	f->done       = false;
	f->caller     = NULL;
	f->bottom     = stack->bottom;
	f->size       = stack->size;
	f->fake_stack = NULL;
	f->label      = NULL;
	f->self       = NULL; // set by the first switch to it
#ifdef CORPC_TSAN
	f->tsan_fiber = __tsan_create_fiber(0);
#endif
	f->ctx = make_fcontext(
	    (char *) stack->bottom + stack->size, stack->size, fiber_entry);
}

void
corpc__fiber_fini(corpc__fiber *f)
{
#ifdef CORPC_TSAN
	if (f->tsan_fiber != NULL) {
		__tsan_destroy_fiber(f->tsan_fiber);
		f->tsan_fiber = NULL;
	}
#else
	(void) f;
#endif
}
