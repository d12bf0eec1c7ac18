// SPDX-License-Identifier: MIT
// Address strings: the one place that knows their syntax.
//   inproc://NAME[?mode=coro|thread|thread-copy]
//   tcp://HOST:PORT    (HOST: name, IPv4, or [IPv6])
//   unix:///abs/path   unix:/abs/path   unix:rel/path
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
	out->mode = CORPC__INPROC_CORO;
	if (q != NULL) {
		if (strcmp(q, "?mode=coro") == 0) {
			out->mode = CORPC__INPROC_CORO;
		} else if (strcmp(q, "?mode=thread") == 0) {
			out->mode = CORPC__INPROC_THREAD;
		} else if (strcmp(q, "?mode=thread-copy") == 0) {
			out->mode = CORPC__INPROC_THREAD_COPY;
		} else {
			return CORPC_EADDRINVAL;
		}
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
	return CORPC_EADDRINVAL;
}
