// SPDX-License-Identifier: MIT
// Writes the seed corpora of the fuzz targets, at build time, from the
// tests: OUTDIR/<target>/<n> for fuzz_address (the address literals of the
// test sources named after --address), fuzz_metadata (the string literals
// of the sources named after --metadata, as key/value pairs) and
// fuzz_decode (messages like those the conformance suite and clone_test
// send). fuzz_codegen's seeds are requests captured from protoc by
// dump_request.c.
//
// usage: corpc_fuzz_seeds OUTDIR [--address FILE...] [--metadata FILE...]
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clone.pb-c.h"
#include "clone3.pb-c.h"
#include "test.pb-c.h"

#define SEEDS_MAX_LITERALS 1024
#define SEEDS_MAX_LEN      512

typedef struct seeds_lit {
	size_t  len;
	uint8_t s[SEEDS_MAX_LEN];
} seeds_lit;

static const char *seeds_out;

static void
seeds_fail(const char *what, const char *arg)
{
	fprintf(stderr, "corpc_fuzz_seeds: %s %s\n", what, arg);
	exit(1);
}

static void
seeds_mkdir(const char *path)
{
	if (mkdir(path, 0777) != 0) {
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			seeds_fail("cannot create", path);
		}
	}
}

// Writes OUTDIR/target/NAME.
static void
seeds_write(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", seeds_out, target);
	seeds_mkdir(path);
	snprintf(path, sizeof(path), "%s/%s/%s", seeds_out, target, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		seeds_fail("cannot write", path);
	}
}

// The value of hex digit `c`, or -1.
static int
seeds_hex(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

// Decodes the character at *pp, an escape sequence included, and moves *pp
// to its last byte.
static uint8_t
seeds_unescape(const char **pp)
{
	const char *p = *pp;
	int         c = (unsigned char) *p;
	if (c == '\\' && p[1] != '\0') {
		c = (unsigned char) *++p;
		if (c == 'n') {
			c = '\n';
		} else if (c == 't') {
			c = '\t';
		} else if (c == 'r') {
			c = '\r';
		} else if (c == '0') {
			c = '\0';
		} else if (c == 'x') {
			c = 0;
			while (seeds_hex(p[1]) >= 0) {
				c = (c * 16 + seeds_hex(*++p)) & 0xff;
			}
		}
	}
	*pp = p;
	return (uint8_t) c;
}

// Reads the C string literals of `path` (each on one line) into
// lits[*n...].
static void
seeds_scan(const char *path, seeds_lit *lits, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		seeds_fail("cannot read", path);
	}
	char line[4096];
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = line;
		while (
		    (p = strchr(p, '"')) != NULL && *n < SEEDS_MAX_LITERALS) {
			if (p > line && p[-1] == '\'') {
				p++; // the character literal '"'
				continue;
			}
			seeds_lit *l = &lits[*n];
			l->len       = 0;
			for (p++; *p != '\0' && *p != '"' && *p != '\n'; p++) {
				uint8_t c = seeds_unescape(&p);
				if (l->len < SEEDS_MAX_LEN) {
					l->s[l->len++] = c;
				}
			}
			if (*p != '"') {
				break; // unterminated on this line
			}
			p++;
			(*n)++;
		}
	}
	fclose(f);
}

static bool
seeds_has_prefix(const seeds_lit *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

static void
seeds_address(seeds_lit *lits, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		seeds_lit *l = &lits[i];
		if (seeds_has_prefix(l, "inproc") ||
		    seeds_has_prefix(l, "tcp") ||
		    seeds_has_prefix(l, "unix") ||
		    seeds_has_prefix(l, "http")) {
			char name[32];
			snprintf(name, sizeof(name), "test-%zu", count++);
			seeds_write("fuzz_address", name, l->s, l->len);
		}
	}
}

// Appends one fuzz_metadata entry (key, NUL, length byte, value) to buf.
static size_t
seeds_md_entry(uint8_t *buf, size_t at, const seeds_lit *k, const seeds_lit *v)
{
	size_t vlen = v->len > 255 ? 255 : v->len;
	memcpy(buf + at, k->s, k->len);
	at += k->len;
	buf[at++] = 0;
	buf[at++] = (uint8_t) vlen;
	memcpy(buf + at, v->s, vlen);
	return at + vlen;
}

static void
seeds_metadata(seeds_lit *lits, size_t n)
{
	// Keep the literals that can be a key or a value: no format strings
	// or header names.
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (memchr(lits[i].s, '%', lits[i].len) == NULL &&
		    memchr(lits[i].s, '/', lits[i].len) == NULL &&
		    memchr(lits[i].s, '\0', lits[i].len) == NULL &&
		    lits[i].len < 64) {
			lits[m++] = lits[i];
		}
	}
	if (m == 0) {
		return;
	}
	static uint8_t buf[SEEDS_MAX_LITERALS * (SEEDS_MAX_LEN + 2) * 2];
	char           name[32];
	seeds_lit      bin = {.len = 0};
	for (size_t i = 0; i < m; i++) {
		// Each literal as a key with the next as its value, and with
		// "-bin" added and a binary value.
		size_t len =
		    seeds_md_entry(buf, 0, &lits[i], &lits[(i + 1) % m]);
		seeds_lit *k  = &lits[i];
		seeds_lit  kb = *k;
		if (kb.len + 4 <= SEEDS_MAX_LEN) {
			memcpy(kb.s + kb.len, "-bin", 4);
			kb.len += 4;
		}
		bin.s[bin.len++] = (uint8_t) (i * 37);
		bin.s[bin.len++] = 0;
		len              = seeds_md_entry(buf, len, &kb, &bin);
		snprintf(name, sizeof(name), "test-%zu", i);
		seeds_write("fuzz_metadata", name, buf, len);
		if (bin.len > 32) {
			bin.len = 0;
		}
	}
	// All of them in one list, keys repeating.
	size_t len = 0;
	for (size_t i = 0; i < m && len < sizeof(buf) / 2; i++) {
		len =
		    seeds_md_entry(buf, len, &lits[i], &lits[(i * 7 + 3) % m]);
		len = seeds_md_entry(buf, len, &lits[i / 2], &lits[i]);
	}
	seeds_write("fuzz_metadata", "test-all", buf, len);
}

// Writes `m` packed, after the selector byte fuzz_decode reads: the type's
// index and the number of slices less one.
static void
seeds_message(
    const char *name, int type, int slices, const ProtobufCMessage *m)
{
	size_t   len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len + 1);
	if (buf == NULL) {
		seeds_fail("out of memory", "");
	}
	buf[0] = (uint8_t) (type | ((slices - 1) << 3));
	protobuf_c_message_pack(m, buf + 1);
	seeds_write("fuzz_decode", name, buf, len + 1);
	seeds_write("fuzz_depth", name, buf, len + 1); // same selector
	free(buf);
}

// fuzz_decode's type indexes.
enum { SEED_REQ, SEED_RESP, SEED_ALL, SEED_SPARSE, SEED_P3 };

static void
seeds_decode(void)
{
	static uint8_t blob[300];
	for (size_t i = 0; i < sizeof(blob); i++) {
		blob[i] = (uint8_t) (i * 7);
	}
	// The conformance suite's requests: plain, streaming counts, failures,
	// metadata echo, a blob, proto3 optional.
	Corpc__Test__EchoRequest req = CORPC__TEST__ECHO_REQUEST__INIT;
	seeds_message("req-empty", SEED_REQ, 1, &req.base);
	req.text = "hello";
	seeds_message("req-text", SEED_REQ, 1, &req.base);
	req.count    = 5;
	req.delay_ms = 1;
	seeds_message("req-stream", SEED_REQ, 2, &req.base);
	req.fail_code    = 5;
	req.fail_message = "not found: \xc3\xa9";
	req.fail_after   = 2;
	seeds_message("req-fail", SEED_REQ, 3, &req.base);
	req.echo_metadata = 1;
	req.blob          = (ProtobufCBinaryData) {sizeof(blob), blob};
	req._tag_case     = CORPC__TEST__ECHO_REQUEST___TAG_TAG;
	req.tag           = -1;
	seeds_message("req-all", SEED_REQ, 4, &req.base);

	Corpc__Test__EchoResponse resp = CORPC__TEST__ECHO_RESPONSE__INIT;
	resp.text                      = "hello";
	resp.index                     = 3;
	resp.blob                      = (ProtobufCBinaryData) {16, blob};
	seeds_message("resp", SEED_RESP, 1, &resp.base);

	// clone_test's proto2 All: every field kind, with a child.
	Clonetest__All   child         = CLONETEST__ALL__INIT;
	Clonetest__All   all           = CLONETEST__ALL__INIT;
	Clonetest__Leaf  leaf          = CLONETEST__LEAF__INIT;
	char            *tags[]        = {"t0", "", "tag-two"};
	int32_t          ri32[]        = {0, -1, 2147483647, -2147483647 - 1};
	int64_t          rs64[]        = {-1, 1, INT64_MIN, INT64_MAX};
	double           rd[]          = {0.5, -1e300};
	char            *rstr[]        = {"a", "", "ccc"};
	Clonetest__Leaf *rleaf[]       = {&leaf, &leaf};
	Clonetest__All__MStrEntry  ms  = CLONETEST__ALL__MSTR_ENTRY__INIT;
	Clonetest__All__MStrEntry *msp = &ms;
	leaf.has_id                    = 1;
	leaf.id                        = 7;
	leaf.name                      = "leaf";
	leaf.n_tags                    = 3;
	leaf.tags                      = tags;
	child.req                      = 1;
	all.req                        = 42;
	all.has_f_int64                = 1;
	all.f_int64                    = INT64_MIN;
	all.has_f_sint32               = 1;
	all.f_sint32                   = -77;
	all.has_f_fixed64              = 1;
	all.f_fixed64                  = 0x0123456789abcdefull;
	all.has_f_float                = 1;
	all.f_float                    = 3.25f;
	all.has_f_enum                 = 1;
	all.f_enum                     = CLONETEST__COLOR__BLUE;
	all.s_plain                    = "plain";
	all.s_def                      = "not the default";
	all.has_b_def                  = 1;
	all.b_def                      = (ProtobufCBinaryData) {3, blob};
	all.leaf                       = &leaf;
	all.n_r_int32                  = 4;
	all.r_int32                    = ri32;
	all.n_r_sint64                 = 4;
	all.r_sint64                   = rs64;
	all.n_r_double                 = 2;
	all.r_double                   = rd;
	all.n_r_string                 = 3;
	all.r_string                   = rstr;
	all.n_r_leaf                   = 2;
	all.r_leaf                     = rleaf;
	all.choice_case                = CLONETEST__ALL__CHOICE_O_LEAF;
	all.o_leaf                     = &leaf;
	ms.has_key                     = 1;
	ms.key                         = 5;
	ms.value                       = "five";
	all.n_m_str                    = 1;
	all.m_str                      = &msp;
	all.child                      = &child;
	seeds_message("all", SEED_ALL, 1, &all.base);
	// The same bytes as Sparse: mostly unknown fields.
	seeds_message("sparse", SEED_SPARSE, 2, &all.base);

	// A chain of Sparse 40 deep, for fuzz_depth's nesting scan.
	Clonetest__Sparse chain[41];
	for (int i = 0; i <= 40; i++) {
		clonetest__sparse__init(&chain[i]);
		chain[i].child = i < 40 ? &chain[i + 1] : NULL;
	}
	chain[40].leaf = &leaf;
	seeds_message("sparse-chain", SEED_SPARSE, 1, &chain[0].base);
	all.choice_case = CLONETEST__ALL__CHOICE_O_STR_DEF;
	all.o_str_def   = "other";
	seeds_message("all-oneof-def", SEED_ALL, 3, &all.base);
	seeds_message("all-min", SEED_ALL, 1, &child.base);

	// clone_test's proto3 P3.
	Clonetest3__P3          p3     = CLONETEST3__P3__INIT;
	Clonetest3__Sub         sub    = CLONETEST3__SUB__INIT;
	Clonetest3__Sub        *rsub[] = {&sub};
	Clonetest3__P3__MEntry  me     = CLONETEST3__P3__MENTRY__INIT;
	Clonetest3__P3__MEntry *mep    = &me;
	int64_t                 ri[]   = {1, -2, 3};
	sub.name                       = "sub";
	sub.blob                       = (ProtobufCBinaryData) {5, blob};
	p3.a                           = 9;
	p3.s                           = "s";
	p3.sub                         = &sub;
	p3.n_rs                        = 3;
	p3.rs                          = rstr;
	p3.n_ri                        = 3;
	p3.ri                          = ri;
	p3.n_rsub                      = 1;
	p3.rsub                        = rsub;
	p3.pick_case                   = CLONETEST3__P3__PICK_PM;
	p3.pm                          = &sub;
	me.key                         = "k";
	me.value                       = &sub;
	p3.n_m                         = 1;
	p3.m                           = &mep;
	seeds_message("p3", SEED_P3, 2, &p3.base);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
		    "usage: corpc_fuzz_seeds OUTDIR [--address FILE...] "
		    "[--metadata FILE...]\n");
		return 2;
	}
	seeds_out = argv[1];
	seeds_mkdir(seeds_out);
	static seeds_lit addr[SEEDS_MAX_LITERALS], md[SEEDS_MAX_LITERALS];
	size_t           n_addr = 0, n_md = 0;
	int              mode = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--address") == 0) {
			mode = 1;
		} else if (strcmp(argv[i], "--metadata") == 0) {
			mode = 2;
		} else if (mode == 1) {
			seeds_scan(argv[i], addr, &n_addr);
		} else if (mode == 2) {
			seeds_scan(argv[i], md, &n_md);
		} else {
			seeds_fail("unexpected argument", argv[i]);
		}
	}
	seeds_address(addr, n_addr);
	seeds_metadata(md, n_md);
	seeds_decode();
	return 0;
}
