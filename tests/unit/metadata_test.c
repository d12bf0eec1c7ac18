// SPDX-License-Identifier: MIT
// Metadata: validation, order, binary values, reuse after clear.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/metadata_impl.h"
#include "corpc/metadata.h"

static void
test_keys(void **state)
{
	(void) state;
	assert_int_equal(corpc_metadata_check_key("x-user_id.v2"), CORPC_OK);
	assert_int_equal(corpc_metadata_check_key("X-User"), CORPC_EBADKEY);
	assert_int_equal(corpc_metadata_check_key(""), CORPC_EBADKEY);
	assert_int_equal(corpc_metadata_check_key(NULL), CORPC_EBADKEY);
	assert_int_equal(corpc_metadata_check_key("a b"), CORPC_EBADKEY);
	assert_int_equal(corpc_metadata_check_key(":path"), CORPC_EBADKEY);
	assert_int_equal(
	    corpc_metadata_check_key("grpc-status"), CORPC_EBADKEY);
}

static void
test_values(void **state)
{
	(void) state;
	assert_int_equal(
	    corpc_metadata_check_value("k", "ok value~", 9), CORPC_OK);
	assert_int_equal(
	    corpc_metadata_check_value("k", "a\nb", 3), CORPC_EBADVALUE);
	assert_int_equal(
	    corpc_metadata_check_value("k", "\x80", 1), CORPC_EBADVALUE);
	assert_int_equal(
	    corpc_metadata_check_value("k-bin", "\0\n\x80", 3), CORPC_OK);
	assert_int_equal(
	    corpc_metadata_check_value("k", NULL, 1), CORPC_EBADVALUE);
	assert_int_equal(corpc_metadata_check_value("k", NULL, 0), CORPC_OK);
	// "-bin" alone is a plain key, as in gRPC (found by fuzz_metadata).
	assert_int_equal(
	    corpc_metadata_check_value("-bin", "\x80", 1), CORPC_EBADVALUE);
}

static void
test_add_get_order(void **state)
{
	(void) state;
	corpc_metadata *md;
	assert_int_equal(corpc_metadata_create(&md), CORPC_OK);
	assert_int_equal(corpc_metadata_count(md), 0);
	assert_int_equal(corpc_metadata_add_str(md, "a", "1"), CORPC_OK);
	assert_int_equal(corpc_metadata_add_str(md, "b", "2"), CORPC_OK);
	assert_int_equal(corpc_metadata_add_str(md, "a", "3"), CORPC_OK);
	uint8_t bin[3] = {0, 1, 0};
	assert_int_equal(corpc_metadata_add(md, "d-bin", bin, 3), CORPC_OK);
	// Refused entries leave the list unchanged.
	assert_int_equal(
	    corpc_metadata_add_str(md, "Bad", "x"), CORPC_EBADKEY);
	assert_int_equal(
	    corpc_metadata_add_str(md, "c", "\t"), CORPC_EBADVALUE);
	assert_int_equal(corpc_metadata_count(md), 4);
	assert_string_equal(corpc_metadata_at(md, 0)->key, "a");
	assert_string_equal(corpc_metadata_at(md, 1)->value, "2");
	assert_string_equal(corpc_metadata_at(md, 2)->value, "3");
	assert_null(corpc_metadata_at(md, 4));
	assert_string_equal(
	    corpc_metadata_get(md, "a")->value, "1"); // first wins
	const corpc_metadata_entry *e = corpc_metadata_get(md, "d-bin");
	assert_int_equal(e->value_len, 3);
	assert_memory_equal(e->value, bin, 3);
	assert_null(corpc_metadata_get(md, "zz"));
	corpc_metadata_destroy(md);
}

static void
test_growth_keeps_entries(void **state)
{
	(void) state;
	corpc_metadata *md;
	assert_int_equal(corpc_metadata_create(&md), CORPC_OK);
	char key[32], val[200];
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		memset(val, 'a' + i % 26, sizeof(val) - 1);
		val[sizeof(val) - 1] = '\0';
		assert_int_equal(
		    corpc_metadata_add_str(md, key, val), CORPC_OK);
	}
	// Entries added before the pool grew still read back correctly.
	for (int i = 0; i < 500; i++) {
		const corpc_metadata_entry *e =
		    corpc_metadata_at(md, (size_t) i);
		snprintf(key, sizeof(key), "k%d", i);
		assert_string_equal(e->key, key);
		assert_int_equal(e->value[0], 'a' + i % 26);
		assert_int_equal(e->value_len, sizeof(val) - 1);
	}
	corpc_metadata_clear(md);
	assert_int_equal(corpc_metadata_count(md), 0);
	assert_int_equal(corpc_metadata_add_str(md, "x", "y"), CORPC_OK);
	assert_string_equal(corpc_metadata_at(md, 0)->value, "y");
	corpc_metadata_destroy(md);
}

static void
test_copy(void **state)
{
	(void) state;
	corpc_metadata *a, *b;
	assert_int_equal(corpc_metadata_create(&a), CORPC_OK);
	assert_int_equal(corpc_metadata_create(&b), CORPC_OK);
	corpc_metadata_add_str(a, "one", "1");
	corpc_metadata_add_str(b, "old", "x");
	assert_int_equal(corpc__metadata_copy(b, a), CORPC_OK);
	assert_int_equal(corpc_metadata_count(b), 1);
	assert_string_equal(corpc_metadata_at(b, 0)->key, "one");
	assert_int_equal(corpc__metadata_copy(b, NULL), CORPC_OK);
	assert_int_equal(corpc_metadata_count(b), 0);
	corpc_metadata_destroy(a);
	corpc_metadata_destroy(b);
	corpc_metadata_destroy(NULL);
	assert_int_equal(corpc_metadata_count(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_add_get_order),
	    cmocka_unit_test(test_growth_keeps_entries),
	    cmocka_unit_test(test_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
