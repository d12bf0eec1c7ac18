// SPDX-License-Identifier: MIT
// corpc: copies of messages. Received messages are borrowed (valid until
// the next recv, or the handler's return); a program that keeps one longer
// copies it here.
#ifndef CORPC_MESSAGE_H
#define CORPC_MESSAGE_H

#include <protobuf-c/protobuf-c.h>

#include "corpc/decl.h"
#include "corpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Deep-copies `msg` (any protobuf-c message: strings, bytes, repeated and
// nested fields, oneofs, unknown fields) into *out, allocated with malloc.
// The caller owns the copy and frees it with corpc_message_free (or
// protobuf_c_message_free_unpacked(copy, NULL)). Any thread. Errors:
// CORPC_EINVAL (NULL argument, or nested deeper than 100 levels, the limit
// received messages have), CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_message_clone(
    const ProtobufCMessage *msg, ProtobufCMessage **out);

// Frees a copy made by corpc_message_clone. NULL is allowed.
CORPC_DECL void corpc_message_free(ProtobufCMessage *msg);

#ifdef __cplusplus
}
#endif

#endif // CORPC_MESSAGE_H
