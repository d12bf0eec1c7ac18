// SPDX-License-Identifier: MIT
// Fuzzes the code generator's request handling: the bytes protoc would send
// on the plugin's stdin, unpacked as a CodeGeneratorRequest and run through
// cg_generate, as protoc-gen-corpc's main does (without the protoc-gen-c
// delegation, which runs another program).
//
// Invariants: the generator never crashes or runs out of memory; its
// response has either `error` set (and at most the files of the files to
// generate before the failing one: protoc ignores them), or no error and,
// for each file to generate, an X.corpc.h and an X.corpc.c with content;
// the response packs and unpacks as a valid CodeGeneratorResponse.
#include <stdbool.h>
#include <string.h>

#include "codegen.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	return 0;
}

static bool
codegen_ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

static void
codegen_check(const cg_request *req, const cg_response *resp)
{
	FUZZ_CHECK(resp->has_supported_features);
	FUZZ_CHECK(resp->supported_features == CG_FEATURE_PROTO3_OPTIONAL);
	if (resp->error != NULL) {
		FUZZ_CHECK(resp->n_file % 2 == 0);
		FUZZ_CHECK(resp->n_file <= 2 * req->n_file_to_generate);
	} else {
		FUZZ_CHECK(resp->n_file == 2 * req->n_file_to_generate);
	}
	for (size_t i = 0; i < resp->n_file; i++) {
		const Google__Protobuf__Compiler__CodeGeneratorResponse__File
		    *f = resp->file[i];
		FUZZ_CHECK(f->name != NULL && f->content != NULL);
		FUZZ_CHECK(f->name[0] != '\0' && f->content[0] != '\0');
		FUZZ_CHECK(codegen_ends_with(
		    f->name, i % 2 == 0 ? ".corpc.h" : ".corpc.c"));
	}

	// What main() writes to protoc must read back.
	size_t   len = protobuf_c_message_get_packed_size(&resp->base);
	uint8_t *out = malloc(len + 1);
	FUZZ_CHECK(out != NULL);
	google__protobuf__compiler__code_generator_response__pack(resp, out);
	cg_response *back =
	    google__protobuf__compiler__code_generator_response__unpack(
	        NULL, len, out);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(back->n_file == resp->n_file);
	for (size_t i = 0; i < back->n_file; i++) {
		FUZZ_CHECK(
		    strcmp(back->file[i]->name, resp->file[i]->name) == 0);
		FUZZ_CHECK(strcmp(back->file[i]->content,
		               resp->file[i]->content) == 0);
	}
	google__protobuf__compiler__code_generator_response__free_unpacked(
	    back, NULL);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cg_request *req =
	    google__protobuf__compiler__code_generator_request__unpack(
	        NULL, size, data);
	if (req == NULL) {
		return 0; // main() reports a broken request on stderr
	}
	cg_response resp =
	    GOOGLE__PROTOBUF__COMPILER__CODE_GENERATOR_RESPONSE__INIT;
	FUZZ_CHECK(cg_generate(req, &resp));
	codegen_check(req, &resp);
	// The option main() reads (never run here).
	free(cg_param_get(req->parameter, CG_PARAM_PROTOC_GEN_C));
	cg_response_fini(&resp);
	google__protobuf__compiler__code_generator_request__free_unpacked(
	    req, NULL);
	return 0;
}
