// SPDX-License-Identifier: MIT
// Metadata: an entry array plus one byte pool holding keys and values, both
// reused after clear, so pooled calls add headers without malloc.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corpc/metadata.h"
#include "core/metadata_impl.h"

struct corpc_metadata {
	corpc_metadata_entry *entries;
	size_t                count;
	size_t                cap;
	char                 *pool;
	size_t                pool_used;
	size_t                pool_cap;
};

corpc_err
corpc_metadata_create(corpc_metadata **out)
{
	if (out == NULL) {
		return CORPC_EINVAL;
	}
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? CORPC_OK : CORPC_ENOMEM;
}

void
corpc_metadata_destroy(corpc_metadata *md)
{
	if (md == NULL) {
		return;
	}
	free(md->entries);
	free(md->pool);
	free(md);
}

static bool
key_is_bin(const char *key, size_t len)
{
	// As gRPC: "-bin" alone names no binary header.
	return len > 4 && memcmp(key + len - 4, "-bin", 4) == 0;
}

corpc_err
corpc_metadata_check_key(const char *key)
{
	if (key == NULL || key[0] == '\0') {
		return CORPC_EBADKEY;
	}
	for (const char *p = key; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '-' || c == '_' || c == '.')) {
			return CORPC_EBADKEY;
		}
	}
	if (strncmp(key, "grpc-", 5) == 0) {
		return CORPC_EBADKEY; // reserved for the protocol itself
	}
	return CORPC_OK;
}

corpc_err
corpc_metadata_check_value(const char *key, const void *value, size_t len)
{
	if (value == NULL && len != 0) {
		return CORPC_EBADVALUE;
	}
	if (key != NULL && key_is_bin(key, strlen(key))) {
		return CORPC_OK;
	}
	const unsigned char *v = value;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < 0x20 || v[i] > 0x7e) {
			return CORPC_EBADVALUE;
		}
	}
	return CORPC_OK;
}

// Grows the pool to hold `more` bytes, rebasing entry pointers if it moved.
static corpc_err
pool_reserve(corpc_metadata *md, size_t more)
{
	if (md->pool_used + more <= md->pool_cap) {
		return CORPC_OK;
	}
	size_t cap = md->pool_cap ? md->pool_cap * 2 : 256;
	while (cap < md->pool_used + more) {
		cap *= 2;
	}
	char *old = md->pool;
	char *p   = realloc(md->pool, cap);
	if (p == NULL) {
		return CORPC_ENOMEM;
	}
	if (old != NULL && p != old) {
		for (size_t i = 0; i < md->count; i++) {
			md->entries[i].key = p + (md->entries[i].key - old);
			md->entries[i].value =
			    p + (md->entries[i].value - old);
		}
	}
	md->pool     = p;
	md->pool_cap = cap;
	return CORPC_OK;
}

corpc_err
corpc_metadata_add(
    corpc_metadata *md, const char *key, const void *value, size_t value_len)
{
	corpc_err rv;
	if (md == NULL) {
		return CORPC_EINVAL;
	}
	if ((rv = corpc_metadata_check_key(key)) != CORPC_OK) {
		return rv;
	}
	if ((rv = corpc_metadata_check_value(key, value, value_len)) !=
	    CORPC_OK) {
		return rv;
	}
	if (md->count == md->cap) {
		size_t                cap = md->cap ? md->cap * 2 : 8;
		corpc_metadata_entry *e =
		    realloc(md->entries, cap * sizeof(*e));
		if (e == NULL) {
			return CORPC_ENOMEM;
		}
		md->entries = e;
		md->cap     = cap;
	}
	size_t key_len = strlen(key);
	if ((rv = pool_reserve(md, key_len + 1 + value_len + 1)) != CORPC_OK) {
		return rv;
	}
	char *k = md->pool + md->pool_used;
	memcpy(k, key, key_len + 1);
	char *v = k + key_len + 1;
	if (value_len > 0) {
		memcpy(v, value, value_len);
	}
	v[value_len] = '\0';
	md->pool_used += key_len + 1 + value_len + 1;
	md->entries[md->count++] = (corpc_metadata_entry) {
	    .key = k, .value = v, .value_len = value_len};
	return CORPC_OK;
}

corpc_err
corpc_metadata_add_str(corpc_metadata *md, const char *key, const char *value)
{
	if (value == NULL) {
		return CORPC_EBADVALUE;
	}
	return corpc_metadata_add(md, key, value, strlen(value));
}

void
corpc_metadata_clear(corpc_metadata *md)
{
	if (md != NULL) {
		md->count     = 0;
		md->pool_used = 0;
	}
}

size_t
corpc_metadata_count(const corpc_metadata *md)
{
	return md != NULL ? md->count : 0;
}

const corpc_metadata_entry *
corpc_metadata_at(const corpc_metadata *md, size_t i)
{
	return md != NULL && i < md->count ? &md->entries[i] : NULL;
}

const corpc_metadata_entry *
corpc_metadata_get(const corpc_metadata *md, const char *key)
{
	if (md == NULL || key == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < md->count; i++) {
		if (strcmp(md->entries[i].key, key) == 0) {
			return &md->entries[i];
		}
	}
	return NULL;
}

corpc_err
corpc__metadata_copy(corpc_metadata *dst, const corpc_metadata *src)
{
	corpc_metadata_clear(dst);
	for (size_t i = 0; i < corpc_metadata_count(src); i++) {
		const corpc_metadata_entry *e = &src->entries[i];
		corpc_err                   rv =
		    corpc_metadata_add(dst, e->key, e->value, e->value_len);
		if (rv != CORPC_OK) {
			return rv;
		}
	}
	return CORPC_OK;
}

corpc_err
corpc__metadata_reset(corpc_metadata **md)
{
	if (*md == NULL) {
		return corpc_metadata_create(md);
	}
	corpc_metadata_clear(*md);
	return CORPC_OK;
}
