// SPDX-License-Identifier: MIT
// gRPC transport, server side: listeners, calls, and their handlers.
//
// Every tcp:// and unix:// listener of one corpc_server shares one
// grpc_server (hung on the corpc_server as an attachment). Each worker of
// the server's runtime contributes its completion queue, with
// REQUESTS_PER_QUEUE grpc_server_request_call outstanding on it; a new call
// arrives on one worker and stays there: its tags complete on that worker,
// and its handler runs as a task on it (or on a thread of its own in
// thread-per-call mode) and parks while it waits for a batch. A call holds
// no thread while it waits: an idle stream costs its task's stack.
//
// Every call keeps RECV_CLOSE_ON_SERVER in flight, so a cancel, a
// disconnect or the deadline is seen when it happens, whatever the handler
// does. A call is released (back to the pool) when its handler has
// returned and its last batch completed: `refs` counts both.
//
// Shutdown (core drives it): l_stop = shutdown_and_notify; l_cancel =
// cancel_all_calls; l_wait waits for the shutdown tag, every withdrawn
// request and every call released. The queues belong to the runtime.
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/depth.h"
#include "core/freelist.h"
#include "core/server_impl.h"
#include "runtime/cond.h"
#include "runtime/event.h"
#include "core/detail.h"
#include "transport/grpc/grpc_acceptor.h"
#include "transport/grpc/grpc_common.h"
#include "transport/grpc/grpc_compress.h"
#include "transport/grpc/grpc_peer.h"

// Defaults of the server's options (server.h): streams a client may reset
// a second on one connection, concurrent streams per connection, and the
// memory quota.
#define CORPC__DEFAULT_MAX_RESETS   100
#define CORPC__DEFAULT_MAX_STREAMS  4096
#define CORPC__DEFAULT_MEMORY_QUOTA ((size_t) 1 << 30)

// Calls requested ahead on each worker's queue: a burst of new calls is
// taken without waiting for re-requests, and calls reach corpc (and the
// rapid-reset guard) sooner instead of waiting in gRPC's pending queue
// (measured: four flooding connections peaked at 500 MB with 256, 590-830
// MB with 16). Each costs an idle call object (a few hundred bytes).
#define REQUESTS_PER_QUEUE 256

typedef struct gsrv  gsrv;
typedef struct gcall gcall;

// One kind of batch of a call (at most one of each kind is in flight).
typedef struct gop {
	corpc__grpc_tag tag; // first: what the queue hands back
	gcall          *c;
	corpc__event    ev; // the handler waits on it
	bool            ok;
} gop;

// A worker's queue, as this server uses it.
typedef struct gqueue {
	gsrv                  *gs;
	corpc__worker         *w;
	grpc_completion_queue *cq;
} gqueue;

struct gcall {
	corpc_ctx            ctx; // first: core's view
	corpc__freelist_node node;
	gsrv                *gs;
	gqueue              *q;
	grpc_call           *call;
	grpc_call_details    details;
	grpc_metadata_array  req_md;
	corpc_metadata      *md; // request metadata, corpc entries only
	char                *path;
	size_t               path_cap;
	corpc__arena         arena; // received requests
	grpc_byte_buffer    *recv_bb;
	grpc_byte_buffer    *send_bb; // message of the send in flight
	corpc__grpc_mdvec    hdr_out;
	corpc__grpc_mdvec    trl_out;
	char                 why[512]; // status message when no handler runs
	gop             new_op, recv_op, send_op, hdr_op, status_op, close_op;
	corpc__pool_job job;         // thread-per-call
	atomic_int      refs;        // handler running + batches in flight
	bool            first_taken; // unary / server streaming: request read
	bool            send_pending;
	bool            half_closed;
	bool            dead;     // a batch failed: the call is gone
	bool            hdr_sent; // initial metadata went out
	int             close_cancelled;
	atomic_bool     close_done;  // RECV_CLOSE_ON_SERVER completed
	atomic_bool     cancel_req;  // x_cancel, a refused request, shutdown
	bool            got_message; // a request message arrived
	int             conn_fd;     // its connection (acceptor's), or -1
	bool            reset;       // by the client (on_close)
	int64_t         began;       // corpc_now() at the call's start
	int64_t         deadline;    // the client's (corpc_now() clock)
	corpc_peer      peer;        // looked up at the first corpc_ctx_peer
	void           *peer_mem;    // its strings
};

struct gsrv {
	corpc_server  *srv;
	grpc_server   *server;
	corpc_runtime *rt;
	unsigned       max_depth;  // of requests (depth.h)
	unsigned       max_resets; // the acceptor's guard; 0: none
	corpc__grpc_acceptor
	               *acceptor; // plaintext listeners (grpc_acceptor.h)
	gqueue         *queues;
	unsigned        nq;
	corpc__freelist pool; // released calls
	pthread_mutex_t mu;
	corpc__cond     cv;        // shutdown waits (a task may wait)
	unsigned        requested; // request_call outstanding
	size_t          alive;     // calls not yet released
	bool            started;
	bool            stopping;
	bool            shut_seen; // the shutdown tag arrived
	corpc__grpc_tag shutdown_tag;
};

static const char attachment_key = 0;

static const corpc__ctx_ops ctx_ops;

// ---- call objects ---------------------------------------------------------

static void on_op(corpc__grpc_tag *tag, bool ok);
static void on_new(corpc__grpc_tag *tag, bool ok);
static void on_close(corpc__grpc_tag *tag, bool ok);

static void
op_init(gop *op, gcall *c, void (*done)(corpc__grpc_tag *, bool))
{
	op->tag.done = done;
	op->c        = c;
}

static gcall *
call_new(gsrv *gs)
{
	corpc__freelist_node *n = corpc__freelist_get(&gs->pool, NULL, NULL);
	if (n != NULL) {
		return (gcall *) ((char *) n - offsetof(gcall, node));
	}
	gcall *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->gs = gs;
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->req_md);
	// Small at first: an idle stream holds its call, and most requests are
	// small; the arena grows to the largest request it has held.
	corpc__arena_init_sized(&c->arena, 256);
	if (corpc_metadata_create(&c->md) != CORPC_OK) {
		free(c);
		return NULL;
	}
	op_init(&c->new_op, c, on_new);
	op_init(&c->recv_op, c, on_op);
	op_init(&c->send_op, c, on_op);
	op_init(&c->hdr_op, c, on_op);
	op_init(&c->status_op, c, on_op);
	op_init(&c->close_op, c, on_close);
	return c;
}

static void
call_free(gcall *c)
{
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->req_md);
	corpc__arena_fini(&c->arena);
	corpc_metadata_destroy(c->md);
	corpc__grpc_mdvec_fini(&c->hdr_out);
	corpc__grpc_mdvec_fini(&c->trl_out);
	corpc__ctx_fini(&c->ctx);
	free(c->path);
	free(c);
}

// Notes a change the shutdown waits for. Caller holds gs->mu.
static void
changed(gsrv *gs)
{
	corpc__cond_broadcast(&gs->cv);
}

// True if the client reset the call (on_close saw it cancelled, neither
// by the server nor by the deadline) before it carried a message: what a
// rapid-reset flood does, and what a client that uses its streams seldom
// does (10,000 streams each used and dropped do not count).
static bool
reset_unused(gcall *c)
{
	return c->reset && !c->got_message;
}

// Handler gone and every batch completed: give the call back.
static void
call_release(gcall *c)
{
	gsrv *gs = c->gs;
	corpc__grpc_acceptor_call_ended(
	    gs->acceptor, c->conn_fd, c->began, reset_unused(c));
	grpc_call_unref(c->call);
	c->call = NULL;
	grpc_call_details_destroy(&c->details);
	grpc_call_details_init(&c->details);
	corpc__grpc_md_array_reset(&c->req_md);
	corpc__arena_trim(&c->arena, CORPC__GRPC_POOLED_ARENA_MAX);
	free(c->peer_mem);
	c->peer_mem = NULL;
	if (!corpc__freelist_put(&gs->pool, &c->node)) {
		call_free(c);
	}
	pthread_mutex_lock(&gs->mu);
	gs->alive--;
	changed(gs);
	pthread_mutex_unlock(&gs->mu);
}

static void
call_unref(gcall *c)
{
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		call_release(c);
	}
}

// Asks gRPC for the next call on queue q. Caller holds gs->mu.
static void
request_one(gqueue *q)
{
	gsrv  *gs = q->gs;
	gcall *c  = call_new(gs);
	if (c == NULL) {
		return; // fewer requests outstanding until memory returns
	}
	c->q = q;
	if (grpc_server_request_call(gs->server, &c->call, &c->details,
	        &c->req_md, q->cq, q->cq, &c->new_op.tag) == GRPC_CALL_OK) {
		gs->requested++;
	} else if (!corpc__freelist_put(&gs->pool, &c->node)) {
		call_free(c);
	}
}

// ---- batches --------------------------------------------------------------

static void
on_op(corpc__grpc_tag *tag, bool ok)
{
	gop   *op = (gop *) tag;
	gcall *c  = op->c;
	op->ok    = ok;
	corpc__event_set(&op->ev);
	call_unref(c);
}

// Starts a batch whose completion sets op->ev. False if gRPC refused it.
static bool
start_batch(gcall *c, const grpc_op *ops, size_t n, gop *op)
{
	corpc__event_reset(&op->ev);
	atomic_fetch_add(&c->refs, 1);
	if (grpc_call_start_batch(c->call, ops, n, &op->tag, NULL) !=
	    GRPC_CALL_OK) {
		atomic_fetch_sub(&c->refs, 1); // the handler still holds one
		return false;
	}
	return true;
}

// Waits for the batch of `op` (parking the handler); returns its success.
static bool
wait_op(gop *op)
{
	corpc__event_wait(&op->ev, CORPC_DEADLINE_NONE);
	return op->ok;
}

static bool
run_batch(gcall *c, const grpc_op *ops, size_t n, gop *op)
{
	return start_batch(c, ops, n, op) && wait_op(op);
}

// Why a call is gone. gRPC expires it by its own clock; ours was converted
// from it, so allow a millisecond of rounding.
static corpc_status_code
dead_code(gcall *c)
{
	int64_t dl = c->ctx.deadline;
	return dl != CORPC_DEADLINE_NONE && corpc_now() + 1000000 >= dl
	           ? CORPC_STATUS_DEADLINE_EXCEEDED
	           : CORPC_STATUS_CANCELLED;
}

// Waits for the send in flight, if any; false if it failed.
static bool
flush_send(gcall *c)
{
	if (!c->send_pending) {
		return true;
	}
	c->send_pending = false;
	bool ok         = wait_op(&c->send_op);
	grpc_byte_buffer_destroy(c->send_bb);
	c->send_bb = NULL;
	if (!ok) {
		c->dead = true;
	}
	return ok;
}

// Adds SEND_INITIAL_METADATA with `headers` to `op` unless already sent;
// returns the number of ops added.
static size_t
add_headers(gcall *c, grpc_op *op, const corpc_metadata *headers)
{
	if (c->hdr_sent) {
		return 0;
	}
	c->hdr_sent = true;
	if (corpc__grpc_mdvec_set(&c->hdr_out, headers) != CORPC_OK) {
		c->hdr_out.n = 0; // out of memory: send none rather than fail
	}
	// The responses' encoding rides on the headers (gRPC reads it there).
	corpc_compression how = c->ctx.send_compression;
	if (how == CORPC_COMPRESS_DEFAULT) {
		how = corpc__server_opts(c->gs->srv)->compression;
	}
	corpc__grpc_encoding_md enc = corpc__grpc_encoding_request(how);
	if (enc.key != NULL) {
		(void) corpc__grpc_mdvec_add_static(
		    &c->hdr_out, enc.key, enc.value);
	}
	memset(op, 0, sizeof(*op));
	op->op                               = GRPC_OP_SEND_INITIAL_METADATA;
	op->data.send_initial_metadata.count = c->hdr_out.n;
	op->data.send_initial_metadata.metadata = c->hdr_out.v;
	return 1;
}

// Starts the status batch (with the headers first, if they have not gone
// out: without them gRPC never writes the status). Not waited for: the
// call is released when it completes. `message` and the metadata lists
// must stay until then (they live in the call).
static void
reply(gcall *c, corpc_status_code code, const char *message,
    const corpc_metadata *headers, const corpc_metadata *trailers)
{
	flush_send(c);
	grpc_op ops[2];
	size_t  n = add_headers(c, &ops[0], headers);
	if (corpc__grpc_mdvec_set(&c->trl_out, trailers) != CORPC_OK) {
		c->trl_out.n = 0;
	}
	grpc_slice details = grpc_slice_from_static_string(message);
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.trailing_metadata_count =
	    c->trl_out.n;
	ops[n].data.send_status_from_server.trailing_metadata = c->trl_out.v;
	ops[n].data.send_status_from_server.status = (grpc_status_code) code;
	ops[n].data.send_status_from_server.status_details = &details;
	start_batch(c, ops, n + 1, &c->status_op);
}

static bool
takes_one_request(const corpc_method *m)
{
	return m->kind == CORPC_RPC_UNARY ||
	       m->kind == CORPC_RPC_SERVER_STREAMING;
}

// Receives the next message; *msg NULL at half-close. False when the call
// is gone (*refused OK) or the message is refused (*refused says why, and
// c->why in words): too deep (INVALID_ARGUMENT), bytes that do not parse
// (INTERNAL), or a compressed message that does not inflate within the
// limit (RESOURCE_EXHAUSTED, INTERNAL).
static bool
recv_one(gcall *c, const ProtobufCMessage **msg, corpc_status_code *refused)
{
	*msg     = NULL;
	*refused = CORPC_STATUS_OK;
	corpc__arena_reset(&c->arena);
	grpc_op op;
	memset(&op, 0, sizeof(op));
	op.op                             = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	c->recv_bb                        = NULL;
	if (!run_batch(c, &op, 1, &c->recv_op)) {
		if (c->recv_bb != NULL) {
			grpc_byte_buffer_destroy(c->recv_bb);
			c->recv_bb = NULL;
		}
		return false;
	}
	c->got_message = c->got_message || c->recv_bb != NULL;
	if (c->recv_bb == NULL) {
		// The end of input, or a call cancelled: gRPC completes the
		// receive "successfully" with no message either way.
		return !grpc_call_failed_before_recv_message(c->call);
	}
	const corpc_method *m = c->ctx.handler->method;
	char                why[256];
	*refused      = corpc__grpc_inflate(&c->recv_bb,
	         corpc__server_opts(c->gs->srv)->max_message_size,
	         &c->ctx.recv_compression, why, sizeof(why));
	bool too_deep = false;
	if (*refused == CORPC_STATUS_OK) {
		*msg = corpc__grpc_unpack(c->recv_bb, m->request, &c->arena,
		    c->gs->max_depth, &too_deep);
	}
	grpc_byte_buffer_destroy(c->recv_bb);
	c->recv_bb = NULL;
	if (*refused != CORPC_STATUS_OK) {
		snprintf(c->why, sizeof(c->why), "%s: %s", m->path, why);
	} else if (too_deep) {
		*refused = CORPC_STATUS_INVALID_ARGUMENT;
		snprintf(c->why, sizeof(c->why),
		    "%s: request message nested deeper than %u", m->path,
		    c->gs->max_depth);
	} else if (*msg == NULL) {
		*refused = CORPC_STATUS_INTERNAL;
		snprintf(c->why, sizeof(c->why),
		    "%s: failed to parse the request as %s", m->path,
		    m->request->name);
	}
	return *msg != NULL;
}

// ---- a new call -----------------------------------------------------------

static void
copy_path(gcall *c)
{
	size_t len = GRPC_SLICE_LENGTH(c->details.method);
	if (len + 1 > c->path_cap) {
		char *p = realloc(c->path, len + 1);
		if (p == NULL) {
			len = c->path_cap ? c->path_cap - 1 : 0;
		} else {
			c->path     = p;
			c->path_cap = len + 1;
		}
	}
	if (c->path != NULL) {
		memcpy(c->path, GRPC_SLICE_START_PTR(c->details.method), len);
		c->path[len] = '\0';
	}
}

static void
on_close(corpc__grpc_tag *tag, bool ok)
{
	(void) ok;
	gcall *c = ((gop *) tag)->c;
	atomic_store(&c->close_done, true);
	// For the rapid-reset guard, at the last moment gRPC still names the
	// call's connection.
	c->reset = c->close_cancelled && !atomic_load(&c->cancel_req) &&
	           (c->deadline == CORPC_DEADLINE_NONE ||
	               corpc_now() + 1000000 < c->deadline);
	if (c->gs->acceptor != NULL && c->gs->max_resets > 0) {
		c->conn_fd = corpc__grpc_acceptor_call_fd(c->call);
	}
	if (c->close_cancelled) {
		corpc__ctx_cancelled(
		    &c->ctx); // calls the handler made end too
	}
	call_unref(c);
}

// The handler's task (or thread): runs it, replies, lets go of the call.
static void
handler_main(void *arg)
{
	gcall            *c    = arg;
	corpc_status_code code = corpc__ctx_run(&c->ctx);
	reply(c, code, corpc__strbuf_get(&c->ctx.message), c->ctx.headers,
	    c->ctx.trailers);
	corpc__server_call_end(c->gs->srv, &c->ctx);
	call_unref(c);
}

// Sets up a call that just arrived on its worker and starts its handler,
// or answers it at once (unknown method, limits, shutdown).
static void
call_start(gcall *c)
{
	gsrv *gs = c->gs;
	atomic_store(&c->refs, 1); // ours until the end of this function
	c->first_taken     = false;
	c->send_pending    = false;
	c->half_closed     = false;
	c->dead            = false;
	c->hdr_sent        = false;
	c->got_message     = false;
	c->conn_fd         = -1;
	c->close_cancelled = 0;
	atomic_store(&c->close_done, false);
	atomic_store(&c->cancel_req, false);
	copy_path(c);
	corpc_metadata_clear(c->md);
	corpc__grpc_md_import(c->md, &c->req_md);
	int64_t deadline = corpc__grpc_deadline_from(c->details.deadline);
	c->deadline      = deadline;
	c->began         = corpc_now();

	grpc_op close_op;
	memset(&close_op, 0, sizeof(close_op));
	close_op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	close_op.data.recv_close_on_server.cancelled = &c->close_cancelled;
	start_batch(c, &close_op, 1, &c->close_op);

	const corpc__handler *h =
	    c->path != NULL ? corpc__server_find(gs->srv, NULL, c->path)
	                    : NULL;
	corpc_status_code rc;
	if (h == NULL) {
		// Through the interceptors first: no method list for
		// strangers.
		rc = corpc__server_unknown_method(gs->srv,
		    c->path != NULL ? c->path : "", c->md, deadline, c->why,
		    sizeof(c->why));
		reply(c, rc, c->why, NULL, NULL);
	} else if (corpc__ctx_init(&c->ctx, &ctx_ops, h, c->md, deadline) !=
	           CORPC_OK) {
		reply(c, CORPC_STATUS_RESOURCE_EXHAUSTED,
		    "server out of memory", NULL, NULL);
	} else if ((rc = corpc__server_call_begin(gs->srv, &c->ctx, c->why,
	                sizeof(c->why))) != CORPC_STATUS_OK) {
		reply(c, rc, c->why, NULL, NULL);
	} else {
		atomic_fetch_add(&c->refs, 1); // the handler's
		corpc_err rv = corpc__server_run(
		    gs->srv, c->q->w, handler_main, c, &c->job);
		if (rv != CORPC_OK) {
			atomic_fetch_sub(&c->refs, 1);
			corpc__server_call_end(gs->srv, &c->ctx);
			snprintf(c->why, sizeof(c->why),
			    "server cannot start a handler: %s",
			    corpc_strerror(rv));
			reply(c, CORPC_STATUS_RESOURCE_EXHAUSTED, c->why, NULL,
			    NULL);
		}
	}
	call_unref(c);
}

static void
on_new(corpc__grpc_tag *tag, bool ok)
{
	gcall *c  = ((gop *) tag)->c;
	gsrv  *gs = c->gs;
	if (!ok) {
		// Shutting down: the request was withdrawn. Pool it first: the
		// count below is what lets the server be destroyed.
		if (!corpc__freelist_put(&gs->pool, &c->node)) {
			call_free(c);
		}
	}
	pthread_mutex_lock(&gs->mu);
	gs->requested--;
	if (ok) {
		gs->alive++;
		if (!gs->stopping) {
			request_one(
			    c->q); // keep the queue's requests topped up
		}
	}
	changed(gs);
	pthread_mutex_unlock(&gs->mu);
	if (ok) {
		call_start(c);
	}
}

// ---- ctx ops
// ----------------------------------------------------------------

static gcall *
call_of(corpc_ctx *ctx)
{
	return (gcall *) ctx;
}

static corpc_status_code
x_send(corpc_ctx *ctx, const ProtobufCMessage *msg, unsigned flags)
{
	gcall *c = call_of(ctx);
	if (!flush_send(c) || c->dead) {
		return dead_code(c);
	}
	grpc_byte_buffer *bb = corpc__grpc_pack(msg);
	if (bb == NULL) {
		return CORPC_STATUS_RESOURCE_EXHAUSTED;
	}
	grpc_op ops[2];
	size_t  n = add_headers(c, &ops[0], ctx->headers);
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].op = GRPC_OP_SEND_MESSAGE;
	// The hint would hold the headers back too, and their op completes
	// only once they are written: never hint the message that carries
	// them.
	ops[n].flags =
	    ((flags & CORPC_WRITE_MORE) && n == 0 ? GRPC_WRITE_BUFFER_HINT
	                                          : 0) |
	    ((flags & CORPC_WRITE_NO_COMPRESS) ? GRPC_WRITE_NO_COMPRESS : 0);
	ops[n].data.send_message.send_message = bb;
	// Not waited for here: the next send, the headers or the status wait,
	// so packing the next message overlaps the write of this one. `msg` is
	// already packed, so it is not retained.
	if (!start_batch(c, ops, n + 1, &c->send_op)) {
		grpc_byte_buffer_destroy(bb);
		c->dead = true;
		return dead_code(c);
	}
	c->send_bb      = bb;
	c->send_pending = true;
	return CORPC_STATUS_OK;
}

// The one request of a unary or server-streaming call, read when the
// handler first asks for it: a request that does not parse never reaches
// the handler, and a call whose request never comes holds only its task.
static corpc_status_code
recv_first(gcall *c, const ProtobufCMessage **msg)
{
	const corpc_method *m = c->ctx.handler->method;
	corpc_status_code   refused;
	c->first_taken = true;
	if (!recv_one(c, msg, &refused)) {
		if (refused != CORPC_STATUS_OK) {
			return corpc_ctx_status(&c->ctx, refused, c->why);
		}
		c->dead = true;
		return dead_code(c);
	}
	if (*msg == NULL) {
		return corpc_ctx_error(&c->ctx, CORPC_STATUS_INTERNAL,
		    "%s: no request message", m->path);
	}
	return CORPC_STATUS_OK;
}

static corpc_status_code
x_recv(corpc_ctx *ctx, const ProtobufCMessage **msg)
{
	gcall *c = call_of(ctx);
	*msg     = NULL;
	if (takes_one_request(ctx->handler->method)) {
		// After the one request, the request stream has ended.
		return c->first_taken ? CORPC_STATUS_OK : recv_first(c, msg);
	}
	if (c->half_closed) {
		return CORPC_STATUS_OK;
	}
	if (c->dead) {
		return dead_code(c);
	}
	corpc_status_code refused;
	if (recv_one(c, msg, &refused)) {
		c->half_closed = *msg == NULL;
		return CORPC_STATUS_OK;
	}
	c->dead = true;
	if (refused != CORPC_STATUS_OK) {
		// The client learns why; the handler sees its call gone.
		atomic_store(&c->cancel_req, true);
		grpc_call_cancel_with_status(
		    c->call, (grpc_status_code) refused, c->why, NULL);
		return CORPC_STATUS_CANCELLED;
	}
	return dead_code(c);
}

static corpc_status_code
x_send_headers(corpc_ctx *ctx)
{
	gcall  *c = call_of(ctx);
	grpc_op op;
	if (!flush_send(c) || c->dead) {
		return dead_code(c);
	}
	if (add_headers(c, &op, ctx->headers) == 0) {
		return CORPC_STATUS_OK;
	}
	if (!run_batch(c, &op, 1, &c->hdr_op)) {
		c->dead = true;
		return dead_code(c);
	}
	return CORPC_STATUS_OK;
}

static bool
x_is_cancelled(corpc_ctx *ctx)
{
	gcall *c = call_of(ctx);
	// close_done turns true when the event arrives (RECV_CLOSE_ON_SERVER
	// completes early only when the call was cancelled or its client
	// left).
	return c->dead || atomic_load(&c->cancel_req) ||
	       corpc_now() >= ctx->deadline ||
	       (atomic_load(&c->close_done) && c->close_cancelled);
}

static void
x_cancel(corpc_ctx *ctx)
{
	gcall *c = call_of(ctx);
	atomic_store(&c->cancel_req, true);
	grpc_call_cancel(c->call, NULL);
}

static corpc_err
x_peer(corpc_ctx *ctx, corpc_peer *out)
{
	gcall *c = (gcall *) ctx;
	if (c->peer_mem == NULL) {
		char        buf[CORPC__ADDR_MAX];
		int         fd    = corpc__grpc_acceptor_call_fd(c->call);
		const char *known = corpc__grpc_acceptor_peer(c->gs->acceptor,
		                        fd, c->began, buf, sizeof(buf))
		                        ? buf
		                        : NULL;
		corpc_err   rv =
		    corpc__grpc_peer(c->call, known, &c->peer, &c->peer_mem);
		if (rv != CORPC_OK) {
			return rv;
		}
	}
	*out = c->peer;
	return CORPC_OK;
}

static const corpc__ctx_ops ctx_ops = {
    .x_send         = x_send,
    .x_recv         = x_recv,
    .x_send_headers = x_send_headers,
    .x_is_cancelled = x_is_cancelled,
    .x_cancel       = x_cancel,
    .x_peer         = x_peer,
};

// ---- the attachment
// ---------------------------------------------------------

static void
on_shutdown(corpc__grpc_tag *tag, bool ok)
{
	(void) ok;
	gsrv *gs = (gsrv *) ((char *) tag - offsetof(gsrv, shutdown_tag));
	pthread_mutex_lock(&gs->mu);
	gs->shut_seen = true;
	changed(gs);
	pthread_mutex_unlock(&gs->mu);
}

static void *
gsrv_create(corpc_server *srv)
{
	gsrv *gs = calloc(1, sizeof(*gs));
	if (gs == NULL) {
		return NULL;
	}
	corpc__grpc_ref();
	gs->srv  = srv;
	gs->pool = (corpc__freelist) CORPC__FREELIST_INIT(4096);
	pthread_mutex_init(&gs->mu, NULL);
	gs->cv                        = (corpc__cond) CORPC__COND_INIT;
	gs->shutdown_tag.done         = on_shutdown;
	const corpc_server_opts *opts = corpc__server_opts(srv);
	gs->max_depth = corpc__depth_limit(opts->max_message_depth);
	// gRPC's memory quota (its default has no limit); every connection
	// of this server draws on it.
	grpc_resource_quota *quota = NULL;
	if (opts->memory_quota != SIZE_MAX) {
		quota = grpc_resource_quota_create("corpc server");
		if (quota != NULL) {
			grpc_resource_quota_resize(
			    quota, opts->memory_quota > 0
			               ? opts->memory_quota
			               : CORPC__DEFAULT_MEMORY_QUOTA);
		}
	}
	corpc__grpc_conn conn = {
	    .server      = true,
	    .max_message = opts->max_message_size,
	    .max_streams = opts->max_streams_per_connection == UINT_MAX ? 0
	                   : opts->max_streams_per_connection > 0
	                       ? opts->max_streams_per_connection
	                       : CORPC__DEFAULT_MAX_STREAMS,
	    .quota       = quota,
	    .min_ping_interval_ms = opts->min_ping_interval_ms,
	    .keepalive            = opts->keepalive,
	    .user                 = opts->grpc_args,
	    .user_count           = opts->grpc_arg_count,
	};
	corpc__grpc_argv argv;
	corpc_err        rv = corpc__grpc_argv_build(&argv, &conn);
	if (quota != NULL && rv != CORPC_OK) {
		grpc_resource_quota_unref(quota);
	}
	if (rv != CORPC_OK) {
		pthread_mutex_destroy(&gs->mu);
		free(gs);
		corpc__grpc_unref();
		return NULL;
	}
	grpc_channel_args cargs = {.num_args = argv.n, .args = argv.args};
	gs->server = grpc_server_create(&cargs, NULL); // copies the args
	corpc__grpc_argv_fini(&argv);
	if (quota != NULL) {
		grpc_resource_quota_unref(quota); // the server holds its own
	}
	if (gs->server == NULL) {
		pthread_mutex_destroy(&gs->mu);
		free(gs);
		corpc__grpc_unref();
		return NULL;
	}
	return gs;
}

// Waits until the shutdown has fully drained, or `until` passes.
static void
gsrv_wait(gsrv *gs, int64_t until)
{
	pthread_mutex_lock(&gs->mu);
	while (gs->started &&
	       (!gs->shut_seen || gs->requested > 0 || gs->alive > 0) &&
	       (until == CORPC_DEADLINE_NONE || corpc_now() < until)) {
		corpc__cond_wait(&gs->cv, &gs->mu, until);
	}
	pthread_mutex_unlock(&gs->mu);
}

static void
gsrv_destroy(void *p)
{
	gsrv *gs = p;
	gsrv_wait(gs, CORPC_DEADLINE_NONE); // core shut it down if it started
	if (!gs->started) {
		// gRPC destroys a server with ports only after a shutdown; one
		// that never started has no queue of ours, so give it one to
		// notify.
		grpc_completion_queue *cq =
		    grpc_completion_queue_create_for_pluck(NULL);
		char tag;
		grpc_server_shutdown_and_notify(gs->server, cq, &tag);
		grpc_completion_queue_pluck(
		    cq, &tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		corpc__grpc_cq_destroy(cq);
	}
	corpc__grpc_acceptor_destroy(gs->acceptor);
	grpc_server_destroy(gs->server);
	corpc__freelist_node *n;
	while ((n = corpc__freelist_get(&gs->pool, NULL, NULL)) != NULL) {
		call_free((gcall *) ((char *) n - offsetof(gcall, node)));
	}
	free(gs->queues);
	pthread_mutex_destroy(&gs->mu);
	free(gs);
	corpc__grpc_unref();
}

// ---- listener ops
// -----------------------------------------------------------

// True if something accepts connections on the unix socket at `path`.
static bool
unix_in_use(const char *path)
{
	struct sockaddr_un sa;
	size_t             len = strlen(path);
	if (len >= sizeof(sa.sun_path)) {
		return false;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return false;
	}
	bool used = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
	close(fd);
	return used;
}

// A socket can only be made in a directory that exists and that we may
// write to: say so before gRPC says only "system call failed".
static bool
unix_dir_usable(const char *path)
{
	char        dir[CORPC__ADDR_MAX];
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int) (slash - path), path);
	}
	struct stat st;
	if (stat(dir, &st) != 0) {
		corpc__detail_set("directory %s: %s", dir, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		corpc__detail_set("%s is not a directory", dir);
		return false;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		corpc__detail_set("directory %s: %s", dir, strerror(errno));
		return false;
	}
	return true;
}

// gRPC says only "0" when a bind fails: find out why with a bind of our own.
static corpc_err
tcp_bind_error(const corpc__address *addr)
{
	char port[8];
	snprintf(port, sizeof(port), "%d", addr->port);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags    = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(addr->host, port, &hints, &res) != 0) {
		return CORPC_EADDRINVAL;
	}
	corpc_err rv = CORPC_ESYS;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		int fd =
		    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			corpc__detail_set("bind %s:%s: %s", addr->host, port,
			    strerror(errno));
			if (errno == EADDRINUSE) {
				rv = CORPC_EADDRINUSE;
			}
		}
		close(fd);
	}
	freeaddrinfo(res);
	return rv;
}

// The address a listener ended up on, as corpc_server_address shows it.
static void
bound_name(const corpc__address *addr, int port, char *bound, size_t size)
{
	if (addr->scheme == CORPC__SCHEME_TCP) {
		bool v6 = strchr(addr->host, ':') != NULL;
		snprintf(bound, size, v6 ? "tcp://[%s]:%d" : "tcp://%s:%d",
		    addr->host, port);
	} else {
		snprintf(bound, size, "unix:%s%s",
		    addr->host[0] == '/' ? "//" : "", addr->host);
	}
}

static corpc_err
l_listen(corpc_server *srv, const corpc__address *addr, void **state,
    char *bound, size_t bound_size)
{
	gsrv *gs = corpc__server_attachment(
	    srv, &attachment_key, gsrv_create, gsrv_destroy);
	if (gs == NULL) {
		return CORPC_ENOMEM;
	}
	if (addr->scheme == CORPC__SCHEME_UNIX) {
		if (unix_in_use(addr->host)) {
			corpc__detail_set(
			    "%s: a server listens there", addr->host);
			return CORPC_EADDRINUSE; // gRPC would unlink the live
			                         // socket
		}
		if (!unix_dir_usable(addr->host)) {
			return CORPC_ESYS;
		}
	}
	// TLS on tcp:// only: a unix:// socket stays plaintext (tls.h).
	const corpc_tls_server  *tls = addr->scheme == CORPC__SCHEME_TCP
	                                   ? corpc__server_opts(srv)->tls
	                                   : NULL;
	grpc_server_credentials *sc;
	corpc_err                rv = corpc__grpc_tls_server_creds(tls, &sc);
	if (rv != CORPC_OK) {
		return rv;
	}
	if (tls == NULL) {
		// Plaintext: corpc's own listener, which survives EMFILE.
		grpc_server_credentials_release(sc);
		int port = 0;
		if (gs->acceptor == NULL &&
		    (gs->acceptor = corpc__grpc_acceptor_create()) == NULL) {
			return CORPC_ENOMEM;
		}
		if ((rv = corpc__grpc_acceptor_add(
		         gs->acceptor, addr, &port)) != CORPC_OK) {
			return rv;
		}
		bound_name(addr, port, bound, bound_size);
		*state = gs;
		return CORPC_OK;
	}
	corpc__detail_capture(true); // gRPC says why only in its log
	int port = grpc_server_add_http2_port(gs->server, addr->target, sc);
	corpc__detail_capture(false);
	grpc_server_credentials_release(sc);
	if (port == 0) {
		return addr->scheme == CORPC__SCHEME_TCP ? tcp_bind_error(addr)
		                                         : CORPC_ESYS;
	}
	bound_name(addr, port, bound, bound_size);
	*state = gs;
	return CORPC_OK;
}

static corpc_err
l_start(void *state)
{
	gsrv *gs = state;
	if (gs->started) {
		return CORPC_OK; // one grpc_server serves every listener
	}
	gs->rt = corpc_server_runtime(gs->srv);
	if (gs->rt == NULL) {
		return CORPC_ENOMEM;
	}
	gs->nq     = corpc__runtime_threads(gs->rt);
	gs->queues = calloc(gs->nq, sizeof(*gs->queues));
	if (gs->queues == NULL) {
		return CORPC_ENOMEM;
	}
	for (unsigned i = 0; i < gs->nq; i++) {
		gqueue *q = &gs->queues[i];
		q->gs     = gs;
		q->w      = corpc__runtime_worker(gs->rt, i);
		q->cq     = corpc__grpc_worker_cq(q->w);
		if (q->cq == NULL) {
			return CORPC_ENOMEM;
		}
		// Before grpc_server_start, as gRPC requires.
		grpc_server_register_completion_queue(gs->server, q->cq, NULL);
	}
	grpc_server_start(gs->server);
	if (gs->acceptor != NULL) {
		unsigned resets =
		    corpc__server_opts(gs->srv)->max_resets_per_connection;
		gs->max_resets = resets == 0 ? CORPC__DEFAULT_MAX_RESETS
		                 : resets == UINT_MAX ? 0
		                                      : resets;
		corpc_err rv   = corpc__grpc_acceptor_start(
		      gs->acceptor, gs->server, gs->max_resets);
		if (rv != CORPC_OK) {
			return rv;
		}
	}
	pthread_mutex_lock(&gs->mu);
	gs->started = true;
	for (unsigned i = 0; i < gs->nq; i++) {
		for (int k = 0; k < REQUESTS_PER_QUEUE; k++) {
			request_one(&gs->queues[i]);
		}
	}
	pthread_mutex_unlock(&gs->mu);
	return CORPC_OK;
}

static void
l_stop(void *state)
{
	gsrv *gs = state;
	pthread_mutex_lock(&gs->mu);
	bool first   = gs->started && !gs->stopping;
	gs->stopping = true;
	pthread_mutex_unlock(&gs->mu);
	if (first) {
		// No new connections; then new calls are refused, and
		// requested ones come back withdrawn.
		corpc__grpc_acceptor_stop(gs->acceptor);
		grpc_server_shutdown_and_notify(
		    gs->server, gs->queues[0].cq, &gs->shutdown_tag);
	}
}

static void
l_cancel(void *state)
{
	gsrv *gs = state;
	if (gs->started) {
		grpc_server_cancel_all_calls(gs->server);
	}
}

static void
l_drain(void *state, int64_t until)
{
	gsrv_wait(state, until);
}

static void
l_wait(void *state)
{
	gsrv_wait(state, CORPC_DEADLINE_NONE);
}

static void
l_destroy(void *state)
{
	(void) state; // the attachment goes with the server
}

const corpc__listener_ops corpc__grpc_listener_ops = {
    .l_listen  = l_listen,
    .l_start   = l_start,
    .l_stop    = l_stop,
    .l_drain   = l_drain,
    .l_cancel  = l_cancel,
    .l_wait    = l_wait,
    .l_destroy = l_destroy,
};
