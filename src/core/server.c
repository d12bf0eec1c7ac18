// Servers: the registered handlers, the listeners, and the live-call list
// that shutdown and destroy wait on.
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/server_impl.h"
#include "transport/transport.h"

typedef struct listener {
	const corpc__transport *tp;
	void                   *state;
	char                    bound[CORPC__ADDR_MAX + 32];
} listener;

typedef struct attachment {
	const void *key;
	void       *value;
	void (*destroy)(void *);
} attachment;

struct corpc_server {
	corpc_server_opts opts;
	pthread_mutex_t   mu;
	pthread_cond_t    cv; // signalled when a live call ends
	corpc__handler   *handlers;
	size_t            handler_count;
	listener        **listeners; // each its own allocation: addresses stay put
	size_t            listener_count;
	attachment       *attachments;
	size_t            attachment_count;
	bool              started;
	bool              shutting_down;
	size_t            live;
	corpc_ctx        *live_head;
};

corpc_err
corpc_server_create(const corpc_server_opts *opts, corpc_server **out)
{
	if (out == NULL) {
		return CORPC_EINVAL;
	}
	corpc_server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		return CORPC_ENOMEM;
	}
	if (opts != NULL) {
		srv->opts = *opts;
	}
	if (srv->opts.stack_size == 0) {
		srv->opts.stack_size = 256 * 1024;
	}
	if (srv->opts.max_message_size == 0) {
		srv->opts.max_message_size = 4u << 20;
	}
	if (srv->opts.worker_threads == 0) {
		srv->opts.worker_threads = 4;
	}
	pthread_mutex_init(&srv->mu, NULL);
	corpc__cond_init_monotonic(&srv->cv);
	*out = srv;
	return CORPC_OK;
}

const corpc_server_opts *
corpc__server_opts(const corpc_server *srv)
{
	return &srv->opts;
}

corpc_err
corpc_server_register(corpc_server *srv, const corpc_service_desc *desc,
    const void *impl, void *self)
{
	if (srv == NULL || desc == NULL || desc->name == NULL) {
		return CORPC_EINVAL;
	}
	if (srv->started || srv->shutting_down) {
		return CORPC_ESTATE;
	}
	for (size_t i = 0; i < srv->handler_count; i++) {
		for (size_t j = 0; j < desc->method_count; j++) {
			if (strcmp(srv->handlers[i].method->path,
			        desc->methods[j]->path) == 0) {
				return CORPC_EEXIST;
			}
		}
	}
	corpc__handler *h = realloc(srv->handlers,
	    (srv->handler_count + desc->method_count) * sizeof(*h));
	if (h == NULL && srv->handler_count + desc->method_count > 0) {
		return CORPC_ENOMEM;
	}
	srv->handlers = h;
	for (size_t j = 0; j < desc->method_count; j++) {
		srv->handlers[srv->handler_count++] = (corpc__handler) {
		    .method = desc->methods[j],
		    .fn     = desc->handlers[j],
		    .impl   = impl,
		    .self   = self,
		};
	}
	return CORPC_OK;
}

const corpc__handler *
corpc__server_find(
    corpc_server *srv, const corpc_method *method, const char *path)
{
	// Handlers are fixed once started, so no lock. A generated method is
	// one object shared by client and server: try the pointer first.
	for (size_t i = 0; i < srv->handler_count; i++) {
		if (srv->handlers[i].method == method) {
			return &srv->handlers[i];
		}
	}
	if (path == NULL) {
		path = method != NULL ? method->path : NULL;
	}
	for (size_t i = 0; path != NULL && i < srv->handler_count; i++) {
		if (strcmp(srv->handlers[i].method->path, path) == 0) {
			return &srv->handlers[i];
		}
	}
	return NULL;
}

corpc_err
corpc_server_listen(corpc_server *srv, const char *address)
{
	corpc_err              rv;
	corpc__address         addr;
	const corpc__transport *tp;
	if (srv == NULL || address == NULL) {
		return CORPC_EINVAL;
	}
	if (srv->started || srv->shutting_down) {
		return CORPC_ESTATE;
	}
	if ((rv = corpc__address_parse(address, &addr)) != CORPC_OK ||
	    (rv = corpc__transport_for(&addr, true, &tp)) != CORPC_OK) {
		return rv;
	}
	listener **ls = realloc(
	    srv->listeners, (srv->listener_count + 1) * sizeof(*srv->listeners));
	if (ls == NULL) {
		return CORPC_ENOMEM;
	}
	srv->listeners = ls;
	listener *l    = calloc(1, sizeof(*l));
	if (l == NULL) {
		return CORPC_ENOMEM;
	}
	l->tp = tp;
	rv    = tp->listener->l_listen(
        srv, &addr, &l->state, l->bound, sizeof(l->bound));
	if (rv != CORPC_OK) {
		free(l);
		return rv;
	}
	srv->listeners[srv->listener_count++] = l;
	return CORPC_OK;
}

const char *
corpc_server_address(const corpc_server *srv, size_t i)
{
	if (srv == NULL || i >= srv->listener_count) {
		return NULL;
	}
	return srv->listeners[i]->bound;
}

corpc_err
corpc_server_start(corpc_server *srv)
{
	if (srv == NULL) {
		return CORPC_EINVAL;
	}
	if (srv->started || srv->shutting_down) {
		return CORPC_ESTATE;
	}
	srv->started = true;
	for (size_t i = 0; i < srv->listener_count; i++) {
		listener *l  = srv->listeners[i];
		corpc_err rv = l->tp->listener->l_start(l->state);
		if (rv != CORPC_OK) {
			return rv;
		}
	}
	return CORPC_OK;
}

bool
corpc__server_call_begin(corpc_server *srv, corpc_ctx *ctx)
{
	pthread_mutex_lock(&srv->mu);
	bool ok = !srv->shutting_down;
	if (ok) {
		ctx->server    = srv;
		ctx->live_prev = NULL;
		ctx->live_next = srv->live_head;
		if (srv->live_head != NULL) {
			srv->live_head->live_prev = ctx;
		}
		srv->live_head = ctx;
		srv->live++;
	}
	pthread_mutex_unlock(&srv->mu);
	return ok;
}

void
corpc__server_call_end(corpc_server *srv, corpc_ctx *ctx)
{
	pthread_mutex_lock(&srv->mu);
	if (ctx->live_prev != NULL) {
		ctx->live_prev->live_next = ctx->live_next;
	} else {
		srv->live_head = ctx->live_next;
	}
	if (ctx->live_next != NULL) {
		ctx->live_next->live_prev = ctx->live_prev;
	}
	ctx->live_next = ctx->live_prev = NULL;
	srv->live--;
	pthread_cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
}

void
corpc_server_shutdown(corpc_server *srv, int64_t grace_ms)
{
	if (srv == NULL) {
		return;
	}
	pthread_mutex_lock(&srv->mu);
	bool first         = !srv->shutting_down;
	srv->shutting_down = true;
	pthread_mutex_unlock(&srv->mu);
	if (!first) {
		return;
	}
	if (grace_ms < 0) {
		grace_ms = 0;
	}
	// Listeners stop accepting and drain their own calls within the grace.
	for (size_t i = 0; i < srv->listener_count; i++) {
		listener *l = srv->listeners[i];
		l->tp->listener->l_shutdown(l->state, grace_ms);
	}
	// In-process calls left: wait out the grace, then cancel them; their
	// clients unwind them on their next operation.
	struct timespec until = corpc__timespec_at(corpc_now() + grace_ms * 1000000);
	pthread_mutex_lock(&srv->mu);
	while (srv->live > 0 && grace_ms > 0) {
		if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) == ETIMEDOUT) {
			break;
		}
	}
	for (corpc_ctx *c = srv->live_head; c != NULL; c = c->live_next) {
		c->ops->x_cancel(c);
	}
	pthread_mutex_unlock(&srv->mu);
}

void *
corpc__server_attachment(corpc_server *srv, const void *key,
    void *(*create)(corpc_server *), void (*destroy)(void *))
{
	void *value = NULL;
	pthread_mutex_lock(&srv->mu);
	for (size_t i = 0; i < srv->attachment_count; i++) {
		if (srv->attachments[i].key == key) {
			value = srv->attachments[i].value;
			break;
		}
	}
	if (value == NULL) {
		attachment *a = realloc(srv->attachments,
		    (srv->attachment_count + 1) * sizeof(*a));
		if (a != NULL) {
			srv->attachments = a;
			value            = create(srv);
			if (value != NULL) {
				a[srv->attachment_count++] =
				    (attachment) {.key = key, .value = value, .destroy = destroy};
			}
		}
	}
	pthread_mutex_unlock(&srv->mu);
	return value;
}

void
corpc_server_destroy(corpc_server *srv)
{
	if (srv == NULL) {
		return;
	}
	corpc_server_shutdown(srv, 0);
	pthread_mutex_lock(&srv->mu);
	while (srv->live > 0) {
		pthread_cond_wait(&srv->cv, &srv->mu);
	}
	pthread_mutex_unlock(&srv->mu);
	for (size_t i = 0; i < srv->listener_count; i++) {
		listener *l = srv->listeners[i];
		l->tp->listener->l_destroy(l->state);
		free(l);
	}
	for (size_t i = 0; i < srv->attachment_count; i++) {
		srv->attachments[i].destroy(srv->attachments[i].value);
	}
	free(srv->attachments);
	free(srv->listeners);
	free(srv->handlers);
	pthread_cond_destroy(&srv->cv);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
}
