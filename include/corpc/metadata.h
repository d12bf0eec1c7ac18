// SPDX-License-Identifier: MIT
// corpc: metadata, the ordered key/value list of gRPC headers and trailers.
#ifndef CORPC_METADATA_H
#define CORPC_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "corpc/decl.h"
#include "corpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// An ordered list of entries; keys may repeat. Keys are lower-case ASCII
// ([0-9a-z_.-]), must not start with "grpc-" (reserved for the protocol),
// and a key ending in "-bin" (with a name before it, as in gRPC) carries
// arbitrary bytes; any other value is printable ASCII (0x20..0x7e). Not
// thread-safe: one thread at a time.
typedef struct corpc_metadata corpc_metadata;

// One entry, borrowed from its list: valid until the list is changed or
// destroyed. `value` is NUL-terminated for convenience, but a "-bin" value
// may contain NULs: use `value_len`.
typedef struct corpc_metadata_entry {
	const char *key;
	const char *value;
	size_t      value_len;
} corpc_metadata_entry;

// Creates an empty list in *out. Caller owns it and frees it with
// corpc_metadata_destroy. Errors: CORPC_ENOMEM.
CORPC_DECL corpc_err corpc_metadata_create(corpc_metadata **out);

// Frees `md` and every entry. NULL is allowed.
CORPC_DECL void corpc_metadata_destroy(corpc_metadata *md);

// Appends a copy of key and value (value_len bytes) after validating both;
// nothing is retained after return. Errors: CORPC_EBADKEY (empty, upper
// case, illegal character, "grpc-" prefix), CORPC_EBADVALUE (non-printable
// byte in a non-"-bin" value), CORPC_ENOMEM. On error `md` is unchanged.
CORPC_DECL corpc_err corpc_metadata_add(
    corpc_metadata *md, const char *key, const void *value, size_t value_len);

// corpc_metadata_add with a NUL-terminated value.
CORPC_DECL corpc_err corpc_metadata_add_str(
    corpc_metadata *md, const char *key, const char *value);

// Removes every entry; keeps the memory for reuse.
CORPC_DECL void corpc_metadata_clear(corpc_metadata *md);

// Returns the number of entries. NULL counts as empty.
CORPC_DECL size_t corpc_metadata_count(const corpc_metadata *md);

// Returns entry `i` (0-based, in insertion order), or NULL when out of range.
CORPC_DECL const corpc_metadata_entry *corpc_metadata_at(
    const corpc_metadata *md, size_t i);

// Returns the first entry with `key`, or NULL. NULL `md` finds nothing.
CORPC_DECL const corpc_metadata_entry *corpc_metadata_get(
    const corpc_metadata *md, const char *key);

// Returns CORPC_OK if `key` is a legal user metadata key, else
// CORPC_EBADKEY. Any thread.
CORPC_DECL corpc_err corpc_metadata_check_key(const char *key);

// Returns CORPC_OK if `value` is legal for `key` (see above), else
// CORPC_EBADVALUE. Any thread.
CORPC_DECL corpc_err corpc_metadata_check_value(
    const char *key, const void *value, size_t value_len);

#ifdef __cplusplus
}
#endif

#endif // CORPC_METADATA_H
