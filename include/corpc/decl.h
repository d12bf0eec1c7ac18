// SPDX-License-Identifier: MIT
// corpc: symbol visibility. Every public function is marked CORPC_DECL;
// everything else in the shared library is hidden.
#ifndef CORPC_DECL_H
#define CORPC_DECL_H

#if defined(CORPC_STATIC)
#define CORPC_DECL
#elif defined(__GNUC__)
#define CORPC_DECL __attribute__((visibility("default")))
#else
#define CORPC_DECL
#endif

#endif // CORPC_DECL_H
