// SPDX-License-Identifier: MIT
// Internal: message compression on the gRPC transport. corpc turns gRPC's
// own inflating off (GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION) to learn
// each message's encoding and to inflate with a size bound of its own.
#ifndef CORPC_GRPC_COMPRESS_H
#define CORPC_GRPC_COMPRESS_H

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>

#include "corpc/client.h"

// The metadata entry that asks gRPC to compress a call's messages (client
// requests, or a server call's responses) with `c`; NULL key for none.
typedef struct corpc__grpc_encoding_md {
	const char *key;
	const char *value;
} corpc__grpc_encoding_md;
corpc__grpc_encoding_md corpc__grpc_encoding_request(corpc_compression c);

// If *bb is compressed, replaces it with its inflated bytes (destroying
// the compressed buffer) and says how it came in *how. Returns OK,
// RESOURCE_EXHAUSTED (inflated beyond `max` bytes) or INTERNAL (corrupt
// data), with a message in `why`.
corpc_status_code corpc__grpc_inflate(grpc_byte_buffer **bb, size_t max,
    corpc_compression *how, char *why, size_t why_size);

#endif // CORPC_GRPC_COMPRESS_H
