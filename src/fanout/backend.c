// SPDX-License-Identifier: MIT
// Pulling one backend. An inline backend is a plain corpc_stream_recv on
// the driving thread: the merge hands out the transport's own message (zero
// copy) and calls recv again only once it has released it. A threaded
// backend has a reader thread that receives ahead into a ring of FO_RING
// clones (each in a reused arena), so the transport's borrowed message is
// free again at once, the backend progresses while the merge is busy
// elsewhere, and the two threads meet only when the ring is empty or full.
#include <limits.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/clone.h"
#include "runtime/sched.h"
#include "fanout/fanout_impl.h"

#define PARENT_POLL_NS 20000000 // 20 ms

static void
reader_run(void *arg)
{
	corpc__fo_backend   *b  = arg;
	struct corpc_fanout *fo = b->fo;
	pthread_mutex_lock(&fo->mu);
	for (;;) {
		while (b->r_len == FO_RING && !fo->stopping) {
			corpc__cond_wait(&b->cv, &fo->mu, CORPC_DEADLINE_NONE);
		}
		if (fo->stopping) {
			break;
		}
		// The slot after the occupied part is the reader's alone.
		corpc__fo_item *it =
		    &b->ring[(b->r_head + b->r_len) % FO_RING];
		pthread_mutex_unlock(&fo->mu);
		const ProtobufCMessage *m    = NULL;
		const ProtobufCMessage *copy = NULL;
		corpc_status_code       rc   = corpc_stream_recv(b->st, &m);
		if (m != NULL) {
			corpc__arena_reset(&it->arena);
			// Its transport bounded its nesting already (depth.h).
			copy = corpc__msg_clone(
			    m, &it->arena.alloc, UINT_MAX, NULL);
			if (copy == NULL) {
				corpc_stream_cancel(b->st);
				rc = CORPC_STATUS_RESOURCE_EXHAUSTED;
			}
		}
		pthread_mutex_lock(&fo->mu);
		it->msg = copy;
		b->r_len++;
		if (fo->opts.backend_timeout_ms > 0) {
			b->want_since = corpc_now();
		}
		if (copy == NULL) {
			b->reader_ended = true;
			b->end_rc       = rc;
			if (rc != CORPC_STATUS_OK) {
				atomic_store(&fo->async_error, true);
			}
		}
		if (fo->opts.merge == CORPC_FANOUT_INTERLEAVE &&
		    fo->q_len < fo->q_cap) {
			fo->queue[(fo->q_head + fo->q_len) % fo->q_cap] =
			    b->index;
			fo->q_len++;
		}
		corpc__cond_signal(&fo->cv);
		if (copy == NULL) {
			break; // the stream is the driving thread's again
		}
	}
	pthread_mutex_unlock(&fo->mu);
}

static void *
reader_thread(void *arg)
{
	reader_run(arg);
	return NULL;
}

corpc_err
corpc__fo_start(struct corpc_fanout *fo)
{
	for (size_t i = 0; i < fo->n; i++) {
		corpc__fo_backend *b = &fo->b[i];
		if (!b->threaded) {
			continue;
		}
		b->ring = calloc(FO_RING, sizeof(*b->ring));
		if (b->ring == NULL) {
			return CORPC_ENOMEM;
		}
		for (size_t k = 0; k < FO_RING; k++) {
			corpc__arena_init(&b->ring[k].arena);
		}
		b->want_since = corpc_now();
		// Inside a task the backends' streams complete on this worker:
		// the readers run there too, as tasks.
		corpc_runtime *rt = corpc_runtime_current();
		if (rt != NULL) {
			corpc_err rv =
			    corpc__task_spawn(rt, corpc__worker_current(),
			        NULL, reader_run, b, &b->task);
			if (rv != CORPC_OK) {
				return rv;
			}
		} else if (pthread_create(
		               &b->thread, NULL, reader_thread, b) != 0) {
			return CORPC_ESYS;
		}
		b->thread_started = true;
	}
	return CORPC_OK;
}

// A wait on the driving side should stop: cancelled, or (fail fast) a
// reader saw an error the merge has not taken yet.
static bool
interrupted(struct corpc_fanout *fo)
{
	return atomic_load(&fo->cancelled) ||
	       (fo->opts.on_error == CORPC_FANOUT_FAIL_FAST &&
	           atomic_load(&fo->async_error));
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

// Threaded backends with nothing queued and no progress for
// backend_timeout_ms (since their last message or release) get cancelled
// (backend_timeout_ms); returns the next time one becomes overdue, or
// CORPC_DEADLINE_NONE. `only`: just that backend, else all. mu held; it is
// released around each cancel.
static int64_t
expire(struct corpc_fanout *fo, corpc__fo_backend *only)
{
	int64_t next = CORPC_DEADLINE_NONE;
	if (fo->opts.backend_timeout_ms <= 0) {
		return next;
	}
	int64_t now = corpc_now();
	for (size_t i = 0; i < fo->n; i++) {
		corpc__fo_backend *b = only != NULL ? only : &fo->b[i];
		if (b->threaded && !b->done && !b->timed_out &&
		    !b->reader_ended &&
		    b->r_len == (b->head != NULL ? 1u : 0u)) {
			int64_t due = b->want_since +
			              fo->opts.backend_timeout_ms * 1000000;
			if (due > now) {
				next = min64(next, due);
			} else {
				b->timed_out = true;
				pthread_mutex_unlock(&fo->mu);
				corpc_stream_cancel(
				    b->st); // its reader ends it
				pthread_mutex_lock(&fo->mu);
			}
		}
		if (only != NULL) {
			break;
		}
	}
	return next;
}

// Waits on fo->cv (mu held) until signalled or `until` (corpc_now() clock,
// CORPC_DEADLINE_NONE for no limit). With a parent call, wakes every 20 ms
// to see whether its client is gone, and then cancels the fan-out.
static void
wait_slot(struct corpc_fanout *fo, int64_t until)
{
	int64_t poll = CORPC_DEADLINE_NONE;
	if (fo->opts.parent != NULL) {
		poll  = corpc_now() + PARENT_POLL_NS;
		until = min64(until, poll);
	}
	corpc__cond_wait(&fo->cv, &fo->mu, until);
	if (until == poll && corpc_now() >= poll) {
		pthread_mutex_unlock(&fo->mu);
		if (corpc_ctx_is_cancelled(fo->opts.parent)) {
			corpc_fanout_cancel(fo);
		}
		pthread_mutex_lock(&fo->mu);
	}
}

// The message (or end) just taken from b: a head, or the backend's end.
static corpc__fo_res
took(struct corpc_fanout *fo, corpc__fo_backend *b, const ProtobufCMessage *m,
    corpc_status_code rc)
{
	if (m != NULL) {
		b->head = m;
		return FO_HAVE;
	}
	return corpc__fo_backend_ended(fo, b, rc);
}

corpc__fo_res
corpc__fo_pull(struct corpc_fanout *fo, corpc__fo_backend *b, bool wait)
{
	if (b->done) {
		return FO_DONE;
	}
	if (b->head != NULL) {
		return FO_HAVE;
	}
	if (!b->threaded) {
		const ProtobufCMessage *m  = NULL;
		corpc_status_code       rc = corpc_stream_recv(b->st, &m);
		return took(fo, b, m, rc);
	}
	pthread_mutex_lock(&fo->mu);
	while (b->r_len == 0) {
		if (!wait || interrupted(fo)) {
			pthread_mutex_unlock(&fo->mu);
			return wait ? FO_WAKE : FO_PENDING;
		}
		int64_t due = expire(fo, b);
		if (b->r_len == 0) {
			wait_slot(fo, due);
		}
	}
	// The item stays in the ring (its arena untouched) until released.
	const ProtobufCMessage *m  = b->ring[b->r_head].msg;
	corpc_status_code       rc = b->end_rc;
	pthread_mutex_unlock(&fo->mu);
	return took(fo, b, m, rc);
}

void
corpc__fo_release(struct corpc_fanout *fo, corpc__fo_backend *b)
{
	b->head = NULL;
	if (!b->threaded || b->done) {
		return; // inline: the next pull's recv releases it
	}
	pthread_mutex_lock(&fo->mu);
	bool was_full = b->r_len == FO_RING;
	b->r_head     = (b->r_head + 1) % FO_RING;
	b->r_len--;
	if (fo->opts.backend_timeout_ms > 0) {
		b->want_since = corpc_now();
	}
	if (was_full) {
		corpc__cond_signal(&b->cv);
	}
	pthread_mutex_unlock(&fo->mu);
}

corpc__fo_res
corpc__fo_next_ready(struct corpc_fanout *fo, bool wait, size_t *out)
{
	pthread_mutex_lock(&fo->mu);
	for (;;) {
		while (fo->q_len > 0) {
			size_t i   = fo->queue[fo->q_head];
			fo->q_head = (fo->q_head + 1) % fo->q_cap;
			fo->q_len--;
			corpc__fo_backend *b = &fo->b[i];
			if (!b->done && b->head == NULL && b->r_len > 0) {
				pthread_mutex_unlock(&fo->mu);
				*out = i;
				return FO_HAVE;
			}
		}
		if (!wait || interrupted(fo)) {
			pthread_mutex_unlock(&fo->mu);
			return wait ? FO_WAKE : FO_PENDING;
		}
		int64_t due = expire(fo, NULL);
		if (fo->q_len == 0) {
			wait_slot(fo, due);
		}
	}
}

corpc__fo_res
corpc__fo_take_async_error(struct corpc_fanout *fo)
{
	corpc__fo_backend *found = NULL;
	corpc_status_code  rc    = CORPC_STATUS_OK;
	pthread_mutex_lock(&fo->mu);
	for (size_t i = 0; i < fo->n && found == NULL; i++) {
		corpc__fo_backend *b = &fo->b[i];
		if (b->threaded && !b->done && b->reader_ended &&
		    b->end_rc != CORPC_STATUS_OK) {
			found = b; // fail fast: messages queued before it are
			           // dropped
			rc = b->end_rc;
		}
	}
	if (found == NULL) {
		atomic_store(
		    &fo->async_error, false); // taken by the merge already
	}
	pthread_mutex_unlock(&fo->mu);
	return found != NULL ? corpc__fo_backend_ended(fo, found, rc)
	                     : FO_DONE;
}

void
corpc__fo_stop(struct corpc_fanout *fo)
{
	if (fo->stopped) {
		return;
	}
	fo->stopped = true;
	// Readers exit; those still receiving are woken by the cancel. A
	// reader that saw its end before this point ended on its own.
	bool *own_end = fo->own_end;
	pthread_mutex_lock(&fo->mu);
	fo->stopping = true;
	for (size_t i = 0; i < fo->n; i++) {
		corpc__fo_backend *b = &fo->b[i];
		own_end[i]           = b->threaded && b->reader_ended;
		if (b->thread_started) {
			corpc__cond_signal(&b->cv);
		}
	}
	pthread_mutex_unlock(&fo->mu);
	for (size_t i = 0; i < fo->n; i++) {
		corpc__fo_backend *b = &fo->b[i];
		if (b->thread_started && !own_end[i]) {
			corpc_stream_cancel(b->st);
		}
	}
	for (size_t i = 0; i < fo->n; i++) {
		corpc__fo_backend *b = &fo->b[i];
		if (b->thread_started) {
			if (b->task != NULL) {
				corpc__task_join(b->task);
				b->task = NULL;
			} else {
				pthread_join(b->thread, NULL);
			}
			b->thread_started = false;
		}
	}
	// Finish every backend not finished yet: an early stop for the live
	// ones (in-process handlers unwind here, on this thread).
	for (size_t i = 0; i < fo->n; i++) {
		corpc__fo_backend *b = &fo->b[i];
		b->head              = NULL;
		if (b->done || b->st == NULL) {
			continue;
		}
		corpc__fo_record_end(b, own_end[i]);
	}
}
