// SPDX-License-Identifier: MIT
// Internal: descriptor-driven deep copy of a protobuf-c message (protobuf-c
// 1.4 has none). Handles scalars, has_* flags, oneofs, repeated fields,
// strings, bytes, nested messages, defaults and unknown fields.
#ifndef CORPC_CORE_CLONE_H
#define CORPC_CORE_CLONE_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

// Returns a deep copy of `src` allocated with `alloc` (NULL: malloc), or NULL
// when out of memory or when `src` nests messages deeper than `max_depth`
// (then *too_deep, if not NULL, is true; nothing leaks either way). The
// recursion, and so the stack used, is bounded by `max_depth` (depth.h).
// Pointers equal to a field's default are kept, as protobuf-c's unpack does,
// so the copy may be freed with protobuf_c_message_free_unpacked(copy, alloc),
// or dropped with its arena.
ProtobufCMessage *corpc__msg_clone(const ProtobufCMessage *src,
    ProtobufCAllocator *alloc, unsigned max_depth, bool *too_deep);

#endif // CORPC_CORE_CLONE_H
