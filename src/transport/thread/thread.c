// SPDX-License-Identifier: MIT
// The thread-handoff in-process transport:
//   inproc://NAME?mode=thread       server messages shared (zero copy)
//   inproc://NAME?mode=thread-copy  server messages deep-copied
//
// The handler runs as a task on the server's scheduler threads (or on a
// thread of its own for a thread-per-call server); messages cross
// through two bounded SPSC rings (ring.h), one each way, so back-pressure
// holds: a slow client never makes the server buffer more than the ring's
// depth.
//
// Message policies, server to client:
// - copy: each message is cloned into its ring slot's arena; the handler
//   may reuse its message as soon as send returns, and up to `depth`
//   messages are in flight. No malloc in steady state. A message sent with
//   CORPC_WRITE_STABLE is cloned by the client when it takes it instead:
//   written on the reader's core, the copy needs no cache lines moved
//   between cores (about 400 ns per message here).
// - share: a message sent with CORPC_WRITE_STABLE (valid until the call
//   ends) crosses as a pointer and send does not wait: up to `depth`
//   pointers are in flight, like Go's goroutine and channel. A plain one
//   crosses as a pointer and send returns once the client has moved past
//   it (its next recv, finish or destroy), so the message contract holds at
//   the price of a round trip; while round trips are slow (the threads
//   lack cores) small ones are copied into their slots instead.
// A single response (unary, client streaming) is always copied, since the
// handler returns before the client is done with it. Client-to-server
// messages are always copied: the client may reuse its message at once.
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/clone.h"
#include "transport/inproc/inproc.h"
#include "transport/thread/ring.h"

// How long finish waits for a cancelled handler to return before it gives
// up on it (the handler is then the caller's bug; see README).
#define FINISH_WAIT_NS (5LL * 1000000000)
// With CORPC_WRITE_MORE, responses are published to the client in batches
// of up to this many (the rest go out with the next send without the flag,
// or when the handler waits or returns).
#define PUBLISH_BATCH 16
// Tag on a ring pointer (messages are aligned): the client must copy it.
#define COPY_AT_TAKE ((uintptr_t) 1)
// Share mode, a plain response (no CORPC_WRITE_STABLE): it crosses as a
// pointer and send waits for the client to move past it, a round trip
// between the threads. That costs about 100 ns while both threads have a
// core, ten microseconds and more when they do not (a busy machine). Once
// a round trip was slow, the next SHARE_COPY_RUN responses of the call
// whose copy takes at most SHARE_COPY_MAX bytes are copied into their ring
// slots instead (about a microsecond at most), and send returns at once;
// then a round trip is tried again.
#define SHARE_COPY_MAX (16u * 1024)
#define SHARE_COPY_RUN 4096

typedef struct thread_call {
	corpc__inproc_call in; // stream, ctx, request; first member

	bool               copy;
	size_t             depth;      // rings are sized for it
	unsigned           resp_depth; // nesting limit of responses (depth.h)
	corpc__ring_waiter w;
	corpc__ring        s2c; // server to client
	corpc__ring        c2s; // client to server
	bool               rings_ready;

	corpc__arena take_arena; // the client's copy of a stable message
	unsigned     copy_run;   // share mode: plain responses left to copy

	atomic_bool     headers_published; // worker → client
	atomic_bool     handler_done;      // set before s2c closes
	atomic_bool     consumer_gone;     // the client reads no more
	corpc__pool_job job;               // thread-per-call servers
	bool            worker_running;    // guarded by w.mu
	bool            orphaned;  // guarded by w.mu: finish gave up waiting
	bool            destroyed; // guarded by w.mu: the client let go
} thread_call;

// ---- pools ----------------------------------------------------------------

static corpc__freelist call_pool = CORPC__FREELIST_INIT(256);

// Pooled calls have rings of one depth: take one that fits.
static bool
has_depth(const corpc__inproc_call *c, const void *depth)
{
	return ((const thread_call *) c)->depth == *(const size_t *) depth;
}

// What the in-process layer does not free itself.
static void
call_fini(corpc__inproc_call *ic)
{
	thread_call *c = (thread_call *) ic;
	corpc__arena_fini(&c->take_arena);
	if (c->rings_ready) {
		corpc__ring_fini(&c->s2c);
		corpc__ring_fini(&c->c2s);
	}
	corpc__waiter_fini(&c->w);
}

static thread_call *
call_get(size_t depth)
{
	thread_call *c = (thread_call *) corpc__inproc_call_get(
	    &call_pool, sizeof(thread_call), has_depth, &depth);
	if (c == NULL || c->rings_ready) {
		return c; // pooled
	}
	corpc__waiter_init(&c->w);
	corpc__arena_init(&c->take_arena);
	c->depth = depth;
	if (corpc__ring_init(&c->s2c, depth) != 0) {
		corpc__inproc_call_free(&c->in, call_fini);
		return NULL;
	}
	if (corpc__ring_init(&c->c2s, depth) != 0) {
		corpc__ring_fini(&c->s2c);
		corpc__inproc_call_free(&c->in, call_fini);
		return NULL;
	}
	c->rings_ready = true;
	return c;
}

// ---- the handler's side (a task, or a thread-per-call thread)
// -----------------

static thread_call *
from_ctx(corpc_ctx *ctx)
{
	return (thread_call *) ((char *) ctx - offsetof(thread_call, in.ctx));
}

static int
cancel_now(thread_call *c)
{
	int code = atomic_load(&c->w.cancel);
	if (code == 0 && c->w.deadline != CORPC_DEADLINE_NONE &&
	    corpc_now() >= c->w.deadline) {
		corpc__waiter_cancel(&c->w, CORPC_STATUS_DEADLINE_EXCEEDED);
		code = atomic_load(&c->w.cancel);
	}
	return code;
}

static void
publish_headers(thread_call *c)
{
	if (!atomic_load_explicit(
	        &c->headers_published, memory_order_relaxed)) {
		c->in.ctx.headers_sent = true;
		atomic_store(&c->headers_published, true);
	}
}

static bool
single_response(const thread_call *c)
{
	corpc_rpc_kind k = c->in.st.method->kind;
	return k == CORPC_RPC_UNARY || k == CORPC_RPC_CLIENT_STREAMING;
}

// Copies taken from one arena, up to a budget (SHARE_COPY_MAX).
typedef struct copy_budget {
	corpc__arena *arena;
	size_t        left;
} copy_budget;

static void *
budget_alloc(void *p, size_t size)
{
	copy_budget *b = p;
	if (size > b->left) {
		return NULL; // the clone gives up and frees nothing (arena)
	}
	b->left -= size;
	return corpc__arena_alloc(b->arena, size);
}

static void
budget_free(void *p, void *ptr)
{
	(void) p;
	(void) ptr; // the arena is reset as a whole
}

// Share mode: copies a plain response into slot i if it is small enough.
// Returns the copy, or NULL (too large, too deep or out of memory: then it
// crosses as a pointer, as before).
static const ProtobufCMessage *
copy_small(thread_call *c, size_t i, const ProtobufCMessage *msg)
{
	corpc__arena *a = &c->s2c.arenas[i];
	corpc__arena_reset(a);
	copy_budget        b     = {a, SHARE_COPY_MAX};
	ProtobufCAllocator alloc = {budget_alloc, budget_free, &b};
	bool               deep;
	return corpc__msg_clone(msg, &alloc, c->resp_depth, &deep);
}

static corpc_status_code
thread_x_send(corpc_ctx *ctx, const ProtobufCMessage *msg, unsigned flags)
{
	thread_call *c    = from_ctx(ctx);
	int          code = cancel_now(c);
	if (code != 0) {
		return (corpc_status_code) code;
	}
	publish_headers(c);
	bool copy   = c->copy || single_response(c);
	bool stable = (flags & CORPC_WRITE_STABLE) != 0;
	if ((code = corpc__ring_wait_space(&c->s2c, &c->w, c->depth,
	         CORPC__RING_SERVER, &c->c2s)) != 0) {
		return (corpc_status_code) code;
	}
	size_t i      = corpc__ring_next(&c->s2c);
	bool   shared = false; // the pointer crosses: wait for the client
	if (copy && stable && !single_response(c)) {
		// It stays valid, so the client copies it when it takes it:
		// the copy is then written on the reader's core, not moved to
		// it.
		c->s2c.msgs[i] = (const ProtobufCMessage *) ((uintptr_t) msg |
		                                             COPY_AT_TAKE);
	} else if (copy) {
		corpc__arena_reset(&c->s2c.arenas[i]);
		bool deep;
		c->s2c.msgs[i] = corpc__msg_clone(
		    msg, &c->s2c.arenas[i].alloc, c->resp_depth, &deep);
		if (c->s2c.msgs[i] == NULL && deep) {
			// What the client would say after decoding it:
			// INTERNAL.
			return corpc_ctx_error(ctx, CORPC_STATUS_INTERNAL,
			    "%s: response message nested deeper than %u",
			    c->in.st.method->path, c->resp_depth);
		}
		if (c->s2c.msgs[i] == NULL) {
			return corpc_ctx_error(ctx,
			    CORPC_STATUS_RESOURCE_EXHAUSTED,
			    "out of memory copying a response");
		}
	} else if (stable || c->copy_run == 0 ||
	           (c->s2c.msgs[i] = copy_small(c, i, msg)) == NULL) {
		c->s2c.msgs[i] = msg;
		shared         = !stable;
	} else {
		c->copy_run--;
	}
	corpc__ring_stage(&c->s2c);
	if (shared) {
		// Waits for every message before it too, as it always did.
		corpc__ring_publish(&c->s2c, &c->w);
		if (!corpc__ring_wait_drained(&c->s2c, &c->w,
		        &c->consumer_gone, CORPC__RING_SERVER, &c->c2s)) {
			c->copy_run = SHARE_COPY_RUN; // slow: copy for a while
		}
	} else if (!(flags & CORPC_WRITE_MORE) ||
	           c->s2c.staged >= PUBLISH_BATCH) {
		corpc__ring_publish(&c->s2c, &c->w);
	}
	return (corpc_status_code) cancel_now(c);
}

static corpc_status_code
thread_x_recv(corpc_ctx *ctx, const ProtobufCMessage **msg)
{
	thread_call *c    = from_ctx(ctx);
	int          code = cancel_now(c);
	if (code != 0) {
		return (corpc_status_code) code;
	}
	if (corpc__inproc_take_request(&c->in, msg)) {
		return CORPC_STATUS_OK;
	}
	corpc__ring_publish(
	    &c->s2c, &c->w); // never wait with replies held back
	if ((code = corpc__ring_take(&c->c2s, &c->w, msg)) != 0) {
		return (corpc_status_code) code;
	}
	return CORPC_STATUS_OK;
}

static corpc_status_code
thread_x_send_headers(corpc_ctx *ctx)
{
	thread_call *c = from_ctx(ctx);
	publish_headers(c);
	corpc__waiter_wake(&c->w);
	return (corpc_status_code) cancel_now(c);
}

static bool
thread_x_is_cancelled(corpc_ctx *ctx)
{
	return cancel_now(from_ctx(ctx)) != 0;
}

static void
thread_x_cancel(corpc_ctx *ctx)
{
	corpc__waiter_cancel(&from_ctx(ctx)->w, CORPC_STATUS_CANCELLED);
	corpc__ctx_cancelled(ctx);
}

static const corpc__ctx_ops thread_ctx_ops = {
    .x_send         = thread_x_send,
    .x_recv         = thread_x_recv,
    .x_send_headers = thread_x_send_headers,
    .x_is_cancelled = thread_x_is_cancelled,
    .x_cancel       = thread_x_cancel,
};

static void client_release(thread_call *c);

static void
worker_run(void *arg)
{
	thread_call *c     = arg;
	c->in.handler_code = corpc__ctx_run(&c->in.ctx);
	publish_headers(c);
	atomic_store(&c->handler_done, true);
	corpc__ring_close(&c->s2c, &c->w);
	pthread_mutex_lock(&c->w.mu);
	c->worker_running = false;
	bool last = c->destroyed; // the client gave up and left it to us
	corpc__cond_broadcast(&c->w.cv);
	pthread_mutex_unlock(&c->w.mu);
	if (last) {
		client_release(c);
	}
}

// ---- the client's side
// ------------------------------------------------------------

static void
take_headers(thread_call *c)
{
	if (atomic_load(&c->headers_published)) {
		corpc__inproc_hand_headers(&c->in);
	}
}

// Ends the stream once the handler has returned.
static void
end_from_handler(thread_call *c)
{
	take_headers(c);
	corpc__inproc_hand_trailers(&c->in);
	corpc__inproc_end(&c->in, 0);
}

// Ends a call whose two sides both wait to send, each with the other's
// ring full: neither reads again, so it cannot go on (the coroutine
// handoff refuses its own limit the same way).
static void
end_stuck(thread_call *c)
{
	atomic_store(&c->consumer_gone, true);
	corpc__waiter_wake(&c->w);
	corpc__stream_end(&c->in.st, CORPC_STATUS_RESOURCE_EXHAUSTED,
	    "inproc thread handoff: client and server both wait to send, "
	    "each with the other's queue full (queue_depth %zu); receive in "
	    "between, or raise corpc_channel_opts.queue_depth",
	    c->depth);
}

// The call is over for the client: a handler waiting for a shared message
// to be released must not wait for reads that will never come.
static void
end_cancelled(thread_call *c, int code)
{
	if (atomic_load(&c->w.stuck)) {
		end_stuck(c);
		return;
	}
	atomic_store(&c->consumer_gone, true);
	corpc__waiter_wake(&c->w);
	corpc__inproc_end(&c->in, code);
}

// Ends the call because a `what` message nests deeper than `limit`.
static void
end_too_deep(
    thread_call *c, corpc_status_code code, const char *what, unsigned limit)
{
	atomic_store(&c->consumer_gone, true);
	corpc__waiter_wake(&c->w);
	corpc__stream_end(&c->in.st, code,
	    "%s: %s message nested deeper than %u", c->in.st.method->path,
	    what, limit);
}

static corpc_status_code
start_handler(thread_call *c, const corpc__handler *h,
    const corpc_metadata *md, const ProtobufCMessage *request)
{
	corpc_status_code rc =
	    corpc__inproc_ctx_start(&c->in, &thread_ctx_ops, h, md);
	if (rc == CORPC_STATUS_OK && request != NULL) {
		rc = corpc__inproc_copy_request(&c->in, request);
	}
	if (rc != CORPC_STATUS_OK) {
		return rc;
	}
	int code = cancel_now(c);
	if (code != 0) {
		return (corpc_status_code) code;
	}
	c->worker_running = true;
	if (corpc__server_run(c->in.srv, NULL, worker_run, c, &c->job) !=
	    CORPC_OK) {
		c->worker_running = false;
		return CORPC_STATUS_RESOURCE_EXHAUSTED;
	}
	return CORPC_STATUS_OK;
}

static corpc_err
thread_s_open(void *state, corpc_channel *ch, const corpc_method *method,
    const corpc__open_args *a, const ProtobufCMessage *request,
    corpc_stream **out)
{
	corpc__inproc_chan *tc = state;
	thread_call        *c  = call_get(tc->depth);
	if (c == NULL) {
		return CORPC_ENOMEM;
	}
	if (corpc__inproc_open(&c->in, ch, method, a) != CORPC_OK) {
		corpc__inproc_call_put(&call_pool, &c->in, call_fini);
		return CORPC_ENOMEM;
	}
	c->copy           = strcmp(tc->mode, "thread-copy") == 0;
	c->resp_depth     = tc->max_depth;
	c->orphaned       = false;
	c->destroyed      = false;
	c->worker_running = false;
	corpc__ring_reset(&c->s2c);
	corpc__ring_reset(&c->c2s);
	corpc__arena_reset(&c->take_arena);
	c->copy_run = 0;
	corpc__waiter_reset(&c->w, a->deadline);
	atomic_store(&c->headers_published, false);
	atomic_store(&c->handler_done, false);
	atomic_store(&c->consumer_gone, false);
	if (request != NULL) {
		corpc__ring_close(
		    &c->c2s, &c->w); // one request, given at open
	}
	*out = &c->in.st;
	const corpc__handler *h =
	    corpc__inproc_resolve_call(&c->in, a, tc->name, &c->w.cancel);
	if (h == NULL) {
		return CORPC_OK;
	}
	corpc_status_code rc = start_handler(c, h, a->md, request);
	if (rc == CORPC_STATUS_DEADLINE_EXCEEDED ||
	    rc == CORPC_STATUS_CANCELLED) {
		corpc__inproc_end_before_start(&c->in, rc);
	} else if (rc == CORPC_STATUS_INVALID_ARGUMENT) {
		corpc__stream_end(&c->in.st, rc,
		    "%s: request message nested deeper than %u", method->path,
		    corpc__inproc_request_depth(&c->in));
	} else if (rc != CORPC_STATUS_OK) {
		corpc__stream_end(
		    &c->in.st, rc, "out of resources starting the call");
	}
	return CORPC_OK;
}

static void thread_s_cancel(corpc_stream *st);

static corpc_status_code
thread_s_recv(corpc_stream *st, const ProtobufCMessage **msg)
{
	thread_call *c    = (thread_call *) st;
	int          code = corpc__ring_take(&c->s2c, &c->w, msg);
	if (code != 0) {
		end_cancelled(c, code);
		return st->code;
	}
	take_headers(c);
	if (*msg != NULL && ((uintptr_t) *msg & COPY_AT_TAKE)) {
		// The previous message is released by this recv: reuse its
		// arena.
		corpc__arena_reset(&c->take_arena);
		bool deep;
		*msg = corpc__msg_clone(
		    (const ProtobufCMessage *) ((uintptr_t) *msg &
		                                ~COPY_AT_TAKE),
		    &c->take_arena.alloc, c->resp_depth, &deep);
		if (*msg == NULL && deep) {
			thread_s_cancel(st);
			end_too_deep(c, CORPC_STATUS_INTERNAL, "response",
			    c->resp_depth);
			return st->code;
		}
		if (*msg == NULL) {
			thread_s_cancel(st);
			end_cancelled(c, CORPC_STATUS_RESOURCE_EXHAUSTED);
			return st->code;
		}
	}
	if (*msg != NULL) {
		return CORPC_STATUS_OK;
	}
	end_from_handler(c); // closed and empty: the handler returned
	return st->code;
}

static corpc_status_code
thread_s_send(corpc_stream *st, const ProtobufCMessage *msg, unsigned flags)
{
	(void) flags;
	thread_call *c = (thread_call *) st;
	if (atomic_load(&c->handler_done)) {
		return CORPC_STATUS_FAILED_PRECONDITION; // it reads no more
	}
	int code = corpc__ring_wait_space(
	    &c->c2s, &c->w, c->depth, CORPC__RING_CLIENT, &c->s2c);
	if (code != 0) {
		end_cancelled(c, code);
		return st->code;
	}
	size_t i = corpc__ring_next(&c->c2s);
	corpc__arena_reset(&c->c2s.arenas[i]);
	bool deep;
	c->c2s.msgs[i] = corpc__msg_clone(msg, &c->c2s.arenas[i].alloc,
	    corpc__inproc_request_depth(&c->in), &deep);
	if (c->c2s.msgs[i] == NULL && deep) {
		// The server refuses it, as it would after decoding it.
		thread_s_cancel(st);
		end_too_deep(c, CORPC_STATUS_INVALID_ARGUMENT, "request",
		    corpc__inproc_request_depth(&c->in));
		return st->code;
	}
	if (c->c2s.msgs[i] == NULL) {
		return CORPC_STATUS_RESOURCE_EXHAUSTED;
	}
	corpc__ring_stage(&c->c2s);
	corpc__ring_publish(&c->c2s, &c->w);
	return CORPC_STATUS_OK;
}

static corpc_status_code
thread_s_close_send(corpc_stream *st)
{
	thread_call *c = (thread_call *) st;
	corpc__ring_close(&c->c2s, &c->w);
	return CORPC_STATUS_OK;
}

static bool
headers_or_end(void *p)
{
	thread_call *c = p;
	return atomic_load(&c->headers_published) ||
	       atomic_load(&c->handler_done);
}

static void
thread_s_headers(corpc_stream *st)
{
	thread_call *c = (thread_call *) st;
	if (c->in.srv == NULL) {
		return;
	}
	int code = corpc__waiter_wait(&c->w, headers_or_end, c, true);
	if (code != 0) {
		end_cancelled(c, code);
		return;
	}
	take_headers(c);
}

static bool
handler_done(void *p)
{
	return atomic_load(&((thread_call *) p)->handler_done);
}

// Waits until the worker has left the call, at most FINISH_WAIT_NS.
// Returns false (and leaves the call to the worker) on timeout.
static bool
wait_worker(thread_call *c)
{
	int64_t until = corpc_now() + FINISH_WAIT_NS;
	pthread_mutex_lock(&c->w.mu);
	while (c->worker_running) {
		if (corpc_now() >= until) {
			c->orphaned = true;
			break;
		}
		corpc__cond_wait(&c->w.cv, &c->w.mu, until);
	}
	bool ok = !c->orphaned;
	pthread_mutex_unlock(&c->w.mu);
	return ok;
}

static void
thread_s_finish(corpc_stream *st, bool cancel)
{
	thread_call *c = (thread_call *) st;
	if (c->in.srv == NULL || st->ended) {
		return;
	}
	if (!cancel) {
		// The single response arrived: wait for the status, not
		// cancel.
		int code = corpc__waiter_wait(&c->w, handler_done, c, true);
		if (code == 0) {
			wait_worker(c);
			end_from_handler(c);
			return;
		}
	}
	bool done_before = atomic_load(&c->handler_done);
	corpc__waiter_cancel(&c->w, CORPC_STATUS_CANCELLED);
	corpc__ctx_cancelled(&c->in.ctx);
	atomic_store(&c->consumer_gone, true);
	corpc__ring_release(&c->s2c, &c->w);
	corpc__waiter_wake(&c->w);
	if (!wait_worker(c)) {
		corpc__stream_end(st, CORPC_STATUS_CANCELLED,
		    "call cancelled; its handler has not returned after %lld "
		    "s",
		    FINISH_WAIT_NS / 1000000000);
		return;
	}
	if (done_before && atomic_load(&c->s2c.tail) == c->s2c.head) {
		end_from_handler(c); // it had finished and everything was read
	} else {
		end_cancelled(c, atomic_load(&c->w.cancel));
	}
}

static void
thread_s_cancel(corpc_stream *st)
{
	thread_call *c = (thread_call *) st;
	corpc__waiter_cancel(&c->w, CORPC_STATUS_CANCELLED);
	corpc__ctx_cancelled(&c->in.ctx);
}

// Frees the call's server slot and recycles it. Runs on the client's
// thread, or on the worker's for a call the client gave up on.
static void
client_release(thread_call *c)
{
	corpc__inproc_call_release(&call_pool, &c->in, call_fini);
}

static void
thread_s_destroy(corpc_stream *st)
{
	thread_call *c = (thread_call *) st;
	// Only a call whose handler ignored cancellation past the bounded wait
	// still has its worker: then the worker recycles it when it returns.
	pthread_mutex_lock(&c->w.mu);
	c->destroyed     = true;
	bool worker_left = !c->worker_running;
	pthread_mutex_unlock(&c->w.mu);
	if (worker_left) {
		client_release(c);
	}
}

static const corpc__channel_ops thread_channel_ops = {
    .c_open       = corpc__inproc_c_open,
    .c_close      = corpc__inproc_c_close,
    .c_state      = corpc__inproc_c_state,
    .s_open       = thread_s_open,
    .s_send       = thread_s_send,
    .s_close_send = thread_s_close_send,
    .s_recv       = thread_s_recv,
    .s_headers    = thread_s_headers,
    .s_finish     = thread_s_finish,
    .s_cancel     = thread_s_cancel,
    .s_destroy    = thread_s_destroy,
};

// Both modes (?mode=thread, ?mode=thread-copy); the address says which.
static bool
thread_t_serves(const corpc__address *addr)
{
	return corpc__inproc_mode_is(addr, "thread") ||
	       corpc__inproc_mode_is(addr, "thread-copy");
}

const corpc__transport corpc__thread_transport = {
    .name     = "thread",
    .channel  = &thread_channel_ops,
    .listener = &corpc__inproc_listener_ops,
    .t_serves = thread_t_serves,
};
