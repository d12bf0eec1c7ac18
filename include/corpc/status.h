// SPDX-License-Identifier: MIT
// corpc: call status codes and library errors.
//
// Two kinds of failure are kept apart:
// - corpc_status_code: the outcome of an RPC, one of gRPC's 17 canonical
//   codes. It is identical on every transport.
// - corpc_err: a library error from a setup call (bad address, bad metadata
//   key, out of memory). It never travels over the wire.
#ifndef CORPC_STATUS_H
#define CORPC_STATUS_H

#include <stdint.h>

#include "corpc/decl.h"

#ifdef __cplusplus
extern "C" {
#endif

// X-macro: canonical gRPC status codes, value and upper-case name.
#define CORPC_STATUS_CODES(XX)                                                \
	XX(OK, 0)                                                             \
	XX(CANCELLED, 1)                                                      \
	XX(UNKNOWN, 2)                                                        \
	XX(INVALID_ARGUMENT, 3)                                               \
	XX(DEADLINE_EXCEEDED, 4)                                              \
	XX(NOT_FOUND, 5)                                                      \
	XX(ALREADY_EXISTS, 6)                                                 \
	XX(PERMISSION_DENIED, 7)                                              \
	XX(RESOURCE_EXHAUSTED, 8)                                             \
	XX(FAILED_PRECONDITION, 9)                                            \
	XX(ABORTED, 10)                                                       \
	XX(OUT_OF_RANGE, 11)                                                  \
	XX(UNIMPLEMENTED, 12)                                                 \
	XX(INTERNAL, 13)                                                      \
	XX(UNAVAILABLE, 14)                                                   \
	XX(DATA_LOSS, 15)                                                     \
	XX(UNAUTHENTICATED, 16)

typedef enum corpc_status_code {
#define CORPC_STATUS_ENUM_(name, value) CORPC_STATUS_##name = value,
	CORPC_STATUS_CODES(CORPC_STATUS_ENUM_)
#undef CORPC_STATUS_ENUM_
} corpc_status_code;

// The number of canonical codes (17).
#define CORPC_STATUS_COUNT 17

// Returns the canonical name of a code ("DEADLINE_EXCEEDED"), or "UNKNOWN"
// for a value outside 0..16. Static string; any thread.
CORPC_DECL const char *corpc_status_name(corpc_status_code code);

// The final outcome of a call as the client sees it. `message` is borrowed
// from the stream it came from and valid until that stream is destroyed.
typedef struct corpc_status {
	corpc_status_code code;
	const char       *message; // never NULL; "" when the server gave none
} corpc_status;

// X-macro: library errors, name and description.
#define CORPC_ERRORS(XX)                                                      \
	XX(OK, "success")                                                     \
	XX(ENOMEM, "out of memory")                                           \
	XX(EINVAL, "invalid argument")                                        \
	XX(EADDRINVAL, "invalid address")                                     \
	XX(ENOTSUP, "transport not built into this corpc")                    \
	XX(EADDRINUSE, "address already in use")                              \
	XX(ESTATE, "operation not valid in the current state")                \
	XX(EBADKEY, "invalid metadata key")                                   \
	XX(EBADVALUE, "invalid metadata value")                               \
	XX(EEXIST, "already registered")                                      \
	XX(ECLOSED, "object is shut down")                                    \
	XX(ESYS, "system call failed")                                        \
	XX(ETLS, "invalid TLS configuration")

typedef enum corpc_err {
#define CORPC_ERR_ENUM_(name, text) CORPC_##name,
	CORPC_ERRORS(CORPC_ERR_ENUM_)
#undef CORPC_ERR_ENUM_
} corpc_err;

// Returns a human-readable description of `err` ("invalid address").
// Static string; any thread.
CORPC_DECL const char *corpc_strerror(corpc_err err);

// Returns the symbolic name of `err` ("CORPC_EADDRINVAL"). Static string;
// any thread.
CORPC_DECL const char *corpc_err_name(corpc_err err);

#ifdef __cplusplus
}
#endif

#endif // CORPC_STATUS_H
