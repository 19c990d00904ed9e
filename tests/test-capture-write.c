// SPDX-License-Identifier: GPL-2.0-only
/*
 * The perf.data writer, checked against stock perf (perf script, perf kvm
 * stat report) with exact expected values, and against kx_meta_decode()
 * through a small feature-table lookup (the reader lives elsewhere).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "kvmexit.h"

static char tmpdir[] = "/tmp/test-capture-write.XXXXXX";
static const char *perf;

/* ------------------------------------------------------------ helpers */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	ck_assert(buf);
	ck_assert_int_eq(fread(buf, 1, n, f), n);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static char *format_text(const char *event, const char *layout)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.format.%s.txt", TESTS_DATADIR, event, layout);
	return slurp(path, NULL);
}

static void tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

/* A pattern element: an exit reason and its exit-to-entry time. */
struct pat {
	uint32_t code;
	const char *name;		/* as kvm_exit's print fmt and perf kvm name it */
	uint64_t lat;
};

static const struct pat vmx_pat[] = {
	{ 48, "EPT_VIOLATION", 1500 },
	{ 1, "EXTERNAL_INTERRUPT", 800 },
	{ 48, "EPT_VIOLATION", 1500 },
	{ 30, "IO_INSTRUCTION", 2500 },
	{ 12, "HLT", 900 },
};

static const struct pat svm_pat[] = {
	{ 0x400, "npf", 1500 },
	{ 0x60, "interrupt", 800 },
	{ 0x400, "npf", 1500 },
	{ 0x7b, "io", 2500 },
	{ 0x78, "hlt", 900 },
};

#define NR_PAT 5
#define STEP 3000			/* ns between exits: above every lat */
#define T0 5000000000ULL

struct gen {
	enum kvmexit_isa isa;
	const char *layout;
	uint32_t pairs, vcpus, round;	/* round: pairs per round */
	uint32_t lost_every;
};

static const struct pat *gen_pat(const struct gen *g)
{
	return g->isa == KVMEXIT_ISA_VMX ? vmx_pat : svm_pat;
}

static void gen_meta(const struct gen *g, struct kvmexit_meta *m)
{
	bool vmx = g->isa == KVMEXIT_ISA_VMX;

	memset(m, 0, sizeof(*m));
	strcpy(m->hostname, "testhost");
	strcpy(m->osrelease, vmx ? "6.1.0-test" : "6.18.0-test");
	strcpy(m->arch, "x86_64");
	strcpy(m->cpuid, vmx ? "GenuineIntel,6,85,7" : "AuthenticAMD,25,1,1");
	strcpy(m->cpu_desc, vmx ? "Intel Test CPU" : "AMD Test CPU");
	strcpy(m->vendor, vmx ? "GenuineIntel" : "AuthenticAMD");
	strcpy(m->kvm_module, vmx ? "kvm_intel" : "kvm_amd");
	strcpy(m->cmdline, "kvmexit record -o test.data");
	m->isa = g->isa;
	m->nr_cpus = 8;
	m->start_ns = T0;
	kx_meta_set_param(m, vmx ? "ept" : "npt", vmx ? "Y" : "1");
	kx_meta_set_param(m, "nested", "N");
}

static void pair_events(const struct gen *g, uint32_t i, struct kvmexit_event *ex,
			struct kvmexit_event *en)
{
	const struct pat *p = &gen_pat(g)[i % NR_PAT];
	uint32_t v = i % g->vcpus;

	*ex = (struct kvmexit_event){
		.type = KVMEXIT_EV_EXIT, .time = T0 + (uint64_t)i * STEP, .pid = 700,
		.tid = 800 + v, .cpu = v % 8, .vcpu = v,
		.exit = { .isa = g->isa, .exit_reason = p->code, .guest_rip = 0x1000 + i,
			  .info1 = i, .info2 = 2 * i },
	};
	*en = (struct kvmexit_event){
		.type = KVMEXIT_EV_ENTRY, .time = ex->time + p->lat, .pid = 700,
		.tid = 800 + v, .cpu = v % 8, .vcpu = v, .entry.rip = 0x1000 + i,
	};
}

static struct kvmexit_writer *open_writer(const char *path, const struct gen *g,
					  struct kvmexit_meta *meta)
{
	struct kvmexit_writer_opts o = { .sz = sizeof(o), .meta = meta };
	struct kvmexit_writer *w;
	char err[256], *fexit, *fentry;
	int ret;

	gen_meta(g, meta);
	ret = kvmexit_writer_open(path, &o, &w, err, sizeof(err));
	ck_assert_msg(ret == 0, "open %s: %s", path, err);
	fexit = format_text("kvm_exit", g->layout);
	fentry = format_text("kvm_entry", g->layout);
	ck_assert_int_eq(kvmexit_writer_add_tracepoint(w, "kvm", fexit), 0);
	ck_assert_int_eq(kvmexit_writer_add_tracepoint(w, "kvm", fentry), 1);
	free(fexit);
	free(fentry);
	return w;
}

/* Writes pairs [from, to); returns 0 or the first error. */
static int write_pairs(struct kvmexit_writer *w, const struct gen *g, uint32_t from, uint32_t to)
{
	struct kvmexit_event ex, en;
	int err = 0;

	for (uint32_t i = from; i < to && !err; i++) {
		pair_events(g, i, &ex, &en);
		err = kvmexit_writer_write_event(w, &ex);
		if (!err)
			err = kvmexit_writer_write_event(w, &en);
		if (!err && g->lost_every && (i + 1) % g->lost_every == 0) {
			struct kvmexit_event lost = {
				.type = KVMEXIT_EV_LOST, .time = en.time, .lost.count = 5,
			};

			err = kvmexit_writer_write_event(w, &lost);
		}
		if (!err && g->round && (i + 1) % g->round == 0)
			err = kvmexit_writer_finish_round(w);
	}
	return err;
}

static void write_capture(const char *path, const struct gen *g)
{
	struct kvmexit_meta meta;
	struct kvmexit_writer *w = open_writer(path, g, &meta);
	char err[256];
	int ret;

	ck_assert_int_eq(write_pairs(w, g, 0, g->pairs), 0);
	meta.end_ns = T0 + (uint64_t)g->pairs * STEP;
	meta.lost = g->lost_every ? g->pairs / g->lost_every * 5 : 0;
	ck_assert_int_eq(kvmexit_writer_set_meta(w, &meta), 0);
	ret = kvmexit_writer_close(w, err, sizeof(err));
	ck_assert_msg(ret == 0, "close %s: %s", path, err);
}

/* Runs a shell command; returns its output (stdout and stderr). */
static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *run(const char *fmt, ...)
{
	char cmd[1024], *out = NULL;
	size_t len = 0, n;
	char buf[4096];
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	ck_assert(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		out = realloc(out, len + n + 1);
		memcpy(out + len, buf, n);
		len += n;
	}
	pclose(p);
	if (!out)
		out = calloc(1, 1);
	out[len] = '\0';
	return out;
}

static unsigned count_lines(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (memmem(line, len, needle, strlen(needle)))
			n++;
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

/* ------------------------------------------------------- file checks */

struct sect {
	uint64_t offset, size;
};

/* The section of feature @bit, found as perf finds it; false if absent. */
static bool find_section(const char *path, int bit, struct sect *out)
{
	uint64_t h[13], feat[4], idx = 0;
	size_t len;
	char *file = slurp(path, &len);

	ck_assert_uint_ge(len, sizeof(h));
	memcpy(h, file, sizeof(h));
	ck_assert_uint_eq(h[0], 0x32454c4946524550ULL);
	memcpy(feat, &h[9], sizeof(feat));
	if (!(feat[bit / 64] & (1ULL << (bit % 64)))) {
		free(file);
		return false;
	}
	for (int b = 0; b < bit; b++)
		idx += !!(feat[b / 64] & (1ULL << (b % 64)));
	ck_assert_uint_le(h[5] + h[6] + 16 * (idx + 1), len);
	memcpy(out, file + h[5] + h[6] + 16 * idx, sizeof(*out));
	ck_assert_uint_le(out->offset + out->size, len);
	free(file);
	return true;
}

static void read_meta(const char *path, struct kvmexit_meta *meta, struct kx_counts *counts)
{
	struct sect s;
	char *file;

	uint32_t len;
	size_t v;

	/* In VERSION: a u32 length, "kvmexit VERSION", NUL, the metadata; no bit 250 */
	ck_assert(!find_section(path, KX_FEAT_KVMEXIT, &s));
	ck_assert(find_section(path, 5, &s));
	file = slurp(path, NULL);
	memcpy(&len, file + s.offset, 4);
	ck_assert_uint_eq(len + 4, s.size);
	ck_assert_str_eq(file + s.offset + 4, "kvmexit " PACKAGE_VERSION);
	v = 4 + strlen("kvmexit " PACKAGE_VERSION) + 1;
	memset(meta, 0, sizeof(*meta));
	ck_assert_int_eq(kx_meta_decode(file + s.offset + v, s.size - v, meta, counts), 0);
	free(file);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_mode_and_overwrite)
{
	struct kvmexit_writer *w;
	struct kvmexit_writer_opts o = { .sz = sizeof(o) };
	char path[512], err[256];
	struct stat st;

	tmp_path(path, sizeof(path), "mode.data");
	ck_assert_int_eq(kvmexit_writer_open(path, NULL, &w, err, sizeof(err)), 0);
	ck_assert_int_eq(kvmexit_writer_close(w, NULL, 0), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);

	ck_assert_int_eq(kvmexit_writer_open(path, NULL, &w, err, sizeof(err)), -EEXIST);
	ck_assert_ptr_null(w);
	ck_assert_str_eq(strstr(err, "mode.data exists"), "mode.data exists: use -f to overwrite");

	ck_assert_int_eq(chmod(path, 0644), 0);
	o.force = true;
	ck_assert_int_eq(kvmexit_writer_open(path, &o, &w, err, sizeof(err)), 0);
	ck_assert_int_eq(kvmexit_writer_close(w, NULL, 0), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	unlink(path);
}
END_TEST

START_TEST(test_misuse)
{
	struct kvmexit_writer *w;
	struct kvmexit_writer_opts o = { .sz = sizeof(o), .sample_type = PERF_SAMPLE_TIME };
	struct kvmexit_event ev = { .type = KVMEXIT_EV_PIO };
	char path[512], err[256], *fexit = format_text("kvm_exit", "6.18");

	tmp_path(path, sizeof(path), "misuse.data");
	ck_assert_int_eq(kvmexit_writer_open(path, &o, &w, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "RAW required"));
	ck_assert_int_eq(kvmexit_writer_open(path, NULL, &w, err, sizeof(err)), 0);
	ck_assert_int_eq(kvmexit_writer_add_tracepoint(w, "kvm", "name: x\nnonsense"),
			 -KVMEXIT_EFORMAT);
	ck_assert_int_eq(kvmexit_writer_add_tracepoint(w, "kvm", fexit), 0);
	ck_assert_int_eq(kvmexit_writer_write_event(w, &ev), -ENOENT);
	ck_assert_str_eq(kvmexit_writer_errmsg(w),
			 strstr(kvmexit_writer_errmsg(w), "kvm_pio event: its tracepoint was not"));
	ev.type = KVMEXIT_EV_EXIT;
	ck_assert_int_eq(kvmexit_writer_write_event(w, &ev), 0);
	ck_assert_int_eq(kvmexit_writer_add_tracepoint(w, "kvm", fexit), -EINVAL);
	ck_assert_int_eq(kvmexit_writer_set_counts(w, NULL, 0), -EINVAL);
	/* Misuse is reported where it happens, not as the capture's error. */
	ck_assert_int_eq(kvmexit_writer_close(w, NULL, 0), 0);
	free(fexit);
	unlink(path);
}
END_TEST

static const struct gen perf_gens[] = {
	{ KVMEXIT_ISA_VMX, "6.1", 1000, 4, 100, 0 },
	{ KVMEXIT_ISA_VMX, "6.18", 1000, 4, 64, 0 },
	{ KVMEXIT_ISA_SVM, "6.1", 1000, 3, 100, 0 },
	{ KVMEXIT_ISA_SVM, "6.18", 777, 2, 50, 0 },
};

static void capture_name(const struct gen *g, char *path, size_t size)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-%s.data", g->isa == KVMEXIT_ISA_VMX ? "vmx" : "svm",
		 g->layout);
	tmp_path(path, size, name);
}

/* perf script decodes every sample, with the reason names of the format. */
START_TEST(test_perf_script)
{
	const struct gen *g = &perf_gens[_i];
	const struct pat *p = gen_pat(g);
	char path[512], *out, needle[64];

	capture_name(g, path, sizeof(path));
	unlink(path);
	write_capture(path, g);
	out = run("%s script -i %s 2>/dev/null", perf, path);
	ck_assert_uint_eq(count_lines(out, " kvm:kvm_exit: "), g->pairs);
	ck_assert_uint_eq(count_lines(out, " kvm:kvm_entry: "), g->pairs);
	for (int k = 0; k < NR_PAT; k++) {
		unsigned want = 0;

		if (k == 2)
			continue;	/* the same reason as k == 0 */
		for (uint32_t i = 0; i < g->pairs; i++)
			want += p[i % NR_PAT].code == p[k].code;
		snprintf(needle, sizeof(needle), " reason %s rip ", p[k].name);
		ck_assert_msg(count_lines(out, needle) == want, "%s: %u lines with \"%s\", want %u",
			      path, count_lines(out, needle), needle, want);
	}
	/* The first sample: vCPU 0's exit, time 5.000000000, tid 800, CPU 0. */
	ck_assert_ptr_nonnull(strstr(out, "  800 [000]     5.000000:  kvm:kvm_exit: vcpu 0 reason "));
	free(out);
	unlink(path);
}
END_TEST

/*
 * perf kvm stat report: per-reason counts and exit-to-entry times.  perf
 * starts a vCPU's bookkeeping at its first kvm_entry, so the first exit of
 * each vCPU thread is not counted.
 */
START_TEST(test_perf_kvm_stat)
{
	const struct gen *g = &perf_gens[_i];
	const struct pat *p = gen_pat(g);
	char path[512], *out, line[128];
	uint64_t total = 0, time_ns = 0;

	capture_name(g, path, sizeof(path));
	unlink(path);
	write_capture(path, g);
	out = run("%s kvm -i %s stat report --event=vmexit 2>&1", perf, path);
	for (int k = 0; k < NR_PAT; k++) {
		unsigned want = 0;
		char *at;

		if (k == 2)
			continue;
		for (uint32_t i = g->vcpus; i < g->pairs; i++)
			want += p[i % NR_PAT].code == p[k].code;
		total += want;
		time_ns += want * p[k].lat;
		snprintf(line, sizeof(line), " %s %u ", p[k].name, want);
		/* Squeeze the table's runs of spaces to compare one row. */
		at = strstr(out, p[k].name);
		ck_assert_msg(at, "%s: no row for %s in:\n%s", path, p[k].name, out);
		{
			char row[128], *d = row;
			const char *s = at - 1;

			for (; *s && *s != '\n' && d < row + sizeof(row) - 1; s++)
				if (*s != ' ' || d == row || d[-1] != ' ')
					*d++ = *s;
			*d = '\0';
			ck_assert_msg(!strncmp(row, line, strlen(line)), "row \"%s\", want \"%s...\"",
				      row, line);
		}
	}
	snprintf(line, sizeof(line), "Total Samples:%" PRIu64 ", Total events handled time:%"
		 PRIu64 ".%02" PRIu64 "us.", total, time_ns / 1000, time_ns % 1000 / 10);
	ck_assert_msg(strstr(out, line), "want \"%s\" in:\n%s", line, out);
	free(out);
	unlink(path);
}
END_TEST

/* The kvmexit section decodes to what was set last; perf's sections too. */
START_TEST(test_meta_round_trip)
{
	const struct gen g = { KVMEXIT_ISA_SVM, "6.18", 100, 2, 10, 25 };
	struct kvmexit_meta m;
	struct sect s;
	char path[512], *file;
	uint64_t times[2];

	tmp_path(path, sizeof(path), "meta.data");
	unlink(path);
	write_capture(path, &g);
	read_meta(path, &m, NULL);
	ck_assert(m.has_kvmexit);
	ck_assert_str_eq(m.vendor, "AuthenticAMD");
	ck_assert_str_eq(m.kvm_module, "kvm_amd");
	ck_assert_int_eq(m.isa, KVMEXIT_ISA_SVM);
	ck_assert_str_eq(m.osrelease, "6.18.0-test");
	ck_assert_str_eq(m.hostname, "testhost");
	ck_assert_uint_eq(m.nr_cpus, 8);
	ck_assert_uint_eq(m.start_ns, T0);
	ck_assert_uint_eq(m.end_ns, T0 + 100 * STEP);
	ck_assert_uint_eq(m.lost, 20);
	ck_assert(!m.counts_only);
	ck_assert_str_eq(kvmexit_meta_param(&m, "npt"), "1");
	ck_assert_str_eq(kvmexit_meta_param(&m, "nested"), "N");
	ck_assert_int_eq(kvmexit_meta_tdp(&m), 1);

	/* SAMPLE_TIME: the first exit and the last entry. */
	ck_assert(find_section(path, 21, &s));
	ck_assert_uint_eq(s.size, 16);
	file = slurp(path, NULL);
	memcpy(times, file + s.offset, 16);
	ck_assert_uint_eq(times[0], T0);
	ck_assert_uint_eq(times[1], T0 + 99 * STEP + svm_pat[99 % NR_PAT].lat);
	free(file);
	unlink(path);
}
END_TEST

/* A --count capture: counts in the kvmexit section, no samples. */
START_TEST(test_counts_only)
{
	const struct gen g = { KVMEXIT_ISA_VMX, "6.1", 0, 1, 0, 0 };
	struct kvmexit_count c[300];
	struct kx_counts got = { 0 };
	struct kvmexit_meta meta, m;
	struct kvmexit_writer *w;
	char path[512];

	/* More than the slot reserved at the start: the section moves to the end. */
	for (int i = 0; i < 300; i++)
		c[i] = (struct kvmexit_count){ KVMEXIT_ISA_VMX, i % 77, i / 77 - 1, 1000000 + i };
	tmp_path(path, sizeof(path), "counts.data");
	unlink(path);
	w = open_writer(path, &g, &meta);
	ck_assert_int_eq(kvmexit_writer_set_counts(w, c, 300), 0);
	meta.end_ns = T0 + 1000000000;
	kvmexit_writer_set_meta(w, &meta);
	ck_assert_int_eq(kvmexit_writer_close(w, NULL, 0), 0);
	read_meta(path, &m, &got);
	ck_assert(m.counts_only);
	ck_assert_uint_eq(m.end_ns, T0 + 1000000000);
	ck_assert_uint_eq(got.nr, 300);
	for (int i = 0; i < 300; i++) {
		ck_assert_int_eq(got.v[i].isa, KVMEXIT_ISA_VMX);
		ck_assert_uint_eq(got.v[i].exit_reason, (uint32_t)i % 77);
		ck_assert_int_eq(got.v[i].cpu, i / 77 - 1);
		ck_assert_uint_eq(got.v[i].count, 1000000 + (uint64_t)i);
	}
	kx_counts_release(&got);
	if (perf) {
		char *out = run("%s script -i %s 2>&1 | grep -c kvm_exit", perf, path);

		ck_assert_str_eq(out, "0\n");
		free(out);
	}
	unlink(path);
}
END_TEST

/*
 * A VMX --count capture with #PF and CR3 accesses counted apart
 * (count_detail=): the totals stay what kvmexit_capture_counts() returns,
 * the parts come back with their detail keys, a profile of it has the
 * detail rows, and a diff against an EPT one is exact about shadow paging.
 */
#define KEY_PF		(1u << 16 | 3u << 8 | 14)
#define KEY_TO_CR3	(1u << 16 | 0x03)
#define KEY_FROM_CR3	(1u << 16 | 0x13)
#define KEY_OTHER	(1u << 16 | 1u << 18)

static void write_vmx_counts(const char *path, const struct kx_counts *c, const char *ept)
{
	const struct gen g = { KVMEXIT_ISA_VMX, "6.1", 0, 1, 0, 0 };
	struct kvmexit_meta meta;
	struct kvmexit_writer *w;

	unlink(path);
	w = open_writer(path, &g, &meta);
	ck_assert_int_eq(kvmexit_writer_set_counts(w, c->v, c->nr), 0);
	ck_assert_int_eq(kx_writer_set_detail_counts(w, c), 0);
	ck_assert_int_eq(kx_meta_set_param(&meta, "ept", ept), 0);
	meta.end_ns = T0 + 1000000000;
	kvmexit_writer_set_meta(w, &meta);
	ck_assert_int_eq(kvmexit_writer_close(w, NULL, 0), 0);
}

START_TEST(test_counts_detail)
{
	struct kx_counts shadow = { 0 }, ept = { 0 }, got = { 0 };
	struct kvmexit_profile *prof, *pe;
	struct kvmexit_stat *rows;
	struct kvmexit_diff *d;
	struct kvmexit_meta m;
	char path[512], path_ept[512], err[512];
	int n, seen = 0;

	/* ept=0: 402 #PF and 3 other EXCEPTION_NMI on CPU 0; 20 + 20 CR3, 5 other CR. */
	ck_assert_int_eq(kx_counts_add(&shadow, KVMEXIT_ISA_VMX, 0, 0, 405), 0);
	ck_assert_int_eq(kx_counts_add(&shadow, KVMEXIT_ISA_VMX, 28, 0, 45), 0);
	ck_assert_int_eq(kx_counts_add(&shadow, KVMEXIT_ISA_VMX, 14, 0, 400), 0);
	ck_assert_int_eq(kx_counts_add_detail(&shadow, KVMEXIT_ISA_VMX, 0, KEY_PF, 0, 402), 0);
	ck_assert_int_eq(kx_counts_add_detail(&shadow, KVMEXIT_ISA_VMX, 0, KEY_OTHER, 0, 3), 0);
	ck_assert_int_eq(kx_counts_add_detail(&shadow, KVMEXIT_ISA_VMX, 28, KEY_TO_CR3, 0, 20), 0);
	ck_assert_int_eq(kx_counts_add_detail(&shadow, KVMEXIT_ISA_VMX, 28, KEY_FROM_CR3, 0, 20),
			 0);
	ck_assert_int_eq(kx_counts_add_detail(&shadow, KVMEXIT_ISA_VMX, 28, KEY_OTHER, 0, 5), 0);
	/* ept=1: 206 EPT violations, 5 CR accesses that are not CR3's. */
	ck_assert_int_eq(kx_counts_add(&ept, KVMEXIT_ISA_VMX, 48, 0, 206), 0);
	ck_assert_int_eq(kx_counts_add(&ept, KVMEXIT_ISA_VMX, 28, 0, 5), 0);
	ck_assert_int_eq(kx_counts_add_detail(&ept, KVMEXIT_ISA_VMX, 28, KEY_OTHER, 0, 5), 0);
	tmp_path(path, sizeof(path), "counts-shadow.data");
	tmp_path(path_ept, sizeof(path_ept), "counts-ept.data");
	write_vmx_counts(path, &shadow, "N");
	write_vmx_counts(path_ept, &ept, "Y");

	read_meta(path, &m, &got);
	ck_assert_uint_eq(got.nr, 3);
	ck_assert_uint_eq(got.v[0].count, 405);
	ck_assert_uint_eq(got.nr_detail, 5);
	ck_assert_uint_eq(got.d[0].detail, KEY_PF);
	ck_assert_uint_eq(got.d[0].count, 402);
	ck_assert_uint_eq(got.d[4].exit_reason, 28);
	ck_assert_uint_eq(got.d[4].detail, KEY_OTHER);
	ck_assert_uint_eq(got.d[4].count, 5);
	kx_counts_release(&got);

	ck_assert_msg(kvmexit_profile_load(path, NULL, &prof, err, sizeof(err)) == 0, "%s", err);
	n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_DETAIL, &rows);
	ck_assert_int_eq(n, 6);
	for (int i = 0; i < n; i++) {
		char name[32];

		kvmexit_detail_name(KVMEXIT_ISA_VMX, rows[i].reason, rows[i].detail, name,
				    sizeof(name));
		uint64_t want = 0;
		int bit = 0;

		if (rows[i].reason == 0 && !strcmp(name, "#PF"))
			want = 402, bit = 1;
		else if (rows[i].reason == 0 && !strcmp(name, "other"))
			want = 3, bit = 2;
		else if (rows[i].reason == 28 && !strcmp(name, "mov-to-cr3"))
			want = 20, bit = 4;
		else if (rows[i].reason == 28 && !strcmp(name, "mov-from-cr3"))
			want = 20, bit = 8;
		else if (rows[i].reason == 28 && !strcmp(name, "other"))
			want = 5, bit = 16;
		else if (rows[i].reason == 14 && rows[i].detail == 0)
			want = 400, bit = 32;
		ck_assert_msg(bit, "unexpected row %u/%s", rows[i].reason, name);
		ck_assert_uint_eq(rows[i].count, want);
		seen |= bit;
	}
	ck_assert_int_eq(seen, 63);
	kvmexit_stats_free(rows);
	/* By reason the parts add up again. */
	n = kvmexit_profile_stats(prof, KVMEXIT_GROUP_REASON, &rows);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++)
		ck_assert_uint_eq(rows[i].count, rows[i].reason == 0 ? 405 :
				  rows[i].reason == 28 ? 45 : 400);
	kvmexit_stats_free(rows);

	ck_assert_msg(kvmexit_profile_load(path_ept, NULL, &pe, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(kvmexit_diff_new(pe, prof, NULL, &d, err, sizeof(err)), 0);
	{
		const struct kvmexit_diff_paging *p = &kvmexit_diff_summary(d)->paging;

		ck_assert_int_eq(p->shadow_side, 'B');
		ck_assert(p->pf_exact && p->cr3_exact);
		ck_assert_uint_eq(p->pf_a, 0);
		ck_assert_uint_eq(p->pf_b, 402);
		ck_assert_uint_eq(p->cr3_a, 0);
		ck_assert_uint_eq(p->cr3_b, 40);
		ck_assert_uint_eq(p->invlpg_b, 400);
		ck_assert_uint_eq(p->tdp_faults_a, 206);
	}
	kvmexit_diff_free(d);
	kvmexit_profile_free(pe);
	kvmexit_profile_free(prof);
	kx_counts_release(&shadow);
	kx_counts_release(&ept);
	unlink(path);
	unlink(path_ept);
}
END_TEST

/*
 * Raw records as the recorder copies them from the ring buffer, with the
 * recorder's ids; perf reads them against the attrs the writer stored.
 */
START_TEST(test_raw_records)
{
	const struct gen g = { KVMEXIT_ISA_VMX, "6.18", 0, 1, 0, 0 };
	uint64_t ids[2] = { 4242, 4243 }, rec[16];
	struct perf_event_attr *attr;
	struct kvmexit_meta meta;
	struct kvmexit_writer *w;
	char path[512], *out;
	unsigned char *raw;
	uint32_t u32;

	tmp_path(path, sizeof(path), "raw.data");
	unlink(path);
	w = open_writer(path, &g, &meta);
	attr = kx_writer_attr(w, 0);
	ck_assert_ptr_nonnull(attr);
	ck_assert_uint_eq(attr->type, PERF_TYPE_TRACEPOINT);
	ck_assert_uint_eq(attr->config, 103);		/* kvm_exit's ID in the 6.18 text */
	ck_assert_uint_eq(attr->sample_type, PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID |
			  PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_RAW);
	ck_assert_ptr_null(kx_writer_attr(w, 2));
	ck_assert_int_eq(kx_writer_set_ids(w, 0, ids, 2), 0);

	/* A kvm_exit sample: IDENTIFIER, TID, TIME, CPU, PERIOD, RAW (76 bytes). */
	memset(rec, 0, sizeof(rec));
	rec[1] = 4243;
	rec[2] = 99 | (100ULL << 32);
	rec[3] = 7000000123ULL;
	rec[4] = 1;
	rec[5] = 1;
	u32 = 76;
	memcpy(&rec[6], &u32, 4);
	raw = (unsigned char *)&rec[6] + 4;
	raw[0] = 103;					/* common_type */
	memcpy(raw + 8, &(uint32_t){ 12 }, 4);		/* exit_reason: HLT */
	memcpy(raw + 16, &(uint64_t){ 0xabcdef }, 8);	/* guest_rip */
	memcpy(raw + 24, &(uint32_t){ 1 }, 4);		/* isa */
	memcpy(raw + 56, &(uint32_t){ 3 }, 4);		/* vcpu_id */
	memcpy(rec, &(struct perf_event_header){ PERF_RECORD_SAMPLE, 0, 128 }, 8);
	ck_assert_int_eq(kx_writer_write_record(w, (struct perf_event_header *)rec), 0);
	ck_assert_ptr_null(kx_writer_attr(w, 0));
	ck_assert_int_eq(kvmexit_writer_close(w, NULL, 0), 0);
	if (perf) {
		out = run("%s script -i %s 2>&1", perf, path);
		ck_assert_msg(strstr(out, "  100 [001]     7.000000:  kvm:kvm_exit: vcpu 3 reason HLT "
				     "rip 0xabcdef "), "%s", out);
		free(out);
		out = run("%s report --header-only -i %s 2>&1", perf, path);
		ck_assert_msg(strstr(out, "time of first sample : 7.000000"), "%s", out);
		free(out);
	}
	{
		/* The attrs: 128 bytes each, attr 0 with the recorder's ids. */
		char *file = slurp(path, NULL);
		uint64_t h[6], sec[2], got[2];
		struct perf_event_attr a;

		memcpy(h, file, sizeof(h));
		ck_assert_uint_eq(h[2], 128 + 16);
		ck_assert_uint_eq(h[4], 2 * (128 + 16));
		memcpy(&a, file + h[3], 128);
		ck_assert_uint_eq(a.size, 128);
		ck_assert_uint_eq(a.config, 103);
		ck_assert(a.sample_id_all);
		memcpy(sec, file + h[3] + 128, 16);
		ck_assert_uint_eq(sec[1], 16);
		memcpy(got, file + sec[0], 16);
		ck_assert_uint_eq(got[0], 4242);
		ck_assert_uint_eq(got[1], 4243);
		free(file);
	}
	unlink(path);
}
END_TEST

/* ------------------------------------------------- reader round trip */

struct collected {
	size_t nr, alloc;
	struct kvmexit_event *v;
};

static int collect(const struct kvmexit_event *ev, void *arg)
{
	struct collected *c = arg;

	if (c->nr == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 1024;
		c->v = realloc(c->v, c->alloc * sizeof(*c->v));
		ck_assert(c->v);
	}
	c->v[c->nr++] = *ev;
	return 0;
}

/* Reads @path with the library's reader; returns the for_each result. */
static int read_all(const char *path, struct collected *c, struct kvmexit_meta *meta)
{
	struct kvmexit_capture *cap;
	char err[512];
	int ret;

	memset(c, 0, sizeof(*c));
	ret = kvmexit_capture_open(path, &cap, err, sizeof(err));
	ck_assert_msg(ret == 0, "%s: %s", path, err);
	ret = kvmexit_capture_for_each(cap, collect, c);
	ck_assert_msg(ret == 0, "%s: %s", path, kvmexit_capture_errmsg(cap));
	if (meta)
		*meta = *kvmexit_capture_meta(cap);
	kvmexit_capture_close(cap);
	return ret;
}

static void assert_same_event(const struct kvmexit_event *got, const struct kvmexit_event *want,
			      size_t k)
{
	ck_assert_msg(got->type == want->type && got->time == want->time,
		      "event %zu: type %d time %" PRIu64 ", want type %d time %" PRIu64, k,
		      got->type, got->time, want->type, want->time);
	if (want->type == KVMEXIT_EV_LOST) {
		ck_assert_uint_eq(got->lost.count, want->lost.count);
		return;
	}
	ck_assert_int_eq(got->pid, want->pid);
	ck_assert_int_eq(got->tid, want->tid);
	ck_assert_uint_eq(got->cpu, want->cpu);
	ck_assert_uint_eq(got->vcpu, want->vcpu);
	if (want->type == KVMEXIT_EV_EXIT) {
		ck_assert_int_eq(got->exit.isa, want->exit.isa);
		ck_assert_uint_eq(got->exit.exit_reason, want->exit.exit_reason);
		ck_assert_uint_eq(got->exit.guest_rip, want->exit.guest_rip);
		ck_assert_uint_eq(got->exit.info1, want->exit.info1);
		ck_assert_uint_eq(got->exit.info2, want->exit.info2);
		ck_assert_uint_eq(got->exit.intr_info, want->exit.intr_info);
		ck_assert_uint_eq(got->exit.error_code, want->exit.error_code);
	} else {
		ck_assert_uint_eq(got->entry.rip, want->entry.rip);
	}
}

/* The events of pairs [0, pairs) as write_pairs() writes them. */
static void assert_pairs(const struct collected *c, const struct gen *g, uint32_t pairs)
{
	size_t k = 0;

	for (uint32_t i = 0; i < pairs; i++) {
		struct kvmexit_event ex, en;

		pair_events(g, i, &ex, &en);
		ck_assert_uint_lt(k + 1, c->nr);
		assert_same_event(&c->v[k], &ex, k);
		assert_same_event(&c->v[k + 1], &en, k + 1);
		k += 2;
		if (g->lost_every && (i + 1) % g->lost_every == 0) {
			struct kvmexit_event lost = {
				.type = KVMEXIT_EV_LOST, .time = en.time, .lost.count = 5,
			};

			ck_assert_uint_lt(k, c->nr);
			assert_same_event(&c->v[k], &lost, k);
			k++;
		}
	}
	ck_assert_uint_eq(c->nr, k);
}

static const struct gen read_gens[] = {
	{ KVMEXIT_ISA_VMX, "6.1", 3000, 4, 1000, 0 },
	{ KVMEXIT_ISA_VMX, "6.18", 3000, 2, 0, 0 },
	{ KVMEXIT_ISA_SVM, "6.1", 2500, 3, 700, 100 },
	{ KVMEXIT_ISA_SVM, "6.18", 2500, 1, 1, 7 },
};

/* write -> kvmexit_capture_for_each(): the same events, times and meta. */
START_TEST(test_read_round_trip)
{
	const struct gen *g = &read_gens[_i];
	struct kvmexit_meta m;
	struct collected c;
	char path[512];

	tmp_path(path, sizeof(path), "rt.data");
	unlink(path);
	write_capture(path, g);
	read_all(path, &c, &m);
	assert_pairs(&c, g, g->pairs);
	ck_assert_str_eq(m.hostname, "testhost");
	ck_assert_str_eq(m.cpuid, g->isa == KVMEXIT_ISA_VMX ? "GenuineIntel,6,85,7" :
			 "AuthenticAMD,25,1,1");
	ck_assert_str_eq(m.cmdline, "kvmexit record -o test.data");
	ck_assert_uint_eq(m.nr_cpus, 8);
	ck_assert(m.has_kvmexit);
	ck_assert_int_eq(m.isa, g->isa);
	/* m.lost: the section's value, the LOST records not added again */
	ck_assert_uint_eq(m.lost, g->lost_every ? g->pairs / g->lost_every * 5 : 0);
	{
		/* a profile counts the LOST records: the same total */
		struct kvmexit_profile *prof;
		struct kvmexit_profile_totals t;
		char err[512];

		ck_assert_msg(kvmexit_profile_load(path, NULL, &prof, err, sizeof(err)) == 0,
			      "%s", err);
		kvmexit_profile_totals(prof, &t);
		ck_assert_uint_eq(t.lost, m.lost);
		ck_assert_uint_eq(kvmexit_profile_meta(prof)->lost, m.lost);
		kvmexit_profile_free(prof);
	}
	ck_assert_str_eq(kvmexit_meta_param(&m, "nested"), "N");
	free(c.v);
	unlink(path);
}
END_TEST

/* Pairs per round and rounds in the kill and disk-full tests. */
#define RPAIRS 2000

/*
 * A writer killed mid-round (records past a full buffer already on disk)
 * leaves a capture of its complete rounds.
 */
START_TEST(test_killed)
{
	const struct gen g = { KVMEXIT_ISA_VMX, "6.18", 0, 4, RPAIRS, 0 };
	char path[512], *out;
	int status;
	pid_t pid;

	tmp_path(path, sizeof(path), "killed.data");
	unlink(path);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct kvmexit_meta meta;
		struct kvmexit_writer *w = open_writer(path, &g, &meta);

		/* 3 rounds, then 6000 pairs (> 1 MiB: flushed) of a 4th. */
		if (write_pairs(w, &g, 0, 3 * RPAIRS) == 0)
			write_pairs(w, &(struct gen){ .isa = g.isa, .vcpus = 4 }, 3 * RPAIRS,
				    6 * RPAIRS);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_gt(st.st_size, 3 * RPAIRS * 224);
	if (perf) {
		out = run("%s script -i %s 2>&1", perf, path);
		ck_assert_uint_eq(count_lines(out, " kvm:kvm_exit: "), 3 * RPAIRS);
		ck_assert_uint_eq(count_lines(out, " kvm:kvm_entry: "), 3 * RPAIRS);
		free(out);
	}
	{
		struct kvmexit_meta m;
		struct collected c;

		read_meta(path, &m, NULL);
		ck_assert_str_eq(m.vendor, "GenuineIntel");
		/* the never-closed capture's bit 0 entry is skipped, as perf does */
		ck_assert_int_eq(read_all(path, &c, NULL), 0);
		assert_pairs(&c, &g, 3 * RPAIRS);
		free(c.v);
	}
	unlink(path);
}
END_TEST

/* Entries of tmpdir whose name starts with @prefix (left-behind temporary files). */
static unsigned count_entries(const char *prefix)
{
	char *out = run("ls -a %s", tmpdir);
	unsigned n = 0;

	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
		n += !strncmp(l, prefix, strlen(prefix));
	free(out);
	return n;
}

/*
 * -f replaces a capture by renaming a new file over it: a symlink or a
 * special file planted at the path is refused, never written through or
 * chmodded; the old file's inode (other links, open readers) keeps its
 * bytes; a writer killed after its first round leaves a readable capture;
 * a discarded writer leaves the old file.
 */
START_TEST(test_force_is_safe)
{
	const struct gen g = { KVMEXIT_ISA_VMX, "6.18", 0, 4, RPAIRS, 0 };
	struct kvmexit_writer_opts o = { .sz = sizeof(o), .force = true };
	char path[512], link_path[512], victim[512], err[512], *fexit;
	struct kvmexit_writer *w;
	struct stat st, old;
	struct collected c;
	int status;
	pid_t pid;

	tmp_path(victim, sizeof(victim), "victim");
	tmp_path(link_path, sizeof(link_path), "planted.data");
	tmp_path(path, sizeof(path), "forced.data");
	FILE *f = fopen(victim, "w");
	ck_assert(f);
	fputs("not yours\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(victim, 0644), 0);
	ck_assert_int_eq(symlink(victim, link_path), 0);
	for (int force = 0; force < 2; force++) {
		o.force = force;
		ck_assert_int_eq(kvmexit_writer_open(link_path, &o, &w, err, sizeof(err)), -ELOOP);
		ck_assert_ptr_null(w);
		ck_assert_str_eq(strstr(err, "planted.data"), "planted.data is a symbolic link: "
				 "captures are never written through a link; give the target's path");
	}
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(st.st_size, 10);
	unlink(link_path);

	/* A FIFO (no root needed) and, as root, a copy of /dev/null. */
	ck_assert_int_eq(mkfifo(link_path, 0666), 0);
	ck_assert_int_eq(kvmexit_writer_open(link_path, &o, &w, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(strstr(err, "planted.data"), "planted.data is a FIFO: captures only "
			 "replace regular files; give another path");
	unlink(link_path);
	if (mknod(link_path, S_IFCHR | 0666, makedev(1, 3)) == 0 && chmod(link_path, 0666) == 0) {
		ck_assert_int_eq(kvmexit_writer_open(link_path, &o, &w, err, sizeof(err)), -EINVAL);
		ck_assert_str_eq(strstr(err, "planted.data"), "planted.data is a character "
				 "device: captures only replace regular files; give another path");
		ck_assert_int_eq(lstat(link_path, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0666);
		unlink(link_path);
	}
	ck_assert_int_eq(kvmexit_writer_open(tmpdir, &o, &w, err, sizeof(err)), -EISDIR);

	/* The old file, hard-linked and held open, keeps its bytes and mode. */
	ck_assert_int_eq(link(victim, path), 0);
	int fd = open(victim, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(kvmexit_writer_open(path, &o, &w, err, sizeof(err)), 0);
	ck_assert_uint_eq(count_entries(".forced.data."), 1);
	kx_writer_discard(w);		/* nothing written: the old file stays */
	ck_assert_uint_eq(count_entries(".forced.data."), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(st.st_size, 10);
	ck_assert_int_eq(fstat(fd, &old), 0);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		kvmexit_writer_open(path, &o, &w, err, sizeof(err));
		fexit = format_text("kvm_exit", g.layout);
		kvmexit_writer_add_tracepoint(w, "kvm", fexit);
		fexit = format_text("kvm_entry", g.layout);
		kvmexit_writer_add_tracepoint(w, "kvm", fexit);
		if (write_pairs(w, &g, 0, 3 * RPAIRS) == 0)
			write_pairs(w, &(struct gen){ .isa = g.isa, .vcpus = 4 }, 3 * RPAIRS,
				    6 * RPAIRS);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert(st.st_ino != old.st_ino);
	ck_assert_int_eq(read_all(path, &c, NULL), 0);
	assert_pairs(&c, &g, 3 * RPAIRS);
	free(c.v);
	ck_assert_uint_eq(count_entries(".forced.data."), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 10);
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(st.st_nlink, 1);
	close(fd);
	unlink(path);
	unlink(victim);
}
END_TEST

/*
 * A full disk: close() returns -ENOSPC and the capture keeps every round
 * completed before the error.  Needs root for a small tmpfs.
 */
START_TEST(test_disk_full)
{
	const struct gen g = { KVMEXIT_ISA_SVM, "6.1", 0, 4, RPAIRS, 0 };
	char mnt[256], path[512], err[512], *out;
	struct kvmexit_meta meta;
	struct kvmexit_writer *w;
	uint32_t rounds = 0;
	int ret = 0;

	if (geteuid() != 0) {
		printf("# SKIP disk-full test: needs root to mount a small tmpfs\n");
		return;
	}
	tmp_path(mnt, sizeof(mnt), "mnt");
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	if (mount("none", mnt, "tmpfs", 0, "size=1m")) {
		printf("# SKIP disk-full test: mount tmpfs: %s\n", strerror(errno));
		rmdir(mnt);
		return;
	}
	snprintf(path, sizeof(path), "%s/full.data", mnt);
	w = open_writer(path, &g, &meta);
	while (!ret) {
		ret = write_pairs(w, &(struct gen){ .isa = g.isa, .vcpus = 4, .round = RPAIRS },
				  rounds * RPAIRS, (rounds + 1) * RPAIRS);
		if (!ret)
			rounds++;
		ck_assert_uint_lt(rounds, 100);
	}
	ck_assert_int_eq(ret, -ENOSPC);
	ck_assert_uint_ge(rounds, 1);
	meta.lost = 77;
	kvmexit_writer_set_meta(w, &meta);
	ck_assert_int_eq(kvmexit_writer_close(w, err, sizeof(err)), -ENOSPC);
	ck_assert_msg(strstr(err, "No space left on device") && strstr(err, "full.data"), "%s", err);
	if (perf) {
		out = run("%s script -i %s 2>&1", perf, path);
		ck_assert_uint_eq(count_lines(out, " kvm:kvm_exit: "), rounds * RPAIRS);
		ck_assert_uint_eq(count_lines(out, " kvm:kvm_entry: "), rounds * RPAIRS);
		free(out);
	}
	{
		struct kvmexit_meta m;

		struct collected c;

		read_meta(path, &m, NULL);
		ck_assert_uint_eq(m.lost, 77);
		read_all(path, &c, NULL);
		assert_pairs(&c, &g, rounds * RPAIRS);
		free(c.v);
	}
	printf("# disk full after %u rounds of %u pairs\n", rounds, RPAIRS);
	umount(mnt);
	rmdir(mnt);
}
END_TEST

/*
 * gen-capture (the generator of the benchmarks and diff tests): the same
 * options give the same bytes, and perf kvm stat sees its default pattern
 * (weights 40/20/15/10/10/5 per 100 pairs; perf does not count the first
 * exit of each of the 4 vCPUs, all EPT_VIOLATION).
 */
START_TEST(test_gen_capture)
{
	const char *top = getenv("top_builddir");
	char gen[512], a[512], b[512], *out, *fa, *fb;
	size_t la, lb;
	struct stat st;

	snprintf(gen, sizeof(gen), "%s/tests/gen-capture", top ? top : ".");
	if (access(gen, X_OK)) {
		printf("# SKIP gen-capture checks: %s not built\n", gen);
		return;
	}
	tmp_path(a, sizeof(a), "gen.data");
	tmp_path(b, sizeof(b), "gen-first.data");
	unlink(a);
	out = run("%s --isa vmx --layout 6.18 --pairs 1000 --round 100 -o %s 2>&1 && mv %s %s && "
		  "%s --isa vmx --layout 6.18 --pairs 1000 --round 100 -o %s 2>&1 && echo ok",
		  gen, a, a, b, gen, a);
	ck_assert_str_eq(out, "ok\n");
	free(out);
	fa = slurp(a, &la);
	fb = slurp(b, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert(!memcmp(fa, fb, la));
	free(fa);
	free(fb);
	ck_assert_int_eq(stat(a, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	out = run("%s --isa vmx --layout 6.18 --pairs 10 -o %s 2>&1; echo rc=$?", gen, a);
	ck_assert_ptr_nonnull(strstr(out, "gen.data exists: use -f to overwrite\nrc=1"));
	free(out);
	if (perf) {
		out = run("%s kvm -i %s stat report --event=vmexit 2>&1 | tr -s ' '", perf, a);
		ck_assert_msg(strstr(out, " EPT_VIOLATION 396 ") && strstr(out, " EXTERNAL_INTERRUPT 200 ") &&
			      strstr(out, " IO_INSTRUCTION 150 ") && strstr(out, " MSR_WRITE 100 ") &&
			      strstr(out, " HLT 100 ") && strstr(out, " CPUID 50 ") &&
			      strstr(out, "Total Samples:996, Total events handled time:1644.00us."),
			      "%s", out);
		free(out);
		out = run("%s --isa svm --layout 6.1 --pairs 1000 --count -f -o %s 2>&1 && "
			  "%s script -i %s 2>/dev/null | wc -l", gen, a, perf, a);
		ck_assert_str_eq(out, "0\n");
		free(out);
	}
	unlink(a);
	unlink(b);
}
END_TEST

struct copy {
	struct kvmexit_writer *w;
	uint64_t first, last;
};

static int copy_event(const struct kvmexit_event *ev, void *arg)
{
	struct copy *c = arg;

	if (ev->type == KVMEXIT_EV_LOST)
		return 0;
	if (!c->first)
		c->first = ev->time;
	c->last = ev->time;
	ck_assert_int_eq(kvmexit_writer_write_event(c->w, ev), 0);
	return 0;
}

static struct kvmexit_profile *load_profile(const char *path)
{
	struct kvmexit_profile *p;
	char err[512];

	ck_assert_msg(kvmexit_profile_load(path, NULL, &p, err, sizeof(err)) == 0, "%s", err);
	return p;
}

/*
 * The same exits recorded two ways: a stock perf capture (lab-npt0, which
 * keeps no recording window) and a kvmexit capture of its very events,
 * written with a window of 1 s before and 2 s after them.  Rates are over
 * the exits in both, so they agree; only ours shows a window; a diff has
 * rates and no rate-basis warning.
 */
START_TEST(test_same_exits_two_ways)
{
	char src[512], dst[512], err[512];
	struct kvmexit_rate_span sa = { .sz = sizeof(sa) }, sb = { .sz = sizeof(sb) };
	struct kvmexit_writer_opts o = { .sz = sizeof(o) };
	struct kvmexit_profile *pa, *pb;
	struct kvmexit_capture *cap;
	const struct kvmexit_diff_warning *w;
	const struct kvmexit_diff_row *rows;
	struct kvmexit_diff *d;
	struct kvmexit_meta m;
	struct copy c = { 0 };
	char *fexit = format_text("kvm_exit", "6.1"), *fentry = format_text("kvm_entry", "6.1");
	size_t n, nw;

	snprintf(src, sizeof(src), "%s/lab-npt0.perf.data", TESTS_DATADIR);
	tmp_path(dst, sizeof(dst), "two-ways.data");
	unlink(dst);
	ck_assert_msg(kvmexit_capture_open(src, &cap, err, sizeof(err)) == 0, "%s", err);
	m = *kvmexit_capture_meta(cap);
	o.meta = &m;
	ck_assert_msg(kvmexit_writer_open(dst, &o, &c.w, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_ge(kvmexit_writer_add_tracepoint(c.w, "kvm", fexit), 0);
	ck_assert_int_ge(kvmexit_writer_add_tracepoint(c.w, "kvm", fentry), 0);
	ck_assert_int_eq(kvmexit_capture_for_each(cap, copy_event, &c), 0);
	kvmexit_capture_close(cap);
	ck_assert_int_eq(kvmexit_writer_finish_round(c.w), 0);
	m.start_ns = c.first - 1000000000ull;
	m.end_ns = c.last + 2000000000ull;
	ck_assert_int_eq(kvmexit_writer_set_meta(c.w, &m), 0);
	ck_assert_int_eq(kvmexit_writer_close(c.w, err, sizeof(err)), 0);

	pa = load_profile(src);
	pb = load_profile(dst);
	ck_assert(!kvmexit_profile_meta(pa)->has_kvmexit);
	ck_assert(kvmexit_profile_meta(pb)->has_kvmexit);
	ck_assert_int_eq(kvmexit_profile_rate_span(pa, &sa), 0);
	ck_assert_int_eq(kvmexit_profile_rate_span(pb, &sb), 0);
	ck_assert_int_eq(sa.basis, KVMEXIT_RATE_EXIT_SPAN);
	ck_assert_int_eq(sb.basis, KVMEXIT_RATE_EXIT_SPAN);
	ck_assert_uint_gt(sa.span_ns, 0);
	ck_assert_uint_eq(sa.span_ns, sb.span_ns);
	ck_assert_uint_eq(sa.first_exit_ns, sb.first_exit_ns);
	ck_assert_uint_eq(sa.window_ns, 0);	/* perf keeps no window */
	ck_assert_uint_eq(sb.window_ns, c.last - c.first + 3000000000ull);

	ck_assert_int_eq(kvmexit_diff_new(pa, pb, NULL, &d, err, sizeof(err)), 0);
	ck_assert(kvmexit_diff_summary(d)->has_rates);
	nw = kvmexit_diff_warnings(d, &w);
	for (size_t i = 0; i < nw; i++)
		ck_assert_msg(w[i].code != KVMEXIT_DIFF_W_RATE_BASIS, "%s", w[i].message);
	n = kvmexit_diff_rows(d, &rows);
	ck_assert_uint_eq(n, 8);		/* lab-fixtures.md: 8 reasons */
	for (size_t i = 0; i < n; i++) {
		ck_assert(rows[i].has_rate);
		ck_assert_uint_eq(rows[i].count_a, rows[i].count_b);
		ck_assert(rows[i].rate_a == rows[i].rate_b);
		ck_assert(rows[i].rate_a == rows[i].count_a / (sa.span_ns / 1e9));
	}
	kvmexit_diff_free(d);
	kvmexit_profile_free(pa);
	kvmexit_profile_free(pb);
	free(fexit);
	free(fentry);
	unlink(dst);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("capture-write");
	TCase *tc = tcase_create("writer");

	tcase_add_test(tc, test_mode_and_overwrite);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_meta_round_trip);
	tcase_add_test(tc, test_counts_only);
	tcase_add_test(tc, test_counts_detail);
	tcase_add_test(tc, test_raw_records);
	tcase_add_test(tc, test_killed);
	tcase_add_test(tc, test_force_is_safe);
	tcase_add_test(tc, test_disk_full);
	tcase_add_test(tc, test_gen_capture);
	tcase_add_test(tc, test_same_exits_two_ways);
	tcase_add_loop_test(tc, test_read_round_trip, 0, KX_ARRAY_SIZE(read_gens));
	suite_add_tcase(s, tc);
	if (perf) {
		tc = tcase_create("perf");
		tcase_add_loop_test(tc, test_perf_script, 0, KX_ARRAY_SIZE(perf_gens));
		tcase_add_loop_test(tc, test_perf_kvm_stat, 0, KX_ARRAY_SIZE(perf_gens));
		suite_add_tcase(s, tc);
	} else {
		printf("# SKIP perf checks: perf not found (set PERF)\n");
	}
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	perf = getenv("PERF");
	if (!perf || !*perf || access(perf, X_OK))
		perf = NULL;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* A failed test leaves its files, or the disk-full tmpfs, behind. */
	{
		char mnt[512], cmd[600];

		tmp_path(mnt, sizeof(mnt), "mnt");
		umount2(mnt, MNT_DETACH);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "# could not remove %s\n", tmpdir);
	}
	return failed ? 1 : 0;
}
