// SPDX-License-Identifier: MIT
// A growable text buffer for the generator's output.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"

static bool
buf_reserve(cg_buf *b, size_t extra)
{
	if (b->oom) {
		return false;
	}
	if (b->len + extra + 1 <= b->cap) {
		return true;
	}
	size_t cap = b->cap != 0 ? b->cap : 256;
	while (cap < b->len + extra + 1) {
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap  = cap;
	return true;
}

void
cg_buf_append(cg_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n)) {
		return;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
cg_buf_printf(cg_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!buf_reserve(b, (size_t) n)) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

const char *
cg_buf_str(const cg_buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
cg_buf_take(cg_buf *b)
{
	char *s = NULL;
	if (!b->oom) {
		s       = b->data != NULL ? b->data : strdup("");
		b->data = NULL;
	}
	cg_buf_fini(b);
	return s;
}

void
cg_buf_fini(cg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len  = 0;
	b->cap  = 0;
	b->oom  = false;
}

char *
cg_strdupf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return NULL;
	}
	char *s = malloc((size_t) n + 1);
	if (s == NULL) {
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return s;
}

// Display width of `s` from column `col`, with tabs every 8 columns.
static size_t
buf_width(const char *s, size_t col)
{
	for (; *s != '\0'; s++) {
		col = *s == '\t' ? (col / 8 + 1) * 8 : col + 1;
	}
	return col;
}

void
cg_buf_decl(cg_buf *b, const char *indent, const char *head,
    const char *const *params, size_t n, const char *tail)
{
	const size_t limit = 79;
	size_t       cont  = buf_width(indent, 0) + 4; // continuation column

	cg_buf_printf(b, "%s%s(", indent, head);
	if (n == 0) {
		cg_buf_printf(b, "void)%s", tail);
		return;
	}
	size_t col = buf_width(head, buf_width(indent, 0)) + 1;
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;
		// The piece must fit with its "," or ");" after it.
		size_t w = strlen(params[i]) + (last ? 2 : 1);
		if (i > 0) {
			if (col + 1 + w > limit) {
				cg_buf_printf(b, "\n%s    ", indent);
				col = cont;
			} else {
				cg_buf_append(b, " ", 1);
				col++;
			}
		} else if (col + w > limit) {
			cg_buf_printf(b, "\n%s    ", indent);
			col = cont;
		}
		cg_buf_printf(b, "%s%s", params[i], last ? ")" : ",");
		col += strlen(params[i]) + 1;
	}
	cg_buf_printf(b, "%s", tail);
}

void
cg_buf_commentf(cg_buf *b, const char *indent, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *text = n >= 0 ? malloc((size_t) n + 1) : NULL;
	if (text == NULL) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, (size_t) n + 1, fmt, ap);
	va_end(ap);

	const size_t limit = 79;
	size_t       start = buf_width(indent, 0) + 3; // after "// "
	size_t       col   = 0;                        // 0: no line open
	const char  *p     = text;
	while (*p != '\0') {
		while (*p == ' ') {
			p++;
		}
		size_t w = strcspn(p, " ");
		if (w == 0) {
			break;
		}
		if (col != 0 && col + 1 + w > limit) {
			cg_buf_append(b, "\n", 1);
			col = 0;
		}
		if (col == 0) {
			cg_buf_printf(b, "%s// ", indent);
			col = start;
		} else {
			cg_buf_append(b, " ", 1);
			col++;
		}
		cg_buf_append(b, p, w);
		col += w;
		p += w;
	}
	if (col != 0) {
		cg_buf_append(b, "\n", 1);
	}
	free(text);
}
