// SPDX-License-Identifier: MIT
// The conformance suite: gRPC semantics that every transport must show
// identically. Written once; CTest runs it per transport with
//   conformance_test LISTEN_ADDR INNER_LISTEN_ADDR [DIAL_SUFFIX]
// The client dials the server's bound address plus DIAL_SUFFIX (an inproc
// mode such as "?mode=thread"). With CORPC_TEST_TLS_DIR set to the folder
// tests/tls/make_certs.sh filled, every server and channel uses mutual TLS
// (tcp:// only; other transports ignore it).
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "echo_service.h"
#include "test_certs.h"

static const char *listen_addr;
static const char *inner_listen_addr;
static const char *dial_suffix = "";

static corpc_server  *srv;
static corpc_server  *inner_srv;
static echo_server    es;
static echo_server    inner_es;
static corpc_channel *ch;

static test_certs         pem;
static corpc_tls_server   server_tls;
static corpc_tls_client   client_tls;
static corpc_server_opts  server_opts; // .tls set under CORPC_TEST_TLS_DIR
static corpc_channel_opts channel_opts;

typedef Corpc__Test__EchoRequest  Req;
typedef Corpc__Test__EchoResponse Resp;

static corpc_server *
start_server(const char *addr, echo_server *self)
{
	corpc_server *s;
	assert_int_equal(corpc_server_create(&server_opts, &s), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(s, &echo_impl, self), CORPC_OK);
	assert_int_equal(corpc_server_listen(s, addr), CORPC_OK);
	assert_int_equal(corpc_server_start(s), CORPC_OK);
	return s;
}

static corpc_channel *
dial(corpc_server *s)
{
	char           addr[512];
	corpc_channel *c;
	snprintf(addr, sizeof(addr), "%s%s", corpc_server_address(s, 0),
	    dial_suffix);
	assert_int_equal(
	    corpc_channel_open(addr, &channel_opts, &c), CORPC_OK);
	return c;
}

static int
suite_setup(void **state)
{
	(void) state;
	echo_stats_reset(&es.stats);
	echo_stats_reset(&inner_es.stats);
	inner_srv      = start_server(inner_listen_addr, &inner_es);
	inner_es.inner = NULL;
	es.inner       = dial(inner_srv);
	srv            = start_server(listen_addr, &es);
	ch             = dial(srv);
	return 0;
}

static int
suite_teardown(void **state)
{
	(void) state;
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
	corpc_channel_close(es.inner);
	corpc_server_destroy(inner_srv);
	return 0;
}

static int
test_setup(void **state)
{
	(void) state;
	echo_stats_reset(&es.stats);
	return 0;
}

// Waits (bounded) until every handler started so far has run its cleanup:
// on network transports the handler unwinds on another thread.
static void
wait_handlers_done(void)
{
	for (int i = 0; i < 5000; i++) {
		if (atomic_load(&es.stats.finished) ==
		        atomic_load(&es.stats.started) &&
		    atomic_load(&es.stats.live) == 0) {
			return;
		}
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	fail_msg("handlers did not finish: started %d finished %d live %d",
	    atomic_load(&es.stats.started), atomic_load(&es.stats.finished),
	    atomic_load(&es.stats.live));
}

// Request metadata {x-k: v}; with echo_metadata the server answers h-x-k in
// its headers and t-x-k in its trailers. The caller destroys it.
static corpc_metadata *
x_k_metadata(void)
{
	corpc_metadata *md;
	assert_int_equal(corpc_metadata_create(&md), CORPC_OK);
	assert_int_equal(corpc_metadata_add_str(md, "x-k", "v"), CORPC_OK);
	return md;
}

static void
assert_x_k_trailer(const corpc_stream *st)
{
	const corpc_metadata_entry *e =
	    corpc_metadata_get(corpc_stream_trailers(st), "t-x-k");
	assert_non_null(e);
	assert_string_equal(e->value, "v");
}

// ---- unary
// ------------------------------------------------------------------

static void
test_unary_echo(void **state)
{
	(void) state;
	Req req         = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text        = "hello";
	uint8_t blob[3] = {0, 1, 255};
	req.blob        = (ProtobufCBinaryData) {.len = 3, .data = blob};
	const Resp   *resp;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_OK);
	assert_non_null(resp);
	assert_string_equal(resp->text, "hello");
	assert_int_equal(resp->blob.len, 3);
	assert_memory_equal(resp->blob.data, blob, 3);
	corpc_status status;
	assert_int_equal(corpc_stream_finish(st, &status), CORPC_STATUS_OK);
	assert_string_equal(status.message, "");
	corpc_stream_destroy(st);
	wait_handlers_done();
}

static void
test_unary_metadata_both_ways(void **state)
{
	(void) state;
	corpc_metadata *md;
	assert_int_equal(corpc_metadata_create(&md), CORPC_OK);
	assert_int_equal(
	    corpc_metadata_add_str(md, "x-user", "alice"), CORPC_OK);
	uint8_t bin[4] = {0, 0xff, 10, 13};
	assert_int_equal(
	    corpc_metadata_add(md, "x-raw-bin", bin, 4), CORPC_OK);
	corpc_call_opts opts = {.metadata = md};
	Req             req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "md";
	req.echo_metadata    = true;
	const Resp   *resp;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, &opts, &req, &resp, &st),
	    CORPC_STATUS_OK);
	corpc_metadata_destroy(
	    md); // copied at open: the call must not need it
	const corpc_metadata *hdr;
	assert_int_equal(corpc_stream_headers(st, &hdr), CORPC_STATUS_OK);
	const corpc_metadata_entry *e = corpc_metadata_get(hdr, "h-x-user");
	assert_non_null(e);
	assert_string_equal(e->value, "alice");
	e = corpc_metadata_get(hdr, "h-x-raw-bin");
	assert_non_null(e);
	assert_int_equal(e->value_len, 4);
	assert_memory_equal(e->value, bin, 4);
	const corpc_metadata *tr = corpc_stream_trailers(st);
	e                        = corpc_metadata_get(tr, "t-x-user");
	assert_non_null(e);
	assert_string_equal(e->value, "alice");
	assert_non_null(corpc_metadata_get(tr, "t-x-raw-bin"));
	assert_null(corpc_metadata_get(tr, "h-x-user"));
	corpc_stream_destroy(st);
}

static void
test_unary_error_statuses(void **state)
{
	(void) state;
	for (int code = 1; code < CORPC_STATUS_COUNT; code++) {
		char msg[64];
		snprintf(
		    msg, sizeof(msg), "failure %s", corpc_status_name(code));
		Req req                = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text               = "x";
		req.fail_code          = code;
		req.fail_message       = msg;
		const Resp       *resp = (const Resp *) &req; // must be reset
		corpc_stream     *st;
		corpc_status_code rc =
		    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st);
		assert_int_equal(rc, code);
		assert_null(resp);
		corpc_status status;
		assert_int_equal(corpc_stream_finish(st, &status), code);
		assert_string_equal(status.message, msg);
		corpc_stream_destroy(st);
	}
}

// Rich error details (google.rpc.Status bytes, NULs included) come back
// byte for byte, and a status message is text, not a format.
static void
test_rich_error_details(void **state)
{
	(void) state;
	// A google.rpc.Status{code: 5, message: "gone", details: []} and a
	// NUL.
	static const unsigned char details[] = {
	    0x08, 0x05, 0x12, 0x04, 'g', 'o', 'n', 'e', 0x00};
	Req req               = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text              = "x";
	req.fail_code         = CORPC_STATUS_NOT_FOUND;
	req.fail_message      = "100% gone %s %n";
	req.fail_details.data = (uint8_t *) details;
	req.fail_details.len  = sizeof(details);
	const Resp   *resp;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_NOT_FOUND);
	corpc_status status;
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_NOT_FOUND);
	assert_string_equal(status.message, "100% gone %s %n");
	const void *got;
	size_t      len;
	assert_true(corpc_stream_status_details(st, &got, &len));
	assert_int_equal(len, sizeof(details));
	assert_memory_equal(got, details, sizeof(details));
	corpc_stream_destroy(st);

	// Without details there are none.
	req.fail_details.len = 0;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_NOT_FOUND);
	corpc_stream_finish(st, &status);
	assert_false(corpc_stream_status_details(st, &got, &len));
	corpc_stream_destroy(st);
}

static void
test_unary_rules(void **state)
{
	(void) state;
	const char *cases[] = {"twice", "noreply"};
	for (size_t i = 0; i < 2; i++) {
		Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text = (char *) cases[i];
		const Resp   *resp;
		corpc_stream *st;
		assert_int_equal(
		    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
		    CORPC_STATUS_INTERNAL);
		assert_null(resp);
		corpc_status status;
		corpc_stream_finish(st, &status);
		assert_non_null(strstr(status.message, "Unary"));
		corpc_stream_destroy(st);
	}
}

static void
test_unknown_method(void **state)
{
	(void) state;
	corpc_method bogus          = corpc__test__echo__unary__method;
	bogus.path                  = "/corpc.test.Echo/Nope";
	Req                     req = CORPC__TEST__ECHO_REQUEST__INIT;
	const ProtobufCMessage *resp;
	corpc_stream           *st;
	assert_int_equal(
	    corpc_unary_call(ch, &bogus, NULL, &req.base, &resp, &st),
	    CORPC_STATUS_UNIMPLEMENTED);
	corpc_status status;
	corpc_stream_finish(st, &status);
	assert_non_null(strstr(status.message, "Nope"));
	corpc_stream_destroy(st);
}

static void
test_invalid_arguments(void **state)
{
	(void) state;
	Req           req   = CORPC__TEST__ECHO_REQUEST__INIT;
	Resp          wrong = CORPC__TEST__ECHO_RESPONSE__INIT;
	corpc_stream *st    = (corpc_stream *) &req;
	// A request for a client-streaming method, none for a unary one, a
	// message of the wrong type: refused before anything is sent.
	assert_int_equal(
	    corpc_stream_open(ch, &corpc__test__echo__client_stream__method,
	        NULL, &req.base, &st),
	    CORPC_EINVAL);
	assert_null(st);
	assert_int_equal(
	    corpc_stream_open(
	        ch, &corpc__test__echo__unary__method, NULL, NULL, &st),
	    CORPC_EINVAL);
	assert_int_equal(
	    corpc_stream_open(
	        ch, &corpc__test__echo__unary__method, NULL, &wrong.base, &st),
	    CORPC_EINVAL);
	assert_int_equal(
	    corpc_stream_open(
	        NULL, &corpc__test__echo__unary__method, NULL, &req.base, &st),
	    CORPC_EINVAL);
}

static void
test_nested_call(void **state)
{
	(void) state;
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "nested";
	req.count = 3;
	const Resp   *resp;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_OK);
	assert_string_equal(resp->text, "inner0;inner1;inner2;");
	corpc_stream_destroy(st);
}

static void
test_nested_call_deadline_and_cancel(void **state)
{
	(void) state;
	// The outer call's deadline ends the inner call too: its handler (on
	// the inner server) sees it, stops and cleans up.
	echo_stats_reset(&inner_es.stats);
	Req req              = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "nested";
	req.count            = 1000000;
	req.delay_ms         = 5;
	corpc_call_opts opts = {.timeout_ms = 200};
	const Resp     *resp;
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, &opts, &req, &resp, &st),
	    CORPC_STATUS_DEADLINE_EXCEEDED);
	corpc_stream_destroy(st);
	for (int i = 0; i < 5000 && atomic_load(&inner_es.stats.finished) < 1;
	     i++) {
		corpc_sleep_ms(1);
	}
	assert_int_equal(atomic_load(&inner_es.stats.finished), 1);
	assert_int_equal(atomic_load(&inner_es.stats.saw_deadline), 1);
	assert_int_equal(atomic_load(&inner_es.stats.saw_cancel), 1);
	wait_handlers_done();
}

// ---- calls from tasks
// ----------------------------------------------------------

typedef struct streamer {
	atomic_int *started_seen; // es.stats.started at the first message
	corpc_status_code code;
	int               n;
} streamer;

static void
stream_slowly(void *arg)
{
	streamer *s   = arg;
	Req       req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text      = "slow";
	req.count     = 3;
	req.delay_ms  = 100;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	const Resp *r;
	while ((s->code = corpc__test__echo__server_stream_recv(st, &r)) ==
	           CORPC_STATUS_OK &&
	       r != NULL) {
		if (s->n++ == 0) {
			atomic_store(
			    s->started_seen, atomic_load(&es.stats.started));
		}
	}
	corpc_stream_destroy(st);
}

typedef struct two_streams {
	corpc_runtime *rt;
	atomic_int     seen[2];
	streamer       s[2];
} two_streams;

static void
spawn_two(void *arg)
{
	two_streams *t = arg;
	corpc_task  *k[2];
	for (int i = 0; i < 2; i++) {
		t->s[i].started_seen = &t->seen[i];
		assert_int_equal(
		    corpc_task_spawn(t->rt, stream_slowly, &t->s[i], &k[i]),
		    CORPC_OK);
	}
	for (int i = 0; i < 2; i++) {
		corpc_task_join(k[i]);
	}
}

static void
test_calls_from_tasks_suspend(void **state)
{
	(void) state;
	// Two tasks on one client thread, each reading a slow stream: each
	// saw both handlers started by its first message, so neither call held
	// the thread while it waited (on coroutine handoff the handler's own
	// sleep suspends the client's task).
	two_streams        t  = {0};
	corpc_runtime_opts ro = {.threads = 1};
	assert_int_equal(corpc_runtime_create(&ro, &t.rt), CORPC_OK);
	corpc_task *k;
	assert_int_equal(corpc_task_spawn(t.rt, spawn_two, &t, &k), CORPC_OK);
	corpc_task_join(k);
	corpc_runtime_destroy(t.rt);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(t.s[i].code, CORPC_STATUS_OK);
		assert_int_equal(t.s[i].n, 3);
		assert_int_equal(atomic_load(&t.seen[i]), 2);
	}
	wait_handlers_done();
}

static void
test_handler_sees_deadline(void **state)
{
	(void) state;
	Req req              = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "dl";
	corpc_call_opts opts = {.timeout_ms = 60000};
	const Resp     *resp;
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, &opts, &req, &resp, &st),
	    CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	assert_int_equal(atomic_load(&es.stats.saw_deadline), 1);
	atomic_store(&es.stats.saw_deadline, 0);
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	assert_int_equal(atomic_load(&es.stats.saw_deadline), 0);
}

static void
test_unary_deadline(void **state)
{
	(void) state;
	Req req              = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "slow";
	req.delay_ms         = 300;
	corpc_call_opts opts = {.timeout_ms = 50};
	const Resp     *resp;
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, &opts, &req, &resp, &st),
	    CORPC_STATUS_DEADLINE_EXCEEDED);
	assert_null(resp);
	corpc_stream_destroy(st);
	wait_handlers_done();
}

// ---- server streaming
// ----------------------------------------------------------

static void
expect_stream(int count)
{
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "s";
	req.count = count;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	const Resp       *r;
	int               n = 0;
	corpc_status_code rc;
	while ((rc = corpc__test__echo__server_stream_recv(st, &r)) ==
	           CORPC_STATUS_OK &&
	       r != NULL) {
		assert_int_equal(r->index, n);
		assert_string_equal(r->text, "s");
		n++;
	}
	assert_int_equal(rc, CORPC_STATUS_OK);
	assert_null(r);
	assert_int_equal(n, count);
	// Reading past the end keeps reporting the end.
	assert_int_equal(
	    corpc__test__echo__server_stream_recv(st, &r), CORPC_STATUS_OK);
	assert_null(r);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
}

static void
test_server_stream_0(void **state)
{
	(void) state;
	expect_stream(0);
}

static void
test_server_stream_1(void **state)
{
	(void) state;
	expect_stream(1);
}

static void
test_server_stream_10000(void **state)
{
	(void) state;
	expect_stream(10000);
	wait_handlers_done();
}

static void
test_headers_then_messages_then_trailers(void **state)
{
	(void) state;
	corpc_metadata *md   = x_k_metadata();
	corpc_call_opts opts = {.metadata = md};
	Req             req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "h";
	req.count            = 2;
	req.echo_metadata    = true;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, &opts, &req, &st),
	    CORPC_OK);
	corpc_metadata_destroy(md);
	const corpc_metadata *hdr;
	assert_int_equal(corpc_stream_headers(st, &hdr), CORPC_STATUS_OK);
	assert_non_null(corpc_metadata_get(hdr, "h-x-k"));
	// Trailers only come with the end.
	assert_null(corpc_metadata_get(corpc_stream_trailers(st), "t-x-k"));
	const Resp *r;
	assert_int_equal(
	    corpc__test__echo__server_stream_recv(st, &r), CORPC_STATUS_OK);
	assert_non_null(r);
	assert_int_equal(
	    corpc__test__echo__server_stream_recv(st, &r), CORPC_STATUS_OK);
	assert_non_null(r);
	assert_int_equal(
	    corpc__test__echo__server_stream_recv(st, &r), CORPC_STATUS_OK);
	assert_null(r);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	assert_x_k_trailer(st);
	corpc_stream_destroy(st);
	// A header set after the first message is refused on the server.
	wait_handlers_done();
	assert_int_equal(atomic_load(&es.stats.header_late), 1);
}

static void
test_error_mid_stream(void **state)
{
	(void) state;
	Req req          = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text         = "e";
	req.fail_after   = 3;
	req.fail_code    = CORPC_STATUS_NOT_FOUND;
	req.fail_message = "gone";
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	const Resp       *r;
	int               n = 0;
	corpc_status_code rc;
	while ((rc = corpc__test__echo__server_stream_recv(st, &r)) ==
	           CORPC_STATUS_OK &&
	       r != NULL) {
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(rc, CORPC_STATUS_NOT_FOUND); // never a clean end
	corpc_status status;
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_NOT_FOUND);
	assert_string_equal(status.message, "gone");
	corpc_stream_destroy(st);
}

static void
test_deadline_mid_stream(void **state)
{
	(void) state;
	Req req              = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "d";
	req.count            = 1000;
	req.delay_ms         = 10;
	corpc_call_opts opts = {.timeout_ms = 150};
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, &opts, &req, &st),
	    CORPC_OK);
	const Resp       *r;
	int               n = 0;
	corpc_status_code rc;
	while ((rc = corpc__test__echo__server_stream_recv(st, &r)) ==
	           CORPC_STATUS_OK &&
	       r != NULL) {
		n++;
	}
	assert_int_equal(rc, CORPC_STATUS_DEADLINE_EXCEEDED);
	assert_true(n > 0 && n < 1000);
	assert_int_equal(
	    corpc_stream_finish(st, NULL), CORPC_STATUS_DEADLINE_EXCEEDED);
	corpc_stream_destroy(st);
	wait_handlers_done();
	int last = atomic_load(&es.stats.last_send);
	assert_true(last == CORPC_STATUS_DEADLINE_EXCEEDED ||
	            last == CORPC_STATUS_CANCELLED);
}

static void
early_stop(bool destroy_only)
{
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "many";
	req.count = 1000000;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	const Resp *r;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(corpc__test__echo__server_stream_recv(st, &r),
		    CORPC_STATUS_OK);
		assert_non_null(r);
		assert_int_equal(r->index, i);
	}
	if (!destroy_only) {
		corpc_status status;
		assert_int_equal(
		    corpc_stream_finish(st, &status), CORPC_STATUS_CANCELLED);
		// After finish, recv reports the same end, never a clean one.
		assert_int_equal(corpc__test__echo__server_stream_recv(st, &r),
		    CORPC_STATUS_CANCELLED);
		assert_null(r);
	}
	corpc_stream_destroy(st);
	wait_handlers_done();
	assert_int_equal(
	    atomic_load(&es.stats.last_send), CORPC_STATUS_CANCELLED);
	assert_int_equal(atomic_load(&es.stats.live), 0);
}

static void
test_early_stop_finish(void **state)
{
	(void) state;
	early_stop(false);
}

static void
test_early_stop_destroy(void **state)
{
	(void) state;
	early_stop(true);
}

static void *
cancel_later(void *arg)
{
	struct timespec ts = {0, 50 * 1000000};
	nanosleep(&ts, NULL);
	corpc_stream_cancel(arg);
	return NULL;
}

static void
test_cancel_from_another_thread(void **state)
{
	(void) state;
	Req req      = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text     = "c";
	req.count    = 100000;
	req.delay_ms = 1;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	pthread_t t;
	pthread_create(&t, NULL, cancel_later, st);
	const Resp       *r;
	corpc_status_code rc;
	int               n = 0;
	while ((rc = corpc__test__echo__server_stream_recv(st, &r)) ==
	           CORPC_STATUS_OK &&
	       r != NULL) {
		n++;
	}
	pthread_join(t, NULL);
	assert_int_equal(rc, CORPC_STATUS_CANCELLED);
	assert_true(n < 100000);
	assert_int_equal(
	    corpc_stream_finish(st, NULL), CORPC_STATUS_CANCELLED);
	corpc_stream_destroy(st);
	wait_handlers_done();
}

static void
test_1000_concurrent_streams(void **state)
{
	(void) state;
	enum { N = 1000, M = 3 };
	corpc_stream **st  = calloc(N, sizeof(*st));
	Req            req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text           = "c";
	req.count          = M;
	for (int i = 0; i < N; i++) {
		assert_int_equal(corpc__test__echo__server_stream_open(
		                     ch, NULL, &req, &st[i]),
		    CORPC_OK);
	}
	// Round-robin: every stream is open and mid-way at once.
	for (int k = 0; k <= M; k++) {
		for (int i = 0; i < N; i++) {
			const Resp *r;
			assert_int_equal(
			    corpc__test__echo__server_stream_recv(st[i], &r),
			    CORPC_STATUS_OK);
			if (k < M) {
				assert_non_null(r);
				assert_int_equal(r->index, k);
			} else {
				assert_null(r);
			}
		}
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(
		    corpc_stream_finish(st[i], NULL), CORPC_STATUS_OK);
		corpc_stream_destroy(st[i]);
	}
	free(st);
	wait_handlers_done();
}

static void *
thread_worker(void *arg)
{
	long failures = 0;
	(void) arg;
	for (int i = 0; i < 50; i++) {
		Req  req = CORPC__TEST__ECHO_REQUEST__INIT;
		char text[32];
		snprintf(text, sizeof(text), "t%d", i);
		req.text  = text;
		req.count = 20;
		const Resp   *resp;
		corpc_stream *st;
		if (corpc__test__echo__unary_call(
		        ch, NULL, &req, &resp, &st) != CORPC_STATUS_OK ||
		    strcmp(resp->text, text) != 0) {
			failures++;
		}
		corpc_stream_destroy(st);
		if (corpc__test__echo__server_stream_open(
		        ch, NULL, &req, &st) != CORPC_OK) {
			failures++;
			continue;
		}
		int n = 0;
		while (corpc__test__echo__server_stream_recv(st, &resp) ==
		           CORPC_STATUS_OK &&
		       resp != NULL) {
			failures += resp->index != n++;
		}
		failures += n != 20;
		failures += corpc_stream_finish(st, NULL) != CORPC_STATUS_OK;
		corpc_stream_destroy(st);
	}
	return (void *) failures;
}

static void
test_streams_from_several_threads(void **state)
{
	(void) state;
	enum { T = 4 };
	pthread_t threads[T];
	for (int i = 0; i < T; i++) {
		pthread_create(&threads[i], NULL, thread_worker, NULL);
	}
	for (int i = 0; i < T; i++) {
		void *failures;
		pthread_join(threads[i], &failures);
		assert_int_equal((long) failures, 0);
	}
	wait_handlers_done();
}

// ---- client streaming and bidi
// ---------------------------------------------------

static void
test_client_stream(void **state)
{
	(void) state;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__client_stream_open(ch, NULL, &st), CORPC_OK);
	const char *parts[] = {"a", "b", "c", "d", "e"};
	for (int i = 0; i < 5; i++) {
		// One request object, reused at once: send must not keep it.
		char buf[8];
		snprintf(buf, sizeof(buf), "%s", parts[i]);
		Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text = buf;
		assert_int_equal(
		    corpc__test__echo__client_stream_send(st, &req, 0),
		    CORPC_STATUS_OK);
		memset(buf, 'X', sizeof(buf) - 1);
	}
	const Resp *r;
	assert_int_equal(
	    corpc__test__echo__client_stream_close_and_recv(st, &r),
	    CORPC_STATUS_OK);
	assert_non_null(r);
	assert_string_equal(r->text, "abcde");
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	wait_handlers_done();
	assert_int_equal(atomic_load(&es.stats.received), 5);
}

static void
test_client_stream_server_finishes_early(void **state)
{
	(void) state;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__client_stream_open(ch, NULL, &st), CORPC_OK);
	Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text = "a";
	assert_int_equal(corpc__test__echo__client_stream_send(st, &req, 0),
	    CORPC_STATUS_OK);
	req.fail_code = CORPC_STATUS_ABORTED;
	corpc__test__echo__client_stream_send(st, &req, 0);
	req.fail_code = 0;
	// The server has finished; more sends may be dropped or refused, but
	// must not hang or crash, and never report the call as fine.
	for (int i = 0; i < 20; i++) {
		if (corpc__test__echo__client_stream_send(st, &req, 0) !=
		    CORPC_STATUS_OK) {
			break;
		}
	}
	const Resp *r;
	assert_int_equal(
	    corpc__test__echo__client_stream_close_and_recv(st, &r),
	    CORPC_STATUS_ABORTED);
	assert_null(r);
	corpc_status status;
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_ABORTED);
	assert_string_equal(status.message, "stopped early");
	corpc_stream_destroy(st);
	wait_handlers_done();
}

static void
test_bidi_ping_pong(void **state)
{
	(void) state;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__bidi_open(ch, NULL, &st), CORPC_OK);
	for (int i = 0; i < 10; i++) {
		char text[16];
		snprintf(text, sizeof(text), "p%d", i);
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
	assert_int_equal(corpc_stream_close_send(st), CORPC_STATUS_OK);
	const Resp *r;
	assert_int_equal(
	    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
	assert_null(r);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	wait_handlers_done();
}

static void
test_bidi_server_sends_first_and_half_close(void **state)
{
	(void) state;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__bidi_open(ch, NULL, &st), CORPC_OK);
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "one";
	req.count = 2; // two greetings before the echo of "one"
	assert_int_equal(
	    corpc__test__echo__bidi_send(st, &req, 0), CORPC_STATUS_OK);
	req.count = 0;
	req.text  = "two";
	assert_int_equal(
	    corpc__test__echo__bidi_send(st, &req, 0), CORPC_STATUS_OK);
	assert_int_equal(corpc_stream_close_send(st), CORPC_STATUS_OK);
	const char *want[] = {"greeting", "greeting", "one", "two"};
	const Resp *r;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(
		    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
		assert_non_null(r);
		assert_string_equal(r->text, want[i]);
		assert_int_equal(r->index, i);
	}
	assert_int_equal(
	    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
	assert_null(r);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	wait_handlers_done();
}

static void
test_bidi_early_stop(void **state)
{
	(void) state;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__bidi_open(ch, NULL, &st), CORPC_OK);
	Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text = "x";
	assert_int_equal(
	    corpc__test__echo__bidi_send(st, &req, 0), CORPC_STATUS_OK);
	const Resp *r;
	assert_int_equal(
	    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
	assert_non_null(r);
	assert_int_equal(
	    corpc_stream_finish(st, NULL), CORPC_STATUS_CANCELLED);
	corpc_stream_destroy(st);
	wait_handlers_done();
	assert_int_equal(atomic_load(&es.stats.live), 0);
}

// ---- push-style receive (corpc_stream_recv_each)
// ----------------------------------

// What a push callback saw.
typedef struct pushed {
	corpc_stream *st;
	int           n;        // messages received
	int           stop_at;  // return false at this count; 0: never
	bool          bad;      // a message out of order or unexpected
	bool          headers;  // headers were ready at the first message
	bool          trailers; // trailers were there already (they must not)
	bool          cancel;   // cancel the stream from the callback at 3
	const char   *text;     // expected text; NULL: any
} pushed;

static bool
on_resp(void *arg, const Resp *r)
{
	pushed *p = arg;
	if (p->n == 0) {
		const corpc_metadata *md = NULL;
		p->headers =
		    corpc_stream_headers(p->st, &md) == CORPC_STATUS_OK &&
		    corpc_metadata_get(md, "h-x-k") != NULL;
		p->trailers = corpc_metadata_get(corpc_stream_trailers(p->st),
		                  "t-x-k") != NULL;
	}
	if (r == NULL || r->index != p->n ||
	    (p->text != NULL && strcmp(r->text, p->text) != 0)) {
		p->bad = true;
	}
	p->n++;
	if (p->cancel && p->n == 3) {
		corpc_stream_cancel(p->st);
	}
	return p->stop_at == 0 || p->n < p->stop_at;
}

// Opens ServerStream with `req` (and `opts`) and pushes into *p; returns
// the code recv_each gave. The stream stays in p->st.
static corpc_status_code
push_stream(const corpc_call_opts *opts, const Req *req, pushed *p)
{
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, opts, req, &p->st),
	    CORPC_OK);
	return corpc__test__echo__server_stream_recv_each(p->st, on_resp, p);
}

static void
test_push_headers_messages_trailers(void **state)
{
	(void) state;
	corpc_metadata *md   = x_k_metadata();
	corpc_call_opts opts = {.metadata = md};
	Req             req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "p";
	req.count            = 100;
	req.echo_metadata    = true;
	pushed p             = {.text = "p"};
	assert_int_equal(push_stream(&opts, &req, &p), CORPC_STATUS_OK);
	corpc_metadata_destroy(md);
	assert_int_equal(p.n, 100);
	assert_false(p.bad);
	assert_true(p.headers);   // before the first message
	assert_false(p.trailers); // only after the last
	assert_x_k_trailer(p.st);
	// The call is finished: again gives the same code, no callback.
	assert_int_equal(
	    corpc__test__echo__server_stream_recv_each(p.st, on_resp, &p),
	    CORPC_STATUS_OK);
	assert_int_equal(p.n, 100);
	assert_int_equal(corpc_stream_finish(p.st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(p.st);
	wait_handlers_done();
}

static void
test_push_no_messages_and_arguments(void **state)
{
	(void) state;
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "z";
	req.count = 0;
	pushed p  = {0};
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &p.st),
	    CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__server_stream_recv_each(p.st, NULL, &p),
	    CORPC_STATUS_INVALID_ARGUMENT);
	assert_int_equal(corpc_stream_recv_each(NULL, NULL, NULL),
	    CORPC_STATUS_INVALID_ARGUMENT);
	assert_int_equal(
	    corpc__test__echo__server_stream_recv_each(p.st, on_resp, &p),
	    CORPC_STATUS_OK);
	assert_int_equal(p.n, 0);
	corpc_stream_destroy(p.st);
	wait_handlers_done();
}

static void
test_push_status(void **state)
{
	(void) state;
	Req req          = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text         = "e";
	req.fail_after   = 3;
	req.fail_code    = CORPC_STATUS_NOT_FOUND;
	req.fail_message = "gone";
	pushed p         = {0};
	assert_int_equal(push_stream(NULL, &req, &p), CORPC_STATUS_NOT_FOUND);
	assert_int_equal(p.n, 3);
	corpc_status status;
	assert_int_equal(
	    corpc_stream_finish(p.st, &status), CORPC_STATUS_NOT_FOUND);
	assert_string_equal(status.message, "gone");
	corpc_stream_destroy(p.st);
	wait_handlers_done();
}

static void
test_push_early_stop(void **state)
{
	(void) state;
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "many";
	req.count = 1000000;
	pushed p  = {.stop_at = 5};
	assert_int_equal(push_stream(NULL, &req, &p), CORPC_STATUS_CANCELLED);
	assert_int_equal(p.n, 5); // no callback after it said stop
	assert_false(p.bad);
	corpc_status status;
	assert_int_equal(
	    corpc_stream_finish(p.st, &status), CORPC_STATUS_CANCELLED);
	assert_string_equal(status.message, "stopped by the receive callback");
	corpc_stream_destroy(p.st);
	wait_handlers_done();
	assert_int_equal(
	    atomic_load(&es.stats.last_send), CORPC_STATUS_CANCELLED);
	assert_int_equal(atomic_load(&es.stats.live), 0);
}

static void
test_push_deadline(void **state)
{
	(void) state;
	Req req              = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "d";
	req.count            = 1000;
	req.delay_ms         = 10;
	corpc_call_opts opts = {.timeout_ms = 150};
	pushed          p    = {0};
	assert_int_equal(
	    push_stream(&opts, &req, &p), CORPC_STATUS_DEADLINE_EXCEEDED);
	assert_true(p.n > 0 && p.n < 1000);
	corpc_stream_destroy(p.st);
	wait_handlers_done();
}

static void
test_push_cancel(void **state)
{
	(void) state;
	// From another thread, while the callbacks run.
	Req req      = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text     = "c";
	req.count    = 100000;
	req.delay_ms = 1;
	pushed p     = {0};
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &p.st),
	    CORPC_OK);
	pthread_t t;
	pthread_create(&t, NULL, cancel_later, p.st);
	assert_int_equal(
	    corpc__test__echo__server_stream_recv_each(p.st, on_resp, &p),
	    CORPC_STATUS_CANCELLED);
	pthread_join(t, NULL);
	assert_true(p.n < 100000);
	corpc_stream_destroy(p.st);
	wait_handlers_done();
	// From inside the callback.
	req.delay_ms = 0;
	pushed q     = {.cancel = true};
	assert_int_equal(push_stream(NULL, &req, &q), CORPC_STATUS_CANCELLED);
	assert_true(q.n >= 3 && q.n < 100000);
	corpc_stream_destroy(q.st);
	wait_handlers_done();
	assert_int_equal(atomic_load(&es.stats.live), 0);
}

static void
test_push_bidi(void **state)
{
	(void) state;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__bidi_open(ch, NULL, &st), CORPC_OK);
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "b";
	req.count = 2; // two greetings first
	assert_int_equal(
	    corpc__test__echo__bidi_send(st, &req, 0), CORPC_STATUS_OK);
	req.count = 0;
	assert_int_equal(
	    corpc__test__echo__bidi_send(st, &req, 0), CORPC_STATUS_OK);
	assert_int_equal(corpc_stream_close_send(st), CORPC_STATUS_OK);
	pushed p = {.st = st};
	assert_int_equal(corpc__test__echo__bidi_recv_each(st, on_resp, &p),
	    CORPC_STATUS_OK);
	assert_int_equal(p.n, 4); // greeting, greeting, b, b
	assert_false(p.bad);
	corpc_stream_destroy(st);
	wait_handlers_done();
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		    "usage: %s LISTEN INNER_LISTEN [DIAL_SUFFIX]\n", argv[0]);
		return 2;
	}
	listen_addr       = argv[1];
	inner_listen_addr = argv[2];
	if (argc > 3) {
		dial_suffix = argv[3];
	}
	const char *tls_dir = getenv("CORPC_TEST_TLS_DIR");
	if (tls_dir != NULL && tls_dir[0] != '\0') {
		test_certs_load(&pem, tls_dir);
		server_tls =
		    (corpc_tls_server) {.cert_chain_pem = pem.server_crt,
		        .private_key_pem                = pem.server_key,
		        .client_roots_pem               = pem.ca,
		        .require_client_cert            = true};
		client_tls      = (corpc_tls_client) {.root_certs_pem = pem.ca,
		         .cert_chain_pem  = pem.client_crt,
		         .private_key_pem = pem.client_key};
		server_opts.tls = &server_tls;
		channel_opts.tls = &client_tls;
	}
#define T(name) cmocka_unit_test_setup(name, test_setup)
	const struct CMUnitTest tests[] = {
	    T(test_unary_echo),
	    T(test_unary_metadata_both_ways),
	    T(test_unary_error_statuses),
	    T(test_rich_error_details),
	    T(test_unary_rules),
	    T(test_unknown_method),
	    T(test_invalid_arguments),
	    T(test_nested_call),
	    T(test_nested_call_deadline_and_cancel),
	    T(test_calls_from_tasks_suspend),
	    T(test_handler_sees_deadline),
	    T(test_unary_deadline),
	    T(test_server_stream_0),
	    T(test_server_stream_1),
	    T(test_server_stream_10000),
	    T(test_headers_then_messages_then_trailers),
	    T(test_error_mid_stream),
	    T(test_deadline_mid_stream),
	    T(test_early_stop_finish),
	    T(test_early_stop_destroy),
	    T(test_cancel_from_another_thread),
	    T(test_1000_concurrent_streams),
	    T(test_streams_from_several_threads),
	    T(test_client_stream),
	    T(test_client_stream_server_finishes_early),
	    T(test_bidi_ping_pong),
	    T(test_bidi_server_sends_first_and_half_close),
	    T(test_bidi_early_stop),
	    T(test_push_headers_messages_trailers),
	    T(test_push_no_messages_and_arguments),
	    T(test_push_status),
	    T(test_push_early_stop),
	    T(test_push_deadline),
	    T(test_push_cancel),
	    T(test_push_bidi),
	};
#undef T
	int rc = cmocka_run_group_tests_name(
	    listen_addr, tests, suite_setup, suite_teardown);
	if (server_opts.tls != NULL) {
		test_certs_free(&pem);
	}
	return rc;
}
