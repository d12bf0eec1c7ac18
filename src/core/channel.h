// SPDX-License-Identifier: MIT
// Internal: a channel is its address and the transport that serves it.
#ifndef CORPC_CORE_CHANNEL_H
#define CORPC_CORE_CHANNEL_H

#include "corpc/client.h"
#include "transport/transport.h"

struct corpc_channel {
	const corpc__transport *tp;
	void                   *state; // the transport's channel state
	corpc__address          addr;
	char                    text[CORPC__ADDR_MAX + 32];
	corpc_channel_opts      opts;
};

#endif // CORPC_CORE_CHANNEL_H
