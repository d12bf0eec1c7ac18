// SPDX-License-Identifier: MIT
// The benchmark cases: ways to do one op of the reference workload, i.e.
// open a ListStrings.List stream and receive every message to its end, or
// of the upload workload (send every string on a ListStrings.Upload).
#ifndef CORPC_BENCH_CASES_H
#define CORPC_BENCH_CASES_H

#include <stdbool.h>
#include <stdint.h>

// The cases, in table order:
//   direct       the server's loop calls the consumer (the lower bound)
//   buffer       the server loop fills a buffer, then the client reads it
//   switch-floor the server loop on a stack of its own, one raw
//                jump_fcontext pair per message handing the pointer to the
//                same consumer (no corpc: the floor under coro-plain)
//   coro         inproc://bench, coroutine handoff, through the real API
//   thread       inproc://bench?mode=thread
//   thread-copy  inproc://bench?mode=thread-copy
//   coro-plain   as coro, the server sending without CORPC_WRITE_STABLE
//                (one coroutine switch per message)
//   thread-plain as thread, without CORPC_WRITE_STABLE (one wait per message)
//   coro-push    as coro-plain, received with corpc_stream_recv_each: the
//                handler's send calls the consumer
//   unix         unix socket, server in this process
//   tcp          tcp://127.0.0.1, server in this process
//   tcp-push     as tcp, received with corpc_stream_recv_each
// and the upload workload (ListStrings.Upload: the client sends the 10,000
// strings, respSize per message, and the server counts them):
//   up-coro, up-thread, up-thread-copy, up-unix, up-tcp
#define BENCH_NCASES 17
extern const char *const bench_case_names[BENCH_NCASES];

// Returns the index of the case called `name`, or -1.
int bench_case_find(const char *name);

// True for the cases that go through a network transport (unix, tcp).
bool bench_case_network(int i);

// True for the upload cases (up-*).
bool bench_case_upload(int i);

// Prepares the cases with selected[i] set: the service, one server
// listening on what they need, a channel per case. A case whose transport
// is not built gets skip[i] set to a note and is left out. Returns false
// (after printing why) on any other failure.
bool bench_cases_setup(
    const bool selected[BENCH_NCASES], const char *skip[BENCH_NCASES]);

// Runs one op of case `i` (set up, not skipped) with `resp_size` strings
// per message, touching every string received. Returns false, after
// printing why, if the call failed or did not deliver every string.
bool bench_case_op(int i, int resp_size);

// Frees what bench_cases_setup made. Idempotent.
void bench_cases_teardown(void);

#endif // CORPC_BENCH_CASES_H
