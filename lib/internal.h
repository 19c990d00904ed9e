/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces between the files of lib/.  Not installed; nothing
 * here is exported from libkvmexit.so (no KVMEXIT_API).
 */
#ifndef KVMEXIT_INTERNAL_H
#define KVMEXIT_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "kvmexit.h"

#define KX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Every object that reads outside input keeps its last error here. */
#define KX_ERRMSG_SIZE 512

/* Formats an error message into buf (size KX_ERRMSG_SIZE) and returns err. */
static inline int __attribute__((format(printf, 3, 4)))
kx_error(char *buf, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, KX_ERRMSG_SIZE, fmt, ap);
	va_end(ap);
	return err;
}

/* meta.c: kvmexit's own metadata section, a text of "key=value" lines. */
struct kx_counts {
	size_t nr, alloc;
	struct kvmexit_count *v;
};

/* Appends one count; returns 0 or -ENOMEM. */
int kx_counts_add(struct kx_counts *counts, enum kvmexit_isa isa,
		  uint32_t exit_reason, int32_t cpu, uint64_t count);
void kx_counts_release(struct kx_counts *counts);

/* Encodes meta (and counts, may be NULL) into a new malloc'd text. */
int kx_meta_encode(const struct kvmexit_meta *meta, const struct kx_counts *counts,
		   char **text, size_t *len);
/*
 * Decodes a section written by kx_meta_encode() into meta (fields it names
 * overwrite meta's) and counts (may be NULL).  Unknown keys are skipped,
 * so later versions can add keys.  Returns 0, -KVMEXIT_EFORMAT or -ENOMEM.
 */
int kx_meta_decode(const char *text, size_t len, struct kvmexit_meta *meta,
		   struct kx_counts *counts);
/* Sets (or replaces) a module parameter; -ENOSPC when the table is full. */
int kx_meta_set_param(struct kvmexit_meta *meta, const char *name, const char *value);
/* The ISA a CPU vendor string implies: GenuineIntel -> VMX, AuthenticAMD/HygonGenuine -> SVM. */
enum kvmexit_isa kx_isa_from_vendor(const char *vendor);

#endif /* KVMEXIT_INTERNAL_H */
