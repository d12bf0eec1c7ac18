// SPDX-License-Identifier: MIT
// Coroutine stack guards: a handler whose frame is larger than its stack
// (a 300 KiB local array on a 256 KiB stack) and one that recurses without
// end must each die of SIGSEGV in their own guard region, not write over
// whatever lies below (another call's stack). Each case runs in a forked
// child, before this process has made a thread. Built, like corpc, with
// -fstack-clash-protection; the guard below each stack is 64 KiB.
//
// corpc's report names the method on stderr before the process dies. Under a
// sanitizer, the sanitizer's SEGV handler reports the overflow instead and
// exits non-zero rather than dying of the signal; either counts as the fault.
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nest_service.h"

#define BIG_FRAME (300 * 1024)

// A frame larger than the whole stack, written lowest address first: its
// start lies about 44 KiB below the 256 KiB stack, past a one-page guard
// (into a neighbour, before) but inside the 64 KiB one. (Built with
// -fstack-clash-protection the frame's pages are probed even before.)
static corpc_status_code
big_frame_h(corpc_ctx *ctx, const void *impl, void *self)
{
	(void) impl;
	(void) self;
	volatile char buf[BIG_FRAME];
	for (size_t i = 0; i < BIG_FRAME; i++) {
		buf[i] = (char) i;
	}
	return buf[7] == 7 ? CORPC_STATUS_OK : corpc_ctx_error(ctx, 13, "?");
}

// Stops only at a depth no stack reaches (the compiler sees an end).
static volatile int recurse_stop = 1 << 30;

static int
recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char) n;
	if (n == recurse_stop) {
		return 0;
	}
	return recurse(n + 1) + pad[0]; // not a tail call
}

static corpc_status_code
recurse_h(corpc_ctx *ctx, const void *impl, void *self)
{
	(void) ctx;
	(void) impl;
	(void) self;
	return recurse(0) == 0 ? CORPC_STATUS_OK : CORPC_STATUS_INTERNAL;
}

// Server streaming: in process, these run on a coroutine of their own
// (a unary handler runs on the caller's stack).
static const corpc_method big_m = {
    .path     = "/corpc.hostile.Guard/BigFrame",
    .name     = "BigFrame",
    .kind     = CORPC_RPC_SERVER_STREAMING,
    .request  = &corpc__hostile__node__descriptor,
    .response = &corpc__hostile__node__descriptor,
};
static const corpc_method recurse_m = {
    .path     = "/corpc.hostile.Guard/Recurse",
    .name     = "Recurse",
    .kind     = CORPC_RPC_SERVER_STREAMING,
    .request  = &corpc__hostile__node__descriptor,
    .response = &corpc__hostile__node__descriptor,
};
static const corpc_method *const guard_methods[]  = {&big_m, &recurse_m};
static const corpc_handler_fn    guard_handlers[] = {big_frame_h, recurse_h};
static const corpc_service_desc  guard_service    = {
        .name         = "corpc.hostile.Guard",
        .method_count = 2,
        .methods      = guard_methods,
        .handlers     = guard_handlers,
};

// The child: serves in process and opens a call of `m` (a streaming call
// makes a stack pool, so corpc's report is installed); exits 3 on failure.
static corpc_stream *
child_open(const corpc_method *m)
{
	// As in a program of its own: cmocka's SIGSEGV handler would take
	// the place of corpc's report.
	signal(SIGSEGV, SIG_DFL);
	corpc_server *srv;
	if (corpc_server_create(NULL, &srv) != CORPC_OK ||
	    corpc_server_register(srv, &guard_service, NULL, NULL) !=
	        CORPC_OK ||
	    corpc_server_listen(srv, "inproc://guard") != CORPC_OK ||
	    corpc_server_start(srv) != CORPC_OK) {
		_exit(3);
	}
	corpc_channel *ch;
	Node           req = CORPC__HOSTILE__NODE__INIT;
	corpc_stream  *st;
	if (corpc_channel_open("inproc://guard", NULL, &ch) != CORPC_OK ||
	    corpc_stream_open(ch, m, NULL, &req.base, &st) != CORPC_OK) {
		_exit(3);
	}
	return st;
}

// The child: calls `m`; returns only if it survived.
static void
child_call(const corpc_method *m)
{
	const ProtobufCMessage *msg;
	(void) corpc_stream_recv(child_open(m), &msg);
	_exit(0); // the overflow went unnoticed
}

// What the child wrote on stderr, up to `size` - 1 bytes.
static void
read_all(int fd, char *buf, size_t size)
{
	size_t  len = 0;
	ssize_t n;
	while (
	    len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0) {
		len += (size_t) n;
	}
	buf[len] = '\0';
}

static void
expect_fault(const corpc_method *m)
{
	fflush(NULL);
	int err[2];
	assert_int_equal(pipe(err), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(err[0]);
		dup2(err[1], STDERR_FILENO);
		child_call(m);
	}
	close(err[1]);
	static char said[16384];
	read_all(err[0], said, sizeof(said));
	close(err[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		printf("  %s: killed by signal %d; stderr: %s", m->name,
		    WTERMSIG(status), said);
		assert_int_equal(WTERMSIG(status), SIGSEGV);
#ifndef CORPC_SANITIZER_BUILD
		char want[256];
		snprintf(want, sizeof(want),
		    "corpc: stack overflow in the coroutine of %s: it ran "
		    "past "
		    "its 256 KiB stack",
		    m->path);
		assert_non_null(strstr(said, want));
#endif
		return;
	}
	assert_true(WIFEXITED(status));
	printf("  %s: exited %d\n", m->name, WEXITSTATUS(status));
#ifdef CORPC_SANITIZER_BUILD
	assert_int_not_equal(WEXITSTATUS(status), 0);
	assert_int_not_equal(WEXITSTATUS(status), 3);
#else
	fail_msg("%s: no fault", m->name);
#endif
}

static void
big_frame_faults(void **state)
{
	(void) state;
	expect_fault(&big_m);
}

static void
endless_recursion_faults(void **state)
{
	(void) state;
	expect_fault(&recurse_m);
}

// A SIGSEGV sent by kill() (no fault to run again) once corpc's report is
// installed: the process must still die of it, as without corpc.
static void
sent_segv_still_kills(void **state)
{
	(void) state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void) child_open(&recurse_m);
		kill(getpid(), SIGSEGV);
		_exit(0); // survived the signal
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(big_frame_faults),
	    cmocka_unit_test(endless_recursion_faults),
	    cmocka_unit_test(sent_segv_still_kills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
