// SPDX-License-Identifier: MIT
// The bounded free list of pooled objects.
#include <stddef.h>

#include "core/freelist.h"

corpc__freelist_node *
corpc__freelist_get(corpc__freelist *f,
    bool (*match)(const corpc__freelist_node *, const void *), const void *arg)
{
	pthread_mutex_lock(&f->mu);
	corpc__freelist_node **p = &f->head;
	while (*p != NULL && match != NULL && !match(*p, arg)) {
		p = &(*p)->next;
	}
	corpc__freelist_node *n = *p;
	if (n != NULL) {
		*p = n->next;
		f->len--;
	}
	pthread_mutex_unlock(&f->mu);
	return n;
}

bool
corpc__freelist_put(corpc__freelist *f, corpc__freelist_node *n)
{
	pthread_mutex_lock(&f->mu);
	bool kept = f->len < f->keep;
	if (kept) {
		n->next = f->head;
		f->head = n;
		f->len++;
	}
	pthread_mutex_unlock(&f->mu);
	return kept;
}
