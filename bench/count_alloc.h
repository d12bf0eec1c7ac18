// SPDX-License-Identifier: MIT
// The benchmark's allocation counter: malloc and friends are interposed in
// the corpc_bench executable (so every library and thread of the process
// goes through them) and counted while counting is on.
#ifndef CORPC_BENCH_COUNT_ALLOC_H
#define CORPC_BENCH_COUNT_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

// Allocations and bytes requested while counting was on.
typedef struct count_alloc_totals {
	uint64_t allocs;
	uint64_t bytes;
} count_alloc_totals;

// True when allocations are counted; false in sanitizer builds, where the
// sanitizer owns malloc. Any thread.
bool count_alloc_available(void);

// Zeroes the totals and starts counting, process-wide. Any thread.
void count_alloc_start(void);

// Stops counting and returns the totals since count_alloc_start.
count_alloc_totals count_alloc_stop(void);

#endif // CORPC_BENCH_COUNT_ALLOC_H
