// SPDX-License-Identifier: MIT
// Internal: the peer of a network call (corpc_ctx_peer).
#ifndef CORPC_GRPC_PEER_H
#define CORPC_GRPC_PEER_H

#include <grpc/grpc.h>

#include "corpc/server.h"

// Fills *out from the call's peer string (or `address` when not NULL: what
// corpc's acceptor knows of a connection gRPC calls "fd:N") and auth
// context. Its strings live in one block, *mem, which the caller frees
// (free) when the call ends. Errors: CORPC_ENOMEM.
corpc_err corpc__grpc_peer(
    grpc_call *call, const char *address, corpc_peer *out, void **mem);

#endif // CORPC_GRPC_PEER_H
