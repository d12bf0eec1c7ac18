// SPDX-License-Identifier: MIT
// Shared by the fuzz targets: the libFuzzer entry points and a check that
// turns a broken invariant into a crash libFuzzer reports.
//
// Each target is built twice: with clang and -fsanitize=fuzzer as a
// libFuzzer executable (CORPC_FUZZ=ON, scripts/fuzz.sh), and in the ordinary
// test builds with replay.c's main(), which runs the seeds and the
// regressions once as a ctest.
#ifndef CORPC_FUZZ_H
#define CORPC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// Runs one input. Returns 0; any failure aborts.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Optional one-time set-up, called before the first input.
int LLVMFuzzerInitialize(int *argc, char ***argv);

// Aborts with the failed condition and its line when `cond` is false.
#define FUZZ_CHECK(cond)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",      \
			    __FILE__, __LINE__, #cond);                       \
			abort();                                              \
		}                                                             \
	} while (0)

#endif // CORPC_FUZZ_H
