// SPDX-License-Identifier: MIT
// protoc-gen-corpc: the generator driven in-process with hand-made
// requests, for the cases protoc cannot produce or protoc-c cannot compile
// (error paths, keyword method names, services without methods).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codegen.h"

typedef Google__Protobuf__ServiceDescriptorProto svc_proto;
typedef Google__Protobuf__MethodDescriptorProto  method_proto;

// One file "t/x.proto" in package `pkg` with messages Req and Outer.Inner
// and one service Svc holding up to 8 methods.
typedef struct fixture {
	cg_request     req;
	cg_file_proto  file;
	cg_file_proto *files[1];
	char          *to_generate[1];
	cg_msg_proto   msg_req, msg_outer, msg_inner;
	cg_msg_proto  *top[2], *nested[1];
	svc_proto      svc;
	svc_proto     *svcs[1];
	method_proto   m[8];
	method_proto  *mp[8];
	cg_response    resp;
} fixture;

static void
fx_init(fixture *fx, const char *pkg)
{
	memset(fx, 0, sizeof(*fx));
	fx->req = (cg_request)
	    GOOGLE__PROTOBUF__COMPILER__CODE_GENERATOR_REQUEST__INIT;
	fx->file =
	    (cg_file_proto) GOOGLE__PROTOBUF__FILE_DESCRIPTOR_PROTO__INIT;
	fx->msg_req = (cg_msg_proto) GOOGLE__PROTOBUF__DESCRIPTOR_PROTO__INIT;
	fx->msg_outer =
	    (cg_msg_proto) GOOGLE__PROTOBUF__DESCRIPTOR_PROTO__INIT;
	fx->msg_inner =
	    (cg_msg_proto) GOOGLE__PROTOBUF__DESCRIPTOR_PROTO__INIT;
	fx->svc = (svc_proto) GOOGLE__PROTOBUF__SERVICE_DESCRIPTOR_PROTO__INIT;
	fx->resp = (cg_response)
	    GOOGLE__PROTOBUF__COMPILER__CODE_GENERATOR_RESPONSE__INIT;

	fx->msg_req.name            = "Req";
	fx->msg_outer.name          = "Outer";
	fx->msg_inner.name          = "Inner";
	fx->nested[0]               = &fx->msg_inner;
	fx->msg_outer.nested_type   = fx->nested;
	fx->msg_outer.n_nested_type = 1;
	fx->top[0]                  = &fx->msg_req;
	fx->top[1]                  = &fx->msg_outer;

	fx->file.name           = "t/x.proto";
	fx->file.package        = (char *) pkg;
	fx->file.message_type   = fx->top;
	fx->file.n_message_type = 2;
	fx->svcs[0]             = &fx->svc;
	fx->file.service        = fx->svcs;
	fx->file.n_service      = 1;
	fx->svc.name            = "Svc";
	fx->svc.method          = fx->mp;

	fx->files[0]               = &fx->file;
	fx->to_generate[0]         = "t/x.proto";
	fx->req.proto_file         = fx->files;
	fx->req.n_proto_file       = 1;
	fx->req.file_to_generate   = fx->to_generate;
	fx->req.n_file_to_generate = 1;
}

static void
fx_method(fixture *fx, const char *name, const char *in, const char *out,
    bool cs, bool ss)
{
	size_t        i = fx->svc.n_method++;
	method_proto *m = &fx->m[i];
	*m = (method_proto) GOOGLE__PROTOBUF__METHOD_DESCRIPTOR_PROTO__INIT;
	m->name                 = (char *) name;
	m->input_type           = (char *) in;
	m->output_type          = (char *) out;
	m->has_client_streaming = cs;
	m->client_streaming     = cs;
	m->has_server_streaming = ss;
	m->server_streaming     = ss;
	fx->mp[i]               = m;
}

// Runs the generator; returns the error message or NULL.
static const char *
fx_run(fixture *fx)
{
	assert_true(cg_generate(&fx->req, &fx->resp));
	assert_true(fx->resp.has_supported_features);
	assert_int_equal(
	    fx->resp.supported_features, CG_FEATURE_PROTO3_OPTIONAL);
	if (fx->resp.error != NULL) {
		assert_int_equal(fx->resp.n_file, 0);
	}
	return fx->resp.error;
}

static const char *
fx_file(fixture *fx, const char *name)
{
	for (size_t i = 0; i < fx->resp.n_file; i++) {
		if (strcmp(fx->resp.file[i]->name, name) == 0) {
			return fx->resp.file[i]->content;
		}
	}
	fail_msg("no file %s in the response", name);
	return NULL;
}

#define ASSERT_CONTAINS(text, needle)                                         \
	do {                                                                  \
		if (strstr((text), (needle)) == NULL) {                       \
			fail_msg("missing: %s", (needle));                    \
		}                                                             \
	} while (0)

static void
test_ok_names(void **state)
{
	(void) state;
	fixture fx;
	fx_init(&fx, "p.q");
	fx_method(&fx, "Get", ".p.q.Req", ".p.q.Outer.Inner", false, false);
	fx_method(&fx, "Int", ".p.q.Outer.Inner", ".p.q.Req", true, true);
	assert_null(fx_run(&fx));
	assert_int_equal(fx.resp.n_file, 2);
	const char *h = fx_file(&fx, "t/x.corpc.h");
	const char *c = fx_file(&fx, "t/x.corpc.c");
	ASSERT_CONTAINS(h, "#include \"t/x.pb-c.h\"");
	ASSERT_CONTAINS(h, "#ifndef CORPC_GEN_t_2fx_2eproto__CORPC_H");
	ASSERT_CONTAINS(
	    h, "extern const corpc_method p__q__svc__get__method;");
	ASSERT_CONTAINS(h, "typedef struct P__Q__Svc_Server {");
	ASSERT_CONTAINS(h,
	    "corpc_status_code (*get)(void *self, corpc_ctx *ctx,\n"
	    "\t    const P__Q__Req *req);");
	// A keyword method name: the member gets a '_', functions do not.
	ASSERT_CONTAINS(
	    h, "corpc_status_code (*int_)(void *self, corpc_ctx *ctx);");
	ASSERT_CONTAINS(h, "corpc_err p__q__svc__int_open(");
	ASSERT_CONTAINS(
	    h, "const P__Q__Outer__Inner **resp, corpc_stream **st);");
	ASSERT_CONTAINS(c, "\t.path     = \"/p.q.Svc/Get\",\n");
	ASSERT_CONTAINS(c, "\t.request  = &p__q__req__descriptor,\n");
	ASSERT_CONTAINS(c, "\t.response = &p__q__outer__inner__descriptor,\n");
	ASSERT_CONTAINS(c, "\t.kind     = CORPC_RPC_BIDI_STREAMING,\n");
	ASSERT_CONTAINS(c, "s->int_ == NULL");
	ASSERT_CONTAINS(c, "\"method /p.q.Svc/Int is not implemented\"");
	cg_response_fini(&fx.resp);
}

static void
test_no_package(void **state)
{
	(void) state;
	fixture fx;
	fx_init(&fx, NULL);
	fx_method(&fx, "Ping", ".Req", ".Outer.Inner", false, true);
	assert_null(fx_run(&fx));
	const char *h = fx_file(&fx, "t/x.corpc.h");
	const char *c = fx_file(&fx, "t/x.corpc.c");
	ASSERT_CONTAINS(h, "typedef struct Svc_Server {");
	ASSERT_CONTAINS(h, "corpc_err svc__ping_open(");
	ASSERT_CONTAINS(h, "const Outer__Inner **resp");
	ASSERT_CONTAINS(c, "\t.path     = \"/Svc/Ping\",\n");
	ASSERT_CONTAINS(c, "\t.name         = \"Svc\",\n");
	cg_response_fini(&fx.resp);
}

static void
test_empty_service(void **state)
{
	(void) state;
	fixture fx;
	fx_init(&fx, "p");
	assert_null(fx_run(&fx));
	const char *h = fx_file(&fx, "t/x.corpc.h");
	const char *c = fx_file(&fx, "t/x.corpc.c");
	ASSERT_CONTAINS(h, "\tchar corpc_no_methods_;\n");
	ASSERT_CONTAINS(c, "\t.method_count = 0,\n"
	                   "\t.methods      = NULL,\n"
	                   "\t.handlers     = NULL,\n");
	assert_null(strstr(c, "corpc_methods[]"));
	cg_response_fini(&fx.resp);
}

static void
test_no_services(void **state)
{
	(void) state;
	fixture fx;
	fx_init(&fx, "p");
	fx.file.n_service = 0;
	assert_null(fx_run(&fx));
	assert_int_equal(fx.resp.n_file, 2);
	ASSERT_CONTAINS(
	    fx_file(&fx, "t/x.corpc.h"), "#include <corpc/corpc.h>");
	cg_response_fini(&fx.resp);
}

static void
test_unknown_type(void **state)
{
	(void) state;
	fixture fx;
	fx_init(&fx, "p");
	fx_method(&fx, "Get", ".p.Nope", ".p.Req", false, false);
	const char *err = fx_run(&fx);
	assert_non_null(err);
	ASSERT_CONTAINS(err, ".p.Nope");
	cg_response_fini(&fx.resp);

	fx_init(&fx, "p");
	fx_method(&fx, "Get", "p.Req", ".p.Req", false, false);
	err = fx_run(&fx);
	assert_non_null(err);
	ASSERT_CONTAINS(err, "not fully qualified");
	cg_response_fini(&fx.resp);
}

// The embedded descriptors: the file's names, a missing import refused,
// and a present one embedded before the file.
static void
test_file_desc(void **state)
{
	(void) state;
	fixture fx;
	fx_init(&fx, "p");
	fx_method(&fx, "Get", ".p.Req", ".p.Outer.Inner", false, false);
	assert_null(fx_run(&fx));
	const char *c = fx_file(&fx, "t/x.corpc.c");
	ASSERT_CONTAINS(
	    c, "const corpc_file_desc corpc_file_t_2fx_2eproto = {");
	ASSERT_CONTAINS(c, "\"p.Outer.Inner\",\n");
	ASSERT_CONTAINS(c, "\"p.Svc.Get\",\n");
	ASSERT_CONTAINS(c, ".file         = &corpc_file_t_2fx_2eproto,");
	ASSERT_CONTAINS(fx_file(&fx, "t/x.corpc.h"),
	    "extern const corpc_file_desc corpc_file_t_2fx_2eproto;");
	cg_response_fini(&fx.resp);

	char *deps[1] = {"t/dep.proto"};
	fx_init(&fx, "p");
	fx.file.dependency   = deps;
	fx.file.n_dependency = 1;
	const char *err      = fx_run(&fx);
	assert_non_null(err);
	ASSERT_CONTAINS(err, "import t/dep.proto is not in the request");
	cg_response_fini(&fx.resp);

	cg_file_proto  dep = GOOGLE__PROTOBUF__FILE_DESCRIPTOR_PROTO__INIT;
	cg_file_proto *both[2];
	dep.name = "t/dep.proto";
	fx_init(&fx, "p");
	fx.file.dependency   = deps;
	fx.file.n_dependency = 1;
	both[0]              = &fx.file;
	both[1]              = &dep;
	fx.req.proto_file    = both;
	fx.req.n_proto_file  = 2;
	assert_null(fx_run(&fx));
	c               = fx_file(&fx, "t/x.corpc.c");
	const char *d   = strstr(c, "static const corpc_file_desc "
	                              "corpc_dep_t_2fdep_2eproto = {");
	const char *own = strstr(c, "\t&corpc_dep_t_2fdep_2eproto,\n");
	assert_non_null(d);
	assert_non_null(own);
	assert_true(d < own);
	cg_response_fini(&fx.resp);
}

static void
test_name_clash(void **state)
{
	(void) state;
	fixture fx;
	// protoc-c declares p__svc__get_call() for GetCall; we declare it for
	// Get's unary call.
	fx_init(&fx, "p");
	fx_method(&fx, "Get", ".p.Req", ".p.Req", false, false);
	fx_method(&fx, "GetCall", ".p.Req", ".p.Req", false, false);
	const char *err = fx_run(&fx);
	assert_non_null(err);
	ASSERT_CONTAINS(err, "p__svc__get_call");
	cg_response_fini(&fx.resp);

	fx_init(&fx, "p");
	fx_method(&fx, "RegisterServer", ".p.Req", ".p.Req", false, false);
	err = fx_run(&fx);
	assert_non_null(err);
	ASSERT_CONTAINS(err, "p__svc__register_server");
	cg_response_fini(&fx.resp);
}

static void
test_bad_input(void **state)
{
	(void) state;
	fixture fx;
	fx_init(&fx, "p");
	fx.to_generate[0] = "missing.proto";
	const char *err   = fx_run(&fx);
	assert_non_null(err);
	ASSERT_CONTAINS(err, "missing.proto");
	cg_response_fini(&fx.resp);

	fx_init(&fx, "p");
	fx_method(&fx, "Bad\nName", ".p.Req", ".p.Req", false, false);
	assert_non_null(fx_run(&fx));
	cg_response_fini(&fx.resp);

	fx_init(&fx, "p\"; evil");
	assert_non_null(fx_run(&fx));
	cg_response_fini(&fx.resp);

	fx_init(&fx, "p");
	fx.file.name = fx.to_generate[0] = "t/\"x.proto";
	assert_non_null(fx_run(&fx));
	cg_response_fini(&fx.resp);
}

static void
test_parameter(void **state)
{
	(void) state;
	fixture fx;
	fx_init(&fx, "p");
	fx.req.parameter = "bogus=1";
	const char *err  = fx_run(&fx);
	assert_non_null(err);
	ASSERT_CONTAINS(err, "bogus=1");
	cg_response_fini(&fx.resp);

	fx_init(&fx, "p");
	fx.req.parameter = "protoc_gen_c=/usr/bin/protoc-gen-c";
	assert_null(fx_run(&fx));
	cg_response_fini(&fx.resp);

	char *v = cg_param_get("a=1,protoc_gen_c=/x/y,b=2", "protoc_gen_c");
	assert_non_null(v);
	assert_string_equal(v, "/x/y");
	free(v);
	assert_null(cg_param_get("protoc_gen_cc=1", "protoc_gen_c"));
	assert_null(cg_param_get(NULL, "protoc_gen_c"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_names),
	    cmocka_unit_test(test_no_package),
	    cmocka_unit_test(test_empty_service),
	    cmocka_unit_test(test_no_services),
	    cmocka_unit_test(test_unknown_type),
	    cmocka_unit_test(test_file_desc),
	    cmocka_unit_test(test_name_clash),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_parameter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
