// SPDX-License-Identifier: MIT
// Internal: the client-side call state every transport shares. A transport
// embeds struct corpc_stream as the first member of its own stream type.
#ifndef CORPC_CORE_STREAM_H
#define CORPC_CORE_STREAM_H

#include <stdatomic.h>
#include <stdbool.h>

#include "corpc/client.h"
#include "core/intercept.h"
#include "core/strbuf.h"

struct corpc__channel_ops;

struct corpc_stream {
	const struct corpc__channel_ops *ops;
	corpc_channel                   *ch;
	const corpc_method              *method;
	int64_t           deadline; // CORPC_DEADLINE_NONE if none
	corpc_metadata   *headers;  // owned; kept across reuse
	corpc_metadata   *trailers; // owned; kept across reuse
	corpc__strbuf     message;  // final status message
	corpc_status_code code;     // valid once `ended`
	bool              ended;    // final status known
	bool              finished; // finish done (ops->s_finish)
	bool              send_closed;
	bool              headers_ready; // transport sets it
	bool              got_response;  // recv gave a message
	corpc_call        call;          // interceptors; call.n == 0: none
	corpc_ctx        *parent;        // opts.parent; NULL: none
	corpc_stream     *sib_prev, *sib_next; // parent's children
};

// Prepares a stream for a new call (first use or reuse from a pool):
// clears headers, trailers, status. Errors: CORPC_ENOMEM (first use only).
corpc_err corpc__stream_init(corpc_stream *st,
    const struct corpc__channel_ops *ops, corpc_channel *ch,
    const corpc_method *method, int64_t deadline);

// Records the final status once; later calls are ignored (first end wins).
void corpc__stream_end(corpc_stream *st, corpc_status_code code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// Opens a stream that has already ended with `code` and `message`, served
// by core alone (a call refused before any transport). Errors: ENOMEM.
corpc_err corpc__failed_stream_open(corpc_channel *ch,
    const corpc_method *method, corpc_status_code code, const char *message,
    corpc_stream **out);

// Frees what corpc__stream_init allocated (for a transport's pool teardown).
void corpc__stream_fini(corpc_stream *st);

#endif // CORPC_CORE_STREAM_H
