// SPDX-License-Identifier: MIT
// gRPC transport, client side: channels and streams.
//
// Each operation starts one batch and waits for it. How it waits depends on
// where the stream was opened:
// - inside a task: the call is bound to that worker's completion queue and
//   the waiter parks; the worker's poller completes the batch and unparks
//   it, so a task waiting for a response never blocks its thread;
// - on a plain thread: the stream owns a pluck queue and plucks its tag,
//   as gRPC C++'s synchronous API does.
// Batches:
// - open: SEND_INITIAL_METADATA (+ the request and half-close for unary and
//   server streaming; a unary call also puts every receive op here, so it
//   costs one batch in all);
// - recv: RECV_MESSAGE (+ RECV_INITIAL_METADATA the first time);
// - status: RECV_STATUS_ON_CLIENT, started at the end of the stream. gRPC
//   completes it only once every response has been read, unless the call
//   failed.
// Finished streams go back to a per-channel pool with their queue, arena
// and metadata arrays, so a steady stream of calls allocates little.
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/support/alloc.h>

#include "core/depth.h"
#include "core/metadata_impl.h"
#include "runtime/event.h"
#include "transport/grpc/grpc_common.h"
#include "transport/grpc/grpc_compress.h"

#define POOL_MAX 64

typedef struct gchannel gchannel;

// One kind of batch of a stream (one of each kind in flight at most).
typedef struct gsop {
	corpc__grpc_tag tag; // first: the tag handed to gRPC
	corpc__event    ev;  // next mode: set when it completes
	bool            ok;
} gsop;

typedef struct gstream {
	corpc_stream           base; // first: core's view
	gchannel              *gch;
	struct gstream        *next_free;
	grpc_completion_queue *cq; // the call's queue: pluck_cq or a worker's
	grpc_completion_queue
	               *pluck_cq;  // owned, made on first plain-thread use
	bool            next_mode; // cq is a worker's: park on events
	gsop            open_op, send_op, close_op, recv_op, hdr_op, status_op;
	pthread_mutex_t mu; // guards `call` against s_cancel
	grpc_call      *call;
	corpc__arena    arena;      // received messages
	corpc_metadata *req_md;     // copy of the request metadata
	corpc__grpc_mdvec   md_out; // borrows from req_md
	grpc_metadata_array init_md;
	grpc_metadata_array trail_md;
	grpc_byte_buffer   *open_bb;
	grpc_byte_buffer   *recv_bb;
	grpc_byte_buffer   *send_bb; // message of the send in flight
	grpc_status_code    status;
	grpc_slice          details;
	const char         *error_string;  // gRPC's own account (gpr_free)
	atomic_bool         cancelled;     // s_cancel was called
	bool                open_pending;  // open batch not plucked yet
	bool                close_pending; // half-close batch not plucked
	bool                send_pending;  // a send batch is in flight
	bool                hdr_started;   // RECV_INITIAL_METADATA started
	bool                hdr_taken;     // headers copied to base.headers
	bool                status_started;
	bool                status_done;
	bool                send_dead;   // a send failed: the call is over
	bool                unary;       // every op is in the open batch
	bool                unary_taken; // its response was handed out
} gstream;

struct gchannel {
	grpc_channel   *channel;
	bool            tcp;         // tcp:// (unix:// never uses TLS)
	bool            tls;         // TLS credentials (tcp:// with opts->tls)
	unsigned        max_depth;   // of responses (depth.h)
	size_t          max_message; // inflated responses at most
	pthread_mutex_t mu;          // guards the pool
	gstream        *pool;
	size_t          pooled;
};

// ---- batches ------------------------------------------------------------

// Next mode: the worker completed a batch.
static void
op_done(corpc__grpc_tag *tag, bool ok)
{
	gsop *op = (gsop *) tag;
	op->ok   = ok;
	corpc__event_set(&op->ev);
}

// Starts a batch whose completion is `op`.
static grpc_call_error
op_start(gstream *st, const grpc_op *ops, size_t n, gsop *op)
{
	corpc__event_reset(&op->ev);
	return grpc_call_start_batch(st->call, ops, n, &op->tag, NULL);
}

// Waits for `op` until `until` (corpc_now() clock; CORPC_DEADLINE_NONE: no
// limit; 0: just look). True once it completed, with op->ok set.
static bool
op_wait(gstream *st, gsop *op, int64_t until)
{
	if (st->next_mode) {
		return corpc__event_wait(&op->ev, until);
	}
	gpr_timespec t = until == CORPC_DEADLINE_NONE
	                     ? gpr_inf_future(GPR_CLOCK_MONOTONIC)
	                 : until <= 0 ? gpr_inf_past(GPR_CLOCK_MONOTONIC)
	                              : corpc__grpc_deadline_to(until);
	grpc_event ev = grpc_completion_queue_pluck(st->cq, &op->tag, t, NULL);
	if (ev.type != GRPC_OP_COMPLETE) {
		return false;
	}
	op->ok = ev.success != 0;
	return true;
}

// Waits for `op` with no limit; returns its success.
static bool
op_finish(gstream *st, gsop *op)
{
	op_wait(st, op, CORPC_DEADLINE_NONE);
	return op->ok;
}

// ---- stream pool --------------------------------------------------------

static void
stream_free(gstream *st)
{
	if (st->pluck_cq != NULL) {
		corpc__grpc_cq_destroy(st->pluck_cq);
	}
	corpc__arena_fini(&st->arena);
	corpc_metadata_destroy(st->req_md);
	corpc__grpc_mdvec_fini(&st->md_out);
	grpc_metadata_array_destroy(&st->init_md);
	grpc_metadata_array_destroy(&st->trail_md);
	pthread_mutex_destroy(&st->mu);
	corpc__stream_fini(&st->base);
	free(st);
}

static gstream *
stream_get(gchannel *g)
{
	pthread_mutex_lock(&g->mu);
	gstream *st = g->pool;
	if (st != NULL) {
		g->pool = st->next_free;
		g->pooled--;
	}
	pthread_mutex_unlock(&g->mu);
	if (st != NULL) {
		return st;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		return NULL;
	}
	st->gch = g;
	pthread_mutex_init(&st->mu, NULL);
	corpc__arena_init(&st->arena);
	grpc_metadata_array_init(&st->init_md);
	grpc_metadata_array_init(&st->trail_md);
	st->details = grpc_empty_slice();
	gsop *ops[] = {&st->open_op, &st->send_op, &st->close_op, &st->recv_op,
	    &st->hdr_op, &st->status_op};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		ops[i]->tag.done = op_done;
	}
	if (corpc_metadata_create(&st->req_md) != CORPC_OK) {
		stream_free(st);
		return NULL;
	}
	return st;
}

static void
stream_put(gchannel *g, gstream *st)
{
	pthread_mutex_lock(&g->mu);
	bool keep = g->pooled < POOL_MAX;
	if (keep) {
		st->next_free = g->pool;
		g->pool       = st;
		g->pooled++;
	}
	pthread_mutex_unlock(&g->mu);
	if (!keep) {
		stream_free(st);
	}
}

// ---- status and headers -------------------------------------------------

// Starts RECV_STATUS_ON_CLIENT once (a unary call has it in its open batch).
static void
start_status(gstream *st)
{
	if (st->status_started) {
		return;
	}
	grpc_op op;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	op.data.recv_status_on_client.trailing_metadata = &st->trail_md;
	op.data.recv_status_on_client.status            = &st->status;
	op.data.recv_status_on_client.status_details    = &st->details;
	op.data.recv_status_on_client.error_string      = &st->error_string;
	if (op_start(st, &op, 1, &st->status_op) == GRPC_CALL_OK) {
		st->status_started = true;
	} else {
		// Cannot happen with one status op per call; fail safe.
		st->status_started = st->status_done = true;
		st->status                           = GRPC_STATUS_INTERNAL;
	}
}

// Waits until `until` (as op_wait) for the call's status; true once it is
// known.
static bool
wait_status(gstream *st, int64_t until)
{
	if (st->status_done) {
		return true;
	}
	start_status(st);
	if (st->status_done) {
		return true;
	}
	if (!op_wait(st, st->unary ? &st->open_op : &st->status_op, until)) {
		return false;
	}
	if (st->unary) {
		st->open_pending = false;
	}
	st->status_done = true;
	return true;
}

static int64_t
forever(void)
{
	return CORPC_DEADLINE_NONE;
}

static int64_t
in_ms(int ms)
{
	return corpc_now() + (int64_t) ms * 1000000;
}

#define NOW_ONLY 0 // op_wait: look without waiting

// Copies received headers once RECV_INITIAL_METADATA has completed.
static void
take_headers(gstream *st)
{
	if (!st->hdr_taken) {
		st->hdr_taken = true;
		corpc__grpc_md_import(st->base.headers, &st->init_md);
	}
}

// True if the status details are exactly `text`.
static bool
details_are(const gstream *st, const char *text)
{
	size_t n = strlen(text);
	return GRPC_SLICE_LENGTH(st->details) == n &&
	       memcmp(GRPC_SLICE_START_PTR(st->details), text, n) == 0;
}

// Ends the stream with the received status (known) and trailers. The
// statuses gRPC makes up locally for a deadline or a cancel get the words
// the in-process transports use, so every transport reads the same.
static corpc_status_code
end_status(gstream *st)
{
	if (!st->base.ended) {
		corpc__grpc_md_import(st->base.trailers, &st->trail_md);
		corpc_status_code code = corpc__grpc_code(st->status);
		const char       *text =
		    (const char *) GRPC_SLICE_START_PTR(st->details);
		size_t      len    = GRPC_SLICE_LENGTH(st->details);
		const char *prefix = "", *suffix = "";
		if (code == CORPC_STATUS_UNAVAILABLE && st->gch->tcp &&
		    corpc__grpc_tls_explain(st->gch->tls, &text, &len,
		        st->error_string, st->init_md.count == 0, &prefix,
		        &suffix)) {
			corpc__stream_end(&st->base, code, "%s%.*s%s", prefix,
			    (int) len, text, suffix);
		} else if (code == CORPC_STATUS_DEADLINE_EXCEEDED &&
		           details_are(st, "Deadline Exceeded")) {
			corpc__stream_end(
			    &st->base, code, "deadline exceeded");
		} else if (code == CORPC_STATUS_CANCELLED &&
		           (details_are(st, "CANCELLED") ||
		               details_are(st, "Cancelled"))) {
			corpc__stream_end(&st->base, code, "call cancelled");
		} else {
			corpc__stream_end(&st->base, code, "%.*s",
			    (int) GRPC_SLICE_LENGTH(st->details),
			    (const char *) GRPC_SLICE_START_PTR(st->details));
		}
	}
	grpc_slice_unref(st->details);
	st->details = grpc_empty_slice();
	gpr_free((void *) st->error_string);
	st->error_string = NULL;
	return st->base.code;
}

// A call whose headers are in (or will never come): they count as sent
// unless the call failed without any — a trailers-only error response.
static void
settle_headers(gstream *st, bool got_message)
{
	take_headers(st);
	if (got_message || st->init_md.count > 0 ||
	    (st->status_done && st->status == GRPC_STATUS_OK) ||
	    !st->status_done) {
		st->base.headers_ready = true;
	}
}

// ---- channel ops --------------------------------------------------------

// The gRPC target for `addr`. IP literals go to gRPC's ipv4:/ipv6:
// resolvers, so no DNS lookup happens for them; names use its default DNS
// resolver, which re-resolves on reconnect.
static void
grpc_target(const corpc__address *addr, char *buf, size_t size)
{
	unsigned char ip[16];
	if (addr->resolver) {
		snprintf(buf, size, "%s", addr->target); // the user's URI
	} else if (addr->scheme == CORPC__SCHEME_TCP &&
	           inet_pton(AF_INET, addr->host, ip) == 1) {
		snprintf(buf, size, "ipv4:%s:%d", addr->host, addr->port);
	} else if (addr->scheme == CORPC__SCHEME_TCP &&
	           inet_pton(AF_INET6, addr->host, ip) == 1) {
		snprintf(buf, size, "ipv6:[%s]:%d", addr->host, addr->port);
	} else {
		snprintf(buf, size, "%s", addr->target);
	}
}

static corpc_err
ch_open(corpc_channel *ch, const corpc__address *addr,
    const corpc_channel_opts *opts, void **state)
{
	(void) ch;
	// TLS on tcp:// only: a unix:// socket stays plaintext (tls.h).
	const corpc_tls_client *tls =
	    addr->scheme == CORPC__SCHEME_TCP ? opts->tls : NULL;
	gchannel *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return CORPC_ENOMEM;
	}
	corpc__grpc_ref();
	grpc_channel_credentials *cc;
	corpc_err                 rv = corpc__grpc_tls_client_creds(tls, &cc);
	if (rv != CORPC_OK) {
		corpc__grpc_unref();
		free(g);
		return rv;
	}
	g->tcp                = addr->scheme == CORPC__SCHEME_TCP;
	g->tls                = tls != NULL;
	g->max_depth          = corpc__depth_limit(opts->max_message_depth);
	g->max_message        = opts->max_message_size;
	corpc__grpc_conn conn = {
	    .max_message = opts->max_message_size,
	    .tls_name    = tls != NULL ? tls->server_name_override : NULL,
	    .keepalive   = opts->keepalive,
	    .reconnect_initial_ms = opts->reconnect_initial_ms,
	    .reconnect_max_ms     = opts->reconnect_max_ms,
	    .lb_policy  = opts->load_balancing == CORPC_LB_ROUND_ROBIN
	                      ? "round_robin"
	                      : NULL,
	    .user       = opts->grpc_args,
	    .user_count = opts->grpc_arg_count,
	};
	corpc__grpc_argv argv;
	if ((rv = corpc__grpc_argv_build(&argv, &conn)) != CORPC_OK) {
		grpc_channel_credentials_release(cc);
		corpc__grpc_unref();
		free(g);
		return rv;
	}
	grpc_channel_args ca = {.num_args = argv.n, .args = argv.args};
	char              target[sizeof(addr->target) + 8];
	grpc_target(addr, target, sizeof(target));
	g->channel = grpc_channel_create(target, cc, &ca); // copies the args
	corpc__grpc_argv_fini(&argv);
	grpc_channel_credentials_release(cc);
	if (g->channel == NULL) {
		corpc__grpc_unref();
		free(g);
		return CORPC_ENOMEM;
	}
	pthread_mutex_init(&g->mu, NULL);
	*state = g;
	return CORPC_OK;
}

static void
ch_close(void *state)
{
	gchannel *g = state;
	grpc_channel_destroy(g->channel);
	while (g->pool != NULL) {
		gstream *st = g->pool;
		g->pool     = st->next_free;
		stream_free(st);
	}
	pthread_mutex_destroy(&g->mu);
	free(g);
	corpc__grpc_unref();
}

// ---- stream ops ---------------------------------------------------------

static corpc_err
s_open(void *state, corpc_channel *ch, const corpc_method *method,
    const corpc__open_args *a, const ProtobufCMessage *request,
    corpc_stream **out)
{
	int64_t               deadline = a->deadline;
	const corpc_metadata *md       = a->md;
	corpc_ctx            *parent   = a->parent;
	gchannel             *g        = state;
	corpc_err             rv;
	if (!corpc__grpc_md_valid(md)) {
		return CORPC_EINVAL; // nothing sent: gRPC would spoil the call
	}
	gstream *st = stream_get(g);
	if (st == NULL) {
		return CORPC_ENOMEM;
	}
	if ((rv = corpc__stream_init(&st->base, &corpc__grpc_channel_ops, ch,
	         method, deadline)) != CORPC_OK ||
	    (rv = corpc__metadata_copy(st->req_md, md)) != CORPC_OK ||
	    (rv = corpc__grpc_mdvec_set(&st->md_out, st->req_md)) !=
	        CORPC_OK) {
		stream_put(g, st);
		return rv;
	}
	corpc__grpc_encoding_md enc =
	    corpc__grpc_encoding_request(a->compression);
	if (enc.key != NULL && (rv = corpc__grpc_mdvec_add_static(&st->md_out,
	                            enc.key, enc.value)) != CORPC_OK) {
		stream_put(g, st);
		return rv;
	}
	st->open_bb = NULL;
	if (request != NULL &&
	    (st->open_bb = corpc__grpc_pack(request)) == NULL) {
		stream_put(g, st);
		return CORPC_ENOMEM;
	}
	atomic_store(&st->cancelled, false);
	st->recv_bb        = NULL;
	st->status         = GRPC_STATUS_OK;
	st->open_pending   = false;
	st->close_pending  = false;
	st->send_pending   = false;
	st->send_bb        = NULL;
	st->hdr_taken      = false;
	st->send_dead      = false;
	st->unary          = method->kind == CORPC_RPC_UNARY;
	st->unary_taken    = false;
	st->hdr_started    = st->unary;
	st->status_started = st->unary;
	st->status_done    = false;

	// Inside a task the call completes on its worker's queue.
	st->cq        = corpc__grpc_task_cq(NULL);
	st->next_mode = st->cq != NULL;
	if (st->cq == NULL) {
		if (st->pluck_cq == NULL &&
		    (st->pluck_cq = grpc_completion_queue_create_for_pluck(
		         NULL)) == NULL) {
			if (st->open_bb != NULL) {
				grpc_byte_buffer_destroy(st->open_bb);
				st->open_bb = NULL;
			}
			stream_put(g, st);
			return CORPC_ENOMEM;
		}
		st->cq = st->pluck_cq;
	}
	grpc_call *call =
	    grpc_channel_create_call(g->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
	        st->cq, grpc_slice_from_static_string(method->path), NULL,
	        corpc__grpc_deadline_to(deadline), NULL);
	pthread_mutex_lock(&st->mu);
	st->call = call;
	pthread_mutex_unlock(&st->mu);
	if (parent != NULL) {
		corpc__ctx_adopt(
		    parent, &st->base); // s_cancel works from here
	}

	grpc_op ops[6];
	size_t  n = 0;
	memset(ops, 0, sizeof(ops));
	ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[n].data.send_initial_metadata.count    = st->md_out.n;
	ops[n].data.send_initial_metadata.metadata = st->md_out.v;
	if (a->wait_for_ready) {
		ops[n].flags =
		    GRPC_INITIAL_METADATA_WAIT_FOR_READY |
		    GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET;
	}
	n++;
	if (request != NULL) {
		ops[n].op                             = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = st->open_bb;
		n++;
		ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	}
	if (st->unary) {
		ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[n].data.recv_initial_metadata.recv_initial_metadata =
		    &st->init_md;
		n++;
		ops[n].op                             = GRPC_OP_RECV_MESSAGE;
		ops[n].data.recv_message.recv_message = &st->recv_bb;
		n++;
		ops[n].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
		ops[n].data.recv_status_on_client.trailing_metadata =
		    &st->trail_md;
		ops[n].data.recv_status_on_client.status = &st->status;
		ops[n].data.recv_status_on_client.status_details =
		    &st->details;
		ops[n].data.recv_status_on_client.error_string =
		    &st->error_string;
		n++;
	}
	grpc_call_error e = op_start(st, ops, n, &st->open_op);
	if (e == GRPC_CALL_OK) {
		st->open_pending = true;
	} else {
		st->status_started = st->status_done = true;
		corpc__stream_end(&st->base, CORPC_STATUS_INTERNAL,
		    "%s: cannot start the call: %s", method->path,
		    grpc_call_error_to_string(e));
	}
	*out = &st->base;
	return CORPC_OK;
}

// A send or half-close failed: the call is over. Its status is at hand
// unless unread responses hold it back; then say the send side is closed
// and let recv deliver the rest and the status.
static corpc_status_code
send_failed(gstream *st)
{
	if (!st->send_dead) {
		st->send_dead = true;
		if (wait_status(st, in_ms(10))) {
			settle_headers(st, false);
			return end_status(st);
		}
	}
	if (st->base.ended) {
		return st->base.code;
	}
	if (atomic_load(&st->cancelled)) {
		return CORPC_STATUS_CANCELLED;
	}
	if (st->base.deadline != CORPC_DEADLINE_NONE &&
	    corpc_now() + 1000000 >= st->base.deadline) {
		return CORPC_STATUS_DEADLINE_EXCEEDED;
	}
	return CORPC_STATUS_FAILED_PRECONDITION;
}

// Waits for the send in flight, if any; false if it failed.
static bool
flush_send(gstream *st)
{
	if (!st->send_pending) {
		return true;
	}
	st->send_pending = false;
	bool ok          = op_finish(st, &st->send_op);
	grpc_byte_buffer_destroy(st->send_bb);
	st->send_bb = NULL;
	return ok;
}

// A send is not waited for: the next send, the half-close or the end wait
// for it, so packing the next message overlaps the write of this one (gRPC
// allows one send in flight). `msg` is packed at once, so not retained.
static corpc_status_code
s_send(corpc_stream *base, const ProtobufCMessage *msg, unsigned flags)
{
	gstream *st = (gstream *) base;
	if (st->send_dead || !flush_send(st)) {
		return send_failed(st);
	}
	grpc_byte_buffer *bb = corpc__grpc_pack(msg);
	if (bb == NULL) {
		return CORPC_STATUS_RESOURCE_EXHAUSTED;
	}
	grpc_op op;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.flags =
	    ((flags & CORPC_WRITE_MORE) ? GRPC_WRITE_BUFFER_HINT : 0) |
	    ((flags & CORPC_WRITE_NO_COMPRESS) ? GRPC_WRITE_NO_COMPRESS : 0);
	op.data.send_message.send_message = bb;
	if (op_start(st, &op, 1, &st->send_op) != GRPC_CALL_OK) {
		grpc_byte_buffer_destroy(bb);
		return send_failed(st);
	}
	st->send_bb      = bb;
	st->send_pending = true;
	return CORPC_STATUS_OK;
}

static corpc_status_code
s_close_send(corpc_stream *base)
{
	gstream *st = (gstream *) base;
	if (st->send_dead || !flush_send(st)) {
		return send_failed(st);
	}
	grpc_op op;
	memset(&op, 0, sizeof(op));
	op.op   = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	bool ok = op_start(st, &op, 1, &st->close_op) == GRPC_CALL_OK &&
	          op_finish(st, &st->close_op);
	return ok ? CORPC_STATUS_OK : send_failed(st);
}

// Unpacks a received message into the arena; on garbage the call fails
// with INTERNAL and the end of the stream is returned instead.
static corpc_status_code
deliver(gstream *st, const ProtobufCMessage **msg)
{
	const ProtobufCMessageDescriptor *d = st->base.method->response;
	char                              why[256];
	corpc_status_code                 rc =
	    corpc__grpc_inflate(&st->recv_bb, st->gch->max_message,
	        &st->base.recv_compression, why, sizeof(why));
	if (rc != CORPC_STATUS_OK) {
		grpc_byte_buffer_destroy(st->recv_bb);
		st->recv_bb = NULL;
		if (!st->status_done) {
			grpc_call_cancel_with_status(
			    st->call, (grpc_status_code) rc, why, NULL);
			wait_status(st, forever());
		}
		corpc__stream_end(
		    &st->base, rc, "%s: %s", st->base.method->path, why);
		return end_status(st);
	}
	bool              too_deep;
	ProtobufCMessage *m = corpc__grpc_unpack(
	    st->recv_bb, d, &st->arena, st->gch->max_depth, &too_deep);
	grpc_byte_buffer_destroy(st->recv_bb);
	st->recv_bb = NULL;
	if (m != NULL) {
		*msg = m;
		return CORPC_STATUS_OK;
	}
	if (!st->status_done) {
		grpc_call_cancel_with_status(st->call, GRPC_STATUS_INTERNAL,
		    too_deep ? "response message nested too deep"
		             : "failed to parse the response",
		    NULL);
		wait_status(st, forever());
	}
	if (too_deep) {
		corpc__stream_end(&st->base, CORPC_STATUS_INTERNAL,
		    "%s: response message nested deeper than %u",
		    st->base.method->path, st->gch->max_depth);
	} else {
		corpc__stream_end(&st->base, CORPC_STATUS_INTERNAL,
		    "%s: failed to parse the response as %s",
		    st->base.method->path, d->name);
	}
	return end_status(st);
}

static corpc_status_code
s_recv(corpc_stream *base, const ProtobufCMessage **msg)
{
	gstream *st = (gstream *) base;
	*msg        = NULL;
	if (st->unary) {
		wait_status(st, forever());
		settle_headers(st, st->recv_bb != NULL);
		if (!st->unary_taken && st->recv_bb != NULL) {
			st->unary_taken = true;
			return deliver(st, msg);
		}
		return end_status(st);
	}
	corpc__arena_reset(&st->arena);
	grpc_op ops[2];
	size_t  n       = 0;
	bool    get_hdr = !st->hdr_started;
	memset(ops, 0, sizeof(ops));
	if (get_hdr) {
		ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[n].data.recv_initial_metadata.recv_initial_metadata =
		    &st->init_md;
		n++;
	}
	ops[n].op                             = GRPC_OP_RECV_MESSAGE;
	ops[n].data.recv_message.recv_message = &st->recv_bb;
	n++;
	bool ok         = op_start(st, ops, n, &st->recv_op) == GRPC_CALL_OK;
	st->hdr_started = true;
	ok              = ok && op_finish(st, &st->recv_op);
	if (ok && st->recv_bb != NULL) {
		settle_headers(st, true);
		return deliver(st, msg);
	}
	if (st->recv_bb != NULL) {
		grpc_byte_buffer_destroy(st->recv_bb);
		st->recv_bb = NULL;
	}
	wait_status(st, forever());
	settle_headers(st, false);
	return end_status(st);
}

static void
s_headers(corpc_stream *base)
{
	gstream *st = (gstream *) base;
	if (st->unary) {
		wait_status(st, forever());
		settle_headers(st, st->recv_bb != NULL);
		if (!st->base.headers_ready && st->recv_bb == NULL) {
			st->unary_taken = true;
			end_status(
			    st); // failed with no response and no headers
		}
		return;
	}
	if (!st->hdr_started) {
		grpc_op op;
		memset(&op, 0, sizeof(op));
		op.op = GRPC_OP_RECV_INITIAL_METADATA;
		op.data.recv_initial_metadata.recv_initial_metadata =
		    &st->init_md;
		if (op_start(st, &op, 1, &st->hdr_op) == GRPC_CALL_OK) {
			st->hdr_started = true;
			op_finish(st, &st->hdr_op);
		}
	}
	// With no headers, the call may have ended with a trailers-only
	// response: its status completes at once, there being nothing to read.
	if (st->init_md.count == 0) {
		wait_status(st, NOW_ONLY);
	}
	settle_headers(st, false);
	if (st->status_done) {
		end_status(st);
	}
}

static void
s_finish(corpc_stream *base, bool cancel)
{
	gstream *st = (gstream *) base;
	if (!cancel && !st->unary && !st->base.send_closed && !st->send_dead) {
		// Waiting for the server's status: tell it no more is coming.
		flush_send(st);
		grpc_op op;
		memset(&op, 0, sizeof(op));
		op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		st->close_pending =
		    op_start(st, &op, 1, &st->close_op) == GRPC_CALL_OK;
		st->base.send_closed = true;
	}
	if (cancel && !wait_status(st, NOW_ONLY)) {
		grpc_call_cancel(st->call, NULL);
	}
	wait_status(st, forever());
	if (!st->hdr_taken && st->hdr_started) {
		settle_headers(st, st->recv_bb != NULL);
	}
	end_status(st);
}

static void
s_cancel(corpc_stream *base)
{
	gstream *st = (gstream *) base;
	atomic_store(&st->cancelled, true);
	pthread_mutex_lock(&st->mu);
	if (st->call != NULL) {
		grpc_call_cancel(st->call, NULL); // no effect once finished
	}
	pthread_mutex_unlock(&st->mu);
}

static void
s_destroy(corpc_stream *base)
{
	gstream *st = (gstream *) base;
	if (st->status_started && !st->status_done) {
		grpc_call_cancel(st->call, NULL);
		wait_status(st, forever());
	}
	if (st->open_pending) {
		op_finish(st, &st->open_op);
		st->open_pending = false;
	}
	if (st->close_pending) {
		op_finish(st, &st->close_op);
		st->close_pending = false;
	}
	flush_send(st);
	pthread_mutex_lock(&st->mu);
	grpc_call *call = st->call;
	st->call        = NULL;
	pthread_mutex_unlock(&st->mu);
	if (call != NULL) {
		grpc_call_unref(call);
	}
	if (st->open_bb != NULL) {
		grpc_byte_buffer_destroy(st->open_bb);
		st->open_bb = NULL;
	}
	if (st->recv_bb != NULL) {
		grpc_byte_buffer_destroy(st->recv_bb);
		st->recv_bb = NULL;
	}
	grpc_slice_unref(st->details);
	st->details = grpc_empty_slice();
	gpr_free((void *) st->error_string);
	st->error_string = NULL;
	corpc__grpc_md_array_reset(&st->init_md);
	corpc__grpc_md_array_reset(&st->trail_md);
	corpc__arena_trim(&st->arena, CORPC__GRPC_POOLED_ARENA_MAX);
	stream_put(st->gch, st);
}

static corpc_channel_state
ch_state(void *state, bool try_to_connect)
{
	gchannel *g = state;
	switch (grpc_channel_check_connectivity_state(
	    g->channel, try_to_connect ? 1 : 0)) {
	case GRPC_CHANNEL_IDLE:
		return CORPC_CHANNEL_IDLE;
	case GRPC_CHANNEL_CONNECTING:
		return CORPC_CHANNEL_CONNECTING;
	case GRPC_CHANNEL_READY:
		return CORPC_CHANNEL_READY;
	case GRPC_CHANNEL_TRANSIENT_FAILURE:
		return CORPC_CHANNEL_TRANSIENT_FAILURE;
	case GRPC_CHANNEL_SHUTDOWN:
		break;
	}
	return CORPC_CHANNEL_SHUTDOWN;
}

const corpc__channel_ops corpc__grpc_channel_ops = {
    .c_open       = ch_open,
    .c_close      = ch_close,
    .c_state      = ch_state,
    .s_open       = s_open,
    .s_send       = s_send,
    .s_close_send = s_close_send,
    .s_recv       = s_recv,
    .s_headers    = s_headers,
    .s_finish     = s_finish,
    .s_cancel     = s_cancel,
    .s_destroy    = s_destroy,
};
