// SPDX-License-Identifier: MIT
// Address parsing: every scheme, and clear refusals for malformed input.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/address.h"
#include "transport/inproc/inproc.h"
#include "transport/transport.h"

static corpc__address
parse_ok(const char *text)
{
	corpc__address a;
	assert_int_equal(corpc__address_parse(text, &a), CORPC_OK);
	return a;
}

static void
test_inproc(void **state)
{
	(void) state;
	corpc__address a = parse_ok("inproc://svc.one");
	assert_int_equal(a.scheme, CORPC__SCHEME_INPROC);
	assert_string_equal(a.host, "svc.one");
	assert_string_equal(a.query, "");
	assert_string_equal(
	    parse_ok("inproc://x?mode=thread").query, "?mode=thread");
	assert_string_equal(parse_ok("inproc://x?mode=coro").host, "x");
}

// The inproc query is the transports' part: each says which it serves.
static const char *
transport_of(const char *text, bool listen)
{
	corpc__address          a = parse_ok(text);
	const corpc__transport *tp;
	corpc_err               rv = corpc__transport_for(&a, listen, &tp);
	if (rv != CORPC_OK) {
		return rv == CORPC_EADDRINVAL ? "EADDRINVAL" : "ENOTSUP";
	}
	return tp->name;
}

static void
test_inproc_modes(void **state)
{
	(void) state;
	assert_string_equal(transport_of("inproc://x", false), "coro");
	assert_string_equal(
	    transport_of("inproc://x?mode=coro", false), "coro");
	assert_string_equal(
	    transport_of("inproc://x?mode=thread", false), "thread");
	assert_string_equal(
	    transport_of("inproc://x?mode=thread-copy", false), "thread");
	assert_string_equal(
	    transport_of("inproc://x?mode=fast", false), "EADDRINVAL");
	assert_string_equal(
	    transport_of("inproc://x?mode=fast", true), "EADDRINVAL");
	assert_string_equal(transport_of("inproc://x?", false), "EADDRINVAL");
	// The modes known even where their transport is left out of the build
	// (then ENOTSUP, not EADDRINVAL).
	const char *known[] = {"inproc://x", "inproc://x?mode=coro",
	    "inproc://x?mode=thread", "inproc://x?mode=thread-copy"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		corpc__address k = parse_ok(known[i]);
		assert_true(corpc__inproc_mode_known(&k));
	}
	corpc__address fast = parse_ok("inproc://x?mode=fast");
	assert_false(corpc__inproc_mode_known(&fast));
	// One registry listens for every mode.
	const corpc__transport *coro, *thread;
	corpc__address          a = parse_ok("inproc://x");
	assert_int_equal(corpc__transport_for(&a, true, &coro), CORPC_OK);
	a = parse_ok("inproc://x?mode=thread");
	assert_int_equal(corpc__transport_for(&a, true, &thread), CORPC_OK);
	assert_ptr_equal(coro->listener, thread->listener);
	// Fan-out asks the transport, not the address.
	assert_true(coro->pull_driven);
	assert_false(thread->pull_driven);
}

// The table refuses a transport that lacks a required op.
static void
test_required_ops(void **state)
{
	(void) state;
	corpc__address          a = parse_ok("inproc://x");
	const corpc__transport *tp;
	assert_int_equal(corpc__transport_for(&a, false, &tp), CORPC_OK);
	assert_true(corpc__transport_complete(tp));
	corpc__channel_ops ops   = *tp->channel;
	corpc__transport   wrong = *tp;
	wrong.channel            = &ops;
	ops.s_recv               = NULL;
	assert_false(corpc__transport_complete(&wrong));
	ops.s_recv = tp->channel->s_recv;
	assert_true(corpc__transport_complete(&wrong));
	corpc__listener_ops lops = *tp->listener;
	wrong.listener           = &lops;
	lops.l_wait              = NULL;
	assert_false(corpc__transport_complete(&wrong));
	lops.l_wait  = tp->listener->l_wait;
	lops.l_drain = NULL; // optional
	assert_true(corpc__transport_complete(&wrong));
}

static void
test_tcp(void **state)
{
	(void) state;
	corpc__address a = parse_ok("tcp://127.0.0.1:50051");
	assert_int_equal(a.scheme, CORPC__SCHEME_TCP);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 50051);
	assert_string_equal(a.target, "127.0.0.1:50051");
	a = parse_ok("tcp://[::1]:0");
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 0);
	assert_string_equal(a.target, "[::1]:0");
	a = parse_ok("tcp://localhost:80");
	assert_string_equal(a.target, "localhost:80");
}

static void
test_unix(void **state)
{
	(void) state;
	corpc__address a = parse_ok("unix:///tmp/x.sock");
	assert_int_equal(a.scheme, CORPC__SCHEME_UNIX);
	assert_string_equal(a.host, "/tmp/x.sock");
	assert_string_equal(a.target, "unix:/tmp/x.sock");
	a = parse_ok("unix:rel/x.sock");
	assert_string_equal(a.host, "rel/x.sock");
	assert_string_equal(a.target, "unix:rel/x.sock");
	assert_string_equal(parse_ok("unix:/abs").host, "/abs");
}

// gRPC resolver URIs, for channels: passed on as they are.
static void
test_resolver_targets(void **state)
{
	(void) state;
	corpc__address a = parse_ok("dns:///localhost:50051");
	assert_int_equal(a.scheme, CORPC__SCHEME_TCP);
	assert_true(a.resolver);
	assert_string_equal(a.host, "localhost");
	assert_int_equal(a.port, 50051);
	assert_string_equal(a.target, "dns:///localhost:50051");
	assert_string_equal(
	    parse_ok("dns:example.com:443").target, "dns:example.com:443");
	a = parse_ok("ipv4:127.0.0.1:1,10.0.0.2:2");
	assert_true(a.resolver);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 1);
	a = parse_ok("ipv6:[::1]:7,[fe80::1]:8");
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 7);
	assert_false(parse_ok("tcp://127.0.0.1:1").resolver);
	const char *bad[] = {"dns:///", "dns:///host", "dns://auth/host:1",
	    "dns:a:1,b:2", "dns:6:0,dns:6", "ipv4:", "ipv4:localhost:1",
	    "ipv4:127.0.0.1:1,", "ipv4:1.2.3.4", "ipv6:::1:80",
	    "ipv6:[::1]:80,127.0.0.1:1", "ipv4:1.2.3.4:99999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (corpc__address_parse(bad[i], &a) != CORPC_EADDRINVAL) {
			fail_msg("accepted %s", bad[i]);
		}
	}
}

static void
test_invalid(void **state)
{
	(void) state;
	const char *bad[] = {"", "inproc://", "inproc://a b", "inproc://x?a b",
	    "tcp://", "tcp://host", "tcp://host:", "tcp://host:99999",
	    "tcp://host:12a", "tcp://:80", "tcp://[::1]80", "tcp://[zz]:80",
	    "tcp://a/b:80", "unix://", "unix://rel", "unix:", "http://x:80",
	    "tcp://h:123456", "inproc:x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		corpc__address a;
		if (corpc__address_parse(bad[i], &a) != CORPC_EADDRINVAL) {
			fail_msg("accepted %s", bad[i]);
		}
	}
	char long_path[300] = "unix:///";
	memset(long_path + 8, 'p', 200);
	corpc__address a;
	assert_int_equal(
	    corpc__address_parse(long_path, &a), CORPC_EADDRINVAL);
	assert_int_equal(corpc__address_parse(NULL, &a), CORPC_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inproc),
	    cmocka_unit_test(test_inproc_modes),
	    cmocka_unit_test(test_required_ops),
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_unix),
	    cmocka_unit_test(test_resolver_targets),
	    cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
