// SPDX-License-Identifier: MIT
// Table and JSON output. Units follow the Go reference table: time in
// ns/µs/ms, bytes in B/KB/MB (powers of 1000).
#include <string.h>

#include "report.h"

// Formats nanoseconds for the table.
static void
fmt_time(char *buf, size_t size, double ns)
{
	if (ns < 1e3) {
		snprintf(buf, size, "%.0f ns", ns);
	} else if (ns < 1e6) {
		snprintf(buf, size, "%.1f µs", ns / 1e3);
	} else if (ns < 1e9) {
		snprintf(buf, size, "%.2f ms", ns / 1e6);
	} else {
		snprintf(buf, size, "%.2f s", ns / 1e9);
	}
}

static void
fmt_bytes(char *buf, size_t size, double b)
{
	if (b < 0) {
		snprintf(buf, size, "-");
	} else if (b < 1e3) {
		snprintf(buf, size, "%.0f B", b);
	} else if (b < 1e6) {
		snprintf(buf, size, "%.1f KB", b / 1e3);
	} else {
		snprintf(buf, size, "%.2f MB", b / 1e6);
	}
}

// Whole numbers as such; a small fraction is shown, so that an occasional
// allocation in steady state is not rounded away.
static void
fmt_count(char *buf, size_t size, double n)
{
	if (n < 0) {
		snprintf(buf, size, "-");
	} else if (n == (double) (long long) n || n >= 100) {
		snprintf(buf, size, "%.0f", n);
	} else {
		snprintf(buf, size, "%.2f", n);
	}
}

static void
fmt_ratio(
    char *buf, size_t size, const bench_result *r, const bench_result *base)
{
	if (base == NULL || base->ns_per_op <= 0) {
		snprintf(buf, size, "-");
	} else {
		snprintf(buf, size, "%.2fx", r->ns_per_op / base->ns_per_op);
	}
}

// Prints `s` right-aligned in `width` columns (µ is one column, two bytes).
static void
put_right(FILE *out, const char *s, int width)
{
	int cols = 0;
	for (const char *p = s; *p; p++) {
		cols += ((unsigned char) *p & 0xc0) != 0x80;
	}
	fprintf(out, "%*s%s", width > cols ? width - cols : 0, "", s);
}

void
report_header(FILE *out)
{
	fprintf(out, "%-14s %8s %12s %12s %10s %10s %9s\n", "impl", "respSize",
	    "time/op", "B/op", "allocs/op", "vs direct", "vs coro");
}

void
report_row(FILE *out, const bench_result *r, const bench_result *direct,
    const bench_result *coro)
{
	char t[32], b[32], a[32], rd[32], rc[32];
	fmt_time(t, sizeof(t), r->ns_per_op);
	fmt_bytes(b, sizeof(b), r->bytes_per_op);
	fmt_count(a, sizeof(a), r->allocs_per_op);
	fmt_ratio(rd, sizeof(rd), r, direct);
	fmt_ratio(rc, sizeof(rc), r, coro);
	fprintf(out, "%-14s %8d ", r->impl, r->resp_size);
	put_right(out, t, 12);
	fputc(' ', out);
	put_right(out, b, 12);
	fprintf(out, " %10s %10s %9s\n", a, rd, rc);
	fflush(out);
}

bool
report_json(const char *path, const bench_result *r, size_t n)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return false;
	}
	fputs("[\n", f);
	for (size_t i = 0; i < n; i++) {
		char b[32] = "null", a[32] = "null"; // not counted
		if (r[i].bytes_per_op >= 0) {
			snprintf(b, sizeof(b), "%.1f", r[i].bytes_per_op);
			snprintf(a, sizeof(a), "%.3f", r[i].allocs_per_op);
		}
		fprintf(f,
		    "  {\"impl\": \"%s\", \"resp_size\": %d, "
		    "\"ns_per_op\": %.1f, \"bytes_per_op\": %s, "
		    "\"allocs_per_op\": %s}%s\n",
		    r[i].impl, r[i].resp_size, r[i].ns_per_op, b, a,
		    i + 1 < n ? "," : "");
	}
	fputs("]\n", f);
	bool ok = !ferror(f);
	ok      = (fclose(f) == 0) && ok;
	if (!ok) {
		perror(path);
	}
	return ok;
}
