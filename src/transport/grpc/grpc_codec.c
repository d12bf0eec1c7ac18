// SPDX-License-Identifier: MIT
// gRPC transport helpers: protobuf <-> byte buffers, metadata, deadlines,
// and the library reference count.
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>

#include "core/detail.h"
#include "core/log.h"
#include "core/depth.h"
#include "transport/grpc/grpc_common.h"

// gRPC's log lines, already filtered by GRPC_VERBOSITY, go through corpc's
// hook (log.h).
static void
log_bridge(gpr_log_func_args *a)
{
	corpc_log_level level =
	    a->severity == GPR_LOG_SEVERITY_ERROR  ? CORPC_LOG_ERROR
	    : a->severity == GPR_LOG_SEVERITY_INFO ? CORPC_LOG_INFO
	                                           : CORPC_LOG_DEBUG;
	const char *file  = a->file != NULL ? a->file : "?";
	const char *slash = strrchr(file, '/');
	char        text[2048];
	snprintf(text, sizeof(text), "grpc %s %s:%d] %s",
	    corpc_log_level_name(level), slash != NULL ? slash + 1 : file,
	    a->line, a->message != NULL ? a->message : "");
	if (level == CORPC_LOG_ERROR && corpc__detail_capturing()) {
		corpc__detail_add(a->message != NULL ? a->message : "");
	}
	corpc__log_grpc(level, text);
}

static void
init_once(void)
{
	gpr_set_log_function(log_bridge);
	// gRPC's default DNS resolver here is c-ares 1.18, which leaks memory
	// on every lookup of a name (seen by LSan, 10 bytes each). Prefer the
	// getaddrinfo resolver unless the user chose one: gRPC reads this
	// variable when it initialises.
	if (getenv("GRPC_DNS_RESOLVER") == NULL) {
		setenv("GRPC_DNS_RESOLVER", "native", 0);
	}
	grpc_init();
}

void
corpc__grpc_ref(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_once);
}

void
corpc__grpc_unref(void)
{
	// Deliberately nothing: grpc_shutdown joins gRPC's executor threads,
	// and one of them may sit in tcp_posix's backup poller for up to 10 s
	// after a write met a full socket buffer (seen after long streams), so
	// closing the last channel or server could stall that long. gRPC stays
	// initialised for the life of the process instead.
}

grpc_byte_buffer *
corpc__grpc_pack(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	corpc__grpc_note_message(len);
	grpc_slice s = grpc_slice_malloc(len);
	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

// Checks the nesting of `len` bytes, then unpacks them.
static ProtobufCMessage *
unpack_bounded(const ProtobufCMessageDescriptor *desc,
    ProtobufCAllocator *alloc, const uint8_t *buf, size_t len,
    unsigned max_depth, bool *too_deep)
{
	switch (corpc__wire_check_depth(desc, buf, len, max_depth, NULL)) {
	case CORPC__WIRE_OK:
		return protobuf_c_message_unpack(desc, alloc, len, buf);
	case CORPC__WIRE_TOO_DEEP:
		*too_deep = true;
		return NULL;
	default:
		return NULL;
	}
}

ProtobufCMessage *
corpc__grpc_unpack(grpc_byte_buffer  *bb,
    const ProtobufCMessageDescriptor *desc, corpc__arena *arena,
    unsigned max_depth, bool *too_deep)
{
	static const uint8_t empty[1];
	ProtobufCAllocator  *alloc = &arena->alloc;
	*too_deep                  = false;
	if (bb->type == GRPC_BB_RAW &&
	    bb->data.raw.compression == GRPC_COMPRESS_NONE &&
	    bb->data.raw.slice_buffer.count <= 1) {
		// The common case: one slice, no copy.
		if (bb->data.raw.slice_buffer.count == 0) {
			return protobuf_c_message_unpack(
			    desc, alloc, 0, empty);
		}
		grpc_slice s = bb->data.raw.slice_buffer.slices[0];
		corpc__grpc_note_message(GRPC_SLICE_LENGTH(s));
		return unpack_bounded(desc, alloc, GRPC_SLICE_START_PTR(s),
		    GRPC_SLICE_LENGTH(s), max_depth, too_deep);
	}
	grpc_byte_buffer_reader r;
	if (!grpc_byte_buffer_reader_init(&r, bb)) {
		return NULL;
	}
	grpc_slice s = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	corpc__grpc_note_message(GRPC_SLICE_LENGTH(s));
	ProtobufCMessage *m = unpack_bounded(desc, alloc,
	    GRPC_SLICE_LENGTH(s) ? GRPC_SLICE_START_PTR(s) : empty,
	    GRPC_SLICE_LENGTH(s), max_depth, too_deep);
	grpc_slice_unref(s);
	return m;
}

corpc_err
corpc__grpc_mdvec_set(corpc__grpc_mdvec *vec, const corpc_metadata *md)
{
	size_t n = corpc_metadata_count(md);
	if (n > vec->cap) {
		grpc_metadata *v = realloc(vec->v, n * sizeof(*v));
		if (v == NULL) {
			return CORPC_ENOMEM;
		}
		vec->v   = v;
		vec->cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		const corpc_metadata_entry *e = corpc_metadata_at(md, i);
		memset(&vec->v[i], 0, sizeof(vec->v[i]));
		// Static slices borrow our memory: it outlives every batch,
		// since each batch completes before its call is released.
		vec->v[i].key = grpc_slice_from_static_string(e->key);
		vec->v[i].value =
		    grpc_slice_from_static_buffer(e->value, e->value_len);
	}
	vec->n = n;
	return CORPC_OK;
}

corpc_err
corpc__grpc_mdvec_add_static(
    corpc__grpc_mdvec *vec, const char *key, const char *value)
{
	if (vec->n == vec->cap) {
		size_t         cap = vec->cap * 2 + 1;
		grpc_metadata *v   = realloc(vec->v, cap * sizeof(*v));
		if (v == NULL) {
			return CORPC_ENOMEM;
		}
		vec->v   = v;
		vec->cap = cap;
	}
	grpc_metadata *m = &vec->v[vec->n++];
	memset(m, 0, sizeof(*m));
	m->key   = grpc_slice_from_static_string(key);
	m->value = grpc_slice_from_static_string(value);
	return CORPC_OK;
}

void
corpc__grpc_mdvec_fini(corpc__grpc_mdvec *vec)
{
	free(vec->v);
	vec->v   = NULL;
	vec->n   = 0;
	vec->cap = 0;
}

bool
corpc__grpc_md_valid(const corpc_metadata *md)
{
	size_t n = corpc_metadata_count(md);
	for (size_t i = 0; i < n; i++) {
		const corpc_metadata_entry *e = corpc_metadata_at(md, i);
		if (corpc_metadata_check_key(e->key) != CORPC_OK ||
		    corpc_metadata_check_value(
		        e->key, e->value, e->value_len) != CORPC_OK) {
			return false;
		}
		grpc_slice k = grpc_slice_from_static_string(e->key);
		grpc_slice v =
		    grpc_slice_from_static_buffer(e->value, e->value_len);
		if (!grpc_header_key_is_legal(k) ||
		    (!grpc_is_binary_header(k) &&
		        !grpc_header_nonbin_value_is_legal(v))) {
			return false;
		}
	}
	return true;
}

void
corpc__grpc_md_import(corpc_metadata *dst, const grpc_metadata_array *src)
{
	char buf[128];
	for (size_t i = 0; i < src->count; i++) {
		const grpc_metadata *m   = &src->metadata[i];
		size_t               len = GRPC_SLICE_LENGTH(m->key);
		char *key = len < sizeof(buf) ? buf : malloc(len + 1);
		if (key == NULL) {
			continue;
		}
		memcpy(key, GRPC_SLICE_START_PTR(m->key), len);
		key[len] = '\0';
		if (strcmp(key, "user-agent") != 0) {
			// Entries corpc would refuse fail here and are
			// skipped.
			(void) corpc_metadata_add(dst, key,
			    GRPC_SLICE_START_PTR(m->value),
			    GRPC_SLICE_LENGTH(m->value));
		}
		if (key != buf) {
			free(key);
		}
	}
}

void
corpc__grpc_md_array_reset(grpc_metadata_array *a)
{
	// The array keeps its capacity; gRPC grows it as needed.
	a->count = 0;
}

gpr_timespec
corpc__grpc_deadline_to(int64_t deadline)
{
	if (deadline == CORPC_DEADLINE_NONE) {
		return gpr_inf_future(GPR_CLOCK_MONOTONIC);
	}
	int64_t      left = deadline - corpc_now();
	gpr_timespec now  = gpr_now(GPR_CLOCK_MONOTONIC);
	if (left <= 0) {
		return now;
	}
	return gpr_time_add(now, gpr_time_from_nanos(left, GPR_TIMESPAN));
}

int64_t
corpc__grpc_deadline_from(gpr_timespec deadline)
{
	if (gpr_time_cmp(deadline, gpr_inf_future(deadline.clock_type)) == 0) {
		return CORPC_DEADLINE_NONE;
	}
	gpr_timespec d = gpr_convert_clock_type(deadline, GPR_CLOCK_MONOTONIC);
	gpr_timespec left = gpr_time_sub(d, gpr_now(GPR_CLOCK_MONOTONIC));
	if (left.tv_sec > 1000000000) { // ~31 years: as good as none
		return CORPC_DEADLINE_NONE;
	}
	return corpc_now() + left.tv_sec * 1000000000 + left.tv_nsec;
}

corpc_status_code
corpc__grpc_code(grpc_status_code code)
{
	if ((int) code < 0 || (int) code >= CORPC_STATUS_COUNT) {
		return CORPC_STATUS_UNKNOWN;
	}
	return (corpc_status_code) code;
}

bool
corpc__grpc_pluck(grpc_completion_queue *cq, void *tag)
{
	grpc_event ev = grpc_completion_queue_pluck(
	    cq, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	return ev.type == GRPC_OP_COMPLETE && ev.success;
}

void
corpc__grpc_cq_destroy(grpc_completion_queue *cq)
{
	if (cq == NULL) {
		return;
	}
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_pluck(
	           cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
	           .type != GRPC_QUEUE_SHUTDOWN) {
	}
	grpc_completion_queue_destroy(cq);
}

static grpc_arg
int_arg(const char *key, int value)
{
	grpc_arg a;
	memset(&a, 0, sizeof(a));
	a.type          = GRPC_ARG_INTEGER;
	a.key           = (char *) key;
	a.value.integer = value;
	return a;
}

static grpc_arg
str_arg(const char *key, const char *value)
{
	grpc_arg a;
	memset(&a, 0, sizeof(a));
	a.type         = GRPC_ARG_STRING;
	a.key          = (char *) key;
	a.value.string = (char *) value;
	return a;
}

static grpc_arg
quota_arg(grpc_resource_quota *q)
{
	grpc_arg a;
	memset(&a, 0, sizeof(a));
	a.type                 = GRPC_ARG_POINTER;
	a.key                  = (char *) GRPC_ARG_RESOURCE_QUOTA;
	a.value.pointer.p      = q;
	a.value.pointer.vtable = grpc_resource_quota_arg_vtable();
	return a;
}

// gRPC's integer arguments are ints; every value here is positive.
static int
clamp_int(uint64_t v)
{
	return v > INT_MAX ? INT_MAX : (int) v;
}

static void
keepalive_args(corpc__grpc_argv *v, const corpc_keepalive *k)
{
	if (k->time_ms > 0) {
		v->args[v->n++] =
		    int_arg(GRPC_ARG_KEEPALIVE_TIME_MS, clamp_int(k->time_ms));
		// Keep pinging on a quiet connection: gRPC's default stops
		// after two pings without data, so a hung peer would go
		// unnoticed.
		v->args[v->n++] =
		    int_arg(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
	}
	if (k->timeout_ms > 0) {
		v->args[v->n++] = int_arg(
		    GRPC_ARG_KEEPALIVE_TIMEOUT_MS, clamp_int(k->timeout_ms));
	}
	if (k->without_calls) {
		v->args[v->n++] =
		    int_arg(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
	}
}

corpc_err
corpc__grpc_argv_build(corpc__grpc_argv *v, const corpc__grpc_conn *c)
{
	v->n = 0;
	v->args =
	    calloc(CORPC__GRPC_OWN_ARGS + c->user_count, sizeof(grpc_arg));
	if (v->args == NULL) {
		return CORPC_ENOMEM;
	}
	int max         = clamp_int(c->max_message);
	v->args[v->n++] = int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, max);
	v->args[v->n++] = int_arg(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, max);
	// corpc inflates received messages itself, bounded, and learns their
	// encoding that way (grpc_compress.h).
	v->args[v->n++] =
	    int_arg(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
	if (c->server) {
		// gRPC sets SO_REUSEPORT by default, which would let two
		// servers bind one port; corpc reports the second as
		// EADDRINUSE.
		v->args[v->n++] = int_arg(GRPC_ARG_ALLOW_REUSEPORT, 0);
		int64_t ping    = c->min_ping_interval_ms > 0
		                      ? c->min_ping_interval_ms
		                      : 10000;
		v->args[v->n++] = int_arg(
		    GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
		    clamp_int(ping));
		if (c->max_streams > 0) {
			v->args[v->n++] =
			    int_arg(GRPC_ARG_MAX_CONCURRENT_STREAMS,
			        clamp_int(c->max_streams));
		}
		if (c->quota != NULL) {
			v->args[v->n++] = quota_arg(c->quota);
		}
	} else {
		// Reconnect soon after a server restart (gRPC's defaults: 1 s,
		// up to 120 s). Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC
		// uses it as the connect timeout (20 s), and a short one fails
		// slow handshakes.
		int64_t first = c->reconnect_initial_ms > 0
		                    ? c->reconnect_initial_ms
		                    : 100;
		int64_t most =
		    c->reconnect_max_ms > 0 ? c->reconnect_max_ms : 1000;
		v->args[v->n++] = int_arg(
		    GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, clamp_int(first));
		v->args[v->n++] = int_arg(
		    GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, clamp_int(most));
		if (c->lb_policy != NULL) {
			v->args[v->n++] =
			    str_arg(GRPC_ARG_LB_POLICY_NAME, c->lb_policy);
		}
		if (c->tls_name != NULL) {
			v->args[v->n++] = str_arg(
			    GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, c->tls_name);
		}
	}
	keepalive_args(v, &c->keepalive);
	// The user's replace corpc's of the same key (so that no key repeats).
	for (size_t i = 0; i < c->user_count; i++) {
		const corpc_grpc_arg *u = &c->user[i];
		if (u->key == NULL) {
			corpc__detail_set("grpc_args[%zu] has no key", i);
			free(v->args);
			v->args = NULL;
			return CORPC_EINVAL;
		}
		grpc_arg *a = NULL;
		for (size_t k = 0; k < v->n && a == NULL; k++) {
			if (strcmp(v->args[k].key, u->key) == 0) {
				a = &v->args[k];
			}
		}
		if (a == NULL) {
			a = &v->args[v->n++];
		}
		*a = u->string_value != NULL ? str_arg(u->key, u->string_value)
		                             : int_arg(u->key, u->int_value);
	}
	return CORPC_OK;
}

void
corpc__grpc_argv_fini(corpc__grpc_argv *v)
{
	free(v->args);
	v->args = NULL;
	v->n    = 0;
}
