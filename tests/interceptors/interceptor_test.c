// SPDX-License-Identifier: MIT
// Interceptors and bearer credentials, the same on every transport. Run per
// transport like the conformance suite:
//   interceptor_test LISTEN_ADDR [DIAL_SUFFIX]
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "echo_service.h"

typedef Corpc__Test__EchoRequest  Req;
typedef Corpc__Test__EchoResponse Resp;

static const char *listen_addr;
static const char *dial_suffix = "";

// ---- a recording interceptor
// --------------------------------------------------

// What one interceptor saw; the log is shared to check the chain's order.
typedef struct recorder {
	const char     *name;
	pthread_mutex_t mu;
	char           *log; // shared
	int             out, in, starts, finishes;
	int             last_code;
	int64_t         deadline;
	const char     *refuse; // refuse calls to a method with this name
	bool            add_md;
} recorder;

static char client_log[1024], server_log[1024];

static void
note(recorder *r, const char *what)
{
	pthread_mutex_lock(&r->mu);
	size_t n = strlen(r->log);
	snprintf(r->log + n, 1024 - n, "%s.%s ", r->name, what);
	pthread_mutex_unlock(&r->mu);
}

static corpc_status_code
rec_start(void *self, corpc_call *call)
{
	recorder *r = self;
	note(r, "start");
	r->starts++;
	r->deadline = corpc_call_deadline(call);
	corpc_call_set_state(call, r); // read back in finish
	if (r->add_md) {
		corpc_metadata_add_str(
		    corpc_call_metadata(call), "x-added", r->name);
	}
	if (r->refuse &&
	    strcmp(corpc_call_method(call)->name, r->refuse) == 0) {
		return corpc_call_refuse(call, CORPC_STATUS_PERMISSION_DENIED,
		    "%s says no", r->name);
	}
	return CORPC_STATUS_OK;
}

static void
rec_message(
    void *self, corpc_call *call, bool outbound, const ProtobufCMessage *msg)
{
	recorder *r = self;
	(void) call;
	assert_non_null(msg);
	pthread_mutex_lock(&r->mu);
	if (outbound) {
		r->out++;
	} else {
		r->in++;
	}
	pthread_mutex_unlock(&r->mu);
}

static void
rec_finish(
    void *self, corpc_call *call, corpc_status_code code, const char *message)
{
	recorder *r = self;
	assert_ptr_equal(corpc_call_state(call), r);
	assert_non_null(message);
	r->last_code = code;
	r->finishes++;
	note(r, "finish");
}

static recorder ca = {.name = "A", .log = client_log};
static recorder cb = {.name = "B", .log = client_log};
static recorder sa = {.name = "S1", .log = server_log};
static recorder sb = {.name = "S2", .log = server_log};

static corpc_interceptor client_chain[2];
static corpc_interceptor server_chain[3];

static bool
token_ok(void *arg, const corpc_method *m, const char *token)
{
	(void) arg;
	(void) m;
	// "good", or a 4 KiB token starting with it (JWTs run to kilobytes).
	return strcmp(token, "good") == 0 ||
	       (strlen(token) == 4096 && strncmp(token, "good", 4) == 0);
}

static const corpc_bearer_check checker = {.check = token_ok};

static corpc_server *srv;
static echo_server   es;

static void
reset(void)
{
	recorder *all[] = {&ca, &cb, &sa, &sb};
	for (int i = 0; i < 4; i++) {
		all[i]->out = all[i]->in = all[i]->starts = all[i]->finishes =
		    0;
		all[i]->last_code = -1;
		all[i]->refuse    = NULL;
		all[i]->add_md    = false;
	}
	client_log[0] = server_log[0] = '\0';
	echo_stats_reset(&es.stats);
}

static corpc_channel *
dial(const corpc_interceptor *chain, size_t n)
{
	char               addr[512];
	corpc_channel     *ch;
	corpc_channel_opts opts = {
	    .interceptors = chain, .interceptor_count = n};
	snprintf(addr, sizeof(addr), "%s%s", corpc_server_address(srv, 0),
	    dial_suffix);
	assert_int_equal(corpc_channel_open(addr, &opts, &ch), CORPC_OK);
	return ch;
}

// Waits (bounded) for the server's finish hooks, which on network
// transports run on another thread after the client has its status.
static void
wait_server_finish(recorder *r, int n)
{
	for (int i = 0; i < 5000 && r->finishes < n; i++) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(r->finishes, n);
}

static int
setup(void **state)
{
	(void) state;
	recorder *all[] = {&ca, &cb, &sa, &sb};
	for (int i = 0; i < 4; i++) {
		pthread_mutex_init(&all[i]->mu, NULL);
	}
	client_chain[0] =
	    (corpc_interceptor) {"A", &ca, rec_start, rec_message, rec_finish};
	client_chain[1] =
	    (corpc_interceptor) {"B", &cb, rec_start, rec_message, rec_finish};
	server_chain[0] = (corpc_interceptor) {
	    "S1", &sa, rec_start, rec_message, rec_finish};
	server_chain[1] = (corpc_interceptor) {
	    "S2", &sb, rec_start, rec_message, rec_finish};
	corpc_server_opts opts = {
	    .interceptors = server_chain, .interceptor_count = 2};
	assert_int_equal(corpc_server_create(&opts, &srv), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(srv, &echo_impl, &es),
	    CORPC_OK);
	assert_int_equal(corpc_server_listen(srv, listen_addr), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	corpc_server_destroy(srv);
	return 0;
}

// ---- tests
// -------------------------------------------------------------------

static void
test_chain_order_and_counts(void **state)
{
	(void) state;
	reset();
	corpc_channel *ch  = dial(client_chain, 2);
	Req            req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text           = "s";
	req.count          = 5;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	const Resp *r;
	int         n = 0;
	while (
	    corpc__test__echo__server_stream_recv(st, &r) == CORPC_STATUS_OK &&
	    r) {
		n++;
	}
	assert_int_equal(n, 5);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	wait_server_finish(&sa, 1);
	// Client: one request out, five responses in, through both.
	assert_int_equal(ca.out, 1);
	assert_int_equal(cb.out, 1);
	assert_int_equal(ca.in, 5);
	assert_int_equal(cb.in, 5);
	assert_string_equal(client_log, "A.start B.start B.finish A.finish ");
	assert_int_equal(ca.last_code, CORPC_STATUS_OK);
	// Server: the request in, five responses out.
	assert_int_equal(sa.in, 1);
	assert_int_equal(sb.in, 1);
	assert_int_equal(sa.out, 5);
	assert_string_equal(
	    server_log, "S1.start S2.start S2.finish S1.finish ");
	corpc_channel_close(ch);
}

static void
test_all_kinds_counted(void **state)
{
	(void) state;
	reset();
	corpc_channel *ch  = dial(client_chain, 1);
	Req            req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text           = "k";
	const Resp   *r;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &r, &st),
	    CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	assert_int_equal(
	    corpc__test__echo__client_stream_open(ch, NULL, &st), CORPC_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    corpc__test__echo__client_stream_send(st, &req, 0),
		    CORPC_STATUS_OK);
	}
	assert_int_equal(
	    corpc__test__echo__client_stream_close_and_recv(st, &r),
	    CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	assert_int_equal(
	    corpc__test__echo__bidi_open(ch, NULL, &st), CORPC_OK);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(corpc__test__echo__bidi_send(st, &req, 0),
		    CORPC_STATUS_OK);
		assert_int_equal(
		    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
		assert_non_null(r);
	}
	corpc_stream_close_send(st);
	assert_int_equal(
	    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
	assert_null(r);
	corpc_stream_destroy(st);
	wait_server_finish(&sa, 3);
	// unary 1+1, client streaming 3+1, bidi 2+2.
	assert_int_equal(ca.out, 6);
	assert_int_equal(ca.in, 4);
	assert_int_equal(ca.starts, 3);
	assert_int_equal(ca.finishes, 3);
	assert_int_equal(sa.in, 6);
	assert_int_equal(sa.out, 4);
	corpc_channel_close(ch);
}

static void
test_metadata_added_and_deadline_seen(void **state)
{
	(void) state;
	reset();
	ca.add_md            = true;
	corpc_channel *ch    = dial(client_chain, 1);
	Req            req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "md";
	req.echo_metadata    = true;
	corpc_call_opts opts = {.timeout_ms = 30000};
	const Resp     *r;
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, &opts, &req, &r, &st),
	    CORPC_STATUS_OK);
	const corpc_metadata *hdr;
	corpc_stream_headers(st, &hdr);
	const corpc_metadata_entry *e = corpc_metadata_get(hdr, "h-x-added");
	assert_non_null(e);
	assert_string_equal(e->value, "A");
	corpc_stream_destroy(st);
	wait_server_finish(&sa, 1);
	assert_true(ca.deadline != CORPC_DEADLINE_NONE);
	assert_true(sa.deadline != CORPC_DEADLINE_NONE);
	corpc_channel_close(ch);
}

static void
test_client_refuses(void **state)
{
	(void) state;
	reset();
	cb.refuse          = "Unary";
	corpc_channel *ch  = dial(client_chain, 2);
	Req            req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text           = "no";
	const Resp   *r;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &r, &st),
	    CORPC_STATUS_PERMISSION_DENIED);
	corpc_status status;
	corpc_stream_finish(st, &status);
	assert_string_equal(status.message, "B says no");
	corpc_stream_destroy(st);
	// The server never saw it; A's finish ran, B (which refused) did not.
	assert_int_equal(atomic_load(&es.stats.started), 0);
	assert_int_equal(sa.starts, 0);
	assert_string_equal(client_log, "A.start B.start A.finish ");
	assert_int_equal(ca.last_code, CORPC_STATUS_PERMISSION_DENIED);
	corpc_channel_close(ch);
}

static void
test_server_refuses(void **state)
{
	(void) state;
	reset();
	sb.refuse          = "ServerStream";
	corpc_channel *ch  = dial(NULL, 0);
	Req            req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text           = "no";
	req.count          = 3;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	const Resp *r;
	assert_int_equal(corpc__test__echo__server_stream_recv(st, &r),
	    CORPC_STATUS_PERMISSION_DENIED);
	assert_null(r);
	corpc_status status;
	corpc_stream_finish(st, &status);
	assert_string_equal(status.message, "S2 says no");
	corpc_stream_destroy(st);
	wait_server_finish(&sa, 1);
	assert_int_equal(
	    atomic_load(&es.stats.started), 0); // handler never ran
	assert_string_equal(server_log, "S1.start S2.start S1.finish ");
	corpc_channel_close(ch);
}

static void
bearer_call(const char *token, corpc_status_code want, const char *want_msg)
{
	corpc_interceptor bearer = corpc_bearer_client(token);
	corpc_channel    *ch     = dial(&bearer, token != NULL ? 1 : 0);
	Req               req    = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text                 = "secret";
	const Resp   *r;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &r, &st), want);
	corpc_status status;
	corpc_stream_finish(st, &status);
	if (want_msg != NULL) {
		assert_non_null(strstr(status.message, want_msg));
	} else {
		assert_string_equal(r->text, "secret");
	}
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
}

// A call of a method the server does not have, with `token` (NULL: none).
static void
unknown_call(const char *token, corpc_status_code want, const char *want_msg)
{
	static const corpc_method nope = {
	    .path     = "/corpc.test.Echo/Nope",
	    .name     = "Nope",
	    .kind     = CORPC_RPC_UNARY,
	    .request  = &corpc__test__echo_request__descriptor,
	    .response = &corpc__test__echo_response__descriptor,
	};
	corpc_interceptor       bearer = corpc_bearer_client(token);
	corpc_channel          *ch     = dial(&bearer, token != NULL ? 1 : 0);
	Req                     req    = CORPC__TEST__ECHO_REQUEST__INIT;
	const ProtobufCMessage *r;
	corpc_stream           *st;
	assert_int_equal(
	    corpc_unary_call(ch, &nope, NULL, &req.base, &r, &st), want);
	corpc_status status;
	corpc_stream_finish(st, &status);
	assert_non_null(strstr(status.message, want_msg));
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
}

static void
test_bearer(void **state)
{
	(void) state;
	corpc_server     *s;
	echo_server       e2    = {0};
	corpc_interceptor check = corpc_bearer_server(&checker);
	corpc_server_opts opts  = {
	     .interceptors = &check, .interceptor_count = 1};
	assert_int_equal(corpc_server_create(&opts, &s), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(s, &echo_impl, &e2), CORPC_OK);
	char addr[256];
	snprintf(addr, sizeof(addr), "%s-auth", listen_addr);
	if (strncmp(listen_addr, "tcp://", 6) == 0) {
		snprintf(addr, sizeof(addr), "tcp://127.0.0.1:0");
	}
	assert_int_equal(corpc_server_listen(s, addr), CORPC_OK);
	assert_int_equal(corpc_server_start(s), CORPC_OK);
	corpc_server *saved = srv;
	srv                 = s; // dial() dials `srv`
	bearer_call("good", CORPC_STATUS_OK, NULL);
	bearer_call(
	    NULL, CORPC_STATUS_UNAUTHENTICATED, "missing bearer token");
	bearer_call("bad", CORPC_STATUS_PERMISSION_DENIED, "may not call");
	bearer_call("bad\n", CORPC_STATUS_INVALID_ARGUMENT, "printable");
	char big[4097];
	memset(big, 'x', 4096);
	memcpy(big, "good", 4);
	big[4096] = '\0';
	bearer_call(big, CORPC_STATUS_OK, NULL); // a 4 KiB token, accepted
	big[2] = '!';                            // ... and refused
	bearer_call(big, CORPC_STATUS_PERMISSION_DENIED, "may not call");
	if (strncmp(listen_addr, "inproc:", 7) != 0) {
		// No method list without credentials.
		unknown_call(NULL, CORPC_STATUS_UNAUTHENTICATED,
		    "missing bearer token");
		unknown_call(
		    "good", CORPC_STATUS_UNIMPLEMENTED, "unknown method");
	}
	srv = saved;
	corpc_server_destroy(s);
	assert_int_equal(
	    atomic_load(&e2.stats.started), 2); // only good tokens ran
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s LISTEN [DIAL_SUFFIX]\n", argv[0]);
		return 2;
	}
	listen_addr = argv[1];
	if (argc > 2) {
		dial_suffix = argv[2];
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain_order_and_counts),
	    cmocka_unit_test(test_all_kinds_counted),
	    cmocka_unit_test(test_metadata_added_and_deadline_seen),
	    cmocka_unit_test(test_client_refuses),
	    cmocka_unit_test(test_server_refuses),
	    cmocka_unit_test(test_bearer),
	};
	return cmocka_run_group_tests_name(
	    listen_addr, tests, setup, teardown);
}
