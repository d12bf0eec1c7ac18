// SPDX-License-Identifier: MIT
// corpc: fan-out. One server-streaming (or unary) call is started on N
// backend channels at once and their responses come back as one merged
// stream, whatever transport each backend uses (inproc://, tcp://, unix://).
//
// How backends progress. Every backend call starts in corpc_fanout_open.
// An in-process coroutine backend (inproc://NAME, mode=coro) produces only
// when pulled, so it is pulled on the caller's thread, exactly when the
// merge needs its next message: no thread, no copy. Any other backend
// (network, or inproc with mode=thread) gets a reader thread that receives
// ahead into a bounded queue of 32 messages, so remote backends progress
// concurrently, "interleave" follows arrival order, and a stalled backend
// can be timed out. The queue holds copies (the transport's message is
// only borrowed until the reader's next recv), each in a reused arena: one
// copy per message, no malloc in steady state, back-pressure when full.
// corpc_fanout_opts.pull overrides the choice.
//
// Message contract: a message returned by corpc_fanout_recv is borrowed
// until the next corpc_fanout_recv, finish or destroy on the fan-out — the
// same rule as corpc_stream_recv. From a coroutine backend it is the very
// pointer its handler sent (zero copy); from a reader thread, its copy.
//
// Threads: a fan-out is driven by one thread at a time; corpc_fanout_cancel
// may be called from any thread. Callbacks (compare, key) run on the driving
// thread with no corpc lock held.
#ifndef CORPC_FANOUT_H
#define CORPC_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "corpc/client.h"
#include "corpc/decl.h"
#include "corpc/method.h"
#include "corpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// The trailer corpc_fanout_serve sets when backends failed: a
// comma-separated list of "index:code" (numeric gRPC codes), e.g. "1:14,3:4".
#define CORPC_FANOUT_FAILED_KEY "x-fanout-failed"

// How the backends' streams are merged.
typedef enum corpc_fanout_merge {
	// Backend 0's messages, then backend 1's, ... (backend order).
	CORPC_FANOUT_CONCAT = 0,
	// As messages arrive: network backends in arrival order, coroutine
	// backends round-robin (they produce only when pulled); the two kinds
	// take turns. Each backend's own order is kept.
	CORPC_FANOUT_INTERLEAVE = 1,
	// k-way merge by `compare` of streams that are each sorted; equal
	// messages come out in backend order. Needs one message of every live
	// backend before each output. Unsorted input gives some interleaving
	// that keeps each backend's order.
	CORPC_FANOUT_SORTED = 2,
} corpc_fanout_merge;

// What a backend error does to the merged call.
typedef enum corpc_fanout_on_error {
	// The first backend error ends the merged call with that backend's
	// code
	// (message "backend I (ADDRESS): MESSAGE"); every other backend is
	// cancelled at once.
	CORPC_FANOUT_FAIL_FAST = 0,
	// A failed backend is dropped and the rest go on; the merged call ends
	// OK and corpc_fanout_failed_text / corpc_fanout_backend_status say
	// which failed — unless every backend failed: then it ends with the
	// first failure's code.
	CORPC_FANOUT_CONTINUE = 1,
} corpc_fanout_on_error;

// Who pulls the backends (see the top of this file).
typedef enum corpc_fanout_pull {
	// The caller's thread for inproc coroutine channels, a reader thread
	// for every other channel.
	CORPC_FANOUT_PULL_AUTO = 0,
	// Every backend on the caller's thread, one recv when the merge needs
	// it (no thread; network backends still receive into their transport's
	// buffers meanwhile). "Interleave" becomes round-robin.
	CORPC_FANOUT_PULL_INLINE = 1,
	// A reader thread for every backend, coroutine ones included.
	CORPC_FANOUT_PULL_THREAD = 2,
} corpc_fanout_pull;

// Orders two messages for CORPC_FANOUT_SORTED: negative, zero or positive
// like strcmp. Both are borrowed for the call only. `user` is
// corpc_fanout_opts.user.
typedef int (*corpc_fanout_cmp_fn)(
    const ProtobufCMessage *a, const ProtobufCMessage *b, void *user);

// Writes the dedup key of `msg` (borrowed for the call) into `buf`, at most
// `cap` bytes, and returns the key's full length; when that is more than
// `cap`, it is called again with a buffer of at least that size. Two
// messages are equal for dedup when their keys are the same bytes.
typedef size_t (*corpc_fanout_key_fn)(
    const ProtobufCMessage *msg, void *buf, size_t cap, void *user);

// Fan-out options. Zero-initialise, then set what you need; NULL means all
// defaults (concat, fail fast, no dedup, automatic pull).
typedef struct corpc_fanout_opts {
	corpc_fanout_merge    merge;
	corpc_fanout_on_error on_error;
	// Required with CORPC_FANOUT_SORTED, ignored otherwise.
	corpc_fanout_cmp_fn compare;
	// Drop a message equal to the one handed out just before it (replicas
	// returning the same items: use SORTED so equal items are adjacent).
	bool dedup;
	// The dedup key; NULL compares messages by their encoded bytes (one
	// protobuf pack per message).
	corpc_fanout_key_fn key;
	// Passed to compare and key.
	void *user;
	// Per-backend timeout in milliseconds, 0 for none: the longest the
	// merge waits for the next message (or the end) of one backend with a
	// reader thread. Past it that backend is cancelled and counts as
	// failed with DEADLINE_EXCEEDED; with CONTINUE the call goes on
	// without it, so one stalled replica does not hold up a sorted merge.
	// Backends pulled inline (coroutines) run on the caller's thread and
	// cannot be interrupted: they are bounded by the call's deadline only.
	int64_t           backend_timeout_ms;
	corpc_fanout_pull pull;
	// Optional: the server call this fan-out runs for. Every backend call
	// has it as its corpc_call_opts.parent (cancelled with it, deadline at
	// most its own), and while the fan-out waits for a reader it also
	// polls corpc_ctx_is_cancelled(parent) every 20 ms. Only when the
	// fan-out is driven from that handler.
	corpc_ctx *parent;
} corpc_fanout_opts;

typedef struct corpc_fanout corpc_fanout;

// Starts `method` with `request` on every channel of `backends` (n of
// them, n may be 0) and returns the merged stream in *out. `method` is
// server-streaming or unary; `request` is required, sent to every backend,
// not retained after return. `call` (deadline, metadata; NULL for none) is
// given to every backend call. The channels are borrowed until
// corpc_fanout_destroy and may repeat. A backend that fails to start (no
// server, deadline) still opens: its status comes through recv. The caller
// owns the fan-out and must corpc_fanout_destroy it.
// Errors: CORPC_EINVAL (NULL argument or backend, method of another kind,
// request of another type, SORTED without compare, bad metadata),
// CORPC_ENOMEM, CORPC_ESYS (a reader thread could not start). On error
// nothing is left running.
CORPC_DECL corpc_err corpc_fanout_open(corpc_channel *const *backends,
    size_t n, const corpc_method *method, const corpc_call_opts *call,
    const ProtobufCMessage *request, const corpc_fanout_opts *opts,
    corpc_fanout **out);

// Receives the next merged message into *msg (borrowed: see the message
// contract) and, if `backend` is not NULL, the index of the backend it came
// from. Returns CORPC_STATUS_OK with *msg set; at the end *msg is NULL and
// the return value is the merged call's final code: OK only for a clean end
// (see corpc_fanout_on_error); CANCELLED after corpc_fanout_cancel;
// DEADLINE_EXCEEDED once the call's deadline passed, whatever the policy.
// Blocks until a message or the end. INVALID_ARGUMENT for NULL arguments.
CORPC_DECL corpc_status_code corpc_fanout_recv(
    corpc_fanout *fo, const ProtobufCMessage **msg, size_t *backend);

// Ends the merged call, finishing every backend, and returns its final
// code; fills *status if not NULL (message borrowed until destroy). Before
// the end this is an early stop: every backend is cancelled (each handler
// sees CANCELLED and unwinds) and the code is CANCELLED. Idempotent.
CORPC_DECL corpc_status_code corpc_fanout_finish(
    corpc_fanout *fo, corpc_status *status);

// Cancels every backend call; pending and later recv return CANCELLED.
// Safe from any thread while another drives the fan-out; idempotent; no
// effect once the merged call has ended. Not after destroy has begun.
CORPC_DECL void corpc_fanout_cancel(corpc_fanout *fo);

// Returns true when the next corpc_fanout_recv will not wait for a network
// backend: its message (or the end) is already queued, or it comes from a
// coroutine backend, which runs when pulled. A hint for batching: a proxy
// sends with CORPC_WRITE_MORE while it is true. Driving thread only.
CORPC_DECL bool corpc_fanout_ready(corpc_fanout *fo);

// Finishes the fan-out if needed (see finish), joins its reader threads,
// destroys every backend stream and frees everything, borrowed messages and
// statuses included. NULL is allowed.
CORPC_DECL void corpc_fanout_destroy(corpc_fanout *fo);

// Returns the number of backends. NULL counts as 0.
CORPC_DECL size_t corpc_fanout_backend_count(const corpc_fanout *fo);

// Returns true when backend `i` has ended, and then fills *status (if not
// NULL; message borrowed until destroy); false while it runs or when `i` is
// out of range. After finish every backend has ended. `failed` (if not
// NULL) tells whether it counts as failed: it ended with an error of its
// own, not because the fan-out stopped it. Driving thread only.
CORPC_DECL bool corpc_fanout_backend_status(
    const corpc_fanout *fo, size_t i, corpc_status *status, bool *failed);

// Trailers of backend `i`, valid after finish and until destroy; NULL when
// `i` is out of range. Driving thread only.
CORPC_DECL const corpc_metadata *corpc_fanout_backend_trailers(
    const corpc_fanout *fo, size_t i);

// Returns how many backends failed (see corpc_fanout_backend_status).
CORPC_DECL size_t corpc_fanout_failed_count(const corpc_fanout *fo);

// Writes the failed backends as "index:code,index:code" (numeric codes,
// backend order; "" when none) into buf (NUL-terminated, truncated to cap)
// and returns the full length, like snprintf (but only whole entries are
// written when it does not fit). buf may be NULL when cap is 0.
CORPC_DECL size_t corpc_fanout_failed_text(
    const corpc_fanout *fo, char *buf, size_t cap);

// In a server-streaming handler: fans the call out to `backends` with the
// handler's own method, `request`, deadline and request metadata (minus
// hop-by-hop keys: user-agent, te, content-type, host), writes every merged
// message to `ctx`, and returns the code the handler should return (with
// its message set on ctx): the merged call's code, or the send error when
// the client went away (then every backend is cancelled). Sets the trailer
// CORPC_FANOUT_FAILED_KEY when backends failed. `opts` as for
// corpc_fanout_open (parent is set to ctx). Handler's thread only; nothing
// is retained after return.
CORPC_DECL corpc_status_code corpc_fanout_serve(corpc_ctx *ctx,
    corpc_channel *const *backends, size_t n, const ProtobufCMessage *request,
    const corpc_fanout_opts *opts);

#ifdef __cplusplus
}
#endif

#endif // CORPC_FANOUT_H
