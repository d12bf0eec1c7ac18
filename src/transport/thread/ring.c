// SPDX-License-Identifier: MIT
// SPSC message ring with spin-then-sleep waits; see ring.h.
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "corpc/client.h"
#include "core/clock.h"
#include "transport/thread/ring.h"

// How long a waiter spins before it sleeps. Long enough to cover the
// other thread producing the next message, short enough not to burn a
// core when the other side really is idle.
#define SPIN_NS 20000
// After this much pure spinning, spinning yields the core now and then: on
// a busy machine the other side may be queued behind us.
#define YIELD_AFTER_NS 2000
// A slot's copy arena starts this small (and grows to the largest message
// it has held), so that consecutive copies sit close in memory.
#define SLOT_ARENA_FIRST 256

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

int
corpc__ring_init(corpc__ring *r, size_t depth)
{
	size_t cap = 1;
	while (cap < depth + 1) { // +1: the slot the consumer still reads
		cap <<= 1;
	}
	r->msgs   = calloc(cap, sizeof(*r->msgs));
	r->arenas = calloc(cap, sizeof(*r->arenas));
	if (r->msgs == NULL || r->arenas == NULL) {
		free(r->msgs);
		free(r->arenas);
		r->msgs   = NULL;
		r->arenas = NULL;
		return -1;
	}
	for (size_t i = 0; i < cap; i++) {
		corpc__arena_init_sized(&r->arenas[i], SLOT_ARENA_FIRST);
	}
	r->cap = cap;
	corpc__ring_reset(r);
	return 0;
}

void
corpc__ring_reset(corpc__ring *r)
{
	atomic_store(&r->tail, 0);
	atomic_store(&r->released, 0);
	atomic_store(&r->closed, false);
	r->head          = 0;
	r->staged        = 0;
	r->tail_seen     = 0;
	r->released_seen = 0;
	for (size_t i = 0; i < r->cap; i++) {
		r->msgs[i] = NULL;
		corpc__arena_reset(&r->arenas[i]);
	}
}

void
corpc__ring_fini(corpc__ring *r)
{
	for (size_t i = 0; r->arenas != NULL && i < r->cap; i++) {
		corpc__arena_fini(&r->arenas[i]);
	}
	free(r->msgs);
	free(r->arenas);
	r->msgs   = NULL;
	r->arenas = NULL;
}

void
corpc__waiter_init(corpc__ring_waiter *w)
{
	pthread_mutex_init(&w->mu, NULL);
	w->cv = (corpc__cond) CORPC__COND_INIT;
	atomic_init(&w->sleepers, 0);
	corpc__waiter_reset(w, CORPC_DEADLINE_NONE);
}

void
corpc__waiter_reset(corpc__ring_waiter *w, int64_t deadline)
{
	atomic_store(&w->cancel, 0);
	atomic_store(&w->sending[0], 0);
	atomic_store(&w->sending[1], 0);
	atomic_store(&w->stuck, false);
	w->deadline = deadline;
}

void
corpc__waiter_fini(corpc__ring_waiter *w)
{
	pthread_mutex_destroy(&w->mu);
}

static void
wake_all(corpc__ring_waiter *w)
{
	pthread_mutex_lock(&w->mu);
	corpc__cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
corpc__waiter_wake(corpc__ring_waiter *w)
{
	if (atomic_load(&w->sleepers) > 0) {
		wake_all(w);
	}
}

void
corpc__waiter_cancel(corpc__ring_waiter *w, int code)
{
	int expected = 0;
	atomic_compare_exchange_strong(&w->cancel, &expected, code);
	wake_all(w);
}

// Returns the cancel code, setting DEADLINE_EXCEEDED once the deadline has
// passed and waking the other side. `locked`: the caller holds w->mu.
static int
cancel_code(corpc__ring_waiter *w, int64_t now, bool locked)
{
	int c = atomic_load(&w->cancel);
	if (c == 0 && w->deadline != CORPC_DEADLINE_NONE &&
	    now >= w->deadline) {
		if (locked) {
			int expected = 0;
			atomic_compare_exchange_strong(&w->cancel, &expected,
			    CORPC_STATUS_DEADLINE_EXCEEDED);
			corpc__cond_broadcast(&w->cv);
		} else {
			corpc__waiter_cancel(
			    w, CORPC_STATUS_DEADLINE_EXCEEDED);
		}
		c = atomic_load(&w->cancel);
	}
	return c;
}

// corpc__waiter_wait; *quick (if not NULL) tells whether it returned while
// still spinning flat out, before it yielded or slept.
static int
waiter_wait_quick(corpc__ring_waiter *w, bool (*ready)(void *), void *arg,
    bool cancellable, bool *quick)
{
	int     c;
	int64_t start = 0;
	if (quick != NULL) {
		*quick = true;
	}
	for (unsigned i = 0;; i++) {
		if (cancellable && (c = atomic_load(&w->cancel)) != 0) {
			return c;
		}
		if (ready(arg)) {
			return 0;
		}
		if ((i & 63) == 0) {
			int64_t now = corpc_now();
			if (cancellable &&
			    (c = cancel_code(w, now, false)) != 0) {
				return c;
			}
			if (start == 0) {
				start = now;
			} else if (now - start > SPIN_NS) {
				break;
			} else if (now - start > YIELD_AFTER_NS) {
				if (quick != NULL) {
					*quick = false;
				}
				// The other side may be waiting for this very
				// core, or be a task ready on this very
				// worker.
				if (!corpc__task_yield()) {
					sched_yield();
				}
				continue;
			}
		}
		cpu_relax();
	}
	if (quick != NULL) {
		*quick = false;
	}
	pthread_mutex_lock(&w->mu);
	atomic_fetch_add(&w->sleepers, 1);
	for (;;) {
		c = cancellable ? cancel_code(w, corpc_now(), true) : 0;
		if (c != 0 || ready(arg)) {
			break;
		}
		corpc__cond_wait(&w->cv, &w->mu,
		    cancellable ? w->deadline : CORPC_DEADLINE_NONE);
	}
	atomic_fetch_sub(&w->sleepers, 1);
	pthread_mutex_unlock(&w->mu);
	return c;
}

int
corpc__waiter_wait(
    corpc__ring_waiter *w, bool (*ready)(void *), void *arg, bool cancellable)
{
	return waiter_wait_quick(w, ready, arg, cancellable, NULL);
}

// A producer waiting to send: what its wait predicate needs.
typedef struct send_wait {
	corpc__ring        *r;  // the ring it writes
	corpc__ring        *in; // the ring it reads
	corpc__ring_waiter *w;
	corpc__ring_side    side;
	size_t              limit; // wait_space
	atomic_bool        *gone;  // wait_drained
	uint64_t            said;  // last value stored in sending[side]
} send_wait;

// Consumer of `in`: releases all it has read but the message it still
// lends out (the last one taken), so that a waiting producer is not held
// up by batching.
static void
release_read(corpc__ring *in, corpc__ring_waiter *w)
{
	size_t rel = atomic_load_explicit(&in->released, memory_order_relaxed);
	if (in->head > rel + 1) {
		atomic_store(&in->released, in->head - 1);
		corpc__waiter_wake(w);
	}
}

// The producer's wait predicate was false with r->released_seen: say so,
// and end the call if the other side waits to send with nothing of ours
// left to see (Dekker: of two sides storing then loading, one sees the
// other).
static void
still_waiting(send_wait *a)
{
	uint64_t mine = ((uint64_t) a->r->released_seen << 1) | 1;
	if (mine != a->said) {
		atomic_store(&a->w->sending[a->side], mine);
		a->said = mine;
	}
	uint64_t other = atomic_load(&a->w->sending[1 - a->side]);
	size_t   rel =
	    atomic_load_explicit(&a->in->released, memory_order_relaxed);
	if ((other & 1) && (other >> 1) == (uint64_t) rel &&
	    !atomic_exchange(&a->w->stuck, true)) {
		corpc__waiter_cancel(a->w, CORPC_STATUS_RESOURCE_EXHAUSTED);
	}
}

static void
send_wait_done(send_wait *a)
{
	if (a->said != 0) {
		atomic_store(&a->w->sending[a->side], 0);
	}
}

static bool
has_space(void *p)
{
	send_wait   *a = p;
	corpc__ring *r = a->r;
	size_t       t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	r->released_seen = atomic_load(&r->released);
	if (t + r->staged - r->released_seen < a->limit) {
		return true;
	}
	still_waiting(a);
	return false;
}

int
corpc__ring_wait_space(corpc__ring *r, corpc__ring_waiter *w, size_t limit,
    corpc__ring_side side, corpc__ring *in)
{
	if (limit > r->cap - 1) {
		limit = r->cap - 1;
	}
	size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (t + r->staged - r->released_seen < limit &&
	    atomic_load(&w->cancel) == 0) {
		return 0; // room by what we saw last: no need to look again
	}
	corpc__ring_publish(r, w); // the consumer must see all it can free
	release_read(in, w);       // and so must the other producer
	send_wait a = {r, in, w, side, limit, NULL, 0};
	int       c = corpc__waiter_wait(w, has_space, &a, true);
	send_wait_done(&a);
	return c;
}

size_t
corpc__ring_next(corpc__ring *r)
{
	return (atomic_load_explicit(&r->tail, memory_order_relaxed) +
	           r->staged) &
	       (r->cap - 1);
}

void
corpc__ring_stage(corpc__ring *r)
{
	r->staged++;
}

void
corpc__ring_publish(corpc__ring *r, corpc__ring_waiter *w)
{
	if (r->staged > 0) {
		atomic_fetch_add(&r->tail, r->staged);
		r->staged = 0;
		corpc__waiter_wake(w);
	}
}

static bool
drained(void *p)
{
	send_wait *a        = p;
	a->r->released_seen = atomic_load(&a->r->released);
	if (a->r->released_seen == atomic_load(&a->r->tail) ||
	    atomic_load(a->gone)) {
		return true;
	}
	still_waiting(a);
	return false;
}

bool
corpc__ring_wait_drained(corpc__ring *r, corpc__ring_waiter *w,
    atomic_bool *consumer_gone, corpc__ring_side side, corpc__ring *in)
{
	release_read(in, w);
	send_wait a = {r, in, w, side, 0, consumer_gone, 0};
	bool      quick;
	waiter_wait_quick(w, drained, &a, false, &quick);
	send_wait_done(&a);
	return quick;
}

void
corpc__ring_close(corpc__ring *r, corpc__ring_waiter *w)
{
	corpc__ring_publish(r, w);
	atomic_store(&r->closed, true);
	corpc__waiter_wake(w);
}

void
corpc__ring_release(corpc__ring *r, corpc__ring_waiter *w)
{
	if (atomic_load_explicit(&r->released, memory_order_relaxed) !=
	    r->head) {
		atomic_store(&r->released, r->head);
		corpc__waiter_wake(w);
	}
}

static bool
can_take(void *p)
{
	corpc__ring *r = p;
	r->tail_seen   = atomic_load(&r->tail);
	return r->tail_seen > r->head || atomic_load(&r->closed);
}

int
corpc__ring_take(
    corpc__ring *r, corpc__ring_waiter *w, const ProtobufCMessage **msg)
{
	*msg = NULL;
	if (r->tail_seen > r->head && atomic_load(&w->cancel) == 0) {
		// Messages we already know of: releases go out in batches, a
		// quarter ring at a time, so the producer's line is left
		// alone.
		size_t rel =
		    atomic_load_explicit(&r->released, memory_order_relaxed);
		if (r->head - rel >= r->cap / 4) {
			corpc__ring_release(r, w);
		}
	} else {
		// About to wait: whatever the producer waits for must be out.
		corpc__ring_release(r, w);
		int c = corpc__waiter_wait(w, can_take, r, true);
		if (c != 0) {
			return c;
		}
		// `closed` may have been seen after a last publish: look
		// again.
		r->tail_seen = atomic_load(&r->tail);
	}
	if (r->tail_seen > r->head) {
		*msg = r->msgs[r->head & (r->cap - 1)];
		r->head++;
	}
	return 0;
}
