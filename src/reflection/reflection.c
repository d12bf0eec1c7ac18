// SPDX-License-Identifier: MIT
// grpc.reflection.v1 and v1alpha: ServerReflectionInfo answers each request
// of its stream from the corpc_file_desc of the registered services (and of
// files added by hand), walked with their imports. v1alpha's messages are
// v1's under another package: they are converted through the wire format
// and served by the same code.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "corpc/reflection.h"
#include "core/server_impl.h"
#include "grpc/reflection/v1/reflection.corpc.h"
#include "grpc/reflection/v1alpha/reflection.corpc.h"

typedef Grpc__Reflection__V1__ServerReflectionRequest  refl_req;
typedef Grpc__Reflection__V1__ServerReflectionResponse refl_resp;

struct corpc_reflection {
	corpc_server           *srv;
	pthread_mutex_t         mu; // extra, extra_count
	const corpc_file_desc **extra;
	size_t                  extra_count;
};

// A set of files, deduplicated by name (the same import is embedded in
// many generated files).
typedef struct refl_files {
	const corpc_file_desc **v;
	size_t                  n;
	size_t                  cap;
	bool                    oom;
} refl_files;

static bool
refl_files_has(const refl_files *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i]->name, name) == 0) {
			return true;
		}
	}
	return false;
}

// Adds `f`, then its imports, depth first.
static void
refl_files_add_tree(refl_files *s, const corpc_file_desc *f)
{
	if (f == NULL || f->name == NULL || s->oom ||
	    refl_files_has(s, f->name)) {
		return;
	}
	if (s->n == s->cap) {
		size_t                  cap = s->cap != 0 ? s->cap * 2 : 16;
		const corpc_file_desc **v   = realloc(s->v, cap * sizeof(*v));
		if (v == NULL) {
			s->oom = true;
			return;
		}
		s->v   = v;
		s->cap = cap;
	}
	s->v[s->n++] = f;
	for (size_t i = 0; i < f->dependency_count; i++) {
		refl_files_add_tree(s, f->dependencies[i]);
	}
}

// Every file the server knows: its services' and the ones added.
static void
refl_all_files(corpc_reflection *r, refl_files *all)
{
	size_t n = corpc__server_service_count(r->srv);
	for (size_t i = 0; i < n; i++) {
		refl_files_add_tree(
		    all, corpc__server_service(r->srv, i)->file);
	}
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->extra_count; i++) {
		refl_files_add_tree(all, r->extra[i]);
	}
	pthread_mutex_unlock(&r->mu);
}

static const corpc_file_desc *
refl_by_name(const refl_files *all, const char *name)
{
	for (size_t i = 0; i < all->n; i++) {
		if (strcmp(all->v[i]->name, name) == 0) {
			return all->v[i];
		}
	}
	return NULL;
}

static const corpc_file_desc *
refl_by_symbol(const refl_files *all, const char *symbol)
{
	// Clients may send a leading dot (".pkg.Msg"), as in type names.
	if (symbol[0] == '.') {
		symbol++;
	}
	for (size_t i = 0; i < all->n; i++) {
		const corpc_file_desc *f = all->v[i];
		for (size_t j = 0; j < f->symbol_count; j++) {
			if (strcmp(f->symbols[j], symbol) == 0) {
				return f;
			}
		}
	}
	return NULL;
}

// What one response points to; freed by refl_answer_fini.
typedef struct refl_answer {
	refl_resp                                    resp;
	Grpc__Reflection__V1__FileDescriptorResponse files;
	Grpc__Reflection__V1__ListServiceResponse    list;
	Grpc__Reflection__V1__ErrorResponse          error;
	refl_files                                   found;
	ProtobufCBinaryData                         *blobs;
	Grpc__Reflection__V1__ServiceResponse       *services;
	Grpc__Reflection__V1__ServiceResponse      **service_ptrs;
} refl_answer;

static void
refl_answer_fini(refl_answer *a)
{
	free(a->found.v);
	free(a->blobs);
	free(a->services);
	free(a->service_ptrs);
}

static bool
refl_error(refl_answer *a, corpc_status_code code, const char *message)
{
	a->error.error_code    = (int32_t) code;
	a->error.error_message = (char *) message;
	a->resp.message_response_case =
	    GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
	a->resp.error_response = &a->error;
	return true;
}

// `f` and its imports, the file first.
static bool
refl_file_answer(refl_answer *a, const corpc_file_desc *f)
{
	refl_files_add_tree(&a->found, f);
	if (a->found.oom) {
		return false;
	}
	a->blobs = calloc(a->found.n, sizeof(*a->blobs));
	if (a->blobs == NULL) {
		return false;
	}
	for (size_t i = 0; i < a->found.n; i++) {
		a->blobs[i] = (ProtobufCBinaryData) {
		    .len  = a->found.v[i]->descriptor_len,
		    .data = (uint8_t *) a->found.v[i]->descriptor,
		};
	}
	a->files.n_file_descriptor_proto = a->found.n;
	a->files.file_descriptor_proto   = a->blobs;
	a->resp.message_response_case =
	    GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
	a->resp.file_descriptor_response = &a->files;
	return true;
}

static bool
refl_list_answer(corpc_reflection *r, refl_answer *a)
{
	size_t n        = corpc__server_service_count(r->srv);
	a->services     = calloc(n > 0 ? n : 1, sizeof(*a->services));
	a->service_ptrs = calloc(n > 0 ? n : 1, sizeof(*a->service_ptrs));
	if (a->services == NULL || a->service_ptrs == NULL) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		a->services[i] = (Grpc__Reflection__V1__ServiceResponse)
		    GRPC__REFLECTION__V1__SERVICE_RESPONSE__INIT;
		a->services[i].name =
		    (char *) corpc__server_service(r->srv, i)->name;
		a->service_ptrs[i] = &a->services[i];
	}
	a->list.n_service = n;
	a->list.service   = a->service_ptrs;
	a->resp.message_response_case =
	    GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
	a->resp.list_services_response = &a->list;
	return true;
}

// Fills a->resp for `req`. Returns false when out of memory.
static bool
refl_answer_build(corpc_reflection *r, const refl_req *req, refl_answer *a)
{
	a->resp =
	    (refl_resp) GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
	a->files = (Grpc__Reflection__V1__FileDescriptorResponse)
	    GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
	a->list = (Grpc__Reflection__V1__ListServiceResponse)
	    GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
	a->error = (Grpc__Reflection__V1__ErrorResponse)
	    GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
	a->resp.valid_host       = req->host;
	a->resp.original_request = (refl_req *) req; // only read by send

	refl_files all = {0};
	bool       ok  = true;
	switch (req->message_request_case) {
	case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
		ok = refl_list_answer(r, a);
		break;
	case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME: {
		refl_all_files(r, &all);
		const corpc_file_desc *f =
		    refl_by_name(&all, req->file_by_filename);
		ok = all.oom     ? false
		     : f != NULL ? refl_file_answer(a, f)
		                 : refl_error(a, CORPC_STATUS_NOT_FOUND,
		                       "file not found");
		break;
	}
	case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL: {
		refl_all_files(r, &all);
		const corpc_file_desc *f =
		    refl_by_symbol(&all, req->file_containing_symbol);
		ok = all.oom     ? false
		     : f != NULL ? refl_file_answer(a, f)
		                 : refl_error(a, CORPC_STATUS_NOT_FOUND,
		                       "symbol not found");
		break;
	}
	case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
	case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
		ok = refl_error(a, CORPC_STATUS_UNIMPLEMENTED,
		    "extensions are not indexed by corpc reflection");
		break;
	default:
		ok = refl_error(a, CORPC_STATUS_INVALID_ARGUMENT,
		    "no message_request set");
		break;
	}
	free(all.v);
	return ok;
}

// `msg` as a message of type `to` with the same wire form (v1 <-> v1alpha);
// NULL when out of memory. Free with protobuf_c_message_free_unpacked.
static ProtobufCMessage *
refl_convert(const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *to)
{
	size_t   len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len > 0 ? len : 1);
	if (buf == NULL) {
		return NULL;
	}
	protobuf_c_message_pack(msg, buf);
	ProtobufCMessage *out = protobuf_c_message_unpack(to, NULL, len, buf);
	free(buf);
	return out;
}

// The stream: one response per request until the client half-closes.
// `alpha`: the messages are v1alpha's.
static corpc_status_code
refl_serve(corpc_reflection *r, corpc_ctx *ctx, bool alpha)
{
	for (;;) {
		const ProtobufCMessage *in = NULL;
		corpc_status_code       rv = corpc_ctx_recv(ctx, &in);
		if (rv != CORPC_STATUS_OK || in == NULL) {
			return rv;
		}
		ProtobufCMessage *req_v1 =
		    alpha
		        ? refl_convert(in,
		              &grpc__reflection__v1__server_reflection_request__descriptor)
		        : NULL;
		refl_answer       a     = {0};
		ProtobufCMessage *out_a = NULL;
		bool              ok    = !alpha || req_v1 != NULL;
		if (ok) {
			ok = refl_answer_build(r,
			    alpha ? (const refl_req *) req_v1
			          : (const refl_req *) in,
			    &a);
		}
		const ProtobufCMessage *out = &a.resp.base;
		if (ok && alpha) {
			out = out_a = refl_convert(out,
			    &grpc__reflection__v1alpha__server_reflection_response__descriptor);
			ok          = out_a != NULL;
		}
		rv =
		    ok ? corpc_ctx_send(ctx, out, 0)
		       : corpc_ctx_status(ctx, CORPC_STATUS_RESOURCE_EXHAUSTED,
		             "out of memory");
		refl_answer_fini(&a);
		if (req_v1 != NULL) {
			protobuf_c_message_free_unpacked(req_v1, NULL);
		}
		if (out_a != NULL) {
			protobuf_c_message_free_unpacked(out_a, NULL);
		}
		if (rv != CORPC_STATUS_OK) {
			return rv;
		}
	}
}

static corpc_status_code
refl_v1(void *self, corpc_ctx *ctx)
{
	return refl_serve(self, ctx, false);
}

static corpc_status_code
refl_v1alpha(void *self, corpc_ctx *ctx)
{
	return refl_serve(self, ctx, true);
}

static const Grpc__Reflection__V1__ServerReflection_Server v1_impl = {
    .server_reflection_info = refl_v1,
};
static const Grpc__Reflection__V1alpha__ServerReflection_Server v1alpha_impl =
    {
        .server_reflection_info = refl_v1alpha,
};

static int refl_key; // the server attachment's key

static void *
refl_create(corpc_server *srv)
{
	corpc_reflection *r = calloc(1, sizeof(*r));
	if (r != NULL) {
		r->srv = srv;
		pthread_mutex_init(&r->mu, NULL);
	}
	return r;
}

static void
refl_destroy(void *arg)
{
	corpc_reflection *r = arg;
	free(r->extra);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

corpc_err
corpc_reflection_enable(corpc_server *srv, corpc_reflection **out)
{
	if (srv == NULL) {
		return CORPC_EINVAL;
	}
	corpc_reflection *r = corpc__server_attachment(
	    srv, &refl_key, refl_create, refl_destroy);
	if (r == NULL) {
		return CORPC_ENOMEM;
	}
	corpc_err rv =
	    grpc__reflection__v1__server_reflection__register_server(
	        srv, &v1_impl, r);
	if (rv == CORPC_OK) {
		rv =
		    grpc__reflection__v1alpha__server_reflection__register_server(
		        srv, &v1alpha_impl, r);
	}
	if (rv == CORPC_OK && out != NULL) {
		*out = r;
	}
	return rv;
}

corpc_err
corpc_reflection_add_file(corpc_reflection *r, const corpc_file_desc *file)
{
	if (r == NULL || file == NULL || file->name == NULL) {
		return CORPC_EINVAL;
	}
	pthread_mutex_lock(&r->mu);
	const corpc_file_desc **v =
	    realloc(r->extra, (r->extra_count + 1) * sizeof(*v));
	if (v != NULL) {
		r->extra                   = v;
		r->extra[r->extra_count++] = file;
	}
	pthread_mutex_unlock(&r->mu);
	return v != NULL ? CORPC_OK : CORPC_ENOMEM;
}
