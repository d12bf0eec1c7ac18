// SPDX-License-Identifier: MIT
// The gRPC poller: a worker of the runtime waits in its own `next`
// completion queue, so that a batch completion resumes the task waiting on
// it on the very thread that polled it, with no handoff.
//
// After a large message, the first worker that stays idle for IDLE_TRIM_MS
// calls malloc_trim (grpc_common.h says why).
//
// Other threads wake a worker blocked in grpc_completion_queue_next with a
// connectivity watch whose deadline has passed, on a channel that never
// connects: gRPC's public API has no other way to post to a queue, and it
// costs what a futex wake-up does here (about 30 µs round trip, 2 vCPU).
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/log.h"
#include "runtime/sched.h"
#include "transport/grpc/grpc_common.h"

// Events taken per wait before the worker runs its tasks again.
#define DRAIN_MAX 256

// Without a backlog, a wait tries to drain once in this many events.
#define PROBE_EVERY 16

// How long a worker must find nothing to do before it trims.
#define IDLE_TRIM_MS 50

// A large message went through since the last trim.
static atomic_bool trim_wanted;

typedef struct grpc_poller {
	grpc_completion_queue *cq;
	bool                   draining;    // the last drain found events
	unsigned               since_probe; // events since the last drain
} grpc_poller;

static char           kick_tag; // completions to ignore
static grpc_channel  *kick_channel;
static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void
kick_init(void)
{
	grpc_channel_credentials *cc = grpc_insecure_credentials_create();
	// Lazy: nothing ever connects; the watch only needs a client channel.
	kick_channel =
	    grpc_channel_create("unix:/nonexistent/corpc-kick", cc, NULL);
	grpc_channel_credentials_release(cc);
}

static void
dispatch(grpc_event ev)
{
	if (ev.type == GRPC_OP_COMPLETE && ev.tag != &kick_tag) {
		corpc__grpc_tag *tag = ev.tag;
		tag->done(tag, ev.success != 0);
	}
}

void
corpc__grpc_note_message(size_t bytes)
{
	if (bytes >= CORPC__GRPC_LARGE_MESSAGE &&
	    !atomic_load_explicit(&trim_wanted, memory_order_relaxed)) {
		atomic_store(&trim_wanted, true);
	}
}

static void
poller_wait(void *p, int64_t deadline)
{
	grpc_poller *g = p;
	// A trim is due: wait only a little, and trim if nothing came.
	int64_t soon = corpc_now() + (int64_t) IDLE_TRIM_MS * 1000000;
	bool    trim = deadline != 0 && atomic_load(&trim_wanted) &&
	            (deadline == CORPC_DEADLINE_NONE || deadline > soon);
	if (trim) {
		deadline = soon;
	}
	gpr_timespec dl = deadline == CORPC_DEADLINE_NONE
	                      ? gpr_inf_future(GPR_CLOCK_MONOTONIC)
	                  : deadline <= 0 ? gpr_inf_past(GPR_CLOCK_MONOTONIC)
	                                  : corpc__grpc_deadline_to(deadline);
	grpc_event   ev = grpc_completion_queue_next(g->cq, dl, NULL);
	if (ev.type != GRPC_OP_COMPLETE) {
		if (trim && ev.type == GRPC_QUEUE_TIMEOUT &&
		    atomic_exchange(&trim_wanted, false)) {
			malloc_trim(0);
		}
		return;
	}
	dispatch(ev);
	// Draining costs a poll of gRPC's pollset when the queue is empty, as
	// it is for one busy stream: drain while that finds more, and only
	// probe now and then otherwise.
	if (!g->draining && ++g->since_probe < PROBE_EVERY) {
		return;
	}
	g->since_probe = 0;
	int n          = 0;
	while (n < DRAIN_MAX) {
		ev = grpc_completion_queue_next(
		    g->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type != GRPC_OP_COMPLETE) {
			break;
		}
		dispatch(ev);
		n++;
	}
	g->draining = n > 0;
}

static void
poller_kick(void *p)
{
	grpc_poller *g = p;
	grpc_channel_watch_connectivity_state(kick_channel, GRPC_CHANNEL_IDLE,
	    gpr_inf_past(GPR_CLOCK_MONOTONIC), g->cq, &kick_tag);
}

static void
poller_destroy(void *p)
{
	grpc_poller *g = p;
	// Every call on this queue has ended (runtime.h): what is left are
	// kicks.
	grpc_completion_queue_shutdown(g->cq);
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(
		    g->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN) {
			break;
		}
		if (ev.type == GRPC_OP_COMPLETE && ev.tag != &kick_tag) {
			// Not run: whoever waits for it outlived the runtime.
			corpc__log(CORPC_LOG_ERROR,
			    "a runtime was destroyed while a call on it was "
			    "still in "
			    "progress (destroy its streams first; see "
			    "runtime.h)");
		}
	}
	grpc_completion_queue_destroy(g->cq);
	free(g);
	corpc__grpc_unref();
}

static const corpc__poller_ops grpc_poller_ops = {
    .p_wait    = poller_wait,
    .p_kick    = poller_kick,
    .p_destroy = poller_destroy,
};

static void *
poller_create(void *arg)
{
	(void) arg;
	grpc_poller *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return NULL;
	}
	corpc__grpc_ref();
	pthread_once(&kick_once, kick_init);
	g->cq = grpc_completion_queue_create_for_next(NULL);
	if (g->cq == NULL || kick_channel == NULL) {
		if (g->cq != NULL) {
			grpc_completion_queue_destroy(g->cq);
		}
		free(g);
		corpc__grpc_unref();
		return NULL;
	}
	return g;
}

grpc_completion_queue *
corpc__grpc_worker_cq(corpc__worker *w)
{
	grpc_poller *g =
	    corpc__worker_poller(w, &grpc_poller_ops, poller_create, NULL);
	return g != NULL ? g->cq : NULL;
}

grpc_completion_queue *
corpc__grpc_task_cq(corpc__worker **worker)
{
	corpc__worker *w =
	    corpc__task_current() != NULL ? corpc__worker_current() : NULL;
	if (worker != NULL) {
		*worker = w;
	}
	return w != NULL ? corpc__grpc_worker_cq(w) : NULL;
}
