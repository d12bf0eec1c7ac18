// SPDX-License-Identifier: MIT
// An out-of-tree program on an installed corpc: serves shop.Switch and calls
// Register (a Timestamp in and out) and Delete (Empty back) on each address
// given, then checks the version and the C++ side (cxx.cc). Prints "ok ADDR"
// per address; exits non-zero on any failure.
#include <stdio.h>
#include <string.h>

#include <corpc/corpc.h>

#include "kw.corpc.h"

// cxx.cc: the same generated header compiled as C++.
const char *consumer_cxx_path(void);

static corpc_status_code
shop_register(void *self, corpc_ctx *ctx, const Shop__Item *req)
{
	(void) self;
	Google__Protobuf__Timestamp added = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Shop__Item                  resp  = SHOP__ITEM__INIT;
	added.seconds = req->added != NULL ? req->added->seconds + 60 : 0;
	resp.name     = req->name;
	resp.added    = &added;
	return shop__switch__register_write(ctx, &resp, 0);
}

static corpc_status_code
shop_delete(void *self, corpc_ctx *ctx, const Shop__Item *req)
{
	(void) self;
	if (strcmp(req->name, "gone") != 0) {
		return CORPC_STATUS_NOT_FOUND;
	}
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	return shop__switch__delete_write(ctx, &empty, 0);
}

static const Shop__Switch_Server shop = {
    .register_ = shop_register,
    .delete_   = shop_delete,
};

static int
call(corpc_channel *ch)
{
	corpc_call_opts             opts = {.timeout_ms = 5000};
	Google__Protobuf__Timestamp at   = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Shop__Item                  in   = SHOP__ITEM__INIT;
	at.seconds                       = 1000;
	in.name                          = "gone";
	in.added                         = &at;
	const Shop__Item *out            = NULL;
	corpc_stream     *st             = NULL;
	corpc_status_code rc =
	    shop__switch__register_call(ch, &opts, &in, &out, &st);
	int ok = rc == CORPC_STATUS_OK && out != NULL && out->added != NULL &&
	         out->added->seconds == 1060 && strcmp(out->name, "gone") == 0;
	corpc_stream_destroy(st);

	const Google__Protobuf__Empty *empty = NULL;
	st                                   = NULL;
	rc = shop__switch__delete_call(ch, &opts, &in, &empty, &st);
	ok = ok && rc == CORPC_STATUS_OK && empty != NULL;
	corpc_stream_destroy(st);
	return ok;
}

int
main(int argc, char **argv)
{
	if (strcmp(corpc_version(), CORPC_VERSION_STRING) != 0 ||
	    strcmp(consumer_cxx_path(), "/shop.Switch/Register") != 0) {
		fprintf(
		    stderr, "version %s or C++ side wrong\n", corpc_version());
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		corpc_server  *srv = NULL;
		corpc_channel *ch  = NULL;
		int ok = corpc_server_create(NULL, &srv) == CORPC_OK &&
		         shop__switch__register_server(srv, &shop, NULL) ==
		             CORPC_OK &&
		         corpc_server_listen(srv, argv[i]) == CORPC_OK &&
		         corpc_server_start(srv) == CORPC_OK &&
		         corpc_channel_open(corpc_server_address(srv, 0), NULL,
		             &ch) == CORPC_OK &&
		         call(ch);
		if (ch != NULL) {
			corpc_channel_close(ch);
		}
		corpc_server_destroy(srv);
		if (!ok) {
			fprintf(stderr, "calls on %s failed\n", argv[i]);
			return 1;
		}
		printf("ok %s\n", argv[i]);
	}
	return 0;
}
