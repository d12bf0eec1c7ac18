// SPDX-License-Identifier: MIT
// Tests for the bump arena: alignment, no overlap, large requests, reuse
// across reset, trim, shrinking, and use as a protobuf-c allocator.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"

#define ALIGN 16

static void
test_init_allocates_nothing(void **state)
{
	(void) state;
	corpc__arena a;
	corpc__arena_init(&a);
	assert_null(a.chunks);
	assert_int_equal(a.used, 0);
	assert_ptr_equal(a.alloc.allocator_data, &a);
	corpc__arena_reset(&a);
	assert_null(a.chunks);
	corpc__arena_fini(&a);
	assert_null(a.chunks);
	// fini leaves an empty arena that may be used again.
	assert_non_null(corpc__arena_alloc(&a, 1));
	corpc__arena_fini(&a);
}

// Odd sizes, including 0 and sizes straddling chunk ends: every pointer is
// aligned and the blocks do not overlap (each keeps its own fill pattern).
static void
test_alignment_and_overlap(void **state)
{
	(void) state;
	enum { N = 3000 };
	static unsigned char *p[N];
	static size_t         sz[N];
	corpc__arena          a;
	corpc__arena_init(&a);
	for (size_t i = 0; i < N; i++) {
		sz[i] = (i * 37) % 301;
		p[i]  = corpc__arena_alloc(&a, sz[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t) p[i] % ALIGN, 0);
		memset(p[i], (int) (i & 0xff), sz[i]);
	}
	for (size_t i = 0; i < N; i++) {
		for (size_t j = 0; j < sz[i]; j++) {
			assert_int_equal(p[i][j], i & 0xff);
		}
	}
	corpc__arena_fini(&a);
}

static void
test_via_protobuf_allocator(void **state)
{
	(void) state;
	corpc__arena a;
	corpc__arena_init(&a);
	void *p = a.alloc.alloc(a.alloc.allocator_data, 24);
	assert_non_null(p);
	assert_int_equal((uintptr_t) p % ALIGN, 0);
	a.alloc.free(a.alloc.allocator_data, p); // a no-op
	void *q = a.alloc.alloc(a.alloc.allocator_data, 24);
	assert_ptr_not_equal(p, q); // free did not hand p back
	corpc__arena_fini(&a);
}

// A large request gets its own chunk; small allocations keep bumping the
// head chunk they were using before it.
static void
test_large(void **state)
{
	(void) state;
	corpc__arena a;
	corpc__arena_init(&a);
	unsigned char *s0 = corpc__arena_alloc(&a, 16);
	assert_non_null(s0);
	corpc__arena_chunk *head = a.chunks;
	unsigned char      *big  = corpc__arena_alloc(&a, 1 << 20);
	assert_non_null(big);
	assert_int_equal((uintptr_t) big % ALIGN, 0);
	memset(big, 0xab, 1 << 20);
	unsigned char *s1 = corpc__arena_alloc(&a, 16);
	assert_ptr_equal(a.chunks, head);
	assert_ptr_equal(s1, s0 + 16);

	// Reset keeps the largest chunk: the 1 MiB one, now reused for all.
	corpc__arena_reset(&a);
	assert_non_null(a.chunks);
	assert_ptr_not_equal(a.chunks, head);
	unsigned char *r = corpc__arena_alloc(&a, 1 << 20);
	assert_ptr_equal(r, big);
	corpc__arena_fini(&a);
}

// Sizes whose bookkeeping would overflow fail cleanly. (Sizes malloc merely
// cannot satisfy are not tried: ASan aborts on those by default.)
static void
test_too_large(void **state)
{
	(void) state;
	corpc__arena a;
	corpc__arena_init(&a);
	assert_null(corpc__arena_alloc(&a, SIZE_MAX));
	assert_null(corpc__arena_alloc(&a, SIZE_MAX - 8));
	// Still usable afterwards.
	void *p = corpc__arena_alloc(&a, 8);
	assert_non_null(p);
	assert_null(corpc__arena_alloc(&a, SIZE_MAX - 20));
	assert_ptr_equal(corpc__arena_alloc(&a, 8), (char *) p + 16);
	corpc__arena_fini(&a);
}

static void
test_reset_reuses(void **state)
{
	(void) state;
	corpc__arena a;
	corpc__arena_init(&a);
	void               *p = corpc__arena_alloc(&a, 100);
	corpc__arena_chunk *c = a.chunks;
	corpc__arena_reset(&a);
	assert_ptr_equal(a.chunks, c);
	assert_int_equal(a.used, 0);
	assert_ptr_equal(corpc__arena_alloc(&a, 100), p);
	corpc__arena_fini(&a);
}

// Rounds of many small allocations (far more than one first chunk) then
// reset: the arena grows until one chunk holds a whole round, after which
// every round gets the same memory back (no malloc).
static void
test_steady_state(void **state)
{
	(void) state;
	corpc__arena a;
	corpc__arena_init(&a);
	corpc__arena_chunk *settled = NULL;
	void               *first   = NULL;
	for (int round = 0; round < 50; round++) {
		void *p0 = NULL;
		for (int i = 0; i < 2000; i++) {
			void *p =
			    corpc__arena_alloc(&a, (size_t) (i % 97) + 1);
			assert_non_null(p);
			if (i == 0) {
				p0 = p;
			}
		}
		// A large one too, which must fit in the settled chunk as
		// well.
		assert_non_null(corpc__arena_alloc(&a, 300000));
		if (round == 20) {
			settled = a.chunks;
			first   = p0;
		} else if (round > 20) {
			assert_ptr_equal(a.chunks, settled);
			assert_ptr_equal(p0, first);
		}
		corpc__arena_reset(&a);
	}
	corpc__arena_fini(&a);
}

// trim keeps a small chunk for reuse and frees a large one.
static void
test_trim(void **state)
{
	(void) state;
	corpc__arena a;
	corpc__arena_init(&a);
	assert_non_null(corpc__arena_alloc(&a, 100));
	corpc__arena_trim(&a, 64 * 1024);
	assert_non_null(a.chunks); // small: kept
	assert_int_equal(a.used, 0);
	assert_non_null(corpc__arena_alloc(&a, 4 * 1024 * 1024));
	corpc__arena_trim(&a, 64 * 1024);
	assert_null(a.chunks); // the 4 MiB chunk went
	assert_non_null(corpc__arena_alloc(&a, 100));
	corpc__arena_fini(&a);
}

// Shrink keeps a first-sized chunk for reuse, but drops a grown one.
static void
test_shrink_drops_large_chunk(void **state)
{
	(void) state;
	corpc__arena a;
	corpc__arena_init_sized(&a, 512);
	assert_non_null(corpc__arena_alloc(&a, 100));
	corpc__arena_shrink(&a);
	assert_non_null(a.chunks); // small: kept
	assert_int_equal(a.used, 0);
	assert_non_null(corpc__arena_alloc(&a, 100000));
	corpc__arena_shrink(&a);
	assert_null(a.chunks); // large: freed
	assert_int_equal(a.used, 0);
	assert_non_null(corpc__arena_alloc(&a, 10)); // usable again
	corpc__arena_fini(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_allocates_nothing),
	    cmocka_unit_test(test_alignment_and_overlap),
	    cmocka_unit_test(test_via_protobuf_allocator),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_reset_reuses),
	    cmocka_unit_test(test_steady_state),
	    cmocka_unit_test(test_trim),
	    cmocka_unit_test(test_shrink_drops_large_chunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
