// SPDX-License-Identifier: MIT
// Interceptor chains: the hooks' order and the accessors they use.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/intercept.h"

void
corpc__call_init(corpc_call *c, const corpc_interceptor *chain, size_t n,
    bool server, const corpc_method *method, corpc_metadata *md,
    int64_t deadline, corpc_ctx *ctx)
{
	c->chain    = chain;
	c->n        = n < CORPC_MAX_INTERCEPTORS ? n : CORPC_MAX_INTERCEPTORS;
	c->started  = 0;
	c->current  = 0;
	c->server   = server;
	c->in_start = false;
	c->finished = false;
	c->method   = method;
	c->md       = md;
	c->deadline = deadline;
	c->ctx      = ctx;
	c->refused  = CORPC_STATUS_OK;
	c->refusal[0] = '\0';
	memset(c->state, 0, sizeof(c->state));
}

corpc_status_code
corpc__call_start(corpc_call *c)
{
	c->in_start = true;
	for (size_t i = 0; i < c->n; i++) {
		const corpc_interceptor *ic = &c->chain[i];
		c->current                  = i;
		corpc_status_code code      = ic->start != NULL
		                                  ? ic->start(ic->self, c)
		                                  : CORPC_STATUS_OK;
		if (code != CORPC_STATUS_OK) {
			c->refused = code;
			if (c->refusal[0] == '\0') {
				snprintf(c->refusal, sizeof(c->refusal),
				    "refused by interceptor %s",
				    ic->name != NULL ? ic->name : "(unnamed)");
			}
			break;
		}
		c->started = i + 1;
	}
	c->in_start = false;
	return c->refused;
}

void
corpc__call_message(corpc_call *c, bool outbound, const ProtobufCMessage *msg)
{
	for (size_t k = 0; k < c->started; k++) {
		size_t i   = outbound ? k : c->started - 1 - k;
		c->current = i;
		if (c->chain[i].message != NULL) {
			c->chain[i].message(
			    c->chain[i].self, c, outbound, msg);
		}
	}
}

void
corpc__call_finish(corpc_call *c, corpc_status_code code, const char *message)
{
	if (c->finished) {
		return;
	}
	c->finished = true;
	for (size_t k = 0; k < c->started; k++) {
		size_t i   = c->started - 1 - k;
		c->current = i;
		if (c->chain[i].finish != NULL) {
			c->chain[i].finish(c->chain[i].self, c, code, message);
		}
	}
}

const corpc_method *
corpc_call_method(const corpc_call *call)
{
	return call->method;
}

bool
corpc_call_is_server(const corpc_call *call)
{
	return call->server;
}

corpc_metadata *
corpc_call_metadata(corpc_call *call)
{
	return call->md;
}

int64_t
corpc_call_deadline(const corpc_call *call)
{
	return call->deadline;
}

void
corpc_call_set_deadline(corpc_call *call, int64_t deadline)
{
	if (!call->server && call->in_start && deadline > 0 &&
	    deadline < call->deadline) {
		call->deadline = deadline;
	}
}

corpc_ctx *
corpc_call_ctx(corpc_call *call)
{
	return call->server ? call->ctx : NULL;
}

void *
corpc_call_state(const corpc_call *call)
{
	return call->state[call->current];
}

void
corpc_call_set_state(corpc_call *call, void *state)
{
	call->state[call->current] = state;
}

corpc_status_code
corpc_call_refuse(
    corpc_call *call, corpc_status_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->refusal, sizeof(call->refusal), fmt, ap);
	va_end(ap);
	return code;
}
