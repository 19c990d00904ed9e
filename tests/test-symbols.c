// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest symbols: a kallsyms fixture (tests/data/kallsyms.txt) and this test
 * program's own ELF symbol table, whose addresses it knows at run time.
 */
#include <check.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Two 16-byte objects, 256 bytes apart at least: a gap no symbol covers. */
__attribute__((used, aligned(256), section(".kxtest")))
const char kx_test_blob_a[16] = "blob a";
__attribute__((used, aligned(256), section(".kxtest")))
const char kx_test_blob_b[16] = "blob b";

__attribute__((noinline, used)) int kx_test_function(int x);
__attribute__((noinline, used)) int kx_test_function(int x)
{
	return x * 3 + 1;
}

static struct kvmexit_symbols *syms;
static char buf[128], err[512];

static void teardown(void)
{
	kvmexit_symbols_free(syms);
	syms = NULL;
}

static const char *lookup(uint64_t addr)
{
	int n = kvmexit_symbols_lookup(syms, addr, buf, sizeof(buf));

	if (n == -ENOENT)
		return "(none)";
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(n, (int)strlen(buf));
	return buf;
}

static void open_kallsyms(void)
{
	ck_assert_int_eq(kvmexit_symbols_open(TESTS_DATADIR "/kallsyms.txt", &syms,
					      err, sizeof(err)), 0);
}

START_TEST(test_kallsyms)
{
	open_kallsyms();
	/* Two names at one address: equal rank, the first in byte order. */
	ck_assert_str_eq(lookup(0xffffffff81000000ull), "_stext+0x0");
	ck_assert_str_eq(lookup(0xffffffff81000005ull), "_stext+0x5");
	ck_assert_str_eq(lookup(0xffffffff810000ffull), "_stext+0xff");
	ck_assert_str_eq(lookup(0xffffffff81000100ull), "secondary_startup_64+0x0");
	ck_assert_str_eq(lookup(0xffffffff810001ffull), "secondary_startup_64+0xff");
	ck_assert_str_eq(lookup(0xffffffff81000201ull), "native_safe_halt+0x1");
	/* W is preferred to t at one address. */
	ck_assert_str_eq(lookup(0xffffffff81000215ull), "weak_func+0x5");
	ck_assert_str_eq(lookup(0xffffffff81000fffull), "weak_func+0xdef");
	ck_assert_str_eq(lookup(0xffffffff81001000ull), "some_data+0x0");
	/* The module symbol, last: up to the end of the next page. */
	ck_assert_str_eq(lookup(0xffffffffc0000010ull), "kvm_vcpu_ioctl+0x10");
	ck_assert_str_eq(lookup(0xffffffffc0000fffull), "kvm_vcpu_ioctl+0xfff");
	ck_assert_str_eq(lookup(0xffffffffc0001000ull), "(none)");
	/* Below the first symbol; the absolute symbol at 0 is skipped. */
	ck_assert_str_eq(lookup(0xffffffff80000000ull), "(none)");
	ck_assert_str_eq(lookup(0x10), "(none)");
}
END_TEST

START_TEST(test_lookup_truncates)
{
	char small[6];

	open_kallsyms();
	ck_assert_int_eq(kvmexit_symbols_lookup(syms, 0xffffffff81000005ull, small,
						sizeof(small)), 10);
	ck_assert_str_eq(small, "_stex");
	ck_assert_int_eq(kvmexit_symbols_lookup(syms, 0xffffffff81000005ull, NULL, 0), 10);
	ck_assert_int_eq(kvmexit_symbols_lookup(syms, 0xffffffff81000005ull, NULL, 4), -EINVAL);
}
END_TEST

/* Writes text into a temporary file; returns its path (static). */
static const char *temp_file(const char *text)
{
	static char path[] = "/tmp/kvmexit-test-symbols-XXXXXX";
	int fd;

	strcpy(path + sizeof(path) - 7, "XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(test_kallsyms_errors)
{
	const char *path;

	path = temp_file("ffffffff81000000 T _stext\nffffffff81000100 t\nxyz\n");
	ck_assert_int_eq(kvmexit_symbols_open(path, &syms, err, sizeof(err)), -KVMEXIT_EFORMAT);
	ck_assert_ptr_null(syms);
	ck_assert_ptr_nonnull(strstr(err, ":2: not a kallsyms line"));
	unlink(path);

	path = temp_file("0000000000000000 T _stext\n0000000000000000 t foo\n");
	ck_assert_int_eq(kvmexit_symbols_open(path, &syms, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "kptr_restrict"));
	unlink(path);

	path = temp_file("\n\n");
	ck_assert_int_eq(kvmexit_symbols_open(path, &syms, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no symbols"));
	unlink(path);

	ck_assert_int_eq(kvmexit_symbols_open("/nonexistent/vmlinux", &syms, err, sizeof(err)),
			 -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/vmlinux: cannot open: No such file or directory");

	/* An ELF magic with nothing behind it. */
	path = temp_file("\177ELF");
	ck_assert_int_eq(kvmexit_symbols_open(path, &syms, err, sizeof(err)), -KVMEXIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "not a readable ELF file"));
	unlink(path);
}
END_TEST

/* The load bias of this program: 0 unless it is position independent. */
static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uintptr_t *)data = info->dlpi_addr;
	return 1;
}

START_TEST(test_elf_self)
{
	uintptr_t bias = 0;
	uint64_t a, b, f;

	dl_iterate_phdr(first_object, &bias);
	a = (uintptr_t)kx_test_blob_a - bias;
	b = (uintptr_t)kx_test_blob_b - bias;
	f = (uintptr_t)kx_test_function - bias;
	ck_assert_int_eq(kvmexit_symbols_open("/proc/self/exe", &syms, err, sizeof(err)), 0);
	ck_assert_str_eq(lookup(f), "kx_test_function+0x0");
	ck_assert_str_eq(lookup(f + 1), "kx_test_function+0x1");
	ck_assert_str_eq(lookup(a), "kx_test_blob_a+0x0");
	ck_assert_str_eq(lookup(a + 15), "kx_test_blob_a+0xf");
	ck_assert_str_eq(lookup(b + 3), "kx_test_blob_b+0x3");
	/* Sized symbols cover their size only: the alignment gap is no one's. */
	if (b > a)
		ck_assert_str_eq(lookup(a + 16), "(none)");
	else
		ck_assert_str_eq(lookup(b + 16), "(none)");
	ck_assert_str_eq(lookup(0), "(none)");
	ck_assert_str_eq(lookup(UINT64_MAX), "(none)");
}
END_TEST

static Suite *symbols_suite(void)
{
	Suite *s = suite_create("symbols");
	TCase *tc = tcase_create("symbols");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_kallsyms);
	tcase_add_test(tc, test_lookup_truncates);
	tcase_add_test(tc, test_kallsyms_errors);
	tcase_add_test(tc, test_elf_self);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(symbols_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
