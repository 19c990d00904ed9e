// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profiles: hand-built event streams with exact expected counts, pairs,
 * times and percentiles; the histogram's geometry.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { HLT = 12, CPUID = 10, EXC = 0, CR = 28, EPT = 48, IO = 30 };
#define INTR_PF 0x80000b0eu	/* valid, hardware exception, #PF */
#define INTR_UD 0x80000306u	/* valid, hardware exception, #UD */

static struct kvmexit_profile *prof;

/* A zeroed opts (sz set) filters nothing. */
static const struct kvmexit_profile_opts all = { .sz = sizeof(all) };

static void exit_ev(uint64_t t, int pid, int tid, unsigned int cpu, unsigned int vcpu,
		    uint32_t reason, uint32_t intr_info, uint64_t info1, uint64_t rip)
{
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_EXIT, .time = t, .pid = pid, .tid = tid,
		.cpu = cpu, .vcpu = vcpu,
		.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = reason,
			  .intr_info = intr_info, .info1 = info1, .guest_rip = rip },
	};

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

/* A plain exit of vCPU (tid - 100) of pid 1, on CPU 0. */
static void ex(uint64_t t, int tid, uint32_t reason)
{
	exit_ev(t, 1, tid, 0, tid - 100, reason, 0, 0, 0x1000);
}

static void en_cpu(uint64_t t, int tid, unsigned int cpu)
{
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_ENTRY, .time = t, .pid = 1, .tid = tid,
		.cpu = cpu, .vcpu = tid - 100,
	};

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

static void en(uint64_t t, int tid)
{
	en_cpu(t, tid, 0);
}

static void lost(uint64_t t, unsigned int cpu, uint64_t n)
{
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_LOST, .time = t, .cpu = cpu, .lost.count = n,
	};

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

static void setup_opts(const struct kvmexit_profile_opts *o)
{
	ck_assert_int_eq(kvmexit_profile_new(o, &prof), 0);
}

static void setup(void)
{
	setup_opts(&all);
}

static void teardown(void)
{
	kvmexit_profile_free(prof);
	prof = NULL;
}

/* The rows of a grouping; the caller frees them. */
static int rows_of(enum kvmexit_group g, struct kvmexit_stat **rows)
{
	int n = kvmexit_profile_stats(prof, g, rows);

	ck_assert_int_ge(n, 0);
	return n;
}

static void check_row(const struct kvmexit_stat *r, uint32_t reason, uint64_t count,
		      uint64_t timed, uint64_t total, uint64_t min, uint64_t max)
{
	ck_assert_uint_eq(r->isa, KVMEXIT_ISA_VMX);
	ck_assert_uint_eq(r->reason, reason);
	ck_assert_uint_eq(r->count, count);
	ck_assert_uint_eq(r->timed, timed);
	ck_assert_uint_eq(r->time_total, total);
	ck_assert_uint_eq(r->time_min, min);
	ck_assert_uint_eq(r->time_max, max);
}

START_TEST(test_counts_and_times)
{
	struct kvmexit_rate_span span;
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;
	int n;

	ex(1000, 100, HLT);
	en(1100, 100);			/* 100 */
	ex(2000, 100, CPUID);
	en(2040, 100);			/* 40 */
	ex(3000, 100, HLT);
	en(3300, 100);			/* 300 */
	ex(4000, 100, HLT);
	en(4020, 100);			/* 20 */
	n = rows_of(KVMEXIT_GROUP_REASON, &rows);
	ck_assert_int_eq(n, 2);
	check_row(&rows[0], HLT, 3, 3, 420, 20, 300);
	/* 100, 300, 20: mean 140, sqrt(41600 / 3) = 117.76 */
	ck_assert_uint_eq(rows[0].time_avg, 140);
	ck_assert_uint_eq(rows[0].time_stddev, 118);
	ck_assert_int_eq(rows[0].vcpu, -1);
	ck_assert_int_eq(rows[0].pid, -1);
	/* Rank 2 of 3 is 100: bucket [100, 102), midpoint 101. */
	ck_assert_uint_eq(rows[0].time_p50, 101);
	/* Rank 3 is 300: bucket [296, 304), midpoint 300. */
	ck_assert_uint_eq(rows[0].time_p99, 300);
	check_row(&rows[1], CPUID, 1, 1, 40, 40, 40);
	ck_assert_uint_eq(rows[1].time_avg, 40);
	ck_assert_uint_eq(rows[1].time_stddev, 0);
	ck_assert_uint_eq(rows[1].time_p50, 40);
	ck_assert_uint_eq(rows[1].time_p99, 40);
	kvmexit_stats_free(rows);

	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.events, 8);
	ck_assert_uint_eq(t.exits, 4);
	ck_assert_uint_eq(t.entries, 4);
	ck_assert_uint_eq(t.timed, 4);
	ck_assert_uint_eq(t.unpaired, 0);
	ck_assert_uint_eq(t.dropped_pairs, 0);
	ck_assert_uint_eq(t.time_total_ns, 460);
	ck_assert_uint_eq(t.first_ns, 1000);
	ck_assert_uint_eq(t.last_ns, 4020);
	/* Rates are over the exits, first (1000) to last (4000). */
	ck_assert_uint_eq(t.duration_ns, 3000);
	span = (struct kvmexit_rate_span){ .sz = sizeof(span) };
	ck_assert_int_eq(kvmexit_profile_rate_span(prof, &span), 0);
	ck_assert_int_eq(span.basis, KVMEXIT_RATE_EXIT_SPAN);
	ck_assert_uint_eq(span.span_ns, 3000);
	ck_assert_uint_eq(span.first_exit_ns, 1000);
	ck_assert_uint_eq(span.last_exit_ns, 4000);
	ck_assert_uint_eq(span.window_ns, 0);	/* no meta: no window */
	ck_assert_uint_eq(t.nr_vcpus, 1);
	ck_assert_uint_eq(t.nr_pids, 1);
	ck_assert_uint_eq(t.isa, KVMEXIT_ISA_VMX);
}
END_TEST

/* Percentiles are clamped to the exact min and max. */
START_TEST(test_p50_clamped)
{
	struct kvmexit_stat *rows;

	ex(0, 100, HLT);
	en(100, 100);
	ex(1000, 100, HLT);
	en(1100, 100);
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 1);
	/* 100 is in [100, 102), midpoint 101: clamped to max 100. */
	ck_assert_uint_eq(rows[0].time_p50, 100);
	ck_assert_uint_eq(rows[0].time_p99, 100);
	kvmexit_stats_free(rows);
}
END_TEST

START_TEST(test_migrating_thread)
{
	struct kvmexit_stat *rows;

	exit_ev(100, 1, 100, 0, 0, HLT, 0, 0, 0);
	en_cpu(150, 100, 1);		/* entered on another CPU: still 50 */
	exit_ev(200, 1, 100, 1, 0, HLT, 0, 0, 0);
	en_cpu(270, 100, 0);		/* 70 */
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 1);
	check_row(&rows[0], HLT, 2, 2, 120, 50, 70);
	kvmexit_stats_free(rows);
}
END_TEST

START_TEST(test_interleaved_threads)
{
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;

	ex(10, 100, HLT);
	ex(20, 101, CPUID);
	ex(25, 102, HLT);
	en(35, 100);			/* HLT 25 */
	en(50, 101);			/* CPUID 30 */
	en(125, 102);			/* HLT 100 */
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 2);
	check_row(&rows[0], HLT, 2, 2, 125, 25, 100);
	check_row(&rows[1], CPUID, 1, 1, 30, 30, 30);
	kvmexit_stats_free(rows);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.nr_vcpus, 3);
	ck_assert_uint_eq(t.nr_pids, 1);
}
END_TEST

START_TEST(test_exit_exit_entry)
{
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;

	ex(0, 100, CPUID);		/* never entered: counted, untimed */
	ex(10, 100, HLT);
	en(40, 100);			/* HLT 30 */
	en(50, 100);			/* an entry with nothing pending */
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 2);
	check_row(&rows[0], CPUID, 1, 0, 0, 0, 0);
	ck_assert_uint_eq(rows[0].time_p50, 0);
	check_row(&rows[1], HLT, 1, 1, 30, 30, 30);
	kvmexit_stats_free(rows);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.exits, 2);
	ck_assert_uint_eq(t.entries, 2);
	ck_assert_uint_eq(t.timed, 1);
	ck_assert_uint_eq(t.unpaired, 1);
}
END_TEST

START_TEST(test_lost_drops_pending)
{
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;

	ex(0, 100, HLT);
	en(10, 100);			/* 10, before the loss */
	ex(20, 100, HLT);
	ex(25, 101, HLT);
	lost(30, 3, 7);			/* CPU 3 lost 7 records: any thread's */
	en(50, 100);			/* not paired with 20 */
	en(60, 101);			/* not paired with 25 */
	ex(70, 101, HLT);
	en(75, 101);			/* 5, after the loss */
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 1);
	check_row(&rows[0], HLT, 4, 2, 15, 5, 10);
	kvmexit_stats_free(rows);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.dropped_pairs, 2);
	ck_assert_uint_eq(t.lost, 7);
	ck_assert_uint_eq(t.timed, 2);
	ck_assert_uint_eq(t.events, 8);
}
END_TEST

START_TEST(test_percentiles)
{
	struct kvmexit_stat *rows;

	/* 1000, 2000, ..., 100000 ns, in a shuffled order. */
	for (int i = 0; i < 100; i++) {
		uint64_t v = (uint64_t)((i * 37) % 100 + 1) * 1000;

		ex((uint64_t)i * 1000000, 100, HLT);
		en((uint64_t)i * 1000000 + v, 100);
	}
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 1);
	check_row(&rows[0], HLT, 100, 100, 5050000, 1000, 100000);
	/* Rank 50 is 50000: bucket [49152, 50176), midpoint 49664 (-0.67%). */
	ck_assert_uint_eq(rows[0].time_p50, 49664);
	/* Rank 99 is 99000: bucket [98304, 100352), midpoint 99328 (+0.33%). */
	ck_assert_uint_eq(rows[0].time_p99, 99328);
	kvmexit_stats_free(rows);
}
END_TEST

START_TEST(test_hist_geometry)
{
	/* Exact below 64, then 32 buckets per power of two. */
	for (uint64_t v = 0; v < 64; v++) {
		ck_assert_uint_eq(kx_hist_index(v), v);
		ck_assert_uint_eq(kx_hist_bucket_value((unsigned int)v), v);
	}
	ck_assert_uint_eq(kx_hist_index(64), 64);
	ck_assert_uint_eq(kx_hist_index(65), 64);
	ck_assert_uint_eq(kx_hist_index(66), 65);
	ck_assert_uint_eq(kx_hist_index(127), 95);
	ck_assert_uint_eq(kx_hist_index(128), 96);
	ck_assert_uint_eq(kx_hist_bucket_low(96), 128);
	ck_assert_uint_eq(kx_hist_bucket_width(96), 4);
	ck_assert_uint_eq(kx_hist_index(UINT64_MAX), KX_HIST_BUCKETS - 1);
	ck_assert_uint_eq(kx_hist_index((uint64_t)1 << 44), KX_HIST_BUCKETS - 1);
	ck_assert_uint_eq(kx_hist_index(((uint64_t)1 << 44) - 1), KX_HIST_BUCKETS - 1);
	/* Every value is in its bucket, and the midpoint is within 1/64. */
	for (uint64_t v = 1; v < ((uint64_t)1 << 44); v = v * 3 / 2 + 1) {
		unsigned int i = kx_hist_index(v);
		uint64_t lo = kx_hist_bucket_low(i), w = kx_hist_bucket_width(i);
		uint64_t mid = kx_hist_bucket_value(i);
		uint64_t d = mid > v ? mid - v : v - mid;

		ck_assert_uint_le(lo, v);
		ck_assert_uint_lt(v - lo, w);
		ck_assert_uint_le(d * 64, v);
	}
}
END_TEST

START_TEST(test_groupings)
{
	struct kvmexit_stat *rows;
	char name[32];
	int n;

	/* pid 1: vCPU 0 (tid 100), vCPU 1 (tid 101); pid 2: vCPU 0 (tid 200). */
	exit_ev(0, 1, 100, 0, 0, EXC, INTR_PF, 0, 0);
	en(10, 100);
	exit_ev(20, 1, 100, 0, 0, EXC, INTR_PF, 0, 0);
	en(40, 100);
	exit_ev(50, 1, 101, 1, 1, EXC, INTR_UD, 0, 0);
	en(80, 101);
	exit_ev(90, 1, 101, 1, 1, CR, 0, 0x3, 0);	/* mov-to-cr3 from rax */
	en(100, 101);
	exit_ev(100, 2, 200, 2, 0, EPT, 0, 0x2, 0);	/* write, not present */
	en_cpu(200, 200, 2);
	exit_ev(300, 2, 200, 2, 0, HLT, 0, 0, 0);
	en_cpu(400, 200, 2);

	n = rows_of(KVMEXIT_GROUP_DETAIL, &rows);
	ck_assert_int_eq(n, 5);
	ck_assert_uint_eq(rows[0].reason, EXC);
	ck_assert_uint_eq(rows[0].count, 2);
	ck_assert_uint_eq(rows[0].time_total, 30);
	kvmexit_detail_name(KVMEXIT_ISA_VMX, EXC, rows[0].detail, name, sizeof(name));
	ck_assert_str_eq(name, "#PF");
	/* Ties (count 1) in key order: reason 0 (#UD), 12, 28, 48. */
	kvmexit_detail_name(KVMEXIT_ISA_VMX, EXC, rows[1].detail, name, sizeof(name));
	ck_assert_str_eq(name, "#UD");
	ck_assert_uint_eq(rows[2].reason, HLT);
	ck_assert_uint_eq(rows[2].detail, 0);
	ck_assert_uint_eq(rows[3].reason, CR);
	kvmexit_detail_name(KVMEXIT_ISA_VMX, CR, rows[3].detail, name, sizeof(name));
	ck_assert_str_eq(name, "mov-to-cr3");
	ck_assert_uint_eq(rows[4].reason, EPT);
	kvmexit_detail_name(KVMEXIT_ISA_VMX, EPT, rows[4].detail, name, sizeof(name));
	ck_assert_str_eq(name, "write-notpresent");
	kvmexit_stats_free(rows);

	n = rows_of(KVMEXIT_GROUP_REASON, &rows);
	ck_assert_int_eq(n, 4);
	check_row(&rows[0], EXC, 3, 3, 60, 10, 30);
	ck_assert_uint_eq(rows[0].detail, 0);
	ck_assert_uint_eq(rows[0].time_p50, 20);
	kvmexit_stats_free(rows);

	n = rows_of(KVMEXIT_GROUP_VCPU, &rows);
	ck_assert_int_eq(n, 5);
	/* pid 1 vCPU 0 EXC (2); then count-1 rows by reason, pid, vCPU. */
	ck_assert_int_eq(rows[0].pid, 1);
	ck_assert_int_eq(rows[0].vcpu, 0);
	check_row(&rows[0], EXC, 2, 2, 30, 10, 20);
	ck_assert_int_eq(rows[1].pid, 1);
	ck_assert_int_eq(rows[1].vcpu, 1);
	ck_assert_uint_eq(rows[1].reason, EXC);
	ck_assert_int_eq(rows[2].pid, 2);
	ck_assert_uint_eq(rows[2].reason, HLT);
	ck_assert_int_eq(rows[3].vcpu, 1);
	ck_assert_uint_eq(rows[3].reason, CR);
	ck_assert_int_eq(rows[4].pid, 2);
	ck_assert_int_eq(rows[4].vcpu, 0);
	ck_assert_uint_eq(rows[4].reason, EPT);
	kvmexit_stats_free(rows);

	n = rows_of(KVMEXIT_GROUP_PID, &rows);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(rows[0].pid, 1);
	check_row(&rows[0], EXC, 3, 3, 60, 10, 30);
	ck_assert_int_eq(rows[0].vcpu, -1);
	kvmexit_stats_free(rows);

	/* #PF intercepts and the CR3 write join the EPT violation in paging. */
	n = rows_of(KVMEXIT_GROUP_CATEGORY, &rows);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(rows[0].reason, KVMEXIT_CAT_PAGING);
	ck_assert_uint_eq(rows[0].count, 4);
	ck_assert_uint_eq(rows[0].time_total, 140);
	ck_assert_uint_eq(rows[1].reason, KVMEXIT_CAT_INSTRUCTION);
	ck_assert_uint_eq(rows[1].time_total, 100);
	ck_assert_uint_eq(rows[2].reason, KVMEXIT_CAT_EXCEPTION);
	ck_assert_uint_eq(rows[2].count, 1);
	ck_assert_uint_eq(rows[2].time_total, 30);
	kvmexit_stats_free(rows);
}
END_TEST

/* Two HLTs and a CPUID on vCPU 0 of pid 1, one HLT each elsewhere. */
static void filter_stream(void)
{
	ex(0, 100, HLT);
	en(10, 100);
	ex(20, 100, CPUID);
	en(25, 100);
	ex(30, 100, HLT);
	en(60, 100);
	ex(40, 101, HLT);
	en(45, 101);
	exit_ev(50, 2, 200, 0, 0, HLT, 0, 0, 0);
	en(51, 200);
}

static void check_only(uint32_t reason, uint64_t count, uint64_t total)
{
	struct kvmexit_stat *rows;

	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 1);
	ck_assert_uint_eq(rows[0].reason, reason);
	ck_assert_uint_eq(rows[0].count, count);
	ck_assert_uint_eq(rows[0].time_total, total);
	kvmexit_stats_free(rows);
}

START_TEST(test_filter_pid)
{
	struct kvmexit_profile_opts o = all;

	o.has_pid = true;
	o.pid = 2;
	setup_opts(&o);
	filter_stream();
	check_only(HLT, 1, 1);
}
END_TEST

START_TEST(test_filter_vcpu)
{
	struct kvmexit_profile_opts o = all;
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;

	o.has_vcpu = true;
	o.vcpu = 0;
	setup_opts(&o);
	filter_stream();
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 2);
	check_row(&rows[0], HLT, 3, 3, 41, 1, 30);
	kvmexit_stats_free(rows);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.nr_pids, 2);
	ck_assert_uint_eq(t.nr_vcpus, 2);
}
END_TEST

START_TEST(test_filter_reason)
{
	struct kvmexit_profile_opts o = all;

	o.has_reason = true;
	o.reason_isa = KVMEXIT_ISA_VMX;
	o.reason = CPUID;
	setup_opts(&o);
	filter_stream();
	check_only(CPUID, 1, 5);
}
END_TEST

START_TEST(test_filter_reason_name)
{
	struct kvmexit_profile_opts o = all;
	char name[8] = "hlt";

	o.reason_name = name;
	setup_opts(&o);
	name[0] = 'x';			/* the profile keeps its own copy */
	filter_stream();
	check_only(HLT, 4, 46);
}
END_TEST

/* A filtered exit does not leave an earlier exit pending. */
START_TEST(test_filter_keeps_pairs)
{
	struct kvmexit_profile_opts o = all;
	struct kvmexit_profile_totals t;

	o.has_reason = true;
	o.reason = HLT;
	setup_opts(&o);
	ex(0, 100, HLT);
	ex(10, 100, CPUID);		/* filtered out */
	en(30, 100);			/* CPUID's entry: HLT stays untimed */
	check_only(HLT, 1, 0);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.unpaired, 1);
	ck_assert_uint_eq(t.timed, 0);
}
END_TEST

START_TEST(test_top_rips)
{
	struct kvmexit_profile_opts o = all;
	struct kvmexit_rip r[4];
	size_t n;

	o.top_rips = 3;
	setup_opts(&o);
	for (int i = 0; i < 5; i++)
		exit_ev((uint64_t)i, 1, 100, 0, 0, HLT, 0, 0, 0xffffffff81000010ull);
	for (int i = 0; i < 3; i++)
		exit_ev((uint64_t)i, 1, 100, 0, 0, HLT, 0, 0, 0xffffffff81000020ull);
	for (int i = 0; i < 3; i++)
		exit_ev((uint64_t)i, 1, 100, 0, 0, HLT, 0, 0, 0xffffffff81000008ull);
	exit_ev(9, 1, 100, 0, 0, HLT, 0, 0, 0x42);
	exit_ev(9, 1, 100, 0, 0, CPUID, 0, 0, 0x77);
	n = kvmexit_profile_top_rips(prof, KVMEXIT_ISA_VMX, HLT, r, 4);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(r[0].rip, 0xffffffff81000010ull);
	ck_assert_uint_eq(r[0].count, 5);
	ck_assert_uint_eq(r[1].rip, 0xffffffff81000008ull);	/* tie: lower RIP first */
	ck_assert_uint_eq(r[1].count, 3);
	ck_assert_uint_eq(r[2].rip, 0xffffffff81000020ull);
	ck_assert_uint_eq(r[3].rip, 0x42);
	ck_assert_uint_eq(kvmexit_profile_top_rips(prof, KVMEXIT_ISA_VMX, HLT, r, 2), 2);
	ck_assert_uint_eq(kvmexit_profile_top_rips(prof, KVMEXIT_ISA_VMX, CPUID, r, 4), 1);
	ck_assert_uint_eq(r[0].rip, 0x77);
	ck_assert_uint_eq(kvmexit_profile_top_rips(prof, KVMEXIT_ISA_VMX, EPT, r, 4), 0);
	ck_assert_uint_eq(kvmexit_profile_top_rips(prof, KVMEXIT_ISA_SVM, HLT, r, 4), 0);
}
END_TEST

/* Past 4096 distinct RIPs, new ones count only towards the reason. */
START_TEST(test_top_rips_cap)
{
	struct kvmexit_profile_opts o = all;
	struct kvmexit_stat *rows;
	struct kvmexit_rip r[2];

	o.top_rips = 2;
	setup_opts(&o);
	for (uint64_t i = 0; i < 5000; i++)
		exit_ev(i, 1, 100, 0, 0, HLT, 0, 0, 0x1000 + i);
	exit_ev(6000, 1, 100, 0, 0, HLT, 0, 0, 0x1000 + 4095);	/* kept: counts */
	exit_ev(6001, 1, 100, 0, 0, HLT, 0, 0, 0x1000 + 4096);	/* other */
	exit_ev(6002, 1, 100, 0, 0, HLT, 0, 0, 0x1000 + 4096);	/* other */
	ck_assert_uint_eq(kvmexit_profile_top_rips(prof, KVMEXIT_ISA_VMX, HLT, r, 2), 2);
	ck_assert_uint_eq(r[0].rip, 0x1000 + 4095);
	ck_assert_uint_eq(r[0].count, 2);
	ck_assert_uint_eq(r[1].rip, 0x1000);
	ck_assert_uint_eq(r[1].count, 1);
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 1);
	ck_assert_uint_eq(rows[0].count, 5003);
	kvmexit_stats_free(rows);
}
END_TEST

START_TEST(test_add_count)
{
	struct kvmexit_rate_span span = { .sz = sizeof(span) };
	struct kvmexit_profile_totals t;
	struct kvmexit_meta meta = { .start_ns = 1000000000, .end_ns = 3000000000 };
	struct kvmexit_stat *rows;

	kvmexit_profile_set_meta(prof, &meta);
	ck_assert_int_eq(kvmexit_profile_add_count(prof, KVMEXIT_ISA_VMX, HLT, 0, 500), 0);
	ck_assert_int_eq(kvmexit_profile_add_count(prof, KVMEXIT_ISA_VMX, HLT, 0, 250), 0);
	/* Flag bits do not split a reason. */
	ck_assert_int_eq(kvmexit_profile_add_count(prof, KVMEXIT_ISA_VMX,
						   KVMEXIT_VMX_FLAG_BUS_LOCK | CPUID, 0, 100), 0);
	ck_assert_int_eq(kvmexit_profile_add_count(prof, KVMEXIT_ISA_VMX, CPUID, 0, 0), 0);
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 2);
	check_row(&rows[0], HLT, 750, 0, 0, 0, 0);
	check_row(&rows[1], CPUID, 100, 0, 0, 0, 0);
	kvmexit_stats_free(rows);
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_VCPU, &rows), 2);
	ck_assert_int_eq(rows[0].vcpu, -1);
	ck_assert_int_eq(rows[0].pid, -1);
	kvmexit_stats_free(rows);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.exits, 850);
	ck_assert_uint_eq(t.timed, 0);
	/* Counted exits have no times: rates are over the meta's window. */
	ck_assert_uint_eq(t.duration_ns, 2000000000);
	ck_assert_int_eq(kvmexit_profile_rate_span(prof, &span), 0);
	ck_assert_int_eq(span.basis, KVMEXIT_RATE_WINDOW);
	ck_assert_uint_eq(span.span_ns, 2000000000);
	ck_assert_uint_eq(span.window_ns, 2000000000);
	ck_assert_uint_eq(span.first_exit_ns, 0);
	span.sz = sizeof(size_t) + sizeof(int);		/* an older caller's struct */
	span.span_ns = 7;
	ck_assert_int_eq(kvmexit_profile_rate_span(prof, &span), 0);
	ck_assert_uint_eq(span.span_ns, 7);
	span.sz = 0;
	ck_assert_int_eq(kvmexit_profile_rate_span(prof, &span), -EINVAL);
	ck_assert_uint_eq(t.nr_vcpus, 0);
	ck_assert_uint_eq(t.nr_pids, 0);
	ck_assert_uint_eq(kvmexit_profile_meta(prof)->end_ns, 3000000000);
}
END_TEST

START_TEST(test_add_count_filters)
{
	struct kvmexit_profile_opts o = all;

	o.has_pid = true;
	o.pid = 7;
	setup_opts(&o);
	ck_assert_int_eq(kvmexit_profile_add_count(prof, KVMEXIT_ISA_VMX, HLT, 0, 5),
			 -EOPNOTSUPP);
	ck_assert_int_eq(kvmexit_profile_add_count(prof, 9, HLT, 0, 5), -EINVAL);
}
END_TEST

/* The meta's lost count, and its ISA for exits that lack one. */
START_TEST(test_meta_fallbacks)
{
	struct kvmexit_meta meta = { .isa = KVMEXIT_ISA_SVM, .lost = 12 };
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_EXIT, .time = 5, .pid = 1, .tid = 9,
		.exit = { .exit_reason = 0x78 },	/* hlt, no isa field */
	};
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;

	kvmexit_profile_set_meta(prof, &meta);
	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_REASON, &rows), 1);
	ck_assert_uint_eq(rows[0].isa, KVMEXIT_ISA_SVM);
	ck_assert_uint_eq(rows[0].reason, 0x78);
	kvmexit_stats_free(rows);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.lost, 12);
	ck_assert_uint_eq(t.isa, KVMEXIT_ISA_SVM);
	ck_assert_uint_eq(t.duration_ns, 0);
}
END_TEST

START_TEST(test_other_events_and_bad)
{
	struct kvmexit_event ev = { .type = KVMEXIT_EV_PIO, .time = 1, .pid = 1, .tid = 100 };
	struct kvmexit_profile_totals t;

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
	ev.type = KVMEXIT_EV_USERSPACE_EXIT;
	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
	ev.type = KVMEXIT_EV__MAX;
	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), -EINVAL);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.other_events, 2);
	ck_assert_uint_eq(t.events, 2);
	ck_assert_uint_eq(t.exits, 0);
	ck_assert_int_eq(kvmexit_profile_stats(prof, 99, NULL), -EINVAL);
}
END_TEST

START_TEST(test_opts)
{
	struct kvmexit_profile_opts small = { .sz = 4 };
	struct kvmexit_profile *p = NULL;
	struct kvmexit_stat *rows;

	struct kvmexit_profile_opts bad = { .sz = sizeof(bad), .has_vcpu = true, .vcpu = -1 };

	ck_assert_int_eq(kvmexit_profile_new(&small, &p), -EINVAL);
	/* has_pid/has_vcpu need an id >= 0. */
	ck_assert_int_eq(kvmexit_profile_new(&bad, &p), -EINVAL);
	bad = (struct kvmexit_profile_opts){ .sz = sizeof(bad), .has_pid = true, .pid = -1 };
	ck_assert_int_eq(kvmexit_profile_new(&bad, &p), -EINVAL);
	/* NULL opts: no filters. */
	ck_assert_int_eq(kvmexit_profile_new(NULL, &p), 0);
	kvmexit_profile_free(prof);
	prof = p;
	ex(0, 100, HLT);
	exit_ev(0, 5, 300, 0, 7, HLT, 0, 0, 0);
	check_only(HLT, 2, 0);
	ck_assert_int_eq(rows_of(KVMEXIT_GROUP_PID, &rows), 2);
	kvmexit_stats_free(rows);
}
END_TEST

static void pio(uint64_t t, int tid)
{
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_PIO, .time = t, .pid = 1, .tid = tid,
	};

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

/*
 * Filters apply to every count of the totals: vCPU 1 (tid 101) of two,
 * each with an IO exit, its kvm_pio and its entry, then a HLT.  Other
 * events carry no vCPU or reason: they count with the kept exit they
 * come after.  Rates stay over the whole input's exits (1000 to 4000).
 */
static void two_vcpus(void)
{
	ex(1000, 100, 30);
	pio(1010, 100);
	en(1100, 100);
	ex(2000, 101, 30);
	pio(2010, 101);
	en(2100, 101);
	ex(3000, 101, HLT);
	en(3100, 101);
	ex(4000, 100, HLT);
	en(4100, 100);
}

START_TEST(test_filtered_totals)
{
	struct kvmexit_profile_opts o = all;
	struct kvmexit_profile_totals t;

	o.has_vcpu = true;
	o.vcpu = 1;
	setup_opts(&o);
	two_vcpus();
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.events, 10);
	ck_assert_uint_eq(t.exits, 2);
	ck_assert_uint_eq(t.entries, 2);
	ck_assert_uint_eq(t.other_events, 1);
	ck_assert_uint_eq(t.timed, 2);
	ck_assert_uint_eq(t.duration_ns, 3000);
	kvmexit_profile_free(prof);

	o = all;
	o.reason_name = "HLT";
	setup_opts(&o);
	two_vcpus();
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.exits, 2);
	ck_assert_uint_eq(t.entries, 2);	/* those that end a HLT */
	ck_assert_uint_eq(t.other_events, 0);	/* the kvm_pio follow IO exits */
	kvmexit_profile_free(prof);

	o.reason_name = "IO_INSTRUCTION";
	setup_opts(&o);
	two_vcpus();
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.exits, 2);
	ck_assert_uint_eq(t.entries, 2);
	ck_assert_uint_eq(t.other_events, 2);
}
END_TEST

static Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("events");
	TCase *tf = tcase_create("filters");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_counts_and_times);
	tcase_add_test(tc, test_p50_clamped);
	tcase_add_test(tc, test_migrating_thread);
	tcase_add_test(tc, test_interleaved_threads);
	tcase_add_test(tc, test_exit_exit_entry);
	tcase_add_test(tc, test_lost_drops_pending);
	tcase_add_test(tc, test_percentiles);
	tcase_add_test(tc, test_hist_geometry);
	tcase_add_test(tc, test_groupings);
	tcase_add_test(tc, test_add_count);
	tcase_add_test(tc, test_meta_fallbacks);
	tcase_add_test(tc, test_other_events_and_bad);
	tcase_add_test(tc, test_opts);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tf, NULL, teardown);
	tcase_add_test(tf, test_filter_pid);
	tcase_add_test(tf, test_filtered_totals);
	tcase_add_test(tf, test_filter_vcpu);
	tcase_add_test(tf, test_filter_reason);
	tcase_add_test(tf, test_filter_reason_name);
	tcase_add_test(tf, test_filter_keeps_pairs);
	tcase_add_test(tf, test_top_rips);
	tcase_add_test(tf, test_top_rips_cap);
	tcase_add_test(tf, test_add_count_filters);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(profile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
