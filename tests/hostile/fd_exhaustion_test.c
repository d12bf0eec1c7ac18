// SPDX-License-Identifier: MIT
// Descriptor exhaustion: a server whose process may hold only 64 files is
// flooded with 100 idle connections, which run it out of descriptors while
// it accepts them. Once they close, it must accept again: a normal call
// succeeds within 2 s. (gRPC 1.51's own listener stops for good after one
// accept4 EMFILE; corpc accepts plaintext connections itself.)
//
// `fd_exhaustion_test --serve SOFT HARD` is the server, started in its own
// process (gRPC must not be forked): it sets its limits, prints its address
// and the soft limit once corpc runs, and serves until its stdin closes.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "child.h"
#include "nest_service.h"

#define FD_LIMIT         64
#define IDLE_CONNECTIONS 100

static int
serve_child(const char *soft, const char *hard)
{
	struct rlimit rl = {strtoul(soft, NULL, 10), strtoul(hard, NULL, 10)};
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		perror("setrlimit");
		return 1;
	}
	corpc_server *srv;
	if (corpc_server_create(NULL, &srv) != CORPC_OK ||
	    corpc__hostile__nest__register_server(srv, &nest_impl, NULL) !=
	        CORPC_OK ||
	    corpc_server_listen(srv, "tcp://127.0.0.1:0") != CORPC_OK ||
	    corpc_server_start(srv) != CORPC_OK) {
		fprintf(stderr, "serve: cannot start\n");
		return 1;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("%s %llu\n", corpc_server_address(srv, 0),
	    (unsigned long long) rl.rlim_cur);
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0) {
	}
	corpc_server_destroy(srv);
	return 0;
}

// A TCP connection to 127.0.0.1:port that sends nothing.
static int
idle_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family      = AF_INET;
	sa.sin_port        = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	return fd;
}

// One Depth call with a short deadline; its code.
static corpc_status_code
try_call(const char *addr)
{
	corpc_channel *ch;
	assert_int_equal(corpc_channel_open(addr, NULL, &ch), CORPC_OK);
	Node              req  = CORPC__HOSTILE__NODE__INIT;
	corpc_call_opts   opts = {.timeout_ms = 300};
	const Node       *resp;
	corpc_stream     *st;
	corpc_status_code rc =
	    corpc__hostile__nest__depth_call(ch, &opts, &req, &resp, &st);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	return rc;
}

// A server limited to `soft` and `hard` descriptors; its address in addr,
// and the soft limit it runs with, once corpc raised it.
static void
server_start(
    child *ch, char *soft, char *hard, char *addr, unsigned long long *limit)
{
	char *const args[] = {soft, hard, NULL};
	child_start(ch, args);
	assert_int_equal(sscanf(ch->line, "%199s %llu", addr, limit), 2);
	printf("  server %s, descriptor limit %llu\n", addr, *limit);
}

// The soft limit goes up to the hard one when corpc starts.
static void
soft_limit_raised(void **state)
{
	(void) state;
	child              ch;
	char               addr[200];
	unsigned long long limit;
	server_start(&ch, "64", "256", addr, &limit);
	assert_int_equal(limit, 256);
	child_stop(&ch);
}

static void
accepts_again_after_emfile(void **state)
{
	(void) state;
	child              ch;
	char               addr[200];
	unsigned long long limit;
	server_start(&ch, "64", "64", addr, &limit);
	assert_int_equal(limit, FD_LIMIT);
	int port = atoi(strrchr(addr, ':') + 1);

	int idle[IDLE_CONNECTIONS];
	for (int i = 0; i < IDLE_CONNECTIONS; i++) {
		idle[i] = idle_connect(port);
	}
	// Let the server run out while it accepts them; meanwhile a call
	// cannot be served (no descriptor for it).
	corpc_sleep_ms(500);
	corpc_status_code during = try_call(addr);
	printf("  while exhausted: %s\n", corpc_status_name(during));
	for (int i = 0; i < IDLE_CONNECTIONS; i++) {
		close(idle[i]);
	}
	int64_t           t0 = corpc_now();
	corpc_status_code rc;
	while ((rc = try_call(addr)) != CORPC_STATUS_OK &&
	       corpc_now() - t0 < 2000000000) {
	}
	int64_t ms = (corpc_now() - t0) / 1000000;
	printf("  after the idle connections closed: %s in %lld ms\n",
	    corpc_status_name(rc), (long long) ms);
	assert_int_equal(rc, CORPC_STATUS_OK);
	child_stop(&ch);
}

int
main(int argc, char **argv)
{
	if (argc > 3 && strcmp(argv[1], "--serve") == 0) {
		return serve_child(argv[2], argv[3]);
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(soft_limit_raised),
	    cmocka_unit_test(accepts_again_after_emfile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
