// SPDX-License-Identifier: MIT
// Runs protobuf-c's own plugin (protoc-gen-c) on our request, so that one
// protoc run writes X.pb-c.{h,c} next to X.corpc.{h,c}.
//
// Why not protoc --c_out: protoc-gen-c does not declare proto3 `optional`
// support, so protoc refuses such files before running it, although its
// output is right for them (a proto3 optional field is a one-member
// "synthetic" oneof, and protoc-gen-c generates oneofs with presence).
// Run through us, the response carries our FEATURE_PROTO3_OPTIONAL.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen.h"

// Reads all of `fd` into *out (malloc'ed) and *len.
static bool
delegate_read_all(int fd, uint8_t **out, size_t *len)
{
	cg_buf b = {0};
	char   chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			cg_buf_fini(&b);
			return false;
		}
		if (n == 0) {
			break;
		}
		cg_buf_append(&b, chunk, (size_t) n);
	}
	*len = b.len;
	*out = (uint8_t *) cg_buf_take(&b);
	return *out != NULL;
}

// Runs `path` with stdin from `in` and returns its stdout.
static bool
delegate_run(
    const char *path, FILE *in, uint8_t **out, size_t *len, char **err)
{
	int fds[2];
	if (pipe(fds) != 0) {
		*err = cg_strdupf("%s: pipe: %s", path, strerror(errno));
		return false;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		*err = cg_strdupf("%s: fork: %s", path, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		if (dup2(fileno(in), STDIN_FILENO) < 0 ||
		    dup2(fds[1], STDOUT_FILENO) < 0) {
			_exit(126);
		}
		close(fds[0]);
		close(fds[1]);
		execl(path, path, (char *) NULL);
		fprintf(stderr, "protoc-gen-corpc: cannot run %s: %s\n", path,
		    strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	bool ok = delegate_read_all(fds[0], out, len);
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	if (status == -1) {
		*err = cg_strdupf("%s: waitpid: %s", path, strerror(errno));
	} else if (WIFSIGNALED(status)) {
		*err = cg_strdupf(
		    "%s: killed by signal %d", path, WTERMSIG(status));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*err = cg_strdupf("%s: failed with exit status %d", path,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	} else if (!ok) {
		*err = cg_strdupf("%s: cannot read its output", path);
	} else {
		return true;
	}
	if (ok) {
		free(*out);
		*out = NULL;
	}
	return false;
}

bool
cg_delegate(const char *path, cg_request *req, cg_response *resp, char **err)
{
	*err = NULL;

	// protoc-gen-c rejects options it does not know: send it none.
	char *param    = req->parameter;
	req->parameter = NULL;
	size_t n =
	    google__protobuf__compiler__code_generator_request__get_packed_size(
	        req);
	uint8_t *data = malloc(n != 0 ? n : 1);
	if (data != NULL) {
		google__protobuf__compiler__code_generator_request__pack(
		    req, data);
	}
	req->parameter = param;
	if (data == NULL) {
		return false;
	}

	FILE *in = tmpfile();
	if (in == NULL || fwrite(data, 1, n, in) != n || fflush(in) != 0 ||
	    fseek(in, 0, SEEK_SET) != 0) {
		*err = cg_strdupf("%s: cannot write a temporary file: %s",
		    path, strerror(errno));
		free(data);
		if (in != NULL) {
			fclose(in);
		}
		return false;
	}
	free(data);

	uint8_t *out = NULL;
	size_t   len = 0;
	bool     ok  = delegate_run(path, in, &out, &len, err);
	fclose(in);
	if (!ok) {
		return false;
	}

	cg_response *r =
	    google__protobuf__compiler__code_generator_response__unpack(
	        NULL, len, out);
	free(out);
	if (r == NULL) {
		*err =
		    cg_strdupf("%s: unparseable CodeGeneratorResponse", path);
		return false;
	}
	if (r->error != NULL && r->error[0] != '\0') {
		*err = cg_strdupf("%s: %s", path, r->error);
		ok   = false;
	}
	for (size_t i = 0; ok && i < r->n_file; i++) {
		const char *name = r->file[i]->name;
		const char *text = r->file[i]->content;
		if (name == NULL || r->file[i]->insertion_point != NULL) {
			*err = cg_strdupf(
			    "%s: unsupported response (chunked file or "
			    "insertion point)",
			    path);
			ok = false;
			break;
		}
		ok = cg_response_add_file(
		    resp, strdup(name), strdup(text != NULL ? text : ""));
	}
	google__protobuf__compiler__code_generator_response__free_unpacked(
	    r, NULL);
	return ok;
}
