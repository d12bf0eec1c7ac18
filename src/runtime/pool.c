// SPDX-License-Identifier: MIT
// The on-demand thread pool. Threads are joinable: one that exits for
// idleness leaves its id on a list, and the next start or the destroy joins
// it, so that no thread outlives the pool's memory.
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/clock.h"
#include "corpc/client.h"
#include "runtime/pool.h"

typedef struct exited {
	struct exited *next;
	pthread_t      id;
} exited;

struct corpc__pool {
	pthread_mutex_t  mu;
	pthread_cond_t   work;     // a job arrived, or stopping
	pthread_cond_t   all_gone; // the last thread left
	corpc__pool_job *head, *tail;
	unsigned         max_threads;
	unsigned         threads; // alive
	unsigned         idle;    // waiting for a job
	size_t           stack_size;
	int64_t          idle_ns;
	bool             stopping;
	exited          *exited; // threads that left, to join
};

corpc__pool *
corpc__pool_create(unsigned max_threads, size_t stack_size, int64_t idle_ms)
{
	corpc__pool *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	corpc__cond_init_monotonic(&p->work);
	pthread_cond_init(&p->all_gone, NULL);
	p->max_threads = max_threads;
	p->stack_size  = stack_size;
	p->idle_ns     = idle_ms * 1000000;
	return p;
}

// Joins the threads that have left. Caller holds p->mu.
static void
join_exited(corpc__pool *p)
{
	while (p->exited != NULL) {
		exited *e = p->exited;
		p->exited = e->next;
		pthread_join(
		    e->id, NULL); // it is past its last use of the pool
		free(e);
	}
}

static void *
pool_main(void *arg)
{
	corpc__pool *p  = arg;
	exited      *me = malloc(sizeof(*me)); // may fail: then detach
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->head != NULL) {
			corpc__pool_job *job = p->head;
			p->head              = job->next;
			if (p->head == NULL) {
				p->tail = NULL;
			}
			void (*fn)(void *) = job->fn;
			void *a            = job->arg;
			pthread_mutex_unlock(&p->mu);
			fn(a);
			pthread_mutex_lock(&p->mu);
			continue;
		}
		if (p->stopping) {
			break;
		}
		p->idle++;
		struct timespec until =
		    corpc__timespec_at(corpc_now() + p->idle_ns);
		int rc = pthread_cond_timedwait(&p->work, &p->mu, &until);
		p->idle--;
		if (rc == ETIMEDOUT && p->head == NULL) {
			break; // idle for long enough
		}
	}
	p->threads--;
	if (me != NULL) {
		me->id    = pthread_self();
		me->next  = p->exited;
		p->exited = me;
	} else {
		pthread_detach(pthread_self());
	}
	if (p->threads == 0) {
		pthread_cond_broadcast(&p->all_gone);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

// Starts a thread. Caller holds p->mu. Returns 0 or pthread's error.
static int
start_thread(corpc__pool *p)
{
	join_exited(p);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (p->stack_size > 0) {
		pthread_attr_setstacksize(&attr, p->stack_size);
	}
	pthread_t id;
	int       rc = pthread_create(&id, &attr, pool_main, p);
	pthread_attr_destroy(&attr);
	if (rc == 0) {
		p->threads++;
	}
	return rc;
}

corpc_err
corpc__pool_run(corpc__pool *p, corpc__pool_job *job)
{
	pthread_mutex_lock(&p->mu);
	if (p->stopping) {
		pthread_mutex_unlock(&p->mu);
		return CORPC_ESTATE;
	}
	job->next = NULL;
	if (p->tail != NULL) {
		p->tail->next = job;
	} else {
		p->head = job;
	}
	p->tail = job;
	// Queued jobs beyond the idle threads need threads of their own.
	size_t queued = 0;
	for (corpc__pool_job *j = p->head; j != NULL && queued <= p->idle;
	     j                  = j->next) {
		queued++;
	}
	corpc_err rv = CORPC_OK;
	if (queued > p->idle &&
	    (p->max_threads == 0 || p->threads < p->max_threads)) {
		if (start_thread(p) != 0 && p->threads == 0) {
			// Nothing will ever run it: take it back.
			p->head = p->tail = NULL;
			rv                = CORPC_ESYS;
		}
	} else {
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
	return rv;
}

unsigned
corpc__pool_threads(corpc__pool *p)
{
	pthread_mutex_lock(&p->mu);
	unsigned n = p->threads;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
corpc__pool_destroy(corpc__pool *p)
{
	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	while (p->threads > 0) {
		pthread_cond_wait(&p->all_gone, &p->mu);
	}
	join_exited(p);
	pthread_mutex_unlock(&p->mu);
	pthread_cond_destroy(&p->all_gone);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
