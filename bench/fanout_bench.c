// SPDX-License-Identifier: MIT
// fanout_bench: what embedding buys a fan-out proxy. The same data (the
// ListStrings reference workload: every backend streams 10,000 100-byte
// strings, RESP_SIZE per response) merged from 4 backends that are either
// in-process coroutine servers or tcp servers (in this process, over
// loopback). One op = open the fan-out (or the call to the proxy) and read
// the merged stream to its end: 40,000 strings. Prints the median and the
// best of --count ops (after two warm-up ops).
//
//   fanout_bench [--count N] [--size 1|10|100] [--backends K]
//                [--merge concat|interleave|sorted] [--impl a,b,...]
//
// Cases:
//   coro          corpc_fanout_open over K inproc:// coroutine backends
//   tcp           corpc_fanout_open over K tcp:// backends (reader threads)
//   tcp-inline    the same, pulled inline on the caller's thread
//   proxy-coro    a client calls a proxy on inproc:// (corpc_fanout_serve)
//                 whose backends are K coroutine servers
//   proxy-tcp     a client calls a proxy on tcp:// whose backends are K tcp
//                 servers: the all-network deployment
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list_service.h"

#define MAXB 64

typedef struct bench {
	int                count, size;
	size_t             k;
	corpc_fanout_merge merge;
	list_service      *svc;
	corpc_server      *coro_srv, *tcp_srv[MAXB];
	corpc_channel     *coro[MAXB], *tcp[MAXB];
	corpc_fanout_opts  proxy_opts;
	corpc_channel     *proxy_backends[MAXB];
	size_t             proxy_n;
} bench;

static int
by_first_string(
    const ProtobufCMessage *a, const ProtobufCMessage *b, void *user)
{
	(void) user;
	const List__V0__ListResponse *x = (const List__V0__ListResponse *) a;
	const List__V0__ListResponse *y = (const List__V0__ListResponse *) b;
	return strcmp(x->strings[0], y->strings[0]);
}

static corpc_status_code
proxy_list(void *self, corpc_ctx *ctx, const List__V0__ListRequest *req)
{
	bench *b = self;
	return corpc_fanout_serve(
	    ctx, b->proxy_backends, b->proxy_n, &req->base, &b->proxy_opts);
}

static const List__V0__ListStrings_Server proxy_impl = {.list = proxy_list};

// One fan-out op; returns the strings received (or 0 on a failed status).
static size_t
op_fanout(bench *b, corpc_channel **chans, corpc_fanout_pull pull)
{
	List__V0__ListRequest req = LIST__V0__LIST_REQUEST__INIT;
	req.resp_size             = b->size;
	corpc_fanout_opts opts    = {
	       .merge = b->merge, .pull = pull, .compare = by_first_string};
	corpc_fanout *fo;
	if (corpc_fanout_open(chans, b->k,
	        &list__v0__list_strings__list__method, NULL, &req.base, &opts,
	        &fo) != CORPC_OK) {
		return 0;
	}
	const ProtobufCMessage *m;
	size_t                  strings = 0;
	while (
	    corpc_fanout_recv(fo, &m, NULL) == CORPC_STATUS_OK && m != NULL) {
		strings += ((const List__V0__ListResponse *) m)->n_strings;
	}
	corpc_status_code code = corpc_fanout_finish(fo, NULL);
	corpc_fanout_destroy(fo);
	return code == CORPC_STATUS_OK ? strings : 0;
}

// One call through a proxy server at `ch`.
static size_t
op_proxy(bench *b, corpc_channel *ch)
{
	List__V0__ListRequest req = LIST__V0__LIST_REQUEST__INIT;
	req.resp_size             = b->size;
	corpc_stream *st;
	if (list__v0__list_strings__list_open(ch, NULL, &req, &st) !=
	    CORPC_OK) {
		return 0;
	}
	const List__V0__ListResponse *r;
	size_t                        strings = 0;
	while (list__v0__list_strings__list_recv(st, &r) == CORPC_STATUS_OK &&
	       r != NULL) {
		strings += r->n_strings;
	}
	corpc_status_code code = corpc_stream_finish(st, NULL);
	corpc_stream_destroy(st);
	return code == CORPC_STATUS_OK ? strings : 0;
}

static int
by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
	return (x > y) - (x < y);
}

typedef enum kind {
	K_CORO,
	K_TCP,
	K_TCP_INLINE,
	K_PROXY_CORO,
	K_PROXY_TCP
} kind;
static const char *const kind_names[] = {
    "coro", "tcp", "tcp-inline", "proxy-coro", "proxy-tcp"};

static bool
run_case(bench *b, kind k)
{
	corpc_server  *proxy = NULL;
	corpc_channel *pch   = NULL;
	if (k == K_PROXY_CORO || k == K_PROXY_TCP) {
		b->proxy_n = b->k;
		for (size_t i = 0; i < b->k; i++) {
			b->proxy_backends[i] =
			    k == K_PROXY_CORO ? b->coro[i] : b->tcp[i];
		}
		b->proxy_opts = (corpc_fanout_opts) {
		    .merge = b->merge, .compare = by_first_string};
		const char *addr = k == K_PROXY_CORO ? "inproc://bench-proxy"
		                                     : "tcp://127.0.0.1:0";
		if (corpc_server_create(NULL, &proxy) != CORPC_OK ||
		    list__v0__list_strings__register_server(
		        proxy, &proxy_impl, b) != CORPC_OK ||
		    corpc_server_listen(proxy, addr) != CORPC_OK ||
		    corpc_server_start(proxy) != CORPC_OK ||
		    corpc_channel_open(corpc_server_address(proxy, 0), NULL,
		        &pch) != CORPC_OK) {
			corpc_server_destroy(proxy);
			return false;
		}
	}
	size_t   want = b->k * LIST_STRINGS;
	int64_t *dts  = calloc((size_t) b->count, sizeof(*dts));
	bool     ok   = dts != NULL;
	for (int i = -2; i < b->count && ok; i++) { // two warm-up ops
		int64_t t0 = corpc_now();
		size_t  got;
		switch (k) {
		case K_CORO:
			got = op_fanout(b, b->coro, CORPC_FANOUT_PULL_AUTO);
			break;
		case K_TCP:
			got = op_fanout(b, b->tcp, CORPC_FANOUT_PULL_AUTO);
			break;
		case K_TCP_INLINE:
			got = op_fanout(b, b->tcp, CORPC_FANOUT_PULL_INLINE);
			break;
		default:
			got = op_proxy(b, pch);
			break;
		}
		int64_t dt = corpc_now() - t0;
		ok         = got == want;
		if (i >= 0) {
			dts[i] = dt;
		}
	}
	if (ok) {
		qsort(dts, (size_t) b->count, sizeof(*dts), by_value);
		double median = (double) dts[b->count / 2] / 1e6;
		printf("%-11s %3zu x %3d strings/resp  %9.3f ms/op median "
		       "(best %8.3f)  %8.2f Mstrings/s\n",
		    kind_names[k], b->k, b->size, median,
		    (double) dts[0] / 1e6, (double) want / (median * 1e3));
	} else {
		printf("%-11s FAILED (wrong string count or status)\n",
		    kind_names[k]);
	}
	free(dts);
	corpc_channel_close(pch);
	corpc_server_destroy(proxy);
	return ok;
}

static bool
start_backends(bench *b, bool *have_tcp)
{
	const char *addrs[1] = {"inproc://bench-backend"};
	if (list_service_create(&b->svc) != CORPC_OK ||
	    list_server_start(b->svc, addrs, 1, &b->coro_srv) != CORPC_OK) {
		return false;
	}
	*have_tcp = true;
	for (size_t i = 0; i < b->k; i++) {
		corpc_channel_open(addrs[0], NULL, &b->coro[i]);
		const char *tcp[1] = {"tcp://127.0.0.1:0"};
		if (*have_tcp && list_server_start(b->svc, tcp, 1,
		                     &b->tcp_srv[i]) == CORPC_OK) {
			corpc_channel_open(
			    corpc_server_address(b->tcp_srv[i], 0), NULL,
			    &b->tcp[i]);
		} else {
			*have_tcp = false;
		}
	}
	return true;
}

int
main(int argc, char **argv)
{
	static bench b = {
	    .count = 20, .size = 1, .k = 4, .merge = CORPC_FANOUT_INTERLEAVE};
	const char *impl = "coro,tcp,tcp-inline,proxy-coro,proxy-tcp";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--count") == 0) {
			b.count = atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "--size") == 0) {
			b.size = atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "--backends") == 0) {
			b.k = (size_t) atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "--impl") == 0) {
			impl = argv[i + 1];
		} else if (strcmp(argv[i], "--merge") == 0) {
			b.merge = strcmp(argv[i + 1], "concat") == 0
			              ? CORPC_FANOUT_CONCAT
			          : strcmp(argv[i + 1], "sorted") == 0
			              ? CORPC_FANOUT_SORTED
			              : CORPC_FANOUT_INTERLEAVE;
		} else {
			fprintf(stderr,
			    "usage: %s [--count N] [--size 1|10|100] "
			    "[--backends K] [--merge M] [--impl a,b]\n",
			    argv[0]);
			return 2;
		}
	}
	if (b.count < 1 || b.k < 1 || b.k > MAXB) {
		return 2;
	}
	bool have_tcp;
	if (!start_backends(&b, &have_tcp)) {
		return 1;
	}
	bool ok = true;
	for (int k = 0; k <= K_PROXY_TCP; k++) {
		char list[256];
		snprintf(list, sizeof(list), ",%s,", impl);
		char name[32];
		snprintf(name, sizeof(name), ",%s,", kind_names[k]);
		if (strstr(list, name) == NULL) {
			continue;
		}
		bool tcp = k == K_TCP || k == K_TCP_INLINE || k == K_PROXY_TCP;
		if (tcp && !have_tcp) {
			printf("%-11s skipped: tcp:// not built\n",
			    kind_names[k]);
			continue;
		}
		ok = run_case(&b, (kind) k) && ok;
	}
	for (size_t i = 0; i < b.k; i++) {
		corpc_channel_close(b.coro[i]);
		corpc_channel_close(b.tcp[i]);
		corpc_server_destroy(b.tcp_srv[i]);
	}
	corpc_server_destroy(b.coro_srv);
	list_service_destroy(b.svc);
	return ok ? 0 : 1;
}
