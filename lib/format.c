// SPDX-License-Identifier: GPL-2.0-only
/*
 * libtraceevent glue: tracepoint format texts -> resolved field layouts.
 *
 * A struct kx_formats owns one tep handle (tep_alloc() only: plugins are
 * never loaded).  Every format text added is parsed by libtraceevent; for the
 * kvm events kvmexit decodes, the offsets and sizes of the fields it reads
 * are resolved once into a struct kx_layout.  Decoding one raw record then
 * is a handful of bounded loads at those offsets: no libtraceevent call, no
 * string work, no allocation.  Fields a kernel's format lacks (kvm_exit's
 * `requests` is 6.18 only, `vcpu_id` is newer than `isa`...) are absent from
 * the layout and decode as 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>

#include "internal.h"

struct kx_formats {
	struct tep_handle *tep;
	size_t nr;
	size_t nr_parsed;		/* texts given to libtraceevent */
	struct kx_layout layouts[KX_FORMATS_MAX_LAYOUTS];
};

/* The fields read per event type, in enum kx_field order of struct kx_layout. */
static const struct {
	const char *name;
	enum kvmexit_event_type type;
	const char *fields[KX_FIELDS_MAX];
} kvm_events[] = {
	{ "kvm_exit", KVMEXIT_EV_EXIT,
	  { "exit_reason", "guest_rip", "isa", "info1", "info2", "intr_info",
	    "error_code", "vcpu_id" } },
	{ "kvm_entry", KVMEXIT_EV_ENTRY, { "rip", NULL, NULL, NULL, NULL, NULL, NULL, "vcpu_id" } },
	{ "kvm_userspace_exit", KVMEXIT_EV_USERSPACE_EXIT, { "reason", "errno" } },
	{ "kvm_pio", KVMEXIT_EV_PIO, { "rw", "port", "size", "count", "val" } },
	{ "kvm_mmio", KVMEXIT_EV_MMIO, { "type", "len", "gpa", "val" } },
	{ "kvm_msr", KVMEXIT_EV_MSR, { "write", "ecx", "data", "exception" } },
};

int kx_formats_new(int long_size, struct kx_formats **out)
{
	struct kx_formats *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->tep = tep_alloc();
	if (!f->tep) {
		free(f);
		return -ENOMEM;
	}
	tep_set_file_bigendian(f->tep, TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(f->tep, TEP_LITTLE_ENDIAN);
	tep_set_long_size(f->tep, long_size);
	*out = f;
	return 0;
}

void kx_formats_free(struct kx_formats *f)
{
	if (!f)
		return;
	tep_free(f->tep);
	free(f);
}

/* A field kvmexit reads must be a scalar of 1, 2, 4 or 8 bytes. */
static int field_resolve(struct tep_format_field *tf, struct kx_field *out)
{
	if (tf->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC | TEP_FIELD_IS_STRING))
		return -KVMEXIT_EFORMAT;
	if (tf->size != 1 && tf->size != 2 && tf->size != 4 && tf->size != 8)
		return -KVMEXIT_EFORMAT;
	if (tf->offset < 0 || tf->offset > UINT16_MAX - 8)
		return -KVMEXIT_EFORMAT;
	out->offset = (uint16_t)tf->offset;
	out->size = (uint8_t)tf->size;
	out->is_signed = !!(tf->flags & TEP_FIELD_IS_SIGNED);
	out->mask = ~0ULL >> (64 - 8 * tf->size);
	return 0;
}

static int layout_build(struct tep_event *ev, int kind, struct kx_layout *lay,
			char *errmsg)
{
	struct tep_format_field *tf;

	memset(lay, 0, sizeof(*lay));
	lay->type = kvm_events[kind].type;
	lay->id = (uint32_t)ev->id;
	tf = tep_find_common_field(ev, "common_type");
	if (!tf || field_resolve(tf, &lay->common_type))
		return kx_error(errmsg, -KVMEXIT_EFORMAT,
				"format of kvm:%s has no scalar common_type field", ev->name);
	tf = tep_find_common_field(ev, "common_pid");
	if (tf)
		(void)field_resolve(tf, &lay->common_pid);	/* absent: not written */
	for (tf = ev->format.fields; tf; tf = tf->next)
		if (tf->offset >= 0 && tf->size > 0 &&
		    (uint32_t)(tf->offset + tf->size) > lay->fields_end)
			lay->fields_end = (uint32_t)(tf->offset + tf->size);
	for (int i = 0; i < KX_FIELDS_MAX; i++) {
		const char *name = kvm_events[kind].fields[i];
		uint32_t end;

		if (!name)
			continue;
		tf = tep_find_field(ev, name);
		if (!tf)
			continue;	/* older kernel: reads as 0 */
		if (field_resolve(tf, &lay->f[i]))
			return kx_error(errmsg, -KVMEXIT_EFORMAT,
					"format of kvm:%s: field %s (offset %d, size %d) is not a scalar of 1, 2, 4 or 8 bytes",
					ev->name, name, tf->offset, tf->size);
		end = lay->f[i].offset + lay->f[i].size;
		if (end > lay->min_size)
			lay->min_size = end;
	}
	lay->loadable = lay->type == KVMEXIT_EV_EXIT || lay->type == KVMEXIT_EV_ENTRY;
	for (int i = 0; i < KX_FIELDS_MAX; i++)
		if (lay->f[i].size && lay->f[i].size != 8 && lay->f[i].is_signed)
			lay->loadable = false;	/* would need sign extension */
	return 0;
}

static int kvm_event_kind(const struct tep_event *ev)
{
	if (!ev->system || strcmp(ev->system, "kvm"))
		return -1;
	for (size_t i = 0; i < KX_ARRAY_SIZE(kvm_events); i++)
		if (!strcmp(ev->name, kvm_events[i].name))
			return (int)i;
	return -1;
}

static bool skip_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n))
		return false;
	*p += n;
	return true;
}

static bool skip_span(const char **p, const char *end, const char *accept, size_t max)
{
	const char *s = *p;

	while (*p < end && **p && strchr(accept, **p))
		(*p)++;
	return *p > s && (size_t)(*p - s) <= max;
}

#define DIGITS "0123456789"
#define IDENT "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

/*
 * A type and a name: "TYPE NAME" (libtraceevent leaks on a declaration of
 * one word), the name an identifier, the type not starting with a blank.
 */
static bool decl_has_name(const char *p, const char *end)
{
	const char *name = end;

	while (name > p && strchr(IDENT, name[-1]))
		name--;
	return name < end && name > p && (name[-1] == ' ' || name[-1] == '*') &&
	       strchr(IDENT, *p) && !strchr(DIGITS, *name);
}

/* "\tfield:DECL;\toffset:N;\tsize:N;[\tsigned:N;]" with a plain C declaration. */
static bool field_line_valid(const char **p, const char *end)
{
	const char *semi, *open;

	if (!skip_lit(p, end, "\tfield:"))
		return false;
	semi = memchr(*p, ';', end - *p);
	if (!semi || semi == *p || semi - *p > 256)
		return false;
	for (const char *c = *p; c < semi; c++)
		if (!strchr(IDENT " *[]", *c))
			return false;
	open = memchr(*p, '[', semi - *p);
	if (open) {		/* one array suffix: [N] or [] */
		const char *q = open + 1;

		skip_span(&q, semi, DIGITS, 10);
		if (q >= semi || *q != ']' || memchr(q + 1, '[', semi - q - 1) ||
		    memchr(*p, ']', open - *p))
			return false;
	} else if (memchr(*p, ']', semi - *p)) {
		return false;
	}
	if (!decl_has_name(*p, open ? open : semi))
		return false;
	*p = semi;
	if (!skip_lit(p, end, ";\toffset:") || !skip_span(p, end, DIGITS, 9) ||
	    !skip_lit(p, end, ";\tsize:") || !skip_span(p, end, DIGITS, 9) ||
	    !skip_lit(p, end, ";"))
		return false;
	if (skip_lit(p, end, "\tsigned:") &&
	    (!skip_span(p, end, DIGITS, 1) || !skip_lit(p, end, ";")))
		return false;
	return *p < end && **p == '\n' && (++*p, true);
}

/*
 * The grammar the kernel prints, strictly: "name: N\nID: N\nformat:\n",
 * then field lines and empty lines.  Anything else never reaches
 * libtraceevent, whose parser leaks or worse on some malformed input.
 */
static bool format_valid(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	if (!skip_lit(&p, end, "name: ") || !skip_span(&p, end, IDENT, 128) ||
	    !skip_lit(&p, end, "\nID: ") || !skip_span(&p, end, DIGITS, 9) ||
	    !skip_lit(&p, end, "\nformat:\n"))
		return false;
	while (p < end) {
		if (*p == '\n')
			p++;
		else if (!field_line_valid(&p, end))
			return false;
	}
	return true;
}

/* A copy of a format text whose print fmt is "" (and without any NUL). */
static char *strip_print_fmt(const char *text, size_t len, size_t *out_len)
{
	static const char empty[] = "\nprint fmt: \"\"\n";
	size_t n = strnlen(text, len);
	char *copy;

	for (size_t i = 0; i + 11 <= n; i++) {
		if (text[i] == '\n' && !memcmp(text + i + 1, "print fmt:", 10)) {
			n = i;
			break;
		}
	}
	copy = malloc(n + sizeof(empty));
	if (!copy)
		return NULL;
	memcpy(copy, text, n);
	memcpy(copy + n, empty, sizeof(empty));
	*out_len = n + sizeof(empty) - 1;
	return copy;
}

int kx_formats_add(struct kx_formats *f, const char *sys, const char *text,
		   size_t len, char *errmsg)
{
	struct tep_event *ev = NULL;
	enum tep_errno terr;
	char buf[128], *copy;
	int kind;

	/*
	 * Only the fields matter: the print fmt is replaced by an empty one.
	 * That keeps libtraceevent's expression parser, which does not
	 * survive every malformed input, away from file contents, and saves
	 * parsing kvm_exit's long reason tables.
	 */
	copy = strip_print_fmt(text, len, &len);
	if (!copy)
		return kx_error(errmsg, -ENOMEM, "out of memory parsing a format");
	if (!format_valid(copy, len - strlen("print fmt: \"\"\n"))) {
		free(copy);
		return kx_error(errmsg, -KVMEXIT_EFORMAT,
				"a format of system %s is not of the form the kernel writes", sys);
	}
	f->nr_parsed++;
	terr = tep_parse_format(f->tep, &ev, copy, len, sys);
	free(copy);
	if (terr || !ev) {
		if (tep_strerror(f->tep, terr, buf, sizeof(buf)))
			snprintf(buf, sizeof(buf), "error %d", (int)terr);
		return kx_error(errmsg, -KVMEXIT_EFORMAT,
				"cannot parse a format of system %s: %s", sys, buf);
	}
	kind = kvm_event_kind(ev);
	if (kind < 0)
		return 0;
	for (size_t i = 0; i < f->nr; i++)
		if (f->layouts[i].id == (uint32_t)ev->id)
			return kx_error(errmsg, -KVMEXIT_EFORMAT,
					"two formats have the tracepoint ID %d", ev->id);
	if (f->nr == KX_FORMATS_MAX_LAYOUTS)
		return kx_error(errmsg, -KVMEXIT_EFORMAT, "too many kvm event formats");
	if (layout_build(ev, kind, &f->layouts[f->nr], errmsg))
		return -KVMEXIT_EFORMAT;
	if (!f->layouts[f->nr].min_size)
		return kx_error(errmsg, -KVMEXIT_EFORMAT,
				"format of kvm:%s (ID %d) has none of the fields kvmexit reads",
				ev->name, ev->id);
	f->nr++;
	return 0;
}

size_t kx_formats_parsed(const struct kx_formats *f)
{
	return f ? f->nr_parsed : 0;
}

int kx_format_id(const char *text, size_t len, uint64_t *id)
{
	const char *p = memmem(text, len, "\nID: ", 5);
	uint64_t v = 0;
	int digits = 0;

	if (!p)
		return -KVMEXIT_EFORMAT;
	for (p += 5; p < text + len && *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (!digits)
		return -KVMEXIT_EFORMAT;
	*id = v;
	return 0;
}

const struct kx_layout *kx_formats_layout(const struct kx_formats *f, uint64_t id)
{
	for (size_t i = 0; i < f->nr; i++)
		if (f->layouts[i].id == id)
			return &f->layouts[i];
	return NULL;
}

const char *kx_formats_name(const struct kx_formats *f, uint64_t id, const char **sys)
{
	struct tep_event *ev;

	if (id > INT32_MAX)
		return NULL;
	ev = tep_find_event(f->tep, (int)id);
	if (!ev)
		return NULL;
	if (sys)
		*sys = ev->system;
	return ev->name;
}

static inline uint64_t field_get(const struct kx_field *fl, const unsigned char *raw)
{
	uint64_t v = 0;
	uint32_t u;

	/* The common sizes first: predictable branches, no sign work. */
	if (__builtin_expect(fl->size == 8, 1)) {
		memcpy(&v, raw + fl->offset, 8);
		return v;
	}
	if (fl->size == 4 && !fl->is_signed) {
		memcpy(&u, raw + fl->offset, 4);
		return u;
	}
	switch (fl->size) {
	case 1: {
		uint8_t x = raw[fl->offset];

		v = fl->is_signed ? (uint64_t)(int64_t)(int8_t)x : x;
		break;
	}
	case 2: {
		uint16_t x;

		memcpy(&x, raw + fl->offset, 2);
		v = fl->is_signed ? (uint64_t)(int64_t)(int16_t)x : x;
		break;
	}
	case 4: {
		uint32_t x;

		memcpy(&x, raw + fl->offset, 4);
		v = fl->is_signed ? (uint64_t)(int64_t)(int32_t)x : x;
		break;
	}
	case 8:
		memcpy(&v, raw + fl->offset, 8);
		break;
	default:		/* absent */
		break;
	}
	return v;
}

int kx_layout_decode(const struct kx_layout *lay, const void *data, size_t size,
		     struct kvmexit_event *ev)
{
	const unsigned char *raw = data;
	const struct kx_field *f = lay->f;

	if (size < lay->min_size)
		return -KVMEXIT_EFORMAT;
	ev->type = lay->type;
	switch (lay->type) {
	case KVMEXIT_EV_EXIT:
		ev->exit.exit_reason = (uint32_t)field_get(&f[0], raw);
		ev->exit.guest_rip = field_get(&f[1], raw);
		ev->exit.isa = (enum kvmexit_isa)field_get(&f[2], raw);
		ev->exit.info1 = field_get(&f[3], raw);
		ev->exit.info2 = field_get(&f[4], raw);
		ev->exit.intr_info = (uint32_t)field_get(&f[5], raw);
		ev->exit.error_code = (uint32_t)field_get(&f[6], raw);
		ev->vcpu = (uint32_t)field_get(&f[7], raw);
		if (ev->exit.isa > KVMEXIT_ISA_SVM)
			ev->exit.isa = KVMEXIT_ISA_UNKNOWN;
		break;
	case KVMEXIT_EV_ENTRY:
		ev->entry.rip = field_get(&f[0], raw);
		ev->vcpu = (uint32_t)field_get(&f[7], raw);
		break;
	case KVMEXIT_EV_USERSPACE_EXIT:
		ev->userspace_exit.reason = (uint32_t)field_get(&f[0], raw);
		ev->userspace_exit.error = (int32_t)field_get(&f[1], raw);
		break;
	case KVMEXIT_EV_PIO:
		ev->pio.rw = (uint32_t)field_get(&f[0], raw);
		ev->pio.port = (uint32_t)field_get(&f[1], raw);
		ev->pio.size = (uint32_t)field_get(&f[2], raw);
		ev->pio.count = (uint32_t)field_get(&f[3], raw);
		ev->pio.val = (uint32_t)field_get(&f[4], raw);
		break;
	case KVMEXIT_EV_MMIO:
		ev->mmio.type = (uint32_t)field_get(&f[0], raw);
		ev->mmio.len = (uint32_t)field_get(&f[1], raw);
		ev->mmio.gpa = field_get(&f[2], raw);
		ev->mmio.val = field_get(&f[3], raw);
		break;
	case KVMEXIT_EV_MSR:
		ev->msr.write = (uint32_t)field_get(&f[0], raw);
		ev->msr.ecx = (uint32_t)field_get(&f[1], raw);
		ev->msr.data = field_get(&f[2], raw);
		ev->msr.exception = (uint8_t)field_get(&f[3], raw);
		break;
	default:
		return -KVMEXIT_EFORMAT;
	}
	return 0;
}

static inline void field_put(const struct kx_field *fl, unsigned char *raw, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (fl->size) {
	case 1:
		memcpy(raw + fl->offset, &u8, 1);
		break;
	case 2:
		memcpy(raw + fl->offset, &u16, 2);
		break;
	case 4:
		memcpy(raw + fl->offset, &u32, 4);
		break;
	case 8:
		memcpy(raw + fl->offset, &v, 8);
		break;
	default:		/* absent */
		break;
	}
}

void kx_layout_encode(const struct kx_layout *lay, const struct kvmexit_event *ev,
		      void *data)
{
	unsigned char *raw = data;
	const struct kx_field *f = lay->f;

	field_put(&lay->common_type, raw, lay->id);
	field_put(&lay->common_pid, raw, (uint32_t)ev->tid);
	switch (lay->type) {
	case KVMEXIT_EV_EXIT:
		field_put(&f[0], raw, ev->exit.exit_reason);
		field_put(&f[1], raw, ev->exit.guest_rip);
		field_put(&f[2], raw, ev->exit.isa);
		field_put(&f[3], raw, ev->exit.info1);
		field_put(&f[4], raw, ev->exit.info2);
		field_put(&f[5], raw, ev->exit.intr_info);
		field_put(&f[6], raw, ev->exit.error_code);
		field_put(&f[7], raw, ev->vcpu);
		break;
	case KVMEXIT_EV_ENTRY:
		field_put(&f[0], raw, ev->entry.rip);
		field_put(&f[7], raw, ev->vcpu);
		break;
	case KVMEXIT_EV_USERSPACE_EXIT:
		field_put(&f[0], raw, ev->userspace_exit.reason);
		field_put(&f[1], raw, (uint64_t)(int64_t)ev->userspace_exit.error);
		break;
	case KVMEXIT_EV_PIO:
		field_put(&f[0], raw, ev->pio.rw);
		field_put(&f[1], raw, ev->pio.port);
		field_put(&f[2], raw, ev->pio.size);
		field_put(&f[3], raw, ev->pio.count);
		field_put(&f[4], raw, ev->pio.val);
		break;
	case KVMEXIT_EV_MMIO:
		field_put(&f[0], raw, ev->mmio.type);
		field_put(&f[1], raw, ev->mmio.len);
		field_put(&f[2], raw, ev->mmio.gpa);
		field_put(&f[3], raw, ev->mmio.val);
		break;
	case KVMEXIT_EV_MSR:
		field_put(&f[0], raw, ev->msr.write);
		field_put(&f[1], raw, ev->msr.ecx);
		field_put(&f[2], raw, ev->msr.data);
		field_put(&f[3], raw, ev->msr.exception);
		break;
	default:
		break;
	}
}
