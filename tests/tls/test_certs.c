// SPDX-License-Identifier: MIT
// Loads the TLS test certificates (test_certs.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_certs.h"

// Returns the contents of DIR/NAME, NUL-terminated; exits on failure.
static char *
read_file(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr,
		    "test_certs: cannot open %s (run make_certs.sh)\n", path);
		exit(1);
	}
	char  *buf = NULL;
	size_t len = 0, cap = 0, n;
	char   chunk[4096];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap      = (len + n + 1) * 2;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				exit(1);
			}
			buf = nb;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (len == 0) {
		fprintf(stderr, "test_certs: %s is empty\n", path);
		exit(1);
	}
	buf[len] = '\0';
	return buf;
}

void
test_certs_load(test_certs *c, const char *dir)
{
	c->ca          = read_file(dir, "ca.pem");
	c->ca2         = read_file(dir, "ca2.pem");
	c->server_crt  = read_file(dir, "server.pem");
	c->server_key  = read_file(dir, "server.key");
	c->client_crt  = read_file(dir, "client.pem");
	c->client_key  = read_file(dir, "client.key");
	c->client2_crt = read_file(dir, "client2.pem");
	c->client2_key = read_file(dir, "client2.key");
	c->expired_crt = read_file(dir, "expired.pem");
	c->expired_key = read_file(dir, "expired.key");
}

void
test_certs_free(test_certs *c)
{
	free(c->ca);
	free(c->ca2);
	free(c->server_crt);
	free(c->server_key);
	free(c->client_crt);
	free(c->client_key);
	free(c->client2_crt);
	free(c->client2_key);
	free(c->expired_crt);
	free(c->expired_key);
	memset(c, 0, sizeof(*c));
}
