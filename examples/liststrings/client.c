// SPDX-License-Identifier: MIT
// liststrings_client: one List call to the server at ADDRESS; prints how
// many messages and strings arrived and the final status.
//   liststrings_client tcp://127.0.0.1:50051 [RESP_SIZE]
//   liststrings_client --serve inproc://list [RESP_SIZE]
// --serve first starts the server in this process on ADDRESS, which is what
// inproc:// needs; the calling code is the same for every transport.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list_service.h"

// Calls List on `address` and prints the outcome. Returns the final code.
static corpc_status_code
list_call(const char *address, int resp_size)
{
	corpc_channel *ch;
	corpc_err      err = corpc_channel_open(address, NULL, &ch);
	if (err != CORPC_OK) {
		fprintf(stderr, "%s: %s\n", address, corpc_strerror(err));
		return CORPC_STATUS_UNAVAILABLE;
	}
	List__V0__ListRequest req = LIST__V0__LIST_REQUEST__INIT;
	req.resp_size             = resp_size;
	corpc_stream *st;
	if ((err = list__v0__list_strings__list_open(ch, NULL, &req, &st)) !=
	    CORPC_OK) {
		fprintf(stderr, "open: %s\n", corpc_strerror(err));
		corpc_channel_close(ch);
		return CORPC_STATUS_INTERNAL;
	}

	// Each response is borrowed until the next recv.
	const List__V0__ListResponse *resp;
	size_t                        messages = 0, strings = 0;
	corpc_status_code             code;
	while ((code = list__v0__list_strings__list_recv(st, &resp)) ==
	           CORPC_STATUS_OK &&
	       resp != NULL) {
		messages++;
		strings += resp->n_strings;
	}
	// The end: code is the final status, and finish gives its message.
	corpc_status status;
	corpc_stream_finish(st, &status);
	printf("%zu messages, %zu strings, status %s%s%s\n", messages, strings,
	    corpc_status_name(status.code), *status.message ? ": " : "",
	    status.message);

	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	return status.code;
}

int
main(int argc, char **argv)
{
	int  i     = 1;
	bool serve = argc > 1 && strcmp(argv[1], "--serve") == 0;
	i += serve;
	if (i >= argc || argc > i + 2) {
		fprintf(stderr, "usage: %s [--serve] ADDRESS [RESP_SIZE]\n",
		    argv[0]);
		return 2;
	}
	const char *address   = argv[i];
	int         resp_size = i + 1 < argc ? atoi(argv[i + 1]) : 1;

	list_service *svc = NULL;
	corpc_server *srv = NULL;
	if (serve) {
		if (list_service_create(&svc) != CORPC_OK ||
		    list_server_start(svc, &address, 1, &srv) != CORPC_OK) {
			list_service_destroy(svc);
			return 1;
		}
		address = corpc_server_address(srv, 0); // tcp port 0 resolved
	}
	corpc_status_code code = list_call(address, resp_size);
	corpc_server_destroy(srv);
	list_service_destroy(svc);
	return code == CORPC_STATUS_OK ? 0 : 1;
}
