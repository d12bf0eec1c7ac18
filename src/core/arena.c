// SPDX-License-Identifier: MIT
// A bump allocator behind protobuf-c's allocator interface.
#include <stdint.h>
#include <stdlib.h>

#include "core/arena.h"

// Every allocation is aligned to ARENA_ALIGN, enough for any scalar type.
#define ARENA_ALIGN 16
// The first chunk's usable size; each later one doubles the head's.
#define ARENA_FIRST 4096

struct corpc__arena_chunk {
	corpc__arena_chunk *next;
	size_t              size; // usable bytes at chunk_data()
};

static unsigned char *
chunk_data(corpc__arena_chunk *c)
{
	return (unsigned char *) (c + 1);
}

// Offset of the first ARENA_ALIGN-aligned address at or after data + off.
// Aligning the address, not the offset, means we need not trust malloc's
// alignment to be ARENA_ALIGN.
static size_t
chunk_align(corpc__arena_chunk *c, size_t off)
{
	uintptr_t p = (uintptr_t) (chunk_data(c) + off);
	uintptr_t q = (p + (ARENA_ALIGN - 1)) & ~(uintptr_t) (ARENA_ALIGN - 1);
	return off + (size_t) (q - p);
}

static corpc__arena_chunk *
chunk_new(size_t size)
{
	if (size > SIZE_MAX - sizeof(corpc__arena_chunk)) {
		return NULL;
	}
	corpc__arena_chunk *c = malloc(sizeof(*c) + size);
	if (c == NULL) {
		return NULL;
	}
	c->next = NULL;
	c->size = size;
	return c;
}

static void *
arena_pb_alloc(void *data, size_t size)
{
	return corpc__arena_alloc(data, size);
}

static void
arena_pb_free(void *data, void *ptr)
{
	// Memory goes back in bulk on reset or fini.
	(void) data;
	(void) ptr;
}

void
corpc__arena_init(corpc__arena *a)
{
	a->alloc.alloc          = arena_pb_alloc;
	a->alloc.free           = arena_pb_free;
	a->alloc.allocator_data = a;
	a->chunks               = NULL;
	a->used                 = 0;
	a->first                = ARENA_FIRST;
}

void
corpc__arena_init_sized(corpc__arena *a, size_t first)
{
	corpc__arena_init(a);
	a->first = first > 0 ? first : ARENA_FIRST;
}

void
corpc__arena_reset(corpc__arena *a)
{
	corpc__arena_chunk *keep = NULL;
	for (corpc__arena_chunk *c = a->chunks; c != NULL; c = c->next) {
		if (keep == NULL || c->size > keep->size) {
			keep = c;
		}
	}
	corpc__arena_chunk *c = a->chunks;
	while (c != NULL) {
		corpc__arena_chunk *next = c->next;
		if (c != keep) {
			free(c);
		}
		c = next;
	}
	if (keep != NULL) {
		keep->next = NULL;
	}
	a->chunks = keep;
	a->used   = 0;
}

void
corpc__arena_trim(corpc__arena *a, size_t keep_max)
{
	corpc__arena_reset(a);
	if (a->chunks != NULL && a->chunks->size > keep_max) {
		corpc__arena_fini(a);
	}
}

void
corpc__arena_shrink(corpc__arena *a)
{
	corpc__arena_trim(a, a->first);
}

void
corpc__arena_fini(corpc__arena *a)
{
	corpc__arena_chunk *c = a->chunks;
	while (c != NULL) {
		corpc__arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->chunks = NULL;
	a->used   = 0;
}

void *
corpc__arena_alloc(corpc__arena *a, size_t size)
{
	corpc__arena_chunk *head = a->chunks;
	if (head != NULL) {
		size_t off = chunk_align(head, a->used);
		if (off <= head->size && size <= head->size - off) {
			a->used = off + size;
			return chunk_data(head) + off;
		}
	}
	if (size > SIZE_MAX - (ARENA_ALIGN - 1)) {
		return NULL;
	}
	// Slack so the aligned start still leaves `size` bytes.
	size_t need = size + (ARENA_ALIGN - 1);
	size_t next = a->first;
	if (head != NULL) {
		next = head->size <= SIZE_MAX / 2 ? head->size * 2 : SIZE_MAX;
	}
	if (need <= next / 2 || head == NULL) {
		// Grow geometrically, so a (fill; reset) loop settles on one
		// chunk big enough for a whole round after a few rounds.
		if (need > next) {
			next = need;
		}
		corpc__arena_chunk *c = chunk_new(next);
		if (c == NULL) {
			return NULL;
		}
		c->next    = head;
		a->chunks  = c;
		size_t off = chunk_align(c, 0);
		a->used    = off + size;
		return chunk_data(c) + off;
	}
	// A large request gets its own chunk behind the head, so the head's
	// free space stays in use for the small allocations that follow.
	corpc__arena_chunk *c = chunk_new(need);
	if (c == NULL) {
		return NULL;
	}
	c->next    = head->next;
	head->next = c;
	return chunk_data(c) + chunk_align(c, 0);
}
