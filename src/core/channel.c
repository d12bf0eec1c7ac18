// SPDX-License-Identifier: MIT
// Channels: parse the address, pick the transport, delegate.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/channel.h"
#include "core/fdlimit.h"

corpc_err
corpc_channel_open(
    const char *address, const corpc_channel_opts *opts, corpc_channel **out)
{
	corpc_err rv;
	if (address == NULL || out == NULL) {
		return CORPC_EINVAL;
	}
	corpc__fd_limit_raise();
	*out              = NULL;
	corpc_channel *ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		return CORPC_ENOMEM;
	}
	if ((rv = corpc__address_parse(address, &ch->addr)) != CORPC_OK ||
	    (rv = corpc__transport_for(&ch->addr, false, &ch->tp)) !=
	        CORPC_OK) {
		free(ch);
		return rv;
	}
	snprintf(ch->text, sizeof(ch->text), "%s", address);
	if (opts != NULL) {
		ch->opts = *opts;
	}
	if (ch->opts.max_message_size == 0) {
		ch->opts.max_message_size = 4u << 20;
	}
	rv = ch->tp->channel->c_open(ch, &ch->addr, &ch->opts, &ch->state);
	if (rv != CORPC_OK) {
		free(ch);
		return rv;
	}
	*out = ch;
	return CORPC_OK;
}

void
corpc_channel_close(corpc_channel *ch)
{
	if (ch == NULL) {
		return;
	}
	ch->tp->channel->c_close(ch->state);
	free(ch);
}

const char *
corpc_channel_address(const corpc_channel *ch)
{
	return ch != NULL ? ch->text : "";
}
