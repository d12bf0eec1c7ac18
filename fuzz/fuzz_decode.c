// SPDX-License-Identifier: MIT
// Fuzzes the server-side message decode path: protobuf_c_message_unpack of
// the received bytes, corpc__msg_clone of the result (what thread-copy and
// the coroutine transport do with messages) and, with the network transport
// built, corpc__grpc_unpack on a gRPC byte buffer of one or more slices.
//
// Input: one selector byte, then the message bytes. The selector's low
// three bits pick the message type (the conformance suite's EchoRequest and
// EchoResponse, and clone_test's proto2 All and Sparse and proto3 P3, which
// between them have every field kind), the next two bits how many slices
// the byte buffer has (1..4).
//
// Invariants: a clone, with malloc or with an arena, packs byte-identical
// to the unpacked original, and so does a clone of a clone; re-packing is
// stable (pack(unpack(pack(m))) == pack(m)); the gRPC decode accepts
// exactly what protobuf-c accepts and gives the same message.
//
// protobuf-c 1.4.1 quirk (regressions/fuzz_decode/unknown-field-0): a tag
// for field number 0 written in two or more bytes (0x82 0x00) is accepted
// and kept as an unknown field, then packed as 0x02, which unpack refuses.
// Re-pack stability is not checked for such messages.
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "clone.pb-c.h"
#include "clone3.pb-c.h"
#include "core/arena.h"
#include "core/clone.h"
#include "fuzz.h"
#include "test.pb-c.h"

#ifdef CORPC_FUZZ_GRPC
#include "transport/grpc/grpc_common.h"
#endif

static const ProtobufCMessageDescriptor *const decode_types[] = {
    &corpc__test__echo_request__descriptor,
    &corpc__test__echo_response__descriptor,
    &clonetest__all__descriptor,
    &clonetest__sparse__descriptor,
    &clonetest3__p3__descriptor,
};
#define DECODE_NTYPES (sizeof(decode_types) / sizeof(decode_types[0]))

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
#ifdef CORPC_FUZZ_GRPC
	grpc_init();
#endif
	return 0;
}

// Packs `m` into a new buffer; *len gets its size.
static uint8_t *
decode_pack(const ProtobufCMessage *m, size_t *len)
{
	*len         = protobuf_c_message_get_packed_size(m);
	uint8_t *out = malloc(*len + 1);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(protobuf_c_message_pack(m, out) == *len);
	return out;
}

// Checks that `m` is of type `desc` and packs to exactly `want`.
static void
decode_same(const ProtobufCMessage *m, const ProtobufCMessageDescriptor *desc,
    const uint8_t *want, size_t want_len)
{
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(m->descriptor == desc);
	FUZZ_CHECK(protobuf_c_message_check(m));
	size_t   len;
	uint8_t *got = decode_pack(m, &len);
	FUZZ_CHECK(len == want_len);
	FUZZ_CHECK(memcmp(got, want, len) == 0);
	free(got);
}

// True when `m` or a message inside it holds an unknown field numbered 0.
static bool
decode_has_field0(const ProtobufCMessage *m)
{
	for (size_t i = 0; i < m->n_unknown_fields; i++) {
		if (m->unknown_fields[i].tag == 0) {
			return true;
		}
	}
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			continue;
		}
		const char *base = (const char *) m;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *) (const void
			        *) (base + f->quantifier_offset);
			ProtobufCMessage *const *v = *(ProtobufCMessage *const
			        *const *) (const void *) (base + f->offset);
			for (size_t j = 0; j < n; j++) {
				if (decode_has_field0(v[j])) {
					return true;
				}
			}
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    *(const uint32_t *) (const void
		            *) (base + f->quantifier_offset) != f->id) {
			continue; // another member of the oneof is set
		}
		const ProtobufCMessage *sub =
		    *(ProtobufCMessage *const *) (const void *) (base +
		                                                 f->offset);
		if (sub != NULL && decode_has_field0(sub)) {
			return true;
		}
	}
	return false;
}

#ifdef CORPC_FUZZ_GRPC
// Decodes `data` as the network transport does, from a byte buffer of
// `nslices` slices; `ref` is protobuf-c's result (NULL: refused).
static void
decode_grpc(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
    size_t size, size_t nslices, const uint8_t *ref, size_t ref_len,
    bool refused)
{
	grpc_slice slices[4];
	size_t     n = size == 0 ? 0 : nslices;
	for (size_t i = 0; i < n; i++) {
		size_t from = size * i / n, to = size * (i + 1) / n;
		slices[i] = grpc_slice_from_copied_buffer(
		    (const char *) data + from, to - from);
	}
	grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(slices, n);
	for (size_t i = 0; i < n; i++) {
		grpc_slice_unref(slices[i]);
	}
	FUZZ_CHECK(bb != NULL);
	corpc__arena arena;
	corpc__arena_init(&arena);
	bool              deep;
	ProtobufCMessage *m = corpc__grpc_unpack(bb, desc, &arena, 100, &deep);
	FUZZ_CHECK(!deep); // these types nest only a few levels
	if (refused) {
		FUZZ_CHECK(m == NULL);
	} else {
		decode_same(m, desc, ref, ref_len);
	}
	corpc__arena_fini(&arena);
	grpc_byte_buffer_destroy(bb);
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0) {
		return 0;
	}
	const ProtobufCMessageDescriptor *desc =
	    decode_types[data[0] % DECODE_NTYPES];
	size_t nslices = (size_t) ((data[0] >> 3) & 3) + 1;
	data++;
	size--;

	ProtobufCMessage *m =
	    protobuf_c_message_unpack(desc, NULL, size, data);
	uint8_t *packed     = NULL;
	size_t   packed_len = 0;
	if (m != NULL) {
		FUZZ_CHECK(m->descriptor == desc);
		packed      = decode_pack(m, &packed_len);
		bool field0 = decode_has_field0(m);

		// Clone with malloc, as coro's copy mode does.
		ProtobufCMessage *c =
		    corpc__msg_clone(m, NULL, UINT_MAX, NULL);
		decode_same(c, desc, packed, packed_len);

		// Clone into an arena, as the thread transport does, then a
		// clone of that clone.
		corpc__arena arena;
		corpc__arena_init(&arena);
		ProtobufCMessage *ac =
		    corpc__msg_clone(m, &arena.alloc, UINT_MAX, NULL);
		decode_same(ac, desc, packed, packed_len);
		ProtobufCMessage *cc =
		    corpc__msg_clone(ac, NULL, UINT_MAX, NULL);
		decode_same(cc, desc, packed, packed_len);
		corpc__arena_fini(&arena);
		protobuf_c_message_free_unpacked(cc, NULL);

		// The clone survives the original.
		protobuf_c_message_free_unpacked(m, NULL);
		decode_same(c, desc, packed, packed_len);
		protobuf_c_message_free_unpacked(c, NULL);

		// Re-packing is stable.
		ProtobufCMessage *again =
		    protobuf_c_message_unpack(desc, NULL, packed_len, packed);
		if (again != NULL || !field0) {
			decode_same(again, desc, packed, packed_len);
			protobuf_c_message_free_unpacked(again, NULL);
		}
	}
#ifdef CORPC_FUZZ_GRPC
	decode_grpc(
	    desc, data, size, nslices, packed, packed_len, packed == NULL);
#else
	(void) nslices;
#endif
	free(packed);
	return 0;
}
