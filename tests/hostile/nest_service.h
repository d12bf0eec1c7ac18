// SPDX-License-Identifier: MIT
// The Nest service of the hostile-input tests (protos/hostile.proto), and
// helpers that build deep messages without recursion.
#ifndef CORPC_TEST_NEST_SERVICE_H
#define CORPC_TEST_NEST_SERVICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <corpc/corpc.h>

#include "hostile.corpc.h"

typedef Corpc__Hostile__Node    Node;
typedef Corpc__Hostile__RawNode RawNode;

// Handlers entered, by every Nest method.
extern atomic_int nest_handlers_run;

extern const Corpc__Hostile__Nest_Server    nest_impl;
extern const Corpc__Hostile__RawNest_Server raw_nest_impl;

// A chain of `depth` + 1 nodes (the first is the top-level message, nested
// `depth` deep), in one allocation: free() it.
Node *nest_chain(unsigned depth);

// Wire bytes of a Node nested `depth` deep, in a malloc'd buffer of *len.
uint8_t *nest_wire(unsigned depth, size_t *len);

// Nesting of `n`, counted without recursion.
unsigned nest_depth(const Node *n);

#endif // CORPC_TEST_NEST_SERVICE_H
