// SPDX-License-Identifier: MIT
// corpc: method and service descriptions. protoc-gen-corpc emits these for
// every service; hand-written services may fill them in directly.
#ifndef CORPC_METHOD_H
#define CORPC_METHOD_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "corpc/decl.h"
#include "corpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// The four RPC kinds of gRPC.
typedef enum corpc_rpc_kind {
	CORPC_RPC_UNARY            = 0,
	CORPC_RPC_SERVER_STREAMING = 1,
	CORPC_RPC_CLIENT_STREAMING = 2,
	CORPC_RPC_BIDI_STREAMING   = 3,
} corpc_rpc_kind;

// One method. Generated descriptions are static and live forever; a
// hand-made one must outlive every channel call and server that uses it.
typedef struct corpc_method {
	const char                       *path; // "/pkg.Service/Method"
	const char                       *name; // "Method"
	corpc_rpc_kind                    kind;
	const ProtobufCMessageDescriptor *request;
	const ProtobufCMessageDescriptor *response;
} corpc_method;

// The server-side context of one call (see server.h).
typedef struct corpc_ctx corpc_ctx;

// Runs one call on the server. `impl` and `self` are what was given to
// corpc_server_register. Returns the call's final status code; a message
// goes with it through corpc_ctx_error. Runs on a transport thread or
// coroutine (see server.h), with no corpc lock held.
typedef corpc_status_code (*corpc_handler_fn)(
    corpc_ctx *ctx, const void *impl, void *self);

// A .proto file as protoc handed it to protoc-gen-corpc, for server
// reflection (reflection.h). Every generated X.corpc.c defines one for X
// (`corpc_file_<X's name, other bytes as _hex>`, declared in X.corpc.h) and
// embeds those of its imports, whoever compiles them. Static, never freed.
typedef struct corpc_file_desc {
	const char *name; // "a/b/services.proto", the name imports use
	// A serialized google.protobuf.FileDescriptorProto (without source
	// code info), `descriptor_len` bytes.
	const unsigned char *descriptor;
	size_t               descriptor_len;
	// The files it imports, in its import order, each complete with its
	// own; `dependency_count` of them.
	const struct corpc_file_desc *const *dependencies;
	size_t                               dependency_count;
	// Full names it declares (no leading dot): messages, their fields,
	// enums and their values, extensions, services and their methods
	// ("a.b.Req", "a.b.Req.name", "a.b.Kinds.Unary"); `symbol_count`.
	const char *const *symbols;
	size_t             symbol_count;
} corpc_file_desc;

// One service: its methods and, for each, the handler that dispatches to the
// implementation (generated code unpacks `impl` into typed callbacks).
typedef struct corpc_service_desc {
	const char                *name; // "pkg.Service"
	size_t                     method_count;
	const corpc_method *const *methods;  // method_count entries
	const corpc_handler_fn    *handlers; // method_count entries
	// The file declaring the service, for reflection; NULL (hand-made
	// descriptions) leaves it out of file and symbol answers.
	const corpc_file_desc *file;
} corpc_service_desc;

// Returns the kind's name ("server_streaming"). Static string.
CORPC_DECL const char *corpc_rpc_kind_name(corpc_rpc_kind kind);

#ifdef __cplusplus
}
#endif

#endif // CORPC_METHOD_H
