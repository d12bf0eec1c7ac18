// SPDX-License-Identifier: MIT
// Internal: a bump allocator behind protobuf-c's allocator interface. Reset
// reuses its memory, so cloned messages cost no malloc in steady state.
#ifndef CORPC_CORE_ARENA_H
#define CORPC_CORE_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

typedef struct corpc__arena_chunk corpc__arena_chunk;

typedef struct corpc__arena {
	ProtobufCAllocator  alloc; // alloc bumps; free is a no-op
	corpc__arena_chunk *chunks;
	size_t              used;  // bytes used in the head chunk
	size_t              first; // size of the first chunk
} corpc__arena;

// Empty arena; allocates on first use (a 4 KiB chunk).
void corpc__arena_init(corpc__arena *a);
// The same with a first chunk of `first` bytes: many small arenas (one per
// ring slot) stay close together in memory, which keeps a consumer's reads
// of them cache- and prefetch-friendly.
void corpc__arena_init_sized(corpc__arena *a, size_t first);
// Forgets every allocation; keeps one chunk (the largest) for reuse.
void corpc__arena_reset(corpc__arena *a);
// Forgets every allocation like reset, but frees the kept chunk too when it
// is larger than `keep_max` bytes: an object pooled for reuse should not
// hold on to the buffer of the one large message it once carried.
void corpc__arena_trim(corpc__arena *a, size_t keep_max);
// Forgets every allocation as reset does, but keeps a chunk only if it is
// no larger than the first: an arena kept for reuse (pooled) does not
// hold on to the memory of its largest allocation ever.
void corpc__arena_shrink(corpc__arena *a);
// Frees all memory.
void corpc__arena_fini(corpc__arena *a);
// Allocates `size` bytes aligned for any type; NULL when out of memory.
void *corpc__arena_alloc(corpc__arena *a, size_t size);

#endif // CORPC_CORE_ARENA_H
