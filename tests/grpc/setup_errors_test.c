// SPDX-License-Identifier: MIT
// Setup errors say what failed (corpc_err_detail), and log lines, corpc's
// and gRPC's, reach the hook (corpc_log_set).
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "echo_service.h"

typedef struct log_sink {
	pthread_mutex_t mu;
	int             lines;
	char            last[512];
} log_sink;

static log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
collect(corpc_log_level level, const char *text, void *arg)
{
	log_sink *s = arg;
	pthread_mutex_lock(&s->mu);
	(void) level;
	s->lines++;
	snprintf(s->last, sizeof(s->last), "%s", text);
	pthread_mutex_unlock(&s->mu);
}

static void
assert_detail_has(const char *want)
{
	const char *d = corpc_err_detail();
	if (strstr(d, want) == NULL) {
		fail_msg("detail \"%s\" lacks \"%s\"", d, want);
	}
}

static void
listen_in_missing_directory(void **state)
{
	(void) state;
	corpc_server *srv;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_string_equal(corpc_err_detail(), "");
	assert_int_equal(
	    corpc_server_listen(srv, "unix:///nonexistent-corpc-dir/s.sock"),
	    CORPC_ESYS);
	assert_detail_has("listen on unix:///nonexistent-corpc-dir/s.sock");
	assert_detail_has("directory /nonexistent-corpc-dir");
	assert_detail_has("No such file or directory");
	// The next setup call starts afresh.
	assert_int_equal(
	    corpc_server_listen(srv, "tcp://127.0.0.1:0"), CORPC_OK);
	assert_string_equal(corpc_err_detail(), "");
	corpc_server_destroy(srv);
}

static void
port_in_use_says_why(void **state)
{
	(void) state;
	echo_server   es;
	corpc_server *first = echo_serve("tcp://127.0.0.1:0", &es, NULL);
	assert_non_null(first);
	const char   *bound = corpc_server_address(first, 0);
	corpc_server *srv;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(corpc_server_listen(srv, bound), CORPC_EADDRINUSE);
	assert_detail_has(bound);
	assert_detail_has("Address already in use");
	corpc_server_destroy(srv);
	corpc_server_shutdown(first, 0);
	corpc_server_destroy(first);
}

// First test: gRPC starts here, and at GRPC_VERBOSITY=INFO (set by main)
// it logs its poller, which must reach the hook, not stderr.
static void
grpc_lines_reach_the_hook(void **state)
{
	(void) state;
	corpc_server *srv;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(srv, "tcp://127.0.0.1:0"), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	pthread_mutex_lock(&sink.mu);
	int  lines = sink.lines;
	bool grpc  = strncmp(sink.last, "grpc INFO ", 10) == 0;
	pthread_mutex_unlock(&sink.mu);
	print_message("%d lines, last: %s\n", lines, sink.last);
	assert_true(lines > 0);
	assert_true(grpc);
	corpc_log_set(NULL, NULL);
	corpc_server_shutdown(srv, 0);
	corpc_server_destroy(srv);
}

static void
bad_address_lists_the_forms(void **state)
{
	(void) state;
	corpc_channel *ch;
	assert_int_equal(corpc_channel_open("http://example.com", NULL, &ch),
	    CORPC_EADDRINVAL);
	assert_detail_has("open a channel to http://example.com");
	assert_detail_has("expected inproc://NAME");
	assert_int_equal(
	    corpc_channel_open("tcp://127.0.0.1:1", NULL, &ch), CORPC_OK);
	assert_string_equal(corpc_err_detail(), "");
	corpc_channel_close(ch);
}

static void
second_registration_names_the_method(void **state)
{
	(void) state;
	echo_server   es;
	corpc_server *srv;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(srv, &echo_impl, &es),
	    CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(srv, &echo_impl, &es),
	    CORPC_EEXIST);
	assert_detail_has("register service corpc.test.Echo");
	assert_detail_has("is registered already");
	corpc_server_destroy(srv);
}

static void
level_names(void **state)
{
	(void) state;
	assert_string_equal(corpc_log_level_name(CORPC_LOG_DEBUG), "DEBUG");
	assert_string_equal(
	    corpc_log_level_name(CORPC_LOG_WARNING), "WARNING");
	assert_string_equal(corpc_log_level_name(CORPC_LOG_ERROR), "ERROR");
}

int
main(void)
{
	// Before gRPC starts: it reads the variable once (the user's wins).
	setenv("GRPC_VERBOSITY", "INFO", 0);
	corpc_log_set(collect, &sink);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(grpc_lines_reach_the_hook), // first: starts gRPC
	    cmocka_unit_test(listen_in_missing_directory),
	    cmocka_unit_test(port_in_use_says_why),
	    cmocka_unit_test(bad_address_lists_the_forms),
	    cmocka_unit_test(second_registration_names_the_method),
	    cmocka_unit_test(level_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
