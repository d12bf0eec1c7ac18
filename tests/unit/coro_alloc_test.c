// SPDX-License-Identifier: MIT
// The coroutine transport's fast paths (inproc://): client-streaming and
// bidi messages move without heap allocations in steady state (malloc is
// interposed by bench/count_alloc.c and counted while a warmed-up call
// streams), and push-style receive runs a server-streaming handler on the
// caller's stack, its send calling the callback directly (but not on a
// task's stack smaller than the server's stack_size).
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corpc/runtime.h"
#include "count_alloc.h"
#include "test.corpc.h"

typedef Corpc__Test__EchoRequest  Req;
typedef Corpc__Test__EchoResponse Resp;

#define WARM  200  // messages before counting: pools and arenas fill up
#define COUNT 5000 // messages counted

static corpc_server  *srv;
static corpc_channel *ch;

// ClientStream: counts requests and checks their text, allocating nothing.
static corpc_status_code
count_requests(void *self, corpc_ctx *ctx)
{
	(void) self;
	const Req *req;
	int        n = 0, bad = 0;
	while (corpc__test__echo__client_stream_read(ctx, &req) ==
	           CORPC_STATUS_OK &&
	       req != NULL) {
		bad += strcmp(req->text, "upload") != 0 || req->blob.len != 64;
		n++;
	}
	Resp resp  = CORPC__TEST__ECHO_RESPONSE__INIT;
	resp.index = bad == 0 ? n : -1;
	return corpc__test__echo__client_stream_write(ctx, &resp, 0);
}

// Bidi: answers each request with its text and a running index.
static corpc_status_code
answer_each(void *self, corpc_ctx *ctx)
{
	(void) self;
	const Req        *req;
	int               i = 0;
	corpc_status_code rc;
	while ((rc = corpc__test__echo__bidi_read(ctx, &req)) ==
	           CORPC_STATUS_OK &&
	       req != NULL) {
		Resp resp  = CORPC__TEST__ECHO_RESPONSE__INIT;
		resp.text  = req->text;
		resp.index = i++;
		if ((rc = corpc__test__echo__bidi_write(ctx, &resp, 0)) !=
		    CORPC_STATUS_OK) {
			return rc;
		}
	}
	return rc;
}

// ServerStream: `count` responses built on the handler's stack; with text
// "wrong-type", then a request message sent as if it were a response.
static corpc_status_code
stream_from_stack(void *self, corpc_ctx *ctx, const Req *req)
{
	(void) self;
	if (strcmp(req->text, "wrong-type") == 0) {
		for (int i = 0; i < req->count; i++) {
			Resp resp  = CORPC__TEST__ECHO_RESPONSE__INIT;
			resp.text  = "w";
			resp.index = i;
			corpc__test__echo__server_stream_write(ctx, &resp, 0);
		}
		return corpc_ctx_send(ctx, &req->base, 0);
	}
	for (int i = 0; i < req->count; i++) {
		char text[16];
		snprintf(text, sizeof(text), "s%d", i);
		Resp resp  = CORPC__TEST__ECHO_RESPONSE__INIT;
		resp.text  = text;
		resp.index = i;
		corpc_status_code rc =
		    corpc__test__echo__server_stream_write(ctx, &resp, 0);
		if (rc != CORPC_STATUS_OK) {
			return rc;
		}
	}
	return CORPC_STATUS_OK;
}

static const Corpc__Test__Echo_Server impl = {
    .server_stream = stream_from_stack,
    .client_stream = count_requests,
    .bidi          = answer_each,
};

static int
setup(void **state)
{
	(void) state;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(srv, &impl, NULL), CORPC_OK);
	assert_int_equal(corpc_server_listen(srv, "inproc://alloc"), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	assert_int_equal(
	    corpc_channel_open("inproc://alloc", NULL, &ch), CORPC_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
	return 0;
}

// A request with a string and bytes, rebuilt on the caller's stack for
// every send (as a handler-free client would): the transport must copy it.
static corpc_status_code
send_one(corpc_stream *st, char *text)
{
	uint8_t blob[64];
	memset(blob, 7, sizeof(blob));
	Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text = text;
	req.blob = (ProtobufCBinaryData) {.len = sizeof(blob), .data = blob};
	return corpc__test__echo__client_stream_send(st, &req, 0);
}

static void
test_client_stream_no_alloc_per_message(void **state)
{
	(void) state;
	if (!count_alloc_available()) {
		skip();
	}
	for (int round = 0; round < 2; round++) {
		corpc_stream *st;
		assert_int_equal(
		    corpc__test__echo__client_stream_open(ch, NULL, &st),
		    CORPC_OK);
		char text[] = "upload";
		for (int i = 0; i < WARM; i++) {
			assert_int_equal(send_one(st, text), CORPC_STATUS_OK);
		}
		count_alloc_start();
		for (int i = 0; i < COUNT; i++) {
			assert_int_equal(send_one(st, text), CORPC_STATUS_OK);
		}
		count_alloc_totals t = count_alloc_stop();
		// The client may reuse its message at once: the handler
		// still reads what was sent.
		memcpy(text, "XXXXXX", 6);
		memcpy(text, "upload", 6);
		const Resp *resp;
		assert_int_equal(
		    corpc__test__echo__client_stream_close_and_recv(st, &resp),
		    CORPC_STATUS_OK);
		assert_non_null(resp);
		assert_int_equal(resp->index, WARM + COUNT);
		assert_int_equal(
		    corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
		corpc_stream_destroy(st);
		assert_int_equal(t.allocs, 0);
		assert_int_equal(t.bytes, 0);
	}
}

static void
test_bidi_no_alloc_per_message(void **state)
{
	(void) state;
	if (!count_alloc_available()) {
		skip();
	}
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__bidi_open(ch, NULL, &st), CORPC_OK);
	count_alloc_totals t = {0, 0};
	for (int i = 0; i < WARM + COUNT; i++) {
		if (i == WARM) {
			count_alloc_start();
		}
		char text[16];
		snprintf(text, sizeof(text), "m%d", i % 10);
		Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text = text;
		assert_int_equal(corpc__test__echo__bidi_send(st, &req, 0),
		    CORPC_STATUS_OK);
		const Resp *r;
		assert_int_equal(
		    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
		assert_non_null(r);
		assert_string_equal(r->text, text);
		assert_int_equal(r->index, i);
	}
	t = count_alloc_stop();
	assert_int_equal(corpc_stream_close_send(st), CORPC_STATUS_OK);
	const Resp *end;
	assert_int_equal(
	    corpc__test__echo__bidi_recv(st, &end), CORPC_STATUS_OK);
	assert_null(end);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	assert_int_equal(t.allocs, 0);
	assert_int_equal(t.bytes, 0);
}

// What the push callback saw.
typedef struct seen {
	const char *caller; // a local of the test function
	int         n;
	long        far; // callbacks whose stack was far from the caller's
	bool        bad; // a response out of order
} seen;

static bool
on_resp(void *arg, const Resp *r)
{
	seen *s = arg;
	char  here;
	long  d = (long) (s->caller - &here);
	// The handler and this callback sit a few frames below the caller:
	// a coroutine stack would be a separate mapping, far away.
	s->far += d < 0 || d > 64 * 1024;
	char want[16];
	snprintf(want, sizeof(want), "s%d", s->n);
	s->bad = s->bad || r->index != s->n || strcmp(r->text, want) != 0;
	s->n++;
	return true;
}

static void
test_push_on_callers_stack_no_alloc(void **state)
{
	(void) state;
	if (!count_alloc_available()) {
		skip();
	}
	char caller;
	for (int round = 0; round < 3; round++) {
		Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
		req.count = COUNT;
		corpc_stream *st;
		assert_int_equal(
		    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
		    CORPC_OK);
		seen s = {.caller = &caller};
		count_alloc_start();
		corpc_status_code rc =
		    corpc__test__echo__server_stream_recv_each(
		        st, on_resp, &s);
		count_alloc_totals t = count_alloc_stop();
		corpc_stream_destroy(st);
		assert_int_equal(rc, CORPC_STATUS_OK);
		assert_int_equal(s.n, COUNT);
		assert_false(s.bad);
		assert_int_equal(s.far, 0);
		if (round > 0) { // the first call fills the pools
			assert_int_equal(t.allocs, 0);
		}
	}
}

// Pushed from a task: its coroutine stack (the runtime's 256 KiB, partly
// used) has less room than the server promises its handlers (stack_size,
// 256 KiB here), so the handler must run on a stack of its own, not on
// the task's, where a handler that uses its whole stack would overflow.
typedef struct task_push {
	corpc_status_code rc;
	seen              s;
} task_push;

static void
push_from_task(void *arg)
{
	task_push *tp = arg;
	char       caller;
	Req        req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.count      = 10;
	corpc_stream *st;
	if (corpc__test__echo__server_stream_open(ch, NULL, &req, &st) !=
	    CORPC_OK) {
		tp->rc = CORPC_STATUS_INTERNAL;
		return;
	}
	tp->s.caller = &caller;
	tp->rc =
	    corpc__test__echo__server_stream_recv_each(st, on_resp, &tp->s);
	corpc_stream_destroy(st);
}

static void
test_push_from_task_keeps_handler_stack(void **state)
{
	(void) state;
	corpc_runtime *rt;
	assert_int_equal(corpc_runtime_create(NULL, &rt), CORPC_OK);
	task_push   tp = {.rc = CORPC_STATUS_UNKNOWN};
	corpc_task *t;
	assert_int_equal(
	    corpc_task_spawn(rt, push_from_task, &tp, &t), CORPC_OK);
	corpc_task_join(t);
	corpc_runtime_destroy(rt);
	assert_int_equal(tp.rc, CORPC_STATUS_OK);
	assert_int_equal(tp.s.n, 10);
	assert_false(tp.s.bad);
	assert_int_equal(
	    tp.s.far, 10); // every callback on the handler's stack
}

// Heap bytes in use (glibc: small blocks and mmapped ones).
static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

// A call whose requests were large leaves nothing large behind: every
// inbox slot's arena held one of them, and the call object goes back to
// the pool with its arenas, so they must shrink back when it does.
static void
test_upload_large_leaves_no_memory(void **state)
{
	(void) state;
	if (!count_alloc_available()) {
		skip(); // sanitizers own malloc; mallinfo2 sees nothing
	}
	enum { BIG = 256 * 1024, SENDS = 200 };
	uint8_t *blob = calloc(1, BIG);
	assert_non_null(blob);
	size_t before = 0;
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			before = heap_in_use(); // pools filled by round 0
		}
		corpc_stream *st;
		assert_int_equal(
		    corpc__test__echo__client_stream_open(ch, NULL, &st),
		    CORPC_OK);
		Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text = "upload";
		req.blob = (ProtobufCBinaryData) {.len = 64, .data = blob};
		for (int i = 0; i < SENDS; i++) {
			req.blob.len = round == 0 ? 64 : BIG;
			assert_int_equal(
			    corpc__test__echo__client_stream_send(st, &req, 0),
			    CORPC_STATUS_OK);
		}
		const Resp *resp;
		assert_int_equal(
		    corpc__test__echo__client_stream_close_and_recv(st, &resp),
		    CORPC_STATUS_OK);
		corpc_stream_destroy(st);
	}
	size_t after = heap_in_use();
	free(blob);
	// Without shrinking: about 65 slots x 256 KiB (16 MiB) kept.
	assert_true(after < before + 2 * BIG);
}

static bool
count_only(void *arg, const Resp *r)
{
	(void) r;
	++*(int *) arg;
	return true;
}

// Once the first response is out, pushed sends go from corpc_ctx_send
// straight to the callback; the message type is still checked there.
static void
test_push_direct_path_checks_type(void **state)
{
	(void) state;
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "wrong-type";
	req.count = 10;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	int n = 0;
	assert_int_equal(
	    corpc__test__echo__server_stream_recv_each(st, count_only, &n),
	    CORPC_STATUS_INTERNAL);
	assert_int_equal(n, 10); // the wrong one never reached the callback
	corpc_status status;
	corpc_stream_finish(st, &status);
	assert_non_null(strstr(status.message, "wrong type"));
	corpc_stream_destroy(st);
}

// Bidi pushed while the client still may send: once the handler waits for
// input, both sides wait to receive on one thread. The call ends with a
// status naming the way out, never a hang.
static void
test_push_bidi_both_wait(void **state)
{
	(void) state;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__bidi_open(ch, NULL, &st), CORPC_OK);
	Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text = "one";
	assert_int_equal(
	    corpc__test__echo__bidi_send(st, &req, 0), CORPC_STATUS_OK);
	int n = 0;
	assert_int_equal(corpc__test__echo__bidi_recv_each(st, count_only, &n),
	    CORPC_STATUS_FAILED_PRECONDITION);
	assert_int_equal(n, 1); // the echo of "one" came first
	corpc_status status;
	corpc_stream_finish(st, &status);
	// The way out of push (no callback can send): half-close first;
	// another mode would only wait until the deadline.
	assert_non_null(strstr(status.message, "close_send before"));
	corpc_stream_destroy(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_stream_no_alloc_per_message),
	    cmocka_unit_test(test_bidi_no_alloc_per_message),
	    cmocka_unit_test(test_push_on_callers_stack_no_alloc),
	    cmocka_unit_test(test_push_bidi_both_wait),
	    cmocka_unit_test(test_push_direct_path_checks_type),
	    cmocka_unit_test(test_push_from_task_keeps_handler_stack),
	    cmocka_unit_test(test_upload_large_leaves_no_memory),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
