// SPDX-License-Identifier: MIT
// Names of status codes and library errors, from the X-macros in status.h.
#include "corpc/status.h"
#include "corpc/method.h"

const char *
corpc_status_name(corpc_status_code code)
{
	switch (code) {
#define CORPC_STATUS_CASE_(name, value)                                       \
	case CORPC_STATUS_##name:                                             \
		return #name;
		CORPC_STATUS_CODES(CORPC_STATUS_CASE_)
#undef CORPC_STATUS_CASE_
	}
	return "UNKNOWN";
}

const char *
corpc_strerror(corpc_err err)
{
	switch (err) {
#define CORPC_ERR_TEXT_(name, text)                                           \
	case CORPC_##name:                                                    \
		return text;
		CORPC_ERRORS(CORPC_ERR_TEXT_)
#undef CORPC_ERR_TEXT_
	}
	return "unknown error";
}

const char *
corpc_err_name(corpc_err err)
{
	switch (err) {
#define CORPC_ERR_NAME_(name, text)                                           \
	case CORPC_##name:                                                    \
		return "CORPC_" #name;
		CORPC_ERRORS(CORPC_ERR_NAME_)
#undef CORPC_ERR_NAME_
	}
	return "CORPC_E?";
}

const char *
corpc_rpc_kind_name(corpc_rpc_kind kind)
{
	switch (kind) {
	case CORPC_RPC_UNARY:
		return "unary";
	case CORPC_RPC_SERVER_STREAMING:
		return "server_streaming";
	case CORPC_RPC_CLIENT_STREAMING:
		return "client_streaming";
	case CORPC_RPC_BIDI_STREAMING:
		return "bidi_streaming";
	}
	return "unknown";
}
