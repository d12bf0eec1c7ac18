// SPDX-License-Identifier: MIT
// protoc-gen-corpc: protobuf-c's naming rules, reimplemented in names.c.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codegen.h"

#define CHECK_NAME(fn, in, want)                                              \
	do {                                                                  \
		char *got_ = fn(in);                                          \
		assert_non_null(got_);                                        \
		assert_string_equal(got_, want);                              \
		free(got_);                                                   \
	} while (0)

static void
test_camel_to_lower(void **state)
{
	(void) state;
	CHECK_NAME(cg_camel_to_lower, "ServerStream", "server_stream");
	CHECK_NAME(cg_camel_to_lower, "Unary", "unary");
	CHECK_NAME(cg_camel_to_lower, "lowerFirst", "lower_first");
	CHECK_NAME(cg_camel_to_lower, "GetHTTPThing", "get_httpthing");
	CHECK_NAME(cg_camel_to_lower, "Snake_Case", "snake__case");
	CHECK_NAME(cg_camel_to_lower, "V2Beta", "v2_beta");
	CHECK_NAME(cg_camel_to_lower, "", "");
}

static void
test_to_camel(void **state)
{
	(void) state;
	CHECK_NAME(cg_to_camel, "echo_request", "EchoRequest");
	CHECK_NAME(cg_to_camel, "corpc", "Corpc");
	CHECK_NAME(cg_to_camel, "v0", "V0");
	CHECK_NAME(cg_to_camel, "HTTPThing", "HTTPThing");
	CHECK_NAME(cg_to_camel, "a__b", "AB");
}

static void
test_full_names(void **state)
{
	(void) state;
	CHECK_NAME(cg_full_name_to_lower, "list.v0.ListStrings",
	    "list__v0__list_strings");
	CHECK_NAME(
	    cg_full_name_to_c, "list.v0.ListStrings", "List__V0__ListStrings");
	CHECK_NAME(cg_full_name_to_c, "a.Outer.Inner", "A__Outer__Inner");
	CHECK_NAME(cg_full_name_to_lower, "a.Outer.Inner", "a__outer__inner");
	CHECK_NAME(cg_full_name_to_lower, "Plain", "plain");
	// Empty pieces are skipped.
	CHECK_NAME(cg_full_name_to_lower, ".a..B.", "a__b");
}

static void
test_files(void **state)
{
	(void) state;
	CHECK_NAME(cg_strip_proto, "dir/foo.proto", "dir/foo");
	CHECK_NAME(cg_strip_proto, "foo.protodevel", "foo");
	CHECK_NAME(cg_strip_proto, "foo.txt", "foo.txt");
	CHECK_NAME(cg_file_identifier, "a/b-c.proto", "a_2fb_2dc_2eproto");
}

static void
test_keywords(void **state)
{
	(void) state;
	// Every C11 keyword a lower-case method name can spell, the usual
	// macros, and some C++ ones (the list is searched with bsearch: this
	// also checks its order).
	static const char *const kw[] = {"auto", "break", "case", "char",
	    "const", "continue", "default", "do", "double", "else", "enum",
	    "extern", "float", "for", "goto", "if", "inline", "int", "long",
	    "register", "restrict", "return", "short", "signed", "sizeof",
	    "static", "struct", "switch", "typedef", "union", "unsigned",
	    "void", "volatile", "while", "bool", "true", "false", "alignas",
	    "alignof", "noreturn", "static_assert", "complex", "imaginary",
	    "class", "new", "delete", "template", "this", "xor_eq", "and",
	    "co_await", "char8_t", "char16_t", "char32_t"};
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		if (!cg_is_keyword(kw[i])) {
			fail_msg("not a keyword: %s", kw[i]);
		}
	}
	assert_false(cg_is_keyword("unary"));
	assert_false(cg_is_keyword("Int"));
	assert_false(cg_is_keyword(""));
}

static void
test_buf_decl(void **state)
{
	(void) state;
	cg_buf      b    = {0};
	const char *p[3] = {
	    "corpc_ctx *ctx", "const void *impl", "void *self"};
	cg_buf_decl(&b, "", "int f", p, 3, ";\n");
	cg_buf_decl(&b, "", "int g", p, 0, ";\n");
	cg_buf_decl(&b, "\t",
	    "corpc_status_code a_very_long_function_name_for_wrapping", p, 3,
	    ";\n");
	assert_string_equal(cg_buf_str(&b),
	    "int f(corpc_ctx *ctx, const void *impl, void *self);\n"
	    "int g(void);\n"
	    // The first parameter does not fit: it starts the next line.
	    "\tcorpc_status_code a_very_long_function_name_for_wrapping(\n"
	    "\t    corpc_ctx *ctx, const void *impl, void *self);\n");
	cg_buf_fini(&b);

	cg_buf_commentf(&b, "\t", "%s", "short comment");
	assert_string_equal(cg_buf_str(&b), "\t// short comment\n");
	cg_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_camel_to_lower),
	    cmocka_unit_test(test_to_camel),
	    cmocka_unit_test(test_full_names),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_keywords),
	    cmocka_unit_test(test_buf_decl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
