// SPDX-License-Identifier: MIT
// Internal: running an interceptor chain for one call. The same code serves
// the client (stream.c) and the server (ctx.c), above every transport.
#ifndef CORPC_CORE_INTERCEPT_H
#define CORPC_CORE_INTERCEPT_H

#include <stddef.h>

#include "corpc/interceptor.h"

struct corpc_call {
	const corpc_interceptor *chain; // NULL or `n` entries
	size_t                   n;
	size_t                   started; // starts that returned OK
	size_t                   current; // the interceptor running now
	bool                     server;
	bool                     in_start;
	bool                     finished;
	const corpc_method      *method;
	corpc_metadata          *md;
	int64_t                  deadline;
	corpc_ctx               *ctx;
	void                    *state[CORPC_MAX_INTERCEPTORS];
	corpc_status_code        refused;
	char                     refusal[256];
};

// Prepares `c` for a call; n == 0 disables every hook at the cost of one
// branch each.
void corpc__call_init(corpc_call *c, const corpc_interceptor *chain, size_t n,
    bool server, const corpc_method *method, corpc_metadata *md,
    int64_t deadline, corpc_ctx *ctx);

// Runs the `start` hooks in order. Returns OK, or the refusal code with its
// message in c->refusal.
corpc_status_code corpc__call_start(corpc_call *c);

// Runs the `message` hooks: outbound in order, inbound in reverse.
void corpc__call_message(
    corpc_call *c, bool outbound, const ProtobufCMessage *msg);

// Runs the `finish` hooks once, in reverse, for the interceptors started.
void corpc__call_finish(
    corpc_call *c, corpc_status_code code, const char *message);

#endif // CORPC_CORE_INTERCEPT_H
