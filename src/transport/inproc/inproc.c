// SPDX-License-Identifier: MIT
// The in-process layer shared by the coro and thread transports: pooling,
// the address's ?mode=, opening and resolving a call, the handler's ctx,
// header and trailer handoff, the end of the stream and call_end.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clone.h"
#include "core/depth.h"
#include "core/metadata_impl.h"
#include "transport/inproc/inproc.h"
#include "transport/inproc/registry.h"

// Ring depth of a thread-handoff call when the channel does not say.
#define DEFAULT_QUEUE_DEPTH 256

bool
corpc__inproc_mode_is(const corpc__address *addr, const char *mode)
{
	const char *q = addr->query;
	if (*q == '\0') {
		return *mode == '\0';
	}
	return strncmp(q, "?mode=", 6) == 0 && strcmp(q + 6, mode) == 0;
}

bool
corpc__inproc_mode_known(const corpc__address *addr)
{
	static const char *const modes[] = {
	    "", "coro", "thread", "thread-copy"};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (corpc__inproc_mode_is(addr, modes[i])) {
			return true;
		}
	}
	return false;
}

corpc_err
corpc__inproc_c_open(corpc_channel *ch, const corpc__address *addr,
    const corpc_channel_opts *opts, void **state)
{
	(void) ch;
	corpc__inproc_chan *tc = calloc(1, sizeof(*tc));
	if (tc == NULL) {
		return CORPC_ENOMEM;
	}
	tc->name = addr->host; // both live as long as the channel
	// t_serves accepted nothing but "" or "?mode=...".
	tc->mode =
	    strncmp(addr->query, "?mode=", 6) == 0 ? addr->query + 6 : "";
	tc->depth =
	    opts->queue_depth ? opts->queue_depth : DEFAULT_QUEUE_DEPTH;
	tc->max_depth = corpc__depth_limit(opts->max_message_depth);
	*state        = tc;
	return CORPC_OK;
}

void
corpc__inproc_c_close(void *state)
{
	free(state);
}

corpc_channel_state
corpc__inproc_c_state(void *state, bool try_to_connect)
{
	(void) try_to_connect;
	return corpc__inproc_state(((corpc__inproc_chan *) state)->name);
}

static corpc__inproc_call *
from_node(corpc__freelist_node *n)
{
	return (
	    corpc__inproc_call *) ((char *) n -
	                           offsetof(corpc__inproc_call, pool_node));
}

// The freelist's match receives the node; the transport's, the call.
typedef struct match_args {
	bool (*match)(const corpc__inproc_call *, const void *);
	const void *arg;
} match_args;

static bool
node_matches(const corpc__freelist_node *n, const void *p)
{
	const match_args *m = p;
	return m->match(from_node((corpc__freelist_node *) n), m->arg);
}

corpc__inproc_call *
corpc__inproc_call_get(corpc__freelist *pool, size_t                     size,
    bool (*match)(const corpc__inproc_call *, const void *), const void *arg)
{
	match_args            m = {match, arg};
	corpc__freelist_node *n =
	    corpc__freelist_get(pool, match != NULL ? node_matches : NULL, &m);
	if (n != NULL) {
		return from_node(n);
	}
	corpc__inproc_call *c = calloc(1, size);
	if (c != NULL) {
		corpc__arena_init(&c->arena);
	}
	return c;
}

void
corpc__inproc_call_put(corpc__freelist *pool, corpc__inproc_call *c,
    void (*fini)(corpc__inproc_call *))
{
	if (!corpc__freelist_put(pool, &c->pool_node)) {
		corpc__inproc_call_free(c, fini);
	}
}

void
corpc__inproc_call_free(
    corpc__inproc_call *c, void (*fini)(corpc__inproc_call *))
{
	if (fini != NULL) {
		fini(c);
	}
	corpc__stream_fini(&c->st);
	corpc__ctx_fini(&c->ctx);
	corpc_metadata_destroy(c->request_md);
	corpc__arena_fini(&c->arena);
	free(c);
}

void
corpc__inproc_call_release(corpc__freelist *pool, corpc__inproc_call *c,
    void (*fini)(corpc__inproc_call *))
{
	if (c->srv != NULL) {
		corpc__server_call_end(c->srv, &c->ctx);
		c->srv = NULL;
	}
	corpc__arena_reset(&c->arena);
	corpc__inproc_call_put(pool, c, fini);
}

corpc_err
corpc__inproc_open(corpc__inproc_call *c, corpc_channel *ch,
    const corpc_method *method, const corpc__open_args *a)
{
	if (corpc__stream_init(&c->st, ch->tp->channel, ch, method,
	        a->deadline) != CORPC_OK) {
		return CORPC_ENOMEM;
	}
	c->srv           = NULL;
	c->request       = NULL;
	c->request_taken = false;
	c->handler_code  = CORPC_STATUS_OK;
	return CORPC_OK;
}

const corpc__handler *
corpc__inproc_resolve_call(corpc__inproc_call *c, const corpc__open_args *a,
    const char *name, atomic_int *cancel)
{
	if (a->parent != NULL) {
		corpc__ctx_adopt(a->parent, &c->st); // before the handler runs
	}
	const corpc__handler *h = NULL;
	char                  why[CORPC__ADDR_MAX + 64];
	corpc_status_code     rc = CORPC_STATUS_OK;
	if (a->wait_for_ready) {
		rc = corpc__inproc_await(
		    name, c->st.deadline, cancel, why, sizeof(why));
	}
	if (rc == CORPC_STATUS_OK) {
		rc = corpc__inproc_resolve(name, c->st.method, &c->ctx,
		    &c->srv, &h, why, sizeof(why));
	}
	if (rc != CORPC_STATUS_OK) {
		c->srv = NULL;
		corpc__stream_end(&c->st, rc, "%s", why);
		return NULL;
	}
	return h;
}

corpc_status_code
corpc__inproc_ctx_start(corpc__inproc_call *c, const corpc__ctx_ops *ops,
    const corpc__handler *h, const corpc_metadata *md)
{
	if (corpc__metadata_reset(&c->request_md) != CORPC_OK ||
	    corpc__metadata_copy(c->request_md, md) != CORPC_OK ||
	    corpc__ctx_init(&c->ctx, ops, h, c->request_md, c->st.deadline) !=
	        CORPC_OK) {
		return CORPC_STATUS_RESOURCE_EXHAUSTED;
	}
	return CORPC_STATUS_OK;
}

unsigned
corpc__inproc_request_depth(const corpc__inproc_call *c)
{
	return corpc__depth_limit(
	    c->srv != NULL ? corpc__server_opts(c->srv)->max_message_depth
	                   : 0);
}

corpc_status_code
corpc__inproc_copy_request(
    corpc__inproc_call *c, const ProtobufCMessage *request)
{
	bool deep;
	c->request = corpc__msg_clone(
	    request, &c->arena.alloc, corpc__inproc_request_depth(c), &deep);
	if (c->request != NULL) {
		return CORPC_STATUS_OK;
	}
	return deep ? CORPC_STATUS_INVALID_ARGUMENT
	            : CORPC_STATUS_RESOURCE_EXHAUSTED;
}

bool
corpc__inproc_take_request(corpc__inproc_call *c, const ProtobufCMessage **msg)
{
	if (c->request == NULL) {
		return false;
	}
	*msg             = c->request_taken ? NULL : c->request;
	c->request_taken = true;
	return true;
}

void
corpc__inproc_hand_headers(corpc__inproc_call *c)
{
	if (!c->st.headers_ready) {
		corpc_metadata *t   = c->st.headers;
		c->st.headers       = c->ctx.headers;
		c->ctx.headers      = t;
		c->st.headers_ready = true;
	}
}

void
corpc__inproc_hand_trailers(corpc__inproc_call *c)
{
	corpc_metadata *t = c->st.trailers;
	c->st.trailers    = c->ctx.trailers;
	c->ctx.trailers   = t;
}

void
corpc__inproc_end(corpc__inproc_call *c, int cancel)
{
	if (cancel != 0) {
		corpc__stream_end(&c->st, (corpc_status_code) cancel, "%s",
		    cancel == CORPC_STATUS_DEADLINE_EXCEEDED
		        ? "deadline exceeded"
		        : "call cancelled");
		return;
	}
	corpc__stream_end(
	    &c->st, c->handler_code, "%s", corpc__strbuf_get(&c->ctx.message));
}

void
corpc__inproc_end_before_start(corpc__inproc_call *c, corpc_status_code code)
{
	corpc__stream_end(&c->st, code, "%s before the call started",
	    code == CORPC_STATUS_DEADLINE_EXCEEDED ? "deadline exceeded"
	                                           : "call cancelled");
}
