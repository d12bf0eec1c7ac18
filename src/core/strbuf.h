// SPDX-License-Identifier: MIT
// Internal: a growable string reused across pooled calls, so that a status
// message costs no allocation once the buffer is large enough.
#ifndef CORPC_CORE_STRBUF_H
#define CORPC_CORE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct corpc__strbuf {
	char  *data; // NULL until first use; corpc__strbuf_get returns "" then
	size_t cap;
} corpc__strbuf;

// Formats into the buffer (truncated to 4 KiB; an allocation failure
// leaves a fixed "out of memory" text). Never fails.
void corpc__strbuf_vset(corpc__strbuf *b, const char *fmt, va_list ap);
void corpc__strbuf_set(corpc__strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void        corpc__strbuf_clear(corpc__strbuf *b);
const char *corpc__strbuf_get(const corpc__strbuf *b);
void        corpc__strbuf_fini(corpc__strbuf *b);

#endif // CORPC_CORE_STRBUF_H
