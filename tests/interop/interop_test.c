// SPDX-License-Identifier: MIT
// Interoperability with a gRPC implementation nobody here wrote, both ways:
//   interop_test PEER_COMMAND...
// PEER_COMMAND (e.g. "/usr/bin/python3 peer.py DIR" or "node peer.js
// PROTO") is run with "server [UNIX_PATH]" (serves corpc.test.Echo on
// 127.0.0.1:0, prints the port) or "client TARGET" (checks a corpc server,
// exits 0 when every check passed). Both directions cover unary, server
// streaming of 10,000 messages, metadata, headers, trailers, a non-OK
// status with its message, a deadline, bad bytes and an unknown method.
// A peer server that prints a second port (a proxy that sees each gRPC
// message's compressed flag) and a peer client also run gRPC's four
// official compression cases (compression_cases.c).
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "compression_cases.h"
#include "echo_service.h"

extern char **environ;

typedef Corpc__Test__EchoRequest  Req;
typedef Corpc__Test__EchoResponse Resp;

static char **peer_cmd;
static int    peer_argc;
static char   tmpdir[64];
static pid_t  peer_server; // running peer server, killed if a check failed

// Runs PEER_COMMAND plus `a`, `b`; its stdout goes to *out_fd if not NULL.
static pid_t
spawn_peer(const char *a, const char *b, int *out_fd)
{
	char *argv[32];
	int   n = 0;
	for (int i = 0; i < peer_argc && n < 28; i++) {
		argv[n++] = peer_cmd[i];
	}
	argv[n++] = (char *) a;
	if (b != NULL) {
		argv[n++] = (char *) b;
	}
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	int fds[2] = {-1, -1};
	if (out_fd != NULL) {
		assert_int_equal(pipe(fds), 0);
		posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
		posix_spawn_file_actions_addclose(&fa, fds[0]);
	}
	pid_t pid;
	assert_int_equal(
	    posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	if (out_fd != NULL) {
		close(fds[1]);
		*out_fd = fds[0];
	}
	return pid;
}

static int
wait_exit(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// ---- the peer calls corpc
// ---------------------------------------------------

static void
test_peer_client_calls_corpc(void **state)
{
	(void) state;
	echo_server   es;
	corpc_server *s;
	char          unix_addr[128];
	snprintf(unix_addr, sizeof(unix_addr), "unix://%s/corpc.sock", tmpdir);
	echo_stats_reset(&es.stats);
	es.inner = NULL;
	assert_int_equal(corpc_server_create(NULL, &s), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(s, &echo_impl, &es), CORPC_OK);
	assert_int_equal(grpc__testing__test_service__register_server(
	                     s, &compression_test_service, NULL),
	    CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(s, "tcp://127.0.0.1:0"), CORPC_OK);
	assert_int_equal(corpc_server_listen(s, unix_addr), CORPC_OK);
	assert_int_equal(corpc_server_start(s), CORPC_OK);

	char targets[2][160];
	snprintf(targets[0], sizeof(targets[0]), "%s",
	    corpc_server_address(s, 0) + strlen("tcp://"));
	snprintf(targets[1], sizeof(targets[1]), "unix:%s/corpc.sock", tmpdir);
	for (int i = 0; i < 2; i++) {
		printf("-- peer client -> corpc server at %s\n", targets[i]);
		fflush(stdout);
		assert_int_equal(
		    wait_exit(spawn_peer("client", targets[i], NULL)), 0);
	}
	corpc_server_destroy(s);
}

// ---- corpc calls the peer
// -----------------------------------------------------

static corpc_status_code
unary(corpc_channel *ch, const Req *req, const corpc_call_opts *opts,
    const Resp **resp, corpc_stream **st, corpc_status *status)
{
	corpc_status_code code =
	    corpc__test__echo__unary_call(ch, opts, req, resp, st);
	assert_non_null(*st);
	corpc_stream_finish(*st, status);
	return code;
}

static void
check_md(const corpc_metadata *md, const char *prefix)
{
	char key[32];
	snprintf(key, sizeof(key), "%sx-a", prefix);
	const corpc_metadata_entry *e = corpc_metadata_get(md, key);
	assert_non_null(e);
	assert_string_equal(e->value, "1");
	snprintf(key, sizeof(key), "%sx-b-bin", prefix);
	e = corpc_metadata_get(md, key);
	assert_non_null(e);
	assert_int_equal(e->value_len, 3);
	assert_memory_equal(e->value, "\0\1\xfe", 3);
}

static void
call_peer(corpc_channel *ch)
{
	const Resp   *resp;
	corpc_stream *st;
	corpc_status  status;

	// Unary, with metadata echoed into headers and trailers.
	corpc_metadata *md;
	assert_int_equal(corpc_metadata_create(&md), CORPC_OK);
	assert_int_equal(corpc_metadata_add_str(md, "x-a", "1"), CORPC_OK);
	assert_int_equal(
	    corpc_metadata_add(md, "x-b-bin", "\0\1\xfe", 3), CORPC_OK);
	corpc_call_opts opts = {.timeout_ms = 10000, .metadata = md};
	Req             req  = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "hello";
	req.echo_metadata    = true;
	req.blob =
	    (ProtobufCBinaryData) {.len = 2, .data = (uint8_t *) "\0\xff"};
	assert_int_equal(
	    unary(ch, &req, &opts, &resp, &st, &status), CORPC_STATUS_OK);
	assert_string_equal(resp->text, "hello");
	assert_int_equal(resp->blob.len, 2);
	const corpc_metadata *hdr;
	assert_int_equal(corpc_stream_headers(st, &hdr), CORPC_STATUS_OK);
	check_md(hdr, "h-");
	check_md(corpc_stream_trailers(st), "t-");
	corpc_stream_destroy(st);

	// Server streaming, 10,000 messages.
	req.text        = "s";
	req.count       = 10000;
	opts.timeout_ms = 60000;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, &opts, &req, &st),
	    CORPC_OK);
	assert_int_equal(corpc_stream_headers(st, &hdr), CORPC_STATUS_OK);
	check_md(hdr, "h-");
	int               n = 0;
	corpc_status_code code;
	while ((code = corpc__test__echo__server_stream_recv(st, &resp)) ==
	           CORPC_STATUS_OK &&
	       resp != NULL) {
		assert_int_equal(resp->index, n);
		n++;
	}
	assert_int_equal(code, CORPC_STATUS_OK);
	assert_int_equal(n, 10000);
	check_md(corpc_stream_trailers(st), "t-");
	corpc_stream_destroy(st);
	corpc_metadata_destroy(md);

	// A non-OK status with its message, unary and mid-stream.
	Req bad          = CORPC__TEST__ECHO_REQUEST__INIT;
	bad.text         = "x";
	bad.fail_code    = CORPC_STATUS_NOT_FOUND;
	bad.fail_message = "no such thing";
	assert_int_equal(unary(ch, &bad, NULL, &resp, &st, &status),
	    CORPC_STATUS_NOT_FOUND);
	assert_string_equal(status.message, "no such thing");
	assert_null(resp);
	corpc_stream_destroy(st);

	// Rich error details (a google.rpc.Status and a NUL) come as they
	// went.
	static const unsigned char details[] = {
	    0x08, 0x05, 0x12, 0x04, 'g', 'o', 'n', 'e', 0x00};
	bad.fail_message      = "gone";
	bad.fail_details.data = (uint8_t *) details;
	bad.fail_details.len  = sizeof(details);
	assert_int_equal(unary(ch, &bad, NULL, &resp, &st, &status),
	    CORPC_STATUS_NOT_FOUND);
	const void *got;
	size_t      got_len;
	assert_true(corpc_stream_status_details(st, &got, &got_len));
	assert_int_equal(got_len, sizeof(details));
	assert_memory_equal(got, details, sizeof(details));
	corpc_stream_destroy(st);
	bad.fail_details.len = 0;
	bad.fail_code        = CORPC_STATUS_INVALID_ARGUMENT;
	bad.fail_after       = 2;
	bad.fail_message     = "stop";
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &bad, &st),
	    CORPC_OK);
	n = 0;
	while ((code = corpc__test__echo__server_stream_recv(st, &resp)) ==
	           CORPC_STATUS_OK &&
	       resp != NULL) {
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(code, CORPC_STATUS_INVALID_ARGUMENT);
	corpc_stream_finish(st, &status);
	assert_string_equal(status.message, "stop");
	corpc_stream_destroy(st);

	// A deadline.
	Req slow               = CORPC__TEST__ECHO_REQUEST__INIT;
	slow.text              = "slow";
	slow.delay_ms          = 3000;
	corpc_call_opts short_ = {.timeout_ms = 300};
	int64_t         t0     = corpc_now();
	assert_int_equal(unary(ch, &slow, &short_, &resp, &st, &status),
	    CORPC_STATUS_DEADLINE_EXCEEDED);
	assert_true(corpc_now() - t0 < 2500000000);
	corpc_stream_destroy(st);

	// An unknown method.
	static const corpc_method nope = {
	    .path     = "/corpc.test.Echo/Nope",
	    .name     = "Nope",
	    .kind     = CORPC_RPC_UNARY,
	    .request  = &corpc__test__echo_request__descriptor,
	    .response = &corpc__test__echo_response__descriptor,
	};
	const ProtobufCMessage *m;
	assert_int_equal(corpc_unary_call(ch, &nope, NULL, &req.base, &m, &st),
	    CORPC_STATUS_UNIMPLEMENTED);
	corpc_stream_destroy(st);
}

static void
test_corpc_calls_peer_server(void **state)
{
	(void) state;
	char path[128];
	snprintf(path, sizeof(path), "%s/peer.sock", tmpdir);
	int   out;
	pid_t pid   = spawn_peer("server", path, &out);
	peer_server = pid;
	FILE *f     = fdopen(out, "r");
	int   port = 0, proxy_port = 0;
	char  line[64];
	assert_non_null(fgets(line, sizeof(line), f));
	assert_true(sscanf(line, "%d %d", &port, &proxy_port) >= 1);
	assert_true(port > 0);

	char addrs[2][160];
	snprintf(addrs[0], sizeof(addrs[0]), "tcp://127.0.0.1:%d", port);
	snprintf(addrs[1], sizeof(addrs[1]), "unix://%s", path);
	for (int i = 0; i < 2; i++) {
		printf("-- corpc client -> peer server at %s\n", addrs[i]);
		fflush(stdout);
		corpc_channel *ch;
		assert_int_equal(
		    corpc_channel_open(addrs[i], NULL, &ch), CORPC_OK);
		call_peer(ch);
		corpc_channel_close(ch);
	}
	if (proxy_port > 0) {
		char addr[64];
		snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", proxy_port);
		printf("-- corpc client -> peer server: compression cases via "
		       "%s\n",
		    addr);
		fflush(stdout);
		corpc_channel *ch;
		assert_int_equal(
		    corpc_channel_open(addr, NULL, &ch), CORPC_OK);
		run_compression_cases(ch);
		corpc_channel_close(ch);
	}
	kill(pid, SIGTERM);
	wait_exit(pid);
	peer_server = 0;
	fclose(f);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: interop_test PEER_COMMAND...\n");
		return 2;
	}
	peer_cmd  = argv + 1;
	peer_argc = argc - 1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/corpc-interop-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_peer_client_calls_corpc),
	    cmocka_unit_test(test_corpc_calls_peer_server),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (peer_server > 0) {
		kill(peer_server, SIGTERM);
		waitpid(peer_server, NULL, 0);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void) system(cmd);
	return rc;
}
