// SPDX-License-Identifier: MIT
// Fan-out failures: a backend failing mid-stream under fail-fast and
// continue, every backend failing, a slow backend against the call's
// deadline and against a per-backend timeout, early stop after k messages
// and cancel from another thread — each with every backend's handler seen
// to unwind (CANCELLED) and clean up.
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "item_backend.h"

#define NB   4
#define OCAP (NB * ITEM_MAX)

static item_backend     *bs;
static item_out          got[OCAP];
static const char *const merge_names[] = {"concat", "interleave", "sorted"};
static const char *const pull_names[]  = {"auto", "inline", "thread"};

static void
fill(size_t per, int delay_ms)
{
	item_backends_reset(bs, NB);
	for (size_t b = 0; b < NB; b++) {
		bs[b].id         = (int) b;
		bs[b].fail_after = -1;
		bs[b].delay_ms   = delay_ms;
		bs[b].n_keys     = per;
		for (size_t i = 0; i < per; i++) {
			bs[b].keys[i] = (int64_t) (b + NB * i);
		}
	}
}

static corpc_fanout *
open_fo(const corpc_fanout_opts *opts, int64_t timeout_ms)
{
	corpc_channel *chans[NB];
	item_backends_channels(bs, NB, chans);
	Corpc__Fanouttest__ListRequest req =
	    CORPC__FANOUTTEST__LIST_REQUEST__INIT;
	corpc_call_opts   call = {.timeout_ms = timeout_ms};
	corpc_fanout_opts o    = *opts;
	o.compare              = item_cmp;
	corpc_fanout *fo;
	assert_int_equal(corpc_fanout_open(chans, NB,
	                     &corpc__fanouttest__items__list__method, &call,
	                     &req.base, &o, &fo),
	    CORPC_OK);
	return fo;
}

// Every started handler ran its cleanup; one that stopped before sending
// everything saw its send fail with CANCELLED (or the deadline).
static void
check_unwound(corpc_status_code expected_send_error)
{
	assert_true(item_backends_quiet(bs, NB));
	for (size_t b = 0; b < NB; b++) {
		if (atomic_load(&bs[b].started) == 0 ||
		    bs[b].fail_after >= 0) {
			continue;
		}
		if ((size_t) atomic_load(&bs[b].sent) < bs[b].n_keys) {
			assert_int_equal(atomic_load(&bs[b].last_send),
			    (int) expected_send_error);
		}
	}
}

static void
fail_case(corpc_fanout_pull pull, corpc_fanout_merge merge,
    corpc_fanout_on_error policy)
{
	printf("  %s %s %s\n", pull_names[pull], merge_names[merge],
	    policy == CORPC_FANOUT_FAIL_FAST ? "fail-fast" : "continue");
	fill(30, 0);
	bs[1].fail_after       = 5;
	bs[1].fail_code        = CORPC_STATUS_UNAVAILABLE;
	corpc_fanout_opts opts = {
	    .merge = merge, .pull = pull, .on_error = policy};
	corpc_fanout     *fo = open_fo(&opts, 0);
	size_t            n;
	corpc_status_code rc = item_collect(fo, got, OCAP, &n);
	corpc_status      st;
	assert_int_equal(corpc_fanout_finish(fo, &st), rc);
	size_t from1 = 0;
	for (size_t i = 0; i < n; i++) {
		from1 += got[i].from == 1;
	}
	corpc_status bst;
	bool         failed;
	assert_true(corpc_fanout_backend_status(fo, 1, &bst, &failed));
	assert_int_equal(bst.code, CORPC_STATUS_UNAVAILABLE);
	assert_string_equal(bst.message, "backend 1 failed");
	assert_true(failed);
	char text[64];
	assert_int_equal(corpc_fanout_failed_text(fo, text, sizeof(text)), 4);
	assert_string_equal(text, "1:14");
	assert_int_equal(corpc_fanout_failed_count(fo), 1);
	if (policy == CORPC_FANOUT_FAIL_FAST) {
		assert_int_equal(rc, CORPC_STATUS_UNAVAILABLE);
		assert_non_null(strstr(st.message, "backend 1 (inproc://"));
		assert_true(from1 <= 5);
		for (size_t b = 0; b < NB; b++) {
			assert_true(
			    corpc_fanout_backend_status(fo, b, &bst, &failed));
			assert_true(failed == (b == 1));
		}
	} else {
		assert_int_equal(rc, CORPC_STATUS_OK);
		assert_int_equal(n, 3 * 30 + 5);
		assert_int_equal(from1, 5);
	}
	corpc_fanout_destroy(fo);
	check_unwound(CORPC_STATUS_CANCELLED);
}

static void
test_fail_mid_stream(void **state)
{
	(void) state;
	for (int pull = 0; pull < 3; pull += 2) {
		for (int merge = 0; merge < 3; merge++) {
			for (int policy = 0; policy < 2; policy++) {
				fail_case((corpc_fanout_pull) pull,
				    (corpc_fanout_merge) merge,
				    (corpc_fanout_on_error) policy);
			}
		}
	}
}

static void
test_all_fail_continue(void **state)
{
	(void) state;
	for (int pull = 0; pull < 3; pull += 2) {
		fill(10, 0);
		for (size_t b = 0; b < NB; b++) {
			bs[b].fail_after = (int) b;
			bs[b].fail_code  = CORPC_STATUS_NOT_FOUND + (int) b;
		}
		corpc_fanout_opts opts = {.merge = CORPC_FANOUT_INTERLEAVE,
		    .on_error                    = CORPC_FANOUT_CONTINUE,
		    .pull                        = (corpc_fanout_pull) pull};
		corpc_fanout     *fo   = open_fo(&opts, 0);
		size_t            n;
		assert_int_equal(
		    item_collect(fo, got, OCAP, &n), CORPC_STATUS_NOT_FOUND);
		assert_int_equal(n, 0 + 1 + 2 + 3);
		corpc_status st;
		corpc_fanout_finish(fo, &st);
		assert_non_null(strstr(st.message, "every backend failed"));
		char text[64];
		corpc_fanout_failed_text(fo, text, sizeof(text));
		assert_string_equal(text, "0:5,1:6,2:7,3:8");
		char small[6];
		assert_int_equal(
		    corpc_fanout_failed_text(fo, small, sizeof(small)), 15);
		assert_string_equal(small, "0:5");
		corpc_fanout_destroy(fo);
		assert_true(item_backends_quiet(bs, NB));
	}
}

// Backend 1 sends 100 items at 20 ms each; the call allows 150 ms.
static void
test_slow_backend_deadline(void **state)
{
	(void) state;
	for (int pull = 0; pull < 3; pull += 2) {
		for (int merge = 0; merge < 3; merge++) {
			for (int policy = 0; policy < 2; policy++) {
				printf("  %s %s %s\n", pull_names[pull],
				    merge_names[merge],
				    policy ? "continue" : "fail-fast");
				fill(10, 0);
				bs[1].delay_ms = 20;
				bs[1].n_keys   = 100;
				for (size_t i = 0; i < 100; i++) {
					bs[1].keys[i] = (int64_t) (1 + NB * i);
				}
				corpc_fanout_opts opts = {
				    .merge = (corpc_fanout_merge) merge,
				    .pull  = (corpc_fanout_pull) pull,
				    .on_error =
				        (corpc_fanout_on_error) policy};
				int64_t       t0 = corpc_now();
				corpc_fanout *fo = open_fo(&opts, 150);
				size_t        n;
				assert_int_equal(
				    item_collect(fo, got, OCAP, &n),
				    CORPC_STATUS_DEADLINE_EXCEEDED);
				corpc_fanout_destroy(fo);
				int64_t ms = (corpc_now() - t0) / 1000000;
				assert_true(
				    ms >= 140 &&
				    ms < 3000); // loose: ctest -j, sanitizers
				assert_true(item_backends_quiet(bs, NB));
				assert_int_equal(
				    atomic_load(&bs[1].saw_deadline), 1);
				assert_true(atomic_load(&bs[1].sent) < 100);
			}
		}
	}
}

// A per-backend timeout cuts a stalled backend off (its first message
// takes 300 ms, the timeout is 100 ms); CONTINUE keeps the rest, in every
// merge. Reader threads only: inline backends cannot be interrupted.
static void
test_backend_timeout_continue(void **state)
{
	(void) state;
	for (int merge = 0; merge < 3; merge++) {
		fill(10, 0);
		bs[1].delay_ms         = 300;
		corpc_fanout_opts opts = {.merge = (corpc_fanout_merge) merge,
		    .pull                        = CORPC_FANOUT_PULL_THREAD,
		    .on_error                    = CORPC_FANOUT_CONTINUE,
		    .backend_timeout_ms          = 100};
		corpc_fanout     *fo   = open_fo(&opts, 5000);
		size_t            n, from1 = 0;
		assert_int_equal(
		    item_collect(fo, got, OCAP, &n), CORPC_STATUS_OK);
		for (size_t i = 0; i < n; i++) {
			from1 += got[i].from == 1;
		}
		assert_int_equal(from1, 0);
		assert_int_equal(n, 3 * 10);
		char text[64];
		corpc_fanout_failed_text(fo, text, sizeof(text));
		assert_string_equal(text, "1:4");
		corpc_status st;
		assert_true(corpc_fanout_backend_status(fo, 1, &st, NULL));
		assert_int_equal(st.code, CORPC_STATUS_DEADLINE_EXCEEDED);
		corpc_fanout_destroy(fo);
		assert_true(item_backends_quiet(bs, NB));
		assert_int_equal(
		    atomic_load(&bs[1].last_send), CORPC_STATUS_CANCELLED);
	}
}

static void
early_stop_case(corpc_fanout_pull pull, corpc_fanout_merge merge, bool finish)
{
	printf("  %s %s %s\n", pull_names[pull], merge_names[merge],
	    finish ? "finish" : "destroy");
	fill(1000, 0);
	corpc_fanout_opts       opts = {.merge = merge, .pull = pull};
	corpc_fanout           *fo   = open_fo(&opts, 0);
	const ProtobufCMessage *m;
	for (int k = 0; k < 10; k++) {
		assert_int_equal(
		    corpc_fanout_recv(fo, &m, NULL), CORPC_STATUS_OK);
		assert_non_null(m);
	}
	if (finish) {
		corpc_status st;
		assert_int_equal(
		    corpc_fanout_finish(fo, &st), CORPC_STATUS_CANCELLED);
		assert_int_equal(
		    corpc_fanout_recv(fo, &m, NULL), CORPC_STATUS_CANCELLED);
		assert_null(m);
		for (size_t b = 0; b < NB; b++) {
			corpc_status bst;
			bool         failed = true;
			assert_true(
			    corpc_fanout_backend_status(fo, b, &bst, &failed));
			assert_int_equal(bst.code, CORPC_STATUS_CANCELLED);
			assert_false(failed);
		}
		assert_int_equal(corpc_fanout_failed_count(fo), 0);
	}
	corpc_fanout_destroy(fo);
	check_unwound(CORPC_STATUS_CANCELLED);
	int started = 0;
	for (size_t b = 0; b < NB; b++) {
		started += atomic_load(&bs[b].started);
	}
	// Inline concat only ever starts backend 0, sorted needs them all;
	// otherwise it depends on how far the readers got.
	if (merge == CORPC_FANOUT_CONCAT && pull != CORPC_FANOUT_PULL_THREAD) {
		assert_int_equal(started, 1);
	} else if (merge == CORPC_FANOUT_SORTED) {
		assert_int_equal(started, NB);
	}
}

static void
test_early_stop(void **state)
{
	(void) state;
	for (int pull = 0; pull < 3; pull += 2) {
		for (int merge = 0; merge < 3; merge++) {
			early_stop_case((corpc_fanout_pull) pull,
			    (corpc_fanout_merge) merge, true);
			early_stop_case((corpc_fanout_pull) pull,
			    (corpc_fanout_merge) merge, false);
		}
	}
}

static void *
cancel_later(void *arg)
{
	struct timespec ts = {0, 50 * 1000000};
	nanosleep(&ts, NULL);
	corpc_fanout_cancel(arg);
	return NULL;
}

static void
test_cancel_from_other_thread(void **state)
{
	(void) state;
	for (int pull = 0; pull < 3; pull += 2) {
		for (int merge = 0; merge < 3; merge++) {
			fill(1000, 2);
			corpc_fanout_opts opts = {
			    .merge = (corpc_fanout_merge) merge,
			    .pull  = (corpc_fanout_pull) pull};
			corpc_fanout *fo = open_fo(&opts, 0);
			pthread_t     t;
			int64_t       t0 = corpc_now();
			assert_int_equal(
			    pthread_create(&t, NULL, cancel_later, fo), 0);
			size_t n;
			assert_int_equal(item_collect(fo, got, OCAP, &n),
			    CORPC_STATUS_CANCELLED);
			pthread_join(t, NULL);
			assert_true(
			    corpc_now() - t0 < 4000 * 1000000LL); // all: 8 s
			assert_true(n > 0 && n < NB * 1000);
			corpc_fanout_destroy(fo);
			check_unwound(CORPC_STATUS_CANCELLED);
		}
	}
}

static int
setup(void **state)
{
	(void) state;
	bs = item_backends_start(NB, "inproc://%s-%zu", "fofail", NULL);
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
	    cmocka_unit_test(test_fail_mid_stream),
	    cmocka_unit_test(test_all_fail_continue),
	    cmocka_unit_test(test_slow_backend_deadline),
	    cmocka_unit_test(test_backend_timeout_continue),
	    cmocka_unit_test(test_early_stop),
	    cmocka_unit_test(test_cancel_from_other_thread),
	};
	return cmocka_run_group_tests_name(
	    "fanout_failure", tests, setup, teardown);
}
