// SPDX-License-Identifier: MIT
// Bounded inflate of received messages; see grpc_compress.h. gRPC would
// inflate a 4 MiB message to whatever it holds before any size check.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/compression.h>
#include <grpc/slice.h>
#include <zlib.h>

#include "transport/grpc/grpc_compress.h"

corpc__grpc_encoding_md
corpc__grpc_encoding_request(corpc_compression c)
{
	switch (c) {
	case CORPC_COMPRESS_GZIP:
	case CORPC_COMPRESS_DEFLATE:
		return (corpc__grpc_encoding_md) {
		    GRPC_COMPRESSION_REQUEST_ALGORITHM_MD_KEY,
		    corpc_compression_name(c)};
	case CORPC_COMPRESS_DEFAULT:
	case CORPC_COMPRESS_NONE:
		break;
	}
	return (corpc__grpc_encoding_md) {NULL, NULL};
}

// Inflates every slice of `in` into one slice of at most `max` bytes.
static corpc_status_code
inflate_all(grpc_slice_buffer *in, int window_bits, size_t max,
    grpc_slice *out, char *why, size_t why_size)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, window_bits) != Z_OK) {
		snprintf(why, why_size, "cannot start inflating a message");
		return CORPC_STATUS_INTERNAL;
	}
	size_t         cap = 4096, len = 0;
	unsigned char *buf = NULL;
	int            rc  = Z_OK;
	for (size_t i = 0; i < in->count && rc != Z_STREAM_END; i++) {
		zs.next_in  = GRPC_SLICE_START_PTR(in->slices[i]);
		zs.avail_in = (uInt) GRPC_SLICE_LENGTH(in->slices[i]);
		while (zs.avail_in > 0 && rc != Z_STREAM_END) {
			if (buf == NULL || len == cap) {
				if (buf != NULL) {
					cap *= 2;
				}
				if (cap > max + 1) {
					cap =
					    max + 1; // one byte over: too big
				}
				unsigned char *n = realloc(buf, cap);
				if (n == NULL || len == cap) {
					free(n != NULL ? n : buf);
					inflateEnd(&zs);
					snprintf(why, why_size,
					    "inflated message larger than the "
					    "limit "
					    "(%zu bytes)",
					    max);
					return CORPC_STATUS_RESOURCE_EXHAUSTED;
				}
				buf = n;
			}
			zs.next_out  = buf + len;
			zs.avail_out = (uInt) (cap - len);
			rc           = inflate(&zs, Z_NO_FLUSH);
			len          = cap - zs.avail_out;
			if (rc != Z_OK && rc != Z_STREAM_END &&
			    rc != Z_BUF_ERROR) {
				free(buf);
				inflateEnd(&zs);
				snprintf(why, why_size,
				    "corrupt compressed message (%s)",
				    zs.msg != NULL ? zs.msg : "zlib error");
				return CORPC_STATUS_INTERNAL;
			}
			if (len > max) {
				free(buf);
				inflateEnd(&zs);
				snprintf(why, why_size,
				    "inflated message larger than the limit "
				    "(%zu "
				    "bytes)",
				    max);
				return CORPC_STATUS_RESOURCE_EXHAUSTED;
			}
		}
	}
	inflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(buf);
		snprintf(why, why_size, "truncated compressed message");
		return CORPC_STATUS_INTERNAL;
	}
	*out = grpc_slice_from_copied_buffer((const char *) buf, len);
	free(buf);
	return CORPC_STATUS_OK;
}

corpc_status_code
corpc__grpc_inflate(grpc_byte_buffer **bb, size_t max, corpc_compression *how,
    char *why, size_t why_size)
{
	*how = CORPC_COMPRESS_NONE;
	if ((*bb)->type != GRPC_BB_RAW) {
		return CORPC_STATUS_OK;
	}
	int bits;
	switch ((*bb)->data.raw.compression) {
	case GRPC_COMPRESS_NONE:
		return CORPC_STATUS_OK;
	case GRPC_COMPRESS_DEFLATE:
		*how = CORPC_COMPRESS_DEFLATE;
		bits = 15; // zlib format, as gRPC's "deflate"
		break;
	case GRPC_COMPRESS_GZIP:
		*how = CORPC_COMPRESS_GZIP;
		bits = 15 + 16;
		break;
	default:
		snprintf(why, why_size, "message in an unknown encoding");
		return CORPC_STATUS_UNIMPLEMENTED;
	}
	grpc_slice        flat;
	corpc_status_code rc = inflate_all(
	    &(*bb)->data.raw.slice_buffer, bits, max, &flat, why, why_size);
	if (rc != CORPC_STATUS_OK) {
		return rc;
	}
	grpc_byte_buffer_destroy(*bb);
	*bb = grpc_raw_byte_buffer_create(&flat, 1);
	grpc_slice_unref(flat);
	return CORPC_STATUS_OK;
}
