// SPDX-License-Identifier: MIT
// Connection options of tcp://: keepalive finds a dead peer, the server's
// ping policy is enforced both ways, and gRPC channel arguments pass
// through.
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "echo_service.h"

typedef Corpc__Test__EchoRequest  Req;
typedef Corpc__Test__EchoResponse Resp;

// Opens a bidi stream on `ch` and has one message echoed.
static corpc_stream *
open_echoed(corpc_channel *ch, int64_t timeout_ms)
{
	corpc_call_opts opts = {.timeout_ms = timeout_ms};
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__bidi_open(ch, &opts, &st), CORPC_OK);
	Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text = "hi";
	assert_int_equal(
	    corpc__test__echo__bidi_send(st, &req), CORPC_STATUS_OK);
	const Resp *r;
	assert_int_equal(
	    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
	assert_non_null(r);
	return st;
}

// One more echo on an open stream; returns its code.
static corpc_status_code
echo_again(corpc_stream *st)
{
	Req req              = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "again";
	corpc_status_code rc = corpc__test__echo__bidi_send(st, &req);
	if (rc != CORPC_STATUS_OK) {
		return corpc_stream_finish(st, NULL);
	}
	const Resp *r;
	rc = corpc__test__echo__bidi_recv(st, &r);
	return rc != CORPC_STATUS_OK || r == NULL
	           ? corpc_stream_finish(st, NULL)
	           : CORPC_STATUS_OK;
}

// A server in a child process (forked before this process starts gRPC),
// so that the test can freeze it with SIGSTOP. Returns its pid; *addr gets
// its address.
static pid_t
serve_in_child(char *addr, size_t addr_size)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		echo_server   es = {0};
		corpc_server *s  = echo_serve("tcp://127.0.0.1:0", &es, NULL);
		const char   *a  = s != NULL ? corpc_server_address(s, 0) : "";
		if (write(fds[1], a, strlen(a) + 1) < 0) {
			_exit(1);
		}
		for (;;) {
			pause();
		}
	}
	close(fds[1]);
	ssize_t n = read(fds[0], addr, addr_size - 1);
	close(fds[0]);
	assert_true(n > 1);
	addr[n] = '\0';
	return pid;
}

// A frozen server answers nothing, not even pings: keepalive ends the
// idle stream with UNAVAILABLE long before its deadline.
static void
keepalive_finds_a_frozen_server(void **state)
{
	(void) state;
	char               addr[128];
	pid_t              pid = serve_in_child(addr, sizeof(addr));
	corpc_channel_opts o   = {
	      .keepalive = {.time_ms = 300, .timeout_ms = 300}};
	corpc_channel *ch;
	assert_int_equal(corpc_channel_open(addr, &o, &ch), CORPC_OK);
	corpc_stream *st = open_echoed(ch, 20000);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	int64_t           t0 = corpc_now();
	const Resp       *r;
	corpc_status_code rc = corpc__test__echo__bidi_recv(st, &r);
	print_message("frozen server: %s after %.0f ms\n",
	    corpc_status_name(rc), (double) (corpc_now() - t0) / 1e6);
	// Without keepalive this would be DEADLINE_EXCEEDED after 20 s.
	assert_int_equal(rc, CORPC_STATUS_UNAVAILABLE);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

// A client pinging as often as gRPC lets it (once a second) on an idle
// stream: a server that accepts
// one ping a minute sends GOAWAY (too_many_pings); one that accepts a ping
// every 50 ms keeps the stream.
static corpc_status_code
idle_stream_with_pings(int64_t server_min_ping_ms)
{
	echo_server       es = {0};
	corpc_server_opts so = {.min_ping_interval_ms = server_min_ping_ms};
	corpc_server     *s  = echo_serve("tcp://127.0.0.1:0", &es, &so);
	assert_non_null(s);
	corpc_channel_opts co = {
	    .keepalive = {.time_ms = 100, .timeout_ms = 5000}};
	corpc_channel *ch;
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(s, 0), &co, &ch),
	    CORPC_OK);
	corpc_stream *st = open_echoed(ch, 30000);
	corpc_sleep_ms(4000); // gRPC sends at most one ping a second
	corpc_status_code rc = echo_again(st);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	corpc_server_shutdown(s, 0);
	corpc_server_destroy(s);
	return rc;
}

static void
server_ping_policy(void **state)
{
	(void) state;
	assert_int_equal(
	    idle_stream_with_pings(60000), CORPC_STATUS_UNAVAILABLE);
	assert_int_equal(idle_stream_with_pings(50), CORPC_STATUS_OK);
}

// An integer gRPC argument passed through overrides corpc's own setting of
// the same key: a client that accepts 64-byte messages refuses a 1 KiB
// response.
static void
grpc_args_pass_through(void **state)
{
	(void) state;
	echo_server   es = {0};
	corpc_server *s  = echo_serve("tcp://127.0.0.1:0", &es, NULL);
	assert_non_null(s);
	const corpc_grpc_arg small[] = {
	    {.key = "grpc.max_receive_message_length", .int_value = 64}};
	corpc_channel_opts co = {.grpc_args = small, .grpc_arg_count = 1};
	corpc_channel     *ch;
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(s, 0), &co, &ch),
	    CORPC_OK);
	static uint8_t blob[1024];
	Req            req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text           = "big";
	req.blob           = (ProtobufCBinaryData) {sizeof(blob), blob};
	const Resp   *resp;
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_RESOURCE_EXHAUSTED);
	corpc_stream_destroy(st);
	req.blob.len = 8; // small enough
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);

	// An argument without a key is refused, and says so.
	const corpc_grpc_arg nokey[] = {{.key = NULL, .int_value = 1}};
	co.grpc_args                 = nokey;
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(s, 0), &co, &ch),
	    CORPC_EINVAL);
	assert_non_null(strstr(corpc_err_detail(), "grpc_args[0] has no key"));
	corpc_server_shutdown(s, 0);
	corpc_server_destroy(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    // First: it forks before this process starts gRPC.
	    cmocka_unit_test(keepalive_finds_a_frozen_server),
	    cmocka_unit_test(server_ping_policy),
	    cmocka_unit_test(grpc_args_pass_through),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
