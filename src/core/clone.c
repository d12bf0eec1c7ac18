// SPDX-License-Identifier: MIT
// Descriptor-driven deep copy of protobuf-c messages.
//
// The copy is kept in a state protobuf_c_message_free_unpacked accepts at
// every step: pointers not yet copied hold the field's default (or NULL),
// so an allocation failure midway is cleaned up by that one call.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clone.h"

// Field access by descriptor offset, as protobuf-c itself does.
#define CLONE_AT(type, msg, off) (*(type *) (void *) ((char *) (msg) + (off)))

static void *
clone_sys_alloc(void *data, size_t size)
{
	(void) data;
	return malloc(size);
}

static void
clone_sys_free(void *data, void *ptr)
{
	(void) data;
	free(ptr);
}

// Same behaviour as protobuf-c's (unexported) default allocator, so a copy
// made with alloc == NULL can be freed with free_unpacked(copy, NULL).
static ProtobufCAllocator clone_malloc = {
    .alloc          = clone_sys_alloc,
    .free           = clone_sys_free,
    .allocator_data = NULL,
};

static size_t
clone_elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return sizeof(uint32_t);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		// Generated enums are forced to int size (_FORCE_INT_SIZE).
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

// True when the field holds data in `msg`: a oneof member only when it is
// the selected case (the others alias its storage).
static int
clone_field_live(const ProtobufCFieldDescriptor *f, const void *msg)
{
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0) {
		return 1;
	}
	return CLONE_AT(const uint32_t, msg, f->quantifier_offset) == f->id;
}

// Whether the singular field's value in `msg` is its descriptor default,
// which is static and shared rather than owned.
static int
clone_is_default(const ProtobufCFieldDescriptor *f, const void *msg)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return CLONE_AT(const char *, msg, f->offset) ==
		       (const char *) f->default_value;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *def = f->default_value;
		return def != NULL &&
		       CLONE_AT(const ProtobufCBinaryData, msg, f->offset)
		               .data == def->data;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return CLONE_AT(const ProtobufCMessage *, msg, f->offset) ==
		       (const ProtobufCMessage *) f->default_value;
	default:
		return 1;
	}
}

// Points every owned pointer of `dst` (a memcpy of its source) at nothing
// owned: defaults, NULL arrays, no unknown fields.
static void
clone_disown(const ProtobufCMessageDescriptor *d, ProtobufCMessage *dst)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!clone_field_live(f, dst)) {
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			// free_unpacked skips a NULL array whatever the count.
			CLONE_AT(void *, dst, f->offset) = NULL;
			continue;
		}
		if (clone_is_default(f, dst)) {
			continue;
		}
		switch (f->type) {
		case PROTOBUF_C_TYPE_STRING:
			CLONE_AT(char *, dst, f->offset) =
			    (char *) f->default_value;
			break;
		case PROTOBUF_C_TYPE_BYTES:
			CLONE_AT(ProtobufCBinaryData, dst, f->offset).data =
			    NULL;
			break;
		case PROTOBUF_C_TYPE_MESSAGE:
			CLONE_AT(ProtobufCMessage *, dst, f->offset) = NULL;
			break;
		default:
			break;
		}
	}
	dst->n_unknown_fields = 0;
	dst->unknown_fields   = NULL;
}

static char *
clone_str(const char *s, ProtobufCAllocator *alloc)
{
	size_t n = strlen(s) + 1;
	char  *p = alloc->alloc(alloc->allocator_data, n);
	if (p != NULL) {
		memcpy(p, s, n);
	}
	return p;
}

// Copies bytes into `dst`; empty bytes get data NULL, as unpack does.
static int
clone_bytes(ProtobufCBinaryData *dst, const ProtobufCBinaryData *src,
    ProtobufCAllocator *alloc)
{
	dst->len  = src->len;
	dst->data = NULL;
	if (src->len == 0) {
		return 1;
	}
	uint8_t *p = alloc->alloc(alloc->allocator_data, src->len);
	if (p == NULL) {
		dst->len = 0;
		return 0;
	}
	memcpy(p, src->data, src->len);
	dst->data = p;
	return 1;
}

// How far a copy may still go down, and whether it hit the bottom: the
// recursion is bounded by the nesting limit (depth.h).
typedef struct clone_depth {
	unsigned left;
	bool     too_deep;
} clone_depth;

static ProtobufCMessage *clone_msg(const ProtobufCMessage *src,
    ProtobufCAllocator *alloc, clone_depth *depth);

// Copies nested message `m`, one level further down.
static ProtobufCMessage *
clone_child(
    const ProtobufCMessage *m, ProtobufCAllocator *alloc, clone_depth *depth)
{
	if (depth->left == 0) {
		depth->too_deep = true;
		return NULL;
	}
	depth->left--;
	ProtobufCMessage *copy = clone_msg(m, alloc, depth);
	depth->left++;
	return copy;
}

static int
clone_repeated(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *src,
    ProtobufCMessage *dst, ProtobufCAllocator *alloc, clone_depth *depth)
{
	size_t      n   = CLONE_AT(const size_t, src, f->quantifier_offset);
	const void *arr = CLONE_AT(const void *const, src, f->offset);
	size_t      sz  = clone_elem_size(f->type);
	if (n == 0 || arr == NULL) {
		return 1;
	}
	if (sz == 0 || n > SIZE_MAX / sz) {
		return 0;
	}
	void *out = alloc->alloc(alloc->allocator_data, n * sz);
	if (out == NULL) {
		return 0;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		// All-NULL first, so a failure below leaves a freeable array.
		memset(out, 0, n * sz);
		break;
	default:
		memcpy(out, arr, n * sz);
		break;
	}
	CLONE_AT(void *, dst, f->offset) = out;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *const *from = arr;
		char             **to   = out;
		for (size_t i = 0; i < n; i++) {
			to[i] =
			    from[i] != NULL ? clone_str(from[i], alloc) : NULL;
			if (from[i] != NULL && to[i] == NULL) {
				return 0;
			}
		}
	} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
		const ProtobufCBinaryData *from = arr;
		ProtobufCBinaryData       *to   = out;
		for (size_t i = 0; i < n; i++) {
			if (!clone_bytes(&to[i], &from[i], alloc)) {
				return 0;
			}
		}
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessage *const *from = arr;
		ProtobufCMessage             **to   = out;
		for (size_t i = 0; i < n; i++) {
			to[i] = from[i] != NULL
			            ? clone_child(from[i], alloc, depth)
			            : NULL;
			if (from[i] != NULL && to[i] == NULL) {
				return 0;
			}
		}
	}
	return 1;
}

static int
clone_singular(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *src,
    ProtobufCMessage *dst, ProtobufCAllocator *alloc, clone_depth *depth)
{
	if (clone_is_default(f, src)) {
		return 1;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = CLONE_AT(const char *, src, f->offset);
		if (s == NULL) {
			return 1;
		}
		char *p = clone_str(s, alloc);
		if (p == NULL) {
			return 0;
		}
		CLONE_AT(char *, dst, f->offset) = p;
		return 1;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return clone_bytes(
		    &CLONE_AT(ProtobufCBinaryData, dst, f->offset),
		    &CLONE_AT(const ProtobufCBinaryData, src, f->offset),
		    alloc);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m =
		    CLONE_AT(const ProtobufCMessage *, src, f->offset);
		if (m == NULL) {
			return 1;
		}
		ProtobufCMessage *p = clone_child(m, alloc, depth);
		if (p == NULL) {
			return 0;
		}
		CLONE_AT(ProtobufCMessage *, dst, f->offset) = p;
		return 1;
	}
	default:
		return 1;
	}
}

static int
clone_unknown(const ProtobufCMessage *src, ProtobufCMessage *dst,
    ProtobufCAllocator *alloc)
{
	size_t n = src->n_unknown_fields;
	if (n == 0 || src->unknown_fields == NULL) {
		return 1;
	}
	ProtobufCMessageUnknownField *u =
	    alloc->alloc(alloc->allocator_data, n * sizeof(*u));
	if (u == NULL) {
		return 0;
	}
	memcpy(u, src->unknown_fields, n * sizeof(*u));
	for (size_t i = 0; i < n; i++) {
		u[i].data = NULL;
	}
	dst->unknown_fields   = u;
	dst->n_unknown_fields = src->n_unknown_fields;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessageUnknownField *s =
		    &src->unknown_fields[i];
		if (s->len == 0) {
			continue;
		}
		u[i].data = alloc->alloc(alloc->allocator_data, s->len);
		if (u[i].data == NULL) {
			return 0;
		}
		memcpy(u[i].data, s->data, s->len);
	}
	return 1;
}

static ProtobufCMessage *
clone_msg(
    const ProtobufCMessage *src, ProtobufCAllocator *alloc, clone_depth *depth)
{
	const ProtobufCMessageDescriptor *d = src->descriptor;

	ProtobufCMessage *dst =
	    alloc->alloc(alloc->allocator_data, d->sizeof_message);
	if (dst == NULL) {
		return NULL;
	}
	// Scalars, has_* flags and oneof cases come across with the struct.
	memcpy(dst, src, d->sizeof_message);
	clone_disown(d, dst);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!clone_field_live(f, src)) {
			continue;
		}
		int ok = f->label == PROTOBUF_C_LABEL_REPEATED
		             ? clone_repeated(f, src, dst, alloc, depth)
		             : clone_singular(f, src, dst, alloc, depth);
		if (!ok) {
			protobuf_c_message_free_unpacked(dst, alloc);
			return NULL;
		}
	}
	if (!clone_unknown(src, dst, alloc)) {
		protobuf_c_message_free_unpacked(dst, alloc);
		return NULL;
	}
	return dst;
}

ProtobufCMessage *
corpc__msg_clone(const ProtobufCMessage *src, ProtobufCAllocator *alloc,
    unsigned max_depth, bool *too_deep)
{
	clone_depth       depth = {.left = max_depth, .too_deep = false};
	ProtobufCMessage *copy =
	    clone_msg(src, alloc != NULL ? alloc : &clone_malloc, &depth);
	if (too_deep != NULL) {
		*too_deep = depth.too_deep;
	}
	return copy;
}
