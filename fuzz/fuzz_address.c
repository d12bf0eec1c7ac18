// SPDX-License-Identifier: MIT
// Fuzzes the address parser and corpc_channel_open with arbitrary strings.
//
// Invariants: parsing is deterministic; on success the scheme is known, the
// host is non-empty and NUL-terminated, a tcp port is 0..65535, the target
// is NUL-terminated and has the documented form, and the canonical address
// rebuilt from the result parses to the same result. corpc_channel_open
// agrees with the parser and keeps the address text verbatim.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corpc/corpc.h>

#include "core/address.h"
#include "fuzz.h"

// Longer inputs only repeat what the length checks already cover.
#define ADDRESS_MAX_INPUT 1024

// A tcp:// channel kept open for the whole run: it holds gRPC's library
// reference, so that opening and closing channels per input does not start
// and stop gRPC's threads every time.
static corpc_channel *address_keepalive;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	// CORPC_ENOTSUP when the network transport is not built: nothing to
	// keep alive then.
	(void) corpc_channel_open(
	    "tcp://127.0.0.1:9", NULL, &address_keepalive);
	return 0;
}

static bool
address_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

// Checks the fields of a successful parse of `text`.
static void
address_check(const char *text, const corpc__address *a)
{
	FUZZ_CHECK(address_terminated(a->host, sizeof(a->host)));
	FUZZ_CHECK(address_terminated(a->target, sizeof(a->target)));
	FUZZ_CHECK(a->host[0] != '\0');
	FUZZ_CHECK(a->target[0] != '\0');
	// The host is a piece of the text.
	FUZZ_CHECK(strstr(text, a->host) != NULL);
	char want[sizeof(a->target) + 32];
	switch (a->scheme) {
	case CORPC__SCHEME_INPROC:
		FUZZ_CHECK(strncmp(text, "inproc://", 9) == 0);
		FUZZ_CHECK(address_terminated(a->query, sizeof(a->query)));
		FUZZ_CHECK(a->query[0] == '\0' || a->query[0] == '?');
		FUZZ_CHECK(strchr(a->host, '?') == NULL);
		FUZZ_CHECK(strcmp(a->target, a->host) == 0);
		FUZZ_CHECK(a->port == 0);
		break;
	case CORPC__SCHEME_TCP:
		FUZZ_CHECK(a->port >= 0 && a->port <= 65535);
		if (a->resolver) {
			// A gRPC URI, kept as it is.
			FUZZ_CHECK(strncmp(text, "dns:", 4) == 0 ||
			           strncmp(text, "ipv4:", 5) == 0 ||
			           strncmp(text, "ipv6:", 5) == 0);
			FUZZ_CHECK(strcmp(a->target, text) == 0);
			break;
		}
		FUZZ_CHECK(strncmp(text, "tcp://", 6) == 0);
		FUZZ_CHECK(a->port >= 0 && a->port <= 65535);
		FUZZ_CHECK(a->query[0] == '\0');
		if (text[6] == '[') {
			snprintf(
			    want, sizeof(want), "[%s]:%d", a->host, a->port);
		} else {
			FUZZ_CHECK(strchr(a->host, ':') == NULL);
			snprintf(
			    want, sizeof(want), "%s:%d", a->host, a->port);
		}
		FUZZ_CHECK(strcmp(a->target, want) == 0);
		break;
	case CORPC__SCHEME_UNIX:
		FUZZ_CHECK(strncmp(text, "unix:", 5) == 0);
		// sun_path: 108 bytes with the NUL.
		FUZZ_CHECK(strlen(a->host) < 108);
		FUZZ_CHECK(a->port == 0);
		snprintf(want, sizeof(want), "unix:%s", a->host);
		FUZZ_CHECK(strcmp(a->target, want) == 0);
		break;
	default:
		FUZZ_CHECK(!"unknown scheme");
	}
}

// Rebuilds the canonical text of `a` into `buf`.
static void
address_canonical(const corpc__address *a, char *buf, size_t size)
{
	switch (a->scheme) {
	case CORPC__SCHEME_INPROC:
		snprintf(buf, size, "inproc://%s%s", a->host, a->query);
		break;
	case CORPC__SCHEME_TCP:
		snprintf(
		    buf, size, a->resolver ? "%s" : "tcp://%s", a->target);
		break;
	case CORPC__SCHEME_UNIX:
		snprintf(buf, size, "%s%s",
		    a->host[0] == '/' ? "unix://" : "unix:", a->host);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > ADDRESS_MAX_INPUT) {
		return 0;
	}
	char *text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	corpc__address a, b;
	corpc_err      rv = corpc__address_parse(text, &a);
	FUZZ_CHECK(rv == CORPC_OK || rv == CORPC_EADDRINVAL);
	FUZZ_CHECK(corpc__address_parse(text, &b) == rv);
	if (rv == CORPC_OK) {
		FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		address_check(text, &a);
		char canon[sizeof(a.target) + sizeof(a.query) + 32];
		address_canonical(&a, canon, sizeof(canon));
		FUZZ_CHECK(corpc__address_parse(canon, &b) == CORPC_OK);
		FUZZ_CHECK(b.scheme == a.scheme &&
		           strcmp(b.query, a.query) == 0 && b.port == a.port &&
		           b.resolver == a.resolver &&
		           strcmp(b.host, a.host) == 0 &&
		           strcmp(b.target, a.target) == 0);
	}

	corpc_channel *ch = NULL;
	corpc_err      co = corpc_channel_open(text, NULL, &ch);
	if (rv != CORPC_OK) {
		FUZZ_CHECK(co == rv && ch == NULL);
	} else {
		// Only the transports know the inproc queries they serve.
		FUZZ_CHECK(co == CORPC_OK || co == CORPC_ENOTSUP ||
		           (co == CORPC_EADDRINVAL &&
		               a.scheme == CORPC__SCHEME_INPROC));
		FUZZ_CHECK((co == CORPC_OK) == (ch != NULL));
		if (ch != NULL) {
			FUZZ_CHECK(
			    strcmp(corpc_channel_address(ch), text) == 0);
		}
	}
	corpc_channel_close(ch);
	free(text);
	return 0;
}
