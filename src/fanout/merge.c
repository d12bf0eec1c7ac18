// SPDX-License-Identifier: MIT
// The merge policies (concat, interleave, sorted k-way) and dedup. Each
// picks a backend whose head goes out next; heads stay borrowed from their
// backend until released, so at most one message per backend is held.
#include <stdlib.h>
#include <string.h>

#include "fanout/fanout_impl.h"

// ---- sorted: a binary min-heap of backend indexes, ordered by head -------

static bool
less(struct corpc_fanout *fo, size_t i, size_t j)
{
	int c = fo->opts.compare(fo->b[i].head, fo->b[j].head, fo->opts.user);
	return c != 0 ? c < 0 : i < j; // ties in backend order
}

static void
heap_push(struct corpc_fanout *fo, size_t b)
{
	size_t k    = fo->heap_len++;
	fo->heap[k] = b;
	while (k > 0) {
		size_t up = (k - 1) / 2;
		if (!less(fo, fo->heap[k], fo->heap[up])) {
			break;
		}
		size_t t     = fo->heap[k];
		fo->heap[k]  = fo->heap[up];
		fo->heap[up] = t;
		k            = up;
	}
}

static size_t
heap_pop(struct corpc_fanout *fo)
{
	size_t top  = fo->heap[0];
	fo->heap[0] = fo->heap[--fo->heap_len];
	size_t k    = 0;
	for (;;) {
		size_t l = 2 * k + 1, r = l + 1, m = k;
		if (l < fo->heap_len && less(fo, fo->heap[l], fo->heap[m])) {
			m = l;
		}
		if (r < fo->heap_len && less(fo, fo->heap[r], fo->heap[m])) {
			m = r;
		}
		if (m == k) {
			return top;
		}
		size_t t    = fo->heap[k];
		fo->heap[k] = fo->heap[m];
		fo->heap[m] = t;
		k           = m;
	}
}

static corpc__fo_res
next_sorted(struct corpc_fanout *fo, size_t *out)
{
	// Every live backend needs a head before the smallest can be chosen.
	while (fo->pending_len > 0) {
		size_t        i = fo->pending[fo->pending_len - 1];
		corpc__fo_res r = corpc__fo_pull(fo, &fo->b[i], true);
		if (r == FO_HAVE) {
			heap_push(fo, i);
		} else if (r != FO_DONE) {
			return r; // FO_FAIL, or FO_WAKE (stays pending)
		}
		fo->pending_len--;
	}
	if (fo->heap_len == 0) {
		return FO_END;
	}
	*out = heap_pop(fo);
	return FO_HAVE;
}

// ---- concat and interleave
// --------------------------------------------------

static corpc__fo_res
next_concat(struct corpc_fanout *fo, size_t *out)
{
	while (fo->cur < fo->n) {
		corpc__fo_res r = corpc__fo_pull(fo, &fo->b[fo->cur], true);
		if (r == FO_HAVE) {
			*out = fo->cur;
			return FO_HAVE;
		}
		if (r != FO_DONE) {
			return r;
		}
		fo->cur++;
	}
	return FO_END;
}

// The next live inline backend, round-robin.
static size_t
next_inline(struct corpc_fanout *fo)
{
	size_t i = fo->rr;
	for (size_t k = 0; k < fo->n; k++, i = (i + 1) % fo->n) {
		if (!fo->b[i].threaded && !fo->b[i].done) {
			break;
		}
	}
	fo->rr = (i + 1) % fo->n;
	return i;
}

// Inline (coroutine) backends produce when pulled: one each, round-robin.
// Threaded ones come in arrival order. The two kinds take turns, and when
// no inline backend is left the merge waits for the next arrival.
static corpc__fo_res
next_interleave(struct corpc_fanout *fo, size_t *out)
{
	for (;;) {
		if (fo->inline_alive == 0 && fo->threaded_alive == 0) {
			return FO_END;
		}
		if (fo->turn_inline && fo->inline_alive > 0) {
			fo->turn_inline = false;
			size_t        i = next_inline(fo);
			corpc__fo_res r = corpc__fo_pull(fo, &fo->b[i], true);
			if (r == FO_HAVE) {
				*out = i;
			}
			if (r != FO_DONE) {
				return r;
			}
			continue;
		}
		fo->turn_inline = true;
		if (fo->threaded_alive == 0) {
			continue;
		}
		size_t        i;
		corpc__fo_res r =
		    corpc__fo_next_ready(fo, fo->inline_alive == 0, &i);
		if (r == FO_PENDING) {
			continue; // an inline backend's turn
		}
		if (r == FO_HAVE) {
			r = corpc__fo_pull(fo, &fo->b[i], false);
			if (r == FO_HAVE) {
				*out = i;
			}
		}
		if (r != FO_DONE) {
			return r;
		}
	}
}

// ---- shared ---------------------------------------------------------------
// ---------------------------------------------------------------------

corpc_err
corpc__fo_merge_init(struct corpc_fanout *fo)
{
	for (size_t i = 0; i < fo->n; i++) {
		if (fo->b[i].threaded) {
			fo->threaded_alive++;
		} else {
			fo->inline_alive++;
		}
	}
	fo->turn_inline = true;
	if (fo->opts.merge == CORPC_FANOUT_SORTED) {
		fo->heap    = calloc(fo->n + 1, sizeof(*fo->heap));
		fo->pending = calloc(fo->n + 1, sizeof(*fo->pending));
		if (fo->heap == NULL || fo->pending == NULL) {
			return CORPC_ENOMEM;
		}
		// Pulled from the end: backend 0 first.
		for (size_t i = 0; i < fo->n; i++) {
			fo->pending[i] = fo->n - 1 - i;
		}
		fo->pending_len = fo->n;
	}
	if (fo->opts.dedup) {
		for (int k = 0; k < 2; k++) {
			fo->keys[k].data = malloc(64);
			fo->keys[k].cap  = 64;
			if (fo->keys[k].data == NULL) {
				return CORPC_ENOMEM;
			}
		}
	}
	return CORPC_OK;
}

corpc__fo_res
corpc__fo_merge_next(struct corpc_fanout *fo, size_t *out)
{
	switch (fo->opts.merge) {
	case CORPC_FANOUT_INTERLEAVE:
		return next_interleave(fo, out);
	case CORPC_FANOUT_SORTED:
		return next_sorted(fo, out);
	case CORPC_FANOUT_CONCAT:
		break;
	}
	return next_concat(fo, out);
}

void
corpc__fo_merge_release(struct corpc_fanout *fo, size_t b)
{
	corpc__fo_release(fo, &fo->b[b]);
	if (fo->opts.merge == CORPC_FANOUT_SORTED && !fo->b[b].done) {
		fo->pending[fo->pending_len++] = b;
	}
}

// Whether b's next message (or end) is there without waiting (mu held):
// the merge's current head of b is released at the next recv.
static bool
has_next(const corpc__fo_backend *b)
{
	if (b->done) {
		return true;
	}
	if (!b->threaded) {
		return b->coroutine;
	}
	return b->r_len > (b->head != NULL ? 1u : 0u);
}

bool
corpc__fo_merge_ready(struct corpc_fanout *fo)
{
	switch (fo->opts.merge) {
	case CORPC_FANOUT_CONCAT:
		return fo->cur >= fo->n || has_next(&fo->b[fo->cur]);
	case CORPC_FANOUT_INTERLEAVE:
		for (size_t i = 0; i < fo->n; i++) {
			if (!fo->b[i].done && !fo->b[i].threaded &&
			    fo->b[i].coroutine) {
				return true;
			}
		}
		return fo->q_len > 0 ||
		       (fo->inline_alive == 0 && fo->threaded_alive == 0);
	case CORPC_FANOUT_SORTED:
		break;
	}
	for (size_t i = 0; i < fo->n; i++) {
		if (!has_next(&fo->b[i])) {
			return false;
		}
	}
	return true;
}

static bool
reserve(corpc__fo_buf *k, size_t len)
{
	if (len <= k->cap) {
		return true;
	}
	size_t         cap  = len > 2 * k->cap ? len : 2 * k->cap;
	unsigned char *data = realloc(k->data, cap);
	if (data == NULL) {
		return false;
	}
	k->data = data;
	k->cap  = cap;
	return true;
}

// The dedup key of `msg` into k: the user's, or the encoded bytes.
static bool
make_key(
    struct corpc_fanout *fo, const ProtobufCMessage *msg, corpc__fo_buf *k)
{
	size_t len;
	if (fo->opts.key != NULL) {
		len = fo->opts.key(msg, k->data, k->cap, fo->opts.user);
		if (len > k->cap) {
			if (!reserve(k, len)) {
				return false;
			}
			len =
			    fo->opts.key(msg, k->data, k->cap, fo->opts.user);
		}
		k->len = len <= k->cap ? len : k->cap;
		return true;
	}
	len = protobuf_c_message_get_packed_size(msg);
	if (!reserve(k, len)) {
		return false;
	}
	k->len = protobuf_c_message_pack(msg, k->data);
	return true;
}

bool
corpc__fo_dedup_skip(struct corpc_fanout *fo, size_t b)
{
	corpc__fo_buf *last = &fo->keys[fo->last_key];
	corpc__fo_buf *next = &fo->keys[1 - fo->last_key];
	if (!make_key(fo, fo->b[b].head, next)) {
		fo->have_key =
		    false; // out of memory: this one is not deduplicated
		return false;
	}
	if (fo->have_key && last->len == next->len &&
	    memcmp(last->data, next->data, next->len) == 0) {
		return true;
	}
	fo->last_key = 1 - fo->last_key;
	fo->have_key = true;
	return false;
}
