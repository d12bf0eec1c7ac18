// SPDX-License-Identifier: MIT
// Per-thread error detail; see detail.h.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/detail.h"

#define DETAIL_MAX 1024

static _Thread_local char detail[DETAIL_MAX];
static _Thread_local bool capturing;

const char *
corpc_err_detail(void)
{
	return detail;
}

void
corpc__detail_clear(void)
{
	detail[0] = '\0';
}

void
corpc__detail_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
}

// Appends `s` to the string in buf (of `size`), cut at its end: a cut
// detail still helps.
static void
append_to(char *buf, size_t size, const char *s)
{
	size_t used = strlen(buf);
	size_t room = size - 1 - used;
	size_t n    = strlen(s);
	if (n > room) {
		n = room;
	}
	memcpy(buf + used, s, n);
	buf[used + n] = '\0';
}

static void
append(const char *s)
{
	append_to(detail, sizeof(detail), s);
}

corpc_err
corpc__detail_finish(corpc_err rv, const char *fmt, ...)
{
	if (rv == CORPC_OK) {
		return rv;
	}
	char old[DETAIL_MAX];
	memcpy(old, detail, sizeof(old));
	if (old[0] == '\0') {
		append_to(old, sizeof(old), corpc_strerror(rv));
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	append(": ");
	append(old);
	return rv;
}

void
corpc__detail_capture(bool on)
{
	capturing = on;
}

bool
corpc__detail_capturing(void)
{
	return capturing;
}

void
corpc__detail_add(const char *text)
{
	if (detail[0] != '\0') {
		append("; ");
	}
	append(text);
}
