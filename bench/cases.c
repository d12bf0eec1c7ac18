// SPDX-License-Identifier: MIT
// The benchmark cases. direct, buffer and switch-floor call the service's
// producing loop themselves; every other case goes through the generated
// client API on a channel to one in-process server, the address and the
// way of receiving (pull, push) or the workload (upload) being the only
// differences.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "list_service.h"

// How a case does its op, and where its channel goes.
typedef enum op_kind {
	OP_DIRECT, // list_service_produce calls the consumer
	OP_BUFFER, // ... fills a buffer, read afterwards
	OP_FLOOR,  // ... on its own stack, a raw switch per message
	OP_PULL,   // List through the API, corpc_stream_recv per message
	OP_PUSH,   // List through the API, corpc_stream_recv_each
	OP_UPLOAD, // Upload through the API
} op_kind;

typedef enum endpoint {
	EP_NONE,   // no channel
	EP_INPROC, // inproc://bench (the STABLE service) on `srv`
	EP_PLAIN,  // inproc://bench-plain on `srv_plain`
	EP_UNIX,   // unix socket on `srv`
	EP_TCP,    // tcp://127.0.0.1 on `srv`
	EP_COUNT
} endpoint;

typedef struct bench_case {
	op_kind     op;
	endpoint    ep;
	const char *mode; // appended to an inproc address
} bench_case;

const char *const bench_case_names[BENCH_NCASES] = {"direct", "buffer",
    "switch-floor", "coro", "thread", "thread-copy", "coro-plain",
    "thread-plain", "coro-push", "unix", "tcp", "tcp-push", "up-coro",
    "up-thread", "up-thread-copy", "up-unix", "up-tcp"};

static const bench_case cases[BENCH_NCASES] = {
    {OP_DIRECT, EP_NONE, ""},
    {OP_BUFFER, EP_NONE, ""},
    {OP_FLOOR, EP_NONE, ""},
    {OP_PULL, EP_INPROC, ""},
    {OP_PULL, EP_INPROC, "?mode=thread"},
    {OP_PULL, EP_INPROC, "?mode=thread-copy"},
    // The same service without CORPC_WRITE_STABLE, on its own server.
    {OP_PULL, EP_PLAIN, ""},
    {OP_PULL, EP_PLAIN, "?mode=thread"},
    {OP_PUSH, EP_PLAIN, ""},
    {OP_PULL, EP_UNIX, ""},
    {OP_PULL, EP_TCP, ""},
    {OP_PUSH, EP_TCP, ""},
    {OP_UPLOAD, EP_INPROC, ""},
    {OP_UPLOAD, EP_INPROC, "?mode=thread"},
    {OP_UPLOAD, EP_INPROC, "?mode=thread-copy"},
    {OP_UPLOAD, EP_UNIX, ""},
    {OP_UPLOAD, EP_TCP, ""},
};

static list_service  *svc;
static corpc_server  *srv;
static corpc_server  *srv_plain;
static corpc_channel *chans[BENCH_NCASES];
static char           unix_path[64];

// What the upload cases send: pointers to one 100-byte string.
static char  up_text[LIST_STRING_SIZE + 1];
static char *up_strings[100];

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
	return cases[i].ep == EP_UNIX || cases[i].ep == EP_TCP;
}

bool
bench_case_upload(int i)
{
	return cases[i].op == OP_UPLOAD;
}

// ---- setup ---------------------------------------------------------------

// Listens on `addr` for endpoint `ep`. Returns false with *skip set when
// the transport is not built, or with *fatal set on another error.
static bool
listen_for(endpoint ep, const char *addr, const char **skip, bool *fatal)
{
	corpc_err err = corpc_server_listen(srv, addr);
	if (err == CORPC_ENOTSUP) {
		*skip = "not built";
	} else if (err != CORPC_OK) {
		fprintf(stderr, "endpoint %d: listen %s: %s\n", (int) ep, addr,
		    corpc_strerror(err));
		*fatal = true;
	}
	return err == CORPC_OK;
}

// Starts the plain server (inproc://bench-plain).
static bool
start_plain(void)
{
	return corpc_server_create(NULL, &srv_plain) == CORPC_OK &&
	       list__v0__list_strings__register_server(
	           srv_plain, &list_service_impl_plain, svc) == CORPC_OK &&
	       corpc_server_listen(srv_plain, "inproc://bench-plain") ==
	           CORPC_OK &&
	       corpc_server_start(srv_plain) == CORPC_OK;
}

// Opens the channel of case `i` to `base` plus its mode.
static bool
open_channel(int i, const char *base, const char *skip[BENCH_NCASES])
{
	char addr[256];
	snprintf(addr, sizeof(addr), "%s%s", base, cases[i].mode);
	corpc_err err = corpc_channel_open(addr, NULL, &chans[i]);
	if (err == CORPC_ENOTSUP) {
		skip[i] = "not built";
	} else if (err != CORPC_OK) {
		fprintf(stderr, "%s: channel %s: %s\n", bench_case_names[i],
		    addr, corpc_strerror(err));
		return false;
	}
	return true;
}

bool
bench_cases_setup(
    const bool selected[BENCH_NCASES], const char *skip[BENCH_NCASES])
{
	bool fatal          = list_service_create(&svc) != CORPC_OK;
	bool need[EP_COUNT] = {false};
	for (int i = 0; i < BENCH_NCASES; i++) {
		need[cases[i].ep] = need[cases[i].ep] || selected[i];
	}
	for (size_t k = 0; k < sizeof(up_strings) / sizeof(*up_strings); k++) {
		up_strings[k] = up_text;
	}
	for (size_t k = 0; k < LIST_STRING_SIZE; k++) {
		up_text[k] = (char) ('a' + k % 26);
	}
	if (fatal || !(need[EP_INPROC] || need[EP_PLAIN] || need[EP_UNIX] ||
	                 need[EP_TCP])) {
		return !fatal;
	}
	if (corpc_server_create(NULL, &srv) != CORPC_OK ||
	    list__v0__list_strings__register_server(
	        srv, &list_service_impl, svc) != CORPC_OK) {
		fprintf(stderr, "bench: cannot create the server\n");
		return false;
	}
	// Each endpoint's dial address (the listen-th bound one for unix and
	// tcp), or a note why its cases are skipped.
	const char *base[EP_COUNT]    = {0};
	const char *ep_skip[EP_COUNT] = {0};
	size_t      listen[EP_COUNT]  = {0};
	size_t      n_listens         = 0;
	if (need[EP_INPROC] && listen_for(EP_INPROC, "inproc://bench",
	                           &ep_skip[EP_INPROC], &fatal)) {
		base[EP_INPROC] = "inproc://bench";
		n_listens++;
	}
	if (!fatal && need[EP_PLAIN]) {
		fatal          = !start_plain();
		base[EP_PLAIN] = "inproc://bench-plain";
	}
	if (!fatal && need[EP_UNIX]) {
		char addr[80];
		snprintf(unix_path, sizeof(unix_path),
		    "/tmp/corpc-bench-%ld.sock", (long) getpid());
		snprintf(addr, sizeof(addr), "unix://%s", unix_path);
		unlink(unix_path);
		if (listen_for(EP_UNIX, addr, &ep_skip[EP_UNIX], &fatal)) {
			listen[EP_UNIX] = n_listens++;
		}
	}
	if (!fatal && need[EP_TCP] &&
	    listen_for(
	        EP_TCP, "tcp://127.0.0.1:0", &ep_skip[EP_TCP], &fatal)) {
		listen[EP_TCP] = n_listens++;
	}
	if (fatal || corpc_server_start(srv) != CORPC_OK) {
		fprintf(stderr, "bench: cannot start the server\n");
		return false;
	}
	for (int e = EP_UNIX; e <= EP_TCP; e++) {
		if (need[e] && ep_skip[e] == NULL) {
			base[e] = corpc_server_address(srv, listen[e]);
		}
	}
	for (int i = 0; i < BENCH_NCASES; i++) {
		endpoint e = cases[i].ep;
		if (!selected[i] || e == EP_NONE) {
			continue;
		}
		if (ep_skip[e] != NULL) {
			skip[i] = ep_skip[e];
		} else if (!open_channel(i, base[e], skip)) {
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

// coro-push, tcp-push: the consumer, called by corpc_stream_recv_each.
static bool
push_touch(void *arg, const List__V0__ListResponse *resp)
{
	touch(arg, resp);
	return true;
}

// The pull and push cases: one List call through the generated client API,
// each message received with recv, or handed to push_touch.
static corpc_status_code
call_list(corpc_channel *ch, int resp_size, bool push, touched *t)
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
	if (push) {
		code =
		    list__v0__list_strings__list_recv_each(st, push_touch, t);
	} else {
		while ((code = list__v0__list_strings__list_recv(st, &resp)) ==
		           CORPC_STATUS_OK &&
		       resp != NULL) {
			touch(t, resp);
		}
	}
	corpc_stream_destroy(st);
	return code;
}

// up-*: sends LIST_STRINGS strings, resp_size per message (one message
// reused: send does not retain it), and reads what the server counted.
static corpc_status_code
upload(corpc_channel *ch, int resp_size, touched *t)
{
	if (resp_size < 1 ||
	    (size_t) resp_size > sizeof(up_strings) / sizeof(*up_strings)) {
		return CORPC_STATUS_INVALID_ARGUMENT;
	}
	List__V0__ListResponse msg = LIST__V0__LIST_RESPONSE__INIT;
	msg.n_strings              = (size_t) resp_size;
	msg.strings                = up_strings;
	corpc_stream *st;
	if (list__v0__list_strings__upload_open(ch, NULL, &st) != CORPC_OK) {
		return CORPC_STATUS_INTERNAL;
	}
	corpc_status_code code = CORPC_STATUS_OK;
	int               n    = LIST_STRINGS / resp_size;
	for (int k = 0; k < n && code == CORPC_STATUS_OK; k++) {
		code = corpc_stream_send(
		    st, &msg.base, k + 1 < n ? CORPC_WRITE_MORE : 0);
	}
	const List__V0__UploadSummary *sum = NULL;
	corpc_status_code              rc =
	    list__v0__list_strings__upload_close_and_recv(st, &sum);
	if (sum != NULL) {
		t->strings = (uint64_t) sum->strings;
		t->bytes   = (uint64_t) sum->bytes;
	}
	if (code == CORPC_STATUS_OK) {
		code = rc;
	}
	rc = corpc_stream_finish(st, NULL);
	corpc_stream_destroy(st);
	return code != CORPC_STATUS_OK ? code : rc;
}

bool
bench_case_op(int i, int resp_size)
{
	touched           t = {0, 0};
	corpc_status_code code;
	switch (cases[i].op) {
	case OP_DIRECT:
		code = list_service_produce(svc, resp_size, consume, &t);
		break;
	case OP_BUFFER: {
		buffer b = {NULL, 0, 0};
		code = list_service_produce(svc, resp_size, buffer_push, &b);
		for (size_t k = 0; k < b.len; k++) {
			touch(&t, b.v[k]);
		}
		free(b.v);
		break;
	}
	case OP_FLOOR:
		code = switch_floor(resp_size, &t);
		break;
	case OP_PULL:
	case OP_PUSH:
		code =
		    call_list(chans[i], resp_size, cases[i].op == OP_PUSH, &t);
		break;
	default:
		code = upload(chans[i], resp_size, &t);
		break;
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
