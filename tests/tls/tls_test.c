// SPDX-License-Identifier: MIT
// TLS on the network transport (tls.h): calls over TLS and mutual TLS,
// every handshake failure as a prompt UNAVAILABLE that says what went
// wrong, bad configuration as CORPC_ETLS at open or listen, PEM text not
// needed after open or listen, unix:// and inproc:// ignoring TLS, and the
// umask deciding who may connect to a unix:// socket.
//
// Usage: tls_test CERT_DIR, the folder make_certs.sh filled (the CTest
// fixture tls_certs runs it first).
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "echo_service.h"
#include "test_certs.h"

typedef Corpc__Test__EchoRequest  Req;
typedef Corpc__Test__EchoResponse Resp;

static test_certs pem;
static char       tmpdir[64];

// ---- helpers ------------------------------------------------------------

// True if `text` contains `word`, ignoring case.
static bool
contains(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text; *p != '\0'; p++) {
		size_t i = 0;
		while (i < n && tolower((unsigned char) p[i]) ==
		                    tolower((unsigned char) word[i])) {
			i++;
		}
		if (i == n) {
			return true;
		}
	}
	return false;
}

static corpc_server *
serve_tls(const char *addr, echo_server *es, const corpc_tls_server *tls)
{
	corpc_server_opts opts = {.tls = tls};
	es->inner              = NULL;
	corpc_server *s        = echo_serve(addr, es, &opts);
	assert_non_null(s);
	return s;
}

static corpc_channel *
dial_tls(const char *addr, const corpc_tls_client *tls)
{
	corpc_channel     *ch;
	corpc_channel_opts opts = {.tls = tls};
	assert_int_equal(corpc_channel_open(addr, &opts, &ch), CORPC_OK);
	return ch;
}

// One unary Echo call with a deadline of `timeout_ms`; returns its code
// and copies the status message into `msg`.
static corpc_status_code
echo_call(corpc_channel *ch, int64_t timeout_ms, char *msg, size_t msg_size)
{
	Req req                = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text               = "hello";
	corpc_call_opts   opts = {.timeout_ms = timeout_ms};
	const Resp       *resp;
	corpc_stream     *st;
	corpc_status      status = {0};
	corpc_status_code code =
	    corpc__test__echo__unary_call(ch, &opts, &req, &resp, &st);
	assert_non_null(st);
	if (code == CORPC_STATUS_OK) {
		assert_string_equal(resp->text, "hello");
	}
	corpc_stream_finish(st, &status);
	snprintf(msg, msg_size, "%s", status.message);
	corpc_stream_destroy(st);
	return code;
}

static void
expect_ok(corpc_channel *ch)
{
	char msg[1024];
	assert_int_equal(
	    echo_call(ch, 20000, msg, sizeof(msg)), CORPC_STATUS_OK);
}

// A call on `ch` fails promptly with UNAVAILABLE and a message that names
// TLS or the handshake, plus `detail` if not NULL; a stream fails alike.
static void
expect_handshake_failure(corpc_channel *ch, const char *detail)
{
	char    msg[2048];
	int64_t t0 = corpc_now();
	// A generous deadline: failing by it would be a hang, not fail-fast.
	corpc_status_code code = echo_call(ch, 20000, msg, sizeof(msg));
	int64_t           ms   = (corpc_now() - t0) / 1000000;
	print_message("  %s after %lld ms: %s\n", corpc_status_name(code),
	    (long long) ms, msg);
	assert_int_equal(code, CORPC_STATUS_UNAVAILABLE);
	assert_true(ms < 10000);
	assert_true(contains(msg, "TLS") || contains(msg, "handshake"));
	if (detail != NULL) {
		assert_true(contains(msg, detail));
	}
	Req req              = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "s";
	req.count            = 3;
	corpc_call_opts opts = {.timeout_ms = 20000};
	corpc_stream   *st;
	const Resp     *r;
	corpc_status    status;
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, &opts, &req, &st),
	    CORPC_OK);
	assert_int_equal(corpc__test__echo__server_stream_recv(st, &r),
	    CORPC_STATUS_UNAVAILABLE);
	assert_null(r);
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_UNAVAILABLE);
	assert_true(contains(status.message, "TLS") ||
	            contains(status.message, "handshake"));
	corpc_stream_destroy(st);
	assert_true((corpc_now() - t0) / 1000000 < 20000);
}

static corpc_tls_server
server_tls(void)
{
	return (corpc_tls_server) {.cert_chain_pem = pem.server_crt,
	    .private_key_pem                       = pem.server_key};
}

static corpc_tls_server
server_mtls(void)
{
	return (corpc_tls_server) {.cert_chain_pem = pem.server_crt,
	    .private_key_pem                       = pem.server_key,
	    .client_roots_pem                      = pem.ca,
	    .require_client_cert                   = true};
}

// ---- calls over TLS -------------------------------------------------------

// Unary with metadata both ways, a 10,000-message server stream and a
// 10,000-message client stream, over one TLS channel.
static void
check_calls(corpc_channel *ch)
{
	// Unary, metadata echoed into headers and trailers.
	corpc_metadata *md;
	assert_int_equal(corpc_metadata_create(&md), CORPC_OK);
	assert_int_equal(
	    corpc_metadata_add_str(md, "x-tls", "secret"), CORPC_OK);
	Req req              = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text             = "over tls";
	req.echo_metadata    = true;
	corpc_call_opts opts = {.metadata = md, .timeout_ms = 60000};
	const Resp     *resp;
	corpc_stream   *st;
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, &opts, &req, &resp, &st),
	    CORPC_STATUS_OK);
	assert_string_equal(resp->text, "over tls");
	const corpc_metadata *hdr;
	assert_int_equal(corpc_stream_headers(st, &hdr), CORPC_STATUS_OK);
	const corpc_metadata_entry *e = corpc_metadata_get(hdr, "h-x-tls");
	assert_non_null(e);
	assert_memory_equal(e->value, "secret", 6);
	e = corpc_metadata_get(corpc_stream_trailers(st), "t-x-tls");
	assert_non_null(e);
	assert_memory_equal(e->value, "secret", 6);
	corpc_stream_destroy(st);
	corpc_metadata_destroy(md);

	// 10,000 responses, in order.
	Req sreq              = CORPC__TEST__ECHO_REQUEST__INIT;
	sreq.text             = "s";
	sreq.count            = 10000;
	corpc_call_opts sopts = {.timeout_ms = 120000};
	assert_int_equal(
	    corpc__test__echo__server_stream_open(ch, &sopts, &sreq, &st),
	    CORPC_OK);
	int         n = 0;
	const Resp *r;
	while (
	    corpc__test__echo__server_stream_recv(st, &r) == CORPC_STATUS_OK &&
	    r != NULL) {
		assert_int_equal(r->index, n);
		n++;
	}
	assert_int_equal(n, 10000);
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);

	// 10,000 requests.
	assert_int_equal(
	    corpc__test__echo__client_stream_open(ch, &sopts, &st), CORPC_OK);
	Req creq  = CORPC__TEST__ECHO_REQUEST__INIT;
	creq.text = "c";
	for (int i = 0; i < 10000; i++) {
		assert_int_equal(
		    corpc__test__echo__client_stream_send(st, &creq, 0),
		    CORPC_STATUS_OK);
	}
	assert_int_equal(
	    corpc__test__echo__client_stream_close_and_recv(st, &resp),
	    CORPC_STATUS_OK);
	assert_int_equal(strlen(resp->text), 4095); // "c" x 10,000, truncated
	assert_int_equal(corpc_stream_finish(st, NULL), CORPC_STATUS_OK);
	corpc_stream_destroy(st);
}

static void
test_tls_calls(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server stls = server_tls();
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &stls);
	const char            *a = corpc_server_address(s, 0);
	const char            *port = strrchr(a, ':') + 1;

	// By IP address (the certificate's IP SAN).
	corpc_tls_client ctls = {.root_certs_pem = pem.ca};
	corpc_channel   *ch   = dial_tls(a, &ctls);
	check_calls(ch);
	corpc_channel_close(ch);

	// By name (its DNS SAN), and by IP checked against a name.
	char byname[64];
	snprintf(byname, sizeof(byname), "tcp://localhost:%s", port);
	ch = dial_tls(byname, &ctls);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_tls_client named = {
	    .root_certs_pem = pem.ca, .server_name_override = "localhost"};
	ch = dial_tls(a, &named);
	expect_ok(ch);
	corpc_channel_close(ch);

	// A server's own UNAVAILABLE is passed on as it is, whatever it says.
	Req req          = CORPC__TEST__ECHO_REQUEST__INIT;
	req.text         = "x";
	req.fail_code    = CORPC_STATUS_UNAVAILABLE;
	req.fail_message = "ssl certificate handshake failed (application)";
	const Resp   *resp;
	corpc_stream *st;
	corpc_status  status;
	ch = dial_tls(a, &ctls);
	assert_int_equal(
	    corpc__test__echo__unary_call(ch, NULL, &req, &resp, &st),
	    CORPC_STATUS_UNAVAILABLE);
	assert_int_equal(
	    corpc_stream_finish(st, &status), CORPC_STATUS_UNAVAILABLE);
	assert_string_equal(status.message, req.fail_message);
	corpc_stream_destroy(st);
	corpc_channel_close(ch);

	// A client certificate the server does not ask for is harmless.
	corpc_tls_client with_cert = {.root_certs_pem = pem.ca,
	    .cert_chain_pem                           = pem.client_crt,
	    .private_key_pem                          = pem.client_key};
	ch                         = dial_tls(a, &with_cert);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

static void
test_mtls_calls(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server mtls = server_mtls();
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &mtls);
	corpc_tls_client       ctls = {.root_certs_pem = pem.ca,
	          .cert_chain_pem                      = pem.client_crt,
	          .private_key_pem                     = pem.client_key};
	corpc_channel *ch = dial_tls(corpc_server_address(s, 0), &ctls);
	check_calls(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// ---- who is calling
// ---------------------------------------------------------

typedef struct seen_peer {
	int    calls;
	char   address[128];
	bool   tls;
	char   subject[256]; // "" when NULL
	size_t san_count;
	char   san0[128];
} seen_peer;

// A server interceptor that records corpc_ctx_peer for the last call.
static corpc_status_code
record_peer(void *self, corpc_call *call)
{
	seen_peer *s = self;
	corpc_peer p;
	if (corpc_ctx_peer(corpc_call_ctx(call), &p) != CORPC_OK) {
		return corpc_call_refuse(
		    call, CORPC_STATUS_INTERNAL, "no peer");
	}
	s->calls++;
	snprintf(s->address, sizeof(s->address), "%s", p.address);
	s->tls = p.tls;
	snprintf(
	    s->subject, sizeof(s->subject), "%s", p.subject ? p.subject : "");
	s->san_count = p.san_count;
	snprintf(
	    s->san0, sizeof(s->san0), "%s", p.san_count > 0 ? p.sans[0] : "");
	return CORPC_STATUS_OK;
}

static void
test_peer_identity(void **state)
{
	(void) state;
	seen_peer               seen = {0};
	const corpc_interceptor rec  = {
	     .name = "peer", .self = &seen, .start = record_peer};
	const corpc_tls_server mtls = server_mtls();
	corpc_server_opts      opts = {
	         .tls = &mtls, .interceptors = &rec, .interceptor_count = 1};
	echo_server   es = {0};
	corpc_server *s  = echo_serve("tcp://127.0.0.1:0", &es, &opts);
	assert_non_null(s);
	corpc_tls_client ctls = {.root_certs_pem = pem.ca,
	    .cert_chain_pem                      = pem.client_crt,
	    .private_key_pem                     = pem.client_key};
	corpc_channel   *ch   = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_ok(ch);
	corpc_channel_close(ch);
	assert_int_equal(seen.calls, 1);
	print_message("  peer %s tls=%d subject=%s sans=%zu %s\n",
	    seen.address, seen.tls, seen.subject, seen.san_count, seen.san0);
	assert_true(strncmp(seen.address, "ipv4:127.0.0.1:", 15) == 0);
	assert_true(seen.tls);
	assert_true(contains(seen.subject, "CN=corpc test client"));
	assert_int_equal(seen.san_count, 1);
	assert_string_equal(seen.san0, "client.corpc.test");
	corpc_server_destroy(s);

	// Plaintext: no TLS, no subject; in-process: "inproc".
	opts.tls = NULL;
	s        = echo_serve("tcp://127.0.0.1:0", &es, &opts);
	assert_non_null(s);
	ch = dial_tls(corpc_server_address(s, 0), NULL);
	expect_ok(ch);
	corpc_channel_close(ch);
	assert_int_equal(seen.calls, 2);
	// corpc's own acceptor took this connection (gRPC knows it only as
	// "fd:N"); the address is the client's all the same.
	print_message("  plaintext peer %s\n", seen.address);
	assert_true(strncmp(seen.address, "ipv4:127.0.0.1:", 15) == 0);
	assert_true(atoi(seen.address + 15) > 0);
	assert_false(seen.tls);
	assert_string_equal(seen.subject, "");
	assert_int_equal(seen.san_count, 0);
	corpc_server_destroy(s);
	s = echo_serve("unix:peer-test.sock", &es, &opts);
	assert_non_null(s);
	ch = dial_tls(corpc_server_address(s, 0), NULL);
	expect_ok(ch);
	corpc_channel_close(ch);
	assert_int_equal(seen.calls, 3);
	assert_true(strncmp(seen.address, "unix:", 5) == 0);
	assert_false(seen.tls);
	corpc_server_destroy(s);
	s = echo_serve("inproc://peer-test", &es, &opts);
	assert_non_null(s);
	assert_int_equal(
	    corpc_channel_open("inproc://peer-test", NULL, &ch), CORPC_OK);
	expect_ok(ch);
	corpc_channel_close(ch);
	assert_int_equal(seen.calls, 4);
	assert_string_equal(seen.address, "inproc");
	assert_false(seen.tls);
	corpc_server_destroy(s);
}

// client_roots_pem without require_client_cert: a certificate is checked
// if sent, but not required.
static void
test_optional_client_cert(void **state)
{
	(void) state;
	echo_server      es;
	corpc_tls_server opt    = server_mtls();
	opt.require_client_cert = false;
	corpc_server *s         = serve_tls("tcp://127.0.0.1:0", &es, &opt);
	const char   *a         = corpc_server_address(s, 0);

	corpc_tls_client none = {.root_certs_pem = pem.ca};
	corpc_channel   *ch   = dial_tls(a, &none);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_tls_client good = {.root_certs_pem = pem.ca,
	    .cert_chain_pem                      = pem.client_crt,
	    .private_key_pem                     = pem.client_key};
	ch                    = dial_tls(a, &good);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_tls_client other = {.root_certs_pem = pem.ca,
	    .cert_chain_pem                       = pem.client2_crt,
	    .private_key_pem                      = pem.client2_key};
	ch                     = dial_tls(a, &other);
	expect_handshake_failure(ch, NULL);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// ---- handshake failures ---------------------------------------------------

static void
test_wrong_ca(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server stls = server_tls();
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &stls);
	corpc_tls_client       wrong = {.root_certs_pem = pem.ca2};
	corpc_channel *ch = dial_tls(corpc_server_address(s, 0), &wrong);
	expect_handshake_failure(ch, "not trusted");
	corpc_channel_close(ch);
	assert_int_equal(atomic_load(&es.stats.started), 0);
	corpc_server_destroy(s);
}

static void
test_expired_server_cert(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server etls = {.cert_chain_pem = pem.expired_crt,
	    .private_key_pem                           = pem.expired_key};
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &etls);
	corpc_tls_client       ctls = {.root_certs_pem = pem.ca};
	corpc_channel *ch = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_handshake_failure(ch, "expired");
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

static void
test_name_mismatch(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server stls = server_tls();
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &stls);
	corpc_tls_client       ctls = {
	          .root_certs_pem = pem.ca, .server_name_override = "other.example"};
	corpc_channel *ch = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_handshake_failure(ch, "host name");
	corpc_channel_close(ch);

	// The same through a string gRPC argument passed as it is.
	const corpc_grpc_arg name[] = {{.key = "grpc.ssl_target_name_override",
	    .string_value                    = "other.example"}};
	const corpc_tls_client roots = {.root_certs_pem = pem.ca};
	corpc_channel_opts     o     = {
	            .tls = &roots, .grpc_args = name, .grpc_arg_count = 1};
	assert_int_equal(
	    corpc_channel_open(corpc_server_address(s, 0), &o, &ch), CORPC_OK);
	expect_handshake_failure(ch, "other.example");
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

static void
test_plaintext_client_tls_server(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server stls = server_tls();
	corpc_server          *s  = serve_tls("tcp://127.0.0.1:0", &es, &stls);
	corpc_channel         *ch = dial_tls(corpc_server_address(s, 0), NULL);
	expect_handshake_failure(ch, "plaintext");
	corpc_channel_close(ch);
	// The server is unharmed: a TLS client still gets through.
	corpc_tls_client ctls = {.root_certs_pem = pem.ca};
	ch                    = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

static void
test_tls_client_plaintext_server(void **state)
{
	(void) state;
	echo_server      es;
	corpc_server    *s    = serve_tls("tcp://127.0.0.1:0", &es, NULL);
	corpc_tls_client ctls = {.root_certs_pem = pem.ca};
	corpc_channel   *ch   = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_handshake_failure(ch, "does not speak TLS");
	corpc_channel_close(ch);
	ch = dial_tls(corpc_server_address(s, 0), NULL);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// gRPC's error lines about the failed handshake go to the log hook while
// one is set (corpc_log_set), and no longer once it is removed.
static atomic_int grpc_error_lines;

static void
count_grpc_errors(corpc_log_level level, const char *text, void *arg)
{
	(void) arg;
	if (level == CORPC_LOG_ERROR &&
	    strncmp(text, "grpc ERROR ", 11) == 0) {
		atomic_fetch_add(&grpc_error_lines, 1);
	}
}

static void
test_mtls_missing_client_cert(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server mtls = server_mtls();
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &mtls);
	corpc_tls_client       ctls = {.root_certs_pem = pem.ca};
	corpc_log_set(count_grpc_errors, NULL);
	corpc_channel *ch = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_handshake_failure(ch, "client certificate");
	corpc_channel_close(ch);
	corpc_log_set(NULL, NULL);
	int seen = atomic_load(&grpc_error_lines);
	assert_true(seen > 0);
	ch = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_handshake_failure(ch, "client certificate");
	corpc_channel_close(ch);
	assert_int_equal(atomic_load(&grpc_error_lines), seen);
	assert_int_equal(atomic_load(&es.stats.started), 0);
	corpc_server_destroy(s);
}

static void
test_mtls_client_cert_of_other_ca(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server mtls = server_mtls();
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &mtls);
	corpc_tls_client       ctls = {.root_certs_pem = pem.ca,
	          .cert_chain_pem                      = pem.client2_crt,
	          .private_key_pem                     = pem.client2_key};
	corpc_channel *ch = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_handshake_failure(ch, "client certificate");
	corpc_channel_close(ch);
	assert_int_equal(atomic_load(&es.stats.started), 0);
	corpc_server_destroy(s);
}

// Not every UNAVAILABLE on a TLS channel is about TLS: nobody listening is
// said as such.
static void
test_refused_is_not_tls(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server stls = server_tls();
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &stls);
	char                   addr[64];
	snprintf(addr, sizeof(addr), "%s", corpc_server_address(s, 0));
	corpc_server_destroy(s); // the port is free now
	corpc_tls_client ctls = {.root_certs_pem = pem.ca};
	corpc_channel   *ch   = dial_tls(addr, &ctls);
	char             msg[1024];
	assert_int_equal(
	    echo_call(ch, 20000, msg, sizeof(msg)), CORPC_STATUS_UNAVAILABLE);
	assert_false(contains(msg, "TLS"));
	corpc_channel_close(ch);
}

// With no root_certs_pem, gRPC's default roots apply: the test CA is not
// among them, so the call fails (and does not hang or crash).
static void
test_default_roots(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server stls = server_tls();
	corpc_server          *s = serve_tls("tcp://127.0.0.1:0", &es, &stls);
	corpc_tls_client       ctls = {0};
	corpc_channel *ch = dial_tls(corpc_server_address(s, 0), &ctls);
	char           msg[1024];
	int64_t        t0 = corpc_now();
	assert_int_equal(
	    echo_call(ch, 20000, msg, sizeof(msg)), CORPC_STATUS_UNAVAILABLE);
	assert_true((corpc_now() - t0) / 1000000 < 10000);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// ---- configuration
// ----------------------------------------------------------

static corpc_err
open_err(const char *addr, const corpc_tls_client *tls)
{
	corpc_channel     *ch   = NULL;
	corpc_channel_opts opts = {.tls = tls};
	corpc_err          rv   = corpc_channel_open(addr, &opts, &ch);
	corpc_channel_close(ch);
	return rv;
}

static corpc_err
listen_err(const char *addr, const corpc_tls_server *tls)
{
	corpc_server     *s;
	corpc_server_opts opts = {.tls = tls};
	assert_int_equal(corpc_server_create(&opts, &s), CORPC_OK);
	corpc_err rv = corpc_server_listen(s, addr);
	corpc_server_destroy(s);
	return rv;
}

static void
test_bad_config(void **state)
{
	(void) state;
	const char *tcp = "tcp://127.0.0.1:1";
	assert_string_equal(
	    corpc_strerror(CORPC_ETLS), "invalid TLS configuration");
	assert_string_equal(corpc_err_name(CORPC_ETLS), "CORPC_ETLS");

	// A damaged certificate (a character that is not base64), and one cut
	// short.
	char *damaged = strdup(pem.ca);
	assert_non_null(damaged);
	strchr(damaged, '\n')[20] = '*';
	char *no_end              = strdup(pem.ca);
	assert_non_null(no_end);
	*strstr(no_end, "-----END") = '\0';

	// Channel.
	const corpc_tls_client bad_clients[] = {
	    {.root_certs_pem = "not a certificate"},
	    {.root_certs_pem = ""},
	    {.root_certs_pem = damaged},
	    {.root_certs_pem = no_end},
	    {.root_certs_pem = pem.server_key}, // a key, not a certificate
	    {.root_certs_pem = pem.ca, .cert_chain_pem = pem.client_crt},
	    {.root_certs_pem = pem.ca, .private_key_pem = pem.client_key},
	    {.root_certs_pem     = pem.ca,
	        .cert_chain_pem  = pem.client_crt,
	        .private_key_pem = pem.server_key}, // not its key
	    {.root_certs_pem     = pem.ca,
	        .cert_chain_pem  = pem.client_key,
	        .private_key_pem = pem.client_key},
	    {.root_certs_pem     = pem.ca,
	        .cert_chain_pem  = pem.client_crt,
	        .private_key_pem = "garbage"},
	    {.root_certs_pem = pem.ca, .server_name_override = ""},
	};
	for (size_t i = 0; i < sizeof(bad_clients) / sizeof(bad_clients[0]);
	     i++) {
		print_message("  bad client config %zu\n", i);
		assert_int_equal(open_err(tcp, &bad_clients[i]), CORPC_ETLS);
	}

	// Server.
	const corpc_tls_server bad_servers[] = {
	    {.cert_chain_pem = pem.server_crt},
	    {.private_key_pem = pem.server_key},
	    {.cert_chain_pem = damaged, .private_key_pem = pem.server_key},
	    {.cert_chain_pem     = pem.server_crt,
	        .private_key_pem = pem.client_key},
	    {.cert_chain_pem = pem.server_crt, .private_key_pem = "garbage"},
	    {.cert_chain_pem         = pem.server_crt,
	        .private_key_pem     = pem.server_key,
	        .require_client_cert = true}, // no client roots
	    {.cert_chain_pem      = pem.server_crt,
	        .private_key_pem  = pem.server_key,
	        .client_roots_pem = "junk"},
	    {.cert_chain_pem         = pem.server_crt,
	        .private_key_pem     = pem.server_key,
	        .client_roots_pem    = no_end,
	        .require_client_cert = true},
	};
	for (size_t i = 0; i < sizeof(bad_servers) / sizeof(bad_servers[0]);
	     i++) {
		print_message("  bad server config %zu\n", i);
		assert_int_equal(
		    listen_err("tcp://127.0.0.1:0", &bad_servers[i]),
		    CORPC_ETLS);
	}

	// unix:// and inproc:// ignore TLS, even a broken configuration.
	char path[128];
	snprintf(path, sizeof(path), "unix://%s/bad.sock", tmpdir);
	assert_int_equal(open_err(path, &bad_clients[0]), CORPC_OK);
	assert_int_equal(
	    open_err("inproc://tls-bad", &bad_clients[0]), CORPC_OK);
	assert_int_equal(listen_err(path, &bad_servers[0]), CORPC_OK);
	assert_int_equal(
	    listen_err("inproc://tls-bad", &bad_servers[0]), CORPC_OK);
	free(damaged);
	free(no_end);
}

// The PEM text may be freed once open and listen have returned: gRPC has
// its own copy (ASan would see a use after free otherwise).
static void
test_pem_copied(void **state)
{
	(void) state;
	corpc_tls_server *stls = calloc(1, sizeof(*stls));
	assert_non_null(stls);
	stls->cert_chain_pem      = strdup(pem.server_crt);
	stls->private_key_pem     = strdup(pem.server_key);
	stls->client_roots_pem    = strdup(pem.ca);
	stls->require_client_cert = true;
	echo_server       es;
	corpc_server     *s;
	corpc_server_opts opts = {.tls = stls};
	echo_stats_reset(&es.stats);
	es.inner = NULL;
	assert_int_equal(corpc_server_create(&opts, &s), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(s, &echo_impl, &es), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(s, "tcp://127.0.0.1:0"), CORPC_OK);
	free((char *) stls->cert_chain_pem);
	free((char *) stls->private_key_pem);
	free((char *) stls->client_roots_pem);
	free(stls);
	assert_int_equal(corpc_server_start(s), CORPC_OK);

	corpc_tls_client *ctls = calloc(1, sizeof(*ctls));
	assert_non_null(ctls);
	ctls->root_certs_pem       = strdup(pem.ca);
	ctls->cert_chain_pem       = strdup(pem.client_crt);
	ctls->private_key_pem      = strdup(pem.client_key);
	ctls->server_name_override = strdup("localhost");
	corpc_channel *ch = dial_tls(corpc_server_address(s, 0), ctls);
	free((char *) ctls->root_certs_pem);
	free((char *) ctls->cert_chain_pem);
	free((char *) ctls->private_key_pem);
	free((char *) ctls->server_name_override);
	free(ctls);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

// One server with TLS options listening on tcp:// and unix://: TLS on the
// first, plaintext on the second, whatever the client's options say.
static void
test_unix_stays_plaintext(void **state)
{
	(void) state;
	echo_server            es;
	const corpc_tls_server mtls = server_mtls();
	corpc_server          *s;
	corpc_server_opts      opts = {.tls = &mtls};
	char                   path[128];
	snprintf(path, sizeof(path), "unix://%s/tls.sock", tmpdir);
	echo_stats_reset(&es.stats);
	es.inner = NULL;
	assert_int_equal(corpc_server_create(&opts, &s), CORPC_OK);
	assert_int_equal(
	    corpc__test__echo__register_server(s, &echo_impl, &es), CORPC_OK);
	assert_int_equal(
	    corpc_server_listen(s, "tcp://127.0.0.1:0"), CORPC_OK);
	assert_int_equal(corpc_server_listen(s, path), CORPC_OK);
	assert_int_equal(corpc_server_start(s), CORPC_OK);

	corpc_channel *ch = dial_tls(path, NULL);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_tls_client ctls = {.root_certs_pem = pem.ca,
	    .cert_chain_pem                      = pem.client_crt,
	    .private_key_pem                     = pem.client_key};
	ch                    = dial_tls(path, &ctls);
	expect_ok(ch);
	corpc_channel_close(ch);
	ch = dial_tls(corpc_server_address(s, 0), &ctls);
	expect_ok(ch);
	corpc_channel_close(ch);
	ch = dial_tls(corpc_server_address(s, 0), NULL);
	expect_handshake_failure(ch, NULL);
	corpc_channel_close(ch);
	assert_int_equal(atomic_load(&es.stats.started), 3);
	corpc_server_destroy(s);
}

// What README's TLS section says about unix:// access: the socket file
// gets the process umask, so umask(077) leaves it to the owner.
static void
test_unix_socket_umask(void **state)
{
	(void) state;
	echo_server es;
	char        addr[160], path[128];
	snprintf(path, sizeof(path), "%s/private.sock", tmpdir);
	snprintf(addr, sizeof(addr), "unix://%s", path);
	mode_t        old = umask(077);
	corpc_server *s   = serve_tls(addr, &es, NULL);
	umask(old);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	corpc_channel *ch = dial_tls(addr, NULL);
	expect_ok(ch);
	corpc_channel_close(ch);
	corpc_server_destroy(s);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CERT_DIR\n", argv[0]);
		return 2;
	}
	test_certs_load(&pem, argv[1]);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/corpc-tls-test-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_calls),
	    cmocka_unit_test(test_mtls_calls),
	    cmocka_unit_test(test_peer_identity),
	    cmocka_unit_test(test_optional_client_cert),
	    cmocka_unit_test(test_wrong_ca),
	    cmocka_unit_test(test_expired_server_cert),
	    cmocka_unit_test(test_name_mismatch),
	    cmocka_unit_test(test_plaintext_client_tls_server),
	    cmocka_unit_test(test_tls_client_plaintext_server),
	    cmocka_unit_test(test_mtls_missing_client_cert),
	    cmocka_unit_test(test_mtls_client_cert_of_other_ca),
	    cmocka_unit_test(test_refused_is_not_tls),
	    cmocka_unit_test(test_default_roots),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_pem_copied),
	    cmocka_unit_test(test_unix_stays_plaintext),
	    cmocka_unit_test(test_unix_socket_umask),
	};
	int  rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void) system(cmd);
	test_certs_free(&pem);
	return rc;
}
