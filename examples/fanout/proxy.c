// SPDX-License-Identifier: MIT
// fanout_proxy: a ListStrings proxy. Each List call is fanned out to every
// backend (any mix of tcp://, unix:// and inproc:// addresses) and their
// streams come back merged, zero copy, through corpc_fanout_serve.
//
//   fanout_proxy [--merge concat|interleave|sorted] [--continue]
//                [--embed NAME]... [--listen ADDRESS]... [--call RESP_SIZE]
//                BACKEND...
//
//   --embed NAME  also run a ListStrings server in this process on
//                 inproc://NAME and use it as a backend (coroutine handoff)
//   --listen      where the proxy serves (default tcp://127.0.0.1:50060 and
//                 inproc://fanout)
//   --call N      call the proxy once (on its last listen address) with
//                 resp_size N, print the outcome and exit, instead of
//                 serving until SIGINT/SIGTERM
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list_service.h"

#define MAX_ADDRS 64

typedef struct proxy {
	corpc_channel    *backends[MAX_ADDRS];
	size_t            n;
	corpc_fanout_opts opts;
} proxy;

// The whole proxy: the same method, answered by the merged backends.
static corpc_status_code
proxy_list(void *self, corpc_ctx *ctx, const List__V0__ListRequest *req)
{
	const proxy *p = self;
	return corpc_fanout_serve(
	    ctx, p->backends, p->n, &req->base, &p->opts);
}

static const List__V0__ListStrings_Server proxy_impl = {.list = proxy_list};

// SORTED: by the first string of each response.
static int
by_first_string(
    const ProtobufCMessage *a, const ProtobufCMessage *b, void *user)
{
	(void) user;
	const List__V0__ListResponse *x = (const List__V0__ListResponse *) a;
	const List__V0__ListResponse *y = (const List__V0__ListResponse *) b;
	return strcmp(x->n_strings ? x->strings[0] : "",
	    y->n_strings ? y->strings[0] : "");
}

typedef struct args {
	const char *embed[MAX_ADDRS], *listen[MAX_ADDRS], *backend[MAX_ADDRS];
	size_t      n_embed, n_listen, n_backend;
	int         call; // resp_size, or -1 to serve
} args;

static int
usage(const char *argv0)
{
	fprintf(stderr,
	    "usage: %s [--merge concat|interleave|sorted] [--continue] "
	    "[--embed NAME]... [--listen ADDRESS]... [--call RESP_SIZE] "
	    "BACKEND...\n",
	    argv0);
	return 2;
}

static bool
parse(int argc, char **argv, args *a, proxy *p)
{
	a->call = -1;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i],
		           *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--continue") == 0) {
			p->opts.on_error = CORPC_FANOUT_CONTINUE;
			continue;
		}
		bool takes =
		    strcmp(o, "--merge") == 0 || strcmp(o, "--embed") == 0 ||
		    strcmp(o, "--listen") == 0 || strcmp(o, "--call") == 0;
		if (takes && v == NULL) {
			return false;
		}
		if (a->n_embed + a->n_backend >= MAX_ADDRS ||
		    a->n_listen >= MAX_ADDRS) {
			return false;
		}
		if (strcmp(o, "--merge") == 0) {
			p->opts.merge = strcmp(v, "interleave") == 0
			                    ? CORPC_FANOUT_INTERLEAVE
			                : strcmp(v, "sorted") == 0
			                    ? CORPC_FANOUT_SORTED
			                    : CORPC_FANOUT_CONCAT;
		} else if (strcmp(o, "--embed") == 0) {
			a->embed[a->n_embed++] = v;
		} else if (strcmp(o, "--listen") == 0) {
			a->listen[a->n_listen++] = v;
		} else if (strcmp(o, "--call") == 0) {
			a->call = atoi(v);
		} else if (o[0] == '-') {
			return false;
		} else {
			a->backend[a->n_backend++] = o;
			continue;
		}
		i++;
	}
	if (a->n_listen == 0) {
		a->listen[a->n_listen++] = "tcp://127.0.0.1:50060";
		a->listen[a->n_listen++] = "inproc://fanout";
	}
	p->opts.compare = by_first_string;
	return a->n_embed + a->n_backend > 0;
}

// One List call through the proxy; prints what a client sees.
static corpc_status_code
call_once(const char *address, int resp_size)
{
	corpc_channel *ch;
	if (corpc_channel_open(address, NULL, &ch) != CORPC_OK) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	List__V0__ListRequest req = LIST__V0__LIST_REQUEST__INIT;
	req.resp_size             = resp_size;
	corpc_stream                 *st;
	const List__V0__ListResponse *resp;
	size_t                        messages = 0, strings = 0;
	list__v0__list_strings__list_open(ch, NULL, &req, &st);
	while (
	    list__v0__list_strings__list_recv(st, &resp) == CORPC_STATUS_OK &&
	    resp != NULL) {
		messages++;
		strings += resp->n_strings;
	}
	corpc_status status;
	corpc_stream_finish(st, &status);
	const corpc_metadata_entry *failed = corpc_metadata_get(
	    corpc_stream_trailers(st), CORPC_FANOUT_FAILED_KEY);
	printf("via %s: %zu messages, %zu strings, status %s%s%s\n", address,
	    messages, strings, corpc_status_name(status.code),
	    *status.message ? ": " : "", status.message);
	if (failed != NULL) {
		printf("failed backends (index:code): %s\n", failed->value);
	}
	corpc_status_code code = status.code;
	corpc_stream_destroy(st);
	corpc_channel_close(ch);
	return code;
}

int
main(int argc, char **argv)
{
	static proxy p;
	static args  a;
	if (!parse(argc, argv, &a, &p)) {
		return usage(argv[0]);
	}
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	// Embedded backends: an ordinary ListStrings server in this process.
	list_service *svc   = NULL;
	corpc_server *local = NULL;
	char          names[MAX_ADDRS][128];
	const char   *local_addrs[MAX_ADDRS];
	for (size_t i = 0; i < a.n_embed; i++) {
		snprintf(
		    names[i], sizeof(names[i]), "inproc://%s", a.embed[i]);
		local_addrs[i] = names[i];
	}
	if (a.n_embed > 0 && (list_service_create(&svc) != CORPC_OK ||
	                         list_server_start(svc, local_addrs, a.n_embed,
	                             &local) != CORPC_OK)) {
		return 1;
	}

	// One channel per backend, embedded ones first.
	int rc = 1;
	for (size_t i = 0; i < a.n_embed + a.n_backend; i++) {
		const char *addr =
		    i < a.n_embed ? local_addrs[i] : a.backend[i - a.n_embed];
		corpc_err err =
		    corpc_channel_open(addr, NULL, &p.backends[p.n]);
		if (err != CORPC_OK) {
			fprintf(stderr, "backend %s: %s\n", addr,
			    corpc_strerror(err));
			goto out;
		}
		printf("backend %zu: %s\n", p.n++, addr);
	}

	corpc_server *srv;
	if (corpc_server_create(NULL, &srv) != CORPC_OK) {
		goto out;
	}
	list__v0__list_strings__register_server(srv, &proxy_impl, &p);
	for (size_t i = 0; i < a.n_listen; i++) {
		corpc_err err = corpc_server_listen(srv, a.listen[i]);
		if (err != CORPC_OK) {
			fprintf(stderr, "listen %s: %s\n", a.listen[i],
			    corpc_strerror(err));
			corpc_server_destroy(srv);
			goto out;
		}
		printf(
		    "proxy listening on %s\n", corpc_server_address(srv, i));
	}
	corpc_server_start(srv);
	fflush(stdout);
	if (a.call >= 0) {
		rc = call_once(corpc_server_address(srv, a.n_listen - 1),
		         a.call) == CORPC_STATUS_OK
		         ? 0
		         : 1;
	} else {
		int sig;
		sigwait(&stop, &sig);
		rc = 0;
	}
	corpc_server_shutdown(srv, 5000);
	corpc_server_destroy(srv);
out:
	for (size_t i = 0; i < p.n; i++) {
		corpc_channel_close(p.backends[i]);
	}
	corpc_server_destroy(local);
	list_service_destroy(svc);
	return rc;
}
