// SPDX-License-Identifier: MIT
// What hostile or heavy traffic leaves in a server's memory (a server with
// default options in a child process, measured in /proc/PID/status).
//
// Rapid-reset flood (CVE-2023-44487): FLOOD_CONNECTIONS connections at once
// (CORPC_FLOOD_CONNECTIONS overrides it) each send HEADERS then RST_STREAM
// for FLOOD_STREAMS streams (CORPC_FLOOD_STREAMS) as fast as they can.
// (Several connections outrun the server: gRPC parses them on several
// threads and queues their calls faster than corpc sees them; README.)
// The server must close each connection (max_resets_per_connection), its peak
// RSS (VmHWM) must stay within FLOOD_RSS_BOUND_MB of what it held before,
// and normal calls on another connection must succeed during and after
// the flood.
//
// Bursts: BURST_CALLS parallel calls of a BURST_BYTES request, BURST_ROUNDS
// times; once they are answered and the server idles, its RSS must come
// back within BURST_RSS_BOUND_MB of what it held before.
//
// `memory_test --serve` is the server: it prints its address and serves
// until its stdin closes.
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "h2_flood.h"
#include "nest_service.h"
#include "child.h"

// Under AddressSanitizer freed memory waits in its quarantine (256 MB), so
// RSS says nothing about what the server holds: the runs still check that
// everything works, and the plain build checks the bounds.
#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED 0
#else
#define RSS_CHECKED 1
#endif

#define FLOOD_STREAMS      20000
#define FLOOD_CONNECTIONS  1
#define FLOOD_RSS_BOUND_MB 200
#define BURST_CALLS        4
#define BURST_BYTES        (4000 * 1000)
#define BURST_ROUNDS       5
#define BURST_RSS_BOUND_MB 64

static int
serve_child(void)
{
	corpc_server *srv;
	if (corpc_server_create(NULL, &srv) != CORPC_OK ||
	    corpc__hostile__nest__register_server(srv, &nest_impl, NULL) !=
	        CORPC_OK ||
	    corpc__hostile__raw_nest__register_server(
	        srv, &raw_nest_impl, NULL) != CORPC_OK ||
	    corpc_server_listen(srv, "tcp://127.0.0.1:0") != CORPC_OK ||
	    corpc_server_start(srv) != CORPC_OK) {
		fprintf(stderr, "serve: cannot start\n");
		return 1;
	}
	printf("%s\n", corpc_server_address(srv, 0));
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0) {
	}
	corpc_server_destroy(srv);
	return 0;
}

static corpc_status_code
depth_call(corpc_channel *ch)
{
	Node              req  = CORPC__HOSTILE__NODE__INIT;
	corpc_call_opts   opts = {.timeout_ms = 10000};
	const Node       *resp;
	corpc_stream     *st;
	corpc_status_code rc =
	    corpc__hostile__nest__depth_call(ch, &opts, &req, &resp, &st);
	corpc_stream_destroy(st);
	return rc;
}

typedef struct flood_job {
	int             port;
	unsigned        n;
	h2_flood_result r;
	atomic_bool     done;
} flood_job;

static void *
flood_main(void *arg)
{
	flood_job *j = arg;
	j->r         = h2_flood(j->port, "/corpc.hostile.Nest/Depth", j->n);
	atomic_store(&j->done, true);
	return NULL;
}

static unsigned
env_or(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	return v != NULL && atoi(v) > 0 ? (unsigned) atoi(v) : dflt;
}

static void
rapid_reset_bounded(void **state)
{
	(void) state;
	unsigned n     = env_or("CORPC_FLOOD_STREAMS", FLOOD_STREAMS);
	unsigned conns = env_or("CORPC_FLOOD_CONNECTIONS", FLOOD_CONNECTIONS);
	assert_true(conns <= 16);
	child       ch;
	char *const args[] = {NULL};
	child_start(&ch, args);
	char addr[200];
	assert_int_equal(sscanf(ch.line, "%199s", addr), 1);
	corpc_channel *chan;
	assert_int_equal(corpc_channel_open(addr, NULL, &chan), CORPC_OK);
	assert_int_equal(depth_call(chan), CORPC_STATUS_OK);
	long base = child_status_kb(ch.pid, "VmHWM:");

	flood_job job[16];
	pthread_t t[16];
	for (unsigned i = 0; i < conns; i++) {
		job[i] =
		    (flood_job) {.port = atoi(strrchr(addr, ':') + 1), .n = n};
		assert_int_equal(
		    pthread_create(&t[i], NULL, flood_main, &job[i]), 0);
	}
	int      calls = 0, ok = 0;
	unsigned done = 0;
	while (done < conns) {
		calls++;
		ok += depth_call(chan) == CORPC_STATUS_OK;
		for (done = 0; done < conns && atomic_load(&job[done].done);) {
			done++;
		}
	}
	calls++;
	ok += depth_call(chan) == CORPC_STATUS_OK;
	long peak = child_status_kb(ch.pid, "VmHWM:");
	long rss  = child_status_kb(ch.pid, "VmRSS:");
	for (unsigned i = 0; i < conns; i++) {
		pthread_join(t[i], NULL);
		printf("  connection %u: %u resets sent of %u in %.2f s; "
		       "server: max streams %u, %s%s\n",
		    i, job[i].r.sent, n, job[i].r.seconds,
		    job[i].r.max_streams,
		    job[i].r.goaway ? "GOAWAY" : "no GOAWAY",
		    job[i].r.closed ? ", closed the connection" : "");
	}
	printf("  server RSS: %ld MB before, peak %ld MB, %ld MB after; "
	       "normal calls %d/%d OK\n",
	    base / 1024, peak / 1024, rss / 1024, ok, calls);
	assert_int_equal(ok, calls);
	assert_true(!RSS_CHECKED || peak - base < FLOOD_RSS_BOUND_MB * 1024L);
	for (unsigned i = 0; i < conns; i++) {
		assert_int_equal(job[i].r.max_streams, 4096); // the default
		// The server closed each flooding connection (it reset more
		// than 100 streams unused, the default, and used none).
		assert_true(job[i].r.closed);
	}
	corpc_channel_close(chan);
	child_stop(&ch);
}

typedef struct burst_job {
	corpc_channel    *ch;
	corpc_status_code rc;
	int32_t           len; // the server's answer
} burst_job;

static void *
burst_main(void *arg)
{
	burst_job      *j    = arg;
	RawNode         req  = CORPC__HOSTILE__RAW_NODE__INIT;
	corpc_call_opts opts = {.timeout_ms = 60000};
	req.child.len        = BURST_BYTES;
	req.child.data       = malloc(BURST_BYTES);
	assert_non_null(req.child.data);
	memset(req.child.data, 'x', BURST_BYTES);
	const Node   *resp;
	corpc_stream *st;
	j->rc = corpc__hostile__raw_nest__sink_call(
	    j->ch, &opts, &req, &resp, &st);
	j->len = j->rc == CORPC_STATUS_OK ? resp->value : -1;
	corpc_stream_destroy(st);
	free(req.child.data);
	return NULL;
}

// RSS of `pid` once it settles: the lowest of a few looks a little apart
// (the server returns memory when its workers go idle).
static long
settled_rss(pid_t pid)
{
	long low = child_status_kb(pid, "VmRSS:");
	for (int i = 0; i < 10; i++) {
		corpc_sleep_ms(50);
		long now = child_status_kb(pid, "VmRSS:");
		low      = now < low ? now : low;
	}
	return low;
}

static void
memory_returns_after_bursts(void **state)
{
	(void) state;
	child       ch;
	char *const args[] = {NULL};
	child_start(&ch, args);
	char addr[200];
	assert_int_equal(sscanf(ch.line, "%199s", addr), 1);
	corpc_channel *chan[BURST_CALLS];
	for (int i = 0; i < BURST_CALLS; i++) {
		// A connection each, as separate clients would.
		corpc_channel_opts co = {.max_message_size = 2 * BURST_BYTES};
		assert_int_equal(
		    corpc_channel_open(addr, &co, &chan[i]), CORPC_OK);
		assert_int_equal(depth_call(chan[i]), CORPC_STATUS_OK);
	}
	long base = settled_rss(ch.pid);
	long peak = 0;
	for (int r = 0; r < BURST_ROUNDS; r++) {
		burst_job j[BURST_CALLS];
		pthread_t t[BURST_CALLS];
		for (int i = 0; i < BURST_CALLS; i++) {
			j[i].ch = chan[i];
			assert_int_equal(
			    pthread_create(&t[i], NULL, burst_main, &j[i]), 0);
		}
		for (int i = 0; i < BURST_CALLS; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(j[i].rc, CORPC_STATUS_OK);
			assert_int_equal(j[i].len, BURST_BYTES);
		}
		long now = child_status_kb(ch.pid, "VmRSS:");
		peak     = now > peak ? now : peak;
	}
	long after = settled_rss(ch.pid);
	printf(
	    "  %d rounds of %d parallel %d-byte requests: server RSS %ld MB "
	    "before, %ld MB right after a burst, %ld MB settled (peak %ld "
	    "MB)\n",
	    BURST_ROUNDS, BURST_CALLS, BURST_BYTES, base / 1024, peak / 1024,
	    after / 1024, child_status_kb(ch.pid, "VmHWM:") / 1024);
	assert_true(!RSS_CHECKED || after - base < BURST_RSS_BOUND_MB * 1024L);
	for (int i = 0; i < BURST_CALLS; i++) {
		corpc_channel_close(chan[i]);
	}
	child_stop(&ch);
}

// A message larger than the server's memory quota fails at once with
// RESOURCE_EXHAUSTED (gRPC's quota: corpc passes memory_quota to it).
static void
memory_quota_refuses(void **state)
{
	(void) state;
	corpc_server     *srv;
	corpc_server_opts so = {
	    .memory_quota = 1 << 20, .max_message_size = 8 << 20};
	assert_int_equal(corpc_server_create(&so, &srv), CORPC_OK);
	assert_int_equal(corpc__hostile__raw_nest__register_server(
	                     srv, &raw_nest_impl, NULL),
	    CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(srv, "tcp://127.0.0.1:0"), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	corpc_channel     *ch;
	corpc_channel_opts co = {.max_message_size = 8 << 20};
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(srv, 0), &co, &ch),
	    CORPC_OK);
	RawNode req    = CORPC__HOSTILE__RAW_NODE__INIT;
	req.child.len  = 4 << 20;
	req.child.data = calloc(1, req.child.len);
	const Node       *resp;
	corpc_stream     *st;
	corpc_call_opts   opts = {.timeout_ms = 20000};
	corpc_status_code rc =
	    corpc__hostile__raw_nest__sink_call(ch, &opts, &req, &resp, &st);
	corpc_status status;
	corpc_stream_finish(st, &status);
	printf("  4 MiB request, 1 MiB quota: %s: %s\n", corpc_status_name(rc),
	    status.message);
	assert_int_equal(rc, CORPC_STATUS_RESOURCE_EXHAUSTED);
	corpc_stream_destroy(st);
	req.child.len = 1000;
	rc = corpc__hostile__raw_nest__sink_call(ch, &opts, &req, &resp, &st);
	assert_int_equal(rc, CORPC_STATUS_OK); // small ones still pass
	corpc_stream_destroy(st);
	free(req.child.data);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--serve") == 0) {
		return serve_child();
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rapid_reset_bounded),
	    cmocka_unit_test(memory_returns_after_bursts),
	    cmocka_unit_test(memory_quota_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
