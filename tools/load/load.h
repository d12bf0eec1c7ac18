// SPDX-License-Identifier: MIT
// corpc_load: drives a corpc Echo server with many concurrent streams from
// several client threads for a bounded time, and reports throughput,
// latency percentiles and errors. The pieces are here so that tests can run
// rounds in-process and check for leaks between them.
#ifndef CORPC_LOAD_H
#define CORPC_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <corpc/corpc.h>

typedef struct load_opts {
	const char *addr;       // server to call
	unsigned    threads;    // client threads
	unsigned    streams;    // concurrent streams in all (split by thread)
	unsigned    messages;   // responses per stream
	double      seconds;    // how long a round runs
	int64_t     timeout_ms; // per-stream deadline (0: none)
} load_opts;

typedef struct load_result {
	uint64_t streams_ok; // streams read to a clean end
	uint64_t messages;   // responses received
	uint64_t errors;     // streams that ended otherwise
	uint64_t by_code[CORPC_STATUS_COUNT];
	double   seconds;                        // measured wall time
	double   p50_ms, p90_ms, p99_ms, max_ms; // stream latency, open to end
} load_result;

// Runs one round against opts->addr. Returns false if the round could not
// run at all (channel, threads); call errors are counted in *out.
bool load_run(const load_opts *opts, load_result *out);

// Prints a result as one table row (header first when `header`).
void load_print(const load_opts *opts, const load_result *r, bool header);

// --idle: holds `streams` idle bidi streams to `addr` (one connection, one
// client thread), makes `unary` sequential calls meanwhile and prints their
// latency, the time until every stream had its first response, and the
// threads and RSS of process `server_pid` (0: this one). Returns 0 when
// every stream and call succeeded.
int load_idle(
    const char *addr, unsigned streams, unsigned unary, int server_pid);

// Process resources, for leak checks between rounds.
size_t load_rss_kib(void);  // resident set size
size_t load_open_fds(void); // entries in /proc/self/fd

#endif // CORPC_LOAD_H
