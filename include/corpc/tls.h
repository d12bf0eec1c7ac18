// SPDX-License-Identifier: MIT
// corpc: TLS for the network transport. Set `tls` in corpc_channel_opts or
// corpc_server_opts; NULL (the zero-initialised default) means plaintext.
//
// Where it applies:
// - tcp:// channels and listeners: standard gRPC over TLS (gRPC C-core's
//   SSL credentials).
// - unix:// ignores it and stays plaintext: a Unix socket never leaves the
//   host, and who may connect is decided by the socket file's permissions
//   (created with the process umask; set the umask, or listen in a
//   directory only the intended users can enter). See README, "TLS".
// - inproc:// ignores it.
//
// Certificates and keys are PEM text (the contents, not file names), NUL-
// terminated. They are checked when the channel opens or the tcp://
// listener binds: text that does not parse, a key that does not match its
// certificate, or a key or certificate without the other is CORPC_ETLS
// there, not a failure at the first call. Encrypted (passphrase) keys are
// not supported. Handshake failures (unknown CA, expired or mismatched
// certificate, missing client certificate, one side not using TLS) are
// UNAVAILABLE statuses on the call, with a message that says so.
#ifndef CORPC_TLS_H
#define CORPC_TLS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

// Client side of TLS (corpc_channel_opts.tls).
// Ownership: read by corpc_channel_open only; gRPC copies the PEM text, so
// the struct and its strings may be freed once that returns.
typedef struct corpc_tls_client {
	// Trust roots, one or more CA certificates; NULL: gRPC's default roots
	// (the system store, or the file named by
	// GRPC_DEFAULT_SSL_ROOTS_FILE_PATH).
	const char *root_certs_pem;
	// Client certificate chain and its private key, for mutual TLS: both
	// or neither (NULL, NULL: no client certificate).
	const char *cert_chain_pem;
	const char *private_key_pem;
	// Check the server certificate against this name instead of the host
	// of the address (tests, or servers reached by IP address). NULL: the
	// host.
	const char *server_name_override;
} corpc_tls_client;

// Server side of TLS (corpc_server_opts.tls).
// Ownership: borrowed by the server and read at each corpc_server_listen of
// a tcp:// address, where gRPC copies the PEM text: it must stay valid until
// the last listen call, and may be freed after that.
typedef struct corpc_tls_server {
	// The server's certificate chain (leaf first) and its private key;
	// both required.
	const char *cert_chain_pem;
	const char *private_key_pem;
	// CA certificates that client certificates are checked against. NULL:
	// no client certificate is asked for. Set without require_client_cert,
	// a client certificate is asked for and checked if the client sends
	// one, but a client without one is let in.
	const char *client_roots_pem;
	// Mutual TLS: every client must present a certificate signed by one of
	// client_roots_pem (required then), or the handshake fails.
	bool require_client_cert;
} corpc_tls_server;

#ifdef __cplusplus
}
#endif

#endif // CORPC_TLS_H
