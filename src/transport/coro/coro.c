// SPDX-License-Identifier: MIT
// The coroutine in-process transport (inproc://NAME, the default mode).
//
// The client's thread drives the server: a unary handler is called directly;
// a streaming handler runs on a pooled coroutine that the client resumes
// whenever it wants the next message (pull-based, like Go's iter.Pull).
// Server messages reach the client as the very pointer the handler sent:
// the handler stays suspended inside send until the client asks for more, so
// the message contract holds without copying. Messages sent with
// CORPC_WRITE_STABLE (valid until the call ends) queue up to OUTBOX_CAP per
// switch instead. With push-style receive (corpc_stream_recv_each) the
// handler's send calls the client's callback itself: a server-streaming
// handler not yet started then runs on the client's stack, without a
// switch at all. Client-to-server messages are cloned into an arena of
// their inbox slot (the client may reuse its message as soon as send
// returns, while the handler may still be reading it); the arenas are
// reset, not freed, so streaming requests costs no malloc in steady state.
//
// Every handoff checks the call's cancel flag and deadline, so an early stop,
// a cancel from another thread or an expired deadline unwinds the handler at
// the next switch and the client sees CANCELLED or DEADLINE_EXCEEDED.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clone.h"
#include "core/depth.h"
#include "runtime/fiber.h"
#include "transport/inproc/inproc.h"

// Where the handler is.
typedef enum server_state {
	SRV_NONE,        // no handler (the call failed to start)
	SRV_NOT_STARTED, // coroutine ready, handler not yet entered
	SRV_SENDING,     // suspended in send; its messages are in the outbox
	SRV_RECEIVING,   // suspended in recv, waiting for client input
	SRV_DONE,        // handler returned; final code known
} server_state;

// Client-to-server messages waiting for the handler's recv. Bounded, so a
// client that never receives cannot make the transport buffer without end.
#define INBOX_CAP 64
// Ring slots: one more than the cap, for the request the handler holds.
#define INBOX_SLOTS (INBOX_CAP + 1)
// First chunk of each inbox slot's arena: small, since a call keeps one
// arena per slot (a larger message grows its slot's arena once).
#define INBOX_ARENA_FIRST 512
// Stable server messages queued per switch.
#define OUTBOX_CAP 64

typedef struct coro_call {
	corpc__inproc_call in; // stream, ctx, request; first member

	corpc__stack_pool *stacks;
	corpc__fiber       fiber;
	bool               direct; // unary: handler runs on the caller's stack
	server_state       state;
	atomic_int         cancel; // 0, or CANCELLED / DEADLINE_EXCEEDED

	// Server to client: messages offered, not yet handed out. A plain send
	// suspends the handler until its message is taken and the client asks
	// for more; CORPC_WRITE_STABLE messages queue up without a switch.
	const ProtobufCMessage *outbox[OUTBOX_CAP];
	unsigned                outbox_head, outbox_len;

	// Client to server: clones, each in the arena of its slot, FIFO.
	ProtobufCMessage *inbox[INBOX_SLOTS];
	corpc__arena      inbox_arena[INBOX_SLOTS];
	bool              inbox_ready; // the arenas are initialised
	bool              inbox_used;  // the client sent: arenas to shrink
	unsigned          inbox_head, inbox_len;
	ProtobufCMessage
	        *in_current; // borrowed by the handler until next recv
	unsigned in_slot;    // in_current's slot
	bool     client_closed;

	// Push-style receive (s_recv_each): while push_fn is set, the
	// handler's send hands each message to it instead of suspending;
	// once the headers are out, through `sink`, armed in core's send.
	corpc_recv_fn    push_fn;
	void            *push_arg;
	bool             push_stopped; // push_fn said stop
	corpc__push_sink sink;
} coro_call;

// ---- pools ----------------------------------------------------------------

// Call objects are process-wide (a call does not know its server before it
// resolves); stacks belong to the server, sized by its options.
static corpc__freelist call_pool = CORPC__FREELIST_INIT(1024);

static int stack_pool_key; // its address names the server attachment

// What a pooled call owns beyond the shared parts: its inbox arenas.
static void
call_fini(corpc__inproc_call *in)
{
	coro_call *c = (coro_call *) in;
	for (unsigned i = 0; c->inbox_ready && i < INBOX_SLOTS; i++) {
		corpc__arena_fini(&c->inbox_arena[i]);
	}
}

// Nesting limit of responses (depth.h): the channel's. Copies are bounded
// by it, and so is freeing a copy.
static unsigned
response_depth(const coro_call *c)
{
	return corpc__depth_limit(c->in.st.ch->opts.max_message_depth);
}

static void *
stack_pool_create(corpc_server *srv)
{
	const corpc_server_opts *o = corpc__server_opts(srv);
	return corpc__stack_pool_create(o->stack_size, o->stack_guard_size);
}

static void
stack_pool_destroy(void *pool)
{
	corpc__stack_pool_destroy(pool);
}

// ---- shared helpers
// ---------------------------------------------------------

static coro_call *
from_ctx(corpc_ctx *ctx)
{
	return (coro_call *) ((char *) ctx - offsetof(coro_call, in.ctx));
}

// Returns the code that ends the call early, or OK. Checks the deadline, so
// every handoff notices expiry.
static corpc_status_code
check_cancel(coro_call *c)
{
	int code = atomic_load_explicit(&c->cancel, memory_order_relaxed);
	if (code == 0 && c->in.st.deadline != CORPC_DEADLINE_NONE &&
	    corpc_now() >= c->in.st.deadline) {
		int expected = 0;
		atomic_compare_exchange_strong(
		    &c->cancel, &expected, CORPC_STATUS_DEADLINE_EXCEEDED);
		code = atomic_load(&c->cancel);
	}
	return (corpc_status_code) code;
}

static void
request_cancel(coro_call *c, corpc_status_code code)
{
	int expected = 0;
	atomic_compare_exchange_strong(&c->cancel, &expected, (int) code);
	corpc__ctx_cancelled(&c->in.ctx); // calls the handler made end too
}

// The client sees the handler's headers by taking its metadata object.
// Checked here first: every send passes by, and only the first hands over.
static void
deliver_headers(coro_call *c)
{
	if (!c->in.st.headers_ready) {
		c->in.ctx.headers_sent = true;
		corpc__inproc_hand_headers(&c->in);
	}
}

// The handler is done with its current request: its slot's arena is
// reset for reuse.
static void
inbox_release_current(coro_call *c)
{
	if (c->in_current != NULL) {
		corpc__arena_reset(&c->inbox_arena[c->in_slot]);
		c->in_current = NULL;
	}
}

static void
inbox_clear(coro_call *c)
{
	inbox_release_current(c);
	while (c->inbox_len > 0) {
		corpc__arena_reset(&c->inbox_arena[c->inbox_head]);
		c->inbox_head = (c->inbox_head + 1) % INBOX_SLOTS;
		c->inbox_len--;
	}
	c->inbox_head = 0;
	// Back to the pool: no slot keeps a large request's memory.
	for (unsigned i = 0; c->inbox_used && i < INBOX_SLOTS; i++) {
		corpc__arena_shrink(&c->inbox_arena[i]);
	}
	c->inbox_used = false;
}

// ---- the handler's side
// -------------------------------------------------------

static void
handler_main(void *arg)
{
	coro_call *c       = arg;
	c->in.handler_code = corpc__ctx_run(&c->in.ctx);
	deliver_headers(c);
	corpc__inproc_hand_trailers(&c->in);
	c->state = SRV_DONE;
}

static void
outbox_push(coro_call *c, const ProtobufCMessage *msg)
{
	c->outbox[(c->outbox_head + c->outbox_len) & (OUTBOX_CAP - 1)] = msg;
	c->outbox_len++;
}

// Push-style receive ends (or stops): sends go through the transport.
static void
push_disarm(coro_call *c)
{
	c->push_fn     = NULL;
	c->in.ctx.push = NULL;
}

// The callback said stop: the call is cancelled, so the handler's next
// send returns CANCELLED.
static corpc_status_code
coro_x_push_stopped(corpc_ctx *ctx)
{
	coro_call *c = from_ctx(ctx);
	push_disarm(c);
	c->push_stopped = true;
	request_cancel(c, CORPC_STATUS_CANCELLED);
	return CORPC_STATUS_OK;
}

// Push-style receive: the client's callback takes the message right here,
// on this stack. With the headers out, no deadline and no interceptors,
// the next sends go straight from core's send to the callback (ctx.h,
// corpc__push_sink); the cancel flag still turns them back here.
static corpc_status_code
push_send(coro_call *c, const ProtobufCMessage *msg)
{
	const corpc_method *m = c->in.st.method;
	if (c->in.st.headers_ready &&
	    c->in.st.deadline == CORPC_DEADLINE_NONE &&
	    c->in.ctx.call.n == 0 &&
	    (m->kind == CORPC_RPC_SERVER_STREAMING ||
	        m->kind == CORPC_RPC_BIDI_STREAMING)) {
		c->sink        = (corpc__push_sink) {.fn = c->push_fn,
		           .arg                          = c->push_arg,
		           .response                     = m->response,
		           .cancel                       = &c->cancel};
		c->in.ctx.push = &c->sink;
	}
	if (!c->push_fn(c->push_arg, msg)) {
		return coro_x_push_stopped(&c->in.ctx);
	}
	return CORPC_STATUS_OK;
}

// A streaming handler's message goes to the outbox; unless it is stable
// and there is room, the handler suspends until the client took everything
// and asked for more, finished or cancelled.
static inline corpc_status_code
offer(coro_call *c, const ProtobufCMessage *msg, unsigned flags)
{
	outbox_push(c, msg);
	if ((flags & CORPC_WRITE_STABLE) && c->outbox_len < OUTBOX_CAP) {
		return CORPC_STATUS_OK; // it stays valid: hand it over later
	}
	c->state = SRV_SENDING;
	corpc__fiber_yield(&c->fiber);
	return check_cancel(c);
}

// Kept out of line, so that the paths below need no frame for it.
static corpc_status_code coro_x_send_slow(coro_call *c,
    const ProtobufCMessage *msg, unsigned flags) __attribute__((noinline));

// The per-message paths first, with nothing else on them: headers
// delivered, no cancel, no deadline to read the clock for, a streaming
// handler. Push-style receive (when core's direct path is not armed:
// interceptors) calls the callback; otherwise the message waits in the
// outbox, and unless it is stable and there is room, the handler suspends
// until the client asks for more.
static corpc_status_code
coro_x_send(corpc_ctx *ctx, const ProtobufCMessage *msg, unsigned flags)
{
	coro_call *c = from_ctx(ctx);
	if (__builtin_expect(!c->in.st.headers_ready ||
	                         c->in.st.deadline != CORPC_DEADLINE_NONE ||
	                         atomic_load_explicit(
	                             &c->cancel, memory_order_relaxed) != 0 ||
	                         c->direct,
	        0)) {
		return coro_x_send_slow(c, msg, flags);
	}
	if (c->push_fn != NULL) {
		return c->push_fn(c->push_arg, msg) ? CORPC_STATUS_OK
		                                    : coro_x_push_stopped(ctx);
	}
	return offer(c, msg, flags);
}

static corpc_status_code
coro_x_send_slow(coro_call *c, const ProtobufCMessage *msg, unsigned flags)
{
	corpc_ctx        *ctx = &c->in.ctx;
	corpc_status_code rc  = check_cancel(c);
	if (rc != CORPC_STATUS_OK) {
		return rc;
	}
	deliver_headers(c);
	if (c->push_fn != NULL) {
		return push_send(c, msg);
	}
	if (c->direct) {
		// The unary handler returns before the client reads: keep a
		// copy.
		bool                    deep;
		const ProtobufCMessage *copy = corpc__msg_clone(
		    msg, &c->in.arena.alloc, response_depth(c), &deep);
		if (copy == NULL && deep) {
			// What the client would say after decoding it:
			// INTERNAL.
			return corpc_ctx_error(ctx, CORPC_STATUS_INTERNAL,
			    "%s: response message nested deeper than %u",
			    c->in.st.method->path, response_depth(c));
		}
		if (copy == NULL) {
			return corpc_ctx_error(ctx,
			    CORPC_STATUS_RESOURCE_EXHAUSTED,
			    "out of memory copying the response");
		}
		outbox_push(c, copy);
		return CORPC_STATUS_OK;
	}
	return offer(c, msg, flags);
}

static corpc_status_code
coro_x_recv(corpc_ctx *ctx, const ProtobufCMessage **msg)
{
	coro_call        *c  = from_ctx(ctx);
	corpc_status_code rc = check_cancel(c);
	if (rc != CORPC_STATUS_OK) {
		return rc;
	}
	if (corpc__inproc_take_request(&c->in, msg)) {
		return CORPC_STATUS_OK; // one request, then end of input
	}
	inbox_release_current(c);
	while (c->inbox_len == 0 && !c->client_closed) {
		c->state = SRV_RECEIVING;
		corpc__fiber_yield(&c->fiber);
		if ((rc = check_cancel(c)) != CORPC_STATUS_OK) {
			return rc;
		}
	}
	if (c->inbox_len > 0) {
		c->in_current = c->inbox[c->inbox_head];
		c->in_slot    = c->inbox_head;
		c->inbox_head = (c->inbox_head + 1) % INBOX_SLOTS;
		c->inbox_len--;
	}
	*msg = c->in_current;
	return CORPC_STATUS_OK;
}

static corpc_status_code
coro_x_send_headers(corpc_ctx *ctx)
{
	coro_call        *c  = from_ctx(ctx);
	corpc_status_code rc = check_cancel(c);
	deliver_headers(c);
	return rc;
}

static bool
coro_x_is_cancelled(corpc_ctx *ctx)
{
	return check_cancel(from_ctx(ctx)) != CORPC_STATUS_OK;
}

static void
coro_x_cancel(corpc_ctx *ctx)
{
	request_cancel(from_ctx(ctx), CORPC_STATUS_CANCELLED);
}

static const corpc__ctx_ops coro_ctx_ops = {
    .x_send         = coro_x_send,
    .x_recv         = coro_x_recv,
    .x_send_headers = coro_x_send_headers,
    .x_is_cancelled = coro_x_is_cancelled,
    .x_cancel       = coro_x_cancel,
    .x_push_stopped = coro_x_push_stopped,
};

// ---- the client's side
// --------------------------------------------------------

// Records the final status once the handler is done and every message it
// sent has been handed out.
static void
end_from_handler(coro_call *c)
{
	corpc__inproc_end(&c->in, atomic_load(&c->cancel));
}

// Resumes the handler once; with a cancel pending its send/recv returns at
// once and it is expected to unwind.
static void
resume(coro_call *c)
{
	corpc__fiber_resume(&c->fiber);
}

// Cancels (if not done) and runs the handler to its end, so that its
// cleanup runs and its stack can be reused. A handler that keeps going
// after its sends fail is resumed until it returns.
static void
unwind(coro_call *c, corpc_status_code why)
{
	if (c->state == SRV_NOT_STARTED) {
		// Never entered: there is nothing to clean up.
		request_cancel(c, why);
		c->state = SRV_DONE;
		return;
	}
	if (c->state == SRV_DONE || c->state == SRV_NONE) {
		return;
	}
	request_cancel(c, why);
	while (c->state != SRV_DONE) {
		resume(c);
	}
}

// Prepares the coroutine (streaming) or runs the handler (unary).
static void
start_handler(coro_call *c, const corpc__handler *h, const corpc_metadata *md,
    const ProtobufCMessage *request)
{
	if (corpc__inproc_ctx_start(&c->in, &coro_ctx_ops, h, md) !=
	    CORPC_STATUS_OK) {
		corpc__stream_end(&c->in.st, CORPC_STATUS_RESOURCE_EXHAUSTED,
		    "out of memory starting the call");
		return;
	}
	corpc_status_code rc = check_cancel(c);
	if (rc != CORPC_STATUS_OK) {
		corpc__inproc_end_before_start(&c->in, rc);
		return;
	}
	if (h->method->kind == CORPC_RPC_UNARY) {
		// The request outlives the direct call, so no copy is needed.
		c->direct     = true;
		c->in.request = request;
		c->state = SRV_SENDING; // for handler_main's bookkeeping only
		handler_main(c);
		if (check_cancel(c) == CORPC_STATUS_DEADLINE_EXCEEDED) {
			c->outbox_len = 0; // a late reply is not a reply
		}
		return;
	}
	if (request != NULL) {
		// The handler keeps reading its request after open returns.
		rc = corpc__inproc_copy_request(&c->in, request);
		if (rc == CORPC_STATUS_INVALID_ARGUMENT) {
			corpc__stream_end(&c->in.st, rc,
			    "%s: request message nested deeper than %u",
			    c->in.st.method->path,
			    corpc__inproc_request_depth(&c->in));
			return;
		}
		if (rc != CORPC_STATUS_OK) {
			corpc__stream_end(&c->in.st, rc,
			    "out of memory copying the request");
			return;
		}
	}
	c->stacks = corpc__server_attachment(
	    c->in.srv, &stack_pool_key, stack_pool_create, stack_pool_destroy);
	corpc__stack *stack = c->stacks ? corpc__stack_get(c->stacks) : NULL;
	if (stack == NULL) {
		corpc__stream_end(&c->in.st, CORPC_STATUS_RESOURCE_EXHAUSTED,
		    "out of memory for a coroutine stack");
		return;
	}
	corpc__fiber_init(&c->fiber, stack, handler_main, c);
	c->state = SRV_NOT_STARTED;
}

static corpc_err
coro_s_open(void *state, corpc_channel *ch, const corpc_method *method,
    const corpc__open_args *a, const ProtobufCMessage *request,
    corpc_stream **out)
{
	coro_call *c = (coro_call *) corpc__inproc_call_get(
	    &call_pool, sizeof(coro_call), NULL, NULL);
	if (c == NULL) {
		return CORPC_ENOMEM;
	}
	if (corpc__inproc_open(&c->in, ch, method, a) != CORPC_OK) {
		corpc__inproc_call_put(&call_pool, &c->in, call_fini);
		return CORPC_ENOMEM;
	}
	c->stacks        = NULL;
	c->fiber.stack   = NULL;
	c->direct        = false;
	c->state         = SRV_NONE;
	c->outbox_head   = 0;
	c->outbox_len    = 0;
	c->client_closed = request != NULL;
	c->push_fn       = NULL;
	c->in.ctx.push   = NULL;
	c->push_stopped  = false;
	if (!c->inbox_ready) {
		for (unsigned i = 0; i < INBOX_SLOTS; i++) {
			corpc__arena_init_sized(
			    &c->inbox_arena[i], INBOX_ARENA_FIRST);
		}
		c->inbox_ready = true;
	}
	atomic_store(&c->cancel, 0);
	*out                    = &c->in.st;
	const corpc__handler *h = corpc__inproc_resolve_call(
	    &c->in, a, ((corpc__inproc_chan *) state)->name, &c->cancel);
	if (h != NULL) {
		start_handler(c, h, a->md, request);
	}
	return CORPC_OK;
}

// The deadlock of both sides waiting to receive on one thread: the call
// ends FAILED_PRECONDITION, naming the way out (`way_out`).
static void
end_both_receive(coro_call *c, const char *way_out)
{
	unwind(c, CORPC_STATUS_CANCELLED);
	corpc__stream_end(&c->in.st, CORPC_STATUS_FAILED_PRECONDITION,
	    "inproc coroutine handoff: client and server both wait to "
	    "receive; %s",
	    way_out);
}

// Lets the handler run until it offers a message, waits for input that the
// client cannot give from inside recv, or returns.
static corpc_status_code
coro_s_recv(corpc_stream *st, const ProtobufCMessage **msg)
{
	coro_call        *c  = (coro_call *) st;
	corpc_status_code rc = check_cancel(c);
	if (rc != CORPC_STATUS_OK) {
		unwind(c, rc);
		end_from_handler(c);
		return st->code;
	}
	for (;;) {
		if (c->outbox_len > 0) {
			*msg = c->outbox[c->outbox_head];
			c->outbox_head =
			    (c->outbox_head + 1) & (OUTBOX_CAP - 1);
			c->outbox_len--;
			return CORPC_STATUS_OK;
		}
		switch (c->state) {
		case SRV_NONE:
			return st->code; // ended at open
		case SRV_DONE:
			end_from_handler(c);
			return st->code;
		case SRV_RECEIVING:
			if (c->inbox_len == 0 && !c->client_closed) {
				end_both_receive(c,
				    "send first, or use "
				    "inproc://NAME?mode=thread");
				return st->code;
			}
			resume(c);
			break;
		case SRV_NOT_STARTED:
		case SRV_SENDING:
			resume(c);
			break;
		}
	}
}

// Whether the caller's stack has the room the server promises its
// handlers (stack_size): a task's coroutine stack may have less. A
// thread's own stack is taken to be large enough.
static bool
room_for_handler(const coro_call *c)
{
	const corpc__fiber *cur = corpc__self()->current;
	if (cur->stack == NULL) {
		return true;
	}
	// The frame, not a local: ASan may put locals on a fake stack.
	uintptr_t sp = (uintptr_t) __builtin_frame_address(0);
	return sp - (uintptr_t) cur->stack->bottom >= c->fiber.stack->size;
}

// Push-style receive. Messages already offered go first; then the handler
// runs with push_fn set, so that each send calls fn itself: a
// server-streaming handler not yet entered runs right here on the
// client's stack (no coroutine switch at all) when that has the room;
// one already running is resumed until it returns.
static bool
coro_s_recv_each(corpc_stream *st, corpc_recv_fn fn, void *arg)
{
	coro_call *c = (coro_call *) st;
	while (c->outbox_len > 0 && check_cancel(c) == CORPC_STATUS_OK) {
		const ProtobufCMessage *m = c->outbox[c->outbox_head];
		c->outbox_head = (c->outbox_head + 1) & (OUTBOX_CAP - 1);
		c->outbox_len--;
		if (!fn(arg, m)) {
			return true; // core's finish unwinds the handler
		}
	}
	if (c->state == SRV_NONE) {
		return false; // ended at open
	}
	c->push_fn  = fn;
	c->push_arg = arg;
	if (c->state == SRV_NOT_STARTED && c->in.request != NULL &&
	    check_cancel(c) == CORPC_STATUS_OK && room_for_handler(c)) {
		// Its recv never waits (one request), so it needs no stack
		// of its own, if the caller's has the room.
		c->state = SRV_SENDING;
		handler_main(c);
	}
	while (c->state != SRV_DONE) {
		corpc_status_code rc = check_cancel(c);
		if (rc != CORPC_STATUS_OK) {
			unwind(c, rc); // cancelled, expired or stopped
			break;
		}
		if (c->state == SRV_RECEIVING && c->inbox_len == 0 &&
		    !c->client_closed) {
			push_disarm(c);
			// No callback can send: another mode would wait
			// until the deadline.
			end_both_receive(c,
			    "send every request and close_send before "
			    "corpc_stream_recv_each");
			return false;
		}
		resume(c);
	}
	push_disarm(c);
	end_from_handler(c);
	return c->push_stopped;
}

static corpc_status_code
coro_s_send(corpc_stream *st, const ProtobufCMessage *msg, unsigned flags)
{
	(void) flags;
	coro_call        *c  = (coro_call *) st;
	corpc_status_code rc = check_cancel(c);
	if (rc != CORPC_STATUS_OK) {
		unwind(c, rc);
		end_from_handler(c);
		return st->code;
	}
	if (c->state == SRV_NONE) {
		return st->code;
	}
	if (c->state == SRV_DONE) {
		return CORPC_STATUS_FAILED_PRECONDITION; // handler finished
		                                         // early
	}
	if (c->inbox_len == INBOX_CAP) {
		unwind(c, CORPC_STATUS_CANCELLED);
		corpc__stream_end(st, CORPC_STATUS_RESOURCE_EXHAUSTED,
		    "inproc coroutine handoff: %d messages sent while the "
		    "server "
		    "waits for its own to be received; receive in between, or "
		    "use "
		    "inproc://NAME?mode=thread",
		    INBOX_CAP);
		return st->code;
	}
	bool     deep;
	unsigned slot = (c->inbox_head + c->inbox_len) % INBOX_SLOTS;
	c->inbox_used = true;
	ProtobufCMessage *copy =
	    corpc__msg_clone(msg, &c->inbox_arena[slot].alloc,
	        corpc__inproc_request_depth(&c->in), &deep);
	if (copy == NULL) {
		corpc__arena_reset(&c->inbox_arena[slot]); // a partial copy
	}
	if (copy == NULL && deep) {
		// The server refuses it, as it would after decoding it.
		unwind(c, CORPC_STATUS_CANCELLED);
		corpc__stream_end(st, CORPC_STATUS_INVALID_ARGUMENT,
		    "%s: request message nested deeper than %u",
		    st->method->path, corpc__inproc_request_depth(&c->in));
		return st->code;
	}
	if (copy == NULL) {
		return CORPC_STATUS_RESOURCE_EXHAUSTED;
	}
	c->inbox[slot] = copy;
	c->inbox_len++;
	// Run the handler if it can take the message now; one suspended in
	// send keeps its message alive until the client receives it.
	if (c->state == SRV_NOT_STARTED || c->state == SRV_RECEIVING) {
		resume(c);
	}
	return CORPC_STATUS_OK;
}

static corpc_status_code
coro_s_close_send(corpc_stream *st)
{
	coro_call *c     = (coro_call *) st;
	c->client_closed = true;
	if (c->state == SRV_RECEIVING && c->inbox_len == 0) {
		resume(c); // its recv returns end of input
	}
	return CORPC_STATUS_OK;
}

static void
coro_s_headers(corpc_stream *st)
{
	coro_call *c = (coro_call *) st;
	while (!st->headers_ready && !st->ended) {
		if (c->state == SRV_NONE) {
			return;
		}
		if (c->state == SRV_DONE || c->outbox_len > 0 ||
		    (c->state == SRV_RECEIVING && c->inbox_len == 0 &&
		        !c->client_closed)) {
			return; // headers come with the status, or not before
			        // input
		}
		if (check_cancel(c) != CORPC_STATUS_OK) {
			return;
		}
		resume(c);
	}
}

static void
coro_s_finish(corpc_stream *st, bool cancel)
{
	coro_call *c = (coro_call *) st;
	if (c->state == SRV_NONE) {
		return; // ended at open
	}
	if (!cancel && c->state != SRV_DONE) {
		// The single response arrived: let the handler finish
		// normally.
		while (
		    c->state == SRV_SENDING || c->state == SRV_NOT_STARTED) {
			resume(c);
		}
	}
	if (c->state != SRV_DONE) {
		unwind(c, CORPC_STATUS_CANCELLED);
	}
	end_from_handler(c);
}

static void
coro_s_cancel(corpc_stream *st)
{
	request_cancel((coro_call *) st, CORPC_STATUS_CANCELLED);
}

static void
coro_s_destroy(corpc_stream *st)
{
	coro_call *c = (coro_call *) st;
	if (c->fiber.stack != NULL) {
		corpc__fiber_fini(&c->fiber);
		corpc__stack_put(c->stacks, c->fiber.stack);
		c->fiber.stack = NULL;
	}
	inbox_clear(c);
	corpc__inproc_call_release(&call_pool, &c->in, call_fini);
}

static const corpc__channel_ops coro_channel_ops = {
    .c_open       = corpc__inproc_c_open,
    .c_close      = corpc__inproc_c_close,
    .c_state      = corpc__inproc_c_state,
    .s_open       = coro_s_open,
    .s_send       = coro_s_send,
    .s_close_send = coro_s_close_send,
    .s_recv       = coro_s_recv,
    .s_recv_each  = coro_s_recv_each,
    .s_headers    = coro_s_headers,
    .s_finish     = coro_s_finish,
    .s_cancel     = coro_s_cancel,
    .s_destroy    = coro_s_destroy,
};

// inproc://NAME, or ?mode=coro.
static bool
coro_t_serves(const corpc__address *addr)
{
	return corpc__inproc_mode_is(addr, "") ||
	       corpc__inproc_mode_is(addr, "coro");
}

const corpc__transport corpc__coro_transport = {
    .name        = "coro",
    .channel     = &coro_channel_ops,
    .listener    = &corpc__inproc_listener_ops,
    .t_serves    = coro_t_serves,
    .pull_driven = true, // the client's recv runs the handler
};
