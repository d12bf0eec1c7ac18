// SPDX-License-Identifier: MIT
// corpc: gRPC for C, with the same API in-process and over the network.
// This umbrella header includes the whole public API.
#ifndef CORPC_CORPC_H
#define CORPC_CORPC_H

#include "corpc/bearer.h"
#include "corpc/runtime.h"
#include "corpc/client.h"
#include "corpc/interceptor.h"
#include "corpc/log.h"
#include "corpc/message.h"
#include "corpc/fanout.h"
#include "corpc/health.h"
#include "corpc/metadata.h"
#include "corpc/method.h"
#include "corpc/reflection.h"
#include "corpc/server.h"
#include "corpc/status.h"
#include "corpc/tls.h"
#include "corpc/version.h"

#endif // CORPC_CORPC_H
