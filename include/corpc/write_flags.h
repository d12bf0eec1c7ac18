// SPDX-License-Identifier: MIT
// corpc: the flags of a send that both sides take (corpc_stream_send on the
// client, corpc_ctx_send in a handler, and the generated _send and _write
// wrappers). A handler's own flag, CORPC_WRITE_STABLE, is in server.h.
#ifndef CORPC_WRITE_FLAGS_H
#define CORPC_WRITE_FLAGS_H

// More messages follow at once: the transport may batch this one with them
// instead of flushing it.
#define CORPC_WRITE_MORE 0x1u
// This message goes uncompressed even when the call compresses (e.g. it
// holds secrets next to attacker-chosen text, or is already compressed).
// Network transports only; in-process ones never compress.
#define CORPC_WRITE_NO_COMPRESS 0x4u

#endif // CORPC_WRITE_FLAGS_H
