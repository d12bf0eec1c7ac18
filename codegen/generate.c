// SPDX-License-Identifier: MIT
// Builds the model of each file to generate and fills the response.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"

typedef Google__Protobuf__ServiceDescriptorProto                svc_proto;
typedef Google__Protobuf__MethodDescriptorProto                 method_proto;
typedef Google__Protobuf__Compiler__CodeGeneratorResponse__File out_file;

// True when `s` is a non-empty dotted name of C identifier characters
// ("a.b.Msg"; with `dots` false, one identifier). protoc guarantees this;
// checking keeps a hand-made request from injecting text into the output.
static bool
gen_is_name(const char *s, bool dots)
{
	if (s == NULL || s[0] == '\0') {
		return false;
	}
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char) *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_' ||
		          (dots && c == '.');
		if (!ok) {
			return false;
		}
	}
	return true;
}

// A message type found by its full name.
typedef struct gen_type {
	const cg_file_proto *file; // the file that declares it
	char                *name; // full name, no leading dot
} gen_type;

// Looks for `want` (full name, no leading dot) among `msgs`, whose scope is
// `scope` ("" at the top of a package-less file). Sets *found on a hit.
static bool
gen_find_in(cg_msg_proto *const *msgs, size_t n, const char *scope,
    const char *want, bool *found)
{
	for (size_t i = 0; i < n && !*found; i++) {
		char *full = scope[0] == '\0'
		                 ? strdup(msgs[i]->name)
		                 : cg_strdupf("%s.%s", scope, msgs[i]->name);
		if (full == NULL) {
			return false;
		}
		if (strcmp(full, want) == 0) {
			*found = true;
		} else if (strncmp(want, full, strlen(full)) == 0 &&
		           want[strlen(full)] == '.') {
			if (!gen_find_in(msgs[i]->nested_type,
			        msgs[i]->n_nested_type, full, want, found)) {
				free(full);
				return false;
			}
		}
		free(full);
	}
	return true;
}

// Resolves a method's ".pkg.Msg" type name against every file of the
// request. Returns false with *err set when it is unknown or out of memory.
static bool
gen_find_type(
    const cg_request *req, const char *type_name, gen_type *t, char **err)
{
	t->file = NULL;
	t->name = NULL;
	if (type_name == NULL || type_name[0] != '.') {
		*err = cg_strdupf("type name \"%s\" is not fully qualified",
		    type_name != NULL ? type_name : "");
		return false;
	}
	const char *want = type_name + 1;
	for (size_t i = 0; i < req->n_proto_file; i++) {
		const cg_file_proto *f = req->proto_file[i];
		const char *pkg        = f->package != NULL ? f->package : "";
		bool        found      = false;
		if (!gen_find_in(f->message_type, f->n_message_type, pkg, want,
		        &found)) {
			*err = NULL;
			return false;
		}
		if (found) {
			t->file = f;
			t->name = strdup(want);
			*err    = NULL;
			return t->name != NULL;
		}
	}
	*err =
	    cg_strdupf("message type %s not found in the request", type_name);
	return false;
}

// Fills the C type name and descriptor name of a message type.
static bool
gen_type_names(const cg_request *req, const char *type_name, char **c_type,
    char **desc, char **err)
{
	gen_type t;
	if (!gen_find_type(req, type_name, &t, err)) {
		return false;
	}
	char *over = cg_override_full_name(t.name, t.file);
	if (over != NULL && !gen_is_name(over, true)) {
		*err = cg_strdupf(
		    "message type %s: bad C name %s", type_name, over);
		free(t.name);
		free(over);
		return false;
	}
	char *lower = over != NULL ? cg_full_name_to_lower(over) : NULL;
	*c_type     = over != NULL ? cg_full_name_to_c(over) : NULL;
	*desc = lower != NULL ? cg_strdupf("%s__descriptor", lower) : NULL;
	free(t.name);
	free(over);
	free(lower);
	return *c_type != NULL && *desc != NULL;
}

static bool
gen_method(const cg_request *req, const char *svc_full, const method_proto *mp,
    cg_method *m, char **err)
{
	if (!gen_is_name(mp->name, false)) {
		*err = cg_strdupf("%s: bad method name \"%s\"", svc_full,
		    mp->name != NULL ? mp->name : "");
		return false;
	}
	m->name  = mp->name;
	m->lower = cg_camel_to_lower(mp->name);
	if (m->lower == NULL) {
		return false;
	}
	m->member = cg_is_keyword(m->lower) ? cg_strdupf("%s_", m->lower)
	                                    : strdup(m->lower);
	m->path   = cg_strdupf("/%s/%s", svc_full, mp->name);
	bool cs   = mp->has_client_streaming && mp->client_streaming;
	bool ss   = mp->has_server_streaming && mp->server_streaming;
	m->kind   = cs ? (ss ? CG_BIDI_STREAMING : CG_CLIENT_STREAMING)
	               : (ss ? CG_SERVER_STREAMING : CG_UNARY);
	if (m->member == NULL || m->path == NULL) {
		return false;
	}
	return gen_type_names(
	           req, mp->input_type, &m->req_type, &m->req_desc, err) &&
	       gen_type_names(
	           req, mp->output_type, &m->resp_type, &m->resp_desc, err);
}

static bool
gen_service(const cg_request *req, const cg_file_proto *file,
    const svc_proto *sp, cg_service *s, char **err)
{
	const char *pkg = file->package != NULL ? file->package : "";
	if (!gen_is_name(sp->name, false) ||
	    (pkg[0] != '\0' && !gen_is_name(pkg, true))) {
		*err =
		    cg_strdupf("%s: bad service name \"%s\" or package \"%s\"",
		        file->name, sp->name != NULL ? sp->name : "", pkg);
		return false;
	}
	s->full_name = pkg[0] != '\0' ? cg_strdupf("%s.%s", pkg, sp->name)
	                              : strdup(sp->name);
	if (s->full_name == NULL) {
		return false;
	}
	char *over = cg_override_full_name(s->full_name, file);
	if (over == NULL || !gen_is_name(over, true)) {
		*err = cg_strdupf(
		    "%s: malformed (pb_c_file).c_package option", file->name);
		free(over);
		return false;
	}
	s->prefix = cg_full_name_to_lower(over);
	s->type   = cg_full_name_to_c(over);
	free(over);
	if (s->prefix == NULL || s->type == NULL) {
		return false;
	}
	if (sp->n_method > 0) {
		s->methods = calloc(sp->n_method, sizeof(*s->methods));
		if (s->methods == NULL) {
			return false;
		}
	}
	for (size_t i = 0; i < sp->n_method; i++) {
		s->n_methods++;
		if (!gen_method(req, s->full_name, sp->method[i],
		        &s->methods[i], err)) {
			return false;
		}
	}
	return true;
}

// A list of the C identifiers a file's generated code (ours and protoc-c's
// service code) declares, to find clashes such as methods Foo and FooCall.
typedef struct gen_names {
	char **v;
	size_t n;
	size_t cap;
	bool   oom;
} gen_names;

static void
gen_names_add(gen_names *l, char *s) // takes ownership of s
{
	if (s == NULL || l->oom) {
		l->oom = true;
		free(s);
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap != 0 ? l->cap * 2 : 64;
		char **v   = realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			l->oom = true;
			free(s);
			return;
		}
		l->v   = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
}

static int
gen_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

// What a streaming method's push-style receive declares.
static void
gen_recv_each_names(gen_names *l, const char *P, const char *x)
{
	gen_names_add(l, cg_strdupf("%s__%s_recv_each", P, x));
	gen_names_add(l, cg_strdupf("%s__%s_recv_fn", P, x));
	gen_names_add(l, cg_strdupf("%s__%s__each", P, x));
	gen_names_add(l, cg_strdupf("%s__%s__each_arg", P, x));
}

// Returns false with *err set when two generated identifiers are equal.
static bool
gen_check_clashes(const cg_file *f, char **err)
{
	gen_names l = {0};
	for (size_t i = 0; i < f->n_services; i++) {
		const cg_service *s = &f->services[i];
		const char       *P = s->prefix;
		// Ours.
		gen_names_add(&l, cg_strdupf("%s_Server", s->type));
		gen_names_add(&l, cg_strdupf("%s__corpc_service", P));
		gen_names_add(&l, cg_strdupf("%s__corpc_methods", P));
		gen_names_add(&l, cg_strdupf("%s__corpc_handlers", P));
		gen_names_add(&l, cg_strdupf("%s__register_server", P));
		// protoc-c's service stubs: not generated (delegate.c) but
		// kept reserved, so that protoc-c --c_out on the same file
		// still gives code that links with ours.
		gen_names_add(&l, cg_strdupf("%s_Service", s->type));
		gen_names_add(&l, cg_strdupf("%s_ServiceDestroy", s->type));
		gen_names_add(&l, cg_strdupf("%s__init", P));
		gen_names_add(&l, cg_strdupf("%s__descriptor", P));
		for (size_t j = 0; j < s->n_methods; j++) {
			const cg_method *m = &s->methods[j];
			const char      *x = m->lower;
			gen_names_add(
			    &l, cg_strdupf("%s__%s", P, x)); // protoc-c
			gen_names_add(&l, cg_strdupf("%s__%s__method", P, x));
			gen_names_add(&l, cg_strdupf("%s__%s__handle", P, x));
			gen_names_add(&l, cg_strdupf("%s__%s_write", P, x));
			switch (m->kind) {
			case CG_UNARY:
				gen_names_add(
				    &l, cg_strdupf("%s__%s_call", P, x));
				break;
			case CG_SERVER_STREAMING:
				gen_names_add(
				    &l, cg_strdupf("%s__%s_open", P, x));
				gen_names_add(
				    &l, cg_strdupf("%s__%s_recv", P, x));
				gen_recv_each_names(&l, P, x);
				break;
			case CG_CLIENT_STREAMING:
				gen_names_add(
				    &l, cg_strdupf("%s__%s_read", P, x));
				gen_names_add(
				    &l, cg_strdupf("%s__%s_open", P, x));
				gen_names_add(
				    &l, cg_strdupf("%s__%s_send", P, x));
				gen_names_add(&l,
				    cg_strdupf("%s__%s_close_and_recv", P, x));
				break;
			case CG_BIDI_STREAMING:
				gen_names_add(
				    &l, cg_strdupf("%s__%s_read", P, x));
				gen_names_add(
				    &l, cg_strdupf("%s__%s_open", P, x));
				gen_names_add(
				    &l, cg_strdupf("%s__%s_send", P, x));
				gen_names_add(
				    &l, cg_strdupf("%s__%s_recv", P, x));
				gen_recv_each_names(&l, P, x);
				break;
			}
		}
		// Two members of one vtable with the same name.
		for (size_t j = 0; j < s->n_methods; j++) {
			gen_names_add(&l, cg_strdupf("%s_Server.%s", s->type,
			                      s->methods[j].member));
		}
	}
	bool ok = !l.oom;
	*err    = NULL;
	if (ok && l.n > 1) {
		qsort(l.v, l.n, sizeof(*l.v), gen_names_cmp);
		for (size_t i = 1; i < l.n && ok; i++) {
			if (strcmp(l.v[i - 1], l.v[i]) == 0) {
				*err = cg_strdupf(
				    "%s: the generated name %s is declared "
				    "twice (by "
				    "protoc-c or protoc-gen-corpc); rename a "
				    "method or "
				    "service",
				    f->proto_name, l.v[i]);
				ok = false;
			}
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i]);
	}
	free(l.v);
	return ok;
}

cg_file *
cg_file_build(const cg_request *req, const cg_file_proto *file, char **err)
{
	cg_file *f  = NULL;
	char    *id = NULL;

	*err = NULL;
	// The name goes into #include "..." and comments.
	for (const char *p = file->name; p != NULL && *p != '\0'; p++) {
		if (*p == '"' || *p == '\\' || (unsigned char) *p < 0x20 ||
		    *p == 0x7f) {
			*err = cg_strdupf("bad file name \"%s\"", file->name);
			return NULL;
		}
	}
	if (file->name == NULL || (f = calloc(1, sizeof(*f))) == NULL) {
		goto oom;
	}
	f->req        = req;
	f->proto      = file;
	f->proto_name = file->name;
	f->base       = cg_strip_proto(file->name);
	id            = cg_file_identifier(file->name);
	f->guard = id != NULL ? cg_strdupf("CORPC_GEN_%s__CORPC_H", id) : NULL;
	f->file_desc = id != NULL ? cg_strdupf("corpc_file_%s", id) : NULL;
	free(id);
	if (f->base == NULL || f->guard == NULL || f->file_desc == NULL) {
		goto oom;
	}
	if (file->n_service > 0) {
		f->services = calloc(file->n_service, sizeof(*f->services));
		if (f->services == NULL) {
			goto oom;
		}
	}
	for (size_t i = 0; i < file->n_service; i++) {
		f->n_services++;
		if (!gen_service(
		        req, file, file->service[i], &f->services[i], err)) {
			goto fail;
		}
	}
	if (!gen_check_clashes(f, err)) {
		goto fail;
	}
	return f;
fail:
	if (*err != NULL) {
		cg_file_free(f);
		return NULL;
	}
oom:
	cg_file_free(f);
	*err = cg_strdupf("out of memory");
	return NULL;
}

void
cg_file_free(cg_file *f)
{
	if (f == NULL) {
		return;
	}
	for (size_t i = 0; i < f->n_services; i++) {
		cg_service *s = &f->services[i];
		for (size_t j = 0; j < s->n_methods; j++) {
			cg_method *m = &s->methods[j];
			free(m->lower);
			free(m->member);
			free(m->path);
			free(m->req_type);
			free(m->req_desc);
			free(m->resp_type);
			free(m->resp_desc);
		}
		free(s->methods);
		free(s->full_name);
		free(s->prefix);
		free(s->type);
	}
	free(f->services);
	free(f->base);
	free(f->guard);
	free(f->file_desc);
	free(f);
}

bool
cg_response_add_file(cg_response *resp, char *name, char *content)
{
	out_file  *of = malloc(sizeof(*of));
	out_file **v  = realloc(resp->file, (resp->n_file + 1) * sizeof(*v));
	if (of == NULL || v == NULL || name == NULL || content == NULL) {
		free(of);
		if (v != NULL) {
			resp->file = v;
		}
		free(name);
		free(content);
		return false;
	}
	google__protobuf__compiler__code_generator_response__file__init(of);
	of->name                   = name;
	of->content                = content;
	resp->file                 = v;
	resp->file[resp->n_file++] = of;
	return true;
}

static const cg_file_proto *
gen_find_file(const cg_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_proto_file; i++) {
		if (req->proto_file[i]->name != NULL &&
		    strcmp(req->proto_file[i]->name, name) == 0) {
			return req->proto_file[i];
		}
	}
	return NULL;
}

bool
cg_param_check(const char *param, char **err)
{
	*err = NULL;
	if (param == NULL) {
		return true;
	}
	const char *p = param;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		if (n > 0 && strncmp(p, CG_PARAM_PROTOC_GEN_C "=",
		                 strlen(CG_PARAM_PROTOC_GEN_C "=")) != 0) {
			*err = cg_strdupf(
			    "unknown protoc-gen-corpc option \"%.*s\" "
			    "(known: " CG_PARAM_PROTOC_GEN_C "=PATH)",
			    (int) n, p);
			return false;
		}
		p += n;
		if (*p == ',') {
			p++;
		}
	}
	return true;
}

char *
cg_param_get(const char *param, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = param != NULL ? param : ""; *p != '\0';) {
		size_t n = strcspn(p, ",");
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			return strndup(p + klen + 1, n - klen - 1);
		}
		p += n;
		if (*p == ',') {
			p++;
		}
	}
	return NULL;
}

bool
cg_generate(const cg_request *req, cg_response *resp)
{
	char *err                    = NULL;
	resp->has_supported_features = true;
	resp->supported_features     = CG_FEATURE_PROTO3_OPTIONAL;

	if (!cg_param_check(req->parameter, &err)) {
		resp->error = err;
		return err != NULL;
	}
	for (size_t i = 0; i < req->n_file_to_generate; i++) {
		const char          *name = req->file_to_generate[i];
		const cg_file_proto *fp   = gen_find_file(req, name);
		if (fp == NULL) {
			resp->error =
			    cg_strdupf("%s: listed in file_to_generate but "
			               "not in proto_file",
			        name);
			return resp->error != NULL;
		}
		cg_file *f = cg_file_build(req, fp, &err);
		if (f == NULL) {
			resp->error = err;
			return err != NULL;
		}
		cg_buf h = {0}, c = {0};
		cg_emit_header(&h, f);
		if (!cg_emit_source(&c, f, &err)) {
			cg_buf_fini(&h);
			cg_buf_fini(&c);
			cg_file_free(f);
			resp->error = err;
			return err != NULL;
		}
		bool ok =
		    cg_response_add_file(resp,
		        cg_strdupf("%s.corpc.h", f->base), cg_buf_take(&h)) &&
		    cg_response_add_file(resp,
		        cg_strdupf("%s.corpc.c", f->base), cg_buf_take(&c));
		cg_file_free(f);
		if (!ok) {
			return false;
		}
	}
	return true;
}

void
cg_response_fini(cg_response *resp)
{
	for (size_t i = 0; i < resp->n_file; i++) {
		free(resp->file[i]->name);
		free(resp->file[i]->content);
		free(resp->file[i]);
	}
	free(resp->file);
	free(resp->error);
	resp->file   = NULL;
	resp->n_file = 0;
	resp->error  = NULL;
}
