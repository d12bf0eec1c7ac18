// SPDX-License-Identifier: MIT
// corpc_fanout_serve: a server-streaming handler that answers with the
// merged stream of its backends.
#include <stdlib.h>
#include <string.h>

#include "fanout/fanout_impl.h"

// Request metadata that belongs to one hop, not to the call.
static bool
hop_by_hop(const char *key)
{
	static const char *const keys[] = {
	    "user-agent", "te", "content-type", "host"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i]) == 0) {
			return true;
		}
	}
	return false;
}

static corpc_err
forward_metadata(const corpc_metadata *in, corpc_metadata *out)
{
	for (size_t i = 0; i < corpc_metadata_count(in); i++) {
		const corpc_metadata_entry *e = corpc_metadata_at(in, i);
		if (hop_by_hop(e->key)) {
			continue;
		}
		corpc_err rv =
		    corpc_metadata_add(out, e->key, e->value, e->value_len);
		if (rv == CORPC_ENOMEM) {
			return rv;
		}
	}
	return CORPC_OK;
}

// Sets CORPC_FANOUT_FAILED_KEY when backends failed.
static void
set_failed_trailer(corpc_ctx *ctx, const corpc_fanout *fo)
{
	char   small[256];
	size_t len = corpc_fanout_failed_text(fo, small, sizeof(small));
	if (len == 0) {
		return;
	}
	char *text = len < sizeof(small) ? small : malloc(len + 1);
	if (text == NULL) {
		return;
	}
	if (text != small) {
		corpc_fanout_failed_text(fo, text, len + 1);
	}
	corpc_ctx_set_trailer(ctx, CORPC_FANOUT_FAILED_KEY, text, len);
	if (text != small) {
		free(text);
	}
}

static corpc_status_code
open_error(corpc_ctx *ctx, corpc_err rv)
{
	return corpc_ctx_error(ctx,
	    rv == CORPC_ENOMEM ? CORPC_STATUS_RESOURCE_EXHAUSTED
	                       : CORPC_STATUS_INTERNAL,
	    "fan-out: %s", corpc_strerror(rv));
}

corpc_status_code
corpc_fanout_serve(corpc_ctx *ctx, corpc_channel *const *backends, size_t n,
    const ProtobufCMessage *request, const corpc_fanout_opts *opts)
{
	if (ctx == NULL) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	const corpc_method *method = corpc_ctx_method(ctx);
	if (method->kind != CORPC_RPC_SERVER_STREAMING) {
		return corpc_ctx_error(ctx, CORPC_STATUS_INTERNAL,
		    "corpc_fanout_serve: %s is not server-streaming",
		    method->path);
	}
	corpc_fanout_opts o = {0};
	if (opts != NULL) {
		o = *opts;
	}
	o.parent = ctx;

	corpc_metadata *md = NULL;
	corpc_err       rv = corpc_metadata_create(&md);
	if (rv == CORPC_OK) {
		rv = forward_metadata(corpc_ctx_metadata(ctx), md);
	}
	corpc_fanout *fo = NULL;
	if (rv == CORPC_OK) {
		corpc_call_opts call = {.metadata = md};
		int64_t         dl   = corpc_ctx_deadline(ctx);
		call.deadline        = dl != CORPC_DEADLINE_NONE ? dl : 0;
		rv                   = corpc_fanout_open(
		                      backends, n, method, &call, request, &o, &fo);
	}
	corpc_metadata_destroy(md); // copied by every backend call
	if (rv != CORPC_OK) {
		return open_error(ctx, rv);
	}

	const ProtobufCMessage *msg;
	corpc_status_code       sent = CORPC_STATUS_OK;
	while (corpc_fanout_recv(fo, &msg, NULL) == CORPC_STATUS_OK &&
	       msg != NULL) {
		// Borrowed until the next recv. WRITE_MORE lets a network
		// transport batch while the next message is already there.
		unsigned flags = corpc_fanout_ready(fo) ? CORPC_WRITE_MORE : 0;
		if ((sent = corpc_ctx_send(ctx, msg, flags)) !=
		    CORPC_STATUS_OK) {
			break; // the client is gone: finish cancels every
			       // backend
		}
	}
	corpc_status      st;
	corpc_status_code code = corpc_fanout_finish(fo, &st);
	set_failed_trailer(ctx, fo);
	if (sent != CORPC_STATUS_OK) {
		code = sent;
	} else if (code != CORPC_STATUS_OK) {
		code = corpc_ctx_error(ctx, code, "%s", st.message);
	}
	corpc_fanout_destroy(fo);
	return code;
}
