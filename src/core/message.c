// SPDX-License-Identifier: MIT
// The public face of the internal deep copy (clone.h).
#include "corpc/message.h"
#include "core/clone.h"
#include "core/depth.h"

corpc_err
corpc_message_clone(const ProtobufCMessage *msg, ProtobufCMessage **out)
{
	if (out != NULL) {
		*out = NULL;
	}
	if (msg == NULL || out == NULL) {
		return CORPC_EINVAL;
	}
	bool too_deep = false;
	*out =
	    corpc__msg_clone(msg, NULL, CORPC__DEFAULT_MAX_DEPTH, &too_deep);
	if (*out == NULL) {
		return too_deep ? CORPC_EINVAL : CORPC_ENOMEM;
	}
	return CORPC_OK;
}

void
corpc_message_free(ProtobufCMessage *msg)
{
	if (msg != NULL) {
		protobuf_c_message_free_unpacked(msg, NULL);
	}
}
