// Internal: a server's pool of handler threads for the thread handoff. A
// call takes an idle worker or starts a new one; a worker that finishes
// parks for the next call, and a bounded number stay parked.
#ifndef CORPC_THREAD_WORKERS_H
#define CORPC_THREAD_WORKERS_H

#include <stddef.h>

typedef struct corpc__workers corpc__workers;

// Creates a pool whose threads have `stack_size`-byte stacks. NULL when out
// of memory.
corpc__workers *corpc__workers_create(size_t stack_size);

// Runs fn(arg) on a worker. Returns 0, or -1 if no thread could be started.
int corpc__workers_run(corpc__workers *w, void (*fn)(void *), void *arg);

// Stops every worker (each finishes its current job first) and frees the
// pool. Call only when no job is running or pending.
void corpc__workers_destroy(corpc__workers *w);

#endif // CORPC_THREAD_WORKERS_H
