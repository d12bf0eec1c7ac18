// SPDX-License-Identifier: MIT
// Internal: a bounded single-producer single-consumer ring of messages that
// crosses threads (or tasks). Waiting spins briefly before it sleeps (a
// task yields to its worker's other ready tasks while it spins, then
// parks): on these
// machines waking a sleeping thread on another core costs about 50 µs, a
// spinning one notices a new slot in well under 1 µs.
//
// A slot stays the consumer's until it takes the next one (the borrowed
// message of recv), so a ring of depth N holds at most N messages in flight
// plus the one being read.
#ifndef CORPC_THREAD_RING_H
#define CORPC_THREAD_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "core/arena.h"
#include "runtime/cond.h"

typedef struct corpc__ring {
	// Message pointers apart from the arenas, so that eight share a cache
	// line: the consumer's reads cost one line transfer per eight
	// messages.
	const ProtobufCMessage **msgs;
	corpc__arena *arenas; // hold the copies, when messages are copied
	size_t        cap;    // a power of two
	// Producer side. Each side caches what it last read of the other's
	// counter, so a message costs no cache-line transfer while there is
	// room (producer) or there are messages (consumer).
	_Alignas(64) atomic_size_t tail; // messages published
	size_t      staged;        // written after tail, not yet published
	size_t      released_seen; // producer's copy of `released`
	atomic_bool closed;        // producer: no more messages
	// Consumer side.
	_Alignas(64) atomic_size_t released; // messages the consumer let go
	size_t head;                         // messages taken
	size_t tail_seen;                    // consumer's copy of `tail`
} corpc__ring;

// The two ends of a call: each produces on one ring and consumes the other.
typedef enum corpc__ring_side {
	CORPC__RING_CLIENT = 0,
	CORPC__RING_SERVER = 1,
} corpc__ring_side;

// Shared by both rings of one call: where waiters sleep, and the reason
// (if any) the call is over.
typedef struct corpc__ring_waiter {
	pthread_mutex_t mu;
	corpc__cond     cv; // tasks park, threads block
	atomic_int      sleepers;
	atomic_int      cancel;   // 0, or the status code that ended the call
	int64_t         deadline; // corpc_now() clock; CORPC_DEADLINE_NONE
	// Per side, while it waits to send: 1 | (the `released` count of its
	// ring it last saw) << 1; 0 otherwise. When both sides wait to send
	// and neither has released anything the other has not seen, neither
	// can go on (each is the only reader of the other's ring).
	_Atomic uint64_t sending[2];
	atomic_bool      stuck; // that happened: cancel is RESOURCE_EXHAUSTED
} corpc__ring_waiter;

// Allocates a ring of at least `depth` slots. Errors: CORPC_ENOMEM.
int  corpc__ring_init(corpc__ring *r, size_t depth);
void corpc__ring_reset(corpc__ring *r); // empty again, arenas kept
void corpc__ring_fini(corpc__ring *r);

void corpc__waiter_init(corpc__ring_waiter *w);
// Ready for a new call: no cancel, no sender waiting, `deadline`.
void corpc__waiter_reset(corpc__ring_waiter *w, int64_t deadline);
void corpc__waiter_fini(corpc__ring_waiter *w);
// Sets the cancel code (first one wins) and wakes every sleeper.
void corpc__waiter_cancel(corpc__ring_waiter *w, int code);
// Wakes sleepers if there are any (after publishing state).
void corpc__waiter_wake(corpc__ring_waiter *w);
// Spins, then sleeps, until ready(arg). With `cancellable`, returns the
// cancel code as soon as there is one (the deadline passing sets
// DEADLINE_EXCEEDED); otherwise waits for ready alone. Returns 0 when ready.
int corpc__waiter_wait(
    corpc__ring_waiter *w, bool (*ready)(void *), void *arg, bool cancellable);

// Producer `side`: waits until fewer than `limit` messages are unreleased;
// returns 0, or the cancel code (a deadline passing sets
// DEADLINE_EXCEEDED). `in` is the ring this side reads: before it waits,
// it releases what it has read there (all but the message it still lends
// out), and if the other side waits to send too with nothing left to
// release, the call is stuck: RESOURCE_EXHAUSTED, w->stuck set.
int corpc__ring_wait_space(corpc__ring *r, corpc__ring_waiter *w, size_t limit,
    corpc__ring_side side, corpc__ring *in);
// Producer: the index of the slot the next message goes in (after
// wait_space): set r->msgs[i], using r->arenas[i] for a copy.
size_t corpc__ring_next(corpc__ring *r);
// Producer: that slot is written; the consumer sees it at the next publish.
// Publishing a batch moves the counter's cache line once for many messages.
void corpc__ring_stage(corpc__ring *r);
// Producer: makes every staged slot visible (no-op when none).
void corpc__ring_publish(corpc__ring *r, corpc__ring_waiter *w);
// Producer `side`: waits until the consumer released everything published,
// or said it will read no more (*consumer_gone). Not cancellable: a shared
// message must not be reused while the consumer may still read it. Finds a
// stuck call as wait_space does (and goes on waiting for *consumer_gone).
// Returns true when the wait was quick: over while it still spun flat out,
// before it yielded or slept.
bool corpc__ring_wait_drained(corpc__ring *r, corpc__ring_waiter *w,
    atomic_bool *consumer_gone, corpc__ring_side side, corpc__ring *in);
// Producer: publishes what is staged; no more messages.
void corpc__ring_close(corpc__ring *r, corpc__ring_waiter *w);

// Consumer: releases the message taken last and waits for the next one.
// Returns 0 with *msg set; 0 with *msg NULL once closed and empty; or the
// cancel code.
int corpc__ring_take(
    corpc__ring *r, corpc__ring_waiter *w, const ProtobufCMessage **msg);
// Consumer: releases the message taken last (finish, destroy).
void corpc__ring_release(corpc__ring *r, corpc__ring_waiter *w);

#endif // CORPC_THREAD_RING_H
