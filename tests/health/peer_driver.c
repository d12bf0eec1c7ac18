// SPDX-License-Identifier: MIT
// Serves a corpc server over tcp:// for a gRPC peer nobody here wrote
// (grpcio, npm's grpc-health-check, @grpc/reflection) and runs that peer:
//
//   peer_driver COMMAND ARGS...   runs COMMAND ARGS... HOST:PORT
//
// The server has health and reflection enabled and the services of
// codegen/tests/protos/a/b/services.proto (which imports two more files).
// Health starts with "" and "demo.Up" SERVING, "demo.Down" NOT_SERVING. The
// peer steers the server with lines on its stdout: "set NAME SERVING|
// NOT_SERVING", "clear NAME", "shutdown" (corpc_server_shutdown with a 5 s
// grace, on another thread); other lines are echoed. The test passes when
// the peer exits 0 and every command it sent worked.
#include <pthread.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "a/b/services.corpc.h"
#include "corpc/corpc.h"

extern char **environ;

static char **peer_argv;
static int    peer_argc;

static const A__B__Kinds_Server     kinds_impl = {0}; // UNIMPLEMENTED
static const A__B__MoreNames_Server more_impl  = {0};

static void *
shutdown_main(void *arg)
{
	corpc_server_shutdown(arg, 5000);
	return NULL;
}

static void
test_peer(void **state)
{
	(void) state;
	corpc_server *srv;
	corpc_health *h;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(corpc_health_enable(srv, &h), CORPC_OK);
	assert_int_equal(corpc_reflection_enable(srv, NULL), CORPC_OK);
	assert_int_equal(
	    a__b__kinds__register_server(srv, &kinds_impl, NULL), CORPC_OK);
	assert_int_equal(
	    a__b__more_names__register_server(srv, &more_impl, NULL),
	    CORPC_OK);
	assert_int_equal(
	    corpc_health_set(h, "demo.Up", CORPC_HEALTH_SERVING), CORPC_OK);
	assert_int_equal(
	    corpc_health_set(h, "demo.Down", CORPC_HEALTH_NOT_SERVING),
	    CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(srv, "tcp://127.0.0.1:0"), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);

	char target[64];
	snprintf(target, sizeof(target), "%s",
	    corpc_server_address(srv, 0) + strlen("tcp://"));
	char *argv[34];
	int   n = 0;
	for (int i = 0; i < peer_argc && n < 32; i++) {
		argv[n++] = peer_argv[i];
	}
	argv[n++] = target;
	argv[n]   = NULL;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	pid_t pid;
	assert_int_equal(
	    posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);

	FILE     *in = fdopen(fds[0], "r");
	char      line[256];
	pthread_t stopper;
	bool      stopping = false;
	assert_non_null(in);
	while (fgets(line, sizeof(line), in) != NULL) {
		char name[128], status[32];
		line[strcspn(line, "\n")] = '\0';
		printf("peer: %s\n", line);
		fflush(stdout);
		if (sscanf(line, "set %127s %31s", name, status) == 2) {
			corpc_health_status st =
			    strcmp(status, "SERVING") == 0
			        ? CORPC_HEALTH_SERVING
			        : CORPC_HEALTH_NOT_SERVING;
			assert_int_equal(
			    corpc_health_set(h, name, st), CORPC_OK);
		} else if (sscanf(line, "clear %127s", name) == 1) {
			assert_int_equal(
			    corpc_health_clear(h, name), CORPC_OK);
		} else if (strcmp(line, "shutdown") == 0 && !stopping) {
			stopping = true;
			assert_int_equal(
			    pthread_create(&stopper, NULL, shutdown_main, srv),
			    0);
		}
	}
	fclose(in);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	if (stopping) {
		pthread_join(stopper, NULL);
	}
	corpc_server_destroy(srv);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: peer_driver COMMAND [ARGS...]\n");
		return 2;
	}
	peer_argv                       = argv + 1;
	peer_argc                       = argc - 1;
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_peer)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
