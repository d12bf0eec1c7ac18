// SPDX-License-Identifier: MIT
// Internal: the calling thread's error detail (corpc_err_detail, status.h).
// A public setup call clears it on entry, lower layers say what failed
// (errno text, path, gRPC's message), and the call adds its own context
// when it fails.
#ifndef CORPC_CORE_DETAIL_H
#define CORPC_CORE_DETAIL_H

#include <stdbool.h>

#include "corpc/status.h"

// Empties this thread's detail. Public setup calls do it first.
void corpc__detail_clear(void);

// Sets this thread's detail (printf-style), replacing what was there.
void corpc__detail_set(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

// For a public call's return: when `rv` is an error, prefixes the detail
// with the call's context ("listen on unix:/x: ") and, if no lower layer
// said anything, adds corpc_strerror(rv). Returns `rv`.
corpc_err corpc__detail_finish(corpc_err rv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// While capturing, error lines gRPC logs on this thread are kept as the
// detail too (gRPC reports bind failures only in its log).
void corpc__detail_capture(bool on);
bool corpc__detail_capturing(void);
void corpc__detail_add(const char *text);

#endif // CORPC_CORE_DETAIL_H
