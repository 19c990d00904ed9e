// SPDX-License-Identifier: GPL-2.0-only
/*
 * Port, MMIO and MSR accesses, event by event: perf kvm stat's pairing
 * rules (begin, end, a begin replacing a pending one, nothing before a
 * thread's first kvm_entry, MMIO reads from the exit, a read after a write
 * timed under the write's address, an end before its begin), counts of
 * untimed accesses, ordering, and a profile without opts.accesses.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "check-skip.h"
#include "kvmexit.h"

static struct kvmexit_profile *prof;

static void setup(void)
{
	struct kvmexit_profile_opts o = { .sz = sizeof(o), .accesses = true };

	ck_assert_int_eq(kvmexit_profile_new(&o, &prof), 0);
}

static void teardown(void)
{
	kvmexit_profile_free(prof);
	prof = NULL;
}

static void ev_add(enum kvmexit_event_type type, uint64_t t, int32_t tid)
{
	struct kvmexit_event ev = { .type = type, .time = t, .pid = 1, .tid = tid };

	if (type == KVMEXIT_EV_EXIT)
		ev.exit = (struct kvmexit_exit){ .isa = KVMEXIT_ISA_VMX, .exit_reason = 30 };
	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

static void pio(uint64_t t, int32_t tid, uint32_t port, bool out)
{
	struct kvmexit_event ev = { .type = KVMEXIT_EV_PIO, .time = t, .pid = 1, .tid = tid,
				    .pio = { .rw = out, .port = port, .size = 1, .count = 1 } };

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

static void mmio(uint64_t t, int32_t tid, uint32_t type, uint64_t gpa)
{
	struct kvmexit_event ev = { .type = KVMEXIT_EV_MMIO, .time = t, .pid = 1, .tid = tid,
				    .mmio = { .type = type, .len = 4, .gpa = gpa } };

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

static void msr(uint64_t t, int32_t tid, uint32_t ecx, bool write)
{
	struct kvmexit_event ev = { .type = KVMEXIT_EV_MSR, .time = t, .pid = 1, .tid = tid,
				    .msr = { .write = write, .ecx = ecx } };

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &ev), 0);
}

static int rows(enum kvmexit_access_kind kind, struct kvmexit_access_stat **r)
{
	int n = kvmexit_profile_accesses(prof, kind, r);

	ck_assert_int_ge(n, 0);
	return n;
}

START_TEST(ioport_rules)
{
	struct kvmexit_access_stat *r;

	pio(10, 7, 0x70, true);			/* before the thread's first entry: untimed */
	ev_add(KVMEXIT_EV_ENTRY, 20, 7);
	ev_add(KVMEXIT_EV_EXIT, 100, 7);
	pio(110, 7, 0x70, true);
	ev_add(KVMEXIT_EV_ENTRY, 150, 7);	/* 40 */
	ev_add(KVMEXIT_EV_EXIT, 200, 7);
	pio(210, 7, 0x71, false);
	pio(230, 7, 0x70, true);		/* replaces the pending in 0x71 */
	ev_add(KVMEXIT_EV_ENTRY, 300, 7);	/* 70 for 0x70 out */
	ev_add(KVMEXIT_EV_ENTRY, 400, 7);	/* nothing pending */
	pio(500, 8, 0x70, true);		/* another thread, never entered */
	ev_add(KVMEXIT_EV_ENTRY, 600, 8);
	ck_assert_int_eq(rows(KVMEXIT_ACCESS_IOPORT, &r), 2);
	ck_assert_uint_eq(r[0].key, 0x70);
	ck_assert(r[0].write);
	ck_assert_uint_eq(r[0].count, 4);
	ck_assert_uint_eq(r[0].timed, 2);
	ck_assert_uint_eq(r[0].time_total, 110);
	ck_assert_uint_eq(r[0].time_min, 40);
	ck_assert_uint_eq(r[0].time_max, 70);
	ck_assert_double_eq_tol(r[0].time_stddev, sqrt(450.0), 1e-9);
	ck_assert_uint_eq(r[1].key, 0x71);
	ck_assert(!r[1].write);
	ck_assert_uint_eq(r[1].count, 1);
	ck_assert_uint_eq(r[1].timed, 0);
	ck_assert_uint_eq(r[1].time_total, 0);
	kvmexit_access_stats_free(r);
	ck_assert_int_eq(rows(KVMEXIT_ACCESS_MSR, &r), 0);
	kvmexit_access_stats_free(r);
}
END_TEST

START_TEST(mmio_rules)
{
	struct kvmexit_access_stat *r;

	ev_add(KVMEXIT_EV_ENTRY, 1, 7);
	/* a read: from its exit to the kvm_mmio read */
	ev_add(KVMEXIT_EV_EXIT, 100, 7);
	mmio(120, 7, 0, 0xfee00000);		/* unsatisfied: neither counted nor an end */
	mmio(130, 7, 1, 0xfee00000);		/* 30 */
	ev_add(KVMEXIT_EV_ENTRY, 140, 7);
	/* a write: from the kvm_mmio write to the entry */
	ev_add(KVMEXIT_EV_EXIT, 200, 7);
	mmio(210, 7, 2, 0xfee00300);
	ev_add(KVMEXIT_EV_ENTRY, 260, 7);	/* 50 */
	/* a read after a write, with no entry between: the write's address */
	ev_add(KVMEXIT_EV_EXIT, 300, 7);
	mmio(305, 7, 2, 0xfee00300);
	mmio(325, 7, 1, 0xfee00000);		/* 20, under 0xfee00300 W */
	ev_add(KVMEXIT_EV_ENTRY, 330, 7);
	/* an exit without MMIO, then an entry: nothing; the exit stays pending */
	ev_add(KVMEXIT_EV_EXIT, 400, 7);
	ev_add(KVMEXIT_EV_ENTRY, 410, 7);
	mmio(450, 7, 1, 0xfee00000);		/* 50: from the exit at 400 (perf does so) */
	ck_assert_int_eq(rows(KVMEXIT_ACCESS_MMIO, &r), 2);
	/* equal timed (2): the most counted first, 0xfee00000 R (3) */
	ck_assert_uint_eq(r[0].key, 0xfee00000);
	ck_assert(!r[0].write);
	ck_assert_uint_eq(r[0].count, 3);
	ck_assert_uint_eq(r[0].timed, 2);
	ck_assert_uint_eq(r[0].time_total, 80);
	ck_assert_uint_eq(r[1].key, 0xfee00300);
	ck_assert(r[1].write);
	ck_assert_uint_eq(r[1].count, 2);
	ck_assert_uint_eq(r[1].timed, 2);
	ck_assert_uint_eq(r[1].time_total, 70);
	ck_assert_uint_eq(r[1].time_min, 20);
	ck_assert_uint_eq(r[1].time_max, 50);
	kvmexit_access_stats_free(r);
}
END_TEST

START_TEST(msr_rules)
{
	struct kvmexit_access_stat *r;

	ev_add(KVMEXIT_EV_ENTRY, 1, 7);
	msr(100, 7, 0x6e0, true);
	ev_add(KVMEXIT_EV_ENTRY, 190, 7);	/* 90 */
	msr(200, 7, 0x6e0, true);
	ev_add(KVMEXIT_EV_ENTRY, 150, 7);	/* earlier than its begin: untimed */
	msr(300, 7, 0x10, false);
	msr(310, 7, 0x10, false);
	ev_add(KVMEXIT_EV_ENTRY, 320, 7);	/* 10 */
	ck_assert_int_eq(rows(KVMEXIT_ACCESS_MSR, &r), 2);
	/* equal timed and counted: by key */
	ck_assert_uint_eq(r[0].key, 0x10);
	ck_assert(!r[0].write);
	ck_assert_uint_eq(r[0].count, 2);
	ck_assert_uint_eq(r[0].timed, 1);
	ck_assert_uint_eq(r[0].time_total, 10);
	ck_assert_uint_eq(r[1].key, 0x6e0);
	ck_assert(r[1].write);
	ck_assert_uint_eq(r[1].count, 2);
	ck_assert_uint_eq(r[1].timed, 1);
	ck_assert_uint_eq(r[1].time_total, 90);
	ck_assert_double_eq(r[1].time_stddev, 0);
	kvmexit_access_stats_free(r);
	ck_assert_int_eq(kvmexit_profile_accesses(prof, KVMEXIT_ACCESS__MAX, &r), -EINVAL);
}
END_TEST

START_TEST(off_by_default)
{
	struct kvmexit_access_stat *r;
	struct kvmexit_profile *p;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &p), 0);
	ck_assert_int_eq(kvmexit_profile_accesses(p, KVMEXIT_ACCESS_IOPORT, &r), 0);
	kvmexit_access_stats_free(r);
	kvmexit_profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("access");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ioport_rules);
	tcase_add_test(tc, mmio_rules);
	tcase_add_test(tc, msr_rules);
	tcase_add_test(tc, off_by_default);
	suite_add_tcase(s, tc);
	return check_run(s);
}
