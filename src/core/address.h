// SPDX-License-Identifier: MIT
// Internal: address strings parsed once, in one place.
#ifndef CORPC_CORE_ADDRESS_H
#define CORPC_CORE_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "corpc/status.h"

typedef enum corpc__scheme {
	CORPC__SCHEME_INPROC,
	CORPC__SCHEME_TCP,
	CORPC__SCHEME_UNIX,
} corpc__scheme;

#define CORPC__ADDR_MAX 256

typedef struct corpc__address {
	corpc__scheme scheme;
	// inproc: "?..." after the NAME as given, "" for none. Its meaning is
	// the transports' (transport.c asks each one whether it serves it).
	char query[CORPC__ADDR_MAX];
	// inproc: the NAME; tcp: the host (no brackets for IPv6); unix: the
	// path as given (absolute for unix:///, relative for unix:).
	char host[CORPC__ADDR_MAX];
	int  port; // tcp only, 0..65535
	// For the gRPC core target: "127.0.0.1:80", "[::1]:80", "unix:/p".
	char target[CORPC__ADDR_MAX + 16];
	// tcp only: `target` is a gRPC resolver URI given by the user
	// (dns:///HOST:PORT, ipv4:A:P[,B:P...], ipv6:[A]:P[,...]); host and
	// port are its first address. Channels only.
	bool resolver;
} corpc__address;

// What corpc__address_parse accepts, for error details.
#define CORPC__ADDRESS_FORMS                                                  \
	"expected inproc://NAME[?mode=thread|thread-copy], tcp://HOST:PORT, " \
	"unix:///abs/path or unix:rel/path"

// Parses `text` into *out. Errors: CORPC_EINVAL (NULL), CORPC_EADDRINVAL
// (unknown scheme, empty name or host, bad port, bad query, too long).
corpc_err corpc__address_parse(const char *text, corpc__address *out);

#endif // CORPC_CORE_ADDRESS_H
