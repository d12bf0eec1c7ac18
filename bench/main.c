// SPDX-License-Identifier: MIT
// corpc_bench: the reference workload (anchors.md): one op opens a
// ListStrings.List stream and receives all 10,000 strings (the up-* cases:
// sends them on ListStrings.Upload). For each case
// and respSize: time/op is the median of --count samples after a warm-up,
// each sample a batch of ops lasting about SAMPLE_NS (a row stops early
// after ROW_NS); B/op and allocs/op are counted process-wide over all timed
// samples.
//   corpc_bench [--impl NAME[,NAME...]]... [--count N] [--size N]
//               [--json FILE]
// --size keeps one respSize (1, 10 or 100), e.g. for counting instructions
// per message under callgrind.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases.h"
#include "count_alloc.h"
#include "list_service.h"
#include "report.h"

#define DEFAULT_COUNT 30
#define WARM_NS       20000000 // warm-up: at least this long, and 2 ops
#define SAMPLE_NS     10000000 // one sample: about this long, at least 1 op
#define ROW_NS        INT64_C(5000000000) // row budget (3 samples min)

static const int resp_sizes[] = {1, 10, 100};
#define NSIZES (sizeof(resp_sizes) / sizeof(resp_sizes[0]))

// The respSize to measure (--size), or 0 for all.
static int only_size;

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x > y) - (x < y);
}

// Sorts the `n` samples and returns their median.
static double
median(double *v, int n)
{
	qsort(v, (size_t) n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Measures case `i` at `resp_size` into *r. `samples` has room for `count`.
static bool
measure(int i, int resp_size, int count, double *samples, bench_result *r)
{
	// Warm-up: fills pools and connections, and sizes the batches.
	int64_t  t0  = now_ns();
	uint64_t ops = 0;
	do {
		if (!bench_case_op(i, resp_size)) {
			return false;
		}
		ops++;
	} while (ops < 2 || now_ns() - t0 < WARM_NS);
	double   est   = (double) (now_ns() - t0) / (double) ops;
	uint64_t batch = est >= SAMPLE_NS ? 1 : (uint64_t) (SAMPLE_NS / est);

	count_alloc_start();
	int64_t start = now_ns();
	for (int s = 0; s < count; s++) {
		int64_t t = now_ns();
		for (uint64_t k = 0; k < batch; k++) {
			if (!bench_case_op(i, resp_size)) {
				count_alloc_stop();
				return false;
			}
		}
		samples[s] = (double) (now_ns() - t) / (double) batch;
		if (s >= 2 && now_ns() - start > ROW_NS) {
			// A very slow case: keep make bench short.
			count = s + 1;
		}
	}
	count_alloc_totals tot = count_alloc_stop();

	double total     = (double) batch * count;
	r->impl          = bench_case_names[i];
	r->resp_size     = resp_size;
	r->ns_per_op     = median(samples, count);
	r->bytes_per_op  = count_alloc_available() ? tot.bytes / total : -1;
	r->allocs_per_op = count_alloc_available() ? tot.allocs / total : -1;
	return true;
}

// Results in table order: by respSize, then case.
static bench_result results[NSIZES * BENCH_NCASES];
static bool         measured[NSIZES * BENCH_NCASES];
static size_t       n_results;

// Measures the selected cases that are network cases (or, without
// `network`, those that are not) at every respSize. The two groups run
// apart, so that gRPC's background threads, which allocate now and then,
// are not running while the in-process cases are counted. Returns false on
// a failure.
static bool
run_phase(bool network, const bool selected[BENCH_NCASES], int count,
    double *samples)
{
	bool        sel[BENCH_NCASES];
	bool        any                = false;
	const char *skip[BENCH_NCASES] = {NULL};
	for (int i = 0; i < BENCH_NCASES; i++) {
		sel[i] = selected[i] && bench_case_network(i) == network;
		any    = any || sel[i];
	}
	if (!any) {
		return true;
	}
	bool ok = bench_cases_setup(sel, skip);
	for (int i = 0; ok && i < BENCH_NCASES; i++) {
		if (sel[i] && skip[i] != NULL) {
			printf("%s: %s\n", bench_case_names[i], skip[i]);
			continue;
		}
		for (size_t s = 0; ok && sel[i] && s < NSIZES; s++) {
			size_t k = s * BENCH_NCASES + (size_t) i;
			if (only_size != 0 && resp_sizes[s] != only_size) {
				continue;
			}
			ok = measure(
			    i, resp_sizes[s], count, samples, &results[k]);
			measured[k] = ok;
		}
	}
	bench_cases_teardown();
	return ok;
}

// Prints the table of what was measured and packs `results` for --json.
static void
print_table(void)
{
	int d = bench_case_find("direct"), c = bench_case_find("coro");
	int u = bench_case_find("up-coro");
	report_header(stdout);
	for (size_t s = 0; s < NSIZES; s++) {
		bench_result *row    = &results[s * BENCH_NCASES];
		bool         *have   = &measured[s * BENCH_NCASES];
		bench_result *direct = have[d] ? &row[d] : NULL;
		bench_result *coro   = have[c] ? &row[c] : NULL;
		bench_result *up     = have[u] ? &row[u] : NULL;
		for (int i = 0; i < BENCH_NCASES; i++) {
			// Upload rows compare with up-coro; direct has no
			// upload counterpart.
			bool up_row = bench_case_upload(i);
			if (have[i]) {
				report_row(stdout, &row[i],
				    up_row ? NULL : direct,
				    up_row ? up : coro);
			}
		}
	}
	for (size_t k = 0; k < NSIZES * BENCH_NCASES; k++) {
		if (measured[k]) {
			results[n_results++] = results[k];
		}
	}
}

// Selects the cases named in a comma list. Returns false for an unknown name.
static bool
select_impls(char *list, bool selected[BENCH_NCASES])
{
	for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
		int i = bench_case_find(name);
		if (i < 0) {
			fprintf(stderr, "unknown impl '%s'; known:", name);
			for (int k = 0; k < BENCH_NCASES; k++) {
				fprintf(stderr, " %s", bench_case_names[k]);
			}
			fputc('\n', stderr);
			return false;
		}
		selected[i] = true;
	}
	return true;
}

static void
print_cpu(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char  line[256];
	int   n          = 0;
	char  model[256] = "unknown";
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "model name", 10) == 0) {
			char *p = strchr(line, ':');
			if (n++ == 0 && p != NULL) {
				snprintf(model, sizeof(model), "%s", p + 2);
				model[strcspn(model, "\n")] = '\0';
			}
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	printf("cpu: %s, %d logical CPUs\n", model, n);
}

int
main(int argc, char **argv)
{
	bool        selected[BENCH_NCASES] = {false};
	bool        any                    = false;
	int         count                  = DEFAULT_COUNT;
	const char *json                   = NULL;
	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--impl") == 0 && a + 1 < argc) {
			if (!select_impls(argv[++a], selected)) {
				return 2;
			}
			any = true;
		} else if (strcmp(argv[a], "--count") == 0 && a + 1 < argc) {
			count = atoi(argv[++a]);
		} else if (strcmp(argv[a], "--size") == 0 && a + 1 < argc) {
			only_size = atoi(argv[++a]);
		} else if (strcmp(argv[a], "--json") == 0 && a + 1 < argc) {
			json = argv[++a];
		} else {
			fprintf(stderr,
			    "usage: %s [--impl NAME[,NAME...]]... "
			    "[--count N] [--size 1|10|100] [--json FILE]\n",
			    argv[0]);
			return 2;
		}
	}
	if (count < 1) {
		fprintf(stderr, "--count must be at least 1\n");
		return 2;
	}
	if (only_size != 0 && only_size != 1 && only_size != 10 &&
	    only_size != 100) {
		fprintf(stderr, "--size must be 1, 10 or 100\n");
		return 2;
	}
	for (int i = 0; i < BENCH_NCASES && !any; i++) {
		selected[i] = true;
	}

	printf("corpc_bench: ListStrings.List, %d strings of %d B per op; "
	       "time/op = median of %d samples\n",
	    LIST_STRINGS, LIST_STRING_SIZE, count);
	print_cpu();
	if (!count_alloc_available()) {
		printf("B/op, allocs/op: not counted (sanitizer build)\n");
	}
	double *samples = malloc((size_t) count * sizeof(double));
	bool    ok      = samples != NULL;
	ok              = ok && run_phase(false, selected, count, samples);
	ok              = ok && run_phase(true, selected, count, samples);
	free(samples);
	putchar('\n');
	print_table();
	if (ok && json != NULL) {
		ok = report_json(json, results, n_results);
	}
	return ok ? 0 : 1;
}
