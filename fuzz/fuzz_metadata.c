// SPDX-License-Identifier: MIT
// Fuzzes the metadata validator and list: corpc_metadata_check_key,
// check_value, add, get, at, clear and the internal copy; with the network
// transport built, also its metadata import and validity check.
//
// Input: up to METADATA_MAX entries, each a key (bytes up to a NUL or the
// end), one length byte L, then min(L, rest) value bytes.
//
// Invariants: the checks agree with an independent model of the documented
// rules; add succeeds exactly when both checks pass and leaves the list
// unchanged otherwise; stored keys and values round-trip byte-exact (values
// NUL-terminated); get finds the first entry with a key; copy and clear
// behave; gRPC accepts every entry corpc accepts.
#include <stdbool.h>
#include <string.h>

#include <corpc/corpc.h>

#include "core/metadata_impl.h"
#include "fuzz.h"

#ifdef CORPC_FUZZ_GRPC
#include "transport/grpc/grpc_common.h"
#endif

#define METADATA_MAX 64

typedef struct md_input {
	const char    *key; // NUL-terminated copy
	const uint8_t *value;
	size_t         value_len;
	bool           ok; // the model accepts it
} md_input;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
#ifdef CORPC_FUZZ_GRPC
	grpc_init();
#endif
	return 0;
}

// The documented key rule: [0-9a-z_.-]+, not starting with "grpc-".
static bool
md_model_key(const char *key)
{
	if (key[0] == '\0' || strncmp(key, "grpc-", 5) == 0) {
		return false;
	}
	for (const char *p = key; *p != '\0'; p++) {
		if (strchr("0123456789abcdefghijklmnopqrstuvwxyz_.-", *p) ==
		    NULL) {
			return false;
		}
	}
	return true;
}

// The documented value rule: anything for a key ending in "-bin" (with a
// name before it, as in gRPC), else 0x20..0x7e.
static bool
md_model_value(const char *key, const uint8_t *v, size_t len)
{
	size_t klen = strlen(key);
	if (klen > 4 && strcmp(key + klen - 4, "-bin") == 0) {
		return true;
	}
	for (size_t i = 0; i < len; i++) {
		if (v[i] < 0x20 || v[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

static bool
md_entry_is(const corpc_metadata_entry *e, const md_input *in)
{
	return e != NULL && strcmp(e->key, in->key) == 0 &&
	       e->value_len == in->value_len &&
	       memcmp(e->value, in->value, in->value_len) == 0 &&
	       e->value[e->value_len] == '\0';
}

static bool
md_equal(const corpc_metadata *a, const corpc_metadata *b)
{
	if (corpc_metadata_count(a) != corpc_metadata_count(b)) {
		return false;
	}
	for (size_t i = 0; i < corpc_metadata_count(a); i++) {
		const corpc_metadata_entry *x = corpc_metadata_at(a, i);
		const corpc_metadata_entry *y = corpc_metadata_at(b, i);
		if (strcmp(x->key, y->key) != 0 ||
		    x->value_len != y->value_len ||
		    memcmp(x->value, y->value, x->value_len) != 0) {
			return false;
		}
	}
	return true;
}

// Splits `data` into entries; keys are copied into `keys`.
static size_t
md_split(const uint8_t *data, size_t size, char *keys, md_input *in)
{
	size_t n = 0, pos = 0;
	while (pos < size && n < METADATA_MAX) {
		const uint8_t *key = data + pos;
		const uint8_t *nul = memchr(key, '\0', size - pos);
		size_t klen = nul != NULL ? (size_t) (nul - key) : size - pos;
		memcpy(keys, data + pos, klen);
		keys[klen] = '\0';
		pos += klen + (nul != NULL ? 1 : 0);
		size_t vlen = 0;
		if (pos < size) {
			vlen = data[pos++];
			vlen = vlen < size - pos ? vlen : size - pos;
		}
		in[n].key       = keys;
		in[n].value     = data + pos;
		in[n].value_len = vlen;
		in[n].ok        = md_model_key(keys) &&
		           md_model_value(keys, data + pos, vlen);
		keys += klen + 1;
		pos += vlen;
		n++;
	}
	return n;
}

#ifdef CORPC_FUZZ_GRPC
// gRPC's side: every list corpc built is valid for gRPC too, and importing
// the raw entries as received metadata keeps exactly the accepted ones,
// minus "user-agent".
static void
md_check_grpc(const corpc_metadata *md, const md_input *in, size_t n)
{
	FUZZ_CHECK(corpc__grpc_md_valid(md));
	grpc_metadata       raw[METADATA_MAX];
	grpc_metadata_array arr = {.count = n, .capacity = n, .metadata = raw};
	corpc_metadata     *got, *want;
	FUZZ_CHECK(corpc_metadata_create(&got) == CORPC_OK);
	FUZZ_CHECK(corpc_metadata_create(&want) == CORPC_OK);
	memset(raw, 0, sizeof(raw));
	for (size_t i = 0; i < n; i++) {
		raw[i].key   = grpc_slice_from_static_string(in[i].key);
		raw[i].value = grpc_slice_from_static_buffer(
		    in[i].value, in[i].value_len);
		if (in[i].ok && strcmp(in[i].key, "user-agent") != 0) {
			FUZZ_CHECK(
			    corpc_metadata_add(want, in[i].key, in[i].value,
			        in[i].value_len) == CORPC_OK);
		}
	}
	corpc__grpc_md_import(got, &arr);
	FUZZ_CHECK(md_equal(got, want));
	corpc_metadata_destroy(got);
	corpc_metadata_destroy(want);
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char    *keys = malloc(size + METADATA_MAX + 1);
	md_input in[METADATA_MAX];
	FUZZ_CHECK(keys != NULL);
	size_t n = md_split(data, size, keys, in);

	corpc_metadata *md;
	FUZZ_CHECK(corpc_metadata_create(&md) == CORPC_OK);
	FUZZ_CHECK(corpc_metadata_count(md) == 0);
	// Twice: the second round reuses the memory clear keeps.
	for (int round = 0; round < 2; round++) {
		size_t count = 0;
		for (size_t i = 0; i < n; i++) {
			const md_input *e  = &in[i];
			corpc_err       ck = corpc_metadata_check_key(e->key);
			corpc_err       cv = corpc_metadata_check_value(
			          e->key, e->value, e->value_len);
			FUZZ_CHECK(ck == CORPC_OK || ck == CORPC_EBADKEY);
			FUZZ_CHECK(cv == CORPC_OK || cv == CORPC_EBADVALUE);
			FUZZ_CHECK((ck == CORPC_OK) == md_model_key(e->key));
			FUZZ_CHECK(
			    (cv == CORPC_OK) ==
			    md_model_value(e->key, e->value, e->value_len));
			corpc_err rv = corpc_metadata_add(
			    md, e->key, e->value, e->value_len);
			if (ck != CORPC_OK) {
				FUZZ_CHECK(rv == CORPC_EBADKEY);
			} else if (cv != CORPC_OK) {
				FUZZ_CHECK(rv == CORPC_EBADVALUE);
			} else {
				FUZZ_CHECK(rv == CORPC_OK);
				count++;
			}
			FUZZ_CHECK(corpc_metadata_count(md) == count);
			if (rv == CORPC_OK) {
				FUZZ_CHECK(md_entry_is(
				    corpc_metadata_at(md, count - 1), e));
			}
			FUZZ_CHECK(corpc_metadata_at(md, count) == NULL);
		}
		// Every entry survived later appends; get finds the first
		// match.
		size_t j = 0;
		for (size_t i = 0; i < n; i++) {
			if (!in[i].ok) {
				continue;
			}
			FUZZ_CHECK(
			    md_entry_is(corpc_metadata_at(md, j), &in[i]));
			const corpc_metadata_entry *first =
			    corpc_metadata_get(md, in[i].key);
			FUZZ_CHECK(first != NULL &&
			           strcmp(first->key, in[i].key) == 0);
			for (size_t k = 0; k < count; k++) {
				const corpc_metadata_entry *e =
				    corpc_metadata_at(md, k);
				if (strcmp(e->key, in[i].key) == 0) {
					FUZZ_CHECK(e == first);
					break;
				}
			}
			j++;
		}
		FUZZ_CHECK(j == count);

		corpc_metadata *copy = NULL;
		FUZZ_CHECK(corpc__metadata_reset(&copy) == CORPC_OK);
		FUZZ_CHECK(corpc__metadata_copy(copy, md) == CORPC_OK);
		FUZZ_CHECK(md_equal(copy, md));
		FUZZ_CHECK(corpc__metadata_reset(&copy) == CORPC_OK);
		FUZZ_CHECK(corpc_metadata_count(copy) == 0);
		corpc_metadata_destroy(copy);
#ifdef CORPC_FUZZ_GRPC
		md_check_grpc(md, in, n);
#endif
		corpc_metadata_clear(md);
		FUZZ_CHECK(corpc_metadata_count(md) == 0);
		FUZZ_CHECK(corpc_metadata_at(md, 0) == NULL);
	}
	corpc_metadata_destroy(md);
	free(keys);
	return 0;
}
