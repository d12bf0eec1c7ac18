// SPDX-License-Identifier: MIT
// Writes the corpc_file_desc of a generated file and of every file it
// imports: the serialized FileDescriptorProto that protoc handed us, the
// imports by name and pointer, and the names declared, for server
// reflection. Imports are embedded here, whoever compiles them (the
// well-known types, another library): a reflection client then always gets
// a complete set, and nothing needs a symbol from elsewhere to link.
#include <stdlib.h>
#include <string.h>

#include "codegen.h"

typedef Google__Protobuf__EnumDescriptorProto            enum_proto;
typedef Google__Protobuf__FieldDescriptorProto           field_proto;
typedef Google__Protobuf__ServiceDescriptorProto         svc_proto;
typedef Google__Protobuf__FileDescriptorProto            file_proto;
typedef Google__Protobuf__Compiler__CodeGeneratorRequest request;

// The files to write, imports before their importers.
typedef struct files_order {
	const file_proto **v;
	size_t             n;
	bool               oom;
} files_order;

static const file_proto *
files_find(const request *req, const char *name)
{
	for (size_t i = 0; i < req->n_proto_file; i++) {
		if (req->proto_file[i]->name != NULL &&
		    strcmp(req->proto_file[i]->name, name) == 0) {
			return req->proto_file[i];
		}
	}
	return NULL;
}

static bool
files_seen(const files_order *o, const file_proto *fp)
{
	for (size_t i = 0; i < o->n; i++) {
		if (o->v[i] == fp) {
			return true;
		}
	}
	return false;
}

// Depth first, imports first. protoc refuses import cycles, and the depth
// is bounded by the request's file count.
static bool
files_visit(
    const request *req, const file_proto *fp, files_order *o, char **err)
{
	for (size_t i = 0; i < fp->n_dependency; i++) {
		const file_proto *dep = files_find(req, fp->dependency[i]);
		if (dep == NULL) {
			*err =
			    cg_strdupf("%s: import %s is not in the request",
			        fp->name, fp->dependency[i]);
			return false;
		}
		if (!files_seen(o, dep) && !files_visit(req, dep, o, err)) {
			return false;
		}
	}
	if (files_seen(o, fp)) {
		return true;
	}
	const file_proto **v = realloc(o->v, (o->n + 1) * sizeof(*v));
	if (v == NULL) {
		*err = NULL;
		return false;
	}
	o->v         = v;
	o->v[o->n++] = fp;
	return true;
}

// A C string literal of `s`: printable ASCII but '"', '\\' and '?' as is,
// every other byte as an octal escape.
static void
files_literal(cg_buf *b, const char *s)
{
	cg_buf_append(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' &&
		    *p != '?') {
			cg_buf_append(b, (const char *) p, 1);
		} else {
			cg_buf_printf(b, "\\%03o", *p);
		}
	}
	cg_buf_append(b, "\"", 1);
}

// The list of declared names, as "\t\"name\",\n" lines.
typedef struct files_syms {
	cg_buf text;
	size_t n;
} files_syms;

static void
files_sym(files_syms *s, const char *scope, const char *name)
{
	char *full = scope[0] != '\0' ? cg_strdupf("%s.%s", scope, name)
	                              : cg_strdupf("%s", name);
	if (full == NULL) {
		s->text.oom = true;
		return;
	}
	cg_buf_append(&s->text, "\t", 1);
	files_literal(&s->text, full);
	cg_buf_append(&s->text, ",\n", 2);
	s->n++;
	free(full);
}

// An enum's values live in the enum's enclosing scope, as in C++.
static void
files_enums(files_syms *s, const char *scope, enum_proto *const *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		files_sym(s, scope, e[i]->name);
		for (size_t j = 0; j < e[i]->n_value; j++) {
			files_sym(s, scope, e[i]->value[j]->name);
		}
	}
}

static void
files_fields(files_syms *s, const char *scope, field_proto *const *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		files_sym(s, scope, f[i]->name);
	}
}

static void
files_messages(
    files_syms *s, const char *scope, cg_msg_proto *const *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *full = scope[0] != '\0'
		                 ? cg_strdupf("%s.%s", scope, m[i]->name)
		                 : cg_strdupf("%s", m[i]->name);
		if (full == NULL) {
			s->text.oom = true;
			return;
		}
		files_sym(s, scope, m[i]->name);
		files_fields(s, full, m[i]->field, m[i]->n_field);
		files_fields(s, full, m[i]->extension, m[i]->n_extension);
		files_enums(s, full, m[i]->enum_type, m[i]->n_enum_type);
		files_messages(
		    s, full, m[i]->nested_type, m[i]->n_nested_type);
		free(full);
	}
}

static void
files_symbols(files_syms *s, const file_proto *fp)
{
	const char *pkg = fp->package != NULL ? fp->package : "";
	files_messages(s, pkg, fp->message_type, fp->n_message_type);
	files_enums(s, pkg, fp->enum_type, fp->n_enum_type);
	files_fields(s, pkg, fp->extension, fp->n_extension);
	for (size_t i = 0; i < fp->n_service; i++) {
		const svc_proto *sp   = fp->service[i];
		char            *full = pkg[0] != '\0'
		                            ? cg_strdupf("%s.%s", pkg, sp->name)
		                            : cg_strdupf("%s", sp->name);
		if (full == NULL) {
			s->text.oom = true;
			return;
		}
		files_sym(s, pkg, sp->name);
		for (size_t j = 0; j < sp->n_method; j++) {
			files_sym(s, full, sp->method[j]->name);
		}
		free(full);
	}
}

// One corpc_file_desc named `var` ("static " in `storage` for imports).
static void
files_one(
    cg_buf *b, const file_proto *fp, const char *storage, const char *var)
{
	// Source code info (comments, spans) is for generators, not clients:
	// leave it out, as gRPC's own reflection does.
	file_proto copy       = *fp;
	copy.source_code_info = NULL;
	size_t   len          = protobuf_c_message_get_packed_size(&copy.base);
	uint8_t *bytes        = malloc(len > 0 ? len : 1);
	if (bytes == NULL) {
		b->oom = true;
		return;
	}
	protobuf_c_message_pack(&copy.base, bytes);

	cg_buf_printf(
	    b, "static const unsigned char %s__descriptor[] = {", var);
	for (size_t i = 0; i < len; i++) {
		cg_buf_printf(
		    b, "%s0x%02x,", i % 12 == 0 ? "\n\t" : " ", bytes[i]);
	}
	cg_buf_printf(b, "\n};\n\n");
	free(bytes);

	if (fp->n_dependency > 0) {
		cg_buf_printf(b,
		    "static const corpc_file_desc *const %s__dependencies[] = "
		    "{\n",
		    var);
		for (size_t i = 0; i < fp->n_dependency; i++) {
			char *id = cg_file_identifier(fp->dependency[i]);
			cg_buf_printf(
			    b, "\t&corpc_dep_%s,\n", id != NULL ? id : "");
			b->oom = b->oom || id == NULL;
			free(id);
		}
		cg_buf_printf(b, "};\n\n");
	}
	files_syms syms = {0};
	files_symbols(&syms, fp);
	if (syms.n > 0) {
		cg_buf_printf(b,
		    "static const char *const %s__symbols[] = {\n%s};\n\n",
		    var, cg_buf_str(&syms.text));
	}
	b->oom = b->oom || syms.text.oom;
	cg_buf_fini(&syms.text);

	cg_buf_printf(b,
	    "%sconst corpc_file_desc %s = {\n\t.name             = ", storage,
	    var);
	files_literal(b, fp->name);
	cg_buf_printf(b,
	    ",\n"
	    "\t.descriptor       = %s__descriptor,\n"
	    "\t.descriptor_len   = %zu,\n",
	    var, len);
	if (fp->n_dependency > 0) {
		cg_buf_printf(b,
		    "\t.dependencies     = %s__dependencies,\n"
		    "\t.dependency_count = %zu,\n",
		    var, fp->n_dependency);
	}
	if (syms.n > 0) {
		cg_buf_printf(b,
		    "\t.symbols          = %s__symbols,\n"
		    "\t.symbol_count     = %zu,\n",
		    var, syms.n);
	}
	cg_buf_printf(b, "};\n");
}

bool
cg_emit_files(cg_buf *b, const cg_file *f, char **err)
{
	files_order o = {0};
	*err          = NULL;
	if (!files_visit(f->req, f->proto, &o, err)) {
		free(o.v);
		return false;
	}
	cg_buf_printf(b,
	    "\n// ---- %s and its imports, for server reflection\n\n",
	    f->proto_name);
	// The last one is the file itself.
	for (size_t i = 0; i + 1 < o.n; i++) {
		char *id  = cg_file_identifier(o.v[i]->name);
		char *var = id != NULL ? cg_strdupf("corpc_dep_%s", id) : NULL;
		if (var == NULL) {
			b->oom = true;
		} else {
			files_one(b, o.v[i], "static ", var);
			cg_buf_printf(b, "\n");
		}
		free(id);
		free(var);
	}
	files_one(b, f->proto, "", f->file_desc);
	free(o.v);
	return true;
}
