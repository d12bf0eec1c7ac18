// SPDX-License-Identifier: MIT
// Internal metadata helpers.
#ifndef CORPC_CORE_METADATA_IMPL_H
#define CORPC_CORE_METADATA_IMPL_H

#include "corpc/metadata.h"

// Replaces dst's entries with copies of src's (NULL src: dst becomes empty).
// Errors: CORPC_ENOMEM (dst then holds a prefix of src).
corpc_err corpc__metadata_copy(corpc_metadata *dst, const corpc_metadata *src);

// Creates *md if it is NULL, else clears it. Errors: CORPC_ENOMEM.
corpc_err corpc__metadata_reset(corpc_metadata **md);

#endif // CORPC_CORE_METADATA_IMPL_H
