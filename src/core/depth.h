// SPDX-License-Identifier: MIT
// Internal: bounds on message nesting, checked before protobuf-c sees the
// bytes. protobuf-c 1.4 unpacks, clones and frees nested messages
// recursively with no limit, so a small message whose type can contain
// itself overflows any stack; corpc stops at a depth first.
#ifndef CORPC_CORE_DEPTH_H
#define CORPC_CORE_DEPTH_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

// protobuf C++'s and Java's default recursion limit.
#define CORPC__DEFAULT_MAX_DEPTH 100u

// The limit an option asks for (0: the default).
unsigned corpc__depth_limit(unsigned opt);

typedef enum corpc__wire_result {
	CORPC__WIRE_OK,        // framing sound, nesting within the limit
	CORPC__WIRE_TOO_DEEP,  // a message nested deeper than the limit
	CORPC__WIRE_MALFORMED, // framing protobuf-c would refuse too
} corpc__wire_result;

// Scans `len` bytes of wire format of type `d` without recursion: follows
// every length-delimited field that `d` (and its message fields, down)
// declares as a message. The top-level message is depth 0, each nested
// message one more; more than `max_depth` is TOO_DEEP. MALFORMED means
// truncated fields, over-long varints or wire types protobuf-c does not
// parse (groups, 6, 7): unpack would fail on them anyway. On OK, *depth
// (may be NULL) gets the deepest nesting seen. Unknown fields are skipped
// as protobuf-c keeps them: opaque bytes.
corpc__wire_result corpc__wire_check_depth(const ProtobufCMessageDescriptor *d,
    const uint8_t *buf, size_t len, unsigned max_depth, unsigned *depth);

#endif // CORPC_CORE_DEPTH_H
