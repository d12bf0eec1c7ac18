// SPDX-License-Identifier: MIT
// Fuzzes the nesting pre-scan (core/depth.c) against protobuf-c on the
// same bytes. Input: one selector byte (low three bits: the message type,
// as in fuzz_decode, whose seeds it shares; All and Sparse contain
// themselves), then the message bytes.
//
// Invariants: bytes the scan calls malformed, protobuf-c refuses too; bytes
// protobuf-c accepts, the scan accepts, and the message it gives nests no
// deeper than the scan's depth D (a later oneof member or a repeated
// singular field can replace a deeper one); the scan accepts at limit D and
// refuses at D - 1; a clone bounded by the message's own depth succeeds,
// one level less is refused as too deep.
#include <limits.h>
#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "clone.pb-c.h"
#include "clone3.pb-c.h"
#include "core/clone.h"
#include "core/depth.h"
#include "fuzz.h"
#include "test.pb-c.h"

static const ProtobufCMessageDescriptor *const depth_types[] = {
    &corpc__test__echo_request__descriptor,
    &corpc__test__echo_response__descriptor,
    &clonetest__all__descriptor,
    &clonetest__sparse__descriptor,
    &clonetest3__p3__descriptor,
};
#define DEPTH_NTYPES (sizeof(depth_types) / sizeof(depth_types[0]))

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	return 0;
}

// The nesting of an unpacked message (recursive: inputs are small).
static unsigned
depth_of(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d    = m->descriptor;
	unsigned                          best = 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *) (const void
		            *) ((const char *) m + f->quantifier_offset) !=
		        f->id) {
			continue;
		}
		const char *at = (const char *) m + f->offset;
		size_t      n  = 1;
		const ProtobufCMessage *const *v =
		    (const ProtobufCMessage *const *) (const void *) at;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *) (const void
			        *) ((const char *) m + f->quantifier_offset);
			v = *(const ProtobufCMessage *const *const
			        *) (const void *) at;
		}
		for (size_t k = 0; k < n && v != NULL; k++) {
			if (v[k] != NULL && v[k] != f->default_value) {
				unsigned dk = 1 + depth_of(v[k]);
				best        = dk > best ? dk : best;
			}
		}
	}
	return best;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	const ProtobufCMessageDescriptor *desc =
	    depth_types[(data[0] & 7) % DEPTH_NTYPES];
	const uint8_t *buf = data + 1;
	size_t         len = size - 1;

	unsigned           scanned = 0;
	corpc__wire_result r =
	    corpc__wire_check_depth(desc, buf, len, UINT_MAX, &scanned);
	FUZZ_CHECK(r != CORPC__WIRE_TOO_DEEP);
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, buf);
	if (r == CORPC__WIRE_MALFORMED) {
		FUZZ_CHECK(m == NULL);
		return 0;
	}
	FUZZ_CHECK(corpc__wire_check_depth(desc, buf, len, scanned, NULL) ==
	           CORPC__WIRE_OK);
	if (scanned > 0) {
		FUZZ_CHECK(corpc__wire_check_depth(desc, buf, len, scanned - 1,
		               NULL) == CORPC__WIRE_TOO_DEEP);
	}
	if (m == NULL) {
		return 0; // sound framing, refused for other reasons
	}
	unsigned depth = depth_of(m);
	FUZZ_CHECK(depth <= scanned);
	bool              deep = true;
	ProtobufCMessage *c    = corpc__msg_clone(m, NULL, depth, &deep);
	FUZZ_CHECK(c != NULL && !deep);
	protobuf_c_message_free_unpacked(c, NULL);
	if (depth > 0) {
		FUZZ_CHECK(
		    corpc__msg_clone(m, NULL, depth - 1, &deep) == NULL);
		FUZZ_CHECK(deep);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
