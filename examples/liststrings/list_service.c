// SPDX-License-Identifier: MIT
// The ListStrings service: pre-built responses and the loop that sends them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list_service.h"

static const int sizes[] = {1, 10, 100};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct list_service {
	char  text[LIST_STRING_SIZE + 1]; // the one string
	char *strings[LIST_STRINGS];      // LIST_STRINGS pointers to it
	// For each size, LIST_STRINGS / size responses, each a view of
	// `size` consecutive entries of `strings`.
	List__V0__ListResponse *resps[NSIZES];
};

corpc_err
list_service_create(list_service **out)
{
	list_service *svc = calloc(1, sizeof(*svc));
	if (svc == NULL) {
		return CORPC_ENOMEM;
	}
	for (size_t i = 0; i < LIST_STRING_SIZE; i++) {
		svc->text[i] = (char) ('a' + i % 26);
	}
	for (size_t i = 0; i < LIST_STRINGS; i++) {
		svc->strings[i] = svc->text;
	}
	for (size_t k = 0; k < NSIZES; k++) {
		size_t n      = LIST_STRINGS / (size_t) sizes[k];
		svc->resps[k] = malloc(n * sizeof(List__V0__ListResponse));
		if (svc->resps[k] == NULL) {
			list_service_destroy(svc);
			return CORPC_ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			List__V0__ListResponse r =
			    LIST__V0__LIST_RESPONSE__INIT;
			r.n_strings = (size_t) sizes[k];
			r.strings   = &svc->strings[i * (size_t) sizes[k]];
			svc->resps[k][i] = r;
		}
	}
	*out = svc;
	return CORPC_OK;
}

void
list_service_destroy(list_service *svc)
{
	if (svc == NULL) {
		return;
	}
	for (size_t k = 0; k < NSIZES; k++) {
		free(svc->resps[k]);
	}
	free(svc);
}

// Returns the index of `resp_size` in `sizes`, or -1.
static int
size_index(int resp_size)
{
	if (resp_size == 0) {
		resp_size = 1;
	}
	for (size_t k = 0; k < NSIZES; k++) {
		if (sizes[k] == resp_size) {
			return (int) k;
		}
	}
	return -1;
}

size_t
list_service_count(const list_service *svc, int resp_size)
{
	(void) svc;
	int k = size_index(resp_size);
	return k < 0 ? 0 : LIST_STRINGS / (size_t) sizes[k];
}

corpc_status_code
list_service_produce(
    const list_service *svc, int resp_size, list_emit_fn emit, void *arg)
{
	int k = size_index(resp_size);
	if (k < 0) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	const List__V0__ListResponse *resps = svc->resps[k];
	size_t                        n     = LIST_STRINGS / (size_t) sizes[k];
	for (size_t i = 0; i < n; i++) {
		corpc_status_code code = emit(arg, &resps[i], i + 1 == n);
		if (code != CORPC_STATUS_OK) {
			return code;
		}
	}
	return CORPC_STATUS_OK;
}

// Sends one response; WRITE_MORE lets network transports batch all but the
// last. The responses belong to the service and outlive every call, so
// they are STABLE: in-process transports may pass several per handoff.
static corpc_status_code
emit_send(void *ctx, const List__V0__ListResponse *resp, bool last)
{
	return corpc_ctx_send(ctx, &resp->base,
	    CORPC_WRITE_STABLE | (last ? 0 : CORPC_WRITE_MORE));
}

// The same without the promise: one handoff per message.
static corpc_status_code
emit_send_plain(void *ctx, const List__V0__ListResponse *resp, bool last)
{
	return corpc_ctx_send(ctx, &resp->base, last ? 0 : CORPC_WRITE_MORE);
}

static corpc_status_code
list(void *self, corpc_ctx *ctx, const List__V0__ListRequest *req,
    list_emit_fn emit)
{
	if (list_service_count(self, req->resp_size) == 0) {
		return corpc_ctx_error(ctx, CORPC_STATUS_INVALID_ARGUMENT,
		    "resp_size %d: want 1, 10 or 100", (int) req->resp_size);
	}
	return list_service_produce(self, req->resp_size, emit, ctx);
}

static corpc_status_code
list_handler(void *self, corpc_ctx *ctx, const List__V0__ListRequest *req)
{
	return list(self, ctx, req, emit_send);
}

static corpc_status_code
list_handler_plain(
    void *self, corpc_ctx *ctx, const List__V0__ListRequest *req)
{
	return list(self, ctx, req, emit_send_plain);
}

// Upload: counts the strings of every message and their bytes.
static corpc_status_code
upload_handler(void *self, corpc_ctx *ctx)
{
	(void) self;
	List__V0__UploadSummary       sum = LIST__V0__UPLOAD_SUMMARY__INIT;
	const List__V0__ListResponse *msg;
	corpc_status_code             rc;
	while ((rc = list__v0__list_strings__upload_read(ctx, &msg)) ==
	           CORPC_STATUS_OK &&
	       msg != NULL) {
		for (size_t i = 0; i < msg->n_strings; i++) {
			sum.bytes += (int64_t) strlen(msg->strings[i]);
		}
		sum.strings += (int64_t) msg->n_strings;
	}
	if (rc != CORPC_STATUS_OK) {
		return rc;
	}
	return list__v0__list_strings__upload_write(ctx, &sum, 0);
}

const List__V0__ListStrings_Server list_service_impl = {
    .list   = list_handler,
    .upload = upload_handler,
};

const List__V0__ListStrings_Server list_service_impl_plain = {
    .list   = list_handler_plain,
    .upload = upload_handler,
};

corpc_err
list_server_start(
    list_service *svc, const char *const *addrs, size_t n, corpc_server **out)
{
	corpc_server *srv;
	corpc_err     err = corpc_server_create(NULL, &srv);
	if (err != CORPC_OK) {
		fprintf(stderr, "server: %s\n", corpc_strerror(err));
		return err;
	}
	err = list__v0__list_strings__register_server(
	    srv, &list_service_impl, svc);
	// The standard health and reflection services, for probes and tools.
	if (err == CORPC_OK) {
		err = corpc_health_enable(srv, NULL);
	}
	if (err == CORPC_OK) {
		err = corpc_reflection_enable(srv, NULL);
	}
	if (err != CORPC_OK) {
		fprintf(stderr, "register: %s\n", corpc_strerror(err));
	}
	for (size_t i = 0; err == CORPC_OK && i < n; i++) {
		if ((err = corpc_server_listen(srv, addrs[i])) != CORPC_OK) {
			fprintf(stderr, "listen %s: %s\n", addrs[i],
			    corpc_strerror(err));
		}
	}
	if (err == CORPC_OK && (err = corpc_server_start(srv)) != CORPC_OK) {
		fprintf(stderr, "server start: %s\n", corpc_strerror(err));
	}
	if (err != CORPC_OK) {
		corpc_server_destroy(srv);
		return err;
	}
	*out = srv;
	return CORPC_OK;
}
