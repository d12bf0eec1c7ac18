// SPDX-License-Identifier: MIT
// Status code names and library error texts.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corpc/method.h"
#include "corpc/status.h"

static void
test_status_names(void **state)
{
	(void) state;
	assert_string_equal(corpc_status_name(CORPC_STATUS_OK), "OK");
	assert_string_equal(corpc_status_name(CORPC_STATUS_DEADLINE_EXCEEDED),
	    "DEADLINE_EXCEEDED");
	assert_string_equal(corpc_status_name(CORPC_STATUS_UNAUTHENTICATED),
	    "UNAUTHENTICATED");
	assert_int_equal(CORPC_STATUS_UNAUTHENTICATED, 16);
	assert_string_equal(
	    corpc_status_name((corpc_status_code) 99), "UNKNOWN");
	for (int c = 0; c < CORPC_STATUS_COUNT; c++) {
		assert_true(
		    strlen(corpc_status_name((corpc_status_code) c)) > 1);
	}
}

static void
test_errors(void **state)
{
	(void) state;
	assert_string_equal(
	    corpc_err_name(CORPC_EADDRINVAL), "CORPC_EADDRINVAL");
	assert_string_equal(
	    corpc_strerror(CORPC_EADDRINVAL), "invalid address");
	assert_string_equal(corpc_strerror(CORPC_OK), "success");
	assert_string_equal(corpc_strerror((corpc_err) 1000), "unknown error");
	assert_string_equal(
	    corpc_rpc_kind_name(CORPC_RPC_BIDI_STREAMING), "bidi_streaming");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_names),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
