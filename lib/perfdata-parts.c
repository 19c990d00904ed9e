// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parallel walks: a file-mode capture in parts.
 *
 * Parallel walks.  A file-mode capture can be walked in parts cut at
 * FINISHED_ROUND records, each by its own reader (kx_capture_split(),
 * struct kx_part): lib/profile-parallel.c runs them on threads and merges
 * their profiles.  (A pipeline, one thread reading and ordering and the
 * caller's aggregating, was tried and was slower on a 2-CPU guest: the
 * events crossing cores cost more than the thread saved.)  Measured on a
 * synthetic capture of 10M kvm_exit+kvm_entry pairs (2.24 GB, page cache
 * warm), `kvmexit report`: see BENCHMARKS.md.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfdata-read.h"

static int quiet_fn(const struct kvmexit_event *ev, size_t n, void *arg)
{
	(void)ev;
	(void)n;
	(void)arg;
	return 0;
}

/* The 8 bytes of a FINISHED_ROUND record: type 68, misc 0, size 8. */
#define ROUND_WORD ((uint64_t)REC_FINISHED_ROUND | (8ULL << 48))
#define SPLIT_CHAIN 16			/* records checked after a candidate */
#define SPLIT_BLOCK (64u << 10)

/* Whether the records from off on look like a record stream. */
static bool chain_plausible(const struct kvmexit_capture *cap, uint64_t off)
{
	for (int i = 0; i < SPLIT_CHAIN && off < cap->data_end; i++) {
		unsigned char h[8];
		uint32_t type;
		uint16_t size;

		if (pread(cap->rd.fd, h, 8, (off_t)off) != 8)
			return false;
		type = ld32(h);
		memcpy(&size, h + 6, 2);
		if (size < 8 || size % 8 || size > cap->data_end - off ||
		    !type || (type >= 32 && type < REC_USER_TYPE_START) || type >= 128)
			return false;
		if (type == REC_AUXTRACE)
			return true;	/* data of its own follows */
		off += size;
	}
	return true;
}

/* The first round record at or after from (8-aligned in the data), or 0. */
static uint64_t split_point(const struct kvmexit_capture *cap, uint64_t from, uint64_t to,
			    unsigned char *blk)
{
	from = cap->data_start + (from - cap->data_start + 7) / 8 * 8;
	while (from + 8 <= to) {
		size_t n = to - from < SPLIT_BLOCK ? (size_t)(to - from) : SPLIT_BLOCK;
		ssize_t r = pread(cap->rd.fd, blk, n, (off_t)from);

		if (r < 8)
			return 0;
		for (size_t i = 0; i + 8 <= (size_t)r; i += 8)
			if (ld64(blk + i) == ROUND_WORD && chain_plausible(cap, from + i))
				return from + i;
		from += (uint64_t)r / 8 * 8;
	}
	return 0;
}

unsigned int kx_capture_split(struct kvmexit_capture *cap, unsigned int n, uint64_t min_part,
			      uint64_t *starts)
{
	uint64_t size = cap->data_end - cap->data_start;
	unsigned char *blk;
	unsigned int m = 1;

	starts[0] = cap->data_start;
	/* compressed records are one zstd stream: it cannot be cut */
	if (cap->pipe || cap->walked || cap->compressed || n < 2 || !(blk = malloc(SPLIT_BLOCK))) {
		starts[1] = cap->data_end;
		return 1;
	}
	for (unsigned int k = 1; k < n; k++) {
		uint64_t from = cap->data_start + size / n * k, at;

		if (from < starts[m - 1] + min_part)
			from = starts[m - 1] + min_part;
		if (from >= cap->data_end || cap->data_end - from < min_part)
			break;
		at = split_point(cap, from, cap->data_end - min_part, blk);
		if (!at)
			break;
		starts[m++] = at;
	}
	free(blk);
	starts[m] = cap->data_end;
	return m;
}

int kx_capture_part_new(const struct kvmexit_capture *cap, uint64_t start, uint64_t end,
			struct kvmexit_capture **out)
{
	struct kvmexit_capture *p = malloc(sizeof(*p));
	size_t asz = cap->nr_attrs * sizeof(*cap->attrs);

	if (!p)
		return -ENOMEM;
	*p = *cap;
	p->rd.buf = p->rd.heap = p->rd.map = NULL;
	p->attrs = NULL;
	p->meta_text = NULL;	/* applied at open */
	p->unzip = NULL;
	p->q = (struct kx_queue){ 0 };
	p->part = (struct kx_part){ .on = true, .last = end == cap->data_end,
				    .quiet = start != cap->data_start, .end = end,
				    .mid = start != cap->data_start,
				    .lost0 = cap->meta.lost };
	p->own_fd = false;
	p->errmsg[0] = '\0';
	p->first_time = UINT64_MAX;
	p->last_time = 0;
	p->nr_unknown_id = 0;
	p->rd.buf = p->rd.heap = malloc(KX_RD_BUF + KX_RD_SLACK);
	p->attrs = malloc(asz ? asz : 1);
	p->part.nr_samples = calloc(cap->nr_attrs ? cap->nr_attrs : 1, sizeof(uint64_t));
	if (!p->rd.buf || !p->attrs || !p->part.nr_samples) {
		free(p->rd.heap);	/* what kvmexit_capture_close() would free */
		free(p->attrs);
		free(p->part.nr_samples);
		free(p);
		return -ENOMEM;
	}
	memcpy(p->attrs, cap->attrs, asz);
	p->rd.head = p->rd.tail = 0;
	p->rd.off = start;
	p->rd.limit = end;
	kx_rd_map_windows(&p->rd, cap->file_size);
	*out = p;
	return 0;
}

/* What the part owns, counted up to here: its own range ends. */
static void part_snapshot(struct kvmexit_capture *cap)
{
	struct kx_part *pt = &cap->part;

	for (size_t i = 0; i < cap->nr_attrs; i++)
		pt->nr_samples[i] = cap->attrs[i].nr_samples;
	pt->lost = cap->meta.lost - pt->lost0;
	pt->nr_unknown_id = cap->nr_unknown_id;
}

static int part_walk(struct kvmexit_capture *cap);

int kx_capture_part_walk(struct kvmexit_capture *cap, kx_events_fn fn, void *arg)
{
	struct kx_part *pt = &cap->part;
	struct kx_rd_guard guard;
	int err;

	if (!pt->on || cap->walked)
		return -EINVAL;
	cap->walked = true;
	pt->batch = fn;
	cap->batch = pt->quiet ? quiet_fn : fn;
	cap->arg = arg;
	if (sigsetjmp(guard.env, 0)) {
		kx_rd_guard_disarm(&guard, true);
		return kx_rd_shrank(cap);
	}
	kx_rd_guard_arm(&guard, &cap->rd);
	err = part_walk(cap);
	kx_rd_guard_disarm(&guard, false);
	return err;
}

/* kx_capture_part_walk() under its guard. */
static int part_walk(struct kvmexit_capture *cap)
{
	struct kx_part *pt = &cap->part;
	int err;

	for (;;) {
		err = kx_samples_buffered(cap);
		if (!err && !cap->stop && !pt->done)
			err = kx_record_next(cap, false);
		if (err < 0 || cap->stop || pt->done)
			break;
		if (err == 0)
			continue;
		/* At its limit: the end of its own range, or of the data. */
		if (pt->past_end || pt->quiet)
			return -EAGAIN;	/* this or the next part has too few rounds */
		part_snapshot(cap);
		if (pt->last)
			return kx_queue_flush_to(cap, UINT64_MAX);
		pt->past_end = true;
		pt->armed = false;
		pt->rounds = 0;
		pt->queued_at_round = cap->q.queued;
		pt->max_at_end = cap->q.max_time;
		cap->rd.limit = cap->data_end;
	}
	if (cap->stop)
		return cap->stop;
	return err < 0 ? err : 0;
}

bool kx_capture_parts_agree(const struct kvmexit_capture *prev, const struct kvmexit_capture *next)
{
	return prev->part.done && !next->part.quiet && !next->part.quiet_halved &&
	       next->part.max_at_arm >= prev->part.max_at_end;
}

void kx_capture_parts_fold(struct kvmexit_capture *cap, struct kvmexit_capture *const *parts,
			   unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		const struct kvmexit_capture *p = parts[k];

		for (size_t i = 0; i < cap->nr_attrs; i++)
			cap->attrs[i].nr_samples += p->part.nr_samples[i];
		cap->meta.lost += p->part.lost;
		cap->nr_unknown_id += p->part.nr_unknown_id;
		if (p->first_time < cap->first_time)
			cap->first_time = p->first_time;
		if (p->last_time > cap->last_time)
			cap->last_time = p->last_time;
	}
	cap->walked = true;
	kx_meta_times(cap);
}

