// SPDX-License-Identifier: MIT
// protoc-gen-corpc: a protoc plugin that generates corpc service code.
//
// protoc runs it with a CodeGeneratorRequest on stdin and reads a
// CodeGeneratorResponse from stdout:
//   protoc --plugin=protoc-gen-corpc=PATH --corpc_out=DIR foo.proto
// writes DIR/foo.corpc.h and DIR/foo.corpc.c. With
// --corpc_opt=protoc_gen_c=/usr/bin/protoc-gen-c it also writes protobuf-c's
// DIR/foo.pb-c.h and DIR/foo.pb-c.c (see delegate.c).
//
// Problems with the .proto files are reported in the response's `error`
// (protoc prints it); a broken request is reported on stderr with exit
// status 1.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"

#define MAIN_NAME "protoc-gen-corpc"

static int
main_fail(const char *what)
{
	fprintf(stderr, MAIN_NAME ": %s\n", what);
	return 1;
}

// Reads stdin to the end into *out and *len.
static bool
main_read_stdin(uint8_t **out, size_t *len)
{
	cg_buf b = {0};
	char   chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		cg_buf_append(&b, chunk, n);
	}
	if (ferror(stdin) || b.oom) {
		cg_buf_fini(&b);
		return false;
	}
	*len = b.len;
	*out = (uint8_t *) cg_buf_take(&b);
	return *out != NULL;
}

int
main(int argc, char **argv)
{
	if (argc > 1) {
		bool help = strcmp(argv[1], "--help") == 0 ||
		            strcmp(argv[1], "-h") == 0;
		fprintf(help ? stdout : stderr,
		    "usage: protoc --plugin=" MAIN_NAME
		    "=PATH --corpc_out=DIR "
		    "[--corpc_opt=protoc_gen_c=PATH] FILE.proto\n"
		    "A protoc plugin: reads a CodeGeneratorRequest on stdin, "
		    "writes a CodeGeneratorResponse on stdout.\n");
		return help ? 0 : 2;
	}

	uint8_t *in;
	size_t   len;
	if (!main_read_stdin(&in, &len)) {
		return main_fail("cannot read the request from stdin");
	}
	cg_request *req =
	    google__protobuf__compiler__code_generator_request__unpack(
	        NULL, len, in);
	free(in);
	if (req == NULL) {
		return main_fail(
		    "stdin is not a CodeGeneratorRequest; this program "
		    "is a protoc plugin: run it through protoc "
		    "--plugin=" MAIN_NAME "=PATH --corpc_out=DIR");
	}

	cg_response resp =
	    GOOGLE__PROTOBUF__COMPILER__CODE_GENERATOR_RESPONSE__INIT;
	bool  ok  = cg_generate(req, &resp);
	char *pgc = cg_param_get(req->parameter, CG_PARAM_PROTOC_GEN_C);
	if (ok && resp.error == NULL && pgc != NULL) {
		char *err = NULL;
		if (!cg_delegate(pgc, req, &resp, &err)) {
			// Error: no files, only the message (NULL: out of
			// memory).
			cg_response_fini(&resp);
			resp.error = err;
			ok         = err != NULL;
		}
	}
	free(pgc);
	google__protobuf__compiler__code_generator_request__free_unpacked(
	    req, NULL);
	if (!ok) {
		cg_response_fini(&resp);
		return main_fail("out of memory");
	}

	size_t n =
	    google__protobuf__compiler__code_generator_response__get_packed_size(
	        &resp);
	uint8_t *out = malloc(n != 0 ? n : 1);
	if (out == NULL) {
		cg_response_fini(&resp);
		return main_fail("out of memory");
	}
	google__protobuf__compiler__code_generator_response__pack(&resp, out);
	cg_response_fini(&resp);
	bool written = fwrite(out, 1, n, stdout) == n && fflush(stdout) == 0;
	free(out);
	if (!written) {
		return main_fail("cannot write the response to stdout");
	}
	return 0;
}
