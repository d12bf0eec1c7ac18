// SPDX-License-Identifier: MIT
// liststrings_server: serves ListStrings on every address given, until
// SIGINT or SIGTERM, then shuts down gracefully.
//   liststrings_server tcp://0.0.0.0:50051 unix:///tmp/ls.sock
#include <signal.h>
#include <stdio.h>

#include "list_service.h"

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s ADDRESS...\n", argv[0]);
		return 2;
	}
	// Block the stop signals before any thread starts, then wait for them.
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	list_service *svc;
	corpc_server *srv;
	if (list_service_create(&svc) != CORPC_OK) {
		return 1;
	}
	if (list_server_start(svc, (const char *const *) argv + 1,
	        (size_t) argc - 1, &srv) != CORPC_OK) {
		list_service_destroy(svc);
		return 1;
	}
	for (size_t i = 0; corpc_server_address(srv, i) != NULL; i++) {
		printf("listening on %s\n", corpc_server_address(srv, i));
	}
	fflush(stdout);

	int sig;
	sigwait(&stop, &sig);
	printf("%s: shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	corpc_server_shutdown(srv, 5000); // calls in flight get 5 s
	corpc_server_destroy(srv);
	list_service_destroy(svc);
	return 0;
}
