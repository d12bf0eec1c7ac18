// SPDX-License-Identifier: MIT
// A reusable string buffer for status messages.
#include <stdio.h>
#include <stdlib.h>

#include "core/strbuf.h"

#define STRBUF_MAX 4096

void
corpc__strbuf_vset(corpc__strbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(b->data, b->data ? b->cap : 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		n = 0;
	}
	size_t need = (size_t) n + 1;
	if (need > STRBUF_MAX) {
		need = STRBUF_MAX;
	}
	if (need > b->cap) {
		char *p = realloc(b->data, need);
		if (p == NULL) {
			// Keep the old buffer; say why the message is missing.
			if (b->data != NULL) {
				snprintf(
				    b->data, b->cap, "%s", "out of memory");
			}
			return;
		}
		b->data = p;
		b->cap  = need;
		vsnprintf(b->data, b->cap, fmt, ap);
	}
}

void
corpc__strbuf_set(corpc__strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	corpc__strbuf_vset(b, fmt, ap);
	va_end(ap);
}

void
corpc__strbuf_clear(corpc__strbuf *b)
{
	if (b->data != NULL) {
		b->data[0] = '\0';
	}
}

const char *
corpc__strbuf_get(const corpc__strbuf *b)
{
	return b->data != NULL ? b->data : "";
}

void
corpc__strbuf_fini(corpc__strbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap  = 0;
}
