// SPDX-License-Identifier: MIT
// main() for the fuzz targets in builds without libFuzzer: runs every file
// named on the command line, or found directly in a directory named there,
// through LLVMFuzzerTestOneInput once. A path that does not exist is
// skipped (a target may have no regressions yet). A failing input aborts,
// after its name is printed.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static size_t replay_count;

static void
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		exit(1);
	}
	uint8_t *data = NULL;
	size_t   len = 0, cap = 0, n;
	uint8_t  chunk[4096];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n > cap) {
			cap        = (len + n) * 2;
			uint8_t *d = realloc(data, cap);
			if (d == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				exit(1);
			}
			data = d;
		}
		memcpy(data + len, chunk, n);
		len += n;
	}
	fclose(f);
	// An exact-size copy, so that ASan sees reads past the input.
	uint8_t *in = malloc(len != 0 ? len : 1);
	if (in == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	if (len != 0) {
		memcpy(in, data, len);
	}
	free(data);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(in, len);
	free(in);
	replay_count++;
}

static void
replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: none\n", path);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	DIR *d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		exit(1);
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			continue; // hidden files
		}
		size_t len  = strlen(path) + strlen(e->d_name) + 2;
		char  *file = malloc(len);
		if (file == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		snprintf(file, len, "%s/%s", path, e->d_name);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
			replay_file(file);
		}
		free(file);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		replay_path(argv[i]);
	}
	printf("replay: %zu inputs, no failure\n", replay_count);
	return 0;
}
