// SPDX-License-Identifier: MIT
// The transport table: which transport serves which address. A transport
// that is not built answers CORPC_ENOTSUP with the address still parsed.
#include <stddef.h>

#include "transport/transport.h"

extern const corpc__transport corpc__inproc_listener_transport;
#ifdef CORPC_TRANSPORT_CORO_BUILT
extern const corpc__transport corpc__coro_transport;
#endif
#ifdef CORPC_TRANSPORT_THREAD_BUILT
extern const corpc__transport corpc__thread_transport;
#endif
#ifdef CORPC_TRANSPORT_GRPC_BUILT
extern const corpc__transport corpc__grpc_transport;
#endif

static const corpc__transport *
inproc_client(corpc__inproc_mode mode)
{
	switch (mode) {
	case CORPC__INPROC_CORO:
#ifdef CORPC_TRANSPORT_CORO_BUILT
		return &corpc__coro_transport;
#else
		return NULL;
#endif
	case CORPC__INPROC_THREAD:
	case CORPC__INPROC_THREAD_COPY:
#ifdef CORPC_TRANSPORT_THREAD_BUILT
		return &corpc__thread_transport; // reads the mode itself
#else
		return NULL;
#endif
	}
	return NULL;
}

corpc_err
corpc__transport_for(
    const corpc__address *addr, bool listen, const corpc__transport **out)
{
	const corpc__transport *tp = NULL;
	switch (addr->scheme) {
	case CORPC__SCHEME_INPROC:
		// One listener (the in-process registry) serves every client
		// mode.
		tp = listen ? &corpc__inproc_listener_transport
		            : inproc_client(addr->mode);
		break;
	case CORPC__SCHEME_TCP:
	case CORPC__SCHEME_UNIX:
#ifdef CORPC_TRANSPORT_GRPC_BUILT
		tp = &corpc__grpc_transport;
#endif
		break;
	}
	if (tp == NULL ||
	    (listen ? tp->listener == NULL : tp->channel == NULL)) {
		return CORPC_ENOTSUP;
	}
	*out = tp;
	return CORPC_OK;
}
