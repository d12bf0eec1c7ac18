// SPDX-License-Identifier: MIT
// A stream that ended before reaching any transport: a call refused by a
// client interceptor. Its status is known at open; every op reports it.
#include <stdlib.h>

#include "core/channel.h"
#include "core/stream.h"

static corpc_status_code
failed_send(corpc_stream *st, const ProtobufCMessage *msg, unsigned flags)
{
	(void) msg;
	(void) flags;
	return st->code;
}

static corpc_status_code
failed_close_send(corpc_stream *st)
{
	return st->code;
}

static corpc_status_code
failed_recv(corpc_stream *st, const ProtobufCMessage **msg)
{
	*msg = NULL;
	return st->code;
}

static void
failed_headers(corpc_stream *st)
{
	(void) st;
}

static void
failed_finish(corpc_stream *st, bool cancel)
{
	(void) st;
	(void) cancel;
}

static void
failed_cancel(corpc_stream *st)
{
	(void) st;
}

static void
failed_destroy(corpc_stream *st)
{
	corpc__stream_fini(st);
	free(st);
}

static const corpc__channel_ops failed_ops = {
    .s_send       = failed_send,
    .s_close_send = failed_close_send,
    .s_recv       = failed_recv,
    .s_headers    = failed_headers,
    .s_finish     = failed_finish,
    .s_cancel     = failed_cancel,
    .s_destroy    = failed_destroy,
};

corpc_err
corpc__failed_stream_open(corpc_channel *ch, const corpc_method *method,
    corpc_status_code code, const char *message, corpc_stream **out)
{
	corpc_stream *st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return CORPC_ENOMEM;
	}
	if (corpc__stream_init(st, &failed_ops, ch, method,
	        CORPC_DEADLINE_NONE) != CORPC_OK) {
		corpc__stream_fini(st);
		free(st);
		return CORPC_ENOMEM;
	}
	corpc__stream_end(st, code, "%s", message);
	*out = st;
	return CORPC_OK;
}
