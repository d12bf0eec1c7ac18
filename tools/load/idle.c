// SPDX-License-Identifier: MIT
// corpc_load --idle N: holds N idle bidi streams open on one connection
// and measures what else the server still does meanwhile.
//
// The streams are driven by N tasks on a one-thread client runtime (each
// opens its stream, has one message echoed, then waits in recv), so the
// client side costs one thread too. While all are held, the main thread
// makes sequential unary calls and reports their latency; the server's
// threads and RSS come from /proc (this process, or --server-pid).
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "test.corpc.h"

typedef struct holder {
	corpc_channel          *ch;
	corpc_stream           *st;
	_Atomic(corpc_stream *) live; // st, once open: load_idle cancels it
	atomic_bool             released; // load_idle is done with `live`
	atomic_int             *ready;    // streams with their first response
	int64_t                 first;    // when it came (corpc_now)
	corpc_status_code       code;     // how the stream ended
} holder;

static void
hold(void *arg)
{
	holder                  *h   = arg;
	Corpc__Test__EchoRequest req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text                     = "idle";
	h->code                      = CORPC_STATUS_INTERNAL;
	if (corpc__test__echo__bidi_open(h->ch, NULL, &h->st) != CORPC_OK) {
		atomic_store(&h->released, true);
		return;
	}
	atomic_store(&h->live, h->st);
	const Corpc__Test__EchoResponse *r;
	if (corpc__test__echo__bidi_send(h->st, &req, 0) == CORPC_STATUS_OK &&
	    corpc__test__echo__bidi_recv(h->st, &r) == CORPC_STATUS_OK &&
	    r != NULL) {
		h->first = corpc_now();
		atomic_fetch_add(h->ready, 1);
		// Idle until the end: the server sends nothing more, so this
		// waits (suspended) until load_idle cancels the stream.
		h->code = corpc__test__echo__bidi_recv(h->st, &r);
	} else {
		h->code = corpc_stream_finish(h->st, NULL);
	}
	while (!atomic_load(&h->released)) {
		corpc_sleep_ms(
		    10); // the stream may still be cancelled: keep it
	}
	corpc_stream_destroy(h->st);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

// Threads and VmRSS (KiB) of process `pid` (0: this one).
static void
proc_usage(int pid, int *threads, size_t *rss_kib)
{
	char path[64];
	snprintf(path, sizeof(path),
	    pid > 0 ? "/proc/%d/status" : "/proc/self/status", pid);
	*threads = -1;
	*rss_kib = 0;
	FILE *f  = fopen(path, "r");
	char  line[256];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Threads:", 8) == 0) {
			*threads = atoi(line + 8);
		} else if (strncmp(line, "VmRSS:", 6) == 0) {
			*rss_kib = (size_t) atoll(line + 6);
		}
	}
	if (f != NULL) {
		fclose(f);
	}
}

static void
print_usage(const char *when, int pid)
{
	int    threads;
	size_t rss;
	proc_usage(pid, &threads, &rss);
	printf("%s %s_threads=%d %s_rss_mb=%.1f\n", when,
	    pid > 0 ? "server" : "process", threads,
	    pid > 0 ? "server" : "process", (double) rss / 1024);
}

int
load_idle(const char *addr, unsigned n, unsigned unary, int server_pid)
{
	corpc_channel *ch;
	if (corpc_channel_open(addr, NULL, &ch) != CORPC_OK) {
		fprintf(stderr, "cannot open %s\n", addr);
		return 1;
	}
	corpc_runtime     *rt;
	corpc_runtime_opts ro  = {.threads = 1};
	holder            *h   = calloc(n, sizeof(*h));
	corpc_task       **t   = calloc(n, sizeof(*t));
	double            *lat = calloc(unary > 0 ? unary : 1, sizeof(*lat));
	if (h == NULL || t == NULL || lat == NULL ||
	    corpc_runtime_create(&ro, &rt) != CORPC_OK) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	print_usage("before", server_pid);
	atomic_int ready = 0;
	int64_t    t0    = corpc_now();
	for (unsigned i = 0; i < n; i++) {
		h[i].ch    = ch;
		h[i].ready = &ready;
		if (corpc_task_spawn(rt, hold, &h[i], &t[i]) != CORPC_OK) {
			fprintf(stderr, "cannot start task %u\n", i);
			return 1;
		}
	}
	int64_t give_up = t0 + 20 * 1000000000LL;
	while (atomic_load(&ready) < (int) n && corpc_now() < give_up) {
		corpc_sleep_ms(5);
	}
	int     got  = atomic_load(&ready);
	int64_t last = t0;
	for (unsigned i = 0; i < n; i++) {
		if (h[i].first > last) {
			last = h[i].first;
		}
	}
	printf("streams=%u first_response_all=%.2fs got=%d/%u\n", n,
	    (double) (last - t0) / 1e9, got, n);
	print_usage("after_streams", server_pid);

	// Unary calls while every stream is held.
	unsigned ok = 0, failed[CORPC_STATUS_COUNT] = {0};
	for (unsigned i = 0; i < unary; i++) {
		Corpc__Test__EchoRequest req = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text                     = "unary";
		corpc_call_opts                  o = {.timeout_ms = 5000};
		const Corpc__Test__EchoResponse *r;
		corpc_stream                    *st;
		int64_t                          s = corpc_now();
		corpc_status_code                rc =
		    corpc__test__echo__unary_call(ch, &o, &req, &r, &st);
		lat[ok] = (double) (corpc_now() - s) / 1e6;
		if (rc == CORPC_STATUS_OK) {
			ok++;
		} else {
			failed[rc < CORPC_STATUS_COUNT
			           ? rc
			           : CORPC_STATUS_UNKNOWN]++;
		}
		corpc_stream_destroy(st);
	}
	if (ok > 0) {
		qsort(lat, ok, sizeof(*lat), cmp_double);
		printf("unary n=%u ok=%u p50=%.2fms p99=%.2fms max=%.2fms "
		       "errors={",
		    unary, ok, lat[ok / 2], lat[(size_t) (ok * 0.99)],
		    lat[ok - 1]);
	} else {
		printf("unary n=%u ok=0 errors={", unary);
	}
	for (int c = 0; c < CORPC_STATUS_COUNT; c++) {
		if (failed[c] > 0) {
			printf(" %s:%u",
			    corpc_status_name((corpc_status_code) c),
			    failed[c]);
		}
	}
	printf(" }\n");
	print_usage("after_unary", server_pid);

	// Let go: each holder's recv ends CANCELLED and it destroys its
	// stream.
	for (unsigned i = 0; i < n; i++) {
		corpc_stream *st = atomic_load(&h[i].live);
		if (st != NULL) {
			corpc_stream_cancel(st);
		}
		atomic_store(&h[i].released, true);
	}
	for (unsigned i = 0; i < n; i++) {
		corpc_task_join(t[i]);
	}
	corpc_runtime_destroy(rt);
	corpc_channel_close(ch);
	free(h);
	free(t);
	free(lat);
	return got == (int) n && ok == unary ? 0 : 1;
}
