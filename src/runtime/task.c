// SPDX-License-Identifier: MIT
// Tasks: spawning, running, parking and unparking, timed parks, joins, and
// the events built on parking.
#include <sched.h>
#include <stdlib.h>

#include "core/clock.h"
#include "corpc/client.h"
#include "runtime/sched_impl.h"

// Task structs kept per runtime for reuse.
#define TASKS_KEEP 1024

#define EVENT_BUSY ((corpc__parker *) 1)

// ---- thread parkers
// -----------------------------------------------------------

static __thread corpc__parker thread_parker
    __attribute__((tls_model("initial-exec")));
static __thread bool thread_parker_ready
    __attribute__((tls_model("initial-exec")));

static corpc__parker *thread_parker_get(void) __attribute__((noinline));

void
corpc__thread_parker_init(corpc__parker *p)
{
	p->task     = NULL;
	p->notified = false;
	pthread_mutex_init(&p->mu, NULL);
	corpc__cond_init_monotonic(&p->cv); // timed parks
}

void
corpc__thread_parker_fini(corpc__parker *p)
{
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

static corpc__parker *
thread_parker_get(void)
{
	corpc__parker *p = &thread_parker;
	if (!thread_parker_ready) {
		corpc__thread_parker_init(p);
		thread_parker_ready = true;
	}
	return p;
}

static void
thread_park(corpc__parker *p, int64_t deadline)
{
	pthread_mutex_lock(&p->mu);
	while (!p->notified) {
		if (deadline == CORPC_DEADLINE_NONE) {
			pthread_cond_wait(&p->cv, &p->mu);
		} else if (corpc_now() >= deadline) {
			break;
		} else {
			struct timespec ts = corpc__timespec_at(deadline);
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		}
	}
	p->notified = false;
	pthread_mutex_unlock(&p->mu);
}

static void
thread_unpark(corpc__parker *p)
{
	pthread_mutex_lock(&p->mu);
	p->notified = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

// ---- timers: a min-heap of parked tasks on their worker
// -------------------------

static void
heap_set(corpc__worker *w, size_t i, corpc__task *t)
{
	w->heap[i]  = t;
	t->heap_pos = i + 1;
}

static void
heap_up(corpc__worker *w, size_t i)
{
	corpc__task *t = w->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (w->heap[parent]->due <= t->due) {
			break;
		}
		heap_set(w, i, w->heap[parent]);
		i = parent;
	}
	heap_set(w, i, t);
}

static void
heap_down(corpc__worker *w, size_t i)
{
	corpc__task *t = w->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= w->heap_len) {
			break;
		}
		if (c + 1 < w->heap_len &&
		    w->heap[c + 1]->due < w->heap[c]->due) {
			c++;
		}
		if (w->heap[c]->due >= t->due) {
			break;
		}
		heap_set(w, i, w->heap[c]);
		i = c;
	}
	heap_set(w, i, t);
}

// Returns false when out of memory.
static bool
timer_add(corpc__worker *w, corpc__task *t, int64_t due)
{
	if (w->heap_len == w->heap_cap) {
		size_t        cap = w->heap_cap ? w->heap_cap * 2 : 64;
		corpc__task **h   = realloc(w->heap, cap * sizeof(*h));
		if (h == NULL) {
			return false;
		}
		w->heap     = h;
		w->heap_cap = cap;
	}
	t->due = due;
	heap_set(w, w->heap_len++, t);
	heap_up(w, w->heap_len - 1);
	return true;
}

static void
timer_remove(corpc__worker *w, corpc__task *t)
{
	size_t i    = t->heap_pos - 1;
	t->heap_pos = 0;
	w->heap_len--;
	if (i == w->heap_len) {
		return;
	}
	heap_set(w, i, w->heap[w->heap_len]);
	heap_up(w, i);
	heap_down(w, w->heap[i]->heap_pos - 1);
}

int64_t
corpc__timers_fire(corpc__worker *w)
{
	if (w->heap_len == 0) {
		return CORPC_DEADLINE_NONE;
	}
	int64_t now = corpc_now();
	while (w->heap_len > 0 && w->heap[0]->due <= now) {
		corpc__task *t = w->heap[0];
		timer_remove(w, t);
		corpc__unpark(&t->parker);
	}
	return w->heap_len > 0 ? w->heap[0]->due : CORPC_DEADLINE_NONE;
}

// ---- parking
// ----------------------------------------------------------------------

corpc__task *
corpc__task_current(void)
{
	return corpc__self()->task;
}

corpc__parker *
corpc__parker_self(void)
{
	corpc__task *t = corpc__self()->task;
	return t != NULL ? &t->parker : thread_parker_get();
}

void
corpc__task_enqueue(corpc__task *t)
{
	corpc__worker *w = t->worker;
	if (corpc__self()->worker == w) {
		corpc__queue_push(&w->ready, t);
	} else {
		corpc__worker_push_remote(w, t);
	}
}

// Switches from whatever fiber of task `t` runs now to its worker.
static void
task_switch_out(corpc__task *t, task_why why)
{
	corpc__thread_self *self = corpc__self();
	corpc__fiber       *cur  = self->current;
	t->resume_at             = cur;
	t->why                   = why;
	self->current            = t->worker->own;
	corpc__fiber_switch(cur, t->worker->own);
}

void
corpc__park(corpc__parker *p, int64_t deadline)
{
	corpc__task *t = p->task;
	if (t == NULL) {
		thread_park(p, deadline);
		return;
	}
	if (atomic_exchange(&p->state, PARK_EMPTY) == PARK_NOTIFIED) {
		return; // the unpark came first
	}
	corpc__worker *w = t->worker;
	if (deadline != CORPC_DEADLINE_NONE) {
		if (deadline <= corpc_now()) {
			return;
		}
		if (!timer_add(w, t, deadline)) {
			// Out of memory for the timer: come back after the
			// others ran instead; the caller's loop looks at the
			// clock again.
			task_switch_out(t, TASK_YIELDING);
			return;
		}
	}
	task_switch_out(t, TASK_PARKING);
	if (t->heap_pos != 0) {
		timer_remove(w, t);
	}
}

void
corpc__unpark(corpc__parker *p)
{
	if (p->task == NULL) {
		thread_unpark(p);
		return;
	}
	int s = atomic_load(&p->state);
	for (;;) {
		if (s == PARK_NOTIFIED) {
			return;
		}
		int next = s == PARK_PARKED ? PARK_EMPTY : PARK_NOTIFIED;
		if (atomic_compare_exchange_weak(&p->state, &s, next)) {
			break;
		}
	}
	if (s == PARK_PARKED) {
		corpc__task_enqueue(
		    p->task); // we moved it out of PARKED: ours to run
	}
}

bool
corpc__task_yield(void)
{
	corpc__thread_self *self = corpc__self();
	corpc__task        *t    = self->task;
	if (t == NULL || t->worker->ready.len == 0) {
		return false;
	}
	task_switch_out(t, TASK_YIELDING);
	return true;
}

// ---- events
// -------------------------------------------------------------------------

void
corpc__event_reset(corpc__event *e)
{
	atomic_store_explicit(&e->done, false, memory_order_relaxed);
	atomic_store_explicit(&e->waiter, NULL, memory_order_relaxed);
}

void
corpc__event_set(corpc__event *e)
{
	corpc__parker *w = atomic_exchange(&e->waiter, EVENT_BUSY);
	atomic_store_explicit(&e->done, true, memory_order_release);
	if (w != NULL) {
		corpc__unpark(w);
	}
	atomic_store(&e->waiter, NULL);
}

// The setter holds the slot while it unparks: wait for it to let go.
static void
event_settle(corpc__event *e)
{
	for (unsigned i = 0; atomic_load(&e->waiter) == EVENT_BUSY; i++) {
		if (i > 64) {
			sched_yield(); // the setter's thread may be off its
			               // core
		}
	}
}

bool
corpc__event_wait(corpc__event *e, int64_t deadline)
{
	if (corpc__event_is_set(e)) {
		event_settle(e);
		return true;
	}
	corpc__parker *self = corpc__parker_self();
	for (;;) {
		corpc__parker *expected = NULL;
		if (!atomic_compare_exchange_strong(
		        &e->waiter, &expected, self)) {
			event_settle(e); // a setter is at work: it sets done
			if (corpc__event_is_set(e)) {
				return true;
			}
			continue;
		}
		if (!corpc__event_is_set(e)) {
			corpc__park(self, deadline);
		}
		expected = self;
		if (!atomic_compare_exchange_strong(
		        &e->waiter, &expected, NULL)) {
			event_settle(
			    e); // the setter took our slot and unparks us
		}
		if (corpc__event_is_set(e)) {
			return true;
		}
		if (deadline != CORPC_DEADLINE_NONE &&
		    corpc_now() >= deadline) {
			return false;
		}
	}
}

// ---- spawning, running, ending
// -----------------------------------------------------

static void
task_main(void *arg)
{
	corpc__task *t = arg;
	t->fn(t->arg);
}

static corpc__task *
task_get(corpc_runtime *rt)
{
	pthread_mutex_lock(&rt->mu);
	corpc__task *t = rt->free_tasks;
	if (t != NULL) {
		rt->free_tasks = t->next;
		rt->free_count--;
	}
	pthread_mutex_unlock(&rt->mu);
	if (t == NULL && (t = calloc(1, sizeof(*t))) != NULL) {
		t->parker.task = t;
	}
	return t;
}

// Returns `t` to the runtime's pool. Caller holds rt->mu.
static void
task_put_locked(corpc_runtime *rt, corpc__task *t)
{
	if (rt->free_count < TASKS_KEEP) {
		t->next        = rt->free_tasks;
		rt->free_tasks = t;
		rt->free_count++;
	} else {
		free(t);
	}
}

void
corpc__tasks_free(corpc_runtime *rt)
{
	while (rt->free_tasks != NULL) {
		corpc__task *t = rt->free_tasks;
		rt->free_tasks = t->next;
		free(t);
	}
}

corpc_err
corpc__task_spawn(corpc_runtime *rt, corpc__worker *on,
    corpc__stack_pool *stacks, void (*fn)(void *), void *arg,
    corpc__task **out)
{
	if (stacks == NULL) {
		stacks = rt->stacks;
	}
	corpc__task *t = task_get(rt);
	if (t == NULL) {
		return CORPC_ENOMEM;
	}
	corpc__stack *stack = corpc__stack_get(stacks);
	if (stack == NULL) {
		pthread_mutex_lock(&rt->mu);
		task_put_locked(rt, t);
		pthread_mutex_unlock(&rt->mu);
		return CORPC_ENOMEM;
	}
	pthread_mutex_lock(&rt->mu);
	if (rt->stopping) {
		task_put_locked(rt, t);
		pthread_mutex_unlock(&rt->mu);
		corpc__stack_put(stacks, stack);
		return CORPC_ESTATE;
	}
	rt->tasks++;
	pthread_mutex_unlock(&rt->mu);
	if (on == NULL) {
		corpc__worker *cur = corpc__self()->worker;
		on                 = cur != NULL && cur->rt == rt
		                         ? cur
		                         : rt->workers[atomic_fetch_add(&rt->turn, 1) % rt->n];
	}
	t->worker   = on;
	t->stacks   = stacks;
	t->fn       = fn;
	t->arg      = arg;
	t->joinable = out != NULL;
	t->heap_pos = 0;
	t->why      = TASK_RUN;
	atomic_store(&t->parker.state, PARK_EMPTY);
	corpc__event_reset(&t->ended);
	corpc__fiber_init(&t->fiber, stack, task_main, t);
	t->resume_at = &t->fiber;
	if (out != NULL) {
		*out = t;
	}
	corpc__task_enqueue(t);
	return CORPC_OK;
}

// The task's function returned: recycle its stack, tell its joiner.
static void
task_end(corpc__worker *w, corpc__task *t)
{
	corpc__fiber_fini(&t->fiber);
	corpc__stack_put(t->stacks, t->fiber.stack);
	corpc_runtime *rt       = w->rt;
	bool           joinable = t->joinable;
	if (joinable) {
		corpc__event_set(&t->ended); // from here on the joiner owns it
	}
	pthread_mutex_lock(&rt->mu);
	if (!joinable) {
		task_put_locked(rt, t);
	}
	if (--rt->tasks == 0) {
		pthread_cond_broadcast(&rt->cv);
	}
	pthread_mutex_unlock(&rt->mu);
}

void
corpc__task_run(corpc__worker *w, corpc__task *t)
{
	corpc__thread_self *self = corpc__self();
	corpc__fiber       *to   = t->resume_at;
	t->fiber.caller          = w->own; // where the root fiber ends
	self->task               = t;
	self->current            = to;
	corpc__fiber_switch(w->own, to);
	corpc__self()->task = NULL;
	if (t->fiber.done) {
		task_end(w, t);
		return;
	}
	if (t->why == TASK_YIELDING) {
		corpc__queue_push(&w->ready, t);
	} else if (t->why == TASK_PARKING) {
		int expected = PARK_EMPTY;
		if (!atomic_compare_exchange_strong(
		        &t->parker.state, &expected, PARK_PARKED)) {
			// Unparked before it was down: run it again.
			atomic_store(&t->parker.state, PARK_EMPTY);
			corpc__queue_push(&w->ready, t);
		}
	}
}

void
corpc__task_join(corpc__task *t)
{
	corpc__event_wait(&t->ended, CORPC_DEADLINE_NONE);
	corpc_runtime *rt = t->worker->rt;
	pthread_mutex_lock(&rt->mu);
	task_put_locked(rt, t);
	pthread_mutex_unlock(&rt->mu);
}
