// SPDX-License-Identifier: MIT
// gRPC's four official compression interop cases (client_compressed_unary,
// client_compressed_streaming, server_compressed_unary,
// server_compressed_streaming; grpc's doc/interop-test-descriptions.md):
// the grpc.testing.TestService a corpc server offers a peer's client, and
// the client side corpc runs against a peer's server.
#ifndef CORPC_INTEROP_COMPRESSION_CASES_H
#define CORPC_INTEROP_COMPRESSION_CASES_H

#include <corpc/corpc.h>

#include "grpc_testing.corpc.h"

// UnaryCall, StreamingOutputCall and StreamingInputCall with the
// CompressedRequest and CompressedResponse server features: a request
// with expect_compressed true that came uncompressed (as
// corpc_ctx_received_compression tells) fails INVALID_ARGUMENT; responses
// are compressed (gzip) as response_compressed / ResponseParameters ask.
// `self` is unused.
extern const Grpc__Testing__TestService_Server compression_test_service;

// Runs the four cases against the TestService behind `ch`, asserting with
// cmocka; prints "case NAME: passed" after each.
void run_compression_cases(corpc_channel *ch);

#endif // CORPC_INTEROP_COMPRESSION_CASES_H
