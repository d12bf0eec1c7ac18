// SPDX-License-Identifier: MIT
// corpc: the server side. One server holds service implementations and
// listens on one or more addresses (inproc://, tcp://, unix://); the same
// handler serves every one of them.
//
// Where handlers run (see also runtime.h):
// - tcp://, unix:// and inproc://NAME?mode=thread[-copy]: each call's
//   handler is a coroutine (a task) on the server's scheduler threads
//   (`scheduler_threads`, default one per CPU). A handler waiting in
//   send/recv, in a corpc call it makes, in corpc_sleep_ms or in
//   corpc_offload is suspended and holds nothing but its coroutine stack:
//   thousands of idle streams cost a few threads. A handler must therefore
//   not block its thread for long by other means (sleep(), blocking I/O,
//   long locks, heavy computation): use corpc_offload for that, or
//   CORPC_EXEC_THREAD_PER_CALL for handlers that must block.
// - inproc://NAME (coroutine handoff): the handler runs on the client's
//   own thread or task, a streaming one on a coroutine that the client
//   resumes whenever it wants the next message (README, "In-process
//   rules").
#ifndef CORPC_SERVER_H
#define CORPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "corpc/connection.h"
#include "corpc/decl.h"
#include "corpc/interceptor.h"
#include "corpc/metadata.h"
#include "corpc/method.h"
#include "corpc/runtime.h"
#include "corpc/status.h"
#include "corpc/tls.h"
#include "corpc/write_flags.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corpc_server corpc_server;

// How handlers run on scheduled transports (tcp://, unix://,
// inproc://NAME?mode=thread[-copy]).
typedef enum corpc_exec_mode {
	// Each handler is a coroutine on the scheduler threads (the default).
	CORPC_EXEC_COROUTINE = 0,
	// Each handler gets a thread of its own, from a pool that starts
	// threads
	// on demand (up to max_concurrent_calls, if set) and lets idle ones
	// exit after 10 s. For handlers that must block; stack_size applies.
	CORPC_EXEC_THREAD_PER_CALL = 1,
} corpc_exec_mode;

// Server options. Zero-initialise; NULL means all defaults.
typedef struct corpc_server_opts {
	// Stack size in bytes of each handler's coroutine (or thread, in
	// thread-per-call mode); 0 means 256 KiB. Rounded up to whole pages.
	size_t stack_size;
	// Guard region below each handler's coroutine stack, as in
	// corpc_runtime_opts (0: 64 KiB). For the server's own runtime and
	// in-process coroutine calls.
	size_t stack_guard_size;
	// Largest message accepted or sent, in bytes; 0 means 4 MiB.
	// (Network.)
	size_t max_message_size;
	// Deepest nesting of messages accepted in a request (the request is
	// depth 0, each message inside it one more); 0 means 100, protobuf
	// C++'s limit. Checked before decoding, on every transport: deeper is
	// INVALID_ARGUMENT "message nested deeper than N" and the handler
	// never sees it. Decoding takes about 1 KiB of stack per level: raise
	// it only with stack_size to match.
	unsigned max_message_depth;
	// Scheduler threads that run the handlers; 0 means one per online CPU.
	// Ignored when `runtime` is set.
	unsigned scheduler_threads;
	// Run the handlers on this runtime instead of one the server makes for
	// itself (created at the first call that needs it). Borrowed: it must
	// outlive the server.
	corpc_runtime *runtime;
	// Coroutines (default) or a thread per call; see corpc_exec_mode.
	corpc_exec_mode exec;
	// Most calls in progress at once on this server, every transport
	// together; a call beyond it is answered RESOURCE_EXHAUSTED at once,
	// without running its handler. 0 means no limit (but memory).
	size_t max_concurrent_calls;
	// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS announced on each tcp:// and
	// unix:// connection; 0 means 4096, UINT_MAX no limit (gRPC's
	// default). Clients queue calls beyond it on their side; streams
	// opened past it anyway are refused (the client sees UNAVAILABLE).
	// Streams a client resets do not count (see
	// max_resets_per_connection).
	unsigned max_streams_per_connection;
	// Rapid-reset guard (CVE-2023-44487; gRPC 1.51 queues the streams a
	// client resets without limit): a plaintext tcp:// or unix://
	// connection whose client has reset more than this many streams
	// before they carried a message, and more such streams than it used,
	// is closed. Streams ended by their deadline or by the server do not
	// count. 0 means 100; UINT_MAX means no guard. TLS connections are not
	// guarded.
	unsigned max_resets_per_connection;
	// gRPC's memory quota for this server's tcp:// and unix://
	// connections, in bytes: the buffers of messages being read and
	// written draw on it, and a message that does not fit fails with
	// RESOURCE_EXHAUSTED. 0 means 1 GiB; SIZE_MAX means no quota (gRPC's
	// default). It does not bound a rapid-reset flood (gRPC 1.51 does not
	// charge queued streams to it).
	size_t memory_quota;
	// Server interceptors, `interceptor_count` (at most
	// CORPC_MAX_INTERCEPTORS) of them, run around every handler on every
	// transport (interceptor.h). Borrowed: must outlive the server.
	const corpc_interceptor *interceptors;
	size_t                   interceptor_count;
	// TLS for tcp:// listeners (tls.h); NULL means plaintext. unix:// and
	// inproc:// listeners ignore it. Borrowed: read at each
	// corpc_server_listen, so it must stay valid until the last one.
	const corpc_tls_server *tls;
	// Keepalive pings from this server on tcp:// and unix:// connections
	// (connection.h); `without_calls` also lets clients ping while no call
	// is in progress.
	corpc_keepalive keepalive;
	// How responses are compressed unless a handler says otherwise
	// (corpc_ctx_set_compression); DEFAULT and NONE: not at all. Requests
	// are accepted in any encoding gRPC knows, inflated at most to
	// max_message_size.
	corpc_compression compression;
	// The shortest interval between client pings this server accepts while
	// no data flows; a client that pings more often gets GOAWAY
	// ("too_many_pings") after two such pings, as in gRPC. 0 means 10 s
	// (gRPC's own default, 5 minutes, refuses common client keepalive
	// settings, such as grpc-js' 10 s).
	int64_t min_ping_interval_ms;
	// gRPC channel arguments passed through to the gRPC server
	// (connection.h), `grpc_arg_count` of them. Borrowed: read when the
	// first tcp:// or unix:// listener is added.
	const corpc_grpc_arg *grpc_args;
	size_t                grpc_arg_count;
} corpc_server_opts;

// Creates a server in *out. The caller owns it (corpc_server_destroy).
// Errors: CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_server_create(
    const corpc_server_opts *opts, corpc_server **out);

// Registers a service. `desc` (generated) must outlive the server; `impl`
// (the generated typed vtable) and `self` (passed back to every handler) are
// borrowed until the server is destroyed. Before corpc_server_start only.
// Errors: CORPC_EINVAL (NULL desc), CORPC_EEXIST (a service of that name is
// registered), CORPC_ESTATE (already started), CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_server_register(corpc_server *srv,
    const corpc_service_desc *desc, const void *impl, void *self);

// Adds a listening address; the bind happens here, so errors show at once.
// Before corpc_server_start only. The bound address (port 0 resolved) is
// read back with corpc_server_address.
// Errors: CORPC_EADDRINVAL, CORPC_ENOTSUP (transport not built),
// CORPC_EADDRINUSE (inproc name or port taken), CORPC_ETLS (tcp:// with
// opts->tls whose certificates or key do not parse or match, or
// require_client_cert without client_roots_pem; see tls.h), CORPC_ESTATE,
// CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_server_listen(
    corpc_server *srv, const char *address);

// Returns the bound address of the i-th listen call (in call order), or
// NULL. Borrowed from the server.
CORPC_DECL const char *corpc_server_address(const corpc_server *srv, size_t i);

// Starts serving on every listening address.
// Errors: CORPC_ESTATE (started twice or shut down), CORPC_ESYS.
CORPC_DECL corpc_err corpc_server_start(corpc_server *srv);

// Stops accepting calls on every listener (new calls see UNAVAILABLE),
// lets calls in flight run for up to `grace_ms` (one grace for every
// transport together), then cancels the rest: their handlers' next
// send/recv returns CANCELLED. Returns once every network handler has
// returned; an in-process stream still held by a client keeps its slot
// until that client destroys it. Idempotent; any thread but a handler's.
CORPC_DECL void corpc_server_shutdown(corpc_server *srv, int64_t grace_ms);

// Returns the runtime that runs this server's handlers (creating the
// server's own at the first use), so that tasks of the application can
// share its threads; NULL when out of memory. Borrowed from the server.
CORPC_DECL corpc_runtime *corpc_server_runtime(corpc_server *srv);

// Shuts down with no grace (if not done), waits until every in-process
// client stream on this server is destroyed, and frees the server. NULL is
// allowed.
CORPC_DECL void corpc_server_destroy(corpc_server *srv);

// ---- Inside a handler: the call context -------------------------------
// A ctx is valid only during its handler and only on the handler's own
// thread or coroutine.

// Returns the method being called.
CORPC_DECL const corpc_method *corpc_ctx_method(const corpc_ctx *ctx);

// Returns the client's request metadata (borrowed for the call).
CORPC_DECL const corpc_metadata *corpc_ctx_metadata(const corpc_ctx *ctx);

// Returns the call's deadline on corpc_now()'s clock, or
// CORPC_DEADLINE_NONE.
CORPC_DECL int64_t corpc_ctx_deadline(const corpc_ctx *ctx);

// True once the client cancelled, went away, or the deadline passed, or the
// server cancelled the call at shutdown. On tcp:// and unix:// it turns
// true when the event arrives, whatever the handler is doing.
CORPC_DECL bool corpc_ctx_is_cancelled(corpc_ctx *ctx);

// Who is calling. Strings are borrowed from the call until the handler
// returns.
typedef struct corpc_peer {
	// gRPC's form of the client's address ("ipv4:127.0.0.1:40112",
	// "ipv6:[::1]:40112", "unix:/run/app.sock"), or "inproc" in-process.
	const char *address;
	// True when the connection is TLS (tcp:// with corpc_server_opts.tls).
	bool tls;
	// The client certificate's subject ("CN=client,O=corpc test"), when
	// the client presented one (mutual TLS); NULL otherwise.
	const char *subject;
	// Its subject alternative names (DNS names, IPs, URIs, emails as
	// gRPC lists them), `san_count` of them.
	const char *const *sans;
	size_t             san_count;
} corpc_peer;

// Fills *out with the calling peer. In-process calls give {"inproc",
// false, NULL, NULL, 0}. Handler's thread only. Errors: CORPC_EINVAL,
// CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_ctx_peer(corpc_ctx *ctx, corpc_peer *out);

// Adds a response header (copied; validated like corpc_metadata_add).
// Headers go out with the first message, corpc_ctx_send_headers, or the
// status, whichever comes first. Errors: CORPC_EBADKEY, CORPC_EBADVALUE,
// CORPC_ESTATE (headers already sent), CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_ctx_set_header(
    corpc_ctx *ctx, const char *key, const void *value, size_t value_len);

// Adds a trailer (copied; validated), sent with the status. Errors as
// corpc_ctx_set_header (ESTATE: the handler already returned).
CORPC_DECL corpc_err corpc_ctx_set_trailer(
    corpc_ctx *ctx, const char *key, const void *value, size_t value_len);

// Sets the call's rich error details: `bytes` is a serialized
// google.rpc.Status (its code and message should match the status the
// handler returns), sent as the CORPC_STATUS_DETAILS_KEY trailer and read
// by any gRPC client's rich-error API. Copied. Once per call: a second
// call returns CORPC_EEXIST; other errors as corpc_ctx_set_trailer.
CORPC_DECL corpc_err corpc_ctx_set_status_details(
    corpc_ctx *ctx, const void *bytes, size_t len);

// Compresses this call's responses with `c` (DEFAULT: the server's
// setting). Before the headers are sent; CORPC_ESTATE after. A client that
// does not accept the encoding gets them uncompressed. In-process calls
// ignore it. Errors: CORPC_ESTATE, CORPC_EINVAL.
CORPC_DECL corpc_err corpc_ctx_set_compression(
    corpc_ctx *ctx, corpc_compression c);

// The encoding the last request message came in (NONE in-process, or when
// it was not compressed), e.g. to check a client's compression.
CORPC_DECL corpc_compression corpc_ctx_received_compression(
    const corpc_ctx *ctx);

// Sends the response headers now. Returns OK, or CANCELLED /
// DEADLINE_EXCEEDED when the call is gone.
CORPC_DECL corpc_status_code corpc_ctx_send_headers(corpc_ctx *ctx);

// Sends one response message of the method's response type. `msg` is not
// retained after return (see the message contract) unless `flags` holds
// CORPC_WRITE_STABLE. `flags`: 0, or any of CORPC_WRITE_MORE,
// CORPC_WRITE_NO_COMPRESS (write_flags.h) and CORPC_WRITE_STABLE. Returns OK;
// CANCELLED when the client cancelled, stopped early or went away;
// DEADLINE_EXCEEDED after the deadline; INTERNAL when a unary or
// client-streaming method sends a second response. After a non-OK return the
// handler should return promptly.
//
// CORPC_WRITE_STABLE: the handler promises that `msg` stays valid and
// unchanged until the client has finished or destroyed the stream (not
// merely until the handler returns: e.g. responses built before the call
// and owned by the service). In-process transports may then pass the
// pointer on later, without a copy and without a handoff per message: the
// coroutine transport queues up to 64 such messages per switch, thread
// share mode does not wait for each to be read. Other transports ignore it.
#define CORPC_WRITE_STABLE 0x2u
CORPC_DECL corpc_status_code corpc_ctx_send(
    corpc_ctx *ctx, const ProtobufCMessage *msg, unsigned flags);

// Receives the next request message into *msg (borrowed until the next
// recv or the handler's return). Returns OK with *msg set; OK with *msg
// NULL when the client half-closed; CANCELLED / DEADLINE_EXCEEDED when the
// call is gone.
CORPC_DECL corpc_status_code corpc_ctx_recv(
    corpc_ctx *ctx, const ProtobufCMessage **msg);

// Sets the status message to `message` as it is (copied; NULL means none)
// and returns `code`: for text that is not a format, such as a client's
// input. The message is ignored when the handler returns OK.
CORPC_DECL corpc_status_code corpc_ctx_status(
    corpc_ctx *ctx, corpc_status_code code, const char *message);

// Sets the status message (printf-style, copied) and returns `code`, so a
// handler can `return corpc_ctx_error(ctx, CORPC_STATUS_NOT_FOUND, "no %s",
// key);`. The message is ignored when the handler returns OK.
CORPC_DECL corpc_status_code corpc_ctx_error(
    corpc_ctx *ctx, corpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif // CORPC_SERVER_H
