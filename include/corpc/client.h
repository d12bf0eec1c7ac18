// SPDX-License-Identifier: MIT
// corpc: the client side. A channel is opened from an address; each call is
// a stream. The address alone chooses the transport:
//   inproc://NAME               a server in this process (coroutine handoff)
//   tcp://HOST:PORT             gRPC over HTTP/2
//   unix:///abs/path, unix:rel  gRPC over a Unix socket
//
// Message contract, the same on every transport:
// - a message returned by recv is borrowed: valid until the next recv,
//   finish or destroy on that stream. Do not modify or free it.
// - a message handed to a corpc_recv_fn (corpc_stream_recv_each) is
//   borrowed only until that callback returns.
// - a message passed to send (or to corpc_stream_open) is not retained after
//   the call returns: the caller may reuse or free it at once.
#ifndef CORPC_CLIENT_H
#define CORPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "corpc/connection.h"
#include "corpc/decl.h"
#include "corpc/interceptor.h"
#include "corpc/metadata.h"
#include "corpc/method.h"
#include "corpc/status.h"
#include "corpc/tls.h"
#include "corpc/write_flags.h"

#ifdef __cplusplus
extern "C" {
#endif

// No deadline.
#define CORPC_DEADLINE_NONE INT64_MAX

// Returns the current CLOCK_MONOTONIC time in nanoseconds, the clock of
// every corpc deadline. Any thread.
CORPC_DECL int64_t corpc_now(void);

// Per-call options. Zero-initialise, then set what you need; NULL means
// all defaults.
typedef struct corpc_call_opts {
	// Relative timeout in milliseconds; 0 means none.
	int64_t timeout_ms;
	// Absolute deadline on corpc_now()'s clock; 0 means none. With both
	// set, the earlier one wins.
	int64_t deadline;
	// Request metadata, copied when the call opens; not retained.
	const corpc_metadata *metadata;
	// The server call this call is made for, from inside its handler (on
	// any transport): the call's deadline is at most the parent's, and the
	// call is cancelled when the parent is (its client cancelled or left,
	// or the server shut down). Borrowed: destroy the stream before the
	// handler returns. NULL: none.
	corpc_ctx *parent;
	// Wait for the server instead of failing at once with UNAVAILABLE
	// while it cannot be reached (not listening, restarting, connecting):
	// the call starts when it can, or ends DEADLINE_EXCEEDED at its
	// deadline (set one). gRPC's wait-for-ready; in-process it waits for
	// a server to listen on the name.
	bool wait_for_ready;
	// How this call's requests are compressed; DEFAULT: the channel's.
	corpc_compression compression;
} corpc_call_opts;

// How a channel whose target names several addresses (ipv4:A,B or a DNS
// name with several records) spreads its calls.
typedef enum corpc_lb_policy {
	CORPC_LB_PICK_FIRST = 0, // gRPC's default: the first that connects
	CORPC_LB_ROUND_ROBIN,    // a connection to each, calls in turn
} corpc_lb_policy;

// Channel options. Zero-initialise; NULL means all defaults.
typedef struct corpc_channel_opts {
	// Largest message this client sends or accepts, in bytes; 0 means
	// 4 MiB. Over it: RESOURCE_EXHAUSTED. (Network transports.)
	size_t max_message_size;
	// Deepest nesting of messages accepted in a response (the response is
	// depth 0); 0 means 100. Checked before decoding, on every transport:
	// deeper ends the call INTERNAL "message nested deeper than N".
	unsigned max_message_depth;
	// Thread handoff (inproc://NAME?mode=thread[-copy]): messages in
	// flight each way before the sender waits; 0 means 256. Back-pressure:
	// a slow reader never makes the other side buffer more than this. A
	// bidi call whose client and handler both wait to send, each with
	// the other's queue full, ends RESOURCE_EXHAUSTED (README).
	size_t queue_depth;
	// Client interceptors, `interceptor_count` (at most
	// CORPC_MAX_INTERCEPTORS) of them, run in core for every call on the
	// channel (interceptor.h). Borrowed: must outlive the channel.
	const corpc_interceptor *interceptors;
	size_t                   interceptor_count;
	// TLS for tcp:// (tls.h); NULL means plaintext. unix:// and inproc://
	// ignore it. Read by corpc_channel_open only (gRPC copies the PEM
	// text).
	const corpc_tls_client *tls;
	// Keepalive pings from this client (tcp://, unix://; connection.h).
	// A server that permits fewer pings answers with GOAWAY
	// ("too_many_pings").
	corpc_keepalive keepalive;
	// For targets of several addresses (tcp:// names, dns:, ipv4:, ipv6:).
	corpc_lb_policy load_balancing;
	// How requests are compressed unless a call says otherwise (network
	// transports); DEFAULT and NONE: not at all. Responses are accepted in
	// any encoding gRPC knows, and inflated at most to max_message_size.
	corpc_compression compression;
	// Reconnect backoff after a connection fails (tcp://, unix://): the
	// first retry after `reconnect_initial_ms` (0: 100 ms), growing 1.6x
	// per failure up to `reconnect_max_ms` (0: 1 s), with gRPC's 20%
	// jitter; so by default a restarted server is reached within about a
	// second of its return. gRPC's own defaults are 1 s and 120 s.
	int64_t reconnect_initial_ms;
	int64_t reconnect_max_ms;
	// gRPC channel arguments passed through (connection.h),
	// `grpc_arg_count` of them. Borrowed: read by corpc_channel_open only.
	const corpc_grpc_arg *grpc_args;
	size_t                grpc_arg_count;
} corpc_channel_opts;

typedef struct corpc_channel corpc_channel;
typedef struct corpc_stream  corpc_stream;

// Opens a channel to `address` in *out. Connecting is lazy: a server that is
// not there yet is an UNAVAILABLE status on the call, not an error here.
// Thread-safe: one channel serves calls from many threads. Caller owns the
// channel and frees it with corpc_channel_close.
// Errors: CORPC_EADDRINVAL (malformed address), CORPC_ENOTSUP (transport not
// built), CORPC_EINVAL (NULL argument), CORPC_ETLS (tcp:// with opts->tls
// whose certificates or key do not parse or match; see tls.h),
// CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_channel_open(
    const char *address, const corpc_channel_opts *opts, corpc_channel **out);

// Closes the channel. Every stream opened on it must be destroyed first.
// NULL is allowed.
CORPC_DECL void corpc_channel_close(corpc_channel *ch);

// Returns the address the channel was opened with. Borrowed from `ch`.
CORPC_DECL const char *corpc_channel_address(const corpc_channel *ch);

// A channel's connectivity state, as gRPC defines it.
typedef enum corpc_channel_state {
	CORPC_CHANNEL_IDLE,              // no connection, none being made
	CORPC_CHANNEL_CONNECTING,        // connecting
	CORPC_CHANNEL_READY,             // connected: calls go out at once
	CORPC_CHANNEL_TRANSIENT_FAILURE, // failed; retrying with backoff
	CORPC_CHANNEL_SHUTDOWN,          // closed
} corpc_channel_state;

// Returns the channel's state. With `try_to_connect`, an IDLE network
// channel starts connecting. In-process channels are READY while a server
// listens on their name, else TRANSIENT_FAILURE. Any thread; never blocks.
CORPC_DECL corpc_channel_state corpc_channel_get_state(
    corpc_channel *ch, bool try_to_connect);

// Waits until the channel's state is no longer `last`, or `deadline`
// (corpc_now()'s clock; CORPC_DEADLINE_NONE: no limit) passes; returns
// true if it changed. Suspends a calling task, blocks a plain thread; the
// state is looked at every 10 ms, so short-lived states may be missed.
CORPC_DECL bool corpc_channel_wait_state_change(
    corpc_channel *ch, corpc_channel_state last, int64_t deadline);

// Returns the state's name ("READY"). Static string.
CORPC_DECL const char *corpc_channel_state_name(corpc_channel_state s);

// Starts a call of `method` on `ch` and returns its stream in *out.
// For unary and server-streaming methods, `request` is the one request
// (required; sent and half-closed here; not retained after return). For
// client-streaming and bidi methods, `request` must be NULL: send messages
// with corpc_stream_send. A call that fails (no server, unknown method,
// deadline) still opens: its status comes from recv and finish.
// The caller owns the stream and must corpc_stream_destroy it. A stream is
// driven by one thread at a time; only corpc_stream_cancel may race.
// Errors: CORPC_EINVAL (NULL channel or method, request given or missing
// against the method's kind, metadata invalid), CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_stream_open(corpc_channel *ch,
    const corpc_method *method, const corpc_call_opts *opts,
    const ProtobufCMessage *request, corpc_stream **out);

// Sends one message (client and bidi streaming). `msg` must be of the
// method's request type; not retained after return. `flags`: 0, or
// CORPC_WRITE_MORE and/or CORPC_WRITE_NO_COMPRESS (write_flags.h). Returns
// CORPC_STATUS_OK, or the call's final code once it has ended (then finish
// gives the message) — never OK for a dead call. FAILED_PRECONDITION if the
// method does not take a request stream or the send side is closed.
CORPC_DECL corpc_status_code corpc_stream_send(
    corpc_stream *st, const ProtobufCMessage *msg, unsigned flags);

// The encoding the last message received on `st` came in: NONE when it
// was not compressed (always in-process), GZIP or DEFLATE otherwise.
CORPC_DECL corpc_compression corpc_stream_received_compression(
    const corpc_stream *st);

// Half-closes: no more messages from the client. Idempotent. Returns OK or
// the call's final code if it has already ended.
CORPC_DECL corpc_status_code corpc_stream_close_send(corpc_stream *st);

// Receives the next message into *msg (borrowed, see the message contract).
// Returns CORPC_STATUS_OK with *msg set to a message; at the end of the
// stream *msg is NULL and the return value is the call's final code:
// CORPC_STATUS_OK only for a clean end, never for a cancelled, expired or
// failed call. Blocks until a message or the end arrives.
CORPC_DECL corpc_status_code corpc_stream_recv(
    corpc_stream *st, const ProtobufCMessage **msg);

// Push-style receive: called by corpc_stream_recv_each with each message
// in order. `msg` is borrowed for the duration of the call only: it may
// live on the server handler's stack, so copy what must outlive the
// callback. Return true for the next message; false stops the stream early.
typedef bool (*corpc_recv_fn)(void *arg, const ProtobufCMessage *msg);

// Receives every remaining message of `st`, handing each to fn(arg, msg),
// then finishes the call (as corpc_stream_finish) and returns its final
// code: OK only for a clean end. Full semantics on every transport: the
// headers are ready before the first callback (corpc_stream_headers inside
// it returns at once), the status and trailers once this returns; the
// deadline and corpc_stream_cancel (from any thread) end it as they end
// recv. When fn returns false the call is cancelled: no further callback
// runs, the server's sends return CANCELLED (in-process its next one, on
// the network once the cancel arrives) and its handler unwinds, and the
// code is CANCELLED ("stopped by the receive callback", also when the
// server had already finished).
// fn runs on the calling thread. On the coroutine transport (inproc://)
// the handler's send calls fn directly on one stack: no switch, no copy,
// and no CORPC_WRITE_STABLE promise needed; elsewhere a recv loop in core
// calls it. Inside fn, only corpc_stream_headers and corpc_stream_cancel
// may be used on `st`, so a bidi call sends everything and half-closes
// first (a handler that waits for more input waits until the deadline; on
// inproc:// the call ends FAILED_PRECONDITION at once); fn must not block
// for long (it holds up the handler) and must not leave by longjmp. On
// inproc:// a server-streaming handler may run on the calling thread's
// stack (a task's only when it has the server's stack_size of room). A
// stream already finished
// returns its code without calling fn. Errors: INVALID_ARGUMENT for a NULL
// `st` or `fn`.
CORPC_DECL corpc_status_code corpc_stream_recv_each(
    corpc_stream *st, corpc_recv_fn fn, void *arg);

// Waits for the server's response headers and returns them in *md
// (borrowed until destroy; empty when the call failed before any). Returns
// OK, or the call's final code when it ended without headers.
CORPC_DECL corpc_status_code corpc_stream_headers(
    corpc_stream *st, const corpc_metadata **md);

// Ends the call and returns its final code; fills *status if not NULL
// (message borrowed until destroy). If the server has not finished, this is
// an early stop: the call is cancelled, the server unwinds, and the code is
// CANCELLED. Idempotent: later calls return the same status.
CORPC_DECL corpc_status_code corpc_stream_finish(
    corpc_stream *st, corpc_status *status);

// Trailing metadata, valid after finish and until destroy; empty before.
CORPC_DECL const corpc_metadata *corpc_stream_trailers(const corpc_stream *st);

// The call's rich error details, valid like corpc_stream_trailers: sets
// *bytes and *len to the serialized google.rpc.Status the server sent in
// CORPC_STATUS_DETAILS_KEY and returns true, or returns false when it sent
// none. Parse it with google/rpc/status.proto's generated code.
CORPC_DECL bool corpc_stream_status_details(
    const corpc_stream *st, const void **bytes, size_t *len);

// Cancels the call: pending and later operations return CANCELLED and the
// server sees CANCELLED. Safe from any thread, also while another thread
// drives the stream; idempotent; no effect on a finished call.
CORPC_DECL void corpc_stream_cancel(corpc_stream *st);

// Finishes the call if needed (see finish) and frees the stream and every
// message and status borrowed from it. NULL is allowed.
CORPC_DECL void corpc_stream_destroy(corpc_stream *st);

// One unary call: opens, waits for the reply, finishes. On return *st holds
// the finished stream (status, headers, trailers) and *response the reply,
// borrowed until corpc_stream_destroy(*st); *response is NULL when the code
// is not OK. Returns the final code; a library error at open (see
// corpc_stream_open) becomes INVALID_ARGUMENT or RESOURCE_EXHAUSTED with
// *st NULL.
CORPC_DECL corpc_status_code corpc_unary_call(corpc_channel *ch,
    const corpc_method *method, const corpc_call_opts *opts,
    const ProtobufCMessage *request, const ProtobufCMessage **response,
    corpc_stream **st);

#ifdef __cplusplus
}
#endif

#endif // CORPC_CLIENT_H
