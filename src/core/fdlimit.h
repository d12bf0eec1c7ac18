// SPDX-License-Identifier: MIT
// Internal: the process's descriptor limit, raised once as Go does.
#ifndef CORPC_CORE_FDLIMIT_H
#define CORPC_CORE_FDLIMIT_H

// Raises the soft RLIMIT_NOFILE to the hard limit, once per process (the
// first server or channel). The default soft limit (1024) is what a burst
// of idle connections exhausts; the hard one is usually far higher. Child
// processes inherit the raised limit (corpc cannot restore it at exec).
void corpc__fd_limit_raise(void);

#endif // CORPC_CORE_FDLIMIT_H
