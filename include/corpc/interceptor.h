// SPDX-License-Identifier: MIT
// corpc: interceptors, on the client and on the server, for all four RPC
// kinds and every transport (in-process included): they run in core, above
// the transport, so moving a service into the process changes nothing but
// the address.
//
// An interceptor sees the method, metadata and deadline when a call starts
// and may add metadata or refuse the call with a status; it sees every
// message both ways and the final status, so it can count, log or time the
// call. Several form a chain, given as an array in corpc_channel_opts or
// corpc_server_opts:
// - `start` and outbound messages go through the array in order (the first
//   interceptor is the outermost);
// - inbound messages and `finish` go through it in reverse order.
// If a `start` refuses, the later interceptors' `start` do not run, and
// `finish` runs only for those whose `start` ran (in reverse order).
// With no interceptor installed a call pays one branch per operation.
//
// Unknown methods (tcp://, unix://): the server's chain runs for them too,
// so a caller it refuses (say, without credentials) gets that refusal, not
// UNIMPLEMENTED, and cannot list the methods. There the method has only
// `path` and `name` (kind unary, request and response NULL), ctx is NULL,
// and `start` runs on a scheduler thread outside any task: keep it quick.
// In process, an unknown method is UNIMPLEMENTED at once.
#ifndef CORPC_INTERCEPTOR_H
#define CORPC_INTERCEPTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "corpc/decl.h"
#include "corpc/metadata.h"
#include "corpc/method.h"
#include "corpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Most interceptors in one chain.
#define CORPC_MAX_INTERCEPTORS 8

// The call as an interceptor sees it: valid during the hook it is passed to.
typedef struct corpc_call corpc_call;

typedef struct corpc_interceptor {
	const char *name; // for logs; may be NULL
	void       *self; // passed back to every hook
	// The call starts. Return OK to go on, or refuse with
	// corpc_call_refuse(call, code, ...): the client's call then never
	// reaches the transport; the server's handler is never called. NULL:
	// no hook. Runs on the thread that opens the call (client) or runs the
	// handler (server).
	corpc_status_code (*start)(void *self, corpc_call *call);
	// One message crossed: `outbound` is true for what this side sends
	// (client: requests; server: responses). The message is borrowed for
	// the hook only. NULL: no hook.
	void (*message)(void *self, corpc_call *call, bool outbound,
	    const ProtobufCMessage *msg);
	// The call ended with `code` and `message` (never NULL). NULL: no
	// hook.
	void (*finish)(void *self, corpc_call *call, corpc_status_code code,
	    const char *message);
} corpc_interceptor;

// The method called.
CORPC_DECL const corpc_method *corpc_call_method(const corpc_call *call);

// True on the server side.
CORPC_DECL bool corpc_call_is_server(const corpc_call *call);

// The request metadata. On the client, during `start`, it may be changed
// (corpc_metadata_add): what start leaves there is what is sent. On the
// server it is what the client sent; do not change it.
CORPC_DECL corpc_metadata *corpc_call_metadata(corpc_call *call);

// The call's deadline on corpc_now()'s clock, or CORPC_DEADLINE_NONE.
CORPC_DECL int64_t corpc_call_deadline(const corpc_call *call);

// Client, during `start` only: sets an earlier deadline (a later one is
// ignored, as a deadline only ever shrinks along a chain).
CORPC_DECL void corpc_call_set_deadline(corpc_call *call, int64_t deadline);

// Server only: the handler's context, to set response headers or trailers
// from `start` or `message`. NULL on the client.
CORPC_DECL corpc_ctx *corpc_call_ctx(corpc_call *call);

// This interceptor's per-call slot (NULL until set), e.g. a start time or a
// counter. Each interceptor of the chain has its own.
CORPC_DECL void *corpc_call_state(const corpc_call *call);
CORPC_DECL void  corpc_call_set_state(corpc_call *call, void *state);

// From `start`: refuses the call with `code` (not OK) and a printf-style
// message, and returns `code`, so `return corpc_call_refuse(call, ...);`.
CORPC_DECL corpc_status_code corpc_call_refuse(
    corpc_call *call, corpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif // CORPC_INTERCEPTOR_H
