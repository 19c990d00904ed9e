/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the BPF program (lib/bpf/kvmexit.bpf.c, in the kernel) and its loader
 * (lib/bpf.c) share: map keys and values, limits, and the two functions both
 * sides must compute alike.  Plain C: the BPF side gets the __u32/__u64
 * types from vmlinux.h, the user side from <linux/types.h>.
 */
#ifndef KVMEXIT_BPF_H
#define KVMEXIT_BPF_H

/* Map sizes: cells and histogram buckets of every VM of a large host. */
#define KX_BPF_MAX_CELLS	16384
#define KX_BPF_MAX_BUCKETS	(1u << 17)
#define KX_BPF_MAX_PIO		4096
#define KX_BPF_MAX_TARGETS	4096

/*
 * One aggregation cell: the exits of one process, vCPU and raw exit_reason,
 * with the fields that decide the exit's detail key (lib/reason.c) masked
 * to the bits it reads (kx_exit_detail_masks()).  User space turns the
 * masked fields into the detail key.  Zero padding: keys are compared as
 * bytes.
 */
struct kx_bpf_key {
	__u32 tgid;
	__u32 vcpu;			/* (u32)-1: the kernel's kvm_exit has no vcpu_id */
	__u32 isa;
	__u32 exit_reason;		/* raw (VMX flags included) */
	__u64 info1;			/* masked */
	__u32 intr_info;		/* masked */
	__u32 pad;
};

/*
 * A cell's exits paired with their kvm_entry are counted, with their
 * exit-handling times, in the cell's histogram buckets, each keeping its
 * times' count, sum and range: one map update per exit.  The cell's timed,
 * total, min and max are the sums and extremes over its buckets.  Its
 * untimed exits (no entry seen) are counted in the "cells" map, a __u64
 * per key; its count is the two together.
 */
struct kx_bpf_times {
	__u64 count;
	__u64 total, min, max;		/* ns; min ~0 while count is 0 */
};

/* One histogram bucket of a cell (bucket: kx_hist_index() of the time). */
struct kx_bpf_hkey {
	struct kx_bpf_key cell;
	__u32 bucket;
	__u32 pad;
};

/* kvm_pio events of one process, direction, port and size. */
struct kx_bpf_pio_key {
	__u32 tgid;
	__u32 rw;			/* 1: out (the kernel's KVM_PIO_OUT) */
	__u32 port;
	__u32 size;
};

/* The bits of info1 and intr_info a reason's detail key reads. */
struct kx_bpf_mask {
	__u64 info1;
	__u32 intr_info;
	__u32 pad;
};

/*
 * Per-CPU counters of the program itself (the "stats" array).  The exits
 * and entries counted are the cells' counts and timed: no counter of their
 * own, one update less per event.
 */
enum {
	KX_BPF_ST_UNPAIRED = 0,		/* exits followed by another exit: untimed */
	KX_BPF_ST_FULL,			/* events not counted: a map was full, or
					 * a kernel structure could not be read */
	KX_BPF_ST_PIO,			/* kvm_pio events counted */
	KX_BPF_ST__MAX,
};

/*
 * Mask slots, by reason: VMX basic reasons below 128; SVM codes below
 * 0x100 at 128 + code, and 0x400..0x40f (npf, AVIC, VMGEXIT) at 384 + ...
 * Other reasons have no detail: KX_BPF_SLOTS.
 */
#define KX_BPF_SLOTS		400

static inline __u32 kx_bpf_slot(__u32 isa, __u32 exit_reason)
{
	if (isa == 1) {
		__u32 basic = exit_reason & 0xffff;

		return basic < 128 ? basic : KX_BPF_SLOTS;
	}
	if (isa == 2) {
		if (exit_reason < 0x100)
			return 128 + exit_reason;
		if (exit_reason >= 0x400 && exit_reason < 0x410)
			return 384 + (exit_reason - 0x400);
	}
	return KX_BPF_SLOTS;
}

/*
 * The log-linear histogram's bucket of a duration, exactly as
 * kx_hist_index() in lib/internal.h (tests/test-bpf.c checks every bucket
 * boundary): values below 32 are exact, then 32 buckets per power of two,
 * and everything from 2^44 ns in the last.  BPF has no count-leading-zeros
 * instruction, hence the binary search for the top bit.
 */
#define KX_BPF_HIST_SUB_BITS	5
#define KX_BPF_HIST_SUB		(1u << KX_BPF_HIST_SUB_BITS)
#define KX_BPF_HIST_MAX_SHIFT	44
#define KX_BPF_HIST_BUCKETS	((KX_BPF_HIST_MAX_SHIFT - KX_BPF_HIST_SUB_BITS + 1) * KX_BPF_HIST_SUB)

static inline __u32 kx_bpf_hist_index(__u64 v)
{
	__u32 e = 0;
	__u64 x = v;

	if (v < KX_BPF_HIST_SUB)
		return (__u32)v;
	if (x >> 32) { e += 32; x >>= 32; }
	if (x >> 16) { e += 16; x >>= 16; }
	if (x >> 8) { e += 8; x >>= 8; }
	if (x >> 4) { e += 4; x >>= 4; }
	if (x >> 2) { e += 2; x >>= 2; }
	if (x >> 1) { e += 1; }
	if (e >= KX_BPF_HIST_MAX_SHIFT)
		return KX_BPF_HIST_BUCKETS - 1;
	return ((e - KX_BPF_HIST_SUB_BITS) << KX_BPF_HIST_SUB_BITS) +
	       (__u32)(v >> (e - KX_BPF_HIST_SUB_BITS));
}

#endif /* KVMEXIT_BPF_H */
