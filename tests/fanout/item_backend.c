// SPDX-License-Identifier: MIT
// The fan-out tests' Items backends and helpers.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "item_backend.h"

static void
sleep_ms(int ms)
{
	if (ms > 0) {
		struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}

static void
note_request(item_backend *ib, corpc_ctx *ctx,
    const Corpc__Fanouttest__ListRequest *req)
{
	if (corpc_ctx_deadline(ctx) != CORPC_DEADLINE_NONE) {
		atomic_store(&ib->saw_deadline, 1);
	}
	const corpc_metadata_entry *e =
	    corpc_metadata_get(corpc_ctx_metadata(ctx), "x-trace");
	if (e != NULL && strcmp(e->value, "t1") == 0) {
		atomic_store(&ib->saw_trace, 1);
	}
	if (req->tag != NULL && strcmp(req->tag, "fan") == 0) {
		atomic_store(&ib->saw_tag, 1);
	}
}

static corpc_status_code
item_list(
    void *self, corpc_ctx *ctx, const Corpc__Fanouttest__ListRequest *req)
{
	item_backend *ib = self;
	atomic_fetch_add(&ib->started, 1);
	atomic_fetch_add(&ib->live, 1);
	void *resource =
	    malloc(64); // leaks show under LSan if cleanup is skipped
	note_request(ib, ctx, req);
	corpc_status_code       rc = CORPC_STATUS_OK;
	char                    value[32];
	Corpc__Fanouttest__Item item = CORPC__FANOUTTEST__ITEM__INIT;
	item.value                   = value;
	item.backend                 = ib->id;
	item.tag                     = req->tag;
	atomic_store(&ib->item_addr, (const void *) &item);
	size_t n = ib->fail_after >= 0 && (size_t) ib->fail_after < ib->n_keys
	               ? (size_t) ib->fail_after
	               : ib->n_keys;
	for (size_t i = 0; i < n; i++) {
		sleep_ms(ib->delay_ms);
		item.key = ib->keys[i];
		snprintf(value, sizeof(value), "v%lld", (long long) item.key);
		rc = corpc__fanouttest__items__list_write(ctx, &item, 0);
		if (rc != CORPC_STATUS_OK) {
			atomic_store(&ib->last_send, (int) rc);
			break;
		}
		atomic_fetch_add(&ib->sent, 1);
	}
	if (rc == CORPC_STATUS_OK && ib->fail_after >= 0) {
		rc = corpc_ctx_error(ctx, (corpc_status_code) ib->fail_code,
		    "backend %d failed", ib->id);
	}
	free(resource);
	atomic_fetch_sub(&ib->live, 1);
	atomic_fetch_add(&ib->finished, 1);
	return rc;
}

const Corpc__Fanouttest__Items_Server item_impl = {.list = item_list};

void
item_backends_reset(item_backend *bs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		atomic_store(&bs[i].started, 0);
		atomic_store(&bs[i].finished, 0);
		atomic_store(&bs[i].live, 0);
		atomic_store(&bs[i].sent, 0);
		atomic_store(&bs[i].last_send, -1);
		atomic_store(&bs[i].saw_deadline, 0);
		atomic_store(&bs[i].saw_trace, 0);
		atomic_store(&bs[i].saw_tag, 0);
	}
}

item_backend *
item_backends_start(
    size_t n, const char *addr_fmt, const char *tag, corpc_err *err)
{
	item_backend *bs = calloc(n, sizeof(*bs));
	corpc_err     rv = bs == NULL ? CORPC_ENOMEM : CORPC_OK;
	for (size_t i = 0; i < n && rv == CORPC_OK; i++) {
		item_backend *ib = &bs[i];
		ib->id           = (int) i;
		ib->fail_after   = -1;
		char addr[128];
		if (strcmp(addr_fmt, "tcp") == 0) {
			snprintf(addr, sizeof(addr), "tcp://127.0.0.1:0");
		} else {
			snprintf(addr, sizeof(addr), addr_fmt, tag, i);
		}
		if ((rv = corpc_server_create(NULL, &ib->srv)) != CORPC_OK ||
		    (rv = corpc__fanouttest__items__register_server(
		         ib->srv, &item_impl, ib)) != CORPC_OK ||
		    (rv = corpc_server_listen(ib->srv, addr)) != CORPC_OK ||
		    (rv = corpc_server_start(ib->srv)) != CORPC_OK) {
			break;
		}
		rv = corpc_channel_open(
		    corpc_server_address(ib->srv, 0), NULL, &ib->ch);
	}
	if (err != NULL) {
		*err = rv;
	}
	if (rv != CORPC_OK) {
		item_backends_stop(bs, n);
		return NULL;
	}
	item_backends_reset(bs, n);
	return bs;
}

void
item_backends_stop(item_backend *bs, size_t n)
{
	for (size_t i = 0; bs != NULL && i < n; i++) {
		corpc_channel_close(bs[i].ch);
		corpc_server_destroy(bs[i].srv);
	}
	free(bs);
}

void
item_backends_channels(item_backend *bs, size_t n, corpc_channel **chans)
{
	for (size_t i = 0; i < n; i++) {
		chans[i] = bs[i].ch;
	}
}

corpc_status_code
item_collect(corpc_fanout *fo, item_out *out, size_t cap, size_t *count)
{
	const ProtobufCMessage *m;
	size_t                  from;
	corpc_status_code       rc;
	*count = 0;
	while ((rc = corpc_fanout_recv(fo, &m, &from)) == CORPC_STATUS_OK &&
	       m != NULL) {
		const Corpc__Fanouttest__Item *it =
		    (const Corpc__Fanouttest__Item *) m;
		if (*count < cap) {
			out[*count] = (item_out) {it->key, it->backend, from};
		}
		(*count)++;
	}
	return rc;
}

bool
item_backends_quiet(item_backend *bs, size_t n)
{
	for (int tries = 0; tries < 500; tries++) {
		bool quiet = true;
		for (size_t i = 0; i < n; i++) {
			quiet = quiet && atomic_load(&bs[i].live) == 0 &&
			        atomic_load(&bs[i].finished) ==
			            atomic_load(&bs[i].started);
		}
		if (quiet) {
			return true;
		}
		sleep_ms(10);
	}
	return false;
}

int
item_cmp(const ProtobufCMessage *a, const ProtobufCMessage *b, void *user)
{
	(void) user;
	int64_t x = ((const Corpc__Fanouttest__Item *) a)->key;
	int64_t y = ((const Corpc__Fanouttest__Item *) b)->key;
	return (x > y) - (x < y);
}

size_t
item_key(const ProtobufCMessage *m, void *buf, size_t cap, void *user)
{
	(void) user;
	int64_t k = ((const Corpc__Fanouttest__Item *) m)->key;
	if (cap >= sizeof(k)) {
		memcpy(buf, &k, sizeof(k));
	}
	return sizeof(k);
}

bool
item_tcp_available(void)
{
	corpc_server *srv;
	if (corpc_server_create(NULL, &srv) != CORPC_OK) {
		return false;
	}
	corpc_err rv = corpc_server_listen(srv, "tcp://127.0.0.1:0");
	corpc_server_destroy(srv);
	if (rv != CORPC_OK) {
		printf("tcp:// not available (%s): skipping\n",
		    corpc_err_name(rv));
	}
	return rv == CORPC_OK;
}
