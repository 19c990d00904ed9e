// SPDX-License-Identifier: GPL-2.0-only
/*
 * Names: VM names in the metadata (escapes, round trip), thread names in
 * profiles (last wins, VM name fallbacks, vCPU threads), the --vm filter
 * (rows and totals of one VM, restarts under one name), names across a
 * merge of part profiles, and the recorder's /proc reading on a fixture.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-skip.h"
#include "internal.h"

START_TEST(meta_vm_round_trip)
{
	struct kvmexit_meta m = { 0 }, back = { 0 };
	char *text;
	size_t len;

	ck_assert_int_eq(kx_meta_set_vm(&m, 4242, "web1"), 0);
	ck_assert_int_eq(kx_meta_set_vm(&m, 4343, "a\nb%c=d\x7f"), 0);
	ck_assert_int_eq(kx_meta_set_vm(&m, 4242, "web2"), 0);	/* replaces */
	ck_assert_uint_eq(m.nr_vms, 2);
	ck_assert_int_eq(kx_meta_encode(&m, NULL, &text, &len), 0);
	/* one line each, newline and '%' escaped */
	ck_assert_ptr_nonnull(strstr(text, "\nvm.4242=web2\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nvm.4343=a%0Ab%25c=d%7F\n"));
	ck_assert_int_eq(kx_meta_decode(text, len, &back, NULL), 0);
	ck_assert_str_eq(kvmexit_meta_vm_name(&back, 4242), "web2");
	ck_assert_str_eq(kvmexit_meta_vm_name(&back, 4343), "a\nb%c=d\x7f");
	ck_assert_ptr_null(kvmexit_meta_vm_name(&back, 1));
	free(text);
}
END_TEST

START_TEST(meta_vm_bad)
{
	static const char *const bad[] = {
		"kvmexit-meta 1\nvm.12=a%2\n",		/* cut escape */
		"kvmexit-meta 1\nvm.12=a%zz\n",		/* not hex */
		"kvmexit-meta 1\nvm.12=a%00\n",		/* NUL */
		"kvmexit-meta 1\nvm.x=a\n",		/* pid */
		"kvmexit-meta 1\nvm.99999999999=a\n",
	};
	struct kvmexit_meta m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&m, 0, sizeof(m));
		ck_assert_int_eq(kx_meta_decode(bad[i], strlen(bad[i]), &m, NULL),
				 -KVMEXIT_EFORMAT);
	}
	/* a full table keeps the first KVMEXIT_META_MAX_VMS */
	memset(&m, 0, sizeof(m));
	for (int i = 0; i < KVMEXIT_META_MAX_VMS; i++)
		ck_assert_int_eq(kx_meta_set_vm(&m, i, "v"), 0);
	ck_assert_int_eq(kx_meta_set_vm(&m, 100000, "v"), -ENOSPC);
	/* names are truncated to the field */
	ck_assert_int_eq(kx_meta_set_vm(&m, 5, "0123456789012345678901234567890123456789"
					      "0123456789012345678901234567890123456789"), 0);
	ck_assert_uint_eq(strlen(kvmexit_meta_vm_name(&m, 5)), sizeof(m.vms[0].name) - 1);
}
END_TEST

static void add_exit(struct kvmexit_profile *p, uint64_t t, int32_t pid, int32_t tid,
		     uint32_t vcpu, uint32_t reason)
{
	struct kvmexit_event ev = {
		.type = KVMEXIT_EV_EXIT, .time = t, .pid = pid, .tid = tid, .vcpu = vcpu,
		.exit = { .isa = KVMEXIT_ISA_VMX, .exit_reason = reason },
	};

	ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
	ev.type = KVMEXIT_EV_ENTRY;
	ev.time = t + 100 * (uint64_t)(pid - 99);
	ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
}

static void add_comm(struct kvmexit_profile *p, int32_t pid, int32_t tid, const char *comm)
{
	struct kvmexit_event ev = { .type = KX_EV_COMM, .time = 0, .pid = pid, .tid = tid };

	strncpy(kx_event_comm(&ev), comm, 16);
	ck_assert_int_eq(kvmexit_profile_add_event(p, &ev), 0);
}

/* Three VMM processes: 100 "web" (restarted as 300), 200 "db". */
static struct kvmexit_profile *three_vmms(const char *vm)
{
	struct kvmexit_profile_opts o = { .sz = sizeof(o), .vm_name = vm };
	struct kvmexit_meta m = { 0 };
	struct kvmexit_profile *p;

	ck_assert_int_eq(kvmexit_profile_new(&o, &p), 0);
	kx_meta_set_vm(&m, 100, "web");
	kx_meta_set_vm(&m, 300, "web");
	kvmexit_profile_set_meta(p, &m);
	add_comm(p, 100, 100, "qemu-system-x86");
	add_comm(p, 100, 101, "qemu-system-x86");
	add_comm(p, 100, 101, "CPU 0/KVM");		/* renamed: last wins */
	add_comm(p, 200, 200, "db");			/* no VM name: comm */
	add_comm(p, 200, 201, "CPU 0/KVM");
	add_comm(p, 200, 202, "CPU 1/KVM");
	for (int i = 0; i < 10; i++)
		add_exit(p, 1000 + 1000 * i, 100, 101, 0, 48);	/* EPT_VIOLATION */
	for (int i = 0; i < 5; i++) {
		add_exit(p, 1500 + 1000 * i, 200, 201, 0, 12);	/* HLT */
		add_exit(p, 1600 + 1000 * i, 200, 202, 1, 12);
	}
	for (int i = 0; i < 3; i++)
		add_exit(p, 20000 + 1000 * i, 300, 301, 0, 48);
	return p;
}

START_TEST(profile_names)
{
	struct kvmexit_profile *p = three_vmms(NULL);
	struct kvmexit_profile_totals t;

	ck_assert_str_eq(kvmexit_profile_comm(p, 100), "qemu-system-x86");
	ck_assert_str_eq(kvmexit_profile_comm(p, 101), "CPU 0/KVM");
	ck_assert_ptr_null(kvmexit_profile_comm(p, 301));
	ck_assert_str_eq(kvmexit_profile_vm_name(p, 100), "web");
	ck_assert_str_eq(kvmexit_profile_vm_name(p, 200), "db");
	ck_assert_str_eq(kvmexit_profile_vm_name(p, 300), "web");
	ck_assert_ptr_null(kvmexit_profile_vm_name(p, 400));
	ck_assert_str_eq(kvmexit_profile_vcpu_name(p, 100, 0), "CPU 0/KVM");
	ck_assert_str_eq(kvmexit_profile_vcpu_name(p, 200, 1), "CPU 1/KVM");
	ck_assert_ptr_null(kvmexit_profile_vcpu_name(p, 300, 0));	/* unnamed thread */
	ck_assert_ptr_null(kvmexit_profile_vcpu_name(p, 200, 7));
	/* names are not events: totals and times are those of the exits */
	kvmexit_profile_totals(p, &t);
	ck_assert_uint_eq(t.events, 46);
	ck_assert_uint_eq(t.exits, 23);
	ck_assert_uint_eq(t.first_ns, 1000);
	ck_assert_uint_eq(t.last_ns, 22000 + 20100);
	ck_assert_int_eq(kvmexit_profile_set_comm(p, 300, 301, "a-name-longer-than-15"), 0);
	ck_assert_str_eq(kvmexit_profile_comm(p, 301), "a-name-longer-t");
	ck_assert_int_eq(kvmexit_profile_set_comm(p, 1, 1, NULL), -EINVAL);
	kvmexit_profile_free(p);
}
END_TEST

START_TEST(vm_filter)
{
	struct kvmexit_profile *p = three_vmms("web");
	struct kvmexit_profile_totals t;
	struct kvmexit_stat *rows;
	int n;

	kvmexit_profile_totals(p, &t);
	ck_assert_uint_eq(t.exits, 13);			/* 10 of pid 100, 3 of 300 */
	ck_assert_uint_eq(t.timed, 13);
	ck_assert_uint_eq(t.time_total_ns, 10 * 100 + 3 * 20100);
	ck_assert_uint_eq(t.nr_pids, 2);
	ck_assert_uint_eq(t.nr_vcpus, 2);
	n = kvmexit_profile_stats(p, KVMEXIT_GROUP_PID, &rows);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(rows[0].pid, 100);
	ck_assert_uint_eq(rows[0].count, 10);
	ck_assert_uint_eq(rows[0].time_total, 1000);
	ck_assert_int_eq(rows[1].pid, 300);
	ck_assert_uint_eq(rows[1].count, 3);
	ck_assert_uint_eq(rows[1].time_max, 20100);
	kvmexit_stats_free(rows);
	kvmexit_profile_free(p);

	p = three_vmms("db");
	n = kvmexit_profile_stats(p, KVMEXIT_GROUP_VCPU, &rows);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(rows[0].count + rows[1].count, 10);
	ck_assert_uint_eq(rows[0].time_total, 5 * 10100);
	kvmexit_stats_free(rows);
	kvmexit_profile_free(p);

	p = three_vmms("nosuch");
	kvmexit_profile_totals(p, &t);
	ck_assert_uint_eq(t.exits, 0);
	ck_assert_uint_eq(t.nr_pids, 0);
	ck_assert_int_eq(kvmexit_profile_stats(p, KVMEXIT_GROUP_REASON, &rows), 0);
	kvmexit_stats_free(rows);
	kvmexit_profile_free(p);
}
END_TEST

START_TEST(merge_names)
{
	struct kvmexit_profile *a, *b;

	ck_assert_int_eq(kvmexit_profile_new(NULL, &a), 0);
	ck_assert_int_eq(kvmexit_profile_new(NULL, &b), 0);
	kx_profile_set_part(b);
	add_comm(a, 100, 101, "qemu-system-x86");
	add_comm(b, 100, 101, "CPU 0/KVM");
	add_comm(b, 100, 102, "CPU 1/KVM");
	ck_assert_int_eq(kx_profile_merge(a, b), 0);
	ck_assert_str_eq(kvmexit_profile_comm(a, 101), "CPU 0/KVM");	/* the later part's */
	ck_assert_str_eq(kvmexit_profile_comm(a, 102), "CPU 1/KVM");
	kvmexit_profile_free(a);
	kvmexit_profile_free(b);
}
END_TEST

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* The recorder's /proc reading, on a fixture root: the VM name, once. */
START_TEST(recorder_proc)
{
	static const char cmdline[] = "/usr/bin/qemu-system-x86_64\0-name\0"
				      "guest=web,,1,debug-threads=on\0-m\0512\0";
	char root[] = "/tmp/kvmexit-names.XXXXXX", dir[600];
	struct kx_rec_comm_ctx ctx = { 0 };
	struct kx_rec_names n = { 0 };
	struct kvmexit_meta m = { 0 };

	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/proc", root);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/proc/4242", root);
	mkdir(dir, 0700);
	put_file(dir, "cmdline", cmdline, sizeof(cmdline) - 1);
	ck_assert(!kx_rec_names_known(&n, 4242));
	ck_assert_int_eq(kx_rec_name_process(&n, root, 4242, &ctx, &m, NULL), 0);
	ck_assert(kx_rec_names_known(&n, 4242));
	ck_assert_str_eq(kvmexit_meta_vm_name(&m, 4242), "web,1");
	/* a process gone (no /proc entry) is known, without a VM name */
	ck_assert_int_eq(kx_rec_name_process(&n, root, 17, &ctx, &m, NULL), 0);
	ck_assert(kx_rec_names_known(&n, 17));
	ck_assert(kx_rec_names_known(&n, 4242));
	ck_assert(!kx_rec_names_known(&n, 18));
	ck_assert_uint_eq(m.nr_vms, 1);
	kx_rec_names_release(&n);
	snprintf(dir, sizeof(dir), "rm -rf '%s'", root);
	ck_assert_int_eq(system(dir), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, meta_vm_round_trip);
	tcase_add_test(tc, meta_vm_bad);
	tcase_add_test(tc, profile_names);
	tcase_add_test(tc, vm_filter);
	tcase_add_test(tc, merge_names);
	tcase_add_test(tc, recorder_proc);
	suite_add_tcase(s, tc);
	return check_run(s);
}
