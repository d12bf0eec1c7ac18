// SPDX-License-Identifier: MIT
// The in-process registry: inproc://NAME → server. Listening adds a name,
// shutdown removes it; lookups run under one mutex, held only briefly.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpc/runtime.h"
#include "core/server_impl.h"
#include "transport/inproc/inproc.h"
#include "transport/inproc/registry.h"
#include "transport/transport.h"

typedef struct entry {
	struct entry *next;
	corpc_server *srv;
	bool          started;
	char          name[CORPC__ADDR_MAX];
} entry;

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static entry          *registry_head;

static entry *
find_locked(const char *name)
{
	for (entry *e = registry_head; e != NULL; e = e->next) {
		if (strcmp(e->name, name) == 0) {
			return e;
		}
	}
	return NULL;
}

static corpc_err
inproc_listen(corpc_server *srv, const corpc__address *addr, void **state,
    char *bound, size_t bound_size)
{
	entry *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return CORPC_ENOMEM;
	}
	e->srv = srv;
	snprintf(e->name, sizeof(e->name), "%s", addr->host);
	pthread_mutex_lock(&registry_mu);
	if (find_locked(e->name) != NULL) {
		pthread_mutex_unlock(&registry_mu);
		free(e);
		return CORPC_EADDRINUSE;
	}
	e->next       = registry_head;
	registry_head = e;
	pthread_mutex_unlock(&registry_mu);
	snprintf(bound, bound_size, "inproc://%s", e->name);
	*state = e;
	return CORPC_OK;
}

static corpc_err
inproc_start(void *state)
{
	entry *e = state;
	pthread_mutex_lock(&registry_mu);
	e->started = true;
	pthread_mutex_unlock(&registry_mu);
	return CORPC_OK;
}

static void
unlink_entry(entry *e)
{
	pthread_mutex_lock(&registry_mu);
	for (entry **p = &registry_head; *p != NULL; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_mu);
}

static void
inproc_stop(void *state)
{
	unlink_entry(state); // new calls find no server
}

static void
inproc_nothing(void *state)
{
	(void) state; // in-process calls are cancelled and waited on by core
}

static void
inproc_destroy(void *state)
{
	unlink_entry(state); // harmless if already gone
	free(state);
}

corpc_status_code
corpc__inproc_resolve(const char *name, const corpc_method *method,
    corpc_ctx *ctx, corpc_server **srv, const corpc__handler **handler,
    char *why, size_t why_size)
{
	corpc_status_code rc = CORPC_STATUS_OK;
	pthread_mutex_lock(&registry_mu);
	entry *e = find_locked(name);
	if (e == NULL || !e->started) {
		snprintf(why, why_size, "no in-process server at inproc://%s",
		    name);
		rc = CORPC_STATUS_UNAVAILABLE;
	} else if ((*handler = corpc__server_find(e->srv, method, NULL)) ==
	           NULL) {
		snprintf(why, why_size, "unknown method %s", method->path);
		rc = CORPC_STATUS_UNIMPLEMENTED;
	} else if ((rc = corpc__server_call_begin(
	                e->srv, ctx, why, why_size)) != CORPC_STATUS_OK) {
		// why: shutting down, or at max_concurrent_calls
	} else {
		*srv = e->srv;
	}
	pthread_mutex_unlock(&registry_mu);
	return rc;
}

corpc_channel_state
corpc__inproc_state(const char *name)
{
	pthread_mutex_lock(&registry_mu);
	entry *e     = find_locked(name);
	bool   ready = e != NULL && e->started;
	pthread_mutex_unlock(&registry_mu);
	return ready ? CORPC_CHANNEL_READY : CORPC_CHANNEL_TRANSIENT_FAILURE;
}

// Polls: a server's start is rare and a waiting call costs nothing else.
#define AWAIT_POLL_MS 5

corpc_status_code
corpc__inproc_await(const char *name, int64_t deadline, atomic_int *cancel,
    char *why, size_t why_size)
{
	for (;;) {
		if (corpc__inproc_state(name) == CORPC_CHANNEL_READY) {
			return CORPC_STATUS_OK;
		}
		int code = atomic_load(cancel);
		if (code != 0) {
			snprintf(why, why_size, "call cancelled");
			return (corpc_status_code) code;
		}
		if (deadline != CORPC_DEADLINE_NONE &&
		    corpc_now() >= deadline) {
			snprintf(why, why_size,
			    "no in-process server at inproc://%s before the "
			    "deadline",
			    name);
			return CORPC_STATUS_DEADLINE_EXCEEDED;
		}
		corpc_sleep_ms(AWAIT_POLL_MS);
	}
}

const corpc__listener_ops corpc__inproc_listener_ops = {
    .l_listen  = inproc_listen,
    .l_start   = inproc_start,
    .l_stop    = inproc_stop,
    .l_cancel  = inproc_nothing,
    .l_wait    = inproc_nothing,
    .l_destroy = inproc_destroy,
};
