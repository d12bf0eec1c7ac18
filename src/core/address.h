// SPDX-License-Identifier: MIT
// Internal: address strings parsed once, in one place.
#ifndef CORPC_CORE_ADDRESS_H
#define CORPC_CORE_ADDRESS_H

#include <stddef.h>

#include "corpc/status.h"

typedef enum corpc__scheme {
	CORPC__SCHEME_INPROC,
	CORPC__SCHEME_TCP,
	CORPC__SCHEME_UNIX,
} corpc__scheme;

// How an inproc:// client hands messages to the server (?mode=...).
typedef enum corpc__inproc_mode {
	CORPC__INPROC_CORO = 0, // default: coroutine handoff
	CORPC__INPROC_THREAD,   // ?mode=thread: worker thread, shared pointers
	CORPC__INPROC_THREAD_COPY, // ?mode=thread-copy: worker, cloned
	                           // messages
} corpc__inproc_mode;

#define CORPC__ADDR_MAX 256

typedef struct corpc__address {
	corpc__scheme      scheme;
	corpc__inproc_mode mode;
	// inproc: the NAME; tcp: the host (no brackets for IPv6); unix: the
	// path as given (absolute for unix:///, relative for unix:).
	char host[CORPC__ADDR_MAX];
	int  port; // tcp only, 0..65535
	// For the gRPC core target: "127.0.0.1:80", "[::1]:80", "unix:/p".
	char target[CORPC__ADDR_MAX + 16];
} corpc__address;

// Parses `text` into *out. Errors: CORPC_EINVAL (NULL), CORPC_EADDRINVAL
// (unknown scheme, empty name or host, bad port, bad query, too long).
corpc_err corpc__address_parse(const char *text, corpc__address *out);

#endif // CORPC_CORE_ADDRESS_H
