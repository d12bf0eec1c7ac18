// SPDX-License-Identifier: MIT
// The generated headers from C++ (extern "C", no C++ keyword as an
// identifier), for services and methods named after C and C++ keywords and
// messages holding every well-known type: compiled as C++ under -Wpedantic
// -Werror, then a keyword-named method called over inproc:// with a
// Timestamp, a Struct and wrappers in the message.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
#include <cstring>

// Debian's cmocka.h has no extern "C" of its own; ours do (below).
extern "C" {
#include <cmocka.h>
}

#include "a/b/services.corpc.h"
#include "cpkg.corpc.h"
#include "keywords.corpc.h"
#include "kwnopkg.corpc.h"
#include "nopkg.corpc.h"

static void
check_method(const corpc_method *m, const char *path, corpc_rpc_kind kind)
{
	assert_string_equal(m->path, path);
	assert_int_equal(m->kind, kind);
}

static void
test_keyword_methods(void **state)
{
	(void) state;
	check_method(&kw__switch__register__method, "/kw.Switch/Register",
	    CORPC_RPC_UNARY);
	check_method(&kw__switch__default__method, "/kw.Switch/Default",
	    CORPC_RPC_SERVER_STREAMING);
	check_method(&kw__switch__delete__method, "/kw.Switch/Delete",
	    CORPC_RPC_CLIENT_STREAMING);
	check_method(&kw__switch__new__method, "/kw.Switch/New",
	    CORPC_RPC_BIDI_STREAMING);
	check_method(
	    &kw__switch__class__method, "/kw.Switch/Class", CORPC_RPC_UNARY);
	check_method(
	    &kw__class__private__method, "/kw.Class/Private", CORPC_RPC_UNARY);
	check_method(&default__new__method, "/Default/New", CORPC_RPC_UNARY);
	assert_ptr_equal(kw__switch__delete__method.response,
	    &google__protobuf__empty__descriptor);
	assert_ptr_equal(kw__class__private__method.request,
	    &google__protobuf__timestamp__descriptor);
	assert_int_equal(kw__switch__corpc_service.method_count, 19);
	assert_int_equal(kw__nothing__corpc_service.method_count, 0);
}

// Register: answers the request's timestamp one second later, its struct's
// "k" value, and the name wrapper upper-cased in its first letter.
static corpc_status_code
switch_register(void *self, corpc_ctx *ctx, const Kw__Msg *req)
{
	(void) self;
	Kw__Msg                       resp = KW__MSG__INIT;
	Google__Protobuf__Timestamp   at   = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__StringValue name =
	    GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	char text[32] = "";
	if (req->at != NULL) {
		at.seconds = req->at->seconds + 1;
		resp.at    = &at;
	}
	if (req->struct_ != NULL && req->struct_->n_fields == 1) {
		resp.value = req->struct_->fields[0]->value;
	}
	if (req->name != NULL) {
		std::strncpy(text, req->name->value, sizeof(text) - 1);
		text[0]    = (char) (text[0] - 'a' + 'A');
		name.value = text;
		resp.name  = &name;
	}
	resp.default_ = req->default_;
	resp.new_     = req->new_ + 1;
	return kw__switch__register_write(ctx, &resp, 0);
}

static void
test_keyword_call(void **state)
{
	(void) state;
	Kw__Switch_Server impl = {};
	impl.register_         = switch_register;
	corpc_server *srv      = nullptr;
	assert_int_equal(corpc_server_create(nullptr, &srv), CORPC_OK);
	assert_int_equal(
	    kw__switch__register_server(srv, &impl, nullptr), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(srv, "inproc://cxx_test"), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	corpc_channel *ch = nullptr;
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(srv, 0), nullptr, &ch),
	    CORPC_OK);

	Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	at.seconds                     = 1700000000;
	// protoc-c's GOOGLE__PROTOBUF__VALUE__INIT is not valid C++ (an int
	// for the enum in its oneof), its init function is.
	Google__Protobuf__Value v;
	google__protobuf__value__init(&v);
	v.kind_case    = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
	v.number_value = 2.5;
	Google__Protobuf__Struct__FieldsEntry e =
	    GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT;
	e.key                                      = (char *) "k";
	e.value                                    = &v;
	Google__Protobuf__Struct__FieldsEntry *f[] = {&e};
	Google__Protobuf__Struct s = GOOGLE__PROTOBUF__STRUCT__INIT;
	s.n_fields                 = 1;
	s.fields                   = f;
	Google__Protobuf__StringValue name =
	    GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	name.value   = (char *) "world";
	Kw__Msg req  = KW__MSG__INIT;
	req.at       = &at;
	req.struct_  = &s;
	req.name     = &name;
	req.default_ = (char *) "d";
	req.new_     = 41;

	const Kw__Msg *resp = nullptr;
	corpc_stream  *st   = nullptr;
	assert_int_equal(
	    kw__switch__register_call(ch, nullptr, &req, &resp, &st),
	    CORPC_STATUS_OK);
	assert_non_null(resp);
	assert_non_null(resp->at);
	assert_int_equal(resp->at->seconds, 1700000001);
	assert_non_null(resp->value);
	assert_true(resp->value->number_value == 2.5);
	assert_non_null(resp->name);
	assert_string_equal(resp->name->value, "World");
	assert_string_equal(resp->default_, "d");
	assert_int_equal(resp->new_, 42);
	corpc_stream_destroy(st);

	// A keyword method without a handler: UNIMPLEMENTED.
	st = nullptr;
	assert_int_equal(
	    kw__switch__switch_call(ch, nullptr, &req, &resp, &st),
	    CORPC_STATUS_UNIMPLEMENTED);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keyword_methods),
	    cmocka_unit_test(test_keyword_call),
	};
	return cmocka_run_group_tests(tests, nullptr, nullptr);
}
