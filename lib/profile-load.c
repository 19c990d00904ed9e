// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading a whole input into a profile: a perf.data capture (ours or
 * perf's, file or pipe mode, or a --count capture), or a count table.
 * The kind comes from the first bytes: perf.data starts with "PERFILE2"
 * (both modes); a count table is text (lib/counts-table.c reads it).
 * The input is opened once: a regular file is looked at with pread(2); a
 * pipe, a FIFO, a terminal or /dev/stdin is read once, its first bytes
 * handed to the reader that continues after them.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SNIFF_SIZE	256
#define TABLE_MAX	(64u << 20)	/* a count table read into memory */

struct input {
	int fd;
	char name[256];
	unsigned char head[SNIFF_SIZE];
	size_t n;			/* bytes in head */
	bool stream;			/* head was consumed: not a seekable file */
};

static int input_open(const char *path, struct input *in, char *err)
{
	struct stat st;
	ssize_t r;

	snprintf(in->name, sizeof(in->name), "%s", strcmp(path, "-") ? path : "<stdin>");
	in->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) :
		 fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	if (in->fd < 0)
		return kx_error(err, -errno, "%s: cannot open: %s", in->name, strerror(errno));
	in->stream = fstat(in->fd, &st) || !S_ISREG(st.st_mode) || lseek(in->fd, 0, SEEK_CUR) != 0;
	in->n = 0;
	while (in->n < sizeof(in->head)) {
		r = in->stream ? read(in->fd, in->head + in->n, sizeof(in->head) - in->n) :
				 pread(in->fd, in->head + in->n, sizeof(in->head) - in->n,
				       (off_t)in->n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			close(in->fd);
			in->fd = -1;
			return kx_error(err, e, "%s: cannot read: %s", in->name, strerror(-e));
		}
		if (r == 0)
			break;
		in->n += (size_t)r;
	}
	return 0;
}

/* Text that is no count table: say what it is and what was expected. */
static int not_a_table(const struct input *in, char *err)
{
	char first[48];
	size_t i = 0, k = 0;

	while (i < in->n && (in->head[i] == '#' || in->head[i] == '\n' || in->head[i] == '\r')) {
		while (i < in->n && in->head[i] != '\n')	/* comment or empty line */
			i++;
		i++;
	}
	for (; i < in->n && in->head[i] != '\n' && k + 4 < sizeof(first); i++)
		first[k++] = in->head[i] >= 0x20 && in->head[i] < 0x7f ? (char)in->head[i] : '?';
	first[k] = '\0';
	return kx_error(err, -KVMEXIT_EFORMAT,
			"%s: neither a perf.data capture nor a count table: it is text, and its "
			"first line (\"%s%s\") has no isa,reason,count fields; give a capture of "
			"kvmexit record, perf record -e 'kvm:*' or perf kvm stat record, or a "
			"count table (kvmexit-capture(5))", in->name, first,
			i < in->n && in->head[i] != '\n' ? "..." : "");
}

/* Text looks like a count table when its first data line has a comma or a tab. */
static bool table_like(const struct input *in)
{
	size_t i = 0;

	while (i < in->n && (in->head[i] == '#' || in->head[i] == '\n' || in->head[i] == '\r')) {
		while (i < in->n && in->head[i] != '\n')
			i++;
		i++;
	}
	for (; i < in->n && in->head[i] != '\n'; i++)
		if (in->head[i] == ',' || in->head[i] == '\t')
			return true;
	return false;
}

/*
 * Counts of a --count capture: per reason (and CPU), without times.  Where
 * the recorder counted parts of a reason per detail (VMX #PF, CR3
 * accesses), the parts go in with their detail keys and what remains of
 * the reason's count (none, when the parts cover it) with none.
 */
static int add_counts(struct kvmexit_profile *prof, struct kvmexit_capture *cap,
		      const char *path, char *err)
{
	const struct kvmexit_count *c;
	const struct kx_detail_count *d;
	size_t n = kvmexit_capture_counts(cap, &c);
	size_t nd = kx_capture_detail_counts(cap, &d);

	const struct kx_counts *all = kx_capture_all_counts(cap);

	/* A --bpf capture: cells per process and vCPU, with times. */
	for (size_t i = 0; i < all->nr_cells; i++) {
		const struct kx_cell_rec *cell = &all->cells[i];
		int e = kx_profile_add_cell(prof, cell, all->buckets + cell->first);

		if (e)
			return kx_error(err, e, "%s: cannot add its cells: %s", path,
					kvmexit_strerror(e));
	}
	for (size_t i = 0; i < all->nr_pios; i++)
		kx_profile_add_pio(prof, &all->pios[i]);
	for (size_t i = 0; i < n; i++) {
		uint64_t rest = c[i].count;
		bool split = false;
		int e = 0;

		for (size_t j = 0; j < nd && !e; j++) {
			if (d[j].isa != c[i].isa || d[j].exit_reason != c[i].exit_reason ||
			    d[j].cpu != c[i].cpu || d[j].count > rest)
				continue;
			rest -= d[j].count;
			split = true;
			e = kvmexit_profile_add_count(prof, d[j].isa, d[j].exit_reason,
						      d[j].detail, d[j].count);
		}
		if (!e && (rest || !split))
			e = kvmexit_profile_add_count(prof, c[i].isa, c[i].exit_reason, 0, rest);

		if (e == -EOPNOTSUPP)
			return kx_error(err, e, "%s: a counting (--count) capture has counts per "
					"reason only, not per process or vCPU: drop --pid/--vcpu",
					path);
		if (e)
			return kx_error(err, e, "%s: cannot add its counts: %s", path,
					kvmexit_strerror(e));
	}
	return 0;
}

static int load_capture(struct input *in, const struct kvmexit_profile_opts *opts,
			struct kvmexit_profile **profp, char *err)
{
	struct kvmexit_profile *prof = *profp, *parts;
	struct kvmexit_capture *cap;
	const char *path = in->name;
	char events[160];
	int e;

	e = kx_capture_open_fd(in->fd, in->name, in->head, in->stream ? in->n : 0, &cap, err);
	in->fd = -1;			/* the capture's now */
	if (e)
		return e;
	/* Events, none of them kvm's (no events at all: an empty capture, read as such) */
	if (!kx_capture_describe(cap, events, sizeof(events)) && events[0] &&
	    !kvmexit_capture_meta(cap)->counts_only) {
		e = kx_error(err, -KVMEXIT_ENOEVENTS,
			     "%s: a perf.data capture of %s, but no kvm events: kvmexit reads "
			     "kvm:kvm_exit and kvm:kvm_entry (and kvm_pio, kvm_mmio, kvm_msr, "
			     "kvm_userspace_exit); record with kvmexit record, perf record -e "
			     "'kvm:*' or perf kvm stat record", path, events);
		kvmexit_capture_close(cap);
		return e;
	}
	/* File mode knows its meta now (the ISA, for exits without one). */
	kvmexit_profile_set_meta(prof, kvmexit_capture_meta(cap));
	if (!kx_profile_opts_copy(opts).top_rips)
		kx_capture_set_lean(cap);	/* no RIPs, no CPUs needed */
	kx_capture_set_names(cap);		/* COMM records name threads */
	e = kx_profile_load_parts(cap, opts, &parts);
	if (!e) {
		kvmexit_profile_free(prof);
		*profp = prof = parts;
	} else if (e == 1) {
		e = kx_capture_for_each_batch(cap, kx_profile_add_events, prof);
	}
	if (e < 0) {
		const char *msg = kvmexit_capture_errmsg(cap);

		if (msg && *msg)
			kx_error(err, e, "%s", msg);
		else
			kx_error(err, e, "%s: cannot aggregate its events: %s", path,
				 kvmexit_strerror(e));
	}
	if (!e) {
		kvmexit_profile_set_meta(prof, kvmexit_capture_meta(cap));
		if (kvmexit_capture_meta(cap)->counts_only)
			e = add_counts(prof, cap, path, err);
	}
	kvmexit_capture_close(cap);
	return e;
}

static int load_table(struct input *in, struct kvmexit_profile *prof, char *err)
{
	struct kvmexit_meta meta;
	size_t len = in->n, alloc = in->n + 4096;
	char *buf = malloc(alloc);
	FILE *f;
	int e = 0;

	if (kx_profile_filters_ids(prof)) {
		free(buf);
		return kx_error(err, -EOPNOTSUPP, "%s: a count table has counts per reason only, "
				"not per process or vCPU: drop --pid/--vcpu", in->name);
	}
	if (!buf)
		return -ENOMEM;
	/* The whole table into memory: the bytes looked at, then the rest. */
	memcpy(buf, in->head, in->n);
	for (;;) {
		ssize_t r;

		if (alloc - len < 4096) {
			char *b = alloc >= TABLE_MAX ? NULL : realloc(buf, alloc * 2);

			if (!b) {
				e = alloc >= TABLE_MAX ?
				    kx_error(err, -EFBIG, "%s: a count table larger than %u MiB",
					     in->name, TABLE_MAX >> 20) : -ENOMEM;
				break;
			}
			buf = b;
			alloc *= 2;
		}
		r = in->stream ? read(in->fd, buf + len, alloc - len) :
				 pread(in->fd, buf + len, alloc - len, (off_t)len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			e = kx_error(err, -errno, "%s: cannot read: %s", in->name, strerror(errno));
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	/* A JSON object: the answer of Prometheus's query API (lib/prom-json.c). */
	if (!e && kx_prom_json_sniff(buf, len) && !memchr(buf, '\0', len)) {
		e = kx_prom_json_read(buf, len, in->name, prof, &meta, err, KX_ERRMSG_SIZE);
		if (!e)
			kvmexit_profile_set_meta(prof, &meta);
		free(buf);
		return e;
	}
	f = e ? NULL : fmemopen(buf, len, "r");	/* len > 0: the sniff saw text */
	if (!e && !f)
		e = -errno;
	if (f) {
		e = kx_counts_table_read_file(f, in->name, prof, &meta, err, KX_ERRMSG_SIZE);
		fclose(f);
		if (!e)
			kvmexit_profile_set_meta(prof, &meta);
	}
	free(buf);
	return e;
}

KVMEXIT_API int kvmexit_profile_load(const char *path,
				     const struct kvmexit_profile_opts *opts,
				     struct kvmexit_profile **out,
				     char *errbuf, size_t errlen)
{
	char err[KX_ERRMSG_SIZE] = "";
	struct kvmexit_profile *prof = NULL;
	int e;

	if (!path || !out)
		return -EINVAL;
	e = kvmexit_profile_new(opts, &prof);
	if (e) {
		kx_error(err, e, "%s: %s", path, kvmexit_strerror(e));
	} else {
		struct input in = { .fd = -1 };

		e = input_open(path, &in, err);
		if (!e && kx_counts_table_sniff(in.head, in.n))
			e = table_like(&in) || kx_prom_json_sniff(in.head, in.n) ?
			    load_table(&in, prof, err) : not_a_table(&in, err);
		else if (!e)
			e = load_capture(&in, opts, &prof, err);
		if (in.fd >= 0)
			close(in.fd);
	}
	if (e) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", err[0] ? err : kvmexit_strerror(e));
		kvmexit_profile_free(prof);
		return e;
	}
	*out = prof;
	return 0;
}
