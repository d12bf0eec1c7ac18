// SPDX-License-Identifier: MIT
// corpc: per-call bearer-token credentials, as a pair of interceptors.
// The client interceptor sends "authorization: Bearer TOKEN" with every
// call; the server interceptor refuses a call without a well-formed token
// (UNAUTHENTICATED) or whose token the check rejects (PERMISSION_DENIED),
// before the handler runs. Both work the same in-process and over tcp://
// or unix:// (tokens travel in clear text over a plain connection: use TLS).
#ifndef CORPC_BEARER_H
#define CORPC_BEARER_H

#include <stdbool.h>

#include "corpc/decl.h"
#include "corpc/interceptor.h"

#ifdef __cplusplus
extern "C" {
#endif

// Returns a client interceptor that adds the bearer `token` (printable
// ASCII; borrowed: it must outlive every channel using the interceptor). A
// token that is not printable ASCII refuses each call with
// INVALID_ARGUMENT before anything is sent.
CORPC_DECL corpc_interceptor corpc_bearer_client(const char *token);

// Decides whether `token` may call `method`. Runs on the handler's thread,
// with no corpc lock held; must be thread-safe for network servers.
typedef bool (*corpc_bearer_check_fn)(
    void *arg, const corpc_method *method, const char *token);

typedef struct corpc_bearer_check {
	corpc_bearer_check_fn check;
	void                 *arg;
} corpc_bearer_check;

// Returns a server interceptor that enforces `check` (borrowed: it must
// outlive the server).
CORPC_DECL corpc_interceptor corpc_bearer_server(
    const corpc_bearer_check *check);

#ifdef __cplusplus
}
#endif

#endif // CORPC_BEARER_H
