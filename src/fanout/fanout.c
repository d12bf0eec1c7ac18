// SPDX-License-Identifier: MIT
// Fan-out: open every backend call, hand out the merge's messages, decide
// the merged status from the backends' ends.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/channel.h"
#include "core/clock.h"
#include "fanout/fanout_impl.h"

static bool
threaded_for(corpc_fanout_pull pull, const corpc_channel *ch)
{
	switch (pull) {
	case CORPC_FANOUT_PULL_INLINE:
		return false;
	case CORPC_FANOUT_PULL_THREAD:
		return true;
	case CORPC_FANOUT_PULL_AUTO:
		break;
	}
	// A pull-driven backend produces only when its call is pulled: the
	// merge may pull it inline; any other gets a thread.
	return !ch->tp->pull_driven;
}

// The merged call's deadline, as core computes it from call options.
static int64_t
deadline_of(const corpc_call_opts *call, int64_t now)
{
	int64_t dl = CORPC_DEADLINE_NONE;
	if (call != NULL && call->deadline > 0) {
		dl = call->deadline;
	}
	if (call != NULL && call->timeout_ms > 0 &&
	    now + call->timeout_ms * 1000000 < dl) {
		dl = now + call->timeout_ms * 1000000;
	}
	return dl;
}

corpc_status
corpc__fo_record_end(corpc__fo_backend *b, bool own)
{
	corpc_status st;
	corpc_stream_finish(b->st, &st); // an early stop if it had not ended
	if (b->timed_out && st.code == CORPC_STATUS_CANCELLED) {
		st.code    = CORPC_STATUS_DEADLINE_EXCEEDED;
		st.message = "no message within the fan-out's backend timeout";
	}
	b->done    = true;
	b->head    = NULL;
	b->code    = st.code;
	b->message = st.message;
	b->failed  = b->timed_out || (own && st.code != CORPC_STATUS_OK);
	return st;
}

void
corpc__fo_end(
    struct corpc_fanout *fo, corpc_status_code code, const char *fmt, ...)
{
	if (!fo->ended) {
		fo->ended = true;
		fo->code  = code;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(fo->message, sizeof(fo->message), fmt, ap);
		va_end(ap);
	}
	corpc__fo_stop(fo);
}

corpc__fo_res
corpc__fo_backend_ended(
    struct corpc_fanout *fo, corpc__fo_backend *b, corpc_status_code rc)
{
	(void) rc; // finish gives the same code
	corpc_status st = corpc__fo_record_end(b, true);
	if (b->threaded) {
		fo->threaded_alive--;
	} else {
		fo->inline_alive--;
	}
	if (st.code == CORPC_STATUS_OK) {
		return FO_DONE;
	}
	if (st.code == CORPC_STATUS_CANCELLED && atomic_load(&fo->cancelled)) {
		b->failed = false; // we stopped it
		corpc__fo_end(fo, CORPC_STATUS_CANCELLED, "fan-out cancelled");
		return FO_FAIL;
	}
	if (st.code == CORPC_STATUS_DEADLINE_EXCEEDED &&
	    fo->deadline != CORPC_DEADLINE_NONE &&
	    corpc_now() >= fo->deadline) {
		corpc__fo_end(fo, CORPC_STATUS_DEADLINE_EXCEEDED,
		    "deadline exceeded (backend %zu (%s): %s)", b->index,
		    corpc_channel_address(b->ch), st.message);
		return FO_FAIL;
	}
	if (fo->opts.on_error == CORPC_FANOUT_FAIL_FAST) {
		corpc__fo_end(fo, st.code, "backend %zu (%s): %s", b->index,
		    corpc_channel_address(b->ch), st.message);
		return FO_FAIL;
	}
	return FO_DONE;
}

// Every backend ended and the merge is complete.
static void
end_clean(struct corpc_fanout *fo)
{
	size_t failed = corpc_fanout_failed_count(fo);
	if (fo->n > 0 && failed == fo->n) {
		const corpc__fo_backend *b = &fo->b[0];
		corpc__fo_end(fo, b->code,
		    "every backend failed; backend 0 (%s): %s",
		    corpc_channel_address(b->ch), b->message);
		return;
	}
	corpc__fo_end(fo, CORPC_STATUS_OK, "%s", "");
}

static corpc_err
open_backends(struct corpc_fanout *fo, corpc_channel *const *backends,
    const corpc_call_opts *call, const ProtobufCMessage *request)
{
	corpc_call_opts bo = {0};
	bo.deadline = fo->deadline != CORPC_DEADLINE_NONE ? fo->deadline : 0;
	bo.metadata = call != NULL ? call->metadata : NULL;
	bo.parent = fo->opts.parent; // the parent's cancel ends every backend
	for (size_t i = 0; i < fo->n; i++) {
		corpc__fo_backend *b = &fo->b[i];
		b->index             = i;
		b->ch                = backends[i];
		b->threaded  = threaded_for(fo->opts.pull, backends[i]);
		b->coroutine = backends[i]->tp->pull_driven;
		b->cv        = (corpc__cond) CORPC__COND_INIT;
		b->fo        = fo;
		corpc_err rv =
		    corpc_stream_open(b->ch, fo->method, &bo, request, &b->st);
		if (rv != CORPC_OK) {
			return rv;
		}
	}
	return CORPC_OK;
}

static corpc_err
check_args(corpc_channel *const *backends, size_t n,
    const corpc_method *method, const ProtobufCMessage *request,
    const corpc_fanout_opts *opts, corpc_fanout **out)
{
	if (out == NULL || method == NULL || request == NULL ||
	    (backends == NULL && n > 0)) {
		return CORPC_EINVAL;
	}
	if ((method->kind != CORPC_RPC_SERVER_STREAMING &&
	        method->kind != CORPC_RPC_UNARY) ||
	    request->descriptor != method->request) {
		return CORPC_EINVAL;
	}
	if (opts != NULL && opts->merge == CORPC_FANOUT_SORTED &&
	    opts->compare == NULL) {
		return CORPC_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (backends[i] == NULL) {
			return CORPC_EINVAL;
		}
	}
	return CORPC_OK;
}

corpc_err
corpc_fanout_open(corpc_channel *const *backends, size_t n,
    const corpc_method *method, const corpc_call_opts *call,
    const ProtobufCMessage *request, const corpc_fanout_opts *opts,
    corpc_fanout **out)
{
	corpc_err rv = check_args(backends, n, method, request, opts, out);
	if (rv != CORPC_OK) {
		if (out != NULL) {
			*out = NULL;
		}
		return rv;
	}
	*out = NULL;
	struct corpc_fanout *fo =
	    calloc(1, sizeof(*fo) + n * sizeof(corpc__fo_backend));
	if (fo == NULL) {
		return CORPC_ENOMEM;
	}
	if (opts != NULL) {
		fo->opts = *opts;
	}
	fo->method   = method;
	fo->n        = n;
	fo->deadline = deadline_of(call, corpc_now());
	fo->last     = -1;
	atomic_init(&fo->cancelled, false);
	atomic_init(&fo->async_error, false);
	fo->cv = (corpc__cond) CORPC__COND_INIT;
	if (pthread_mutex_init(&fo->mu, NULL) != 0) {
		free(fo);
		return CORPC_ESYS;
	}
	fo->mu_init = true;
	fo->q_cap   = n * FO_RING + 1;
	fo->queue   = calloc(fo->q_cap, sizeof(*fo->queue));
	fo->own_end = calloc(n + 1, sizeof(*fo->own_end));
	rv =
	    fo->queue == NULL || fo->own_end == NULL ? CORPC_ENOMEM : CORPC_OK;
	if (rv == CORPC_OK) {
		rv = open_backends(fo, backends, call, request);
	}
	if (rv == CORPC_OK) {
		rv = corpc__fo_merge_init(fo);
	}
	if (rv == CORPC_OK) {
		rv = corpc__fo_start(fo);
	}
	if (rv != CORPC_OK) {
		corpc_fanout_destroy(
		    fo); // stops what started, frees what exists
		return rv;
	}
	*out = fo;
	return CORPC_OK;
}

corpc_status_code
corpc_fanout_recv(
    corpc_fanout *fo, const ProtobufCMessage **msg, size_t *backend)
{
	if (msg != NULL) {
		*msg = NULL;
	}
	if (fo == NULL || msg == NULL) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	if (fo->ended) {
		return fo->code;
	}
	if (fo->last >= 0) {
		corpc__fo_merge_release(fo, (size_t) fo->last);
		fo->last = -1;
	}
	for (;;) {
		if (atomic_load(&fo->cancelled)) {
			corpc__fo_end(
			    fo, CORPC_STATUS_CANCELLED, "fan-out cancelled");
			return fo->code;
		}
		if (fo->opts.on_error == CORPC_FANOUT_FAIL_FAST &&
		    atomic_load(&fo->async_error) &&
		    corpc__fo_take_async_error(fo) == FO_FAIL) {
			return fo->code;
		}
		size_t        i;
		corpc__fo_res r = corpc__fo_merge_next(fo, &i);
		if (r == FO_HAVE) {
			if (fo->opts.dedup && corpc__fo_dedup_skip(fo, i)) {
				corpc__fo_merge_release(fo, i);
				continue;
			}
			fo->last = (ptrdiff_t) i;
			*msg     = fo->b[i].head;
			if (backend != NULL) {
				*backend = i;
			}
			return CORPC_STATUS_OK;
		}
		if (r == FO_END) {
			end_clean(fo);
			return fo->code;
		}
		if (r == FO_FAIL) {
			return fo->code;
		}
		// FO_WAKE: the checks above say why.
	}
}

bool
corpc_fanout_ready(corpc_fanout *fo)
{
	if (fo == NULL || fo->ended) {
		return fo != NULL;
	}
	pthread_mutex_lock(&fo->mu);
	bool ready = corpc__fo_merge_ready(fo);
	pthread_mutex_unlock(&fo->mu);
	return ready;
}

corpc_status_code
corpc_fanout_finish(corpc_fanout *fo, corpc_status *status)
{
	if (fo == NULL) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	if (!fo->finished) {
		fo->finished = true;
		fo->last     = -1;
		if (!fo->ended) {
			corpc__fo_end(fo, CORPC_STATUS_CANCELLED,
			    "fan-out stopped early");
		}
	}
	if (status != NULL) {
		status->code    = fo->code;
		status->message = fo->message;
	}
	return fo->code;
}

void
corpc_fanout_cancel(corpc_fanout *fo)
{
	if (fo == NULL || atomic_exchange(&fo->cancelled, true)) {
		return;
	}
	for (size_t i = 0; i < fo->n; i++) {
		if (fo->b[i].st != NULL) {
			corpc_stream_cancel(fo->b[i].st);
		}
	}
	pthread_mutex_lock(&fo->mu);
	corpc__cond_broadcast(&fo->cv);
	pthread_mutex_unlock(&fo->mu);
}

void
corpc_fanout_destroy(corpc_fanout *fo)
{
	if (fo == NULL) {
		return;
	}
	corpc_fanout_finish(fo, NULL);
	for (size_t i = 0; i < fo->n; i++) {
		corpc__fo_backend *b = &fo->b[i];
		corpc_stream_destroy(b->st);
		for (size_t k = 0; b->ring != NULL && k < FO_RING; k++) {
			corpc__arena_fini(&b->ring[k].arena);
		}
		free(b->ring);
	}
	pthread_mutex_destroy(&fo->mu);
	free(fo->queue);
	free(fo->own_end);
	free(fo->heap);
	free(fo->pending);
	free(fo->keys[0].data);
	free(fo->keys[1].data);
	free(fo);
}

size_t
corpc_fanout_backend_count(const corpc_fanout *fo)
{
	return fo != NULL ? fo->n : 0;
}

bool
corpc_fanout_backend_status(
    const corpc_fanout *fo, size_t i, corpc_status *status, bool *failed)
{
	if (fo == NULL || i >= fo->n || !fo->b[i].done) {
		return false;
	}
	if (status != NULL) {
		status->code    = fo->b[i].code;
		status->message = fo->b[i].message;
	}
	if (failed != NULL) {
		*failed = fo->b[i].failed;
	}
	return true;
}

const corpc_metadata *
corpc_fanout_backend_trailers(const corpc_fanout *fo, size_t i)
{
	if (fo == NULL || i >= fo->n || fo->b[i].st == NULL) {
		return NULL;
	}
	return corpc_stream_trailers(fo->b[i].st);
}

size_t
corpc_fanout_failed_count(const corpc_fanout *fo)
{
	size_t count = 0;
	for (size_t i = 0; fo != NULL && i < fo->n; i++) {
		count += fo->b[i].failed ? 1 : 0;
	}
	return count;
}

size_t
corpc_fanout_failed_text(const corpc_fanout *fo, char *buf, size_t cap)
{
	size_t len = 0;
	if (cap > 0) {
		buf[0] = '\0';
	}
	for (size_t i = 0; fo != NULL && i < fo->n; i++) {
		if (!fo->b[i].failed) {
			continue;
		}
		char item[48];
		int  k = snprintf(item, sizeof(item), "%s%zu:%d",
                    len > 0 ? "," : "", i, (int) fo->b[i].code);
		if (len + (size_t) k < cap) {
			memcpy(buf + len, item, (size_t) k + 1);
		} else if (cap > 0 && len < cap) {
			buf[len] = '\0'; // truncated: keep what fits whole
		}
		len += (size_t) k;
	}
	return len;
}
