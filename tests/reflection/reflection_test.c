// SPDX-License-Identifier: MIT
// Server reflection (v1 and v1alpha) on inproc:// and tcp://: the service
// list, files by name and by symbol with their imports, parsed back as
// FileDescriptorProto, errors for unknown names and extension queries, and
// files added by hand.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "a/b/services.corpc.h"
#include "corpc/corpc.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.corpc.h"
#include "grpc/reflection/v1alpha/reflection.corpc.h"
#include "nopkg.corpc.h"

typedef Grpc__Reflection__V1__ServerReflectionRequest  Req;
typedef Grpc__Reflection__V1__ServerReflectionResponse Resp;
typedef Google__Protobuf__FileDescriptorProto          FileProto;

static const char *const addrs[] = {
    "inproc://reflection",
#ifdef CORPC_TEST_GRPC
    "tcp://127.0.0.1:0",
#endif
};

static const A__B__Kinds_Server     kinds_impl = {0};
static const A__B__MoreNames_Server more_impl  = {0};

typedef struct fixture {
	corpc_server     *srv;
	corpc_reflection *refl;
	corpc_channel    *ch;
	corpc_stream     *st; // a v1 ServerReflectionInfo stream
} fixture;

static void
fixture_up(fixture *f, const char *addr)
{
	assert_int_equal(corpc_server_create(NULL, &f->srv), CORPC_OK);
	assert_int_equal(corpc_reflection_enable(f->srv, &f->refl), CORPC_OK);
	assert_int_equal(corpc_health_enable(f->srv, NULL), CORPC_OK);
	// Registered after reflection: still answered.
	assert_int_equal(
	    a__b__kinds__register_server(f->srv, &kinds_impl, NULL), CORPC_OK);
	assert_int_equal(
	    a__b__more_names__register_server(f->srv, &more_impl, NULL),
	    CORPC_OK);
	assert_int_equal(corpc_server_listen(f->srv, addr), CORPC_OK);
	assert_int_equal(corpc_server_start(f->srv), CORPC_OK);
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(f->srv, 0), NULL, &f->ch),
	    CORPC_OK);
	corpc_call_opts opts = {.timeout_ms = 10000};
	assert_int_equal(
	    grpc__reflection__v1__server_reflection__server_reflection_info_open(
	        f->ch, &opts, &f->st),
	    CORPC_OK);
}

static void
fixture_down(fixture *f)
{
	assert_int_equal(corpc_stream_close_send(f->st), CORPC_STATUS_OK);
	const Resp *r = NULL;
	assert_int_equal(
	    grpc__reflection__v1__server_reflection__server_reflection_info_recv(
	        f->st, &r),
	    CORPC_STATUS_OK);
	assert_null(r); // the server ended the stream cleanly
	corpc_stream_destroy(f->st);
	corpc_channel_close(f->ch);
	corpc_server_destroy(f->srv);
}

// Sends `req` on the v1 stream and returns the response (borrowed until
// the next ask).
static const Resp *
ask(fixture *f, Req *req)
{
	const Resp *r = NULL;
	assert_int_equal(
	    grpc__reflection__v1__server_reflection__server_reflection_info_send(
	        f->st, req, 0),
	    CORPC_STATUS_OK);
	assert_int_equal(
	    grpc__reflection__v1__server_reflection__server_reflection_info_recv(
	        f->st, &r),
	    CORPC_STATUS_OK);
	assert_non_null(r);
	assert_non_null(r->original_request);
	assert_int_equal(r->original_request->message_request_case,
	    req->message_request_case);
	return r;
}

static const Resp *
ask_symbol(fixture *f, const char *symbol)
{
	Req req = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
	req.message_request_case =
	    GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
	req.file_containing_symbol = (char *) symbol;
	return ask(f, &req);
}

static const Resp *
ask_file(fixture *f, const char *name)
{
	Req req = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
	req.message_request_case =
	    GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME;
	req.file_by_filename = (char *) name;
	return ask(f, &req);
}

static void
assert_error(const Resp *r, int code)
{
	assert_int_equal(r->message_response_case,
	    GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE);
	assert_int_equal(r->error_response->error_code, code);
}

// The i-th file of a file answer, parsed (free with free_unpacked).
static FileProto *
file_at(const Resp *r, size_t i)
{
	assert_int_equal(r->message_response_case,
	    GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE);
	assert_true(i < r->file_descriptor_response->n_file_descriptor_proto);
	ProtobufCBinaryData b =
	    r->file_descriptor_response->file_descriptor_proto[i];
	FileProto *fp = google__protobuf__file_descriptor_proto__unpack(
	    NULL, b.len, b.data);
	assert_non_null(fp);
	return fp;
}

static void
test_list_services(void **state)
{
	(void) state;
	static const char *const want[] = {
	    "grpc.reflection.v1.ServerReflection",
	    "grpc.reflection.v1alpha.ServerReflection",
	    "grpc.health.v1.Health",
	    "a.b.Kinds",
	    "a.b.MoreNames",
	};
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fixture f = {0};
		Req     req =
		    GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
		fixture_up(&f, addrs[i]);
		req.host = "example";
		req.message_request_case =
		    GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
		req.list_services = "*";
		const Resp *r     = ask(&f, &req);
		assert_string_equal(r->valid_host, "example");
		assert_int_equal(r->message_response_case,
		    GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE);
		assert_int_equal(r->list_services_response->n_service, 5);
		for (size_t j = 0; j < 5; j++) {
			assert_string_equal(
			    r->list_services_response->service[j]->name,
			    want[j]);
		}
		fixture_down(&f);
	}
}

static void
test_files(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fixture f = {0};
		fixture_up(&f, addrs[i]);
		// A service: its file first, then both imports.
		const Resp *r = ask_symbol(&f, "a.b.MoreNames");
		assert_int_equal(
		    r->file_descriptor_response->n_file_descriptor_proto, 3);
		FileProto *fp = file_at(r, 0);
		assert_string_equal(fp->name, "a/b/services.proto");
		assert_string_equal(fp->package, "a.b");
		assert_null(fp->source_code_info);
		assert_int_equal(fp->n_service, 2);
		const Google__Protobuf__ServiceDescriptorProto *more =
		    fp->service[1];
		assert_string_equal(more->name, "MoreNames");
		assert_string_equal(more->method[2]->name, "UseImported");
		assert_string_equal(
		    more->method[2]->input_type, ".other.v1.Common");
		google__protobuf__file_descriptor_proto__free_unpacked(
		    fp, NULL);
		const char *names[2];
		for (size_t j = 0; j < 2; j++) {
			fp = file_at(r, j + 1);
			names[j] =
			    strcmp(fp->name, "a/b/types.proto") == 0 ? "types"
			    : strcmp(fp->name, "other/common.proto") == 0
			        ? "common"
			        : "?";
			google__protobuf__file_descriptor_proto__free_unpacked(
			    fp, NULL);
		}
		assert_string_equal(names[0], "types");
		assert_string_equal(names[1], "common");
		// A method, a nested type, a field, with or without a dot.
		fp = file_at(ask_symbol(&f, "a.b.Kinds.Bidi"), 0);
		assert_string_equal(fp->name, "a/b/services.proto");
		google__protobuf__file_descriptor_proto__free_unpacked(
		    fp, NULL);
		fp = file_at(ask_symbol(&f, ".a.b.Outer.Inner"), 0);
		assert_string_equal(fp->name, "a/b/types.proto");
		google__protobuf__file_descriptor_proto__free_unpacked(
		    fp, NULL);
		fp = file_at(ask_symbol(&f, "other.v1.Common.id"), 0);
		assert_string_equal(fp->name, "other/common.proto");
		google__protobuf__file_descriptor_proto__free_unpacked(
		    fp, NULL);
		// Reflection's own and health's file.
		fp = file_at(ask_symbol(&f, "grpc.health.v1.Health"), 0);
		assert_string_equal(fp->name, "grpc/health/v1/health.proto");
		google__protobuf__file_descriptor_proto__free_unpacked(
		    fp, NULL);
		// By name: an import alone.
		r = ask_file(&f, "other/common.proto");
		assert_int_equal(
		    r->file_descriptor_response->n_file_descriptor_proto, 1);
		fp = file_at(r, 0);
		assert_string_equal(fp->message_type[0]->name, "Common");
		google__protobuf__file_descriptor_proto__free_unpacked(
		    fp, NULL);
		// Unknown names, extension queries, an empty request.
		assert_error(
		    ask_symbol(&f, "no.Such"), CORPC_STATUS_NOT_FOUND);
		assert_error(ask_symbol(&f, "a.b"), CORPC_STATUS_NOT_FOUND);
		assert_error(
		    ask_file(&f, "nopkg.proto"), CORPC_STATUS_NOT_FOUND);
		Req req =
		    GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
		req.message_request_case =
		    GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE;
		req.all_extension_numbers_of_type = "a.b.Req";
		assert_error(ask(&f, &req), CORPC_STATUS_UNIMPLEMENTED);
		req.message_request_case =
		    GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST__NOT_SET;
		assert_error(ask(&f, &req), CORPC_STATUS_INVALID_ARGUMENT);
		// A file added by hand, while serving.
		assert_int_equal(corpc_reflection_add_file(
		                     f.refl, &corpc_file_nopkg_2eproto),
		    CORPC_OK);
		fp = file_at(ask_file(&f, "nopkg.proto"), 0);
		assert_string_equal(fp->message_type[0]->name, "PingMsg");
		google__protobuf__file_descriptor_proto__free_unpacked(
		    fp, NULL);
		fp = file_at(ask_symbol(&f, "PingMsg.Nested.v"), 0);
		assert_string_equal(fp->name, "nopkg.proto");
		google__protobuf__file_descriptor_proto__free_unpacked(
		    fp, NULL);
		fixture_down(&f);
	}
}

// v1alpha: the same answers in the old package's messages.
static void
test_v1alpha(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fixture f = {0};
		fixture_up(&f, addrs[i]);
		corpc_stream   *st;
		corpc_call_opts opts = {.timeout_ms = 10000};
		assert_int_equal(
		    grpc__reflection__v1alpha__server_reflection__server_reflection_info_open(
		        f.ch, &opts, &st),
		    CORPC_OK);
		Grpc__Reflection__V1alpha__ServerReflectionRequest req =
		    GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
		req.message_request_case =
		    GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
		req.file_containing_symbol = "a.b.Kinds";
		assert_int_equal(
		    grpc__reflection__v1alpha__server_reflection__server_reflection_info_send(
		        st, &req, 0),
		    CORPC_STATUS_OK);
		const Grpc__Reflection__V1alpha__ServerReflectionResponse *r;
		assert_int_equal(
		    grpc__reflection__v1alpha__server_reflection__server_reflection_info_recv(
		        st, &r),
		    CORPC_STATUS_OK);
		assert_non_null(r);
		assert_int_equal(r->message_response_case,
		    GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE);
		assert_int_equal(
		    r->file_descriptor_response->n_file_descriptor_proto, 3);
		assert_string_equal(
		    r->original_request->file_containing_symbol, "a.b.Kinds");
		req.file_containing_symbol = "no.Such";
		assert_int_equal(
		    grpc__reflection__v1alpha__server_reflection__server_reflection_info_send(
		        st, &req, 0),
		    CORPC_STATUS_OK);
		assert_int_equal(
		    grpc__reflection__v1alpha__server_reflection__server_reflection_info_recv(
		        st, &r),
		    CORPC_STATUS_OK);
		assert_non_null(r);
		assert_int_equal(
		    r->error_response->error_code, CORPC_STATUS_NOT_FOUND);
		corpc_stream_destroy(st);
		fixture_down(&f);
	}
}

static void
test_errors(void **state)
{
	(void) state;
	corpc_server *srv;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(corpc_reflection_enable(NULL, NULL), CORPC_EINVAL);
	assert_int_equal(corpc_reflection_enable(srv, NULL), CORPC_OK);
	assert_int_equal(corpc_reflection_enable(srv, NULL), CORPC_EEXIST);
	assert_int_equal(
	    corpc_reflection_add_file(NULL, &corpc_file_nopkg_2eproto),
	    CORPC_EINVAL);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	corpc_server_destroy(srv);
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	assert_int_equal(corpc_reflection_enable(srv, NULL), CORPC_ESTATE);
	corpc_server_destroy(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_services),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_v1alpha),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
