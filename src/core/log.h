// SPDX-License-Identifier: MIT
// Internal logging: every corpc line and every gRPC line passes here.
#ifndef CORPC_CORE_LOG_H
#define CORPC_CORE_LOG_H

#include "corpc/log.h"

// Formats and emits one corpc line (printf-style). The default drops
// DEBUG and INFO and writes the rest to stderr as "corpc: LEVEL: text".
void corpc__log(corpc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Emits an already formatted line that came from gRPC: to the hook if one
// is set, else to stderr unchanged (gRPC filtered it already).
void corpc__log_grpc(corpc_log_level level, const char *text);

#endif // CORPC_CORE_LOG_H
