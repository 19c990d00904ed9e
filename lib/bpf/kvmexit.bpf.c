// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel side of the BPF source (record --bpf): aggregates kvm exits in
 * per-CPU maps, with exit-handling times, so that nothing per event leaves
 * the kernel.  lib/bpf.c loads it (CO-RE, through a skeleton), attaches it,
 * and reads the maps.
 *
 *  kvm_exit:  counts the exit in its cell (process, vCPU, raw reason and the
 *             masked fields of its detail) and makes it the thread's pending
 *             exit, with its time; a pending exit still there is unpaired.
 *  kvm_entry: times the thread's pending exit (entry time - exit time) into
 *             its cell and its cell's histogram bucket, as lib/profile.c
 *             pairs them: per vCPU thread, which may change CPU in between.
 *  kvm_pio:   counts port accesses per process, direction, port and size.
 *  sched_process_fork: with a process filter (record -- COMMAND, -p), a new
 *             process of a process counted is counted too, as perf's
 *             inherit follows a command's children.
 *
 * The trace event records are read through CO-RE: the structs below match
 * the kernel's trace_event_raw_kvm_* by name (in vmlinux or kvm.ko's BTF),
 * and fields that not every kernel has (vcpu_id, intr_info before 5.13,
 * isa before 5.7) are read only when bpf_core_field_exists() says so.
 * No fixed offsets.
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

struct trace_event_raw_kvm_pio___kx {
	unsigned int rw;
	unsigned int port;
	unsigned int size;
	unsigned int count;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KX_BPF_MAX_CELLS);
	__type(key, struct kx_bpf_key);
	__type(value, struct kx_bpf_cell);
} cells SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KX_BPF_MAX_BUCKETS);
	__type(key, struct kx_bpf_hkey);
	__type(value, __u64);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KX_BPF_MAX_PIO);
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

/* A thread's pending exit; the thread's own entry, so never raced. */
struct pending {
	__u64 time;
	__u64 valid;
	struct kx_bpf_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KX_BPF_MAX_THREADS);
	__type(key, __u32);
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

SEC("tracepoint/kvm/kvm_exit")
int kx_exit(struct trace_event_raw_kvm_exit___kx *ctx)
{
	static const struct kx_bpf_cell zero = { .min = ~0ull };
	__u64 now = bpf_ktime_get_ns(), id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32, slot;
	struct pending p = { .time = now, .valid = 1 }, *old;
	struct kx_bpf_cell *c;

	if (!wanted(tgid))
		return PASS_ON;
	p.key.tgid = tgid;
	p.key.exit_reason = ctx->exit_reason;
	p.key.isa = bpf_core_field_exists(ctx->isa) ? ctx->isa : default_isa;
	p.key.vcpu = bpf_core_field_exists(ctx->vcpu_id) ? ctx->vcpu_id : ~0u;
	slot = kx_bpf_slot(p.key.isa, p.key.exit_reason);
	barrier_var(slot);	/* keep the bound check the verifier needs */
	if (slot < KX_BPF_SLOTS) {
		p.key.info1 = ctx->info1 & masks[slot].info1;
		if (bpf_core_field_exists(ctx->intr_info))
			p.key.intr_info = ctx->intr_info & masks[slot].intr_info;
	}
	stat_add(KX_BPF_ST_EXITS);
	c = lookup_or_init(&cells, &p.key, &zero);
	if (c)
		c->count++;
	old = bpf_map_lookup_elem(&pending, &tid);
	if (old) {
		if (old->valid)
			stat_add(KX_BPF_ST_UNPAIRED);
		*old = p;
	} else {
		bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	}
	return PASS_ON;
}

SEC("tracepoint/kvm/kvm_entry")
int kx_entry(void *ctx)
{
	static const struct kx_bpf_cell zero = { .min = ~0ull };
	static const __u64 zero_count = 0;
	__u64 now = bpf_ktime_get_ns(), dt, *b;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kx_bpf_hkey h = { 0 };
	struct kx_bpf_cell *c;
	struct pending *p;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p || !p->valid)
		return PASS_ON;
	p->valid = 0;
	stat_add(KX_BPF_ST_ENTRIES);
	if (now < p->time)
		return PASS_ON;		/* cannot happen on one clock; untimed if it does */
	dt = now - p->time;
	h.cell = p->key;
	h.bucket = kx_bpf_hist_index(dt);
	/* The cell may be new on this CPU: the thread moved since its exit. */
	c = lookup_or_init(&cells, &h.cell, &zero);
	if (!c)
		return PASS_ON;
	b = lookup_or_init(&buckets, &h, &zero_count);
	if (!b)
		return PASS_ON;
	*b += 1;
	c->timed++;
	c->total += dt;
	if (dt < c->min)
		c->min = dt;
	if (dt > c->max)
		c->max = dt;
	return PASS_ON;
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
