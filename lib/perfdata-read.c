// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading perf.data captures, ours or stock perf's, file or pipe mode:
 * the public kvmexit_capture_*() functions.  The reader's files and
 * their jobs are listed in perfdata-read.h.
 *
 * Input.  A path, or "-" for standard input.  The first 16 bytes decide:
 * "PERFILE2" and a header size of 16 is pipe mode (`perf record -o -`),
 * read as a stream even from a regular file; a header size of 104 is file
 * mode, which needs a seekable input.  Only little-endian captures are read.
 * Headers, features and pipes go through one buffer of KX_RD_BUF bytes
 * (read(2), or pread(2) so that parts of one file can share its
 * descriptor); a file-mode data section is read through mapped windows of
 * KX_MAP_WINDOW bytes, one at a time (the page cache mapped, not copied).
 * Memory does not grow with the file.
 *
 * Errors and partial input.  Headers, attrs and feature sections must be
 * complete and valid: any problem fails kvmexit_capture_open() with a
 * message naming the offset.  A file-mode data section extending past the
 * end of the file is an error at open (the feature sections, which hold the
 * formats, would be missing).  A problem inside the data section (a bad
 * record size, a record cut short, a truncated pipe stream) ends the walk:
 * the events queued before it are delivered first, then
 * kvmexit_capture_for_each() returns the error (-KVMEXIT_EFORMAT or
 * -KVMEXIT_ETRUNC) and kvmexit_capture_errmsg() says where; callers may use
 * the partial result.  Size fields are capped by the file size and by fixed
 * limits (KX_MAX_*) before anything is allocated, and every loop consumes
 * input, so no input makes the reader crash, hang or allocate without bound.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfdata-read.h"

/* Pipe mode: the in-band header records, up to the first kernel record or FINISHED_INIT. */
static int pipe_open(struct kvmexit_capture *cap)
{
	int r;

	cap->pipe = true;
	cap->data_end = UINT64_MAX;
	while (!(r = kx_record_next(cap, true)))
		;
	return r < 0 ? r : kx_meta_apply(cap);
}

/*
 * Reads fd from where it is; prefix (n bytes, at most KX_RD_BUF) was read
 * from it already by a caller that looked at them (a stream is read once).
 */
static int capture_open_fd(struct kvmexit_capture *cap, int fd, const void *prefix, size_t n)
{
	const unsigned char *p;
	uint64_t magic, size;
	int err;

	err = kx_rd_init(&cap->rd, fd);
	if (err)
		return kx_capture_fail(cap, err, "%s", kvmexit_strerror(err));
	if (n) {
		cap->rd.seekable = false;	/* a stream: never pread(2) */
		memcpy(cap->rd.buf, prefix, n);
		cap->rd.tail = n;
	}
	err = rd_peek(&cap->rd, 16, &p);
	if (err == -KVMEXIT_ETRUNC)
		return kx_capture_fail(cap, err, "too short for a perf.data header (16 bytes at least)");
	if (err)
		return kx_capture_fail(cap, err, "reading the header: %s", kvmexit_strerror(err));
	magic = ld64(p);
	size = ld64(p + 8);
	if (magic == PERF_MAGIC2_SWAPPED)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT, "a big-endian perf.data: not supported");
	if (magic != PERF_MAGIC2)
		return kx_capture_fail(cap, -KVMEXIT_EFORMAT,
			    "not a perf.data file (no PERFILE2 magic at offset 0; perf's older PERFFILE format is not supported)");
	if (size == PIPE_HEADER_SIZE) {
		rd_consume(&cap->rd, 16);
		err = pipe_open(cap);
	} else {
		unsigned char first[16];

		memcpy(first, p, 16);
		rd_consume(&cap->rd, 16);
		err = kx_file_open(cap, first);
	}
	if (!err)
		kx_meta_finish(cap);
	return err;
}

static int capture_open(struct kvmexit_capture *cap, const char *path)
{
	int fd = 0;

	snprintf(cap->path, sizeof(cap->path), "%s", strcmp(path, "-") ? path : "<stdin>");
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kx_capture_fail(cap, -errno, "cannot open: %s", strerror(errno));
		cap->own_fd = true;
	}
	return capture_open_fd(cap, fd, NULL, 0);
}

static struct kvmexit_capture *capture_new(void)
{
	struct kvmexit_capture *cap = calloc(1, sizeof(*cap));

	if (!cap)
		return NULL;
	cap->id_pos = cap->is_pos = -1;
	cap->rd.fd = -1;
	cap->first_time = UINT64_MAX;
	return cap;
}

int kx_capture_open_fd(int fd, const char *name, const void *prefix, size_t n,
		       struct kvmexit_capture **out, char *errmsg)
{
	struct kvmexit_capture *cap = n <= KX_RD_BUF ? capture_new() : NULL;
	int err;

	if (!cap) {
		close(fd);
		return kx_error(errmsg, -ENOMEM, "%s: out of memory", name);
	}
	snprintf(cap->path, sizeof(cap->path), "%s", name);
	cap->own_fd = true;
	cap->rd.fd = fd;
	err = capture_open_fd(cap, fd, prefix, n);
	if (err) {
		kx_error(errmsg, err, "%s", cap->errmsg[0] ? cap->errmsg : kvmexit_strerror(err));
		kvmexit_capture_close(cap);
		return err;
	}
	*out = cap;
	return 0;
}

size_t kx_capture_describe(const struct kvmexit_capture *cap, char *buf, size_t size)
{
	size_t kvm = 0, used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cap->nr_attrs; i++) {
		const struct kx_attr *a = &cap->attrs[i];
		const char *sys = NULL, *name = NULL;

		kvm += a->layout != NULL;
		if (a->attr.type == PERF_TYPE_TRACEPOINT && cap->formats)
			name = kx_formats_name(cap->formats, a->attr.config, &sys);
		if (used + 2 < size)
			used += (size_t)snprintf(buf + used, size - used, "%s%s%s%s", i ? ", " : "",
						 name && sys ? sys : "", name && sys ? ":" : "",
						 name ? name : a->attr.type == PERF_TYPE_TRACEPOINT ?
						 "a tracepoint" : "a non-tracepoint event");
		if (used >= size)
			used = size - 1;
	}
	return kvm;
}

KVMEXIT_API int kvmexit_capture_open(const char *path, struct kvmexit_capture **out,
				     char *errbuf, size_t errlen)
{
	struct kvmexit_capture *cap;
	int err;

	if (!path || !out)
		return -EINVAL;
	cap = capture_new();
	if (!cap) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	err = capture_open(cap, path);
	if (err) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", cap->errmsg[0] ? cap->errmsg :
				 kvmexit_strerror(err));
		kvmexit_capture_close(cap);
		return err;
	}
	*out = cap;
	return 0;
}

void kx_capture_set_names(struct kvmexit_capture *cap)
{
	cap->names = true;
}

void kx_capture_set_lean(struct kvmexit_capture *cap)
{
	cap->lean = true;
}

int kx_capture_for_each_batch(struct kvmexit_capture *cap, kx_events_fn fn, void *arg)
{
	if (!cap || !fn)
		return -EINVAL;
	cap->batch = fn;
	return kx_capture_walk(cap, arg);
}

KVMEXIT_API int kvmexit_capture_for_each(struct kvmexit_capture *cap, kvmexit_event_fn fn,
					 void *arg)
{
	if (!cap || !fn)
		return -EINVAL;
	cap->fn = fn;
	return kx_capture_walk(cap, arg);
}

KVMEXIT_API const struct kvmexit_meta *kvmexit_capture_meta(const struct kvmexit_capture *cap)
{
	return &cap->meta;
}

const struct kx_counts *kx_capture_all_counts(const struct kvmexit_capture *cap)
{
	return &cap->counts;
}

KVMEXIT_API size_t kvmexit_capture_counts(const struct kvmexit_capture *cap,
					  const struct kvmexit_count **counts)
{
	*counts = cap->counts.v;
	return cap->counts.nr;
}

size_t kx_capture_detail_counts(const struct kvmexit_capture *cap,
				const struct kx_detail_count **d)
{
	*d = cap->counts.d;
	return cap->counts.nr_detail;
}

KVMEXIT_API const char *kvmexit_capture_errmsg(const struct kvmexit_capture *cap)
{
	return cap->errmsg;
}

KVMEXIT_API void kvmexit_capture_close(struct kvmexit_capture *cap)
{
	if (!cap)
		return;
	if (cap->own_fd && cap->rd.fd >= 0)
		close(cap->rd.fd);
	kx_rd_unmap(&cap->rd);
	free(cap->rd.heap);
	if (!cap->part.on) {		/* a part shares these with its capture */
		kx_formats_free(cap->formats);
		kx_counts_release(&cap->counts);
		free(cap->ids);
	}
	free(cap->part.nr_samples);
	free(cap->meta_text);
	kx_unzip_free(cap->unzip);
	free(cap->attrs);
	free(cap->q.v);
	free(cap->q.vtmp);
	free(cap->q.k);
	free(cap->q.ktmp);
	free(cap);
}

uint64_t kx_capture_nr_samples(const struct kvmexit_capture *cap, const char *sys,
			       const char *name)
{
	uint64_t n = 0;

	for (size_t i = 0; i < cap->nr_attrs; i++) {
		const struct kx_attr *a = &cap->attrs[i];
		const char *s = NULL, *nm;

		if (a->attr.type != PERF_TYPE_TRACEPOINT || !cap->formats)
			continue;
		nm = kx_formats_name(cap->formats, a->attr.config, &s);
		if (nm && s && !strcmp(nm, name) && !strcmp(s, sys))
			n += a->nr_samples;
	}
	return n;
}
