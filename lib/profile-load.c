// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading a whole input into a profile: a perf.data capture (ours or
 * perf's, file or pipe mode, or a --count capture), or a count table.
 * The kind comes from the first bytes: perf.data starts with "PERFILE2"
 * (both modes); a count table is text (lib/counts-table.c reads it).
 * Standard input ("-") is sniffed when it is a file; a pipe cannot be
 * peeked at and given back, so it is read as perf.data.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum input_kind { INPUT_PERF, INPUT_TEXT };

/* A count table is text; anything else goes to the capture reader. */
static enum input_kind input_kind(const char *path)
{
	unsigned char head[256];
	off_t off;
	ssize_t n;
	int fd;

	if (!strcmp(path, "-")) {
		/* A pipe cannot be peeked at: only a redirected file can. */
		off = lseek(0, 0, SEEK_CUR);
		n = off < 0 ? -1 : pread(0, head, sizeof(head), off);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return INPUT_PERF;	/* the reader says why it cannot open it */
		n = read(fd, head, sizeof(head));
		close(fd);
	}
	return n > 0 && kx_counts_table_sniff(head, (size_t)n) ? INPUT_TEXT : INPUT_PERF;
}

/* Counts of a --count capture: per reason (and CPU), without times. */
static int add_counts(struct kvmexit_profile *prof, struct kvmexit_capture *cap,
		      const char *path, char *err)
{
	const struct kvmexit_count *c;
	size_t n = kvmexit_capture_counts(cap, &c);

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
		int e = kvmexit_profile_add_count(prof, c[i].isa, c[i].exit_reason, 0, c[i].count);

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

static int load_capture(const char *path, const struct kvmexit_profile_opts *opts,
			struct kvmexit_profile **profp, char *err)
{
	struct kvmexit_profile *prof = *profp, *parts;
	struct kvmexit_capture *cap;
	int e;

	e = kvmexit_capture_open(path, &cap, err, KX_ERRMSG_SIZE);
	if (e)
		return e;
	/* File mode knows its meta now (the ISA, for exits without one). */
	kvmexit_profile_set_meta(prof, kvmexit_capture_meta(cap));
	if (!kx_profile_opts_copy(opts).top_rips)
		kx_capture_set_lean(cap);	/* no RIPs, no CPUs needed */
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

static int load_table(const char *path, struct kvmexit_profile *prof, char *err)
{
	struct kvmexit_meta meta;
	int e;

	if (kx_profile_filters_ids(prof))
		return kx_error(err, -EOPNOTSUPP, "%s: a count table has counts per reason only, "
				"not per process or vCPU: drop --pid/--vcpu", path);
	e = kx_counts_table_read(path, prof, &meta, err, KX_ERRMSG_SIZE);
	if (!e)
		kvmexit_profile_set_meta(prof, &meta);
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
		if (input_kind(path) == INPUT_TEXT)
			e = load_table(path, prof, err);
		else
			e = load_capture(path, opts, &prof, err);
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
