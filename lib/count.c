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
 * not counted.  SVM exit codes carry no flags.
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

int kx_count_exit_specs(uint64_t exit_tp_id, enum kvmexit_isa isa,
			struct kx_counter_spec **specs, uint32_t **reasons)
{
	size_t nr;
	const struct kvmexit_reason *table = kvmexit_reason_table(isa, &nr);

	*specs = NULL;
	*reasons = NULL;
	if (!table || !nr)
		return -EINVAL;
	*specs = calloc(nr, sizeof(**specs));
	*reasons = calloc(nr, sizeof(**reasons));
	if (!*specs || !*reasons) {
		free(*specs);
		free(*reasons);
		*specs = NULL;
		*reasons = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < nr; i++) {
		uint32_t n = table[i].code;
		char *f = (*specs)[i].filter;

		(*specs)[i].tp_id = exit_tp_id;
		(*reasons)[i] = n;
		if (isa == KVMEXIT_ISA_VMX)
			snprintf(f, sizeof((*specs)[i].filter),
				 "exit_reason == %u || exit_reason == %u || exit_reason == %u",
				 n, n | KVMEXIT_VMX_FLAG_BUS_LOCK, n | KVMEXIT_VMX_FLAG_FAILED_VMENTRY);
		else
			snprintf(f, sizeof((*specs)[i].filter), "exit_reason == %u", n);
	}
	return (int)nr;
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
