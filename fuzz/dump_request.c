// SPDX-License-Identifier: MIT
// A protoc plugin that saves its CodeGeneratorRequest: copies stdin to the
// file named by $CORPC_FUZZ_DUMP, then answers protoc with an empty response
// that declares proto3 `optional` support (so protoc accepts any .proto).
// Used at build time to capture real requests as fuzz_codegen seeds.
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
	const char *path = getenv("CORPC_FUZZ_DUMP");
	if (path == NULL) {
		fprintf(stderr, "dump_request: set CORPC_FUZZ_DUMP\n");
		return 1;
	}
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "dump_request: cannot write %s\n", path);
		return 1;
	}
	char   buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		if (fwrite(buf, 1, n, f) != n) {
			fclose(f);
			return 1;
		}
	}
	if (ferror(stdin) || fclose(f) != 0) {
		return 1;
	}
	// CodeGeneratorResponse { supported_features (field 2, varint) = 1 }.
	static const unsigned char resp[] = {0x10, 0x01};
	if (fwrite(resp, 1, sizeof(resp), stdout) != sizeof(resp) ||
	    fflush(stdout) != 0) {
		return 1;
	}
	return 0;
}
