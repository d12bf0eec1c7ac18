// SPDX-License-Identifier: MIT
// Bearer-token credentials as interceptors.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpc/bearer.h"

#define AUTH_KEY "authorization"
#define PREFIX   "Bearer "

static corpc_status_code
client_start(void *self, corpc_call *call)
{
	const char *token = self;
	// JWTs run to kilobytes: the value is as long as the token needs, and
	// corpc_metadata_add enforces the metadata limits.
	size_t len   = strlen(PREFIX) + strlen(token);
	char  *value = malloc(len + 1);
	if (value == NULL) {
		return corpc_call_refuse(call, CORPC_STATUS_RESOURCE_EXHAUSTED,
		    "out of memory for the bearer token");
	}
	snprintf(value, len + 1, PREFIX "%s", token);
	corpc_err rv = corpc_metadata_add(
	    corpc_call_metadata(call), AUTH_KEY, value, len);
	free(value);
	if (rv != CORPC_OK) {
		return corpc_call_refuse(call, CORPC_STATUS_INVALID_ARGUMENT,
		    "bearer token is not printable ASCII or too long");
	}
	return CORPC_STATUS_OK;
}

corpc_interceptor
corpc_bearer_client(const char *token)
{
	return (corpc_interceptor) {
	    .name  = "bearer-client",
	    .self  = (void *) token,
	    .start = client_start,
	};
}

static corpc_status_code
server_start(void *self, corpc_call *call)
{
	const corpc_bearer_check   *check = self;
	const corpc_metadata_entry *e =
	    corpc_metadata_get(corpc_call_metadata(call), AUTH_KEY);
	size_t plen = strlen(PREFIX);
	if (e == NULL || e->value_len <= plen ||
	    strncmp(e->value, PREFIX, plen) != 0) {
		return corpc_call_refuse(call, CORPC_STATUS_UNAUTHENTICATED,
		    "missing bearer token");
	}
	if (!check->check(
	        check->arg, corpc_call_method(call), e->value + plen)) {
		return corpc_call_refuse(call, CORPC_STATUS_PERMISSION_DENIED,
		    "token may not call %s", corpc_call_method(call)->path);
	}
	return CORPC_STATUS_OK;
}

corpc_interceptor
corpc_bearer_server(const corpc_bearer_check *check)
{
	return (corpc_interceptor) {
	    .name  = "bearer-server",
	    .self  = (void *) check,
	    .start = server_start,
	};
}
