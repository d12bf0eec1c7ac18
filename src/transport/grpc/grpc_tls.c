// SPDX-License-Identifier: MIT
// gRPC transport: TLS credentials from corpc_tls_client / corpc_tls_server
// (tls.h), and the words for a failed handshake.
//
// gRPC C-core only parses PEM text when it first connects (client) and
// asserts on a key without a certificate, so the configuration is checked
// here first with OpenSSL's libcrypto, the library Debian's gRPC itself
// links (pkg-config grpc requires openssl): bad text is CORPC_ETLS at open
// or listen. gRPC copies every PEM string when the credentials are created
// (gpr_strdup in its ssl_credentials.cc), so nothing here outlives the call.
#include <ctype.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "transport/grpc/grpc_common.h"

// ---- PEM checks ---------------------------------------------------------

// True if OpenSSL stopped reading because no further PEM block was there,
// not because a block was broken. Clears this thread's OpenSSL errors, so
// gRPC never sees ours.
static bool
pem_clean_end(void)
{
	unsigned long e     = ERR_peek_last_error();
	bool          clean = ERR_GET_LIB(e) == ERR_LIB_PEM &&
	             ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
	ERR_clear_error();
	return clean;
}

// Parses every certificate in `pem`. Returns how many (0 when there is
// none, a block does not parse, or out of memory); *leaf, if not NULL,
// gets the first one (caller frees with X509_free).
static int
pem_certs(const char *pem, X509 **leaf)
{
	if (leaf != NULL) {
		*leaf = NULL;
	}
	BIO *bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL) {
		ERR_clear_error();
		return 0;
	}
	int   n = 0;
	X509 *x;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (n == 0 && leaf != NULL) {
			*leaf = x;
		} else {
			X509_free(x);
		}
		n++;
	}
	BIO_free(bio);
	if (!pem_clean_end() || n == 0) {
		if (leaf != NULL) {
			X509_free(*leaf);
			*leaf = NULL;
		}
		return 0;
	}
	return n;
}

// Passphrase callback that has none: an encrypted key fails to load
// instead of OpenSSL prompting on the terminal.
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void) buf;
	(void) size;
	(void) rwflag;
	(void) arg;
	return 0;
}

// True if `cert_pem` holds a certificate chain and `key_pem` the private
// key of its first certificate.
static bool
pem_key_pair_ok(const char *cert_pem, const char *key_pem)
{
	X509 *leaf;
	if (pem_certs(cert_pem, &leaf) == 0) {
		return false;
	}
	BIO      *bio = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *key = NULL;
	if (bio != NULL) {
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	}
	bool ok = key != NULL && X509_check_private_key(leaf, key) == 1;
	EVP_PKEY_free(key);
	X509_free(leaf);
	ERR_clear_error();
	return ok;
}

// ---- credentials --------------------------------------------------------

corpc_err
corpc__grpc_tls_client_creds(
    const corpc_tls_client *tls, grpc_channel_credentials **out)
{
	*out = NULL;
	if (tls == NULL) {
		*out = grpc_insecure_credentials_create();
		return *out != NULL ? CORPC_OK : CORPC_ENOMEM;
	}
	bool has_cert = tls->cert_chain_pem != NULL;
	if (has_cert != (tls->private_key_pem != NULL)) {
		return CORPC_ETLS; // gRPC would assert
	}
	if (has_cert &&
	    !pem_key_pair_ok(tls->cert_chain_pem, tls->private_key_pem)) {
		return CORPC_ETLS;
	}
	if (tls->root_certs_pem != NULL &&
	    pem_certs(tls->root_certs_pem, NULL) == 0) {
		return CORPC_ETLS;
	}
	if (tls->server_name_override != NULL &&
	    tls->server_name_override[0] == '\0') {
		return CORPC_ETLS;
	}
	grpc_ssl_pem_key_cert_pair pair = {
	    .private_key = tls->private_key_pem,
	    .cert_chain  = tls->cert_chain_pem,
	};
	*out = grpc_ssl_credentials_create(
	    tls->root_certs_pem, has_cert ? &pair : NULL, NULL, NULL);
	return *out != NULL ? CORPC_OK : CORPC_ENOMEM;
}

corpc_err
corpc__grpc_tls_server_creds(
    const corpc_tls_server *tls, grpc_server_credentials **out)
{
	*out = NULL;
	if (tls == NULL) {
		*out = grpc_insecure_server_credentials_create();
		return *out != NULL ? CORPC_OK : CORPC_ENOMEM;
	}
	if (tls->cert_chain_pem == NULL || tls->private_key_pem == NULL ||
	    !pem_key_pair_ok(tls->cert_chain_pem, tls->private_key_pem)) {
		return CORPC_ETLS;
	}
	if (tls->require_client_cert && tls->client_roots_pem == NULL) {
		return CORPC_ETLS; // nothing to check client certificates
		                   // against
	}
	if (tls->client_roots_pem != NULL &&
	    pem_certs(tls->client_roots_pem, NULL) == 0) {
		return CORPC_ETLS;
	}
	grpc_ssl_pem_key_cert_pair pair = {
	    .private_key = tls->private_key_pem,
	    .cert_chain  = tls->cert_chain_pem,
	};
	grpc_ssl_client_certificate_request_type req =
	    GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
	if (tls->require_client_cert) {
		req =
		    GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
	} else if (tls->client_roots_pem != NULL) {
		req = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
	}
	*out = grpc_ssl_server_credentials_create_ex(
	    tls->client_roots_pem, &pair, 1, req, NULL);
	return *out != NULL ? CORPC_OK : CORPC_ENOMEM;
}

// ---- handshake failures -------------------------------------------------

// True if the `len` bytes at `text` contain `word`, ignoring ASCII case.
static bool
has_word(const char *text, size_t len, const char *word)
{
	size_t n = strlen(word);
	for (size_t i = 0; i + n <= len; i++) {
		size_t j = 0;
		while (j < n && tolower((unsigned char) text[i + j]) ==
		                    tolower((unsigned char) word[j])) {
			j++;
		}
		if (j == n) {
			return true;
		}
	}
	return false;
}

// gRPC's words for a TLS handshake that failed on this side.
static bool
says_tls(const char *text, size_t len)
{
	return has_word(text, len, "handshake") ||
	       has_word(text, len, "ssl") ||
	       has_word(text, len, "certificate");
}

// gRPC's words for a connection the peer closed or reset.
static bool
says_closed(const char *text, size_t len)
{
	return has_word(text, len, "socket closed") ||
	       has_word(text, len, "connection reset") ||
	       has_word(text, len, "end of file");
}

bool
corpc__grpc_tls_explain(bool tls, const char **text, size_t *len,
    const char *error_string, bool before_headers, const char **prefix,
    const char **suffix)
{
	*prefix = "";
	*suffix = "";
	// The details may be generic where gRPC's debug string is not.
	if (error_string != NULL) {
		size_t elen = strlen(error_string);
		if (*len == 0 ||
		    (!says_tls(*text, *len) && says_tls(error_string, elen))) {
			*text = error_string;
			// The gist comes first; the rest is provenance.
			*len = elen > 600 ? 600 : elen;
		}
	}
	// gRPC's words when the connection never came up. Without them the
	// status may be the server's own, which is left alone, but for a TLS
	// connection closed before any answer: with TLS 1.3 a client may
	// consider the handshake done before the server has checked its
	// certificate.
	if (!has_word(*text, *len, "failed to connect to all addresses")) {
		if (tls && before_headers && says_closed(*text, *len)) {
			*suffix =
			    " (the server closed the TLS connection before "
			    "answering: if it requires mutual TLS, the client "
			    "certificate may be missing or not signed by its "
			    "client roots)";
			return true;
		}
		return false;
	}
	if (!tls) {
		if (says_closed(*text, *len)) {
			*suffix =
			    " (the server closed the connection during setup: "
			    "it "
			    "may require TLS, and this channel is plaintext)";
			return true;
		}
		return false;
	}
	if (has_word(*text, *len, "certificate verify failed")) {
		*prefix =
		    "TLS handshake failed: the server's certificate is not "
		    "trusted (not signed by root_certs_pem, expired or not "
		    "yet "
		    "valid): ";
	} else if (has_word(*text, *len, "wrong version number") ||
	           has_word(*text, *len, "packet length too long") ||
	           has_word(*text, *len, "record layer failure")) {
		*prefix =
		    "TLS handshake failed: the server does not speak TLS: ";
	} else if (has_word(*text, *len, "peer name")) {
		*prefix =
		    "TLS handshake failed: the server's certificate is not "
		    "for this host name (see server_name_override): ";
	} else if (says_tls(*text, *len)) {
		*prefix = "TLS handshake failed: ";
	} else if (says_closed(*text, *len)) {
		*prefix =
		    "TLS handshake failed: the server closed the connection "
		    "(a mutual-TLS server does so when the client "
		    "certificate is missing or not signed by its client "
		    "roots): ";
	} else {
		return false; // refused, unreachable, DNS: not about TLS
	}
	return true;
}
