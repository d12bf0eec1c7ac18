// SPDX-License-Identifier: MIT
// Interposed malloc that counts allocations, forwarding to glibc's own
// implementation (__libc_malloc and friends). Defined in the executable, so
// the dynamic linker binds every malloc of the process (libc, libcorpc,
// gRPC, libstdc++) to these. glibc supports replacing malloc this way when
// all of malloc, free, calloc, realloc and the aligned variants are
// replaced together.
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "count_alloc.h"

// Not under sanitizers: they interpose malloc themselves.
#ifndef CORPC_SANITIZER_BUILD

// Exported from the executable (the build hides symbols by default), so
// that the dynamic linker binds the shared libraries' calls to these.
#define INTERPOSE __attribute__((visibility("default")))

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void  __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

static atomic_bool   counting;
static atomic_ullong n_allocs;
static atomic_ullong n_bytes;

static inline void
count(size_t size)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(
		    &n_bytes, size, memory_order_relaxed);
	}
}

INTERPOSE void *
malloc(size_t size)
{
	count(size);
	return __libc_malloc(size);
}

INTERPOSE void *
calloc(size_t n, size_t size)
{
	count(n * size);
	return __libc_calloc(n, size);
}

// A realloc is counted as an allocation of the new size, as Go counts a
// growing slice.
INTERPOSE void *
realloc(void *p, size_t size)
{
	if (size > 0) {
		count(size);
	}
	return __libc_realloc(p, size);
}

INTERPOSE void *
reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > (size_t) -1 / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

INTERPOSE void
free(void *p)
{
	__libc_free(p);
}

INTERPOSE void *
memalign(size_t align, size_t size)
{
	count(size);
	return __libc_memalign(align, size);
}

INTERPOSE void *
aligned_alloc(size_t align, size_t size)
{
	return memalign(align, size);
}

INTERPOSE int
posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)) != 0) {
		return EINVAL;
	}
	void *p = memalign(align, size);
	if (p == NULL) {
		return ENOMEM;
	}
	*out = p;
	return 0;
}

INTERPOSE void *
valloc(size_t size)
{
	return memalign((size_t) sysconf(_SC_PAGESIZE), size);
}

INTERPOSE void *
pvalloc(size_t size)
{
	size_t page = (size_t) sysconf(_SC_PAGESIZE);
	return memalign(page, (size + page - 1) / page * page);
}

bool
count_alloc_available(void)
{
	return true;
}

void
count_alloc_start(void)
{
	atomic_store(&n_allocs, 0);
	atomic_store(&n_bytes, 0);
	atomic_store(&counting, true);
}

count_alloc_totals
count_alloc_stop(void)
{
	atomic_store(&counting, false);
	count_alloc_totals t = {atomic_load(&n_allocs), atomic_load(&n_bytes)};
	return t;
}

#else // CORPC_SANITIZER_BUILD

bool
count_alloc_available(void)
{
	return false;
}

void
count_alloc_start(void)
{
}

count_alloc_totals
count_alloc_stop(void)
{
	count_alloc_totals t = {0, 0};
	return t;
}

#endif
