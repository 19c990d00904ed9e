// SPDX-License-Identifier: GPL-2.0-only
/*
 * Count tables: good tables (header or not, commas or tabs, names or
 * numbers, metadata comments, duration lines), bad ones with the line
 * number in the message, and the writer read back.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-skip.h"
#include "internal.h"

static const struct kvmexit_profile_opts all = { .sz = sizeof(all) };

/* Reads @text as a table named "counts.csv" into a new profile. */
static int read_text(const char *text, struct kvmexit_profile **prof, struct kvmexit_meta *m,
		     char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(kvmexit_profile_new(&all, prof), 0);
	err[0] = '\0';
	ret = kx_counts_table_read_file(f, "counts.csv", *prof, m, err, errlen);
	fclose(f);
	if (!ret)
		kvmexit_profile_set_meta(*prof, m);
	return ret;
}

static uint64_t count_of(const struct kvmexit_profile *p, enum kvmexit_isa isa, uint32_t reason)
{
	struct kvmexit_stat *rows;
	int n = kvmexit_profile_stats(p, KVMEXIT_GROUP_REASON, &rows);
	uint64_t c = 0;

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++)
		if (rows[i].isa == isa && rows[i].reason == reason)
			c = rows[i].count;
	kvmexit_stats_free(rows);
	return c;
}

START_TEST(good_table)
{
	static const char text[] =
		"# counted with bpftrace on host x\n"
		"# vendor: GenuineIntel\n"
		"# ept: Y\n"
		"# unrestricted_guest: N\n"
		"# osrelease: 6.1.0-18-amd64\n"
		"# duration: 12.5\n"
		"isa,reason,count\n"
		"vmx,EPT_VIOLATION,5000\n"
		"  VMX , cpuid , 1000  \n"
		"\n"
		"1,30,3000\r\n"
		"vmx,0x30,7\n"
		"vmx,UNKNOWN(0x7f),2\n";
	struct kvmexit_profile *p;
	struct kvmexit_profile_totals t;
	struct kvmexit_meta m;
	char err[256];

	ck_assert_int_eq(read_text(text, &p, &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(count_of(p, KVMEXIT_ISA_VMX, 48), 5007);
	ck_assert_uint_eq(count_of(p, KVMEXIT_ISA_VMX, 10), 1000);
	ck_assert_uint_eq(count_of(p, KVMEXIT_ISA_VMX, 30), 3000);
	ck_assert_uint_eq(count_of(p, KVMEXIT_ISA_VMX, 0x7f), 2);
	ck_assert_str_eq(m.vendor, "GenuineIntel");
	ck_assert_str_eq(m.kvm_module, "kvm_intel");
	ck_assert_str_eq(m.osrelease, "6.1.0-18-amd64");
	ck_assert_int_eq(m.isa, KVMEXIT_ISA_VMX);
	ck_assert_str_eq(kvmexit_meta_param(&m, "ept"), "Y");
	ck_assert_str_eq(kvmexit_meta_param(&m, "unrestricted_guest"), "N");
	ck_assert_int_eq(kvmexit_meta_tdp(&m), 1);
	ck_assert(m.counts_only);
	kvmexit_profile_totals(p, &t);
	ck_assert_uint_eq(t.exits, 9009);
	ck_assert_uint_eq(t.duration_ns, 12500000000ull);
	kvmexit_profile_free(p);
}
END_TEST

START_TEST(tabs_svm_duration_line)
{
	static const char text[] =
		"svm\tnpf\t10\n"
		"2\tPF excp\t4\n"
		"svm\t\"io\"\t3\n"
		"duration\t2\n"
		"# npt: 0\n";
	struct kvmexit_profile *p;
	struct kvmexit_profile_totals t;
	struct kvmexit_meta m;
	char err[256];

	ck_assert_int_eq(read_text(text, &p, &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(count_of(p, KVMEXIT_ISA_SVM, 0x400), 10);
	ck_assert_uint_eq(count_of(p, KVMEXIT_ISA_SVM, 0x4e), 4);
	ck_assert_uint_eq(count_of(p, KVMEXIT_ISA_SVM, 0x7b), 3);
	/* no vendor: the ISA of the rows names the module */
	ck_assert_str_eq(m.kvm_module, "kvm_amd");
	ck_assert_int_eq(m.isa, KVMEXIT_ISA_SVM);
	ck_assert_int_eq(kvmexit_meta_tdp(&m), 0);
	kvmexit_profile_totals(p, &t);
	ck_assert_uint_eq(t.duration_ns, 2000000000ull);
	kvmexit_profile_free(p);
}
END_TEST

struct bad {
	const char *text;
	int err;
	const char *msg;
};

static const struct bad bad_tables[] = {
	{ "isa,reason,count\nvmx,CPUID,1\n# x\n\nvmx,HLT,2\nvmx,EPT_VIOLATION,3\nvmx,FOO,1\n",
	  -KVMEXIT_EFORMAT, "counts.csv:7: 'FOO' is not a VMX exit reason" },
	{ "svm,EPT_VIOLATION,1\n", -KVMEXIT_EFORMAT,
	  "counts.csv:1: 'EPT_VIOLATION' is not an SVM exit reason" },
	{ "vmx,CPUID,1\nx86,CPUID,1\n", -KVMEXIT_EFORMAT,
	  "counts.csv:2: 'x86' is not an ISA (vmx, svm, 1 or 2)" },
	{ "vmx,CPUID,-3\n", -KVMEXIT_EFORMAT,
	  "counts.csv:1: '-3' is not a count (a whole number, 0 or more)" },
	{ "vmx,CPUID,12x\n", -KVMEXIT_EFORMAT,
	  "counts.csv:1: '12x' is not a count (a whole number, 0 or more)" },
	{ "vmx,CPUID\n", -KVMEXIT_EFORMAT,
	  "counts.csv:1: expected isa,reason,count (3 fields), found 2" },
	{ "vmx,CPUID,1,2\n", -KVMEXIT_EFORMAT,
	  "counts.csv:1: expected isa,reason,count (3 fields), found 4" },
	{ "vmx,CPUID,1\nvmx,CPUID,1\nisa,reason,count\n", -KVMEXIT_EFORMAT,
	  "counts.csv:3: 'isa' is not an ISA (vmx, svm, 1 or 2)" },
	{ "# duration: soon\nvmx,CPUID,1\n", -KVMEXIT_EFORMAT,
	  "counts.csv:1: duration 'soon' is not a positive number of seconds" },
	{ "vmx,CPUID,1\nduration,-1\n", -KVMEXIT_EFORMAT,
	  "counts.csv:2: duration '-1' is not a positive number of seconds" },
	{ "vmx,CPUID,99999999999999999999999\n", -KVMEXIT_EFORMAT,
	  "counts.csv:1: '99999999999999999999999' is not a count (a whole number, 0 or more)" },
	{ "# only comments\nisa,reason,count\n", -KVMEXIT_ENOEVENTS,
	  "counts.csv: no count rows (expected lines of isa,reason,count)" },
	{ "", -KVMEXIT_ENOEVENTS,
	  "counts.csv: no count rows (expected lines of isa,reason,count)" },
};

START_TEST(bad_table)
{
	const struct bad *b = &bad_tables[_i];
	struct kvmexit_profile *p;
	struct kvmexit_meta m;
	char err[256];

	ck_assert_int_eq(read_text(b->text, &p, &m, err, sizeof(err)), b->err);
	ck_assert_str_eq(err, b->msg);
	kvmexit_profile_free(p);
}
END_TEST

START_TEST(read_path_errors)
{
	struct kvmexit_profile *p;
	struct kvmexit_meta m;
	char err[256];

	ck_assert_int_eq(kvmexit_profile_new(&all, &p), 0);
	ck_assert_int_eq(kx_counts_table_read("/nonexistent/counts.csv", p, &m, err, sizeof(err)),
			 -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/counts.csv: cannot open: No such file or directory");
	kvmexit_profile_free(p);
}
END_TEST

START_TEST(sniff)
{
	ck_assert(kx_counts_table_sniff("vmx,CPUID,1\n", 12));
	ck_assert(!kx_counts_table_sniff("PERFILE2\0\0\0\0", 12));
	ck_assert(!kx_counts_table_sniff("2ELIFREP", 8));
	/* text that starts like a table, with a NUL later: the table reader says why */
	ck_assert(kx_counts_table_sniff("a\0b", 3));
	ck_assert(kx_counts_table_sniff("\xef\xbb\xbfvmx,HLT,1\n", 14));
	ck_assert(!kx_counts_table_sniff("\x7f" "ELF\2\1", 6));
	ck_assert(!kx_counts_table_sniff("\0\0", 2));
	ck_assert(!kx_counts_table_sniff("", 0));
}
END_TEST

START_TEST(write_and_read_back)
{
	static const char text[] =
		"# vendor: AuthenticAMD\n# npt: 1\n# osrelease: 6.18.0\n# lost: 5\n"
		"# duration: 1.5\n"
		"svm,npf,100\nsvm,PF excp,7\nsvm,cpuid,3\nsvm,0x7b,9\n";
	struct kvmexit_profile *p, *q;
	struct kvmexit_meta m, m2;
	struct kvmexit_profile_totals t;
	char err[256], path[] = "/tmp/kx-counts-XXXXXX", buf[1024];
	int fd = mkstemp(path);
	FILE *f;
	size_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read_text(text, &p, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(kvmexit_counts_table_write(p, fd), 0);
	close(fd);
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_str_eq(buf,
		"# kvmexit count table; see kvmexit-capture(5)\n"
		"# vendor: AuthenticAMD\n"
		"# kvm_module: kvm_amd\n"
		"# osrelease: 6.18.0\n"
		"# npt: 1\n"
		"# lost: 5\n"
		"# duration: 1.500000000\n"
		"isa,reason,count\n"
		"svm,npf,100\n"
		"svm,io,9\n"
		"svm,PF excp,7\n"
		"svm,cpuid,3\n");
	ck_assert_int_eq(kvmexit_profile_new(&all, &q), 0);
	ck_assert_int_eq(kx_counts_table_read(path, q, &m2, err, sizeof(err)), 0);
	kvmexit_profile_set_meta(q, &m2);
	ck_assert_uint_eq(count_of(q, KVMEXIT_ISA_SVM, 0x4e), 7);
	ck_assert_uint_eq(m2.lost, 5);
	kvmexit_profile_totals(q, &t);
	ck_assert_uint_eq(t.exits, 119);
	ck_assert_uint_eq(t.duration_ns, 1500000000ull);
	unlink(path);
	kvmexit_profile_free(p);
	kvmexit_profile_free(q);
}
END_TEST

/*
 * A sampled profile's table keeps its rate basis: "# exit_span:" beside
 * the window ("# duration:"), so the table's rates are the capture's.
 */
START_TEST(exit_span_round_trip)
{
	struct kvmexit_meta meta = {
		.isa = KVMEXIT_ISA_VMX, .has_kvmexit = true,
		.start_ns = 1000, .end_ns = 3000001000ull,
	};
	struct kvmexit_event ev = { .type = KVMEXIT_EV_EXIT, .pid = 1, .tid = 2 };
	struct kvmexit_rate_span span = { .sz = sizeof(span) };
	struct kvmexit_profile *p, *q;
	struct kvmexit_meta m2;
	char err[256], path[] = "/tmp/kx-counts-XXXXXX", buf[1024];
	int fd = mkstemp(path);
	FILE *f;
	size_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(kvmexit_profile_new(&all, &p), 0);
	kvmexit_profile_set_meta(p, &meta);
	ev.exit = (struct kvmexit_exit){ .isa = KVMEXIT_ISA_VMX, .exit_reason = 12 };
	for (int i = 0; i < 3; i++) {
		ev.time = 500000000ull + i * 250000000ull;	/* 0.25 s apart: span 0.5 s */
		ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
	}
	ck_assert_int_eq(kvmexit_counts_table_write(p, fd), 0);
	close(fd);
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_msg(strstr(buf, "# duration: 3.000000000\n# exit_span: 0.500000000\n"), "%s", buf);
	ck_assert_int_eq(kvmexit_profile_new(&all, &q), 0);
	ck_assert_int_eq(kx_counts_table_read(path, q, &m2, err, sizeof(err)), 0);
	kvmexit_profile_set_meta(q, &m2);
	ck_assert_int_eq(kvmexit_profile_rate_span(q, &span), 0);
	ck_assert_int_eq(span.basis, KVMEXIT_RATE_EXIT_SPAN);
	ck_assert_uint_eq(span.span_ns, 500000000ull);
	ck_assert_uint_eq(span.window_ns, 3000000000ull);
	unlink(path);
	kvmexit_profile_free(p);
	kvmexit_profile_free(q);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("counts-table");
	TCase *tc = tcase_create("counts-table");

	tcase_add_test(tc, good_table);
	tcase_add_test(tc, tabs_svm_duration_line);
	tcase_add_loop_test(tc, bad_table, 0, sizeof(bad_tables) / sizeof(bad_tables[0]));
	tcase_add_test(tc, read_path_errors);
	tcase_add_test(tc, sniff);
	tcase_add_test(tc, write_and_read_back);
	tcase_add_test(tc, exit_span_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
