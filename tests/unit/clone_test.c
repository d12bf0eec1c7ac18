// SPDX-License-Identifier: MIT
// Tests for corpc__msg_clone: re-packing the copy gives the source's bytes,
// the copy owns all its memory, frees cleanly, survives allocation failure
// at every step, and can live in an arena.
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clone.pb-c.h"
#include "clone3.pb-c.h"
#include "core/arena.h"
#include "core/clone.h"
#include "corpc/message.h"

// Counts live allocations; fails the allocation numbered fail_at (from 0).
typedef struct {
	ProtobufCAllocator alloc;
	size_t             calls;
	size_t             live;
	size_t             fail_at;
} counting;

static void *
counting_alloc(void *data, size_t size)
{
	counting *c = data;
	if (c->calls++ == c->fail_at) {
		return NULL;
	}
	void *p = malloc(size);
	if (p != NULL) {
		c->live++;
	}
	return p;
}

static void
counting_free(void *data, void *ptr)
{
	counting *c = data;
	if (ptr != NULL) {
		c->live--;
		free(ptr);
	}
}

static void
counting_init(counting *c, size_t fail_at)
{
	c->alloc.alloc          = counting_alloc;
	c->alloc.free           = counting_free;
	c->alloc.allocator_data = c;
	c->calls                = 0;
	c->live                 = 0;
	c->fail_at              = fail_at;
}

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	*len       = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(*len + 1); // +1: never malloc(0)
	assert_non_null(b);
	assert_int_equal(protobuf_c_message_pack(m, b), *len);
	return b;
}

static void
assert_packs_to(const ProtobufCMessage *m, const uint8_t *want, size_t len)
{
	size_t   got_len;
	uint8_t *got = pack(m, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, want, len);
	free(got);
}

// Hand-built messages hold static pointers; a pack/unpack round trip turns
// them into an owned message like the ones corpc decodes.
static ProtobufCMessage *
roundtrip(const ProtobufCMessage *m, const ProtobufCMessageDescriptor *as)
{
	size_t            len;
	uint8_t          *b = pack(m, &len);
	ProtobufCMessage *u = protobuf_c_message_unpack(as, NULL, len, b);
	assert_non_null(u);
	free(b);
	return u;
}

// Clones `src` with malloc, with a failing allocator at every possible
// step, and into an arena; each copy must re-pack to the source's bytes.
static void
check_clone(const ProtobufCMessage *src)
{
	size_t   len;
	uint8_t *want = pack(src, &len);

	ProtobufCMessage *c = corpc__msg_clone(src, NULL, UINT_MAX, NULL);
	assert_non_null(c);
	assert_ptr_not_equal(c, src);
	assert_packs_to(c, want, len);
	protobuf_c_message_free_unpacked(c, NULL);

	counting ca;
	counting_init(&ca, SIZE_MAX);
	c = corpc__msg_clone(src, &ca.alloc, UINT_MAX, NULL);
	assert_non_null(c);
	assert_packs_to(c, want, len);
	protobuf_c_message_free_unpacked(c, &ca.alloc);
	assert_int_equal(ca.live, 0);
	size_t need = ca.calls;
	assert_true(need >= 1);

	// failmalloc: fail the k-th allocation, for every k before success.
	for (size_t k = 0; k < need; k++) {
		counting_init(&ca, k);
		assert_null(corpc__msg_clone(src, &ca.alloc, UINT_MAX, NULL));
		assert_int_equal(ca.live, 0);
		assert_int_equal(
		    ca.calls, k + 1); // stops at the first failure
	}

	corpc__arena a;
	corpc__arena_init(&a);
	for (int i = 0; i < 4; i++) {
		c = corpc__msg_clone(src, &a.alloc, UINT_MAX, NULL);
		assert_non_null(c);
		assert_packs_to(c, want, len);
		// Allowed on an arena copy; the arena's free is a no-op.
		protobuf_c_message_free_unpacked(c, &a.alloc);
		corpc__arena_reset(&a);
	}
	corpc__arena_fini(&a);
	free(want);
}

enum { N_CHOICES = 8 };

// A fully populated All; `choice` picks the oneof member (0: none, 7: the
// string-with-default set to a non-default value); `depth` nests children.
static ProtobufCMessage *
build_all(int choice, int depth)
{
	Clonetest__All   m     = CLONETEST__ALL__INIT;
	Clonetest__Leaf  leaf  = CLONETEST__LEAF__INIT;
	Clonetest__Leaf  oleaf = CLONETEST__LEAF__INIT;
	Clonetest__Leaf  rl[3] = {CLONETEST__LEAF__INIT, CLONETEST__LEAF__INIT,
	     CLONETEST__LEAF__INIT};
	Clonetest__Leaf *rlp[3] = {&rl[0], &rl[1], &rl[2]};
	char            *tags[] = {"t0", "", "tag-two"};
	int32_t          ri32[] = {0, -1, 2147483647, -2147483647 - 1};
	int64_t          rs64[] = {-1, 1, INT64_MIN, INT64_MAX};
	uint32_t         rf32[] = {7, 0xffffffffu};
	double           rd[]   = {0.5, -1e300};
	float            rf[]   = {1.5f};
	protobuf_c_boolean rb[] = {1, 0, 1};
	Clonetest__Color   re[] = {
	      CLONETEST__COLOR__BLUE, CLONETEST__COLOR__RED};
	char               *rstr[]   = {"a", "", "ccc", "dddd"};
	uint8_t             raw[]    = {0, 1, 2, 0xff};
	ProtobufCBinaryData rbytes[] = {{4, raw}, {0, NULL}, {1, raw}};

	Clonetest__All__MLeafEntry  ml[2] = {CLONETEST__ALL__MLEAF_ENTRY__INIT,
	     CLONETEST__ALL__MLEAF_ENTRY__INIT};
	Clonetest__All__MLeafEntry *mlp[2] = {&ml[0], &ml[1]};
	Clonetest__All__MStrEntry   ms[2]  = {CLONETEST__ALL__MSTR_ENTRY__INIT,
	       CLONETEST__ALL__MSTR_ENTRY__INIT};
	Clonetest__All__MStrEntry  *msp[2] = {&ms[0], &ms[1]};
	Clonetest__All__MBytesEntry mb   = CLONETEST__ALL__MBYTES_ENTRY__INIT;
	Clonetest__All__MBytesEntry *mbp = &mb;

	m.has_f_int32    = 1;
	m.f_int32        = -5;
	m.has_f_int64    = 1;
	m.f_int64        = INT64_MIN;
	m.has_f_uint32   = 1;
	m.f_uint32       = UINT32_MAX;
	m.has_f_uint64   = 1;
	m.f_uint64       = UINT64_MAX;
	m.has_f_sint32   = 1;
	m.f_sint32       = -77;
	m.has_f_sint64   = 1;
	m.f_sint64       = -7777777777;
	m.has_f_fixed32  = 1;
	m.f_fixed32      = 0xdeadbeef;
	m.has_f_fixed64  = 1;
	m.f_fixed64      = 0x0123456789abcdefull;
	m.has_f_sfixed32 = 1;
	m.f_sfixed32     = -3;
	m.has_f_sfixed64 = 1;
	m.f_sfixed64     = -4;
	m.has_f_float    = 1;
	m.f_float        = 3.25f;
	m.has_f_double   = 1;
	m.f_double       = -2.5;
	m.has_f_bool     = 1;
	m.f_bool         = 1;
	m.has_f_enum     = 1;
	m.f_enum         = CLONETEST__COLOR__BLUE;

	m.s_plain     = "plain";
	m.s_def       = "not the default";
	m.has_b_plain = 1;
	m.b_plain     = (ProtobufCBinaryData) {3, raw};
	m.has_b_def   = 1;
	m.b_def       = (ProtobufCBinaryData) {2, raw + 2};
	m.req         = 42;
	leaf.has_id   = 1;
	leaf.id       = 1;
	leaf.name     = "leaf";
	leaf.n_tags   = 3;
	leaf.tags     = tags;
	m.leaf        = &leaf;

	m.n_r_int32   = 4;
	m.r_int32     = ri32;
	m.n_r_sint64  = 4;
	m.r_sint64    = rs64;
	m.n_r_fixed32 = 2;
	m.r_fixed32   = rf32;
	m.n_r_double  = 2;
	m.r_double    = rd;
	m.n_r_float   = 1;
	m.r_float     = rf;
	m.n_r_bool    = 3;
	m.r_bool      = rb;
	m.n_r_enum    = 2;
	m.r_enum      = re;
	m.n_r_string  = 4;
	m.r_string    = rstr;
	m.n_r_bytes   = 3;
	m.r_bytes     = rbytes;
	rl[0].name    = "r0";
	rl[1].has_id  = 1;
	rl[1].id      = 11;
	rl[2].n_tags  = 1;
	rl[2].tags    = tags + 2;
	m.n_r_leaf    = 3;
	m.r_leaf      = rlp;

	oleaf.name = "oneof leaf";
	switch (choice) {
	case 1:
		m.choice_case = CLONETEST__ALL__CHOICE_O_INT;
		m.o_int       = -9;
		break;
	case 2:
		m.choice_case = CLONETEST__ALL__CHOICE_O_STR;
		m.o_str       = "oneof string";
		break;
	case 3:
		m.choice_case = CLONETEST__ALL__CHOICE_O_BYTES;
		m.o_bytes     = (ProtobufCBinaryData) {4, raw};
		break;
	case 4:
		m.choice_case = CLONETEST__ALL__CHOICE_O_LEAF;
		m.o_leaf      = &oleaf;
		break;
	case 5:
		m.choice_case = CLONETEST__ALL__CHOICE_O_DOUBLE;
		m.o_double    = 6.5;
		break;
	case 6:
		// An empty member: still selected, still on the wire.
		m.choice_case = CLONETEST__ALL__CHOICE_O_STR;
		m.o_str       = "";
		break;
	case 7:
		m.choice_case = CLONETEST__ALL__CHOICE_O_STR_DEF;
		m.o_str_def   = "other";
		break;
	default:
		break;
	}

	ml[0].key     = "k0";
	ml[0].value   = &leaf;
	ml[1].key     = "k1";
	ml[1].value   = &oleaf;
	m.n_m_leaf    = 2;
	m.m_leaf      = mlp;
	ms[0].has_key = 1;
	ms[0].key     = 5;
	ms[0].value   = "five";
	ms[1].has_key = 1;
	ms[1].key     = -6;
	ms[1].value   = "";
	m.n_m_str     = 2;
	m.m_str       = msp;
	mb.key        = "blob";
	mb.has_value  = 1;
	mb.value      = (ProtobufCBinaryData) {4, raw};
	m.n_m_bytes   = 1;
	m.m_bytes     = &mbp;

	ProtobufCMessage *child = NULL;
	if (depth > 0) {
		child   = build_all((choice + 1) % N_CHOICES, depth - 1);
		m.child = (Clonetest__All *) child;
	}
	ProtobufCMessage *out =
	    roundtrip(&m.base, &clonetest__all__descriptor);
	protobuf_c_message_free_unpacked(child, NULL);
	return out;
}

static void
test_all_each_oneof(void **state)
{
	(void) state;
	static const Clonetest__All__ChoiceCase want[N_CHOICES] = {
	    CLONETEST__ALL__CHOICE__NOT_SET,
	    CLONETEST__ALL__CHOICE_O_INT,
	    CLONETEST__ALL__CHOICE_O_STR,
	    CLONETEST__ALL__CHOICE_O_BYTES,
	    CLONETEST__ALL__CHOICE_O_LEAF,
	    CLONETEST__ALL__CHOICE_O_DOUBLE,
	    CLONETEST__ALL__CHOICE_O_STR,
	    CLONETEST__ALL__CHOICE_O_STR_DEF,
	};
	for (int choice = 0; choice < N_CHOICES; choice++) {
		ProtobufCMessage *src = build_all(choice, 2);
		assert_int_equal(
		    ((Clonetest__All *) src)->choice_case, want[choice]);
		check_clone(src);
		protobuf_c_message_free_unpacked(src, NULL);
	}
}

// An empty All: every string and bytes field sits on its default, which the
// copy must share (free_unpacked skips defaults) rather than copy.
static void
test_defaults_kept(void **state)
{
	(void) state;
	Clonetest__All    m = CLONETEST__ALL__INIT;
	ProtobufCMessage *src =
	    roundtrip(&m.base, &clonetest__all__descriptor);
	check_clone(src);

	Clonetest__All *c =
	    (Clonetest__All *) corpc__msg_clone(src, NULL, UINT_MAX, NULL);
	assert_non_null(c);
	assert_ptr_equal(c->s_def, clonetest__all__s_def__default_value);
	assert_ptr_equal(
	    c->b_def.data, clonetest__all__b_def__default_value_data);
	assert_null(c->s_plain);
	assert_null(c->leaf);
	assert_null(c->r_string);
	assert_int_equal(c->f_enum, CLONETEST__COLOR__GREEN);
	protobuf_c_message_free_unpacked(&c->base, NULL);
	protobuf_c_message_free_unpacked(src, NULL);
}

// Explicitly empty values that differ from the default: unpack gives bytes
// {0, NULL} and a fresh "" string, neither of which is the default.
static void
test_explicit_empty(void **state)
{
	(void) state;
	Clonetest__All m = CLONETEST__ALL__INIT;
	m.s_def          = "";
	m.s_plain        = "";
	m.has_b_def      = 1;
	m.b_def          = (ProtobufCBinaryData) {0, NULL};
	m.has_b_plain    = 1;
	m.b_plain        = (ProtobufCBinaryData) {0, NULL};
	m.choice_case    = CLONETEST__ALL__CHOICE_O_BYTES;
	m.o_bytes        = (ProtobufCBinaryData) {0, NULL};
	ProtobufCMessage *src =
	    roundtrip(&m.base, &clonetest__all__descriptor);
	Clonetest__All *s = (Clonetest__All *) src;
	assert_true(s->has_b_def);
	assert_null(s->b_def.data);
	check_clone(src);

	Clonetest__All *c =
	    (Clonetest__All *) corpc__msg_clone(src, NULL, UINT_MAX, NULL);
	assert_non_null(c);
	assert_true(c->has_b_def);
	assert_int_equal(c->b_def.len, 0);
	assert_null(c->b_def.data);
	assert_ptr_not_equal(c->s_def, clonetest__all__s_def__default_value);
	assert_string_equal(c->s_def, "");
	protobuf_c_message_free_unpacked(&c->base, NULL);
	protobuf_c_message_free_unpacked(src, NULL);
}

// A message built by hand (static strings, protobuf_c_empty_string in a
// proto2 field, a oneof member on its default): the copy must still be
// freeable with free_unpacked, so only true descriptor defaults are shared.
static void
test_handbuilt(void **state)
{
	(void) state;
	Clonetest__Leaf leaf = CLONETEST__LEAF__INIT;
	leaf.name            = (char *) protobuf_c_empty_string;
	Clonetest__All m     = CLONETEST__ALL__INIT;
	m.s_plain            = (char *) protobuf_c_empty_string;
	m.leaf               = &leaf;
	m.choice_case        = CLONETEST__ALL__CHOICE_O_STR_DEF;
	m.o_str_def          = clonetest__all__o_str_def__default_value;
	check_clone(&m.base);

	Clonetest__All *c =
	    (Clonetest__All *) corpc__msg_clone(&m.base, NULL, UINT_MAX, NULL);
	assert_non_null(c);
	assert_ptr_not_equal(c->s_plain, protobuf_c_empty_string);
	assert_ptr_equal(
	    c->o_str_def, clonetest__all__o_str_def__default_value);
	assert_ptr_not_equal(c->leaf, &leaf);
	protobuf_c_message_free_unpacked(&c->base, NULL);

	Clonetest3__P3  p   = CLONETEST3__P3__INIT;
	Clonetest3__Sub sub = CLONETEST3__SUB__INIT;
	p.sub               = &sub;
	p.pick_case         = CLONETEST3__P3__PICK_PS;
	p.ps                = (char *) protobuf_c_empty_string;
	check_clone(&p.base);
}

// The public copy: a malloc'd deep copy the caller frees, refused past the
// depth received messages may have (All.child nests All).
static void
test_public_clone(void **state)
{
	(void) state;
	Clonetest__Leaf leaf   = CLONETEST__LEAF__INIT;
	char           *tags[] = {"a", "bb"};
	leaf.name              = "leaf";
	leaf.n_tags            = 2;
	leaf.tags              = tags;
	Clonetest__All m       = CLONETEST__ALL__INIT;
	m.s_plain              = "plain";
	m.leaf                 = &leaf;
	ProtobufCMessage *c;
	assert_int_equal(corpc_message_clone(&m.base, &c), CORPC_OK);
	size_t   len;
	uint8_t *want = pack(&m.base, &len);
	assert_packs_to(c, want, len);
	free(want);
	assert_ptr_not_equal(((Clonetest__All *) c)->leaf, &leaf);
	corpc_message_free(c);
	corpc_message_free(NULL);

	// 101 levels of All: deeper than 100.
	Clonetest__All chain[102];
	for (int i = 0; i < 102; i++) {
		chain[i]       = (Clonetest__All) CLONETEST__ALL__INIT;
		chain[i].child = i + 1 < 102 ? &chain[i + 1] : NULL;
	}
	assert_int_equal(
	    corpc_message_clone(&chain[0].base, &c), CORPC_EINVAL);
	assert_null(c);
	assert_int_equal(corpc_message_clone(&chain[1].base, &c), CORPC_OK);
	corpc_message_free(c);
	assert_int_equal(corpc_message_clone(NULL, &c), CORPC_EINVAL);
}

// Pack All, unpack it as Sparse: everything but three fields becomes an
// unknown field, of every wire type, at two levels.
static void
test_unknown_fields(void **state)
{
	(void) state;
	ProtobufCMessage *all = build_all(3, 1);
	ProtobufCMessage *src = roundtrip(all, &clonetest__sparse__descriptor);
	protobuf_c_message_free_unpacked(all, NULL);

	Clonetest__Sparse *s = (Clonetest__Sparse *) src;
	assert_true(s->base.n_unknown_fields > 20);
	assert_non_null(s->child);
	assert_true(s->child->base.n_unknown_fields > 20);
	unsigned seen = 0;
	for (unsigned i = 0; i < s->base.n_unknown_fields; i++) {
		seen |= 1u << s->base.unknown_fields[i].wire_type;
	}
	assert_true(seen & (1u << PROTOBUF_C_WIRE_TYPE_VARINT));
	assert_true(seen & (1u << PROTOBUF_C_WIRE_TYPE_64BIT));
	assert_true(seen & (1u << PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED));
	assert_true(seen & (1u << PROTOBUF_C_WIRE_TYPE_32BIT));
	check_clone(src);

	size_t            len;
	uint8_t          *want = pack(src, &len);
	ProtobufCMessage *c    = corpc__msg_clone(src, NULL, UINT_MAX, NULL);
	assert_non_null(c);
	assert_ptr_not_equal(c->unknown_fields, src->unknown_fields);
	for (unsigned i = 0; i < s->base.n_unknown_fields; i++) {
		assert_ptr_not_equal(
		    c->unknown_fields[i].data, src->unknown_fields[i].data);
		src->unknown_fields[i].data[0] ^= 0x55;
	}
	protobuf_c_message_free_unpacked(src, NULL);
	assert_packs_to(c, want, len);
	protobuf_c_message_free_unpacked(c, NULL);
	free(want);
}

// A proto3 message with each oneof member, and an empty one.
static ProtobufCMessage *
build_p3(int pick)
{
	Clonetest3__P3  m     = CLONETEST3__P3__INIT;
	Clonetest3__Sub sub   = CLONETEST3__SUB__INIT;
	Clonetest3__Sub rs[2] = {CLONETEST3__SUB__INIT, CLONETEST3__SUB__INIT};
	Clonetest3__Sub        *rsp[2]  = {&rs[0], &rs[1]};
	Clonetest3__P3__MEntry  me      = CLONETEST3__P3__MENTRY__INIT;
	Clonetest3__P3__MEntry *mep     = &me;
	char                   *strs[]  = {"x", "", "zz"};
	int64_t                 ints[]  = {1, -1, 0};
	uint8_t                 raw[]   = {9, 8, 7};
	ProtobufCBinaryData     bytes[] = {{3, raw}, {0, NULL}};

	m.a        = 7;
	m.s        = "p3";
	m.b        = (ProtobufCBinaryData) {2, raw};
	sub.name   = "sub";
	sub.blob   = (ProtobufCBinaryData) {1, raw};
	m.sub      = &sub;
	m.n_rs     = 3;
	m.rs       = strs;
	m.n_ri     = 3;
	m.ri       = ints;
	m.n_rb     = 2;
	m.rb       = bytes;
	rs[1].name = "second";
	m.n_rsub   = 2;
	m.rsub     = rsp;
	me.key     = "";
	me.value   = &sub;
	m.n_m      = 1;
	m.m        = &mep;
	switch (pick) {
	case 1:
		m.pick_case = CLONETEST3__P3__PICK_PS;
		m.ps        = "pick";
		break;
	case 2:
		m.pick_case = CLONETEST3__P3__PICK_PM;
		m.pm        = &rs[0]; // all fields empty
		break;
	case 3:
		m.pick_case = CLONETEST3__P3__PICK_PU;
		m.pu        = 0;
		break;
	case 4:
		m.pick_case = CLONETEST3__P3__PICK_PB;
		m.pb        = (ProtobufCBinaryData) {3, raw};
		break;
	default:
		break;
	}
	return roundtrip(&m.base, &clonetest3__p3__descriptor);
}

static void
test_proto3(void **state)
{
	(void) state;
	for (int pick = 0; pick < 5; pick++) {
		ProtobufCMessage *src = build_p3(pick);
		check_clone(src);
		protobuf_c_message_free_unpacked(src, NULL);
	}
	Clonetest3__P3    e = CLONETEST3__P3__INIT;
	ProtobufCMessage *src =
	    roundtrip(&e.base, &clonetest3__p3__descriptor);
	Clonetest3__P3 *c =
	    (Clonetest3__P3 *) corpc__msg_clone(src, NULL, UINT_MAX, NULL);
	assert_non_null(c);
	assert_ptr_equal(c->s, protobuf_c_empty_string);
	assert_null(c->b.data);
	assert_null(c->sub);
	protobuf_c_message_free_unpacked(&c->base, NULL);
	check_clone(src);
	protobuf_c_message_free_unpacked(src, NULL);
}

// The copy shares no owned memory with the source: scribble over the
// source, then free it; the copy still packs to the original bytes (under
// ASan a shared pointer would show up as a use after free).
static void
test_no_sharing(void **state)
{
	(void) state;
	ProtobufCMessage *src = build_all(2, 1);
	size_t            len;
	uint8_t          *want = pack(src, &len);
	ProtobufCMessage *c    = corpc__msg_clone(src, NULL, UINT_MAX, NULL);
	assert_non_null(c);

	Clonetest__All *s = (Clonetest__All *) src;
	s->f_int32        = 1000;
	s->s_plain[0]     = 'X';
	s->s_def[0]       = 'X';
	s->b_plain.data[0] ^= 0xff;
	s->b_def.data[0] ^= 0xff;
	s->leaf->name[0]    = 'X';
	s->leaf->tags[0][0] = 'X';
	s->r_int32[0]       = 99;
	s->r_double[1]      = 1;
	s->r_string[3][0]   = 'X';
	s->r_bytes[0].data[0] ^= 0xff;
	s->r_leaf[0]->name[0]        = 'X';
	s->r_leaf[1]->id             = 0;
	s->o_str[0]                  = 'X';
	s->m_leaf[0]->key[0]         = 'X';
	s->m_leaf[1]->value->name[0] = 'X';
	s->m_str[0]->value[0]        = 'X';
	s->m_bytes[0]->value.data[0] ^= 0xff;
	s->child->s_plain[0]            = 'X';
	s->child->r_leaf[2]->tags[0][0] = 'X';
	assert_packs_to(c, want, len);

	protobuf_c_message_free_unpacked(src, NULL);
	assert_packs_to(c, want, len);
	protobuf_c_message_free_unpacked(c, NULL);
	free(want);
}

// The intended use: clone into an arena, use, reset, repeat. The arena
// settles on one chunk, so later rounds reuse it and allocate nothing.
static void
test_arena_loop(void **state)
{
	(void) state;
	ProtobufCMessage *src = build_all(4, 3);
	size_t            len;
	uint8_t          *want = pack(src, &len);
	corpc__arena      a;
	corpc__arena_init(&a);
	corpc__arena_chunk *settled = NULL;
	void               *first   = NULL;
	for (int i = 0; i < 100; i++) {
		ProtobufCMessage *c =
		    corpc__msg_clone(src, &a.alloc, UINT_MAX, NULL);
		assert_non_null(c);
		assert_packs_to(c, want, len);
		if (i == 10) {
			settled = a.chunks;
			first   = c;
		} else if (i > 10) {
			assert_ptr_equal(a.chunks, settled);
			assert_ptr_equal(c, first);
		}
		corpc__arena_reset(&a);
	}
	corpc__arena_fini(&a);
	free(want);
	protobuf_c_message_free_unpacked(src, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_each_oneof),
	    cmocka_unit_test(test_defaults_kept),
	    cmocka_unit_test(test_explicit_empty),
	    cmocka_unit_test(test_handbuilt),
	    cmocka_unit_test(test_public_clone),
	    cmocka_unit_test(test_unknown_fields),
	    cmocka_unit_test(test_proto3),
	    cmocka_unit_test(test_no_sharing),
	    cmocka_unit_test(test_arena_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
