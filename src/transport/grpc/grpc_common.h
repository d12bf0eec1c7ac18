// SPDX-License-Identifier: MIT
// Internal: the network transport (tcp://, unix://) on gRPC's C core.
// Shared by grpc_channel.c (client), grpc_server.c (server) and
// grpc_codec.c (messages, metadata, deadlines, library lifetime).
//
// Threading model:
// - the runtime's workers (src/runtime) each wait in their own `next`
//   completion queue (grpc_poller.c). Every tag posted there is a
//   corpc__grpc_tag whose `done` runs on that worker's thread and usually
//   sets an event that a task or thread waits on.
// - server: every call is requested on, and bound to, the queue of one
//   worker of the server's runtime; its handler runs as a task on that
//   worker (or on a thread in thread-per-call mode) and parks while a batch
//   is in flight.
// - client: a stream opened inside a task binds to its worker's queue and
//   parks; one opened on a plain thread owns a pluck queue and blocks on it,
//   as gRPC C++'s synchronous API does.
#ifndef CORPC_TRANSPORT_GRPC_COMMON_H
#define CORPC_TRANSPORT_GRPC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "core/arena.h"
#include "transport/transport.h"

struct corpc__worker;

extern const corpc__channel_ops  corpc__grpc_channel_ops;
extern const corpc__listener_ops corpc__grpc_listener_ops;

// ---- library lifetime (grpc_codec.c) ----------------------------------
// Every channel and server takes a reference when it opens and drops it
// when it closes. gRPC is initialised by the first reference and then
// stays initialised for the life of the process (grpc_shutdown can stall
// for seconds; see grpc_codec.c): after the first tcp:// or unix:// use,
// gRPC's threads run until exit, so fork only to exec (gRPC brief, pitfall
// 7).
void corpc__grpc_ref(void);
void corpc__grpc_unref(void);

// ---- completion queues (grpc_poller.c) --------------------------------
// What every tag on a worker's queue points to.
typedef struct corpc__grpc_tag {
	// Runs on the worker's thread, outside any task, when the batch (or
	// request, or shutdown) completes; `ok` is gRPC's success flag.
	void (*done)(struct corpc__grpc_tag *tag, bool ok);
} corpc__grpc_tag;

// The completion queue of worker `w`, switching it to gRPC's poller if it
// has another one. NULL when out of memory. Any thread.
grpc_completion_queue *corpc__grpc_worker_cq(struct corpc__worker *w);

// Inside a task: its worker's queue (and the worker in *worker); on a plain
// thread, NULL (and *worker NULL). `worker` may be NULL.
grpc_completion_queue *corpc__grpc_task_cq(struct corpc__worker **worker);

// Notes that a message of `bytes` passed through this process. After a
// large one (CORPC__GRPC_LARGE_MESSAGE or more), the next worker to go idle
// gives freed memory back to the system (malloc_trim): glibc keeps what a
// thread freed in that thread's arena, and the buffers of a few large
// messages would otherwise stay resident for good. Any thread.
void corpc__grpc_note_message(size_t bytes);
#define CORPC__GRPC_LARGE_MESSAGE (1024 * 1024)

// ---- messages ---------------------------------------------------------
// Calls and streams go back to their pool with at most this much arena
// memory; a larger buffer (of one large message) is freed.
#define CORPC__GRPC_POOLED_ARENA_MAX (64 * 1024)

// Packs `msg` into a new byte buffer (caller destroys), NULL when out of
// memory.
grpc_byte_buffer *corpc__grpc_pack(const ProtobufCMessage *msg);

// Unpacks `bb` (not consumed) as `desc` into `arena`, after checking that
// its messages nest no deeper than `max_depth` (depth.h); NULL when the
// bytes do not parse, nest too deep (then *too_deep) or memory ran out.
ProtobufCMessage *corpc__grpc_unpack(grpc_byte_buffer *bb,
    const ProtobufCMessageDescriptor *desc, corpc__arena *arena,
    unsigned max_depth, bool *too_deep);

// ---- metadata ---------------------------------------------------------
// An outgoing metadata array whose slices borrow from a corpc_metadata:
// valid while that list is unchanged. Reused across calls.
typedef struct corpc__grpc_mdvec {
	grpc_metadata *v;
	size_t         n;
	size_t         cap;
} corpc__grpc_mdvec;

// Fills `vec` from `md` (NULL: empty). Errors: CORPC_ENOMEM.
corpc_err corpc__grpc_mdvec_set(
    corpc__grpc_mdvec *vec, const corpc_metadata *md);

// Appends one entry whose strings live for the program (static).
// Errors: CORPC_ENOMEM.
corpc_err corpc__grpc_mdvec_add_static(
    corpc__grpc_mdvec *vec, const char *key, const char *value);
void corpc__grpc_mdvec_fini(corpc__grpc_mdvec *vec);

// True if every entry of `md` is acceptable to gRPC as well as to corpc
// (checked before anything is sent: gRPC leaves a call unusable after it
// rejects metadata).
bool corpc__grpc_md_valid(const corpc_metadata *md);

// Appends the user entries of `src` to `dst`; entries corpc would refuse
// (reserved or malformed keys) and "user-agent", which gRPC adds on its
// own, are left out so that every transport shows the same metadata.
void corpc__grpc_md_import(
    corpc_metadata *dst, const grpc_metadata_array *src);

// Clears a received array for reuse; the slices belong to the call.
void corpc__grpc_md_array_reset(grpc_metadata_array *a);

// ---- deadlines --------------------------------------------------------
// corpc deadline (CLOCK_MONOTONIC ns, CORPC_DEADLINE_NONE) to and from
// gRPC's clock, converted through the time remaining.
gpr_timespec corpc__grpc_deadline_to(int64_t deadline);
int64_t      corpc__grpc_deadline_from(gpr_timespec deadline);

// ---- TLS (grpc_tls.c) -------------------------------------------------
// Checks `tls` (NULL: plaintext) and makes gRPC credentials for it in *out
// (the caller releases them; gRPC has copied the PEM text).
// Errors: CORPC_ETLS (see tls.h), CORPC_ENOMEM.
corpc_err corpc__grpc_tls_client_creds(
    const corpc_tls_client *tls, grpc_channel_credentials **out);
corpc_err corpc__grpc_tls_server_creds(
    const corpc_tls_server *tls, grpc_server_credentials **out);

// Explains an UNAVAILABLE call on a tcp:// channel whose connection may
// have failed for TLS: `tls` says whether the channel uses it; *text and
// *len are gRPC's status details (replaced by `error_string`, gRPC's debug
// account, when that says more); `before_headers` is true if no response
// headers came. Returns true with static *prefix and *suffix to put around
// the text when the failure is about TLS (a failed handshake, or a
// plaintext channel whose server closed the connection during setup);
// statuses the server sent itself are left alone.
bool corpc__grpc_tls_explain(bool tls, const char **text, size_t *len,
    const char *error_string, bool before_headers, const char **prefix,
    const char **suffix);

// ---- misc -------------------------------------------------------------
// Maps a gRPC status to corpc's (same numbering; out of range: UNKNOWN).
corpc_status_code corpc__grpc_code(grpc_status_code code);

// Waits for `tag` on pluck queue `cq` with no time limit; returns success.
bool corpc__grpc_pluck(grpc_completion_queue *cq, void *tag);

// Shuts a pluck queue down, drains it and destroys it.
void corpc__grpc_cq_destroy(grpc_completion_queue *cq);

// What the channel arguments of one channel or server are made of.
typedef struct corpc__grpc_conn {
	bool                  server;
	size_t                max_message;
	unsigned              max_streams;          // server; 0: gRPC's
	grpc_resource_quota  *quota;                // server; NULL: gRPC's
	int64_t               min_ping_interval_ms; // server; 0: 10 s
	const char           *tls_name;             // client: name override
	const char           *lb_policy;            // client: NULL: gRPC's
	int64_t               reconnect_initial_ms; // client; 0: 100 ms
	int64_t               reconnect_max_ms;     // client; 0: 1 s
	corpc_keepalive       keepalive;
	const corpc_grpc_arg *user; // passed through, last
	size_t                user_count;
} corpc__grpc_conn;

// The most arguments corpc sets itself.
#define CORPC__GRPC_OWN_ARGS 12

typedef struct corpc__grpc_argv {
	grpc_arg *args; // pointing into `conn`'s strings: keep them alive
	size_t    n;
} corpc__grpc_argv;

// Builds the channel arguments for `conn`. Errors: CORPC_ENOMEM,
// CORPC_EINVAL (a user argument without a key). Free with _fini.
corpc_err corpc__grpc_argv_build(
    corpc__grpc_argv *v, const corpc__grpc_conn *conn);
void corpc__grpc_argv_fini(corpc__grpc_argv *v);

#endif // CORPC_TRANSPORT_GRPC_COMMON_H
