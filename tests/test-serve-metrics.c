// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exporter's numbers: histogram bounds and exact cumulative counts
 * (libkvmexit), and the metrics model of kvmexit serve (tool/metrics.c):
 * exact pages, label escaping, format negotiation, the series limit and
 * gone VMs, on hand-built event streams and a fake clock.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-skip.h"
#include "kvmexit.h"
#include "../tool/metrics.h"

enum { CPUID = 10, HLT = 12, IO = 30 };

static struct kvmexit_profile *prof;

static void ev(enum kvmexit_event_type type, uint64_t t, int pid, int tid, uint32_t reason)
{
	struct kvmexit_event e = {
		.type = type, .time = t, .pid = pid, .tid = tid, .vcpu = (uint32_t)(tid % 100),
		.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = reason },
	};

	ck_assert_int_eq(kvmexit_profile_add_event(prof, &e), 0);
}

/* An exit of thread tid of pid, handled in dt ns. */
static void timed(uint64_t *t, int pid, int tid, uint32_t reason, uint64_t dt)
{
	ev(KVMEXIT_EV_EXIT, *t, pid, tid, reason);
	ev(KVMEXIT_EV_ENTRY, *t + dt, pid, tid, 0);
	*t += dt + 1000;
}

static void setup(void)
{
	ck_assert_int_eq(kvmexit_profile_new(NULL, &prof), 0);
}

static void teardown(void)
{
	kvmexit_profile_free(prof);
	prof = NULL;
}

START_TEST(test_bounds)
{
	uint64_t b[64];

	ck_assert_int_eq(kvmexit_profile_time_bounds(2, 7, 9, b, 64), 5);
	ck_assert_uint_eq(b[0], 127);
	ck_assert_uint_eq(b[1], 191);
	ck_assert_uint_eq(b[2], 255);
	ck_assert_uint_eq(b[3], 383);
	ck_assert_uint_eq(b[4], 511);
	ck_assert_int_eq(kvmexit_profile_time_bounds(4, 10, 11, b, 64), 5);
	ck_assert_uint_eq(b[1], 1279);
	ck_assert_uint_eq(b[3], 1791);
	/* The count comes back whatever max is, as snprintf. */
	ck_assert_int_eq(kvmexit_profile_time_bounds(2, 7, 26, NULL, 0), 39);
	ck_assert_int_eq(kvmexit_profile_time_bounds(3, 7, 9, b, 64), -EINVAL);
	ck_assert_int_eq(kvmexit_profile_time_bounds(64, 7, 9, b, 64), -EINVAL);
	ck_assert_int_eq(kvmexit_profile_time_bounds(2, 5, 9, b, 64), -EINVAL);
	ck_assert_int_eq(kvmexit_profile_time_bounds(2, 9, 7, b, 64), -EINVAL);
	ck_assert_int_eq(kvmexit_profile_time_bounds(2, 7, 41, b, 64), -EINVAL);
}
END_TEST

/* A snapshot of the profile and its rows in group g (all since the start). */
static size_t snap_rows(enum kvmexit_group g, struct kvmexit_snapshot **snap,
			struct kvmexit_stat *rows, size_t max)
{
	struct kvmexit_delta_opts o = { .sz = sizeof(o), .group = g };
	const struct kvmexit_delta_row *dr;
	struct kvmexit_delta *d;
	size_t n;

	ck_assert_int_eq(kvmexit_snapshot_new(prof, 0, snap), 0);
	ck_assert_int_eq(kvmexit_delta_new(NULL, *snap, &o, &d), 0);
	n = kvmexit_delta_rows(d, &dr);
	ck_assert_uint_le(n, max);
	for (size_t i = 0; i < n; i++)
		rows[i] = dr[i].total;
	kvmexit_delta_free(d);
	return n;
}

START_TEST(test_counts_exact)
{
	uint64_t t = 1000, b[5], c[5];
	struct kvmexit_snapshot *snap;
	struct kvmexit_stat rows[8];
	size_t n;

	kvmexit_profile_time_bounds(2, 7, 9, b, 5);	/* 127 191 255 383 511 */
	/* Values on both sides of each bound: 127|128, 191|192, 255|256. */
	timed(&t, 1, 101, CPUID, 100);
	timed(&t, 1, 101, CPUID, 127);
	timed(&t, 1, 101, CPUID, 128);
	timed(&t, 1, 102, CPUID, 191);
	timed(&t, 2, 201, CPUID, 192);
	timed(&t, 2, 201, CPUID, 255);
	timed(&t, 2, 201, CPUID, 256);
	timed(&t, 2, 201, CPUID, 5000);
	ev(KVMEXIT_EV_EXIT, t, 2, 201, HLT);		/* untimed */
	n = snap_rows(KVMEXIT_GROUP_REASON, &snap, rows, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(rows[0].reason, CPUID);
	ck_assert_int_eq(kvmexit_snapshot_time_counts(snap, KVMEXIT_GROUP_REASON, &rows[0], b, 5, c), 0);
	ck_assert_uint_eq(c[0], 2);
	ck_assert_uint_eq(c[1], 4);
	ck_assert_uint_eq(c[2], 6);
	ck_assert_uint_eq(c[3], 7);
	ck_assert_uint_eq(c[4], 7);			/* 5000 is above every bound */
	ck_assert_int_eq(kvmexit_snapshot_time_counts(snap, KVMEXIT_GROUP_REASON, &rows[1], b, 5, c), 0);
	ck_assert_uint_eq(c[4], 0);
	kvmexit_snapshot_free(snap);

	/* Per pid: only that VM's cells. */
	n = snap_rows(KVMEXIT_GROUP_PID, &snap, rows, 8);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].reason != CPUID)
			continue;
		ck_assert_int_eq(kvmexit_snapshot_time_counts(snap, KVMEXIT_GROUP_PID, &rows[i], b, 5, c), 0);
		if (rows[i].pid == 1) {
			ck_assert_uint_eq(c[0], 2);
			ck_assert_uint_eq(c[1], 4);
			ck_assert_uint_eq(c[4], 4);
		} else {
			ck_assert_int_eq(rows[i].pid, 2);
			ck_assert_uint_eq(c[1], 0);
			ck_assert_uint_eq(c[2], 2);
			ck_assert_uint_eq(c[4], 3);
		}
	}
	/* Bounds that split a bucket, or do not rise, are refused. */
	b[1] = 190;
	ck_assert_int_eq(kvmexit_snapshot_time_counts(snap, KVMEXIT_GROUP_PID, &rows[0], b, 5, c), -EINVAL);
	b[1] = 127;
	ck_assert_int_eq(kvmexit_snapshot_time_counts(snap, KVMEXIT_GROUP_PID, &rows[0], b, 5, c), -EINVAL);
	ck_assert_int_eq(kvmexit_snapshot_time_counts(snap, (enum kvmexit_group)99, &rows[0], b, 1, c), -EINVAL);
	kvmexit_snapshot_free(snap);
}
END_TEST

START_TEST(test_escape)
{
	char out[64];

	ck_assert_uint_eq(metrics_escape("a\"b\\c", out, sizeof(out)), 7);
	ck_assert_str_eq(out, "a\\\"b\\\\c");
	/* Control characters and broken UTF-8 become '?'; good UTF-8 stays. */
	metrics_escape("x\ny\033[31m\xff\xc3(z \xc3\xa9", out, sizeof(out));
	ck_assert_str_eq(out, "x?y?[31m?" "?(z \xc3\xa9");
	/* Truncation keeps a terminated string. */
	ck_assert_uint_eq(metrics_escape("abcdef", out, 4), 6);
	ck_assert_str_eq(out, "abc");
}
END_TEST

START_TEST(test_negotiate)
{
	const char *prom = "application/openmetrics-text;version=1.0.0,"
			   "application/openmetrics-text;version=0.0.1;q=0.75,"
			   "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

	ck_assert_int_eq(metrics_negotiate(prom), METRICS_OPENMETRICS);
	ck_assert_int_eq(metrics_negotiate(NULL), METRICS_TEXT);
	ck_assert_int_eq(metrics_negotiate("*/*"), METRICS_TEXT);
	ck_assert_int_eq(metrics_negotiate("text/plain;version=0.0.4"), METRICS_TEXT);
	ck_assert_int_eq(metrics_negotiate("text/plain, application/openmetrics-text; q=0.5"),
			 METRICS_TEXT);
	ck_assert_int_eq(metrics_negotiate("application/openmetrics-text; version=1.0.0"),
			 METRICS_OPENMETRICS);
}
END_TEST

/* A snapshot of the profile now, rendered and published. */
static void update(struct metrics *m, struct metrics_input *in)
{
	struct kvmexit_snapshot *snap;

	ck_assert_int_eq(kvmexit_snapshot_new(prof, 0, &snap), 0);
	in->snap = snap;
	ck_assert_int_eq(metrics_update(m, in), 0);
	metrics_publish(m);
	kvmexit_snapshot_free(snap);
	in->snap = NULL;
}

static bool alive_answer;
static int alive_calls;

static bool fake_alive(int32_t pid, void *arg)
{
	(void)pid;
	(void)arg;
	alive_calls++;
	return alive_answer;
}

static const char *page(struct metrics *m, enum metrics_format f)
{
	size_t len;

	return metrics_page(m, f, &len);
}

/* The page's line for a sample (prefix up to the value), or NULL. */
static const char *line_of(const char *p, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = p; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, prefix, n) && l[n] == ' ')
			return l + n + 1;
	return NULL;
}

static void assert_value(const char *p, const char *prefix, const char *value)
{
	const char *v = line_of(p, prefix);

	ck_assert_msg(v != NULL, "no sample %s on the page", prefix);
	ck_assert_msg(!strncmp(v, value, strlen(value)) && v[strlen(value)] == '\n',
		      "%s: expected %s, got %.20s", prefix, value, v);
}

START_TEST(test_page_exact)
{
	struct metrics_opts o = { .per_octave = 1, .lo_shift = 7, .hi_shift = 8,
				  .source = "replay", .version = "9.9" };
	struct kvmexit_meta meta = { .isa = KVMEXIT_ISA_VMX };
	struct metrics_input in = { .cpu_user = 0.25, .cpu_system = 0.5, .timestamp = 12.5,
				    .meta = &meta, .running = true, .cells = 1 };
	struct metrics *m;
	uint64_t t = 1000;

	snprintf(meta.vendor, sizeof(meta.vendor), "GenuineIntel");
	snprintf(meta.kvm_module, sizeof(meta.kvm_module), "kvm_intel");
	snprintf(meta.osrelease, sizeof(meta.osrelease), "6.1\"\n\033x");
	meta.nr_params = 1;
	snprintf(meta.params[0].name, sizeof(meta.params[0].name), "ept");
	snprintf(meta.params[0].value, sizeof(meta.params[0].value), "Y");
	timed(&t, 7, 701, IO, 100);
	timed(&t, 7, 701, IO, 200);
	timed(&t, 7, 701, IO, 300);
		ck_assert_int_eq(metrics_new(&o, &m), 0);
	update(m, &in);
	ck_assert_str_eq(page(m, METRICS_TEXT),
		"# HELP kvmexit_exits_total KVM exits per VM (VMM pid) and exit reason, since kvmexit started.\n"
		"# TYPE kvmexit_exits_total counter\n"
		"kvmexit_exits_total{pid=\"7\",reason=\"IO_INSTRUCTION\",category=\"io\"} 3\n"
		"# HELP kvmexit_exit_handling_seconds Exit-handling time (kvm_exit to the next kvm_entry of the vCPU) per reason.\n"
		"# TYPE kvmexit_exit_handling_seconds histogram\n"
		"kvmexit_exit_handling_seconds_bucket{reason=\"IO_INSTRUCTION\",category=\"io\",le=\"0.000000127\"} 1\n"
		"kvmexit_exit_handling_seconds_bucket{reason=\"IO_INSTRUCTION\",category=\"io\",le=\"0.000000255\"} 2\n"
		"kvmexit_exit_handling_seconds_bucket{reason=\"IO_INSTRUCTION\",category=\"io\",le=\"+Inf\"} 3\n"
		"kvmexit_exit_handling_seconds_sum{reason=\"IO_INSTRUCTION\",category=\"io\"} 0.0000006\n"
		"kvmexit_exit_handling_seconds_count{reason=\"IO_INSTRUCTION\",category=\"io\"} 3\n"
		"# HELP kvmexit_lost_events_total Records the kernel dropped (ring buffer full); exits in them are not counted.\n"
		"# TYPE kvmexit_lost_events_total counter\n"
		"kvmexit_lost_events_total 0\n"
		"# HELP kvmexit_cpu_seconds_total CPU time kvmexit itself used, by mode.\n"
		"# TYPE kvmexit_cpu_seconds_total counter\n"
		"kvmexit_cpu_seconds_total{mode=\"user\"} 0.250000\n"
		"kvmexit_cpu_seconds_total{mode=\"system\"} 0.500000\n"
		"# HELP kvmexit_vms VMs (VMM processes) with their own series.\n"
		"# TYPE kvmexit_vms gauge\n"
		"kvmexit_vms 1\n"
		"# HELP kvmexit_vms_folded VMs beyond --max-series, whose exits are counted under pid other.\n"
		"# TYPE kvmexit_vms_folded gauge\n"
		"kvmexit_vms_folded 0\n"
		"# HELP kvmexit_vms_retired_total VMs gone (stopped for the grace time, process ended) and retired from kvmexit's memory.\n"
		"# TYPE kvmexit_vms_retired_total counter\n"
		"kvmexit_vms_retired_total 0\n"
		"# HELP kvmexit_retired_exits_total Exits of VMs whose series were dropped (gone): with kvmexit_exits_total, every exit.\n"
		"# TYPE kvmexit_retired_exits_total counter\n"
		"kvmexit_retired_exits_total 0\n"
		"# HELP kvmexit_profile_cells Aggregation cells kvmexit holds (per VM, vCPU, reason and detail, and per retired reason and detail): its memory.\n"
		"# TYPE kvmexit_profile_cells gauge\n"
		"kvmexit_profile_cells 1\n"
		"# HELP kvmexit_last_update_timestamp_seconds When kvmexit last rendered this page (Unix time).\n"
		"# TYPE kvmexit_last_update_timestamp_seconds gauge\n"
		"kvmexit_last_update_timestamp_seconds 12.500\n"
		"# HELP kvmexit_render_seconds How long rendering the previous page took.\n"
		"# TYPE kvmexit_render_seconds gauge\n"
		"kvmexit_render_seconds 0.000000\n"
		"# HELP kvmexit_source_running 1 while kvmexit records (or replays); 0 once its source has ended.\n"
		"# TYPE kvmexit_source_running gauge\n"
		"kvmexit_source_running 1\n"
		"# HELP kvmexit_host_info The host kvmexit watches and how: kvm module, paging (ept, npt or shadow), vendor, kernel, source.\n"
		"# TYPE kvmexit_host_info gauge\n"
		"kvmexit_host_info{version=\"9.9\",source=\"replay\",kvm_module=\"kvm_intel\",paging=\"ept\","
		"vendor=\"GenuineIntel\",kernel=\"6.1\\\"??x\"} 1\n");
	/* OpenMetrics: families without _total/_info, units, info type, # EOF. */
	const char *om = page(m, METRICS_OPENMETRICS);

	ck_assert_ptr_nonnull(strstr(om, "# TYPE kvmexit_exits counter\n"
					 "kvmexit_exits_total{pid=\"7\","));
	ck_assert_ptr_nonnull(strstr(om, "# TYPE kvmexit_exit_handling_seconds histogram\n"
					 "# UNIT kvmexit_exit_handling_seconds seconds\n"));
	ck_assert_ptr_nonnull(strstr(om, "# TYPE kvmexit_cpu_seconds counter\n"
					 "# UNIT kvmexit_cpu_seconds seconds\n"
					 "kvmexit_cpu_seconds_total{mode=\"user\"} 0.250000\n"));
	ck_assert_ptr_nonnull(strstr(om, "# TYPE kvmexit_host info\nkvmexit_host_info{"));
	ck_assert_str_eq(om + strlen(om) - 6, "# EOF\n");
	/* OpenMetrics HELP text may hold neither '"' nor '\\' unescaped: ours has none. */
	for (const char *l = om; *l; l = strchr(l, '\n') + 1)
		if (!strncmp(l, "# HELP ", 7))
			ck_assert_msg(!memchr(l, '"', (size_t)(strchr(l, '\n') - l)) &&
				      !memchr(l, '\\', (size_t)(strchr(l, '\n') - l)), "%.60s", l);
	metrics_free(m);
}
END_TEST

/* Three VMs (pids 1, 2, 3 in that order) with one reason each, or two. */
static void three_vms(uint64_t *t, int round)
{
	timed(t, 1, 101, CPUID, 500);
	timed(t, 2, 201, CPUID, 500);
	if (round == 0)
		timed(t, 2, 201, IO, 500);
	timed(t, 3, 301, CPUID, 500);
}

START_TEST(test_series_limit)
{
	/* 2 bounds: a histogram is 5 series. */
	struct metrics_opts o = { .per_octave = 1, .lo_shift = 7, .hi_shift = 8 };
	struct metrics_input in = { .now_ns = 1 };
	struct metrics_state st;
	struct metrics *m;
	uint64_t t = 1000;
	const char *p;

	three_vms(&t, 0);
		/*
	 * Fixed: 12 + per reason (2): exits "other" 1 + histogram 5 = 24.
	 * VM 1 takes 1 series, VM 2 takes 2, VM 3 1: a limit of 27 admits
	 * VMs 1 and 2 (oldest first) and folds VM 3 into pid="other".
	 */
	o.max_series = 27;
	ck_assert_int_eq(metrics_new(&o, &m), 0);
	update(m, &in);
	metrics_state(m, &st);
	ck_assert_uint_eq(st.vms, 2);
	ck_assert_uint_eq(st.vms_folded, 1);
	p = page(m, METRICS_TEXT);
	assert_value(p, "kvmexit_exits_total{pid=\"1\",reason=\"CPUID\",category=\"instruction\"}", "1");
	assert_value(p, "kvmexit_exits_total{pid=\"2\",reason=\"IO_INSTRUCTION\",category=\"io\"}", "1");
	assert_value(p, "kvmexit_exits_total{pid=\"other\",reason=\"CPUID\",category=\"instruction\"}", "1");
	ck_assert_ptr_null(line_of(p, "kvmexit_exits_total{pid=\"3\",reason=\"CPUID\",category=\"instruction\"}"));
	assert_value(p, "kvmexit_vms_folded", "1");
	/* Every sample line counted: the page holds st.series samples. */
	size_t samples = 0;

	for (const char *l = p; *l; l = strchr(l, '\n') + 1)
		samples += *l != '#';
	ck_assert_uint_eq(samples, st.series);
	ck_assert_uint_le(samples, 27);
	metrics_free(m);

	/* A limit of 24 leaves room for no VM: all of them are "other". */
	o.max_series = 24;
	ck_assert_int_eq(metrics_new(&o, &m), 0);
	update(m, &in);
	metrics_state(m, &st);
	ck_assert_uint_eq(st.vms, 0);
	ck_assert_uint_eq(st.vms_folded, 3);
	assert_value(page(m, METRICS_TEXT),
		     "kvmexit_exits_total{pid=\"other\",reason=\"CPUID\",category=\"instruction\"}", "3");
	metrics_free(m);
}
END_TEST

START_TEST(test_gone_vms)
{
	struct metrics_opts o = { .grace_ns = 100 };
	struct metrics_input in = { .alive = fake_alive };
	struct metrics_state st;
	struct metrics *m;
	uint64_t t = 1000;
	const char *vm1 = "kvmexit_exits_total{pid=\"1\",reason=\"CPUID\",category=\"instruction\"}";
	const char *vm3 = "kvmexit_exits_total{pid=\"3\",reason=\"CPUID\",category=\"instruction\"}";

		ck_assert_int_eq(metrics_new(&o, &m), 0);
	three_vms(&t, 0);
	in.now_ns = 1000;
	update(m, &in);
	/* VM 1 stops; VMs 2 and 3 go on.  Within the grace time nothing is asked. */
	timed(&t, 2, 201, CPUID, 500);
	timed(&t, 3, 301, CPUID, 500);
	in.now_ns = 1050;
	alive_calls = 0;
	update(m, &in);
	ck_assert_int_eq(alive_calls, 0);
	/* Past the grace time, still running: kept. */
	timed(&t, 3, 301, CPUID, 500);
	in.now_ns = 1100;
	alive_answer = true;
	update(m, &in);
	ck_assert_int_eq(alive_calls, 1);
	assert_value(page(m, METRICS_TEXT), vm1, "1");
	/* Its process is gone: VMs 1 and 2 (both stopped) are dropped, 3 stays. */
	alive_answer = false;
	in.now_ns = 1200;
	timed(&t, 3, 301, CPUID, 500);
	update(m, &in);
	metrics_state(m, &st);
	ck_assert_uint_eq(st.vms, 1);
	ck_assert_uint_eq(st.vms_gone, 2);
	ck_assert_ptr_null(line_of(page(m, METRICS_TEXT), vm1));
	assert_value(page(m, METRICS_TEXT), vm3, "4");
	/* A pid that exits again (reused) comes back with its count. */
	timed(&t, 1, 101, CPUID, 500);
	in.now_ns = 1300;
	update(m, &in);
	assert_value(page(m, METRICS_TEXT), vm1, "2");
	metrics_free(m);
}
END_TEST

static int retire_calls;

static int fake_retire(int32_t pid, void *arg)
{
	(void)arg;
	retire_calls++;
	return kvmexit_profile_retire_pid(prof, pid);
}

/* A sample's value as a number; the sample must be on the page. */
static uint64_t value_of(const char *p, const char *prefix)
{
	const char *v = line_of(p, prefix);

	ck_assert_msg(v != NULL, "no sample %s on the page", prefix);
	return strtoull(v, NULL, 10);
}

/*
 * Churn: 500 VMs, one after the other, each with 2 CPUID and 1 IO exits
 * (timed), gone (stopped for the grace time, process ended) one update
 * at the next update and retired.  The page keeps a fixed number of series, the
 * profile a fixed number of cells and metrics no entry of the VMs gone;
 * the per-reason histogram counts and the retired exits counter only grow,
 * and every exit is on the page: exits of live VMs + retired exits.
 */
START_TEST(test_churn_retires)
{
	struct metrics_opts o = { .grace_ns = 100, .per_octave = 1, .lo_shift = 7, .hi_shift = 8,
				  .histogram_per_vm = true };
	struct metrics_input in = { .alive = fake_alive, .retire = fake_retire };
	const char *cpuid_count = "kvmexit_exit_handling_seconds_count{reason=\"CPUID\",category=\"instruction\"}";
	uint64_t t = 1000, last_hist = 0, last_retired = 0;
	struct metrics_state st;
	struct metrics *m;
	size_t series = 0;

	alive_answer = false;
	retire_calls = 0;
	ck_assert_int_eq(metrics_new(&o, &m), 0);
	for (int i = 0; i < 500; i++) {
		int pid = 1000 + i;
		char vm[128];
		const char *p;

		timed(&t, pid, pid, CPUID, 500);
		timed(&t, pid, pid, CPUID, 500);
		timed(&t, pid, pid, IO, 200);
		in.now_ns = 1000 + (uint64_t)i * 100;
		in.cells = kvmexit_profile_nr_cells(prof);
		/* VM i runs (3 series, 2 histograms); VM i - 1 is gone and retired now. */
		update(m, &in);
		p = page(m, METRICS_TEXT);
		metrics_state(m, &st);
		ck_assert_uint_eq(st.vms, 1);
		ck_assert_uint_eq(st.vms_gone, 0);
		ck_assert_uint_eq(st.vms_retired, (uint64_t)i);
		ck_assert_uint_eq(kvmexit_profile_nr_cells(prof), i ? 4 : 2);
		/* Cells when the snapshot was taken: VMs i and i - 1, and the retired owner's. */
		ck_assert_uint_eq(value_of(p, "kvmexit_profile_cells"), (i ? 4u : 2u) + (i > 1 ? 2u : 0u));
		if (i > 1)
			ck_assert_uint_eq(st.series, series);
		series = st.series;
		snprintf(vm, sizeof(vm), "kvmexit_exits_total{pid=\"%d\",reason=\"CPUID\",category=\"instruction\"}", pid);
		assert_value(p, vm, "2");
		if (i) {
			snprintf(vm, sizeof(vm), "kvmexit_exits_total{pid=\"%d\",reason=\"CPUID\",category=\"instruction\"}", pid - 1);
			ck_assert_ptr_null(line_of(p, vm));
		}
		ck_assert_uint_eq(value_of(p, cpuid_count), 2 * (uint64_t)(i + 1));
		ck_assert_uint_ge(value_of(p, cpuid_count), last_hist);
		last_hist = value_of(p, cpuid_count);
		ck_assert_uint_eq(value_of(p, "kvmexit_retired_exits_total"), 3 * (uint64_t)i);
		ck_assert_uint_ge(value_of(p, "kvmexit_retired_exits_total"), last_retired);
		last_retired = value_of(p, "kvmexit_retired_exits_total");
		ck_assert_uint_eq(value_of(p, "kvmexit_vms_retired_total"), (uint64_t)i);
		/* No series of the retired owner: no pid="-2", no second histogram per reason. */
		ck_assert_ptr_null(strstr(p, "pid=\"-2\""));
		ck_assert_int_eq(retire_calls, i);
	}
	ck_assert_int_eq(retire_calls, 499);
	/* A pid reused after its retirement starts afresh. */
	timed(&t, 1000, 1000, CPUID, 500);
	in.now_ns += 100;
	update(m, &in);
	ck_assert_int_eq(retire_calls, 500);
	assert_value(page(m, METRICS_TEXT),
		     "kvmexit_exits_total{pid=\"1000\",reason=\"CPUID\",category=\"instruction\"}", "1");
	metrics_free(m);
}
END_TEST

START_TEST(test_per_vcpu_and_hist_per_vm)
{
	struct metrics_opts o = { .per_vcpu = true, .histogram_per_vm = true, .per_octave = 1,
				  .lo_shift = 7, .hi_shift = 8 };
	struct metrics_input in = { 0 };
	struct metrics *m;
	uint64_t t = 1000;
	const char *p;

	timed(&t, 1, 101, CPUID, 100);
	timed(&t, 1, 102, CPUID, 200);
	timed(&t, 1, 102, CPUID, 200);
		ck_assert_int_eq(metrics_new(&o, &m), 0);
	update(m, &in);
	p = page(m, METRICS_TEXT);
	assert_value(p, "kvmexit_exits_total{pid=\"1\",vcpu=\"1\",reason=\"CPUID\",category=\"instruction\"}", "1");
	assert_value(p, "kvmexit_exits_total{pid=\"1\",vcpu=\"2\",reason=\"CPUID\",category=\"instruction\"}", "2");
	assert_value(p, "kvmexit_exit_handling_seconds_bucket{reason=\"CPUID\",category=\"instruction\",le=\"0.000000127\"}", "1");
	assert_value(p, "kvmexit_exit_handling_seconds_bucket{pid=\"1\",reason=\"CPUID\",category=\"instruction\",le=\"0.000000255\"}", "3");
	metrics_free(m);
}
END_TEST

static int names_asked;

static int fake_name(int32_t pid, char *buf, size_t size, void *arg)
{
	(void)arg;
	names_asked++;
	if (pid == 2)
		return -ENOENT;		/* gone before it was named */
	snprintf(buf, size, "web\"%d\n", pid);
	return 0;
}

START_TEST(test_vm_names)
{
	struct metrics_opts o = { .histogram_per_vm = true, .per_octave = 1, .lo_shift = 7,
				  .hi_shift = 8 };
	struct metrics_input in = { .name = fake_name };
	struct metrics *m;
	uint64_t t = 1000;
	const char *p;

	three_vms(&t, 1);
	ck_assert_int_eq(metrics_new(&o, &m), 0);
	update(m, &in);
	update(m, &in);
	/* Asked once per VM, escaped, and no vm label where there is no name. */
	ck_assert_int_eq(names_asked, 3);
	p = page(m, METRICS_TEXT);
	assert_value(p, "kvmexit_exits_total{pid=\"1\",vm=\"web\\\"1?\",reason=\"CPUID\",category=\"instruction\"}", "1");
	assert_value(p, "kvmexit_exits_total{pid=\"2\",reason=\"CPUID\",category=\"instruction\"}", "1");
	assert_value(p, "kvmexit_exit_handling_seconds_count{pid=\"3\",vm=\"web\\\"3?\",reason=\"CPUID\",category=\"instruction\"}", "1");
	metrics_free(m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("serve-metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_counts_exact);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_negotiate);
	tcase_add_test(tc, test_page_exact);
	tcase_add_test(tc, test_series_limit);
	tcase_add_test(tc, test_gone_vms);
	tcase_add_test(tc, test_churn_retires);
	tcase_add_test(tc, test_per_vcpu_and_hist_per_vm);
	tcase_add_test(tc, test_vm_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
