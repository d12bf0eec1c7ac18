// SPDX-License-Identifier: MIT
// Internal: the contract a transport implements, the one place that states
// it. Core (src/core) owns the public API, argument checks and the state
// every transport shares; a transport fills one corpc__transport with its
// ops tables and is listed, once per scheme it serves, in transport.c, which
// refuses a transport missing a required op.
//
// Ownership of messages (`msg`):
// - s_send, x_send: `msg` is borrowed for the call only (not retained after
//   return) unless the flags promise more; a transport copies whatever it
//   keeps. A transport may keep a server message without copying while its
//   x_send has not returned (the handler cannot touch it meanwhile).
// - s_recv, x_recv: *msg is lent to the caller until its next recv on that
//   call, s_finish or s_destroy (x_recv: until the handler's next recv or
//   return). The transport frees it.
// - s_open's `request` and `a->md` are not retained after return.
// Flags of s_send / x_send (include/corpc/client.h):
// - CORPC_WRITE_MORE: more messages follow at once; the transport may hold
//   this one back and publish it with a later send, a recv, a half-close or
//   the handler's return (never later than that).
// - CORPC_WRITE_STABLE (x_send only): `msg` stays valid and unchanged until
//   the client has finished or destroyed the stream (server.h), not merely
//   until the handler returns, so the transport may hand out the very
//   pointer later and return at once.
// - CORPC_WRITE_NO_COMPRESS: network transports send it uncompressed.
// Threads:
// - c_state and s_cancel: any thread, at any time; they never block.
// - Every other s_* op runs on the thread that drives the call (the user's
//   thread or task), one at a time. x_* ops run on the handler's thread,
//   except x_cancel (any thread, e.g. server shutdown).
// - c_open/c_close and l_* run on the thread calling the public API that
//   needs them.
// Lock order: core's locks come before a transport's, and transports never
// call back into core while core holds a lock. The in-process registry's
// lock is taken before a server's (corpc__server_call_begin runs under it);
// per-call locks (a ring's waiter) are leaves: nothing is taken under them.
// A call on a server: before the handler may run, the transport registers
// it with corpc__server_call_begin (it answers UNAVAILABLE while shutting
// down, RESOURCE_EXHAUSTED at max_concurrent_calls); it calls
// corpc__server_call_end exactly once, when the call object is released
// (s_destroy, or the handler's thread for a call the client gave up on).
#ifndef CORPC_TRANSPORT_H
#define CORPC_TRANSPORT_H

#include "core/address.h"
#include "core/ctx.h"
#include "core/stream.h"

// How core asks a transport to start a call (s_open).
typedef struct corpc__open_args {
	int64_t               deadline; // CORPC_DEADLINE_NONE: none
	const corpc_metadata *md;       // request metadata; NULL: none
	corpc_ctx            *parent;   // corpc_call_opts.parent; NULL: none
	// corpc_call_opts.wait_for_ready: wait for the server instead of
	// failing UNAVAILABLE while it is not there (until the deadline).
	bool wait_for_ready;
	// Requests' encoding (the call's, else the channel's); DEFAULT or
	// NONE: uncompressed. Network transports only.
	corpc_compression compression;
} corpc__open_args;

typedef struct corpc__channel_ops {
	// Prepares channel state in *state (no connection needed yet).
	corpc_err (*c_open)(corpc_channel *ch, const corpc__address *addr,
	    const corpc_channel_opts *opts, void **state);
	// Frees channel state; every stream is already destroyed.
	void (*c_close)(void *state);
	// The channel's connectivity state now; any thread, never blocks.
	// `try_to_connect` starts connecting an idle channel.
	corpc_channel_state (*c_state)(void *state, bool try_to_connect);

	// Allocates a stream for `method`, calls corpc__stream_init on it, and
	// starts the call as `a` says. `request` is the one request of unary
	// and server-streaming methods (not retained after return), else NULL.
	// A call that fails for a gRPC reason still returns a stream, with
	// corpc__stream_end set. With `a->parent`, the transport calls
	// corpc__ctx_adopt(parent, st) as soon as s_cancel works on the stream
	// and before any handler runs (an in-process handler may run inside
	// s_open). Errors: CORPC_ENOMEM (then nothing is adopted).
	corpc_err (*s_open)(void *state, corpc_channel *ch,
	    const corpc_method *method, const corpc__open_args *a,
	    const ProtobufCMessage *request, corpc_stream **out);
	// Send one message; core has checked kind and half-close state.
	corpc_status_code (*s_send)(
	    corpc_stream *st, const ProtobufCMessage *msg, unsigned flags);
	// Half-close; core calls it once.
	corpc_status_code (*s_close_send)(corpc_stream *st);
	// Next message, or NULL and corpc__stream_end at the end. Core never
	// calls it after the end. A transport calls corpc__stream_end only
	// once every message before the status has been handed out (or on
	// cancel, deadline, failure), since core stops calling s_recv after
	// it.
	corpc_status_code (*s_recv)(
	    corpc_stream *st, const ProtobufCMessage **msg);
	// Optional push-style receive (corpc_stream_recv_each): hand every
	// remaining message to fn, in order, on the calling thread, until the
	// end (then corpc__stream_end) or until fn returns false: then stop
	// calling it and return true, the call cancelled or not yet ended
	// (core finishes it). Headers are delivered before the first message.
	// NULL: core loops over s_recv. Core calls it only before the end and
	// only on calls without interceptors.
	bool (*s_recv_each)(corpc_stream *st, corpc_recv_fn fn, void *arg);
	// Wait until headers arrived (st->headers filled) or the call ended.
	void (*s_headers)(corpc_stream *st);
	// Reach the end and corpc__stream_end. With `cancel`, an unfinished
	// call is cancelled (early stop) and the server unwound; without it (a
	// unary or client-streaming call whose response arrived) wait for the
	// server's status. Core calls it once, never after the end.
	void (*s_finish)(corpc_stream *st, bool cancel);
	// Request cancellation; any thread, may race with the driving thread.
	void (*s_cancel)(corpc_stream *st);
	// Free the stream (finished already) and whatever it lent out.
	void (*s_destroy)(corpc_stream *st);
} corpc__channel_ops;

typedef struct corpc__listener_ops {
	// Binds `addr` for `srv`; state in *state; bound address written into
	// `bound` (NUL-terminated). Errors: CORPC_EADDRINUSE, CORPC_ESYS, ...
	corpc_err (*l_listen)(corpc_server *srv, const corpc__address *addr,
	    void **state, char *bound, size_t bound_size);
	// Starts accepting. Core has started nothing else yet.
	corpc_err (*l_start)(void *state);
	// Shutdown, step 1: stop accepting calls (new ones see UNAVAILABLE);
	// calls in flight go on. Must not wait for them.
	void (*l_stop)(void *state);
	// Within core's grace, once no handler runs: wait until this
	// listener's calls have finished too (a status still being written),
	// or `until` passes, so that step 2 cancels only what is really left.
	// NULL: nothing to wait for.
	void (*l_drain)(void *state, int64_t until);
	// Step 2, after core's grace: cancel whatever of this listener still
	// runs (core also cancels every live ctx through x_cancel).
	void (*l_cancel)(void *state);
	// Step 3: wait until everything this listener started has ended (its
	// handlers returned and its calls released).
	void (*l_wait)(void *state);
	// Frees the listener (after l_wait, or instead of the three steps if
	// the server never started).
	void (*l_destroy)(void *state);
} corpc__listener_ops;

typedef struct corpc__transport {
	const char                *name;     // "coro", "grpc", ...
	const corpc__channel_ops  *channel;  // NULL: cannot dial
	const corpc__listener_ops *listener; // NULL: cannot listen
	// Its part of an address core parsed (inproc: the ?query): true when
	// this transport serves `addr`. NULL: every address of its scheme.
	bool (*t_serves)(const corpc__address *addr);
	// Its server produces a message only when the client asks for one
	// (on the client's own thread): a consumer that waits on several such
	// calls from one thread must pull them in turn, or use a thread each.
	bool pull_driven;
} corpc__transport;

// Looks up the transport for a parsed address: the first one built for its
// scheme that serves it (t_serves) and can dial (or, with `listen`,
// listen). Errors: CORPC_EADDRINVAL when no transport of that scheme serves
// it (an unknown inproc ?mode=), CORPC_ENOTSUP when the scheme's transport
// is not built.
corpc_err corpc__transport_for(
    const corpc__address *addr, bool listen, const corpc__transport **out);

// True when `tp` has every op its tables require (transport.c refuses it
// otherwise).
bool corpc__transport_complete(const corpc__transport *tp);

#endif // CORPC_TRANSPORT_H
