// SPDX-License-Identifier: MIT
// The README's complete example, built and run as a test so that the
// README stays true. Usage: greeter [ADDRESS] (default inproc://greeter).
#include <stdio.h>
#include <corpc/corpc.h>
#include "greet.corpc.h"

// The server: a handler per method, in a generated vtable.
static corpc_status_code
greet(void *self, corpc_ctx *ctx, const Demo__Hello *req)
{
	(void) self;
	char        text[64];
	Demo__Reply reply = DEMO__REPLY__INIT;
	reply.text        = text;
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "hello %s", req->name);
		reply.n = i;
		// Not retained: `reply` and `text` may change once write
		// returns.
		corpc_status_code rc =
		    demo__greeter__greet_write(ctx, &reply, 0);
		if (rc != CORPC_STATUS_OK) {
			return rc; // the client stopped early or the deadline
			           // passed
		}
	}
	corpc_ctx_set_trailer(ctx, "x-served-by", "demo", 4);
	return CORPC_STATUS_OK;
}

static const Demo__Greeter_Server greeter = {.greet = greet};

int
main(int argc, char **argv)
{
	const char   *addr = argc > 1 ? argv[1] : "inproc://greeter";
	corpc_server *srv;
	corpc_server_create(NULL, &srv);
	demo__greeter__register_server(srv, &greeter, NULL);
	corpc_health_enable(srv, NULL);     // grpc.health.v1.Health: SERVING
	corpc_reflection_enable(srv, NULL); // for grpcurl, Postman, evans
	if (corpc_server_listen(srv, addr) != CORPC_OK) {
		return 1;
	}
	corpc_server_start(srv);

	// The client: the same code for inproc://, tcp:// and unix://.
	corpc_channel *ch;
	corpc_channel_open(corpc_server_address(srv, 0), NULL, &ch);
	Demo__Hello hello    = DEMO__HELLO__INIT;
	hello.name           = "world";
	corpc_call_opts opts = {.timeout_ms = 1000};
	corpc_stream   *st;
	demo__greeter__greet_open(ch, &opts, &hello, &st);
	const Demo__Reply *r; // borrowed until the next recv
	while (demo__greeter__greet_recv(st, &r) == CORPC_STATUS_OK &&
	       r != NULL) {
		printf("%s #%d\n", r->text, r->n);
	}
	corpc_status status;
	corpc_stream_finish(st, &status);
	printf(
	    "status %s %s\n", corpc_status_name(status.code), status.message);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	corpc_server_destroy(srv);
	return status.code == CORPC_STATUS_OK ? 0 : 1;
}
