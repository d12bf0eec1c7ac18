// SPDX-License-Identifier: MIT
// Internal: what transports need from a server.
#ifndef CORPC_CORE_SERVER_IMPL_H
#define CORPC_CORE_SERVER_IMPL_H

#include "corpc/server.h"
#include "core/ctx.h"
#include "runtime/pool.h"

struct corpc__worker;

// Finds the handler for `method` (pointer match first, then path), or NULL
// (the caller answers UNIMPLEMENTED). Thread-safe after start.
const corpc__handler *corpc__server_find(
    corpc_server *srv, const corpc_method *method, const char *path);

// Answers a call of a method the server does not have, after the server's
// interceptors had their say, so a caller the interceptors refuse (no
// credentials) learns nothing about which methods exist. The start hooks
// see a method with only `path` and `name` (kind unary, request and
// response NULL) and no ctx; finish hooks run for those that started.
// Returns the refusal code, or UNIMPLEMENTED; the message goes to `why`.
corpc_status_code corpc__server_unknown_method(corpc_server *srv,
    const char *path, corpc_metadata *md, int64_t deadline, char *why,
    size_t why_size);

// Registers a live call before its handler runs. Returns OK; UNAVAILABLE
// when the server is shutting down; RESOURCE_EXHAUSTED at
// max_concurrent_calls. Not OK: `why` says so and the caller answers with
// that status without running the handler. Thread-safe.
corpc_status_code corpc__server_call_begin(
    corpc_server *srv, corpc_ctx *ctx, char *why, size_t why_size);

// The call's handler returned and its slot is free. Thread-safe.
void corpc__server_call_end(corpc_server *srv, corpc_ctx *ctx);

// Runs a handler, fn(arg), the way the server's options say: as a task on
// the server's runtime (on worker `on` if not NULL, with the server's stack
// size), or in thread-per-call mode on a pool thread, using `job` (the
// caller's storage, borrowed until fn starts). Errors: CORPC_ENOMEM,
// CORPC_ESYS, CORPC_ESTATE; then fn will not run.
corpc_err corpc__server_run(corpc_server *srv, struct corpc__worker *on,
    void (*fn)(void *), void *arg, corpc__pool_job *job);

// The registered services, in registration order; fixed once started, so
// handlers may read them without a lock. NULL past the end.
size_t                    corpc__server_service_count(const corpc_server *srv);
const corpc_service_desc *corpc__server_service(
    const corpc_server *srv, size_t i);

// Makes corpc_server_shutdown call fn(arg) first, before its listeners stop
// and its grace begins (on the shutting-down thread, no server lock held).
// Before corpc_server_start only. Errors: CORPC_ESTATE, CORPC_ENOMEM.
corpc_err corpc__server_on_shutdown(
    corpc_server *srv, void (*fn)(void *), void *arg);

// The server's options with defaults filled in.
const corpc_server_opts *corpc__server_opts(const corpc_server *srv);

// Per-transport state hung on the server: returns the value stored under
// `key`, creating it with `create(srv)` on first use; `destroy` runs at
// corpc_server_destroy after every call ended. NULL if create failed.
void *corpc__server_attachment(corpc_server *srv, const void *key,
    void *(*create)(corpc_server *), void (*destroy)(void *));

#endif // CORPC_CORE_SERVER_IMPL_H
