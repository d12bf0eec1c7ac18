// gRPC transport, server side: listeners, the worker pool, handler calls.
//
// Every tcp:// and unix:// listener of one corpc_server shares one
// grpc_server (hung on the corpc_server as an attachment) with one `next`
// queue and a pool of worker_threads threads and as many call slots. Each
// free slot has a grpc_server_request_call outstanding; the worker that
// gets a slot's new call serves it to the end on that thread: the handler
// blocks on the slot's own pluck queue, so a slow handler holds one worker
// and nothing else. Calls beyond the pool wait inside gRPC for a slot.
//
// Shutdown follows the order in the gRPC brief: shutdown_and_notify; let
// calls run for the grace; cancel_all_calls; shut the queue down only once
// the shutdown tag arrived, no request is outstanding and no call is being
// served; drain; join; destroy.
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/server_impl.h"
#include "transport/grpc/grpc_common.h"

enum { TAG_RECV = 1, TAG_SEND, TAG_HDR, TAG_STATUS, TAG_CLOSE };
#define TAG(t) ((void *) (uintptr_t) (t))

typedef struct gsrv gsrv;

typedef struct gcall {
	corpc_ctx              ctx; // first: core's view
	gsrv                  *gs;
	grpc_completion_queue *cq; // pluck; bound to each call of this slot
	grpc_call             *call;
	grpc_call_details      details;
	grpc_metadata_array    req_md;
	corpc_metadata        *md; // request metadata, corpc entries only
	char                  *path;
	size_t                 path_cap;
	corpc__arena           arena; // received requests
	grpc_byte_buffer      *recv_bb;
	grpc_byte_buffer      *send_bb; // message of the send in flight
	corpc__grpc_mdvec      hdr_out;
	corpc__grpc_mdvec      trl_out;
	const ProtobufCMessage *first; // the request of unary / server streaming
	bool                   first_pending;
	bool                   send_pending; // a send batch is in flight
	bool                   half_closed;
	bool                   dead;     // a batch failed: the call is gone
	bool                   hdr_sent; // initial metadata went out
	bool                   close_done;
	int                    close_cancelled;
	atomic_bool            cancel_req; // x_cancel or server shutdown
} gcall;

struct gsrv {
	corpc_server          *srv;
	grpc_server           *server;
	grpc_completion_queue *cq; // next: new calls and the shutdown tag
	gcall                 *calls;
	pthread_t             *threads;
	unsigned               n; // threads and slots
	unsigned               nthreads_started;
	pthread_mutex_t        mu;
	pthread_cond_t         cv;
	unsigned               busy;      // calls being served
	unsigned               requested; // request_call outstanding
	bool                   started;
	bool                   stopping;
	bool                   shut_seen; // the shutdown tag arrived
	bool                   cq_down;
	bool                   stopped; // shutdown complete, threads joined
	char                   shutdown_tag;
};

static const char attachment_key = 0;

static const corpc__ctx_ops ctx_ops;

// ---- slots --------------------------------------------------------------

static corpc_err
slot_init(gsrv *gs, gcall *c)
{
	c->gs = gs;
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->req_md);
	corpc__arena_init(&c->arena);
	c->cq = grpc_completion_queue_create_for_pluck(NULL);
	if (c->cq == NULL || corpc_metadata_create(&c->md) != CORPC_OK) {
		return CORPC_ENOMEM;
	}
	return CORPC_OK;
}

static void
slot_fini(gcall *c)
{
	corpc__grpc_cq_destroy(c->cq);
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->req_md);
	corpc__arena_fini(&c->arena);
	corpc_metadata_destroy(c->md);
	corpc__grpc_mdvec_fini(&c->hdr_out);
	corpc__grpc_mdvec_fini(&c->trl_out);
	corpc__ctx_fini(&c->ctx);
	free(c->path);
}

// Asks gRPC for the slot's next call. Caller holds gs->mu.
static void
slot_request(gsrv *gs, gcall *c)
{
	if (grpc_server_request_call(gs->server, &c->call, &c->details,
	        &c->req_md, c->cq, gs->cq, c) == GRPC_CALL_OK) {
		gs->requested++;
	}
}

// ---- one call -----------------------------------------------------------

static gcall *
call_of(corpc_ctx *ctx)
{
	return (gcall *) ctx;
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

// Runs a batch on the call and waits for it.
static bool
run_batch(gcall *c, const grpc_op *ops, size_t n, int tag)
{
	return grpc_call_start_batch(c->call, ops, n, TAG(tag), NULL) ==
	           GRPC_CALL_OK &&
	       corpc__grpc_pluck(c->cq, TAG(tag));
}

// Waits for the send in flight, if any; false if it failed.
static bool
flush_send(gcall *c)
{
	if (!c->send_pending) {
		return true;
	}
	c->send_pending = false;
	bool ok         = corpc__grpc_pluck(c->cq, TAG(TAG_SEND));
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
	memset(op, 0, sizeof(*op));
	op->op                                  = GRPC_OP_SEND_INITIAL_METADATA;
	op->data.send_initial_metadata.count    = c->hdr_out.n;
	op->data.send_initial_metadata.metadata = c->hdr_out.v;
	return 1;
}

// Sends the status (and the headers first, if they have not gone out:
// without them gRPC never writes the status).
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
	ops[n].data.send_status_from_server.trailing_metadata_count = c->trl_out.n;
	ops[n].data.send_status_from_server.trailing_metadata       = c->trl_out.v;
	ops[n].data.send_status_from_server.status = (grpc_status_code) code;
	ops[n].data.send_status_from_server.status_details = &details;
	run_batch(c, ops, n + 1, TAG_STATUS);
}

static bool
takes_one_request(const corpc_method *m)
{
	return m->kind == CORPC_RPC_UNARY || m->kind == CORPC_RPC_SERVER_STREAMING;
}

// Receives the next message; *msg NULL at half-close. False when the call
// is gone or the bytes do not parse (then *parse_failed).
static bool
recv_one(gcall *c, const ProtobufCMessage **msg, bool *parse_failed)
{
	*msg          = NULL;
	*parse_failed = false;
	corpc__arena_reset(&c->arena);
	grpc_op op;
	memset(&op, 0, sizeof(op));
	op.op                             = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	c->recv_bb                        = NULL;
	if (!run_batch(c, &op, 1, TAG_RECV)) {
		if (c->recv_bb != NULL) {
			grpc_byte_buffer_destroy(c->recv_bb);
			c->recv_bb = NULL;
		}
		return false;
	}
	if (c->recv_bb == NULL) {
		return true;
	}
	*msg = corpc__grpc_unpack(
	    c->recv_bb, c->ctx.handler->method->request, &c->arena);
	grpc_byte_buffer_destroy(c->recv_bb);
	c->recv_bb    = NULL;
	*parse_failed = *msg == NULL;
	return *msg != NULL;
}

// Reads the one request before the handler runs: a request that does not
// parse never reaches it. Returns OK, or the status to reply with.
static corpc_status_code
read_first(gcall *c, char *why, size_t why_size)
{
	const corpc_method     *m = c->ctx.handler->method;
	const ProtobufCMessage *msg;
	bool                    parse_failed;
	if (!recv_one(c, &msg, &parse_failed)) {
		if (parse_failed) {
			snprintf(why, why_size, "%s: failed to parse the request as %s",
			    m->path, m->request->name);
			return CORPC_STATUS_INTERNAL;
		}
		c->dead = true;
		snprintf(why, why_size, "%s: call ended before its request", m->path);
		return dead_code(c);
	}
	if (msg == NULL) {
		snprintf(why, why_size, "%s: no request message", m->path);
		return CORPC_STATUS_INTERNAL;
	}
	c->first         = msg;
	c->first_pending = true;
	return CORPC_STATUS_OK;
}

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
serve(gsrv *gs, gcall *c)
{
	char why[512];
	c->first_pending   = false;
	c->half_closed     = false;
	c->dead            = false;
	c->hdr_sent        = false;
	c->close_done      = false;
	c->close_cancelled = 0;
	atomic_store(&c->cancel_req, false);
	copy_path(c);
	corpc_metadata_clear(c->md);
	corpc__grpc_md_import(c->md, &c->req_md);
	int64_t deadline = corpc__grpc_deadline_from(c->details.deadline);

	grpc_op close_op;
	memset(&close_op, 0, sizeof(close_op));
	close_op.op                                 = GRPC_OP_RECV_CLOSE_ON_SERVER;
	close_op.data.recv_close_on_server.cancelled = &c->close_cancelled;
	bool close_started = grpc_call_start_batch(c->call, &close_op, 1,
	                         TAG(TAG_CLOSE), NULL) == GRPC_CALL_OK;

	const corpc__handler *h =
	    c->path != NULL ? corpc__server_find(gs->srv, NULL, c->path) : NULL;
	if (h == NULL) {
		snprintf(why, sizeof(why), "unknown method %s",
		    c->path != NULL ? c->path : "");
		reply(c, CORPC_STATUS_UNIMPLEMENTED, why, NULL, NULL);
	} else if (corpc__ctx_init(&c->ctx, &ctx_ops, h, c->md, deadline) !=
	           CORPC_OK) {
		reply(c, CORPC_STATUS_RESOURCE_EXHAUSTED, "server out of memory", NULL,
		    NULL);
	} else if (!corpc__server_call_begin(gs->srv, &c->ctx)) {
		reply(c, CORPC_STATUS_UNAVAILABLE, "server is shutting down", NULL,
		    NULL);
	} else {
		corpc_status_code code = CORPC_STATUS_OK;
		if (takes_one_request(h->method)) {
			code = read_first(c, why, sizeof(why));
		}
		if (code == CORPC_STATUS_OK) {
			code = corpc__ctx_run(&c->ctx);
			reply(c, code, corpc__strbuf_get(&c->ctx.message), c->ctx.headers,
			    c->ctx.trailers);
		} else {
			reply(c, code, why, NULL, NULL);
		}
		corpc__server_call_end(gs->srv, &c->ctx);
	}
	if (close_started && !c->close_done) {
		corpc__grpc_pluck(c->cq, TAG(TAG_CLOSE));
	}
	grpc_call_unref(c->call);
	c->call = NULL;
	grpc_call_details_destroy(&c->details);
	grpc_call_details_init(&c->details);
	corpc__grpc_md_array_reset(&c->req_md);
	corpc__arena_reset(&c->arena);
}

// ---- ctx ops ------------------------------------------------------------

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
	ops[n].op                             = GRPC_OP_SEND_MESSAGE;
	// The hint would hold the headers back too, and their op completes only
	// once they are written: never hint the message that carries them.
	ops[n].flags = (flags & CORPC_WRITE_MORE) && n == 0 ? GRPC_WRITE_BUFFER_HINT
	                                                    : 0;
	ops[n].data.send_message.send_message = bb;
	// Not waited for here: the next send, the headers or the status wait,
	// so packing the next message overlaps the write of this one. `msg` is
	// already packed, so it is not retained.
	if (grpc_call_start_batch(c->call, ops, n + 1, TAG(TAG_SEND), NULL) !=
	    GRPC_CALL_OK) {
		grpc_byte_buffer_destroy(bb);
		c->dead = true;
		return dead_code(c);
	}
	c->send_bb      = bb;
	c->send_pending = true;
	return CORPC_STATUS_OK;
}

static corpc_status_code
x_recv(corpc_ctx *ctx, const ProtobufCMessage **msg)
{
	gcall *c = call_of(ctx);
	*msg     = NULL;
	if (c->first_pending) {
		c->first_pending = false;
		*msg             = c->first;
		return CORPC_STATUS_OK;
	}
	if (takes_one_request(ctx->handler->method) || c->half_closed) {
		return CORPC_STATUS_OK; // the request stream has ended
	}
	if (c->dead) {
		return dead_code(c);
	}
	bool parse_failed;
	if (recv_one(c, msg, &parse_failed)) {
		c->half_closed = *msg == NULL;
		return CORPC_STATUS_OK;
	}
	c->dead = true;
	if (parse_failed) {
		// The client learns why; the handler sees its call gone.
		char why[512];
		snprintf(why, sizeof(why), "%s: failed to parse the request as %s",
		    ctx->handler->method->path, ctx->handler->method->request->name);
		grpc_call_cancel_with_status(c->call, GRPC_STATUS_INTERNAL, why, NULL);
		return CORPC_STATUS_CANCELLED;
	}
	return dead_code(c);
}

static corpc_status_code
x_send_headers(corpc_ctx *ctx)
{
	gcall *c = call_of(ctx);
	grpc_op op;
	if (!flush_send(c) || c->dead) {
		return dead_code(c);
	}
	if (add_headers(c, &op, ctx->headers) == 0) {
		return CORPC_STATUS_OK;
	}
	if (!run_batch(c, &op, 1, TAG_HDR)) {
		c->dead = true;
		return dead_code(c);
	}
	return CORPC_STATUS_OK;
}

static bool
x_is_cancelled(corpc_ctx *ctx)
{
	gcall *c = call_of(ctx);
	if (c->dead || atomic_load(&c->cancel_req) ||
	    corpc_now() >= ctx->deadline) {
		return true;
	}
	if (!c->close_done) {
		// Completes early only when the client cancelled or went away.
		grpc_event ev = grpc_completion_queue_pluck(
		    c->cq, TAG(TAG_CLOSE), gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
		c->close_done = ev.type == GRPC_OP_COMPLETE;
	}
	return c->close_done && c->close_cancelled;
}

static void
x_cancel(corpc_ctx *ctx)
{
	gcall *c = call_of(ctx);
	atomic_store(&c->cancel_req, true);
	grpc_call_cancel(c->call, NULL);
}

static const corpc__ctx_ops ctx_ops = {
    .x_send         = x_send,
    .x_recv         = x_recv,
    .x_send_headers = x_send_headers,
    .x_is_cancelled = x_is_cancelled,
    .x_cancel       = x_cancel,
};

// ---- workers and shutdown -----------------------------------------------

// Shuts the queue down once nothing can post to it any more. Caller holds
// gs->mu.
static void
maybe_cq_down(gsrv *gs)
{
	if (gs->stopping && gs->shut_seen && gs->requested == 0 && gs->busy == 0 &&
	    !gs->cq_down) {
		gs->cq_down = true;
		grpc_completion_queue_shutdown(gs->cq);
	}
	pthread_cond_broadcast(&gs->cv);
}

static void *
worker(void *arg)
{
	gsrv *gs = arg;
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(
		    gs->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN) {
			break;
		}
		if (ev.type != GRPC_OP_COMPLETE) {
			continue;
		}
		pthread_mutex_lock(&gs->mu);
		if (ev.tag == &gs->shutdown_tag) {
			gs->shut_seen = true;
			maybe_cq_down(gs);
			pthread_mutex_unlock(&gs->mu);
			continue;
		}
		gcall *c = ev.tag;
		gs->requested--;
		if (!ev.success) {
			// Shutting down: the request was withdrawn.
			maybe_cq_down(gs);
			pthread_mutex_unlock(&gs->mu);
			continue;
		}
		gs->busy++;
		pthread_mutex_unlock(&gs->mu);
		serve(gs, c);
		pthread_mutex_lock(&gs->mu);
		gs->busy--;
		if (!gs->stopping) {
			slot_request(gs, c);
		}
		maybe_cq_down(gs);
		pthread_mutex_unlock(&gs->mu);
	}
	return NULL;
}

// Takes the next event off the queue on this thread (no workers running).
static grpc_event
next_event(gsrv *gs)
{
	return grpc_completion_queue_next(
	    gs->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
}

static void
gsrv_stop(gsrv *gs, int64_t grace_ms)
{
	pthread_mutex_lock(&gs->mu);
	if (gs->stopping) {
		while (!gs->stopped) {
			pthread_cond_wait(&gs->cv, &gs->mu);
		}
		pthread_mutex_unlock(&gs->mu);
		return;
	}
	gs->stopping = true;
	pthread_mutex_unlock(&gs->mu);

	grpc_server_shutdown_and_notify(gs->server, gs->cq, &gs->shutdown_tag);
	if (gs->nthreads_started == 0) {
		// Never served: drain the queue here.
		while (next_event(gs).tag != &gs->shutdown_tag) {
		}
		grpc_completion_queue_shutdown(gs->cq);
		while (next_event(gs).type != GRPC_QUEUE_SHUTDOWN) {
		}
		pthread_mutex_lock(&gs->mu);
		gs->shut_seen = gs->cq_down = gs->stopped = true;
		pthread_cond_broadcast(&gs->cv);
		pthread_mutex_unlock(&gs->mu);
		return;
	}
	struct timespec until = corpc__timespec_at(corpc_now() + grace_ms * 1000000);
	pthread_mutex_lock(&gs->mu);
	while (gs->busy > 0 && grace_ms > 0 &&
	       pthread_cond_timedwait(&gs->cv, &gs->mu, &until) != ETIMEDOUT) {
	}
	pthread_mutex_unlock(&gs->mu);
	for (unsigned i = 0; i < gs->n; i++) {
		atomic_store(&gs->calls[i].cancel_req, true);
	}
	grpc_server_cancel_all_calls(gs->server);
	pthread_mutex_lock(&gs->mu);
	while (!gs->cq_down) {
		pthread_cond_wait(&gs->cv, &gs->mu);
	}
	pthread_mutex_unlock(&gs->mu);
	for (unsigned i = 0; i < gs->nthreads_started; i++) {
		pthread_join(gs->threads[i], NULL);
	}
	pthread_mutex_lock(&gs->mu);
	gs->stopped = true;
	pthread_cond_broadcast(&gs->cv);
	pthread_mutex_unlock(&gs->mu);
}

// ---- the attachment -----------------------------------------------------

static void gsrv_destroy(void *p);

static void *
gsrv_create(corpc_server *srv)
{
	gsrv *gs = calloc(1, sizeof(*gs));
	if (gs == NULL) {
		return NULL;
	}
	corpc__grpc_ref();
	gs->srv = srv;
	pthread_mutex_init(&gs->mu, NULL);
	corpc__cond_init_monotonic(&gs->cv);
	const corpc_server_opts *opts = corpc__server_opts(srv);
	grpc_arg                 args[8];
	grpc_channel_args        cargs = {
	           .num_args = corpc__grpc_args(args, opts->max_message_size, true),
	           .args     = args,
    };
	gs->server = grpc_server_create(&cargs, NULL);
	gs->cq     = grpc_completion_queue_create_for_next(NULL);
	gs->n      = opts->worker_threads;
	gs->calls  = calloc(gs->n, sizeof(*gs->calls));
	gs->threads = calloc(gs->n, sizeof(*gs->threads));
	if (gs->server == NULL || gs->cq == NULL || gs->calls == NULL ||
	    gs->threads == NULL) {
		gsrv_destroy(gs);
		return NULL;
	}
	grpc_server_register_completion_queue(gs->server, gs->cq, NULL);
	for (unsigned i = 0; i < gs->n; i++) {
		if (slot_init(gs, &gs->calls[i]) != CORPC_OK) {
			gsrv_destroy(gs);
			return NULL;
		}
	}
	return gs;
}

static void
gsrv_destroy(void *p)
{
	gsrv *gs = p;
	if (gs->server != NULL && gs->cq != NULL) {
		gsrv_stop(gs, 0);
	}
	if (gs->server != NULL) {
		grpc_server_destroy(gs->server);
	}
	if (gs->cq != NULL) {
		grpc_completion_queue_destroy(gs->cq);
	}
	for (unsigned i = 0; gs->calls != NULL && i < gs->n; i++) {
		if (gs->calls[i].gs != NULL) {
			slot_fini(&gs->calls[i]);
		}
	}
	free(gs->calls);
	free(gs->threads);
	pthread_cond_destroy(&gs->cv);
	pthread_mutex_destroy(&gs->mu);
	free(gs);
	corpc__grpc_unref();
}

// ---- listener ops -------------------------------------------------------

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
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EADDRINUSE) {
			rv = CORPC_EADDRINUSE;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return rv;
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
	if (addr->scheme == CORPC__SCHEME_UNIX && unix_in_use(addr->host)) {
		return CORPC_EADDRINUSE; // gRPC would unlink the live socket
	}
	// TLS on tcp:// only: a unix:// socket stays plaintext (tls.h).
	const corpc_tls_server *tls = addr->scheme == CORPC__SCHEME_TCP
	                                  ? corpc__server_opts(srv)->tls
	                                  : NULL;
	grpc_server_credentials *sc;
	corpc_err                rv = corpc__grpc_tls_server_creds(tls, &sc);
	if (rv != CORPC_OK) {
		return rv;
	}
	int port = grpc_server_add_http2_port(gs->server, addr->target, sc);
	grpc_server_credentials_release(sc);
	if (port == 0) {
		return addr->scheme == CORPC__SCHEME_TCP ? tcp_bind_error(addr)
		                                         : CORPC_ESYS;
	}
	if (addr->scheme == CORPC__SCHEME_TCP) {
		bool v6 = strchr(addr->host, ':') != NULL;
		snprintf(bound, bound_size, v6 ? "tcp://[%s]:%d" : "tcp://%s:%d",
		    addr->host, port);
	} else {
		snprintf(bound, bound_size, "unix:%s%s",
		    addr->host[0] == '/' ? "//" : "", addr->host);
	}
	*state = gs;
	return CORPC_OK;
}

static corpc_err
l_start(void *state)
{
	gsrv     *gs = state;
	corpc_err rv = CORPC_OK;
	pthread_mutex_lock(&gs->mu);
	if (gs->started || gs->stopping) {
		pthread_mutex_unlock(&gs->mu);
		return CORPC_OK; // one grpc_server serves every listener
	}
	gs->started = true;
	grpc_server_start(gs->server);
	for (unsigned i = 0; i < gs->n; i++) {
		slot_request(gs, &gs->calls[i]);
	}
	for (unsigned i = 0; i < gs->n; i++) {
		if (pthread_create(&gs->threads[i], NULL, worker, gs) != 0) {
			rv = CORPC_ESYS;
			break;
		}
		gs->nthreads_started++;
	}
	pthread_mutex_unlock(&gs->mu);
	return rv;
}

static void
l_shutdown(void *state, int64_t grace_ms)
{
	gsrv_stop(state, grace_ms);
}

static void
l_destroy(void *state)
{
	(void) state; // the attachment goes with the server
}

const corpc__listener_ops corpc__grpc_listener_ops = {
    .l_listen   = l_listen,
    .l_start    = l_start,
    .l_shutdown = l_shutdown,
    .l_destroy  = l_destroy,
};
