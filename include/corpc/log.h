// SPDX-License-Identifier: MIT
// corpc: one place for log lines, corpc's own and gRPC C-core's.
//
// By default corpc writes its warnings and errors to stderr, and gRPC's
// lines go to stderr in gRPC's format, filtered as gRPC filters them
// (GRPC_VERBOSITY: DEBUG, INFO or ERROR, default ERROR). With a hook set,
// every such line goes to the hook instead.
#ifndef CORPC_LOG_H
#define CORPC_LOG_H

#include "corpc/decl.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum corpc_log_level {
	CORPC_LOG_DEBUG,
	CORPC_LOG_INFO,
	CORPC_LOG_WARNING,
	CORPC_LOG_ERROR,
} corpc_log_level;

// Receives one line (no trailing newline; `text` is borrowed for the call)
// from whichever thread logs it, corpc's or gRPC's, possibly several at
// once: it must be thread-safe, return quickly, and not call corpc. gRPC's
// lines start with "grpc " and the source file and line.
typedef void (*corpc_log_fn)(
    corpc_log_level level, const char *text, void *arg);

// Sends every later log line to `fn` (with `arg`); NULL restores the
// default. Any thread, any time. gRPC's hook is process-wide: corpc
// installs its own with gpr_set_log_function when it starts gRPC, so a
// program that sets gRPC's hook itself after that takes gRPC's lines away
// from corpc's.
CORPC_DECL void corpc_log_set(corpc_log_fn fn, void *arg);

// Returns the level's name ("DEBUG", "INFO", "WARNING", "ERROR").
CORPC_DECL const char *corpc_log_level_name(corpc_log_level level);

#ifdef __cplusplus
}
#endif

#endif // CORPC_LOG_H
