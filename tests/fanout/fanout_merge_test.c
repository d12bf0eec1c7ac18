// SPDX-License-Identifier: MIT
// Fan-out merge policies: concat, interleave and sorted, with and without
// dedup, over sorted, unsorted, partly empty, empty and duplicate-heavy
// backends, pulled inline (coroutine backends) and by reader threads.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "item_backend.h"

#define NB   5
#define OCAP (NB * ITEM_MAX)

typedef enum shape { SORTED, UNSORTED, SOME_EMPTY, ALL_EMPTY, DUPS } shape;
static const char *const shape_names[] = {
    "sorted", "unsorted", "some-empty", "all-empty", "dups"};
static const char *const merge_names[] = {"concat", "interleave", "sorted"};

static item_backend *bs;
static item_out      got[OCAP], want[OCAP];

static void
fill(shape s)
{
	uint32_t seed = 12345;
	for (size_t b = 0; b < NB; b++) {
		item_backend *ib = &bs[b];
		ib->n_keys       = 0;
		ib->fail_after   = -1;
		ib->delay_ms     = 0;
		ib->id           = (int) b;
		size_t len       = 20 + 3 * b;
		if (s == ALL_EMPTY ||
		    (s == SOME_EMPTY && (b == 0 || b == 2))) {
			len = 0;
		}
		for (size_t i = 0; i < len; i++) {
			int64_t k =
			    (int64_t) (b + NB * i); // globally interleaved
			if (s == UNSORTED) {
				seed = seed * 1103515245u + 12345u;
				k    = (int64_t) ((seed >> 16) % 50);
			} else if (s == DUPS) {
				k = (int64_t) (i / 4); // replicas: runs of 4,
				                       // same keys
			}
			ib->keys[ib->n_keys++] = k;
		}
	}
}

// The expected output of a deterministic merge (before dedup).
static size_t
expect(corpc_fanout_merge merge)
{
	size_t n = 0;
	if (merge == CORPC_FANOUT_CONCAT) {
		for (size_t b = 0; b < NB; b++) {
			for (size_t i = 0; i < bs[b].n_keys; i++) {
				want[n++] =
				    (item_out) {bs[b].keys[i], (int) b, b};
			}
		}
	} else if (merge == CORPC_FANOUT_INTERLEAVE) {
		for (size_t r = 0; r < ITEM_MAX; r++) {
			for (size_t b = 0; b < NB; b++) {
				if (r < bs[b].n_keys) {
					want[n++] = (item_out) {
					    bs[b].keys[r], (int) b, b};
				}
			}
		}
	} else {
		// Stable order by (key, backend): insertion sort of concat.
		n = expect(CORPC_FANOUT_CONCAT);
		for (size_t i = 1; i < n; i++) {
			item_out x = want[i];
			size_t   j = i;
			while (j > 0 && (want[j - 1].key > x.key ||
			                    (want[j - 1].key == x.key &&
			                        want[j - 1].from > x.from))) {
				want[j] = want[j - 1];
				j--;
			}
			want[j] = x;
		}
	}
	return n;
}

// Collapses runs of equal keys (what dedup does to a fixed candidate order).
static size_t
collapse(item_out *v, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m == 0 || v[m - 1].key != v[i].key) {
			v[m++] = v[i];
		}
	}
	return m;
}

// Nondeterministic orders: every backend's items in its own order.
static void
check_per_backend(size_t n)
{
	size_t total = 0;
	for (size_t b = 0; b < NB; b++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (got[i].from == b) {
				assert_true(k < bs[b].n_keys);
				assert_int_equal(got[i].key, bs[b].keys[k]);
				k++;
			}
		}
		assert_int_equal(k, bs[b].n_keys);
		total += k;
	}
	assert_int_equal(total, n);
}

// Dedup in arrival order: no equal neighbours, same set of keys.
static void
check_dedup_set(size_t n)
{
	for (size_t i = 1; i < n; i++) {
		assert_true(got[i].key != got[i - 1].key);
	}
	for (size_t b = 0; b < NB; b++) {
		for (size_t i = 0; i < bs[b].n_keys; i++) {
			bool found = false;
			for (size_t j = 0; j < n && !found; j++) {
				found = got[j].key == bs[b].keys[i];
			}
			assert_true(found);
		}
	}
}

static void
run_case(corpc_fanout_pull pull, corpc_fanout_merge merge, shape s, bool dedup)
{
	fill(s);
	item_backends_reset(bs, NB);
	corpc_channel *chans[NB];
	item_backends_channels(bs, NB, chans);
	corpc_fanout_opts              opts = {.merge = merge,
	                 .pull                        = pull,
	                 .dedup                       = dedup,
	                 .compare                     = item_cmp,
	                 .key                         = item_key};
	Corpc__Fanouttest__ListRequest req =
	    CORPC__FANOUTTEST__LIST_REQUEST__INIT;
	req.tag = "fan";
	corpc_fanout *fo;
	assert_int_equal(corpc_fanout_open(chans, NB,
	                     &corpc__fanouttest__items__list__method, NULL,
	                     &req.base, &opts, &fo),
	    CORPC_OK);
	size_t n;
	assert_int_equal(item_collect(fo, got, OCAP, &n), CORPC_STATUS_OK);
	assert_int_equal(corpc_fanout_finish(fo, NULL), CORPC_STATUS_OK);
	assert_int_equal(corpc_fanout_failed_count(fo), 0);
	corpc_fanout_destroy(fo);

	bool deterministic = merge != CORPC_FANOUT_INTERLEAVE ||
	                     pull != CORPC_FANOUT_PULL_THREAD;
	bool sorted_input = s != UNSORTED;
	if (deterministic && (merge != CORPC_FANOUT_SORTED || sorted_input)) {
		size_t m = expect(merge);
		if (dedup) {
			m = collapse(want, m);
		}
		assert_int_equal(n, m);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(got[i].key, want[i].key);
			assert_int_equal(got[i].from, want[i].from);
			assert_int_equal(got[i].backend, (int) got[i].from);
		}
	} else if (dedup) {
		check_dedup_set(n);
	} else {
		check_per_backend(n);
	}
	assert_true(item_backends_quiet(bs, NB));
	for (size_t b = 0; b < NB; b++) {
		assert_int_equal(atomic_load(&bs[b].saw_tag), 1);
	}
}

static void
run_matrix(corpc_fanout_pull pull)
{
	for (int merge = 0; merge < 3; merge++) {
		for (int s = 0; s <= DUPS; s++) {
			for (int dedup = 0; dedup < 2; dedup++) {
				printf("  %s %s%s\n", merge_names[merge],
				    shape_names[s], dedup ? " dedup" : "");
				run_case(pull, (corpc_fanout_merge) merge,
				    (shape) s, dedup);
			}
		}
	}
}

static void
test_matrix_inline(void **state)
{
	(void) state;
	run_matrix(CORPC_FANOUT_PULL_AUTO);
}

static void
test_matrix_threads(void **state)
{
	(void) state;
	run_matrix(CORPC_FANOUT_PULL_THREAD);
}

// Replicas returning the same items, deduplicated by their encoded bytes.
static void
test_dedup_replicas_default_key(void **state)
{
	(void) state;
	fill(DUPS);
	for (size_t b = 0; b < NB; b++) {
		bs[b].id = 7; // identical replicas
	}
	corpc_channel *chans[NB];
	item_backends_channels(bs, NB, chans);
	corpc_fanout_opts opts = {
	    .merge = CORPC_FANOUT_SORTED, .compare = item_cmp, .dedup = true};
	Corpc__Fanouttest__ListRequest req =
	    CORPC__FANOUTTEST__LIST_REQUEST__INIT;
	corpc_fanout *fo;
	assert_int_equal(corpc_fanout_open(chans, NB,
	                     &corpc__fanouttest__items__list__method, NULL,
	                     &req.base, &opts, &fo),
	    CORPC_OK);
	size_t n;
	assert_int_equal(item_collect(fo, got, OCAP, &n), CORPC_STATUS_OK);
	corpc_fanout_destroy(fo);
	size_t distinct = (bs[NB - 1].n_keys + 3) / 4; // the longest replica
	assert_int_equal(n, distinct);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].key, (int64_t) i);
	}
}

// Coroutine backends pulled inline: the merged message is the very object
// the backend's handler sent, and the next one is always ready.
static void
test_zero_copy_and_ready(void **state)
{
	(void) state;
	fill(SORTED);
	corpc_channel *chans[NB];
	item_backends_channels(bs, NB, chans);
	corpc_fanout_opts opts = {
	    .merge = CORPC_FANOUT_SORTED, .compare = item_cmp};
	Corpc__Fanouttest__ListRequest req =
	    CORPC__FANOUTTEST__LIST_REQUEST__INIT;
	corpc_fanout *fo;
	assert_int_equal(corpc_fanout_open(chans, NB,
	                     &corpc__fanouttest__items__list__method, NULL,
	                     &req.base, &opts, &fo),
	    CORPC_OK);
	const ProtobufCMessage *m;
	size_t                  from, n = 0;
	assert_true(corpc_fanout_ready(fo));
	while (
	    corpc_fanout_recv(fo, &m, &from) == CORPC_STATUS_OK && m != NULL) {
		assert_ptr_equal(m, atomic_load(&bs[from].item_addr));
		assert_true(corpc_fanout_ready(fo));
		n++;
	}
	assert_int_equal(n, expect(CORPC_FANOUT_CONCAT));
	assert_true(corpc_fanout_ready(fo));
	corpc_fanout_destroy(fo);
}

static void
test_64_backends(void **state)
{
	(void) state;
	enum { N = 64, PER = 50 };
	item_backend *many =
	    item_backends_start(N, "inproc://%s-%zu", "fo64", NULL);
	assert_non_null(many);
	corpc_channel *chans[N];
	item_backends_channels(many, N, chans);
	for (size_t b = 0; b < N; b++) {
		for (size_t i = 0; i < PER; i++) {
			many[b].keys[i] = (int64_t) (b + N * i);
		}
		many[b].n_keys = PER;
	}
	static item_out out[N * PER];
	for (int pull = 0; pull < 3; pull += 2) { // AUTO (inline), THREAD
		corpc_fanout_opts opts = {.merge = CORPC_FANOUT_SORTED,
		    .compare                     = item_cmp,
		    .pull                        = (corpc_fanout_pull) pull};
		Corpc__Fanouttest__ListRequest req =
		    CORPC__FANOUTTEST__LIST_REQUEST__INIT;
		corpc_fanout *fo;
		assert_int_equal(corpc_fanout_open(chans, N,
		                     &corpc__fanouttest__items__list__method,
		                     NULL, &req.base, &opts, &fo),
		    CORPC_OK);
		size_t n;
		assert_int_equal(
		    item_collect(fo, out, N * PER, &n), CORPC_STATUS_OK);
		corpc_fanout_destroy(fo);
		assert_int_equal(n, N * PER);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(out[i].key, (int64_t) i);
		}
	}
	assert_true(item_backends_quiet(many, N));
	item_backends_stop(many, N);
}

static void
test_zero_backends_and_bad_args(void **state)
{
	(void) state;
	Corpc__Fanouttest__ListRequest req =
	    CORPC__FANOUTTEST__LIST_REQUEST__INIT;
	const corpc_method *m = &corpc__fanouttest__items__list__method;
	corpc_fanout       *fo;
	assert_int_equal(
	    corpc_fanout_open(NULL, 0, m, NULL, &req.base, NULL, &fo),
	    CORPC_OK);
	const ProtobufCMessage *msg;
	assert_int_equal(corpc_fanout_recv(fo, &msg, NULL), CORPC_STATUS_OK);
	assert_null(msg);
	corpc_fanout_destroy(fo);

	corpc_channel    *chans[1] = {bs[0].ch};
	corpc_fanout_opts sorted   = {.merge = CORPC_FANOUT_SORTED};
	assert_int_equal(
	    corpc_fanout_open(chans, 1, m, NULL, &req.base, &sorted, &fo),
	    CORPC_EINVAL);
	assert_null(fo);
	assert_int_equal(corpc_fanout_open(chans, 1, m, NULL, NULL, NULL, &fo),
	    CORPC_EINVAL);
	corpc_method bidi = *m;
	bidi.kind         = CORPC_RPC_BIDI_STREAMING;
	assert_int_equal(
	    corpc_fanout_open(chans, 1, &bidi, NULL, &req.base, NULL, &fo),
	    CORPC_EINVAL);
	Corpc__Fanouttest__Item wrong = CORPC__FANOUTTEST__ITEM__INIT;
	assert_int_equal(
	    corpc_fanout_open(chans, 1, m, NULL, &wrong.base, NULL, &fo),
	    CORPC_EINVAL);
	corpc_channel *none[1] = {NULL};
	assert_int_equal(
	    corpc_fanout_open(none, 1, m, NULL, &req.base, NULL, &fo),
	    CORPC_EINVAL);
	assert_int_equal(corpc_fanout_recv(NULL, &msg, NULL),
	    CORPC_STATUS_INVALID_ARGUMENT);
	corpc_fanout_destroy(NULL);
}

static int
setup(void **state)
{
	(void) state;
	bs = item_backends_start(NB, "inproc://%s-%zu", "fomerge", NULL);
	return bs == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void) state;
	item_backends_stop(bs, NB);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matrix_inline),
	    cmocka_unit_test(test_matrix_threads),
	    cmocka_unit_test(test_dedup_replicas_default_key),
	    cmocka_unit_test(test_zero_copy_and_ready),
	    cmocka_unit_test(test_64_backends),
	    cmocka_unit_test(test_zero_backends_and_bad_args),
	};
	return cmocka_run_group_tests_name(
	    "fanout_merge", tests, setup, teardown);
}
