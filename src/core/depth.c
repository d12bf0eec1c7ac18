// SPDX-License-Identifier: MIT
// Nesting pre-scan of protobuf wire bytes (depth.h): an explicit stack of
// the messages being scanned, so hostile input costs heap, not call stack.
#include <stdbool.h>
#include <stdlib.h>

#include "core/depth.h"

// Frames kept on the C stack; deeper limits grow the stack on the heap.
#define DEPTH_LOCAL_FRAMES 32

typedef struct depth_frame {
	const ProtobufCMessageDescriptor *d;
	size_t end; // where this message's bytes end
} depth_frame;

unsigned
corpc__depth_limit(unsigned opt)
{
	return opt != 0 ? opt : CORPC__DEFAULT_MAX_DEPTH;
}

// Reads a varint of at most 10 bytes ending before `end`.
static bool
depth_varint(const uint8_t *buf, size_t *pos, size_t end, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 10 && *pos < end; i++) {
		uint8_t b = buf[(*pos)++];
		v |= (uint64_t) (b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			*out = v;
			return true;
		}
	}
	return false;
}

// Pushes a frame, growing the stack onto the heap when needed.
static bool
depth_push(depth_frame **stack, size_t *cap, depth_frame *local, unsigned top,
    depth_frame f)
{
	if (top >= *cap) {
		size_t       n = *cap * 2;
		depth_frame *s = malloc(n * sizeof(*s));
		if (s == NULL) {
			return false;
		}
		for (size_t i = 0; i < *cap; i++) {
			s[i] = (*stack)[i];
		}
		if (*stack != local) {
			free(*stack);
		}
		*stack = s;
		*cap   = n;
	}
	(*stack)[top] = f;
	return true;
}

static corpc__wire_result
depth_scan(depth_frame **stack, size_t *cap, depth_frame *local,
    const uint8_t *buf, unsigned max_depth, unsigned *deepest)
{
	unsigned top = 0;
	size_t   pos = 0;
	for (;;) {
		while (pos == (*stack)[top].end) {
			if (top == 0) {
				return CORPC__WIRE_OK;
			}
			top--;
		}
		size_t   end = (*stack)[top].end;
		uint64_t tag, v;
		if (!depth_varint(buf, &pos, end, &tag)) {
			return CORPC__WIRE_MALFORMED;
		}
		switch (tag & 7) {
		case 0:
			if (!depth_varint(buf, &pos, end, &v)) {
				return CORPC__WIRE_MALFORMED;
			}
			break;
		case 1:
		case 5: {
			size_t n = (tag & 7) == 1 ? 8 : 4;
			if (end - pos < n) {
				return CORPC__WIRE_MALFORMED;
			}
			pos += n;
			break;
		}
		case 2: {
			if (!depth_varint(buf, &pos, end, &v) ||
			    v > end - pos) {
				return CORPC__WIRE_MALFORMED;
			}
			uint64_t                        num = tag >> 3;
			const ProtobufCFieldDescriptor *f =
			    num <= UINT32_MAX
			        ? protobuf_c_message_descriptor_get_field(
			              (*stack)[top].d, (unsigned) num)
			        : NULL;
			if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE) {
				pos += (size_t)
				    v; // bytes, string, packed or unknown
				break;
			}
			if (top + 1 > max_depth) {
				return CORPC__WIRE_TOO_DEEP;
			}
			depth_frame fr = {f->descriptor, pos + (size_t) v};
			if (!depth_push(stack, cap, local, top + 1, fr)) {
				// Out of memory: refuse rather than risk the
				// stack.
				return CORPC__WIRE_TOO_DEEP;
			}
			top++;
			if (top > *deepest) {
				*deepest = top;
			}
			break;
		}
		default:
			return CORPC__WIRE_MALFORMED;
		}
	}
}

corpc__wire_result
corpc__wire_check_depth(const ProtobufCMessageDescriptor *d,
    const uint8_t *buf, size_t len, unsigned max_depth, unsigned *depth)
{
	depth_frame  local[DEPTH_LOCAL_FRAMES];
	depth_frame *stack   = local;
	size_t       cap     = DEPTH_LOCAL_FRAMES;
	unsigned     deepest = 0;
	local[0]             = (depth_frame) {d, len};
	corpc__wire_result r =
	    depth_scan(&stack, &cap, local, buf, max_depth, &deepest);
	if (stack != local) {
		free(stack);
	}
	if (r == CORPC__WIRE_OK && depth != NULL) {
		*depth = deepest;
	}
	return r;
}
