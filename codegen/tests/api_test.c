// SPDX-License-Identifier: MIT
// protoc-gen-corpc: the generated API, compiled against and run. The
// declarations are checked by assigning every generated function to a
// pointer of the type the contract specifies (-Werror turns a mismatch into
// a build failure); the runtime part checks the descriptions and makes
// calls of every kind over inproc://.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "a/b/services.corpc.h"
#include "a/b/types.corpc.h"
#include "cpkg.corpc.h"
#include "nopkg.corpc.h"
#include "other/common.corpc.h"

typedef A__B__Req  Req;
typedef A__B__Resp Resp;

static void
check_method(const corpc_method *m, const char *path, const char *name,
    corpc_rpc_kind kind, const ProtobufCMessageDescriptor *req,
    const ProtobufCMessageDescriptor *resp)
{
	assert_string_equal(m->path, path);
	assert_string_equal(m->name, name);
	assert_int_equal(m->kind, kind);
	assert_ptr_equal(m->request, req);
	assert_ptr_equal(m->response, resp);
}

static void
test_methods(void **state)
{
	(void) state;
	check_method(&a__b__kinds__unary__method, "/a.b.Kinds/Unary", "Unary",
	    CORPC_RPC_UNARY, &a__b__req__descriptor, &a__b__resp__descriptor);
	check_method(&a__b__kinds__server_stream__method,
	    "/a.b.Kinds/ServerStream", "ServerStream",
	    CORPC_RPC_SERVER_STREAMING, &a__b__req__descriptor,
	    &a__b__resp__descriptor);
	check_method(&a__b__kinds__client_stream__method,
	    "/a.b.Kinds/ClientStream", "ClientStream",
	    CORPC_RPC_CLIENT_STREAMING, &a__b__req__descriptor,
	    &a__b__resp__descriptor);
	check_method(&a__b__kinds__bidi__method, "/a.b.Kinds/Bidi", "Bidi",
	    CORPC_RPC_BIDI_STREAMING, &a__b__req__descriptor,
	    &a__b__resp__descriptor);

	// Nested, imported and other-package types; protobuf-c's names.
	check_method(&a__b__more_names__get_httpthing__method,
	    "/a.b.MoreNames/GetHTTPThing", "GetHTTPThing", CORPC_RPC_UNARY,
	    &a__b__outer__inner__descriptor, &a__b__httpthing__descriptor);
	check_method(&a__b__more_names__lower_first__method,
	    "/a.b.MoreNames/lowerFirst", "lowerFirst",
	    CORPC_RPC_SERVER_STREAMING, &a__b__outer__descriptor,
	    &a__b__outer__inner__descriptor);
	check_method(&a__b__more_names__use_imported__method,
	    "/a.b.MoreNames/UseImported", "UseImported",
	    CORPC_RPC_CLIENT_STREAMING, &other__v1__common__descriptor,
	    &a__b__resp__descriptor);
	check_method(&a__b__more_names__snake__case__method,
	    "/a.b.MoreNames/Snake_Case", "Snake_Case",
	    CORPC_RPC_BIDI_STREAMING, &a__b__req__descriptor,
	    &other__v1__common__descriptor);

	// No package.
	check_method(&plain__ping__method, "/Plain/Ping", "Ping",
	    CORPC_RPC_UNARY, &ping_msg__descriptor,
	    &ping_msg__nested__descriptor);

	// c_package renames C symbols; the wire path keeps the proto package.
	check_method(&renamed__x__svc__run__method, "/orig.pkg.Svc/Run", "Run",
	    CORPC_RPC_UNARY, &renamed__x__m__n__descriptor,
	    &renamed__x__m__descriptor);
}

static void
check_service(const corpc_service_desc *d, const char *name, size_t n,
    const corpc_method *const *methods)
{
	assert_string_equal(d->name, name);
	assert_int_equal(d->method_count, n);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(d->methods[i], methods[i]);
		assert_non_null(d->handlers[i]);
		for (size_t j = 0; j < i; j++) {
			assert_ptr_not_equal(d->handlers[i], d->handlers[j]);
		}
	}
}

static void
test_services(void **state)
{
	(void) state;
	const corpc_method *kinds[] = {&a__b__kinds__unary__method,
	    &a__b__kinds__server_stream__method,
	    &a__b__kinds__client_stream__method, &a__b__kinds__bidi__method};
	check_service(&a__b__kinds__corpc_service, "a.b.Kinds", 4, kinds);
	const corpc_method *more[] = {&a__b__more_names__get_httpthing__method,
	    &a__b__more_names__lower_first__method,
	    &a__b__more_names__use_imported__method,
	    &a__b__more_names__snake__case__method};
	check_service(
	    &a__b__more_names__corpc_service, "a.b.MoreNames", 4, more);
	const corpc_method *plain[] = {
	    &plain__ping__method, &plain__watch__method};
	check_service(&plain__corpc_service, "Plain", 2, plain);
	const corpc_method *svc[] = {&renamed__x__svc__run__method};
	check_service(&renamed__x__svc__corpc_service, "orig.pkg.Svc", 1, svc);

	// protoc-c's own service stubs are not generated (codegen/delegate.c):
	// their macro would be defined next to its descriptor.
#ifdef A__B__KINDS__BASE_INIT
	fail_msg("protoc-c's service stubs are in services.pb-c.h");
#endif
}

// ---- Declarations: the contract's exact types ----------------------------

static void
test_signatures(void **state)
{
	(void) state;
	// Server vtable members.
	corpc_status_code (*unary_m)(void *, corpc_ctx *, const Req *);
	corpc_status_code (*stream_m)(void *, corpc_ctx *);
	unary_m  = NULL;
	stream_m = NULL;
	A__B__Kinds_Server k;
	k.unary         = unary_m;
	k.server_stream = unary_m;
	k.client_stream = stream_m;
	k.bidi          = stream_m;
	corpc_status_code (*inner_m)(
	    void *, corpc_ctx *, const A__B__Outer__Inner *);
	corpc_status_code (*outer_m)(void *, corpc_ctx *, const A__B__Outer *);
	inner_m = NULL;
	outer_m = NULL;
	A__B__MoreNames_Server mn;
	mn.get_httpthing = inner_m;
	mn.lower_first   = outer_m;
	mn.use_imported  = stream_m;
	mn.snake__case   = stream_m;

	Plain_Server           pl = {.ping = NULL, .watch = NULL};
	Renamed__X__Svc_Server rn = {.run = NULL};
	(void) k;
	(void) mn;
	(void) pl;
	(void) rn;

	corpc_err (*reg)(corpc_server *, const A__B__Kinds_Server *, void *) =
	    a__b__kinds__register_server;

	// Server helpers.
	corpc_status_code (*w)(corpc_ctx *, const Resp *, unsigned) =
	    a__b__kinds__unary_write;
	corpc_status_code (*r)(corpc_ctx *, const Req **) =
	    a__b__kinds__client_stream_read;
	const void *server_side[] = {(const void *) (uintptr_t) w,
	    (const void *) (uintptr_t) a__b__kinds__server_stream_write,
	    (const void *) (uintptr_t) a__b__kinds__client_stream_write,
	    (const void *) (uintptr_t) a__b__kinds__bidi_write,
	    (const void *) (uintptr_t) r,
	    (const void *) (uintptr_t) a__b__kinds__bidi_read};
	r                         = a__b__kinds__bidi_read;
	w                         = a__b__kinds__bidi_write;

	// Client side.
	corpc_status_code (*call)(corpc_channel *, const corpc_call_opts *,
	    const Req *, const Resp **, corpc_stream **) =
	    a__b__kinds__unary_call;
	corpc_err (*open_req)(corpc_channel *, const corpc_call_opts *,
	    const Req *, corpc_stream **) = a__b__kinds__server_stream_open;
	corpc_err (*open)(corpc_channel *, const corpc_call_opts *,
	    corpc_stream **)              = a__b__kinds__client_stream_open;
	corpc_status_code (*recv)(corpc_stream *, const Resp **) =
	    a__b__kinds__server_stream_recv;
	corpc_status_code (*send)(corpc_stream *, const Req *, unsigned) =
	    a__b__kinds__client_stream_send;
	corpc_status_code (*close_recv)(corpc_stream *, const Resp **) =
	    a__b__kinds__client_stream_close_and_recv;
	open                 = a__b__kinds__bidi_open;
	send                 = a__b__kinds__bidi_send;
	recv                 = a__b__kinds__bidi_recv;
	corpc_status_code (*plain_call)(corpc_channel *,
	    const corpc_call_opts *, const PingMsg *, const PingMsg__Nested **,
	    corpc_stream **) = plain__ping_call;
	corpc_status_code (*imported_send)(
	    corpc_stream *, const Other__V1__Common *, unsigned) =
	    a__b__more_names__use_imported_send;
	corpc_status_code (*imported_recv)(corpc_stream *,
	    const Other__V1__Common **) = a__b__more_names__snake__case_recv;
	// Push-style receive: a typed callback for every server-streaming
	// and bidi method.
	corpc_status_code (*each)(
	    corpc_stream *, a__b__kinds__server_stream_recv_fn, void *) =
	    a__b__kinds__server_stream_recv_each;
	corpc_status_code (*each_bidi)(corpc_stream *,
	    a__b__kinds__bidi_recv_fn, void *) = a__b__kinds__bidi_recv_each;
	corpc_status_code (*each_plain)(corpc_stream *, plain__watch_recv_fn,
	    void *)                            = plain__watch_recv_each;
	bool (*typed)(void *, const Resp *)    = NULL;
	a__b__kinds__bidi_recv_fn typed_bidi   = typed;
	(void) typed_bidi;

	const void *all[] = {(const void *) (uintptr_t) reg,
	    (const void *) (uintptr_t) w, (const void *) (uintptr_t) r,
	    (const void *) (uintptr_t) call,
	    (const void *) (uintptr_t) open_req,
	    (const void *) (uintptr_t) open, (const void *) (uintptr_t) recv,
	    (const void *) (uintptr_t) send,
	    (const void *) (uintptr_t) close_recv,
	    (const void *) (uintptr_t) plain_call,
	    (const void *) (uintptr_t) imported_send,
	    (const void *) (uintptr_t) imported_recv,
	    (const void *) (uintptr_t) each,
	    (const void *) (uintptr_t) each_bidi,
	    (const void *) (uintptr_t) each_plain};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_non_null(all[i]);
	}
	for (size_t i = 0; i < sizeof(server_side) / sizeof(server_side[0]);
	     i++) {
		assert_non_null(server_side[i]);
	}
}

static void
test_register_null(void **state)
{
	(void) state;
	assert_int_equal(
	    a__b__kinds__register_server(NULL, NULL, NULL), CORPC_EINVAL);
}

// proto3 `optional` (generated through protoc-gen-corpc's protoc_gen_c
// option): presence survives a round trip even for a default value.
static void
test_proto3_optional(void **state)
{
	(void) state;
	Req     req = A__B__REQ__INIT;
	uint8_t buf[64];

	assert_int_equal(a__b__req__pack(&req, buf), 0);
	req._name_case = A__B__REQ___NAME_NAME;
	req.name       = "";
	size_t n       = a__b__req__pack(&req, buf);
	assert_true(n > 0);
	Req *back = a__b__req__unpack(NULL, n, buf);
	assert_non_null(back);
	assert_int_equal(back->_name_case, A__B__REQ___NAME_NAME);
	assert_string_equal(back->name, "");
	a__b__req__free_unpacked(back, NULL);

	A__B__Outer__Inner in = A__B__OUTER__INNER__INIT;
	in._n_case            = A__B__OUTER__INNER___N_N;
	in.n                  = 0;
	n                     = protobuf_c_message_pack(&in.base, buf);
	assert_true(n > 0);
	A__B__Outer__Inner *b =
	    (A__B__Outer__Inner *) protobuf_c_message_unpack(
	        &a__b__outer__inner__descriptor, NULL, n, buf);
	assert_non_null(b);
	assert_int_equal(b->_n_case, A__B__OUTER__INNER___N_N);
	protobuf_c_message_free_unpacked(&b->base, NULL);
}

// ---- Calls over inproc:// ------------------------------------------------

static corpc_status_code
kinds_unary(void *self, corpc_ctx *ctx, const Req *req)
{
	(void) self;
	char text[64];
	snprintf(text, sizeof(text), "unary:%s",
	    req->_name_case == A__B__REQ___NAME_NAME ? req->name : "-");
	Resp resp = A__B__RESP__INIT;
	resp.text = text;
	return a__b__kinds__unary_write(ctx, &resp, 0);
}

static corpc_status_code
kinds_server_stream(void *self, corpc_ctx *ctx, const Req *req)
{
	(void) self;
	for (int32_t i = 0; i < req->count; i++) {
		Resp resp      = A__B__RESP__INIT;
		resp.text      = "item";
		resp._seq_case = A__B__RESP___SEQ_SEQ;
		resp.seq       = i;
		corpc_status_code rv =
		    a__b__kinds__server_stream_write(ctx, &resp, 0);
		if (rv != CORPC_STATUS_OK) {
			return rv;
		}
	}
	return CORPC_STATUS_OK;
}

static corpc_status_code
kinds_client_stream(void *self, corpc_ctx *ctx)
{
	(void) self;
	int32_t           sum = 0;
	const Req        *req;
	corpc_status_code rv;
	while ((rv = a__b__kinds__client_stream_read(ctx, &req)) ==
	           CORPC_STATUS_OK &&
	       req != NULL) {
		sum += req->count;
	}
	if (rv != CORPC_STATUS_OK) {
		return rv;
	}
	Resp resp      = A__B__RESP__INIT;
	resp.text      = "sum";
	resp._seq_case = A__B__RESP___SEQ_SEQ;
	resp.seq       = sum;
	return a__b__kinds__client_stream_write(ctx, &resp, 0);
}

static corpc_status_code
kinds_bidi(void *self, corpc_ctx *ctx)
{
	(void) self;
	const Req        *req;
	corpc_status_code rv;
	while ((rv = a__b__kinds__bidi_read(ctx, &req)) == CORPC_STATUS_OK &&
	       req != NULL) {
		Resp resp      = A__B__RESP__INIT;
		resp.text      = "echo";
		resp._seq_case = A__B__RESP___SEQ_SEQ;
		resp.seq       = req->count;
		if ((rv = a__b__kinds__bidi_write(ctx, &resp, 0)) !=
		    CORPC_STATUS_OK) {
			return rv;
		}
	}
	return rv;
}

static const A__B__Kinds_Server kinds_impl = {
    .unary         = kinds_unary,
    .server_stream = kinds_server_stream,
    .client_stream = kinds_client_stream,
    .bidi          = kinds_bidi,
};

// Every member NULL: every method answers UNIMPLEMENTED.
static const A__B__MoreNames_Server more_impl = {0};

static corpc_server  *srv;
static corpc_channel *ch;

static int
calls_setup(void **state)
{
	(void) state;
	if (corpc_server_create(NULL, &srv) != CORPC_OK ||
	    a__b__kinds__register_server(srv, &kinds_impl, NULL) != CORPC_OK ||
	    a__b__more_names__register_server(srv, &more_impl, NULL) !=
	        CORPC_OK ||
	    corpc_server_listen(srv, "inproc://codegen_api_test") !=
	        CORPC_OK ||
	    corpc_server_start(srv) != CORPC_OK ||
	    corpc_channel_open(corpc_server_address(srv, 0), NULL, &ch) !=
	        CORPC_OK) {
		return -1;
	}
	return 0;
}

static int
calls_teardown(void **state)
{
	(void) state;
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
	return 0;
}

static void
test_call_unary(void **state)
{
	(void) state;
	Req           req  = A__B__REQ__INIT;
	const Resp   *resp = NULL;
	corpc_stream *st   = NULL;
	req._name_case     = A__B__REQ___NAME_NAME;
	req.name           = "x";
	assert_int_equal(a__b__kinds__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_OK);
	assert_non_null(resp);
	assert_string_equal(resp->text, "unary:x");
	corpc_stream_destroy(st);
}

static void
test_call_server_stream(void **state)
{
	(void) state;
	Req           req = A__B__REQ__INIT;
	corpc_stream *st  = NULL;
	const Resp   *resp;
	req.count = 3;
	assert_int_equal(
	    a__b__kinds__server_stream_open(ch, NULL, &req, &st), CORPC_OK);
	for (int64_t i = 0; i < 3; i++) {
		assert_int_equal(a__b__kinds__server_stream_recv(st, &resp),
		    CORPC_STATUS_OK);
		assert_non_null(resp);
		assert_int_equal(resp->_seq_case, A__B__RESP___SEQ_SEQ);
		assert_int_equal(resp->seq, i);
	}
	assert_int_equal(
	    a__b__kinds__server_stream_recv(st, &resp), CORPC_STATUS_OK);
	assert_null(resp);
	corpc_stream_destroy(st);
}

static void
test_call_client_stream(void **state)
{
	(void) state;
	corpc_stream *st = NULL;
	const Resp   *resp;
	assert_int_equal(
	    a__b__kinds__client_stream_open(ch, NULL, &st), CORPC_OK);
	for (int32_t i = 1; i <= 4; i++) {
		Req req   = A__B__REQ__INIT;
		req.count = i;
		assert_int_equal(a__b__kinds__client_stream_send(st, &req, 0),
		    CORPC_STATUS_OK);
	}
	assert_int_equal(a__b__kinds__client_stream_close_and_recv(st, &resp),
	    CORPC_STATUS_OK);
	assert_non_null(resp);
	assert_int_equal(resp->seq, 10);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
}

static void
test_call_bidi(void **state)
{
	(void) state;
	corpc_stream *st = NULL;
	const Resp   *resp;
	assert_int_equal(a__b__kinds__bidi_open(ch, NULL, &st), CORPC_OK);
	for (int32_t i = 0; i < 3; i++) {
		Req req   = A__B__REQ__INIT;
		req.count = 100 + i;
		assert_int_equal(
		    a__b__kinds__bidi_send(st, &req, 0), CORPC_STATUS_OK);
		assert_int_equal(
		    a__b__kinds__bidi_recv(st, &resp), CORPC_STATUS_OK);
		assert_non_null(resp);
		assert_int_equal(resp->seq, 100 + i);
	}
	assert_int_equal(corpc_stream_close_send(st), CORPC_STATUS_OK);
	assert_int_equal(a__b__kinds__bidi_recv(st, &resp), CORPC_STATUS_OK);
	assert_null(resp);
	corpc_stream_destroy(st);
}

static void
test_call_unimplemented(void **state)
{
	(void) state;
	A__B__Outer__Inner     in   = A__B__OUTER__INNER__INIT;
	const A__B__HTTPThing *resp = NULL;
	corpc_stream          *st   = NULL;
	corpc_status           status;
	assert_int_equal(
	    a__b__more_names__get_httpthing_call(ch, NULL, &in, &resp, &st),
	    CORPC_STATUS_UNIMPLEMENTED);
	assert_null(resp);
	assert_non_null(st);
	corpc_stream_finish(st, &status);
	assert_string_equal(status.message,
	    "method /a.b.MoreNames/GetHTTPThing is not implemented");
	corpc_stream_destroy(st);

	A__B__Outer               out = A__B__OUTER__INIT;
	const A__B__Outer__Inner *r;
	assert_int_equal(
	    a__b__more_names__lower_first_open(ch, NULL, &out, &st), CORPC_OK);
	assert_int_equal(a__b__more_names__lower_first_recv(st, &r),
	    CORPC_STATUS_UNIMPLEMENTED);
	assert_null(r);
	corpc_stream_destroy(st);

	const Other__V1__Common *c;
	assert_int_equal(
	    a__b__more_names__snake__case_open(ch, NULL, &st), CORPC_OK);
	assert_int_equal(a__b__more_names__snake__case_recv(st, &c),
	    CORPC_STATUS_UNIMPLEMENTED);
	corpc_stream_destroy(st);
}

int
main(void)
{
	const struct CMUnitTest decls[] = {
	    cmocka_unit_test(test_methods),
	    cmocka_unit_test(test_services),
	    cmocka_unit_test(test_signatures),
	    cmocka_unit_test(test_register_null),
	    cmocka_unit_test(test_proto3_optional),
	};
	const struct CMUnitTest calls[] = {
	    cmocka_unit_test(test_call_unary),
	    cmocka_unit_test(test_call_server_stream),
	    cmocka_unit_test(test_call_client_stream),
	    cmocka_unit_test(test_call_bidi),
	    cmocka_unit_test(test_call_unimplemented),
	};
	int rv =
	    cmocka_run_group_tests_name("declarations", decls, NULL, NULL);
	rv |= cmocka_run_group_tests_name(
	    "calls", calls, calls_setup, calls_teardown);
	return rv;
}
