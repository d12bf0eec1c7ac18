// SPDX-License-Identifier: MIT
// A raw HTTP/2 client for the flood tests (libnghttp2 frames it): one
// connection that opens streams and resets each at once, the rapid-reset
// pattern of CVE-2023-44487.
#ifndef CORPC_TEST_H2_FLOOD_H
#define CORPC_TEST_H2_FLOOD_H

#include <stdbool.h>
#include <stdint.h>

typedef struct h2_flood_result {
	unsigned sent;        // HEADERS+RST_STREAM pairs written
	bool     goaway;      // the server sent GOAWAY
	uint32_t goaway_err;  // its error code
	bool     closed;      // the server closed the connection first
	unsigned max_streams; // SETTINGS_MAX_CONCURRENT_STREAMS (0: none)
	double   seconds;     // from connect to the end
} h2_flood_result;

// Connects to 127.0.0.1:`port` and sends `n` HEADERS (POST `path`, gRPC
// headers, no body), each followed at once by RST_STREAM(CANCEL), as fast
// as the socket takes them, reading what the server sends meanwhile. Stops
// early when the server closes the connection. Then closes it. Aborts the
// process on a local failure (socket, nghttp2).
h2_flood_result h2_flood(int port, const char *path, unsigned n);

#endif // CORPC_TEST_H2_FLOOD_H
