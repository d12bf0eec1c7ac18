// SPDX-License-Identifier: MIT
// The fan-out tests' backends: one Items server per backend, each streaming
// its configured keys, with counters of what its handler saw; plus helpers
// to start N of them, read a fan-out to the end, and check the cleanup.
#ifndef CORPC_TEST_ITEM_BACKEND_H
#define CORPC_TEST_ITEM_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <corpc/corpc.h>

#include "fanout_test.corpc.h"

#define ITEM_MAX 4096 // keys per backend

typedef struct item_backend {
	// What the handler does (set before the call).
	int64_t keys[ITEM_MAX];
	size_t  n_keys;
	int     id;         // Item.backend (replicas may share one)
	int     fail_after; // >= 0: after this many items end with fail_code
	int     fail_code;
	int     delay_ms; // sleep before each item

	// What it saw.
	atomic_int            started, finished, live, sent;
	atomic_int            last_send; // the code of a failed send, or -1
	atomic_int            saw_deadline, saw_trace, saw_tag;
	_Atomic(const void *) item_addr; // the message the handler sends

	corpc_server  *srv;
	corpc_channel *ch;
} item_backend;

extern const Corpc__Fanouttest__Items_Server item_impl;

// Starts n backends (calloc'd, ids 0..n-1, no keys), backend i listening
// on sprintf(addr_fmt, tag, i) — e.g. "inproc://%s-%zu" — or, when
// addr_fmt is "tcp", on tcp://127.0.0.1:0. Returns NULL when a listen
// fails (tcp not built: CORPC_ENOTSUP in *err).
item_backend *item_backends_start(
    size_t n, const char *addr_fmt, const char *tag, corpc_err *err);

// Closes the channels, destroys the servers and frees the array.
void item_backends_stop(item_backend *bs, size_t n);

// Zeroes the counters of n backends.
void item_backends_reset(item_backend *bs, size_t n);

// The channels of n backends, into chans[n].
void item_backends_channels(item_backend *bs, size_t n, corpc_channel **chans);

// One merged message as the tests see it.
typedef struct item_out {
	int64_t key;
	int     backend; // Item.backend
	size_t  from;    // the fan-out's backend index
} item_out;

// Reads fo to the end into out (at most cap), *count items; returns the
// final code of corpc_fanout_recv.
corpc_status_code item_collect(
    corpc_fanout *fo, item_out *out, size_t cap, size_t *count);

// Waits (up to 5 s, for network handlers) until every started handler of
// n backends has run its cleanup; returns true when they all did.
bool item_backends_quiet(item_backend *bs, size_t n);

// Compares keys: the SORTED comparator of the tests.
int item_cmp(const ProtobufCMessage *a, const ProtobufCMessage *b, void *user);

// The dedup key: Item.key's 8 bytes.
size_t item_key(const ProtobufCMessage *m, void *buf, size_t cap, void *user);

// True when tcp:// can listen in this build (else prints why not).
bool item_tcp_available(void);

#endif // CORPC_TEST_ITEM_BACKEND_H
