// SPDX-License-Identifier: MIT
// Client streams: argument and state checks shared by every transport; the
// transport's ops do the rest.
#include <stdarg.h>
#include <time.h>

#include "core/channel.h"
#include "core/ctx.h"
#include "core/metadata_impl.h"
#include "core/stream.h"

int64_t
corpc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

corpc_err
corpc__stream_init(corpc_stream *st, const corpc__channel_ops *ops,
    corpc_channel *ch, const corpc_method *method, int64_t deadline)
{
	corpc_err rv;
	if ((rv = corpc__metadata_reset(&st->headers)) != CORPC_OK ||
	    (rv = corpc__metadata_reset(&st->trailers)) != CORPC_OK) {
		return rv;
	}
	st->ops              = ops;
	st->ch               = ch;
	st->method           = method;
	st->deadline         = deadline;
	st->code             = CORPC_STATUS_OK;
	st->ended            = false;
	st->finished         = false;
	st->send_closed      = false;
	st->headers_ready    = false;
	st->got_response     = false;
	st->recv_compression = CORPC_COMPRESS_NONE;
	st->call.n           = 0;
	st->parent           = NULL;
	corpc__strbuf_clear(&st->message);
	return CORPC_OK;
}

void
corpc__stream_end(
    corpc_stream *st, corpc_status_code code, const char *fmt, ...)
{
	if (st->ended) {
		return;
	}
	st->ended = true;
	st->code  = code;
	va_list ap;
	va_start(ap, fmt);
	corpc__strbuf_vset(&st->message, fmt, ap);
	va_end(ap);
}

void
corpc__stream_fini(corpc_stream *st)
{
	corpc_metadata_destroy(st->headers);
	corpc_metadata_destroy(st->trailers);
	corpc__strbuf_fini(&st->message);
	st->headers  = NULL;
	st->trailers = NULL;
}

static bool
takes_one_request(corpc_rpc_kind kind)
{
	return kind == CORPC_RPC_UNARY || kind == CORPC_RPC_SERVER_STREAMING;
}

static bool
gives_one_response(corpc_rpc_kind kind)
{
	return kind == CORPC_RPC_UNARY || kind == CORPC_RPC_CLIENT_STREAMING;
}

static int64_t
deadline_of(const corpc_call_opts *opts)
{
	int64_t dl = CORPC_DEADLINE_NONE;
	if (opts == NULL) {
		return dl;
	}
	if (opts->parent != NULL) {
		dl = corpc_ctx_deadline(
		    opts->parent); // never later than the parent
	}
	if (opts->deadline > 0 && opts->deadline < dl) {
		dl = opts->deadline;
	}
	if (opts->timeout_ms > 0) {
		int64_t t = corpc_now() + opts->timeout_ms * 1000000;
		if (t < dl) {
			dl = t;
		}
	}
	return dl;
}

// Opening through the channel's interceptors: they may add metadata (to a
// copy), shorten the deadline, see the request, or refuse the call, which
// then never reaches the transport.
static corpc_err
open_intercepted(corpc_channel *ch, const corpc_method *method,
    corpc__open_args a, const ProtobufCMessage *request, corpc_stream **out)
{
	const corpc_metadata *md       = a.md;
	int64_t               deadline = a.deadline;
	corpc_metadata       *copy;
	corpc_err             rv;
	if ((rv = corpc_metadata_create(&copy)) != CORPC_OK) {
		return rv;
	}
	if ((rv = corpc__metadata_copy(copy, md)) != CORPC_OK) {
		corpc_metadata_destroy(copy);
		return rv;
	}
	corpc_call call;
	corpc__call_init(&call, ch->opts.interceptors,
	    ch->opts.interceptor_count, false, method, copy, deadline, NULL);
	corpc_status_code code = corpc__call_start(&call);
	if (code == CORPC_STATUS_OK && request != NULL) {
		corpc__call_message(&call, true, request);
	}
	if (code != CORPC_STATUS_OK) {
		rv = corpc__failed_stream_open(
		    ch, method, code, call.refusal, out);
	} else {
		a.deadline = call.deadline;
		a.md       = copy;
		rv         = ch->tp->channel->s_open(
		            ch->state, ch, method, &a, request, out);
	}
	corpc_metadata_destroy(copy);
	call.md = NULL; // the transport kept its own copy
	if (rv != CORPC_OK) {
		corpc__call_finish(&call, CORPC_STATUS_RESOURCE_EXHAUSTED,
		    corpc_strerror(rv));
		return rv;
	}
	(*out)->call = call;
	if (request != NULL) {
		(*out)->send_closed = true;
	}
	return CORPC_OK;
}

corpc_err
corpc_stream_open(corpc_channel *ch, const corpc_method *method,
    const corpc_call_opts *opts, const ProtobufCMessage *request,
    corpc_stream **out)
{
	if (out != NULL) {
		*out = NULL;
	}
	if (ch == NULL || method == NULL || out == NULL) {
		return CORPC_EINVAL;
	}
	if (takes_one_request(method->kind) != (request != NULL)) {
		return CORPC_EINVAL;
	}
	if (request != NULL && request->descriptor != method->request) {
		return CORPC_EINVAL;
	}
	corpc__open_args a = {
	    .deadline       = deadline_of(opts),
	    .md             = opts != NULL ? opts->metadata : NULL,
	    .parent         = opts != NULL ? opts->parent : NULL,
	    .wait_for_ready = opts != NULL && opts->wait_for_ready,
	    .compression =
	        opts != NULL ? opts->compression : CORPC_COMPRESS_DEFAULT,
	};
	if (a.compression == CORPC_COMPRESS_DEFAULT) {
		a.compression = ch->opts.compression;
	}
	if (ch->opts.interceptor_count > 0) {
		return open_intercepted(ch, method, a, request, out);
	}
	corpc_err rv =
	    ch->tp->channel->s_open(ch->state, ch, method, &a, request, out);
	if (rv == CORPC_OK && request != NULL) {
		(*out)->send_closed = true;
	}
	return rv;
}

// A failed op on an ended call reports the final code; a call that ended
// OK while the client still wanted to send says so distinctly.
static corpc_status_code
after_end(corpc_stream *st)
{
	return st->code != CORPC_STATUS_OK ? st->code
	                                   : CORPC_STATUS_FAILED_PRECONDITION;
}

corpc_status_code
corpc_stream_send(
    corpc_stream *st, const ProtobufCMessage *msg, unsigned flags)
{
	if (st == NULL || msg == NULL ||
	    msg->descriptor != st->method->request) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	if (takes_one_request(st->method->kind) || st->send_closed) {
		return CORPC_STATUS_FAILED_PRECONDITION;
	}
	if (st->ended) {
		return after_end(st);
	}
	if (st->call.n > 0) {
		corpc__call_message(&st->call, true, msg);
	}
	corpc_status_code rc = st->ops->s_send(st, msg, flags);
	if (rc != CORPC_STATUS_OK && st->ended) {
		return after_end(st);
	}
	return rc;
}

corpc_status_code
corpc_stream_close_send(corpc_stream *st)
{
	if (st == NULL) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	if (st->send_closed || st->ended) {
		return st->ended ? st->code : CORPC_STATUS_OK;
	}
	st->send_closed = true;
	return st->ops->s_close_send(st);
}

corpc_status_code
corpc_stream_recv(corpc_stream *st, const ProtobufCMessage **msg)
{
	if (msg != NULL) {
		*msg = NULL;
	}
	if (st == NULL || msg == NULL) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	if (st->ended || st->finished) {
		return st->code;
	}
	corpc_status_code rc = st->ops->s_recv(st, msg);
	if (*msg != NULL) {
		st->got_response = true;
		if (st->call.n > 0) {
			corpc__call_message(&st->call, false, *msg);
		}
		return CORPC_STATUS_OK;
	}
	if (!st->ended) {
		// A transport must end the call when it has no message to
		// give.
		corpc__stream_end(st,
		    rc != CORPC_STATUS_OK ? rc : CORPC_STATUS_INTERNAL,
		    "transport gave no message and no status");
	}
	return st->code;
}

corpc_status_code
corpc_stream_headers(corpc_stream *st, const corpc_metadata **md)
{
	if (st == NULL) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	if (!st->headers_ready && !st->ended) {
		st->ops->s_headers(st);
	}
	if (md != NULL) {
		*md = st->headers;
	}
	return st->headers_ready ? CORPC_STATUS_OK : st->code;
}

// Finishes the call once; `stopped`: the receive callback stopped it, so
// an unfinished call is cancelled and a clean or cancelled end says why.
static void
finish_once(corpc_stream *st, bool stopped)
{
	if (!st->finished) {
		st->finished = true;
		if (!st->ended) {
			bool cancel = stopped ||
			              !(gives_one_response(st->method->kind) &&
			                  st->got_response);
			st->ops->s_finish(st, cancel);
		}
		if (stopped && (st->code == CORPC_STATUS_OK ||
		                   st->code == CORPC_STATUS_CANCELLED)) {
			st->code = CORPC_STATUS_CANCELLED;
			corpc__strbuf_set(
			    &st->message, "stopped by the receive callback");
		}
		if (st->call.n > 0) {
			corpc__call_finish(&st->call, st->code,
			    corpc__strbuf_get(&st->message));
		}
	}
}

corpc_status_code
corpc_stream_finish(corpc_stream *st, corpc_status *status)
{
	if (st == NULL) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	finish_once(st, false);
	if (status != NULL) {
		status->code    = st->code;
		status->message = corpc__strbuf_get(&st->message);
	}
	return st->code;
}

corpc_status_code
corpc_stream_recv_each(corpc_stream *st, corpc_recv_fn fn, void *arg)
{
	if (st == NULL || fn == NULL) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	bool stopped = false;
	if (st->finished || st->ended) {
		// Nothing left to hand out.
	} else if (st->ops->s_recv_each != NULL && st->call.n == 0) {
		stopped = st->ops->s_recv_each(st, fn, arg);
	} else {
		const ProtobufCMessage *m;
		while (!stopped &&
		       corpc_stream_recv(st, &m) == CORPC_STATUS_OK &&
		       m != NULL) {
			stopped = !fn(arg, m);
		}
	}
	finish_once(st, stopped);
	return st->code;
}

const corpc_metadata *
corpc_stream_trailers(const corpc_stream *st)
{
	return st != NULL ? st->trailers : NULL;
}

corpc_compression
corpc_stream_received_compression(const corpc_stream *st)
{
	return st != NULL ? st->recv_compression : CORPC_COMPRESS_NONE;
}

bool
corpc_stream_status_details(
    const corpc_stream *st, const void **bytes, size_t *len)
{
	const corpc_metadata_entry *e = corpc_metadata_get(
	    corpc_stream_trailers(st), CORPC_STATUS_DETAILS_KEY);
	if (e == NULL || bytes == NULL || len == NULL) {
		return false;
	}
	*bytes = e->value;
	*len   = e->value_len;
	return true;
}

void
corpc_stream_cancel(corpc_stream *st)
{
	if (st != NULL) {
		st->ops->s_cancel(st);
	}
}

void
corpc_stream_destroy(corpc_stream *st)
{
	if (st == NULL) {
		return;
	}
	corpc_stream_finish(st, NULL);
	if (st->parent != NULL) {
		corpc__ctx_disown(st->parent, st);
	}
	st->ops->s_destroy(st);
}

corpc_status_code
corpc_unary_call(corpc_channel *ch, const corpc_method *method,
    const corpc_call_opts *opts, const ProtobufCMessage *request,
    const ProtobufCMessage **response, corpc_stream **st)
{
	if (response != NULL) {
		*response = NULL;
	}
	if (st != NULL) {
		*st = NULL;
	}
	if (response == NULL || st == NULL || method == NULL ||
	    method->kind != CORPC_RPC_UNARY) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	corpc_err rv = corpc_stream_open(ch, method, opts, request, st);
	if (rv != CORPC_OK) {
		return rv == CORPC_ENOMEM ? CORPC_STATUS_RESOURCE_EXHAUSTED
		                          : CORPC_STATUS_INVALID_ARGUMENT;
	}
	const ProtobufCMessage *m = NULL;
	corpc_stream_recv(*st, &m);
	corpc_status_code code = corpc_stream_finish(*st, NULL);
	if (code == CORPC_STATUS_OK && m == NULL) {
		// A peer that ends a unary call OK without a response broke
		// it.
		(*st)->code = CORPC_STATUS_INTERNAL;
		corpc__strbuf_set(
		    &(*st)->message, "%s: no response message", method->path);
		return CORPC_STATUS_INTERNAL;
	}
	*response = code == CORPC_STATUS_OK ? m : NULL;
	return code;
}
