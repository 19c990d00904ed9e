// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live recording (lib/record.c, lib/count.c, lib/tracefs.c, kvmexit record).
 *
 * Fixture tests run everywhere.  Live tests need root, /dev/kvm and the kvm
 * tracepoints; they skip with a reason where those are missing.  They run
 * tests/pio-guest, a guest that performs exactly N port writes and then
 * hlt: N kvm_pio events and N + 1 kvm_userspace_exit (N of reason IO, one
 * of reason HLT); creating the VM and the vCPU causes no kvm_pio and no
 * other userspace exit (measured: perf stat counts the same).
 * On this machine (PVM) kvm_exit and kvm_entry never fire.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <perf/cpumap.h>

#include "internal.h"

#define GUEST_N		1000
#define GUEST_PORT	0x8a	/* pio-guest's default */
#define GUEST_PORT_ARG	"0x8a"

static char builddir[PATH_MAX];
static char guest[PATH_MAX + 32];
static char tool[PATH_MAX + 32];
static const char *live_skip;		/* why live tests cannot run, or NULL */

/* ------------------------------------------------------------ fixtures */

static void write_text(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(p - path), path);
		mkdir(tmp, 0755);
	}
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *fixture_root(void)
{
	static char dir[] = "/tmp/kvmexit-test-record.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* A passing test leaves nothing in /tmp; a failing one keeps its tree to look at. */
static void fixture_remove(const char *root)
{
	ck_assert_int_eq(nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

START_TEST(test_host_meta_fixture)
{
	const char *root = fixture_root();
	struct kvmexit_meta m = { 0 };

	write_text(root, "proc/cpuinfo",
		   "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
		   "model\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6148\nstepping\t: 4\n\n"
		   "processor\t: 1\nvendor_id\t: GenuineIntel\n\n");
	write_text(root, "proc/sys/kernel/osrelease", "6.1.0-13-amd64\n");
	write_text(root, "proc/sys/kernel/hostname", "lab1\n");
	write_text(root, "proc/sys/kernel/perf_event_paranoid", "2\n");
	write_text(root, "sys/module/kvm_intel/parameters/ept", "Y\n");
	write_text(root, "sys/module/kvm_intel/parameters/nested", "N\n");
	ck_assert_int_eq(kx_host_meta(root, &m), 0);
	ck_assert_str_eq(m.vendor, "GenuineIntel");
	ck_assert_str_eq(m.cpuid, "GenuineIntel,6,85,4");
	ck_assert_str_eq(m.cpu_desc, "Intel(R) Xeon(R) Gold 6148");
	ck_assert_int_eq(m.nr_cpus, 2);
	ck_assert_int_eq(m.isa, KVMEXIT_ISA_VMX);
	ck_assert_str_eq(m.osrelease, "6.1.0-13-amd64");
	ck_assert_str_eq(m.hostname, "lab1");
	ck_assert_str_eq(m.kvm_module, "kvm_intel");
	ck_assert_int_eq(m.nr_params, 2);
	ck_assert_str_eq(kvmexit_meta_param(&m, "ept"), "Y");
	ck_assert_str_eq(kvmexit_meta_param(&m, "nested"), "N");
	ck_assert_int_eq(kvmexit_meta_tdp(&m), 1);
	ck_assert_int_eq(kx_perf_paranoid(root), 2);
	fixture_remove(root);
}
END_TEST

START_TEST(test_tracefs_fixture)
{
	const char *root = fixture_root();
	char path[PATH_MAX], msg[KX_ERRMSG_SIZE], *text;
	uint64_t id = 0;
	size_t len;

	write_text(root, "events/kvm/kvm_pio/id", "110\n");
	write_text(root, "events/kvm/kvm_pio/format", "name: kvm_pio\nID: 110\n");
	ck_assert_int_eq(kx_tracefs_find(root, path, sizeof(path), msg), 0);
	ck_assert_str_eq(path, root);
	ck_assert_int_eq(kx_tracefs_event_id(root, "kvm_pio", &id), 0);
	ck_assert_uint_eq(id, 110);
	ck_assert_int_eq(kx_tracefs_event_id(root, "kvm_exit", &id), -ENOENT);
	ck_assert_int_eq(kx_tracefs_event_format(root, "kvm_pio", &text, &len), 0);
	ck_assert_str_eq(text, "name: kvm_pio\nID: 110\n");
	ck_assert_uint_eq(len, 22);
	free(text);
	snprintf(path, sizeof(path), "%s/nothing", root);
	ck_assert_int_eq(kx_tracefs_find(path, msg, sizeof(msg), msg), -ENOENT);
	fixture_remove(root);
}
END_TEST

START_TEST(test_events_parse)
{
	const uint32_t def = KVMEXIT_EVENTS_DEFAULT;
	uint32_t e = 0;

	ck_assert_int_eq(kvmexit_record_events_parse("default", &e), 0);
	ck_assert_uint_eq(e, def);
	ck_assert_int_eq(kvmexit_record_events_parse("ioport", &e), 0);
	ck_assert_uint_eq(e, def | KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO) |
			     KVMEXIT_EVENT_BIT(KVMEXIT_EV_USERSPACE_EXIT));
	ck_assert_int_eq(kvmexit_record_events_parse("mmio,msr", &e), 0);
	ck_assert_uint_eq(e, def | KVMEXIT_EVENT_BIT(KVMEXIT_EV_MMIO) |
			     KVMEXIT_EVENT_BIT(KVMEXIT_EV_MSR) |
			     KVMEXIT_EVENT_BIT(KVMEXIT_EV_USERSPACE_EXIT));
	ck_assert_int_eq(kvmexit_record_events_parse("all", &e), 0);
	ck_assert_uint_eq(e, (1u << KVMEXIT_EV_LOST) - 1);
	ck_assert_int_eq(kvmexit_record_events_parse("kvm:kvm_pio,msr", &e), 0);
	ck_assert_uint_eq(e, def | KVMEXIT_EVENT_BIT(KVMEXIT_EV_PIO) |
			     KVMEXIT_EVENT_BIT(KVMEXIT_EV_MSR) |
			     KVMEXIT_EVENT_BIT(KVMEXIT_EV_USERSPACE_EXIT));
	ck_assert_int_eq(kvmexit_record_events_parse("kvm_entry", &e), 0);
	ck_assert_uint_eq(e, def);
	ck_assert_int_eq(kvmexit_record_events_parse("bogus", &e), -EINVAL);
	ck_assert_int_eq(kvmexit_record_events_parse("ioport,", &e), -EINVAL);
	ck_assert_int_eq(kvmexit_record_events_parse("", &e), -EINVAL);
}
END_TEST

START_TEST(test_exit_specs)
{
	struct kx_counter_spec *specs;
	struct kx_count_key *keys;
	size_t nr_table;
	int n, seen = 0;

	kvmexit_reason_table(KVMEXIT_ISA_SVM, &nr_table);
	n = kx_count_exit_specs(42, KVMEXIT_ISA_SVM, &specs, &keys);
	ck_assert_int_eq(n, (int)nr_table);
	ck_assert_uint_eq(specs[0].tp_id, 42);
	ck_assert_str_eq(specs[0].filter, "exit_reason == 0");
	for (int i = 0; i < n; i++)
		ck_assert_uint_eq(keys[i].detail, 0);
	free(specs);
	free(keys);

	/* VMX: EXCEPTION_NMI in 2 parts and CR_ACCESS in 3, the rest whole. */
	n = kx_count_exit_specs(42, KVMEXIT_ISA_VMX, &specs, &keys);
	kvmexit_reason_table(KVMEXIT_ISA_VMX, &nr_table);
	ck_assert_int_eq(n, (int)nr_table + 3);
	for (int i = 0; i < n; i++) {
		char name[32];

		ck_assert_uint_eq(specs[i].tp_id, 42);
		ck_assert_int_ge(kvmexit_detail_name(KVMEXIT_ISA_VMX, keys[i].exit_reason,
						     keys[i].detail, name, sizeof(name)), 0);
		switch (keys[i].exit_reason) {
		case 12:
			ck_assert_uint_eq(keys[i].detail, 0);
			ck_assert_str_eq(specs[i].filter, "exit_reason == 12 || "
					 "exit_reason == 67108876 || exit_reason == 2147483660");
			seen |= 1;
			break;
		case 0:
			if (!strcmp(name, "#PF")) {
				ck_assert_str_eq(specs[i].filter, "(exit_reason == 0 || "
						 "exit_reason == 67108864 || exit_reason == 2147483648) && "
						 "(intr_info == 0x80000b0e || intr_info == 0x80001b0e)");
				ck_assert_int_eq(kvmexit_detail_category(KVMEXIT_ISA_VMX, 0,
									 keys[i].detail),
						 KVMEXIT_CAT_PAGING);
				seen |= 2;
			} else {
				ck_assert_str_eq(name, "other");
				ck_assert_str_eq(specs[i].filter, "(exit_reason == 0 || "
						 "exit_reason == 67108864 || exit_reason == 2147483648) && "
						 "!(intr_info == 0x80000b0e || intr_info == 0x80001b0e)");
				ck_assert_int_ne(kvmexit_detail_category(KVMEXIT_ISA_VMX, 0,
									 keys[i].detail),
						 KVMEXIT_CAT_PAGING);
				seen |= 4;
			}
			break;
		case 28:
			if (!strcmp(name, "mov-to-cr3")) {
				ck_assert_str_eq(specs[i].filter, "(exit_reason == 28 || "
						 "exit_reason == 67108892 || exit_reason == 2147483676) && "
						 "(info1 & 1 && info1 & 2 && !(info1 & 0x3c))");
				seen |= 8;
			} else if (!strcmp(name, "mov-from-cr3")) {
				ck_assert_str_eq(specs[i].filter, "(exit_reason == 28 || "
						 "exit_reason == 67108892 || exit_reason == 2147483676) && "
						 "(info1 & 1 && info1 & 2 && info1 & 0x10 && "
						 "!(info1 & 0x2c))");
				seen |= 16;
			} else {
				ck_assert_str_eq(name, "other");
				ck_assert_str_eq(specs[i].filter, "(exit_reason == 28 || "
						 "exit_reason == 67108892 || exit_reason == 2147483676) && "
						 "!(info1 & 1 && info1 & 2 && !(info1 & 0x2c))");
				seen |= 32;
			}
			break;
		default:
			ck_assert_uint_eq(keys[i].detail, 0);
		}
	}
	ck_assert_int_eq(seen, 63);
	free(specs);
	free(keys);
	ck_assert_int_eq(kx_count_exit_specs(42, KVMEXIT_ISA_UNKNOWN, &specs, &keys), -EINVAL);
}
END_TEST

/*
 * The split filters' keys are the ones kvmexit_exit_detail() gives the same
 * exits when sampled: every CR3 qualification (any register) and both #PF
 * interruption-information values map to the part whose filter matches
 * them.  This evaluates what each filter says about bits 5:0 and intr_info
 * in C, for every value of those bits.
 */
START_TEST(test_exit_specs_keys_match_sampling)
{
	for (uint32_t q = 0; q < 0x1000; q++) {
		struct kvmexit_exit e = { .isa = KVMEXIT_ISA_VMX, .exit_reason = 28, .info1 = q };
		char name[32];
		bool to = (q & 1) && (q & 2) && !(q & 0x3c);
		bool from = (q & 1) && (q & 2) && (q & 0x10) && !(q & 0x2c);

		if (q & 0x40)		/* LMSW's operand type: never with mov */
			continue;
		kvmexit_detail_name(KVMEXIT_ISA_VMX, 28, kvmexit_exit_detail(&e), name, sizeof(name));
		ck_assert_int_eq(to, !strcmp(name, "mov-to-cr3"));
		ck_assert_int_eq(from, !strcmp(name, "mov-from-cr3"));
	}
	for (uint32_t info = 0x80000000; info < 0x80002000; info++) {
		struct kvmexit_exit e = { .isa = KVMEXIT_ISA_VMX, .exit_reason = 0, .intr_info = info };
		char name[32] = "";
		bool pf = info == 0x80000b0e || info == 0x80001b0e;

		kvmexit_detail_name(KVMEXIT_ISA_VMX, 0, kvmexit_exit_detail(&e), name, sizeof(name));
		/*
		 * A #PF is a hardware exception (type 3) with an error code (bit
		 * 11); software exceptions (type 5, 6) are INT1, #BP and #OF only.
		 */
		if ((info & 0xff) == 14 && (info & 0xb00) != 0xb00)
			continue;
		ck_assert_int_eq(pf, !strcmp(name, "#PF"));
	}
}
END_TEST

/* ------------------------------------------------------------ live */

struct tally {
	uint64_t by_type[KVMEXIT_EV__MAX];
	uint64_t pio_port_ok, pio_bad, ue_io, ue_hlt, ue_other;
};

static int tally_event(const struct kvmexit_event *ev, void *arg)
{
	struct tally *t = arg;

	t->by_type[ev->type]++;
	if (ev->type == KVMEXIT_EV_PIO) {
		if (ev->pio.port == GUEST_PORT && ev->pio.rw == 1 && ev->pio.size == 1 &&
		    ev->pio.count == 1)
			t->pio_port_ok++;
		else
			t->pio_bad++;
	} else if (ev->type == KVMEXIT_EV_USERSPACE_EXIT) {
		if (ev->userspace_exit.reason == KVM_EXIT_IO && !ev->userspace_exit.error)
			t->ue_io++;
		else if (ev->userspace_exit.reason == KVM_EXIT_HLT)
			t->ue_hlt++;
		else
			t->ue_other++;
	}
	return 0;
}

/* Our reader's event counts per type; returns the for_each result. */
static int reader_count(const char *capture, struct tally *t, struct kvmexit_meta *meta)
{
	struct kvmexit_capture *cap;
	char err[512];
	int ret;

	ret = kvmexit_capture_open(capture, &cap, err, sizeof(err));
	ck_assert_msg(ret == 0, "%s", err);
	ret = kvmexit_capture_for_each(cap, tally_event, t);
	if (meta)
		*meta = *kvmexit_capture_meta(cap);
	kvmexit_capture_close(cap);
	return ret;
}

static char *tmp_capture(const char *tag)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "/tmp/kvmexit-test-record-%s-%d.data", tag, (int)getpid());
	unlink(path);
	return path;
}

/* The test guest, N port writes to PORT, its stdout discarded. */
static pid_t start_guest(const char *n, const char *port)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execl(guest, guest, n, port, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* perf script's count of lines naming @event, or -1 when perf is missing. */
static long perf_script_count(const char *capture, const char *event)
{
	const char *perf = getenv("PERF");
	char cmd[PATH_MAX * 2];
	long n = -1;
	FILE *p;

	if (!perf || !*perf)
		perf = "perf";
	snprintf(cmd, sizeof(cmd), "%s script -i %s 2>/dev/null | grep -c ' %s: '", perf, capture,
		 event);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%ld", &n) != 1)
		n = -1;
	if (pclose(p) == -1)
		n = -1;
	return n;
}

static bool have_perf(void)
{
	const char *perf = getenv("PERF");
	char cmd[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "%s --version >/dev/null 2>&1", perf && *perf ? perf : "perf");
	return system(cmd) == 0;
}

START_TEST(test_live_library_ioport)
{
	char n[16], err[512];
	char *argv[] = { guest, n, NULL };
	const char *out = tmp_capture("lib");
	struct tally t = { 0 };
	struct kvmexit_record_opts o = {
		.sz = sizeof(o), .target = KVMEXIT_TARGET_COMMAND, .argv = argv,
		.output = out, .fn = tally_event, .fn_arg = &t,
	};
	struct kvmexit_recorder *rec;
	struct kvmexit_record_stats st;
	const struct kvmexit_meta *m;

	snprintf(n, sizeof(n), "%d", GUEST_N);
	ck_assert_int_eq(kvmexit_record_events_parse("ioport", &o.events), 0);
	ck_assert_msg(kvmexit_recorder_new(&o, &rec, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(kvmexit_recorder_run(rec, -1), 0);
	kvmexit_recorder_stats(rec, &st);
	ck_assert(st.child_exited);
	ck_assert(WIFEXITED(st.child_status) && WEXITSTATUS(st.child_status) == 0);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.by_type[KVMEXIT_EV_PIO], GUEST_N);
	ck_assert_uint_eq(st.by_type[KVMEXIT_EV_USERSPACE_EXIT], GUEST_N + 1);
	ck_assert_uint_eq(st.by_type[KVMEXIT_EV_EXIT], 0);
	ck_assert_uint_eq(st.events, 2 * GUEST_N + 1);
	ck_assert_uint_eq(t.by_type[KVMEXIT_EV_PIO], GUEST_N);
	ck_assert_uint_eq(t.pio_port_ok, GUEST_N);
	ck_assert_uint_eq(t.pio_bad, 0);
	ck_assert_uint_eq(t.ue_io, GUEST_N);
	ck_assert_uint_eq(t.ue_hlt, 1);
	ck_assert_uint_eq(t.ue_other, 0);
	ck_assert_uint_eq(t.by_type[KVMEXIT_EV_LOST], 0);
	m = kvmexit_recorder_meta(rec);
	ck_assert(m->vendor[0] && m->osrelease[0]);
	ck_assert(m->end_ns > m->start_ns && m->start_epoch_ns > 0);
	ck_assert_uint_eq(m->lost, 0);
	kvmexit_recorder_free(rec);
	{
		struct tally r = { 0 };
		struct kvmexit_meta rm;

		ck_assert_int_eq(reader_count(out, &r, &rm), 0);
		ck_assert_uint_eq(r.pio_port_ok, GUEST_N);
		ck_assert_uint_eq(r.ue_io, GUEST_N);
		ck_assert_uint_eq(r.ue_hlt, 1);
		ck_assert_uint_eq(r.by_type[KVMEXIT_EV_LOST], 0);
		ck_assert(rm.has_kvmexit && !rm.counts_only);
		ck_assert_uint_eq(rm.lost, 0);
		ck_assert(rm.end_ns > rm.start_ns);
		ck_assert(rm.vendor[0]);
	}
	if (have_perf()) {
		ck_assert_int_eq(perf_script_count(out, "kvm:kvm_pio"), GUEST_N);
		ck_assert_int_eq(perf_script_count(out, "kvm:kvm_userspace_exit"), GUEST_N + 1);
	}
	unlink(out);
}
END_TEST

static int run_tool(const char *args, char *errout, size_t size)
{
	char cmd[PATH_MAX * 4];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s record %s 2>&1", tool, args);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(errout, 1, size - 1, p);
	errout[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_live_tool_ioport)
{
	const char *out = tmp_capture("tool");
	char args[PATH_MAX * 3], msg[4096];

	snprintf(args, sizeof(args), "-q -o %s -e ioport -- %s %d", out, guest, GUEST_N);
	ck_assert_msg(run_tool(args, msg, sizeof(msg)) == 0, "%s", msg);
	ck_assert_msg(strstr(msg, "pio=1000"), "%s", msg);
	if (have_perf()) {
		ck_assert_int_eq(perf_script_count(out, "kvm:kvm_pio"), GUEST_N);
		ck_assert_int_eq(perf_script_count(out, "kvm:kvm_userspace_exit"), GUEST_N + 1);
		ck_assert_int_eq(perf_script_count(out, "kvm:kvm_exit"), 0);
	}
	/* exists: refused without -f */
	ck_assert_int_eq(run_tool(args, msg, sizeof(msg)), 1);
	ck_assert_msg(strstr(msg, "exists: give -f"), "%s", msg);
	unlink(out);
}
END_TEST

/* kvm_exit and kvm_entry open cleanly here, system-wide, and never fire. */
START_TEST(test_live_kvm_exit_system_wide)
{
	char n[16], err[512];
	struct kvmexit_record_opts o = { .sz = sizeof(o), .duration_ns = 2000000000ull };
	struct kvmexit_recorder *rec;
	struct kvmexit_record_stats st;
	pid_t pid;
	int status;

	ck_assert_msg(kvmexit_recorder_new(&o, &rec, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(kvmexit_recorder_run(rec, 200), 1);
	snprintf(n, sizeof(n), "%d", GUEST_N);
	pid = start_guest(n, GUEST_PORT_ARG);
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(kvmexit_recorder_run(rec, -1), 0);
	kvmexit_recorder_stats(rec, &st);
	ck_assert_uint_eq(st.by_type[KVMEXIT_EV_EXIT], 0);
	ck_assert_uint_eq(st.by_type[KVMEXIT_EV_ENTRY], 0);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert(st.elapsed_ns >= 2000000000ull);
	kvmexit_recorder_free(rec);
}
END_TEST

/*
 * -p: only the target's events, while another guest runs; the recording
 * ends by itself when the target exits.
 */
START_TEST(test_live_pid_filter)
{
	int32_t pid;
	char err[512];
	struct tally t = { 0 };
	struct kvmexit_record_opts o = {
		.sz = sizeof(o), .target = KVMEXIT_TARGET_PIDS, .pids = &pid, .nr_pids = 1,
		.fn = tally_event, .fn_arg = &t,
	};
	struct kvmexit_recorder *rec;
	struct kvmexit_record_stats st;
	pid_t other;
	int status;

	pid = start_guest("200000", GUEST_PORT_ARG);
	usleep(100000);
	ck_assert_int_eq(kvmexit_record_events_parse("ioport", &o.events), 0);
	ck_assert_msg(kvmexit_recorder_new(&o, &rec, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(kvmexit_recorder_run(rec, 100), 1);
	other = start_guest("1000", "0x8b");
	ck_assert_int_eq(waitpid(other, &status, 0), other);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(kvmexit_recorder_run(rec, 30000), 0);	/* ended: target exited */
	kvmexit_recorder_stats(rec, &st);
	kvmexit_recorder_free(rec);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(t.pio_bad, 0);		/* nothing of port 0x8b */
	ck_assert_uint_gt(t.pio_port_ok, 1000);
	ck_assert_uint_eq(t.ue_hlt, 1);
	/*
	 * What this test is about is above: the filter.  The two event
	 * streams start a few events apart (they are enabled one after the
	 * other while the guest runs), and a slow build (ASan) on a busy
	 * machine can lose records of this 400k-event burst: exactness of
	 * counts is test_live_library_ioport's job.
	 */
	if (st.lost == 0)
		ck_assert_msg(t.ue_io + 20 >= t.pio_port_ok && t.ue_io <= t.pio_port_ok + 20,
			      "pio %lu userspace_exit %lu", (unsigned long)t.pio_port_ok,
			      (unsigned long)t.ue_io);
}
END_TEST

START_TEST(test_live_pid_not_found)
{
	char msg[4096];

	ck_assert_int_eq(run_tool("-q -o /tmp/kvmexit-test-record-none.data -p 2147483000", msg,
				  sizeof(msg)), 1);
	ck_assert_msg(strstr(msg, "process 2147483000 not found"), "%s", msg);
	ck_assert_int_eq(access("/tmp/kvmexit-test-record-none.data", F_OK), -1);
}
END_TEST

/* SIGINT to the tool while it records a guest that would run for hours. */
START_TEST(test_live_sigint)
{
	const char *out = tmp_capture("sigint");
	char big[] = "1000000000000";
	char *argv[] = { tool, "record", "-q", "-o", (char *)out, "-e", "ioport", "--", guest,
			 big, NULL };
	pid_t pid = fork();
	int status;
	long pio, ue;

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(tool, argv);
		_exit(127);
	}
	usleep(700000);
	kill(pid, SIGINT);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (have_perf()) {
		pio = perf_script_count(out, "kvm:kvm_pio");
		ue = perf_script_count(out, "kvm:kvm_userspace_exit");
		ck_assert_int_gt(pio, 100);
		/*
		 * Every out exits to userspace right after its kvm_pio, but the
		 * events are disabled one after the other (kvm_userspace_exit
		 * before kvm_pio), so a few more kvm_pio may get in at the end.
		 */
		ck_assert_msg(ue <= pio + 20 && ue >= pio - 20, "pio %ld userspace_exit %ld", pio, ue);
		{
			struct tally r = { 0 };

			ck_assert_int_eq(reader_count(out, &r, NULL), 0);
			ck_assert_uint_eq(r.by_type[KVMEXIT_EV_PIO], pio);
			ck_assert_uint_eq(r.by_type[KVMEXIT_EV_USERSPACE_EXIT], ue);
		}
	}
	unlink(out);
}
END_TEST

/*
 * --count here: kvm_exit never fires, so every reason counts 0, as the
 * sampled capture of the same workload has 0 kvm_exit.
 */
START_TEST(test_live_count_mode)
{
	char n[16], err[512];
	char *argv[] = { guest, n, NULL };
	const char *out = tmp_capture("count");
	struct kvmexit_record_opts o = {
		.sz = sizeof(o), .target = KVMEXIT_TARGET_COMMAND, .argv = argv, .count = true,
		.output = out,
	};
	const struct kvmexit_count *counts;
	struct kvmexit_recorder *rec;
	struct kvmexit_record_stats st;

	snprintf(n, sizeof(n), "%d", GUEST_N);
	ck_assert_msg(kvmexit_recorder_new(&o, &rec, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(kvmexit_recorder_run(rec, -1), 0);
	kvmexit_recorder_stats(rec, &st);
	ck_assert(WIFEXITED(st.child_status) && WEXITSTATUS(st.child_status) == 0);
	ck_assert_uint_eq(kvmexit_recorder_counts(rec, &counts), 0);
	ck_assert_uint_eq(st.events, 0);
	ck_assert(kvmexit_recorder_meta(rec)->end_ns > 0);
	kvmexit_recorder_free(rec);
	{
		struct kvmexit_capture *cap;
		const struct kvmexit_count *rc;

		ck_assert_msg(kvmexit_capture_open(out, &cap, err, sizeof(err)) == 0, "%s", err);
		ck_assert(kvmexit_capture_meta(cap)->counts_only);
		ck_assert_uint_eq(kvmexit_capture_counts(cap, &rc), 0);
		kvmexit_capture_close(cap);
	}
	if (have_perf())
		ck_assert_int_eq(perf_script_count(out, "kvm:kvm_exit"), 0);
	unlink(out);
}
END_TEST

/*
 * The counting machinery with events that do fire here: filtered kvm_pio
 * counters per CPU count exactly what the guest did.
 */
START_TEST(test_live_counter_filter)
{
	struct kx_counter_spec specs[3] = { { 0 } };
	char msg[KX_ERRMSG_SIZE], n[16], tracefs[PATH_MAX];
	struct kx_counter_set *set;
	int cpus[1024], nr = 0, status;
	uint64_t id, sum[3] = { 0 };
	struct perf_cpu_map *cpumap;
	pid_t pid;

	ck_assert_int_eq(kx_tracefs_find(NULL, tracefs, sizeof(tracefs), msg), 0);
	ck_assert_int_eq(kx_tracefs_event_id(tracefs, "kvm_pio", &id), 0);
	for (int i = 0; i < 3; i++)
		specs[i].tp_id = id;
	snprintf(specs[0].filter, sizeof(specs[0].filter), "port == %d", GUEST_PORT);
	snprintf(specs[1].filter, sizeof(specs[1].filter), "port == %d", GUEST_PORT + 1);
	cpumap = perf_cpu_map__new(NULL);
	for (int c = 0; c < perf_cpu_map__nr(cpumap) && nr < 1024; c++)
		cpus[nr++] = perf_cpu_map__cpu(cpumap, c).cpu;
	perf_cpu_map__put(cpumap);
	ck_assert_msg(kx_counter_set_open(specs, 3, cpus, nr, -1, false, &set, msg) == 0, "%s",
		      msg);
	ck_assert_int_eq(kx_counter_set_enable(set), 0);
	snprintf(n, sizeof(n), "%d", GUEST_N);
	pid = start_guest(n, GUEST_PORT_ARG);
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(kx_counter_set_disable(set), 0);
	for (int i = 0; i < 3; i++) {
		for (int c = 0; c < nr; c++) {
			uint64_t v;

			ck_assert_int_eq(kx_counter_set_read(set, i, c, &v), 0);
			sum[i] += v;
		}
	}
	kx_counter_set_free(set);
	/*
	 * The counters are system-wide: the filtered ones see only this test's
	 * port; the unfiltered one also counts any other guest running now
	 * (make -j runs other suites' guests on port 0x80).
	 */
	ck_assert_uint_eq(sum[0], GUEST_N);
	ck_assert_uint_eq(sum[1], 0);
	ck_assert_uint_ge(sum[2], GUEST_N);
}
END_TEST

static const char *live_reason(void)
{
	static char why[PATH_MAX + 64];
	char path[PATH_MAX], msg[KX_ERRMSG_SIZE];

	if (geteuid() != 0)
		return "live recording tests need root";
	if (access("/dev/kvm", R_OK | W_OK))
		return "live recording tests need /dev/kvm";
	if (kx_tracefs_find(NULL, path, sizeof(path), msg) ||
	    kx_tracefs_event_id(path, "kvm_pio", &(uint64_t){ 0 }))
		return "live recording tests need the kvm tracepoints (tracefs events/kvm)";
	if (access(guest, X_OK)) {
		snprintf(why, sizeof(why), "%s not built", guest);
		return why;
	}
	return NULL;
}

static Suite *record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("fixtures");

	tcase_add_test(tc, test_host_meta_fixture);
	tcase_add_test(tc, test_tracefs_fixture);
	tcase_add_test(tc, test_events_parse);
	tcase_add_test(tc, test_exit_specs);
	tcase_add_test(tc, test_exit_specs_keys_match_sampling);
	suite_add_tcase(s, tc);
	if (live_skip) {
		printf("# SKIP live tests: %s\n", live_skip);
		return s;
	}
	tc = tcase_create("live");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_live_library_ioport);
	tcase_add_test(tc, test_live_tool_ioport);
	tcase_add_test(tc, test_live_kvm_exit_system_wide);
	tcase_add_test(tc, test_live_pid_filter);
	tcase_add_test(tc, test_live_pid_not_found);
	tcase_add_test(tc, test_live_sigint);
	tcase_add_test(tc, test_live_count_mode);
	tcase_add_test(tc, test_live_counter_filter);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *b = getenv("top_builddir");
	SRunner *sr;
	int failed;

	if (!b || !realpath(b, builddir))
		snprintf(builddir, sizeof(builddir), ".");
	snprintf(guest, sizeof(guest), "%s/tests/pio-guest", builddir);
	snprintf(tool, sizeof(tool), "%s/tool/kvmexit", builddir);
	live_skip = live_reason();
	sr = srunner_create(record_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
