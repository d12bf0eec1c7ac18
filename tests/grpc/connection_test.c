// SPDX-License-Identifier: MIT
// Connections: keepalive finds a dead peer, the server's ping policy is
// enforced both ways, gRPC channel arguments pass through; wait-for-ready,
// channel state, reconnecting to a restarted server, multi-address targets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	    corpc__test__echo__bidi_send(st, &req, 0), CORPC_STATUS_OK);
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
	corpc_status_code rc = corpc__test__echo__bidi_send(st, &req, 0);
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
	// gRPC sends at most one ping a second, and the third bad one brings
	// GOAWAY; a busy machine may take longer, so wait for the connection
	// to go (up to 10 s) rather than a fixed time. The stream stays idle:
	// data from the server would forgive the pings.
	if (server_min_ping_ms > 1000) {
		corpc_channel_wait_state_change(
		    ch, CORPC_CHANNEL_READY, corpc_now() + 10 * 1000000000LL);
	} else {
		corpc_sleep_ms(4000);
	}
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

// ---- connection control ---------------------------------------------------

// A free loopback port (bound and released; nothing else here takes it).
static int
free_port(void)
{
	int                fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static corpc_status_code
unary_opts(corpc_channel *ch, const corpc_call_opts *o)
{
	Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text = "hi";
	const Resp       *resp;
	corpc_stream     *st;
	corpc_status_code rc =
	    corpc__test__echo__unary_call(ch, o, &req, &resp, &st);
	corpc_stream_destroy(st);
	return rc;
}

typedef struct late_server {
	const char   *addr;
	int           after_ms;
	echo_server   es;
	corpc_server *srv;
} late_server;

static void *
serve_later(void *arg)
{
	late_server *l = arg;
	corpc_sleep_ms(l->after_ms);
	l->srv = echo_serve(l->addr, &l->es, NULL);
	return NULL;
}

static void
wait_for_ready_at(const char *addr)
{
	corpc_channel *ch;
	assert_int_equal(corpc_channel_open(addr, NULL, &ch), CORPC_OK);
	// Nobody there: at once UNAVAILABLE, or DEADLINE_EXCEEDED when
	// waiting.
	corpc_call_opts now = {.timeout_ms = 10000};
	assert_int_equal(unary_opts(ch, &now), CORPC_STATUS_UNAVAILABLE);
	corpc_call_opts brief = {.timeout_ms = 200, .wait_for_ready = true};
	assert_int_equal(
	    unary_opts(ch, &brief), CORPC_STATUS_DEADLINE_EXCEEDED);
	// A server that comes 300 ms later is waited for.
	late_server l = {.addr = addr, .after_ms = 300};
	pthread_t   t;
	assert_int_equal(pthread_create(&t, NULL, serve_later, &l), 0);
	corpc_call_opts wait = {.timeout_ms = 10000, .wait_for_ready = true};
	int64_t         t0   = corpc_now();
	assert_int_equal(unary_opts(ch, &wait), CORPC_STATUS_OK);
	print_message("%s: served after %.0f ms of waiting\n", addr,
	    (double) (corpc_now() - t0) / 1e6);
	pthread_join(t, NULL);
	assert_non_null(l.srv);
	corpc_channel_close(ch);
	corpc_server_shutdown(l.srv, 0);
	corpc_server_destroy(l.srv);
}

static void
wait_for_ready(void **state)
{
	(void) state;
	char addr[64];
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", free_port());
	wait_for_ready_at(addr);
	wait_for_ready_at("inproc://late-server");
	wait_for_ready_at("inproc://late-server-t?mode=thread");
}

typedef struct waiting_call {
	corpc_channel    *ch;
	corpc_status_code code;
	int64_t           done;
} waiting_call;

static void *
call_waiting(void *arg)
{
	waiting_call   *w    = arg;
	corpc_call_opts wait = {.timeout_ms = 20000, .wait_for_ready = true};
	w->code              = unary_opts(w->ch, &wait);
	w->done              = corpc_now();
	return NULL;
}

// The state follows the server: READY once connected, not READY once it
// is gone; a restarted server is reached again within about a second.
static void
channel_state_and_restart(void **state)
{
	(void) state;
	char addr[64];
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", free_port());
	echo_server   es  = {0};
	corpc_server *srv = echo_serve(addr, &es, NULL);
	assert_non_null(srv);
	corpc_channel *ch;
	assert_int_equal(corpc_channel_open(addr, NULL, &ch), CORPC_OK);
	assert_int_equal(
	    corpc_channel_get_state(ch, false), CORPC_CHANNEL_IDLE);
	corpc_channel_state s     = corpc_channel_get_state(ch, true);
	int64_t             until = corpc_now() + 10 * 1000000000LL;
	while (s != CORPC_CHANNEL_READY &&
	       corpc_channel_wait_state_change(ch, s, until)) {
		s = corpc_channel_get_state(ch, false);
	}
	assert_int_equal(s, CORPC_CHANNEL_READY);
	assert_string_equal(corpc_channel_state_name(s), "READY");

	corpc_server_shutdown(srv, 0);
	corpc_server_destroy(srv);
	until = corpc_now() + 10 * 1000000000LL;
	assert_true(
	    corpc_channel_wait_state_change(ch, CORPC_CHANNEL_READY, until));
	assert_int_not_equal(
	    corpc_channel_get_state(ch, false), CORPC_CHANNEL_READY);
	// A call waits meanwhile, so the channel keeps retrying with backoff;
	// after 3 s of failures the server comes back.
	waiting_call w = {.ch = ch};
	pthread_t    t;
	assert_int_equal(pthread_create(&t, NULL, call_waiting, &w), 0);
	corpc_sleep_ms(3000);
	srv = echo_serve(addr, &es, NULL);
	assert_non_null(srv);
	int64_t back = corpc_now();
	pthread_join(t, NULL);
	assert_int_equal(w.code, CORPC_STATUS_OK);
	print_message("restarted server reached %.0f ms after its return\n",
	    (double) (w.done - back) / 1e6);
	corpc_channel_close(ch);
	corpc_server_shutdown(srv, 0);
	corpc_server_destroy(srv);

	// In-process: READY exactly while a server listens on the name.
	assert_int_equal(
	    corpc_channel_open("inproc://state-test", NULL, &ch), CORPC_OK);
	assert_int_equal(corpc_channel_get_state(ch, true),
	    CORPC_CHANNEL_TRANSIENT_FAILURE);
	srv = echo_serve("inproc://state-test", &es, NULL);
	assert_int_equal(
	    corpc_channel_get_state(ch, true), CORPC_CHANNEL_READY);
	corpc_server_shutdown(srv, 0);
	corpc_server_destroy(srv);
	assert_int_not_equal(
	    corpc_channel_get_state(ch, true), CORPC_CHANNEL_READY);
	corpc_channel_close(ch);
}

// ipv4: lists spread calls over every address with round_robin, and go
// to one with pick_first; dns:/// names resolve; servers refuse them.
static void
multi_address_targets(void **state)
{
	(void) state;
	echo_server   a = {0}, b = {0};
	corpc_server *sa = echo_serve("tcp://127.0.0.1:0", &a, NULL);
	corpc_server *sb = echo_serve("tcp://127.0.0.1:0", &b, NULL);
	assert_non_null(sa);
	assert_non_null(sb);
	char target[128];
	snprintf(target, sizeof(target), "ipv4:%s,%s",
	    strstr(corpc_server_address(sa, 0), "127."),
	    strstr(corpc_server_address(sb, 0), "127."));
	for (int rr = 0; rr < 2; rr++) {
		echo_stats_reset(&a.stats);
		echo_stats_reset(&b.stats);
		corpc_channel_opts o = {
		    .load_balancing =
		        rr ? CORPC_LB_ROUND_ROBIN : CORPC_LB_PICK_FIRST};
		corpc_channel *ch;
		assert_int_equal(
		    corpc_channel_open(target, &o, &ch), CORPC_OK);
		corpc_call_opts wait = {
		    .timeout_ms = 10000, .wait_for_ready = true};
		for (int i = 0; i < 20; i++) {
			assert_int_equal(
			    unary_opts(ch, &wait), CORPC_STATUS_OK);
		}
		int na = atomic_load(&a.stats.started);
		int nb = atomic_load(&b.stats.started);
		print_message("%s: %d and %d calls\n",
		    rr ? "round_robin" : "pick_first", na, nb);
		assert_int_equal(na + nb, 20);
		if (rr) {
			assert_true(na > 0 && nb > 0);
		} else {
			assert_true(na == 20 || nb == 20);
		}
		corpc_channel_close(ch);
	}
	char dns[128];
	snprintf(dns, sizeof(dns), "dns:///localhost:%s",
	    strrchr(corpc_server_address(sa, 0), ':') + 1);
	corpc_channel *ch;
	assert_int_equal(corpc_channel_open(dns, NULL, &ch), CORPC_OK);
	corpc_call_opts wait = {.timeout_ms = 10000, .wait_for_ready = true};
	assert_int_equal(unary_opts(ch, &wait), CORPC_STATUS_OK);
	corpc_channel_close(ch);
	corpc_server *fresh;
	assert_int_equal(corpc_server_create(NULL, &fresh), CORPC_OK);
	assert_int_equal(corpc_server_listen(fresh, dns), CORPC_EADDRINVAL);
	assert_non_null(strstr(corpc_err_detail(), "channel targets"));
	corpc_server_destroy(fresh);
	corpc_server_shutdown(sa, 0);
	corpc_server_destroy(sa);
	corpc_server_shutdown(sb, 0);
	corpc_server_destroy(sb);
}

// ---- compression
// -------------------------------------------------------------

// One unary call reporting how its request came; *resp_how: how the
// response came.
static void
compressed_unary(corpc_channel *ch, corpc_compression call_c,
    corpc_compression respond, const char *want_req,
    corpc_compression want_resp)
{
	Req req                 = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text                = "c";
	req.report_compression  = true;
	req.respond_compression = (int32_t) respond;
	static uint8_t blob[4096]; // compressible
	req.blob          = (ProtobufCBinaryData) {sizeof(blob), blob};
	corpc_call_opts o = {.timeout_ms = 10000, .compression = call_c};
	const Resp     *resp;
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, &o, &req, &resp, &st),
	    CORPC_STATUS_OK);
	assert_string_equal(resp->text, want_req);
	assert_int_equal(corpc_stream_received_compression(st), want_resp);
	corpc_stream_destroy(st);
}

static void
compression_both_ways_at_every_level(const char *listen)
{
	echo_server       es = {0};
	corpc_server_opts so = {.compression = CORPC_COMPRESS_DEFLATE};
	corpc_server     *s  = echo_serve(listen, &es, &so);
	assert_non_null(s);
	corpc_channel_opts co = {.compression = CORPC_COMPRESS_GZIP};
	corpc_channel     *ch;
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(s, 0), &co, &ch),
	    CORPC_OK);
	// The channel's gzip; the server's deflate.
	compressed_unary(ch, CORPC_COMPRESS_DEFAULT, CORPC_COMPRESS_DEFAULT,
	    "gzip", CORPC_COMPRESS_DEFLATE);
	// A call's own choice; the handler's own choice.
	compressed_unary(ch, CORPC_COMPRESS_NONE, CORPC_COMPRESS_GZIP,
	    "identity", CORPC_COMPRESS_GZIP);
	compressed_unary(ch, CORPC_COMPRESS_DEFLATE, CORPC_COMPRESS_NONE,
	    "deflate", CORPC_COMPRESS_NONE);

	// Per message: CORPC_WRITE_NO_COMPRESS opts out within a gzip stream.
	corpc_call_opts o = {.timeout_ms = 10000};
	corpc_stream   *st;
	assert_int_equal(corpc__test__echo__bidi_open(ch, &o, &st), CORPC_OK);
	for (int plain = 0; plain < 2; plain++) {
		static uint8_t
		    zeros[4096]; // gRPC sends what does not shrink as it is
		Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text = "m";
		req.blob = (ProtobufCBinaryData) {sizeof(zeros), zeros};
		req.report_compression = true;
		// Through the generated wrapper: it passes the flag on.
		assert_int_equal(corpc__test__echo__bidi_send(st, &req,
		                     plain ? CORPC_WRITE_NO_COMPRESS : 0),
		    CORPC_STATUS_OK);
		const Resp *r;
		assert_int_equal(
		    corpc__test__echo__bidi_recv(st, &r), CORPC_STATUS_OK);
		assert_string_equal(r->text, plain ? "identity" : "gzip");
	}
	corpc_stream_close_send(st);
	const Resp *end;
	assert_int_equal(
	    corpc__test__echo__bidi_recv(st, &end), CORPC_STATUS_OK);
	assert_null(end);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	corpc_server_shutdown(s, 0);
	corpc_server_destroy(s);
}

static void
compression(void **state)
{
	(void) state;
	compression_both_ways_at_every_level("tcp://127.0.0.1:0");
	compression_both_ways_at_every_level("unix:compression-test.sock");
}

// A small compressed message that inflates past the server's limit is
// refused with RESOURCE_EXHAUSTED before it is ever inflated in full.
static void
compression_bomb_is_refused(void **state)
{
	(void) state;
	echo_server       es = {0};
	corpc_server_opts so = {.max_message_size = 64 * 1024};
	corpc_server     *s  = echo_serve("tcp://127.0.0.1:0", &es, &so);
	assert_non_null(s);
	corpc_channel_opts co = {.compression = CORPC_COMPRESS_GZIP};
	corpc_channel     *ch;
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(s, 0), &co, &ch),
	    CORPC_OK);
	uint8_t *zeros = calloc(1, 1 << 20); // 1 MiB: about 1 KiB in gzip
	assert_non_null(zeros);
	Req req           = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text          = "bomb";
	req.blob          = (ProtobufCBinaryData) {1 << 20, zeros};
	corpc_call_opts o = {.timeout_ms = 10000};
	const Resp     *resp;
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, &o, &req, &resp, &st),
	    CORPC_STATUS_RESOURCE_EXHAUSTED);
	corpc_status status;
	corpc_stream_finish(st, &status);
	print_message("bomb: %s\n", status.message);
	assert_non_null(strstr(status.message, "larger than the limit"));
	corpc_stream_destroy(st);
	assert_int_equal(atomic_load(&es.stats.started), 0);
	free(zeros);
	corpc_channel_close(ch);
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
	    cmocka_unit_test(wait_for_ready),
	    cmocka_unit_test(channel_state_and_restart),
	    cmocka_unit_test(multi_address_targets),
	    cmocka_unit_test(compression),
	    cmocka_unit_test(compression_bomb_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
