// SPDX-License-Identifier: MIT
// grpc.health.v1.Health on every transport: Check of known and unknown
// services, Watch streaming each change, watchers that never hold a
// scheduler thread, and shutdown turning everything NOT_SERVING first.
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "corpc/corpc.h"
#include "grpc/health/v1/health.corpc.h"

typedef Grpc__Health__V1__HealthCheckRequest  Req;
typedef Grpc__Health__V1__HealthCheckResponse Resp;

// The listen addresses; each test runs on each of them.
static const char *const addrs[] = {
    "inproc://health", // coroutine handoff: the watcher runs on our thread
    "inproc://health-t?mode=thread",
#ifdef CORPC_TEST_GRPC
    "tcp://127.0.0.1:0",
#endif
};

typedef struct fixture {
	corpc_server  *srv;
	corpc_health  *health;
	corpc_channel *ch;
} fixture;

static void
fixture_up(fixture *f, const char *addr, unsigned threads)
{
	corpc_server_opts so = {.scheduler_threads = threads};
	assert_int_equal(corpc_server_create(&so, &f->srv), CORPC_OK);
	assert_int_equal(corpc_health_enable(f->srv, &f->health), CORPC_OK);
	assert_int_equal(corpc_server_listen(f->srv, addr), CORPC_OK);
	assert_int_equal(corpc_server_start(f->srv), CORPC_OK);
	const char *bound = corpc_server_address(f->srv, 0);
	assert_non_null(bound);
	assert_int_equal(corpc_channel_open(bound, NULL, &f->ch), CORPC_OK);
}

static void
fixture_down(fixture *f)
{
	corpc_channel_close(f->ch);
	corpc_server_destroy(f->srv);
}

// Check(service): returns the call's code and the status in *out.
static corpc_status_code
check(corpc_channel *ch, const char *service, corpc_health_status *out)
{
	Req req                = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service            = (char *) service;
	corpc_call_opts   opts = {.timeout_ms = 5000};
	const Resp       *resp = NULL;
	corpc_stream     *st   = NULL;
	corpc_status_code rc =
	    grpc__health__v1__health__check_call(ch, &opts, &req, &resp, &st);
	*out = rc == CORPC_STATUS_OK && resp != NULL
	           ? (corpc_health_status) resp->status
	           : CORPC_HEALTH_UNKNOWN;
	corpc_stream_destroy(st);
	return rc;
}

static corpc_stream *
watch(corpc_channel *ch, const char *service)
{
	Req req              = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service          = (char *) service;
	corpc_call_opts opts = {.timeout_ms = 10000};
	corpc_stream   *st   = NULL;
	assert_int_equal(
	    grpc__health__v1__health__watch_open(ch, &opts, &req, &st),
	    CORPC_OK);
	return st;
}

// The next status a watcher gets; fails the test at the end of the stream.
static corpc_health_status
next_status(corpc_stream *st)
{
	const Resp *r = NULL;
	assert_int_equal(
	    grpc__health__v1__health__watch_recv(st, &r), CORPC_STATUS_OK);
	assert_non_null(r);
	return (corpc_health_status) r->status;
}

static void
test_check(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fixture             f = {0};
		corpc_health_status st;
		fixture_up(&f, addrs[i], 2);
		// The whole server starts SERVING; others are unknown.
		assert_int_equal(check(f.ch, "", &st), CORPC_STATUS_OK);
		assert_int_equal(st, CORPC_HEALTH_SERVING);
		assert_int_equal(
		    check(f.ch, "no.Such", &st), CORPC_STATUS_NOT_FOUND);
		assert_int_equal(corpc_health_set(f.health, "demo.Store",
		                     CORPC_HEALTH_NOT_SERVING),
		    CORPC_OK);
		assert_int_equal(
		    check(f.ch, "demo.Store", &st), CORPC_STATUS_OK);
		assert_int_equal(st, CORPC_HEALTH_NOT_SERVING);
		assert_int_equal(corpc_health_set(f.health, "demo.Store",
		                     CORPC_HEALTH_SERVING),
		    CORPC_OK);
		assert_int_equal(
		    check(f.ch, "demo.Store", &st), CORPC_STATUS_OK);
		assert_int_equal(st, CORPC_HEALTH_SERVING);
		assert_int_equal(
		    corpc_health_clear(f.health, "demo.Store"), CORPC_OK);
		assert_int_equal(
		    check(f.ch, "demo.Store", &st), CORPC_STATUS_NOT_FOUND);
		assert_int_equal(corpc_health_get(f.health, "demo.Store"),
		    CORPC_HEALTH_SERVICE_UNKNOWN);
		fixture_down(&f);
	}
}

static void
test_errors(void **state)
{
	(void) state;
	corpc_server *srv;
	corpc_health *h;
	assert_int_equal(corpc_server_create(NULL, &srv), CORPC_OK);
	assert_int_equal(corpc_health_enable(NULL, &h), CORPC_EINVAL);
	assert_int_equal(corpc_health_enable(srv, &h), CORPC_OK);
	assert_int_equal(corpc_health_enable(srv, NULL), CORPC_EEXIST);
	assert_int_equal(
	    corpc_health_set(h, "x", CORPC_HEALTH_UNKNOWN), CORPC_EINVAL);
	assert_int_equal(
	    corpc_health_set(h, "x", CORPC_HEALTH_SERVICE_UNKNOWN),
	    CORPC_EINVAL);
	assert_int_equal(
	    corpc_health_set(h, NULL, CORPC_HEALTH_SERVING), CORPC_EINVAL);
	assert_int_equal(corpc_health_clear(h, "never.Set"), CORPC_OK);
	assert_int_equal(corpc_server_start(srv), CORPC_OK);
	// Statuses change at any time; a second server cannot be enabled
	// after start.
	assert_int_equal(
	    corpc_health_set(h, "x", CORPC_HEALTH_SERVING), CORPC_OK);
	corpc_server *srv2;
	assert_int_equal(corpc_server_create(NULL, &srv2), CORPC_OK);
	assert_int_equal(corpc_server_start(srv2), CORPC_OK);
	assert_int_equal(corpc_health_enable(srv2, NULL), CORPC_ESTATE);
	corpc_server_destroy(srv2);
	corpc_server_shutdown(srv, 0);
	// Shutdown made every known service NOT_SERVING, for good.
	assert_int_equal(corpc_health_get(h, "x"), CORPC_HEALTH_NOT_SERVING);
	assert_int_equal(corpc_health_get(h, ""), CORPC_HEALTH_NOT_SERVING);
	assert_int_equal(
	    corpc_health_set(h, "x", CORPC_HEALTH_SERVING), CORPC_ESTATE);
	corpc_server_destroy(srv);
}

typedef struct setter {
	corpc_health       *h;
	const char         *service;
	corpc_health_status status; // SERVICE_UNKNOWN: clear
	int                 delay_ms;
} setter;

static void *
setter_main(void *arg)
{
	setter *s = arg;
	usleep((useconds_t) s->delay_ms * 1000);
	if (s->status == CORPC_HEALTH_SERVICE_UNKNOWN) {
		(void) corpc_health_clear(s->h, s->service);
	} else {
		(void) corpc_health_set(s->h, s->service, s->status);
	}
	return NULL;
}

// Sets a status from another thread after a delay, while this thread waits
// in a recv (which, on inproc://NAME, runs the watcher here).
static void
set_later(corpc_health *h, const char *service, corpc_health_status status,
    pthread_t *t, setter *s)
{
	*s = (setter) {h, service, status, 50};
	assert_int_equal(pthread_create(t, NULL, setter_main, s), 0);
}

static void
test_watch(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fixture   f = {0};
		pthread_t t;
		setter    s;
		fixture_up(&f, addrs[i], 2);
		// Unknown: SERVICE_UNKNOWN at once, then it waits for one.
		corpc_stream *st = watch(f.ch, "demo.Store");
		assert_int_equal(
		    next_status(st), CORPC_HEALTH_SERVICE_UNKNOWN);
		set_later(
		    f.health, "demo.Store", CORPC_HEALTH_SERVING, &t, &s);
		assert_int_equal(next_status(st), CORPC_HEALTH_SERVING);
		pthread_join(t, NULL);
		// The same status again is no change: the next message is
		// the next real change.
		assert_int_equal(corpc_health_set(f.health, "demo.Store",
		                     CORPC_HEALTH_SERVING),
		    CORPC_OK);
		set_later(
		    f.health, "demo.Store", CORPC_HEALTH_NOT_SERVING, &t, &s);
		assert_int_equal(next_status(st), CORPC_HEALTH_NOT_SERVING);
		pthread_join(t, NULL);
		set_later(f.health, "demo.Store", CORPC_HEALTH_SERVICE_UNKNOWN,
		    &t, &s);
		assert_int_equal(
		    next_status(st), CORPC_HEALTH_SERVICE_UNKNOWN);
		pthread_join(t, NULL);
		// A known service: its status at once.
		corpc_stream *whole = watch(f.ch, "");
		assert_int_equal(next_status(whole), CORPC_HEALTH_SERVING);
		// A client that stops watching ends the handler.
		assert_int_equal(
		    corpc_stream_finish(whole, NULL), CORPC_STATUS_CANCELLED);
		corpc_stream_destroy(whole);
		corpc_stream_destroy(st);
		fixture_down(&f);
	}
}

// One scheduler thread and more watchers than threads: a waiting watcher
// is a suspended coroutine, so Check still gets an answer.
static void
test_watchers_hold_no_thread(void **state)
{
	(void) state;
	fixture f = {0};
#ifdef CORPC_TEST_GRPC
	fixture_up(&f, "tcp://127.0.0.1:0", 1);
#else
	fixture_up(&f, "inproc://health-w?mode=thread", 1);
#endif
	corpc_stream *w[4];
	for (size_t i = 0; i < 4; i++) {
		w[i] = watch(f.ch, "");
		assert_int_equal(next_status(w[i]), CORPC_HEALTH_SERVING);
	}
	corpc_health_status st;
	assert_int_equal(check(f.ch, "", &st), CORPC_STATUS_OK);
	assert_int_equal(st, CORPC_HEALTH_SERVING);
	assert_int_equal(
	    corpc_health_set(f.health, "", CORPC_HEALTH_NOT_SERVING),
	    CORPC_OK);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(next_status(w[i]), CORPC_HEALTH_NOT_SERVING);
		corpc_stream_destroy(w[i]);
	}
	fixture_down(&f);
}

typedef struct shutter {
	corpc_server *srv;
	int64_t       took_ms;
} shutter;

static void *
shutter_main(void *arg)
{
	shutter *s = arg;
	usleep(50 * 1000);
	int64_t t0 = corpc_now();
	corpc_server_shutdown(s->srv, 5000);
	s->took_ms = (corpc_now() - t0) / 1000000;
	return NULL;
}

// Shutdown: the watcher is told NOT_SERVING, then its call ends
// UNAVAILABLE, well within the grace.
static void
test_shutdown(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fixture f = {0};
		fixture_up(&f, addrs[i], 2);
		assert_int_equal(corpc_health_set(f.health, "demo.Store",
		                     CORPC_HEALTH_SERVING),
		    CORPC_OK);
		corpc_stream *st = watch(f.ch, "demo.Store");
		assert_int_equal(next_status(st), CORPC_HEALTH_SERVING);
		shutter   s = {.srv = f.srv};
		pthread_t t;
		assert_int_equal(
		    pthread_create(&t, NULL, shutter_main, &s), 0);
		assert_int_equal(next_status(st), CORPC_HEALTH_NOT_SERVING);
		const Resp  *r = NULL;
		corpc_status fin;
		assert_int_equal(grpc__health__v1__health__watch_recv(st, &r),
		    CORPC_STATUS_UNAVAILABLE);
		assert_null(r);
		assert_int_equal(
		    corpc_stream_finish(st, &fin), CORPC_STATUS_UNAVAILABLE);
		assert_string_equal(
		    fin.message, "the server is shutting down");
		corpc_stream_destroy(st);
		pthread_join(t, NULL);
		assert_true(s.took_ms < 2500);
		fixture_down(&f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_watchers_hold_no_thread),
	    cmocka_unit_test(test_shutdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
