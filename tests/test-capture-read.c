// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the perf.data reader (lib/perfdata-*.c, tracedata.c, format.c).
 *
 *  - stock captures made by perf here, at test time: a child of this program
 *    calls getpgid() N times (syscalls:sys_enter_getpgid: sanitizers call
 *    getppid but not getpgid), or runs a tiny
 *    real-mode /dev/kvm guest doing N `out` instructions (kvm:kvm_pio and
 *    kvm:kvm_userspace_exit); file and pipe mode; counts must equal N and
 *    what `perf script` reports.  Skipped visibly without perf, permission,
 *    the tracepoints or /dev/kvm.
 *  - two checked-in stock captures (tests/data/perf-kvm-pio20.*.data: perf
 *    6.1 on a 6.18 host, a 20-`out` guest, file and pipe mode).
 *  - captures built here from the checked-in 6.1 and 6.18 format files
 *    (a small perf.data writer below): both layouts decode to the same
 *    events; the ISA comes from the CPUID feature when kvm_exit has no isa;
 *    per-round time ordering; lost records; kvmexit's metadata section.
 *  - every truncation and many byte flips of small captures: an error or a
 *    partial result, never a crash (CI runs this under ASan and UBSan).
 *
 * This program re-executes itself as the workload: --getpgid N, --guest N.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-skip.h"
#include "internal.h"

static char self_exe[4096];
static char tmpdir[64];
static const char *perf_path;

/* ------------------------------------------------------------ workloads */

static int workload_getpgid(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getpgid, 0);
	return 0;
}

/*
 * Real mode at 0x1000: mov al,cl; out 0x80,al; loop (CX times); hlt.  Each
 * `out` is a KVM_EXIT_IO to us, then the hlt a KVM_EXIT_HLT.
 */
static int workload_guest(unsigned n)
{
	static const unsigned char code[] = { 0x88, 0xc8, 0xe6, 0x80, 0xe2, 0xfa, 0xf4 };
	struct kvm_userspace_memory_region region = { .memory_size = 0x10000 };
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2, .rcx = n };
	struct kvm_sregs sregs;
	struct kvm_run *run;
	int kvm, vm, vcpu, size;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 || (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		return 2;
	mem = mmap(NULL, region.memory_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 2;
	memcpy((char *)mem + 0x1000, code, sizeof(code));
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) ||
	    (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		return 2;
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs))
		return 2;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
		return 2;
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0))
			return 2;
		if (run->exit_reason != KVM_EXIT_IO)
			return run->exit_reason == KVM_EXIT_HLT ? 0 : 1;
	}
}

/* ------------------------------------------------------------ helpers */

/* Runs argv with stdout to out_path (if not NULL); returns the exit status. */
static int spawn(char *const argv[], const char *out_path)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 2);
		if (out_path) {
			int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			dup2(out, 1);
		} else {
			dup2(fd, 1);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static char *tmp_path(const char *name)
{
	static char path[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
	return path[i];
}

/* perf record -e ev... -o out|- [> out] -- self --mode n */
static int perf_record(const char *const *events, bool pipe, const char *out,
		       const char *mode, unsigned n)
{
	char count[32], *argv[32];
	int argc = 0;

	snprintf(count, sizeof(count), "%u", n);
	argv[argc++] = (char *)perf_path;
	argv[argc++] = "record";
	argv[argc++] = "-q";
	for (; *events && argc < 20; events++) {
		argv[argc++] = "-e";
		argv[argc++] = (char *)*events;
	}
	argv[argc++] = "-o";
	argv[argc++] = pipe ? "-" : (char *)out;
	argv[argc++] = "--";
	argv[argc++] = self_exe;
	argv[argc++] = (char *)mode;
	argv[argc++] = count;
	argv[argc] = NULL;
	return spawn(argv, pipe ? out : NULL);
}

/* How many lines of `perf script -F event` name the event. */
static long perf_script_count(const char *file, const char *event)
{
	char *argv[] = { (char *)perf_path, "script", "-i", (char *)file, "-F", "event", NULL };
	char *out = tmp_path("script.txt"), line[512], want[128];
	long n = 0;
	FILE *f;

	if (spawn(argv, out))
		return -1;
	f = fopen(out, "r");
	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%s:", event);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, want) != NULL;
	fclose(f);
	return n;
}

struct tally {
	uint64_t n[KVMEXIT_EV__MAX];
	uint64_t last_time;
	uint64_t unordered;
	uint64_t pio_port_80, pio_val_sum, pio_bad;
	uint64_t uexit_io, uexit_hlt;
	size_t nr;
	struct kvmexit_event ev[64];	/* the first events */
	int stop_after;
};

static int tally_fn(const struct kvmexit_event *ev, void *arg)
{
	struct tally *t = arg;

	t->n[ev->type]++;
	if (ev->time < t->last_time)
		t->unordered++;
	t->last_time = ev->time;
	if (t->nr < KX_ARRAY_SIZE(t->ev))
		t->ev[t->nr++] = *ev;
	if (ev->type == KVMEXIT_EV_PIO) {
		t->pio_port_80 += ev->pio.port == 0x80;
		t->pio_val_sum += ev->pio.val;
		t->pio_bad += ev->pio.rw != 1 || ev->pio.size != 1 || ev->pio.count != 1;
	}
	if (ev->type == KVMEXIT_EV_USERSPACE_EXIT) {
		t->uexit_io += ev->userspace_exit.reason == KVM_EXIT_IO;
		t->uexit_hlt += ev->userspace_exit.reason == KVM_EXIT_HLT;
	}
	if (t->stop_after && t->nr == (size_t)t->stop_after)
		return 42;
	return 0;
}

/* Opens and walks path; returns for_each's result (or open's). */
static int walk(const char *path, struct tally *t, struct kvmexit_meta *meta,
		char *err, size_t errlen)
{
	struct kvmexit_capture *cap;
	int r;

	memset(t, 0, sizeof(*t));
	r = kvmexit_capture_open(path, &cap, err, errlen);
	if (r)
		return r;
	r = kvmexit_capture_for_each(cap, tally_fn, t);
	if (meta)
		*meta = *kvmexit_capture_meta(cap);
	if (r && err)
		snprintf(err, errlen, "%s", kvmexit_capture_errmsg(cap));
	kvmexit_capture_close(cap);
	return r;
}

static uint64_t samples_of(const char *path, const char *sys, const char *name)
{
	struct kvmexit_capture *cap;
	struct tally t = { 0 };
	uint64_t n;
	char err[KX_ERRMSG_SIZE];

	ck_assert_msg(!kvmexit_capture_open(path, &cap, err, sizeof(err)), "%s", err);
	ck_assert_int_eq(kvmexit_capture_for_each(cap, tally_fn, &t), 0);
	n = kx_capture_nr_samples(cap, sys, name);
	kvmexit_capture_close(cap);
	return n;
}

/* ------------------------------------------------------------ stock captures */

#define N_GETPGID 1234

static void check_getpgid(bool pipe)
{
	const char *ev[] = { "syscalls:sys_enter_getpgid", NULL };
	char *out = tmp_path(pipe ? "getpgid.pipe.data" : "getpgid.data");

	ck_assert_int_eq(perf_record(ev, pipe, out, "--getpgid", N_GETPGID), 0);
	ck_assert_int_eq(perf_script_count(out, "syscalls:sys_enter_getpgid"), N_GETPGID);
	ck_assert_uint_eq(samples_of(out, "syscalls", "sys_enter_getpgid"), N_GETPGID);
	ck_assert_uint_eq(samples_of(out, "syscalls", "sys_enter_getpid"), 0);
}

START_TEST(test_stock_getpgid_file)
{
	check_getpgid(false);
}
END_TEST

START_TEST(test_stock_getpgid_pipe)
{
	check_getpgid(true);
}
END_TEST

/* The pipe capture read from standard input. */
START_TEST(test_stock_getpgid_stdin)
{
	const char *ev[] = { "syscalls:sys_enter_getpgid", NULL };
	char *out = tmp_path("stdin.pipe.data");
	int fd;

	ck_assert_int_eq(perf_record(ev, true, out, "--getpgid", 77), 0);
	fd = open(out, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 0), 0);
	close(fd);
	ck_assert_uint_eq(samples_of("-", "syscalls", "sys_enter_getpgid"), 77);
}
END_TEST

#define N_OUTS 500

static void check_pio(const char *path, unsigned n, long script_pio, long script_uexit)
{
	struct tally t;
	struct kvmexit_meta m;
	char err[KX_ERRMSG_SIZE];

	ck_assert_msg(walk(path, &t, &m, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(t.n[KVMEXIT_EV_PIO], n);
	ck_assert_uint_eq(t.n[KVMEXIT_EV_USERSPACE_EXIT], n + 1);
	ck_assert_uint_eq(t.n[KVMEXIT_EV_EXIT], 0);
	ck_assert_uint_eq(t.n[KVMEXIT_EV_LOST], 0);
	if (script_pio >= 0) {
		ck_assert_int_eq(script_pio, (long)n);
		ck_assert_int_eq(script_uexit, (long)n + 1);
	}
	ck_assert_uint_eq(t.pio_port_80, n);
	ck_assert_uint_eq(t.pio_bad, 0);
	/* The guest writes CX's low byte, counting down from n. */
	uint64_t sum = 0;

	for (unsigned i = 1; i <= n; i++)
		sum += i & 0xff;
	ck_assert_uint_eq(t.pio_val_sum, sum);
	ck_assert_uint_eq(t.uexit_io, n);
	ck_assert_uint_eq(t.uexit_hlt, 1);
	ck_assert_uint_eq(t.unordered, 0);
	/* The first two: the pio, then its exit to userspace, same thread. */
	ck_assert_int_eq(t.ev[0].type, KVMEXIT_EV_PIO);
	ck_assert_int_eq(t.ev[0].pio.val, n & 0xff);
	ck_assert_int_eq(t.ev[1].type, KVMEXIT_EV_USERSPACE_EXIT);
	ck_assert_int_eq(t.ev[0].tid, t.ev[1].tid);
	ck_assert_int_gt(t.ev[0].tid, 0);
	ck_assert_uint_ne(m.start_ns, 0);
	ck_assert_uint_ge(m.end_ns, m.start_ns);
	ck_assert_str_eq(m.arch, "x86_64");
	ck_assert_uint_gt(m.nr_cpus, 0);
	ck_assert_int_ne(m.isa, KVMEXIT_ISA_UNKNOWN);
}

static void check_guest(bool pipe)
{
	const char *ev[] = { "kvm:kvm_pio", "kvm:kvm_userspace_exit", "kvm:kvm_exit",
			     "kvm:kvm_entry", NULL };
	char *out = tmp_path(pipe ? "guest.pipe.data" : "guest.data");

	ck_assert_int_eq(perf_record(ev, pipe, out, "--guest", N_OUTS), 0);
	check_pio(out, N_OUTS, perf_script_count(out, "kvm:kvm_pio"),
		  perf_script_count(out, "kvm:kvm_userspace_exit"));
}

START_TEST(test_stock_guest_file)
{
	check_guest(false);
}
END_TEST

START_TEST(test_stock_guest_pipe)
{
	check_guest(true);
}
END_TEST

/* Checked-in: perf 6.1 on a 6.18 host, 20 outs, four kvm events. */
START_TEST(test_checked_in_stock)
{
	struct kvmexit_meta m;
	struct tally t;
	char err[KX_ERRMSG_SIZE];

	check_pio(TESTS_DATADIR "/perf-kvm-pio20.file.data", 20, -1, -1);
	check_pio(TESTS_DATADIR "/perf-kvm-pio20.pipe.data", 20, -1, -1);
	ck_assert_int_eq(walk(TESTS_DATADIR "/perf-kvm-pio20.file.data", &t, &m, err,
			      sizeof(err)), 0);
	ck_assert_str_eq(m.cpuid, "AuthenticAMD,26,2,1");
	ck_assert_str_eq(m.vendor, "AuthenticAMD");
	ck_assert_int_eq(m.isa, KVMEXIT_ISA_SVM);
	ck_assert_str_eq(m.osrelease, "6.18.44-fc-v657");
	ck_assert_str_eq(m.hostname, "vm");
	ck_assert_str_eq(m.cpu_desc, "AMD EPYC");
	ck_assert_uint_eq(m.nr_cpus, 2);
	ck_assert_ptr_nonnull(strstr(m.cmdline, "perf record -q -e kvm:kvm_pio"));
	ck_assert_uint_eq(m.start_ns, 1110735170602ULL);
	ck_assert_uint_eq(m.end_ns, 1110735379826ULL);
	ck_assert_uint_eq(t.ev[0].time, 1110735170602ULL);
	ck_assert_int_eq(t.ev[0].pid, 27308);
	ck_assert_int_eq(t.ev[0].tid, 27308);
	ck_assert_uint_eq(t.ev[0].cpu, 0);
}
END_TEST

/*
 * Captures stock perf 6.1 recorded with -z (PERF_RECORD_COMPRESSED, zstd)
 * on this 6.18 host, of kvmexit-guest --memory 4 --pages 8 --passes 1
 * --cpuid 5 --ioports 10: 16 port writes (6 phase markers 1..6 to 0xe9, 10
 * values 1..10 to 0x80), each a kvm_userspace_exit KVM_EXIT_IO, and one
 * KVM_EXIT_HLT.  perf script shows the same on each file.
 */
static void check_compressed(const char *path, uint64_t uexits, int32_t pid)
{
	struct kvmexit_meta m;
	struct tally t;
	char err[KX_ERRMSG_SIZE];

	ck_assert_msg(walk(path, &t, &m, err, sizeof(err)) == 0, "%s: %s", path, err);
	ck_assert_uint_eq(t.n[KVMEXIT_EV_PIO], 16);
	ck_assert_uint_eq(t.pio_port_80, 10);
	ck_assert_uint_eq(t.pio_val_sum, 55 + 21);
	ck_assert_uint_eq(t.pio_bad, 0);
	ck_assert_uint_eq(t.n[KVMEXIT_EV_USERSPACE_EXIT], uexits);
	ck_assert_uint_eq(t.uexit_io, uexits ? 16 : 0);
	ck_assert_uint_eq(t.uexit_hlt, uexits ? 1 : 0);
	ck_assert_uint_eq(t.n[KVMEXIT_EV_EXIT] + t.n[KVMEXIT_EV_ENTRY] + t.n[KVMEXIT_EV_LOST], 0);
	ck_assert_uint_eq(t.unordered, 0);
	ck_assert_uint_eq(t.ev[0].type, KVMEXIT_EV_PIO);
	ck_assert_uint_eq(t.ev[0].pio.port, 0xe9);
	ck_assert_uint_eq(t.ev[0].pio.val, 1);
	if (pid)
		ck_assert_int_eq(t.ev[0].pid, pid);
	ck_assert_str_eq(m.osrelease, "6.18.44-fc-v1300");
}

START_TEST(test_stock_compressed)
{
	check_compressed(TESTS_DATADIR "/perf-z-pio.file.data", 17, 28014);
	check_compressed(TESTS_DATADIR "/perf-z-pio.pipe.data", 17, 0);
	/* perf kvm stat record -z: kvm_entry, kvm_exit (never fire here), kvm_pio... */
	check_compressed(TESTS_DATADIR "/perf-z-kvmstat.data", 0, 28617);
	ck_assert_uint_eq(samples_of(TESTS_DATADIR "/perf-z-kvmstat.data", "kvm", "kvm_pio"), 16);
}
END_TEST

/* ------------------------------------------------------------ a tiny writer */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	if (d)
		memcpy(b->p + b->len, d, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

static void put32(struct buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put64(struct buf *b, uint64_t v)
{
	put(b, &v, 8);
}

static void put_hdr(struct buf *b, uint32_t type, uint16_t misc, uint16_t size)
{
	struct perf_event_header h = { .type = type, .misc = misc, .size = size };

	put(b, &h, sizeof(h));
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc(n + 1);
	ck_assert_uint_eq(fread(s, 1, n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return s;
}

static char *format_file(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", TESTS_DATADIR, name);
	return slurp(path, NULL);
}

/* The test's own reading of a format: offset and size of a field, or -1. */
static int fmt_field(const char *fmt, const char *field, int *size)
{
	for (const char *l = strstr(fmt, "\tfield:"); l; l = strstr(l + 1, "\tfield:")) {
		const char *semi = strchr(l, ';'), *name = semi;
		int off;

		while (name > l && name[-1] != ' ' && name[-1] != '*')
			name--;
		if ((size_t)(semi - name) == strlen(field) && !strncmp(name, field, semi - name) &&
		    sscanf(semi, ";\toffset:%d;\tsize:%d;", &off, size) == 2)
			return off;
	}
	return -1;
}

static int fmt_id(const char *fmt)
{
	const char *p = strstr(fmt, "\nID: ");

	ck_assert_ptr_nonnull(p);
	return atoi(p + 5);
}

/* The record size of a format: end of its last field. */
static int fmt_size(const char *fmt)
{
	int end = 0;

	for (const char *l = strstr(fmt, "\tfield:"); l; l = strstr(l + 1, "\tfield:")) {
		int off, size;
		const char *semi = strchr(l, ';');

		if (sscanf(semi, ";\toffset:%d;\tsize:%d;", &off, &size) == 2 && off + size > end)
			end = off + size;
	}
	return end;
}

/* Removes the line of a field from a format text (in place). */
static void fmt_drop(char *fmt, const char *field)
{
	char pat[64];
	char *l, *e;

	snprintf(pat, sizeof(pat), " %s;", field);
	l = strstr(fmt, pat);
	ck_assert_ptr_nonnull(l);
	while (l > fmt && l[-1] != '\n')
		l--;
	e = strchr(l, '\n');
	memmove(l, e + 1, strlen(e + 1) + 1);
}

static void raw_set(unsigned char *raw, const char *fmt, const char *field, uint64_t v)
{
	int size, off = fmt_field(fmt, field, &size);

	if (off < 0)
		return;		/* this kernel lacks it */
	memcpy(raw + off, &v, size);	/* little-endian */
}

/* The HEADER_TRACING_DATA blob for formats of system kvm. */
static void tracing_blob(struct buf *b, char *const *fmts, size_t n)
{
	static const char hp[] = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n";

	put(b, "\x17\x08\x44tracing", 10);
	put(b, "0.6", 4);
	put(b, "\0\x08", 2);
	put32(b, 4096);
	put(b, "header_page", 12);
	put64(b, sizeof(hp) - 1);
	put(b, hp, sizeof(hp) - 1);
	put(b, "header_event", 13);
	put64(b, 5);
	put(b, "dummy", 5);
	put32(b, 1);			/* one ftrace format, skipped */
	put64(b, 3);
	put(b, "xyz", 3);
	put32(b, 1);
	put(b, "kvm", 4);
	put32(b, n);
	for (size_t i = 0; i < n; i++) {
		put64(b, strlen(fmts[i]));
		put(b, fmts[i], strlen(fmts[i]));
	}
	put32(b, 0);			/* kallsyms */
	put32(b, 0);			/* printk */
	put64(b, 0);			/* saved cmdlines */
	while (b->len % 8)
		put(b, NULL, 1);
}

#define FX_SAMPLE_TYPE (PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ID | \
			PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_RAW)
#define FX_MAX_ATTRS 4

struct fixture {
	size_t nr_attrs;
	char *fmt[FX_MAX_ATTRS];	/* one tracepoint format per attr */
	struct buf data;		/* the records */
	const char *cpuid;		/* NULL: no CPUID feature */
	char *kx_meta;			/* NULL: no kvmexit section */
	size_t kx_meta_len;
	bool kx_meta_in_version;	/* as 0.2 writes it, else at bit 250 as 0.1 */
};

static uint64_t fx_id(size_t attr)
{
	return 100 + attr;
}

static void fx_sample(struct fixture *fx, size_t attr, uint64_t time, uint32_t cpu,
		      int32_t tid, const unsigned char *raw, uint32_t raw_size)
{
	struct buf *b = &fx->data;
	uint32_t size = 8 + 8 * 6 + 4 + raw_size;

	ck_assert_uint_eq(size % 8, 0);
	put_hdr(b, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_KERNEL, size);
	put64(b, 0xffffffff81000000ULL);	/* ip */
	put32(b, 1000);				/* pid */
	put32(b, tid);
	put64(b, time);
	put64(b, fx_id(attr));
	put32(b, cpu);
	put32(b, 0);
	put64(b, 1);				/* period */
	put32(b, raw_size);
	put(b, raw, raw_size);
}

/* A raw record of attr's format, zeroed, with common_type set. */
static uint32_t fx_raw(struct fixture *fx, size_t attr, unsigned char *raw)
{
	int end = fmt_size(fx->fmt[attr]);
	uint32_t size = ((end + 4 + 7) & ~7u) - 4;

	memset(raw, 0, size);
	raw_set(raw, fx->fmt[attr], "common_type", fmt_id(fx->fmt[attr]));
	raw_set(raw, fx->fmt[attr], "common_pid", 1001);
	return size;
}

struct exit_vals {
	uint32_t reason, isa, intr_info, error_code, vcpu;
	uint64_t rip, info1, info2;
};

static void fx_exit(struct fixture *fx, size_t attr, uint64_t time, uint32_t cpu,
		    const struct exit_vals *v)
{
	unsigned char raw[256];
	const char *f = fx->fmt[attr];
	uint32_t size = fx_raw(fx, attr, raw);

	raw_set(raw, f, "exit_reason", v->reason);
	raw_set(raw, f, "guest_rip", v->rip);
	raw_set(raw, f, "isa", v->isa);
	raw_set(raw, f, "info1", v->info1);
	raw_set(raw, f, "info2", v->info2);
	raw_set(raw, f, "intr_info", v->intr_info);
	raw_set(raw, f, "error_code", v->error_code);
	raw_set(raw, f, "vcpu_id", v->vcpu);
	raw_set(raw, f, "requests", 0x5555);
	fx_sample(fx, attr, time, cpu, 1001, raw, size);
}

static void fx_entry(struct fixture *fx, size_t attr, uint64_t time, uint32_t cpu,
		     uint32_t vcpu, uint64_t rip)
{
	unsigned char raw[256];
	uint32_t size = fx_raw(fx, attr, raw);

	raw_set(raw, fx->fmt[attr], "vcpu_id", vcpu);
	raw_set(raw, fx->fmt[attr], "rip", rip);
	fx_sample(fx, attr, time, cpu, 1001, raw, size);
}

static void fx_round(struct fixture *fx)
{
	put_hdr(&fx->data, 68, 0, 8);
}

static void fx_lost(struct fixture *fx, uint64_t lost, uint64_t time, uint32_t cpu)
{
	/* id, lost, then the sample_id trailer: tid, time, id, cpu */
	put_hdr(&fx->data, PERF_RECORD_LOST, 0, 8 + 16 + 32);
	put64(&fx->data, fx_id(0));
	put64(&fx->data, lost);
	put32(&fx->data, 1000);
	put32(&fx->data, 1001);
	put64(&fx->data, time);
	put64(&fx->data, fx_id(0));
	put32(&fx->data, cpu);
	put32(&fx->data, 0);
}

static void fx_attr(const struct fixture *fx, size_t i, struct perf_event_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = PERF_TYPE_TRACEPOINT;
	a->size = sizeof(*a);
	a->config = fmt_id(fx->fmt[i]);
	a->sample_period = 1;
	a->sample_type = FX_SAMPLE_TYPE;
	a->sample_id_all = 1;
}

static void feat_string(struct buf *b, const char *s)
{
	uint32_t len = (strlen(s) + 1 + 63) & ~63u;
	size_t at = b->len;

	put32(b, len);
	put(b, NULL, len);
	memcpy(b->p + at + 4, s, strlen(s));
}

/* Feature payloads of the fixture, by bit. */
static size_t fx_features(const struct fixture *fx, unsigned *bits, struct buf *payloads)
{
	size_t n = 0;

	bits[n] = 1;
	tracing_blob(&payloads[n++], fx->fmt, fx->nr_attrs);
	bits[n] = 3;
	feat_string(&payloads[n++], "fixture-host");
	if (fx->cpuid) {
		bits[n] = 9;
		feat_string(&payloads[n++], fx->cpuid);
	}
	if (fx->kx_meta && fx->kx_meta_in_version) {
		/* VERSION: "kvmexit 0.2", NUL, the metadata; SAMPLE_TIME after it */
		struct buf *b = &payloads[n];

		bits[n++] = 5;
		put32(b, (uint32_t)(12 + fx->kx_meta_len));
		put(b, "kvmexit 0.2", 12);
		put(b, fx->kx_meta, fx->kx_meta_len);
		bits[n] = 21;
		put64(&payloads[n], 11);
		put64(&payloads[n++], 22);
	} else if (fx->kx_meta) {
		bits[n] = KX_FEAT_KVMEXIT;
		put(&payloads[n++], fx->kx_meta, fx->kx_meta_len);
	}
	return n;
}

static void fx_file(const struct fixture *fx, struct buf *out)
{
	struct buf payloads[8] = { 0 };
	unsigned bits[8];
	size_t nf = fx_features(fx, bits, payloads);
	size_t attr_entry = sizeof(struct perf_event_attr) + 16;
	uint64_t attrs_off = 104, ids_off = attrs_off + fx->nr_attrs * attr_entry;
	uint64_t data_off = ids_off + 8 * fx->nr_attrs;
	uint64_t feat_off = data_off + fx->data.len, pay_off = feat_off + 16 * nf;
	uint64_t features[4] = { 0 };

	out->len = 0;
	put(out, "PERFILE2", 8);
	put64(out, 104);
	put64(out, attr_entry);
	put64(out, attrs_off);
	put64(out, fx->nr_attrs * attr_entry);
	put64(out, data_off);
	put64(out, fx->data.len);
	put64(out, 0);			/* event_types */
	put64(out, 0);
	for (size_t i = 0; i < nf; i++)
		features[bits[i] / 64] |= 1ULL << (bits[i] % 64);
	put(out, features, sizeof(features));
	for (size_t i = 0; i < fx->nr_attrs; i++) {
		struct perf_event_attr a;

		fx_attr(fx, i, &a);
		put(out, &a, sizeof(a));
		put64(out, ids_off + 8 * i);
		put64(out, 8);
	}
	for (size_t i = 0; i < fx->nr_attrs; i++)
		put64(out, fx_id(i));
	put(out, fx->data.p, fx->data.len);
	/* the table, then the payloads in reverse: offsets, not order, count */
	for (size_t i = 0; i < nf; i++) {
		uint64_t off = pay_off;

		for (size_t j = nf - 1; j > i; j--)
			off += payloads[j].len;
		put64(out, off);
		put64(out, payloads[i].len);
	}
	for (size_t i = nf; i-- > 0;) {
		put(out, payloads[i].p, payloads[i].len);
		free(payloads[i].p);
	}
}

static void fx_pipe(const struct fixture *fx, struct buf *out)
{
	struct buf payloads[8] = { 0 };
	unsigned bits[8];
	size_t nf = fx_features(fx, bits, payloads);

	out->len = 0;
	put(out, "PERFILE2", 8);
	put64(out, 16);
	for (size_t i = 0; i < fx->nr_attrs; i++) {
		struct perf_event_attr a;

		fx_attr(fx, i, &a);
		put_hdr(out, 64, 0, 8 + sizeof(a) + 8);
		put(out, &a, sizeof(a));
		put64(out, fx_id(i));
	}
	for (size_t i = 1; i < nf; i++) {
		size_t len = (payloads[i].len + 7) & ~(size_t)7;

		put_hdr(out, 80, 0, 16 + len);
		put64(out, bits[i]);
		put(out, payloads[i].p, payloads[i].len);
		put(out, NULL, len - payloads[i].len);
	}
	put_hdr(out, 66, 0, 16);	/* tracing data, its blob follows */
	put32(out, payloads[0].len);
	put32(out, 0);
	put(out, payloads[0].p, payloads[0].len);
	put_hdr(out, 82, 0, 8);		/* FINISHED_INIT */
	put(out, fx->data.p, fx->data.len);
	for (size_t i = 0; i < nf; i++)
		free(payloads[i].p);
}

static char *write_tmp(const char *name, const void *p, size_t len)
{
	char *path = tmp_path(name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
	return path;
}

static void fx_free(struct fixture *fx)
{
	for (size_t i = 0; i < fx->nr_attrs; i++)
		free(fx->fmt[i]);
	free(fx->data.p);
	free(fx->kx_meta);
}

/* kvm_exit (attr 0) and kvm_entry (attr 1) of one kernel. */
static void fx_exit_entry(struct fixture *fx, const char *kernel)
{
	char name[64];

	memset(fx, 0, sizeof(*fx));
	fx->nr_attrs = 2;
	snprintf(name, sizeof(name), "kvm_exit.format.%s.txt", kernel);
	fx->fmt[0] = format_file(name);
	snprintf(name, sizeof(name), "kvm_entry.format.%s.txt", kernel);
	fx->fmt[1] = format_file(name);
}

static const struct exit_vals exit_a = {
	.reason = 30, .isa = 1, .rip = 0xfff0, .info1 = 0x800008, .info2 = 0x1234567890ULL,
	.intr_info = 0x80000b0e, .error_code = 7, .vcpu = 3,
};
static const struct exit_vals exit_b = {
	.reason = 48 | KVMEXIT_VMX_FLAG_FAILED_VMENTRY, .isa = 1, .rip = 0xffffffff81234567ULL,
	.info1 = 0x181, .info2 = 0xfee00000, .vcpu = 1,
};

/* Two pairs on two vCPUs, vCPU 3 migrating from CPU 0 to CPU 1. */
static void fx_pairs(struct fixture *fx)
{
	fx_exit(fx, 0, 1000, 0, &exit_a);
	fx_exit(fx, 0, 1100, 1, &exit_b);
	fx_round(fx);
	fx_entry(fx, 1, 1500, 0, 1, 0xffffffff81234567ULL);	/* CPU 0's ring first */
	fx_entry(fx, 1, 1200, 1, 3, 0xfff2);			/* migrated, earlier */
	fx_round(fx);
}

static void check_exit(const struct kvmexit_event *ev, const struct exit_vals *v,
		       uint64_t time, uint32_t cpu)
{
	ck_assert_int_eq(ev->type, KVMEXIT_EV_EXIT);
	ck_assert_uint_eq(ev->time, time);
	ck_assert_uint_eq(ev->cpu, cpu);
	ck_assert_int_eq(ev->pid, 1000);
	ck_assert_int_eq(ev->tid, 1001);
	ck_assert_uint_eq(ev->vcpu, v->vcpu);
	ck_assert_int_eq(ev->exit.isa, v->isa);
	ck_assert_uint_eq(ev->exit.exit_reason, v->reason);
	ck_assert_uint_eq(ev->exit.guest_rip, v->rip);
	ck_assert_uint_eq(ev->exit.info1, v->info1);
	ck_assert_uint_eq(ev->exit.info2, v->info2);
	ck_assert_uint_eq(ev->exit.intr_info, v->intr_info);
	ck_assert_uint_eq(ev->exit.error_code, v->error_code);
}

static void check_pairs(const struct tally *t)
{
	ck_assert_uint_eq(t->nr, 4);
	check_exit(&t->ev[0], &exit_a, 1000, 0);
	check_exit(&t->ev[1], &exit_b, 1100, 1);
	ck_assert_int_eq(t->ev[2].type, KVMEXIT_EV_ENTRY);
	ck_assert_uint_eq(t->ev[2].time, 1200);
	ck_assert_uint_eq(t->ev[2].vcpu, 3);
	ck_assert_uint_eq(t->ev[2].entry.rip, 0xfff2);
	ck_assert_int_eq(t->ev[3].type, KVMEXIT_EV_ENTRY);
	ck_assert_uint_eq(t->ev[3].time, 1500);
	ck_assert_uint_eq(t->ev[3].vcpu, 1);
	ck_assert_uint_eq(t->ev[3].entry.rip, 0xffffffff81234567ULL);
	ck_assert_uint_eq(t->unordered, 0);
}

static void check_fixture_both_modes(const struct fixture *fx, void (*check)(const struct tally *t,
									    const struct kvmexit_meta *m))
{
	struct buf file = { 0 };
	struct kvmexit_meta m;
	struct tally t;
	char err[KX_ERRMSG_SIZE];

	fx_file(fx, &file);
	ck_assert_msg(walk(write_tmp("fx.data", file.p, file.len), &t, &m, err, sizeof(err)) == 0,
		      "%s", err);
	check(&t, &m);
	fx_pipe(fx, &file);
	ck_assert_msg(walk(write_tmp("fx.pipe.data", file.p, file.len), &t, &m, err,
			   sizeof(err)) == 0, "%s", err);
	check(&t, &m);
	free(file.p);
}

static void check_pairs_meta(const struct tally *t, const struct kvmexit_meta *m)
{
	check_pairs(t);
	ck_assert_str_eq(m->hostname, "fixture-host");
	ck_assert_uint_eq(m->start_ns, 1000);
	ck_assert_uint_eq(m->end_ns, 1500);
}

START_TEST(test_layout_6_1)
{
	struct fixture fx;

	fx_exit_entry(&fx, "6.1");
	fx_pairs(&fx);
	check_fixture_both_modes(&fx, check_pairs_meta);
	fx_free(&fx);
}
END_TEST

START_TEST(test_layout_6_18)
{
	struct fixture fx;

	fx_exit_entry(&fx, "6.18");
	fx_pairs(&fx);
	check_fixture_both_modes(&fx, check_pairs_meta);
	fx_free(&fx);
}
END_TEST

/* The resolved layouts themselves: 6.18 adds requests, keeps the rest. */
START_TEST(test_format_layouts)
{
	struct kx_formats *f;
	char *e61 = format_file("kvm_exit.format.6.1.txt");
	char *e618 = format_file("kvm_exit.format.6.18.txt");
	char *pio = format_file("kvm_pio.format.6.18.txt");
	char err[KX_ERRMSG_SIZE];
	const struct kx_layout *l61, *l618, *lpio;

	ck_assert_int_eq(kx_formats_new(8, &f), 0);
	ck_assert_msg(kx_formats_add(f, "kvm", e61, strlen(e61), err) == 0, "%s", err);
	ck_assert_msg(kx_formats_add(f, "kvm", e618, strlen(e618), err) == 0, "%s", err);
	ck_assert_msg(kx_formats_add(f, "kvm", pio, strlen(pio), err) == 0, "%s", err);
	l61 = kx_formats_layout(f, 1419);
	l618 = kx_formats_layout(f, 103);
	lpio = kx_formats_layout(f, 110);
	ck_assert_ptr_nonnull(l61);
	ck_assert_ptr_nonnull(l618);
	ck_assert_ptr_nonnull(lpio);
	ck_assert_ptr_null(kx_formats_layout(f, 42));
	ck_assert_int_eq(l61->type, KVMEXIT_EV_EXIT);
	ck_assert_int_eq(lpio->type, KVMEXIT_EV_PIO);
	ck_assert_uint_eq(l61->min_size, 60);	/* vcpu_id ends it */
	ck_assert_uint_eq(l618->min_size, 60);
	ck_assert_int_eq(memcmp(l61->f, l618->f, sizeof(l61->f)), 0);
	ck_assert_str_eq(kx_formats_name(f, 103, NULL), "kvm_exit");
	/* Too short raw data is refused, not read past. */
	unsigned char raw[64] = { 0 };
	struct kvmexit_event ev = { 0 };

	ck_assert_int_eq(kx_layout_decode(l618, raw, 59, &ev), -KVMEXIT_EFORMAT);
	ck_assert_int_eq(kx_layout_decode(l618, raw, 60, &ev), 0);
	/* A kvm field that is not a scalar is an error naming it. */
	char *bad = strdup(e61);
	char *p = strstr(bad, "u64 info1;\toffset:32;\tsize:8;");

	memcpy(p, "u64 info1;\toffset:32;\tsize:3;", strlen("u64 info1;\toffset:32;\tsize:3;"));
	p = strstr(bad, "ID: 1419");
	memcpy(p, "ID: 1418", 8);
	ck_assert_int_eq(kx_formats_add(f, "kvm", bad, strlen(bad), err), -KVMEXIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "info1"));
	kx_formats_free(f);
	free(bad);
	free(e61);
	free(e618);
	free(pio);
}
END_TEST

static enum kvmexit_isa want_isa;

static void check_isa(const struct tally *t, const struct kvmexit_meta *m)
{
	ck_assert_uint_eq(t->nr, 4);
	ck_assert_int_eq(t->ev[0].exit.isa, want_isa);
	ck_assert_int_eq(t->ev[1].exit.isa, want_isa);
	ck_assert_int_eq(m->isa, want_isa);
	ck_assert_str_eq(m->vendor, want_isa == KVMEXIT_ISA_VMX ? "GenuineIntel" : "AuthenticAMD");
}

/* Without an isa field, the CPUID feature decides VMX or SVM. */
START_TEST(test_isa_from_cpuid)
{
	struct fixture fx;

	fx_exit_entry(&fx, "6.1");
	fmt_drop(fx.fmt[0], "isa");
	ck_assert_ptr_null(strstr(fx.fmt[0], " isa;"));
	fx_pairs(&fx);
	fx.cpuid = "GenuineIntel,6,85,7";
	want_isa = KVMEXIT_ISA_VMX;
	check_fixture_both_modes(&fx, check_isa);
	fx.cpuid = "AuthenticAMD,25,1,1";
	want_isa = KVMEXIT_ISA_SVM;
	check_fixture_both_modes(&fx, check_isa);
	fx_free(&fx);
}
END_TEST

/*
 * Rounds: perf delivers at each FINISHED_ROUND what is not later than the
 * previous round's last time; a file without rounds is sorted whole.
 */
static void check_order(const struct tally *t, const struct kvmexit_meta *m)
{
	static const uint64_t want[] = { 10, 20, 25, 30, 30, 35, 40, 50 };

	ck_assert_uint_eq(t->nr, KX_ARRAY_SIZE(want));
	for (size_t i = 0; i < KX_ARRAY_SIZE(want); i++)
		ck_assert_uint_eq(t->ev[i].time, want[i]);
	/* Equal times keep file order: the exit on CPU 0 came first. */
	ck_assert_uint_eq(t->ev[3].cpu, 0);
	ck_assert_uint_eq(t->ev[4].cpu, 1);
	ck_assert_int_eq(t->ev[5].type, KVMEXIT_EV_LOST);
	ck_assert_uint_eq(t->ev[5].lost.count, 17);
	ck_assert_uint_eq(t->ev[5].cpu, 1);
	ck_assert_uint_eq(m->lost, 17);
	ck_assert_uint_eq(t->unordered, 0);
}

static void fx_order(struct fixture *fx, bool rounds)
{
	struct exit_vals v = exit_a;

	fx_exit_entry(fx, "6.18");
	fx_exit(fx, 0, 10, 0, &v);
	fx_exit(fx, 0, 30, 0, &v);
	fx_exit(fx, 0, 20, 1, &v);
	if (rounds)
		fx_round(fx);
	fx_exit(fx, 0, 40, 0, &v);
	fx_exit(fx, 0, 30, 1, &v);
	fx_lost(fx, 17, 35, 1);
	fx_exit(fx, 0, 25, 1, &v);
	if (rounds)
		fx_round(fx);
	fx_exit(fx, 0, 50, 0, &v);
}

START_TEST(test_round_order)
{
	struct fixture fx;

	fx_order(&fx, true);
	check_fixture_both_modes(&fx, check_order);
	fx_free(&fx);
	fx_order(&fx, false);
	check_fixture_both_modes(&fx, check_order);
	fx_free(&fx);
}
END_TEST

/*
 * The ordering queue's ring: per-CPU chunks (each sorted, interleaved in
 * time) in rounds, and one round larger than the queue (delivered in
 * halves).  Each event must come exactly once with its own payload (the
 * RIP encodes the time), and rounds within the queue's size in order.
 */
struct ring_tally {
	uint64_t n, time_sum, bad_payload, unordered, last_time;
};

static int ring_fn(const struct kvmexit_event *ev, void *arg)
{
	struct ring_tally *t = arg;

	t->n++;
	t->time_sum += ev->time;
	t->bad_payload += ev->type != KVMEXIT_EV_EXIT || ev->exit.guest_rip != ev->time * 16 + 7;
	t->unordered += ev->time < t->last_time;
	t->last_time = ev->time;
	return 0;
}

static void ring_walk(struct fixture *fx, struct ring_tally *t)
{
	struct kvmexit_capture *cap;
	struct buf file = { 0 };
	char err[KX_ERRMSG_SIZE];

	fx_file(fx, &file);
	ck_assert_msg(!kvmexit_capture_open(write_tmp("ring.data", file.p, file.len), &cap, err,
					    sizeof(err)), "%s", err);
	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(kvmexit_capture_for_each(cap, ring_fn, t), 0);
	kvmexit_capture_close(cap);
	free(file.p);
}

/* rounds of 2 chunks of per events each: CPU 0 even times, then CPU 1 odd */
static void fx_chunks(struct fixture *fx, unsigned int rounds, uint64_t per)
{
	struct exit_vals v = exit_a;
	uint64_t base = 1000;

	fx_exit_entry(fx, "6.18");
	for (unsigned int r = 0; r < rounds; r++) {
		for (uint32_t cpu = 0; cpu < 2; cpu++) {
			for (uint64_t i = 0; i < per; i++) {
				uint64_t t = base + 2 * i + cpu;

				v.rip = t * 16 + 7;
				fx_exit(fx, 0, t, cpu, &v);
			}
		}
		base += 2 * per;
		if (rounds > 1)
			fx_round(fx);
	}
}

START_TEST(test_queue_ring)
{
	const uint64_t per = 5000, big = 100000;
	struct ring_tally t;
	struct fixture fx;
	uint64_t n;

	fx_chunks(&fx, 20, per);
	ring_walk(&fx, &t);
	n = 20 * 2 * per;
	ck_assert_uint_eq(t.n, n);
	ck_assert_uint_eq(t.time_sum, n * 1000 + n * (n - 1) / 2);
	ck_assert_uint_eq(t.bad_payload, 0);
	ck_assert_uint_eq(t.unordered, 0);
	fx_free(&fx);

	fx_chunks(&fx, 1, big);		/* 200000 events: more than the queue holds */
	ring_walk(&fx, &t);
	n = 2 * big;
	ck_assert_uint_eq(t.n, n);
	ck_assert_uint_eq(t.time_sum, n * 1000 + n * (n - 1) / 2);
	ck_assert_uint_eq(t.bad_payload, 0);
	ck_assert_uint_gt(t.unordered, 0);	/* late events, as perf's OE_FLUSH__HALF */
	fx_free(&fx);
}
END_TEST

/* kvmexit's own section: metadata and counts. */
static void check_kx_meta(const struct tally *t, const struct kvmexit_meta *m)
{
	ck_assert_uint_eq(t->nr, 4);
	ck_assert(m->has_kvmexit);
	ck_assert_str_eq(m->kvm_module, "kvm_intel");
	ck_assert_str_eq(m->hostname, "from-kvmexit");	/* bit 250 comes after 3 */
	ck_assert_str_eq(kvmexit_meta_param(m, "ept"), "Y");
	ck_assert_int_eq(kvmexit_meta_tdp(m), 1);
	ck_assert_uint_eq(m->start_epoch_ns, 1700000000000000000ULL);
}

START_TEST(test_kvmexit_section)
{
	struct kvmexit_meta m = { 0 };
	struct kx_counts counts = { 0 };
	const struct kvmexit_count *c;
	struct kvmexit_capture *cap;
	struct fixture fx;
	struct buf file = { 0 };
	char err[KX_ERRMSG_SIZE];

	strcpy(m.kvm_module, "kvm_intel");
	strcpy(m.hostname, "from-kvmexit");
	m.start_epoch_ns = 1700000000000000000ULL;
	ck_assert_int_eq(kx_meta_set_param(&m, "ept", "Y"), 0);
	ck_assert_int_eq(kx_counts_add(&counts, KVMEXIT_ISA_VMX, 30, -1, 123), 0);
	ck_assert_int_eq(kx_counts_add(&counts, KVMEXIT_ISA_VMX, 48, 1, 7), 0);
	fx_exit_entry(&fx, "6.18");
	fx_pairs(&fx);
	ck_assert_int_eq(kx_meta_encode(&m, &counts, &fx.kx_meta, &fx.kx_meta_len), 0);
	check_fixture_both_modes(&fx, check_kx_meta);
	fx_file(&fx, &file);
	ck_assert_msg(!kvmexit_capture_open(write_tmp("kx.data", file.p, file.len), &cap, err,
					    sizeof(err)), "%s", err);
	ck_assert_uint_eq(kvmexit_capture_counts(cap, &c), 2);
	ck_assert_uint_eq(c[0].exit_reason, 30);
	ck_assert_uint_eq(c[0].count, 123);
	ck_assert_int_eq(c[1].cpu, 1);
	ck_assert_uint_eq(c[1].count, 7);
	kvmexit_capture_close(cap);
	kx_counts_release(&counts);
	free(file.p);
	fx_free(&fx);
}
END_TEST

/*
 * The metadata in the VERSION section, as kvmexit 0.2 writes it: read in
 * file and pipe mode, and its values win over features of higher bits
 * (SAMPLE_TIME, bit 21, says 11 and 22).
 */
static void check_kx_meta_version(const struct tally *t, const struct kvmexit_meta *m)
{
	check_kx_meta(t, m);
	ck_assert_uint_eq(m->start_ns, 5000);
	ck_assert_uint_eq(m->end_ns, 9000);
}

START_TEST(test_kvmexit_meta_in_version)
{
	struct kvmexit_meta m = { 0 };
	struct kx_counts counts = { 0 };
	const struct kvmexit_count *c;
	struct kvmexit_capture *cap;
	struct fixture fx;
	struct buf file = { 0 };
	char err[KX_ERRMSG_SIZE];

	strcpy(m.kvm_module, "kvm_intel");
	strcpy(m.hostname, "from-kvmexit");
	m.start_epoch_ns = 1700000000000000000ULL;
	m.start_ns = 5000;
	m.end_ns = 9000;
	ck_assert_int_eq(kx_meta_set_param(&m, "ept", "Y"), 0);
	ck_assert_int_eq(kx_counts_add(&counts, KVMEXIT_ISA_VMX, 30, -1, 123), 0);
	fx_exit_entry(&fx, "6.18");
	fx_pairs(&fx);
	ck_assert_int_eq(kx_meta_encode(&m, &counts, &fx.kx_meta, &fx.kx_meta_len), 0);
	fx.kx_meta_in_version = true;
	check_fixture_both_modes(&fx, check_kx_meta_version);
	fx_file(&fx, &file);
	ck_assert_msg(!kvmexit_capture_open(write_tmp("kxv.data", file.p, file.len), &cap, err,
					    sizeof(err)), "%s", err);
	ck_assert_uint_eq(kvmexit_capture_counts(cap, &c), 1);
	ck_assert_uint_eq(c[0].count, 123);
	kvmexit_capture_close(cap);

	/* A bad metadata text after the version string: an error at open. */
	memcpy(fx.kx_meta + strlen("kvmexit-meta "), "x\n", 2);
	fx_file(&fx, &file);
	ck_assert_int_eq(kvmexit_capture_open(write_tmp("kxv.data", file.p, file.len), &cap, err,
					      sizeof(err)), -KVMEXIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "kvmexit's metadata at offset 0x"));
	ck_assert_ptr_nonnull(strstr(err, "is malformed"));
	kx_counts_release(&counts);
	free(file.p);
	fx_free(&fx);
}
END_TEST

/* ------------------------------------------------------------ bad input */

static int stop_fn(const struct kvmexit_event *ev, void *arg)
{
	return ++*(int *)arg == 2 ? 7 : 0;
}

START_TEST(test_api_errors)
{
	struct kvmexit_capture *cap;
	struct fixture fx;
	struct buf file = { 0 };
	char err[KX_ERRMSG_SIZE];
	int n = 0;

	ck_assert_int_eq(kvmexit_capture_open(tmp_path("missing"), &cap, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	ck_assert_int_eq(kvmexit_capture_open(TESTS_DATADIR "/kvm_pio.format.6.18.txt", &cap,
					      err, sizeof(err)), -KVMEXIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "not a perf.data file"));
	/* The callback's value stops the walk; a second walk is refused. */
	fx_exit_entry(&fx, "6.18");
	fx_pairs(&fx);
	fx_file(&fx, &file);
	ck_assert_int_eq(kvmexit_capture_open(write_tmp("api.data", file.p, file.len), &cap, err,
					      sizeof(err)), 0);
	ck_assert_int_eq(kvmexit_capture_for_each(cap, stop_fn, &n), 7);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(kvmexit_capture_for_each(cap, stop_fn, &n), -EINVAL);
	kvmexit_capture_close(cap);
	free(file.p);
	fx_free(&fx);
}
END_TEST

/* A record of size 4 in the data section: the events before it, then an error. */
START_TEST(test_bad_record_partial)
{
	struct fixture fx;
	struct buf file = { 0 };
	struct kvmexit_meta m;
	struct tally t;
	char err[KX_ERRMSG_SIZE], want[128];
	size_t at;

	fx_exit_entry(&fx, "6.18");
	fx_exit(&fx, 0, 1000, 0, &exit_a);
	fx_entry(&fx, 1, 1200, 0, 3, 0xfff2);
	at = fx.data.len;
	put_hdr(&fx.data, PERF_RECORD_SAMPLE, 0, 4);
	put32(&fx.data, 0);
	fx_exit(&fx, 0, 2000, 0, &exit_a);
	fx_file(&fx, &file);
	ck_assert_int_eq(walk(write_tmp("bad.data", file.p, file.len), &t, &m, err, sizeof(err)),
			 -KVMEXIT_EFORMAT);
	ck_assert_uint_eq(t.nr, 2);
	snprintf(want, sizeof(want), "record at offset 0x%zx has size 4, smaller than its header",
		 (size_t)(104 + 2 * (sizeof(struct perf_event_attr) + 16) + 16 + at));
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	/* The same in pipe mode. */
	fx_pipe(&fx, &file);
	ck_assert_int_eq(walk(write_tmp("bad.pipe.data", file.p, file.len), &t, &m, err,
			      sizeof(err)), -KVMEXIT_EFORMAT);
	ck_assert_uint_eq(t.nr, 2);
	ck_assert_ptr_nonnull(strstr(err, "has size 4, smaller than its header"));
	free(file.p);
	fx_free(&fx);
}
END_TEST

/* Opens and walks a damaged capture: whatever happens, no crash or leak. */
static int damaged(const void *p, size_t len, size_t *events, char *err)
{
	char *path = write_tmp("damaged.data", p, len);
	struct tally t;
	int r = walk(path, &t, NULL, err, KX_ERRMSG_SIZE);

	*events = t.nr;
	return r;
}

static void truncations(const unsigned char *p, size_t len, size_t step, bool pipe,
			size_t full_events)
{
	char err[KX_ERRMSG_SIZE];

	for (size_t cut = 0; cut < len; cut += step) {
		size_t events = 0;
		int r = damaged(p, cut, &events, err);

		/* File mode loses its features: an error, unless only
		 * sections the reader skips are cut (perf reads those too).
		 * A pipe cut at a record boundary looks complete. */
		if (!pipe)
			ck_assert_msg(r < 0 || events == full_events,
				      "cut at %zu: no error, %zu events", cut, events);
		if (r < 0)
			ck_assert_msg(err[0] != '\0', "cut at %zu: no message", cut);
		ck_assert_uint_le(events, full_events);
	}
}

static void flips(const unsigned char *orig, size_t len, size_t from, size_t to, size_t step)
{
	unsigned char *p = malloc(len);
	char err[KX_ERRMSG_SIZE];
	static const unsigned char xors[] = { 0xff, 0x80, 0x01 };

	for (size_t at = from; at < to && at < len; at += step) {
		for (size_t k = 0; k < KX_ARRAY_SIZE(xors); k++) {
			size_t events;

			memcpy(p, orig, len);
			p[at] ^= xors[k];
			(void)damaged(p, len, &events, err);
		}
	}
	free(p);
}

START_TEST(test_truncated_fixture)
{
	struct fixture fx;
	struct buf file = { 0 };

	fx_order(&fx, true);
	fx_file(&fx, &file);
	truncations(file.p, file.len, 1, false, 8);
	fx_pipe(&fx, &file);
	truncations(file.p, file.len, 1, true, 8);
	free(file.p);
	fx_free(&fx);
}
END_TEST

START_TEST(test_flipped_fixture)
{
	struct fixture fx;
	struct buf file = { 0 };

	fx_order(&fx, true);
	fx_file(&fx, &file);
	flips(file.p, file.len, 0, file.len, 1);
	fx_pipe(&fx, &file);
	flips(file.p, file.len, 0, file.len, 1);
	free(file.p);
	fx_free(&fx);
}
END_TEST

START_TEST(test_damaged_stock)
{
	static const char *const files[] = { "perf-kvm-pio20.file.data", "perf-kvm-pio20.pipe.data",
					     "perf-z-pio.file.data", "perf-z-pio.pipe.data" };
	static const size_t events[] = { 41, 41, 33, 33 };

	for (size_t i = 0; i < KX_ARRAY_SIZE(files); i++) {
		char path[512];
		size_t len;
		unsigned char *p;

		snprintf(path, sizeof(path), "%s/%s", TESTS_DATADIR, files[i]);
		p = (unsigned char *)slurp(path, &len);
		truncations(p, len, 61, i % 2 == 1, events[i]);
		/* header, attrs, feature table and sections; data sparsely */
		flips(p, len, 0, len, 7);
		free(p);
	}
}
END_TEST

/* ------------------------------------------------------------ suite */

static const char *probe_perf(void)
{
	const char *ev[] = { "syscalls:sys_enter_getpgid", NULL };
	static char reason[256];
	struct stat st;

	perf_path = getenv("PERF");
	if (!perf_path || !*perf_path)
		perf_path = "/usr/bin/perf";
	if (stat(perf_path, &st))
		return "perf not found (set PERF)";
	if (perf_record(ev, false, tmp_path("probe.data"), "--getpgid", 1)) {
		snprintf(reason, sizeof(reason),
			 "perf record -e syscalls:sys_enter_getpgid fails here (perf_event_open not allowed, or no tracefs)");
		return reason;
	}
	return NULL;
}

static const char *probe_kvm(void)
{
	const char *ev[] = { "kvm:kvm_pio", NULL };

	if (access("/dev/kvm", R_OK | W_OK))
		return "no usable /dev/kvm";
	if (perf_record(ev, false, tmp_path("probe-kvm.data"), "--guest", 1))
		return "perf record -e kvm:kvm_pio of a /dev/kvm guest fails here";
	return NULL;
}

static Suite *capture_read_suite(void)
{
	Suite *s = suite_create("capture-read");
	TCase *tc = tcase_create("fixtures");
	const char *why;

	/* test_queue_ring builds 400000 events' fixtures: over a minute under ASan */
	tcase_set_timeout(tc, 300);

	tcase_add_test(tc, test_checked_in_stock);
	tcase_add_test(tc, test_format_layouts);
	tcase_add_test(tc, test_layout_6_1);
	tcase_add_test(tc, test_layout_6_18);
	tcase_add_test(tc, test_isa_from_cpuid);
	tcase_add_test(tc, test_round_order);
	tcase_add_test(tc, test_queue_ring);
	tcase_add_test(tc, test_kvmexit_section);
	tcase_add_test(tc, test_stock_compressed);
	tcase_add_test(tc, test_kvmexit_meta_in_version);
	tcase_add_test(tc, test_api_errors);
	tcase_add_test(tc, test_bad_record_partial);
	suite_add_tcase(s, tc);

	tc = tcase_create("damaged");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_truncated_fixture);
	tcase_add_test(tc, test_flipped_fixture);
	tcase_add_test(tc, test_damaged_stock);
	suite_add_tcase(s, tc);

	why = probe_perf();
	if (why) {
		printf("# SKIP stock captures: %s\n", why);
		return s;
	}
	tc = tcase_create("stock");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stock_getpgid_file);
	tcase_add_test(tc, test_stock_getpgid_pipe);
	tcase_add_test(tc, test_stock_getpgid_stdin);
	suite_add_tcase(s, tc);
	why = probe_kvm();
	if (why) {
		printf("# SKIP stock kvm captures: %s\n", why);
		return s;
	}
	tc = tcase_create("stock-kvm");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stock_guest_file);
	tcase_add_test(tc, test_stock_guest_pipe);
	suite_add_tcase(s, tc);
	return s;
}

static void rm_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(int argc, char **argv)
{
	SRunner *sr;
	ssize_t n;
	int failed;

	if (argc == 3 && !strcmp(argv[1], "--getpgid"))
		return workload_getpgid(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "--guest"))
		return workload_guest((unsigned)atoi(argv[2]));
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		check_skip_all("cannot read /proc/self/exe");
	self_exe[n] = '\0';
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kvmexit-test-read.XXXXXX");
	if (!mkdtemp(tmpdir))
		check_skip_all("cannot make a temporary directory");
	fflush(stdout);
	sr = srunner_create(capture_read_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rm_tmpdir();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
