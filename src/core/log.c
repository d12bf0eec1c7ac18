// SPDX-License-Identifier: MIT
// The log hook: one (fn, arg) pair, swapped under a mutex so that a line
// never sees the fn of one call with the arg of another.
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static corpc_log_fn    log_fn;
static void           *log_arg;

void
corpc_log_set(corpc_log_fn fn, void *arg)
{
	pthread_mutex_lock(&log_mu);
	log_fn  = fn;
	log_arg = fn != NULL ? arg : NULL;
	pthread_mutex_unlock(&log_mu);
}

const char *
corpc_log_level_name(corpc_log_level level)
{
	switch (level) {
	case CORPC_LOG_DEBUG:
		return "DEBUG";
	case CORPC_LOG_INFO:
		return "INFO";
	case CORPC_LOG_WARNING:
		return "WARNING";
	case CORPC_LOG_ERROR:
		return "ERROR";
	}
	return "UNKNOWN";
}

// Calls the hook, if any, with the lock held: corpc_log_set then waits for
// lines in progress, so a hook's `arg` may be freed once it returns.
static bool
to_hook(corpc_log_level level, const char *text)
{
	pthread_mutex_lock(&log_mu);
	bool hooked = log_fn != NULL;
	if (hooked) {
		log_fn(level, text, log_arg);
	}
	pthread_mutex_unlock(&log_mu);
	return hooked;
}

void
corpc__log(corpc_log_level level, const char *fmt, ...)
{
	char    text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!to_hook(level, text) && level >= CORPC_LOG_WARNING) {
		fprintf(stderr, "corpc: %s: %s\n", corpc_log_level_name(level),
		    text);
	}
}

void
corpc__log_grpc(corpc_log_level level, const char *text)
{
	if (!to_hook(level, text)) {
		fprintf(stderr, "%s\n", text);
	}
}
