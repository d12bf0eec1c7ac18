// SPDX-License-Identifier: MIT
// The ListStrings reference service: one implementation, served by
// liststrings_server, embedded by liststrings_client --serve, and measured
// by bench/. It holds 10,000 copies of one 100-byte string, pre-built into
// responses of 1, 10 or 100 strings (10,000, 1,000 or 100 messages).
#ifndef LISTSTRINGS_LIST_SERVICE_H
#define LISTSTRINGS_LIST_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include <corpc/corpc.h>

#include "list.corpc.h"

#define LIST_STRINGS     10000 // strings per call
#define LIST_STRING_SIZE 100   // bytes per string

typedef struct list_service list_service;

// Receives one response of the producing loop; `last` marks the final one.
// Returns OK to go on; any other code stops the loop, which returns it.
typedef corpc_status_code (*list_emit_fn)(
    void *arg, const List__V0__ListResponse *resp, bool last);

// Builds the service's data in *out: read-only afterwards, so any number of
// calls on any threads may share it. Caller owns it (list_service_destroy).
// Errors: CORPC_ENOMEM.
corpc_err list_service_create(list_service **out);

// Frees the service. No call may be using it. NULL is allowed.
void list_service_destroy(list_service *svc);

// Returns how many responses a call with `resp_size` gets (0 means 1), or 0
// when the size is not one of 1, 10, 100.
size_t list_service_count(const list_service *svc, int resp_size);

// The producing loop shared by the handler and the benchmark's direct and
// buffer cases: passes each pre-built response for `resp_size` to `emit`, in
// order. The responses are owned by `svc` and live as long as it does.
// Returns OK when all were emitted, emit's code when it stopped, or
// INVALID_ARGUMENT for an unsupported size (nothing emitted).
corpc_status_code list_service_produce(
    const list_service *svc, int resp_size, list_emit_fn emit, void *arg);

// The generated vtable for this service; `self` is the list_service. List
// sends with CORPC_WRITE_STABLE (the responses outlive every call); Upload
// counts the strings it receives and their bytes.
extern const List__V0__ListStrings_Server list_service_impl;
// The same service sending without CORPC_WRITE_STABLE: one in-process
// handoff per message (the benchmark's *-plain cases).
extern const List__V0__ListStrings_Server list_service_impl_plain;

// Creates a server in *out with `svc` registered, listening on the `n`
// addresses, started. `svc` must outlive the server. On failure, prints
// which address failed to stderr and frees what it made.
// Errors: as corpc_server_create, _register, _listen and _start.
corpc_err list_server_start(
    list_service *svc, const char *const *addrs, size_t n, corpc_server **out);

#endif // LISTSTRINGS_LIST_SERVICE_H
