// SPDX-License-Identifier: GPL-2.0-only
/*
 * Part profiles and their merge (kx_profile_set_part(), kx_profile_merge()):
 * for event sequences from a seeded generator, split anywhere (in two and
 * in three), with each kind of filter, the merged profile equals the
 * profile of the whole sequence in every row, total and RIP; and hand-made
 * cases at the split with exact numbers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-skip.h"
#include "internal.h"

enum { EXC = 0, CPUID = 10, HLT = 12, IO = 30, EPT = 48 };
enum { SVM_HLT = 0x78, SVM_NPF = 0x400 };
#define INTR_PF 0x80000b0eu	/* valid, hardware exception, #PF */
#define INTR_UD 0x80000306u	/* valid, hardware exception, #UD */
#define VMX_FAILED_ENTRY_33 (0x80000000u | 33)

static const struct kvmexit_meta meta = { .isa = KVMEXIT_ISA_VMX };

/* A sequence of events. */
struct seq {
	struct kvmexit_event ev[512];
	size_t nr;
};

static struct kvmexit_event *seq_add(struct seq *s, enum kvmexit_event_type type, uint64_t t,
				     int32_t tid)
{
	struct kvmexit_event *ev;

	if (s->nr >= KX_ARRAY_SIZE(s->ev))
		ck_abort_msg("too many events");
	ev = &s->ev[s->nr++];
	*ev = (struct kvmexit_event){
		.type = type, .time = t, .tid = tid, .pid = 1, .vcpu = (uint32_t)(tid - 100),
	};
	return ev;
}

/* A VMX exit of thread tid (vCPU tid - 100 of pid 1). */
static void ex(struct seq *s, uint64_t t, int32_t tid, uint32_t reason)
{
	struct kvmexit_event *ev = seq_add(s, KVMEXIT_EV_EXIT, t, tid);

	ev->exit.isa = KVMEXIT_ISA_VMX;
	ev->exit.exit_reason = reason;
}

static void en(struct seq *s, uint64_t t, int32_t tid)
{
	seq_add(s, KVMEXIT_EV_ENTRY, t, tid);
}

static void lost(struct seq *s, uint64_t t, uint64_t n)
{
	seq_add(s, KVMEXIT_EV_LOST, t, -1)->lost.count = n;
}

/* A deterministic generator (64-bit LCG, high bits). */
static uint32_t rnd(uint64_t *state, uint32_t n)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*state >> 33) % n;
}

/* A random exit: VMX reasons with details, SVM, no ISA (the meta's), flags. */
static void gen_exit(uint64_t *r, struct kvmexit_exit *x)
{
	static const uint64_t ept_qual[] = { 0x1, 0x2, 0x4, 0x9, 0xa, 0x181 };
	static const uint64_t rips[] = { 0x1000, 0x1004, 0x2000, 0x2008, 0x3000, 0xffff8000 };

	*x = (struct kvmexit_exit){ .isa = KVMEXIT_ISA_VMX, .guest_rip = rips[rnd(r, 6)] };
	switch (rnd(r, 10)) {
	case 0:
		x->exit_reason = HLT;
		break;
	case 1:
		x->exit_reason = CPUID;
		break;
	case 2:
	case 3:
		x->exit_reason = EPT;
		x->info1 = ept_qual[rnd(r, 6)];
		break;
	case 4:
		x->exit_reason = IO;
		x->info1 = (rnd(r, 2) ? 0x8 : 0) | (uint64_t)(rnd(r, 2) ? 0x3f8 : 0x70) << 16;
		break;
	case 5:
		x->exit_reason = EXC;
		x->intr_info = rnd(r, 2) ? INTR_PF : INTR_UD;
		break;
	case 6:
		x->isa = KVMEXIT_ISA_SVM;
		x->exit_reason = rnd(r, 2) ? SVM_HLT : SVM_NPF;
		x->info1 = rnd(r, 4);
		break;
	case 7:
		x->isa = KVMEXIT_ISA_UNKNOWN;	/* the meta's: VMX */
		x->exit_reason = HLT;
		break;
	case 8:
		x->exit_reason = VMX_FAILED_ENTRY_33;
		break;
	default:
		x->exit_reason = HLT | 1u << 27;	/* a flag on a basic reason */
	}
}

/*
 * n events of 7 threads (tids 100-105 and 164, which shares a tid-cache
 * slot with 100: pids 1 and 2, vCPUs 0-5 and 64; tid 105 moves between the
 * pids, tid 104 changes its vCPU id once): exits,
 * entries (some before any exit of their thread, some earlier than their
 * exit), exit-exit, lost records (some of 0 records), other events.
 */
static void gen(struct seq *s, uint64_t seed, size_t n)
{
	uint64_t r = seed, t = 1000;

	s->nr = 0;
	while (s->nr < n) {
		int32_t tid = 100 + (int32_t)rnd(&r, 7);
		uint32_t k = rnd(&r, 100);
		struct kvmexit_event *ev;

		if (tid == 106)
			tid = 164;
		t += rnd(&r, 60);
		if (k < 4) {
			lost(s, t, rnd(&r, 4));
			continue;
		}
		if (k < 48)
			ev = seq_add(s, KVMEXIT_EV_EXIT, t, tid);
		else if (k < 88)
			ev = seq_add(s, KVMEXIT_EV_ENTRY, rnd(&r, 8) ? t : t - rnd(&r, 200), tid);
		else
			ev = seq_add(s, KVMEXIT_EV_USERSPACE_EXIT + rnd(&r, 4), t, tid);
		ev->pid = tid < 103 || tid == 164 ? 1 : 2;
		if (tid == 105)
			ev->pid = 1 + (int32_t)rnd(&r, 2);
		if (tid == 104 && s->nr > n / 2)
			ev->vcpu = 7;
		if (ev->type == KVMEXIT_EV_EXIT)
			gen_exit(&r, &ev->exit);
	}
}

/* The profile of events [from, to) of s, a part profile or not. */
static struct kvmexit_profile *profile_of(const struct seq *s, size_t from, size_t to,
					  const struct kvmexit_profile_opts *o, bool part)
{
	struct kvmexit_profile *p;

	if (kvmexit_profile_new(o, &p))
		ck_abort_msg("cannot make a profile");
	kvmexit_profile_set_meta(p, &meta);
	if (part)
		kx_profile_set_part(p);
	for (size_t i = from; i < to; i++)
		if (kvmexit_profile_add_event(p, &s->ev[i]))
			ck_abort_msg("cannot add event %zu", i);
	return p;
}

/* The profile of s made of parts [0, cut[0]), [cut[0], cut[1]), ... merged. */
static struct kvmexit_profile *merged(const struct seq *s, const size_t *cut, size_t nr_cuts,
				      const struct kvmexit_profile_opts *o)
{
	struct kvmexit_profile *p = profile_of(s, 0, nr_cuts ? cut[0] : s->nr, o, false);

	for (size_t i = 0; i < nr_cuts; i++) {
		size_t end = i + 1 < nr_cuts ? cut[i + 1] : s->nr;
		struct kvmexit_profile *part = profile_of(s, cut[i], end, o, true);

		if (kx_profile_merge(p, part))
			ck_abort_msg("cannot merge the part at %zu", cut[i]);
		kvmexit_profile_free(part);
	}
	return p;
}

/*
 * The comparisons below run millions of times: they call Check only when
 * they fail (each passing ck_assert() writes to Check's pipe).
 */
#define SAME(field, what)							\
	do {									\
		if (a->field != b->field)					\
			ck_abort_msg("%s: " #field " %llu != %llu", what,	\
				     (unsigned long long)a->field,		\
				     (unsigned long long)b->field);		\
	} while (0)

static void same_stat(const struct kvmexit_stat *a, const struct kvmexit_stat *b,
		      const char *what)
{
	SAME(isa, what);
	SAME(reason, what);
	SAME(detail, what);
	SAME(vcpu, what);
	SAME(pid, what);
	SAME(count, what);
	SAME(timed, what);
	SAME(time_total, what);
	SAME(time_min, what);
	SAME(time_max, what);
	SAME(time_p50, what);
	SAME(time_p99, what);
	SAME(time_avg, what);
	SAME(time_stddev, what);
}

static void same_totals(const struct kvmexit_profile_totals *a,
			const struct kvmexit_profile_totals *b, const char *what)
{
	SAME(events, what);
	SAME(exits, what);
	SAME(entries, what);
	SAME(timed, what);
	SAME(dropped_pairs, what);
	SAME(unpaired, what);
	SAME(lost, what);
	SAME(other_events, what);
	SAME(time_total_ns, what);
	SAME(first_ns, what);
	SAME(last_ns, what);
	SAME(duration_ns, what);
	SAME(nr_vcpus, what);
	SAME(nr_pids, what);
	SAME(isa, what);
}

static void same_rips(const struct kvmexit_profile *pa, const struct kvmexit_profile *pb,
		      const struct kvmexit_stat *row, const char *what)
{
	struct kvmexit_rip ra[64], rb[64];
	size_t na = kvmexit_profile_top_rips(pa, row->isa, row->reason, ra, 64);
	size_t nb = kvmexit_profile_top_rips(pb, row->isa, row->reason, rb, 64);

	if (na != nb)
		ck_abort_msg("%s: %zu != %zu RIPs of reason %u", what, na, nb, row->reason);
	for (size_t i = 0; i < na; i++) {
		const struct kvmexit_rip *a = &ra[i], *b = &rb[i];

		SAME(rip, what);
		SAME(count, what);
	}
}

/* Every row of every grouping, every total and every RIP of a and b agree. */
static void same_profiles(const struct kvmexit_profile *a, const struct kvmexit_profile *b,
			  const char *what)
{
	static const enum kvmexit_group groups[] = {
		KVMEXIT_GROUP_REASON, KVMEXIT_GROUP_DETAIL, KVMEXIT_GROUP_VCPU,
		KVMEXIT_GROUP_PID, KVMEXIT_GROUP_CATEGORY,
	};
	struct kvmexit_profile_totals ta, tb;

	for (size_t g = 0; g < KX_ARRAY_SIZE(groups); g++) {
		struct kvmexit_stat *ra, *rb;
		int na = kvmexit_profile_stats(a, groups[g], &ra);
		int nb = kvmexit_profile_stats(b, groups[g], &rb);

		if (na < 0 || na != nb)
			ck_abort_msg("%s: group %d: %d != %d rows", what, (int)groups[g], na, nb);
		for (int i = 0; i < na; i++) {
			same_stat(&ra[i], &rb[i], what);
			if (groups[g] == KVMEXIT_GROUP_REASON)
				same_rips(a, b, &ra[i], what);
		}
		kvmexit_stats_free(ra);
		kvmexit_stats_free(rb);
	}
	kvmexit_profile_totals(a, &ta);
	kvmexit_profile_totals(b, &tb);
	same_totals(&ta, &tb, what);
}

/* The filters the generated sequences are checked with. */
static const struct {
	const char *name;
	struct kvmexit_profile_opts o;
} filters[] = {
	{ "none", { .sz = sizeof(struct kvmexit_profile_opts), .top_rips = 8 } },
	{ "pid 2", { .sz = sizeof(struct kvmexit_profile_opts), .has_pid = true, .pid = 2 } },
	{ "vcpu 4", { .sz = sizeof(struct kvmexit_profile_opts), .has_vcpu = true, .vcpu = 4,
		      .top_rips = 8 } },
	{ "reason VMX 12", { .sz = sizeof(struct kvmexit_profile_opts), .has_reason = true,
			     .reason_isa = KVMEXIT_ISA_VMX, .reason = HLT } },
	{ "reason 48, any ISA", { .sz = sizeof(struct kvmexit_profile_opts), .has_reason = true,
				  .reason = EPT, .top_rips = 8 } },
	{ "reason hlt", { .sz = sizeof(struct kvmexit_profile_opts), .reason_name = "hlt" } },
	{ "pid 1 vcpu 5 reason hlt", { .sz = sizeof(struct kvmexit_profile_opts),
				       .has_pid = true, .pid = 1, .has_vcpu = true, .vcpu = 5,
				       .reason_name = "hlt", .top_rips = 8 } },
};

#define NR_EVENTS 240
static struct seq gseq;

/* The generated sequence has what the merge must settle. */
START_TEST(test_generator)
{
	struct kvmexit_profile *p;
	struct kvmexit_profile_totals t;
	size_t early = 0, nr_lost = 0;

	gen(&gseq, 1, NR_EVENTS);
	p = profile_of(&gseq, 0, gseq.nr, &filters[0].o, false);
	kvmexit_profile_totals(p, &t);
	for (size_t i = 0; i < gseq.nr; i++)
		nr_lost += gseq.ev[i].type == KVMEXIT_EV_LOST;
	ck_assert_uint_gt(nr_lost, 3);
	ck_assert_uint_eq(t.events, gseq.nr - nr_lost);
	ck_assert_uint_gt(t.timed, 20);
	ck_assert_uint_gt(t.unpaired, 5);
	ck_assert_uint_gt(t.dropped_pairs, 2);
	ck_assert_uint_gt(t.other_events, 5);
	ck_assert_uint_eq(t.nr_pids, 2);
	ck_assert_uint_eq(t.isa, KVMEXIT_ISA_UNKNOWN);	/* VMX and SVM */
	for (size_t i = 1; i < gseq.nr; i++)
		early += gseq.ev[i].time < gseq.ev[i - 1].time;
	ck_assert_uint_gt(early, 3);
	kvmexit_profile_free(p);
}
END_TEST

/* Every split in two, with filter _i. */
START_TEST(test_split_two)
{
	const struct kvmexit_profile_opts *o = &filters[_i].o;
	struct kvmexit_profile *whole;
	char what[96];

	gen(&gseq, 1, NR_EVENTS);
	whole = profile_of(&gseq, 0, gseq.nr, o, false);
	for (size_t k = 0; k <= gseq.nr; k++) {
		struct kvmexit_profile *m = merged(&gseq, &k, 1, o);

		snprintf(what, sizeof(what), "filter %s, split at %zu", filters[_i].name, k);
		same_profiles(whole, m, what);
		kvmexit_profile_free(m);
	}
	kvmexit_profile_free(whole);
}
END_TEST

/* Splits in three (p0 += p1; p0 += p2), with filter _i, other seeds. */
START_TEST(test_split_three)
{
	const struct kvmexit_profile_opts *o = &filters[_i].o;
	char what[96];

	for (uint64_t seed = 2; seed < 5; seed++) {
		struct kvmexit_profile *whole;

		gen(&gseq, seed, NR_EVENTS);
		whole = profile_of(&gseq, 0, gseq.nr, o, false);
		for (size_t i = 0; i <= gseq.nr; i += 7) {
			for (size_t j = i; j <= gseq.nr; j += 11) {
				size_t cut[2] = { i, j };
				struct kvmexit_profile *m = merged(&gseq, cut, 2, o);

				snprintf(what, sizeof(what), "filter %s, seed %llu, splits at %zu, %zu",
					 filters[_i].name, (unsigned long long)seed, i, j);
				same_profiles(whole, m, what);
				kvmexit_profile_free(m);
			}
		}
		kvmexit_profile_free(whole);
	}
}
END_TEST

/* Many parts: every 16 events a new one. */
START_TEST(test_split_many)
{
	struct kvmexit_profile *whole, *m;
	size_t cut[NR_EVENTS / 16];

	gen(&gseq, 7, NR_EVENTS);
	for (size_t i = 0; i < KX_ARRAY_SIZE(cut); i++)
		cut[i] = (i + 1) * 16;
	whole = profile_of(&gseq, 0, gseq.nr, &filters[0].o, false);
	m = merged(&gseq, cut, KX_ARRAY_SIZE(cut), &filters[0].o);
	same_profiles(whole, m, "parts of 16 events");
	kvmexit_profile_free(m);
	kvmexit_profile_free(whole);
}
END_TEST

/* Hand-made sequences, split at the given points. */
static struct seq hs;
static struct kvmexit_profile *hm;
static struct kvmexit_profile_totals ht;
static struct kvmexit_stat *hrows;

static const struct kvmexit_profile_opts all = { .sz = sizeof(all) };

/* Merges hs at cuts, checks it against the whole, fills ht and hrows (by reason). */
static int merge_hs(const size_t *cut, size_t nr_cuts)
{
	struct kvmexit_profile *whole = profile_of(&hs, 0, hs.nr, &all, false);
	int n;

	hm = merged(&hs, cut, nr_cuts, &all);
	same_profiles(whole, hm, "hand-made");
	kvmexit_profile_free(whole);
	kvmexit_profile_totals(hm, &ht);
	n = kvmexit_profile_stats(hm, KVMEXIT_GROUP_REASON, &hrows);
	ck_assert_int_ge(n, 0);
	return n;
}

static void hand_setup(void)
{
	memset(&hs, 0, sizeof(hs));
}

static void hand_teardown(void)
{
	kvmexit_stats_free(hrows);
	hrows = NULL;
	kvmexit_profile_free(hm);
	hm = NULL;
}

static void check_row(const struct kvmexit_stat *r, uint32_t reason, uint64_t count,
		      uint64_t timed, uint64_t total, uint64_t min, uint64_t max)
{
	ck_assert_uint_eq(r->reason, reason);
	ck_assert_uint_eq(r->count, count);
	ck_assert_uint_eq(r->timed, timed);
	ck_assert_uint_eq(r->time_total, total);
	ck_assert_uint_eq(r->time_min, min);
	ck_assert_uint_eq(r->time_max, max);
}

/* An exit in the first part, its entry in the second. */
START_TEST(test_pair_straddles)
{
	size_t cut = 1;

	ex(&hs, 100, 100, HLT);
	en(&hs, 130, 100);
	ck_assert_int_eq(merge_hs(&cut, 1), 1);
	check_row(&hrows[0], HLT, 1, 1, 30, 30, 30);
	ck_assert_uint_eq(hrows[0].time_p50, 30);
	ck_assert_uint_eq(ht.events, 2);
	ck_assert_uint_eq(ht.exits, 1);
	ck_assert_uint_eq(ht.entries, 1);
	ck_assert_uint_eq(ht.timed, 1);
	ck_assert_uint_eq(ht.time_total_ns, 30);
	ck_assert_uint_eq(ht.unpaired, 0);
	ck_assert_uint_eq(ht.dropped_pairs, 0);
	ck_assert_uint_eq(ht.first_ns, 100);
	ck_assert_uint_eq(ht.last_ns, 130);
	ck_assert_uint_eq(ht.nr_vcpus, 1);
}
END_TEST

/* A lost record in the second part before the thread's entry drops the pair. */
START_TEST(test_lost_before_entry)
{
	size_t cut = 1;

	ex(&hs, 100, 100, HLT);
	lost(&hs, 110, 3);
	en(&hs, 130, 100);
	ck_assert_int_eq(merge_hs(&cut, 1), 1);
	check_row(&hrows[0], HLT, 1, 0, 0, 0, 0);
	ck_assert_uint_eq(ht.dropped_pairs, 1);
	ck_assert_uint_eq(ht.lost, 3);
	ck_assert_uint_eq(ht.timed, 0);
	ck_assert_uint_eq(ht.entries, 1);
	ck_assert_uint_eq(ht.events, 2);
}
END_TEST

/* A lost record after the thread's entry does not. */
START_TEST(test_lost_after_entry)
{
	size_t cut = 1;

	ex(&hs, 100, 100, HLT);
	en(&hs, 120, 100);
	lost(&hs, 130, 2);
	ck_assert_int_eq(merge_hs(&cut, 1), 1);
	check_row(&hrows[0], HLT, 1, 1, 20, 20, 20);
	ck_assert_uint_eq(ht.dropped_pairs, 0);
	ck_assert_uint_eq(ht.lost, 2);
}
END_TEST

/* A thread absent from the middle part keeps its exit pending through it. */
START_TEST(test_absent_thread)
{
	size_t cut[2] = { 1, 3 };

	ex(&hs, 100, 100, HLT);
	ex(&hs, 105, 101, CPUID);
	en(&hs, 115, 101);
	en(&hs, 200, 100);
	ck_assert_int_eq(merge_hs(cut, 2), 2);
	check_row(&hrows[0], CPUID, 1, 1, 10, 10, 10);
	check_row(&hrows[1], HLT, 1, 1, 100, 100, 100);
	ck_assert_uint_eq(ht.timed, 2);
	ck_assert_uint_eq(ht.dropped_pairs, 0);
	ck_assert_uint_eq(ht.unpaired, 0);
	ck_assert_uint_eq(ht.nr_vcpus, 2);
}
END_TEST

/* ... unless that part has a lost record: then the pair is dropped. */
START_TEST(test_absent_thread_lost)
{
	size_t cut[2] = { 1, 4 };

	ex(&hs, 100, 100, HLT);
	lost(&hs, 110, 1);
	ex(&hs, 120, 101, CPUID);
	en(&hs, 125, 101);
	en(&hs, 200, 100);
	ck_assert_int_eq(merge_hs(cut, 2), 2);
	check_row(&hrows[0], CPUID, 1, 1, 5, 5, 5);
	check_row(&hrows[1], HLT, 1, 0, 0, 0, 0);
	ck_assert_uint_eq(ht.timed, 1);
	ck_assert_uint_eq(ht.dropped_pairs, 1);
	ck_assert_uint_eq(ht.lost, 1);
}
END_TEST

/* Exit, exit (next part), entry: the first stays counted but untimed. */
START_TEST(test_exit_exit_straddles)
{
	size_t cut = 1;

	ex(&hs, 100, 100, HLT);
	ex(&hs, 120, 100, CPUID);
	en(&hs, 150, 100);
	ck_assert_int_eq(merge_hs(&cut, 1), 2);
	check_row(&hrows[0], CPUID, 1, 1, 30, 30, 30);
	check_row(&hrows[1], HLT, 1, 0, 0, 0, 0);
	ck_assert_uint_eq(ht.unpaired, 1);
	ck_assert_uint_eq(ht.timed, 1);
}
END_TEST

/* An entry earlier than the exit before the split: untimed, nothing else. */
START_TEST(test_entry_earlier)
{
	size_t cut = 1;

	ex(&hs, 100, 100, HLT);
	en(&hs, 90, 100);
	en(&hs, 140, 100);		/* nothing pending any more */
	ck_assert_int_eq(merge_hs(&cut, 1), 1);
	check_row(&hrows[0], HLT, 1, 0, 0, 0, 0);
	ck_assert_uint_eq(ht.unpaired, 0);
	ck_assert_uint_eq(ht.dropped_pairs, 0);
	ck_assert_uint_eq(ht.entries, 2);
	ck_assert_uint_eq(ht.first_ns, 90);
	ck_assert_uint_eq(ht.last_ns, 140);
}
END_TEST

/* Empty parts, and parts of lost records only. */
START_TEST(test_empty_parts)
{
	size_t cut[3] = { 0, 0, 2 };

	lost(&hs, 50, 4);
	ex(&hs, 100, 100, HLT);
	lost(&hs, 110, 1);
	en(&hs, 130, 100);
	ck_assert_int_eq(merge_hs(cut, 3), 1);
	check_row(&hrows[0], HLT, 1, 0, 0, 0, 0);
	ck_assert_uint_eq(ht.dropped_pairs, 1);
	ck_assert_uint_eq(ht.lost, 5);
	ck_assert_uint_eq(ht.events, 2);
	ck_assert_uint_eq(ht.first_ns, 100);
}
END_TEST

/* Counted exits (no pid, vCPU or time) add up by key. */
START_TEST(test_counts)
{
	struct kvmexit_profile *a, *b;
	struct kvmexit_stat *rows;

	ck_assert_int_eq(kvmexit_profile_new(&all, &a), 0);
	ck_assert_int_eq(kvmexit_profile_new(&all, &b), 0);
	kx_profile_set_part(b);
	ck_assert_int_eq(kvmexit_profile_add_count(a, KVMEXIT_ISA_VMX, HLT, 0, 5), 0);
	ck_assert_int_eq(kvmexit_profile_add_count(b, KVMEXIT_ISA_VMX, HLT, 0, 3), 0);
	ck_assert_int_eq(kvmexit_profile_add_count(b, KVMEXIT_ISA_SVM, SVM_HLT, 0, 2), 0);
	ck_assert_int_eq(kx_profile_merge(a, b), 0);
	ck_assert_int_eq(kvmexit_profile_stats(a, KVMEXIT_GROUP_VCPU, &rows), 2);
	ck_assert_uint_eq(rows[0].reason, HLT);
	ck_assert_uint_eq(rows[0].count, 8);
	ck_assert_int_eq(rows[0].pid, -1);
	ck_assert_int_eq(rows[0].vcpu, -1);
	ck_assert_uint_eq(rows[1].isa, KVMEXIT_ISA_SVM);
	ck_assert_uint_eq(rows[1].count, 2);
	kvmexit_stats_free(rows);
	kvmexit_profile_totals(a, &ht);
	ck_assert_uint_eq(ht.exits, 10);
	ck_assert_uint_eq(ht.isa, KVMEXIT_ISA_UNKNOWN);
	ck_assert_uint_eq(ht.nr_vcpus, 0);
	ck_assert_uint_eq(ht.nr_pids, 0);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

START_TEST(test_merge_errors)
{
	struct kvmexit_profile_opts pid1 = { .sz = sizeof(pid1), .has_pid = true, .pid = 1 };
	struct kvmexit_profile *a, *b, *c, *d;

	ck_assert_int_eq(kvmexit_profile_new(&all, &a), 0);
	ck_assert_int_eq(kvmexit_profile_new(&all, &b), 0);
	ck_assert_int_eq(kvmexit_profile_new(&pid1, &c), 0);
	ck_assert_int_eq(kvmexit_profile_new(&all, &d), 0);
	kx_profile_set_part(c);
	kx_profile_set_part(d);
	ck_assert_int_eq(kx_profile_merge(a, b), -EINVAL);	/* b is not a part */
	ck_assert_int_eq(kx_profile_merge(d, a), -EINVAL);	/* d is */
	ck_assert_int_eq(kx_profile_merge(a, c), -EINVAL);	/* other filters */
	ck_assert_int_eq(kx_profile_merge(d, d), -EINVAL);
	ck_assert_int_eq(kx_profile_merge(a, d), 0);
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
	kvmexit_profile_free(c);
	kvmexit_profile_free(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("profile-merge");
	TCase *tg = tcase_create("generated");
	TCase *th = tcase_create("hand-made");

	tcase_set_timeout(tg, 120);
	tcase_add_test(tg, test_generator);
	tcase_add_loop_test(tg, test_split_two, 0, (int)KX_ARRAY_SIZE(filters));
	tcase_add_loop_test(tg, test_split_three, 0, (int)KX_ARRAY_SIZE(filters));
	tcase_add_test(tg, test_split_many);
	suite_add_tcase(s, tg);

	tcase_add_checked_fixture(th, hand_setup, hand_teardown);
	tcase_add_test(th, test_pair_straddles);
	tcase_add_test(th, test_lost_before_entry);
	tcase_add_test(th, test_lost_after_entry);
	tcase_add_test(th, test_absent_thread);
	tcase_add_test(th, test_absent_thread_lost);
	tcase_add_test(th, test_exit_exit_straddles);
	tcase_add_test(th, test_entry_earlier);
	tcase_add_test(th, test_empty_parts);
	tcase_add_test(th, test_counts);
	tcase_add_test(th, test_merge_errors);
	suite_add_tcase(s, th);
	return s;
}

int main(void)
{
	return check_run(suite());
}
