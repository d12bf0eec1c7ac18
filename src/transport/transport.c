// SPDX-License-Identifier: MIT
// The table of schemes: which transports serve which addresses. A new
// transport adds its rows here (and its folder to CMake); each one says
// itself which addresses of its scheme it serves (t_serves). A scheme whose
// transport is not built answers CORPC_ENOTSUP with the address still
// parsed.
#include <stddef.h>

#include "transport/inproc/inproc.h"
#include "transport/transport.h"

#ifdef CORPC_TRANSPORT_CORO_BUILT
extern const corpc__transport corpc__coro_transport;
#endif
#ifdef CORPC_TRANSPORT_THREAD_BUILT
extern const corpc__transport corpc__thread_transport;
#endif
#ifdef CORPC_TRANSPORT_GRPC_BUILT
extern const corpc__transport corpc__grpc_transport;
#endif

typedef struct scheme_row {
	corpc__scheme           scheme;
	const corpc__transport *tp;
} scheme_row;

// In order of preference. An empty table still compiles (no transport).
static const scheme_row rows[] = {
#ifdef CORPC_TRANSPORT_CORO_BUILT
    {CORPC__SCHEME_INPROC, &corpc__coro_transport},
#endif
#ifdef CORPC_TRANSPORT_THREAD_BUILT
    {CORPC__SCHEME_INPROC, &corpc__thread_transport},
#endif
#ifdef CORPC_TRANSPORT_GRPC_BUILT
    {CORPC__SCHEME_TCP, &corpc__grpc_transport},
    {CORPC__SCHEME_UNIX, &corpc__grpc_transport},
#endif
    {CORPC__SCHEME_INPROC, NULL}, // keeps the table non-empty
};

bool
corpc__transport_complete(const corpc__transport *tp)
{
	const corpc__channel_ops  *c = tp->channel;
	const corpc__listener_ops *l = tp->listener;
	if (tp->name == NULL || (c == NULL && l == NULL)) {
		return false;
	}
	if (c != NULL &&
	    (c->c_open == NULL || c->c_close == NULL || c->c_state == NULL ||
	        c->s_open == NULL || c->s_send == NULL ||
	        c->s_close_send == NULL || c->s_recv == NULL ||
	        c->s_headers == NULL || c->s_finish == NULL ||
	        c->s_cancel == NULL || c->s_destroy == NULL)) {
		return false;
	}
	// l_drain is optional.
	return l == NULL || (l->l_listen != NULL && l->l_start != NULL &&
	                        l->l_stop != NULL && l->l_cancel != NULL &&
	                        l->l_wait != NULL && l->l_destroy != NULL);
}

corpc_err
corpc__transport_for(
    const corpc__address *addr, bool listen, const corpc__transport **out)
{
	bool built = false; // some transport of this scheme is built
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const corpc__transport *tp = rows[i].tp;
		if (rows[i].scheme != addr->scheme || tp == NULL ||
		    !corpc__transport_complete(tp)) {
			continue;
		}
		built = true;
		// A listen address without a query is any transport's of its
		// scheme: one in-process listener serves every client mode
		// (a build without the coroutine transport still listens).
		bool any = listen && addr->query[0] == '\0';
		if ((listen ? tp->listener == NULL : tp->channel == NULL) ||
		    (tp->t_serves != NULL && !any && !tp->t_serves(addr))) {
			continue;
		}
		*out = tp;
		return CORPC_OK;
	}
	// A mode of an in-process transport left out of this build is not a
	// bad address.
	if (built && addr->scheme == CORPC__SCHEME_INPROC &&
	    corpc__inproc_mode_known(addr)) {
		return CORPC_ENOTSUP;
	}
	return built ? CORPC_EADDRINVAL : CORPC_ENOTSUP;
}
