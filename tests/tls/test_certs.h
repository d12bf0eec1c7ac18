// SPDX-License-Identifier: MIT
// The TLS test certificates, as PEM text read from the folder that
// tests/tls/make_certs.sh filled (see there for what each one is).
#ifndef CORPC_TEST_CERTS_H
#define CORPC_TEST_CERTS_H

typedef struct test_certs {
	char *ca, *ca2;
	char *server_crt, *server_key;
	char *client_crt, *client_key;
	char *client2_crt, *client2_key;
	char *expired_crt, *expired_key;
} test_certs;

// Reads every file of `dir` into *c; exits with a message if one is
// missing. Free with test_certs_free.
void test_certs_load(test_certs *c, const char *dir);

void test_certs_free(test_certs *c);

#endif // CORPC_TEST_CERTS_H
