// SPDX-License-Identifier: MIT
// Address strings: the one place that knows their syntax.
//   inproc://NAME[?QUERY]  (?mode=coro|thread|thread-copy: transport.c)
//   tcp://HOST:PORT    (HOST: name, IPv4, or [IPv6])
//   unix:///abs/path   unix:/abs/path   unix:rel/path
//   channels only, gRPC resolver URIs passed on as they are:
//   dns:///HOST:PORT   dns:HOST:PORT   ipv4:A:P[,A:P...]   ipv6:[A]:P[,...]
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"

static corpc_err
copy_bounded(char *dst, size_t size, const char *src, size_t len)
{
	if (len == 0 || len >= size) {
		return CORPC_EADDRINVAL;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return CORPC_OK;
}

static corpc_err
parse_inproc(const char *rest, corpc__address *out)
{
	const char *q   = strchr(rest, '?');
	size_t      len = q ? (size_t) (q - rest) : strlen(rest);
	for (size_t i = 0; i < len; i++) {
		char c = rest[i];
		if (c <= ' ' || c > '~') {
			return CORPC_EADDRINVAL;
		}
	}
	if (copy_bounded(out->host, sizeof(out->host), rest, len) !=
	    CORPC_OK) {
		return CORPC_EADDRINVAL;
	}
	if (q != NULL) {
		// Printable, like the name; which queries mean something is
		// the in-process transports' to say (transport.c).
		for (const char *p = q; *p != '\0'; p++) {
			if (*p <= ' ' || *p > '~') {
				return CORPC_EADDRINVAL;
			}
		}
		if (strlen(q) >= sizeof(out->query)) {
			return CORPC_EADDRINVAL;
		}
		memcpy(out->query, q, strlen(q) + 1);
	}
	snprintf(out->target, sizeof(out->target), "%s", out->host);
	return CORPC_OK;
}

static corpc_err
parse_tcp(const char *rest, corpc__address *out)
{
	const char *host = rest;
	const char *colon;
	size_t      host_len;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (close == NULL || close[1] != ':') {
			return CORPC_EADDRINVAL;
		}
		host     = rest + 1;
		host_len = (size_t) (close - host);
		colon    = close + 1;
		for (size_t i = 0; i < host_len; i++) {
			if (strchr("0123456789abcdefABCDEF:.%", host[i]) ==
			    NULL) {
				return CORPC_EADDRINVAL;
			}
		}
	} else {
		colon = strrchr(rest, ':');
		if (colon == NULL) {
			return CORPC_EADDRINVAL;
		}
		host_len = (size_t) (colon - rest);
		for (size_t i = 0; i < host_len; i++) {
			char c = host[i];
			if (!((c >= 'a' && c <= 'z') ||
			        (c >= 'A' && c <= 'Z') ||
			        (c >= '0' && c <= '9') || c == '-' ||
			        c == '.' || c == '_')) {
				return CORPC_EADDRINVAL;
			}
		}
	}
	if (copy_bounded(out->host, sizeof(out->host), host, host_len) !=
	    CORPC_OK) {
		return CORPC_EADDRINVAL;
	}
	const char *p = colon + 1;
	if (*p == '\0' || strlen(p) > 5) {
		return CORPC_EADDRINVAL;
	}
	long port = 0;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return CORPC_EADDRINVAL;
		}
		port = port * 10 + (*p - '0');
	}
	if (port > 65535) {
		return CORPC_EADDRINVAL;
	}
	out->port = (int) port;
	if (rest[0] == '[') {
		snprintf(out->target, sizeof(out->target), "[%s]:%d",
		    out->host, out->port);
	} else {
		snprintf(out->target, sizeof(out->target), "%s:%d", out->host,
		    out->port);
	}
	return CORPC_OK;
}

static corpc_err
parse_unix(const char *path, corpc__address *out)
{
	for (const char *p = path; *p != '\0'; p++) {
		if ((unsigned char) *p < ' ') {
			return CORPC_EADDRINVAL;
		}
	}
	// sun_path holds 108 bytes including the NUL.
	if (strlen(path) >= 108) {
		return CORPC_EADDRINVAL;
	}
	if (copy_bounded(out->host, sizeof(out->host), path, strlen(path)) !=
	    CORPC_OK) {
		return CORPC_EADDRINVAL;
	}
	snprintf(out->target, sizeof(out->target), "unix:%s", out->host);
	return CORPC_OK;
}

// A gRPC resolver URI: each comma-separated address must be a valid
// HOST:PORT (ipv4: numeric, ipv6: bracketed numeric); the first one is
// kept as host and port.
static corpc_err
parse_resolver(
    const char *text, const char *list, int family, corpc__address *out)
{
	if (strlen(text) >= sizeof(out->target)) {
		return CORPC_EADDRINVAL;
	}
	corpc__address first, one; // zeroed: parses are compared whole
	memset(&first, 0, sizeof(first));
	memset(&one, 0, sizeof(one));
	bool have = false;
	if (family == 0 && strchr(list, ',') != NULL) {
		return CORPC_EADDRINVAL; // dns: names one HOST:PORT
	}
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t      len   = comma ? (size_t) (comma - p) : strlen(p);
		char        part[CORPC__ADDR_MAX];
		if (copy_bounded(part, sizeof(part), p, len) != CORPC_OK ||
		    parse_tcp(part, &one) != CORPC_OK) {
			return CORPC_EADDRINVAL;
		}
		unsigned char ip[16];
		if ((family == 4 && inet_pton(AF_INET, one.host, ip) != 1) ||
		    (family == 6 &&
		        (part[0] != '[' ||
		            inet_pton(AF_INET6, one.host, ip) != 1))) {
			return CORPC_EADDRINVAL;
		}
		if (!have) {
			first = one;
			have  = true;
		}
		if (comma == NULL) {
			break;
		}
		p = comma + 1;
	}
	memcpy(out->host, first.host, sizeof(out->host));
	out->port     = first.port;
	out->resolver = true;
	snprintf(out->target, sizeof(out->target), "%s", text);
	return CORPC_OK;
}

corpc_err
corpc__address_parse(const char *text, corpc__address *out)
{
	if (text == NULL || out == NULL) {
		return CORPC_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (strncmp(text, "inproc://", 9) == 0) {
		out->scheme = CORPC__SCHEME_INPROC;
		return parse_inproc(text + 9, out);
	}
	if (strncmp(text, "tcp://", 6) == 0) {
		out->scheme = CORPC__SCHEME_TCP;
		return parse_tcp(text + 6, out);
	}
	if (strncmp(text, "unix://", 7) == 0) {
		out->scheme = CORPC__SCHEME_UNIX;
		// unix:///abs: the authority is empty, the path absolute.
		if (text[7] != '/') {
			return CORPC_EADDRINVAL;
		}
		return parse_unix(text + 7, out);
	}
	if (strncmp(text, "unix:", 5) == 0) {
		out->scheme = CORPC__SCHEME_UNIX;
		return parse_unix(text + 5, out);
	}
	out->scheme = CORPC__SCHEME_TCP;
	if (strncmp(text, "dns:///", 7) == 0) {
		return parse_resolver(text, text + 7, 0, out);
	}
	if (strncmp(text, "dns:", 4) == 0 && text[4] != '/') {
		return parse_resolver(text, text + 4, 0, out);
	}
	if (strncmp(text, "ipv4:", 5) == 0) {
		return parse_resolver(text, text + 5, 4, out);
	}
	if (strncmp(text, "ipv6:", 5) == 0) {
		return parse_resolver(text, text + 5, 6, out);
	}
	return CORPC_EADDRINVAL;
}
