// SPDX-License-Identifier: MIT
// Plaintext accept loop (grpc_acceptor.h). One thread polls every listening
// socket and a wake pipe. Out of descriptors (EMFILE, ENFILE), it sheds the
// pending connection with a spare descriptor kept for that (libuv's
// remedy): close the spare, accept and close the connection, reopen the
// spare; the peer sees a reset at once instead of hanging in the backlog,
// and the loop goes on accepting as soon as descriptors free up.
//
// Rapid-reset guard: a table by descriptor number holds each connection's
// count of calls reset unused and of the others, and its socket cookie. gRPC
// names a call's connection "fd:N", and may close N and reuse the number for
// another connection at any time: the cookie, checked before the
// disconnect, makes sure the socket ended is the one over the limit, and a
// reset counts only for a call that began after its connection was
// accepted. Counts, not rates: the server sees the calls only as fast as it
// serves them, and a flood that outruns it would look slow. A disconnect
// (acceptor_disconnect) rather than close: gRPC owns the descriptor, sees
// the connection end, cancels its calls and closes it.
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "core/detail.h"
#include "core/log.h"
#include "corpc/client.h"
#include "transport/grpc/grpc_acceptor.h"

#define ACCEPTOR_MAX_SOCKETS 16
// Wait before retrying when even shedding failed (no spare descriptor).
#define ACCEPTOR_BACKOFF_MS 20

#ifndef SO_COOKIE
#define SO_COOKIE 57 // Linux 4.12
#endif

// One accepted connection's account of its calls.
typedef struct acceptor_conn {
	uint64_t cookie;   // its socket's (0: not ours)
	int64_t  accepted; // corpc_now() at accept
	uint64_t unused;   // calls its client reset before they carried data
	uint64_t used;     // the others
	bool     closed;   // shut down by the guard
	// The client's address in gRPC's form ("ipv4:127.0.0.1:40112"):
	// gRPC itself knows such a connection only as "fd:N".
	char peer[CORPC__ADDR_MAX];
} acceptor_conn;

typedef struct acceptor_socket {
	int  fd;
	bool tcp;
	char unix_path[CORPC__ADDR_MAX]; // removed at stop (unix only)
} acceptor_socket;

struct corpc__grpc_acceptor {
	acceptor_socket socks[ACCEPTOR_MAX_SOCKETS];
	unsigned        n;
	int             wake[2]; // writing to wake[1] stops the thread
	int             spare;   // kept free for shedding under EMFILE
	grpc_server    *server;
	grpc_server_credentials *creds;
	pthread_t                thread;
	bool                     running;
	unsigned                 max_resets; // unused, per connection
	pthread_mutex_t          mu;         // guards conns
	acceptor_conn           *conns;      // by descriptor number
	size_t                   nconns;
};

corpc__grpc_acceptor *
corpc__grpc_acceptor_create(void)
{
	corpc__grpc_acceptor *a = calloc(1, sizeof(*a));
	if (a != NULL) {
		a->wake[0] = a->wake[1] = -1;
		a->spare                = -1;
		pthread_mutex_init(&a->mu, NULL);
	}
	return a;
}

bool
corpc__grpc_acceptor_used(const corpc__grpc_acceptor *a)
{
	return a != NULL && a->n > 0;
}

static corpc_err
acceptor_errno(int e)
{
	return e == EADDRINUSE ? CORPC_EADDRINUSE
	       : e == ENOMEM   ? CORPC_ENOMEM
	                       : CORPC_ESYS;
}

// Binds a listening socket of `family` to `sa`; the fd or -errno.
static int
acceptor_bind(int family, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	int one = 1, zero = 0;
	if (family != AF_UNIX) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (family == AF_INET6) {
		// "[::]" takes IPv4 too, as gRPC's listener does.
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, sa, len) != 0 || listen(fd, SOMAXCONN) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static corpc_err
acceptor_add_tcp(acceptor_socket *s, const corpc__address *addr, int *port)
{
	char portbuf[8];
	snprintf(portbuf, sizeof(portbuf), "%d", addr->port);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags    = AI_PASSIVE | AI_NUMERICSERV;
	int gai           = getaddrinfo(addr->host, portbuf, &hints, &res);
	if (gai != 0 || res == NULL) {
		corpc__detail_set("%s: %s", addr->host, gai_strerror(gai));
		return CORPC_EADDRINVAL;
	}
	int fd = acceptor_bind(res->ai_family, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (fd < 0) {
		corpc__detail_set(
		    "bind %s:%s: %s", addr->host, portbuf, strerror(-fd));
		return acceptor_errno(-fd);
	}
	struct sockaddr_storage ss;
	socklen_t               sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *) &ss, &sl);
	*port  = ntohs(ss.ss_family == AF_INET6
	                   ? ((struct sockaddr_in6 *) &ss)->sin6_port
	                   : ((struct sockaddr_in *) &ss)->sin_port);
	s->fd  = fd;
	s->tcp = true;
	return CORPC_OK;
}

static corpc_err
acceptor_add_unix(acceptor_socket *s, const corpc__address *addr)
{
	struct sockaddr_un sa;
	size_t             len = strlen(addr->host);
	if (len >= sizeof(sa.sun_path) || len >= sizeof(s->unix_path)) {
		return CORPC_EADDRINVAL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, addr->host, len);
	// A stale socket file (nobody accepts on it: the caller checked) goes,
	// as gRPC's listener does; anything else stays and the bind fails.
	struct stat st;
	if (lstat(addr->host, &st) == 0 && S_ISSOCK(st.st_mode)) {
		unlink(addr->host);
	}
	int fd = acceptor_bind(AF_UNIX, (struct sockaddr *) &sa, sizeof(sa));
	if (fd < 0) {
		corpc__detail_set("bind %s: %s", addr->host, strerror(-fd));
		return acceptor_errno(-fd);
	}
	s->fd  = fd;
	s->tcp = false;
	memcpy(s->unix_path, addr->host, len + 1);
	return CORPC_OK;
}

corpc_err
corpc__grpc_acceptor_add(
    corpc__grpc_acceptor *a, const corpc__address *addr, int *port)
{
	if (a->n == ACCEPTOR_MAX_SOCKETS) {
		return CORPC_ENOMEM;
	}
	acceptor_socket *s = &a->socks[a->n];
	memset(s, 0, sizeof(*s));
	corpc_err rv = addr->scheme == CORPC__SCHEME_TCP
	                   ? acceptor_add_tcp(s, addr, port)
	                   : acceptor_add_unix(s, addr);
	if (rv == CORPC_OK) {
		a->n++;
	}
	return rv;
}

// Out of descriptors: drop one pending connection of `fd`.
static void
acceptor_shed(corpc__grpc_acceptor *a, int fd)
{
	if (a->spare < 0) {
		poll(NULL, 0, ACCEPTOR_BACKOFF_MS);
	} else {
		close(a->spare);
		a->spare = -1;
		int c    = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0) {
			close(c);
		}
	}
	if (a->spare < 0) {
		a->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
}

static uint64_t
socket_cookie(int fd)
{
	uint64_t  cookie = 0;
	socklen_t len    = sizeof(cookie);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) {
		return 0;
	}
	return cookie;
}

// gRPC's form of a client address: ipv4:A:P (a v4-mapped IPv6 address
// too), ipv6:[A]:P, unix:PATH (empty for an unnamed client socket).
static void
format_peer(const struct sockaddr_storage *ss, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "";
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *) ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, size, "ipv4:%s:%u", ip, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *) ss;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip,
			    sizeof(ip));
			snprintf(out, size, "ipv4:%s:%u", ip,
			    ntohs(in6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
			snprintf(out, size, "ipv6:[%s]:%u", ip,
			    ntohs(in6->sin6_port));
		}
	} else if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *) ss;
		snprintf(out, size, "unix:%.*s", (int) sizeof(un->sun_path),
		    un->sun_path);
	} else {
		snprintf(out, size, "unknown");
	}
}

// Opens the account of new connection `fd`, whose client is at `from`.
static void
acceptor_track(
    corpc__grpc_acceptor *a, int fd, const struct sockaddr_storage *from)
{
	uint64_t cookie = socket_cookie(fd);
	pthread_mutex_lock(&a->mu);
	if ((size_t) fd >= a->nconns) {
		size_t         n = (size_t) fd * 2 + 64;
		acceptor_conn *v = realloc(a->conns, n * sizeof(*v));
		if (v == NULL) {
			pthread_mutex_unlock(&a->mu);
			return; // unguarded until memory returns
		}
		memset(v + a->nconns, 0, (n - a->nconns) * sizeof(*v));
		a->conns  = v;
		a->nconns = n;
	}
	acceptor_conn *c = &a->conns[fd];
	*c = (acceptor_conn) {.cookie = cookie, .accepted = corpc_now()};
	format_peer(from, c->peer, sizeof(c->peer));
	pthread_mutex_unlock(&a->mu);
}

bool
corpc__grpc_acceptor_peer(
    corpc__grpc_acceptor *a, int fd, int64_t began, char *out, size_t size)
{
	if (a == NULL || fd < 0) {
		return false;
	}
	pthread_mutex_lock(&a->mu);
	const acceptor_conn *c =
	    (size_t) fd < a->nconns ? &a->conns[fd] : NULL;
	// The number may have passed to a later connection (accepted after
	// the call began) or to a socket that is not ours (another cookie).
	bool known = c != NULL && c->cookie != 0 && began >= c->accepted &&
	             socket_cookie(fd) == c->cookie;
	if (known) {
		snprintf(out, size, "%s", c->peer);
	}
	pthread_mutex_unlock(&a->mu);
	return known;
}

// Ends connection `fd` under gRPC's feet. A TCP socket is disconnected
// (connect to AF_UNSPEC: a reset, and what the kernel holds unread is
// dropped, so gRPC parses no more of a flood already sent); a unix socket,
// or if that fails, is shut down (gRPC reads on to the end of what came).
static void
acceptor_disconnect(int fd)
{
	struct sockaddr sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	if (connect(fd, &sa, sizeof(sa)) != 0) {
		shutdown(fd, SHUT_RDWR);
	}
}

int
corpc__grpc_acceptor_call_fd(grpc_call *call)
{
	char *peer = grpc_call_get_peer(call);
	int   fd   = -1;
	if (peer != NULL && strncmp(peer, "fd:", 3) == 0) {
		fd = atoi(peer + 3);
	}
	gpr_free(peer);
	return fd;
}

void
corpc__grpc_acceptor_call_ended(
    corpc__grpc_acceptor *a, int fd, int64_t began, bool reset_unused)
{
	if (a == NULL || a->max_resets == 0 || fd < 0) {
		return;
	}
	pthread_mutex_lock(&a->mu);
	acceptor_conn *c = (size_t) fd < a->nconns ? &a->conns[fd] : NULL;
	if (c == NULL || c->cookie == 0 || c->closed || began < c->accepted) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	bool close_it = false;
	char peer[CORPC__ADDR_MAX];
	snprintf(peer, sizeof(peer), "%s", c->peer);
	if (!reset_unused) {
		c->used++;
	} else if (++c->unused > a->max_resets && c->unused > c->used &&
	           socket_cookie(fd) == c->cookie) {
		close_it  = true;
		c->closed = true;
		acceptor_disconnect(fd);
	}
	pthread_mutex_unlock(&a->mu);
	if (close_it) {
		corpc__log(CORPC_LOG_WARNING,
		    "closed the connection of %s: its client reset %u "
		    "streams before using them, more than it used (rapid "
		    "reset)",
		    peer, a->max_resets + 1);
	}
}

// Accepts everything pending on socket `s`.
static void
acceptor_drain(corpc__grpc_acceptor *a, const acceptor_socket *s)
{
	for (;;) {
		struct sockaddr_storage from;
		socklen_t               from_len = sizeof(from);
		memset(&from, 0, sizeof(from));
		int c = accept4(s->fd, (struct sockaddr *) &from, &from_len,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			if (errno == EMFILE || errno == ENFILE) {
				acceptor_shed(a, s->fd);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				// ENOBUFS, ENOMEM...: try again shortly.
				poll(NULL, 0, ACCEPTOR_BACKOFF_MS);
			}
			return;
		}
		if (s->tcp) {
			int one = 1;
			setsockopt(
			    c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		acceptor_track(a, c, &from);
		// gRPC owns `c` from here, and closes it on failure.
		grpc_server_add_channel_from_fd(a->server, c, a->creds);
	}
}

static void *
acceptor_main(void *arg)
{
	corpc__grpc_acceptor *a = arg;
	struct pollfd         p[ACCEPTOR_MAX_SOCKETS + 1];
	for (unsigned i = 0; i < a->n; i++) {
		p[i] =
		    (struct pollfd) {.fd = a->socks[i].fd, .events = POLLIN};
	}
	p[a->n] = (struct pollfd) {.fd = a->wake[0], .events = POLLIN};
	for (;;) {
		if (poll(p, a->n + 1, -1) < 0) {
			continue; // EINTR
		}
		if (p[a->n].revents != 0) {
			return NULL;
		}
		for (unsigned i = 0; i < a->n; i++) {
			if (p[i].revents != 0) {
				acceptor_drain(a, &a->socks[i]);
			}
		}
	}
}

corpc_err
corpc__grpc_acceptor_start(
    corpc__grpc_acceptor *a, grpc_server *server, unsigned max_resets)
{
	if (a->n == 0 || a->running) {
		return CORPC_OK;
	}
	a->server     = server;
	a->max_resets = max_resets;
	a->creds      = grpc_insecure_server_credentials_create();
	a->spare      = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (a->creds == NULL) {
		return CORPC_ENOMEM;
	}
	if (pipe2(a->wake, O_CLOEXEC) != 0) {
		return CORPC_ESYS;
	}
	if (pthread_create(&a->thread, NULL, acceptor_main, a) != 0) {
		return CORPC_ESYS;
	}
	a->running = true;
	return CORPC_OK;
}

void
corpc__grpc_acceptor_stop(corpc__grpc_acceptor *a)
{
	if (a == NULL) {
		return;
	}
	if (a->running) {
		char c = 0;
		while (write(a->wake[1], &c, 1) < 0 && errno == EINTR) {
		}
		pthread_join(a->thread, NULL);
		a->running = false;
	}
	for (unsigned i = 0; i < a->n; i++) {
		close(a->socks[i].fd);
		if (!a->socks[i].tcp) {
			unlink(a->socks[i].unix_path);
		}
	}
	a->n = 0;
	for (int i = 0; i < 2; i++) {
		if (a->wake[i] >= 0) {
			close(a->wake[i]);
			a->wake[i] = -1;
		}
	}
	if (a->spare >= 0) {
		close(a->spare);
		a->spare = -1;
	}
	if (a->creds != NULL) {
		grpc_server_credentials_release(a->creds);
		a->creds = NULL;
	}
}

void
corpc__grpc_acceptor_destroy(corpc__grpc_acceptor *a)
{
	corpc__grpc_acceptor_stop(a);
	if (a != NULL) {
		pthread_mutex_destroy(&a->mu);
		free(a->conns);
	}
	free(a);
}
