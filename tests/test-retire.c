// SPDX-License-Identifier: GPL-2.0-only
/*
 * Retiring processes (kvmexit_profile_retire_pid()): a profile fed VM after
 * VM, each retired once gone, holds a fixed number of cells, keeps every
 * total, per-reason count and histogram exact, and deltas across a
 * retirement show only the interval's exits.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

enum { CPUID = 10, HLT = 12, IO = 30 };

#define SEC 1000000000ull
#define VMS 1000

static struct kvmexit_profile *prof;

static void exit_at(int pid, int tid, unsigned int vcpu, uint64_t t, uint32_t reason)
{
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_EXIT, .time = t, .pid = pid, .tid = tid, .vcpu = vcpu,
		.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = reason },
	};

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

static void entry_at(int pid, int tid, unsigned int vcpu, uint64_t t)
{
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_ENTRY, .time = t, .pid = pid, .tid = tid, .vcpu = vcpu,
	};

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

static void pair(int pid, int tid, unsigned int vcpu, uint64_t t, uint32_t reason, uint64_t lat)
{
	exit_at(pid, tid, vcpu, t, reason);
	entry_at(pid, tid, vcpu, t + lat);
}

static const struct kvmexit_stat *row_of(const struct kvmexit_stat *r, int n, uint32_t reason,
					 int32_t pid)
{
	for (int i = 0; i < n; i++)
		if (r[i].reason == reason && r[i].pid == pid)
			return &r[i];
	return NULL;
}

/* What was fed per reason: exits, timed, time sum, extremes. */
struct fed {
	uint64_t count, timed, total, min, max;
};

static void fed_add(struct fed *f, uint64_t lat)
{
	if (!f->timed || lat < f->min)
		f->min = lat;
	if (lat > f->max)
		f->max = lat;
	f->count++;
	f->timed++;
	f->total += lat;
}

/*
 * VM i (pid 5000 + i, two vCPU threads): per vCPU 3 HLT, 2 CPUID, 1 IO,
 * with times over ten powers of two, so that histograms fill many groups;
 * then it is retired.  Cells: 6 live while it runs, then only the retired
 * owner's 3 (HLT, CPUID, IO): the same after 1000 VMs as after one.
 */
START_TEST(churn_stays_bounded)
{
	static const uint32_t reasons[3] = { HLT, CPUID, IO };
	struct fed fed[3] = { 0 };
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;
	uint64_t time = 1000;
	int n;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	for (int i = 0; i < VMS; i++) {
		int pid = 5000 + i;

		for (unsigned int v = 0; v < 2; v++)
			for (int r = 0; r < 3; r++)
				for (int k = 0; k < 3 - r; k++) {
					uint64_t lat = (100ull << ((i + k) % 10)) + (uint64_t)r * 7 + v;

					pair(pid, pid * 4 + (int)v, v, time, reasons[r], lat);
					fed_add(&fed[r], lat);
					time += 100000;
				}
		ck_assert_uint_eq(kvmexit_profile_nr_cells(prof), (i ? 3 : 0) + 6);
		ck_assert_uint_eq(kx_profile_nr_threads(prof), 2);
		ck_assert_int_eq(kvmexit_profile_retire_pid(prof, pid), 6);
		ck_assert_uint_eq(kvmexit_profile_nr_cells(prof), 3);
		ck_assert_uint_eq(kx_profile_nr_threads(prof), 0);
	}
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.exits, VMS * 2 * 6);
	ck_assert_uint_eq(t.timed, VMS * 2 * 6);
	ck_assert_uint_eq(t.entries, VMS * 2 * 6);
	ck_assert_uint_eq(t.time_total_ns, fed[0].total + fed[1].total + fed[2].total);
	ck_assert_uint_eq(t.nr_pids, 0);	/* the retired owner is no process */
	ck_assert_uint_eq(t.nr_vcpus, 0);
	n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_REASON, &rows);
	ck_assert_int_eq(n, 3);
	for (int r = 0; r < 3; r++) {
		const struct kvmexit_stat *s = row_of(rows, n, reasons[r], -1);
		/* Bucket edges: 2^k - 1 ns; all times are under 2^17 ns. */
		uint64_t bounds[2] = { 255, 131071 }, counts[2];
		struct kvmexit_snapshot *snap;

		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(s->count, fed[r].count);
		ck_assert_uint_eq(s->timed, fed[r].timed);
		ck_assert_uint_eq(s->time_total, fed[r].total);
		ck_assert_uint_eq(s->time_min, fed[r].min);
		ck_assert_uint_eq(s->time_max, fed[r].max);
		ck_assert_int_eq(kvmexit_snapshot_new(prof, 0, &snap), 0);
		ck_assert_int_eq(kvmexit_snapshot_time_counts(snap, KVMEXIT_GROUP_REASON, s,
							      bounds, 2, counts), 0);
		ck_assert_uint_eq(counts[1], fed[r].timed);
		kvmexit_snapshot_free(snap);
	}
	kvmexit_stats_free(rows);
	/* By process: one row per reason, of the retired owner, vCPU -1. */
	n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_VCPU, &rows);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(rows[i].pid, KVMEXIT_PID_RETIRED);
		ck_assert_int_eq(rows[i].vcpu, -1);
	}
	kvmexit_stats_free(rows);
	kvmexit_profile_free(prof);
}
END_TEST

/*
 * Snapshot a: pid 1 (3 HLT of 1000 ns), pid 2 (2 CPUID of 40 ns).  Then
 * pid 1 is retired, pid 2 has 4 CPUID of 50 ns more and pid 1 comes back
 * (a reused pid) with 1 HLT of 5000 ns: snapshot b.
 */
START_TEST(delta_across_retirement)
{
	struct kvmexit_snapshot *a, *b, *c;
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_REASON };
	const struct kvmexit_delta_summary *sum;
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	for (int i = 0; i < 3; i++)
		pair(1, 11, 0, 1000 + i * 10000, HLT, 1000);
	for (int i = 0; i < 2; i++)
		pair(2, 21, 0, 2000 + i * 10000, CPUID, 40);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, SEC, &a), 0);
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, 1), 1);
	for (int i = 0; i < 4; i++)
		pair(2, 21, 0, SEC + i * 10000, CPUID, 50);
	pair(1, 11, 0, SEC + 90000, HLT, 5000);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 2 * SEC, &b), 0);
	ck_assert_uint_eq(kvmexit_profile_nr_cells(prof), 3);	/* pid 1, pid 2, retired */

	/* By reason: continuous; the interval only the 5 new exits. */
	ck_assert_int_eq(kvmexit_delta_new(a, b, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 2);
	ck_assert_uint_eq(r[0].interval.reason, CPUID);
	ck_assert_uint_eq(r[0].interval.count, 4);
	ck_assert_uint_eq(r[0].interval.time_total, 200);
	ck_assert_uint_eq(r[0].total.count, 6);
	ck_assert_uint_eq(r[1].interval.reason, HLT);
	ck_assert_uint_eq(r[1].interval.count, 1);
	ck_assert_uint_eq(r[1].interval.timed, 1);
	ck_assert_uint_eq(r[1].interval.time_total, 5000);
	ck_assert_uint_eq(r[1].interval.time_p99, 5000);
	ck_assert_uint_eq(r[1].total.count, 4);
	ck_assert_uint_eq(r[1].total.time_total, 8000);
	sum = kvmexit_delta_summary(d);
	ck_assert_uint_eq(sum->interval.exits, 5);
	ck_assert_uint_eq(sum->interval.time_total_ns, 5200);
	ck_assert_uint_eq(sum->total.exits, 10);
	ck_assert_uint_eq(sum->interval.nr_pids, 2);
	kvmexit_delta_free(d);

	/* By vCPU: pid 1's new life, pid 2, and the retired owner (nothing new). */
	o.group = KVMEXIT_GROUP_VCPU;
	ck_assert_int_eq(kvmexit_delta_new(a, b, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 3);
	ck_assert_int_eq(r[0].interval.pid, 2);
	ck_assert_uint_eq(r[0].interval.count, 4);
	ck_assert_int_eq(r[1].interval.pid, 1);
	ck_assert_uint_eq(r[1].interval.count, 1);
	ck_assert_uint_eq(r[1].total.count, 1);		/* a new life */
	ck_assert_int_eq(r[2].interval.pid, KVMEXIT_PID_RETIRED);
	ck_assert_int_eq(r[2].interval.vcpu, -1);
	ck_assert_uint_eq(r[2].interval.count, 0);
	ck_assert_uint_eq(r[2].interval.timed, 0);
	ck_assert_uint_eq(r[2].total.count, 3);
	kvmexit_delta_free(d);

	/* A base before the retirement: totals since it are the new exits only. */
	o.group = KVMEXIT_GROUP_REASON;
	o.base = a;
	ck_assert_int_eq(kvmexit_delta_new(NULL, b, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 2);
	ck_assert_uint_eq(r[0].total.count, 4);
	ck_assert_uint_eq(r[1].total.count, 1);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->total.exits, 5);
	kvmexit_delta_free(d);
	o.base = NULL;

	/* Retiring pid 2 with nothing new: an interval of nothing, not negative. */
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, 2), 1);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 3 * SEC, &c), 0);
	ck_assert_int_eq(kvmexit_delta_new(b, c, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(r[i].interval.count, 0);
		ck_assert_uint_eq(r[i].interval.time_total, 0);
	}
	ck_assert_uint_eq(kvmexit_delta_summary(d)->interval.exits, 0);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->total.exits, 10);
	kvmexit_delta_free(d);
	/* Across both retirements at once, as well. */
	ck_assert_int_eq(kvmexit_delta_new(a, c, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->interval.exits, 5);
	kvmexit_delta_free(d);

	/* Still a mismatch: later before earlier. */
	ck_assert_int_eq(kvmexit_delta_new(c, a, &o, &d), -KVMEXIT_EMISMATCH);
	ck_assert_int_eq(kvmexit_delta_new(b, a, &o, &d), -KVMEXIT_EMISMATCH);
	kvmexit_snapshot_free(a);
	kvmexit_snapshot_free(b);
	kvmexit_snapshot_free(c);
	kvmexit_profile_free(prof);
}
END_TEST

/*
 * A pid reused within one interval, its new life busier than its old one
 * in every cell: pid 1 has 3 HLT of 1000 ns (snapshot a), is retired, and
 * comes back with 4 HLT of 2000 ns (snapshot b).  By vCPU the new life
 * shows all its 4 exits, the retired owner none; the same when the
 * profile is set from the kernel's maps (--bpf), where every read makes
 * the cells anew.
 */
START_TEST(reuse_within_interval)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_VCPU };
	struct kvmexit_snapshot *a, *b, *c;
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	for (int i = 0; i < 3; i++)
		pair(1, 11, 0, 1000 + i * 10000, HLT, 1000);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, SEC, &a), 0);
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, 1), 1);
	for (int i = 0; i < 4; i++)
		pair(1, 11, 0, SEC + i * 10000, HLT, 2000);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 2 * SEC, &b), 0);
	ck_assert_int_eq(kvmexit_delta_new(a, b, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 2);
	ck_assert_int_eq(r[0].interval.pid, 1);
	ck_assert_uint_eq(r[0].interval.count, 4);
	ck_assert_uint_eq(r[0].interval.time_total, 8000);
	ck_assert_uint_eq(r[0].interval.time_min, 2000);
	ck_assert_uint_eq(r[0].total.count, 4);
	ck_assert_int_eq(r[1].interval.pid, KVMEXIT_PID_RETIRED);
	ck_assert_uint_eq(r[1].interval.count, 0);
	ck_assert_uint_eq(r[1].interval.time_total, 0);
	ck_assert_uint_eq(r[1].total.count, 3);
	ck_assert_uint_eq(r[1].total.time_total, 3000);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->interval.exits, 4);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->interval.time_total_ns, 8000);
	kvmexit_delta_free(d);
	/* No retirement in between: the same life, only the new exits. */
	pair(1, 11, 0, 3 * SEC, HLT, 2000);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 3 * SEC, &c), 0);
	ck_assert_int_eq(kvmexit_delta_new(b, c, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 2);
	ck_assert_int_eq(r[0].interval.pid, 1);
	ck_assert_uint_eq(r[0].interval.count, 1);
	ck_assert_uint_eq(r[0].total.count, 5);
	kvmexit_delta_free(d);
	kvmexit_snapshot_free(a);
	kvmexit_snapshot_free(b);
	kvmexit_snapshot_free(c);
	kvmexit_profile_free(prof);
}
END_TEST

START_TEST(reuse_within_interval_set_cells)
{
	struct kx_cell_rec cells[2] = {
		{ .isa = KVMEXIT_ISA_VMX, .reason = HLT, .pid = 3, .vcpu = 0, .count = 3 },
		{ .isa = KVMEXIT_ISA_VMX, .reason = HLT, .pid = 4, .vcpu = 0, .count = 2 },
	};
	struct kx_bucket none[1] = { { 0 } };
	struct kx_counts k = { .cells = cells, .nr_cells = 2, .buckets = none };
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_VCPU };
	struct kvmexit_snapshot *a, *b, *c;
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	ck_assert_int_eq(kx_profile_set_cells(prof, &k), 0);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, SEC, &a), 0);
	/* Pid 3 goes and comes back with 5 exits; pid 4 goes on (2 -> 6). */
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, 3), 1);
	cells[0].count = 5;
	cells[1].count = 6;
	ck_assert_int_eq(kx_profile_set_cells(prof, &k), 0);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 2 * SEC, &b), 0);
	ck_assert_int_eq(kvmexit_delta_new(a, b, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 3);
	ck_assert_int_eq(r[0].interval.pid, 3);
	ck_assert_uint_eq(r[0].interval.count, 5);
	ck_assert_uint_eq(r[0].total.count, 5);
	ck_assert_int_eq(r[1].interval.pid, 4);
	ck_assert_uint_eq(r[1].interval.count, 4);
	ck_assert_uint_eq(r[1].total.count, 6);
	ck_assert_int_eq(r[2].interval.pid, KVMEXIT_PID_RETIRED);
	ck_assert_uint_eq(r[2].interval.count, 0);
	ck_assert_uint_eq(r[2].total.count, 3);
	kvmexit_delta_free(d);
	/* Read again, nothing retired: each pid keeps its life. */
	cells[0].count = 7;
	ck_assert_int_eq(kx_profile_set_cells(prof, &k), 0);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 3 * SEC, &c), 0);
	ck_assert_int_eq(kvmexit_delta_new(b, c, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 3);
	ck_assert_int_eq(r[0].interval.pid, 3);
	ck_assert_uint_eq(r[0].interval.count, 2);
	ck_assert_uint_eq(r[0].total.count, 7);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->interval.exits, 2);
	kvmexit_delta_free(d);
	kvmexit_snapshot_free(a);
	kvmexit_snapshot_free(b);
	kvmexit_snapshot_free(c);
	kvmexit_profile_free(prof);
}
END_TEST

/* Snapshots of two profiles stay a mismatch, retirements or not. */
START_TEST(other_profile_is_a_mismatch)
{
	struct kvmexit_profile *p1;
	struct kvmexit_snapshot *a, *b;
	struct kvmexit_delta *d;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	pair(1, 11, 0, 1000, HLT, 1000);
	pair(1, 11, 0, 3000, HLT, 1000);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, SEC, &a), 0);
	p1 = prof;
	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	pair(2, 21, 0, 1000, HLT, 1000);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 2 * SEC, &b), 0);
	ck_assert_int_eq(kvmexit_delta_new(a, b, NULL, &d), -KVMEXIT_EMISMATCH);
	kvmexit_snapshot_free(b);
	/* b's profile retired pid 2: a's pid 1 folds, but 2 HLT > 1 retired. */
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, 2), 1);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 2 * SEC, &b), 0);
	ck_assert_int_eq(kvmexit_delta_new(a, b, NULL, &d), -KVMEXIT_EMISMATCH);
	kvmexit_snapshot_free(a);
	kvmexit_snapshot_free(b);
	kvmexit_profile_free(p1);
	kvmexit_profile_free(prof);
}
END_TEST

/*
 * An exit pending when its process is retired stays counted, untimed; the
 * entry that comes after (its thread is gone) times nothing, and the pid
 * reused later starts afresh.
 */
START_TEST(pending_and_reuse)
{
	struct kvmexit_stat *rows;
	struct kvmexit_profile_totals t;
	int n;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	ck_assert_int_eq(kvmexit_profile_set_comm(prof, 7, 71, "CPU 0/KVM"), 0);
	pair(7, 71, 0, 1000, HLT, 100);
	exit_at(7, 71, 0, 2000, CPUID);		/* pending */
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, 7), 2);
	ck_assert_ptr_null(kvmexit_profile_comm(prof, 71));
	entry_at(7, 71, 0, 2500);
	pair(7, 71, 0, 3000, CPUID, 30);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.exits, 3);
	ck_assert_uint_eq(t.timed, 2);
	ck_assert_uint_eq(t.time_total_ns, 130);
	ck_assert_uint_eq(t.nr_pids, 1);
	n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_VCPU, &rows);
	ck_assert_int_eq(n, 3);
	ck_assert_ptr_nonnull(row_of(rows, n, CPUID, 7));
	ck_assert_uint_eq(row_of(rows, n, CPUID, 7)->count, 1);
	ck_assert_uint_eq(row_of(rows, n, CPUID, 7)->time_total, 30);
	ck_assert_uint_eq(row_of(rows, n, CPUID, KVMEXIT_PID_RETIRED)->count, 1);
	ck_assert_uint_eq(row_of(rows, n, CPUID, KVMEXIT_PID_RETIRED)->timed, 0);
	ck_assert_uint_eq(row_of(rows, n, HLT, KVMEXIT_PID_RETIRED)->time_total, 100);
	kvmexit_stats_free(rows);
	/* Nothing to retire, and what cannot be. */
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, 99), 0);
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, -1), -EINVAL);
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, KVMEXIT_PID_RETIRED), -EINVAL);
	kvmexit_profile_free(prof);
}
END_TEST

/* --bpf profiles are set from the kernel's maps: the retired owner's cells stay. */
START_TEST(set_cells_keeps_retired)
{
	struct kx_cell_rec cells[2] = {
		{ .isa = KVMEXIT_ISA_VMX, .reason = HLT, .pid = 3, .vcpu = 0, .count = 5 },
		{ .isa = KVMEXIT_ISA_VMX, .reason = HLT, .pid = 4, .vcpu = 0, .count = 2 },
	};
	struct kx_pio_rec pios[2] = {
		{ .pid = 3, .port = 0x70, .size = 1, .count = 4 },
		{ .pid = 4, .port = 0x70, .size = 1, .count = 1 },
	};
	struct kx_bucket none[1] = { { 0 } };
	struct kx_counts c = { .cells = cells, .nr_cells = 2, .buckets = none, .pios = pios,
			       .nr_pios = 2 };
	struct kvmexit_profile_totals t;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	ck_assert_int_eq(kx_profile_set_cells(prof, &c), 0);
	ck_assert_int_eq(kvmexit_profile_retire_pid(prof, 3), 1);
	/* The kernel forgot pid 3 (kx_bpf_forget_tgid()); pid 4 went on. */
	cells[0] = cells[1];
	cells[0].count = 6;
	pios[0] = pios[1];
	c.nr_cells = c.nr_pios = 1;
	ck_assert_int_eq(kx_profile_set_cells(prof, &c), 0);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.exits, 11);
	ck_assert_uint_eq(t.other_events, 5);
	ck_assert_uint_eq(t.events, 5);
	ck_assert_uint_eq(kvmexit_profile_nr_cells(prof), 2);
	kvmexit_profile_free(prof);
}
END_TEST

/*
 * The BPF source live: a system-wide --bpf recorder, tests/pio-guest (500
 * kvm_pio: this host's KVM fires no kvm_exit) started and ended under it.
 * Once it is gone, kvmexit_recorder_forget_pid() deletes its entry from
 * the kernel's pios map (one key: one port, one size): a profile read
 * afterwards has none of its events, unless it retired the process, which
 * keeps them.  Root, /dev/kvm and a kernel that loads the program, else
 * it says why it skipped.
 */
START_TEST(live_bpf_forget)
{
	const char *b = getenv("top_builddir");
	char guest[4096], err[512];
	struct kvmexit_record_opts o = {
		.sz = sizeof(o), .target = KVMEXIT_TARGET_SYSTEM, .bpf = true,
		.events = KVMEXIT_EVENTS_DEFAULT | KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO),
	};
	struct kvmexit_profile_opts po = { .sz = sizeof(po), .has_pid = true };
	struct kvmexit_recorder *rec;
	struct kvmexit_profile *kept, *plain;
	struct kvmexit_profile_totals t;
	pid_t child;
	int ret, status;

	snprintf(guest, sizeof(guest), "%s/tests/pio-guest", b ? b : ".");
	if (geteuid() || access("/dev/kvm", W_OK) || access(guest, X_OK)) {
		printf("# SKIP live --bpf: needs root, /dev/kvm and %s\n", guest);
		return;
	}
	ret = kvmexit_recorder_new(&o, &rec, err, sizeof(err));
	if (ret == -EOPNOTSUPP || ret == -EPERM) {
		printf("# SKIP live --bpf: %s\n", err);
		return;
	}
	ck_assert_msg(ret == 0, "%s", err);
	ck_assert_int_ge(kvmexit_recorder_run(rec, 0), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (!child) {
		/* Its "pio=500" is not TAP. */
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(guest, guest, "500", (char *)NULL);
		_exit(127);
	}
	/* Until the guest has ended: bounded by its 500 port writes, not by time. */
	while (waitpid(child, &status, WNOHANG) == 0)
		ck_assert_int_eq(kvmexit_recorder_run(rec, 50), 1);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	po.pid = child;
	ck_assert_int_eq(kvmexit_profile_new(&po, &kept), 0);
	ck_assert_int_eq(kvmexit_profile_new(&po, &plain), 0);
	ck_assert_int_eq(kvmexit_recorder_read_profile(rec, kept), 0);
	ck_assert_int_eq(kvmexit_recorder_read_profile(rec, plain), 0);
	kvmexit_profile_totals(kept, &t);
	ck_assert_uint_eq(t.other_events, 500);
	/* Gone: out of the kernel's maps, and retired from one profile. */
	ck_assert_int_eq(kvmexit_recorder_forget_pid(rec, child), 1);
	ck_assert_int_eq(kvmexit_profile_retire_pid(kept, child), 0);	/* no cells here */
	ck_assert_int_eq(kvmexit_recorder_forget_pid(rec, child), 0);
	ck_assert_int_eq(kvmexit_recorder_read_profile(rec, kept), 0);
	ck_assert_int_eq(kvmexit_recorder_read_profile(rec, plain), 0);
	kvmexit_profile_totals(kept, &t);
	ck_assert_uint_eq(t.other_events, 500);
	kvmexit_profile_totals(plain, &t);
	ck_assert_uint_eq(t.other_events, 0);
	ck_assert_int_eq(kvmexit_recorder_forget_pid(rec, -1), -EINVAL);
	kvmexit_recorder_stop(rec);
	while (kvmexit_recorder_run(rec, 50) > 0)
		;
	kvmexit_recorder_free(rec);
	kvmexit_profile_free(kept);
	kvmexit_profile_free(plain);
}
END_TEST

static Suite *retire_suite(void)
{
	Suite *s = suite_create("retire");
	TCase *tc = tcase_create("retire");

	tcase_add_test(tc, churn_stays_bounded);
	tcase_add_test(tc, delta_across_retirement);
	tcase_add_test(tc, other_profile_is_a_mismatch);
	tcase_add_test(tc, pending_and_reuse);
	tcase_add_test(tc, reuse_within_interval);
	tcase_add_test(tc, reuse_within_interval_set_cells);
	tcase_add_test(tc, set_cells_keeps_retired);
	tcase_add_test(tc, live_bpf_forget);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(retire_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
