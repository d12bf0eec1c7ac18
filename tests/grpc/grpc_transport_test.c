// SPDX-License-Identifier: MIT
// Network transport tests (tcp://, unix://) beyond the conformance suite:
// bound addresses, refused connections, bytes that do not parse, message
// size limits, invalid metadata, a client killed mid-stream, a server
// restart, the worker pool and graceful shutdown.
//
// `grpc_transport_test --child ADDR` is the client that the killed-client
// test starts in another process and kills.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "echo_service.h"

extern char **environ;

typedef Corpc__Test__EchoRequest  Req;
typedef Corpc__Test__EchoResponse Resp;

static char tmpdir[64];
static char self_exe[4096]; // this program, for the killed-client child

// ---- helpers ------------------------------------------------------------

static corpc_server *
serve_opts(const char *addr, echo_server *es, const corpc_server_opts *opts)
{
	es->inner       = NULL;
	corpc_server *s = echo_serve(addr, es, opts);
	assert_non_null(s);
	return s;
}

static corpc_server *
serve(const char *addr, echo_server *es)
{
	return serve_opts(addr, es, NULL);
}

static corpc_channel *
dial_opts(const char *addr, const corpc_channel_opts *opts)
{
	corpc_channel *ch;
	assert_int_equal(corpc_channel_open(addr, opts, &ch), CORPC_OK);
	return ch;
}

static corpc_channel *
dial(corpc_server *s)
{
	return dial_opts(corpc_server_address(s, 0), NULL);
}

static int
port_of(const char *addr)
{
	const char *c = strrchr(addr, ':');
	assert_non_null(c);
	return atoi(c + 1);
}

// One unary Echo call; returns its code and copies the status message.
static corpc_status_code
echo_call(corpc_channel *ch, const Req *req, const corpc_call_opts *opts,
    char *msg, size_t msg_size)
{
	const Resp       *resp;
	corpc_stream     *st;
	corpc_status      status = {0};
	corpc_status_code code =
	    corpc__test__echo__unary_call(ch, opts, req, &resp, &st);
	if (st != NULL) {
		corpc_stream_finish(st, &status);
		if (msg != NULL) {
			snprintf(msg, msg_size, "%s", status.message);
		}
	}
	corpc_stream_destroy(st);
	return code;
}

static corpc_status_code
echo_text(corpc_channel *ch, const char *text)
{
	Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text = (char *) text;
	return echo_call(ch, &req, NULL, NULL, 0);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static int64_t
ms_since(int64_t t0)
{
	return (corpc_now() - t0) / 1000000;
}

// Waits (bounded) until every handler started has finished.
static void
wait_idle(echo_server *es)
{
	for (int i = 0; i < 10000; i++) {
		if (atomic_load(&es->stats.finished) ==
		    atomic_load(&es->stats.started)) {
			return;
		}
		sleep_ms(1);
	}
	fail_msg("handlers still running");
}

// ---- addresses ----------------------------------------------------------

static void
test_bound_addresses(void **state)
{
	(void) state;
	echo_server   es, es2;
	corpc_server *s = serve("tcp://127.0.0.1:0", &es);
	const char   *a = corpc_server_address(s, 0);
	assert_true(strncmp(a, "tcp://127.0.0.1:", 16) == 0);
	assert_true(port_of(a) > 0);

	// A taken port or a live unix socket is EADDRINUSE, not stolen.
	corpc_server *s2;
	assert_int_equal(corpc_server_create(NULL, &s2), CORPC_OK);
	assert_int_equal(corpc_server_listen(s2, a), CORPC_EADDRINUSE);
	char path[128];
	snprintf(path, sizeof(path), "unix://%s/busy.sock", tmpdir);
	corpc_server *u = serve(path, &es2);
	assert_string_equal(corpc_server_address(u, 0), path);
	assert_int_equal(corpc_server_listen(s2, path), CORPC_EADDRINUSE);
	// Unresolvable or unbindable hosts fail at listen, not later.
	assert_int_not_equal(
	    corpc_server_listen(s2, "tcp://256.1.1.1:0"), CORPC_OK);
	assert_int_not_equal(
	    corpc_server_listen(s2, "unix:///nonexistent-dir/x.sock"),
	    CORPC_OK);
	corpc_server_destroy(s2);

	// The same server answers on both, and by name and relative path.
	corpc_channel *c1 = dial(s);
	corpc_channel *c2 = dial(u);
	char           byname[64];
	snprintf(byname, sizeof(byname), "tcp://localhost:%d", port_of(a));
	corpc_channel *c3 = dial_opts(byname, NULL);
	assert_int_equal(echo_text(c1, "a"), CORPC_STATUS_OK);
	assert_int_equal(echo_text(c2, "b"), CORPC_STATUS_OK);
	assert_int_equal(echo_text(c3, "c"), CORPC_STATUS_OK);
	corpc_channel_close(c1);
	corpc_channel_close(c2);
	corpc_channel_close(c3);
	corpc_server_destroy(u);
	corpc_server_destroy(s);
}

static void
test_ipv6_and_two_listeners(void **state)
{
	(void) state;
	echo_server   es;
	corpc_server *s;
	char          path[128];
	snprintf(path, sizeof(path), "unix:%s/two.sock", tmpdir);
	assert_int_equal(corpc_server_create(NULL, &s), CORPC_OK);
	echo_stats_reset(&es.stats);
	es.inner = NULL;
	corpc__test__echo__register_server(s, &echo_impl, &es);
	assert_int_equal(
	    corpc_server_listen(s, "tcp://127.0.0.1:0"), CORPC_OK);
	assert_int_equal(corpc_server_listen(s, path), CORPC_OK);
	bool v6 = corpc_server_listen(s, "tcp://[::1]:0") == CORPC_OK;
	assert_int_equal(corpc_server_start(s), CORPC_OK);
	for (size_t i = 0; i < (v6 ? 3u : 2u); i++) {
		corpc_channel *ch =
		    dial_opts(corpc_server_address(s, i), NULL);
		assert_int_equal(echo_text(ch, "x"), CORPC_STATUS_OK);
		corpc_channel_close(ch);
	}
	assert_int_equal(atomic_load(&es.stats.started), v6 ? 3 : 2);
	corpc_server_destroy(s);
}

// ---- failures -------------------------------------------------------------

static void
test_connection_refused(void **state)
{
	(void) state;
	echo_server   es;
	corpc_server *s = serve("tcp://127.0.0.1:0", &es);
	char          addr[64];
	snprintf(addr, sizeof(addr), "%s", corpc_server_address(s, 0));
	corpc_server_destroy(s); // the port is now closed

	const char *targets[] = {addr, "unix:///nonexistent-dir/none.sock"};
	for (size_t i = 0; i < 2; i++) {
		corpc_channel *ch    = dial_opts(targets[i], NULL);
		Req            req   = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text             = "hi";
		corpc_call_opts opts = {.timeout_ms = 10000};
		int64_t         t0   = corpc_now();
		assert_int_equal(echo_call(ch, &req, &opts, NULL, 0),
		    CORPC_STATUS_UNAVAILABLE);
		assert_true(
		    ms_since(t0) < 5000); // fails fast, not at the deadline
		corpc_stream *st;
		assert_int_equal(
		    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
		    CORPC_OK);
		const Resp *r;
		assert_int_equal(corpc__test__echo__server_stream_recv(st, &r),
		    CORPC_STATUS_UNAVAILABLE);
		assert_null(r);
		corpc_stream_destroy(st);
		corpc_channel_close(ch);
	}
}

// Hand-made methods whose message types disagree with the server's, so the
// bytes on the wire cannot be parsed by the other side: Echo's request
// field 3 is an int32, the response's field 3 is bytes.
static const corpc_method bad_unary_request = {
    .path     = "/corpc.test.Echo/Unary",
    .name     = "Unary",
    .kind     = CORPC_RPC_UNARY,
    .request  = &corpc__test__echo_response__descriptor,
    .response = &corpc__test__echo_response__descriptor,
};
static const corpc_method bad_bidi_request = {
    .path     = "/corpc.test.Echo/Bidi",
    .name     = "Bidi",
    .kind     = CORPC_RPC_BIDI_STREAMING,
    .request  = &corpc__test__echo_response__descriptor,
    .response = &corpc__test__echo_response__descriptor,
};
static const corpc_method bad_unary_response = {
    .path     = "/corpc.test.Echo/Unary",
    .name     = "Unary",
    .kind     = CORPC_RPC_UNARY,
    .request  = &corpc__test__echo_request__descriptor,
    .response = &corpc__test__echo_request__descriptor,
};

// A message whose field 1 is an int32, where Echo's responses carry a
// string: a stand-in for a peer that sends what we cannot parse.
typedef struct int_msg {
	ProtobufCMessage base;
	int32_t          x;
} int_msg;
static const ProtobufCFieldDescriptor   int_msg_fields[1]  = {{
       .name   = "x",
       .id     = 1,
       .label  = PROTOBUF_C_LABEL_NONE,
       .type   = PROTOBUF_C_TYPE_INT32,
       .offset = offsetof(int_msg, x),
}};
static const unsigned                   int_msg_by_name[1] = {0};
static const ProtobufCIntRange          int_msg_ranges[2]  = {{1, 0}, {0, 1}};
static const ProtobufCMessageDescriptor int_msg_descriptor = {
    .magic                 = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    .name                  = "test.IntMsg",
    .short_name            = "IntMsg",
    .c_name                = "IntMsg",
    .package_name          = "test",
    .sizeof_message        = sizeof(int_msg),
    .n_fields              = 1,
    .fields                = int_msg_fields,
    .fields_sorted_by_name = int_msg_by_name,
    .n_field_ranges        = 1,
    .field_ranges          = int_msg_ranges,
};
static const corpc_method bad_bidi_response = {
    .path     = "/corpc.test.Echo/Bidi",
    .name     = "Bidi",
    .kind     = CORPC_RPC_BIDI_STREAMING,
    .request  = &corpc__test__echo_request__descriptor,
    .response = &int_msg_descriptor,
};

static void
test_request_does_not_parse(void **state)
{
	(void) state;
	echo_server    es;
	corpc_server  *s    = serve("tcp://127.0.0.1:0", &es);
	corpc_channel *ch   = dial(s);
	uint8_t        b[4] = {1, 2, 3, 4};
	Resp           bad  = CORPC__TEST__ECHO_RESPONSE__INIT;
	bad.blob            = (ProtobufCBinaryData) {.len = 4, .data = b};

	// Unary: INTERNAL naming the method; the handler never runs.
	const ProtobufCMessage *resp;
	corpc_stream           *st;
	corpc_status            status;
	assert_int_equal(corpc_unary_call(ch, &bad_unary_request, NULL,
	                     &bad.base, &resp, &st),
	    CORPC_STATUS_INTERNAL);
	corpc_stream_finish(st, &status);
	assert_non_null(strstr(status.message, "/corpc.test.Echo/Unary"));
	corpc_stream_destroy(st);
	assert_int_equal(atomic_load(&es.stats.started), 0);

	// Streaming: a good request, then a bad one. The client gets INTERNAL
	// naming the method; the handler's recv returns CANCELLED.
	assert_int_equal(
	    corpc_stream_open(ch, &bad_bidi_request, NULL, NULL, &st),
	    CORPC_OK);
	Resp good = CORPC__TEST__ECHO_RESPONSE__INIT;
	good.text = "ok"; // field 1 is a string on both sides
	assert_int_equal(
	    corpc_stream_send(st, &good.base, 0), CORPC_STATUS_OK);
	assert_int_equal(corpc_stream_recv(st, &resp), CORPC_STATUS_OK);
	corpc_stream_send(st, &bad.base, 0);
	while (
	    corpc_stream_recv(st, &resp) == CORPC_STATUS_OK && resp != NULL) {
	}
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_INTERNAL);
	assert_non_null(strstr(status.message, "/corpc.test.Echo/Bidi"));
	corpc_stream_destroy(st);
	wait_idle(&es);
	assert_int_equal(atomic_load(&es.stats.received), 1);

	// The server is unharmed.
	assert_int_equal(echo_text(ch, "still here"), CORPC_STATUS_OK);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

static void
test_response_does_not_parse(void **state)
{
	(void) state;
	echo_server             es;
	corpc_server           *s  = serve("tcp://127.0.0.1:0", &es);
	corpc_channel          *ch = dial(s);
	corpc_stream           *st;
	corpc_status            status;
	const ProtobufCMessage *resp;

	// Unary: Echo sends the blob back as field 3, read here as an int32.
	Req     req  = CORPC__TEST__ECHO_REQUEST__INIT;
	uint8_t b[3] = {9, 9, 9};
	req.text     = "blob";
	req.blob     = (ProtobufCBinaryData) {.len = 3, .data = b};
	assert_int_equal(corpc_unary_call(ch, &bad_unary_response, NULL,
	                     &req.base, &resp, &st),
	    CORPC_STATUS_INTERNAL);
	assert_null(resp);
	corpc_stream_finish(st, &status);
	assert_non_null(strstr(status.message, "/corpc.test.Echo/Unary"));
	corpc_stream_destroy(st);

	// Streaming: the call is failed, and the server's handler sees it
	// gone.
	assert_int_equal(
	    corpc_stream_open(ch, &bad_bidi_response, NULL, NULL, &st),
	    CORPC_OK);
	Req hi  = CORPC__TEST__ECHO_REQUEST__INIT;
	hi.text = "hi";
	assert_int_equal(corpc_stream_send(st, &hi.base, 0), CORPC_STATUS_OK);
	assert_int_equal(corpc_stream_recv(st, &resp), CORPC_STATUS_INTERNAL);
	assert_null(resp);
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_INTERNAL);
	assert_non_null(strstr(status.message, "/corpc.test.Echo/Bidi"));
	corpc_stream_destroy(st);
	wait_idle(&es);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

static void
test_unknown_service(void **state)
{
	(void) state;
	static const corpc_method nope = {
	    .path     = "/nope.Service/Call",
	    .name     = "Call",
	    .kind     = CORPC_RPC_SERVER_STREAMING,
	    .request  = &corpc__test__echo_request__descriptor,
	    .response = &corpc__test__echo_response__descriptor,
	};
	echo_server    es;
	corpc_server  *s   = serve("tcp://127.0.0.1:0", &es);
	corpc_channel *ch  = dial(s);
	Req            req = CORPC__TEST__ECHO_REQUEST__INIT;
	corpc_stream  *st;
	assert_int_equal(
	    corpc_stream_open(ch, &nope, NULL, &req.base, &st), CORPC_OK);
	const ProtobufCMessage *m;
	assert_int_equal(
	    corpc_stream_recv(st, &m), CORPC_STATUS_UNIMPLEMENTED);
	corpc_status status;
	corpc_stream_finish(st, &status);
	assert_non_null(strstr(status.message, "/nope.Service/Call"));
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

static void
test_max_message_size(void **state)
{
	(void) state;
	size_t   big = 5u << 20;
	uint8_t *b   = calloc(1, big);
	Req      req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text     = "big";
	req.blob     = (ProtobufCBinaryData) {.len = big, .data = b};
	char msg[256];

	// Defaults (4 MiB) on both sides: the client refuses to send it.
	echo_server    es;
	corpc_server  *s  = serve("tcp://127.0.0.1:0", &es);
	corpc_channel *ch = dial(s);
	assert_int_equal(echo_call(ch, &req, NULL, msg, sizeof(msg)),
	    CORPC_STATUS_RESOURCE_EXHAUSTED);
	corpc_channel_close(ch);

	// A client allowed 16 MiB: the server refuses to receive it.
	corpc_channel_opts copts = {.max_message_size = 16u << 20};
	ch = dial_opts(corpc_server_address(s, 0), &copts);
	assert_int_equal(echo_call(ch, &req, NULL, msg, sizeof(msg)),
	    CORPC_STATUS_RESOURCE_EXHAUSTED);
	assert_int_equal(atomic_load(&es.stats.started), 0);
	corpc_server_destroy(s);

	// Both allowed 16 MiB: it goes through.
	corpc_server_opts sopts = {.max_message_size = 16u << 20};
	s                       = serve_opts("tcp://127.0.0.1:0", &es, &sopts);
	corpc_channel_close(ch);
	ch = dial_opts(corpc_server_address(s, 0), &copts);
	assert_int_equal(echo_call(ch, &req, NULL, NULL, 0), CORPC_STATUS_OK);
	corpc_server_destroy(s);

	// Just under 4 MiB passes the defaults both ways.
	s                   = serve("tcp://127.0.0.1:0", &es);
	corpc_channel *dflt = dial(s);
	req.blob.len        = (4u << 20) - 64;
	assert_int_equal(
	    echo_call(dflt, &req, NULL, NULL, 0), CORPC_STATUS_OK);
	corpc_channel_close(dflt);
	corpc_server_destroy(s);

	// A server limited to 1 KiB refuses a 2 KiB request.
	sopts.max_message_size = 1024;
	s                      = serve_opts("tcp://127.0.0.1:0", &es, &sopts);
	corpc_channel_close(ch);
	ch           = dial(s);
	req.blob.len = 2048;
	assert_int_equal(echo_call(ch, &req, NULL, NULL, 0),
	    CORPC_STATUS_RESOURCE_EXHAUSTED);
	req.blob.len = 100;
	assert_int_equal(echo_call(ch, &req, NULL, NULL, 0), CORPC_STATUS_OK);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
	free(b);
}

static void
test_invalid_metadata(void **state)
{
	(void) state;
	echo_server     es;
	corpc_server   *s  = serve("tcp://127.0.0.1:0", &es);
	corpc_channel  *ch = dial(s);
	corpc_metadata *md;
	assert_int_equal(corpc_metadata_create(&md), CORPC_OK);
	assert_int_equal(
	    corpc_metadata_add_str(md, "Upper", "v"), CORPC_EBADKEY);
	assert_int_equal(
	    corpc_metadata_add_str(md, "grpc-x", "v"), CORPC_EBADKEY);
	assert_int_equal(
	    corpc_metadata_add_str(md, "a b", "v"), CORPC_EBADKEY);
	assert_int_equal(
	    corpc_metadata_add_str(md, "x-k", "v\n"), CORPC_EBADVALUE);
	assert_int_equal(corpc_metadata_count(md), 0);
	// What was accepted is sent; nothing invalid ever reached the server.
	assert_int_equal(corpc_metadata_add_str(md, "x-k", "v"), CORPC_OK);
	corpc_call_opts opts = {.metadata = md};
	Req             req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "md";
	assert_int_equal(echo_call(ch, &req, &opts, NULL, 0), CORPC_STATUS_OK);
	assert_int_equal(atomic_load(&es.stats.started), 1);
	corpc_metadata_destroy(md);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// Statuses gRPC makes up on the client read as on the in-process transports.
static void
test_local_status_messages(void **state)
{
	(void) state;
	echo_server    es;
	corpc_server  *s  = serve("tcp://127.0.0.1:0", &es);
	corpc_channel *ch = dial(s);
	char           msg[256];
	Req            req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "slow";
	req.delay_ms         = 1000;
	corpc_call_opts opts = {.timeout_ms = 50};
	assert_int_equal(echo_call(ch, &req, &opts, msg, sizeof(msg)),
	    CORPC_STATUS_DEADLINE_EXCEEDED);
	assert_string_equal(msg, "deadline exceeded");

	req.count    = 1000;
	req.delay_ms = 1;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	const Resp *r;
	assert_int_equal(
	    corpc__test__echo__server_stream_recv(st, &r), CORPC_STATUS_OK);
	corpc_stream_cancel(st);
	while (
	    corpc__test__echo__server_stream_recv(st, &r) == CORPC_STATUS_OK &&
	    r != NULL) {
	}
	corpc_status status;
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_CANCELLED);
	assert_string_equal(status.message, "call cancelled");
	corpc_stream_destroy(st);
	wait_idle(&es);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// ---- a client killed mid-stream
// -----------------------------------------------

static int
child_main(const char *addr)
{
	corpc_channel *ch;
	if (corpc_channel_open(addr, NULL, &ch) != CORPC_OK) {
		return 2;
	}
	Req req      = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text     = "forever";
	req.count    = 1000000;
	req.delay_ms = 1;
	corpc_stream *st;
	if (corpc__test__echo__server_stream_open(ch, NULL, &req, &st) !=
	    CORPC_OK) {
		return 3;
	}
	const Resp *r;
	for (int i = 0; i < 3; i++) {
		if (corpc__test__echo__server_stream_recv(st, &r) !=
		    CORPC_STATUS_OK) {
			return 4;
		}
	}
	if (write(1, "r", 1) != 1) {
		return 5;
	}
	pause(); // killed here
	return 0;
}

static void
test_killed_client(void **state)
{
	(void) state;
	echo_server   es;
	corpc_server *s = serve("tcp://127.0.0.1:0", &es);
	int           fds[2];
	assert_int_equal(pipe(fds), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	char flag[] = "--child";
	char addr[128];
	snprintf(addr, sizeof(addr), "%s", corpc_server_address(s, 0));
	char *argv[] = {self_exe, flag, addr, NULL};
	pid_t pid;
	assert_int_equal(
	    posix_spawn(&pid, self_exe, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	char c = 0;
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	assert_int_equal(atomic_load(&es.stats.started), 1);
	kill(pid, SIGKILL);
	int wstatus;
	waitpid(pid, &wstatus, 0);
	// The handler's next send fails and it unwinds; others are served.
	wait_idle(&es);
	assert_int_equal(
	    atomic_load(&es.stats.last_send), CORPC_STATUS_CANCELLED);
	corpc_channel *ch = dial(s);
	assert_int_equal(echo_text(ch, "next"), CORPC_STATUS_OK);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// ---- restart
// ----------------------------------------------------------------

static void
test_server_restart(void **state)
{
	(void) state;
	char path[128];
	snprintf(path, sizeof(path), "unix://%s/restart.sock", tmpdir);
	const char *addrs[] = {"tcp://127.0.0.1:0", path};
	for (size_t i = 0; i < 2; i++) {
		echo_server   es;
		corpc_server *s = serve(addrs[i], &es);
		char          addr[128];
		snprintf(addr, sizeof(addr), "%s", corpc_server_address(s, 0));
		corpc_channel *ch = dial(s);
		assert_int_equal(echo_text(ch, "one"), CORPC_STATUS_OK);
		corpc_server_destroy(s);
		assert_int_equal(
		    echo_text(ch, "gone"), CORPC_STATUS_UNAVAILABLE);
		s                    = serve(addr, &es); // same port or path
		int64_t           t0 = corpc_now();
		corpc_status_code code;
		while ((code = echo_text(ch, "two")) != CORPC_STATUS_OK &&
		       ms_since(t0) < 10000) {
			sleep_ms(20);
		}
		assert_int_equal(code, CORPC_STATUS_OK);
		corpc_channel_close(ch);
		corpc_server_destroy(s);
	}
}

// ---- worker pool
// ----------------------------------------------------------------

typedef struct slow_call {
	corpc_channel    *ch;
	int               delay_ms;
	corpc_status_code code;
	pthread_t         thread;
} slow_call;

static void *
slow_call_run(void *arg)
{
	slow_call *sc  = arg;
	Req        req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text       = "slow";
	req.delay_ms   = sc->delay_ms;
	sc->code       = echo_call(sc->ch, &req, NULL, NULL, 0);
	return NULL;
}

static void
test_handlers_suspend(void **state)
{
	(void) state;
	// One scheduler thread: twenty handlers sleeping at once (suspended,
	// not blocking), and a quick call answered meanwhile.
	echo_server       es;
	corpc_server_opts opts = {.scheduler_threads = 1};
	corpc_server     *s    = serve_opts("tcp://127.0.0.1:0", &es, &opts);
	corpc_channel    *ch   = dial(s);
	slow_call         sc[20];
	for (int i = 0; i < 20; i++) {
		sc[i] = (slow_call) {.ch = ch, .delay_ms = 1500};
		pthread_create(&sc[i].thread, NULL, slow_call_run, &sc[i]);
	}
	while (atomic_load(&es.stats.started) < 20) {
		sleep_ms(1);
	}
	assert_int_equal(
	    atomic_load(&es.stats.finished), 0); // all asleep at once
	assert_int_equal(echo_text(ch, "quick"), CORPC_STATUS_OK);
	assert_int_equal(atomic_load(&es.stats.finished), 1); // only "quick"
	for (int i = 0; i < 20; i++) {
		pthread_join(sc[i].thread, NULL);
		assert_int_equal(sc[i].code, CORPC_STATUS_OK);
	}
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

typedef struct block_call {
	corpc_channel    *ch;
	corpc_status_code code;
	pthread_t         thread;
} block_call;

static void *
block_call_run(void *arg)
{
	block_call *bc  = arg;
	Req         req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text        = "blocks";
	req.block_ms    = 1000;
	bc->code        = echo_call(bc->ch, &req, NULL, NULL, 0);
	return NULL;
}

static void
test_thread_per_call(void **state)
{
	(void) state;
	// Handlers that block their thread: in thread-per-call mode each has
	// its own, so ten of them and a quick call run at once even on one
	// scheduler thread.
	echo_server       es;
	corpc_server_opts opts = {
	    .scheduler_threads = 1, .exec = CORPC_EXEC_THREAD_PER_CALL};
	corpc_server  *s  = serve_opts("tcp://127.0.0.1:0", &es, &opts);
	corpc_channel *ch = dial(s);
	block_call     bc[10];
	for (int i = 0; i < 10; i++) {
		bc[i] = (block_call) {.ch = ch};
		pthread_create(&bc[i].thread, NULL, block_call_run, &bc[i]);
	}
	while (atomic_load(&es.stats.started) < 10) {
		sleep_ms(1);
	}
	assert_int_equal(echo_text(ch, "quick"), CORPC_STATUS_OK);
	assert_int_equal(atomic_load(&es.stats.finished), 1);
	for (int i = 0; i < 10; i++) {
		pthread_join(bc[i].thread, NULL);
		assert_int_equal(bc[i].code, CORPC_STATUS_OK);
	}
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// ---- shutdown
// -----------------------------------------------------------------

typedef struct stream_call {
	corpc_channel    *ch;
	corpc_status_code code;
	int               received;
	pthread_t         thread;
} stream_call;

static void *
stream_call_run(void *arg)
{
	stream_call *sc  = arg;
	Req          req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text         = "long";
	req.count        = 1000000;
	req.delay_ms     = 2;
	corpc_stream *st;
	if (corpc__test__echo__server_stream_open(sc->ch, NULL, &req, &st) !=
	    CORPC_OK) {
		sc->code = CORPC_STATUS_INTERNAL;
		return NULL;
	}
	const Resp *r;
	while ((sc->code = corpc__test__echo__server_stream_recv(st, &r)) ==
	           CORPC_STATUS_OK &&
	       r != NULL) {
		sc->received++;
	}
	corpc_stream_destroy(st);
	return NULL;
}

static void
test_shutdown_grace(void **state)
{
	(void) state;
	// A call that ends within the grace completes normally.
	echo_server    es;
	corpc_server  *s  = serve("tcp://127.0.0.1:0", &es);
	corpc_channel *ch = dial(s);
	slow_call      sc = {.ch = ch, .delay_ms = 300};
	pthread_create(&sc.thread, NULL, slow_call_run, &sc);
	while (atomic_load(&es.stats.started) < 1) {
		sleep_ms(1);
	}
	int64_t t0 = corpc_now();
	corpc_server_shutdown(s, 5000);
	assert_true(ms_since(t0) < 4000);
	pthread_join(sc.thread, NULL);
	assert_int_equal(sc.code, CORPC_STATUS_OK);
	// Once shut down, calls fail.
	assert_int_equal(echo_text(ch, "late"), CORPC_STATUS_UNAVAILABLE);
	corpc_server_destroy(s);
	corpc_channel_close(ch);

	// A call that outlives the grace is cancelled on both sides.
	s               = serve("tcp://127.0.0.1:0", &es);
	ch              = dial(s);
	stream_call stc = {.ch = ch};
	pthread_create(&stc.thread, NULL, stream_call_run, &stc);
	while (atomic_load(&es.stats.started) < 1) {
		sleep_ms(1);
	}
	sleep_ms(50);
	t0 = corpc_now();
	corpc_server_shutdown(s, 200);
	assert_true(ms_since(t0) < 3000);
	assert_int_equal(atomic_load(&es.stats.finished), 1);
	assert_int_equal(
	    atomic_load(&es.stats.last_send), CORPC_STATUS_CANCELLED);
	pthread_join(stc.thread, NULL);
	assert_true(stc.received > 0);
	assert_true(stc.code == CORPC_STATUS_CANCELLED ||
	            stc.code == CORPC_STATUS_UNAVAILABLE);
	corpc_server_destroy(s);
	corpc_channel_close(ch);

	// A server that never started, or never listened, shuts down cleanly.
	assert_int_equal(corpc_server_create(NULL, &s), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(s, "tcp://127.0.0.1:0"), CORPC_OK);
	corpc_server_destroy(s);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--child") == 0) {
		return child_main(argv[2]);
	}
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0) {
		return 1;
	}
	self_exe[n] = '\0';
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/corpc-grpc-test-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bound_addresses),
	    cmocka_unit_test(test_ipv6_and_two_listeners),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_request_does_not_parse),
	    cmocka_unit_test(test_response_does_not_parse),
	    cmocka_unit_test(test_unknown_service),
	    cmocka_unit_test(test_max_message_size),
	    cmocka_unit_test(test_invalid_metadata),
	    cmocka_unit_test(test_local_status_messages),
	    cmocka_unit_test(test_killed_client),
	    cmocka_unit_test(test_server_restart),
	    cmocka_unit_test(test_handlers_suspend),
	    cmocka_unit_test(test_thread_per_call),
	    cmocka_unit_test(test_shutdown_grace),
	};
	int  rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void) system(cmd);
	return rc;
}
