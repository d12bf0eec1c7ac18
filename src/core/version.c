// SPDX-License-Identifier: MIT
// corpc_version(): the version the library was built with.
#include "corpc/version.h"

const char *
corpc_version(void)
{
	return CORPC_VERSION_STRING;
}
