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
	return 0;
}

static int layout_build(struct tep_event *ev, int kind, struct kx_layout *lay,
			char *errmsg)
{
	memset(lay, 0, sizeof(*lay));
	lay->type = kvm_events[kind].type;
	lay->id = (uint32_t)ev->id;
	for (int i = 0; i < KX_FIELDS_MAX; i++) {
		const char *name = kvm_events[kind].fields[i];
		struct tep_format_field *tf;
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

int kx_formats_add(struct kx_formats *f, const char *sys, const char *text,
		   size_t len, char *errmsg)
{
	struct tep_event *ev = NULL;
	enum tep_errno terr;
	char buf[128];
	int kind;

	terr = tep_parse_format(f->tep, &ev, text, len, sys);
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
