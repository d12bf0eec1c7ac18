// SPDX-License-Identifier: MIT
// Internal: corpc's own accept loop for plaintext tcp:// and unix://
// listeners. gRPC 1.51's listener stops for good after one accept4 error
// other than EAGAIN (EMFILE when the process is out of descriptors), so a
// burst of idle connections would lock a server out until restart. corpc
// binds the sockets itself, accepts on a thread of its own and hands each
// connection to the grpc_server (grpc_server_add_channel_from_fd, which
// takes plaintext only: TLS listeners stay gRPC's).
//
// It also guards against rapid reset (CVE-2023-44487): gRPC 1.51 queues
// every stream a client opens, even one it resets at once, without limit,
// and its concurrent-stream limit does not count reset streams. The server
// reports how each call ended; a connection whose client reset more than
// `max_resets` streams before they carried a message, and more of them
// than it used, is closed.
#ifndef CORPC_TRANSPORT_GRPC_ACCEPTOR_H
#define CORPC_TRANSPORT_GRPC_ACCEPTOR_H

#include <grpc/grpc.h>

#include "core/address.h"
#include "corpc/status.h"

typedef struct corpc__grpc_acceptor corpc__grpc_acceptor;

// A new acceptor with no sockets; NULL when out of memory.
corpc__grpc_acceptor *corpc__grpc_acceptor_create(void);

// Binds and listens on `addr` (tcp or unix); *port gets the bound port
// (tcp). Errors: CORPC_EADDRINUSE, CORPC_EADDRINVAL, CORPC_ESYS,
// CORPC_ENOMEM. Before start only.
corpc_err corpc__grpc_acceptor_add(
    corpc__grpc_acceptor *a, const corpc__address *addr, int *port);

// True if `a` has sockets to accept on.
bool corpc__grpc_acceptor_used(const corpc__grpc_acceptor *a);

// Starts accepting into `server`, which must have been started, guarding
// with `max_resets` (0: no guard).
// Errors: CORPC_ESYS (no thread), CORPC_ENOMEM.
corpc_err corpc__grpc_acceptor_start(
    corpc__grpc_acceptor *a, grpc_server *server, unsigned max_resets);

// The descriptor of the connection of `call` if an acceptor handed it to
// gRPC (which names it "fd:N"), else -1 (TLS). Only while the call is in
// progress: gRPC forgets the name when it ends.
int corpc__grpc_acceptor_call_fd(grpc_call *call);

// The client address (gRPC's form, NUL-terminated in `out`) of connection
// `fd` (from corpc__grpc_acceptor_call_fd) for a call that began at `began`
// (corpc_now() clock). False when it is not known: not ours, or the number
// has passed to another connection since. Any thread.
bool corpc__grpc_acceptor_peer(
    corpc__grpc_acceptor *a, int fd, int64_t began, char *out, size_t size);

// Counts a call of connection `fd` (from corpc__grpc_acceptor_call_fd; -1
// is ignored) that began at `began` (corpc_now() clock) and has ended:
// `reset_unused` if its client reset it before it carried a message.
// Closes the connection when it is over the limit. Any thread.
void corpc__grpc_acceptor_call_ended(
    corpc__grpc_acceptor *a, int fd, int64_t began, bool reset_unused);

// Stops accepting and closes the listening sockets (removing unix socket
// files); connections already handed over stay. Idempotent.
void corpc__grpc_acceptor_stop(corpc__grpc_acceptor *a);

// Stops (if needed) and frees. NULL is allowed.
void corpc__grpc_acceptor_destroy(corpc__grpc_acceptor *a);

#endif // CORPC_TRANSPORT_GRPC_ACCEPTOR_H
