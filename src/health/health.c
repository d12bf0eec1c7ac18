// SPDX-License-Identifier: MIT
// grpc.health.v1.Health: a table of service statuses under one mutex, and
// watchers that wait on a task-aware condition variable (a waiting Watch
// handler suspends its coroutine, it never holds a scheduler thread).
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "corpc/health.h"
#include "core/clock.h"
#include "core/server_impl.h"
#include "grpc/health/v1/health.corpc.h"
#include "runtime/cond.h"

// How often a waiting watcher looks whether its call was cancelled: corpc
// has no wake-up for that, and a cancelled watcher only holds its stack.
#define HEALTH_CANCEL_POLL_NS (100 * 1000000LL)

typedef struct health_entry {
	char               *name;
	corpc_health_status status;
} health_entry;

struct corpc_health {
	pthread_mutex_t mu;
	corpc__cond     cv; // broadcast at every change
	health_entry   *entries;
	size_t          count;
	bool            shutting_down; // statuses are final
};

// With h->mu held.
static health_entry *
health_find(corpc_health *h, const char *service)
{
	for (size_t i = 0; i < h->count; i++) {
		if (strcmp(h->entries[i].name, service) == 0) {
			return &h->entries[i];
		}
	}
	return NULL;
}

// With h->mu held.
static corpc_health_status
health_status_locked(corpc_health *h, const char *service)
{
	health_entry *e = health_find(h, service);
	return e != NULL ? e->status : CORPC_HEALTH_SERVICE_UNKNOWN;
}

// With h->mu held.
static corpc_err
health_put(corpc_health *h, const char *service, corpc_health_status status)
{
	health_entry *e = health_find(h, service);
	if (e == NULL) {
		health_entry *v =
		    realloc(h->entries, (h->count + 1) * sizeof(*v));
		char *name = strdup(service);
		if (v == NULL || name == NULL) {
			if (v != NULL) {
				h->entries = v;
			}
			free(name);
			return CORPC_ENOMEM;
		}
		h->entries = v;
		e          = &h->entries[h->count++];
		e->name    = name;
	}
	e->status = status;
	corpc__cond_broadcast(&h->cv);
	return CORPC_OK;
}

corpc_err
corpc_health_set(
    corpc_health *h, const char *service, corpc_health_status status)
{
	if (h == NULL || service == NULL ||
	    (status != CORPC_HEALTH_SERVING &&
	        status != CORPC_HEALTH_NOT_SERVING)) {
		return CORPC_EINVAL;
	}
	pthread_mutex_lock(&h->mu);
	corpc_err rv =
	    h->shutting_down ? CORPC_ESTATE : health_put(h, service, status);
	pthread_mutex_unlock(&h->mu);
	return rv;
}

corpc_err
corpc_health_clear(corpc_health *h, const char *service)
{
	if (h == NULL || service == NULL) {
		return CORPC_EINVAL;
	}
	pthread_mutex_lock(&h->mu);
	corpc_err     rv = h->shutting_down ? CORPC_ESTATE : CORPC_OK;
	health_entry *e  = rv == CORPC_OK ? health_find(h, service) : NULL;
	if (e != NULL) {
		free(e->name);
		*e = h->entries[--h->count];
		corpc__cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return rv;
}

corpc_health_status
corpc_health_get(corpc_health *h, const char *service)
{
	if (h == NULL || service == NULL) {
		return CORPC_HEALTH_SERVICE_UNKNOWN;
	}
	pthread_mutex_lock(&h->mu);
	corpc_health_status st = health_status_locked(h, service);
	pthread_mutex_unlock(&h->mu);
	return st;
}

// corpc_server_shutdown's first step: every known service NOT_SERVING,
// and watchers wake to send it and end.
static void
health_on_shutdown(void *arg)
{
	corpc_health *h = arg;
	pthread_mutex_lock(&h->mu);
	h->shutting_down = true;
	for (size_t i = 0; i < h->count; i++) {
		h->entries[i].status = CORPC_HEALTH_NOT_SERVING;
	}
	corpc__cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static corpc_status_code
health_write(corpc_ctx *ctx, corpc_health_status status, bool stream)
{
	Grpc__Health__V1__HealthCheckResponse resp =
	    GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	resp.status =
	    (Grpc__Health__V1__HealthCheckResponse__ServingStatus) status;
	return stream ? grpc__health__v1__health__watch_write(ctx, &resp, 0)
	              : grpc__health__v1__health__check_write(ctx, &resp, 0);
}

static corpc_status_code
health_check(void *self, corpc_ctx *ctx,
    const Grpc__Health__V1__HealthCheckRequest *req)
{
	corpc_health_status st = corpc_health_get(self, req->service);
	if (st == CORPC_HEALTH_SERVICE_UNKNOWN) {
		return corpc_ctx_status(
		    ctx, CORPC_STATUS_NOT_FOUND, "unknown service");
	}
	return health_write(ctx, st, false);
}

static corpc_status_code
health_watch(void *self, corpc_ctx *ctx,
    const Grpc__Health__V1__HealthCheckRequest *req)
{
	corpc_health       *h    = self;
	bool                sent = false;
	corpc_health_status last = CORPC_HEALTH_UNKNOWN;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		corpc_health_status st = health_status_locked(h, req->service);
		if (!sent || st != last) {
			// Never send with the lock held: a slow client would
			// stall every set.
			pthread_mutex_unlock(&h->mu);
			corpc_status_code rv = health_write(ctx, st, true);
			if (rv != CORPC_STATUS_OK) {
				return rv;
			}
			sent = true;
			last = st;
			pthread_mutex_lock(&h->mu);
			continue; // it may have changed meanwhile
		}
		if (h->shutting_down) {
			pthread_mutex_unlock(&h->mu);
			return corpc_ctx_status(ctx, CORPC_STATUS_UNAVAILABLE,
			    "the server is shutting down");
		}
		if (corpc_ctx_is_cancelled(ctx)) {
			pthread_mutex_unlock(&h->mu);
			return CORPC_STATUS_CANCELLED;
		}
		corpc__cond_wait(
		    &h->cv, &h->mu, corpc_now() + HEALTH_CANCEL_POLL_NS);
	}
}

static const Grpc__Health__V1__Health_Server health_impl = {
    .check = health_check,
    .watch = health_watch,
};

static int health_key; // the server attachment's key

static void *
health_create(corpc_server *srv)
{
	(void) srv;
	corpc_health *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	h->cv = (corpc__cond) CORPC__COND_INIT;
	if (health_put(h, "", CORPC_HEALTH_SERVING) != CORPC_OK) {
		pthread_mutex_destroy(&h->mu);
		free(h);
		return NULL;
	}
	return h;
}

static void
health_destroy(void *arg)
{
	corpc_health *h = arg;
	for (size_t i = 0; i < h->count; i++) {
		free(h->entries[i].name);
	}
	free(h->entries);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

corpc_err
corpc_health_enable(corpc_server *srv, corpc_health **out)
{
	if (srv == NULL) {
		return CORPC_EINVAL;
	}
	// The state is the server's (freed after every call ended); a second
	// enable finds it and is refused by the registration.
	corpc_health *h = corpc__server_attachment(
	    srv, &health_key, health_create, health_destroy);
	if (h == NULL) {
		return CORPC_ENOMEM;
	}
	corpc_err rv =
	    grpc__health__v1__health__register_server(srv, &health_impl, h);
	if (rv == CORPC_OK) {
		rv = corpc__server_on_shutdown(srv, health_on_shutdown, h);
	}
	if (rv == CORPC_OK && out != NULL) {
		*out = h;
	}
	return rv;
}
