// SPDX-License-Identifier: GPL-2.0-only
/*
 * Port, MMIO and MSR accesses of a profile, per port, guest-physical
 * address or MSR and direction, timed as perf kvm stat report --event=
 * ioport|mmio|msr times them (tools/perf/arch/x86/util/kvm-stat.c and
 * builtin-kvm.c), so that the two agree on the same capture:
 *
 *  - each vCPU thread has, per kind, one pending access: a "begin" event
 *    sets it (with its start time, replacing any pending one), an "end"
 *    event times it and clears it;
 *  - ioport: begin kvm_pio (port, in/out); end kvm_entry;
 *  - msr:    begin kvm_msr (index, read/write); end kvm_entry;
 *  - mmio:   begin kvm_exit (no key yet) or a kvm_mmio write (gpa, W);
 *            end kvm_entry (timed only when the begin had a key) or a
 *            kvm_mmio read (gpa, R: timed under the begin's key if it had
 *            one, else the read's);
 *  - a thread counts for timing only from its first kvm_entry on (perf
 *    keeps no state for a thread before it), and an end earlier than its
 *    begin is not timed.
 * Unlike perf, every access is counted, timed or not: a capture without
 * kvm_entry (or kvm_exit) still says which ports, addresses and MSRs were
 * used how often.  kvm_mmio's unsatisfied reads are neither.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct pending {
	bool on, keyed, write;
	uint64_t key, start;
};

struct acc_thread {
	int32_t tid;
	bool entered;			/* a kvm_entry came */
	struct pending p[KVMEXIT_ACCESS__MAX];
};

static struct acc_thread *thread_get(struct kx_access *a, int32_t tid)
{
	struct acc_thread *t;

	if (a->last < a->nr_threads && a->threads[a->last].tid == tid)
		return &a->threads[a->last];
	for (size_t i = 0; i < a->nr_threads; i++)
		if (a->threads[i].tid == tid) {
			a->last = i;
			return &a->threads[i];
		}
	if (a->nr_threads == a->alloc_threads) {
		size_t n = a->alloc_threads ? a->alloc_threads * 2 : 16;

		t = realloc(a->threads, n * sizeof(*t));
		if (!t)
			return NULL;
		a->threads = t;
		a->alloc_threads = n;
	}
	t = &a->threads[a->nr_threads];
	*t = (struct acc_thread){ .tid = tid };
	a->last = a->nr_threads++;
	return t;
}

static int cell_cmp_key(const struct kvmexit_access_stat *c, enum kvmexit_access_kind kind,
			uint64_t key, bool write)
{
	if (c->kind != kind)
		return c->kind < kind ? -1 : 1;
	if (c->key != key)
		return c->key < key ? -1 : 1;
	return (int)c->write - (int)write;
}

/* The cell of (kind, key, write), made when missing; cells stay sorted. */
static struct kvmexit_access_stat *cell_get(struct kx_access *a, enum kvmexit_access_kind kind,
					    uint64_t key, bool write)
{
	size_t lo = 0, hi = a->nr_cells;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cell_cmp_key(&a->cells[mid], kind, key, write);

		if (!c)
			return &a->cells[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (a->nr_cells == a->alloc_cells) {
		size_t n = a->alloc_cells ? a->alloc_cells * 2 : 16;
		struct kvmexit_access_stat *c = realloc(a->cells, n * sizeof(*c));
		double *sq = realloc(a->sumsq, n * sizeof(*sq));

		if (c)
			a->cells = c;
		if (sq)
			a->sumsq = sq;
		if (!c || !sq)
			return NULL;
		a->alloc_cells = n;
	}
	memmove(&a->cells[lo + 1], &a->cells[lo], (a->nr_cells - lo) * sizeof(*a->cells));
	memmove(&a->sumsq[lo + 1], &a->sumsq[lo], (a->nr_cells - lo) * sizeof(*a->sumsq));
	a->cells[lo] = (struct kvmexit_access_stat){ .kind = kind, .key = key, .write = write };
	a->sumsq[lo] = 0;
	a->nr_cells++;
	return &a->cells[lo];
}

static int count(struct kx_access *a, enum kvmexit_access_kind kind, uint64_t key, bool write)
{
	struct kvmexit_access_stat *c = cell_get(a, kind, key, write);

	if (!c)
		return -ENOMEM;
	c->count++;
	return 0;
}

static void begin(struct acc_thread *t, enum kvmexit_access_kind kind, bool keyed, uint64_t key,
		  bool write, uint64_t time)
{
	if (t->entered)
		t->p[kind] = (struct pending){ .on = true, .keyed = keyed, .key = key,
					       .write = write, .start = time };
}

/* An end event: times the pending access (under key when it has none). */
static int end(struct kx_access *a, struct acc_thread *t, enum kvmexit_access_kind kind,
	       bool keyed, uint64_t key, bool write, uint64_t time)
{
	struct pending p = t->p[kind];
	struct kvmexit_access_stat *c;
	uint64_t dt;

	if (!p.on)
		return 0;
	if (!p.keyed && !keyed)
		return 0;		/* neither knows what was accessed: still pending */
	t->p[kind].on = false;
	if (time < p.start)
		return 0;
	c = p.keyed ? cell_get(a, kind, p.key, p.write) : cell_get(a, kind, key, write);
	if (!c)
		return -ENOMEM;
	dt = time - p.start;
	if (!c->timed || dt < c->time_min)
		c->time_min = dt;
	if (dt > c->time_max)
		c->time_max = dt;
	c->timed++;
	c->time_total += dt;
	a->sumsq[c - a->cells] += (double)dt * (double)dt;
	return 0;
}

int kx_access_add(struct kx_access *a, const struct kvmexit_event *ev)
{
	struct acc_thread *t;
	int err = 0;

	switch (ev->type) {
	case KVMEXIT_EV_EXIT:
	case KVMEXIT_EV_ENTRY:
	case KVMEXIT_EV_PIO:
	case KVMEXIT_EV_MSR:
		break;
	case KVMEXIT_EV_MMIO:
		/* 0: an unsatisfied read, finished later by a read */
		if (ev->mmio.type == 1 || ev->mmio.type == 2)
			break;
		return 0;
	default:
		return 0;
	}
	t = thread_get(a, ev->tid);
	if (!t)
		return -ENOMEM;
	switch (ev->type) {
	case KVMEXIT_EV_EXIT:
		/* perf's mmio analysis begins at every kvm_exit, without a key */
		if (t->entered)
			begin(t, KVMEXIT_ACCESS_MMIO, false, 0, false, ev->time);
		break;
	case KVMEXIT_EV_ENTRY:
		t->entered = true;
		for (int k = 0; k < KVMEXIT_ACCESS__MAX && !err; k++)
			err = end(a, t, (enum kvmexit_access_kind)k, false, 0, false, ev->time);
		break;
	case KVMEXIT_EV_PIO:
		err = count(a, KVMEXIT_ACCESS_IOPORT, ev->pio.port, ev->pio.rw != 0);
		begin(t, KVMEXIT_ACCESS_IOPORT, true, ev->pio.port, ev->pio.rw != 0, ev->time);
		break;
	case KVMEXIT_EV_MSR:
		err = count(a, KVMEXIT_ACCESS_MSR, ev->msr.ecx, ev->msr.write != 0);
		begin(t, KVMEXIT_ACCESS_MSR, true, ev->msr.ecx, ev->msr.write != 0, ev->time);
		break;
	default:	/* MMIO read (1) or write (2) */
		err = count(a, KVMEXIT_ACCESS_MMIO, ev->mmio.gpa, ev->mmio.type == 2);
		if (!err && ev->mmio.type == 2)
			begin(t, KVMEXIT_ACCESS_MMIO, true, ev->mmio.gpa, true, ev->time);
		else if (!err && t->entered)
			err = end(a, t, KVMEXIT_ACCESS_MMIO, true, ev->mmio.gpa, false, ev->time);
		break;
	}
	return err;
}

void kx_access_release(struct kx_access *a)
{
	free(a->threads);
	free(a->cells);
	free(a->sumsq);
	*a = (struct kx_access){ 0 };
}

/* Most timed first (perf's default order), then most counted, then by key. */
static int row_cmp(const void *pa, const void *pb)
{
	const struct kvmexit_access_stat *x = pa, *y = pb;

	if (x->timed != y->timed)
		return x->timed > y->timed ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return cell_cmp_key(x, y->kind, y->key, y->write);
}

int kx_access_rows(const struct kx_access *a, enum kvmexit_access_kind kind,
		   struct kvmexit_access_stat **out)
{
	struct kvmexit_access_stat *rows;
	size_t n = 0;

	if ((unsigned)kind >= KVMEXIT_ACCESS__MAX || !out)
		return -EINVAL;
	rows = calloc(a->nr_cells ? a->nr_cells : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < a->nr_cells; i++) {
		struct kvmexit_access_stat r = a->cells[i];
		double mean;

		if (r.kind != kind)
			continue;
		if (r.timed > 1) {
			/* the sample's; perf's "+-" is that of the mean: / sqrt(timed) */
			mean = (double)r.time_total / r.timed;
			r.time_stddev = sqrt(fmax(0, (a->sumsq[i] - r.timed * mean * mean) /
						     (r.timed - 1)));
		}
		rows[n++] = r;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	*out = rows;
	return (int)n;
}
