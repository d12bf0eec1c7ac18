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
	assert_int_equal(a.mode, CORPC__INPROC_CORO);
	assert_int_equal(
	    parse_ok("inproc://x?mode=thread").mode, CORPC__INPROC_THREAD);
	assert_int_equal(parse_ok("inproc://x?mode=thread-copy").mode,
	    CORPC__INPROC_THREAD_COPY);
	assert_int_equal(
	    parse_ok("inproc://x?mode=coro").mode, CORPC__INPROC_CORO);
	assert_string_equal(parse_ok("inproc://x?mode=coro").host, "x");
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
	const char *bad[] = {"", "inproc://", "inproc://a b",
	    "inproc://x?mode=fast", "tcp://", "tcp://host",
	    "tcp://host:", "tcp://host:99999", "tcp://host:12a", "tcp://:80",
	    "tcp://[::1]80", "tcp://[zz]:80", "tcp://a/b:80", "unix://",
	    "unix://rel", "unix:", "http://x:80", "tcp://h:123456",
	    "inproc:x"};
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
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_unix),
	    cmocka_unit_test(test_resolver_targets),
	    cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
