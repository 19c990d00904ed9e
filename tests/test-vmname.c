// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM names from VMM command lines: QEMU's -name in its forms (implied
 * guest, guest=, ",," escapes, other suboptions, several -name, --name),
 * libvirt's, Firecracker's --id, and what names no VM.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check-skip.h"
#include "kvmexit.h"

/* A cmdline as /proc/PID/cmdline holds it: arguments NUL-terminated. */
#define CMD(s) s, sizeof(s) - 1

static const char *name_of(const char *cmdline, size_t len, int *ret)
{
	static char buf[64];

	memset(buf, 'x', sizeof(buf));
	*ret = kvmexit_vm_name(cmdline, len, buf, sizeof(buf));
	return buf;
}

#define ck_name(cmd, want)                                                     \
	do {                                                                   \
		int r_;                                                        \
		const char *n_ = name_of(CMD(cmd), &r_);                       \
		ck_assert_str_eq(n_, want);                                    \
		ck_assert_int_eq(r_, (int)strlen(want));                       \
	} while (0)

#define ck_noname(cmd)                                                         \
	do {                                                                   \
		int r_;                                                        \
		const char *n_ = name_of(CMD(cmd), &r_);                       \
		ck_assert_int_eq(r_, -ENOENT);                                 \
		ck_assert_str_eq(n_, "");                                      \
	} while (0)

START_TEST(qemu_forms)
{
	ck_name("qemu-system-x86_64\0-enable-kvm\0-name\0web1\0-m\0512\0", "web1");
	ck_name("/usr/bin/qemu-system-x86_64\0-name\0guest=db2\0", "db2");
	ck_name("/usr/libexec/qemu-kvm\0-name\0db3,process=qemu:db3\0", "db3");
	ck_name("qemu-system-x86_64\0--name\0guest=dash\0", "dash");
	/* no trailing NUL (a truncated read) */
	ck_name("qemu-system-x86_64\0-name\0last", "last");
	/* Debian's kvm wrapper name */
	ck_name("kvm\0-name\0k\0", "k");
}
END_TEST

START_TEST(libvirt)
{
	ck_name("/usr/bin/qemu-system-x86_64\0-name\0guest=fedora-39,debug-threads=on\0-S\0"
		"-object\0{\"qom-type\":\"secret\"}\0-machine\0pc-q35-8.0,usb=off\0", "fedora-39");
	/* libvirt before 1.3: "-name NAME,process=qemu:NAME" */
	ck_name("/usr/bin/kvm\0-name\0old,process=qemu:old\0", "old");
}
END_TEST

START_TEST(escapes_and_suboptions)
{
	/* ",," is one ',' in a QemuOpts value */
	ck_name("qemu-system-x86_64\0-name\0guest=a,,b,debug-threads=on\0", "a,b");
	ck_name("qemu-system-x86_64\0-name\0a,,b,,,debug-threads=on\0", "a,b,");
	/* guest= anywhere among the suboptions; flags without = */
	ck_name("qemu-system-x86_64\0-name\0debug-threads=on,guest=late\0", "late");
	ck_name("qemu-system-x86_64\0-name\0process=p,guest=g=h\0", "g=h");
	/* a suboption value that holds an escaped comma does not end early */
	ck_name("qemu-system-x86_64\0-name\0process=x,,guest=no,guest=yes\0", "yes");
	/* -name merges: a later guest= wins, a later -name without one keeps it */
	ck_name("qemu-system-x86_64\0-name\0first\0-name\0guest=second\0", "second");
	ck_name("qemu-system-x86_64\0-name\0guest=kept\0-name\0debug-threads=on\0", "kept");
	/* UTF-8 and spaces are kept as they are */
	ck_name("qemu-system-x86_64\0-name\0guest=VM \xc3\xa9t\xc3\xa9\0", "VM \xc3\xa9t\xc3\xa9");
}
END_TEST

START_TEST(firecracker)
{
	ck_name("/usr/bin/firecracker\0--api-sock\0/run/fc.sock\0--id\0fc-7\0", "fc-7");
	ck_name("firecracker\0--id=fc-8\0", "fc-8");
}
END_TEST

START_TEST(no_name)
{
	ck_noname("qemu-system-x86_64\0-m\0512\0");
	ck_noname("qemu-system-x86_64\0-name\0");		/* -name without a value */
	ck_noname("qemu-system-x86_64\0-name\0guest=\0");	/* empty */
	ck_noname("qemu-system-x86_64\0-name\0debug-threads=on\0");
	/* -name only means a VM name to QEMU */
	ck_noname("kvmexit-guest\0-name\0x\0");
	ck_noname("cloud-hypervisor\0--kernel\0vmlinux\0");
	ck_noname("");
	/* --id means nothing to QEMU */
	ck_noname("qemu-system-x86_64\0--id\0x\0");
}
END_TEST

START_TEST(truncation)
{
	static const char cmd[] = "qemu-system-x86_64\0-name\0guest=abcdefgh\0";
	char buf[4] = "zzz";

	ck_assert_int_eq(kvmexit_vm_name(cmd, sizeof(cmd) - 1, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "abc");
	/* size 0: only the length */
	ck_assert_int_eq(kvmexit_vm_name(cmd, sizeof(cmd) - 1, NULL, 0), 8);
	ck_assert_int_eq(kvmexit_vm_name(NULL, 3, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(kvmexit_vm_name(cmd, sizeof(cmd) - 1, NULL, 4), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmname");
	TCase *tc = tcase_create("vmname");

	tcase_add_test(tc, qemu_forms);
	tcase_add_test(tc, libvirt);
	tcase_add_test(tc, escapes_and_suboptions);
	tcase_add_test(tc, firecracker);
	tcase_add_test(tc, no_name);
	tcase_add_test(tc, truncation);
	suite_add_tcase(s, tc);
	return check_run(s);
}
