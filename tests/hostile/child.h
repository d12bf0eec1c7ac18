// SPDX-License-Identifier: MIT
// The hostile-input tests' servers run in a child process (gRPC must not be
// forked, and a test reads the server's own descriptors and memory): the
// test binary starts itself with `--serve ARGS...`; the child prints one
// line (its address, and what else the test wants) and serves until its
// stdin closes.
#ifndef CORPC_TEST_CHILD_H
#define CORPC_TEST_CHILD_H

#include <stdio.h>
#include <sys/types.h>

typedef struct child {
	pid_t pid;
	int   to; // closing it ends the server
	FILE *from;
	char  line[256]; // the first line it printed
} child;

// Starts this executable as `exe --serve args[0] args[1] ...` (`args` ends
// with NULL) and reads its first line. Fails the test on error.
void child_start(child *ch, char *const *args);

// Closes the child's stdin and waits for it; it must exit with status 0.
void child_stop(child *ch);

// A "Key:  N kB" line of /proc/PID/status (key with its colon), in KiB;
// -1 if absent.
long child_status_kb(pid_t pid, const char *key);

#endif // CORPC_TEST_CHILD_H
