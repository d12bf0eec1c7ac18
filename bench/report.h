// SPDX-License-Identifier: MIT
// The benchmark's output: the table on stdout and the --json records.
#ifndef CORPC_BENCH_REPORT_H
#define CORPC_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

// One measured case × respSize.
typedef struct bench_result {
	const char *impl;
	int         resp_size;
	double      ns_per_op;     // median over the samples
	double      bytes_per_op;  // < 0: not counted
	double      allocs_per_op; // < 0: not counted
} bench_result;

// Prints the table header.
void report_header(FILE *out);

// Prints one row; `direct` and `coro` are this respSize's rows of those
// cases for the ratio columns, or NULL when not measured.
void report_row(FILE *out, const bench_result *r, const bench_result *direct,
    const bench_result *coro);

// Writes `n` results to `path` as a JSON array, one record per line.
// Returns false (after printing why) when the file cannot be written.
bool report_json(const char *path, const bench_result *r, size_t n);

#endif // CORPC_BENCH_REPORT_H
