// SPDX-License-Identifier: MIT
// The load generator: each client thread keeps its share of the streams
// open at once and reads them round-robin; a stream that ends is recorded
// and replaced by a new one until the round's time is up.
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "test.corpc.h"

typedef struct slot {
	corpc_stream *st;
	int64_t       opened;
} slot;

typedef struct worker {
	const load_opts *opts;
	corpc_channel   *ch;
	unsigned         nstreams;
	int64_t          until;
	load_result      r;
	double          *lat_ms; // completed streams' latencies
	size_t           nlat, caplat;
	bool             failed;
} worker;

static void
record(worker *w, corpc_status_code code, int64_t opened)
{
	if (code == CORPC_STATUS_OK) {
		w->r.streams_ok++;
	} else {
		w->r.errors++;
	}
	w->r.by_code[code < CORPC_STATUS_COUNT ? code
	                                       : CORPC_STATUS_UNKNOWN]++;
	if (w->nlat == w->caplat) {
		size_t  cap = w->caplat ? w->caplat * 2 : 1024;
		double *v   = realloc(w->lat_ms, cap * sizeof(*v));
		if (v == NULL) {
			return; // latency sample lost; counts stay right
		}
		w->lat_ms = v;
		w->caplat = cap;
	}
	w->lat_ms[w->nlat++] = (double) (corpc_now() - opened) / 1e6;
}

static void
open_stream(worker *w, slot *s)
{
	Corpc__Test__EchoRequest req = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text                     = "load";
	req.count                    = (int32_t) w->opts->messages;
	corpc_call_opts opts         = {.timeout_ms = w->opts->timeout_ms};
	s->opened                    = corpc_now();
	if (corpc__test__echo__server_stream_open(
	        w->ch, &opts, &req, &s->st) != CORPC_OK) {
		s->st = NULL;
		record(w, CORPC_STATUS_RESOURCE_EXHAUSTED, s->opened);
	}
}

static void *
worker_main(void *arg)
{
	worker *w = arg;
	slot   *s = calloc(w->nstreams, sizeof(*s));
	if (s == NULL) {
		w->failed = true;
		return NULL;
	}
	for (unsigned i = 0; i < w->nstreams; i++) {
		open_stream(w, &s[i]);
	}
	unsigned open = w->nstreams;
	while (open > 0) {
		bool more = corpc_now() < w->until;
		open      = 0;
		for (unsigned i = 0; i < w->nstreams; i++) {
			if (s[i].st == NULL) {
				if (more) {
					open_stream(w, &s[i]);
				}
				open += s[i].st != NULL;
				continue;
			}
			open++;
			const Corpc__Test__EchoResponse *resp;
			corpc_status_code                code =
			    corpc__test__echo__server_stream_recv(
			        s[i].st, &resp);
			if (code == CORPC_STATUS_OK && resp != NULL) {
				w->r.messages++;
				continue;
			}
			record(w, code, s[i].opened);
			corpc_stream_destroy(s[i].st);
			s[i].st = NULL;
		}
	}
	free(s);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
	if (n == 0) {
		return 0;
	}
	size_t i = (size_t) (p * (double) (n - 1) + 0.5);
	return v[i];
}

bool
load_run(const load_opts *opts, load_result *out)
{
	memset(out, 0, sizeof(*out));
	unsigned   threads = opts->threads ? opts->threads : 1;
	worker    *w       = calloc(threads, sizeof(*w));
	pthread_t *th      = calloc(threads, sizeof(*th));
	bool       ok      = w != NULL && th != NULL;
	int64_t    start   = corpc_now();
	int64_t    until   = start + (int64_t) (opts->seconds * 1e9);
	unsigned   started = 0;
	for (unsigned i = 0; ok && i < threads; i++) {
		w[i].opts  = opts;
		w[i].until = until;
		w[i].nstreams =
		    opts->streams / threads + (i < opts->streams % threads);
		// One channel per thread, as separate clients would have.
		if (corpc_channel_open(opts->addr, NULL, &w[i].ch) !=
		        CORPC_OK ||
		    pthread_create(&th[i], NULL, worker_main, &w[i]) != 0) {
			corpc_channel_close(w[i].ch);
			ok = false;
			break;
		}
		started++;
	}
	size_t nlat = 0;
	for (unsigned i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		corpc_channel_close(w[i].ch);
		ok = ok && !w[i].failed;
		nlat += w[i].nlat;
	}
	out->seconds = (double) (corpc_now() - start) / 1e9;
	double *all  = malloc((nlat ? nlat : 1) * sizeof(*all));
	size_t  k    = 0;
	for (unsigned i = 0; i < started; i++) {
		out->streams_ok += w[i].r.streams_ok;
		out->messages += w[i].r.messages;
		out->errors += w[i].r.errors;
		for (int c = 0; c < CORPC_STATUS_COUNT; c++) {
			out->by_code[c] += w[i].r.by_code[c];
		}
		if (all != NULL) {
			memcpy(all + k, w[i].lat_ms, w[i].nlat * sizeof(*all));
			k += w[i].nlat;
		}
		free(w[i].lat_ms);
	}
	if (all != NULL) {
		qsort(all, k, sizeof(*all), cmp_double);
		out->p50_ms = pct(all, k, 0.50);
		out->p90_ms = pct(all, k, 0.90);
		out->p99_ms = pct(all, k, 0.99);
		out->max_ms = k ? all[k - 1] : 0;
	}
	free(all);
	free(w);
	free(th);
	return ok;
}

void
load_print(const load_opts *opts, const load_result *r, bool header)
{
	if (header) {
		printf("%-8s %-8s %10s %12s %9s %9s %9s %9s %7s\n", "streams",
		    "threads", "done", "msgs/s", "p50 ms", "p90 ms", "p99 ms",
		    "max ms", "errors");
	}
	printf("%-8u %-8u %10llu %12.0f %9.2f %9.2f %9.2f %9.2f %7llu\n",
	    opts->streams, opts->threads, (unsigned long long) r->streams_ok,
	    r->seconds > 0 ? (double) r->messages / r->seconds : 0, r->p50_ms,
	    r->p90_ms, r->p99_ms, r->max_ms, (unsigned long long) r->errors);
	for (int c = 1; c < CORPC_STATUS_COUNT; c++) {
		if (r->by_code[c] > 0) {
			printf("  %s: %llu\n",
			    corpc_status_name((corpc_status_code) c),
			    (unsigned long long) r->by_code[c]);
		}
	}
}

size_t
load_rss_kib(void)
{
	FILE *f    = fopen("/proc/self/statm", "r");
	long  size = 0, rss = 0;
	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &size, &rss) != 2) {
			rss = 0;
		}
		fclose(f);
	}
	return (size_t) rss * (size_t) sysconf(_SC_PAGESIZE) / 1024;
}

size_t
load_open_fds(void)
{
	DIR   *d = opendir("/proc/self/fd");
	size_t n = 0;
	if (d == NULL) {
		return 0;
	}
	while (readdir(d) != NULL) {
		n++;
	}
	closedir(d);
	return n - 3; // ".", ".." and the directory's own descriptor
}
