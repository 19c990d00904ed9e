// SPDX-License-Identifier: GPL-2.0-only
/*
 * Comparing profiles: hand-built profiles with known counts and times, and
 * the exact values of every column, sort order, normalisation, test,
 * summary field and warning.  Expected p-values come from an exact rational
 * implementation of R's binom.test (tests/data/diff/binom.py).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check-skip.h"
#include "internal.h"

enum { EXC = 0, EXTINT = 1, HLT = 12, CPUID = 10, INVLPG = 14, CR = 28, IO = 30,
       EPT = 48, EPTMIS = 49 };
#define INTR_PF 0x80000b0eu	/* valid, hardware exception, #PF */

struct cnt {
	enum kvmexit_isa isa;
	uint32_t reason, detail;
	uint64_t count;
};

#define V(r, n) { KVMEXIT_ISA_VMX, (r), 0, (n) }
#define S(r, n) { KVMEXIT_ISA_SVM, (r), 0, (n) }

static const struct kvmexit_profile_opts all = { .sz = sizeof(all) };

/* A profile of counts; vendor/param name=value labels it; dur_s > 0 gives a span. */
static struct kvmexit_profile *mk(const struct cnt *c, size_t n, const char *vendor,
				  const char *param, const char *value, double dur_s)
{
	struct kvmexit_profile *p;
	struct kvmexit_meta m = { 0 };

	ck_assert_int_eq(kvmexit_profile_new(&all, &p), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(kvmexit_profile_add_count(p, c[i].isa, c[i].reason, c[i].detail,
							   c[i].count), 0);
	if (vendor) {
		snprintf(m.vendor, sizeof(m.vendor), "%s", vendor);
		m.isa = kx_isa_from_vendor(vendor);
		snprintf(m.kvm_module, sizeof(m.kvm_module), "%s",
			 m.isa == KVMEXIT_ISA_SVM ? "kvm_amd" : "kvm_intel");
	}
	if (param)
		ck_assert_int_eq(kx_meta_set_param(&m, param, value), 0);
	if (dur_s > 0) {
		m.start_ns = 1000;
		m.end_ns = 1000 + (uint64_t)llround(dur_s * 1e9);
	}
	m.counts_only = true;
	kvmexit_profile_set_meta(p, &m);
	return p;
}

static struct kvmexit_diff *diff_of(struct kvmexit_profile *a, struct kvmexit_profile *b,
				    const struct kvmexit_diff_opts *o)
{
	struct kvmexit_diff *d = NULL;
	char err[256] = "";
	int ret = kvmexit_diff_new(a, b, o, &d, err, sizeof(err));

	ck_assert_msg(ret == 0, "kvmexit_diff_new: %d %s", ret, err);
	return d;
}

static const struct kvmexit_diff_row *find(const struct kvmexit_diff *d, enum kvmexit_isa isa,
					   uint32_t reason, uint32_t detail)
{
	const struct kvmexit_diff_row *rows;
	size_t n = kvmexit_diff_rows(d, &rows);

	for (size_t i = 0; i < n; i++)
		if (rows[i].isa == isa && rows[i].reason == reason && rows[i].detail == detail)
			return &rows[i];
	ck_abort_msg("no row %u/%u", reason, detail);
	return NULL;
}

static bool close_to(double x, double y)
{
	return fabs(x - y) <= 1e-9 * fmax(1e-300, fabs(y));
}

#define ck_close(x, y) ck_assert_msg(close_to((x), (y)), "%s = %.17g, expected %.17g", \
				     #x, (double)(x), (double)(y))

static bool has_warning(const struct kvmexit_diff *d, enum kvmexit_diff_warning_code code,
			char side, uint64_t count)
{
	const struct kvmexit_diff_warning *w;
	size_t n = kvmexit_diff_warnings(d, &w);

	for (size_t i = 0; i < n; i++)
		if (w[i].code == code && w[i].side == side && w[i].count == count &&
		    w[i].message[0])
			return true;
	return false;
}

/* ------------------------------------------------------------------ */

START_TEST(poisson_test_exact)
{
	/* from binom.py: R's binom.test, exact rational arithmetic */
	ck_close(kvmexit_diff_poisson_test(10, 30, 1, 1), 0.0022214337732293643);
	ck_close(kvmexit_diff_poisson_test(30, 10, 1, 1), 0.0022214337732293643);
	ck_close(kvmexit_diff_poisson_test(400, 380, 1, 1), 0.49633354743192881);
	ck_close(kvmexit_diff_poisson_test(3000, 3010, 1, 1), 0.90758025649325347);
	ck_close(kvmexit_diff_poisson_test(100, 150, 10, 12.5), 0.16191524458575812);
	ck_close(kvmexit_diff_poisson_test(0, 5, 1, 1), 0.0625);
	ck_close(kvmexit_diff_poisson_test(0, 8, 1, 1), 0.0078125);
	ck_close(kvmexit_diff_poisson_test(2000, 2500, 1, 1), 9.6088415912736123e-14);
	ck_close(kvmexit_diff_poisson_test(7, 0, 2, 1), 0.10379515317786922);
	ck_close(kvmexit_diff_poisson_test(120, 95, 1, 1), 0.10145232764870644);
	ck_assert(kvmexit_diff_poisson_test(1000, 1000, 1, 1) == 1);
	ck_assert(kvmexit_diff_poisson_test(0, 0, 1, 1) == 1);
	/* large counts: equal rates stay at 1, a 1% shift of 10M is certain */
	ck_assert(kvmexit_diff_poisson_test(10000000, 10000000, 1, 1) == 1);
	ck_assert(kvmexit_diff_poisson_test(10000000, 10100000, 1, 1) < 1e-100);
}
END_TEST

static const struct cnt ept_y[] = {
	V(EPT, 5000), V(EPTMIS, 200), V(CPUID, 1000), V(IO, 3000), V(HLT, 400),
	V(EXTINT, 2000), V(CR, 50),
};
static const struct cnt ept_n[] = {
	V(EXC, 90000), V(CR, 12000), V(INVLPG, 8000), V(CPUID, 1000), V(IO, 3010),
	V(HLT, 380), V(EXTINT, 2500),
};

START_TEST(rows_every_column)
{
	struct kvmexit_profile *a = mk(ept_y, 7, "GenuineIntel", "ept", "Y", 10);
	struct kvmexit_profile *b = mk(ept_n, 7, "GenuineIntel", "ept", "N", 12.5);
	struct kvmexit_diff *d = diff_of(a, b, NULL);
	const struct kvmexit_diff_row *rows, *r;
	size_t n = kvmexit_diff_rows(d, &rows);

	ck_assert_uint_eq(n, 9);
	/* sorted by |delta| */
	ck_assert_uint_eq(rows[0].reason, EXC);
	ck_assert_uint_eq(rows[1].reason, CR);
	ck_assert_uint_eq(rows[2].reason, INVLPG);
	ck_assert_uint_eq(rows[3].reason, EPT);
	ck_assert_uint_eq(rows[4].reason, EXTINT);
	ck_assert_uint_eq(rows[5].reason, EPTMIS);
	ck_assert_uint_eq(rows[6].reason, HLT);
	ck_assert_uint_eq(rows[7].reason, IO);
	ck_assert_uint_eq(rows[8].reason, CPUID);

	r = find(d, KVMEXIT_ISA_VMX, HLT, 0);
	ck_assert_uint_eq(r->count_a, 400);
	ck_assert_uint_eq(r->count_b, 380);
	ck_close(r->scaled_b, 380);
	ck_close(r->delta, -20);
	ck_close(r->ratio, 0.95);
	ck_assert_int_eq(r->change, KVMEXIT_DIFF_DOWN);
	ck_assert_int_eq(r->category, KVMEXIT_CAT_INSTRUCTION);
	ck_close(r->share_a, 400.0 / 11650);
	ck_close(r->share_b, 380.0 / 116890);
	ck_assert(r->has_rate);
	ck_close(r->rate_a, 40);
	ck_close(r->rate_b, 30.4);
	ck_assert(!r->has_time_a && !r->has_time_b);
	ck_close(r->p_value, 0.49633354743192881);
	ck_assert(!r->significant);
	/* sum of |delta| = 90000 + 11950 + 8000 + 5000 + 500 + 200 + 20 + 10 */
	ck_close(r->change_share, -20.0 / 115680);

	r = find(d, KVMEXIT_ISA_VMX, EXC, 0);
	ck_assert_int_eq(r->change, KVMEXIT_DIFF_NEW);
	ck_close(r->ratio, 0);
	ck_assert(r->significant);
	ck_close(r->change_share, 90000.0 / 115680);
	r = find(d, KVMEXIT_ISA_VMX, EPT, 0);
	ck_assert_int_eq(r->change, KVMEXIT_DIFF_GONE);
	ck_close(r->ratio, 0);
	ck_close(r->delta, -5000);
	r = find(d, KVMEXIT_ISA_VMX, EXTINT, 0);
	ck_assert_int_eq(r->change, KVMEXIT_DIFF_UP);
	ck_close(r->ratio, 1.25);
	ck_close(r->p_value, 9.6088415912736123e-14);
	ck_assert(r->significant);
	r = find(d, KVMEXIT_ISA_VMX, CPUID, 0);
	ck_assert_int_eq(r->change, KVMEXIT_DIFF_SAME);
	ck_assert(r->p_value == 1);

	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

START_TEST(summary_and_shadow_signature)
{
	struct kvmexit_profile *a = mk(ept_y, 7, "GenuineIntel", "ept", "Y", 10);
	struct kvmexit_profile *b = mk(ept_n, 7, "GenuineIntel", "ept", "N", 12.5);
	struct kvmexit_diff *d = diff_of(a, b, NULL);
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(d);

	ck_assert_uint_eq(s->total_a, 11650);
	ck_assert_uint_eq(s->total_b, 116890);
	ck_close(s->scale, 1);
	ck_close(s->total_delta, 105240);
	ck_close(s->total_ratio, 116890.0 / 11650);
	ck_assert(s->total_significant);
	ck_close(s->duration_a, 10);
	ck_close(s->duration_b, 12.5);
	ck_assert_int_eq(s->tdp_a, 1);
	ck_assert_int_eq(s->tdp_b, 0);
	ck_assert_int_eq(s->group, KVMEXIT_GROUP_REASON);
	ck_assert_uint_eq(s->nr_rows, 9);
	ck_assert_uint_eq(s->nr_top, 5);
	ck_assert_uint_eq(s->top[0].reason, EXC);
	ck_close(s->top[0].change_share, 90000.0 / 115680);
	ck_assert_uint_eq(s->top[1].reason, CR);
	ck_assert_uint_eq(s->top[2].reason, INVLPG);
	ck_assert_uint_eq(s->top[3].reason, EPT);
	ck_close(s->top[3].delta, -5000);
	ck_assert_uint_eq(s->top[4].reason, EXTINT);
	/* categories: without details EXCEPTION_NMI stays "exception" */
	ck_assert_uint_eq(s->categories[KVMEXIT_CAT_PAGING].count_a, 5200);
	ck_assert_uint_eq(s->categories[KVMEXIT_CAT_PAGING].count_b, 8000);
	ck_close(s->categories[KVMEXIT_CAT_PAGING].delta, 2800);
	ck_assert_uint_eq(s->categories[KVMEXIT_CAT_EXCEPTION].count_b, 90000);
	ck_assert_uint_eq(s->categories[KVMEXIT_CAT_CR_DR].count_a, 50);
	/* the signature, inexact (no details) */
	ck_assert_int_eq(s->paging.shadow_side, 'B');
	ck_assert(!s->paging.pf_exact && !s->paging.cr3_exact);
	ck_assert_uint_eq(s->paging.pf_b, 90000);
	ck_assert_uint_eq(s->paging.cr3_a, 50);
	ck_assert_uint_eq(s->paging.cr3_b, 12000);
	ck_assert_uint_eq(s->paging.invlpg_b, 8000);
	ck_assert_uint_eq(s->paging.tdp_faults_a, 5200);
	ck_assert_uint_eq(s->paging.tdp_faults_b, 0);
	ck_close(s->paging.cr3_delta, 11950);
	ck_close(s->paging.tdp_faults_delta, -5200);
	/* reversed: A is the shadow side */
	kvmexit_diff_free(d);
	d = diff_of(b, a, NULL);
	ck_assert_int_eq(kvmexit_diff_summary(d)->paging.shadow_side, 'A');
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

/*
 * Verdicts rest on significant changes only: npf 5 -> 0 and one PF excp,
 * both runs labelled npt=1, is noise: no signature, no top rows, nothing
 * significant.  400 #PF and INVLPG exits in B against 206 npf in A are a
 * signature, and B says npt=1: a mislabelled-run warning.  Both are counts over
 * a window (the same basis): rates.
 */
START_TEST(verdicts_need_significance)
{
	static const struct cnt na[] = { S(0x400, 5), S(0x72, 50) };
	static const struct cnt nb[] = { S(0x4e, 1), S(0x72, 52) };
	static const struct cnt ta[] = { S(0x400, 206), S(0x72, 50) };
	static const struct cnt sb[] = { S(0x4e, 400), S(0x79, 400), S(0x72, 50) };
	struct kvmexit_profile *a = mk(na, 2, "AuthenticAMD", "npt", "1", 1);
	struct kvmexit_profile *t = mk(ta, 2, "AuthenticAMD", "npt", "1", 1);
	struct kvmexit_profile *b = mk(nb, 2, "AuthenticAMD", "npt", "1", 1);
	struct kvmexit_profile *c = mk(sb, 3, "AuthenticAMD", "npt", "1", 1);
	struct kvmexit_diff *d = diff_of(a, b, NULL);
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(d);
	const struct kvmexit_diff_warning *w;
	size_t nw;

	ck_assert_int_eq(s->paging.shadow_side, 0);
	ck_assert(!s->paging.pf_significant && !s->paging.tdp_faults_significant);
	ck_assert_uint_eq(s->nr_top, 0);
	ck_assert_uint_eq(s->nr_significant, 0);
	ck_assert(!s->total_significant);
	ck_assert(s->has_rates);
	ck_assert_int_eq(s->basis_a, KVMEXIT_RATE_WINDOW);
	ck_assert_uint_eq(kvmexit_diff_warnings(d, &w), 0);
	kvmexit_diff_free(d);

	d = diff_of(t, c, NULL);
	s = kvmexit_diff_summary(d);
	ck_assert_int_eq(s->paging.shadow_side, 'B');
	ck_assert(s->paging.pf_significant && s->paging.invlpg_significant);
	ck_assert(s->paging.tdp_faults_significant);
	ck_assert_uint_eq(s->nr_significant, 3);	/* PF excp, invlpg, npf */
	ck_assert_uint_eq(s->nr_top, 3);
	nw = kvmexit_diff_warnings(d, &w);
	ck_assert_uint_ge(nw, 1);
	ck_assert_int_eq(w[nw - 1].code, KVMEXIT_DIFF_W_MISLABELLED);
	ck_assert_int_eq(w[nw - 1].side, 'B');
	ck_assert_str_eq(w[nw - 1].message, "B's exits show shadow paging but its metadata says "
			 "npt=1: the run was probably mislabelled");
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
	kvmexit_profile_free(c);
	kvmexit_profile_free(t);
}
END_TEST

/*
 * Rates on different bases: a profile of timed exits (over its exits'
 * span) against counts over a window: no rates, a warning, and
 * normalising by duration is refused.
 */
START_TEST(rate_bases_differ)
{
	static const struct cnt ca[] = { V(HLT, 10) };
	struct kvmexit_profile *a = mk(ca, 1, "GenuineIntel", NULL, NULL, 2);
	struct kvmexit_profile *b;
	struct kvmexit_event ev = { .type = KVMEXIT_EV_EXIT, .pid = 1, .tid = 2 };
	struct kvmexit_diff_opts o = { .sz = sizeof(o), .normalize = KVMEXIT_DIFF_NORM_DURATION };
	const struct kvmexit_diff_warning *w;
	const struct kvmexit_diff_row *rows;
	struct kvmexit_diff *d;
	char err[256];
	size_t nw;

	ck_assert_int_eq(kvmexit_profile_new(&all, &b), 0);
	ev.exit = (struct kvmexit_exit){ .isa = KVMEXIT_ISA_VMX, .exit_reason = HLT };
	for (int i = 0; i < 10; i++) {
		ev.time = 1000 + (uint64_t)i * 100000000;
		ck_assert_int_eq(kvmexit_profile_add_event(b, &ev), 0);
	}
	d = diff_of(a, b, NULL);
	ck_assert(!kvmexit_diff_summary(d)->has_rates);
	ck_assert_int_eq(kvmexit_diff_summary(d)->basis_a, KVMEXIT_RATE_WINDOW);
	ck_assert_int_eq(kvmexit_diff_summary(d)->basis_b, KVMEXIT_RATE_EXIT_SPAN);
	ck_close(kvmexit_diff_summary(d)->duration_b, 0.9);
	ck_assert_uint_eq(kvmexit_diff_rows(d, &rows), 1);
	ck_assert(!rows[0].has_rate);
	nw = kvmexit_diff_warnings(d, &w);
	ck_assert_uint_eq(nw, 2);	/* B has no kvm_entry events; the bases */
	ck_assert_int_eq(w[1].code, KVMEXIT_DIFF_W_RATE_BASIS);
	kvmexit_diff_free(d);
	ck_assert_int_eq(kvmexit_diff_new(a, b, &o, &d, err, sizeof(err)), -KVMEXIT_EMISMATCH);
	ck_assert_str_eq(err, "cannot normalise by duration: A's rates are over its declared "
			 "duration, B's over its exits (first to last); use --normalize total "
			 "or a reason");
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

/* Details from real exits: #PF intercepts and CR3 writes are exact. */
START_TEST(shadow_signature_with_details)
{
	struct kvmexit_exit pf = { .isa = KVMEXIT_ISA_VMX, .exit_reason = EXC, .intr_info = INTR_PF };
	struct kvmexit_exit cr3 = { .isa = KVMEXIT_ISA_VMX, .exit_reason = CR, .info1 = 3 };
	struct kvmexit_exit cr4 = { .isa = KVMEXIT_ISA_VMX, .exit_reason = CR, .info1 = 4 };
	uint32_t kpf = kvmexit_exit_detail(&pf), kcr3 = kvmexit_exit_detail(&cr3);
	uint32_t kcr4 = kvmexit_exit_detail(&cr4);
	const struct cnt ca[] = {
		{ KVMEXIT_ISA_VMX, EPT, 0x10002, 700 }, V(CPUID, 100),
		{ KVMEXIT_ISA_VMX, CR, kcr4, 10 },
	};
	const struct cnt cb[] = {
		{ KVMEXIT_ISA_VMX, EXC, kpf, 900 }, { KVMEXIT_ISA_VMX, CR, kcr3, 300 },
		{ KVMEXIT_ISA_VMX, CR, kcr4, 10 }, V(INVLPG, 50), V(CPUID, 100),
	};
	struct kvmexit_profile *a = mk(ca, 3, "GenuineIntel", "ept", "Y", 0);
	struct kvmexit_profile *b = mk(cb, 5, "GenuineIntel", "ept", "N", 0);
	struct kvmexit_diff_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_DETAIL };
	struct kvmexit_diff *d = diff_of(a, b, &o);
	const struct kvmexit_diff_summary *s = kvmexit_diff_summary(d);
	const struct kvmexit_diff_row *r;
	char name[64];

	ck_assert_int_eq(s->paging.shadow_side, 'B');
	ck_assert(s->paging.pf_exact && s->paging.cr3_exact);
	ck_assert_uint_eq(s->paging.pf_b, 900);
	ck_assert_uint_eq(s->paging.cr3_b, 300);
	ck_assert_uint_eq(s->paging.cr3_a, 0);
	ck_assert_uint_eq(s->paging.tdp_faults_a, 700);
	/* #PF and CR3 roll up into paging; CR4 stays cr-dr */
	ck_assert_uint_eq(s->categories[KVMEXIT_CAT_PAGING].count_a, 700);
	ck_assert_uint_eq(s->categories[KVMEXIT_CAT_PAGING].count_b, 1250);
	ck_assert_uint_eq(s->categories[KVMEXIT_CAT_CR_DR].count_b, 10);
	r = find(d, KVMEXIT_ISA_VMX, EXC, kpf);
	ck_assert_int_eq(r->category, KVMEXIT_CAT_PAGING);
	ck_assert_int_eq(kvmexit_diff_row_name(r, name, sizeof(name)), 17);
	ck_assert_str_eq(name, "EXCEPTION_NMI/#PF");
	r = find(d, KVMEXIT_ISA_VMX, CR, kcr4);
	ck_assert_int_eq(r->change, KVMEXIT_DIFF_SAME);
	kvmexit_diff_row_name(r, name, sizeof(name));
	ck_assert_str_eq(name, "CR_ACCESS/mov-to-cr4");
	/* grouping by reason merges the details */
	kvmexit_diff_free(d);
	d = diff_of(a, b, NULL);
	r = find(d, KVMEXIT_ISA_VMX, CR, 0);
	ck_assert_uint_eq(r->count_a, 10);
	ck_assert_uint_eq(r->count_b, 310);
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

static const struct cnt sa[] = { V(CPUID, 100), V(HLT, 50), V(IO, 10), V(EPT, 1) };
static const struct cnt sb[] = { V(CPUID, 200), V(HLT, 40), V(IO, 0), V(EPT, 30), V(INVLPG, 5) };

static void expect_order(struct kvmexit_profile *a, struct kvmexit_profile *b,
			 enum kvmexit_diff_sort sort, const uint32_t *want, size_t n)
{
	struct kvmexit_diff_opts o = { .sz = sizeof(o), .sort = sort };
	struct kvmexit_diff *d = diff_of(a, b, &o);
	const struct kvmexit_diff_row *rows;

	ck_assert_uint_eq(kvmexit_diff_rows(d, &rows), n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(rows[i].reason == want[i], "sort %d row %zu: %u, expected %u",
			      sort, i, rows[i].reason, want[i]);
	kvmexit_diff_free(d);
}

START_TEST(sort_orders)
{
	struct kvmexit_profile *a = mk(sa, 4, "GenuineIntel", NULL, NULL, 1);
	struct kvmexit_profile *b = mk(sb, 5, "GenuineIntel", NULL, NULL, 4);
	/* deltas: CPUID +100, EPT +29, HLT -10, IO -10 (gone), INVLPG +5 (new) */
	const uint32_t delta[] = { CPUID, EPT, HLT, IO, INVLPG };
	/*
	 * |log ratio|: new/gone first, larger first (IO 10 gone, INVLPG 5 new),
	 * then EPT x30, CPUID x2, HLT x0.8
	 */
	const uint32_t ratio[] = { IO, INVLPG, EPT, CPUID, HLT };
	/* rates A/s vs B/s: CPUID 100->50, HLT 50->10, IO 10->0, EPT 1->7.5, INVLPG 0->1.25 */
	const uint32_t rate[] = { CPUID, HLT, IO, EPT, INVLPG };
	const uint32_t name[] = { CPUID, EPT, HLT, INVLPG, IO };

	expect_order(a, b, KVMEXIT_DIFF_SORT_DELTA, delta, 5);
	expect_order(a, b, KVMEXIT_DIFF_SORT_RATIO, ratio, 5);
	expect_order(a, b, KVMEXIT_DIFF_SORT_RATE, rate, 5);
	expect_order(a, b, KVMEXIT_DIFF_SORT_NAME, name, 5);
	/* no times: TIME sorts by key */
	const uint32_t bykey[] = { CPUID, HLT, INVLPG, IO, EPT };
	expect_order(a, b, KVMEXIT_DIFF_SORT_TIME, bykey, 5);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

START_TEST(min_count_and_top)
{
	struct kvmexit_profile *a = mk(sa, 4, "GenuineIntel", NULL, NULL, 0);
	struct kvmexit_profile *b = mk(sb, 5, "GenuineIntel", NULL, NULL, 0);
	struct kvmexit_diff_opts o = { .sz = sizeof(o), .min_count = 30 };
	struct kvmexit_diff *d = diff_of(a, b, &o);
	const struct kvmexit_diff_row *rows;

	/* IO (10/0) and INVLPG (0/5) hidden; EPT (1/30) stays */
	ck_assert_uint_eq(kvmexit_diff_rows(d, &rows), 3);
	ck_assert_uint_eq(rows[0].reason, CPUID);
	ck_assert_uint_eq(rows[1].reason, EPT);
	ck_assert_uint_eq(rows[2].reason, HLT);
	ck_assert_uint_eq(kvmexit_diff_summary(d)->nr_rows, 5);
	kvmexit_diff_free(d);
	o = (struct kvmexit_diff_opts){ .sz = sizeof(o), .top = 2 };
	d = diff_of(a, b, &o);
	ck_assert_uint_eq(kvmexit_diff_rows(d, &rows), 2);
	ck_assert_uint_eq(rows[1].reason, EPT);
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

START_TEST(normalisations)
{
	struct kvmexit_profile *a = mk(sa, 4, "GenuineIntel", NULL, NULL, 10);
	struct kvmexit_profile *b = mk(sb, 5, "GenuineIntel", NULL, NULL, 12.5);
	struct kvmexit_diff_opts o = { .sz = sizeof(o), .normalize = KVMEXIT_DIFF_NORM_DURATION };
	struct kvmexit_diff *d = diff_of(a, b, &o);
	const struct kvmexit_diff_row *r;

	/* duration: scale 10 / 12.5 = 0.8 */
	ck_close(kvmexit_diff_summary(d)->scale, 0.8);
	r = find(d, KVMEXIT_ISA_VMX, CPUID, 0);
	ck_close(r->scaled_b, 160);
	ck_close(r->delta, 60);
	ck_close(r->ratio, 1.6);
	ck_close(r->p_value, kvmexit_diff_poisson_test(100, 200, 10, 12.5));
	r = find(d, KVMEXIT_ISA_VMX, HLT, 0);
	ck_close(r->delta, -18);
	ck_close(kvmexit_diff_summary(d)->total_b_scaled, 275 * 0.8);
	kvmexit_diff_free(d);

	/* total: 161 vs 275 exits */
	o.normalize = KVMEXIT_DIFF_NORM_TOTAL;
	d = diff_of(a, b, &o);
	ck_close(kvmexit_diff_summary(d)->scale, 161.0 / 275);
	ck_close(kvmexit_diff_summary(d)->total_delta, 0);
	r = find(d, KVMEXIT_ISA_VMX, CPUID, 0);
	ck_close(r->scaled_b, 200 * 161.0 / 275);
	kvmexit_diff_free(d);

	/* by a reason: CPUID 100 vs 200 */
	o.normalize = KVMEXIT_DIFF_NORM_REASON;
	o.norm_reason = CPUID;
	d = diff_of(a, b, &o);
	ck_close(kvmexit_diff_summary(d)->scale, 0.5);
	r = find(d, KVMEXIT_ISA_VMX, CPUID, 0);
	ck_assert_int_eq(r->change, KVMEXIT_DIFF_SAME);
	ck_close(r->p_value, 1);
	r = find(d, KVMEXIT_ISA_VMX, EPT, 0);
	ck_close(r->scaled_b, 15);
	ck_close(r->delta, 14);
	/* exposures 100 vs 200: p = P(1 of 31 at 1/3) two-sided */
	ck_close(r->p_value, kvmexit_diff_poisson_test(1, 30, 100, 200));
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

START_TEST(normalisation_errors)
{
	struct kvmexit_profile *a = mk(sa, 4, "GenuineIntel", NULL, NULL, 10);
	struct kvmexit_profile *b = mk(sb, 5, "GenuineIntel", NULL, NULL, 0);
	struct kvmexit_diff_opts o = { .sz = sizeof(o), .normalize = KVMEXIT_DIFF_NORM_DURATION };
	struct kvmexit_diff *d = (void *)1;
	char err[256];

	ck_assert_int_eq(kvmexit_diff_new(a, b, &o, &d, err, sizeof(err)), -KVMEXIT_EMISMATCH);
	ck_assert_ptr_null(d);
	ck_assert_str_eq(err, "cannot normalise by duration: B's duration is unknown "
			      "(a count table gives it with '# duration: SECONDS')");
	o.normalize = KVMEXIT_DIFF_NORM_REASON;
	o.norm_reason = INVLPG;
	ck_assert_int_eq(kvmexit_diff_new(a, b, &o, &d, err, sizeof(err)), -KVMEXIT_EMISMATCH);
	ck_assert_str_eq(err, "cannot normalise by INVLPG: A has no INVLPG exits");
	o.normalize = 42;
	ck_assert_int_eq(kvmexit_diff_new(a, b, &o, &d, err, sizeof(err)), -EINVAL);
	o = (struct kvmexit_diff_opts){ .sz = sizeof(o), .group = KVMEXIT_GROUP_VCPU };
	ck_assert_int_eq(kvmexit_diff_new(a, b, &o, &d, err, sizeof(err)), -EINVAL);
	/* an older, shorter opts struct is fine */
	o = (struct kvmexit_diff_opts){ .sz = offsetof(struct kvmexit_diff_opts, sort),
					.normalize = KVMEXIT_DIFF_NORM_TOTAL };
	ck_assert_int_eq(kvmexit_diff_new(a, b, &o, &d, err, sizeof(err)), 0);
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

static struct kvmexit_profile *timed(uint64_t handling_ns, int n_cpuid, int n_hlt, bool entries,
				     uint64_t lost)
{
	struct kvmexit_profile *p;
	struct kvmexit_meta m = { 0 };
	uint64_t t = 1000000;

	ck_assert_int_eq(kvmexit_profile_new(&all, &p), 0);
	snprintf(m.vendor, sizeof(m.vendor), "GenuineIntel");
	snprintf(m.kvm_module, sizeof(m.kvm_module), "kvm_intel");
	snprintf(m.osrelease, sizeof(m.osrelease), entries ? "6.1.0" : "6.18.0");
	m.isa = KVMEXIT_ISA_VMX;
	kvmexit_profile_set_meta(p, &m);
	for (int i = 0; i < n_cpuid + n_hlt; i++) {
		struct kvmexit_event ev = {
			.type = KVMEXIT_EV_EXIT, .time = t, .pid = 1, .tid = 101, .vcpu = 1,
			.exit = { .isa = KVMEXIT_ISA_VMX,
				  .exit_reason = i < n_cpuid ? CPUID : HLT },
		};

		ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
		ev = (struct kvmexit_event){ .type = KVMEXIT_EV_ENTRY, .pid = 1, .tid = 101,
					     .vcpu = 1,
					     .time = t + handling_ns * (i < n_cpuid ? 1 : 10) };
		if (entries)
			ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
		t += 100000;
	}
	if (lost) {
		struct kvmexit_event ev = { .type = KVMEXIT_EV_LOST, .time = t, .lost.count = lost };

		ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
	}
	return p;
}

START_TEST(times_and_time_sort)
{
	struct kvmexit_profile *a = timed(1000, 4, 2, true, 0);
	struct kvmexit_profile *b = timed(3000, 4, 1, true, 0);
	struct kvmexit_diff_opts o = { .sz = sizeof(o), .sort = KVMEXIT_DIFF_SORT_TIME };
	struct kvmexit_diff *d = diff_of(a, b, &o);
	const struct kvmexit_diff_row *rows;

	ck_assert_uint_eq(kvmexit_diff_rows(d, &rows), 2);
	/* handling time: CPUID 4 x 1us -> 4 x 3us (+8us); HLT 2 x 10us -> 1 x 30us (+10us) */
	ck_assert_uint_eq(rows[0].reason, HLT);
	ck_assert(rows[0].has_time_a && rows[0].has_time_b);
	ck_close(rows[0].avg_ns_a, 10000);
	ck_close(rows[0].avg_ns_b, 30000);
	ck_assert_uint_eq(rows[1].reason, CPUID);
	ck_close(rows[1].avg_ns_a, 1000);
	ck_close(rows[1].avg_ns_b, 3000);
	ck_assert(!has_warning(d, KVMEXIT_DIFF_W_NO_TIMES, 0, 0));
	ck_assert(!has_warning(d, KVMEXIT_DIFF_W_NO_TIMES, 'B', 0));
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

START_TEST(warnings_captures)
{
	struct kvmexit_profile *a = timed(1000, 4, 2, true, 0);
	struct kvmexit_profile *b = timed(1000, 4, 2, false, 17);
	struct kvmexit_diff *d = diff_of(a, b, NULL);
	const struct kvmexit_diff_row *r;

	ck_assert(has_warning(d, KVMEXIT_DIFF_W_NO_TIMES, 'B', 0));
	ck_assert(has_warning(d, KVMEXIT_DIFF_W_LOST, 'B', 17));
	ck_assert(has_warning(d, KVMEXIT_DIFF_W_KERNEL, 0, 0));
	ck_assert(!has_warning(d, KVMEXIT_DIFF_W_LOST, 'A', 0));
	r = find(d, KVMEXIT_ISA_VMX, CPUID, 0);
	ck_assert(r->has_time_a && !r->has_time_b);
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

START_TEST(warnings_labels)
{
	/* ept=N with EPT violations, ept=Y with INVLPG */
	const struct cnt ca[] = { V(EPT, 5), V(CPUID, 10) };
	const struct cnt cb[] = { V(INVLPG, 7), V(CPUID, 10) };
	struct kvmexit_profile *a = mk(ca, 2, "GenuineIntel", "ept", "N", 0);
	struct kvmexit_profile *b = mk(cb, 2, "GenuineIntel", "ept", "Y", 0);
	struct kvmexit_profile *e = mk(NULL, 0, "GenuineIntel", NULL, NULL, 1);
	struct kvmexit_diff *d = diff_of(a, b, NULL);
	const struct kvmexit_diff_warning *w;

	ck_assert(has_warning(d, KVMEXIT_DIFF_W_TDP_FAULTS, 'A', 5));
	ck_assert(has_warning(d, KVMEXIT_DIFF_W_SHADOW_EXITS, 'B', 7));
	ck_assert_uint_eq(kvmexit_diff_warnings(d, &w), 2);
	ck_assert_str_eq(w[0].message, "A has 5 EPT_VIOLATION/EPT_MISCONFIG exits although it "
				       "was taken with ept=off: are its labels right?");
	ck_assert_str_eq(w[1].message, "B has unexpected exits for ept=on: 7 INVLPG, 0 CR3 writes "
				       "(possible with unrestricted_guest off, in real mode, or nested)");
	kvmexit_diff_free(d);
	/* an empty side; the other's duration alone */
	d = diff_of(a, e, NULL);
	ck_assert(has_warning(d, KVMEXIT_DIFF_W_EMPTY, 'B', 0));
	ck_assert(has_warning(d, KVMEXIT_DIFF_W_NO_DURATION, 'A', 0));
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
	kvmexit_profile_free(e);
}
END_TEST

START_TEST(vendors_by_category)
{
	const struct cnt ca[] = { V(EPT, 100), V(IO, 50), V(CPUID, 10) };
	const struct cnt cb[] = { S(0x400, 150), S(0x07b, 50), S(0x072, 10), S(0x04e, 5) };
	struct kvmexit_profile *a = mk(ca, 3, "GenuineIntel", "ept", "Y", 0);
	struct kvmexit_profile *b = mk(cb, 4, "AuthenticAMD", "npt", "1", 0);
	struct kvmexit_diff *d = diff_of(a, b, NULL);
	struct kvmexit_diff_opts o = { .sz = sizeof(o), .normalize = KVMEXIT_DIFF_NORM_REASON,
				       .norm_reason = CPUID };
	const struct kvmexit_diff_row *rows, *r;
	struct kvmexit_diff *bad;
	char err[256];

	ck_assert(has_warning(d, KVMEXIT_DIFF_W_VENDOR, 0, 0));
	ck_assert_int_eq(kvmexit_diff_summary(d)->group, KVMEXIT_GROUP_CATEGORY);
	ck_assert_uint_eq(kvmexit_diff_rows(d, &rows), 3);
	r = find(d, KVMEXIT_ISA_UNKNOWN, KVMEXIT_CAT_PAGING, 0);
	ck_assert_uint_eq(r->count_a, 100);
	ck_assert_uint_eq(r->count_b, 155);
	ck_assert_int_eq(r->category, KVMEXIT_CAT_PAGING);
	r = find(d, KVMEXIT_ISA_UNKNOWN, KVMEXIT_CAT_IO, 0);
	ck_assert_int_eq(r->change, KVMEXIT_DIFF_SAME);
	char name[32];

	kvmexit_diff_row_name(r, name, sizeof(name));
	ck_assert_str_eq(name, "io");
	ck_assert_int_eq(kvmexit_diff_new(a, b, &o, &bad, err, sizeof(err)), -KVMEXIT_EMISMATCH);
	kvmexit_diff_free(d);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("diff");

	tcase_add_test(tc, poisson_test_exact);
	tcase_add_test(tc, rows_every_column);
	tcase_add_test(tc, summary_and_shadow_signature);
	tcase_add_test(tc, shadow_signature_with_details);
	tcase_add_test(tc, verdicts_need_significance);
	tcase_add_test(tc, rate_bases_differ);
	tcase_add_test(tc, sort_orders);
	tcase_add_test(tc, min_count_and_top);
	tcase_add_test(tc, normalisations);
	tcase_add_test(tc, normalisation_errors);
	tcase_add_test(tc, times_and_time_sort);
	tcase_add_test(tc, warnings_captures);
	tcase_add_test(tc, warnings_labels);
	tcase_add_test(tc, vendors_by_category);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
