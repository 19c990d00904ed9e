// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interval snapshots of a profile, and deltas between them.
 *
 * A snapshot copies every cell of the profile (counts, times, histogram),
 * sorted by key, and the totals: O(cells), nothing on the per-event path.
 * A delta walks the later snapshot's cells, finds each one's earlier self
 * (and its base self) by binary search, subtracts, and sums the
 * differences into the rows of a grouping, histograms included, so that
 * an interval's percentiles are those of the interval's exits only.
 * Profiles never lose a count, and lose cells only when a process is
 * retired (kvmexit_profile_retire_pid()): its cells are folded into the
 * retired owner's.  A delta across retirements folds the earlier
 * snapshot's cells of the processes retired since alike (retired_view()),
 * so the retired owner's interval is what was retired in it minus what
 * those processes had already: only the exits of the interval, as the
 * rows by reason or detail always show.  Otherwise a cell of the earlier
 * snapshot missing later, or a count that went down, means the snapshots
 * are not of one profile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct snap_cell {
	uint64_t k1, k3;
	uint32_t detail;
	uint64_t count, timed, total, min, max;
	uint64_t life;			/* its pid's (kx_cell_view) */
	struct kx_hist hist;
};

struct kvmexit_snapshot {
	uint64_t time_ns;
	struct kvmexit_profile_totals totals;
	struct snap_cell *cells;	/* sorted by (k1, detail, k3) */
	size_t nr, alloc;
	uint64_t retired;		/* processes the profile had retired */
};

#define KEY_NO_VCPU UINT64_MAX	/* counted exits: pid -1, vCPU -1 */
#define KEY_RETIRED ((uint64_t)(uint32_t)KVMEXIT_PID_RETIRED << 32 | UINT32_MAX)

static int key_cmp(const struct snap_cell *x, const struct snap_cell *y)
{
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->detail != y->detail)
		return x->detail < y->detail ? -1 : 1;
	if (x->k3 != y->k3)
		return x->k3 < y->k3 ? -1 : 1;
	return 0;
}

static int cell_cmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

static int hist_copy(struct kx_hist *dst, const struct kx_hist *src)
{
	for (unsigned int g = 0; g < KX_HIST_GROUPS; g++) {
		if (!src->group[g])
			continue;
		dst->group[g] = malloc(KX_HIST_SUB * sizeof(uint64_t));
		if (!dst->group[g])
			return -ENOMEM;
		memcpy(dst->group[g], src->group[g], KX_HIST_SUB * sizeof(uint64_t));
	}
	return 0;
}

static int copy_cell(const struct kx_cell_view *v, void *arg)
{
	struct kvmexit_snapshot *s = arg;
	struct snap_cell *c;

	if (s->nr == s->alloc)
		return -ENOMEM;		/* the profile grew meanwhile: cannot be */
	c = &s->cells[s->nr++];
	*c = (struct snap_cell){
		.k1 = v->k1, .k3 = v->k3, .detail = v->detail, .count = v->count,
		.timed = v->timed, .total = v->total, .min = v->min, .max = v->max,
		.life = v->life,
	};
	return hist_copy(&c->hist, v->hist);
}

KVMEXIT_API void kvmexit_snapshot_free(struct kvmexit_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		kx_hist_release(&s->cells[i].hist);
	free(s->cells);
	free(s);
}

KVMEXIT_API int kvmexit_snapshot_new(const struct kvmexit_profile *prof, uint64_t time_ns,
				     struct kvmexit_snapshot **out)
{
	struct kvmexit_snapshot *s;
	int err;

	if (!prof || !out)
		return -EINVAL;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->alloc = kx_profile_nr_cells(prof);
	s->cells = calloc(s->alloc ? s->alloc : 1, sizeof(*s->cells));
	err = s->cells ? kx_profile_for_each_cell(prof, copy_cell, s) : -ENOMEM;
	if (err) {
		kvmexit_snapshot_free(s);
		return err;
	}
	qsort(s->cells, s->nr, sizeof(*s->cells), cell_cmp);
	kvmexit_profile_totals(prof, &s->totals);
	s->retired = kx_profile_nr_retired(prof);
	s->time_ns = time_ns ? time_ns : s->totals.last_ns;
	*out = s;
	return 0;
}

KVMEXIT_API uint64_t kvmexit_snapshot_time(const struct kvmexit_snapshot *s)
{
	return s->time_ns;
}

KVMEXIT_API void kvmexit_snapshot_totals(const struct kvmexit_snapshot *s,
					 struct kvmexit_profile_totals *out)
{
	*out = s->totals;
}

/* The cell of key in s, or NULL (s may be NULL: an empty profile). */
static const struct snap_cell *find(const struct kvmexit_snapshot *s, const struct snap_cell *key)
{
	size_t lo = 0, hi = s ? s->nr : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(&s->cells[mid], key);

		if (!c)
			return &s->cells[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---------------------------------------------------------------- deltas */

/* One side (interval or total) of a row being summed. */
struct side {
	struct kvmexit_stat st;
	struct kx_hist hist;
};

struct acc {
	uint64_t k1, k2;
	struct side iv, tot;
};

struct kvmexit_delta {
	struct kvmexit_delta_summary sum;
	struct kvmexit_delta_row *rows;
	size_t nr;
};

/*
 * dst += a - b (b may be NULL); *lo and *hi get the lowest and highest
 * buckets that differ (unchanged when none does).
 */
static int hist_add_diff(struct kx_hist *dst, const struct kx_hist *a, const struct kx_hist *b,
			 unsigned int *lo, unsigned int *hi)
{
	for (unsigned int g = 0; g < KX_HIST_GROUPS; g++) {
		const uint64_t *ag = a->group[g], *bg = b ? b->group[g] : NULL;

		if (!ag)
			continue;
		for (unsigned int i = 0; i < KX_HIST_SUB; i++) {
			uint64_t d = ag[i] - (bg ? bg[i] : 0);
			unsigned int idx = g << KX_HIST_SUB_BITS | i;

			if (!d)
				continue;
			if (!dst->group[g]) {
				dst->group[g] = calloc(KX_HIST_SUB, sizeof(uint64_t));
				if (!dst->group[g])
					return -ENOMEM;
			}
			dst->group[g][i] += d;
			if (idx < *lo)
				*lo = idx;
			if (idx > *hi)
				*hi = idx;
		}
	}
	return 0;
}

/* Adds cell c minus its earlier self e (NULL: none) into one side of a row. */
static int side_add(struct side *sd, const struct snap_cell *c, const struct snap_cell *e)
{
	struct kvmexit_stat *st = &sd->st;
	uint64_t timed = c->timed - (e ? e->timed : 0), min = c->min, max = c->max;
	unsigned int lo = UINT32_MAX, hi = 0;
	int err;

	st->count += c->count - (e ? e->count : 0);
	if (!timed)
		return 0;
	err = hist_add_diff(&sd->hist, &c->hist, e ? &e->hist : NULL, &lo, &hi);
	if (err)
		return err;
	if (e && e->timed && lo <= hi) {
		/* Bounds of the buckets that gained, within the cell's extremes. */
		uint64_t blo = kx_hist_bucket_low(lo);
		uint64_t bhi = kx_hist_bucket_low(hi) + kx_hist_bucket_width(hi) - 1;

		min = blo > c->min ? blo : c->min;
		max = bhi < c->max ? bhi : c->max;
	}
	if (!st->timed || min < st->time_min)
		st->time_min = min;
	if (max > st->time_max)
		st->time_max = max;
	st->timed += timed;
	st->time_total += c->total - (e ? e->total : 0);
	return 0;
}

static void side_finish(struct side *sd, struct kvmexit_stat *out)
{
	struct kvmexit_stat *st = &sd->st;

	st->time_p50 = kx_hist_percentile(&sd->hist, st->timed, 50, st->time_min, st->time_max);
	st->time_p99 = kx_hist_percentile(&sd->hist, st->timed, 99, st->time_min, st->time_max);
	*out = *st;
	kx_hist_release(&sd->hist);
}

/* The row key of a cell in group g, as kvmexit_profile_stats() groups. */
static void row_key(const struct kvmexit_delta_opts *o, const struct snap_cell *c,
		    uint64_t *k1, uint64_t *k2)
{
	kx_row_key(o->group, c->k1, c->detail, c->k3, k1, k2);
	if (o->all_reasons && o->group != KVMEXIT_GROUP_CATEGORY)
		*k1 = 0;
}

static void stat_init(const struct kvmexit_delta_opts *o, struct kvmexit_stat *st,
		      uint64_t k1, uint64_t k2)
{
	*st = (struct kvmexit_stat){
		.isa = (enum kvmexit_isa)(k1 >> 32), .reason = (uint32_t)k1, .vcpu = -1, .pid = -1,
	};
	if (o->group == KVMEXIT_GROUP_DETAIL)
		st->detail = (uint32_t)k2;
	else if (o->group == KVMEXIT_GROUP_VCPU) {
		st->pid = (int32_t)(k2 >> 32);
		st->vcpu = (int32_t)(uint32_t)k2;
	} else if (o->group == KVMEXIT_GROUP_PID)
		st->pid = (int32_t)(uint32_t)k2;
}

struct builder {
	const struct kvmexit_delta_opts *o;
	struct acc *accs;
	size_t nr, alloc;
};

/* The row of (k1, k2): rows are few (reasons x vCPUs), a linear search would
 * do, but a sorted insert keeps it O(log n) per cell. */
static struct acc *row_get(struct builder *b, uint64_t k1, uint64_t k2)
{
	size_t lo = 0, hi = b->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct acc *a = &b->accs[mid];

		if (a->k1 == k1 && a->k2 == k2)
			return a;
		if (a->k1 < k1 || (a->k1 == k1 && a->k2 < k2))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (b->nr == b->alloc) {
		size_t n = b->alloc ? 2 * b->alloc : 16;
		struct acc *v = realloc(b->accs, n * sizeof(*v));

		if (!v)
			return NULL;
		b->accs = v;
		b->alloc = n;
	}
	memmove(&b->accs[lo + 1], &b->accs[lo], (b->nr - lo) * sizeof(*b->accs));
	b->nr++;
	memset(&b->accs[lo], 0, sizeof(*b->accs));
	b->accs[lo].k1 = k1;
	b->accs[lo].k2 = k2;
	stat_init(b->o, &b->accs[lo].iv.st, k1, k2);
	stat_init(b->o, &b->accs[lo].tot.st, k1, k2);
	return &b->accs[lo];
}

static bool went_down(const struct snap_cell *c, const struct snap_cell *e)
{
	return e && (e->count > c->count || e->timed > c->timed || e->total > c->total);
}

static inline int32_t pid_of(const struct snap_cell *c)
{
	return (int32_t)(c->k3 >> 32);
}

static int pid_cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The pids of s retired by the time of to: those with a cell that to
 * lacks, has in another life of the pid (reused after its retirement, even
 * within the interval), or has fewer exits in.  Sorted, in a new array of
 * *nr.
 */
static int retired_pids(const struct kvmexit_snapshot *s, const struct kvmexit_snapshot *to,
			int32_t **out, size_t *nr)
{
	int32_t *v = malloc((s->nr ? s->nr : 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr; i++) {
		const struct snap_cell *c = &s->cells[i], *t;

		if (c->k3 == KEY_NO_VCPU || c->k3 == KEY_RETIRED || pid_of(c) < 0)
			continue;
		t = find(to, c);
		if (!t || t->life != c->life || t->count < c->count)
			v[n++] = pid_of(c);
	}
	qsort(v, n, sizeof(*v), pid_cmp);
	*nr = 0;
	for (size_t i = 0; i < n; i++)
		if (!i || v[i] != v[i - 1])
			v[(*nr)++] = v[i];
	*out = v;
	return 0;
}

/*
 * s as it would be had its processes retired by the time of to been
 * retired already: their cells folded into the retired owner's, per
 * (ISA, reason, detail), as kvmexit_profile_retire_pid() folds them.
 * Made only when the profile retired processes in between; a new
 * snapshot in *out (NULL: nothing to fold).
 */
static int retired_view(const struct kvmexit_snapshot *s, const struct kvmexit_snapshot *to,
			struct kvmexit_snapshot **out)
{
	struct kvmexit_snapshot *v;
	int32_t *pids;
	size_t nr_pids, k = 0;
	int err;

	*out = NULL;
	if (!s || s->retired == to->retired)
		return 0;
	if (s->retired > to->retired)
		return -KVMEXIT_EMISMATCH;
	err = retired_pids(s, to, &pids, &nr_pids);
	if (err)
		return err;
	v = calloc(1, sizeof(*v));
	if (v)
		v->cells = calloc(s->nr ? s->nr : 1, sizeof(*v->cells));
	if (!v || !v->cells) {
		free(v);
		free(pids);
		return -ENOMEM;
	}
	*v = (struct kvmexit_snapshot){ .time_ns = s->time_ns, .totals = s->totals,
					.cells = v->cells, .alloc = s->nr, .retired = s->retired };
	for (size_t i = 0; i < s->nr && !err; i++) {
		struct snap_cell *c = &v->cells[v->nr++];
		int32_t pid = pid_of(&s->cells[i]);

		*c = s->cells[i];
		memset(&c->hist, 0, sizeof(c->hist));
		if (s->cells[i].k3 != KEY_NO_VCPU &&
		    bsearch(&pid, pids, nr_pids, sizeof(*pids), pid_cmp))
			c->k3 = KEY_RETIRED;
		err = hist_copy(&c->hist, &s->cells[i].hist);
	}
	free(pids);
	if (!err)
		qsort(v->cells, v->nr, sizeof(*v->cells), cell_cmp);
	/* Cells of one key now (the retired owner's) become one. */
	for (size_t i = 0; i < v->nr && !err; i++) {
		struct snap_cell *d = &v->cells[k], *c = &v->cells[i];

		if (!k || key_cmp(&v->cells[k - 1], c)) {
			if (k != i) {
				*d = *c;
				memset(&c->hist, 0, sizeof(c->hist));
			}
			k++;
			continue;
		}
		d = &v->cells[k - 1];
		d->count += c->count;
		d->timed += c->timed;
		d->total += c->total;
		if (c->min < d->min)
			d->min = c->min;
		if (c->max > d->max)
			d->max = c->max;
		err = kx_hist_merge(&d->hist, &c->hist);
		kx_hist_release(&c->hist);
	}
	if (!err)
		v->nr = k;
	if (err) {
		kvmexit_snapshot_free(v);
		return err;
	}
	*out = v;
	return 0;
}

/* Every cell of s must be in to, with counts no higher. */
static bool contained(const struct kvmexit_snapshot *s, const struct kvmexit_snapshot *to)
{
	if (!s)
		return true;
	if (s->time_ns > to->time_ns || s->nr > to->nr)
		return false;
	for (size_t i = 0; i < s->nr; i++) {
		const struct snap_cell *c = find(to, &s->cells[i]);

		if (!c || went_down(c, &s->cells[i]))
			return false;
	}
	return true;
}

static int delta_row_cmp(const void *a, const void *b)
{
	const struct kvmexit_delta_row *x = a, *y = b;
	const struct kvmexit_stat *p = &x->interval, *q = &y->interval;

	if (p->count != q->count)
		return p->count > q->count ? -1 : 1;
	if (x->total.count != y->total.count)
		return x->total.count > y->total.count ? -1 : 1;
	if (p->isa != q->isa)
		return p->isa < q->isa ? -1 : 1;
	if (p->reason != q->reason)
		return p->reason < q->reason ? -1 : 1;
	if (p->detail != q->detail)
		return p->detail < q->detail ? -1 : 1;
	if (p->pid != q->pid)
		return p->pid < q->pid ? -1 : 1;
	return p->vcpu < q->vcpu ? -1 : p->vcpu > q->vcpu;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Distinct values among v[0..n) other than none and none2. */
static uint32_t distinct(uint64_t *v, size_t n, uint64_t none, uint64_t none2)
{
	uint32_t d = 0;

	qsort(v, n, sizeof(*v), u64_cmp);
	for (size_t i = 0; i < n; i++)
		if (v[i] != none && v[i] != none2 && (i == 0 || v[i] != v[i - 1]))
			d++;
	return d;
}

/* Counters of the totals, as later - earlier (earlier may be NULL). */
static void totals_diff(struct kvmexit_profile_totals *d, const struct kvmexit_snapshot *to,
			const struct kvmexit_snapshot *e)
{
	const struct kvmexit_profile_totals *t = &to->totals;
	struct kvmexit_profile_totals z = { 0 };
	const struct kvmexit_profile_totals *f = e ? &e->totals : &z;

	*d = (struct kvmexit_profile_totals){
		.events = t->events - f->events,
		.entries = t->entries - f->entries,
		.dropped_pairs = t->dropped_pairs - f->dropped_pairs,
		.unpaired = t->unpaired - f->unpaired,
		.lost = t->lost >= f->lost ? t->lost - f->lost : 0,
		.other_events = t->other_events - f->other_events,
		.first_ns = t->first_ns,
		.last_ns = t->last_ns,
		.duration_ns = e ? to->time_ns - e->time_ns : 0,
		.isa = t->isa,
	};
}

/* The cells' part of the totals: exits, timed, time, vCPUs and processes. */
/* Whether the options keep cell c (process and keep filters). */
static bool kept(const struct kvmexit_delta_opts *o, const struct snap_cell *c)
{
	if (o->has_pid && (int32_t)(c->k3 >> 32) != o->pid)
		return false;
	return !o->keep || o->keep((enum kvmexit_isa)(c->k1 >> 32), (uint32_t)c->k1, c->detail,
				   o->keep_arg);
}

static int totals_cells(struct kvmexit_profile_totals *d, const struct kvmexit_delta_opts *o,
			const struct kvmexit_snapshot *to, const struct kvmexit_snapshot *e)
{
	uint64_t *vcpus = malloc((to->nr ? to->nr : 1) * sizeof(*vcpus));
	uint64_t *pids = malloc((to->nr ? to->nr : 1) * sizeof(*pids));
	size_t n = 0;

	if (!vcpus || !pids) {
		free(vcpus);
		free(pids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < to->nr; i++) {
		const struct snap_cell *c = &to->cells[i], *p = find(e, c);
		uint64_t count = c->count - (p ? p->count : 0);

		if (!kept(o, c))
			continue;
		d->exits += count;
		d->timed += c->timed - (p ? p->timed : 0);
		d->time_total_ns += c->total - (p ? p->total : 0);
		if (count) {
			vcpus[n] = c->k3;
			pids[n++] = c->k3 >> 32;
		}
	}
	d->nr_vcpus = distinct(vcpus, n, KEY_NO_VCPU, KEY_RETIRED);
	d->nr_pids = distinct(pids, n, UINT32_MAX, KEY_RETIRED >> 32);
	free(vcpus);
	free(pids);
	return 0;
}

static int build_rows(struct builder *b, const struct kvmexit_snapshot *from,
		      const struct kvmexit_snapshot *to, const struct kvmexit_snapshot *base)
{
	for (size_t i = 0; i < to->nr; i++) {
		const struct snap_cell *c = &to->cells[i];
		const struct snap_cell *f = find(from, c), *bs = find(base, c);
		uint64_t k1, k2;
		struct acc *a;
		int err;

		if (!kept(b->o, c))
			continue;
		if (c->count == (f ? f->count : 0) && c->count == (bs ? bs->count : 0))
			continue;	/* nothing in the interval nor since the base */
		row_key(b->o, c, &k1, &k2);
		a = row_get(b, k1, k2);
		if (!a)
			return -ENOMEM;
		err = side_add(&a->iv, c, f);
		if (!err)
			err = side_add(&a->tot, c, bs);
		if (err)
			return err;
	}
	return 0;
}

static void builder_release(struct builder *b)
{
	for (size_t i = 0; i < b->nr; i++) {
		kx_hist_release(&b->accs[i].iv.hist);
		kx_hist_release(&b->accs[i].tot.hist);
	}
	free(b->accs);
}

static int delta_make(const struct kvmexit_snapshot *from, const struct kvmexit_snapshot *to,
		      struct kvmexit_delta_opts o, struct kvmexit_delta **out)
{
	struct builder b = { .o = &o };
	struct kvmexit_delta *d;
	double secs;
	int err;

	if (!contained(from, to) || !contained(o.base, to))
		return -KVMEXIT_EMISMATCH;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->sum.from_ns = from ? from->time_ns : 0;
	d->sum.to_ns = to->time_ns;
	d->sum.base_ns = o.base ? o.base->time_ns : 0;
	totals_diff(&d->sum.interval, to, from);
	totals_diff(&d->sum.total, to, o.base);
	err = totals_cells(&d->sum.interval, &o, to, from);
	if (!err)
		err = totals_cells(&d->sum.total, &o, to, o.base);
	if (!err)
		err = build_rows(&b, from, to, o.base);
	if (!err && !(d->rows = calloc(b.nr ? b.nr : 1, sizeof(*d->rows))))
		err = -ENOMEM;
	if (err) {
		builder_release(&b);
		kvmexit_delta_free(d);
		return err;
	}
	secs = from ? (double)(to->time_ns - from->time_ns) / 1e9 : 0;
	for (size_t i = 0; i < b.nr; i++) {
		struct kvmexit_delta_row *r = &d->rows[i];

		side_finish(&b.accs[i].iv, &r->interval);
		side_finish(&b.accs[i].tot, &r->total);
		r->rate = secs > 0 ? (double)r->interval.count / secs : 0;
		if (d->sum.interval.exits)
			r->share = (double)r->interval.count / (double)d->sum.interval.exits;
		if (d->sum.total.exits)
			r->total_share = (double)r->total.count / (double)d->sum.total.exits;
	}
	d->nr = b.nr;
	free(b.accs);
	qsort(d->rows, d->nr, sizeof(*d->rows), delta_row_cmp);
	*out = d;
	return 0;
}

KVMEXIT_API int kvmexit_delta_new(const struct kvmexit_snapshot *from,
				  const struct kvmexit_snapshot *to,
				  const struct kvmexit_delta_opts *opts,
				  struct kvmexit_delta **out)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o) };
	struct kvmexit_snapshot *from_view = NULL, *base_view = NULL;
	int err;

	if (!to || !out || (opts && opts->sz < sizeof(opts->sz)))
		return -EINVAL;
	*out = NULL;
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	o.sz = sizeof(o);
	if ((unsigned int)o.group > KVMEXIT_GROUP_CATEGORY ||
	    (o.all_reasons && o.group != KVMEXIT_GROUP_PID && o.group != KVMEXIT_GROUP_VCPU))
		return -EINVAL;
	/* Processes retired in between: their earlier cells as the retired owner's. */
	err = retired_view(from, to, &from_view);
	if (!err)
		err = retired_view(o.base, to, &base_view);
	if (base_view)
		o.base = base_view;
	if (!err)
		err = delta_make(from_view ? from_view : from, to, o, out);
	kvmexit_snapshot_free(from_view);
	kvmexit_snapshot_free(base_view);
	return err;
}

KVMEXIT_API void kvmexit_delta_free(struct kvmexit_delta *d)
{
	if (!d)
		return;
	free(d->rows);
	free(d);
}

KVMEXIT_API size_t kvmexit_delta_rows(const struct kvmexit_delta *d,
				      const struct kvmexit_delta_row **rows)
{
	*rows = d->rows;
	return d->nr;
}

KVMEXIT_API const struct kvmexit_delta_summary *
kvmexit_delta_summary(const struct kvmexit_delta *d)
{
	return &d->sum;
}

/* ---------------------------------------------------------------- exporters */

KVMEXIT_API int kvmexit_snapshot_time_counts(const struct kvmexit_snapshot *s,
					     enum kvmexit_group group,
					     const struct kvmexit_stat *row,
					     const uint64_t *bounds, size_t nr, uint64_t *counts)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = group };
	struct kvmexit_stat key;

	if (!s || !row || (nr && (!bounds || !counts)) ||
	    (unsigned int)group > KVMEXIT_GROUP_CATEGORY || !kx_hist_bounds_ok(bounds, nr))
		return -EINVAL;
	memset(counts, 0, nr * sizeof(*counts));
	for (size_t i = 0; i < s->nr; i++) {
		const struct snap_cell *c = &s->cells[i];
		uint64_t k1, k2;

		if (!c->timed)
			continue;
		row_key(&o, c, &k1, &k2);
		stat_init(&o, &key, k1, k2);
		if (key.isa != row->isa || key.reason != row->reason || key.detail != row->detail ||
		    key.pid != row->pid || key.vcpu != row->vcpu)
			continue;
		kx_hist_count_under(&c->hist, bounds, nr, counts);
	}
	for (size_t j = 1; j < nr; j++)
		counts[j] += counts[j - 1];
	return 0;
}
