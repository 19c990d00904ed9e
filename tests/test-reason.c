// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit reason tables and decoders (lib/reason.c).
 *
 * The oracle for names is the kernel: the __print_symbolic tables in the
 * print fmt of kvm:kvm_exit, parsed with libtraceevent from the 6.1 and 6.18
 * reference format files and, where readable, from this host's tracefs.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event-parse.h>

#include "kvmexit.h"

#ifndef TESTS_DATADIR
#define TESTS_DATADIR "tests/data"
#endif

#define LIVE_FORMAT "/sys/kernel/tracing/events/kvm/kvm_exit/format"

/* ------------------------------------------------------------------ */
/* The kernel as oracle                                                */
/* ------------------------------------------------------------------ */

struct symtabs {
	const struct tep_print_arg *tab[4];
	int n;
};

/* Collects __print_symbolic tables in print order (left before right). */
static void collect_symbols(const struct tep_print_arg *arg, struct symtabs *st)
{
	for (; arg; arg = arg->next) {
		switch (arg->type) {
		case TEP_PRINT_SYMBOL:
			if (st->n < 4)
				st->tab[st->n++] = arg;
			break;
		case TEP_PRINT_OP:
			collect_symbols(arg->op.left, st);
			collect_symbols(arg->op.right, st);
			break;
		case TEP_PRINT_TYPE:
			collect_symbols(arg->typecast.item, st);
			break;
		default:
			break;
		}
	}
}

/* libtraceevent keeps atoms as written ("0x040") and evaluates expressions
 * ("0x040 + 14") to decimal; "-1" stays "-1". */
static uint32_t symbol_value(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	ck_assert_msg(!errno && end != s && *end == '\0',
		      "cannot evaluate symbol value \"%s\"", s);
	return (uint32_t)v;
}

static char *read_all(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	FILE *f = fopen(path, "r");
	size_t got;

	if (!f) {
		free(buf);
		return NULL;
	}
	ck_assert_ptr_nonnull(buf);
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

/*
 * Checks every code the kernel's kvm_exit table lists for @isa against ours:
 * same name, linux_names set.  Marks the entries it saw in @seen (indexed as
 * our table).  Returns the number of kernel entries.
 */
static int check_symtab(enum kvmexit_isa isa, const struct tep_print_arg *sym,
			bool *seen, const char *what)
{
	const struct kvmexit_reason *table, *r;
	const struct tep_print_flag_sym *s;
	char buf[64];
	size_t count;
	int n = 0;

	table = kvmexit_reason_table(isa, &count);
	for (s = sym->symbol.symbols; s; s = s->next, n++) {
		uint32_t code = symbol_value(s->value);

		r = kvmexit_reason_lookup(isa, code);
		ck_assert_msg(r, "%s: %s code 0x%x (%s) missing from our table",
			      what, kvmexit_isa_name(isa), code, s->str);
		ck_assert_msg(!strcmp(r->name, s->str),
			      "%s: %s code 0x%x: kernel \"%s\", ours \"%s\"",
			      what, kvmexit_isa_name(isa), code, s->str, r->name);
		ck_assert_msg(r->linux_names, "%s: %s \"%s\" has linux_names = false",
			      what, kvmexit_isa_name(isa), r->name);
		kvmexit_reason_name(isa, code, buf, sizeof(buf));
		ck_assert_str_eq(buf, s->str);
		if (seen)
			seen[r - table] = true;
	}
	return n;
}

/* Parses a kvm_exit format text; returns the VMX and SVM entry counts. */
static void check_format_text(const char *text, size_t len, const char *what,
			      bool *vmx_seen, bool *svm_seen, int *nvmx, int *nsvm)
{
	struct tep_handle *tep = tep_alloc();
	struct tep_event *event = NULL;
	struct symtabs st = { .n = 0 };
	enum tep_errno ret;

	ck_assert_ptr_nonnull(tep);
	ret = tep_parse_format(tep, &event, text, len, "kvm");
	ck_assert_msg(ret == 0 && event, "%s: libtraceevent cannot parse it (%d)",
		      what, (int)ret);
	collect_symbols(event->print_fmt.args, &st);
	ck_assert_msg(st.n == 2, "%s: expected 2 symbolic tables, found %d",
		      what, st.n);
	*nvmx = check_symtab(KVMEXIT_ISA_VMX, st.tab[0], vmx_seen, what);
	*nsvm = check_symtab(KVMEXIT_ISA_SVM, st.tab[1], svm_seen, what);
	tep_free(tep);
}

static void check_format_file(const char *path, bool *vmx_seen, bool *svm_seen,
			      int *nvmx, int *nsvm)
{
	size_t len;
	char *text = read_all(path, &len);

	ck_assert_msg(text, "cannot read %s: %s", path, strerror(errno));
	check_format_text(text, len, path, vmx_seen, svm_seen, nvmx, nsvm);
	free(text);
}

START_TEST(test_oracle_6_18)
{
	size_t nv, ns, i;
	const struct kvmexit_reason *vmx = kvmexit_reason_table(KVMEXIT_ISA_VMX, &nv);
	const struct kvmexit_reason *svm = kvmexit_reason_table(KVMEXIT_ISA_SVM, &ns);
	bool *vseen = calloc(nv, sizeof(bool)), *sseen = calloc(ns, sizeof(bool));
	int nvmx, nsvm;

	ck_assert_ptr_nonnull(vseen);
	ck_assert_ptr_nonnull(sseen);
	check_format_file(TESTS_DATADIR "/kvm_exit.format.6.18.txt", vseen, sseen,
			  &nvmx, &nsvm);
	ck_assert_int_eq(nvmx, 65);
	ck_assert_int_eq(nsvm, 110);
	/* linux_names is exact: set only on what the newest kernel prints. */
	for (i = 0; i < nv; i++)
		ck_assert_msg(vmx[i].linux_names == vseen[i],
			      "VMX %s: linux_names %d but 6.18 %s it", vmx[i].name,
			      vmx[i].linux_names, vseen[i] ? "prints" : "does not print");
	for (i = 0; i < ns; i++)
		ck_assert_msg(svm[i].linux_names == sseen[i],
			      "SVM %s: linux_names %d but 6.18 %s it", svm[i].name,
			      svm[i].linux_names, sseen[i] ? "prints" : "does not print");
	free(vseen);
	free(sseen);
}
END_TEST

START_TEST(test_oracle_6_1)
{
	int nvmx, nsvm;

	check_format_file(TESTS_DATADIR "/kvm_exit.format.6.1.txt", NULL, NULL,
			  &nvmx, &nsvm);
	ck_assert_int_eq(nvmx, 62);
	ck_assert_int_eq(nsvm, 108);
}
END_TEST

START_TEST(test_oracle_live)
{
	int nvmx, nsvm;
	size_t len;
	char *text = read_all(LIVE_FORMAT, &len);

	if (!text) {
		printf("# test-reason: skipped the live kvm_exit format: %s: %s "
		       "(mount tracefs and load kvm to check this kernel)\n",
		       LIVE_FORMAT, strerror(errno));
		return;
	}
	check_format_text(text, len, LIVE_FORMAT, NULL, NULL, &nvmx, &nsvm);
	printf("# test-reason: live kvm_exit format: %d VMX and %d SVM names match\n",
	       nvmx, nsvm);
	free(text);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Table invariants                                                    */
/* ------------------------------------------------------------------ */

static void check_table(enum kvmexit_isa isa)
{
	const struct kvmexit_reason *t;
	size_t n, i, j;
	char buf[64];
	uint32_t code;

	t = kvmexit_reason_table(isa, &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_gt(n, 60);
	for (i = 0; i < n; i++) {
		ck_assert_msg(t[i].name && t[i].name[0], "entry %zu has no name", i);
		ck_assert_msg(t[i].description && t[i].description[0],
			      "%s has no description", t[i].name);
		ck_assert_msg((unsigned int)t[i].category < KVMEXIT_CAT__MAX,
			      "%s has category %d", t[i].name, t[i].category);
		ck_assert_msg(strncasecmp(t[i].name, "UNKNOWN", 7),
			      "%s looks like an unknown code", t[i].name);
		if (i)
			ck_assert_msg(t[i - 1].code < t[i].code,
				      "not sorted or not unique at %s (0x%x after 0x%x)",
				      t[i].name, t[i].code, t[i - 1].code);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcasecmp(t[i].name, t[j].name),
				      "name %s is used twice", t[i].name);
		if (isa == KVMEXIT_ISA_VMX)
			ck_assert_uint_le(t[i].code, KVMEXIT_VMX_BASIC_MASK);
		/* Lookup, name and parse agree with the table. */
		ck_assert_ptr_eq(kvmexit_reason_lookup(isa, t[i].code), &t[i]);
		ck_assert_int_eq(kvmexit_reason_name(isa, t[i].code, buf, sizeof(buf)),
				 (int)strlen(t[i].name));
		ck_assert_str_eq(buf, t[i].name);
		code = ~t[i].code;
		ck_assert_int_eq(kvmexit_reason_parse(isa, t[i].name, &code), 0);
		ck_assert_uint_eq(code, t[i].code);
	}
}

START_TEST(test_table_vmx)
{
	check_table(KVMEXIT_ISA_VMX);
}
END_TEST

START_TEST(test_table_svm)
{
	check_table(KVMEXIT_ISA_SVM);
}
END_TEST

/* Every EXIT_REASON_* of arch/x86/include/uapi/asm/vmx.h (Linux 6.18). */
START_TEST(test_table_vmx_linux_codes)
{
	static const uint32_t linux_codes[] = {
		0, 1, 2, 3, 4, 7, 8, 9, 10, 12, 13, 14, 15, 16, 18, 19, 20, 21,
		22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 36, 37, 39,
		40, 41, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56,
		57, 58, 59, 60, 61, 62, 63, 64, 67, 68, 74, 75, 77, 84, 85,
	};
	/* Intel SDM appendix C codes that kvm_exit does not name. */
	static const struct { uint32_t code; const char *name; } sdm[] = {
		{ 5, "IO_SMI" }, { 6, "OTHER_SMI" }, { 11, "GETSEC" }, { 17, "RSM" },
		{ 65, "PCONFIG" }, { 66, "SPP" }, { 69, "LOADIWKEY" }, { 70, "ENCLV" },
		{ 71, "SGX_CONFLICT" }, { 72, "ENQCMD_PASID" }, { 73, "ENQCMDS_PASID" },
		{ 76, "SEAMCALL" }, { 78, "RDMSRLIST" }, { 79, "WRMSRLIST" },
		{ 80, "URDMSR" }, { 81, "UWRMSR" },
	};
	static const uint32_t undefined[] = { 35, 38, 42, 82, 83, 86, 0xffff };
	const struct kvmexit_reason *r;
	size_t i, n;

	for (i = 0; i < sizeof(linux_codes) / sizeof(linux_codes[0]); i++) {
		r = kvmexit_reason_lookup(KVMEXIT_ISA_VMX, linux_codes[i]);
		ck_assert_msg(r && r->linux_names, "VMX %u", linux_codes[i]);
	}
	for (i = 0; i < sizeof(sdm) / sizeof(sdm[0]); i++) {
		r = kvmexit_reason_lookup(KVMEXIT_ISA_VMX, sdm[i].code);
		ck_assert_msg(r, "VMX %u missing", sdm[i].code);
		ck_assert_str_eq(r->name, sdm[i].name);
		ck_assert(!r->linux_names);
	}
	for (i = 0; i < sizeof(undefined) / sizeof(undefined[0]); i++)
		ck_assert_ptr_null(kvmexit_reason_lookup(KVMEXIT_ISA_VMX, undefined[i]));
	kvmexit_reason_table(KVMEXIT_ISA_VMX, &n);
	ck_assert_uint_eq(n, sizeof(linux_codes) / sizeof(linux_codes[0]) +
			     sizeof(sdm) / sizeof(sdm[0]));
}
END_TEST

START_TEST(test_table_svm_apm_codes)
{
	static const struct { uint32_t code; const char *name; int cat; } apm[] = {
		{ 0x001, "read_cr1", KVMEXIT_CAT_CR_DR },
		{ 0x02f, "read_dr15", KVMEXIT_CAT_CR_DR },
		{ 0x055, "CP excp", KVMEXIT_CAT_EXCEPTION },
		{ 0x05d, "VC excp", KVMEXIT_CAT_EXCEPTION },
		{ 0x08c, "mwait_cond", KVMEXIT_CAT_INSTRUCTION },
		{ 0x08e, "rdpru", KVMEXIT_CAT_INSTRUCTION },
		{ 0x093, "write_cr3_trap", KVMEXIT_CAT_CR_DR },
		{ 0x0a0, "invlpgb", KVMEXIT_CAT_PAGING },
		{ 0x0a1, "invlpgb_illegal", KVMEXIT_CAT_PAGING },
		{ 0x0a3, "mcommit", KVMEXIT_CAT_INSTRUCTION },
		{ 0x0a4, "tlbsync", KVMEXIT_CAT_PAGING },
		{ 0x80000018, "vmgexit_snp_run_vmpl", KVMEXIT_CAT_VIRT },
		{ 0x8000fffe, "vmgexit_term_request", KVMEXIT_CAT_OTHER },
		{ 0x8000ffff, "vmgexit_unsupported_event", KVMEXIT_CAT_OTHER },
		{ 0xfffffffe, "busy", KVMEXIT_CAT_OTHER },
	};
	static const uint32_t undefined[] = { 0x042, 0x049, 0x04f, 0x054, 0x05f,
					      0x0a7, 0x404, 0x80000000, 0xf0000000 };
	const struct kvmexit_reason *r;
	size_t i;

	for (i = 0; i < sizeof(apm) / sizeof(apm[0]); i++) {
		r = kvmexit_reason_lookup(KVMEXIT_ISA_SVM, apm[i].code);
		ck_assert_msg(r, "SVM 0x%x missing", apm[i].code);
		ck_assert_str_eq(r->name, apm[i].name);
		ck_assert_int_eq(r->category, apm[i].cat);
		ck_assert(!r->linux_names);
	}
	for (i = 0; i < sizeof(undefined) / sizeof(undefined[0]); i++)
		ck_assert_ptr_null(kvmexit_reason_lookup(KVMEXIT_ISA_SVM, undefined[i]));
}
END_TEST

START_TEST(test_categories)
{
	static const char *const names[] = {
		"other", "paging", "io", "interrupt", "instruction", "msr",
		"cr-dr", "exception", "virt",
	};
	const struct { enum kvmexit_isa isa; uint32_t code; int cat; } c[] = {
		{ KVMEXIT_ISA_VMX, 0, KVMEXIT_CAT_EXCEPTION },
		{ KVMEXIT_ISA_VMX, 1, KVMEXIT_CAT_INTERRUPT },
		{ KVMEXIT_ISA_VMX, 12, KVMEXIT_CAT_INSTRUCTION },
		{ KVMEXIT_ISA_VMX, 18, KVMEXIT_CAT_VIRT },
		{ KVMEXIT_ISA_VMX, 28, KVMEXIT_CAT_CR_DR },
		{ KVMEXIT_ISA_VMX, 30, KVMEXIT_CAT_IO },
		{ KVMEXIT_ISA_VMX, 32, KVMEXIT_CAT_MSR },
		{ KVMEXIT_ISA_VMX, 44, KVMEXIT_CAT_INTERRUPT },
		{ KVMEXIT_ISA_VMX, 48, KVMEXIT_CAT_PAGING },
		{ KVMEXIT_ISA_VMX, 49, KVMEXIT_CAT_PAGING },
		{ KVMEXIT_ISA_VMX, 33, KVMEXIT_CAT_OTHER },
		{ KVMEXIT_ISA_SVM, 0x04e, KVMEXIT_CAT_PAGING },
		{ KVMEXIT_ISA_SVM, 0x046, KVMEXIT_CAT_EXCEPTION },
		{ KVMEXIT_ISA_SVM, 0x07b, KVMEXIT_CAT_IO },
		{ KVMEXIT_ISA_SVM, 0x07c, KVMEXIT_CAT_MSR },
		{ KVMEXIT_ISA_SVM, 0x081, KVMEXIT_CAT_VIRT },
		{ KVMEXIT_ISA_SVM, 0x400, KVMEXIT_CAT_PAGING },
		{ KVMEXIT_ISA_SVM, 0x401, KVMEXIT_CAT_INTERRUPT },
	};
	size_t i;

	for (i = 0; i < KVMEXIT_CAT__MAX; i++)
		ck_assert_str_eq(kvmexit_category_name((enum kvmexit_category)i), names[i]);
	ck_assert_str_eq(kvmexit_category_name(KVMEXIT_CAT__MAX), "unknown");
	ck_assert_str_eq(kvmexit_category_name((enum kvmexit_category)-1), "unknown");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ck_assert_int_eq(kvmexit_reason_lookup(c[i].isa, c[i].code)->category,
				 c[i].cat);
	ck_assert_str_eq(kvmexit_isa_name(KVMEXIT_ISA_VMX), "VMX");
	ck_assert_str_eq(kvmexit_isa_name(KVMEXIT_ISA_SVM), "SVM");
	ck_assert_str_eq(kvmexit_isa_name(KVMEXIT_ISA_UNKNOWN), "unknown");
	ck_assert_str_eq(kvmexit_isa_name((enum kvmexit_isa)7), "unknown");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Names, flags, parsing                                               */
/* ------------------------------------------------------------------ */

static const char *name_of(enum kvmexit_isa isa, uint32_t reason)
{
	static char buf[64];

	ck_assert_int_ge(kvmexit_reason_name(isa, reason, buf, sizeof(buf)), 0);
	return buf;
}

START_TEST(test_reason_name)
{
	char small[5];
	size_t n = 99;

	ck_assert_str_eq(name_of(KVMEXIT_ISA_VMX, 48), "EPT_VIOLATION");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_VMX, 0x80000021), "INVALID_STATE");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_VMX, 0x08000030), "EPT_VIOLATION");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_VMX, 82), "UNKNOWN(0x52)");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_VMX, 0x80000052), "UNKNOWN(0x52)");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_VMX, 0xffffffff), "UNKNOWN(0xffff)");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_VMX, 85), "MSR_WRITE_IMM");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_SVM, 0x12345), "UNKNOWN(0x12345)");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_SVM, 0xffffffff), "invalid_guest_state");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_SVM, 0x04e), "PF excp");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_SVM, 0x0a6), "idle-halt");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_SVM, 0x80000010), "vmgexit_page_state_change");
	ck_assert_str_eq(name_of(KVMEXIT_ISA_SVM, 0x10030), "UNKNOWN(0x10030)");

	/* snprintf contract: truncates, NUL-terminates, returns the full length */
	ck_assert_int_eq(kvmexit_reason_name(KVMEXIT_ISA_VMX, 48, small, sizeof(small)), 13);
	ck_assert_str_eq(small, "EPT_");
	ck_assert_int_eq(kvmexit_reason_name(KVMEXIT_ISA_SVM, 0x12345, NULL, 0), 16);
	ck_assert_int_eq(kvmexit_reason_name(KVMEXIT_ISA_UNKNOWN, 1, small, sizeof(small)),
			 -EINVAL);
	ck_assert_int_eq(kvmexit_reason_name((enum kvmexit_isa)3, 1, small, sizeof(small)),
			 -EINVAL);
	ck_assert_int_eq(kvmexit_reason_name(KVMEXIT_ISA_VMX, 1, NULL, 8), -EINVAL);

	ck_assert_str_eq(kvmexit_reason_lookup(KVMEXIT_ISA_VMX, 0x80000030)->name,
			 "EPT_VIOLATION");
	ck_assert_ptr_null(kvmexit_reason_lookup(KVMEXIT_ISA_SVM, 0x80000030));
	ck_assert_ptr_null(kvmexit_reason_lookup(KVMEXIT_ISA_UNKNOWN, 0));
	ck_assert_ptr_null(kvmexit_reason_table(KVMEXIT_ISA_UNKNOWN, &n));
	ck_assert_uint_eq(n, 0);
}
END_TEST

static const char *flags_of(uint32_t reason)
{
	static char buf[128];

	ck_assert_int_ge(kvmexit_vmx_flags_str(reason, buf, sizeof(buf)), 0);
	return buf;
}

START_TEST(test_vmx_flags)
{
	char small[5];

	ck_assert_uint_eq(kvmexit_vmx_basic(0x80000021), 33);
	ck_assert_uint_eq(kvmexit_vmx_flags(0x80000021), 0x80000000);
	ck_assert_str_eq(flags_of(48), "");
	ck_assert_str_eq(flags_of(0x80000021), "FAILED_VMENTRY");
	ck_assert_str_eq(flags_of(0x0400001e), "BUS_LOCK_DETECTED");
	ck_assert_str_eq(flags_of(0x08000000), "ENCLAVE_MODE");
	ck_assert_str_eq(flags_of(0x10000000), "SMI_PENDING_MTF");
	ck_assert_str_eq(flags_of(0x20000000), "SMI_FROM_VMX_ROOT");
	ck_assert_str_eq(flags_of(0x84000022), "FAILED_VMENTRY BUS_LOCK_DETECTED");
	ck_assert_str_eq(flags_of(0x00010000), "0x10000");
	ck_assert_str_eq(flags_of(0xffffffff),
			 "FAILED_VMENTRY SMI_FROM_VMX_ROOT SMI_PENDING_MTF "
			 "ENCLAVE_MODE BUS_LOCK_DETECTED 0x43ff0000");
	ck_assert_int_eq(kvmexit_vmx_flags_str(0x80000000, small, sizeof(small)), 14);
	ck_assert_str_eq(small, "FAIL");
	ck_assert_int_eq(kvmexit_vmx_flags_str(0x80000000, NULL, 0), 14);
	ck_assert_int_eq(kvmexit_vmx_flags_str(0, small, sizeof(small)), 0);
	ck_assert_str_eq(small, "");
}
END_TEST

static int parse(enum kvmexit_isa isa, const char *text, uint32_t *code)
{
	*code = 0xdeadbeef;
	return kvmexit_reason_parse(isa, text, code);
}

START_TEST(test_reason_parse)
{
	static const char *const bad[] = {
		"", "foo", "0x", "12abc", "0x1g", "-1", " 48", "48 ", "4294967296",
		"0x100000000", "UNKNOWN()", "UNKNOWN(0x52", "UNKNOWN0x52)",
		"UNKNOWN(x)", "EPT_VIOLATIONS", "+5",
	};
	uint32_t code;
	size_t i;

	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "EPT_VIOLATION", &code), 0);
	ck_assert_uint_eq(code, 48);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "ept_violation", &code), 0);
	ck_assert_uint_eq(code, 48);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "48", &code), 0);
	ck_assert_uint_eq(code, 48);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "0x30", &code), 0);
	ck_assert_uint_eq(code, 48);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "0X3f", &code), 0);
	ck_assert_uint_eq(code, 63);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "UNKNOWN(0x52)", &code), 0);
	ck_assert_uint_eq(code, 82);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "unknown(0x52)", &code), 0);
	ck_assert_uint_eq(code, 82);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "IO_SMI", &code), 0);
	ck_assert_uint_eq(code, 5);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "0", &code), 0);
	ck_assert_uint_eq(code, 0);
	ck_assert_int_eq(parse(KVMEXIT_ISA_SVM, "idle-halt", &code), 0);
	ck_assert_uint_eq(code, 0xa6);
	ck_assert_int_eq(parse(KVMEXIT_ISA_SVM, "pf EXCP", &code), 0);
	ck_assert_uint_eq(code, 0x4e);
	ck_assert_int_eq(parse(KVMEXIT_ISA_SVM, "invalid_guest_state", &code), 0);
	ck_assert_uint_eq(code, 0xffffffff);
	ck_assert_int_eq(parse(KVMEXIT_ISA_SVM, "4294967295", &code), 0);
	ck_assert_uint_eq(code, 0xffffffff);
	ck_assert_int_eq(parse(KVMEXIT_ISA_SVM, "UNKNOWN(0x12345)", &code), 0);
	ck_assert_uint_eq(code, 0x12345);
	ck_assert_int_eq(parse(KVMEXIT_ISA_SVM, "npf", &code), 0);
	ck_assert_uint_eq(code, 0x400);
	/* Names are per ISA. */
	ck_assert_int_eq(parse(KVMEXIT_ISA_SVM, "EPT_VIOLATION", &code), -EINVAL);
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, "npf", &code), -EINVAL);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(KVMEXIT_ISA_VMX, bad[i], &code) == -EINVAL,
			      "\"%s\" parsed", bad[i]);
		ck_assert_uint_eq(code, 0xdeadbeef);
	}
	ck_assert_int_eq(parse(KVMEXIT_ISA_VMX, NULL, &code), -EINVAL);
	ck_assert_int_eq(kvmexit_reason_parse(KVMEXIT_ISA_VMX, "48", NULL), -EINVAL);
	ck_assert_int_eq(parse(KVMEXIT_ISA_UNKNOWN, "48", &code), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Details                                                             */
/* ------------------------------------------------------------------ */

struct detail_case {
	enum kvmexit_isa isa;
	uint32_t reason;
	uint64_t info1, info2;
	uint32_t intr_info, error_code;
	const char *name;	/* "" when there is no detail key */
	const char *describe;
};

static uint32_t check_detail(const struct detail_case *c)
{
	struct kvmexit_exit e = {
		.isa = c->isa, .exit_reason = c->reason, .info1 = c->info1,
		.info2 = c->info2, .intr_info = c->intr_info,
		.error_code = c->error_code,
	};
	uint32_t key = kvmexit_exit_detail(&e);
	char buf[128];
	int n;

	n = kvmexit_detail_name(c->isa, c->reason, key, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_msg(!strcmp(buf, c->name), "%s 0x%x info1 0x%llx: name \"%s\", want \"%s\"",
		      kvmexit_isa_name(c->isa), c->reason,
		      (unsigned long long)c->info1, buf, c->name);
	ck_assert_msg((key != 0) == (c->name[0] != '\0'), "key 0x%x for \"%s\"",
		      key, c->name);
	n = kvmexit_exit_describe(&e, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_msg(!strcmp(buf, c->describe),
		      "%s 0x%x info1 0x%llx: describe \"%s\", want \"%s\"",
		      kvmexit_isa_name(c->isa), c->reason,
		      (unsigned long long)c->info1, buf, c->describe);
	return key;
}

#define VMX KVMEXIT_ISA_VMX
#define SVM KVMEXIT_ISA_SVM

START_TEST(test_detail_vmx_exception)
{
	static const struct detail_case cases[] = {
		{ VMX, 0, 0x7f0000001000, 0, 0x80000b0e, 4, "#PF",
		  "#PF error 0x4 addr 0x7f0000001000" },
		{ VMX, 0, 0, 0, 0x80000306, 0, "#UD", "#UD" },
		{ VMX, 0, 0, 0, 0x80000b0d, 0, "#GP", "#GP error 0x0" },
		{ VMX, 0, 0, 0, 0x80000300, 0, "#DE", "#DE" },
		{ VMX, 0, 0x4000, 0, 0x80000301, 0, "#DB", "#DB" },
		{ VMX, 0, 0, 0, 0x80000501, 0, "#DB(icebp)", "#DB(icebp)" },
		{ VMX, 0, 0, 0, 0x80000603, 0, "#BP", "#BP" },
		{ VMX, 0, 0, 0, 0x80000312, 0, "#MC", "#MC" },
		{ VMX, 0, 0, 0, 0x80000b11, 0, "#AC", "#AC error 0x0" },
		{ VMX, 0, 0, 0, 0x80000313, 0, "#XM", "#XM" },
		{ VMX, 0, 0, 0, 0x80000202, 0, "NMI", "NMI" },
		{ VMX, 0, 0, 0, 0x8000031f, 0, "vector31", "vector31" },
		{ VMX, 0, 0, 0, 0x80000020, 0, "type0:vector32", "type0:vector32" },
		{ VMX, 0, 0, 0, 0x0000030e, 0, "", "" },	/* not valid */
		/*
		 * a failed VM entry is named as the kernel's flags print it,
		 * whatever the fields say, for any basic reason
		 */
		{ VMX, 0x80000021, 3, 0, 0x80000306, 0, "FAILED_VMENTRY", "FAILED_VMENTRY" },
		{ VMX, 0x80000000 | 28, 3, 0, 0, 0, "FAILED_VMENTRY", "FAILED_VMENTRY" },
	};
	uint32_t pf, gp;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_detail(&cases[i]);
	/* the error code does not split the key */
	pf = check_detail(&cases[0]);
	gp = check_detail(&cases[2]);
	ck_assert_uint_ne(pf, gp);
	ck_assert_uint_eq(pf, check_detail(&(struct detail_case){
		VMX, 0, 0x1000, 0, 0x80000b0e, 2, "#PF", "#PF error 0x2 addr 0x1000" }));
}
END_TEST

START_TEST(test_detail_vmx_cr_dr)
{
	static const struct detail_case cases[] = {
		{ VMX, 28, 0x003, 0, 0, 0, "mov-to-cr3", "mov-to-cr3 from rax" },
		{ VMX, 28, 0x118, 0, 0, 0, "mov-from-cr8", "mov-from-cr8 to rcx" },
		{ VMX, 28, 0xc00, 0, 0, 0, "mov-to-cr0", "mov-to-cr0 from r12" },
		{ VMX, 28, 0xf04, 0, 0, 0, "mov-to-cr4", "mov-to-cr4 from r15" },
		{ VMX, 28, 0x020, 0, 0, 0, "clts", "clts" },
		{ VMX, 28, 0x110030, 0, 0, 0, "lmsw", "lmsw 0x11" },
		{ VMX, 28, 0x110070, 0, 0, 0, "lmsw", "lmsw 0x11 from memory" },
		{ VMX, 29, 0x317, 0, 0, 0, "mov-from-dr7", "mov-from-dr7 to rbx" },
		{ VMX, 29, 0x006, 0, 0, 0, "mov-to-dr6", "mov-to-dr6 from rax" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_detail(&cases[i]);
	/* the GPR does not split the key; the CR does */
	ck_assert_uint_eq(check_detail(&cases[2]),
			  check_detail(&(struct detail_case){ VMX, 28, 0x500, 0, 0, 0,
				  "mov-to-cr0", "mov-to-cr0 from rbp" }));
	ck_assert_uint_ne(check_detail(&cases[0]), check_detail(&cases[2]));
}
END_TEST

START_TEST(test_detail_io)
{
	static const struct detail_case cases[] = {
		{ VMX, 30, 0x3f80000, 0, 0, 0, "out:0x3f8", "out port 0x3f8 size 1" },
		{ VMX, 30, 0x3f80030, 0, 0, 0, "out:0x3f8",
		  "out port 0x3f8 size 1 rep string" },
		{ VMX, 30, 0x0700008, 0, 0, 0, "in:0x70", "in port 0x70 size 1" },
		{ VMX, 30, 0xcfc000b, 0, 0, 0, "in:0xcfc", "in port 0xcfc size 4" },
		{ VMX, 30, 0x1f00019, 0, 0, 0, "in:0x1f0", "in port 0x1f0 size 2 string" },
		{ VMX, 30, 0, 0, 0, 0, "out:0x0", "out port 0x0 size 1" },
		{ SVM, 0x7b, 0x0700011, 0x1234, 0, 0, "in:0x70", "in port 0x70 size 1" },
		{ SVM, 0x7b, 0x3f8001c, 0, 0, 0, "out:0x3f8",
		  "out port 0x3f8 size 1 rep string" },
		{ SVM, 0x7b, 0xcfc0041, 0, 0, 0, "in:0xcfc", "in port 0xcfc size 4" },
		{ SVM, 0x7b, 0x1f00021, 0, 0, 0, "in:0x1f0", "in port 0x1f0 size 2" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_detail(&cases[i]);
	/* same port and direction: same key on both ISAs, whatever the size */
	ck_assert_uint_eq(check_detail(&cases[0]), check_detail(&cases[1]));
	ck_assert_uint_eq(check_detail(&cases[2]), check_detail(&cases[6]));
	ck_assert_uint_eq(check_detail(&cases[0]), check_detail(&cases[7]));
	ck_assert_uint_ne(check_detail(&cases[0]), check_detail(&cases[2]));
}
END_TEST

START_TEST(test_detail_ept_npf)
{
	static const struct detail_case cases[] = {
		{ VMX, 48, 0x182, 0, 0, 0, "write-notpresent",
		  "write-notpresent gla-valid final" },
		{ VMX, 48, 0x1aa, 0, 0, 0, "write", "write perms r-x gla-valid final" },
		{ VMX, 48, 0x084, 0, 0, 0, "fetch-notpresent",
		  "fetch-notpresent gla-valid walk" },
		{ VMX, 48, 0x001, 0, 0, 0, "read-notpresent", "read-notpresent" },
		{ VMX, 48, 0x1009, 0, 0, 0, "read", "read perms r-- nmi-unblocking" },
		{ VMX, 48, 0x03b, 0, 0, 0, "write", "write perms rwx" },
		{ SVM, 0x400, 0x100000006, 0xfee00000, 0, 0, "write-notpresent",
		  "write-notpresent gpa 0xfee00000 user final" },
		{ SVM, 0x400, 0x100000007, 0x1000, 0, 0, "write",
		  "write gpa 0x1000 user final" },
		{ SVM, 0x400, 0x100000009, 0xfebf0000, 0, 0, "read-rsvd",
		  "read-rsvd gpa 0xfebf0000 final" },
		{ SVM, 0x400, 0x200000014, 0x2000, 0, 0, "fetch-notpresent",
		  "fetch-notpresent gpa 0x2000 user walk" },
		{ SVM, 0x400, 0, 0x3000, 0, 0, "read-notpresent",
		  "read-notpresent gpa 0x3000" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_detail(&cases[i]);
}
END_TEST

START_TEST(test_detail_other)
{
	static const struct detail_case cases[] = {
		{ SVM, 0x7c, 0, 0, 0, 0, "rdmsr", "rdmsr" },
		{ SVM, 0x7c, 1, 0, 0, 0, "wrmsr", "wrmsr" },
		{ SVM, 0x4e, 2, 0xdead000, 0, 0, "write-notpresent", "#PF error 0x2 addr 0xdead000" },
		{ SVM, 0x4e, 0x11, 0xdead000, 0, 0, "fetch", "#PF error 0x11 addr 0xdead000" },
		{ SVM, 0x78, 0, 0, 0, 0, "", "" },
		{ VMX, 12, 0x1234, 0, 0, 0, "", "" },
		{ VMX, 49, 0, 0, 0, 0, "", "" },
	};
	struct kvmexit_exit e = { .isa = KVMEXIT_ISA_UNKNOWN, .info1 = 3 };
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_detail(&cases[i]);

	ck_assert_uint_eq(kvmexit_exit_detail(NULL), 0);
	ck_assert_uint_eq(kvmexit_exit_detail(&e), 0);
	ck_assert_int_eq(kvmexit_exit_describe(&e, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(kvmexit_exit_describe(NULL, buf, sizeof(buf)), -EINVAL);

	/* keys that no decoder made still print, and never crash */
	ck_assert_int_eq(kvmexit_detail_name(VMX, 12, 0x10001, buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "0x10001");
	ck_assert_int_eq(kvmexit_detail_name(VMX, 28, 5, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "0x5");
	ck_assert_int_eq(kvmexit_detail_name(VMX, 28, 0, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(kvmexit_detail_name(VMX, 0, 0xffffffff, buf, sizeof(buf)),
			 (int)strlen(buf));
	ck_assert_int_eq(kvmexit_detail_name(SVM, 0x400, 0xffffffff, buf, sizeof(buf)),
			 (int)strlen(buf));
	ck_assert_int_eq(kvmexit_detail_name(KVMEXIT_ISA_UNKNOWN, 0, 1, buf, sizeof(buf)),
			 -EINVAL);
	/* flags in the VMX reason do not change which decoder names the key */
	ck_assert_int_eq(kvmexit_detail_name(VMX, 0x0800001e, 0x103f8, buf, sizeof(buf)), 9);
	ck_assert_str_eq(buf, "out:0x3f8");
	/* truncation follows snprintf */
	ck_assert_int_eq(kvmexit_detail_name(VMX, 30, 0x103f8, buf, 4), 9);
	ck_assert_str_eq(buf, "out");
}
END_TEST

static Suite *reason_suite(void)
{
	Suite *s = suite_create("reason");
	TCase *tc;

	tc = tcase_create("oracle");
	tcase_add_test(tc, test_oracle_6_18);
	tcase_add_test(tc, test_oracle_6_1);
	tcase_add_test(tc, test_oracle_live);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_test(tc, test_table_vmx);
	tcase_add_test(tc, test_table_svm);
	tcase_add_test(tc, test_table_vmx_linux_codes);
	tcase_add_test(tc, test_table_svm_apm_codes);
	tcase_add_test(tc, test_categories);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_reason_name);
	tcase_add_test(tc, test_vmx_flags);
	tcase_add_test(tc, test_reason_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("details");
	tcase_add_test(tc, test_detail_vmx_exception);
	tcase_add_test(tc, test_detail_vmx_cr_dr);
	tcase_add_test(tc, test_detail_io);
	tcase_add_test(tc, test_detail_ept_npf);
	tcase_add_test(tc, test_detail_other);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reason_suite());
	int failed;

	/* Output lines of our own are TAP comments ("# ..."): with
	 * CK_TAP_LOG_FILE_NAME=- Check writes TAP to stdout. */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
