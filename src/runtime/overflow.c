// SPDX-License-Identifier: MIT
// Stack overflow reports: a coroutine that runs into the guard region below
// its stack dies of SIGSEGV, as it would without corpc, but first one line
// on stderr names the method whose handler overflowed and the option that
// sizes the stack. Everything here runs in a signal handler on an
// alternate stack, so it only reads and calls write(2).
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/fiber.h"

// Room for the handler's few frames (MINSIGSTKSZ is not a constant on
// every libc).
#define ALT_STACK_SIZE (64u * 1024u)

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static pthread_key_t  alt_key;
static bool           installed;

static void
put(char **at, const char *end, const char *s)
{
	size_t n = strlen(s);
	if (n > (size_t) (end - *at)) {
		n = (size_t) (end - *at);
	}
	memcpy(*at, s, n);
	*at += n;
}

static void
put_size(char **at, const char *end, size_t v)
{
	char  digits[24];
	char *d = digits + sizeof(digits);
	*--d    = '\0';
	do {
		*--d = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(at, end, d);
}

// The fiber whose guard region holds `addr`: only the running one can
// fault there (a frame larger than the guard is probed page by page).
static const corpc__fiber *
overflowed_fiber(const void *addr)
{
	corpc__thread_self *self = corpc__self_peek();
	if (self == NULL || self->current == NULL ||
	    self->current->stack == NULL) {
		return NULL;
	}
	const corpc__stack *s = self->current->stack;
	uintptr_t           a = (uintptr_t) addr;
	if (a < (uintptr_t) s->map || a >= (uintptr_t) s->bottom) {
		return NULL;
	}
	return self->current;
}

static void
on_segv(int sig, siginfo_t *info, void *uctx)
{
	(void) uctx;
	const corpc__fiber *f = overflowed_fiber(info->si_addr);
	if (f != NULL) {
		char  line[512];
		char *at  = line;
		char *end = line + sizeof(line) - 1;
		put(&at, end, "corpc: stack overflow in the coroutine of ");
		put(&at, end, f->label != NULL ? f->label : "a task");
		put(&at, end, ": it ran past its ");
		put_size(&at, end, f->stack->size / 1024);
		put(&at, end,
		    " KiB stack into the guard region (raise stack_size in "
		    "corpc_server_opts or corpc_runtime_opts, or move large "
		    "buffers to the heap)");
		*at++     = '\n';
		ssize_t w = write(STDERR_FILENO, line, (size_t) (at - line));
		(void) w;
	}
	// Die of the signal as if corpc had never looked: the faulting
	// instruction runs again under the default action. A signal sent by
	// kill() has no instruction to rerun: it is raised again (blocked
	// here, delivered once the handler returns).
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	if (info->si_code <= 0) {
		raise(sig);
	}
}

static void
alt_stack_free(void *mem)
{
	stack_t cur;
	if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == mem) {
		stack_t off = {.ss_flags = SS_DISABLE};
		sigaltstack(&off, NULL);
	}
	munmap(mem, ALT_STACK_SIZE);
}

static void
install(void)
{
	struct sigaction old;
	if (sigaction(SIGSEGV, NULL, &old) != 0 ||
	    (old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) {
		return; // someone else handles it: leave it to them
	}
	if (pthread_key_create(&alt_key, alt_stack_free) != 0) {
		return;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags     = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) == 0) {
		__atomic_store_n(&installed, true, __ATOMIC_RELEASE);
	}
}

void
corpc__overflow_report_install(void)
{
	pthread_once(&install_once, install);
}

void
corpc__overflow_thread_init(void)
{
	// A thread that runs fibers only after a pool exists: threads started
	// earlier (the program's main thread) install when they first do.
	corpc__overflow_report_install();
	if (!__atomic_load_n(&installed, __ATOMIC_ACQUIRE)) {
		return;
	}
	stack_t cur;
	if (sigaltstack(NULL, &cur) != 0 || (cur.ss_flags & SS_DISABLE) == 0) {
		return; // the thread has one of its own
	}
	void *mem = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		return; // no report on this thread; the fault still kills
	}
	stack_t alt = {.ss_sp = mem, .ss_size = ALT_STACK_SIZE};
	if (sigaltstack(&alt, NULL) != 0 ||
	    pthread_setspecific(alt_key, mem) != 0) {
		alt_stack_free(mem);
	}
}
