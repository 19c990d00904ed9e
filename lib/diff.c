// SPDX-License-Identifier: GPL-2.0-only
/*
 * Comparing two profiles: rows keyed by reason (and detail, or category),
 * normalisation of B to A's unit of work, an exact test of each change
 * against Poisson noise, a summary (totals, top contributors, categories,
 * the shadow-paging signature) and warnings.  O(rows log rows); the
 * profiles are only read through the public API.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_ALPHA 0.01

/* Reason codes the summary and warnings look for. */
enum {
	VMX_EXCEPTION_NMI = 0,
	VMX_INVLPG = 14,
	VMX_CR_ACCESS = 28,
	VMX_EPT_VIOLATION = 48,
	VMX_EPT_MISCONFIG = 49,
	VMX_INVPCID = 58,
	SVM_READ_CR3 = 0x003,
	SVM_WRITE_CR3 = 0x013,
	SVM_EXCP_PF = 0x04e,
	SVM_INVLPG = 0x079,
	SVM_INVPCID = 0x0a2,
	SVM_NPF = 0x400,
};

/* One keyed count of one side. */
struct entry {
	enum kvmexit_isa isa;
	uint32_t reason, detail;
	uint64_t count, timed, time_total;
};

struct side {
	const struct kvmexit_meta *meta;
	struct kvmexit_profile_totals tot;
	enum kvmexit_isa isa;
	struct kvmexit_stat *detail;	/* KVMEXIT_GROUP_DETAIL rows */
	int nr_detail;
	uint64_t total;			/* sum of the rows */
	struct kvmexit_rate_span span;
	double duration;		/* the rate span, seconds; 0 unknown */
	double unit;			/* normalisation unit */
	char name;			/* 'A' or 'B' */
};

struct warnings {
	size_t nr, alloc;
	struct kvmexit_diff_warning *v;
};

struct kvmexit_diff {
	struct kvmexit_diff_summary summary;
	struct kvmexit_diff_row *rows;
	size_t nr_rows;
	struct warnings warn;
};

/* ------------------------------------------------------------------ */
/* The test                                                            */
/* ------------------------------------------------------------------ */

static double log_pmf(uint64_t k, uint64_t n, double lp, double lq, double lnf)
{
	return lnf - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
	       (double)k * lp + (double)(n - k) * lq;
}

/*
 * Sum of pmf(k) for k from @from stepping by @dir (+1/-1) to the end of
 * the range, in log space: stops when the terms no longer matter.
 */
static double tail_sum(uint64_t from, int dir, uint64_t n, double p, double lfrom)
{
	double term = 1, sum = 1, odds = p / (1 - p);
	uint64_t k = from;

	for (;;) {
		if (dir > 0) {
			if (k == n)
				break;
			term *= (double)(n - k) / (double)(k + 1) * odds;
			k++;
		} else {
			if (k == 0)
				break;
			term *= (double)k / (double)(n - k + 1) / odds;
			k--;
		}
		sum += term;
		if (term < sum * 1e-17)
			break;
	}
	return exp(lfrom + log(sum));
}

/*
 * The exact two-sided binomial test, as R's binom.test(): the probability
 * of all outcomes no more likely than x (with a relative tolerance 1e-7).
 */
static double binom_test(uint64_t x, uint64_t n, double p)
{
	const double rel = 1 + 1e-7;
	double m = (double)n * p, lp, lq, lnf, ld, limit;

	if (n == 0)
		return 1;
	if (p <= 0)
		return x == 0 ? 1 : 0;
	if (p >= 1)
		return x == n ? 1 : 0;
	if ((double)x == m)
		return 1;
	lp = log(p);
	lq = log1p(-p);
	lnf = lgamma((double)n + 1);
	ld = log_pmf(x, n, lp, lq, lnf);
	limit = ld + log(rel);
	double near = tail_sum(x, (double)x < m ? -1 : 1, n, p, ld);
	uint64_t lo, hi;

	if ((double)x < m) {
		/* the first k >= ceil(m) with pmf(k) <= pmf(x) * rel */
		lo = (uint64_t)ceil(m);
		hi = n + 1;
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;

			if (log_pmf(mid, n, lp, lq, lnf) <= limit)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (lo > n)
			return fmin(1, near);
		return fmin(1, near + tail_sum(lo, 1, n, p, log_pmf(lo, n, lp, lq, lnf)));
	}
	/* the last k <= floor(m) with pmf(k) <= pmf(x) * rel, if any */
	uint64_t top = (uint64_t)floor(m);

	if (log_pmf(0, n, lp, lq, lnf) > limit)
		return fmin(1, near);
	lo = 0;
	hi = top;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;

		if (log_pmf(mid, n, lp, lq, lnf) <= limit)
			lo = mid;
		else
			hi = mid - 1;
	}
	return fmin(1, near + tail_sum(lo, -1, n, p, log_pmf(lo, n, lp, lq, lnf)));
}

KVMEXIT_API double kvmexit_diff_poisson_test(uint64_t a, uint64_t b, double ua, double ub)
{
	if (!(ua > 0) || !(ub > 0))
		return 1;
	return binom_test(a, a + b, ua / (ua + ub));
}

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

static bool detail_is(enum kvmexit_isa isa, uint32_t reason, uint32_t detail, const char *name)
{
	char buf[32];

	if (!detail || kvmexit_detail_name(isa, reason, detail, buf, sizeof(buf)) < 0)
		return false;
	return !strcmp(buf, name);
}

static bool is_pf(enum kvmexit_isa isa, uint32_t reason, uint32_t detail)
{
	if (isa == KVMEXIT_ISA_SVM)
		return reason == SVM_EXCP_PF;
	return isa == KVMEXIT_ISA_VMX && reason == VMX_EXCEPTION_NMI &&
	       detail_is(isa, reason, detail, "#PF");
}


struct paging_counts {
	uint64_t pf, cr3, invlpg, invpcid, tdp;
	bool pf_inexact, cr3_inexact;
	uint64_t cr3_write_exact;	/* for the warning: real CR3 writes only */
};

static void count_paging(const struct side *s, struct paging_counts *pc)
{
	*pc = (struct paging_counts){ 0 };
	for (int i = 0; i < s->nr_detail; i++) {
		const struct kvmexit_stat *st = &s->detail[i];
		uint32_t r = st->reason;

		if (st->isa == KVMEXIT_ISA_VMX) {
			if (r == VMX_EXCEPTION_NMI && !st->detail) {
				pc->pf += st->count;
				pc->pf_inexact = true;
			} else if (r == VMX_CR_ACCESS && !st->detail) {
				pc->cr3 += st->count;
				pc->cr3_inexact = true;
			} else if (is_pf(st->isa, r, st->detail)) {
				pc->pf += st->count;
			} else if (r == VMX_CR_ACCESS &&
				   detail_is(st->isa, r, st->detail, "mov-to-cr3")) {
				pc->cr3 += st->count;
				pc->cr3_write_exact += st->count;
			} else if (r == VMX_CR_ACCESS &&
				   detail_is(st->isa, r, st->detail, "mov-from-cr3")) {
				pc->cr3 += st->count;
			} else if (r == VMX_INVLPG) {
				pc->invlpg += st->count;
			} else if (r == VMX_INVPCID) {
				pc->invpcid += st->count;
			} else if (r == VMX_EPT_VIOLATION || r == VMX_EPT_MISCONFIG) {
				pc->tdp += st->count;
			}
		} else if (st->isa == KVMEXIT_ISA_SVM) {
			if (r == SVM_EXCP_PF)
				pc->pf += st->count;
			else if (r == SVM_WRITE_CR3) {
				pc->cr3 += st->count;
				pc->cr3_write_exact += st->count;
			} else if (r == SVM_READ_CR3)
				pc->cr3 += st->count;
			else if (r == SVM_INVLPG)
				pc->invlpg += st->count;
			else if (r == SVM_INVPCID)
				pc->invpcid += st->count;
			else if (r == SVM_NPF)
				pc->tdp += st->count;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Warnings                                                            */
/* ------------------------------------------------------------------ */

static int __attribute__((format(printf, 7, 8)))
warn(struct warnings *w, enum kvmexit_diff_warning_code code, char side,
     enum kvmexit_isa isa, uint32_t reason, uint64_t count, const char *fmt, ...)
{
	struct kvmexit_diff_warning *x;
	va_list ap;

	if (w->nr == w->alloc) {
		size_t n = w->alloc ? w->alloc * 2 : 8;
		void *v = realloc(w->v, n * sizeof(*w->v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->alloc = n;
	}
	x = &w->v[w->nr++];
	*x = (struct kvmexit_diff_warning){
		.code = code, .side = side, .isa = isa, .reason = reason, .count = count,
	};
	va_start(ap, fmt);
	vsnprintf(x->message, sizeof(x->message), fmt, ap);
	va_end(ap);
	return 0;
}

static const char *tdp_param(const struct side *s)
{
	return s->isa == KVMEXIT_ISA_SVM ? "npt" : "ept";
}

static int warn_labels(struct warnings *w, const struct side *s, const struct paging_counts *pc)
{
	int tdp = kvmexit_meta_tdp(s->meta), err = 0;
	bool svm = s->isa == KVMEXIT_ISA_SVM;

	if (tdp == 0 && pc->tdp)
		err = warn(w, KVMEXIT_DIFF_W_TDP_FAULTS, s->name, s->isa,
			   svm ? SVM_NPF : VMX_EPT_VIOLATION, pc->tdp,
			   "%c has %" PRIu64 " %s exits although it was taken with %s=off: "
			   "are its labels right?", s->name, pc->tdp,
			   svm ? "npf" : "EPT_VIOLATION/EPT_MISCONFIG", tdp_param(s));
	if (!err && tdp == 1 && (pc->invlpg || pc->cr3_write_exact))
		err = warn(w, KVMEXIT_DIFF_W_SHADOW_EXITS, s->name, s->isa,
			   svm ? SVM_INVLPG : VMX_INVLPG, pc->invlpg + pc->cr3_write_exact,
			   "%c has unexpected exits for %s=on: %" PRIu64 " INVLPG, %" PRIu64
			   " CR3 writes (possible with unrestricted_guest off, in real mode, "
			   "or nested)", s->name, tdp_param(s), pc->invlpg, pc->cr3_write_exact);
	return err;
}

static int warn_side(struct warnings *w, const struct side *s)
{
	uint64_t lost = s->tot.lost > s->meta->lost ? s->tot.lost : s->meta->lost;
	int err = 0;

	if (!s->total)
		err = warn(w, KVMEXIT_DIFF_W_EMPTY, s->name, KVMEXIT_ISA_UNKNOWN, 0, 0,
			   "%c has no kvm_exit events", s->name);
	if (!err && lost)
		err = warn(w, KVMEXIT_DIFF_W_LOST, s->name, KVMEXIT_ISA_UNKNOWN, 0, lost,
			   "%c lost %" PRIu64 " records: its counts are too low", s->name, lost);
	return err;
}

static const char *basis_words(const struct side *s)
{
	if (s->span.basis == KVMEXIT_RATE_EXIT_SPAN)
		return "exits (first to last)";
	return s->meta->has_kvmexit ? "recording window (counted in the kernel)" :
				      "declared duration";
}

static int warn_pair(struct warnings *w, const struct side *a, const struct side *b)
{
	bool times_a = a->tot.timed || a->meta->counts_only || !a->total;
	bool times_b = b->tot.timed || b->meta->counts_only || !b->total;
	int err = 0;

	if (a->isa && b->isa && a->isa != b->isa)
		err = warn(w, KVMEXIT_DIFF_W_VENDOR, 0, KVMEXIT_ISA_UNKNOWN, 0, 0,
			   "A is %s and B is %s: exit reasons differ between them, so they are "
			   "compared by category", kvmexit_isa_name(a->isa), kvmexit_isa_name(b->isa));
	if (!err && a->meta->osrelease[0] && b->meta->osrelease[0] &&
	    strcmp(a->meta->osrelease, b->meta->osrelease))
		err = warn(w, KVMEXIT_DIFF_W_KERNEL, 0, KVMEXIT_ISA_UNKNOWN, 0, 0,
			   "A and B were taken on different kernels (%s, %s)",
			   a->meta->osrelease, b->meta->osrelease);
	if (!err && !times_a && !times_b)
		err = warn(w, KVMEXIT_DIFF_W_NO_TIMES, 0, KVMEXIT_ISA_UNKNOWN, 0, 0,
			   "neither A nor B has kvm_entry events: no exit-handling times");
	else if (!err && (!times_a || !times_b))
		err = warn(w, KVMEXIT_DIFF_W_NO_TIMES, times_a ? 'B' : 'A',
			   KVMEXIT_ISA_UNKNOWN, 0, 0,
			   "%c has no kvm_entry events: no exit-handling times for it",
			   times_a ? 'B' : 'A');
	if (!err && (a->duration > 0) != (b->duration > 0))
		err = warn(w, KVMEXIT_DIFF_W_NO_DURATION, a->duration > 0 ? 'B' : 'A',
			   KVMEXIT_ISA_UNKNOWN, 0, 0,
			   "%c's duration is unknown: no rates per second",
			   a->duration > 0 ? 'B' : 'A');
	else if (!err && a->duration > 0 && a->span.basis != b->span.basis)
		err = warn(w, KVMEXIT_DIFF_W_RATE_BASIS, 0, KVMEXIT_ISA_UNKNOWN, 0, 0,
			   "A's rates are over its %s, B's over its %s: rates per second are "
			   "not compared (--normalize total or a reason compares the same work)",
			   basis_words(a), basis_words(b));
	return err;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

static int entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;

	if (a->isa != b->isa)
		return a->isa < b->isa ? -1 : 1;
	if (a->reason != b->reason)
		return a->reason < b->reason ? -1 : 1;
	if (a->detail != b->detail)
		return a->detail < b->detail ? -1 : 1;
	return 0;
}

/*
 * The side's entries for @group, sorted by key, duplicates merged.  All
 * groupings come from the DETAIL rows, so rows, categories and the summary
 * always agree.
 */
static int side_entries(const struct side *s, enum kvmexit_group group, struct entry **out)
{
	struct entry *v = calloc(s->nr_detail ? s->nr_detail : 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < s->nr_detail; i++) {
		const struct kvmexit_stat *st = &s->detail[i];
		struct entry e = {
			.isa = st->isa, .reason = st->reason, .detail = st->detail,
			.count = st->count, .timed = st->timed, .time_total = st->time_total,
		};

		if (group == KVMEXIT_GROUP_REASON) {
			e.detail = 0;
		} else if (group == KVMEXIT_GROUP_CATEGORY) {
			e.reason = kvmexit_detail_category(st->isa, st->reason, st->detail);
			e.isa = KVMEXIT_ISA_UNKNOWN;
			e.detail = 0;
		}
		v[n++] = e;
	}
	qsort(v, n, sizeof(*v), entry_cmp);
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (m && !entry_cmp(&v[m - 1], &v[i])) {
			v[m - 1].count += v[i].count;
			v[m - 1].timed += v[i].timed;
			v[m - 1].time_total += v[i].time_total;
		} else {
			v[m++] = v[i];
		}
	}
	*out = v;
	return (int)m;
}

static void fill_row(struct kvmexit_diff_row *r, const struct entry *ea, const struct entry *eb,
		     const struct side *a, const struct side *b,
		     const struct kvmexit_diff_summary *sum, enum kvmexit_group group)
{
	static const struct entry none;
	const struct entry *key = ea ? ea : eb;

	ea = ea ? ea : &none;
	eb = eb ? eb : &none;
	*r = (struct kvmexit_diff_row){
		.isa = key->isa, .reason = key->reason, .detail = key->detail,
		.count_a = ea->count, .count_b = eb->count,
	};
	r->category = group == KVMEXIT_GROUP_CATEGORY ?
		(enum kvmexit_category)key->reason :
		group == KVMEXIT_GROUP_DETAIL ? kvmexit_detail_category(key->isa, key->reason, key->detail) :
		kvmexit_detail_category(key->isa, key->reason, 0);
	r->scaled_b = (double)r->count_b * sum->scale;
	r->delta = r->scaled_b - (double)r->count_a;
	r->ratio = r->count_a ? r->scaled_b / (double)r->count_a : 0;
	if (!r->count_a && r->count_b)
		r->change = KVMEXIT_DIFF_NEW;
	else if (r->count_a && !r->count_b)
		r->change = KVMEXIT_DIFF_GONE;
	else if (fabs(r->delta) <= 1e-9 * fmax(1, (double)r->count_a))
		r->change = KVMEXIT_DIFF_SAME;
	else
		r->change = r->delta > 0 ? KVMEXIT_DIFF_UP : KVMEXIT_DIFF_DOWN;
	r->share_a = a->total ? (double)r->count_a / (double)a->total : 0;
	r->share_b = b->total ? (double)r->count_b / (double)b->total : 0;
	r->has_rate = sum->has_rates;
	if (r->has_rate) {
		r->rate_a = (double)r->count_a / a->duration;
		r->rate_b = (double)r->count_b / b->duration;
	}
	r->has_time_a = ea->timed > 0;
	r->has_time_b = eb->timed > 0;
	if (r->has_time_a)
		r->avg_ns_a = (double)ea->time_total / (double)ea->timed;
	if (r->has_time_b)
		r->avg_ns_b = (double)eb->time_total / (double)eb->timed;
	r->p_value = kvmexit_diff_poisson_test(r->count_a, r->count_b, a->unit, b->unit);
	r->significant = r->p_value < sum->alpha;
}

/* Merge-joins the two sides' sorted entries into rows. */
static int build_rows(struct kvmexit_diff *d, const struct side *a, const struct side *b,
		      enum kvmexit_group group)
{
	struct entry *ea = NULL, *eb = NULL;
	int na = side_entries(a, group, &ea), nb = na < 0 ? 0 : side_entries(b, group, &eb);
	int err = na < 0 ? na : nb < 0 ? nb : 0;
	size_t i = 0, j = 0, n = 0;

	if (!err) {
		d->rows = calloc((size_t)na + nb + 1, sizeof(*d->rows));
		if (!d->rows)
			err = -ENOMEM;
	}
	while (!err && (i < (size_t)na || j < (size_t)nb)) {
		int c = i == (size_t)na ? 1 : j == (size_t)nb ? -1 : entry_cmp(&ea[i], &eb[j]);
		const struct entry *x = c <= 0 ? &ea[i++] : NULL;
		const struct entry *y = c >= 0 ? &eb[j++] : NULL;

		if ((x && x->count) || (y && y->count))
			fill_row(&d->rows[n++], x, y, a, b, &d->summary, group);
	}
	d->nr_rows = n;
	free(ea);
	free(eb);
	return err;
}

/* ------------------------------------------------------------------ */
/* Sorting and filtering                                               */
/* ------------------------------------------------------------------ */

struct item {
	struct kvmexit_diff_row row;
	double key, key2;		/* key2 orders ties: new and gone rows by size */
	char name[96];
};

static int row_key_cmp(const struct kvmexit_diff_row *a, const struct kvmexit_diff_row *b)
{
	struct entry x = { .isa = a->isa, .reason = a->reason, .detail = a->detail };
	struct entry y = { .isa = b->isa, .reason = b->reason, .detail = b->detail };

	return entry_cmp(&x, &y);
}

static int item_key_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	if (a->key2 != b->key2)
		return a->key2 > b->key2 ? -1 : 1;
	return row_key_cmp(&a->row, &b->row);
}

static int item_name_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	return c ? c : row_key_cmp(&a->row, &b->row);
}

static double sort_key(const struct kvmexit_diff_row *r, enum kvmexit_diff_sort sort,
		       double scale)
{
	switch (sort) {
	case KVMEXIT_DIFF_SORT_RATIO:
		if (r->change == KVMEXIT_DIFF_NEW || r->change == KVMEXIT_DIFF_GONE)
			return HUGE_VAL;
		return fabs(log(r->ratio));
	case KVMEXIT_DIFF_SORT_RATE:
		return r->has_rate ? fabs(r->rate_b - r->rate_a) : fabs(r->delta);
	case KVMEXIT_DIFF_SORT_TIME:
		if (!r->has_time_a && !r->has_time_b)
			return -1;
		return fabs(r->avg_ns_b * (double)r->count_b * scale -
			    r->avg_ns_a * (double)r->count_a);
	default:
		return fabs(r->delta);
	}
}

static int sort_and_filter(struct kvmexit_diff *d, const struct kvmexit_diff_opts *o)
{
	struct item *items = calloc(d->nr_rows + 1, sizeof(*items));
	size_t n = 0;

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < d->nr_rows; i++) {
		struct item *it = &items[i];

		it->row = d->rows[i];
		it->key = sort_key(&it->row, o->sort, d->summary.scale);
		/* Infinite ratios (new, gone): the larger side's count first. */
		if (o->sort == KVMEXIT_DIFF_SORT_RATIO)
			it->key2 = fmax((double)it->row.count_a, it->row.scaled_b);
		if (o->sort == KVMEXIT_DIFF_SORT_NAME)
			kvmexit_diff_row_name(&it->row, it->name, sizeof(it->name));
	}
	qsort(items, d->nr_rows, sizeof(*items),
	      o->sort == KVMEXIT_DIFF_SORT_NAME ? item_name_cmp : item_key_cmp);
	for (size_t i = 0; i < d->nr_rows; i++) {
		const struct kvmexit_diff_row *r = &items[i].row;

		if (o->min_count && r->count_a < o->min_count && r->count_b < o->min_count)
			continue;
		if (o->top && n == o->top)
			break;
		d->rows[n++] = *r;
	}
	d->nr_rows = n;
	free(items);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Summary                                                             */
/* ------------------------------------------------------------------ */

static void summarize_top(struct kvmexit_diff *d)
{
	struct kvmexit_diff_summary *s = &d->summary;
	double abs_sum = 0;

	for (size_t i = 0; i < d->nr_rows; i++)
		abs_sum += fabs(d->rows[i].delta);
	for (size_t i = 0; i < d->nr_rows; i++) {
		struct kvmexit_diff_row *r = &d->rows[i];
		size_t k;

		r->change_share = abs_sum > 0 ? r->delta / abs_sum : 0;
		/* Only real changes carry "most of the change". */
		if (r->change == KVMEXIT_DIFF_SAME || !r->significant)
			continue;
		s->nr_significant++;
		/* insertion into the top list, largest |delta| first */
		if (s->nr_top == KVMEXIT_DIFF_TOP_MAX &&
		    fabs(s->top[s->nr_top - 1].delta) >= fabs(r->delta))
			continue;
		if (s->nr_top < KVMEXIT_DIFF_TOP_MAX)
			s->nr_top++;
		for (k = s->nr_top - 1; k > 0 && fabs(s->top[k - 1].delta) < fabs(r->delta); k--)
			s->top[k] = s->top[k - 1];
		s->top[k] = (struct kvmexit_diff_contrib){
			.isa = r->isa, .reason = r->reason, .detail = r->detail,
			.delta = r->delta, .change_share = r->change_share,
		};
	}
}

static int summarize_categories(struct kvmexit_diff *d, const struct side *a,
				const struct side *b)
{
	struct kvmexit_diff_summary *s = &d->summary;
	struct entry *e;
	int n;

	for (int pass = 0; pass < 2; pass++) {
		const struct side *x = pass ? b : a;

		n = side_entries(x, KVMEXIT_GROUP_CATEGORY, &e);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			struct kvmexit_diff_category *c = &s->categories[e[i].reason];

			if (pass)
				c->count_b += e[i].count;
			else
				c->count_a += e[i].count;
		}
		free(e);
	}
	for (int i = 0; i < KVMEXIT_CAT__MAX; i++) {
		struct kvmexit_diff_category *c = &s->categories[i];

		c->scaled_b = (double)c->count_b * s->scale;
		c->delta = c->scaled_b - (double)c->count_a;
		c->p_value = kvmexit_diff_poisson_test(c->count_a, c->count_b, a->unit, b->unit);
		c->significant = c->p_value < s->alpha;
	}
	return 0;
}

/* Whether a change of one paging count is beyond Poisson noise. */
static bool paging_significant(const struct kvmexit_diff_summary *s, const struct side *a,
			       const struct side *b, uint64_t ca, uint64_t cb)
{
	return kvmexit_diff_poisson_test(ca, cb, a->unit, b->unit) < s->alpha;
}

static void summarize_paging(struct kvmexit_diff_summary *s, const struct side *a,
			     const struct side *b, const struct paging_counts *pa,
			     const struct paging_counts *pb)
{
	struct kvmexit_diff_paging *p = &s->paging;
	double sc = s->scale;
	uint64_t sha = pa->pf + pa->cr3 + pa->invlpg + pa->invpcid;
	uint64_t shb = pb->pf + pb->cr3 + pb->invlpg + pb->invpcid;
	double shadow_a = (double)sha, shadow_b = (double)shb * sc;
	bool shadow_sig = paging_significant(s, a, b, sha, shb);

	*p = (struct kvmexit_diff_paging){
		.pf_exact = !pa->pf_inexact && !pb->pf_inexact,
		.cr3_exact = !pa->cr3_inexact && !pb->cr3_inexact,
		.pf_a = pa->pf, .pf_b = pb->pf, .cr3_a = pa->cr3, .cr3_b = pb->cr3,
		.invlpg_a = pa->invlpg, .invlpg_b = pb->invlpg,
		.invpcid_a = pa->invpcid, .invpcid_b = pb->invpcid,
		.tdp_faults_a = pa->tdp, .tdp_faults_b = pb->tdp,
		.pf_delta = (double)pb->pf * sc - (double)pa->pf,
		.cr3_delta = (double)pb->cr3 * sc - (double)pa->cr3,
		.invlpg_delta = (double)pb->invlpg * sc - (double)pa->invlpg,
		.invpcid_delta = (double)pb->invpcid * sc - (double)pa->invpcid,
		.tdp_faults_delta = (double)pb->tdp * sc - (double)pa->tdp,
	};
	p->pf_significant = paging_significant(s, a, b, pa->pf, pb->pf);
	p->cr3_significant = paging_significant(s, a, b, pa->cr3, pb->cr3);
	p->invlpg_significant = paging_significant(s, a, b, pa->invlpg, pb->invlpg);
	p->invpcid_significant = paging_significant(s, a, b, pa->invpcid, pb->invpcid);
	p->tdp_faults_significant = paging_significant(s, a, b, pa->tdp, pb->tdp);
	/* The signature only from changes beyond noise, on both counts. */
	if (!shadow_sig || !p->tdp_faults_significant)
		return;
	if (pa->tdp && !pb->tdp && shadow_b > shadow_a)
		p->shadow_side = 'B';
	else if (pb->tdp && !pa->tdp && shadow_a > shadow_b)
		p->shadow_side = 'A';
}

/* The exits say shadow paging where the side's metadata says ept/npt on. */
static int warn_mislabelled(struct warnings *w, const struct kvmexit_diff_summary *s,
			    const struct side *a, const struct side *b)
{
	const struct side *x = s->paging.shadow_side == 'A' ? a : b;
	const char *param = tdp_param(x);

	if (!s->paging.shadow_side || kvmexit_meta_tdp(x->meta) != 1)
		return 0;
	return warn(w, KVMEXIT_DIFF_W_MISLABELLED, x->name, x->isa, 0, 0,
		    "%c's exits show shadow paging but its metadata says %s=%s: "
		    "the run was probably mislabelled", x->name, param,
		    kvmexit_meta_param(x->meta, param) ? kvmexit_meta_param(x->meta, param) : "on");
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static int side_init(struct side *s, const struct kvmexit_profile *prof, char name)
{
	int n;

	s->name = name;
	s->meta = kvmexit_profile_meta(prof);
	kvmexit_profile_totals(prof, &s->tot);
	s->isa = s->tot.isa ? s->tot.isa : s->meta->isa;
	n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_DETAIL, &s->detail);
	if (n < 0)
		return n;
	s->nr_detail = n;
	for (int i = 0; i < n; i++)
		s->total += s->detail[i].count;
	s->span.sz = sizeof(s->span);
	kvmexit_profile_rate_span(prof, &s->span);
	s->duration = (double)s->span.span_ns / 1e9;
	return 0;
}

static uint64_t reason_count(const struct side *s, enum kvmexit_isa isa, uint32_t reason)
{
	uint64_t n = 0;

	if (isa == KVMEXIT_ISA_VMX)
		reason = kvmexit_vmx_basic(reason);
	for (int i = 0; i < s->nr_detail; i++)
		if (s->detail[i].isa == isa && s->detail[i].reason == reason)
			n += s->detail[i].count;
	return n;
}

static int __attribute__((format(printf, 4, 5)))
fail(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int set_units(struct side *a, struct side *b, const struct kvmexit_diff_opts *o,
		     bool by_category, char *errbuf, size_t errlen)
{
	char name[64];

	switch (o->normalize) {
	case KVMEXIT_DIFF_NORM_NONE:
		a->unit = b->unit = 1;
		return 0;
	case KVMEXIT_DIFF_NORM_DURATION:
		a->unit = a->duration;
		b->unit = b->duration;
		if (a->unit > 0 && b->unit > 0 && a->span.basis == b->span.basis)
			return 0;
		if (a->unit > 0 && b->unit > 0)
			return fail(errbuf, errlen, -KVMEXIT_EMISMATCH,
				    "cannot normalise by duration: A's rates are over its %s, "
				    "B's over its %s; use --normalize total or a reason",
				    basis_words(a), basis_words(b));
		return fail(errbuf, errlen, -KVMEXIT_EMISMATCH,
			    "cannot normalise by duration: %s's duration is unknown "
			    "(a count table gives it with '# duration: SECONDS')",
			    a->unit > 0 ? "B" : "A");
	case KVMEXIT_DIFF_NORM_TOTAL:
		a->unit = (double)a->total;
		b->unit = (double)b->total;
		if (a->unit > 0 && b->unit > 0)
			return 0;
		return fail(errbuf, errlen, -KVMEXIT_EMISMATCH,
			    "cannot normalise by the total: %s has no exits",
			    a->unit > 0 ? "B" : "A");
	case KVMEXIT_DIFF_NORM_REASON: {
		enum kvmexit_isa isa = o->norm_isa ? o->norm_isa : a->isa;

		if (by_category)
			return fail(errbuf, errlen, -KVMEXIT_EMISMATCH,
				    "cannot normalise by one exit reason when A is %s and B "
				    "is %s; use --normalize total or duration",
				    kvmexit_isa_name(a->isa), kvmexit_isa_name(b->isa));
		kvmexit_reason_name(isa, o->norm_reason, name, sizeof(name));
		a->unit = (double)reason_count(a, isa, o->norm_reason);
		b->unit = (double)reason_count(b, isa, o->norm_reason);
		if (a->unit > 0 && b->unit > 0)
			return 0;
		return fail(errbuf, errlen, -KVMEXIT_EMISMATCH,
			    "cannot normalise by %s: %s has no %s exits", name,
			    a->unit > 0 ? "B" : "A", name);
	}
	}
	return fail(errbuf, errlen, -EINVAL, "unknown normalisation %d", (int)o->normalize);
}

static int check_opts(const struct kvmexit_diff_opts *o, char *errbuf, size_t errlen)
{
	if (o->group != KVMEXIT_GROUP_REASON && o->group != KVMEXIT_GROUP_DETAIL &&
	    o->group != KVMEXIT_GROUP_CATEGORY)
		return fail(errbuf, errlen, -EINVAL,
			    "a diff groups by reason, detail or category only");
	if ((unsigned int)o->sort > KVMEXIT_DIFF_SORT_NAME)
		return fail(errbuf, errlen, -EINVAL, "unknown sort order %d", (int)o->sort);
	if (o->alpha < 0 || o->alpha >= 1 || isnan(o->alpha))
		return fail(errbuf, errlen, -EINVAL, "alpha must be in [0, 1)");
	return 0;
}

static int diff_compute(struct kvmexit_diff *d, struct side *a, struct side *b,
			const struct kvmexit_diff_opts *o, char *errbuf, size_t errlen)
{
	struct kvmexit_diff_summary *s = &d->summary;
	struct paging_counts pa, pb;
	bool by_category = a->isa && b->isa && a->isa != b->isa;
	int err;

	s->group = by_category ? KVMEXIT_GROUP_CATEGORY : o->group;
	s->normalize = o->normalize;
	s->alpha = o->alpha > 0 ? o->alpha : DEFAULT_ALPHA;
	err = set_units(a, b, o, by_category, errbuf, errlen);
	if (err)
		return err;
	s->scale = a->unit / b->unit;
	s->total_a = a->total;
	s->total_b = b->total;
	s->total_b_scaled = (double)b->total * s->scale;
	s->total_delta = s->total_b_scaled - (double)a->total;
	s->total_ratio = a->total ? s->total_b_scaled / (double)a->total : 0;
	s->total_p_value = kvmexit_diff_poisson_test(a->total, b->total, a->unit, b->unit);
	s->total_significant = s->total_p_value < s->alpha;
	s->duration_a = a->duration;
	s->duration_b = b->duration;
	s->basis_a = a->span.basis;
	s->basis_b = b->span.basis;
	s->has_rates = a->duration > 0 && b->duration > 0 && a->span.basis == b->span.basis;
	s->window_a = (double)a->span.window_ns / 1e9;
	s->window_b = (double)b->span.window_ns / 1e9;
	s->isa_a = a->isa;
	s->isa_b = b->isa;
	s->tdp_a = kvmexit_meta_tdp(a->meta);
	s->tdp_b = kvmexit_meta_tdp(b->meta);
	count_paging(a, &pa);
	count_paging(b, &pb);
	summarize_paging(s, a, b, &pa, &pb);
	err = summarize_categories(d, a, b);
	if (!err)
		err = build_rows(d, a, b, s->group);
	if (err)
		return err;
	s->nr_rows = d->nr_rows;
	summarize_top(d);
	err = warn_side(&d->warn, a);
	if (!err)
		err = warn_side(&d->warn, b);
	if (!err)
		err = warn_pair(&d->warn, a, b);
	if (!err)
		err = warn_labels(&d->warn, a, &pa);
	if (!err)
		err = warn_labels(&d->warn, b, &pb);
	if (!err)
		err = warn_mislabelled(&d->warn, s, a, b);
	if (!err)
		err = sort_and_filter(d, o);
	return err;
}

KVMEXIT_API int kvmexit_diff_new(const struct kvmexit_profile *pa,
				 const struct kvmexit_profile *pb,
				 const struct kvmexit_diff_opts *opts,
				 struct kvmexit_diff **out,
				 char *errbuf, size_t errlen)
{
	struct kvmexit_diff_opts o = { .sz = sizeof(o) };
	struct side a = { 0 }, b = { 0 };
	struct kvmexit_diff *d;
	int err;

	if (!pa || !pb || !out)
		return fail(errbuf, errlen, -EINVAL, "kvmexit_diff_new: NULL argument");
	*out = NULL;
	if (opts) {
		if (opts->sz < sizeof(size_t))
			return fail(errbuf, errlen, -EINVAL, "kvmexit_diff_opts.sz is not set");
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	}
	err = check_opts(&o, errbuf, errlen);
	if (err)
		return err;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	err = side_init(&a, pa, 'A');
	if (!err)
		err = side_init(&b, pb, 'B');
	if (!err)
		err = diff_compute(d, &a, &b, &o, errbuf, errlen);
	kvmexit_stats_free(a.detail);
	kvmexit_stats_free(b.detail);
	if (err) {
		if (err == -ENOMEM)
			fail(errbuf, errlen, err, "out of memory comparing profiles");
		kvmexit_diff_free(d);
		return err;
	}
	*out = d;
	return 0;
}

KVMEXIT_API void kvmexit_diff_free(struct kvmexit_diff *diff)
{
	if (!diff)
		return;
	free(diff->rows);
	free(diff->warn.v);
	free(diff);
}

KVMEXIT_API size_t kvmexit_diff_rows(const struct kvmexit_diff *diff,
				     const struct kvmexit_diff_row **rows)
{
	*rows = diff->rows;
	return diff->nr_rows;
}

KVMEXIT_API const struct kvmexit_diff_summary *
kvmexit_diff_summary(const struct kvmexit_diff *diff)
{
	return &diff->summary;
}

KVMEXIT_API size_t kvmexit_diff_warnings(const struct kvmexit_diff *diff,
					 const struct kvmexit_diff_warning **warnings)
{
	*warnings = diff->warn.v;
	return diff->warn.nr;
}

KVMEXIT_API int kvmexit_diff_row_name(const struct kvmexit_diff_row *row,
				      char *buf, size_t size)
{
	char reason[64], detail[64];

	if (row->isa == KVMEXIT_ISA_UNKNOWN)
		return snprintf(buf, size, "%s", kvmexit_category_name(row->reason));
	kvmexit_reason_name(row->isa, row->reason, reason, sizeof(reason));
	if (!row->detail ||
	    kvmexit_detail_name(row->isa, row->reason, row->detail, detail, sizeof(detail)) <= 0)
		return snprintf(buf, size, "%s", reason);
	return snprintf(buf, size, "%s/%s", reason, detail);
}
