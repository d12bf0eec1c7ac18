// SPDX-License-Identifier: MIT
// Internal: the in-process layer every inproc:// transport (coro, thread)
// builds on. A transport embeds corpc__inproc_call first in its call type;
// this layer pools calls, parses the address's ?mode=, opens a call (parent
// adoption, wait-for-ready, server resolve and call_begin), starts the
// handler's ctx, hands headers and trailers to the client, ends the stream
// and releases the call (call_end). What differs is only how messages
// cross: on one stack (coro) or through rings between threads (thread).
#ifndef CORPC_INPROC_INPROC_H
#define CORPC_INPROC_INPROC_H

#include <stdatomic.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/channel.h"
#include "core/freelist.h"
#include "core/server_impl.h"
#include "transport/transport.h"

// Channel state, shared by every in-process transport.
typedef struct corpc__inproc_chan {
	const char *name;      // the NAME; lives as long as the channel
	const char *mode;      // the ?mode= value; "" for none
	size_t      depth;     // corpc_channel_opts.queue_depth, or default
	unsigned    max_depth; // nesting limit of responses (depth.h)
} corpc__inproc_chan;

// The part of a call every in-process transport shares. First member of
// the transport's call type (so &call->st is the call too).
typedef struct corpc__inproc_call {
	corpc_stream         st;  // the client's view; first member
	corpc_ctx            ctx; // the handler's view
	corpc__freelist_node pool_node;
	corpc_server        *srv; // NULL until resolved, and after call_end

	corpc_metadata         *request_md; // the handler's copy
	corpc__arena            arena;      // request and unary reply copies
	const ProtobufCMessage *request;    // unary / server-streaming request
	bool                    request_taken;
	corpc_status_code       handler_code; // once the handler returned
} corpc__inproc_call;

// True when `addr`'s ?mode= names `mode` ("" matches no query).
bool corpc__inproc_mode_is(const corpc__address *addr, const char *mode);
// True when `addr`'s ?mode= names an in-process transport corpc has, built
// into this library or not: an unbuilt one answers CORPC_ENOTSUP, not
// CORPC_EADDRINVAL.
bool corpc__inproc_mode_known(const corpc__address *addr);

// Channel ops shared by both transports (state: corpc__inproc_chan).
corpc_err corpc__inproc_c_open(corpc_channel *ch, const corpc__address *addr,
    const corpc_channel_opts *opts, void **state);
void      corpc__inproc_c_close(void *state);
corpc_channel_state corpc__inproc_c_state(void *state, bool try_to_connect);

// The registry's listener: one serves every client mode.
extern const corpc__listener_ops corpc__inproc_listener_ops;

// A pooled call of `size` bytes (a transport type starting with
// corpc__inproc_call) for which match(call, arg) holds (NULL: any), else a
// zeroed new one with its arena ready. NULL when out of memory.
corpc__inproc_call *corpc__inproc_call_get(corpc__freelist *pool, size_t size,
    bool (*match)(const corpc__inproc_call *, const void *), const void *arg);
// Recycles `c`; when the pool is full, calls fini(c) (the transport's own
// parts, may be NULL) and frees it.
void corpc__inproc_call_put(corpc__freelist *pool, corpc__inproc_call *c,
    void (*fini)(corpc__inproc_call *));
// Frees `c` at once (one that never served a call): fini(c), then the
// shared parts.
void corpc__inproc_call_free(
    corpc__inproc_call *c, void (*fini)(corpc__inproc_call *));
// The transport of `c`'s stream releases it: its server slot
// (corpc__server_call_end, once), the request copy, then the pool.
void corpc__inproc_call_release(corpc__freelist *pool, corpc__inproc_call *c,
    void (*fini)(corpc__inproc_call *));

// Step 1 of s_open: prepares the stream and the shared fields.
// Errors: CORPC_ENOMEM (then put the call back).
corpc_err corpc__inproc_open(corpc__inproc_call *c, corpc_channel *ch,
    const corpc_method *method, const corpc__open_args *a);
// Step 2, once the transport's own fields are reset: adopts the parent,
// waits for the server if asked (*cancel ends the wait), resolves the
// method and begins the call on its server. Returns the handler, or NULL
// with the stream ended (UNAVAILABLE, UNIMPLEMENTED, ...).
const corpc__handler *corpc__inproc_resolve_call(corpc__inproc_call *c,
    const corpc__open_args *a, const char *name, atomic_int *cancel);
// Prepares the handler's ctx: request metadata copied, ops installed.
// Returns OK or RESOURCE_EXHAUSTED.
corpc_status_code corpc__inproc_ctx_start(corpc__inproc_call *c,
    const corpc__ctx_ops *ops, const corpc__handler *h,
    const corpc_metadata *md);
// Copies the one request into the call's arena (the handler reads it after
// s_open returns). Returns OK, INVALID_ARGUMENT (nested deeper than the
// server allows) or RESOURCE_EXHAUSTED.
corpc_status_code corpc__inproc_copy_request(
    corpc__inproc_call *c, const ProtobufCMessage *request);
// The server's nesting limit for requests (depth.h).
unsigned corpc__inproc_request_depth(const corpc__inproc_call *c);
// x_recv of a unary or server-streaming call: the one request, then NULL.
// Returns false when the call has a request stream instead.
bool corpc__inproc_take_request(
    corpc__inproc_call *c, const ProtobufCMessage **msg);

// Hands the handler's headers to the client (once; swaps the objects).
void corpc__inproc_hand_headers(corpc__inproc_call *c);
// Hands the handler's trailers to the client (after it returned).
void corpc__inproc_hand_trailers(corpc__inproc_call *c);
// Ends the stream: with `cancel` CANCELLED or DEADLINE_EXCEEDED, as that;
// with 0, with the handler's code and message.
void corpc__inproc_end(corpc__inproc_call *c, int cancel);
// Ends the stream because `code` (CANCELLED, DEADLINE_EXCEEDED) came
// before the handler could start.
void corpc__inproc_end_before_start(
    corpc__inproc_call *c, corpc_status_code code);

#endif // CORPC_INPROC_INPROC_H
