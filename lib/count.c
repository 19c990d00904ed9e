// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counting mode: one kernel counter per exit reason and CPU, each a
 * kvm:kvm_exit event with a tracepoint filter on exit_reason, as kvm_stat
 * does.  Nothing goes through a ring buffer, so nothing is lost and the
 * guest pays only for the filter.
 *
 * The filter language has no "(x & mask) == n", so for VMX a reason's
 * filter also names the exit_reason values with the flags KVM sets (bus
 * lock, failed VM entry); exits with other flags (enclave mode, SMI) are
 * not counted.  SVM exit codes carry no flags.  On VMX, #PF intercepts and
 * CR3 accesses are counted apart from the rest of their reason (by the
 * interruption information and the exit qualification), so that a counted
 * capture tells shadow paging's exits as exactly as a sampled one.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

struct kx_counter_set {
	size_t nr_specs, nr_cpus;
	int fds[];			/* [spec][cpu] */
};

/*
 * The VMX parts that the diff's shadow-paging sentence needs exactly.  The
 * detail keys are kvmexit_exit_detail()'s (lib/reason.c), so counted and
 * sampled captures compare row for row.  The filters test the raw fields:
 *   #PF: intr_info valid, hardware exception, error code valid, vector 14,
 *        with or without bit 12 (NMI unblocking due to IRET);
 *   CR_ACCESS qualification bits 5:0: 0x03 mov-to-cr3, 0x13 mov-from-cr3
 *        (bits 11:8 name the register, any).
 * The rest of each reason gets the key "other".
 */
#define PF_INTR_INFO	"(intr_info == 0x80000b0e || intr_info == 0x80001b0e)"
#define CR3_TO_QUAL	"(info1 & 1 && info1 & 2 && !(info1 & 0x3c))"
#define CR3_FROM_QUAL	"(info1 & 1 && info1 & 2 && info1 & 0x10 && !(info1 & 0x2c))"
#define CR3_ANY_QUAL	"(info1 & 1 && info1 & 2 && !(info1 & 0x2c))"
#define KEY_VALID	(1u << 16)
#define KEY_OTHER	(KEY_VALID | 1u << 18)

static const struct vmx_part {
	uint32_t reason, detail;
	const char *filter;
} vmx_parts[] = {
	{ 0, KEY_VALID | 3u << 8 | 14, PF_INTR_INFO },
	{ 0, KEY_OTHER, "!" PF_INTR_INFO },
	{ 28, KEY_VALID | 0x03, CR3_TO_QUAL },
	{ 28, KEY_VALID | 0x13, CR3_FROM_QUAL },
	{ 28, KEY_OTHER, "!" CR3_ANY_QUAL },
};

/* A VMX reason with the flags KVM sets: the filter language has no masks. */
static void vmx_reason_filter(char *f, size_t size, uint32_t n, const char *part)
{
	if (part)
		snprintf(f, size, "(exit_reason == %u || exit_reason == %u || "
			 "exit_reason == %u) && %s", n, n | KVMEXIT_VMX_FLAG_BUS_LOCK,
			 n | KVMEXIT_VMX_FLAG_FAILED_VMENTRY, part);
	else
		snprintf(f, size, "exit_reason == %u || exit_reason == %u || exit_reason == %u",
			 n, n | KVMEXIT_VMX_FLAG_BUS_LOCK, n | KVMEXIT_VMX_FLAG_FAILED_VMENTRY);
}

int kx_count_exit_specs(uint64_t exit_tp_id, enum kvmexit_isa isa,
			struct kx_counter_spec **specs, struct kx_count_key **keys)
{
	size_t nr, max, k = 0;
	const struct kvmexit_reason *table = kvmexit_reason_table(isa, &nr);
	size_t nr_parts = sizeof(vmx_parts) / sizeof(vmx_parts[0]);

	*specs = NULL;
	*keys = NULL;
	if (!table || !nr)
		return -EINVAL;
	max = nr + (isa == KVMEXIT_ISA_VMX ? nr_parts : 0);
	*specs = calloc(max, sizeof(**specs));
	*keys = calloc(max, sizeof(**keys));
	if (!*specs || !*keys) {
		free(*specs);
		free(*keys);
		*specs = NULL;
		*keys = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < nr; i++) {
		uint32_t n = table[i].code;
		bool split = false;

		if (isa == KVMEXIT_ISA_VMX) {
			for (size_t p = 0; p < nr_parts; p++) {
				if (vmx_parts[p].reason != n)
					continue;
				split = true;
				(*specs)[k].tp_id = exit_tp_id;
				vmx_reason_filter((*specs)[k].filter, sizeof((*specs)[k].filter), n,
						  vmx_parts[p].filter);
				(*keys)[k++] = (struct kx_count_key){ n, vmx_parts[p].detail };
			}
		}
		if (split)
			continue;
		(*specs)[k].tp_id = exit_tp_id;
		if (isa == KVMEXIT_ISA_VMX)
			vmx_reason_filter((*specs)[k].filter, sizeof((*specs)[k].filter), n, NULL);
		else
			snprintf((*specs)[k].filter, sizeof((*specs)[k].filter),
				 "exit_reason == %u", n);
		(*keys)[k++] = (struct kx_count_key){ n, 0 };
	}
	return (int)k;
}

static int counter_open(const struct kx_counter_spec *spec, int cpu, int pid, bool on_exec,
			char *errmsg)
{
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = PERF_TYPE_TRACEPOINT,
		.config = spec->tp_id,
		.disabled = 1,
		.inherit = pid >= 0,
		.enable_on_exec = on_exec,
	};
	int fd = (int)syscall(SYS_perf_event_open, &a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0) {
		int err = -errno;

		if (err == -EACCES || err == -EPERM)
			return kx_error(errmsg, err, "opening counters: permission denied: run as "
					"root or lower /proc/sys/kernel/perf_event_paranoid (now %d), "
					"or grant CAP_PERFMON", kx_perf_paranoid("/"));
		if (err == -EMFILE)
			return kx_error(errmsg, err, "opening counters: too many open files: "
					"raise the limit (ulimit -n)");
		return kx_error(errmsg, err, "opening a counter on cpu %d: %s", cpu,
				strerror(-err));
	}
	if (spec->filter[0] && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, spec->filter) < 0) {
		int err = -errno;

		close(fd);
		return kx_error(errmsg, err, "the kernel refused the tracepoint filter \"%s\": %s",
				spec->filter, strerror(-err));
	}
	return fd;
}

int kx_counter_set_open(const struct kx_counter_spec *specs, size_t nr_specs,
			const int *cpus, size_t nr_cpus, int pid, bool on_exec,
			struct kx_counter_set **out, char *errmsg)
{
	struct kx_counter_set *set;
	size_t n = nr_specs * nr_cpus;

	*out = NULL;
	set = malloc(sizeof(*set) + n * sizeof(set->fds[0]));
	if (!set)
		return -ENOMEM;
	set->nr_specs = nr_specs;
	set->nr_cpus = nr_cpus;
	for (size_t i = 0; i < n; i++)
		set->fds[i] = -1;
	for (size_t i = 0; i < nr_specs; i++) {
		for (size_t c = 0; c < nr_cpus; c++) {
			int fd = counter_open(&specs[i], cpus[c], pid, on_exec, errmsg);

			if (fd < 0) {
				kx_counter_set_free(set);
				return fd;
			}
			set->fds[i * nr_cpus + c] = fd;
		}
	}
	*out = set;
	return 0;
}

static int set_ioctl(struct kx_counter_set *set, unsigned long req)
{
	int err = 0;

	for (size_t i = 0; i < set->nr_specs * set->nr_cpus; i++)
		if (ioctl(set->fds[i], req, 0) < 0 && !err)
			err = -errno;
	return err;
}

int kx_counter_set_enable(struct kx_counter_set *set)
{
	return set_ioctl(set, PERF_EVENT_IOC_ENABLE);
}

int kx_counter_set_disable(struct kx_counter_set *set)
{
	return set_ioctl(set, PERF_EVENT_IOC_DISABLE);
}

int kx_counter_set_read(const struct kx_counter_set *set, size_t i, size_t c, uint64_t *value)
{
	ssize_t n;

	if (i >= set->nr_specs || c >= set->nr_cpus)
		return -EINVAL;
	n = read(set->fds[i * set->nr_cpus + c], value, sizeof(*value));
	if (n < 0)
		return -errno;
	return n == sizeof(*value) ? 0 : -EIO;
}

void kx_counter_set_free(struct kx_counter_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->nr_specs * set->nr_cpus; i++)
		if (set->fds[i] >= 0)
			close(set->fds[i]);
	free(set);
}
