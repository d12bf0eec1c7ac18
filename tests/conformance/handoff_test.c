// SPDX-License-Identifier: MIT
// The in-process handoffs' flow-control limits: a bidi pattern that would
// wait forever ends at once with a status naming the fix, and the same
// pattern within the limit runs to a clean end (no false alarm).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "echo_service.h"

typedef Corpc__Test__EchoRequest  Req;
typedef Corpc__Test__EchoResponse Resp;

#define QUEUE_DEPTH 8
// Echoes of requests this long are too large for share mode ever to copy
// (thread.c's SHARE_COPY_MAX): they cross as pointers and their send waits.
#define LARGE_TEXT (20 * 1024)

static char        large_text[LARGE_TEXT + 1];
static const char *text = "x"; // what send_n sends

static echo_server   es;
static corpc_server *srv;

static int
setup(void **state)
{
	(void) state;
	memset(large_text, 'l', LARGE_TEXT);
	srv = echo_serve("inproc://handoff", &es, NULL);
	return srv == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void) state;
	corpc_server_shutdown(srv, 1000);
	corpc_server_destroy(srv);
	return 0;
}

static corpc_channel *
dial(const char *suffix)
{
	char               addr[64];
	corpc_channel     *ch;
	corpc_channel_opts o = {0};
	o.queue_depth        = QUEUE_DEPTH;
	snprintf(addr, sizeof(addr), "inproc://handoff%s", suffix);
	assert_int_equal(corpc_channel_open(addr, &o, &ch), CORPC_OK);
	return ch;
}

// Waits (on state, not time) until every handler has run its cleanup.
static void
wait_handlers_done(void)
{
	for (int i = 0; i < 10000 && atomic_load(&es.stats.finished) !=
	                                 atomic_load(&es.stats.started);
	     i++) {
		corpc_sleep_ms(1);
	}
	assert_int_equal(
	    atomic_load(&es.stats.finished), atomic_load(&es.stats.started));
}

// Sends `n` echo requests without receiving; returns the first code that
// is not OK (or OK).
static corpc_status_code
send_n(corpc_stream *st, int n)
{
	for (int i = 0; i < n; i++) {
		Req req  = CORPC__TEST__ECHO_REQUEST__INIT;
		req.text = (char *) text;
		corpc_status_code rc =
		    corpc__test__echo__bidi_send(st, &req, 0);
		if (rc != CORPC_STATUS_OK) {
			return rc;
		}
	}
	return CORPC_STATUS_OK;
}

// Receives `n` echoes (of any Echo method), numbered from *index on.
static void
recv_n(corpc_stream *st, int n, int *index)
{
	for (int i = 0; i < n; i++) {
		const ProtobufCMessage *m = NULL;
		assert_int_equal(corpc_stream_recv(st, &m), CORPC_STATUS_OK);
		assert_non_null(m);
		assert_int_equal(((const Resp *) m)->index, (*index)++);
	}
}

// Opens a bidi call on inproc://handoff<suffix> (in *ch) with fresh stats.
static corpc_stream *
open_bidi(const char *suffix, corpc_channel **ch)
{
	*ch = dial(suffix);
	echo_stats_reset(&es.stats);
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__bidi_open(*ch, NULL, &st), CORPC_OK);
	return st;
}

// `rounds` times: sends `burst` messages, then receives their echoes.
// Returns OK, or the code of the first send refused (in the last round).
static corpc_status_code
bursts(corpc_stream *st, int burst, int rounds)
{
	int index = 0;
	for (int round = 0; round < rounds; round++) {
		corpc_status_code rc = send_n(st, burst);
		if (rc != CORPC_STATUS_OK) {
			return rc;
		}
		recv_n(st, burst, &index);
	}
	return CORPC_STATUS_OK;
}

// Destroys the call, waits for its handler, closes the channel.
static void
done(corpc_stream *st, corpc_channel *ch)
{
	corpc_stream_destroy(st);
	wait_handlers_done();
	corpc_channel_close(ch);
}

// The client sends `burst` messages before it receives their echoes, while
// the handler echoes each message: with too large a burst both end up
// waiting to send, in round `rounds` at the latest.
static void
stuck_ends(const char *suffix, int burst, int rounds, const char *fix,
    corpc_status_code handler)
{
	corpc_channel *ch;
	corpc_stream  *st = open_bidi(suffix, &ch);
	assert_int_equal(
	    bursts(st, burst, rounds), CORPC_STATUS_RESOURCE_EXHAUSTED);
	corpc_status status;
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_RESOURCE_EXHAUSTED);
	if (strstr(status.message, fix) == NULL) {
		fail_msg("message without the fix: %s", status.message);
	}
	done(st, ch);
	// The handler's send was refused too, so it could unwind.
	assert_int_equal(atomic_load(&es.stats.last_send), handler);
}

// Within the limit, bursts never wait for good and are never mistaken for
// a stuck call however the two threads interleave; the call ends cleanly.
static void
bursts_pass(const char *suffix, int burst)
{
	corpc_channel *ch;
	corpc_stream  *st = open_bidi(suffix, &ch);
	assert_int_equal(bursts(st, burst, 300), CORPC_STATUS_OK);
	assert_int_equal(corpc_stream_close_send(st), CORPC_STATUS_OK);
	const ProtobufCMessage *end = NULL;
	assert_int_equal(corpc_stream_recv(st, &end), CORPC_STATUS_OK);
	assert_null(end);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	done(st, ch);
}

static void
test_thread_stuck(void **state)
{
	(void) state;
	stuck_ends("?mode=thread", 100 * QUEUE_DEPTH, 1,
	    "corpc_channel_opts.queue_depth", CORPC_STATUS_RESOURCE_EXHAUSTED);
}

// Share mode, replies too large to copy: the handler's send waits until
// the client has moved past its reply (its next recv), so the reply the
// client holds counts: a burst of queue_depth gets stuck in the second
// round, at once and every time, and one less never does.
static void
test_thread_large_exact(void **state)
{
	(void) state;
	text = large_text;
	stuck_ends("?mode=thread", QUEUE_DEPTH, 2,
	    "corpc_channel_opts.queue_depth", CORPC_STATUS_RESOURCE_EXHAUSTED);
	bursts_pass("?mode=thread", QUEUE_DEPTH - 1);
	text = "x";
}

static void
test_thread_copy_stuck(void **state)
{
	(void) state;
	stuck_ends("?mode=thread-copy", 100 * QUEUE_DEPTH, 1,
	    "corpc_channel_opts.queue_depth", CORPC_STATUS_RESOURCE_EXHAUSTED);
}

static void
test_coro_limit(void **state)
{
	(void) state;
	// The coroutine handoff unwinds its handler: CANCELLED.
	stuck_ends("", 100 * QUEUE_DEPTH, 1, "receive in between",
	    CORPC_STATUS_CANCELLED);
}

static void
test_thread_bursts(void **state)
{
	(void) state;
	// Replies may cross as pointers (their send then waits for the next
	// recv), so the reply the client holds counts.
	bursts_pass("?mode=thread", QUEUE_DEPTH - 1);
}

static void
test_thread_copy_bursts(void **state)
{
	(void) state;
	bursts_pass("?mode=thread-copy", QUEUE_DEPTH);
}

// Share mode, a client slower than its handler: once a round trip was
// slow, small plain responses are copied and send no longer waits for the
// client, so the handler (which reuses one response object) finishes while
// the client has read only two, and every copy keeps its own index.
static void
test_thread_slow_client_copies(void **state)
{
	(void) state;
	corpc_channel *ch = dial("?mode=thread");
	echo_stats_reset(&es.stats);
	Req req   = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text  = "s";
	req.count = QUEUE_DEPTH + 1; // 0 read, 1 held, 2..8 in the ring
	corpc_stream *st;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, NULL, &req, &st),
	    CORPC_OK);
	int index = 0;
	recv_n(st, 1, &index);
	corpc_sleep_ms(1); // a slow reader: the handler's send of 0 waits
	recv_n(st, 1, &index);
	wait_handlers_done(); // it sent the rest without waiting
	recv_n(st, req.count - 2, &index);
	const Resp *r;
	assert_int_equal(
	    corpc__test__echo__server_stream_recv(st, &r), CORPC_STATUS_OK);
	assert_null(r);
	done(st, ch);
}

// Both sides wait to receive on one thread: refused, not hung.
static void
test_coro_both_receive(void **state)
{
	(void) state;
	corpc_channel *ch;
	corpc_stream  *st = open_bidi("", &ch);
	const Resp    *r;
	assert_int_equal(corpc__test__echo__bidi_recv(st, &r),
	    CORPC_STATUS_FAILED_PRECONDITION);
	done(st, ch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_thread_stuck),
	    cmocka_unit_test(test_thread_large_exact),
	    cmocka_unit_test(test_thread_copy_stuck),
	    cmocka_unit_test(test_thread_bursts),
	    cmocka_unit_test(test_thread_slow_client_copies),
	    cmocka_unit_test(test_thread_copy_bursts),
	    cmocka_unit_test(test_coro_limit),
	    cmocka_unit_test(test_coro_both_receive),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
