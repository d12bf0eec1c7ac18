// SPDX-License-Identifier: MIT
// Child-process servers of the hostile-input tests (child.h).
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "child.h"

extern char **environ;

void
child_start(child *ch, char *const *args)
{
	char    exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(len > 0);
	exe[len]        = '\0';
	char  *argv[16] = {exe, "--serve"};
	size_t n        = 2;
	for (; args[n - 2] != NULL && n < 15; n++) {
		argv[n] = args[n - 2];
	}
	argv[n] = NULL;
	int to_child[2], from_child[2];
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(from_child), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to_child[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
	posix_spawn_file_actions_addclose(&fa, to_child[1]);
	posix_spawn_file_actions_addclose(&fa, from_child[0]);
	assert_int_equal(
	    posix_spawn(&ch->pid, exe, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(to_child[0]);
	close(from_child[1]);
	ch->to   = to_child[1];
	ch->from = fdopen(from_child[0], "r");
	assert_non_null(fgets(ch->line, sizeof(ch->line), ch->from));
}

void
child_stop(child *ch)
{
	close(ch->to);
	int status;
	assert_int_equal(waitpid(ch->pid, &status, 0), ch->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	fclose(ch->from);
}

long
child_status_kb(pid_t pid, const char *key)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	char   line[256];
	long   kb = -1;
	size_t k  = strlen(key);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, k) == 0) {
			kb = strtol(line + k, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}
