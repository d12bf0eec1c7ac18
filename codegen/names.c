// SPDX-License-Identifier: MIT
// protobuf-c's naming rules, reimplemented from their description in
// protobuf-c's protoc-gen-c (CamelToLower, ToCamel, FullNameToLower,
// FullNameToC, OverrideFullName), so generated names match protoc-c's.
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"

// Field numbers in protobuf-c/protobuf-c.proto.
#define PB_C_FILE_EXTENSION 1019 // FileOptions.(pb_c_file)
#define PB_C_C_PACKAGE      6    // ProtobufCFileOptions.c_package

char *
cg_camel_to_lower(const char *name)
{
	cg_buf b         = {0};
	bool   was_upper = true; // no '_' before a leading capital
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c        = (unsigned char) *p;
		bool          is_upper = isupper(c) != 0;
		if (is_upper && !was_upper) {
			cg_buf_append(&b, "_", 1);
		}
		char out = is_upper ? (char) tolower(c) : (char) c;
		cg_buf_append(&b, &out, 1);
		was_upper = is_upper;
	}
	return cg_buf_take(&b);
}

char *
cg_to_camel(const char *name)
{
	cg_buf b     = {0};
	bool   upper = true;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char) *p;
		if (c == '_') {
			upper = true;
			continue;
		}
		char out = upper ? (char) toupper(c) : (char) c;
		cg_buf_append(&b, &out, 1);
		upper = false;
	}
	return cg_buf_take(&b);
}

// Splits `full_name` at dots, maps each non-empty piece with `fn` and joins
// the results with "__".
static char *
names_join(const char *full_name, char *(*fn)(const char *) )
{
	cg_buf      b = {0};
	const char *p = full_name;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t      n   = dot != NULL ? (size_t) (dot - p) : strlen(p);
		if (n > 0) {
			char *piece = strndup(p, n);
			char *m     = piece != NULL ? fn(piece) : NULL;
			free(piece);
			if (m == NULL) {
				cg_buf_fini(&b);
				return NULL;
			}
			if (b.len > 0) {
				cg_buf_append(&b, "__", 2);
			}
			cg_buf_append(&b, m, strlen(m));
			free(m);
		}
		p += n;
		if (*p == '.') {
			p++;
		}
	}
	return cg_buf_take(&b);
}

char *
cg_full_name_to_lower(const char *full_name)
{
	return names_join(full_name, cg_camel_to_lower);
}

char *
cg_full_name_to_c(const char *full_name)
{
	return names_join(full_name, cg_to_camel);
}

// Reads a base-128 varint at *p (before `end`) into *v. False if truncated
// or too long.
static bool
names_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*p >= end) {
			return false;
		}
		uint8_t byte = *(*p)++;
		*v |= (uint64_t) (byte & 0x7f) << shift;
		if ((byte & 0x80) == 0) {
			return true;
		}
	}
	return false;
}

// Scans one encoded ProtobufCFileOptions for c_package; the last one wins,
// as in protobuf's merge rules. Replaces *out on a hit.
static bool
names_scan_pb_c_options(const uint8_t *p, size_t len, char **out)
{
	const uint8_t *end = p + len;
	while (p < end) {
		uint64_t key, n;
		if (!names_varint(&p, end, &key)) {
			return false;
		}
		switch (key & 7) {
		case 0: // varint
			if (!names_varint(&p, end, &n)) {
				return false;
			}
			break;
		case 1: // fixed64
			if ((size_t) (end - p) < 8) {
				return false;
			}
			p += 8;
			break;
		case 2: // length-delimited
			if (!names_varint(&p, end, &n) ||
			    n > (uint64_t) (end - p)) {
				return false;
			}
			if ((key >> 3) == PB_C_C_PACKAGE) {
				char *s =
				    strndup((const char *) p, (size_t) n);
				if (s == NULL) {
					return false;
				}
				free(*out);
				*out = s;
			}
			p += n;
			break;
		case 5: // fixed32
			if ((size_t) (end - p) < 4) {
				return false;
			}
			p += 4;
			break;
		default: // groups: not in ProtobufCFileOptions
			return false;
		}
	}
	return true;
}

bool
cg_file_c_package(const cg_file_proto *file, char **out)
{
	*out = NULL;
	if (file->options == NULL) {
		return true;
	}
	// protobuf-c keeps the extension, unknown to descriptor.proto, among
	// the unknown fields of FileOptions.
	const ProtobufCMessage *opts = &file->options->base;
	for (unsigned i = 0; i < opts->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u =
		    &opts->unknown_fields[i];
		if (u->tag != PB_C_FILE_EXTENSION ||
		    u->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
			continue;
		}
		// protobuf-c keeps the length prefix in `data`.
		const uint8_t *p = u->data, *end = u->data + u->len;
		uint64_t       n;
		if (!names_varint(&p, end, &n) || n != (uint64_t) (end - p) ||
		    !names_scan_pb_c_options(p, (size_t) n, out)) {
			free(*out);
			*out = NULL;
			return false;
		}
	}
	return true;
}

char *
cg_override_full_name(const char *full_name, const cg_file_proto *file)
{
	char *pkg;
	if (!cg_file_c_package(file, &pkg)) {
		return NULL;
	}
	if (pkg == NULL) {
		return strdup(full_name);
	}
	// protoc-c: c_package, a '.' when the file has no package, then the
	// full name with the proto package cut off.
	const char *proto_pkg = file->package != NULL ? file->package : "";
	size_t      cut       = strlen(proto_pkg);
	if (strncmp(full_name, proto_pkg, cut) != 0) {
		cut = 0; // not in the package: cannot happen for a valid file
	}
	char *s = cg_strdupf(
	    "%s%s%s", pkg, proto_pkg[0] == '\0' ? "." : "", full_name + cut);
	free(pkg);
	return s;
}

static bool
names_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

char *
cg_strip_proto(const char *file_name)
{
	size_t n = strlen(file_name);
	if (names_has_suffix(file_name, ".protodevel")) {
		n -= strlen(".protodevel");
	} else if (names_has_suffix(file_name, ".proto")) {
		n -= strlen(".proto");
	}
	return strndup(file_name, n);
}

char *
cg_file_identifier(const char *file_name)
{
	cg_buf b = {0};
	for (const char *p = file_name; *p != '\0'; p++) {
		unsigned char c = (unsigned char) *p;
		if (isalnum(c)) {
			cg_buf_append(&b, p, 1);
		} else {
			cg_buf_printf(&b, "_%x", c);
		}
	}
	return cg_buf_take(&b);
}

// C11 keywords, the macros of <stdbool.h>, <stdalign.h>, <stdnoreturn.h>,
// <assert.h> and <complex.h> that corpc.h may pull in, and C++ keywords (the
// header is usable from C++). Sorted for bsearch.
static const char *const names_keywords[] = {
    "alignas",
    "alignof",
    "and",
    "and_eq",
    "asm",
    "auto",
    "bitand",
    "bitor",
    "bool",
    "break",
    "case",
    "catch",
    "char",
    "char16_t",
    "char32_t",
    "char8_t",
    "class",
    "co_await",
    "co_return",
    "co_yield",
    "compl",
    "complex",
    "concept",
    "const",
    "const_cast",
    "consteval",
    "constexpr",
    "constinit",
    "continue",
    "decltype",
    "default",
    "delete",
    "do",
    "double",
    "dynamic_cast",
    "else",
    "enum",
    "explicit",
    "export",
    "extern",
    "false",
    "float",
    "for",
    "friend",
    "goto",
    "if",
    "imaginary",
    "inline",
    "int",
    "long",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "noreturn",
    "not",
    "not_eq",
    "nullptr",
    "operator",
    "or",
    "or_eq",
    "private",
    "protected",
    "public",
    "register",
    "reinterpret_cast",
    "requires",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "static_assert",
    "static_cast",
    "struct",
    "switch",
    "template",
    "this",
    "thread_local",
    "throw",
    "true",
    "try",
    "typedef",
    "typeid",
    "typename",
    "union",
    "unsigned",
    "using",
    "virtual",
    "void",
    "volatile",
    "wchar_t",
    "while",
    "xor",
    "xor_eq",
};

static int
names_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

bool
cg_is_keyword(const char *word)
{
	return bsearch(&word, names_keywords,
	           sizeof(names_keywords) / sizeof(names_keywords[0]),
	           sizeof(names_keywords[0]), names_cmp) != NULL;
}
