// Internal: what transports need from a server.
#ifndef CORPC_CORE_SERVER_IMPL_H
#define CORPC_CORE_SERVER_IMPL_H

#include "corpc/server.h"
#include "core/ctx.h"

// Finds the handler for `method` (pointer match first, then path), or NULL
// (the caller answers UNIMPLEMENTED). Thread-safe after start.
const corpc__handler *corpc__server_find(
    corpc_server *srv, const corpc_method *method, const char *path);

// Registers a live call before its handler runs. Returns false when the
// server is shutting down (the caller answers UNAVAILABLE). Thread-safe.
bool corpc__server_call_begin(corpc_server *srv, corpc_ctx *ctx);

// The call's handler returned and its slot is free. Thread-safe.
void corpc__server_call_end(corpc_server *srv, corpc_ctx *ctx);

// The server's options with defaults filled in.
const corpc_server_opts *corpc__server_opts(const corpc_server *srv);

// Per-transport state hung on the server: returns the value stored under
// `key`, creating it with `create(srv)` on first use; `destroy` runs at
// corpc_server_destroy after every call ended. NULL if create failed.
void *corpc__server_attachment(corpc_server *srv, const void *key,
    void *(*create)(corpc_server *), void (*destroy)(void *));

#endif // CORPC_CORE_SERVER_IMPL_H
