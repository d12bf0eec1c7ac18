// SPDX-License-Identifier: MIT
// Servers: the registered handlers, the listeners, the live-call list that
// shutdown and destroy wait on, and where handlers run (the runtime, or the
// thread-per-call pool). Shutdown is owned here, for every transport.
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/detail.h"
#include "core/fdlimit.h"
#include "core/intercept.h"
#include "core/server_impl.h"
#include "runtime/cond.h"
#include "runtime/sched.h"
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

typedef struct shutdown_hook {
	void (*fn)(void *);
	void *arg;
} shutdown_hook;

struct corpc_server {
	corpc_server_opts opts;
	pthread_mutex_t   mu;
	corpc__cond     cv; // broadcast when a live call ends; tasks may wait
	corpc__handler *handlers;
	size_t          handler_count;
	listener  **listeners; // each its own allocation: addresses stay put
	size_t      listener_count;
	attachment *attachments;
	size_t      attachment_count;
	const corpc_service_desc **services; // registration order
	size_t                     service_count;
	shutdown_hook             *hooks;
	size_t                     hook_count;
	bool                       started;
	bool                       shutting_down;
	bool                       shut_down; // every listener waited for
	pthread_mutex_t    run_mu;  // creates the runtime and pools below
	corpc_runtime     *runtime; // opts.runtime, or own_runtime
	corpc_runtime     *own_runtime;
	corpc__stack_pool *stacks;  // handler coroutines, opts.stack_size
	corpc__pool       *threads; // thread-per-call handlers
	size_t             live;
	corpc_ctx         *live_head;
};

static corpc_err
server_create(const corpc_server_opts *opts, corpc_server **out)
{
	if (out == NULL) {
		return CORPC_EINVAL;
	}
	corpc__fd_limit_raise();
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
	pthread_mutex_init(&srv->mu, NULL);
	pthread_mutex_init(&srv->run_mu, NULL);
	srv->cv = (corpc__cond) CORPC__COND_INIT;
	*out    = srv;
	return CORPC_OK;
}

corpc_err
corpc_server_create(const corpc_server_opts *opts, corpc_server **out)
{
	corpc__detail_clear();
	return corpc__detail_finish(
	    server_create(opts, out), "create a server");
}

const corpc_server_opts *
corpc__server_opts(const corpc_server *srv)
{
	return &srv->opts;
}

static corpc_err
server_register(corpc_server *srv, const corpc_service_desc *desc,
    const void *impl, void *self)
{
	if (srv->started || srv->shutting_down) {
		return CORPC_ESTATE;
	}
	for (size_t i = 0; i < srv->handler_count; i++) {
		for (size_t j = 0; j < desc->method_count; j++) {
			if (strcmp(srv->handlers[i].method->path,
			        desc->methods[j]->path) == 0) {
				corpc__detail_set(
				    "method %s is registered already",
				    desc->methods[j]->path);
				return CORPC_EEXIST;
			}
		}
	}
	for (size_t i = 0; i < srv->service_count; i++) {
		if (strcmp(srv->services[i]->name, desc->name) == 0) {
			corpc__detail_set(
			    "service %s is registered already", desc->name);
			return CORPC_EEXIST;
		}
	}
	const corpc_service_desc **sv =
	    realloc(srv->services, (srv->service_count + 1) * sizeof(*sv));
	if (sv == NULL) {
		return CORPC_ENOMEM;
	}
	srv->services     = sv;
	corpc__handler *h = realloc(srv->handlers,
	    (srv->handler_count + desc->method_count) * sizeof(*h));
	if (h == NULL && srv->handler_count + desc->method_count > 0) {
		return CORPC_ENOMEM;
	}
	srv->handlers                       = h;
	srv->services[srv->service_count++] = desc;
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

corpc_err
corpc_server_register(corpc_server *srv, const corpc_service_desc *desc,
    const void *impl, void *self)
{
	corpc__detail_clear();
	if (srv == NULL || desc == NULL || desc->name == NULL) {
		return corpc__detail_finish(
		    CORPC_EINVAL, "register a service");
	}
	return corpc__detail_finish(server_register(srv, desc, impl, self),
	    "register service %s", desc->name);
}

size_t
corpc__server_service_count(const corpc_server *srv)
{
	return srv->service_count;
}

const corpc_service_desc *
corpc__server_service(const corpc_server *srv, size_t i)
{
	return i < srv->service_count ? srv->services[i] : NULL;
}

corpc_err
corpc__server_on_shutdown(corpc_server *srv, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&srv->mu);
	corpc_err rv = CORPC_ESTATE;
	if (!srv->started && !srv->shutting_down) {
		shutdown_hook *h =
		    realloc(srv->hooks, (srv->hook_count + 1) * sizeof(*h));
		rv = h != NULL ? CORPC_OK : CORPC_ENOMEM;
		if (h != NULL) {
			srv->hooks = h;
			srv->hooks[srv->hook_count++] =
			    (shutdown_hook) {fn, arg};
		}
	}
	pthread_mutex_unlock(&srv->mu);
	return rv;
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

static corpc_err
server_listen(corpc_server *srv, const char *address)
{
	corpc_err               rv;
	corpc__address          addr;
	const corpc__transport *tp;
	if (srv->started || srv->shutting_down) {
		corpc__detail_set(
		    "the server is started or shut down already");
		return CORPC_ESTATE;
	}
	if ((rv = corpc__address_parse(address, &addr)) != CORPC_OK) {
		corpc__detail_set(CORPC__ADDRESS_FORMS);
		return rv;
	}
	if (addr.resolver) {
		corpc__detail_set("dns:, ipv4: and ipv6: are channel targets; "
		                  "a server listens on tcp://HOST:PORT");
		return CORPC_EADDRINVAL;
	}
	if ((rv = corpc__transport_for(&addr, true, &tp)) != CORPC_OK) {
		if (rv == CORPC_EADDRINVAL) {
			corpc__detail_set(CORPC__ADDRESS_FORMS);
		}
		return rv;
	}
	listener **ls = realloc(srv->listeners,
	    (srv->listener_count + 1) * sizeof(*srv->listeners));
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

corpc_err
corpc_server_listen(corpc_server *srv, const char *address)
{
	corpc__detail_clear();
	if (srv == NULL || address == NULL) {
		return corpc__detail_finish(CORPC_EINVAL, "listen");
	}
	return corpc__detail_finish(
	    server_listen(srv, address), "listen on %s", address);
}

const char *
corpc_server_address(const corpc_server *srv, size_t i)
{
	if (srv == NULL || i >= srv->listener_count) {
		return NULL;
	}
	return srv->listeners[i]->bound;
}

static corpc_err
server_start(corpc_server *srv)
{
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

corpc_err
corpc_server_start(corpc_server *srv)
{
	corpc__detail_clear();
	if (srv == NULL) {
		return corpc__detail_finish(CORPC_EINVAL, "start a server");
	}
	return corpc__detail_finish(server_start(srv), "start a server");
}

corpc_status_code
corpc__server_unknown_method(corpc_server *srv, const char *path,
    corpc_metadata *md, int64_t deadline, char *why, size_t why_size)
{
	const char  *slash = strrchr(path, '/');
	corpc_method m     = {
	        .path = path,
	        .name = slash != NULL ? slash + 1 : path,
	        .kind = CORPC_RPC_UNARY,
        };
	corpc_call c;
	corpc__call_init(&c, srv->opts.interceptors,
	    srv->opts.interceptor_count, true, &m, md, deadline, NULL);
	corpc_status_code code = corpc__call_start(&c);
	if (code != CORPC_STATUS_OK) {
		snprintf(why, why_size, "%s", c.refusal);
	} else {
		code = CORPC_STATUS_UNIMPLEMENTED;
		snprintf(why, why_size, "unknown method %s", path);
	}
	corpc__call_finish(&c, code, why);
	return code;
}

corpc_status_code
corpc__server_call_begin(
    corpc_server *srv, corpc_ctx *ctx, char *why, size_t why_size)
{
	corpc_status_code rc = CORPC_STATUS_OK;
	pthread_mutex_lock(&srv->mu);
	size_t max = srv->opts.max_concurrent_calls;
	if (srv->shutting_down) {
		rc = CORPC_STATUS_UNAVAILABLE;
		snprintf(why, why_size, "server is shutting down");
	} else if (max > 0 && srv->live >= max) {
		rc = CORPC_STATUS_RESOURCE_EXHAUSTED;
		snprintf(why, why_size,
		    "server is at its limit of %zu concurrent calls", max);
	} else {
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
	return rc;
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
	corpc__cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
}

// Thread-per-call threads that sit idle exit after this long.
#define THREAD_IDLE_MS 10000

corpc_runtime *
corpc_server_runtime(corpc_server *srv)
{
	if (srv == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&srv->run_mu);
	if (srv->runtime == NULL) {
		srv->runtime = srv->opts.runtime;
	}
	if (srv->runtime == NULL) {
		corpc_runtime_opts o = {
		    .threads          = srv->opts.scheduler_threads,
		    .stack_size       = srv->opts.stack_size,
		    .stack_guard_size = srv->opts.stack_guard_size,
		};
		if (corpc_runtime_create(&o, &srv->own_runtime) == CORPC_OK) {
			srv->runtime = srv->own_runtime;
		}
	}
	corpc_runtime *rt = srv->runtime;
	pthread_mutex_unlock(&srv->run_mu);
	return rt;
}

corpc_err
corpc__server_run(corpc_server *srv, corpc__worker *on, void (*fn)(void *),
    void *arg, corpc__pool_job *job)
{
	if (srv->opts.exec == CORPC_EXEC_THREAD_PER_CALL) {
		pthread_mutex_lock(&srv->run_mu);
		if (srv->threads == NULL) {
			// max_concurrent_calls bounds it through call_begin
			// already.
			srv->threads = corpc__pool_create(
			    0, srv->opts.stack_size, THREAD_IDLE_MS);
		}
		corpc__pool *pool = srv->threads;
		pthread_mutex_unlock(&srv->run_mu);
		if (pool == NULL) {
			return CORPC_ENOMEM;
		}
		job->fn  = fn;
		job->arg = arg;
		return corpc__pool_run(pool, job);
	}
	corpc_runtime *rt = corpc_server_runtime(srv);
	if (rt == NULL) {
		return CORPC_ENOMEM;
	}
	pthread_mutex_lock(&srv->run_mu);
	if (srv->stacks == NULL) {
		srv->stacks = corpc__stack_pool_create(
		    srv->opts.stack_size, srv->opts.stack_guard_size);
	}
	corpc__stack_pool *stacks = srv->stacks;
	pthread_mutex_unlock(&srv->run_mu);
	if (stacks == NULL) {
		return CORPC_ENOMEM;
	}
	if (on != NULL && corpc__worker_runtime(on) != rt) {
		on = NULL;
	}
	return corpc__task_spawn(rt, on, stacks, fn, arg, NULL);
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
	while (!first && !srv->shut_down) {
		corpc__cond_wait(&srv->cv, &srv->mu,
		    CORPC_DEADLINE_NONE); // another shuts down
	}
	pthread_mutex_unlock(&srv->mu);
	if (!first) {
		return;
	}
	if (grace_ms < 0) {
		grace_ms = 0;
	}
	bool started = srv->started;
	// 0. Hooks first (health turns NOT_SERVING), so that calls in flight,
	// such as health watchers, can tell their clients within the grace.
	for (size_t i = 0; i < srv->hook_count; i++) {
		srv->hooks[i].fn(srv->hooks[i].arg);
	}
	// 1. Nothing new comes in; calls in flight go on.
	for (size_t i = 0; started && i < srv->listener_count; i++) {
		listener *l = srv->listeners[i];
		l->tp->listener->l_stop(l->state);
	}
	// 2. One grace for every transport, then cancel what is left.
	if (grace_ms > INT64_MAX / 4000000) {
		grace_ms = INT64_MAX / 4000000; // "forever" without overflow
	}
	int64_t until = corpc_now() + grace_ms * 1000000;
	pthread_mutex_lock(&srv->mu);
	while (srv->live > 0 && corpc_now() < until) {
		corpc__cond_wait(&srv->cv, &srv->mu, until);
	}
	pthread_mutex_unlock(&srv->mu);
	// Handlers that returned may still be sending their status: let it
	// go out within the grace rather than cancel it.
	for (size_t i = 0; started && i < srv->listener_count; i++) {
		listener *l = srv->listeners[i];
		if (l->tp->listener->l_drain != NULL) {
			l->tp->listener->l_drain(l->state, until);
		}
	}
	pthread_mutex_lock(&srv->mu);
	for (corpc_ctx *c = srv->live_head; c != NULL; c = c->live_next) {
		c->ops->x_cancel(c);
	}
	pthread_mutex_unlock(&srv->mu);
	for (size_t i = 0; started && i < srv->listener_count; i++) {
		listener *l = srv->listeners[i];
		l->tp->listener->l_cancel(l->state);
	}
	// 3. Network handlers unwind; in-process calls end when their clients
	// let go (corpc_server_destroy waits for those).
	for (size_t i = 0; started && i < srv->listener_count; i++) {
		listener *l = srv->listeners[i];
		l->tp->listener->l_wait(l->state);
	}
	pthread_mutex_lock(&srv->mu);
	srv->shut_down = true;
	corpc__cond_broadcast(&srv->cv);
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
				    (attachment) {.key = key,
				        .value         = value,
				        .destroy       = destroy};
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
		corpc__cond_wait(&srv->cv, &srv->mu, CORPC_DEADLINE_NONE);
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
	// Every handler has returned: the places they ran can go.
	corpc__pool_destroy(srv->threads);
	corpc_runtime_destroy(srv->own_runtime);
	corpc__stack_pool_destroy(srv->stacks);
	pthread_mutex_destroy(&srv->run_mu);
	free(srv->attachments);
	free(srv->listeners);
	free(srv->handlers);
	free(srv->services);
	free(srv->hooks);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
}
