// SPDX-License-Identifier: MIT
// corpc: the library's version. The numbers here are the only copy: the
// top-level CMakeLists.txt reads them for the project, the shared library's
// version and the packages.
#ifndef CORPC_VERSION_H
#define CORPC_VERSION_H

#include "corpc/decl.h"

#ifdef __cplusplus
extern "C" {
#endif

// The version of the headers being compiled against (semantic versioning;
// while MAJOR is 0, a MINOR release may change the API).
#define CORPC_VERSION_MAJOR 0
#define CORPC_VERSION_MINOR 1
#define CORPC_VERSION_PATCH 0

// The headers' version as a string literal, "MAJOR.MINOR.PATCH".
#define CORPC_VERSION_STRING                                                  \
	CORPC_VERSION_STR_(CORPC_VERSION_MAJOR)                               \
	"." CORPC_VERSION_STR_(CORPC_VERSION_MINOR) "." CORPC_VERSION_STR_(   \
	    CORPC_VERSION_PATCH)
#define CORPC_VERSION_STR_(x)  CORPC_VERSION_STR__(x)
#define CORPC_VERSION_STR__(x) #x

// The headers' version as one comparable number (MAJOR * 10000 + MINOR * 100
// + PATCH), e.g. `#if CORPC_VERSION_NUMBER >= 100` for 0.1.0 or later.
#define CORPC_VERSION_NUMBER                                                  \
	(CORPC_VERSION_MAJOR * 10000 + CORPC_VERSION_MINOR * 100 +            \
	    CORPC_VERSION_PATCH)

// Returns the version of the library linked at run time, "MAJOR.MINOR.PATCH"
// (a static string; never NULL). It differs from the CORPC_VERSION_* macros
// when the program was compiled against other headers than the library it
// runs with. Thread-safe; callable before any other corpc function.
CORPC_DECL const char *corpc_version(void);

#ifdef __cplusplus
}
#endif

#endif // CORPC_VERSION_H
