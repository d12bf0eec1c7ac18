// SPDX-License-Identifier: MIT
// The runtime (runtime.h): tasks, joins, yields, sleeps that suspend, and
// offloads that let the scheduler thread run other tasks meanwhile. Each
// test proves suspension by what happens in between, never by timing.
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <corpc/corpc.h>

static corpc_runtime *
one_thread(void)
{
	corpc_runtime     *rt;
	corpc_runtime_opts o = {.threads = 1};
	assert_int_equal(corpc_runtime_create(&o, &rt), CORPC_OK);
	assert_int_equal(corpc_runtime_threads(rt), 1);
	return rt;
}

// ---- spawn and join -------------------------------------------------------

typedef struct counter {
	atomic_int               n;
	_Atomic(corpc_runtime *) seen; // what corpc_runtime_current said
} counter;

static void
count_one(void *arg)
{
	counter *c = arg;
	atomic_store(&c->seen, corpc_runtime_current());
	atomic_fetch_add(&c->n, 1);
}

static void
spawn_and_join(void **state)
{
	(void) state;
	corpc_runtime *rt;
	assert_int_equal(corpc_runtime_create(NULL, &rt), CORPC_OK);
	assert_true(corpc_runtime_threads(rt) >= 1);
	assert_null(corpc_runtime_current());
	counter     c = {0};
	corpc_task *t[200];
	for (int i = 0; i < 200; i++) {
		assert_int_equal(
		    corpc_task_spawn(rt, count_one, &c, &t[i]), CORPC_OK);
	}
	for (int i = 0; i < 200; i++) {
		corpc_task_join(t[i]);
	}
	assert_int_equal(atomic_load(&c.n), 200);
	assert_ptr_equal(atomic_load(&c.seen), rt);
	// Detached tasks: destroy waits for them.
	for (int i = 0; i < 100; i++) {
		assert_int_equal(
		    corpc_task_spawn(rt, count_one, &c, NULL), CORPC_OK);
	}
	corpc_runtime_destroy(rt);
	assert_int_equal(atomic_load(&c.n), 300);
	assert_int_equal(
	    corpc_task_spawn(NULL, count_one, &c, NULL), CORPC_EINVAL);
	corpc_runtime_destroy(NULL);
	corpc_task_join(NULL);
}

// Spawns `n` tasks of fn(arg) from inside a task and joins them: they are
// all queued on the one thread before any of them runs.
typedef struct batch {
	corpc_runtime *rt;
	void (*fn)(void *);
	void *arg;
	int   n;
} batch;

static void
spawn_batch(void *p)
{
	batch      *b = p;
	corpc_task *t[64];
	for (int i = 0; i < b->n; i++) {
		assert_int_equal(
		    corpc_task_spawn(b->rt, b->fn, b->arg, &t[i]), CORPC_OK);
	}
	for (int i = 0; i < b->n; i++) {
		corpc_task_join(t[i]);
	}
}

static void
run_batch(corpc_runtime *rt, void (*fn)(void *), void *arg, int n)
{
	batch       b = {.rt = rt, .fn = fn, .arg = arg, .n = n};
	corpc_task *t;
	assert_int_equal(corpc_task_spawn(rt, spawn_batch, &b, &t), CORPC_OK);
	corpc_task_join(t);
}

// ---- sleeps suspend
// ----------------------------------------------------------

typedef struct sleepers {
	atomic_int started;
	atomic_int ended;
	atomic_int started_before_any_end;
} sleepers;

static void
sleep_task(void *arg)
{
	sleepers *s = arg;
	atomic_fetch_add(&s->started, 1);
	corpc_sleep_ms(30);
	if (atomic_load(&s->ended) == 0) {
		// Counted when the first sleeper wakes: how many had started.
		int expected = 0;
		atomic_compare_exchange_strong(&s->started_before_any_end,
		    &expected, atomic_load(&s->started));
	}
	atomic_fetch_add(&s->ended, 1);
}

static void
sleep_suspends(void **state)
{
	(void) state;
	corpc_runtime *rt = one_thread();
	sleepers       s  = {0};
	run_batch(rt, sleep_task, &s, 50);
	// On one thread, all 50 were asleep at once: a blocking sleep would
	// let the first one end before the second started.
	assert_int_equal(atomic_load(&s.started_before_any_end), 50);
	assert_int_equal(atomic_load(&s.ended), 50);
	corpc_runtime_destroy(rt);
	int64_t t0 = corpc_now();
	corpc_sleep_ms(5); // a plain thread sleeps
	assert_true(corpc_now() - t0 >= 5000000);
	corpc_sleep_ms(0);
	corpc_sleep_ms(-1);
}

// ---- offload: the thread runs other tasks while blocking work runs
// ----------

typedef struct handoff {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            flag;    // set by the other task
	bool            saw;     // the offloaded function saw it
	bool            on_pool; // the offloaded function ran off the task
} handoff;

static void
blocking_wait(void *arg)
{
	handoff *h = arg;
	h->on_pool = corpc_runtime_current() == NULL;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&h->mu);
	while (
	    !h->flag && pthread_cond_timedwait(&h->cv, &h->mu, &until) == 0) {
	}
	h->saw = h->flag;
	pthread_mutex_unlock(&h->mu);
}

static void
offloader(void *arg)
{
	assert_int_equal(corpc_offload(blocking_wait, arg), CORPC_OK);
}

static void
flag_setter(void *arg)
{
	handoff *h = arg;
	pthread_mutex_lock(&h->mu);
	h->flag = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static void
offload_frees_the_thread(void **state)
{
	(void) state;
	corpc_runtime *rt = one_thread();
	handoff        h  = {
	            .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	corpc_task *a, *b;
	assert_int_equal(corpc_task_spawn(rt, offloader, &h, &a), CORPC_OK);
	assert_int_equal(corpc_task_spawn(rt, flag_setter, &h, &b), CORPC_OK);
	corpc_task_join(a);
	corpc_task_join(b);
	// Had the offload blocked the only scheduler thread, the setter could
	// not have run before the 10 s wait gave up.
	assert_true(h.saw);
	assert_true(h.on_pool);
	corpc_runtime_destroy(rt);
	// From a plain thread it runs inline.
	h.flag = true;
	assert_int_equal(corpc_offload(blocking_wait, &h), CORPC_OK);
	assert_true(h.saw);
	assert_int_equal(corpc_offload(NULL, NULL), CORPC_EINVAL);
}

// ---- yield and join between tasks
// --------------------------------------------

typedef struct pingpong {
	int trace[8];
	int len;
} pingpong;

static void
yielder(void *arg)
{
	pingpong *p = arg;
	for (int i = 0; i < 4; i++) {
		p->trace[p->len++] = i;
		corpc_task_yield();
	}
}

static void
yields_alternate(void **state)
{
	(void) state;
	corpc_runtime *rt = one_thread();
	pingpong       p  = {0};
	run_batch(rt, yielder, &p, 2); // both queued before either runs
	assert_int_equal(p.len, 8);
	int alternated = 0;
	for (int i = 0; i + 1 < 8; i += 2) {
		alternated += p.trace[i] == p.trace[i + 1];
	}
	assert_int_equal(alternated, 4); // 0 0 1 1 2 2 3 3
	corpc_task_yield();              // a plain thread: no-op
	corpc_runtime_destroy(rt);
}

typedef struct nest {
	corpc_runtime *rt;
	counter        c;
} nest;

static void
parent_task(void *arg)
{
	nest       *n = arg;
	corpc_task *kids[20];
	for (int i = 0; i < 20; i++) {
		assert_int_equal(
		    corpc_task_spawn(n->rt, count_one, &n->c, &kids[i]),
		    CORPC_OK);
	}
	for (int i = 0; i < 20; i++) {
		corpc_task_join(
		    kids[i]); // suspends: the kids run on this thread
	}
}

static void
join_from_task(void **state)
{
	(void) state;
	nest        n = {.rt = one_thread()};
	corpc_task *p;
	assert_int_equal(
	    corpc_task_spawn(n.rt, parent_task, &n, &p), CORPC_OK);
	corpc_task_join(p);
	assert_int_equal(atomic_load(&n.c.n), 20);
	corpc_runtime_destroy(n.rt);
}

// ---- many wake-ups from plain threads
// ---------------------------------------------

typedef struct relay {
	corpc_runtime *rt;
	atomic_int     done;
} relay;

static void
short_sleep(void *arg)
{
	relay *r = arg;
	for (int i = 0; i < 20; i++) {
		corpc_sleep_ms(1);
	}
	atomic_fetch_add(&r->done, 1);
}

static void *
spawner(void *arg)
{
	relay      *r = arg;
	corpc_task *t[50];
	for (int i = 0; i < 50; i++) {
		assert_int_equal(
		    corpc_task_spawn(r->rt, short_sleep, r, &t[i]), CORPC_OK);
	}
	for (int i = 0; i < 50; i++) {
		corpc_task_join(t[i]);
	}
	return NULL;
}

static void
threads_spawn_and_join(void **state)
{
	(void) state;
	corpc_runtime_opts o = {.threads = 2};
	relay              r = {0};
	assert_int_equal(corpc_runtime_create(&o, &r.rt), CORPC_OK);
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		pthread_create(&th[i], NULL, spawner, &r);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
	}
	assert_int_equal(atomic_load(&r.done), 200);
	corpc_runtime_destroy(r.rt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spawn_and_join),
	    cmocka_unit_test(sleep_suspends),
	    cmocka_unit_test(offload_frees_the_thread),
	    cmocka_unit_test(yields_alternate),
	    cmocka_unit_test(join_from_task),
	    cmocka_unit_test(threads_spawn_and_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
