// SPDX-License-Identifier: MIT
// Writes X.corpc.c: method and service descriptions, the handler
// trampolines and the typed wrappers.
#include <stdlib.h>

#include "codegen.h"

static const char *const src_kind_enums[] = {
    [CG_UNARY]            = "CORPC_RPC_UNARY",
    [CG_SERVER_STREAMING] = "CORPC_RPC_SERVER_STREAMING",
    [CG_CLIENT_STREAMING] = "CORPC_RPC_CLIENT_STREAMING",
    [CG_BIDI_STREAMING]   = "CORPC_RPC_BIDI_STREAMING",
};

// Opens the definition "ret\nP__m<suffix>(params...)\n{\n".
static void
src_open(cg_buf *b, const char *ret, const cg_service *s, const cg_method *m,
    const char *suffix, const char *const *params, size_t n)
{
	char *head = cg_strdupf("%s__%s%s", s->prefix, m->lower, suffix);
	for (size_t i = 0; i < n; i++) {
		if (params[i] == NULL) {
			free(head);
			head = NULL;
		}
	}
	if (head == NULL) {
		b->oom = true;
		return;
	}
	cg_buf_printf(b, "%s\n", ret);
	cg_buf_decl(b, "", head, params, n, "\n{\n");
	free(head);
}

static void
src_method_desc(cg_buf *b, const cg_service *s, const cg_method *m)
{
	cg_buf_printf(b,
	    "const corpc_method %s__%s__method = {\n"
	    "\t.path     = \"%s\",\n"
	    "\t.name     = \"%s\",\n"
	    "\t.kind     = %s,\n"
	    "\t.request  = &%s,\n"
	    "\t.response = &%s,\n"
	    "};\n\n",
	    s->prefix, m->lower, m->path, m->name, src_kind_enums[m->kind],
	    m->req_desc, m->resp_desc);
}

// The trampoline: corpc_handler_fn -> the typed vtable member.
static void
src_handler(cg_buf *b, const cg_service *s, const cg_method *m)
{
	static const char *const params[] = {
	    "corpc_ctx *ctx", "const void *impl", "void *self"};
	char *head = cg_strdupf("%s__%s__handle", s->prefix, m->lower);
	if (head == NULL) {
		b->oom = true;
		return;
	}
	cg_buf_printf(b, "static corpc_status_code\n");
	cg_buf_decl(b, "", head, params, 3, "\n");
	free(head);
	cg_buf_printf(b,
	    "{\n"
	    "\tconst %s_Server *s = impl;\n"
	    "\tif (s == NULL || s->%s == NULL) {\n"
	    "\t\treturn corpc_ctx_error(ctx, CORPC_STATUS_UNIMPLEMENTED,\n"
	    "\t\t    \"method %s is not implemented\");\n"
	    "\t}\n",
	    s->type, m->member, m->path);
	if (m->kind == CG_CLIENT_STREAMING || m->kind == CG_BIDI_STREAMING) {
		cg_buf_printf(
		    b, "\treturn s->%s(self, ctx);\n}\n\n", m->member);
		return;
	}
	cg_buf_printf(b,
	    "\tconst ProtobufCMessage *req = NULL;\n"
	    "\tcorpc_status_code       rv  = corpc_ctx_recv(ctx, &req);\n"
	    "\tif (rv != CORPC_STATUS_OK) {\n"
	    "\t\treturn rv;\n"
	    "\t}\n"
	    "\tif (req == NULL) {\n"
	    "\t\treturn corpc_ctx_error(ctx, CORPC_STATUS_INTERNAL,\n"
	    "\t\t    \"%s: missing request\");\n"
	    "\t}\n"
	    "\treturn s->%s(self, ctx, (const %s *) req);\n"
	    "}\n\n",
	    m->path, m->member, m->req_type);
}

static void
src_service_desc(cg_buf *b, const cg_file *f, const cg_service *s)
{
	if (s->n_methods > 0) {
		cg_buf_printf(b,
		    "static const corpc_method *const %s__corpc_methods[] = "
		    "{\n",
		    s->prefix);
		for (size_t i = 0; i < s->n_methods; i++) {
			cg_buf_printf(b, "\t&%s__%s__method,\n", s->prefix,
			    s->methods[i].lower);
		}
		cg_buf_printf(b,
		    "};\n\n"
		    "static const corpc_handler_fn %s__corpc_handlers[] = {\n",
		    s->prefix);
		for (size_t i = 0; i < s->n_methods; i++) {
			cg_buf_printf(b, "\t%s__%s__handle,\n", s->prefix,
			    s->methods[i].lower);
		}
		cg_buf_printf(b, "};\n\n");
	}
	cg_buf_printf(b,
	    "const corpc_service_desc %s__corpc_service = {\n"
	    "\t.name         = \"%s\",\n"
	    "\t.method_count = %zu,\n",
	    s->prefix, s->full_name, s->n_methods);
	if (s->n_methods > 0) {
		cg_buf_printf(b,
		    "\t.methods      = %s__corpc_methods,\n"
		    "\t.handlers     = %s__corpc_handlers,\n",
		    s->prefix, s->prefix);
	} else {
		cg_buf_printf(b, "\t.methods      = NULL,\n"
		                 "\t.handlers     = NULL,\n");
	}
	cg_buf_printf(b,
	    "\t.file         = &%s,\n"
	    "};\n\n"
	    "corpc_err\n"
	    "%s__register_server(\n"
	    "    corpc_server *srv, const %s_Server *impl, void *self)\n"
	    "{\n"
	    "\tif (impl == NULL) {\n"
	    "\t\treturn CORPC_EINVAL;\n"
	    "\t}\n"
	    "\treturn corpc_server_register(\n"
	    "\t    srv, &%s__corpc_service, impl, self);\n"
	    "}\n\n",
	    f->file_desc, s->prefix, s->type, s->prefix);
}

// The body of a wrapper that receives into a typed out-parameter `out` of
// type `type`: `fn(args...)` is the corpc call, with "&msg" (or NULL when
// `out` is NULL) in the place of the message.
// `before` is a statement to run first, or NULL.
static void
src_recv_body(cg_buf *b, const char *before, const char *fn,
    const char *const *args, size_t n, const char *out, const char *type)
{
	char *head = cg_strdupf("rv = %s", fn);
	if (head == NULL) {
		b->oom = true;
		return;
	}
	cg_buf_printf(b, "\tconst ProtobufCMessage *msg = NULL;\n"
	                 "\tcorpc_status_code       rv;\n"
	                 "\n");
	if (before != NULL) {
		cg_buf_printf(b, "\t%s\n", before);
	}
	cg_buf_decl(b, "\t", head, args, n, ";\n");
	cg_buf_printf(b,
	    "\tif (%s != NULL) {\n"
	    "\t\t*%s = (const %s *) msg;\n"
	    "\t}\n"
	    "\treturn rv;\n"
	    "}\n\n",
	    out, out, type);
	free(head);
}

// P__m_recv_each: the typed callback behind a trampoline, so that no
// function pointer is called through the wrong type.
static void
src_recv_each(cg_buf *b, const cg_service *s, const cg_method *m)
{
	const char *P = s->prefix, *x = m->lower;
	char       *fn   = cg_strdupf("%s__%s_recv_fn fn", P, x);
	const char *p[3] = {"corpc_stream *st", fn, "void *arg"};
	if (fn == NULL) {
		b->oom = true;
		return;
	}
	cg_buf_printf(b,
	    "typedef struct %s__%s__each_arg {\n"
	    "\t%s__%s_recv_fn fn;\n"
	    "\tvoid *arg;\n"
	    "} %s__%s__each_arg;\n"
	    "\n"
	    "static bool\n"
	    "%s__%s__each(void *arg, const ProtobufCMessage *msg)\n"
	    "{\n"
	    "\tconst %s__%s__each_arg *a = arg;\n"
	    "\treturn a->fn(a->arg, (const %s *) msg);\n"
	    "}\n"
	    "\n",
	    P, x, P, x, P, x, P, x, P, x, m->resp_type);
	src_open(b, "corpc_status_code", s, m, "_recv_each", p, 3);
	cg_buf_printf(b,
	    "\t%s__%s__each_arg a = {fn, arg};\n"
	    "\n"
	    "\tif (fn == NULL) {\n"
	    "\t\treturn CORPC_STATUS_INVALID_ARGUMENT;\n"
	    "\t}\n"
	    "\treturn corpc_stream_recv_each(st, %s__%s__each, &a);\n"
	    "}\n"
	    "\n",
	    P, x, P, x);
	free(fn);
}

static void
src_wrappers(cg_buf *b, const cg_service *s, const cg_method *m)
{
	char       *req   = cg_strdupf("const %s *req", m->req_type);
	char       *reqp  = cg_strdupf("const %s **req", m->req_type);
	char       *resp  = cg_strdupf("const %s *resp", m->resp_type);
	char       *respp = cg_strdupf("const %s **resp", m->resp_type);
	char       *meth  = cg_strdupf("&%s__%s__method", s->prefix, m->lower);
	const char *p[5]  = {"corpc_ctx *ctx", resp, "unsigned flags"};
	const char *a[6];

	if (req == NULL || reqp == NULL || resp == NULL || respp == NULL ||
	    meth == NULL) {
		b->oom = true;
		goto done;
	}

	// Server side.
	src_open(b, "corpc_status_code", s, m, "_write", p, 3);
	a[0] = "ctx";
	a[1] = "(const ProtobufCMessage *) resp";
	a[2] = "flags";
	cg_buf_decl(b, "\t", "return corpc_ctx_send", a, 3, ";\n}\n\n");
	if (m->kind == CG_CLIENT_STREAMING || m->kind == CG_BIDI_STREAMING) {
		p[1] = reqp;
		src_open(b, "corpc_status_code", s, m, "_read", p, 2);
		a[0] = "ctx";
		a[1] = "req != NULL ? &msg : NULL";
		src_recv_body(
		    b, NULL, "corpc_ctx_recv", a, 2, "req", m->req_type);
	}

	// Client side.
	p[0] = "corpc_channel *ch";
	p[1] = "const corpc_call_opts *opts";
	a[0] = "ch";
	a[1] = meth;
	a[2] = "opts";
	switch (m->kind) {
	case CG_UNARY:
		p[2] = req;
		p[3] = respp;
		p[4] = "corpc_stream **st";
		src_open(b, "corpc_status_code", s, m, "_call", p, 5);
		a[3] = "(const ProtobufCMessage *) req";
		a[4] = "resp != NULL ? &msg : NULL";
		a[5] = "st";
		src_recv_body(
		    b, NULL, "corpc_unary_call", a, 6, "resp", m->resp_type);
		goto done;
	case CG_SERVER_STREAMING:
		p[2] = req;
		p[3] = "corpc_stream **st";
		src_open(b, "corpc_err", s, m, "_open", p, 4);
		a[3] = "(const ProtobufCMessage *) req";
		a[4] = "st";
		cg_buf_decl(
		    b, "\t", "return corpc_stream_open", a, 5, ";\n}\n\n");
		break;
	case CG_CLIENT_STREAMING:
	case CG_BIDI_STREAMING:
		p[2] = "corpc_stream **st";
		src_open(b, "corpc_err", s, m, "_open", p, 3);
		a[3] = "NULL";
		a[4] = "st";
		cg_buf_decl(
		    b, "\t", "return corpc_stream_open", a, 5, ";\n}\n\n");
		p[0] = "corpc_stream *st";
		p[1] = req;
		p[2] = "unsigned flags";
		src_open(b, "corpc_status_code", s, m, "_send", p, 3);
		a[0] = "st";
		a[1] = "(const ProtobufCMessage *) req";
		a[2] = "flags";
		cg_buf_decl(
		    b, "\t", "return corpc_stream_send", a, 3, ";\n}\n\n");
		break;
	}
	p[0] = "corpc_stream *st";
	p[1] = respp;
	a[0] = "st";
	a[1] = "resp != NULL ? &msg : NULL";
	if (m->kind == CG_CLIENT_STREAMING) {
		// A close_send failure means the call has ended: recv then
		// reports the end and its final code.
		src_open(
		    b, "corpc_status_code", s, m, "_close_and_recv", p, 2);
		src_recv_body(b, "(void) corpc_stream_close_send(st);",
		    "corpc_stream_recv", a, 2, "resp", m->resp_type);
	} else {
		src_open(b, "corpc_status_code", s, m, "_recv", p, 2);
		src_recv_body(
		    b, NULL, "corpc_stream_recv", a, 2, "resp", m->resp_type);
		src_recv_each(b, s, m);
	}
done:
	free(req);
	free(reqp);
	free(resp);
	free(respp);
	free(meth);
}

bool
cg_emit_source(cg_buf *b, const cg_file *f, char **err)
{
	cg_buf_printf(b,
	    "// Generated by protoc-gen-corpc from %s. Do not edit.\n"
	    "#include <stddef.h>\n"
	    "\n"
	    "#include \"%s.corpc.h\"\n",
	    f->proto_name, f->base);
	if (!cg_emit_files(b, f, err)) {
		return false;
	}
	for (size_t i = 0; i < f->n_services; i++) {
		const cg_service *s = &f->services[i];
		cg_buf_printf(b, "\n// ---- %s\n\n", s->full_name);
		for (size_t j = 0; j < s->n_methods; j++) {
			src_method_desc(b, s, &s->methods[j]);
		}
		for (size_t j = 0; j < s->n_methods; j++) {
			src_handler(b, s, &s->methods[j]);
		}
		src_service_desc(b, f, s);
		for (size_t j = 0; j < s->n_methods; j++) {
			src_wrappers(b, s, &s->methods[j]);
		}
	}
	// One newline at the end of the file, not a blank line.
	while (b->len >= 2 && b->data[b->len - 1] == '\n' &&
	       b->data[b->len - 2] == '\n') {
		b->data[--b->len] = '\0';
	}
	*err = NULL;
	return true;
}
