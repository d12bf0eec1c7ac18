// SPDX-License-Identifier: MIT
// Runtimes and their workers: the scheduler loop, remote wake-ups, and the
// built-in condition-variable poller.
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "corpc/client.h"
#include "runtime/sched_impl.h"

// Idle threads of the blocking-work pool exit after this long.
#define BLOCKING_IDLE_MS 10000

// ---- queues ---------------------------------------------------------------

void
corpc__queue_push(task_queue *q, corpc__task *t)
{
	t->next = NULL;
	if (q->tail != NULL) {
		q->tail->next = t;
	} else {
		q->head = t;
	}
	q->tail = t;
	q->len++;
}

corpc__task *
corpc__queue_pop(task_queue *q)
{
	corpc__task *t = q->head;
	if (t != NULL) {
		q->head = t->next;
		if (q->head == NULL) {
			q->tail = NULL;
		}
		q->len--;
		t->next = NULL;
	}
	return t;
}

static void
queue_move(task_queue *to, task_queue *from)
{
	if (from->head == NULL) {
		return;
	}
	if (to->tail != NULL) {
		to->tail->next = from->head;
	} else {
		to->head = from->head;
	}
	to->tail = from->tail;
	to->len += from->len;
	from->head = from->tail = NULL;
	from->len               = 0;
}

// ---- the built-in poller: the worker parks like a plain thread -------------

static void
cvp_wait(void *p, int64_t deadline)
{
	corpc__park(p, deadline);
}

static void
cvp_kick(void *p)
{
	corpc__unpark(p);
}

static void
cvp_destroy(void *p)
{
	corpc__thread_parker_fini(p);
}

static const corpc__poller_ops cv_poller_ops = {
    .p_wait    = cvp_wait,
    .p_kick    = cvp_kick,
    .p_destroy = cvp_destroy,
};

// ---- workers
// ----------------------------------------------------------------

corpc__worker *
corpc__worker_current(void)
{
	return corpc__self()->worker;
}

corpc_runtime *
corpc__worker_runtime(const corpc__worker *w)
{
	return w->rt;
}

void
corpc__worker_push_remote(corpc__worker *w, corpc__task *t)
{
	pthread_mutex_lock(&w->mu);
	corpc__queue_push(&w->inbox, t);
	if (w->sleeping) {
		w->sleeping = false; // one kick is enough
		// Under the lock: once it is released the task may run and
		// end, and the runtime be destroyed with this worker and its
		// poller.
		w->ops->p_kick(w->poller);
	}
	pthread_mutex_unlock(&w->mu);
}

void *
corpc__worker_poller(corpc__worker *w, const corpc__poller_ops *ops,
    void *(*create)(void *arg), void                           *arg)
{
	pthread_mutex_lock(&w->mu);
	void *p = w->next_ops == ops ? w->next_poller
	          : w->ops == ops    ? w->poller
	                             : NULL;
	if (p == NULL) {
		p = create(arg);
		if (p != NULL) {
			w->next_ops    = ops;
			w->next_poller = p;
			w->ops->p_kick(w->poller); // wake it to switch
		}
	}
	pthread_mutex_unlock(&w->mu);
	return p;
}

// Takes the inbox and a pending poller switch. Returns true when the
// worker should stop.
static bool
worker_turn(corpc__worker *w)
{
	pthread_mutex_lock(&w->mu);
	if (w->next_ops != NULL) {
		retired_poller *r = malloc(sizeof(*r));
		if (r != NULL) {
			*r = (retired_poller) {w->retired, w->ops, w->poller};
			w->retired  = r;
			w->ops      = w->next_ops;
			w->poller   = w->next_poller;
			w->next_ops = NULL;
		} // else: switch at a later turn
	}
	queue_move(&w->ready, &w->inbox);
	bool stop = w->stopping && w->ready.len == 0;
	pthread_mutex_unlock(&w->mu);
	return stop;
}

static void *
worker_main(void *arg)
{
	corpc__worker      *w    = arg;
	corpc__thread_self *self = corpc__self();
	self->worker             = w;
	w->own                   = &self->own;
	while (!worker_turn(w)) {
		// Run what is ready now; what these make ready runs next turn,
		// after the poller had a look, so I/O keeps flowing under
		// load.
		for (size_t n = w->ready.len; n > 0; n--) {
			corpc__task_run(w, corpc__queue_pop(&w->ready));
		}
		int64_t due      = corpc__timers_fire(w);
		int64_t deadline = w->ready.len > 0 ? 0 : due;
		if (deadline != 0) {
			pthread_mutex_lock(&w->mu);
			if (w->inbox.len > 0 || w->next_ops != NULL ||
			    w->stopping) {
				deadline = 0;
			} else {
				w->sleeping = true;
			}
			pthread_mutex_unlock(&w->mu);
		}
		w->ops->p_wait(w->poller, deadline);
		if (deadline != 0) {
			pthread_mutex_lock(&w->mu);
			w->sleeping = false;
			pthread_mutex_unlock(&w->mu);
		}
		corpc__timers_fire(w);
	}
	return NULL;
}

static void
worker_free(corpc__worker *w)
{
	// After the thread: nothing posts to the pollers any more.
	if (w->ops != &cv_poller_ops) {
		w->ops->p_destroy(w->poller);
	}
	if (w->next_ops != NULL) {
		w->next_ops->p_destroy(w->next_poller);
	}
	while (w->retired != NULL) {
		retired_poller *r = w->retired;
		w->retired        = r->next;
		if (r->ops != &cv_poller_ops) {
			r->ops->p_destroy(r->poller);
		}
		free(r);
	}
	cvp_destroy(&w->cvp);
	pthread_mutex_destroy(&w->mu);
	free(w->heap);
	free(w);
}

static corpc__worker *
worker_new(corpc_runtime *rt, unsigned index)
{
	corpc__worker *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return NULL;
	}
	w->rt    = rt;
	w->index = index;
	pthread_mutex_init(&w->mu, NULL);
	corpc__thread_parker_init(&w->cvp);
	w->ops    = &cv_poller_ops;
	w->poller = &w->cvp;
	return w;
}

// ---- runtimes
// ---------------------------------------------------------------

static void runtime_free(corpc_runtime *rt);

corpc_err
corpc_runtime_create(const corpc_runtime_opts *opts, corpc_runtime **out)
{
	if (out == NULL) {
		return CORPC_EINVAL;
	}
	*out              = NULL;
	corpc_runtime *rt = calloc(1, sizeof(*rt));
	if (rt == NULL) {
		return CORPC_ENOMEM;
	}
	if (opts != NULL) {
		rt->opts = *opts;
	}
	if (rt->opts.threads == 0) {
		long n           = sysconf(_SC_NPROCESSORS_ONLN);
		rt->opts.threads = n > 0 ? (unsigned) n : 1;
	}
	if (rt->opts.stack_size == 0) {
		rt->opts.stack_size = 256 * 1024;
	}
	if (rt->opts.blocking_threads == 0) {
		rt->opts.blocking_threads = 64;
	}
	pthread_mutex_init(&rt->mu, NULL);
	pthread_cond_init(&rt->cv, NULL);
	rt->n       = rt->opts.threads;
	rt->workers = calloc(rt->n, sizeof(*rt->workers));
	rt->stacks  = corpc__stack_pool_create(
	     rt->opts.stack_size, rt->opts.stack_guard_size);
	rt->blocking =
	    corpc__pool_create(rt->opts.blocking_threads, 0, BLOCKING_IDLE_MS);
	if (rt->workers == NULL || rt->stacks == NULL ||
	    rt->blocking == NULL) {
		runtime_free(rt);
		return CORPC_ENOMEM;
	}
	for (unsigned i = 0; i < rt->n; i++) {
		if ((rt->workers[i] = worker_new(rt, i)) == NULL) {
			runtime_free(rt);
			return CORPC_ENOMEM;
		}
	}
	for (unsigned i = 0; i < rt->n; i++) {
		corpc__worker *w = rt->workers[i];
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			corpc_runtime_destroy(rt);
			return CORPC_ESYS;
		}
		w->thread_started = true;
	}
	*out = rt;
	return CORPC_OK;
}

static void
runtime_free(corpc_runtime *rt)
{
	for (unsigned i = 0; rt->workers != NULL && i < rt->n; i++) {
		if (rt->workers[i] != NULL) {
			worker_free(rt->workers[i]);
		}
	}
	free(rt->workers);
	corpc__pool_destroy(rt->blocking);
	corpc__tasks_free(rt);
	corpc__stack_pool_destroy(rt->stacks);
	pthread_cond_destroy(&rt->cv);
	pthread_mutex_destroy(&rt->mu);
	free(rt);
}

static void runtime_stop(corpc_runtime *rt);

static void *
runtime_stop_main(void *rt)
{
	runtime_stop(rt);
	return NULL;
}

void
corpc_runtime_destroy(corpc_runtime *rt)
{
	if (rt == NULL) {
		return;
	}
	if (corpc_runtime_current() == rt) {
		// From one of its own tasks: that task must return first, so
		// the rest happens on a thread of its own.
		pthread_t      th;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		int rc = pthread_create(&th, &a, runtime_stop_main, rt);
		pthread_attr_destroy(&a);
		if (rc == 0) {
			return;
		}
		corpc__log(CORPC_LOG_ERROR,
		    "cannot start a thread to destroy a "
		    "runtime from its own task; it stays");
		return;
	}
	runtime_stop(rt);
}

static void
runtime_stop(corpc_runtime *rt)
{
	pthread_mutex_lock(&rt->mu);
	rt->stopping = true;
	while (rt->tasks > 0) {
		pthread_cond_wait(&rt->cv, &rt->mu);
	}
	pthread_mutex_unlock(&rt->mu);
	for (unsigned i = 0; i < rt->n; i++) {
		corpc__worker *w = rt->workers[i];
		if (!w->thread_started) {
			continue;
		}
		pthread_mutex_lock(&w->mu);
		w->stopping                  = true;
		const corpc__poller_ops *ops = w->ops;
		void                    *p   = w->poller;
		pthread_mutex_unlock(&w->mu);
		ops->p_kick(p);
		pthread_join(w->thread, NULL);
	}
	runtime_free(rt);
}

unsigned
corpc_runtime_threads(const corpc_runtime *rt)
{
	return rt != NULL ? rt->n : 0;
}

unsigned
corpc__runtime_threads(const corpc_runtime *rt)
{
	return rt->n;
}

corpc__worker *
corpc__runtime_worker(corpc_runtime *rt, unsigned i)
{
	return i < rt->n ? rt->workers[i] : NULL;
}

corpc_runtime *
corpc_runtime_current(void)
{
	corpc__thread_self *self = corpc__self();
	return self->task != NULL ? self->worker->rt : NULL;
}
