// SPDX-License-Identifier: MIT
// Echo service behaviour, by request field:
//   Unary:        text "twice" sends two replies; "noreply" returns OK with
//                 none; "nested" relays a ServerStream call through `inner`;
//                 otherwise echoes text (and blob).
//   ServerStream: `count` responses with index 0..count-1; `fail_after`
//                 responses then `fail_code`; `delay_ms` before each.
//   ClientStream: concatenates every request's text.
//   Bidi:         answers each request with its text; a request with
//                 count > 0 makes the server first send `count` greetings.
// Every handler: echo_metadata copies request metadata to headers ("h-" +
// key) and trailers ("t-" + key); fail_code (non-zero) ends with that code
// and fail_message (as it is, not a format), and fail_details as the rich
// error details.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "echo_service.h"

void
echo_stats_reset(echo_stats *s)
{
	atomic_store(&s->started, 0);
	atomic_store(&s->finished, 0);
	atomic_store(&s->live, 0);
	atomic_store(&s->last_send, -1);
	atomic_store(&s->last_recv, -1);
	atomic_store(&s->saw_deadline, 0);
	atomic_store(&s->header_late, 0);
	atomic_store(&s->received, 0);
	atomic_store(&s->saw_cancel, 0);
}

corpc_server *
echo_serve(const char *addr, echo_server *es, const corpc_server_opts *opts)
{
	corpc_server *srv;
	corpc_err     err;
	echo_stats_reset(&es->stats);
	if ((err = corpc_server_create(opts, &srv)) != CORPC_OK) {
		fprintf(stderr, "server: %s\n", corpc_strerror(err));
		return NULL;
	}
	if ((err = corpc__test__echo__register_server(srv, &echo_impl, es)) !=
	        CORPC_OK ||
	    (err = corpc_server_listen(srv, addr)) != CORPC_OK ||
	    (err = corpc_server_start(srv)) != CORPC_OK) {
		fprintf(stderr, "server %s: %s (%s)\n", addr,
		    corpc_strerror(err), corpc_err_detail());
		corpc_server_destroy(srv);
		return NULL;
	}
	return srv;
}

// A resource a handler holds until its cleanup: leaks show under LSan.
static void *
acquire(echo_server *es)
{
	atomic_fetch_add(&es->stats.started, 1);
	atomic_fetch_add(&es->stats.live, 1);
	return malloc(64);
}

static void
release(echo_server *es, void *res)
{
	free(res);
	atomic_fetch_sub(&es->stats.live, 1);
	atomic_fetch_add(&es->stats.finished, 1);
}

// delay_ms suspends a handler on a coroutine (corpc_sleep_ms); block_ms
// blocks its thread, as a handler calling a blocking library would.
static void
sleep_ms(int ms)
{
	corpc_sleep_ms(ms);
}

static void
block_ms(int ms)
{
	if (ms > 0) {
		struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}

static void
echo_metadata(corpc_ctx *ctx, const Corpc__Test__EchoRequest *req)
{
	if (!req->echo_metadata) {
		return;
	}
	const corpc_metadata *md = corpc_ctx_metadata(ctx);
	for (size_t i = 0; i < corpc_metadata_count(md); i++) {
		const corpc_metadata_entry *e = corpc_metadata_at(md, i);
		if (strncmp(e->key, "x-", 2) != 0) {
			continue; // only the test's own keys, not a
			          // transport's
		}
		char key[128];
		snprintf(key, sizeof(key), "h-%s", e->key);
		corpc_ctx_set_header(ctx, key, e->value, e->value_len);
		snprintf(key, sizeof(key), "t-%s", e->key);
		corpc_ctx_set_trailer(ctx, key, e->value, e->value_len);
	}
}

static corpc_status_code
fail(corpc_ctx *ctx, const Corpc__Test__EchoRequest *req)
{
	if (req->fail_details.len > 0 &&
	    corpc_ctx_set_status_details(ctx, req->fail_details.data,
	        req->fail_details.len) != CORPC_OK) {
		return corpc_ctx_status(
		    ctx, CORPC_STATUS_INTERNAL, "details refused");
	}
	return corpc_ctx_status(
	    ctx, (corpc_status_code) req->fail_code, req->fail_message);
}

static void
note_deadline(echo_server *es, corpc_ctx *ctx)
{
	if (corpc_ctx_deadline(ctx) != CORPC_DEADLINE_NONE) {
		atomic_store(&es->stats.saw_deadline, 1);
	}
}

static void
note_cancel(echo_server *es, corpc_status_code rc)
{
	if (rc == CORPC_STATUS_CANCELLED ||
	    rc == CORPC_STATUS_DEADLINE_EXCEEDED) {
		atomic_fetch_add(&es->stats.saw_cancel, 1);
	}
}

static corpc_status_code
nested(echo_server *es, corpc_ctx *ctx, const Corpc__Test__EchoRequest *req)
{
	Corpc__Test__EchoRequest inner_req = CORPC__TEST__ECHO_REQUEST__INIT;
	inner_req.text                     = "inner";
	inner_req.count                    = req->count;
	inner_req.delay_ms                 = req->delay_ms;
	// The inner call ends when this one does (deadline, cancel).
	corpc_call_opts inner_opts = {.parent = ctx};
	corpc_stream   *st;
	if (es->inner == NULL ||
	    corpc__test__echo__server_stream_open(
	        es->inner, &inner_opts, &inner_req, &st) != CORPC_OK) {
		return corpc_ctx_error(
		    ctx, CORPC_STATUS_INTERNAL, "no inner channel");
	}
	char                             text[256] = "";
	const Corpc__Test__EchoResponse *r;
	while (
	    corpc__test__echo__server_stream_recv(st, &r) == CORPC_STATUS_OK &&
	    r != NULL) {
		size_t n = strlen(text);
		snprintf(
		    text + n, sizeof(text) - n, "%s%d;", r->text, r->index);
	}
	corpc_status      status;
	corpc_status_code code = corpc_stream_finish(st, &status);
	corpc_stream_destroy(st);
	if (code != CORPC_STATUS_OK) {
		return corpc_ctx_error(ctx, code, "inner call failed");
	}
	Corpc__Test__EchoResponse resp = CORPC__TEST__ECHO_RESPONSE__INIT;
	resp.text                      = text;
	return corpc__test__echo__unary_write(ctx, &resp, 0);
}

// report_compression: the answer says how the request came, and goes
// compressed as asked.
static void
report_compression(corpc_ctx *ctx, const Corpc__Test__EchoRequest *req,
    Corpc__Test__EchoResponse *resp)
{
	if (req->report_compression) {
		resp->text = (char *) corpc_compression_name(
		    corpc_ctx_received_compression(ctx));
		(void) corpc_ctx_set_compression(
		    ctx, (corpc_compression) req->respond_compression);
	}
}

static corpc_status_code
echo_unary(void *self, corpc_ctx *ctx, const Corpc__Test__EchoRequest *req)
{
	echo_server *es  = self;
	void        *res = acquire(es);
	note_deadline(es, ctx);
	echo_metadata(ctx, req);
	corpc_status_code rc = CORPC_STATUS_OK;
	block_ms(req->block_ms);
	sleep_ms(req->delay_ms);
	Corpc__Test__EchoResponse resp = CORPC__TEST__ECHO_RESPONSE__INIT;
	resp.text                      = req->text;
	resp.blob                      = req->blob;
	report_compression(ctx, req, &resp);
	if (req->fail_code != 0) {
		rc = fail(ctx, req);
	} else if (strcmp(req->text, "noreply") == 0) {
		rc = CORPC_STATUS_OK;
	} else if (strcmp(req->text, "nested") == 0) {
		rc = nested(es, ctx, req);
	} else {
		rc = corpc__test__echo__unary_write(ctx, &resp, 0);
		if (rc == CORPC_STATUS_OK && strcmp(req->text, "twice") == 0) {
			rc = corpc__test__echo__unary_write(ctx, &resp, 0);
		}
	}
	release(es, res);
	return rc;
}

static corpc_status_code
echo_server_stream(
    void *self, corpc_ctx *ctx, const Corpc__Test__EchoRequest *req)
{
	echo_server *es  = self;
	void        *res = acquire(es);
	note_deadline(es, ctx);
	echo_metadata(ctx, req);
	corpc_status_code         rc   = CORPC_STATUS_OK;
	Corpc__Test__EchoResponse resp = CORPC__TEST__ECHO_RESPONSE__INIT;
	resp.text                      = req->text;
	int n = req->fail_code != 0 ? req->fail_after : req->count;
	block_ms(req->block_ms);
	for (int i = 0; i < n; i++) {
		sleep_ms(req->delay_ms);
		resp.index = i;
		rc = corpc__test__echo__server_stream_write(ctx, &resp, 0);
		if (rc != CORPC_STATUS_OK) {
			atomic_store(&es->stats.last_send, (int) rc);
			note_cancel(es, rc);
			break;
		}
		if (i == 0 && corpc_ctx_set_header(ctx, "x-late", "1", 1) ==
		                  CORPC_ESTATE) {
			atomic_store(&es->stats.header_late, 1);
		}
	}
	if (rc == CORPC_STATUS_OK && req->fail_code != 0) {
		rc = fail(ctx, req);
	}
	release(es, res);
	return rc;
}

static corpc_status_code
echo_client_stream(void *self, corpc_ctx *ctx)
{
	echo_server                    *es         = self;
	void                           *res        = acquire(es);
	char                            text[4096] = "";
	const Corpc__Test__EchoRequest *req;
	corpc_status_code               rc;
	int                             fail_code = 0;
	note_deadline(es, ctx);
	while ((rc = corpc__test__echo__client_stream_read(ctx, &req)) ==
	           CORPC_STATUS_OK &&
	       req != NULL) {
		atomic_fetch_add(&es->stats.received, 1);
		size_t n = strlen(text);
		snprintf(text + n, sizeof(text) - n, "%s", req->text);
		if (req->fail_code != 0) {
			fail_code =
			    req->fail_code; // finish now, client still sending
			break;
		}
	}
	if (rc != CORPC_STATUS_OK) {
		atomic_store(&es->stats.last_recv, (int) rc);
	} else if (fail_code != 0) {
		rc = corpc_ctx_error(
		    ctx, (corpc_status_code) fail_code, "stopped early");
	} else {
		Corpc__Test__EchoResponse resp =
		    CORPC__TEST__ECHO_RESPONSE__INIT;
		resp.text = text;
		rc = corpc__test__echo__client_stream_write(ctx, &resp, 0);
	}
	release(es, res);
	return rc;
}

static corpc_status_code
echo_bidi(void *self, corpc_ctx *ctx)
{
	echo_server                    *es  = self;
	void                           *res = acquire(es);
	const Corpc__Test__EchoRequest *req = NULL;
	corpc_status_code               rc;
	Corpc__Test__EchoResponse resp = CORPC__TEST__ECHO_RESPONSE__INIT;
	int                       i    = 0;
	while ((rc = corpc__test__echo__bidi_read(ctx, &req)) ==
	           CORPC_STATUS_OK &&
	       req != NULL) {
		atomic_fetch_add(&es->stats.received, 1);
		if (req->fail_code != 0) {
			rc = fail(ctx, req);
			break;
		}
		for (int g = 0; g < req->count && rc == CORPC_STATUS_OK; g++) {
			resp.text  = "greeting";
			resp.index = i++;
			rc = corpc__test__echo__bidi_write(ctx, &resp, 0);
		}
		resp.text  = req->text;
		resp.index = i++;
		report_compression(ctx, req, &resp);
		if (rc == CORPC_STATUS_OK) {
			rc = corpc__test__echo__bidi_write(ctx, &resp, 0);
		}
		if (rc != CORPC_STATUS_OK) {
			atomic_store(&es->stats.last_send, (int) rc);
			break;
		}
	}
	if (rc != CORPC_STATUS_OK && req == NULL) {
		atomic_store(&es->stats.last_recv, (int) rc);
	}
	note_cancel(es, rc);
	release(es, res);
	return rc;
}

const Corpc__Test__Echo_Server echo_impl = {
    .unary         = echo_unary,
    .server_stream = echo_server_stream,
    .client_stream = echo_client_stream,
    .bidi          = echo_bidi,
};
