// SPDX-License-Identifier: MIT
// Nest service: Depth and Stream answer the nesting they received, Deep
// answers a message `value` levels deep (RawNest's Deep as RawNode bytes),
// Collect counts its requests. Every handler counts itself in
// nest_handlers_run, so a test sees whether a refused call reached one.
#include <stdlib.h>
#include <string.h>

#include "nest_service.h"

atomic_int nest_handlers_run;

Node *
nest_chain(unsigned depth)
{
	Node *v = calloc(depth + 1, sizeof(*v));
	if (v == NULL) {
		abort();
	}
	for (unsigned i = 0; i <= depth; i++) {
		corpc__hostile__node__init(&v[i]);
		v[i].child = i < depth ? &v[i + 1] : NULL;
	}
	return v;
}

uint8_t *
nest_wire(unsigned depth, size_t *len)
{
	// Built back to front: each level is tag 0x0a, length, the level
	// below.
	size_t   cap = (size_t) depth * 6 + 1;
	uint8_t *buf = malloc(cap);
	size_t   at  = cap; // buf[at..cap) is the current message
	if (buf == NULL) {
		abort();
	}
	for (unsigned i = 0; i < depth; i++) {
		size_t  n = cap - at;
		uint8_t v[5];
		size_t  k = 0;
		do {
			v[k++] =
			    (uint8_t) ((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
			n >>= 7;
		} while (n != 0);
		at -= k;
		memcpy(buf + at, v, k);
		buf[--at] = 0x0a; // field 1, length-delimited
	}
	*len = cap - at;
	memmove(buf, buf + at, *len);
	return buf;
}

unsigned
nest_depth(const Node *n)
{
	unsigned d = 0;
	for (; n->child != NULL; n = n->child) {
		d++;
	}
	return d;
}

static corpc_status_code
nest_depth_h(void *self, corpc_ctx *ctx, const Node *req)
{
	(void) self;
	atomic_fetch_add(&nest_handlers_run, 1);
	Node resp  = CORPC__HOSTILE__NODE__INIT;
	resp.value = (int32_t) nest_depth(req);
	return corpc__hostile__nest__depth_write(ctx, &resp, 0);
}

static corpc_status_code
nest_deep_h(void *self, corpc_ctx *ctx, const Node *req)
{
	(void) self;
	atomic_fetch_add(&nest_handlers_run, 1);
	Node *chain = nest_chain(req->value > 0 ? (unsigned) req->value : 0);
	corpc_status_code rc = corpc__hostile__nest__deep_write(ctx, chain, 0);
	free(chain);
	return rc;
}

static corpc_status_code
raw_deep_h(void *self, corpc_ctx *ctx, const Node *req)
{
	(void) self;
	atomic_fetch_add(&nest_handlers_run, 1);
	// The bytes of a Node `value` deep: its child is one level less.
	unsigned depth = req->value > 1 ? (unsigned) req->value - 1 : 0;
	RawNode  raw   = CORPC__HOSTILE__RAW_NODE__INIT;
	raw.child.data = nest_wire(depth, &raw.child.len);
	corpc_status_code rc =
	    corpc__hostile__raw_nest__deep_write(ctx, &raw, 0);
	free(raw.child.data);
	return rc;
}

static corpc_status_code
raw_sink_h(void *self, corpc_ctx *ctx, const RawNode *req)
{
	(void) self;
	atomic_fetch_add(&nest_handlers_run, 1);
	Node resp  = CORPC__HOSTILE__NODE__INIT;
	resp.value = (int32_t) req->child.len;
	return corpc__hostile__raw_nest__sink_write(ctx, &resp, 0);
}

const Corpc__Hostile__RawNest_Server raw_nest_impl = {
    .deep = raw_deep_h,
    .sink = raw_sink_h,
};

static corpc_status_code
nest_collect_h(void *self, corpc_ctx *ctx)
{
	(void) self;
	atomic_fetch_add(&nest_handlers_run, 1);
	const Node       *req;
	Node              resp = CORPC__HOSTILE__NODE__INIT;
	corpc_status_code rc;
	while ((rc = corpc__hostile__nest__collect_read(ctx, &req)) ==
	           CORPC_STATUS_OK &&
	       req != NULL) {
		resp.value++;
	}
	if (rc != CORPC_STATUS_OK) {
		return rc;
	}
	return corpc__hostile__nest__collect_write(ctx, &resp, 0);
}

static corpc_status_code
nest_stream_h(void *self, corpc_ctx *ctx, const Node *req)
{
	(void) self;
	atomic_fetch_add(&nest_handlers_run, 1);
	Node resp  = CORPC__HOSTILE__NODE__INIT;
	resp.value = (int32_t) nest_depth(req);
	return corpc__hostile__nest__stream_write(ctx, &resp, 0);
}

const Corpc__Hostile__Nest_Server nest_impl = {
    .depth   = nest_depth_h,
    .deep    = nest_deep_h,
    .collect = nest_collect_h,
    .stream  = nest_stream_h,
};
