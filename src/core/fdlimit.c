// SPDX-License-Identifier: MIT
// Soft descriptor limit up to the hard one (fdlimit.h).
#include <pthread.h>
#include <sys/resource.h>

#include "core/fdlimit.h"

static void
fd_limit_raise_once(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void) setrlimit(RLIMIT_NOFILE, &rl); // best effort
	}
}

void
corpc__fd_limit_raise(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, fd_limit_raise_once);
}
