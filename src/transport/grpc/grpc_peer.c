// SPDX-License-Identifier: MIT
// Who is calling a network handler: gRPC's peer string and the TLS auth
// context, copied into one block that lives as long as the call.
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "transport/grpc/grpc_peer.h"

static bool
prop_is(const grpc_auth_property *p, const char *value)
{
	return p->value_length == strlen(value) &&
	       memcmp(p->value, value, p->value_length) == 0;
}

// Appends a NUL-terminated copy of (s, n) at *at and returns it.
static char *
put(char **at, const char *s, size_t n)
{
	char *r = *at;
	memcpy(r, s, n);
	r[n] = '\0';
	*at += n + 1;
	return r;
}

corpc_err
corpc__grpc_peer(
    grpc_call *call, const char *address, corpc_peer *out, void **mem)
{
	char *addr = address != NULL ? NULL : grpc_call_get_peer(call);
	grpc_auth_context *ac = grpc_call_auth_context(call);
	const char        *a  = address != NULL ? address
	                        : addr != NULL  ? addr
	                                        : "unknown";
	if (address == NULL && strncmp(a, "fd:", 3) == 0) {
		a = "unknown"; // a connection corpc's acceptor lost track of
	}
	// First pass: sizes.
	size_t                      need = strlen(a) + 1, nsans = 0;
	bool                        tls = false;
	grpc_auth_property_iterator it;
	const grpc_auth_property   *p;
	if (ac != NULL) {
		it = grpc_auth_context_property_iterator(ac);
		while ((p = grpc_auth_property_iterator_next(&it)) != NULL) {
			if (strcmp(p->name,
			        GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME) ==
			    0) {
				tls = tls ||
				      prop_is(
				          p, GRPC_SSL_TRANSPORT_SECURITY_TYPE);
			} else if (strcmp(p->name,
			               GRPC_X509_SUBJECT_PROPERTY_NAME) == 0) {
				need += p->value_length + 1;
			} else if (strcmp(p->name,
			               GRPC_X509_SAN_PROPERTY_NAME) == 0) {
				need += p->value_length + 1 + sizeof(char *);
				nsans++;
			}
		}
	}
	char    **sans = malloc(need + sizeof(char *));
	corpc_err rv   = CORPC_ENOMEM;
	if (sans != NULL) {
		char *at = (char *) (sans + nsans);
		*out     = (corpc_peer) {
		        .address = put(&at, a, strlen(a)), .tls = tls};
		if (ac != NULL) {
			it = grpc_auth_context_property_iterator(ac);
			while ((p = grpc_auth_property_iterator_next(&it)) !=
			       NULL) {
				if (strcmp(p->name,
				        GRPC_X509_SUBJECT_PROPERTY_NAME) ==
				    0) {
					out->subject = put(
					    &at, p->value, p->value_length);
				} else if (strcmp(p->name,
				               GRPC_X509_SAN_PROPERTY_NAME) ==
				           0) {
					sans[out->san_count++] = put(
					    &at, p->value, p->value_length);
				}
			}
		}
		out->sans = (const char *const *) sans;
		*mem      = sans;
		rv        = CORPC_OK;
	}
	grpc_auth_context_release(ac);
	gpr_free(addr);
	return rv;
}
