// SPDX-License-Identifier: MIT
// Condition variables for tasks and threads alike; see cond.h. A waiter is
// on the list only while the mutex says so, and a signaller unparks under
// the mutex, so no parker is touched after its waiter has left.
#include "runtime/cond.h"

struct corpc__cond_waiter {
	corpc__cond_waiter *next;
	corpc__parker      *parker;
};

static void
unlink_waiter(corpc__cond *c, corpc__cond_waiter *w)
{
	for (corpc__cond_waiter **p = &c->head; *p != NULL; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			return;
		}
	}
}

void
corpc__cond_wait(corpc__cond *c, pthread_mutex_t *mu, int64_t deadline)
{
	// First come, first signalled.
	corpc__cond_waiter w = {.next = NULL, .parker = corpc__parker_self()};
	corpc__cond_waiter **tail = &c->head;
	while (*tail != NULL) {
		tail = &(*tail)->next;
	}
	*tail = &w;
	pthread_mutex_unlock(mu);
	corpc__park(w.parker, deadline); // a signal that came first counts
	pthread_mutex_lock(mu);
	unlink_waiter(c, &w); // gone already if signalled
}

void
corpc__cond_signal(corpc__cond *c)
{
	corpc__cond_waiter *w = c->head;
	if (w != NULL) {
		c->head = w->next;
		corpc__unpark(w->parker);
	}
}

void
corpc__cond_broadcast(corpc__cond *c)
{
	while (c->head != NULL) {
		corpc__cond_signal(c);
	}
}
