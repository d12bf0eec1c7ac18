// SPDX-License-Identifier: MIT
// Writes X.corpc.h: the declarations of the generated API.
#include <stdlib.h>

#include "codegen.h"

static const char *const hdr_kind_names[] = {
    [CG_UNARY]            = "unary",
    [CG_SERVER_STREAMING] = "server streaming",
    [CG_CLIENT_STREAMING] = "client streaming",
    [CG_BIDI_STREAMING]   = "bidi streaming",
};

// Declares "ret P__m<suffix>(params...);". The comment is already written.
static void
hdr_func(cg_buf *b, const char *ret, const cg_service *s, const cg_method *m,
    const char *suffix, const char *const *params, size_t n)
{
	char *head =
	    cg_strdupf("%s %s__%s%s", ret, s->prefix, m->lower, suffix);
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
	cg_buf_decl(b, "", head, params, n, ";\n\n");
	free(head);
}

static void
hdr_server_helpers(cg_buf *b, const cg_service *s, const cg_method *m)
{
	char       *resp = cg_strdupf("const %s *resp", m->resp_type);
	char       *req  = cg_strdupf("const %s **req", m->req_type);
	const char *p[3] = {"corpc_ctx *ctx", resp, "unsigned flags"};
	bool one = m->kind == CG_UNARY || m->kind == CG_CLIENT_STREAMING;

	cg_buf_commentf(b, "",
	    "In the %s handler: sends %s response; `resp` is not retained "
	    "after return unless `flags` holds CORPC_WRITE_STABLE. `flags`: "
	    "0 or CORPC_WRITE_* (see corpc_ctx_send). Returns OK, or the "
	    "code for the handler to return promptly (CANCELLED, "
	    "DEADLINE_EXCEEDED%s).",
	    m->path, one ? "the" : "one",
	    one ? ", INTERNAL for a second response" : "");
	hdr_func(b, "corpc_status_code", s, m, "_write", p, 3);

	if (m->kind == CG_CLIENT_STREAMING || m->kind == CG_BIDI_STREAMING) {
		cg_buf_commentf(b, "",
		    "In the %s handler: receives the next request into *req, "
		    "borrowed until the next read or the handler's return. "
		    "Returns "
		    "OK with *req set; OK with *req NULL once the client has "
		    "half-closed; CANCELLED or DEADLINE_EXCEEDED when the "
		    "call is "
		    "gone (see corpc_ctx_recv).",
		    m->path);
		p[1] = req;
		hdr_func(b, "corpc_status_code", s, m, "_read", p, 2);
	}
	free(resp);
	free(req);
}

// The push-style receive of a streaming method: its callback type and
// P__m_recv_each.
static void
hdr_recv_each(cg_buf *b, const cg_service *s, const cg_method *m)
{
	char *fn_type    = cg_strdupf("%s__%s_recv_fn", s->prefix, m->lower);
	char *head       = cg_strdupf("typedef bool (*%s)", fn_type);
	char *resp       = cg_strdupf("const %s *resp", m->resp_type);
	char *fn         = cg_strdupf("%s fn", fn_type);
	const char *p[3] = {"void *arg", resp, NULL};
	if (fn_type == NULL || head == NULL || resp == NULL || fn == NULL) {
		b->oom = true;
		goto done;
	}
	cg_buf_commentf(b, "",
	    "Push-style receive of %s: called with each response, borrowed "
	    "only until it returns. Return true for the next one, false to "
	    "stop the stream early (see corpc_recv_fn).",
	    m->path);
	cg_buf_decl(b, "", head, p, 2, ";\n\n");
	cg_buf_commentf(b, "",
	    "Receives every remaining response of %s, handing each to "
	    "fn(arg, resp) on this thread, then finishes the call and returns "
	    "its final code; headers are ready before the first response, "
	    "status and trailers after the last (see corpc_stream_recv_each).",
	    m->path);
	p[0] = "corpc_stream *st";
	p[1] = fn;
	p[2] = "void *arg";
	hdr_func(b, "corpc_status_code", s, m, "_recv_each", p, 3);
done:
	free(fn_type);
	free(head);
	free(resp);
	free(fn);
}

static void
hdr_client(cg_buf *b, const cg_service *s, const cg_method *m)
{
	char       *req  = cg_strdupf("const %s *req", m->req_type);
	char       *resp = cg_strdupf("const %s **resp", m->resp_type);
	const char *p[5] = {
	    "corpc_channel *ch", "const corpc_call_opts *opts"};

	switch (m->kind) {
	case CG_UNARY:
		cg_buf_commentf(b, "",
		    "Calls %s: sends `req` (not retained after return) and "
		    "waits "
		    "for the reply. On return *st holds the finished stream "
		    "(NULL "
		    "after an open error) and *resp the reply, borrowed until "
		    "corpc_stream_destroy(*st); *resp is NULL unless the code "
		    "is OK. "
		    "The caller destroys *st. Returns the final code (see "
		    "corpc_unary_call).",
		    m->path);
		p[2] = req;
		p[3] = resp;
		p[4] = "corpc_stream **st";
		hdr_func(b, "corpc_status_code", s, m, "_call", p, 5);
		goto done;
	case CG_SERVER_STREAMING:
		cg_buf_commentf(b, "",
		    "Starts %s with `req` (not retained after return) and "
		    "returns "
		    "its stream in *st; the caller owns it and must "
		    "corpc_stream_destroy it. Read the responses with "
		    "%s__%s_recv. "
		    "Errors: as corpc_stream_open.",
		    m->path, s->prefix, m->lower);
		p[2] = req;
		p[3] = "corpc_stream **st";
		hdr_func(b, "corpc_err", s, m, "_open", p, 4);
		break;
	case CG_CLIENT_STREAMING:
	case CG_BIDI_STREAMING:
		cg_buf_commentf(b, "",
		    "Starts %s and returns its stream in *st; the caller owns "
		    "it and "
		    "must corpc_stream_destroy it. Send the requests with "
		    "%s__%s_send, %s Errors: as corpc_stream_open.",
		    m->path, s->prefix, m->lower,
		    m->kind == CG_CLIENT_STREAMING
		        ? "then call _close_and_recv."
		        : "read the responses with _recv.");
		p[2] = "corpc_stream **st";
		hdr_func(b, "corpc_err", s, m, "_open", p, 3);
		cg_buf_commentf(b, "",
		    "Sends one request of %s; `req` is not retained after "
		    "return. `flags`: 0 or CORPC_WRITE_MORE / "
		    "CORPC_WRITE_NO_COMPRESS. Returns OK, or the call's final "
		    "code once it has ended (see corpc_stream_send).",
		    m->path);
		p[0] = "corpc_stream *st";
		p[1] = req;
		p[2] = "unsigned flags";
		hdr_func(b, "corpc_status_code", s, m, "_send", p, 3);
		break;
	}

	p[0] = "corpc_stream *st";
	p[1] = resp;
	if (m->kind == CG_CLIENT_STREAMING) {
		cg_buf_commentf(b, "",
		    "Half-closes the requests of %s and receives the response "
		    "into "
		    "*resp, borrowed until corpc_stream_finish or destroy. "
		    "Returns "
		    "OK with *resp set, or the call's final code with *resp "
		    "NULL "
		    "(see corpc_stream_recv); corpc_stream_finish gives the "
		    "final "
		    "status.",
		    m->path);
		hdr_func(
		    b, "corpc_status_code", s, m, "_close_and_recv", p, 2);
	} else {
		cg_buf_commentf(b, "",
		    "Receives the next response of %s into *resp, borrowed "
		    "until the "
		    "next recv, finish or destroy. Returns OK with *resp set; "
		    "at the "
		    "end *resp is NULL and the return is the call's final "
		    "code, OK "
		    "only for a clean end (see corpc_stream_recv).",
		    m->path);
		hdr_func(b, "corpc_status_code", s, m, "_recv", p, 2);
		hdr_recv_each(b, s, m);
	}
done:
	free(req);
	free(resp);
}

static void
hdr_vtable(cg_buf *b, const cg_service *s)
{
	cg_buf_commentf(b, "",
	    "Server implementation of %s: one callback per method, called "
	    "with "
	    "the `self` given at registration, on the handler's thread or "
	    "coroutine (see corpc/server.h), with no corpc lock held. A "
	    "callback "
	    "returns the call's final status code (a message goes with it "
	    "through corpc_ctx_error). A NULL member answers UNIMPLEMENTED.",
	    s->full_name);
	cg_buf_printf(b, "typedef struct %s_Server {\n", s->type);
	if (s->n_methods == 0) {
		cg_buf_printf(b, "\t// No methods; ISO C wants a member.\n"
		                 "\tchar corpc_no_methods_;\n");
	}
	for (size_t i = 0; i < s->n_methods; i++) {
		const cg_method *m = &s->methods[i];
		char *head = cg_strdupf("corpc_status_code (*%s)", m->member);
		char *req  = cg_strdupf("const %s *req", m->req_type);
		const char *p[3] = {"void *self", "corpc_ctx *ctx", req};
		size_t      n    = 3;
		switch (m->kind) {
		case CG_UNARY:
			cg_buf_commentf(b, "\t",
			    "%s: `req` is borrowed until return; send the "
			    "response "
			    "with %s__%s_write.",
			    m->path, s->prefix, m->lower);
			break;
		case CG_SERVER_STREAMING:
			cg_buf_commentf(b, "\t",
			    "%s: `req` is borrowed until return; send each "
			    "response "
			    "with %s__%s_write.",
			    m->path, s->prefix, m->lower);
			break;
		case CG_CLIENT_STREAMING:
			cg_buf_commentf(b, "\t",
			    "%s: read the requests with %s__%s_read until it "
			    "gives "
			    "NULL, then send the response with _write.",
			    m->path, s->prefix, m->lower);
			n = 2;
			break;
		case CG_BIDI_STREAMING:
			cg_buf_commentf(b, "\t",
			    "%s: read the requests with %s__%s_read and send "
			    "responses "
			    "with _write, in any order.",
			    m->path, s->prefix, m->lower);
			n = 2;
			break;
		}
		if (head == NULL || req == NULL) {
			b->oom = true;
		} else {
			cg_buf_decl(b, "\t", head, p, n, ";\n");
		}
		free(head);
		free(req);
	}
	cg_buf_printf(b, "} %s_Server;\n\n", s->type);
}

static void
hdr_service(cg_buf *b, const cg_service *s)
{
	cg_buf_printf(b, "// ---- %s\n\n", s->full_name);
	for (size_t i = 0; i < s->n_methods; i++) {
		const cg_method *m = &s->methods[i];
		cg_buf_commentf(b, "",
		    "%s (%s): the method, for corpc_stream_open and "
		    "corpc_unary_call.",
		    m->path, hdr_kind_names[m->kind]);
		cg_buf_printf(b,
		    "extern const corpc_method %s__%s__method;\n\n", s->prefix,
		    m->lower);
	}
	cg_buf_commentf(b, "",
	    "%s: name, methods and handlers, for corpc_server_register.",
	    s->full_name);
	cg_buf_printf(b,
	    "extern const corpc_service_desc %s__corpc_service;\n\n",
	    s->prefix);
	hdr_vtable(b, s);

	char *impl = cg_strdupf("const %s_Server *impl", s->type);
	char *head = cg_strdupf("corpc_err %s__register_server", s->prefix);
	const char *p[3] = {"corpc_server *srv", impl, "void *self"};
	cg_buf_commentf(b, "",
	    "Registers `impl` for %s on `srv`; `impl` and `self` are borrowed "
	    "until the server is destroyed. Before corpc_server_start. "
	    "Errors: as "
	    "corpc_server_register; CORPC_EINVAL for a NULL impl.",
	    s->full_name);
	if (impl == NULL || head == NULL) {
		b->oom = true;
	} else {
		cg_buf_decl(b, "", head, p, 3, ";\n\n");
	}
	free(impl);
	free(head);

	for (size_t i = 0; i < s->n_methods; i++) {
		hdr_server_helpers(b, s, &s->methods[i]);
	}
	for (size_t i = 0; i < s->n_methods; i++) {
		hdr_client(b, s, &s->methods[i]);
	}
}

void
cg_emit_header(cg_buf *b, const cg_file *f)
{
	cg_buf_printf(b,
	    "// Generated by protoc-gen-corpc from %s. Do not edit.\n"
	    "#ifndef %s\n"
	    "#define %s\n"
	    "\n"
	    "#include <corpc/corpc.h>\n"
	    "\n"
	    "#include \"%s.pb-c.h\"\n"
	    "\n"
	    "#ifdef __cplusplus\n"
	    "extern \"C\" {\n"
	    "#endif\n"
	    "\n",
	    f->proto_name, f->guard, f->guard, f->base);
	cg_buf_commentf(b, "",
	    "%s as protoc saw it, with its imports, for server reflection "
	    "(corpc/reflection.h).",
	    f->proto_name);
	cg_buf_printf(b, "extern const corpc_file_desc %s;\n\n", f->file_desc);
	for (size_t i = 0; i < f->n_services; i++) {
		hdr_service(b, &f->services[i]);
	}
	cg_buf_printf(b,
	    "#ifdef __cplusplus\n"
	    "}\n"
	    "#endif\n"
	    "\n"
	    "#endif // %s\n",
	    f->guard);
}
