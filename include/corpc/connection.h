// SPDX-License-Identifier: MIT
// corpc: options of the HTTP/2 connections under tcp:// and unix://, for
// channels (client.h) and servers (server.h): message compression,
// keepalive pings, and gRPC channel arguments that corpc has no option of
// its own for.
#ifndef CORPC_CONNECTION_H
#define CORPC_CONNECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "corpc/decl.h"

#ifdef __cplusplus
extern "C" {
#endif

// Message compression on tcp:// and unix:// (gRPC's message encoding;
// in-process calls never compress). DEFAULT defers to the next level: a
// call's to its channel's (or server's), those to NONE.
typedef enum corpc_compression {
	CORPC_COMPRESS_DEFAULT = 0,
	CORPC_COMPRESS_NONE,    // "identity"
	CORPC_COMPRESS_DEFLATE, // "deflate" (zlib format)
	CORPC_COMPRESS_GZIP,    // "gzip"
} corpc_compression;

// Returns the encoding's gRPC name ("gzip"). Static string.
CORPC_DECL const char *corpc_compression_name(corpc_compression c);

// Keepalive: a side that sees no traffic for `time_ms` sends an HTTP/2 PING
// and closes the connection if the answer does not come within
// `timeout_ms`; calls on it then end UNAVAILABLE. Zero fields take gRPC's
// defaults (time: never on a client, 2 hours on a server; timeout: 20 s;
// without_calls: false).
typedef struct corpc_keepalive {
	int64_t time_ms;
	int64_t timeout_ms;
	// Ping also while no call is in progress. On a server it also permits
	// clients to do so (see corpc_server_opts.min_ping_interval_ms).
	bool without_calls;
} corpc_keepalive;

// One gRPC channel argument, passed to gRPC C-core as it is (see gRPC's
// grpc_types.h for the keys, e.g. "grpc.http2.lookahead_bytes"). Given
// last, so it overrides what corpc sets for the same key. Unknown keys are
// ignored by gRPC.
typedef struct corpc_grpc_arg {
	const char *key;
	const char *string_value; // a string argument, or NULL for an integer
	int         int_value;    // the integer, when string_value is NULL
} corpc_grpc_arg;

#ifdef __cplusplus
}
#endif

#endif // CORPC_CONNECTION_H
