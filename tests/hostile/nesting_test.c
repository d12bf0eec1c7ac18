// SPDX-License-Identifier: MIT
// Nesting limits: a message type that contains itself, nested 10,000 deep
// (far past any stack protobuf-c's recursion could survive), is refused on
// every path before anything recurses: INVALID_ARGUMENT from the server
// without running the handler, INTERNAL at the client for a response,
// with "message nested deeper than N" in both. The limit is an option on
// either side, and the server keeps serving afterwards.
//
// Over tcp:// the client sends RawNode (Node's wire format with the child
// left as bytes), so only the receiving side ever parses the nesting.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nest_service.h"

#define HOSTILE_DEPTH 10000

#ifdef CORPC_TEST_GRPC
// The Depth and Collect methods as a client of RawNode sees them.
static const corpc_method raw_depth = {
    .path     = "/corpc.hostile.Nest/Depth",
    .name     = "Depth",
    .kind     = CORPC_RPC_UNARY,
    .request  = &corpc__hostile__raw_node__descriptor,
    .response = &corpc__hostile__node__descriptor,
};
static const corpc_method raw_deep = {
    .path     = "/corpc.hostile.RawNest/Deep",
    .name     = "Deep",
    .kind     = CORPC_RPC_UNARY,
    .request  = &corpc__hostile__node__descriptor,
    .response = &corpc__hostile__node__descriptor,
};
static const corpc_method raw_collect = {
    .path     = "/corpc.hostile.Nest/Collect",
    .name     = "Collect",
    .kind     = CORPC_RPC_CLIENT_STREAMING,
    .request  = &corpc__hostile__raw_node__descriptor,
    .response = &corpc__hostile__node__descriptor,
};
#endif

static corpc_server *
serve(const char *addr, unsigned max_depth)
{
	corpc_server_opts opts = {.max_message_depth = max_depth};
	corpc_server     *srv;
	assert_int_equal(corpc_server_create(&opts, &srv), CORPC_OK);
	assert_int_equal(
	    corpc__hostile__nest__register_server(srv, &nest_impl, NULL),
	    CORPC_OK);
	assert_int_equal(corpc__hostile__raw_nest__register_server(
	                     srv, &raw_nest_impl, NULL),
	    CORPC_OK);
	assert_int_equal(corpc_server_listen(srv, addr), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	atomic_store(&nest_handlers_run, 0);
	return srv;
}

static corpc_channel *
dial(const char *addr, unsigned max_depth)
{
	corpc_channel_opts opts = {.max_message_depth = max_depth};
	corpc_channel     *ch;
	assert_int_equal(corpc_channel_open(addr, &opts, &ch), CORPC_OK);
	return ch;
}

// Asserts that `st` ended with `code` and a message naming `limit`.
static void
expect_too_deep(corpc_stream *st, corpc_status_code code, unsigned limit)
{
	corpc_status s;
	char         want[64];
	assert_int_equal(corpc_stream_finish(st, &s), code);
	snprintf(want, sizeof(want), "message nested deeper than %u", limit);
	printf("  %s: %s\n", corpc_status_name(s.code), s.message);
	assert_non_null(strstr(s.message, want));
	corpc_stream_destroy(st);
}

#ifdef CORPC_TEST_GRPC
// Sends a RawNode whose bytes nest `depth` deep to Depth; returns the code
// (and the depth the server saw in *seen when OK).
static corpc_status_code
raw_call(corpc_channel *ch, unsigned depth, corpc_stream **st, int *seen)
{
	RawNode req    = CORPC__HOSTILE__RAW_NODE__INIT;
	req.child.data = nest_wire(depth - 1, &req.child.len);
	const ProtobufCMessage *resp;
	corpc_status_code       rc =
	    corpc_unary_call(ch, &raw_depth, NULL, &req.base, &resp, st);
	free(req.child.data);
	if (rc == CORPC_STATUS_OK) {
		*seen = ((const Node *) resp)->value;
	}
	return rc;
}
#endif

// A normal call still works: the server survived.
static void
expect_alive(corpc_channel *ch)
{
	Node             *chain = nest_chain(3);
	const Node       *resp;
	corpc_stream     *st;
	corpc_status_code rc =
	    corpc__hostile__nest__depth_call(ch, NULL, chain, &resp, &st);
	assert_int_equal(rc, CORPC_STATUS_OK);
	assert_int_equal(resp->value, 3);
	corpc_stream_destroy(st);
	free(chain);
}

#ifdef CORPC_TEST_GRPC
static void
tcp_request_refused(void **state)
{
	(void) state;
	corpc_server  *srv = serve("tcp://127.0.0.1:0", 0);
	corpc_channel *ch  = dial(corpc_server_address(srv, 0), 0);
	corpc_stream  *st;
	int            seen = -1;
	assert_int_equal(raw_call(ch, HOSTILE_DEPTH, &st, &seen),
	    CORPC_STATUS_INVALID_ARGUMENT);
	expect_too_deep(st, CORPC_STATUS_INVALID_ARGUMENT, 100);
	assert_int_equal(atomic_load(&nest_handlers_run), 0);
	// The limit itself passes, one more does not.
	assert_int_equal(raw_call(ch, 100, &st, &seen), CORPC_STATUS_OK);
	assert_int_equal(seen, 100);
	corpc_stream_destroy(st);
	assert_int_equal(
	    raw_call(ch, 101, &st, &seen), CORPC_STATUS_INVALID_ARGUMENT);
	expect_too_deep(st, CORPC_STATUS_INVALID_ARGUMENT, 100);
	expect_alive(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

static void
tcp_client_stream_refused(void **state)
{
	(void) state;
	corpc_server  *srv = serve("tcp://127.0.0.1:0", 0);
	corpc_channel *ch  = dial(corpc_server_address(srv, 0), 0);
	corpc_stream  *st;
	assert_int_equal(
	    corpc_stream_open(ch, &raw_collect, NULL, NULL, &st), CORPC_OK);
	RawNode req    = CORPC__HOSTILE__RAW_NODE__INIT;
	req.child.data = nest_wire(HOSTILE_DEPTH - 1, &req.child.len);
	(void) corpc_stream_send(st, &req.base, 0);
	(void) corpc_stream_close_send(st);
	free(req.child.data);
	const ProtobufCMessage *resp;
	assert_int_not_equal(corpc_stream_recv(st, &resp), CORPC_STATUS_OK);
	expect_too_deep(st, CORPC_STATUS_INVALID_ARGUMENT, 100);
	expect_alive(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

static void
tcp_response_refused(void **state)
{
	(void) state;
	corpc_server  *srv = serve("tcp://127.0.0.1:0", 0);
	corpc_channel *ch  = dial(corpc_server_address(srv, 0), 0);
	Node           req = CORPC__HOSTILE__NODE__INIT;
	req.value          = HOSTILE_DEPTH;
	const ProtobufCMessage *resp;
	corpc_stream           *st;
	assert_int_equal(
	    corpc_unary_call(ch, &raw_deep, NULL, &req.base, &resp, &st),
	    CORPC_STATUS_INTERNAL);
	expect_too_deep(st, CORPC_STATUS_INTERNAL, 100);
	req.value = 100; // the limit itself is fine
	assert_int_equal(
	    corpc_unary_call(ch, &raw_deep, NULL, &req.base, &resp, &st),
	    CORPC_STATUS_OK);
	assert_int_equal(nest_depth((const Node *) resp), 100);
	corpc_stream_destroy(st);
	expect_alive(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

static void
tcp_limits_are_options(void **state)
{
	(void) state;
	corpc_server  *srv = serve("tcp://127.0.0.1:0", 5);
	corpc_channel *ch  = dial(corpc_server_address(srv, 0), 3);
	corpc_stream  *st;
	int            seen = -1;
	assert_int_equal(raw_call(ch, 5, &st, &seen), CORPC_STATUS_OK);
	assert_int_equal(seen, 5);
	corpc_stream_destroy(st);
	assert_int_equal(
	    raw_call(ch, 6, &st, &seen), CORPC_STATUS_INVALID_ARGUMENT);
	expect_too_deep(st, CORPC_STATUS_INVALID_ARGUMENT, 5);
	Node req  = CORPC__HOSTILE__NODE__INIT;
	req.value = 4;
	const Node *resp;
	assert_int_equal(
	    corpc__hostile__nest__deep_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_INTERNAL);
	expect_too_deep(st, CORPC_STATUS_INTERNAL, 3);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}
#endif

// ---- in-process: the copies are bounded ------------------------------------

// A 10,000-deep request to a unary (thread modes) or server-streaming
// (coroutines copy its request) method, and through client streaming.
static void
inproc_requests(const char *mode)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "inproc://nest%s", mode);
	corpc_server  *srv   = serve("inproc://nest", 0);
	corpc_channel *ch    = dial(addr, 0);
	Node          *chain = nest_chain(HOSTILE_DEPTH);
	corpc_stream  *st;
	if (strcmp(mode, "") != 0) {
		const Node *resp;
		assert_int_equal(corpc__hostile__nest__depth_call(
		                     ch, NULL, chain, &resp, &st),
		    CORPC_STATUS_INVALID_ARGUMENT);
		expect_too_deep(st, CORPC_STATUS_INVALID_ARGUMENT, 100);
	}
	assert_int_equal(
	    corpc__hostile__nest__stream_open(ch, NULL, chain, &st), CORPC_OK);
	const Node *msg;
	assert_int_equal(corpc__hostile__nest__stream_recv(st, &msg),
	    CORPC_STATUS_INVALID_ARGUMENT);
	expect_too_deep(st, CORPC_STATUS_INVALID_ARGUMENT, 100);
	assert_int_equal(atomic_load(&nest_handlers_run), 0);

	// Client streaming: the copy of each message was the crash (freeing
	// it recursed 3,500 deep on a coroutine).
	assert_int_equal(
	    corpc__hostile__nest__collect_open(ch, NULL, &st), CORPC_OK);
	Node one = CORPC__HOSTILE__NODE__INIT;
	assert_int_equal(
	    corpc__hostile__nest__collect_send(st, &one, 0), CORPC_STATUS_OK);
	assert_int_equal(corpc__hostile__nest__collect_send(st, chain, 0),
	    CORPC_STATUS_INVALID_ARGUMENT);
	expect_too_deep(st, CORPC_STATUS_INVALID_ARGUMENT, 100);
	free(chain);
	expect_alive(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

// A 10,000-deep unary response (every in-process mode copies it).
static void
inproc_response(const char *mode)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "inproc://nest%s", mode);
	corpc_server  *srv = serve("inproc://nest", 0);
	corpc_channel *ch  = dial(addr, 0);
	Node           req = CORPC__HOSTILE__NODE__INIT;
	req.value          = HOSTILE_DEPTH;
	const Node   *resp;
	corpc_stream *st;
	assert_int_equal(
	    corpc__hostile__nest__deep_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_INTERNAL);
	expect_too_deep(st, CORPC_STATUS_INTERNAL, 100);
	req.value = 100;
	assert_int_equal(
	    corpc__hostile__nest__deep_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_OK);
	assert_int_equal(nest_depth(resp), 100);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

static void
coro_requests(void **state)
{
	(void) state;
	inproc_requests("");
}

static void
thread_requests(void **state)
{
	(void) state;
	inproc_requests("?mode=thread");
}

static void
thread_copy_requests(void **state)
{
	(void) state;
	inproc_requests("?mode=thread-copy");
}

static void
coro_response(void **state)
{
	(void) state;
	inproc_response("");
}

static void
thread_response(void **state)
{
	(void) state;
	inproc_response("?mode=thread");
}

static void
thread_copy_response(void **state)
{
	(void) state;
	inproc_response("?mode=thread-copy");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef CORPC_TEST_GRPC
	    cmocka_unit_test(tcp_request_refused),
	    cmocka_unit_test(tcp_client_stream_refused),
	    cmocka_unit_test(tcp_response_refused),
	    cmocka_unit_test(tcp_limits_are_options),
#endif
	    cmocka_unit_test(coro_requests),
	    cmocka_unit_test(thread_requests),
	    cmocka_unit_test(thread_copy_requests),
	    cmocka_unit_test(coro_response),
	    cmocka_unit_test(thread_response),
	    cmocka_unit_test(thread_copy_response),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
