// SPDX-License-Identifier: MIT
// corpc_load: load and soak tool for corpc servers (the Echo test service).
//   corpc_load --serve tcp://127.0.0.1:0 [options]  server in this process
//   corpc_load --addr tcp://HOST:PORT [options]      an external server
//   corpc_load --listen tcp://0.0.0.0:50051          only serve, until ^C
// options: --streams N (256) --threads N (4) --messages N (10)
//          --seconds S (5) --rounds N (1) --timeout-ms N (0: none)
//   corpc_load (--serve L | --addr A) --idle N [--unary M] [--server-pid P]
//          holds N idle bidi streams, makes M (1000) unary calls meanwhile,
//          reports their latency and the server's threads and RSS
// Each round prints streams done, messages/s, stream latency percentiles
// and errors by status; then RSS and open descriptors, to spot leaks.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "echo_service.h"
#include "load.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void) sig;
	stop = 1;
}

static corpc_server *
serve(const char *addr, echo_server *es)
{
	return echo_serve(addr, es, NULL);
}

static int
usage(const char *argv0)
{
	fprintf(stderr,
	    "usage: %s (--serve LISTEN | --addr ADDR | --listen LISTEN)\n"
	    "          [--streams N] [--threads N] [--messages N] [--seconds "
	    "S]\n"
	    "          [--rounds N] [--timeout-ms N]\n"
	    "       %s (--serve LISTEN | --addr ADDR) --idle N [--unary M]\n"
	    "          [--server-pid PID]\n",
	    argv0, argv0);
	return 2;
}

int
main(int argc, char **argv)
{
	load_opts o = {
	    .threads = 4, .streams = 256, .messages = 10, .seconds = 5};
	const char *serve_addr = NULL, *listen_only = NULL;
	int         rounds = 1;
	unsigned    idle = 0, unary = 1000;
	int         server_pid = 0;
	if (argc % 2 == 0) {
		return usage(argv[0]); // options come in pairs
	}
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--serve") == 0) {
			serve_addr = v;
		} else if (strcmp(a, "--addr") == 0) {
			o.addr = v;
		} else if (strcmp(a, "--listen") == 0) {
			listen_only = v;
		} else if (strcmp(a, "--streams") == 0) {
			o.streams = (unsigned) atoi(v);
		} else if (strcmp(a, "--threads") == 0) {
			o.threads = (unsigned) atoi(v);
		} else if (strcmp(a, "--messages") == 0) {
			o.messages = (unsigned) atoi(v);
		} else if (strcmp(a, "--seconds") == 0) {
			o.seconds = atof(v);
		} else if (strcmp(a, "--rounds") == 0) {
			rounds = atoi(v);
		} else if (strcmp(a, "--timeout-ms") == 0) {
			o.timeout_ms = atoll(v);
		} else if (strcmp(a, "--idle") == 0) {
			idle = (unsigned) atoi(v);
		} else if (strcmp(a, "--unary") == 0) {
			unary = (unsigned) atoi(v);
		} else if (strcmp(a, "--server-pid") == 0) {
			server_pid = atoi(v);
		} else {
			return usage(argv[0]);
		}
	}
	echo_server es = {0};
	echo_stats_reset(&es.stats);
	if (listen_only != NULL) {
		corpc_server *srv = serve(listen_only, &es);
		if (srv == NULL) {
			return 1;
		}
		printf("listening on %s\n", corpc_server_address(srv, 0));
		fflush(stdout);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		while (!stop) {
			pause();
		}
		corpc_server_shutdown(srv, 1000);
		corpc_server_destroy(srv);
		return 0;
	}
	corpc_server *srv = NULL;
	if (serve_addr != NULL) {
		if ((srv = serve(serve_addr, &es)) == NULL) {
			return 1;
		}
		o.addr = corpc_server_address(srv, 0);
	}
	if (o.addr != NULL && idle > 0) {
		int rc = load_idle(o.addr, idle, unary, server_pid);
		corpc_server_destroy(srv);
		return rc;
	}
	if (o.addr == NULL || o.streams == 0 || o.threads == 0 || rounds < 1) {
		return usage(argv[0]);
	}
	printf("corpc_load: %s, %u messages per stream, %.1f s per round\n",
	    o.addr, o.messages, o.seconds);
	int failed = 0;
	for (int r = 0; r < rounds; r++) {
		load_result res;
		if (!load_run(&o, &res)) {
			fprintf(stderr, "round %d could not run\n", r + 1);
			failed = 1;
			break;
		}
		load_print(&o, &res, r == 0);
		printf("  rss %zu KiB, fds %zu\n", load_rss_kib(),
		    load_open_fds());
		failed |= res.errors > 0;
	}
	corpc_server_destroy(srv);
	return failed;
}
