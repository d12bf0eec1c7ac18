// SPDX-License-Identifier: MIT
// The benchmark cases. direct and buffer call the service's producing loop
// themselves; every other case goes through the generated client API on a
// channel to one in-process server, the address being the only difference.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "list_service.h"

enum {
	C_DIRECT,
	C_BUFFER,
	C_SWITCH_FLOOR,
	C_CORO,
	C_THREAD,
	C_THREAD_COPY,
	C_CORO_PLAIN,
	C_THREAD_PLAIN,
	C_UNIX,
	C_TCP
};

const char *const bench_case_names[BENCH_NCASES] = {"direct", "buffer",
    "switch-floor", "coro", "thread", "thread-copy", "coro-plain",
    "thread-plain", "unix", "tcp"};

// Client addresses of the inproc cases; unix and tcp dial what their
// listener bound.
static const char *const inproc_dial[BENCH_NCASES] = {
    [C_CORO]        = "inproc://bench",
    [C_THREAD]      = "inproc://bench?mode=thread",
    [C_THREAD_COPY] = "inproc://bench?mode=thread-copy",
    // The same service without CORPC_WRITE_STABLE, on its own server.
    [C_CORO_PLAIN]   = "inproc://bench-plain",
    [C_THREAD_PLAIN] = "inproc://bench-plain?mode=thread",
};

static list_service  *svc;
static corpc_server  *srv;
static corpc_server  *srv_plain;
static corpc_channel *chans[BENCH_NCASES];
static char           unix_path[64];

// Keeps the touched bytes observable, so no case can be optimised away.
volatile uint64_t bench_sink;

int
bench_case_find(const char *name)
{
	for (int i = 0; i < BENCH_NCASES; i++) {
		if (strcmp(bench_case_names[i], name) == 0) {
			return i;
		}
	}
	return -1;
}

bool
bench_case_network(int i)
{
	return i == C_UNIX || i == C_TCP;
}

// ---- setup ---------------------------------------------------------------

// Listens on `addr` for case `i`. Returns false with skip[i] set when the
// transport is not built, or with *fatal set on another error.
static bool
listen_for(
    int i, const char *addr, const char *skip[BENCH_NCASES], bool *fatal)
{
	corpc_err err = corpc_server_listen(srv, addr);
	if (err == CORPC_ENOTSUP) {
		skip[i] = "not built";
	} else if (err != CORPC_OK) {
		fprintf(stderr, "%s: listen %s: %s\n", bench_case_names[i],
		    addr, corpc_strerror(err));
		*fatal = true;
	}
	return err == CORPC_OK;
}

bool
bench_cases_setup(
    const bool selected[BENCH_NCASES], const char *skip[BENCH_NCASES])
{
	bool fatal = list_service_create(&svc) != CORPC_OK;
	bool api   = false;
	for (int i = C_CORO; i < BENCH_NCASES; i++) {
		api = api || selected[i];
	}
	if (fatal || !api) {
		return !fatal;
	}
	if (corpc_server_create(NULL, &srv) != CORPC_OK ||
	    list__v0__list_strings__register_server(
	        srv, &list_service_impl, svc) != CORPC_OK) {
		fprintf(stderr, "bench: cannot create the server\n");
		return false;
	}
	// Every inproc mode dials the one inproc listener; unix and tcp dial
	// the address their listener bound (the listen-th one).
	const char *dial[BENCH_NCASES]   = {0};
	int         listen[BENCH_NCASES] = {0};
	int         n_listens            = 0;
	if (selected[C_CORO] || selected[C_THREAD] ||
	    selected[C_THREAD_COPY]) {
		fatal = !listen_for(C_CORO, "inproc://bench", skip, &fatal);
		n_listens++;
		for (int i = C_CORO; i <= C_THREAD_COPY; i++) {
			dial[i] = inproc_dial[i];
		}
	}
	if (!fatal && (selected[C_CORO_PLAIN] || selected[C_THREAD_PLAIN])) {
		const char *addr = "inproc://bench-plain";
		fatal = corpc_server_create(NULL, &srv_plain) != CORPC_OK ||
		        list__v0__list_strings__register_server(srv_plain,
		            &list_service_impl_plain, svc) != CORPC_OK ||
		        corpc_server_listen(srv_plain, addr) != CORPC_OK ||
		        corpc_server_start(srv_plain) != CORPC_OK;
		dial[C_CORO_PLAIN]   = inproc_dial[C_CORO_PLAIN];
		dial[C_THREAD_PLAIN] = inproc_dial[C_THREAD_PLAIN];
	}
	if (!fatal && selected[C_UNIX]) {
		char addr[80];
		snprintf(unix_path, sizeof(unix_path),
		    "/tmp/corpc-bench-%ld.sock", (long) getpid());
		snprintf(addr, sizeof(addr), "unix://%s", unix_path);
		unlink(unix_path);
		if (listen_for(C_UNIX, addr, skip, &fatal)) {
			listen[C_UNIX] = n_listens++;
		}
	}
	if (!fatal && selected[C_TCP] &&
	    listen_for(C_TCP, "tcp://127.0.0.1:0", skip, &fatal)) {
		listen[C_TCP] = n_listens++;
	}
	for (int i = C_UNIX; i <= C_TCP; i++) {
		if (!fatal && selected[i] && skip[i] == NULL) {
			dial[i] =
			    corpc_server_address(srv, (size_t) listen[i]);
		}
	}
	if (fatal || corpc_server_start(srv) != CORPC_OK) {
		fprintf(stderr, "bench: cannot start the server\n");
		return false;
	}
	for (int i = C_CORO; i < BENCH_NCASES; i++) {
		if (!selected[i] || skip[i] != NULL) {
			continue;
		}
		corpc_err err = corpc_channel_open(dial[i], NULL, &chans[i]);
		if (err == CORPC_ENOTSUP) {
			skip[i] = "not built";
		} else if (err != CORPC_OK) {
			fprintf(stderr, "%s: channel %s: %s\n",
			    bench_case_names[i], dial[i], corpc_strerror(err));
			return false;
		}
	}
	return true;
}

void
bench_cases_teardown(void)
{
	for (int i = 0; i < BENCH_NCASES; i++) {
		corpc_channel_close(chans[i]);
		chans[i] = NULL;
	}
	corpc_server_destroy(srv);
	srv = NULL;
	corpc_server_destroy(srv_plain);
	srv_plain = NULL;
	list_service_destroy(svc);
	svc = NULL;
	if (unix_path[0] != '\0') {
		unlink(unix_path);
		unix_path[0] = '\0';
	}
}

// ---- one op --------------------------------------------------------------

// What a client saw: strings received and their total length.
typedef struct touched {
	uint64_t strings;
	uint64_t bytes;
} touched;

// The client's work per message: read every string.
static inline void
touch(touched *t, const List__V0__ListResponse *resp)
{
	for (size_t i = 0; i < resp->n_strings; i++) {
		t->bytes += strlen(resp->strings[i]);
	}
	t->strings += resp->n_strings;
}

// direct: the consumer, called by the server loop.
static corpc_status_code
consume(void *arg, const List__V0__ListResponse *resp, bool last)
{
	(void) last;
	touch(arg, resp);
	return CORPC_STATUS_OK;
}

// buffer: a growing array of message pointers, fresh for every op (as a
// Go slice grown by append).
typedef struct buffer {
	const List__V0__ListResponse **v;
	size_t                         len, cap;
} buffer;

static corpc_status_code
buffer_push(void *arg, const List__V0__ListResponse *resp, bool last)
{
	buffer *b = arg;
	(void) last;
	if (b->len == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		void  *v   = realloc(b->v, cap * sizeof(*b->v));
		if (v == NULL) {
			return CORPC_STATUS_RESOURCE_EXHAUSTED;
		}
		b->v   = v;
		b->cap = cap;
	}
	b->v[b->len++] = resp;
	return CORPC_STATUS_OK;
}

// switch-floor: Boost.Context's entry points (extern "C" in fcontext.hpp),
// used directly. The producer runs list_service_produce on its own stack
// and jumps back to the consumer with each message; the consumer touches
// it and jumps back in: two jumps per message, nothing else.
typedef void *fcontext;
typedef struct {
	fcontext fctx;
	void    *data;
} transfer;
extern transfer jump_fcontext(fcontext const to, void *vp);
extern fcontext make_fcontext(void *sp, size_t size, void (*fn)(transfer));

#define FLOOR_STACK (256 * 1024)

typedef struct floor_run {
	fcontext          consumer; // where the producer jumps to
	int               resp_size;
	corpc_status_code code;
	bool              done;
} floor_run;

static corpc_status_code
floor_emit(void *arg, const List__V0__ListResponse *resp, bool last)
{
	(void) last;
	floor_run *r = arg;
	transfer   t = jump_fcontext(r->consumer, (void *) resp);
	r->consumer  = t.fctx;
	return CORPC_STATUS_OK;
}

static void
floor_producer(transfer t)
{
	floor_run *r = t.data;
	r->consumer  = t.fctx;
	r->code      = list_service_produce(svc, r->resp_size, floor_emit, r);
	r->done      = true;
	jump_fcontext(r->consumer, NULL); // never resumed again
}

static corpc_status_code
switch_floor(int resp_size, touched *t)
{
	static char *stack;
	if (stack == NULL && (stack = malloc(FLOOR_STACK)) == NULL) {
		return CORPC_STATUS_RESOURCE_EXHAUSTED;
	}
	floor_run r = {.resp_size = resp_size};
	fcontext  pr =
	    make_fcontext(stack + FLOOR_STACK, FLOOR_STACK, floor_producer);
	transfer x = jump_fcontext(pr, &r);
	while (!r.done) {
		touch(t, x.data);
		x = jump_fcontext(x.fctx, NULL);
	}
	return r.code;
}

// Every case but direct, buffer and switch-floor: one List call through the
// generated client API.
static corpc_status_code
call_list(corpc_channel *ch, int resp_size, touched *t)
{
	List__V0__ListRequest req = LIST__V0__LIST_REQUEST__INIT;
	req.resp_size             = resp_size;
	corpc_stream *st;
	if (list__v0__list_strings__list_open(ch, NULL, &req, &st) !=
	    CORPC_OK) {
		return CORPC_STATUS_INTERNAL;
	}
	const List__V0__ListResponse *resp;
	corpc_status_code             code;
	while ((code = list__v0__list_strings__list_recv(st, &resp)) ==
	           CORPC_STATUS_OK &&
	       resp != NULL) {
		touch(t, resp);
	}
	corpc_stream_destroy(st);
	return code;
}

bool
bench_case_op(int i, int resp_size)
{
	touched           t = {0, 0};
	corpc_status_code code;
	if (i == C_DIRECT) {
		code = list_service_produce(svc, resp_size, consume, &t);
	} else if (i == C_BUFFER) {
		buffer b = {NULL, 0, 0};
		code = list_service_produce(svc, resp_size, buffer_push, &b);
		for (size_t k = 0; k < b.len; k++) {
			touch(&t, b.v[k]);
		}
		free(b.v);
	} else if (i == C_SWITCH_FLOOR) {
		code = switch_floor(resp_size, &t);
	} else {
		code = call_list(chans[i], resp_size, &t);
	}
	if (code != CORPC_STATUS_OK || t.strings != LIST_STRINGS ||
	    t.bytes != (uint64_t) LIST_STRINGS * LIST_STRING_SIZE) {
		fprintf(stderr,
		    "%s: resp_size %d: status %s, %llu strings, %llu bytes\n",
		    bench_case_names[i], resp_size, corpc_status_name(code),
		    (unsigned long long) t.strings,
		    (unsigned long long) t.bytes);
		return false;
	}
	bench_sink += t.bytes;
	return true;
}
