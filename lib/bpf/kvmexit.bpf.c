// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel side of the BPF source (record --bpf): aggregates kvm exits in
 * per-CPU maps, with exit-handling times, so that nothing per event leaves
 * the kernel.  lib/bpf.c loads it (CO-RE, through a skeleton), attaches it,
 * and reads the maps.
 *
 *  kvm_exit:  makes the exit the thread's pending exit, with its time and
 *             its cell's key (process, vCPU, raw reason and the masked
 *             fields of its detail); a pending exit still there is
 *             unpaired, and counted untimed in the "cells" map.
 *  kvm_entry: counts the thread's pending exit with its time (entry time -
 *             exit time) in its cell's histogram bucket, which also sums
 *             the times: one map update per exit.  Pairs as lib/profile.c
 *             does: per vCPU thread, which may change CPU in between.
 *  sched_process_exit, and an iterator over the tasks when counting stops:
 *             a pending exit that will see no entry is counted untimed.
 *             (So a live read counts an exit when its handling ends; the
 *             final read counts every exit.)
 *  kvm_pio:   counts port accesses per process, direction, port and size.
 *  sched_process_fork: with a process filter (record -- COMMAND, -p), a new
 *             process of a process counted is counted too, as perf's
 *             inherit follows a command's children.
 *
 * The cost per exit is what matters (a host watched all day), and most of
 * it is the tracepoints' own: a "tracepoint/" program runs after the
 * kernel has built the trace event's record, and then the event goes on to
 * perf; a raw tracepoint runs on the tracepoint's arguments, nothing
 * built.  So kvm_entry (only the thread and the time are needed) is a raw
 * tracepoint, and so is kvm_exit on AMD (kx_exit_svm reads the exit from
 * the VMCB, where svm_get_exit_info() reads it for the record); on Intel
 * the exit qualification is read from the VMCS only when asked for, which
 * a BPF program cannot do, so kvm_exit is read from its record there
 * (kx_exit_record).  The loader picks one of the two kvm_exit programs.
 * The pending exit is in task storage: a pointer away, no hashing.
 *
 * Kernel structures are read through CO-RE: the structs below match the
 * kernel's by name (vmlinux's or kvm.ko's / kvm-amd.ko's BTF), and fields
 * that not every kernel has (vcpu_id, intr_info before 5.13, isa before
 * 5.7) are read only when bpf_core_field_exists() says so.  No fixed
 * offsets.
 *
 * The kvm programs return 1: a tracepoint program that returns 0 hides the
 * event from every perf event on it (perf_trace_run_bpf_submit()), and a
 * perf record or a sampled kvmexit record running meanwhile must see it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "kvmexit-bpf.h"

#define PASS_ON 1		/* to other perf users of the tracepoint */

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before the program is loaded. */
const volatile bool filter_tgid = false;	/* only the processes in "targets" */
const volatile __u32 default_isa = 0;		/* kernels without kvm_exit.isa */
const volatile struct kx_bpf_mask masks[KX_BPF_SLOTS];

struct trace_event_raw_kvm_exit___kx {
	unsigned int exit_reason;
	unsigned long guest_rip;
	__u32 isa;
	__u64 info1;
	__u64 info2;
	__u32 intr_info;
	__u32 error_code;
	unsigned int vcpu_id;
} __attribute__((preserve_access_index));

/* What svm_get_exit_info() reads: the current VMCB's control area. */
struct vmcb_control_area___kx {
	__u32 exit_code;
	__u64 exit_info_1;
	__u32 exit_int_info;
} __attribute__((preserve_access_index));

struct vmcb___kx {
	struct vmcb_control_area___kx control;
} __attribute__((preserve_access_index));

struct kvm_vcpu___kx {
	int vcpu_id;
} __attribute__((preserve_access_index));

struct vcpu_svm___kx {
	struct kvm_vcpu___kx vcpu;
	struct vmcb___kx *vmcb;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_pio___kx {
	unsigned int rw;
	unsigned int port;
	unsigned int size;
	unsigned int count;
} __attribute__((preserve_access_index));

/*
 * The per-CPU hashes are not preallocated: preallocation takes every
 * entry's value on every possible CPU at load (the buckets alone 4 MiB a
 * CPU: 512 MiB on a 128-CPU host, and seconds of loading); an entry is
 * made once, at its first exit, and then only looked up.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KX_BPF_MAX_CELLS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kx_bpf_key);
	__type(value, __u64);
} cells SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KX_BPF_MAX_BUCKETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kx_bpf_hkey);
	__type(value, struct kx_bpf_times);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KX_BPF_MAX_PIO);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kx_bpf_pio_key);
	__type(value, __u64);
} pios SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KX_BPF_ST__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KX_BPF_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* A thread's pending exit; only the thread itself touches it. */
struct pending {
	__u64 time;
	__u64 valid;
	struct kx_bpf_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pending SEC(".maps");

static __always_inline void stat_add(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &i);

	if (v)
		*v += 1;
}

static __always_inline bool wanted(__u32 tgid)
{
	return !filter_tgid || bpf_map_lookup_elem(&targets, &tgid);
}

/* The value of key in a per-CPU hash, made (as init) when missing. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	/* EEXIST: another CPU made it meanwhile; then the lookup finds it. */
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		stat_add(KX_BPF_ST_FULL);
	return v;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kx_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	/* Threads share their process's tgid: only new processes are added. */
	if (!filter_tgid || tgid == ptgid || !bpf_map_lookup_elem(&targets, &ptgid))
		return 0;
	if (bpf_map_update_elem(&targets, &tgid, &one, BPF_ANY))
		stat_add(KX_BPF_ST_FULL);
	return 0;
}

/* An exit that will not be timed, counted in its cell of "cells". */
static __always_inline void count_untimed(const struct kx_bpf_key *key)
{
	static const __u64 zero_count = 0;
	__u64 *c = lookup_or_init(&cells, key, &zero_count);

	if (c)
		*c += 1;
}

/* Makes p the thread's pending exit; one still pending there is unpaired. */
static __always_inline void exit_pend(const struct pending *p)
{
	struct pending *old;

	old = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), NULL,
				   BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!old) {
		count_untimed(&p->key);
		return;
	}
	if (old->valid) {
		stat_add(KX_BPF_ST_UNPAIRED);
		count_untimed(&old->key);
	}
	*old = *p;
}

/* A task's pending exit, if any, counted untimed: it will see no entry. */
static __always_inline void flush_pending(struct task_struct *task)
{
	struct pending *p = bpf_task_storage_get(&pending, task, NULL, 0);

	if (p && p->valid) {
		p->valid = 0;
		count_untimed(&p->key);
	}
}

/* The masked detail fields of p->key, for its reason's slot. */
static __always_inline void exit_mask(struct pending *p, __u64 info1, __u32 intr_info)
{
	__u32 slot = kx_bpf_slot(p->key.isa, p->key.exit_reason);

	barrier_var(slot);	/* keep the bound check the verifier needs */
	if (slot < KX_BPF_SLOTS) {
		p->key.info1 = info1 & masks[slot].info1;
		p->key.intr_info = intr_info & masks[slot].intr_info;
	}
}

/* kvm_exit from its trace event record (Intel; anywhere as a fallback). */
SEC("tracepoint/kvm/kvm_exit")
int kx_exit_record(struct trace_event_raw_kvm_exit___kx *ctx)
{
	__u64 now = bpf_ktime_get_ns(), id = bpf_get_current_pid_tgid();
	struct pending p = { .time = now, .valid = 1 };
	__u32 tgid = id >> 32;

	if (!wanted(tgid))
		return PASS_ON;
	p.key.tgid = tgid;
	p.key.exit_reason = ctx->exit_reason;
	p.key.isa = bpf_core_field_exists(ctx->isa) ? ctx->isa : default_isa;
	p.key.vcpu = bpf_core_field_exists(ctx->vcpu_id) ? ctx->vcpu_id : ~0u;
	exit_mask(&p, ctx->info1,
		  bpf_core_field_exists(ctx->intr_info) ? ctx->intr_info : 0);
	exit_pend(&p);
	return PASS_ON;
}

/* The VMCB's exit fields, in one read when they lie as the hardware has them. */
struct vmcb_exit {
	__u32 exit_code;
	__u32 exit_code_hi;
	__u64 exit_info_1;
	__u64 exit_info_2;
	__u32 exit_int_info;
};

/*
 * kvm_exit on AMD, raw: trace_kvm_exit(vcpu, isa) in svm_handle_exit();
 * the fields are those svm_get_exit_info() gives the record.  The vCPU is
 * read directly (its type is the tracepoint's); the VMCB, beyond it, with
 * two probe reads.
 */
SEC("tp_btf/kvm_exit")
int BPF_PROG(kx_exit_svm, struct kvm_vcpu___kx *vcpu, __u32 isa)
{
	__u64 now = bpf_ktime_get_ns(), id = bpf_get_current_pid_tgid();
	struct pending p = { .time = now, .valid = 1 };
	__u32 tgid = id >> 32, code, info1, intr;
	struct vcpu_svm___kx *svm;
	struct vmcb___kx *vmcb;
	struct vmcb_exit e;

	if (!wanted(tgid))
		return 0;
	svm = (void *)vcpu - bpf_core_field_offset(struct vcpu_svm___kx, vcpu);
	if (bpf_probe_read_kernel(&vmcb, sizeof(vmcb), &svm->vmcb))
		goto unread;
	code = bpf_core_field_offset(struct vmcb___kx, control.exit_code);
	info1 = bpf_core_field_offset(struct vmcb___kx, control.exit_info_1);
	intr = bpf_core_field_offset(struct vmcb___kx, control.exit_int_info);
	if (info1 == code + offsetof(struct vmcb_exit, exit_info_1) &&
	    intr == code + offsetof(struct vmcb_exit, exit_int_info)) {
		if (bpf_probe_read_kernel(&e, sizeof(e), (void *)vmcb + code))
			goto unread;
	} else {
		e.exit_code = BPF_CORE_READ(vmcb, control.exit_code);
		e.exit_info_1 = BPF_CORE_READ(vmcb, control.exit_info_1);
		e.exit_int_info = BPF_CORE_READ(vmcb, control.exit_int_info);
	}
	p.key.tgid = tgid;
	p.key.isa = isa;
	p.key.vcpu = vcpu->vcpu_id;
	p.key.exit_reason = e.exit_code;
	exit_mask(&p, e.exit_info_1, e.exit_int_info);
	exit_pend(&p);
	return 0;
unread:
	/* Not counted; and the next entry is not the pending exit's. */
	stat_add(KX_BPF_ST_FULL);
	flush_pending(bpf_get_current_task_btf());
	return 0;
}

/*
 * kvm_entry, raw (its arguments vary by kernel and are not read): the
 * thread's pending exit is counted, with its time, in its cell's bucket.
 */
SEC("raw_tp/kvm_entry")
int kx_entry(void *ctx)
{
	static const struct kx_bpf_times zero = { .min = ~0ull };
	__u64 now = bpf_ktime_get_ns(), dt;
	struct kx_bpf_hkey h = { 0 };
	struct kx_bpf_times *t;
	struct pending *p;

	p = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), NULL, 0);
	if (!p || !p->valid)
		return 0;
	p->valid = 0;
	if (now < p->time) {	/* cannot happen on one clock; untimed if it does */
		count_untimed(&p->key);
		return 0;
	}
	dt = now - p->time;
	h.cell = p->key;
	h.bucket = kx_bpf_hist_index(dt);
	t = lookup_or_init(&buckets, &h, &zero);
	if (!t) {
		count_untimed(&p->key);
		return 0;
	}
	t->count++;
	t->total += dt;
	if (dt < t->min)
		t->min = dt;
	if (dt > t->max)
		t->max = dt;
	return 0;
}

/* A thread that exits with an exit pending: that exit sees no entry. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(kx_thread_exit, struct task_struct *task)
{
	flush_pending(bpf_get_current_task_btf());
	return 0;
}

/*
 * Run once when counting stops (lib/bpf.c, kx_bpf_detach()), over every
 * task: the exits still being handled then are counted, untimed, as a
 * sampled recording counts an exit whose entry it did not see.
 */
SEC("iter/task")
int kx_flush(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task)
		flush_pending(task);
	return 0;
}

SEC("tracepoint/kvm/kvm_pio")
int kx_pio(struct trace_event_raw_kvm_pio___kx *ctx)
{
	static const __u64 zero_count = 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct kx_bpf_pio_key k = { .tgid = tgid };
	__u64 *v;

	if (!wanted(tgid))
		return PASS_ON;
	k.rw = ctx->rw;
	k.port = ctx->port;
	k.size = ctx->size;
	stat_add(KX_BPF_ST_PIO);
	v = lookup_or_init(&pios, &k, &zero_count);
	if (v)
		*v += 1;
	return PASS_ON;
}
