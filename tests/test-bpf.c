// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF source's pure parts, which must agree exactly with the sampled
 * path: the histogram bucket the BPF program computes (kx_bpf_hist_index()
 * against kx_hist_index()), the detail keys of exits whose fields it keeps
 * only masked (kx_exit_detail_masks()), and cells written to a capture and
 * read back into a profile (the same rows and percentiles as a profile fed
 * the same exits one by one).  The live source is tests/bpf-record.sh and
 * the lab's run-bpf.
 */
#include <check.h>
#include <fcntl.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-skip.h"
#include "internal.h"
#include "bpf/kvmexit-bpf.h"

START_TEST(hist_index_matches)
{
	for (uint64_t v = 0; v < 300000; v++)
		ck_assert_uint_eq(kx_bpf_hist_index(v), kx_hist_index(v));
	for (unsigned int i = 0; i < KX_HIST_BUCKETS; i++) {
		uint64_t lo = kx_hist_bucket_low(i), hi = lo + kx_hist_bucket_width(i) - 1;

		ck_assert_uint_eq(kx_bpf_hist_index(lo), i);
		ck_assert_uint_eq(kx_bpf_hist_index(lo), kx_hist_index(lo));
		ck_assert_uint_eq(kx_bpf_hist_index(hi), kx_hist_index(hi));
		if (lo)
			ck_assert_uint_eq(kx_bpf_hist_index(lo - 1), kx_hist_index(lo - 1));
	}
	ck_assert_uint_eq(kx_bpf_hist_index(1ull << 44), KX_HIST_BUCKETS - 1);
	ck_assert_uint_eq(kx_bpf_hist_index(UINT64_MAX), kx_hist_index(UINT64_MAX));
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The masks table lib/bpf.c gives the program, by slot. */
static struct kx_bpf_mask masks[KX_BPF_SLOTS];

static void fill_masks(void)
{
	for (int isa = KVMEXIT_ISA_VMX; isa <= KVMEXIT_ISA_SVM; isa++) {
		size_t nr;
		const struct kvmexit_reason *t = kvmexit_reason_table(isa, &nr);

		for (size_t i = 0; i < nr; i++) {
			uint32_t slot = kx_bpf_slot(isa, t[i].code);
			uint64_t m1;
			uint32_t m2;

			if (slot >= KX_BPF_SLOTS)
				continue;
			kx_exit_detail_masks(isa, t[i].code, &m1, &m2);
			masks[slot].info1 = m1;
			masks[slot].intr_info = m2;
		}
	}
}

/* What the program keeps of an exit, as kvmexit_exit_detail() sees it. */
static uint32_t detail_as_bpf(const struct kvmexit_exit *x)
{
	struct kvmexit_exit m = { .isa = x->isa, .exit_reason = x->exit_reason };
	uint32_t slot = kx_bpf_slot(x->isa, x->exit_reason);

	if (slot < KX_BPF_SLOTS) {
		m.info1 = x->info1 & masks[slot].info1;
		m.intr_info = x->intr_info & masks[slot].intr_info;
	}
	return kvmexit_exit_detail(&m);
}

START_TEST(detail_masks_exact)
{
	unsigned int with_detail = 0;

	fill_masks();
	for (int isa = KVMEXIT_ISA_VMX; isa <= KVMEXIT_ISA_SVM; isa++) {
		size_t nr;
		const struct kvmexit_reason *t = kvmexit_reason_table(isa, &nr);

		for (size_t i = 0; i < nr; i++) {
			for (int k = 0; k < 2000; k++) {
				struct kvmexit_exit x = {
					.isa = isa, .exit_reason = t[i].code,
					.info1 = next_rand(), .intr_info = (uint32_t)next_rand(),
					.info2 = next_rand(), .error_code = (uint32_t)next_rand(),
				};

				/* small values too: SVM msr's 0/1, I/O ports */
				if (k & 1)
					x.info1 &= 0xffff00ffull;
				if (k % 7 == 0)
					x.info1 &= 1;
				if (isa == KVMEXIT_ISA_VMX && k % 5 == 0)
					x.exit_reason |= KVMEXIT_VMX_FLAG_FAILED_VMENTRY;
				if (isa == KVMEXIT_ISA_VMX && k % 11 == 0)
					x.exit_reason |= KVMEXIT_VMX_FLAG_BUS_LOCK;
				ck_assert_msg(detail_as_bpf(&x) == kvmexit_exit_detail(&x),
					      "isa %d reason 0x%x info1 0x%llx intr 0x%x: %u vs %u",
					      isa, x.exit_reason, (unsigned long long)x.info1,
					      x.intr_info, detail_as_bpf(&x), kvmexit_exit_detail(&x));
				with_detail += kvmexit_exit_detail(&x) != 0;
			}
		}
	}
	ck_assert_uint_gt(with_detail, 10000);	/* the detail reasons were exercised */
}
END_TEST

/* Exit-handling times of the test's exits: from 40 ns to about 3 ms. */
static uint64_t duration(unsigned int i)
{
	return 40 + (uint64_t)i * i * 7 + (i % 13) * 1000;
}

#define NR_TIMED 600

START_TEST(cells_round_trip)
{
	char path[] = "/tmp/kvmexit-test-bpf.XXXXXX", err[512], *fmt = NULL;
	struct kvmexit_meta meta = { .isa = KVMEXIT_ISA_SVM, .start_ns = 1000,
				     .end_ns = 1000 + 2000000000ull };
	struct kvmexit_writer_opts wo = { .sz = sizeof(wo), .force = true, .meta = &meta };
	struct kx_cell_rec npf = { .isa = KVMEXIT_ISA_SVM, .reason = 0x400, .pid = 77, .vcpu = 1,
				   .count = NR_TIMED + 2, .min = UINT64_MAX };
	struct kx_cell_rec hlt = { .isa = KVMEXIT_ISA_SVM, .reason = 0x78, .pid = 77, .vcpu = 0,
				   .count = 3 };
	struct kx_pio_rec pio = { .pid = 77, .rw = 1, .port = 0x8a, .size = 1, .count = 1000 };
	struct kx_hist h = { 0 };
	struct kx_bucket b[KX_HIST_BUCKETS];
	struct kx_counts cells = { 0 };
	struct kvmexit_profile *got, *want;
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rg, *rw;
	struct kvmexit_writer *w;
	size_t nb = 0, len;
	int fd, n;
	FILE *f;

	/* The cell as the program leaves it: its times and their buckets. */
	for (unsigned int i = 0; i < NR_TIMED; i++) {
		uint64_t d = duration(i);

		ck_assert_int_eq(kx_hist_add_bucket(&h, kx_bpf_hist_index(d), 1), 0);
		npf.timed++;
		npf.total += d;
		npf.min = d < npf.min ? d : npf.min;
		npf.max = d > npf.max ? d : npf.max;
	}
	for (unsigned int i = 0; i < KX_HIST_BUCKETS; i++)
		if (kx_hist_count(&h, i))
			b[nb++] = (struct kx_bucket){ .idx = i, .count = kx_hist_count(&h, i) };
	kx_hist_release(&h);
	npf.detail = kvmexit_exit_detail(&(struct kvmexit_exit){ .isa = KVMEXIT_ISA_SVM,
							      .exit_reason = 0x400, .info1 = 2 });
	ck_assert_int_eq(kx_counts_add_cell(&cells, &npf, b, nb), 0);
	ck_assert_int_eq(kx_counts_add_cell(&cells, &hlt, NULL, 0), 0);
	ck_assert_int_eq(kx_counts_add_pio(&cells, &pio), 0);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(kvmexit_writer_open(path, &wo, &w, err, sizeof(err)), 0);
	f = fopen(TESTS_DATADIR "/kvm_exit.format.6.1.txt", "r");
	ck_assert_ptr_nonnull(f);
	len = 0;
	ck_assert_int_eq(getdelim(&fmt, &len, '\0', f) > 0, 1);
	fclose(f);
	ck_assert_int_eq(kvmexit_writer_add_tracepoint(w, "kvm", fmt), 0);
	free(fmt);
	ck_assert_int_eq(kx_writer_add_cells(w, &cells), 0);
	ck_assert_int_eq(kvmexit_writer_close(w, err, sizeof(err)), 0);
	kx_counts_release(&cells);

	ck_assert_msg(kvmexit_profile_load(path, NULL, &got, err, sizeof(err)) == 0, "%s", err);
	unlink(path);
	ck_assert(kvmexit_profile_meta(got)->counts_only);
	kvmexit_profile_totals(got, &t);
	ck_assert_uint_eq(t.exits, NR_TIMED + 5);
	ck_assert_uint_eq(t.timed, NR_TIMED);
	ck_assert_uint_eq(t.other_events, 1000);
	ck_assert_uint_eq(t.nr_vcpus, 2);
	ck_assert_uint_eq(t.nr_pids, 1);
	ck_assert_uint_eq(t.duration_ns, 2000000000ull);

	/* The same exits one by one: the same rows, the same percentiles. */
	ck_assert_int_eq(kvmexit_profile_new(NULL, &want), 0);
	kvmexit_profile_set_meta(want, &meta);
	for (unsigned int i = 0; i < NR_TIMED + 2; i++) {
		struct kvmexit_event ex = {
			.type = KVMEXIT_EV_EXIT, .time = 10000ull * i, .pid = 77, .tid = 78,
			.vcpu = 1, .exit = { .isa = KVMEXIT_ISA_SVM, .exit_reason = 0x400, .info1 = 2 },
		};
		struct kvmexit_event en = { .type = KVMEXIT_EV_ENTRY, .pid = 77, .tid = 78, .vcpu = 1 };

		ck_assert_int_eq(kvmexit_profile_add_event(want, &ex), 0);
		en.time = ex.time + (i < NR_TIMED ? duration(i) : 0);
		if (i < NR_TIMED)
			ck_assert_int_eq(kvmexit_profile_add_event(want, &en), 0);
	}
	for (unsigned int i = 0; i < 3; i++) {
		struct kvmexit_event ex = {
			.type = KVMEXIT_EV_EXIT, .time = 1ull << 40, .pid = 77, .tid = 79,
			.exit = { .isa = KVMEXIT_ISA_SVM, .exit_reason = 0x78 },
		};

		ck_assert_int_eq(kvmexit_profile_add_event(want, &ex), 0);
	}
	for (int g = KVMEXIT_GROUP_REASON; g <= KVMEXIT_GROUP_PID; g++) {
		n = kvmexit_profile_stats(got, g, &rg);
		ck_assert_int_eq(kvmexit_profile_stats(want, g, &rw), n);
		ck_assert_int_eq(n, 2);
		for (int i = 0; i < n; i++) {
			/* in-kernel cells estimate the spread from their buckets */
			ck_assert_msg(rg[i].time_stddev <= rw[i].time_stddev * 1.02 + 1 &&
				      rg[i].time_stddev + 1 >= rw[i].time_stddev * 0.98,
				      "row %d: stddev %llu, sampled %llu", i,
				      (unsigned long long)rg[i].time_stddev,
				      (unsigned long long)rw[i].time_stddev);
			rg[i].time_stddev = rw[i].time_stddev;
			ck_assert_msg(!memcmp(&rg[i], &rw[i], sizeof(rg[i])),
				      "group %d row %d: count %llu/%llu p50 %llu/%llu p99 %llu/%llu",
				      g, i, (unsigned long long)rg[i].count,
				      (unsigned long long)rw[i].count,
				      (unsigned long long)rg[i].time_p50,
				      (unsigned long long)rw[i].time_p50,
				      (unsigned long long)rg[i].time_p99,
				      (unsigned long long)rw[i].time_p99);
		}
		kvmexit_stats_free(rg);
		kvmexit_stats_free(rw);
	}
	kvmexit_profile_free(got);
	kvmexit_profile_free(want);
}
END_TEST

static const char *const bad_cells[] = {
	"cell=2,1024,0,7,0,3,2,10,4,6,4:1\n",		/* buckets sum 1, timed 2 */
	"cell=2,1024,0,7,0,3,1,10,4,6,1280:1\n",	/* no such bucket */
	"cell=2,1024,0,7,0,3,2,10,4,6,5:1 4:1\n",	/* out of order */
	"cell=2,1024,0,7,0,1,2,10,4,6,4:1 5:1\n",	/* timed > count */
	"cell=2,1024,0,-2,0,3,0,0,0,0,\n",		/* pid -2 */
	"cell=3,1024,0,7,0,3,0,0,0,0,\n",		/* ISA 3 */
	"cell=2,1024,0,7,0,3,1,10,6,4,5:1\n",		/* min > max */
	"cell=2,1024,0,7,0,3,0,0,0,0\n",		/* no bucket list */
	"cell=2,1024,0,7,0,3,1,10,4,6,5:0\n",		/* empty bucket */
	"pio=7,2,138,1,5\n",				/* rw 2 */
	"pio=7,1,70000,1,5\n",				/* port */
	"pio=7,1,138,1,5,\n",
};

START_TEST(bad_cell_lines)
{
	char text[256];
	struct kvmexit_meta m = { 0 };
	struct kx_counts c = { 0 };

	snprintf(text, sizeof(text), "kvmexit-meta 1\n%s", bad_cells[_i]);
	ck_assert_int_eq(kx_meta_decode(text, strlen(text), &m, &c), -KVMEXIT_EFORMAT);
	kx_counts_release(&c);
}
END_TEST

/*
 * A live view reads the maps into the same profile again and again
 * (kvmexit_recorder_read_profile()): each read replaces what the last one
 * put there, and the profile's tables keep working (its hash key stays).
 */
START_TEST(cells_set_twice)
{
	struct kx_cell_rec cell = {
		.isa = KVMEXIT_ISA_SVM, .reason = 0x400, .pid = 7, .vcpu = 0,
		.count = 5, .timed = 3, .total = 300, .min = 90, .max = 110, .nr = 1,
	};
	struct kx_bucket b = { .idx = kx_hist_index(100), .count = 3 };
	struct kx_counts c = { 0 };
	struct kvmexit_profile *p;
	struct kvmexit_profile_totals t;

	ck_assert_int_eq(kx_counts_add_cell(&c, &cell, &b, 1), 0);
	ck_assert_int_eq(kvmexit_profile_new(NULL, &p), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(kx_profile_set_cells(p, &c), 0);
		kvmexit_profile_totals(p, &t);
		ck_assert_uint_eq(t.exits, 5);
		ck_assert_uint_eq(t.timed, 3);
	}
	kvmexit_profile_free(p);
	kx_counts_release(&c);
}
END_TEST

START_TEST(good_cell_lines)
{
	static const char text[] = "kvmexit-meta 1\ncounts_only=1\n"
				   "cell=2,1024,65538,7,-1,3,2,10,4,6,4:1 5:1\n"
				   "cell=1,30,0,-1,-1,1,0,0,0,0,\npio=7,0,112,2,9\nfuture=1\n";
	struct kvmexit_meta m = { 0 };
	struct kx_counts c = { 0 };

	ck_assert_int_eq(kx_meta_decode(text, sizeof(text) - 1, &m, &c), 0);
	ck_assert_uint_eq(c.nr_cells, 2);
	ck_assert_uint_eq(c.cells[0].detail, 65538);
	ck_assert_int_eq(c.cells[0].vcpu, -1);
	ck_assert_uint_eq(c.cells[0].nr, 2);
	ck_assert_uint_eq(c.buckets[c.cells[0].first + 1].idx, 5);
	ck_assert_int_eq(c.cells[1].pid, -1);
	ck_assert_uint_eq(c.cells[1].nr, 0);
	ck_assert_uint_eq(c.nr_pios, 1);
	ck_assert_uint_eq(c.pios[0].port, 112);
	ck_assert_uint_eq(c.pios[0].count, 9);
	kx_counts_release(&c);
}
END_TEST

/*
 * A --bpf capture from the lab (tests/lab/run-bpf, kvm_amd npt=0, Linux
 * 6.1, kvmexit-guest size 1: W=200, T=1, R=20, C=50, N=50), read as any
 * capture: the formula counts per reason and detail, every exit timed but
 * the final hlt, one vCPU of one process.
 */
START_TEST(lab_capture)
{
	static const struct { const char *name; uint64_t count; } want[] = {
		{ "invlpg", 400 }, { "PF excp/write-notpresent", 201 },
		{ "PF excp/read-notpresent", 200 }, { "cpuid", 50 }, { "io/out:0x80", 50 },
		{ "read_cr3", 20 }, { "write_cr3", 20 }, { "io/out:0xe9", 6 },
		{ "PF excp/fetch-notpresent", 1 }, { "hlt", 1 },
	};
	struct kvmexit_profile *p;
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;
	char err[512], name[64], det[32];
	int n, found = 0;

	ck_assert_msg(kvmexit_profile_load(TESTS_DATADIR "/lab-npt0.bpf.data", NULL, &p, err,
					   sizeof(err)) == 0, "%s", err);
	kvmexit_profile_totals(p, &t);
	ck_assert_uint_eq(t.timed, t.exits - 1);
	ck_assert_uint_eq(t.nr_vcpus, 1);
	ck_assert_uint_eq(t.nr_pids, 1);
	ck_assert_int_eq(t.isa, KVMEXIT_ISA_SVM);
	n = kvmexit_profile_stats(p, KVMEXIT_GROUP_DETAIL, &rows);
	ck_assert_int_gt(n, 0);
	for (int i = 0; i < n; i++) {
		kvmexit_reason_name(rows[i].isa, rows[i].reason, name, sizeof(name));
		if (rows[i].detail) {
			kvmexit_detail_name(rows[i].isa, rows[i].reason, rows[i].detail, det,
					    sizeof(det));
			strcat(name, "/");
			strcat(name, det);
		}
		if (!strcmp(name, "interrupt"))
			continue;	/* host timer ticks: any number */
		for (size_t j = 0; j < sizeof(want) / sizeof(want[0]); j++) {
			if (strcmp(name, want[j].name))
				continue;
			ck_assert_msg(rows[i].count == want[j].count, "%s: %llu, want %llu", name,
				      (unsigned long long)rows[i].count,
				      (unsigned long long)want[j].count);
			found++;
		}
	}
	ck_assert_int_eq(found, (int)(sizeof(want) / sizeof(want[0])));
	ck_assert_int_eq(n, found + 1);		/* and interrupt */
	kvmexit_stats_free(rows);
	kvmexit_profile_free(p);
}
END_TEST

/*
 * The live source through the public API: a --bpf recorder around
 * tests/pio-guest (its kvm_pio: this host's KVM has no kvm_exit), read
 * into a profile with kvmexit_recorder_read_profile().  Root, /dev/kvm
 * and a kernel that loads the program, else it says why it skipped.
 */
START_TEST(live_read_profile)
{
	const char *b = getenv("top_builddir");
	char guest[4096], err[512];
	char *argv[] = { guest, (char *)"500", NULL };
	struct kvmexit_record_opts o = {
		.sz = sizeof(o), .target = KVMEXIT_TARGET_COMMAND, .argv = argv, .bpf = true,
		.events = KVMEXIT_EVENTS_DEFAULT | KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO),
	};
	struct kvmexit_record_opts so = { .sz = sizeof(so), .target = KVMEXIT_TARGET_COMMAND,
					   .argv = argv };
	struct kvmexit_recorder *rec;
	struct kvmexit_profile *prof;
	struct kvmexit_profile_totals t;
	int ret;

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
	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
	ck_assert_int_eq(kvmexit_recorder_read_profile(rec, prof), 0);	/* before: nothing */
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.other_events, 0);
	while ((ret = kvmexit_recorder_run(rec, 100)) > 0)
		ck_assert_int_eq(kvmexit_recorder_read_profile(rec, prof), 0);
	ck_assert_msg(ret == 0, "%s", kvmexit_recorder_errmsg(rec));
	ck_assert_int_eq(kvmexit_recorder_read_profile(rec, prof), 0);
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.other_events, 500);
	ck_assert_uint_eq(t.exits, 0);		/* no kvm_exit on this host's KVM */
	ck_assert_int_eq(kvmexit_recorder_read_profile(rec, prof), 0);	/* again: the same */
	kvmexit_profile_totals(prof, &t);
	ck_assert_uint_eq(t.other_events, 500);
	kvmexit_recorder_free(rec);

	/* A sampled recorder has no in-kernel profile to read. */
	ck_assert_int_eq(kvmexit_recorder_new(&so, &rec, err, sizeof(err)), 0);
	ck_assert_int_eq(kvmexit_recorder_read_profile(rec, prof), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(kvmexit_recorder_errmsg(rec), "only --bpf"));
	kvmexit_recorder_free(rec);
	kvmexit_profile_free(prof);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("bpf");
	TCase *tc = tcase_create("bpf");

	tcase_add_test(tc, hist_index_matches);
	tcase_add_test(tc, detail_masks_exact);
	tcase_add_test(tc, cells_round_trip);
	tcase_add_loop_test(tc, bad_cell_lines, 0, sizeof(bad_cells) / sizeof(bad_cells[0]));
	tcase_add_test(tc, cells_set_twice);
	tcase_add_test(tc, good_cell_lines);
	tcase_add_test(tc, lab_capture);
	tcase_add_test(tc, live_read_profile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
