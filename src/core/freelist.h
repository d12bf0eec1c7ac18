// SPDX-License-Identifier: MIT
// Internal: a bounded, thread-safe free list for pooled objects (transport
// call objects), so that a call in steady state costs no malloc. An object
// embeds a corpc__freelist_node.
#ifndef CORPC_CORE_FREELIST_H
#define CORPC_CORE_FREELIST_H

#include <pthread.h>
#include <stdbool.h>

typedef struct corpc__freelist_node {
	struct corpc__freelist_node *next;
} corpc__freelist_node;

typedef struct corpc__freelist {
	pthread_mutex_t       mu;
	corpc__freelist_node *head;
	unsigned              len;
	unsigned keep; // most nodes kept; more are the caller's to free
} corpc__freelist;

#define CORPC__FREELIST_INIT(keep)                                            \
	{                                                                     \
		PTHREAD_MUTEX_INITIALIZER, NULL, 0, (keep)                    \
	}

// Takes a pooled node for which match(node, arg) holds (NULL match: any),
// or returns NULL.
corpc__freelist_node *corpc__freelist_get(corpc__freelist *f,
    bool (*match)(const corpc__freelist_node *, const void *),
    const void *arg);

// Pools `n`; returns false when the list is full and the caller must free
// `n` itself.
bool corpc__freelist_put(corpc__freelist *f, corpc__freelist_node *n);

#endif // CORPC_CORE_FREELIST_H
