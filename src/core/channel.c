// SPDX-License-Identifier: MIT
// Channels: parse the address, pick the transport, delegate.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpc/runtime.h"
#include "core/channel.h"
#include "core/detail.h"
#include "core/fdlimit.h"

static corpc_err
channel_open(
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
	if ((rv = corpc__address_parse(address, &ch->addr)) == CORPC_OK) {
		rv = corpc__transport_for(&ch->addr, false, &ch->tp);
	}
	if (rv != CORPC_OK) {
		if (rv == CORPC_EADDRINVAL) {
			corpc__detail_set(CORPC__ADDRESS_FORMS);
		}
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

corpc_err
corpc_channel_open(
    const char *address, const corpc_channel_opts *opts, corpc_channel **out)
{
	corpc__detail_clear();
	if (address == NULL || out == NULL) {
		return corpc__detail_finish(CORPC_EINVAL, "open a channel");
	}
	return corpc__detail_finish(
	    channel_open(address, opts, out), "open a channel to %s", address);
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

corpc_channel_state
corpc_channel_get_state(corpc_channel *ch, bool try_to_connect)
{
	if (ch == NULL) {
		return CORPC_CHANNEL_SHUTDOWN;
	}
	return ch->tp->channel->c_state(ch->state, try_to_connect);
}

// How often a wait looks at the state: gRPC's watch would need a queue per
// waiter, and a task must not block its thread in one.
#define STATE_POLL_MS 10

bool
corpc_channel_wait_state_change(
    corpc_channel *ch, corpc_channel_state last, int64_t deadline)
{
	for (;;) {
		if (corpc_channel_get_state(ch, false) != last) {
			return true;
		}
		if (deadline != CORPC_DEADLINE_NONE &&
		    corpc_now() >= deadline) {
			return false;
		}
		corpc_sleep_ms(STATE_POLL_MS);
	}
}

const char *
corpc_channel_state_name(corpc_channel_state s)
{
	switch (s) {
	case CORPC_CHANNEL_IDLE:
		return "IDLE";
	case CORPC_CHANNEL_CONNECTING:
		return "CONNECTING";
	case CORPC_CHANNEL_READY:
		return "READY";
	case CORPC_CHANNEL_TRANSIENT_FAILURE:
		return "TRANSIENT_FAILURE";
	case CORPC_CHANNEL_SHUTDOWN:
		return "SHUTDOWN";
	}
	return "UNKNOWN";
}
