// SPDX-License-Identifier: MIT
// The network transport: tcp:// and unix:// over gRPC's C core. This is
// the only symbol transport.c needs from this folder.
#include "transport/grpc/grpc_common.h"

const corpc__transport corpc__grpc_transport = {
    .name     = "grpc",
    .channel  = &corpc__grpc_channel_ops,
    .listener = &corpc__grpc_listener_ops,
};
