// SPDX-License-Identifier: MIT
// The conformance suite's Echo service: one implementation, behaviour chosen
// by the request, with counters the tests read to see what the server saw.
#ifndef CORPC_TEST_ECHO_SERVICE_H
#define CORPC_TEST_ECHO_SERVICE_H

#include <stdatomic.h>

#include <corpc/corpc.h>

#include "test.corpc.h"

typedef struct echo_stats {
	atomic_int started;      // handlers entered
	atomic_int finished;     // handlers that ran their cleanup
	atomic_int live;         // resources held by running handlers
	atomic_int last_send;    // code of the last failed send (or -1)
	atomic_int last_recv;    // code of the last failed recv (or -1)
	atomic_int saw_deadline; // a handler saw a deadline
	atomic_int header_late;  // set_header after send returned ESTATE
	atomic_int received;     // request messages received by streams
	atomic_int saw_cancel;   // handlers whose send/recv said CANCELLED or
	                         // DEADLINE_EXCEEDED
} echo_stats;

// Per-server state passed as `self`. `inner` (may be NULL) is a channel the
// "nested" command calls through.
typedef struct echo_server {
	echo_stats     stats;
	corpc_channel *inner;
} echo_server;

extern const Corpc__Test__Echo_Server echo_impl;

void echo_stats_reset(echo_stats *s);

// Resets es's stats, then creates an Echo server with `opts` (NULL:
// defaults) serving `es` on `addr` and starts it. NULL on failure, with the
// reason on stderr.
corpc_server *echo_serve(
    const char *addr, echo_server *es, const corpc_server_opts *opts);

#endif // CORPC_TEST_ECHO_SERVICE_H
