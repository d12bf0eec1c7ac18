// SPDX-License-Identifier: MIT
// The public task API (runtime.h): spawn, join, yield, sleep, offload.
#include <errno.h>
#include <time.h>

#include "corpc/client.h"
#include "runtime/sched_impl.h"

corpc_err
corpc_task_spawn(
    corpc_runtime *rt, void (*fn)(void *arg), void *arg, corpc_task **out)
{
	if (out != NULL) {
		*out = NULL;
	}
	if (rt == NULL || fn == NULL) {
		return CORPC_EINVAL;
	}
	return corpc__task_spawn(rt, NULL, NULL, fn, arg, out);
}

void
corpc_task_join(corpc_task *task)
{
	if (task != NULL) {
		corpc__task_join(task);
	}
}

void
corpc_task_yield(void)
{
	corpc__task_yield();
}

void
corpc_sleep_ms(int64_t ms)
{
	if (ms <= 0) {
		return;
	}
	if (ms > INT64_MAX / 4000000) {
		ms = INT64_MAX / 4000000; // about 73 years: no overflow below
	}
	int64_t until = corpc_now() + ms * 1000000;
	if (corpc__task_current() == NULL) {
		struct timespec ts = {
		    .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		}
		return;
	}
	corpc__parker *self = corpc__parker_self();
	while (corpc_now() < until) {
		corpc__park(self, until); // early wakes just loop
	}
}

typedef struct offload_job {
	corpc__pool_job job;
	corpc__event    done;
	void (*fn)(void *);
	void *arg;
} offload_job;

static void
offload_run(void *p)
{
	offload_job *o = p;
	o->fn(o->arg);
	corpc__event_set(&o->done); // the waiter may free `o` from here on
}

corpc_err
corpc__runtime_offload(corpc_runtime *rt, void (*fn)(void *), void *arg)
{
	offload_job o = {.fn = fn, .arg = arg};
	o.job.fn      = offload_run;
	o.job.arg     = &o;
	corpc__event_reset(&o.done);
	corpc_err rv = corpc__pool_run(rt->blocking, &o.job);
	if (rv == CORPC_OK) {
		corpc__event_wait(&o.done, CORPC_DEADLINE_NONE);
	}
	return rv;
}

corpc_err
corpc_offload(void (*fn)(void *arg), void *arg)
{
	if (fn == NULL) {
		return CORPC_EINVAL;
	}
	corpc_runtime *rt = corpc_runtime_current();
	if (rt == NULL) {
		fn(arg); // a plain thread may block
		return CORPC_OK;
	}
	return corpc__runtime_offload(rt, fn, arg);
}
