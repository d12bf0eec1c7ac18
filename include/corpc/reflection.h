// SPDX-License-Identifier: MIT
// corpc: gRPC server reflection, grpc.reflection.v1 and v1alpha
// (ServerReflectionInfo), as grpcurl, Postman, evans and grpcio's or
// grpc-js' reflection clients use it: list the services, fetch a file by
// name or the file declaring a symbol, each with every file it imports.
//
// The answers come from the descriptors protoc-gen-corpc embeds in the
// generated code (corpc_file_desc, method.h): every registered service
// whose description has a `file` makes that file and its imports known,
// whenever it was registered. Extension queries (file_containing_extension,
// all_extension_numbers_of_type) are answered with an UNIMPLEMENTED
// error_response: corpc does not index extensions.
#ifndef CORPC_REFLECTION_H
#define CORPC_REFLECTION_H

#include "corpc/decl.h"
#include "corpc/method.h"
#include "corpc/server.h"
#include "corpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// One server's reflection state. Owned by its server.
typedef struct corpc_reflection corpc_reflection;

// Registers grpc.reflection.v1.ServerReflection and its v1alpha twin on
// `srv` and stores the state in *out (may be NULL). Before
// corpc_server_start; services registered later are answered too. Errors:
// CORPC_EINVAL, CORPC_EEXIST (enabled already), CORPC_ESTATE (started),
// CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_reflection_enable(
    corpc_server *srv, corpc_reflection **out);

// Makes `file` (and its imports) known although no registered service is
// declared in it, e.g. a file of message types that clients should be able
// to fetch: corpc_reflection_add_file(r, &corpc_file_a_2fb_2ftypes_2eproto).
// `file` must outlive the server (generated ones are static). Any time,
// any thread. Errors: CORPC_EINVAL, CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_reflection_add_file(
    corpc_reflection *r, const corpc_file_desc *file);

#ifdef __cplusplus
}
#endif

#endif // CORPC_REFLECTION_H
