// SPDX-License-Identifier: MIT
// Internal: the state of a fan-out, shared by its files.
//   fanout.c  public API, backend end handling, the merged status
//   backend.c pulling one backend: inline recv, or a reader thread's ring
//   merge.c   the three merge policies and dedup
//   serve.c   corpc_fanout_serve
// Built on the public client API (channels, streams, ctx); from core only
// the message clone and arena, for the readers' copies. A reader is a task
// when the fan-out is driven from a task (a handler, say), so that nothing
// blocks a scheduler thread; a thread otherwise. Every wait is a
// corpc__cond, which parks tasks and blocks threads alike.
#ifndef CORPC_FANOUT_IMPL_H
#define CORPC_FANOUT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "runtime/cond.h"
#include "corpc/fanout.h"
#include "corpc/server.h"

// A reader thread's queue holds up to FO_RING messages of its backend,
// each a clone in its own reused arena (no malloc in steady state): the
// transport's message is only borrowed until the reader's next recv.
#define FO_RING 32

typedef struct corpc__fo_item {
	const ProtobufCMessage *msg; // the clone; NULL for the end
	corpc__arena            arena;
} corpc__fo_item;

// What pulling a backend gave.
typedef enum corpc__fo_res {
	FO_HAVE,    // b->head is a message
	FO_DONE,    // the backend ended (recorded); the merge goes on
	FO_FAIL,    // the merged call ended (fo->ended set, backends stopped)
	FO_PENDING, // a reader thread has nothing yet (non-blocking pull)
	FO_WAKE,    // a wait was interrupted (cancel, async error): re-check
	FO_END,     // merge.c: every backend ended
} corpc__fo_res;

typedef struct corpc__fo_backend {
	struct corpc_fanout *fo;
	size_t               index;
	corpc_channel       *ch;
	corpc_stream        *st;
	bool                 threaded;
	bool coroutine; // pull-driven transport: runs when pulled

	// Reader thread. The ring's occupied part [r_head, r_head + r_len)
	// (the merge's current head included) and the fields below are under
	// fo->mu; the reader fills the slot after it without the lock.
	pthread_t         thread; // the reader: a thread, or a task (below)
	corpc__task      *task;
	bool              thread_started;
	corpc__cond       cv;   // the reader waits here while the ring is full
	corpc__fo_item   *ring; // FO_RING items
	size_t            r_head, r_len;
	bool              reader_ended; // the end is in the ring
	corpc_status_code end_rc;
	int64_t           want_since; // last progress (backend_timeout_ms)
	bool              timed_out;  // cancelled for backend_timeout_ms

	// The driving thread's view.
	const ProtobufCMessage *head; // the current message (borrowed) or NULL
	bool                    done; // ended; code/message recorded
	bool                    failed;
	corpc_status_code       code;
	const char             *message; // borrowed from st
} corpc__fo_backend;

// A growable byte buffer for dedup keys.
typedef struct corpc__fo_buf {
	unsigned char *data;
	size_t         len, cap;
} corpc__fo_buf;

struct corpc_fanout {
	corpc_fanout_opts   opts;
	const corpc_method *method;
	int64_t             deadline; // the merged call's, CORPC_DEADLINE_NONE
	size_t              n;
	atomic_bool         cancelled;

	pthread_mutex_t mu;
	corpc__cond     cv; // the driving side waits for a slot
	bool            mu_init;
	bool            stopping; // under mu: readers must exit
	atomic_bool async_error;  // a reader saw a failed end (set under mu)
	size_t     *queue;        // under mu: a backend per queued item
	size_t      q_cap;        // n * FO_RING
	size_t      q_head, q_len;

	// The merged call (driving thread).
	bool              ended, finished, stopped;
	corpc_status_code code;
	char              message[512];
	ptrdiff_t         last; // backend of the message handed out, or -1

	// Merge state.
	size_t        cur; // concat: the backend being read
	size_t        rr;  // interleave: next inline backend to try
	bool          turn_inline;
	size_t        inline_alive, threaded_alive;
	size_t       *heap; // sorted: backends whose head is merged next
	size_t        heap_len;
	size_t       *pending; // sorted: live backends without a head yet
	size_t        pending_len;
	corpc__fo_buf keys[2]; // dedup: keys[last_key] is the last one out
	int           last_key;
	bool          have_key;
	bool         *own_end; // corpc__fo_stop's scratch, n entries

	corpc__fo_backend b[]; // n of them
};

// backend.c
// Starts the reader threads of the threaded backends. Errors: CORPC_ESYS.
corpc_err corpc__fo_start(struct corpc_fanout *fo);
// Makes sure backend b has a head or has ended. With `wait` false a
// threaded backend with nothing ready gives FO_PENDING. Gives FO_HAVE,
// FO_DONE, FO_FAIL, FO_PENDING or FO_WAKE.
corpc__fo_res corpc__fo_pull(
    struct corpc_fanout *fo, corpc__fo_backend *b, bool wait);
// The merge is done with b's head: the next pull (or its reader) may recv.
void corpc__fo_release(struct corpc_fanout *fo, corpc__fo_backend *b);
// Interleave: the backend of the next queued item, in arrival order,
// into *out. With `wait`, blocks until one is ready. Gives FO_HAVE
// (*out set), FO_PENDING or FO_WAKE.
corpc__fo_res corpc__fo_next_ready(
    struct corpc_fanout *fo, bool wait, size_t *out);
// Fail fast: takes the end of a threaded backend whose reader saw an error
// before the merge got to it. Gives FO_FAIL, or FO_DONE when none.
corpc__fo_res corpc__fo_take_async_error(struct corpc_fanout *fo);
// Stops every backend: cancels the unfinished ones, joins the readers,
// finishes every stream and records each status. Idempotent.
void corpc__fo_stop(struct corpc_fanout *fo);

// fanout.c
// Finishes b's stream (an early stop if it is still running) and records
// its status; `own`: it ended by itself, so an error makes it failed.
corpc_status corpc__fo_record_end(corpc__fo_backend *b, bool own);
// Records that b ended with `rc` (its stream is finished here); decides
// what that does to the merged call. Gives FO_DONE or FO_FAIL.
corpc__fo_res corpc__fo_backend_ended(
    struct corpc_fanout *fo, corpc__fo_backend *b, corpc_status_code rc);
// Ends the merged call with `code` and a message (once), then stops every
// backend.
void corpc__fo_end(struct corpc_fanout *fo, corpc_status_code code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// merge.c
// Prepares the policy's state. Errors: CORPC_ENOMEM.
corpc_err corpc__fo_merge_init(struct corpc_fanout *fo);
// Picks the next message into *out (a backend index with a head) per the
// policy; gives FO_HAVE, FO_END, FO_FAIL or FO_WAKE.
corpc__fo_res corpc__fo_merge_next(struct corpc_fanout *fo, size_t *out);
// The merge hands out b's head and will not look at it again.
void corpc__fo_merge_release(struct corpc_fanout *fo, size_t b);
// corpc_fanout_ready for the policy.
bool corpc__fo_merge_ready(struct corpc_fanout *fo);
// Dedup: true when b's head equals the last message handed out; otherwise
// remembers its key as the last one. Errors become false (no dedup).
bool corpc__fo_dedup_skip(struct corpc_fanout *fo, size_t b);

#endif // CORPC_FANOUT_IMPL_H
