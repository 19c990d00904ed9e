// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HEADER_TRACING_DATA blob of perf.data (perf's trace-event-info.c
 * writes it, trace-event-read.c reads it):
 *
 *   "\x17\x08\x44tracing"  version "0.6\0"  endian (1 byte, 0 = little)
 *   long size (1 byte)  page size (u32)
 *   "header_page\0"  u64 size  text
 *   "header_event\0" u64 size  text
 *   u32 count   { u64 size  ftrace format text }
 *   u32 systems { system "name\0"  u32 count { u64 size  format text } }
 *   u32 size  kallsyms text
 *   u32 size  printk formats text
 *   version >= 0.6: u64 size  saved cmdlines text
 *
 * The walk streams from a struct kx_rd and never holds more than one format
 * text; everything it does not need (kallsyms, which can be megabytes) is
 * skipped.  Every size is checked against what is left of the blob, and
 * every loop consumes bytes, so a hostile blob ends in an error, not a hang
 * or a huge allocation.  ftrace's own formats are skipped: no perf event
 * refers to them; so are the formats whose ID no attr of the capture has
 * (kx_tracedata_read_wanted()): libtraceevent 1.7.1 adds each format with
 * a linear scan of those it has, so megabytes of tiny formats would cost
 * minutes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define TD_MAGIC "\x17\x08\x44tracing"
#define TD_MAX_FORMAT (1u << 20)	/* one format text; real ones are < 16 KiB */
#define TD_MAX_NAME 256

struct td {
	struct kx_rd *rd;
	uint64_t start, size;
	char *errmsg;
	bool (*wanted)(uint64_t id, void *arg);	/* NULL: every format */
	void *arg;
};

static uint64_t td_left(const struct td *t)
{
	return t->size - (kx_rd_offset(t->rd) - t->start);
}

static int td_fail(struct td *t, int err, const char *what)
{
	if (err == -KVMEXIT_ETRUNC)
		return kx_error(t->errmsg, err,
				"tracing data at offset 0x%llx: %s runs past the end of the tracing data (0x%llx)",
				(unsigned long long)kx_rd_offset(t->rd), what,
				(unsigned long long)(t->start + t->size));
	if (err == -KVMEXIT_EFORMAT)
		return kx_error(t->errmsg, err, "tracing data at offset 0x%llx: %s",
				(unsigned long long)kx_rd_offset(t->rd), what);
	return kx_error(t->errmsg, err, "tracing data at offset 0x%llx: reading %s: %s",
			(unsigned long long)kx_rd_offset(t->rd), what, kvmexit_strerror(err));
}

static int td_read(struct td *t, void *dst, uint64_t n, const char *what)
{
	if (n > td_left(t))
		return td_fail(t, -KVMEXIT_ETRUNC, what);
	int err = kx_rd_read(t->rd, dst, n);

	return err ? td_fail(t, err, what) : 0;
}

static int td_skip(struct td *t, uint64_t n, const char *what)
{
	if (n > td_left(t))
		return td_fail(t, -KVMEXIT_ETRUNC, what);
	int err = kx_rd_skip(t->rd, n);

	return err ? td_fail(t, err, what) : 0;
}

static int td_u32(struct td *t, uint32_t *v, const char *what)
{
	return td_read(t, v, 4, what);
}

static int td_u64(struct td *t, uint64_t *v, const char *what)
{
	return td_read(t, v, 8, what);
}

/* A NUL-terminated string of at most size - 1 characters. */
static int td_string(struct td *t, char *buf, size_t size, const char *what)
{
	for (size_t i = 0; i < size; i++) {
		int err = td_read(t, &buf[i], 1, what);

		if (err)
			return err;
		if (!buf[i])
			return 0;
	}
	return td_fail(t, -KVMEXIT_EFORMAT, "a name is too long or lacks its NUL");
}

static int td_header(struct td *t, int *long_size, bool *has_cmdlines)
{
	char magic[10], version[16];
	unsigned char endian, lsize;
	unsigned major = 0, minor = 0;
	uint32_t page_size;
	int err;

	err = td_read(t, magic, sizeof(magic), "the magic");
	if (err)
		return err;
	if (memcmp(magic, TD_MAGIC, sizeof(magic)))
		return td_fail(t, -KVMEXIT_EFORMAT, "bad magic (not \"\\x17\\x08\\x44tracing\")");
	err = td_string(t, version, sizeof(version), "the version");
	if (err)
		return err;
	if (sscanf(version, "%u.%u", &major, &minor) != 2)
		return td_fail(t, -KVMEXIT_EFORMAT, "the version is not a number like 0.6");
	*has_cmdlines = major > 0 || minor >= 6;
	err = td_read(t, &endian, 1, "the endianness");
	if (!err)
		err = td_read(t, &lsize, 1, "the long size");
	if (!err)
		err = td_u32(t, &page_size, "the page size");
	if (err)
		return err;
	if (endian != 0)
		return td_fail(t, -KVMEXIT_EFORMAT,
			       "big-endian tracing data is not supported (capture made on a big-endian machine?)");
	if (lsize != 4 && lsize != 8)
		return td_fail(t, -KVMEXIT_EFORMAT, "the long size is neither 4 nor 8");
	*long_size = lsize;
	return 0;
}

/* "header_page\0" u64 text, "header_event\0" u64 text: both skipped. */
static int td_header_files(struct td *t)
{
	static const char *const names[] = { "header_page", "header_event" };

	for (size_t i = 0; i < KX_ARRAY_SIZE(names); i++) {
		char buf[16];
		size_t n = strlen(names[i]) + 1;
		uint64_t size;
		int err;

		err = td_read(t, buf, n, names[i]);
		if (err)
			return err;
		if (memcmp(buf, names[i], n)) {
			snprintf(buf, sizeof(buf), "no %s", names[i]);
			return td_fail(t, -KVMEXIT_EFORMAT, buf);
		}
		err = td_u64(t, &size, "a header size");
		if (!err)
			err = td_skip(t, size, names[i]);
		if (err)
			return err;
	}
	return 0;
}

static int td_format(struct td *t, struct kx_formats *f, const char *sys)
{
	uint64_t size;
	char *text;
	int err;

	err = td_u64(t, &size, "a format size");
	if (err)
		return err;
	if (size > td_left(t))
		return td_fail(t, -KVMEXIT_ETRUNC, "a format");
	if (size > TD_MAX_FORMAT)
		return td_fail(t, -KVMEXIT_EFORMAT, "a format text is larger than 1 MiB");
	text = malloc(size + 1);
	if (!text)
		return td_fail(t, -ENOMEM, "a format");
	err = td_read(t, text, size, "a format");
	if (!err) {
		uint64_t at = kx_rd_offset(t->rd) - size;

		uint64_t id;

		text[size] = '\0';
		/* Only the formats of the capture's events reach libtraceevent. */
		if (t->wanted && !kx_format_id(text, size, &id) && !t->wanted(id, t->arg)) {
			free(text);
			return 0;
		}
		err = kx_formats_add(f, sys, text, size, t->errmsg);
		if (err) {
			char msg[KX_ERRMSG_SIZE];

			snprintf(msg, sizeof(msg), "%s", t->errmsg);
			kx_error(t->errmsg, err, "tracing data at offset 0x%llx: %s",
				 (unsigned long long)at, msg);
		}
	}
	free(text);
	return err;
}

static int td_formats(struct td *t, struct kx_formats *f)
{
	uint32_t count, nsys;
	uint64_t size;
	int err;

	err = td_u32(t, &count, "the ftrace format count");
	for (uint32_t i = 0; !err && i < count; i++) {
		err = td_u64(t, &size, "an ftrace format size");
		if (!err)
			err = td_skip(t, size, "an ftrace format");
	}
	if (!err)
		err = td_u32(t, &nsys, "the system count");
	for (uint32_t i = 0; !err && i < nsys; i++) {
		char sys[TD_MAX_NAME];

		err = td_string(t, sys, sizeof(sys), "a system name");
		if (!err)
			err = td_u32(t, &count, "a format count");
		for (uint32_t j = 0; !err && j < count; j++)
			err = td_format(t, f, sys);
	}
	return err;
}

/* kallsyms, printk formats, saved cmdlines: none needed. */
static int td_trailer(struct td *t, bool has_cmdlines)
{
	uint32_t size32;
	uint64_t size64;
	int err;

	err = td_u32(t, &size32, "the kallsyms size");
	if (!err)
		err = td_skip(t, size32, "kallsyms");
	if (!err)
		err = td_u32(t, &size32, "the printk formats size");
	if (!err)
		err = td_skip(t, size32, "the printk formats");
	if (err || !has_cmdlines || td_left(t) == 0)
		return err;
	err = td_u64(t, &size64, "the saved cmdlines size");
	if (!err)
		err = td_skip(t, size64, "the saved cmdlines");
	return err;
}

int kx_tracedata_read(struct kx_rd *rd, uint64_t size, struct kx_formats **formats,
		      char *errmsg)
{
	return kx_tracedata_read_wanted(rd, size, formats, errmsg, NULL, NULL);
}

int kx_tracedata_read_wanted(struct kx_rd *rd, uint64_t size, struct kx_formats **formats,
			     char *errmsg, bool (*wanted)(uint64_t id, void *arg), void *arg)
{
	struct td t = { .rd = rd, .start = kx_rd_offset(rd), .size = size, .errmsg = errmsg,
			.wanted = wanted, .arg = arg };
	struct kx_formats *f = NULL;
	bool has_cmdlines = false;
	int long_size = 8;
	int err;

	err = td_header(&t, &long_size, &has_cmdlines);
	if (!err)
		err = td_header_files(&t);
	if (!err) {
		err = kx_formats_new(long_size, &f);
		if (err)
			return td_fail(&t, err, "the formats");
	}
	if (!err)
		err = td_formats(&t, f);
	if (!err)
		err = td_trailer(&t, has_cmdlines);
	/* perf pads the blob to 8 bytes. */
	if (!err)
		err = td_skip(&t, td_left(&t), "the padding");
	if (err) {
		kx_formats_free(f);
		return err;
	}
	*formats = f;
	return 0;
}
