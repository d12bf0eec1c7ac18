// SPDX-License-Identifier: MIT
// gRPC's official compression interop cases, both sides (see
// compression_cases.h). Sizes and steps follow the case descriptions.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "compression_cases.h"

typedef Grpc__Testing__SimpleRequest               SimpleReq;
typedef Grpc__Testing__SimpleResponse              SimpleResp;
typedef Grpc__Testing__StreamingInputCallRequest   InReq;
typedef Grpc__Testing__StreamingInputCallResponse  InResp;
typedef Grpc__Testing__StreamingOutputCallRequest  OutReq;
typedef Grpc__Testing__StreamingOutputCallResponse OutResp;

// Payloads larger than this are refused (the default message limit).
#define MAX_PAYLOAD (4 << 20)

static bool
is_true(const Grpc__Testing__BoolValue *b)
{
	return b != NULL && b->value;
}

// ---- the server side
// ----------------------------------------------------------

// CompressedRequest: a request that says it is compressed must be.
static corpc_status_code
check_compressed(corpc_ctx *ctx, const Grpc__Testing__BoolValue *expect)
{
	if (is_true(expect) &&
	    corpc_ctx_received_compression(ctx) == CORPC_COMPRESS_NONE) {
		return corpc_ctx_error(ctx, CORPC_STATUS_INVALID_ARGUMENT,
		    "expect_compressed is true but the request came "
		    "uncompressed");
	}
	return CORPC_STATUS_OK;
}

// A zeroed payload body of `size` bytes in *buf (the caller frees it).
static corpc_status_code
zero_payload(corpc_ctx *ctx, int32_t size, uint8_t **buf)
{
	if (size < 0) {
		return corpc_ctx_error(ctx, CORPC_STATUS_INVALID_ARGUMENT,
		    "negative payload size %d", (int) size);
	}
	if (size > MAX_PAYLOAD) {
		return corpc_ctx_error(ctx, CORPC_STATUS_RESOURCE_EXHAUSTED,
		    "payload size %d over the limit of %d", (int) size,
		    MAX_PAYLOAD);
	}
	*buf = calloc(1, (size_t) size + 1);
	if (*buf == NULL) {
		return corpc_ctx_error(
		    ctx, CORPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	}
	return CORPC_STATUS_OK;
}

static corpc_status_code
ts_unary_call(void *self, corpc_ctx *ctx, const SimpleReq *req)
{
	(void) self;
	uint8_t          *body = NULL;
	corpc_status_code rc   = check_compressed(ctx, req->expect_compressed);
	if (rc == CORPC_STATUS_OK) {
		rc = zero_payload(ctx, req->response_size, &body);
	}
	if (rc != CORPC_STATUS_OK) {
		return rc;
	}
	// CompressedResponse: absent leaves the server's default.
	if (req->response_compressed != NULL) {
		(void) corpc_ctx_set_compression(ctx,
		    req->response_compressed->value ? CORPC_COMPRESS_GZIP
		                                    : CORPC_COMPRESS_NONE);
	}
	Grpc__Testing__Payload payload = GRPC__TESTING__PAYLOAD__INIT;
	payload.body =
	    (ProtobufCBinaryData) {(size_t) req->response_size, body};
	SimpleResp resp = GRPC__TESTING__SIMPLE_RESPONSE__INIT;
	resp.payload    = &payload;
	rc = grpc__testing__test_service__unary_call_write(ctx, &resp, 0);
	free(body);
	return rc;
}

// Each response compressed as its parameters ask, the others not.
static corpc_status_code
ts_streaming_output_call(void *self, corpc_ctx *ctx, const OutReq *req)
{
	(void) self;
	bool any = false;
	for (size_t i = 0; i < req->n_response_parameters; i++) {
		any = any || is_true(req->response_parameters[i]->compressed);
	}
	(void) corpc_ctx_set_compression(
	    ctx, any ? CORPC_COMPRESS_GZIP : CORPC_COMPRESS_NONE);
	corpc_status_code rc = CORPC_STATUS_OK;
	for (size_t i = 0; i < req->n_response_parameters; i++) {
		const Grpc__Testing__ResponseParameters *p =
		    req->response_parameters[i];
		uint8_t *body = NULL;
		if ((rc = zero_payload(ctx, p->size, &body)) !=
		    CORPC_STATUS_OK) {
			break;
		}
		Grpc__Testing__Payload payload = GRPC__TESTING__PAYLOAD__INIT;
		payload.body = (ProtobufCBinaryData) {(size_t) p->size, body};
		OutResp resp =
		    GRPC__TESTING__STREAMING_OUTPUT_CALL_RESPONSE__INIT;
		resp.payload = &payload;
		rc           = corpc_ctx_send(ctx, &resp.base,
                    is_true(p->compressed) ? 0 : CORPC_WRITE_NO_COMPRESS);
		free(body);
		if (rc != CORPC_STATUS_OK) {
			break;
		}
	}
	return rc;
}

// Sums the payloads; each request that says it is compressed must be.
static corpc_status_code
ts_streaming_input_call(void *self, corpc_ctx *ctx)
{
	(void) self;
	const InReq      *req;
	corpc_status_code rc;
	int64_t           total = 0;
	while ((rc = grpc__testing__test_service__streaming_input_call_read(
	            ctx, &req)) == CORPC_STATUS_OK &&
	       req != NULL) {
		if ((rc = check_compressed(ctx, req->expect_compressed)) !=
		    CORPC_STATUS_OK) {
			return rc;
		}
		if (req->payload != NULL) {
			total += (int64_t) req->payload->body.len;
		}
		if (total > INT32_MAX) {
			return corpc_ctx_error(ctx,
			    CORPC_STATUS_RESOURCE_EXHAUSTED,
			    "aggregated payload size over 2^31");
		}
	}
	if (rc != CORPC_STATUS_OK) {
		return rc;
	}
	InResp resp = GRPC__TESTING__STREAMING_INPUT_CALL_RESPONSE__INIT;
	resp.aggregated_payload_size = (int32_t) total;
	return grpc__testing__test_service__streaming_input_call_write(
	    ctx, &resp, 0);
}

const Grpc__Testing__TestService_Server compression_test_service = {
    .unary_call            = ts_unary_call,
    .streaming_output_call = ts_streaming_output_call,
    .streaming_input_call  = ts_streaming_input_call,
};

// ---- the client side
// ----------------------------------------------------------

static uint8_t zeros[271828]; // the largest payload the cases send

static void
passed(const char *name)
{
	printf("case %s: passed\n", name);
	fflush(stdout);
}

static bool
all_zero(const ProtobufCBinaryData *b)
{
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] != 0) {
			return false;
		}
	}
	return true;
}

static void
check_payload(const Grpc__Testing__Payload *p, size_t size)
{
	assert_non_null(p);
	assert_int_equal(p->body.len, size);
	assert_true(all_zero(&p->body));
}

// UnaryCall with the large_unary sizes; returns the code, and with OK
// also how the response came (*got).
static corpc_status_code
unary(corpc_channel *ch, corpc_compression send, const SimpleReq *req,
    corpc_compression *got)
{
	corpc_call_opts   opts = {.timeout_ms = 20000, .compression = send};
	const SimpleResp *resp;
	corpc_stream     *st;
	corpc_status_code code = grpc__testing__test_service__unary_call_call(
	    ch, &opts, req, &resp, &st);
	assert_non_null(st);
	if (code == CORPC_STATUS_OK) {
		check_payload(resp->payload, 314159);
		*got = corpc_stream_received_compression(st);
	}
	corpc_stream_destroy(st);
	return code;
}

// The cases' SimpleRequest: 271828 bytes of zeros in, 314159 asked back.
static void
large_unary_request(SimpleReq *req, Grpc__Testing__Payload *payload)
{
	*payload      = (Grpc__Testing__Payload) GRPC__TESTING__PAYLOAD__INIT;
	payload->body = (ProtobufCBinaryData) {271828, zeros};
	*req          = (SimpleReq) GRPC__TESTING__SIMPLE_REQUEST__INIT;
	req->response_size = 314159;
	req->payload       = payload;
}

static void
client_compressed_unary(corpc_channel *ch)
{
	Grpc__Testing__BoolValue yes = GRPC__TESTING__BOOL_VALUE__INIT;
	Grpc__Testing__BoolValue no  = GRPC__TESTING__BOOL_VALUE__INIT;
	yes.value                    = true;
	Grpc__Testing__Payload payload;
	SimpleReq              req;
	large_unary_request(&req, &payload);
	req.expect_compressed = &yes;
	corpc_compression got;
	// The feature probe: uncompressed but claiming to be compressed.
	assert_int_equal(unary(ch, CORPC_COMPRESS_NONE, &req, &got),
	    CORPC_STATUS_INVALID_ARGUMENT);
	assert_int_equal(
	    unary(ch, CORPC_COMPRESS_GZIP, &req, &got), CORPC_STATUS_OK);
	req.expect_compressed = &no;
	assert_int_equal(
	    unary(ch, CORPC_COMPRESS_NONE, &req, &got), CORPC_STATUS_OK);
	passed("client_compressed_unary");
}

static void
server_compressed_unary(corpc_channel *ch)
{
	Grpc__Testing__BoolValue yes = GRPC__TESTING__BOOL_VALUE__INIT;
	Grpc__Testing__BoolValue no  = GRPC__TESTING__BOOL_VALUE__INIT;
	yes.value                    = true;
	Grpc__Testing__Payload payload;
	SimpleReq              req;
	large_unary_request(&req, &payload);
	req.response_compressed = &yes;
	corpc_compression got   = CORPC_COMPRESS_DEFAULT;
	assert_int_equal(
	    unary(ch, CORPC_COMPRESS_NONE, &req, &got), CORPC_STATUS_OK);
	assert_int_not_equal(got, CORPC_COMPRESS_NONE); // the flag was set
	req.response_compressed = &no;
	assert_int_equal(
	    unary(ch, CORPC_COMPRESS_NONE, &req, &got), CORPC_STATUS_OK);
	assert_int_equal(got, CORPC_COMPRESS_NONE);
	passed("server_compressed_unary");
}

// One StreamingInputCall sending `n` requests, the i-th with flags[i];
// returns the code, and with OK the aggregated size in *total and in
// `wire` how each request came as the peer saw it ("1,0": compressed,
// then not; the peer's x-wire-compressed trailer).
static corpc_status_code
input_call(corpc_channel *ch, corpc_compression send, InReq *const *reqs,
    const unsigned *flags, size_t n, int32_t *total, char *wire,
    size_t wire_size)
{
	corpc_call_opts opts = {.timeout_ms = 20000, .compression = send};
	corpc_stream   *st;
	assert_int_equal(
	    grpc__testing__test_service__streaming_input_call_open(
	        ch, &opts, &st),
	    CORPC_OK);
	for (size_t i = 0; i < n; i++) {
		// An early failure shows in close_and_recv.
		(void) corpc_stream_send(st, &reqs[i]->base, flags[i]);
	}
	const InResp     *resp;
	corpc_status_code code =
	    grpc__testing__test_service__streaming_input_call_close_and_recv(
	        st, &resp);
	if (code == CORPC_STATUS_OK) {
		*total = resp->aggregated_payload_size;
		corpc_stream_finish(st, NULL);
		const corpc_metadata_entry *e = corpc_metadata_get(
		    corpc_stream_trailers(st), "x-wire-compressed");
		assert_non_null(e);
		snprintf(wire, wire_size, "%.*s", (int) e->value_len,
		    (const char *) e->value);
	}
	corpc_stream_destroy(st);
	return code;
}

static void
client_compressed_streaming(corpc_channel *ch)
{
	Grpc__Testing__BoolValue yes = GRPC__TESTING__BOOL_VALUE__INIT;
	Grpc__Testing__BoolValue no  = GRPC__TESTING__BOOL_VALUE__INIT;
	yes.value                    = true;
	Grpc__Testing__Payload big   = GRPC__TESTING__PAYLOAD__INIT;
	Grpc__Testing__Payload small = GRPC__TESTING__PAYLOAD__INIT;
	small.body                   = (ProtobufCBinaryData) {27182, zeros};
	big.body                     = (ProtobufCBinaryData) {45904, zeros};
	InReq first   = GRPC__TESTING__STREAMING_INPUT_CALL_REQUEST__INIT;
	InReq second  = GRPC__TESTING__STREAMING_INPUT_CALL_REQUEST__INIT;
	first.payload = &small;
	first.expect_compressed  = &yes;
	second.payload           = &big;
	second.expect_compressed = &no;
	InReq *const reqs[]      = {&first, &second};
	int32_t      total       = 0;
	char         wire[16]    = "";
	// The feature probe, uncompressed.
	assert_int_equal(input_call(ch, CORPC_COMPRESS_NONE, reqs,
	                     (unsigned[]) {0}, 1, &total, wire, sizeof(wire)),
	    CORPC_STATUS_INVALID_ARGUMENT);
	// A compressed call whose second message goes uncompressed.
	assert_int_equal(input_call(ch, CORPC_COMPRESS_GZIP, reqs,
	                     (unsigned[]) {0, CORPC_WRITE_NO_COMPRESS}, 2,
	                     &total, wire, sizeof(wire)),
	    CORPC_STATUS_OK);
	assert_int_equal(total, 73086);
	assert_string_equal(wire, "1,0");
	passed("client_compressed_streaming");
}

static void
server_compressed_streaming(corpc_channel *ch)
{
	Grpc__Testing__BoolValue yes = GRPC__TESTING__BOOL_VALUE__INIT;
	Grpc__Testing__BoolValue no  = GRPC__TESTING__BOOL_VALUE__INIT;
	yes.value                    = true;
	Grpc__Testing__ResponseParameters p[2] = {
	    GRPC__TESTING__RESPONSE_PARAMETERS__INIT,
	    GRPC__TESTING__RESPONSE_PARAMETERS__INIT};
	p[0].compressed                             = &yes;
	p[0].size                                   = 31415;
	p[1].compressed                             = &no;
	p[1].size                                   = 92653;
	Grpc__Testing__ResponseParameters *params[] = {&p[0], &p[1]};
	OutReq req = GRPC__TESTING__STREAMING_OUTPUT_CALL_REQUEST__INIT;
	req.n_response_parameters = 2;
	req.response_parameters   = params;
	corpc_call_opts opts      = {.timeout_ms = 20000};
	corpc_stream   *st;
	assert_int_equal(
	    grpc__testing__test_service__streaming_output_call_open(
	        ch, &opts, &req, &st),
	    CORPC_OK);
	const OutResp    *resp;
	corpc_status_code code;
	size_t            n = 0;
	while ((code = grpc__testing__test_service__streaming_output_call_recv(
	            st, &resp)) == CORPC_STATUS_OK &&
	       resp != NULL) {
		assert_true(n < 2);
		check_payload(resp->payload, (size_t) p[n].size);
		corpc_compression got = corpc_stream_received_compression(st);
		if (n == 0) {
			assert_int_not_equal(got, CORPC_COMPRESS_NONE);
		} else {
			assert_int_equal(got, CORPC_COMPRESS_NONE);
		}
		n++;
	}
	assert_int_equal(code, CORPC_STATUS_OK);
	assert_int_equal(n, 2);
	corpc_stream_destroy(st);
	passed("server_compressed_streaming");
}

void
run_compression_cases(corpc_channel *ch)
{
	client_compressed_unary(ch);
	client_compressed_streaming(ch);
	server_compressed_unary(ch);
	server_compressed_streaming(ch);
}
