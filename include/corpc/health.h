// SPDX-License-Identifier: MIT
// corpc: the standard gRPC health service, grpc.health.v1.Health, as
// Kubernetes gRPC probes, grpc_health_probe, grpcio and grpc-js clients use
// it. Check answers a service's current status (NOT_FOUND for a service
// never set); Watch streams the status now and again at every change
// (SERVICE_UNKNOWN for a service never set, and it waits for one).
//
// The empty name "" stands for the whole server and starts SERVING; every
// other service is unknown until corpc_health_set names it. At
// corpc_server_shutdown every known service turns NOT_SERVING before the
// listeners stop, watchers are sent that, and their calls end UNAVAILABLE
// (so watchers never hold the shutdown grace); later sets are ignored.
#ifndef CORPC_HEALTH_H
#define CORPC_HEALTH_H

#include "corpc/decl.h"
#include "corpc/server.h"
#include "corpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// A serving status, numbered as grpc.health.v1's ServingStatus.
typedef enum corpc_health_status {
	CORPC_HEALTH_UNKNOWN     = 0,
	CORPC_HEALTH_SERVING     = 1,
	CORPC_HEALTH_NOT_SERVING = 2,
	CORPC_HEALTH_SERVICE_UNKNOWN =
	    3, // what Watch sends for an unknown one
} corpc_health_status;

// One server's health state. Owned by its server, freed by
// corpc_server_destroy.
typedef struct corpc_health corpc_health;

// Registers grpc.health.v1.Health on `srv` and stores its state in *out
// (may be NULL if you never set a status). Before corpc_server_start. The
// state is the server's: valid until corpc_server_destroy. Errors:
// CORPC_EINVAL, CORPC_EEXIST (health enabled already), CORPC_ESTATE
// (started), CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_health_enable(
    corpc_server *srv, corpc_health **out);

// Sets the status of `service` ("" is the whole server; the name is
// copied) to SERVING or NOT_SERVING; every watcher of it is sent the new
// status if it differs from the last one it got. Any thread, any time until
// corpc_server_destroy, including from handlers (it never waits for a
// watcher). Errors: CORPC_EINVAL (NULL, or a status other than SERVING and
// NOT_SERVING), CORPC_ESTATE (the server is shutting down: the set is
// ignored), CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_health_set(
    corpc_health *h, const char *service, corpc_health_status status);

// Forgets `service`: Check answers NOT_FOUND again and watchers are sent
// SERVICE_UNKNOWN. Forgetting an unknown service does nothing.
// Thread-safety as corpc_health_set. Errors: CORPC_EINVAL, CORPC_ESTATE
// (shutting down).
CORPC_DECL corpc_err corpc_health_clear(corpc_health *h, const char *service);

// Returns the status of `service` now: SERVING or NOT_SERVING, or
// SERVICE_UNKNOWN for one never set (or cleared). Any thread.
CORPC_DECL corpc_health_status corpc_health_get(
    corpc_health *h, const char *service);

#ifdef __cplusplus
}
#endif

#endif // CORPC_HEALTH_H
