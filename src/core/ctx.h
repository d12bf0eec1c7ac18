// SPDX-License-Identifier: MIT
// Internal: the server-side call state every transport shares. A transport
// embeds struct corpc_ctx in its own call type and fills `ops`.
#ifndef CORPC_CORE_CTX_H
#define CORPC_CORE_CTX_H

#include <stdatomic.h>
#include <stdbool.h>

#include "corpc/client.h"
#include "corpc/server.h"
#include "core/intercept.h"
#include "core/strbuf.h"

typedef struct corpc__ctx_ops {
	// Deliver one response message; core has checked the unary rule. The
	// transport delivers ctx->headers first if it has not yet done so
	// (core sets ctx->headers_sent to refuse later set_header calls).
	corpc_status_code (*x_send)(
	    corpc_ctx *ctx, const ProtobufCMessage *msg, unsigned flags);
	// Next request message, or NULL at half-close.
	corpc_status_code (*x_recv)(
	    corpc_ctx *ctx, const ProtobufCMessage **msg);
	// Deliver ctx->headers now.
	corpc_status_code (*x_send_headers)(corpc_ctx *ctx);
	// True once the call is cancelled or expired.
	bool (*x_is_cancelled)(corpc_ctx *ctx);
	// Cancel the call from any thread (server shutdown); the handler's
	// next send/recv returns CANCELLED.
	void (*x_cancel)(corpc_ctx *ctx);
	// Optional: who is calling (corpc_ctx_peer); NULL means in-process.
	corpc_err (*x_peer)(corpc_ctx *ctx, corpc_peer *out);
	// Required of a transport that arms ctx->push: its callback said
	// stop (core has disarmed it). The message was delivered; the return
	// is what that send returns.
	corpc_status_code (*x_push_stopped)(corpc_ctx *ctx);
} corpc__ctx_ops;

// Push-style receive's direct path: while ctx->push points here,
// corpc_ctx_send hands each message of the method's response type straight
// to fn (the client's corpc_stream_recv_each callback), without calling the
// transport. A transport arms it only where fn may run on the handler's
// thread and nothing per message is left for it to do: headers delivered,
// no deadline to watch, no interceptors, a server-streaming or bidi method.
// It disarms it (ctx->push = NULL) on the handler's thread; a cancel from
// any thread sets *cancel instead, which every send reads first.
typedef struct corpc__push_sink {
	corpc_recv_fn                     fn;
	void                             *arg;
	const ProtobufCMessageDescriptor *response;
	atomic_int *cancel; // non-zero: ending; sends take the transport
} corpc__push_sink;

// What a registered method resolves to.
typedef struct corpc__handler {
	const corpc_method *method;
	corpc_handler_fn    fn;
	const void         *impl;
	void               *self;
} corpc__handler;

struct corpc_ctx {
	const corpc__ctx_ops *ops;
	const corpc__handler *handler;
	const corpc_metadata *request_md; // borrowed from the transport
	int64_t               deadline;
	corpc_metadata       *headers;  // owned; kept across reuse
	corpc_metadata       *trailers; // owned; kept across reuse
	corpc__strbuf         message;  // status message from corpc_ctx_error
	unsigned              sends;    // single-response methods: sent
	bool                  headers_sent;
	bool                  returned;   // the handler has returned
	bool                  broke_rule; // e.g. a unary handler sent twice
	corpc_server         *server;
	corpc_ctx            *live_next; // server's list of live calls
	corpc_ctx            *live_prev;
	corpc_call            call; // interceptors; call.n == 0: none
	corpc_compression     send_compression; // set_compression; DEFAULT
	corpc_compression     recv_compression; // of the last request
	// Calls made with this ctx as their parent (corpc_call_opts.parent),
	// under kids_lock (a spin lock: zero is unlocked, as calloc leaves
	// it).
	atomic_bool   kids_lock;
	bool          kids_cancelled;
	corpc_stream *kids;

	// Push-style receive's armed direct path, or NULL.
	const corpc__push_sink *push;
};

// Prepares a ctx for a new call (first use or reuse).
// Errors: CORPC_ENOMEM (first use only).
corpc_err corpc__ctx_init(corpc_ctx *ctx, const corpc__ctx_ops *ops,
    const corpc__handler *handler, const corpc_metadata *request_md,
    int64_t deadline);

// Runs the handler and returns its code, with the status message in
// ctx->message. Sets ctx->returned. Enforces: a unary or client-streaming
// handler that returns OK without one response yields INTERNAL.
corpc_status_code corpc__ctx_run(corpc_ctx *ctx);

// The call of `ctx` was cancelled (its client cancelled or left, or the
// server cancels it): cancels every child call and any opened later.
// Transports call it when they learn of it; any thread; idempotent.
void corpc__ctx_cancelled(corpc_ctx *ctx);

// Clears the child list for a new call (corpc__ctx_init does it).
void corpc__ctx_reset_kids(corpc_ctx *ctx);

// Links child stream `st` to its parent `ctx` (cancelled at once if the
// parent already is), and unlinks it. Core's stream open and destroy.
void corpc__ctx_adopt(corpc_ctx *ctx, corpc_stream *st);
void corpc__ctx_disown(corpc_ctx *ctx, corpc_stream *st);

// Frees what corpc__ctx_init allocated.
void corpc__ctx_fini(corpc_ctx *ctx);

#endif // CORPC_CORE_CTX_H
