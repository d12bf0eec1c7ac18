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

corpc_err
corpc__detail_finish(corpc_err rv, const char *fmt, ...)
{
	if (rv == CORPC_OK) {
		return rv;
	}
	char old[DETAIL_MAX];
	snprintf(old, sizeof(old), "%s",
	    detail[0] != '\0' ? detail : corpc_strerror(rv));
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t) n < sizeof(detail)) {
		size_t used = (size_t) n;
		size_t room = sizeof(detail) - used;
		int    m    = snprintf(detail + used, room, ": %s", old);
		(void) m; // truncated details are still useful
	}
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
	size_t n = strlen(detail);
	if (n + 3 < sizeof(detail)) {
		snprintf(detail + n, sizeof(detail) - n, "%s%s",
		    n > 0 ? "; " : "", text);
	}
}
