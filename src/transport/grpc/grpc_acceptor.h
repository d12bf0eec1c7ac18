// SPDX-License-Identifier: MIT
// Internal: corpc's own accept loop for plaintext tcp:// and unix://
// listeners. gRPC 1.51's listener stops for good after one accept4 error
// other than EAGAIN (EMFILE when the process is out of descriptors), so a
// burst of idle connections would lock a server out until restart. corpc
// binds the sockets itself, accepts on a thread of its own and hands each
// connection to the grpc_server (grpc_server_add_channel_from_fd, which
// takes plaintext only: TLS listeners stay gRPC's).
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

// Starts accepting into `server`, which must have been started. Errors:
// CORPC_ESYS (no thread), CORPC_ENOMEM.
corpc_err corpc__grpc_acceptor_start(
    corpc__grpc_acceptor *a, grpc_server *server);

// Stops accepting and closes the listening sockets (removing unix socket
// files); connections already handed over stay. Idempotent.
void corpc__grpc_acceptor_stop(corpc__grpc_acceptor *a);

// Stops (if needed) and frees. NULL is allowed.
void corpc__grpc_acceptor_destroy(corpc__grpc_acceptor *a);

#endif // CORPC_TRANSPORT_GRPC_ACCEPTOR_H
