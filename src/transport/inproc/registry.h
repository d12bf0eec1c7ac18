// SPDX-License-Identifier: MIT
// Internal: the process-wide table of in-process server names, shared by
// every inproc:// client mode (coroutine, thread).
#ifndef CORPC_INPROC_REGISTRY_H
#define CORPC_INPROC_REGISTRY_H

#include "corpc/server.h"
#include "core/ctx.h"

// Finds the server listening on inproc://name, resolves `method` on it and
// registers `ctx` as a live call (corpc__server_call_begin), atomically with
// respect to the server's shutdown. Returns OK with *srv and *handler set;
// UNAVAILABLE (no server of that name, or shutting down) or UNIMPLEMENTED
// (no such method) with a message in `why` otherwise.
corpc_status_code corpc__inproc_resolve(const char *name,
    const corpc_method *method, corpc_ctx *ctx, corpc_server **srv,
    const corpc__handler **handler, char *why, size_t why_size);

#endif // CORPC_INPROC_REGISTRY_H
