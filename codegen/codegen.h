// SPDX-License-Identifier: MIT
// protoc-gen-corpc: internal interfaces of the code generator.
//
// The generator reads a CodeGeneratorRequest, builds a small model of every
// service in the files to generate (names already resolved with protobuf-c's
// naming rules), and writes X.corpc.h and X.corpc.c for each file.
#ifndef CORPC_CODEGEN_H
#define CORPC_CODEGEN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "google/protobuf/compiler/plugin.pb-c.h"

typedef Google__Protobuf__Compiler__CodeGeneratorRequest  cg_request;
typedef Google__Protobuf__Compiler__CodeGeneratorResponse cg_response;
typedef Google__Protobuf__FileDescriptorProto             cg_file_proto;
typedef Google__Protobuf__DescriptorProto                 cg_msg_proto;

// The response's supported_features bit for proto3 `optional`.
#define CG_FEATURE_PROTO3_OPTIONAL                                            \
	GOOGLE__PROTOBUF__COMPILER__CODE_GENERATOR_RESPONSE__FEATURE__FEATURE_PROTO3_OPTIONAL

// ---- buf.c: growable text buffer ------------------------------------------

// A NUL-terminated text buffer. Zero-initialise. Allocation failure is not
// reported per call: `oom` is set and later appends do nothing.
typedef struct cg_buf {
	char  *data;
	size_t len;
	size_t cap;
	bool   oom;
} cg_buf;

// Appends printf-style text to `b`.
void cg_buf_printf(cg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Appends `n` bytes of `s` to `b`.
void cg_buf_append(cg_buf *b, const char *s, size_t n);

// Returns the text ("" when empty). Borrowed until the next append or fini.
const char *cg_buf_str(const cg_buf *b);

// Hands the text over to the caller (free() it) and empties `b`. Returns
// NULL if any append ran out of memory.
char *cg_buf_take(cg_buf *b);

// Frees the buffer's memory; `b` is empty and reusable afterwards.
void cg_buf_fini(cg_buf *b);

// Appends printf-style text as a "// " comment, word-wrapped at 79
// columns, each line starting with `indent` ("" or "\t").
void cg_buf_commentf(cg_buf *b, const char *indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Returns a malloc'ed printf-style string, or NULL when out of memory.
char *cg_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Appends a C declarator list wrapped at 79 columns: `head` (e.g.
// "corpc_err foo"), then "(" and the `n` parameters separated by ", " (a
// line that would grow too long continues on the next line, indented by
// `indent` plus four spaces), then ")" and `tail` (";\n" or "\n"). `indent`
// ("" or "\t") is written first. n == 0 writes "(void)".
void cg_buf_decl(cg_buf *b, const char *indent, const char *head,
    const char *const *params, size_t n, const char *tail);

// ---- names.c: protobuf-c's naming rules -----------------------------------
// Each function returns a malloc'ed string (caller frees) or NULL when out of
// memory.

// protobuf-c CamelToLower: "ServerStream" -> "server_stream"; an upper-case
// letter after a non-upper one gets a '_' before it; runs of capitals do not
// ("HTTPGet" -> "httpget").
char *cg_camel_to_lower(const char *name);

// protobuf-c ToCamel: drops '_' and upper-cases the letter after it and the
// first letter ("echo_request" -> "EchoRequest").
char *cg_to_camel(const char *name);

// protobuf-c FullNameToLower: the dot-separated pieces of `full_name`, each
// through cg_camel_to_lower, joined with "__"; empty pieces are skipped
// ("list.v0.ListStrings" -> "list__v0__list_strings").
char *cg_full_name_to_lower(const char *full_name);

// protobuf-c FullNameToC: as cg_full_name_to_lower with cg_to_camel
// ("a.Outer.Inner" -> "A__Outer__Inner").
char *cg_full_name_to_c(const char *full_name);

// Applies protobuf-c's `(pb_c_file).c_package` file option, if `file` has
// it, to `full_name` (no leading dot) of a symbol declared in `file`; else
// returns a copy of `full_name`.
char *cg_override_full_name(const char *full_name, const cg_file_proto *file);

// Returns the value of `file`'s `(pb_c_file).c_package` option as a
// malloc'ed string in *out, or NULL in *out when it is not set. Returns
// false when out of memory or the option is malformed.
bool cg_file_c_package(const cg_file_proto *file, char **out);

// "dir/foo.proto" -> "dir/foo" (also strips ".protodevel", like protoc-c).
char *cg_strip_proto(const char *file_name);

// A C identifier for `file_name`: letters and digits kept, every other byte
// as '_' plus its hex code ("a/b.proto" -> "a_2fb_2eproto").
char *cg_file_identifier(const char *file_name);

// True when `word` is a C11 or C++ keyword (not usable as a member name).
bool cg_is_keyword(const char *word);

// ---- model
// ------------------------------------------------------------------

// The four kinds, numbered as corpc_rpc_kind.
typedef enum cg_kind {
	CG_UNARY            = 0,
	CG_SERVER_STREAMING = 1,
	CG_CLIENT_STREAMING = 2,
	CG_BIDI_STREAMING   = 3,
} cg_kind;

typedef struct cg_method {
	const char *name;   // "ServerStream" (borrowed from the request)
	char       *lower;  // "server_stream": function name part
	char       *member; // vtable member: lower, '_' added to a keyword
	char       *path;   // "/corpc.test.Echo/ServerStream"
	cg_kind     kind;
	char       *req_type; // "Corpc__Test__EchoRequest"
	char       *req_desc; // "corpc__test__echo_request__descriptor"
	char       *resp_type;
	char       *resp_desc;
} cg_method;

typedef struct cg_service {
	char      *full_name; // "corpc.test.Echo"
	char      *prefix;    // P: "corpc__test__echo"
	char      *type;      // T: "Corpc__Test__Echo"
	size_t     n_methods;
	cg_method *methods;
} cg_service;

typedef struct cg_file {
	const cg_request    *req;   // the request it came in (borrowed)
	const cg_file_proto *proto; // its descriptor, one of req->proto_file
	const char          *proto_name; // "dir/foo.proto" (borrowed)
	char                *file_desc;  // "corpc_file_dir_2ffoo_2eproto"

	char       *base;  // "dir/foo"
	char       *guard; // include guard of X.corpc.h
	size_t      n_services;
	cg_service *services;
} cg_file;

// ---- generate.c
// ---------------------------------------------------------------

// The generator's only option: `protoc_gen_c=PATH` (in --corpc_opt or
// --corpc_out=OPT:DIR) also runs protobuf-c's plugin at PATH on the same
// request and returns its X.pb-c.{h,c} too (see main.c).
#define CG_PARAM_PROTOC_GEN_C "protoc_gen_c"

// Checks the comma-separated `key=value` option list `param` (NULL is
// empty). Returns false with a malloc'ed message in *err (NULL when out of
// memory) for an unknown option.
bool cg_param_check(const char *param, char **err);

// Returns a malloc'ed copy of the value of option `key` in `param`, or NULL
// when absent (or out of memory).
char *cg_param_get(const char *param, const char *key);

// Builds the model of `file` (one of req->proto_file). Returns NULL and a
// malloc'ed message in *err on failure (unknown type, name clash, out of
// memory). The result is freed with cg_file_free.
cg_file *cg_file_build(
    const cg_request *req, const cg_file_proto *file, char **err);

// Frees a model. NULL is allowed.
void cg_file_free(cg_file *f);

// Runs the generator on `req` and fills `resp` (zero-initialised with
// GOOGLE__PROTOBUF__COMPILER__CODE_GENERATOR_RESPONSE__INIT): one header and
// one source per file to generate, or `error` set. Returns false only when
// out of memory; release `resp` with cg_response_fini.
bool cg_generate(const cg_request *req, cg_response *resp);

// Appends a file to `resp`, taking ownership of `name` and `content`
// (malloc'ed; freed here on failure). Returns false when out of memory or
// either is NULL.
bool cg_response_add_file(cg_response *resp, char *name, char *content);

// Frees what cg_generate and cg_response_add_file put in `resp`.
void cg_response_fini(cg_response *resp);

// ---- emit_header.c / emit_source.c
// -------------------------------------------

// Writes the text of X.corpc.h for `f` to `b`.
void cg_emit_header(cg_buf *b, const cg_file *f);

// Writes the text of X.corpc.c for `f` to `b`. Returns false as
// cg_emit_files does.
bool cg_emit_source(cg_buf *b, const cg_file *f, char **err);

// ---- emit_files.c: the embedded descriptors, for server reflection -------

// Writes the corpc_file_desc of `f` (f->file_desc) and, before it, a static
// one for each file it imports directly or not (from f->req->proto_file).
// Returns false with a malloc'ed message in *err (NULL when out of memory)
// when an import is missing from the request or has a bad name.
bool cg_emit_files(cg_buf *b, const cg_file *f, char **err);

// ---- delegate.c
// --------------------------------------------------------------

// Runs the protoc plugin at `path` (protobuf-c's protoc-gen-c) on `req`
// with no parameter and appends the files it generates to `resp`. The
// plugin's stderr goes to ours. Returns false with a malloc'ed message in
// *err when the plugin cannot be run, fails or reports an error (NULL when
// out of memory).
bool cg_delegate(
    const char *path, cg_request *req, cg_response *resp, char **err);

#endif // CORPC_CODEGEN_H
