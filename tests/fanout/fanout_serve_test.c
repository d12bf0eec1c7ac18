// SPDX-License-Identifier: MIT
// corpc_fanout_serve: a proxy server whose handler fans out to backends.
// Checks what reaches the backends (request, metadata, deadline), what the
// proxy's client gets (merged stream, status, x-fanout-failed trailer), that
// a client stopping early or cancelling unwinds every backend, 64 backends,
// and a mix of inproc and tcp backends and proxy addresses (skipped, with a
// message, when tcp:// is not built).
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
#define OCAP 8192

// The proxy: the same Items service, answered by a fan-out.
typedef struct proxy {
	corpc_channel    *chans[64];
	size_t            n;
	corpc_fanout_opts opts;
	corpc_server     *srv;
	corpc_channel    *ch[2]; // to its listen addresses
} proxy;

static corpc_status_code
proxy_list(
    void *self, corpc_ctx *ctx, const Corpc__Fanouttest__ListRequest *req)
{
	proxy *p = self;
	return corpc_fanout_serve(ctx, p->chans, p->n, &req->base, &p->opts);
}

static const Corpc__Fanouttest__Items_Server proxy_impl = {.list = proxy_list};

static void
proxy_start(proxy *p, const char *a0, const char *a1)
{
	assert_int_equal(corpc_server_create(NULL, &p->srv), CORPC_OK);
	assert_int_equal(
	    corpc__fanouttest__items__register_server(p->srv, &proxy_impl, p),
	    CORPC_OK);
	const char *addrs[2] = {a0, a1};
	for (size_t i = 0; i < 2; i++) {
		if (addrs[i] != NULL) {
			assert_int_equal(
			    corpc_server_listen(p->srv, addrs[i]), CORPC_OK);
		}
	}
	assert_int_equal(corpc_server_start(p->srv), CORPC_OK);
	for (size_t i = 0; i < 2; i++) {
		if (addrs[i] != NULL) {
			assert_int_equal(
			    corpc_channel_open(corpc_server_address(p->srv, i),
			        NULL, &p->ch[i]),
			    CORPC_OK);
		}
	}
}

static void
proxy_stop(proxy *p)
{
	corpc_channel_close(p->ch[0]);
	corpc_channel_close(p->ch[1]);
	corpc_server_destroy(p->srv);
}

static void
fill(item_backend *bs, size_t n, size_t per)
{
	item_backends_reset(bs, n);
	for (size_t b = 0; b < n; b++) {
		bs[b].fail_after = -1;
		bs[b].delay_ms   = 0;
		bs[b].n_keys     = per;
		for (size_t i = 0; i < per; i++) {
			bs[b].keys[i] = (int64_t) (b + n * i);
		}
	}
}

// One client call to the proxy: items into out, the status and the
// x-fanout-failed trailer (or "").
typedef struct call_result {
	size_t            n;
	corpc_status_code code;
	char              message[256];
	char              failed[64];
	bool              tags_ok;
} call_result;

static call_result
call_proxy(corpc_channel *ch, item_out *out, size_t stop_after)
{
	call_result     r  = {0};
	corpc_metadata *md = NULL;
	assert_int_equal(corpc_metadata_create(&md), CORPC_OK);
	assert_int_equal(
	    corpc_metadata_add_str(md, "x-trace", "t1"), CORPC_OK);
	corpc_call_opts call = {.timeout_ms = 20000, .metadata = md};
	Corpc__Fanouttest__ListRequest req =
	    CORPC__FANOUTTEST__LIST_REQUEST__INIT;
	req.tag = "fan";
	corpc_stream *st;
	assert_int_equal(
	    corpc__fanouttest__items__list_open(ch, &call, &req, &st),
	    CORPC_OK);
	corpc_metadata_destroy(md);
	const Corpc__Fanouttest__Item *it;
	r.tags_ok = true;
	while (
	    r.n < stop_after &&
	    corpc__fanouttest__items__list_recv(st, &it) == CORPC_STATUS_OK &&
	    it != NULL) {
		out[r.n++] = (item_out) {it->key, it->backend, 0};
		r.tags_ok  = r.tags_ok && strcmp(it->tag, "fan") == 0;
	}
	corpc_status st_;
	r.code = corpc_stream_finish(st, &st_);
	snprintf(r.message, sizeof(r.message), "%s", st_.message);
	const corpc_metadata_entry *e = corpc_metadata_get(
	    corpc_stream_trailers(st), CORPC_FANOUT_FAILED_KEY);
	snprintf(r.failed, sizeof(r.failed), "%s", e != NULL ? e->value : "");
	corpc_stream_destroy(st);
	return r;
}

static item_backend *bs;
static item_out      got[OCAP];

static void
check_sorted_all(const call_result *r, size_t total)
{
	assert_int_equal(r->code, CORPC_STATUS_OK);
	assert_int_equal(r->n, total);
	for (size_t i = 0; i < r->n; i++) {
		assert_int_equal(got[i].key, (int64_t) i);
	}
	assert_true(r->tags_ok);
}

static void
test_serve_propagates(void **state)
{
	(void) state;
	fill(bs, NB, 100);
	proxy p = {.n = NB,
	    .opts     = {.merge = CORPC_FANOUT_SORTED, .compare = item_cmp}};
	item_backends_channels(bs, NB, p.chans);
	proxy_start(&p, "inproc://foserve-proxy", NULL);
	call_result r = call_proxy(p.ch[0], got, OCAP);
	check_sorted_all(&r, NB * 100);
	assert_string_equal(r.failed, "");
	for (size_t b = 0; b < NB; b++) {
		assert_int_equal(atomic_load(&bs[b].saw_trace), 1);
		assert_int_equal(atomic_load(&bs[b].saw_deadline), 1);
		assert_int_equal(atomic_load(&bs[b].saw_tag), 1);
	}
	proxy_stop(&p);
	assert_true(item_backends_quiet(bs, NB));
}

static void
test_serve_failures(void **state)
{
	(void) state;
	for (int policy = 0; policy < 2; policy++) {
		fill(bs, NB, 20);
		bs[2].fail_after = 3;
		bs[2].fail_code  = CORPC_STATUS_UNAVAILABLE;
		proxy p          = {.n = NB,
		             .opts     = {.merge = CORPC_FANOUT_INTERLEAVE,
		                     .on_error   = (corpc_fanout_on_error) policy}};
		item_backends_channels(bs, NB, p.chans);
		proxy_start(&p, "inproc://foserve-proxy", NULL);
		call_result r = call_proxy(p.ch[0], got, OCAP);
		assert_string_equal(r.failed, "2:14");
		if (policy == CORPC_FANOUT_FAIL_FAST) {
			assert_int_equal(r.code, CORPC_STATUS_UNAVAILABLE);
			assert_non_null(
			    strstr(r.message, "backend 2 (inproc://"));
			assert_non_null(strstr(r.message, "backend 2 failed"));
		} else {
			assert_int_equal(r.code, CORPC_STATUS_OK);
			assert_int_equal(r.n, 3 * 20 + 3);
		}
		proxy_stop(&p);
		assert_true(item_backends_quiet(bs, NB));
	}
}

// The proxy's client reads 5 items and stops: every backend unwinds.
static void
test_serve_client_early_stop(void **state)
{
	(void) state;
	for (int pull = 0; pull < 3; pull += 2) {
		fill(bs, NB, 1000);
		proxy p = {.n = NB,
		    .opts     = {.merge = CORPC_FANOUT_SORTED,
		            .compare    = item_cmp,
		            .pull       = (corpc_fanout_pull) pull}};
		item_backends_channels(bs, NB, p.chans);
		proxy_start(&p, "inproc://foserve-proxy", NULL);
		call_result r = call_proxy(p.ch[0], got, 5);
		assert_int_equal(r.code, CORPC_STATUS_CANCELLED);
		assert_int_equal(r.n, 5);
		proxy_stop(&p);
		assert_true(item_backends_quiet(bs, NB));
		for (size_t b = 0; b < NB; b++) {
			assert_int_equal(atomic_load(&bs[b].started), 1);
			assert_int_equal(atomic_load(&bs[b].last_send),
			    CORPC_STATUS_CANCELLED);
		}
	}
}

typedef struct cancel_arg {
	corpc_stream *st;
} cancel_arg;

static void *
cancel_later(void *arg)
{
	struct timespec ts = {0, 100 * 1000000};
	nanosleep(&ts, NULL);
	corpc_stream_cancel(((cancel_arg *) arg)->st);
	return NULL;
}

// The client cancels while the proxy waits for reader threads on slow
// backends: the proxy notices (parent polling) and cancels them all.
static void
test_serve_client_cancel(void **state)
{
	(void) state;
	fill(bs, NB, 100);
	for (size_t b = 0; b < NB; b++) {
		bs[b].delay_ms = 50;
	}
	proxy p = {.n = NB,
	    .opts     = {.merge = CORPC_FANOUT_INTERLEAVE,
	            .pull       = CORPC_FANOUT_PULL_THREAD}};
	item_backends_channels(bs, NB, p.chans);
	proxy_start(&p, "inproc://foserve-proxy", NULL);
	Corpc__Fanouttest__ListRequest req =
	    CORPC__FANOUTTEST__LIST_REQUEST__INIT;
	cancel_arg a;
	assert_int_equal(
	    corpc__fanouttest__items__list_open(p.ch[0], NULL, &req, &a.st),
	    CORPC_OK);
	int64_t   t0 = corpc_now();
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_later, &a), 0);
	const Corpc__Fanouttest__Item *it;
	corpc_status_code              rc;
	while ((rc = corpc__fanouttest__items__list_recv(a.st, &it)) ==
	           CORPC_STATUS_OK &&
	       it != NULL) {
	}
	pthread_join(t, NULL);
	assert_int_equal(rc, CORPC_STATUS_CANCELLED);
	assert_true(corpc_now() - t0 < 3000 * 1000000LL); // all: 5 s
	corpc_stream_destroy(a.st);
	proxy_stop(&p);
	assert_true(item_backends_quiet(bs, NB));
	for (size_t b = 0; b < NB; b++) {
		assert_int_equal(
		    atomic_load(&bs[b].last_send), CORPC_STATUS_CANCELLED);
	}
}

static void
test_serve_64_backends(void **state)
{
	(void) state;
	enum { N = 64, PER = 40 };
	item_backend *many =
	    item_backends_start(N, "inproc://%s-%zu", "fos64", NULL);
	assert_non_null(many);
	fill(many, N, PER);
	for (int pull = 0; pull < 3; pull += 2) {
		proxy p = {.n = N,
		    .opts     = {.merge = CORPC_FANOUT_SORTED,
		            .compare    = item_cmp,
		            .pull       = (corpc_fanout_pull) pull}};
		item_backends_channels(many, N, p.chans);
		proxy_start(&p, "inproc://foserve-proxy64", NULL);
		call_result r = call_proxy(p.ch[0], got, OCAP);
		check_sorted_all(&r, N * PER);
		proxy_stop(&p);
	}
	assert_true(item_backends_quiet(many, N));
	item_backends_stop(many, N);
}

// Two inproc and two tcp backends behind a proxy served on tcp and inproc.
static void
test_mixed_inproc_tcp(void **state)
{
	(void) state;
	if (!item_tcp_available()) {
		skip();
	}
	item_backend *tcp = item_backends_start(2, "tcp", "", NULL);
	assert_non_null(tcp);
	proxy p                   = {.n = 4};
	p.chans[0]                = bs[0].ch;
	p.chans[1]                = tcp[0].ch;
	p.chans[2]                = bs[1].ch;
	p.chans[3]                = tcp[1].ch;
	item_backend *by_index[4] = {&bs[0], &tcp[0], &bs[1], &tcp[1]};
	proxy_start(&p, "tcp://127.0.0.1:0", "inproc://foserve-mixed");
	for (int merge = 0; merge < 3; merge++) {
		for (int via = 0; via < 2; via++) {
			printf("  merge %d via %s\n", merge,
			    via ? "inproc" : "tcp");
			for (size_t b = 0; b < 4; b++) {
				item_backend *ib = by_index[b];
				ib->fail_after   = -1;
				ib->delay_ms     = 0;
				ib->n_keys       = 300;
				ib->id           = (int) b;
				for (size_t i = 0; i < 300; i++) {
					ib->keys[i] = (int64_t) (b + 4 * i);
				}
			}
			p.opts = (corpc_fanout_opts) {
			    .merge   = (corpc_fanout_merge) merge,
			    .compare = item_cmp};
			call_result r = call_proxy(p.ch[via], got, OCAP);
			assert_int_equal(r.code, CORPC_STATUS_OK);
			assert_int_equal(r.n, 4 * 300);
			if (merge == CORPC_FANOUT_SORTED) {
				check_sorted_all(&r, 4 * 300);
			}
			// Early stop through the proxy: every backend unwinds.
			r = call_proxy(p.ch[via], got, 7);
			assert_int_equal(r.code, CORPC_STATUS_CANCELLED);
			assert_true(item_backends_quiet(bs, NB));
			assert_true(item_backends_quiet(tcp, 2));
		}
	}
	// A stalled tcp backend cut off by the per-backend timeout, sorted
	// merge: the rest is merged without it.
	tcp[1].delay_ms = 300;
	p.opts          = (corpc_fanout_opts) {.merge = CORPC_FANOUT_SORTED,
	             .compare                         = item_cmp,
	             .on_error                        = CORPC_FANOUT_CONTINUE,
	             .backend_timeout_ms              = 100};
	call_result r   = call_proxy(p.ch[0], got, OCAP);
	assert_int_equal(r.code, CORPC_STATUS_OK);
	assert_string_equal(r.failed, "3:4");
	assert_int_equal(r.n, 3 * 300);
	proxy_stop(&p);
	assert_true(item_backends_quiet(tcp, 2));
	item_backends_stop(tcp, 2);
}

static int
setup(void **state)
{
	(void) state;
	bs = item_backends_start(NB, "inproc://%s-%zu", "foserve", NULL);
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
	    cmocka_unit_test(test_serve_propagates),
	    cmocka_unit_test(test_serve_failures),
	    cmocka_unit_test(test_serve_client_early_stop),
	    cmocka_unit_test(test_serve_client_cancel),
	    cmocka_unit_test(test_serve_64_backends),
	    cmocka_unit_test(test_mixed_inproc_tcp),
	};
	return cmocka_run_group_tests_name(
	    "fanout_serve", tests, setup, teardown);
}
