// SPDX-License-Identifier: MIT
// The public API's setup calls: their errors, server lifecycle, shutdown.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <corpc/corpc.h>

#include "test.corpc.h"

static corpc_status_code
unary_ok(void *self, corpc_ctx *ctx, const Corpc__Test__EchoRequest *req)
{
	(void) self;
	Corpc__Test__EchoResponse resp = CORPC__TEST__ECHO_RESPONSE__INIT;
	resp.text                      = req->text;
	return corpc__test__echo__unary_write(ctx, &resp, 0);
}

static const Corpc__Test__Echo_Server impl = {.unary = unary_ok};

static corpc_status_code
call(corpc_channel *ch, corpc_status *status_out)
{
	Corpc__Test__EchoRequest         req = CORPC__TEST__ECHO_REQUEST__INIT;
	const Corpc__Test__EchoResponse *resp;
	corpc_stream                    *st;
	req.text = "x";
	corpc_status_code code =
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st);
	corpc_status status;
	corpc_stream_finish(st, &status);
	if (status_out != NULL) {
		static char msg[256];
		snprintf(msg, sizeof(msg), "%s", status.message);
		status_out->code    = status.code;
		status_out->message = msg;
	}
	corpc_stream_destroy(st);
	return code;
}

static void
test_channel_errors(void **state)
{
	(void) state;
	corpc_channel *ch = (corpc_channel *) &ch;
	assert_int_equal(
	    corpc_channel_open("nope://x", NULL, &ch), CORPC_EADDRINVAL);
	assert_int_equal(
	    corpc_channel_open("tcp://host", NULL, &ch), CORPC_EADDRINVAL);
	assert_int_equal(corpc_channel_open(NULL, NULL, &ch), CORPC_EINVAL);
	assert_int_equal(
	    corpc_channel_open("inproc://x", NULL, NULL), CORPC_EINVAL);
#ifndef CORPC_TRANSPORT_GRPC_BUILT
	// Network transports parse, then say they are not built.
	assert_int_equal(
	    corpc_channel_open("tcp://127.0.0.1:1", NULL, &ch), CORPC_ENOTSUP);
	assert_int_equal(
	    corpc_channel_open("unix:///tmp/x", NULL, &ch), CORPC_ENOTSUP);
	assert_string_equal(corpc_strerror(CORPC_ENOTSUP),
	    "transport not built into this corpc");
#endif
	corpc_channel_close(NULL);
}

static void
test_no_server_is_unavailable(void **state)
{
	(void) state;
	corpc_channel *ch;
	assert_int_equal(
	    corpc_channel_open("inproc://nobody", NULL, &ch), CORPC_OK);
	assert_string_equal(corpc_channel_address(ch), "inproc://nobody");
	corpc_status status;
	assert_int_equal(call(ch, &status), CORPC_STATUS_UNAVAILABLE);
	assert_non_null(strstr(status.message, "inproc://nobody"));
	corpc_channel_close(ch);
}

static void
test_server_lifecycle_errors(void **state)
{
	(void) state;
	corpc_server *srv, *other;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(
	    corpc_server_register(srv, NULL, NULL, NULL), CORPC_EINVAL);
	assert_int_equal(
	    corpc__test__echo__register_server(srv, &impl, NULL), CORPC_OK);
	assert_int_equal(corpc__test__echo__register_server(srv, &impl, NULL),
	    CORPC_EEXIST);
	assert_int_equal(corpc_server_listen(srv, "bad"), CORPC_EADDRINVAL);
	assert_int_equal(corpc_server_listen(srv, "inproc://life"), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(srv, "inproc://life-2"), CORPC_OK);
	assert_string_equal(corpc_server_address(srv, 0), "inproc://life");
	assert_string_equal(corpc_server_address(srv, 1), "inproc://life-2");
	assert_null(corpc_server_address(srv, 2));
	// A name is one server's.
	assert_int_equal(corpc_server_create(NULL, &other), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(other, "inproc://life"), CORPC_EADDRINUSE);
	corpc_server_destroy(other);
#ifndef CORPC_TRANSPORT_GRPC_BUILT
	assert_int_equal(
	    corpc_server_listen(srv, "tcp://127.0.0.1:0"), CORPC_ENOTSUP);
#endif
	// Listening but not started: not reachable yet.
	corpc_channel *ch;
	assert_int_equal(
	    corpc_channel_open("inproc://life-2", NULL, &ch), CORPC_OK);
	assert_int_equal(call(ch, NULL), CORPC_STATUS_UNAVAILABLE);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	assert_int_equal(call(ch, NULL), CORPC_STATUS_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_ESTATE);
	assert_int_equal(corpc__test__echo__register_server(srv, &impl, NULL),
	    CORPC_ESTATE);
	assert_int_equal(
	    corpc_server_listen(srv, "inproc://late"), CORPC_ESTATE);
	// After shutdown: new calls are UNAVAILABLE, the name is free again.
	corpc_server_shutdown(srv, 100);
	corpc_server_shutdown(srv, 100); // idempotent
	assert_int_equal(call(ch, NULL), CORPC_STATUS_UNAVAILABLE);
	assert_int_equal(corpc_server_create(NULL, &other), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(other, "inproc://life-2"), CORPC_OK);
	corpc_server_destroy(other);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
	corpc_server_destroy(NULL);
}

static void
test_unimplemented_member(void **state)
{
	(void) state;
	// A vtable without a member: the method answers UNIMPLEMENTED.
	static const Corpc__Test__Echo_Server empty = {0};
	corpc_server                         *srv;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(srv, &empty, NULL), CORPC_OK);
	assert_int_equal(corpc_server_listen(srv, "inproc://empty"), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	corpc_channel *ch;
	assert_int_equal(
	    corpc_channel_open("inproc://empty", NULL, &ch), CORPC_OK);
	corpc_status status;
	assert_int_equal(call(ch, &status), CORPC_STATUS_UNIMPLEMENTED);
	assert_non_null(strstr(status.message, "/corpc.test.Echo/Unary"));
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

static void
test_stream_misuse(void **state)
{
	(void) state;
	corpc_server *srv;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(srv, &impl, NULL), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(srv, "inproc://misuse"), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	corpc_channel *ch;
	assert_int_equal(
	    corpc_channel_open("inproc://misuse", NULL, &ch), CORPC_OK);
	Corpc__Test__EchoRequest req = CORPC__TEST__ECHO_REQUEST__INIT;
	corpc_stream            *st;
	assert_int_equal(
	    corpc_stream_open(
	        ch, &corpc__test__echo__unary__method, NULL, &req.base, &st),
	    CORPC_OK);
	// A unary call takes no more messages after open.
	assert_int_equal(corpc_stream_send(st, &req.base, 0),
	    CORPC_STATUS_FAILED_PRECONDITION);
	assert_int_equal(
	    corpc_stream_recv(NULL, NULL), CORPC_STATUS_INVALID_ARGUMENT);
	corpc_stream_destroy(st);
	corpc_stream_destroy(NULL);
	corpc_stream_cancel(NULL);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_channel_errors),
	    cmocka_unit_test(test_no_server_is_unavailable),
	    cmocka_unit_test(test_server_lifecycle_errors),
	    cmocka_unit_test(test_unimplemented_member),
	    cmocka_unit_test(test_stream_misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
