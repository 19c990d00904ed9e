// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interval snapshots and deltas: a profile fed by hand in two intervals,
 * with exact counts, rates, shares, times and percentiles per interval and
 * since a base, in every grouping.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { HLT = 12, CPUID = 10, IO = 30 };

static struct kvmexit_profile *prof;
static struct kvmexit_snapshot *snap_a, *snap_b;

/* An exit of (pid, tid, vcpu) at t and its entry lat ns later. */
static void pair(int pid, int tid, unsigned int vcpu, uint64_t t, uint32_t reason, uint64_t lat)
{
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_EXIT, .time = t, .pid = pid, .tid = tid, .vcpu = vcpu,
		.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = reason },
	};

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
	ev = (struct kvmexit_event){
		.type = KVMEXIT_EV_ENTRY, .time = t + lat, .pid = pid, .tid = tid, .vcpu = vcpu,
	};
	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

#define SEC 1000000000ull

/*
 * Interval A (0..1 s): pid 1 (vCPU 1): 3 HLT of 1000 ns; pid 2 (vCPU 0):
 * 2 CPUID of 40 ns.  Interval B (1..3 s): pid 1: 1 HLT of 5000 ns; pid 2:
 * 4 CPUID of 50 ns and 1 IO of 300 ns (a cell new in B).
 */
static void setup(void)
{
	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	for (int i = 0; i < 3; i++)
		pair(1, 101, 1, 1000 + i * 10000, HLT, 1000);
	for (int i = 0; i < 2; i++)
		pair(2, 201, 0, 2000 + i * 10000, CPUID, 40);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 1 * SEC, &snap_a), 0);
	pair(1, 101, 1, SEC + 1000, HLT, 5000);
	for (int i = 0; i < 4; i++)
		pair(2, 201, 0, SEC + 2000 + i * 10000, CPUID, 50);
	pair(2, 201, 0, SEC + 90000, IO, 300);
	ck_assert_int_eq(kvmexit_snapshot_new(prof, 3 * SEC, &snap_b), 0);
}

static void teardown(void)
{
	kvmexit_snapshot_free(snap_a);
	kvmexit_snapshot_free(snap_b);
	kvmexit_profile_free(prof);
}

static struct kvmexit_delta *delta(const struct kvmexit_snapshot *from,
				   const struct kvmexit_snapshot *to,
				   const struct kvmexit_delta_opts *o)
{
	struct kvmexit_delta *d = NULL;

	ck_assert_int_eq(kvmexit_delta_new(from, to, o, &d), 0);
	return d;
}

START_TEST(interval_by_reason)
{
	struct kvmexit_delta *d = delta(snap_a, snap_b, NULL);
	const struct kvmexit_delta_summary *s = kvmexit_delta_summary(d);
	const struct kvmexit_delta_row *r;

	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 3);
	/* CPUID: 4 in the interval, 6 in all. */
	ck_assert_uint_eq(r[0].interval.reason, CPUID);
	ck_assert_uint_eq(r[0].interval.count, 4);
	ck_assert_uint_eq(r[0].interval.timed, 4);
	ck_assert_uint_eq(r[0].interval.time_total, 200);
	ck_assert_uint_eq(r[0].interval.time_min, 50);
	ck_assert_uint_eq(r[0].interval.time_max, 50);
	ck_assert_uint_eq(r[0].interval.time_p50, 50);
	ck_assert_uint_eq(r[0].interval.time_p99, 50);
	ck_assert_double_eq(r[0].rate, 2.0);
	ck_assert_double_eq_tol(r[0].share, 4.0 / 6, 1e-12);
	ck_assert_uint_eq(r[0].total.count, 6);
	ck_assert_uint_eq(r[0].total.time_total, 280);
	ck_assert_uint_eq(r[0].total.time_min, 40);
	ck_assert_uint_eq(r[0].total.time_max, 50);
	ck_assert_uint_eq(r[0].total.time_p50, 50);
	ck_assert_double_eq_tol(r[0].total_share, 6.0 / 11, 1e-12);
	ck_assert_int_eq(r[0].interval.pid, -1);
	ck_assert_int_eq(r[0].interval.vcpu, -1);
	/* HLT: 1 in the interval (5000 ns, in the bucket 4992..5119), 4 in all. */
	ck_assert_uint_eq(r[1].interval.reason, HLT);
	ck_assert_uint_eq(r[1].interval.count, 1);
	ck_assert_uint_eq(r[1].interval.time_total, 5000);
	ck_assert_uint_eq(r[1].interval.time_min, 4992);
	ck_assert_uint_eq(r[1].interval.time_max, 5000);
	ck_assert_uint_eq(r[1].interval.time_p99, 5000);
	ck_assert_double_eq(r[1].rate, 0.5);
	ck_assert_uint_eq(r[1].total.count, 4);
	ck_assert_uint_eq(r[1].total.time_total, 8000);
	ck_assert_uint_eq(r[1].total.time_min, 1000);
	ck_assert_uint_eq(r[1].total.time_max, 5000);
	/* IO: new in the interval, so its extremes are exact. */
	ck_assert_uint_eq(r[2].interval.reason, IO);
	ck_assert_uint_eq(r[2].interval.count, 1);
	ck_assert_uint_eq(r[2].interval.time_min, 300);
	ck_assert_uint_eq(r[2].interval.time_max, 300);
	ck_assert_uint_eq(r[2].total.count, 1);

	ck_assert_uint_eq(s->from_ns, SEC);
	ck_assert_uint_eq(s->to_ns, 3 * SEC);
	ck_assert_uint_eq(s->base_ns, 0);
	ck_assert_uint_eq(s->interval.exits, 6);
	ck_assert_uint_eq(s->interval.timed, 6);
	ck_assert_uint_eq(s->interval.time_total_ns, 5500);
	ck_assert_uint_eq(s->interval.events, 12);
	ck_assert_uint_eq(s->interval.entries, 6);
	ck_assert_uint_eq(s->interval.duration_ns, 2 * SEC);
	ck_assert_uint_eq(s->interval.nr_pids, 2);
	ck_assert_uint_eq(s->interval.nr_vcpus, 2);
	ck_assert_uint_eq(s->total.exits, 11);
	ck_assert_uint_eq(s->total.events, 22);
	ck_assert_uint_eq(s->total.time_total_ns, 8000 + 280 + 300);
	kvmexit_delta_free(d);
}
END_TEST

START_TEST(per_process_and_vcpu)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_PID,
					.all_reasons = true };
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d = delta(snap_a, snap_b, &o);

	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 2);
	ck_assert_int_eq(r[0].interval.pid, 2);
	ck_assert_uint_eq(r[0].interval.count, 5);
	ck_assert_uint_eq(r[0].interval.time_total, 500);
	ck_assert_uint_eq(r[0].total.count, 7);
	ck_assert_int_eq(r[0].interval.isa, KVMEXIT_ISA_UNKNOWN);
	ck_assert_uint_eq(r[0].interval.reason, 0);
	ck_assert_int_eq(r[1].interval.pid, 1);
	ck_assert_uint_eq(r[1].interval.count, 1);
	ck_assert_uint_eq(r[1].total.count, 4);
	kvmexit_delta_free(d);

	o.group = KVMEXIT_GROUP_VCPU;
	o.all_reasons = false;
	d = delta(snap_a, snap_b, &o);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 3);
	ck_assert_int_eq(r[0].interval.pid, 2);
	ck_assert_int_eq(r[0].interval.vcpu, 0);
	ck_assert_uint_eq(r[0].interval.reason, CPUID);
	ck_assert_int_eq(r[1].interval.pid, 1);
	ck_assert_int_eq(r[1].interval.vcpu, 1);
	ck_assert_int_eq(r[2].interval.vcpu, 0);
	ck_assert_uint_eq(r[2].interval.reason, IO);
	kvmexit_delta_free(d);
}
END_TEST

START_TEST(one_process)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .has_pid = true, .pid = 1 };
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d = delta(snap_a, snap_b, &o);
	const struct kvmexit_delta_summary *s = kvmexit_delta_summary(d);

	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 1);
	ck_assert_uint_eq(r[0].interval.reason, HLT);
	ck_assert_double_eq(r[0].share, 1.0);
	ck_assert_uint_eq(s->interval.exits, 1);
	ck_assert_uint_eq(s->total.exits, 4);
	ck_assert_uint_eq(s->interval.nr_pids, 1);
	/* The profile's own counters stay whole. */
	ck_assert_uint_eq(s->interval.events, 12);
	kvmexit_delta_free(d);
}
END_TEST

static bool not_cpuid(enum kvmexit_isa isa, uint32_t reason, uint32_t detail, void *arg)
{
	(void)detail;
	ck_assert_ptr_eq(arg, &snap_a);
	return !(isa == KVMEXIT_ISA_VMX && reason == CPUID);
}

/* A filter on reasons: per process, without CPUID. */
START_TEST(keep_filter)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_PID,
					.all_reasons = true, .keep = not_cpuid, .keep_arg = &snap_a };
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d = delta(snap_a, snap_b, &o);

	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 2);
	ck_assert_int_eq(r[0].interval.pid, 1);
	ck_assert_uint_eq(r[0].interval.count, 1);
	ck_assert_uint_eq(r[0].total.count, 4);
	ck_assert_int_eq(r[1].interval.pid, 2);
	ck_assert_uint_eq(r[1].interval.count, 1);
	ck_assert_uint_eq(r[1].interval.time_total, 300);
	ck_assert_uint_eq(r[1].total.count, 1);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->interval.exits, 2);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->total.exits, 5);
	kvmexit_delta_free(d);
}
END_TEST

/* A base: totals since a "reset", and a reset at the last snapshot. */
START_TEST(base_resets_totals)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .base = snap_a };
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d = delta(snap_a, snap_b, &o);

	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(r[i].total.count, r[i].interval.count);
		ck_assert_uint_eq(r[i].total.time_p99, r[i].interval.time_p99);
	}
	ck_assert_uint_eq(kvmexit_delta_summary(d)->total.exits, 6);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->base_ns, SEC);
	kvmexit_delta_free(d);

	o.base = snap_b;
	d = delta(snap_b, snap_b, &o);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 0);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->interval.exits, 0);
	kvmexit_delta_free(d);
}
END_TEST

/* From NULL: everything so far; a snapshot does not change afterwards. */
START_TEST(from_start_and_immutable)
{
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d = delta(NULL, snap_a, NULL);
	struct kvmexit_profile_totals t;

	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 2);
	ck_assert_uint_eq(r[0].interval.reason, HLT);
	ck_assert_uint_eq(r[0].interval.count, 3);
	ck_assert_uint_eq(r[0].interval.time_min, 1000);
	ck_assert_uint_eq(r[0].interval.time_p50, 1000);
	ck_assert_double_eq(r[0].rate, 0);
	ck_assert_uint_eq(r[1].interval.count, 2);
	kvmexit_delta_free(d);
	kvmexit_snapshot_totals(snap_a, &t);
	ck_assert_uint_eq(t.exits, 5);
	ck_assert_uint_eq(kvmexit_snapshot_time(snap_a), SEC);
}
END_TEST

START_TEST(mismatch_and_bad_options)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_REASON,
					.all_reasons = true };
	struct kvmexit_profile *other;
	struct kvmexit_snapshot *s;
	struct kvmexit_delta *d;

	ck_assert_int_eq(kvmexit_delta_new(snap_b, snap_a, NULL, &d), -KVMEXIT_EMISMATCH);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(kvmexit_delta_new(snap_a, snap_b, &o, &d), -EINVAL);
	o = (struct kvmexit_delta_opts){ .sz = sizeof(o), .base = snap_b };
	ck_assert_int_eq(kvmexit_delta_new(snap_a, snap_a, &o, &d), -KVMEXIT_EMISMATCH);
	/* A snapshot of another profile, later but with fewer exits. */
	ck_assert_int_eq(kvmexit_profile_new(NULL, &other), 0);
	ck_assert_int_eq(kvmexit_snapshot_new(other, 5 * SEC, &s), 0);
	ck_assert_int_eq(kvmexit_delta_new(snap_b, s, NULL, &d), -KVMEXIT_EMISMATCH);
	kvmexit_snapshot_free(s);
	kvmexit_profile_free(other);
	ck_assert_int_eq(kvmexit_snapshot_new(NULL, 0, &s), -EINVAL);
}
END_TEST

/* Counted exits (no pid, no vCPU, no times) and the stamp 0. */
START_TEST(counted_exits)
{
	struct kvmexit_profile *p;
	struct kvmexit_snapshot *s0, *s1;
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = KVMEXIT_GROUP_PID };
	const struct kvmexit_delta_row *r;
	struct kvmexit_delta *d;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &p), 0);
	ck_assert_int_eq(kvmexit_profile_add_count(p, KVMEXIT_ISA_SVM, 0x78, 0, 10), 0);
	ck_assert_int_eq(kvmexit_snapshot_new(p, 2 * SEC, &s0), 0);
	ck_assert_int_eq(kvmexit_profile_add_count(p, KVMEXIT_ISA_SVM, 0x78, 0, 30), 0);
	ck_assert_int_eq(kvmexit_snapshot_new(p, 4 * SEC, &s1), 0);
	ck_assert_int_eq(kvmexit_delta_new(s0, s1, &o, &d), 0);
	ck_assert_uint_eq(kvmexit_delta_rows(d, &r), 1);
	ck_assert_int_eq(r[0].interval.pid, -1);
	ck_assert_uint_eq(r[0].interval.count, 30);
	ck_assert_uint_eq(r[0].interval.timed, 0);
	ck_assert_uint_eq(r[0].interval.time_p99, 0);
	ck_assert_double_eq(r[0].rate, 15.0);
	ck_assert_uint_eq(r[0].total.count, 40);
	ck_assert_uint_eq(kvmexit_delta_summary(d)->interval.nr_pids, 0);
	kvmexit_delta_free(d);
	kvmexit_snapshot_free(s0);
	kvmexit_snapshot_free(s1);
	kvmexit_profile_free(p);
}
END_TEST

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("delta");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, interval_by_reason);
	tcase_add_test(tc, per_process_and_vcpu);
	tcase_add_test(tc, one_process);
	tcase_add_test(tc, keep_filter);
	tcase_add_test(tc, base_resets_totals);
	tcase_add_test(tc, from_start_and_immutable);
	tcase_add_test(tc, mismatch_and_bad_options);
	tcase_add_test(tc, counted_exits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(snapshot_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
