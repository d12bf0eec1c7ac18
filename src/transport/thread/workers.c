// The worker pool: detached threads, each with its own job slot.
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "transport/thread/workers.h"

// Parked threads kept after a burst of calls.
#define KEEP_IDLE 64

typedef struct worker {
	struct worker *next;
	pthread_cond_t cv;
	void (*fn)(void *);
	void *arg;
} worker;

struct corpc__workers {
	pthread_mutex_t mu;
	pthread_cond_t  all_gone;
	worker         *idle;
	size_t          idle_count;
	size_t          threads;
	size_t          stack_size;
	bool            stopping;
};

corpc__workers *
corpc__workers_create(size_t stack_size)
{
	corpc__workers *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->all_gone, NULL);
	w->stack_size = stack_size;
	return w;
}

typedef struct start_arg {
	corpc__workers *pool;
	worker         *self;
} start_arg;

static void *
worker_main(void *p)
{
	start_arg       sa   = *(start_arg *) p;
	corpc__workers *pool = sa.pool;
	worker         *me   = sa.self;
	free(p);
	pthread_mutex_lock(&pool->mu);
	for (;;) {
		while (me->fn == NULL && !pool->stopping) {
			pthread_cond_wait(&me->cv, &pool->mu);
		}
		if (me->fn == NULL) {
			break; // stopping, no job
		}
		void (*fn)(void *) = me->fn;
		void *arg          = me->arg;
		pthread_mutex_unlock(&pool->mu);
		fn(arg);
		pthread_mutex_lock(&pool->mu);
		me->fn = NULL;
		if (pool->stopping || pool->idle_count >= KEEP_IDLE) {
			break;
		}
		me->next   = pool->idle;
		pool->idle = me;
		pool->idle_count++;
	}
	pthread_cond_destroy(&me->cv);
	free(me);
	pool->threads--;
	pthread_cond_broadcast(&pool->all_gone);
	pthread_mutex_unlock(&pool->mu);
	return NULL;
}

int
corpc__workers_run(corpc__workers *pool, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&pool->mu);
	worker *me = pool->idle;
	if (me != NULL) {
		pool->idle = me->next;
		pool->idle_count--;
		me->fn  = fn;
		me->arg = arg;
		pthread_cond_signal(&me->cv);
		pthread_mutex_unlock(&pool->mu);
		return 0;
	}
	pthread_mutex_unlock(&pool->mu);

	me             = calloc(1, sizeof(*me));
	start_arg *sa  = malloc(sizeof(*sa));
	if (me == NULL || sa == NULL) {
		free(me);
		free(sa);
		return -1;
	}
	pthread_cond_init(&me->cv, NULL);
	me->fn   = fn;
	me->arg  = arg;
	sa->pool = pool;
	sa->self = me;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, pool->stack_size);
	pthread_mutex_lock(&pool->mu);
	pool->threads++;
	pthread_t th;
	int       rv = pthread_create(&th, &attr, worker_main, sa);
	if (rv != 0) {
		pool->threads--;
	}
	pthread_mutex_unlock(&pool->mu);
	pthread_attr_destroy(&attr);
	if (rv != 0) {
		pthread_cond_destroy(&me->cv);
		free(me);
		free(sa);
		return -1;
	}
	return 0;
}

void
corpc__workers_destroy(corpc__workers *pool)
{
	if (pool == NULL) {
		return;
	}
	pthread_mutex_lock(&pool->mu);
	pool->stopping = true;
	for (worker *me = pool->idle; me != NULL; me = me->next) {
		pthread_cond_signal(&me->cv);
	}
	pool->idle = NULL;
	while (pool->threads > 0) {
		pthread_cond_wait(&pool->all_gone, &pool->mu);
	}
	pthread_mutex_unlock(&pool->mu);
	pthread_cond_destroy(&pool->all_gone);
	pthread_mutex_destroy(&pool->mu);
	free(pool);
}
