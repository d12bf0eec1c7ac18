// SPDX-License-Identifier: MIT
// Server call contexts: the handler-facing API and the rules every
// transport shares (unary sends once, headers before messages).
#include <stdarg.h>
#include <sched.h>
#include <stdatomic.h>

#include "core/ctx.h"
#include "core/metadata_impl.h"
#include "core/server_impl.h"
#include "core/stream.h"
#include "runtime/fiber.h"

corpc_err
corpc__ctx_init(corpc_ctx *ctx, const corpc__ctx_ops *ops,
    const corpc__handler *handler, const corpc_metadata *request_md,
    int64_t deadline)
{
	corpc_err rv;
	if ((rv = corpc__metadata_reset(&ctx->headers)) != CORPC_OK ||
	    (rv = corpc__metadata_reset(&ctx->trailers)) != CORPC_OK) {
		return rv;
	}
	ctx->ops              = ops;
	ctx->handler          = handler;
	ctx->request_md       = request_md;
	ctx->deadline         = deadline;
	ctx->sends            = 0;
	ctx->headers_sent     = false;
	ctx->returned         = false;
	ctx->broke_rule       = false;
	ctx->call.n           = 0;
	ctx->push             = NULL;
	ctx->send_compression = CORPC_COMPRESS_DEFAULT;
	ctx->recv_compression = CORPC_COMPRESS_NONE;
	corpc__strbuf_clear(&ctx->message);
	corpc__ctx_reset_kids(ctx);
	return CORPC_OK;
}

static void
kids_lock(corpc_ctx *ctx)
{
	for (unsigned i = 0; atomic_exchange_explicit(
	         &ctx->kids_lock, true, memory_order_acquire);
	     i++) {
		if (i > 64) {
			sched_yield(); // the holder may be off its core
		}
	}
}

static void
kids_unlock(corpc_ctx *ctx)
{
	atomic_store_explicit(&ctx->kids_lock, false, memory_order_release);
}

void
corpc__ctx_reset_kids(corpc_ctx *ctx)
{
	// Under the lock: a parent's cancel may already look at this ctx.
	kids_lock(ctx);
	ctx->kids_cancelled = false; // every child of the last call is gone
	ctx->kids           = NULL;
	kids_unlock(ctx);
}

void
corpc__ctx_cancelled(corpc_ctx *ctx)
{
	kids_lock(ctx);
	ctx->kids_cancelled = true;
	for (corpc_stream *st = ctx->kids; st != NULL; st = st->sib_next) {
		corpc_stream_cancel(st); // thread-safe; takes no ctx lock
	}
	kids_unlock(ctx);
}

void
corpc__ctx_adopt(corpc_ctx *ctx, corpc_stream *st)
{
	kids_lock(ctx);
	st->parent   = ctx;
	st->sib_prev = NULL;
	st->sib_next = ctx->kids;
	if (ctx->kids != NULL) {
		ctx->kids->sib_prev = st;
	}
	ctx->kids      = st;
	bool cancelled = ctx->kids_cancelled;
	kids_unlock(ctx);
	if (cancelled) {
		corpc_stream_cancel(st);
	}
}

void
corpc__ctx_disown(corpc_ctx *ctx, corpc_stream *st)
{
	kids_lock(ctx);
	if (st->sib_prev != NULL) {
		st->sib_prev->sib_next = st->sib_next;
	} else {
		ctx->kids = st->sib_next;
	}
	if (st->sib_next != NULL) {
		st->sib_next->sib_prev = st->sib_prev;
	}
	st->parent = NULL;
	kids_unlock(ctx);
}

void
corpc__ctx_fini(corpc_ctx *ctx)
{
	corpc_metadata_destroy(ctx->headers);
	corpc_metadata_destroy(ctx->trailers);
	corpc__strbuf_fini(&ctx->message);
	ctx->headers  = NULL;
	ctx->trailers = NULL;
}

static bool
single_response(const corpc_ctx *ctx)
{
	corpc_rpc_kind k = ctx->handler->method->kind;
	return k == CORPC_RPC_UNARY || k == CORPC_RPC_CLIENT_STREAMING;
}

// The handler's final code and message, with the rules applied.
static corpc_status_code run_handler(corpc_ctx *ctx);

static corpc_status_code run_chain(corpc_ctx *ctx);

// A stack overflow report names the method whose handler (or interceptor)
// ran on this fiber; a unary one in process runs on its caller's fiber,
// whose own label comes back after.
corpc_status_code
corpc__ctx_run(corpc_ctx *ctx)
{
	corpc__fiber *f        = corpc__self()->current;
	const char   *outer    = f->label;
	f->label               = ctx->handler->method->path;
	corpc_status_code code = run_chain(ctx);
	f->label               = outer;
	return code;
}

static corpc_status_code
run_chain(corpc_ctx *ctx)
{
	const corpc_server_opts *opts =
	    ctx->server != NULL ? corpc__server_opts(ctx->server) : NULL;
	if (opts == NULL || opts->interceptor_count == 0) {
		return run_handler(ctx);
	}
	corpc_call *c = &ctx->call;
	corpc__call_init(c, opts->interceptors, opts->interceptor_count, true,
	    ctx->handler->method, (corpc_metadata *) ctx->request_md,
	    ctx->deadline, ctx);
	corpc_status_code code = corpc__call_start(c);
	if (code != CORPC_STATUS_OK) {
		ctx->returned = true; // the handler never runs
		corpc__strbuf_set(&ctx->message, "%s", c->refusal);
	} else {
		code = run_handler(ctx);
	}
	corpc__call_finish(c, code, corpc__strbuf_get(&ctx->message));
	return code;
}

static corpc_status_code
run_handler(corpc_ctx *ctx)
{
	const corpc__handler *h    = ctx->handler;
	corpc_status_code     code = h->fn(ctx, h->impl, h->self);
	ctx->returned              = true;
	if (ctx->broke_rule) {
		return CORPC_STATUS_INTERNAL; // the message says which rule
	}
	if ((unsigned) code >= CORPC_STATUS_COUNT) {
		corpc__strbuf_set(&ctx->message,
		    "%s: handler returned invalid code %d", h->method->path,
		    (int) code);
		return CORPC_STATUS_UNKNOWN;
	}
	if (code == CORPC_STATUS_OK) {
		corpc__strbuf_clear(&ctx->message);
		if (single_response(ctx) && ctx->sends == 0) {
			corpc__strbuf_set(&ctx->message,
			    "%s: handler returned OK without a response",
			    h->method->path);
			return CORPC_STATUS_INTERNAL;
		}
	}
	return code;
}

const corpc_method *
corpc_ctx_method(const corpc_ctx *ctx)
{
	return ctx->handler->method;
}

const corpc_metadata *
corpc_ctx_metadata(const corpc_ctx *ctx)
{
	return ctx->request_md;
}

int64_t
corpc_ctx_deadline(const corpc_ctx *ctx)
{
	return ctx->deadline;
}

bool
corpc_ctx_is_cancelled(corpc_ctx *ctx)
{
	return ctx->ops->x_is_cancelled(ctx);
}

corpc_err
corpc_ctx_peer(corpc_ctx *ctx, corpc_peer *out)
{
	if (ctx == NULL || out == NULL) {
		return CORPC_EINVAL;
	}
	if (ctx->ops->x_peer != NULL) {
		return ctx->ops->x_peer(ctx, out);
	}
	*out = (corpc_peer) {.address = "inproc"};
	return CORPC_OK;
}

corpc_err
corpc_ctx_set_header(
    corpc_ctx *ctx, const char *key, const void *value, size_t value_len)
{
	if (ctx->headers_sent || ctx->returned) {
		return CORPC_ESTATE;
	}
	return corpc_metadata_add(ctx->headers, key, value, value_len);
}

corpc_err
corpc_ctx_set_trailer(
    corpc_ctx *ctx, const char *key, const void *value, size_t value_len)
{
	if (ctx->returned) {
		return CORPC_ESTATE;
	}
	return corpc_metadata_add(ctx->trailers, key, value, value_len);
}

corpc_err
corpc_ctx_set_status_details(corpc_ctx *ctx, const void *bytes, size_t len)
{
	if (corpc_metadata_get(ctx->trailers, CORPC_STATUS_DETAILS_KEY) !=
	    NULL) {
		return CORPC_EEXIST;
	}
	return corpc_ctx_set_trailer(
	    ctx, CORPC_STATUS_DETAILS_KEY, bytes, len);
}

corpc_err
corpc_ctx_set_compression(corpc_ctx *ctx, corpc_compression c)
{
	if (c < CORPC_COMPRESS_DEFAULT || c > CORPC_COMPRESS_GZIP) {
		return CORPC_EINVAL;
	}
	if (ctx->headers_sent) {
		return CORPC_ESTATE;
	}
	ctx->send_compression = c;
	return CORPC_OK;
}

corpc_compression
corpc_ctx_received_compression(const corpc_ctx *ctx)
{
	return ctx->recv_compression;
}

corpc_status_code
corpc_ctx_send_headers(corpc_ctx *ctx)
{
	if (ctx->headers_sent) {
		return CORPC_STATUS_OK;
	}
	ctx->headers_sent = true;
	return ctx->ops->x_send_headers(ctx);
}

// Every rule checked, then the transport. Out of line: the armed push
// path in corpc_ctx_send needs no stack frame of its own for it.
static corpc_status_code ctx_send_checked(corpc_ctx *ctx,
    const ProtobufCMessage *msg, unsigned flags) __attribute__((noinline));

static corpc_status_code
ctx_send_checked(corpc_ctx *ctx, const ProtobufCMessage *msg, unsigned flags)
{
	const corpc_method *m = ctx->handler->method;
	if (msg == NULL || msg->descriptor != m->response) {
		ctx->broke_rule = true;
		return corpc_ctx_error(ctx, CORPC_STATUS_INTERNAL,
		    "%s: handler sent a message of the wrong type", m->path);
	}
	bool single = single_response(ctx);
	if (single && ctx->sends > 0) {
		ctx->broke_rule = true;
		return corpc_ctx_error(ctx, CORPC_STATUS_INTERNAL,
		    "%s: a %s method sends one response", m->path,
		    corpc_rpc_kind_name(m->kind));
	}
	ctx->headers_sent = true;
	if (ctx->call.n > 0) {
		corpc__call_message(&ctx->call, true, msg);
	}
	if (!single) {
		// A tail call: no frame of ours stays between the handler and
		// a coroutine switch in x_send (each costs a mispredicted
		// return when the handler is resumed).
		return ctx->ops->x_send(ctx, msg, flags);
	}
	corpc_status_code rc = ctx->ops->x_send(ctx, msg, flags);
	if (rc == CORPC_STATUS_OK) {
		ctx->sends++;
	}
	return rc;
}

static corpc_status_code ctx_push_stopped(corpc_ctx *ctx)
    __attribute__((noinline));

static corpc_status_code
ctx_push_stopped(corpc_ctx *ctx)
{
	ctx->push = NULL;
	return ctx->ops->x_push_stopped(ctx);
}

// The armed push path first: the type check (the rest holds while armed,
// see corpc__push_sink), the cancel flag, then the client's callback.
corpc_status_code
corpc_ctx_send(corpc_ctx *ctx, const ProtobufCMessage *msg, unsigned flags)
{
	const corpc__push_sink *p = ctx->push;
	if (__builtin_expect(
	        p != NULL && msg != NULL && msg->descriptor == p->response &&
	            atomic_load_explicit(p->cancel, memory_order_relaxed) == 0,
	        1)) {
		return p->fn(p->arg, msg) ? CORPC_STATUS_OK
		                          : ctx_push_stopped(ctx);
	}
	// A streaming method's message of the right type, no interceptors:
	// nothing else to check, and x_send is a tail call (no frame of ours
	// between the handler and a coroutine switch).
	const corpc_method *m = ctx->handler->method;
	if (__builtin_expect(msg != NULL && msg->descriptor == m->response &&
	                         !single_response(ctx) && ctx->call.n == 0,
	        1)) {
		ctx->headers_sent = true;
		return ctx->ops->x_send(ctx, msg, flags);
	}
	return ctx_send_checked(ctx, msg, flags);
}

corpc_status_code
corpc_ctx_recv(corpc_ctx *ctx, const ProtobufCMessage **msg)
{
	*msg                 = NULL;
	corpc_status_code rc = ctx->ops->x_recv(ctx, msg);
	if (*msg != NULL && ctx->call.n > 0) {
		corpc__call_message(&ctx->call, false, *msg);
	}
	return rc;
}

corpc_status_code
corpc_ctx_status(corpc_ctx *ctx, corpc_status_code code, const char *message)
{
	corpc__strbuf_set(&ctx->message, "%s", message != NULL ? message : "");
	return code;
}

corpc_status_code
corpc_ctx_error(corpc_ctx *ctx, corpc_status_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	corpc__strbuf_vset(&ctx->message, fmt, ap);
	va_end(ap);
	return code;
}
