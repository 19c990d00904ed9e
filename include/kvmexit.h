/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libkvmexit - record, decode, report and compare KVM VM exits.
 *
 * This is the library's only public header.  Conventions, everywhere:
 *  - objects are opaque and named object-then-verb: kvmexit_<object>_<verb>();
 *  - functions returning int return 0 (or a count) on success and a negative
 *    errno on failure; errors in input files use the KVMEXIT_E* codes below,
 *    which kvmexit_strerror() turns into text;
 *  - every object that reads outside input keeps a human-readable message of
 *    its last error (what failed, where, and what to do): *_errmsg();
 *  - everything returned by a _new() or _open() function is released by the
 *    matching _free() or _close(); the library keeps no global state and
 *    never prints.
 */
#ifndef KVMEXIT_H
#define KVMEXIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KVMEXIT_API __attribute__((visibility("default")))

/* Error codes beyond errno, for malformed input.  Returned negated. */
enum kvmexit_error {
	KVMEXIT_ERRNO_BASE = 4000,
	KVMEXIT_EFORMAT = KVMEXIT_ERRNO_BASE, /* malformed or hostile input */
	KVMEXIT_ETRUNC,			      /* input ends too early */
	KVMEXIT_ENOEVENTS,		      /* no kvm events in the input */
	KVMEXIT_EMISMATCH,		      /* inputs cannot be compared */
	KVMEXIT_ERRNO_END,
};

/* Text for a negative return value of this library (or of errno). */
KVMEXIT_API const char *kvmexit_strerror(int err);

/* ------------------------------------------------------------------ */
/* Exit reasons (lib/reason.c): pure tables and decoders, no I/O.      */
/* ------------------------------------------------------------------ */

/* The kvm_exit tracepoint's `isa` field: 1 = VMX, 2 = SVM. */
enum kvmexit_isa {
	KVMEXIT_ISA_UNKNOWN = 0,
	KVMEXIT_ISA_VMX = 1,
	KVMEXIT_ISA_SVM = 2,
};

enum kvmexit_category {
	KVMEXIT_CAT_OTHER = 0,
	KVMEXIT_CAT_PAGING,	  /* page faults, EPT/NPF, INVLPG, INVPCID */
	KVMEXIT_CAT_IO,		  /* port and MMIO access */
	KVMEXIT_CAT_INTERRUPT,	  /* external interrupts, NMI/IRQ windows, APIC */
	KVMEXIT_CAT_INSTRUCTION,  /* intercepted instructions: CPUID, HLT, RDTSC... */
	KVMEXIT_CAT_MSR,	  /* RDMSR/WRMSR */
	KVMEXIT_CAT_CR_DR,	  /* control and debug register access */
	KVMEXIT_CAT_EXCEPTION,	  /* exception intercepts other than #PF */
	KVMEXIT_CAT_VIRT,	  /* virtualization instructions: VMX, SVM, VMCALL */
	KVMEXIT_CAT__MAX,
};

struct kvmexit_reason {
	uint32_t code;			/* VMX basic reason, or SVM exit code */
	const char *name;		/* the kernel's own spelling (kvm_exit) */
	const char *description;	/* one line */
	enum kvmexit_category category;
	bool linux_names;		/* true: kvm_exit prints this name (6.1..6.18);
					 * false: SDM/APM/GHCB code it does not */
};

/* Human name of the ISA ("VMX", "SVM") and of a category ("paging", ...). */
KVMEXIT_API const char *kvmexit_isa_name(enum kvmexit_isa isa);
KVMEXIT_API const char *kvmexit_category_name(enum kvmexit_category cat);

/*
 * The whole table for @isa, sorted by code; *count receives its length.
 * Returns NULL (and *count = 0) for an unknown ISA.
 */
KVMEXIT_API const struct kvmexit_reason *
kvmexit_reason_table(enum kvmexit_isa isa, size_t *count);

/*
 * The entry for @code (for VMX: the basic reason, bits 15:0; flag bits are
 * ignored), or NULL when the code is not in the table.
 */
KVMEXIT_API const struct kvmexit_reason *
kvmexit_reason_lookup(enum kvmexit_isa isa, uint32_t code);

/*
 * Writes the reason's name for a raw exit_reason into @buf: the kernel's
 * name, or "UNKNOWN(0x%x)" for a code no table lists.  For VMX only the basic
 * reason is named; see kvmexit_vmx_flags_str() for the flags.
 * Returns the length it wanted (as snprintf), or -EINVAL.
 */
KVMEXIT_API int kvmexit_reason_name(enum kvmexit_isa isa, uint32_t exit_reason,
				    char *buf, size_t size);

/*
 * Parses a reason given as a kernel name (case-insensitive), as a number
 * (decimal or 0x hex), or as UNKNOWN(0xNN).  Returns 0 or -EINVAL.
 */
KVMEXIT_API int kvmexit_reason_parse(enum kvmexit_isa isa, const char *text,
				     uint32_t *code);

/* VMX exit_reason is 32 bits: basic reason in 15:0, flags above. */
#define KVMEXIT_VMX_BASIC_MASK		0x0000ffffu
#define KVMEXIT_VMX_FLAG_BUS_LOCK	(1u << 26)
#define KVMEXIT_VMX_FLAG_ENCLAVE	(1u << 27)
#define KVMEXIT_VMX_FLAG_SMI_PENDING_MTF (1u << 28)
#define KVMEXIT_VMX_FLAG_SMI_FROM_VMX_ROOT (1u << 29)
#define KVMEXIT_VMX_FLAG_FAILED_VMENTRY	(1u << 31)

static inline uint32_t kvmexit_vmx_basic(uint32_t exit_reason)
{
	return exit_reason & KVMEXIT_VMX_BASIC_MASK;
}

static inline uint32_t kvmexit_vmx_flags(uint32_t exit_reason)
{
	return exit_reason & ~KVMEXIT_VMX_BASIC_MASK;
}

/*
 * Names the flag bits of a VMX exit_reason, highest first, space separated:
 * FAILED_VMENTRY (bit 31, the kernel's spelling), SMI_FROM_VMX_ROOT (29),
 * SMI_PENDING_MTF (28), ENCLAVE_MODE (27), BUS_LOCK_DETECTED (26); other
 * set bits follow as one "0x%x".  E.g. "FAILED_VMENTRY BUS_LOCK_DETECTED".
 * Empty string when there are none.  Returns the length it wanted, as
 * snprintf.
 */
KVMEXIT_API int kvmexit_vmx_flags_str(uint32_t exit_reason, char *buf,
				      size_t size);

/* ------------------------------------------------------------------ */
/* Events: what every source (live rings, perf.data) decodes into.     */
/* ------------------------------------------------------------------ */

enum kvmexit_event_type {
	KVMEXIT_EV_EXIT = 0,		/* kvm:kvm_exit */
	KVMEXIT_EV_ENTRY,		/* kvm:kvm_entry */
	KVMEXIT_EV_USERSPACE_EXIT,	/* kvm:kvm_userspace_exit */
	KVMEXIT_EV_PIO,			/* kvm:kvm_pio */
	KVMEXIT_EV_MMIO,		/* kvm:kvm_mmio */
	KVMEXIT_EV_MSR,			/* kvm:kvm_msr */
	KVMEXIT_EV_LOST,		/* the kernel dropped records here */
	KVMEXIT_EV__MAX,
};

/*
 * The decoded kvm_exit fields. Absent fields (older kernels) read as 0.
 * As the kernel fills them (vmx_get_exit_info(), svm_get_exit_info()):
 *   VMX: info1 = exit qualification, info2 = IDT-vectoring information,
 *        intr_info = VM-exit interruption information, error_code = its
 *        error code.  After a failed VM entry all but info1 are 0.  There is
 *        no guest-physical address (EPT violations): see kvm_page_fault.
 *   SVM: info1 = EXITINFO1, info2 = EXITINFO2 (the GPA for npf),
 *        intr_info = EXITINTINFO (the event being delivered at the exit),
 *        error_code = its error code.
 */
struct kvmexit_exit {
	enum kvmexit_isa isa;
	uint32_t exit_reason;		/* raw: VMX basic | flags, or SVM code */
	uint64_t guest_rip;
	uint64_t info1;
	uint64_t info2;
	uint32_t intr_info;
	uint32_t error_code;
};

struct kvmexit_event {
	enum kvmexit_event_type type;
	uint64_t time;			/* ns, perf clock */
	int32_t pid, tid;		/* VMM process and vCPU thread */
	uint32_t cpu;
	uint32_t vcpu;			/* vcpu_id where the event has it */
	union {
		struct kvmexit_exit exit;
		struct {
			uint64_t rip;
		} entry;
		struct {
			uint32_t reason;	/* KVM_EXIT_* */
			int32_t error;		/* negative errno, or 0 */
		} userspace_exit;
		struct {
			uint32_t rw, port, size, count, val;
		} pio;
		struct {
			uint32_t type, len;
			uint64_t gpa, val;
		} mmio;
		struct {
			uint32_t write, ecx;
			uint64_t data;
			uint8_t exception;
		} msr;
		struct {
			uint64_t count;		/* records lost */
		} lost;
	};
};

/*
 * Exit details.  A detail refines a reason, e.g. EXCEPTION_NMI/#PF or
 * CR_ACCESS/mov-to-cr3.  kvmexit_exit_detail() computes a small key that is
 * stable across captures (so it can be aggregated and compared); the key's
 * encoding is per reason and private, 0 means "no detail".
 * kvmexit_detail_name() names a key ("#PF", "mov-to-cr3", "out:0x3f8").
 *
 * Keys (encodings in lib/reason.c):
 *  VMX EXCEPTION_NMI   vector and type from intr_info: #PF, #UD, NMI,
 *                      #DB(icebp), vectorN ...
 *  VMX CR_ACCESS       exit qualification: mov-to-crN, mov-from-crN, clts, lmsw
 *  VMX DR_ACCESS       exit qualification: mov-to-drN, mov-from-drN
 *  VMX IO_INSTRUCTION  in/out and port: in:0x70, out:0x3f8
 *  VMX EPT_VIOLATION   access: read, write, fetch (+ "-notpresent")
 *  SVM npf, PF excp    error code: read, write, fetch (+ "-notpresent",
 *                      + "-rsvd" for reserved-bit faults, KVM's MMIO path)
 *  SVM io              in/out and port, as for VMX (same keys)
 *  SVM msr             rdmsr, wrmsr
 *  VMX EXCEPTION_NMI,  other: the rest of the reason, in counting captures
 *  VMX CR_ACCESS       (kvmexit record --count counts #PF and mov-to-cr3 and
 *                      mov-from-cr3 apart from it)
 * kvmexit_detail_name() prints a key no decoder makes as "0x%x".
 */
KVMEXIT_API uint32_t kvmexit_exit_detail(const struct kvmexit_exit *exit);

/*
 * The category of an exit with a detail key: the reason's own category,
 * except that page-fault intercepts (VMX EXCEPTION_NMI/#PF, SVM PF excp)
 * and CR3 reads and writes (VMX CR_ACCESS mov-to/from-cr3, SVM
 * read_cr3/write_cr3) count as paging: KVM takes them for shadow paging.
 * Reports and diffs group by this, so both put an exit in the same place.
 */
KVMEXIT_API enum kvmexit_category kvmexit_detail_category(enum kvmexit_isa isa,
							  uint32_t exit_reason,
							  uint32_t detail);
KVMEXIT_API int kvmexit_detail_name(enum kvmexit_isa isa, uint32_t exit_reason,
				    uint32_t detail, char *buf, size_t size);

/*
 * Full text of one exit's details, for listings: e.g. for VMX IO_INSTRUCTION
 * "out port 0x3f8 size 1 rep string", for EPT_VIOLATION
 * "write perms r-x gla-valid final", for CR_ACCESS "mov-to-cr3 from rax",
 * for EXCEPTION_NMI "#PF error 0x4 addr 0x7f0000001000", for SVM npf
 * "write-notpresent gpa 0xfee00000 user final".  Empty when the reason has
 * no details.  Returns the length it wanted (as snprintf), or -EINVAL.
 */
KVMEXIT_API int kvmexit_exit_describe(const struct kvmexit_exit *exit,
				      char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Capture metadata (lib/meta.c): what was recorded, where, and how.   */
/* ------------------------------------------------------------------ */

#define KVMEXIT_META_MAX_PARAMS 48

struct kvmexit_meta_param {
	char name[48];			/* e.g. "ept", "npt", "nested" */
	char value[48];			/* as /sys/module/.../parameters shows */
};

#define KVMEXIT_META_MAX_VMS 128

struct kvmexit_meta_vm {
	int32_t pid;			/* the VMM process */
	char name[60];			/* its VM name, truncated; untrusted text */
};

/*
 * Plain data, copied freely.  Fields a capture does not carry are empty
 * strings or 0; stock perf captures carry only what perf's own feature
 * sections say (hostname, osrelease, arch, cpuid, nr_cpus, cmdline).
 */
struct kvmexit_meta {
	char hostname[65];
	char osrelease[65];		/* kernel release of the host */
	char arch[16];
	char cpuid[128];		/* perf's CPUID feature: "AuthenticAMD,25,1,1" */
	char cpu_desc[128];		/* model name */
	char cmdline[512];		/* the recording command line */
	char vendor[16];		/* "GenuineIntel", "AuthenticAMD" */
	char kvm_module[16];		/* "kvm_intel", "kvm_amd", "" */
	enum kvmexit_isa isa;		/* from the vendor when samples lack isa */
	uint32_t nr_cpus;
	uint64_t start_ns, end_ns;	/* perf clock; 0 when unknown */
	uint64_t start_epoch_ns;	/* wall clock at start; 0 when unknown */
	uint64_t lost;			/* records the kernel dropped */
	bool has_kvmexit;		/* the capture carries kvmexit's own section */
	bool counts_only;		/* a --count capture: counts, no samples */
	size_t nr_params;
	struct kvmexit_meta_param params[KVMEXIT_META_MAX_PARAMS];
	/*
	 * The VM names of the recorded VMM processes (kvmexit record stores
	 * kvmexit_vm_name() of each one's command line), in the order seen;
	 * processes without a VM name on their command line are not listed.
	 */
	size_t nr_vms;
	struct kvmexit_meta_vm vms[KVMEXIT_META_MAX_VMS];
	/*
	 * Reading: samples whose id no attr of the capture has, skipped
	 * (not counted anywhere else); known once the capture is walked.
	 */
	uint64_t unknown_id_samples;
};

/* The VM name stored for process @pid, or NULL. */
KVMEXIT_API const char *kvmexit_meta_vm_name(const struct kvmexit_meta *meta,
					     int32_t pid);

/* The value of a kvm module parameter ("Y", "1", ...), or NULL. */
KVMEXIT_API const char *kvmexit_meta_param(const struct kvmexit_meta *meta,
					   const char *name);

/*
 * Whether two-dimensional paging (ept for kvm_intel, npt for kvm_amd) was
 * on: 1 on, 0 off (shadow paging), -1 unknown.
 */
KVMEXIT_API int kvmexit_meta_tdp(const struct kvmexit_meta *meta);

/* ------------------------------------------------------------------ */
/* VM names (lib/vmname.c): pure, no I/O.                              */
/* ------------------------------------------------------------------ */

/*
 * The name operators know a VM by, from its VMM's command line as
 * /proc/PID/cmdline holds it (@len bytes, arguments separated by NULs).
 * QEMU (argv[0] qemu*, or kvm): the guest of "-name guest=NAME,..." or
 * "-name NAME,..." (",," is one ','; a later guest= wins), which is also
 * libvirt's domain name; Firecracker: "--id ID".  Writes the name into @buf
 * (truncated to @size, NUL-terminated) and returns its full length, as
 * snprintf; -ENOENT when the command line names no VM (use the process's
 * comm), -EINVAL for a NULL @cmdline.  The name is untrusted text: it may
 * hold any byte but NUL.
 */
KVMEXIT_API int kvmexit_vm_name(const char *cmdline, size_t len, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Reading captures (lib/perfdata-read.c, lib/tracedata.c,             */
/* lib/format.c): perf.data in file or pipe mode, ours or stock perf's. */
/* ------------------------------------------------------------------ */

struct kvmexit_capture;

/* Return non-zero to stop the walk; that value is returned. */
typedef int (*kvmexit_event_fn)(const struct kvmexit_event *ev, void *arg);

/*
 * Opens a capture: a perf.data file, or "-" for standard input (pipe mode
 * is detected from the magic either way).  On failure returns a negative
 * error and, if @errbuf is not NULL, a message saying what was wrong and
 * where (an offset) into it.
 */
KVMEXIT_API int kvmexit_capture_open(const char *path,
				     struct kvmexit_capture **out,
				     char *errbuf, size_t errlen);

/*
 * Calls @fn for every kvm event in time order (ordered within each round,
 * as perf does; memory bounded by a round) and for every lost-records
 * record.  Can be called once per open capture.
 */
KVMEXIT_API int kvmexit_capture_for_each(struct kvmexit_capture *cap,
					 kvmexit_event_fn fn, void *arg);

/*
 * What the capture says about itself.  For pipe-mode input, complete only
 * after kvmexit_capture_for_each() has returned.
 */
KVMEXIT_API const struct kvmexit_meta *
kvmexit_capture_meta(const struct kvmexit_capture *cap);

/* Counts carried by a --count capture (meta->counts_only). */
struct kvmexit_count {
	enum kvmexit_isa isa;
	uint32_t exit_reason;
	int32_t cpu;			/* -1: all CPUs */
	uint64_t count;
};
KVMEXIT_API size_t kvmexit_capture_counts(const struct kvmexit_capture *cap,
					  const struct kvmexit_count **counts);

/* The message of the capture's last error (what, where, what to do), or "". */
KVMEXIT_API const char *kvmexit_capture_errmsg(const struct kvmexit_capture *cap);
/* Closes the input and frees the capture; NULL is allowed. */
KVMEXIT_API void kvmexit_capture_close(struct kvmexit_capture *cap);

/* ------------------------------------------------------------------ */
/* Profiles (lib/profile.c): aggregated exits of one capture.          */
/* ------------------------------------------------------------------ */

struct kvmexit_profile;

/*
 * Filters and options.  NULL, or a zeroed struct with sz set, means the
 * defaults: no filter, no RIPs.  Each filter is off unless its has_* flag
 * is set.  Filters apply to exits (and to the entries that time them);
 * exit-handling times are paired before filtering, so a filter never
 * misattributes a time.
 */
struct kvmexit_profile_opts {
	size_t sz;			/* sizeof(struct kvmexit_profile_opts) */
	bool has_pid;			/* only the VMM process: */
	int32_t pid;			/*   this pid (>= 0) */
	bool has_vcpu;			/* only the vCPU: */
	int32_t vcpu;			/*   this vcpu_id (>= 0) */
	bool has_reason;		/* only this reason: */
	enum kvmexit_isa reason_isa;	/*   (UNKNOWN: the code in any ISA) */
	uint32_t reason;		/*   VMX basic reason or SVM code */
	uint32_t top_rips;		/* guest RIPs kept per reason; 0: none */
	/*
	 * Only this reason, by name or number as kvmexit_reason_parse() takes
	 * it, resolved in each exit's own ISA (so "hlt" is VMX HLT or SVM hlt);
	 * NULL: none.  Overrides has_reason.  Copied by kvmexit_profile_new().
	 */
	const char *reason_name;
	/*
	 * Threads kvmexit_profile_load() may use for a file-mode capture,
	 * each reading a part of it (the profile is the same): 0, as many as
	 * the CPUs the process may run on, 8 at most, with parts of 64 MiB at
	 * least; 1, one.  Not used with top_rips.
	 */
	uint32_t threads;
	/*
	 * Only the VM of this name, as kvmexit_profile_vm_name() names its
	 * process (every process of that name: a VM restarted during the
	 * capture stays one VM); NULL: none.  Names may come late in a
	 * capture, so this applies when rows and totals are asked for: to
	 * exits, timed exits and times, vCPUs and processes; the counts kept
	 * as events come (events, entries, unpaired, dropped pairs, other
	 * events) stay those of all processes.  Copied by
	 * kvmexit_profile_new().
	 */
	const char *vm_name;
	/*
	 * Also aggregate port, MMIO and MSR accesses (kvm_pio, kvm_mmio,
	 * kvm_msr) for kvmexit_profile_accesses().  Reads the capture on one
	 * thread.
	 */
	bool accesses;
};

/*
 * An empty profile.  Returns 0, -EINVAL (opts->sz below sizeof(size_t), or
 * has_pid/has_vcpu with a negative id) or -ENOMEM.
 */
KVMEXIT_API int kvmexit_profile_new(const struct kvmexit_profile_opts *opts,
				    struct kvmexit_profile **out);
/* Frees a profile; NULL is allowed. */
KVMEXIT_API void kvmexit_profile_free(struct kvmexit_profile *prof);

/* Feeds one event (any type); events must come in time order per thread. */
KVMEXIT_API int kvmexit_profile_add_event(struct kvmexit_profile *prof,
					  const struct kvmexit_event *ev);

/*
 * Adds counted exits without times (count tables, --count captures).
 * KVMEXIT_ISA_UNKNOWN means the meta's ISA.  -EOPNOTSUPP when the profile
 * filters on a pid or vCPU (counts have neither), -EINVAL for a bad ISA.
 */
KVMEXIT_API int kvmexit_profile_add_count(struct kvmexit_profile *prof,
					  enum kvmexit_isa isa,
					  uint32_t exit_reason, uint32_t detail,
					  uint64_t count);

/* Sets (copies) and gets the metadata that goes with the exits. */
KVMEXIT_API void kvmexit_profile_set_meta(struct kvmexit_profile *prof,
					  const struct kvmexit_meta *meta);
KVMEXIT_API const struct kvmexit_meta *
kvmexit_profile_meta(const struct kvmexit_profile *prof);

/*
 * Loads a whole input into a new profile: a perf.data capture (ours or
 * perf's, file or pipe mode, or a --count capture) or a count table
 * (see kvmexit-capture(5)); the kind is detected from the content.
 */
KVMEXIT_API int kvmexit_profile_load(const char *path,
				     const struct kvmexit_profile_opts *opts,
				     struct kvmexit_profile **out,
				     char *errbuf, size_t errlen);

struct kvmexit_profile_totals {
	uint64_t events;		/* events fed (lost records aside), before filters */
	uint64_t exits;			/* kvm_exit events counted (after filters) */
	uint64_t entries;		/* kvm_entry events seen (after pid and vCPU
					 * filters; with a reason filter, those
					 * that follow a kept exit) */
	uint64_t timed;			/* exits paired with their kvm_entry */
	uint64_t dropped_pairs;		/* pairs dropped across lost records */
	uint64_t unpaired;		/* exits followed by another exit, untimed */
	uint64_t lost;			/* records lost: of lost records, else the meta's */
	uint64_t other_events;		/* pio, mmio, msr, userspace exits; with a
					 * vCPU or reason filter, those while a
					 * kept exit awaits its entry */
	uint64_t time_total_ns;		/* sum of exit-handling times */
	uint64_t first_ns, last_ns;	/* event times seen */
	uint64_t duration_ns;		/* the span rates are taken over, see
					 * kvmexit_profile_rate_span(); 0: unknown */
	uint32_t nr_vcpus, nr_pids;
	enum kvmexit_isa isa;		/* KVMEXIT_ISA_UNKNOWN when mixed/none */
};
/* Fills *out with the profile's totals. */
KVMEXIT_API void kvmexit_profile_totals(const struct kvmexit_profile *prof,
					struct kvmexit_profile_totals *out);

/*
 * Retiring processes (VMs that are gone), so that a profile fed for months
 * stays bounded.  Retiring @pid folds its cells into the cells of one
 * reserved owner, KVMEXIT_PID_RETIRED (vCPU -1), one per (ISA, reason,
 * detail): counts, times, extremes and histograms add up there, so no
 * total, no per-reason or per-detail row and no histogram goes down.  The
 * pid's own cells, its threads (and any exit still pending on them:
 * counted, never timed), its thread names and, for a --bpf profile, its
 * kvm_pio counts are freed or folded too.  What the profile holds is then
 * bounded by the distinct (reason, detail) keys, not by the processes
 * retired.  Exits of @pid fed later (a reused pid) start afresh.  Rows by
 * pid or vCPU show the retired owner as pid KVMEXIT_PID_RETIRED (vcpu -1);
 * kvmexit_profile_totals() counts it in neither nr_pids nor nr_vcpus, and
 * a profile filtered on a VM name (opts.vm_name) leaves it out.  Deltas
 * between a snapshot taken before and one after (kvmexit_delta_new())
 * stay exact.  Returns the number of cells @pid had (0: nothing to
 * retire), -EINVAL (a negative pid, or a part of a parallel read) or
 * -ENOMEM (then nothing is retired).
 */
#define KVMEXIT_PID_RETIRED (-2)
KVMEXIT_API int kvmexit_profile_retire_pid(struct kvmexit_profile *prof, int32_t pid);
/*
 * The aggregation cells a profile holds (one per ISA, reason, detail,
 * process and vCPU seen, and per retired key), for watching its memory:
 * each takes about a hundred bytes plus its histogram (2 KB per power of
 * two of times it saw).
 */
KVMEXIT_API size_t kvmexit_profile_nr_cells(const struct kvmexit_profile *prof);

/*
 * What rates per second are taken over: one definition for every input.
 *  EXIT_SPAN  a sampled capture (ours or stock perf's, file or pipe): the
 *             span of its kvm_exit events, first to last, before filters
 *             (so a filtered row has the rate it has unfiltered); needs two
 *             exits at different times.  A count table with "# exit_span:"
 *             (as kvmexit_counts_table_write() writes one) has it too.
 *  WINDOW     an input without per-exit times (a --count capture, a count
 *             table with "# duration:"): its declared recording window.
 *  UNKNOWN    neither: no rates.
 * Rates of two profiles mean the same only on the same basis.
 */
enum kvmexit_rate_basis {
	KVMEXIT_RATE_UNKNOWN = 0,
	KVMEXIT_RATE_EXIT_SPAN,
	KVMEXIT_RATE_WINDOW,
	KVMEXIT_RATE__MAX,
};

struct kvmexit_rate_span {
	size_t sz;			/* sizeof(struct kvmexit_rate_span) */
	enum kvmexit_rate_basis basis;
	uint64_t span_ns;		/* rates are count / span; 0 with UNKNOWN */
	uint64_t first_exit_ns;		/* the first and last kvm_exit event */
	uint64_t last_exit_ns;		/*   times, before filters; 0: none */
	/*
	 * The recording window, where the input records one (kvmexit's own
	 * captures, --count captures, count tables with "# duration:"); 0
	 * when it does not (stock perf's captures keep only their first and
	 * last sample times).  Shown beside the span; rates never use it
	 * when the exits have times.
	 */
	uint64_t window_ns;
};

/*
 * Fills the first out->sz bytes of *out (callers set sz) with the span
 * rates are taken over.  Returns 0, or -EINVAL (NULL, or sz too small).
 */
KVMEXIT_API int kvmexit_profile_rate_span(const struct kvmexit_profile *prof,
					  struct kvmexit_rate_span *out);

/* A basis in words: "exit span", "recording window", "unknown". */
KVMEXIT_API const char *kvmexit_rate_basis_name(enum kvmexit_rate_basis basis);

enum kvmexit_group {
	KVMEXIT_GROUP_REASON = 0,	/* one row per exit reason */
	KVMEXIT_GROUP_DETAIL,		/* per reason and detail key */
	KVMEXIT_GROUP_VCPU,		/* per VMM pid, vCPU id and reason */
	KVMEXIT_GROUP_PID,		/* per VMM pid and reason */
	KVMEXIT_GROUP_CATEGORY,		/* per category (reason = category) */
};

/* One aggregated row.  Times in ns; time fields are 0 when timed == 0. */
struct kvmexit_stat {
	enum kvmexit_isa isa;
	uint32_t reason;		/* basic reason (VMX) or code (SVM) */
	uint32_t detail;		/* KVMEXIT_GROUP_DETAIL; else 0 */
	int32_t vcpu;			/* KVMEXIT_GROUP_VCPU; else -1 */
	int32_t pid;			/* KVMEXIT_GROUP_PID and _VCPU; else -1 */
	uint64_t count;
	uint64_t timed;
	uint64_t time_total, time_min, time_max, time_p50, time_p99;
	/*
	 * The mean of the timed exits (time_total / timed, rounded down) and
	 * the spread of their times: the population standard deviation,
	 * rounded to the ns (the variance is summed exactly).  perf kvm stat's
	 * "+-N%" is another figure: the standard error of the mean (sample
	 * variance / count, square root) as a percentage of the mean.
	 */
	uint64_t time_avg, time_stddev;
};

/*
 * Rows of one grouping, most frequent first (ties in key order), in a new
 * array that the caller releases with kvmexit_stats_free().  Returns the
 * number of rows or a negative error.  Counted exits without a pid or vCPU
 * (kvmexit_profile_add_count()) have pid and vcpu -1 in those groupings.
 * KVMEXIT_GROUP_CATEGORY rows have reason = the enum kvmexit_category.
 * time_p50 and time_p99 come from a log-linear histogram: the midpoint of
 * the bucket holding the nearest-rank percentile, clamped to [min, max]
 * and within 1.6% of the exact value; the other times are exact.
 */
KVMEXIT_API int kvmexit_profile_stats(const struct kvmexit_profile *prof,
				      enum kvmexit_group group,
				      struct kvmexit_stat **rows);
/* Frees the rows of kvmexit_profile_stats(); NULL is allowed. */
KVMEXIT_API void kvmexit_stats_free(struct kvmexit_stat *rows);

/*
 * Names.  A profile keeps the name (comm) of every thread the capture
 * names: PERF_RECORD_COMM records (stock perf and kvmexit record write
 * them), or kvmexit_profile_set_comm().  The last name of a thread wins.
 * All names are untrusted text from the capture: escape them for display.
 */

/* Sets thread @tid's (of process @pid) name; 0, -EINVAL or -ENOMEM. */
KVMEXIT_API int kvmexit_profile_set_comm(struct kvmexit_profile *prof, int32_t pid,
					 int32_t tid, const char *comm);
/* The name of thread @tid (a process's is its main thread's, tid = pid), or NULL. */
KVMEXIT_API const char *kvmexit_profile_comm(const struct kvmexit_profile *prof,
					     int32_t tid);
/*
 * The name of the VM whose VMM is process @pid: the meta's VM name
 * (kvmexit_meta_vm_name()), else the process's comm, else NULL.
 */
KVMEXIT_API const char *kvmexit_profile_vm_name(const struct kvmexit_profile *prof,
						int32_t pid);
/*
 * The name of the thread that ran vCPU @vcpu of process @pid (QEMU names
 * them "CPU 0/KVM"), or NULL.  Of several threads, the last seen.
 */
KVMEXIT_API const char *kvmexit_profile_vcpu_name(const struct kvmexit_profile *prof,
						  int32_t pid, int32_t vcpu);

/*
 * Port, MMIO and MSR accesses, as perf kvm stat report --event=ioport,
 * mmio or msr shows them: per port, guest-physical address or MSR, and
 * direction.  Times follow perf's rules (kvmexit_profile(3)): an access
 * runs from its kvm_pio, kvm_msr or kvm_mmio write (or, for MMIO reads,
 * the kvm_exit before) to the next kvm_entry of its thread (MMIO reads: to
 * their kvm_mmio read), so timed equals perf's "Samples" and the times
 * are perf's.  count is every access, timed or not (perf shows only the
 * timed ones: none in a capture without kvm_entry).
 */
enum kvmexit_access_kind {
	KVMEXIT_ACCESS_IOPORT = 0,
	KVMEXIT_ACCESS_MMIO,
	KVMEXIT_ACCESS_MSR,
	KVMEXIT_ACCESS__MAX,
};

struct kvmexit_access_stat {
	enum kvmexit_access_kind kind;
	uint64_t key;			/* port, guest-physical address or MSR index */
	bool write;			/* out, write, wrmsr */
	uint64_t count;			/* accesses */
	uint64_t timed;			/* of them timed: perf's samples */
	uint64_t time_total, time_min, time_max;	/* ns, 0 when none timed */
	double time_stddev;		/* sample standard deviation, ns */
};

/*
 * The accesses of one kind, most timed first (then most counted, then by
 * key), in a new array freed with kvmexit_access_stats_free().  Returns
 * the number of rows, -EINVAL for a bad kind, -ENOMEM.  Empty unless the
 * profile was made with opts.accesses.
 */
KVMEXIT_API int kvmexit_profile_accesses(const struct kvmexit_profile *prof,
					 enum kvmexit_access_kind kind,
					 struct kvmexit_access_stat **rows);
/* Frees the rows of kvmexit_profile_accesses(); NULL is allowed. */
KVMEXIT_API void kvmexit_access_stats_free(struct kvmexit_access_stat *rows);

struct kvmexit_rip {
	uint64_t rip;
	uint64_t count;
};
/*
 * The most frequent guest RIPs of one reason (isa, basic reason or code),
 * most frequent first; returns how many (<= max).  A profile keeps exact
 * counts for the first 4096 distinct RIPs of each reason; exits at other
 * RIPs only count towards the reason (their count minus the sum of all
 * RIPs' counts is "other").  Needs opts.top_rips > 0.
 */
KVMEXIT_API size_t kvmexit_profile_top_rips(const struct kvmexit_profile *prof,
					    enum kvmexit_isa isa, uint32_t reason,
					    struct kvmexit_rip *out, size_t max);

/* ------------------------------------------------------------------ */
/* Guest symbols (lib/symbols.c): guest RIP -> function+offset.        */
/* ------------------------------------------------------------------ */

struct kvmexit_symbols;

/* A guest vmlinux or other ELF (read with libelf), or a kallsyms text file. */
KVMEXIT_API int kvmexit_symbols_open(const char *path,
				     struct kvmexit_symbols **out,
				     char *errbuf, size_t errlen);
/*
 * Writes "func+0x1a" into buf; returns the length it wanted (as snprintf),
 * or -ENOENT when no symbol contains @addr.
 */
KVMEXIT_API int kvmexit_symbols_lookup(const struct kvmexit_symbols *syms,
				       uint64_t addr, char *buf, size_t size);
/* Frees a symbol table; NULL is allowed. */
KVMEXIT_API void kvmexit_symbols_free(struct kvmexit_symbols *syms);

/* ------------------------------------------------------------------ */
/* Comparing profiles (lib/diff.c).                                    */
/* ------------------------------------------------------------------ */

/*
 * A comparison of two profiles, A (the baseline) and B.  It is computed
 * once by kvmexit_diff_new() and then read: rows, a summary, warnings.
 * Everything is O(rows); neither profile is changed or kept referenced.
 */
struct kvmexit_diff;

/*
 * Normalisation: B's counts are multiplied by scale = unit(A) / unit(B)
 * before deltas and ratios, so B is expressed in A's unit of work:
 *   NONE      scale = 1 (raw counts)
 *   DURATION  unit = capture duration (both must be known)
 *   TOTAL     unit = all exits of the profile (compares shares)
 *   REASON    unit = exits of one reason (norm_isa/norm_reason), e.g. CPUID
 *             or IO_INSTRUCTION when both runs did the same work
 */
enum kvmexit_diff_norm {
	KVMEXIT_DIFF_NORM_NONE = 0,
	KVMEXIT_DIFF_NORM_DURATION,
	KVMEXIT_DIFF_NORM_TOTAL,
	KVMEXIT_DIFF_NORM_REASON,
};

enum kvmexit_diff_sort {
	KVMEXIT_DIFF_SORT_DELTA = 0,	/* |delta|, largest first */
	KVMEXIT_DIFF_SORT_RATIO,	/* |log ratio|, new and gone first */
	KVMEXIT_DIFF_SORT_RATE,		/* |rate B - rate A| (else as DELTA) */
	KVMEXIT_DIFF_SORT_TIME,		/* |handling time B (scaled) - A| */
	KVMEXIT_DIFF_SORT_NAME,		/* reason name, then detail */
};

struct kvmexit_diff_opts {
	size_t sz;			/* sizeof(struct kvmexit_diff_opts) */
	enum kvmexit_group group;	/* REASON, DETAIL or CATEGORY */
	enum kvmexit_diff_norm normalize;
	enum kvmexit_isa norm_isa;	/* REASON: UNKNOWN = the profiles' ISA */
	uint32_t norm_reason;
	enum kvmexit_diff_sort sort;
	uint64_t min_count;		/* hide rows where both counts < this */
	size_t top;			/* keep the first N rows; 0: all */
	double alpha;			/* significance level; 0: 0.01 */
};

enum kvmexit_diff_change {
	KVMEXIT_DIFF_SAME = 0,		/* equal after scaling */
	KVMEXIT_DIFF_UP,
	KVMEXIT_DIFF_DOWN,
	KVMEXIT_DIFF_NEW,		/* count_a == 0 */
	KVMEXIT_DIFF_GONE,		/* count_b == 0 */
};

/*
 * One compared row.  For KVMEXIT_GROUP_CATEGORY rows, isa is UNKNOWN,
 * reason is the category and detail 0.  Shares are fractions (0..1).
 */
struct kvmexit_diff_row {
	enum kvmexit_isa isa;
	uint32_t reason;
	uint32_t detail;
	enum kvmexit_category category;
	enum kvmexit_diff_change change;
	uint64_t count_a, count_b;
	double scaled_b;		/* count_b * scale */
	double delta;			/* scaled_b - count_a */
	double ratio;			/* scaled_b / count_a; 0 when NEW */
	double share_a, share_b;	/* of all exits of A, of B */
	bool has_rate;			/* both rate spans known, same basis */
	double rate_a, rate_b;		/* exits per second */
	bool has_time_a, has_time_b;	/* timed exits (kvm_entry) in the row */
	double avg_ns_a, avg_ns_b;	/* mean exit-handling time */
	double p_value;			/* two-sided, see kvmexit_diff_new() */
	bool significant;		/* p_value < alpha */
	double change_share;		/* delta / summary's total delta */
};

/* One of the rows that carry most of the change. */
struct kvmexit_diff_contrib {
	enum kvmexit_isa isa;
	uint32_t reason;
	uint32_t detail;
	double delta;
	double change_share;		/* delta / total delta (signed) */
};

struct kvmexit_diff_category {
	uint64_t count_a, count_b;
	double scaled_b, delta;
	double p_value;			/* the same test as the rows' */
	bool significant;
};

/*
 * The shadow-paging signature.  Counts are per side; *_b_scaled are B's
 * after normalisation.  pf counts #PF intercepts (VMX EXCEPTION_NMI whose
 * detail is #PF, or all of EXCEPTION_NMI when pf_exact is false because
 * the input has no details; SVM "PF excp"); cr3 counts CR3 reads and writes
 * (VMX CR_ACCESS mov-to-cr3 and mov-from-cr3, or all of CR_ACCESS when
 * cr3_exact is false; SVM read_cr3 and write_cr3); tdp_faults counts EPT_VIOLATION + EPT_MISCONFIG or SVM npf.
 */
struct kvmexit_diff_paging {
	/*
	 * 'B' when B shows the signature against A: B has significantly more
	 * #PF, CR3, INVLPG and INVPCID exits (scaled) and no tdp faults while
	 * A has significantly more; 'A' for the reverse; 0 when neither, or
	 * when the change is within Poisson noise.  The exits decide, not the
	 * metadata: a KVMEXIT_DIFF_W_MISLABELLED warning says when the side's
	 * ept/npt parameter disagrees.
	 */
	char shadow_side;
	bool pf_exact, cr3_exact;
	uint64_t pf_a, pf_b, cr3_a, cr3_b, invlpg_a, invlpg_b;
	uint64_t invpcid_a, invpcid_b, tdp_faults_a, tdp_faults_b;
	double pf_delta, cr3_delta, invlpg_delta, invpcid_delta, tdp_faults_delta;
	/* Each change against Poisson noise, as rows are (p < alpha). */
	bool pf_significant, cr3_significant, invlpg_significant;
	bool invpcid_significant, tdp_faults_significant;
};

#define KVMEXIT_DIFF_TOP_MAX 5

struct kvmexit_diff_summary {
	enum kvmexit_group group;	/* CATEGORY when the ISAs differ */
	enum kvmexit_diff_norm normalize;
	double scale;			/* B's counts are multiplied by this */
	double alpha;
	uint64_t total_a, total_b;	/* exits */
	double total_b_scaled, total_delta;
	double total_ratio;		/* total_b_scaled / total_a; 0 if A empty */
	double total_p_value;
	bool total_significant;
	double duration_a, duration_b;	/* rate spans, seconds; 0 when unknown */
	enum kvmexit_isa isa_a, isa_b;
	int tdp_a, tdp_b;		/* kvmexit_meta_tdp() of each */
	size_t nr_rows;			/* all rows, before min_count and top */
	size_t nr_top;			/* the largest |delta| rows, at most */
	struct kvmexit_diff_contrib top[KVMEXIT_DIFF_TOP_MAX];
	/* By category; #PF intercepts and CR3 accesses count as paging. */
	struct kvmexit_diff_category categories[KVMEXIT_CAT__MAX];
	struct kvmexit_diff_paging paging;
	/*
	 * What rates are over on each side (kvmexit_profile_rate_span());
	 * has_rates when both are known and on the same basis: else rows
	 * have no rates and a KVMEXIT_DIFF_W_RATE_BASIS warning says why.
	 */
	enum kvmexit_rate_basis basis_a, basis_b;
	bool has_rates;
	double window_a, window_b;	/* recording windows, seconds; 0 unknown */
	size_t nr_significant;		/* rows whose change is significant */
};

enum kvmexit_diff_warning_code {
	KVMEXIT_DIFF_W_TDP_FAULTS = 1,	/* EPT_VIOLATION/npf with ept/npt off */
	KVMEXIT_DIFF_W_SHADOW_EXITS,	/* INVLPG/CR3 exits with ept/npt on */
	KVMEXIT_DIFF_W_VENDOR,		/* VMX vs SVM: compared by category */
	KVMEXIT_DIFF_W_KERNEL,		/* different host kernels */
	KVMEXIT_DIFF_W_LOST,		/* the kernel dropped records */
	KVMEXIT_DIFF_W_NO_TIMES,	/* no kvm_entry events: no times */
	KVMEXIT_DIFF_W_NO_DURATION,	/* duration unknown: no rates */
	KVMEXIT_DIFF_W_EMPTY,		/* no exits at all */
	KVMEXIT_DIFF_W_RATE_BASIS,	/* rates over different or unknown spans */
	KVMEXIT_DIFF_W_MISLABELLED,	/* the exits' paging mode is not the meta's */
};

struct kvmexit_diff_warning {
	enum kvmexit_diff_warning_code code;
	char side;			/* 'A', 'B', or 0 for both */
	enum kvmexit_isa isa;		/* the reason's, where one is named */
	uint32_t reason;
	uint64_t count;			/* exits or records concerned */
	char message[256];		/* the same in English, one line */
};

/*
 * Compares @a (baseline) and @b.  @opts may be NULL for the defaults.
 * Significance: for each row, with n = count_a + count_b and exposures
 * uA, uB (the normalisation units; equal for NONE), under equal rates
 * count_a ~ Binomial(n, uA / (uA + uB)); p_value is the exact two-sided
 * binomial test (sum of the probabilities not above that of count_a).
 * Returns 0 or a negative error: -EINVAL for bad options,
 * -KVMEXIT_EMISMATCH when the normalisation unit is missing or zero on a
 * side (with a message in @errbuf), -ENOMEM.
 */
KVMEXIT_API int kvmexit_diff_new(const struct kvmexit_profile *a,
				 const struct kvmexit_profile *b,
				 const struct kvmexit_diff_opts *opts,
				 struct kvmexit_diff **out,
				 char *errbuf, size_t errlen);
/* Frees a diff and everything read from it; NULL is allowed. */
KVMEXIT_API void kvmexit_diff_free(struct kvmexit_diff *diff);

/* Rows after sort, min_count and top; valid until kvmexit_diff_free(). */
KVMEXIT_API size_t kvmexit_diff_rows(const struct kvmexit_diff *diff,
				     const struct kvmexit_diff_row **rows);
/* Totals, scale, top contributors, categories, the paging signature. */
KVMEXIT_API const struct kvmexit_diff_summary *
kvmexit_diff_summary(const struct kvmexit_diff *diff);
/* What makes the comparison doubtful; returns how many. */
KVMEXIT_API size_t kvmexit_diff_warnings(const struct kvmexit_diff *diff,
					 const struct kvmexit_diff_warning **warnings);

/*
 * Names a row: "EXCEPTION_NMI/#PF", "CPUID", or a category ("paging").
 * Returns the length it wanted, as snprintf.
 */
KVMEXIT_API int kvmexit_diff_row_name(const struct kvmexit_diff_row *row,
				      char *buf, size_t size);

/*
 * The two-sided exact test used for rows: P-value of observing @a of
 * n = a + b when a ~ Binomial(n, p), p = @ua / (@ua + @ub).
 */
KVMEXIT_API double kvmexit_diff_poisson_test(uint64_t a, uint64_t b,
					     double ua, double ub);

/*
 * Writes @prof's exits as a count table (kvmexit-capture(5)) to @fd:
 * metadata comments, a duration line, and "isa,reason,count" rows.
 */
KVMEXIT_API int kvmexit_counts_table_write(const struct kvmexit_profile *prof,
					   int fd);

/* ------------------------------------------------------------------ */
/* Writing captures (lib/perfdata-write.c).                            */
/* ------------------------------------------------------------------ */

/*
 * A perf.data writer (file mode) that stock perf 6.1 reads: perf script,
 * perf report and perf kvm stat report decode what it writes.  The file
 * holds the attrs (one per tracepoint, attr.size 128), the tracing data
 * (the formats of all tracepoints), perf's HOSTNAME, OSRELEASE, VERSION,
 * ARCH, NRCPUS, CPUDESC, CPUID, CMDLINE and SAMPLE_TIME sections, and
 * kvmexit's own metadata, after the version string in the VERSION section
 * (perf ignores it there, and perf inject copies it).
 *
 * The file stays readable while it is written: after every round (see
 * kvmexit_writer_finish_round()) the header points at a complete capture,
 * so a recording that is killed, or that fills the disk, leaves a capture
 * readable up to its last complete round.  See kvmexit-capture(5).
 *
 * Typical use: _open(), _add_tracepoint() for every event, then
 * _write_event() and _finish_round() repeatedly, then _close().
 */
struct kvmexit_writer;

struct kvmexit_writer_opts {
	size_t sz;			/* sizeof(struct kvmexit_writer_opts) */
	bool force;			/* overwrite an existing file */
	/*
	 * Host facts and kvm parameters (NULL: none).  perf's own sections
	 * are written from it when the first record is written; the kvmexit
	 * section is rewritten at _close() from the latest _set_meta().
	 */
	const struct kvmexit_meta *meta;
	/*
	 * PERF_SAMPLE_* bits of the samples _write_event() writes; 0 means
	 * IDENTIFIER|TID|TIME|CPU|PERIOD|RAW.  Supported bits: IDENTIFIER,
	 * IP, TID, TIME, ID, STREAM_ID, CPU, PERIOD, RAW (RAW is required).
	 */
	uint64_t sample_type;
};

/*
 * Creates @path with mode 0600 (captures reveal guest addresses).  Refuses
 * (-EEXIST) to replace an existing file unless opts->force, which writes a
 * new file beside it and renames it over @path once the header is out.
 * Never writes through a symlink (-ELOOP) or into a directory (-EISDIR) or
 * special file (-EINVAL) at @path.  @path "-" writes to standard output in
 * perf's pipe mode (-ENOTTY when it is a terminal).  @opts may be NULL.  On
 * failure *out is NULL and @errbuf (if not NULL) says why.
 */
KVMEXIT_API int kvmexit_writer_open(const char *path,
				    const struct kvmexit_writer_opts *opts,
				    struct kvmexit_writer **out,
				    char *errbuf, size_t errlen);

/*
 * Adds a tracepoint of @system ("kvm") given its format text exactly as
 * tracefs prints it ("name: kvm_exit\nID: 103\nformat:\n...").  The text
 * goes into the capture's tracing data and says where each field goes.
 * Must precede the first record.  Returns the event's index (0, 1, ...) or
 * a negative error (-KVMEXIT_EFORMAT for a text libtraceevent rejects).
 */
KVMEXIT_API int kvmexit_writer_add_tracepoint(struct kvmexit_writer *w,
					      const char *system,
					      const char *format_text);

/*
 * Writes one decoded event as a sample of the first added tracepoint of its
 * type (kvm_exit for KVMEXIT_EV_EXIT, ...), with every field at the offset
 * the tracepoint's format gives; fields the format lacks are left out,
 * fields the event lacks are 0.  common_pid is ev->tid.  KVMEXIT_EV_LOST
 * becomes a PERF_RECORD_LOST of ev->lost.count records.  Buffered: no
 * system call per event.  -ENOENT when no tracepoint of that type was added.
 */
KVMEXIT_API int kvmexit_writer_write_event(struct kvmexit_writer *w,
					   const struct kvmexit_event *ev);

/*
 * Ends a round (PERF_RECORD_FINISHED_ROUND): everything written so far is
 * flushed and becomes part of the readable capture.  Events of one round
 * may come in any order; a later round must not hold events older than
 * the previous round's newest (perf sorts within rounds only).
 */
KVMEXIT_API int kvmexit_writer_finish_round(struct kvmexit_writer *w);

/*
 * Replaces the metadata kept for the kvmexit section (end time, lost
 * counts...); written by _close().  perf's sections keep the meta that was
 * current when the first record was written.
 */
KVMEXIT_API int kvmexit_writer_set_meta(struct kvmexit_writer *w,
					const struct kvmexit_meta *meta);

/*
 * Makes this a --count capture: the counts go into the kvmexit section and
 * meta.counts_only is set; no samples may be written.  Replaces counts set
 * before.  Returns 0, -ENOMEM, or -EINVAL after samples were written.
 */
KVMEXIT_API int kvmexit_writer_set_counts(struct kvmexit_writer *w,
					  const struct kvmexit_count *counts,
					  size_t nr);

/*
 * Flushes, writes the final header and feature sections, closes and frees
 * the writer.  Returns 0 or the first error seen since _open() (e.g.
 * -ENOSPC: the capture then holds every complete round before the error).
 * The message of that error is lost with the writer: read
 * kvmexit_writer_errmsg() before, or pass @errbuf here (may be NULL).
 */
KVMEXIT_API int kvmexit_writer_close(struct kvmexit_writer *w,
				     char *errbuf, size_t errlen);

/* The message of the writer's first error, or "" when there was none. */
KVMEXIT_API const char *kvmexit_writer_errmsg(const struct kvmexit_writer *w);

/* ------------------------------------------------------------------ */
/* Recording live (lib/record.c, lib/count.c, lib/tracefs.c).          */
/* ------------------------------------------------------------------ */

/*
 * A recorder opens the kvm tracepoints with perf_event_open (through
 * libperf), drains their per-CPU rings, decodes every event for an optional
 * callback and writes a perf.data capture that stock perf reads.  Needs
 * root, CAP_PERFMON or a low /proc/sys/kernel/perf_event_paranoid.
 *
 *	struct kvmexit_record_opts o = { .sz = sizeof(o), .output = "x.data" };
 *	struct kvmexit_recorder *rec;
 *	char err[256];
 *	if (kvmexit_recorder_new(&o, &rec, err, sizeof(err)) < 0)
 *		... err says what failed and what to do ...
 *	while (kvmexit_recorder_run(rec, 1000) > 0)
 *		... once a second: kvmexit_recorder_stats() ...
 *	kvmexit_recorder_free(rec);
 */
struct kvmexit_recorder;

/* Bits of kvmexit_record_opts.events. */
#define KVMEXIT_EVENT_BIT(type)		(1u << (type))
#define KVMEXIT_EVENTS_DEFAULT		(KVMEXIT_EVENT_BIT(KVMEXIT_EV_EXIT) | \
					 KVMEXIT_EVENT_BIT(KVMEXIT_EV_ENTRY))

/*
 * Parses an event set list, comma separated, into event bits: "default"
 * (kvm_exit, kvm_entry), "ioport" (+ kvm_pio, kvm_userspace_exit), "mmio"
 * (+ kvm_mmio, kvm_userspace_exit), "msr" (+ kvm_msr, kvm_userspace_exit),
 * "all", or event names with or without "kvm:"/"kvm_" ("kvm:kvm_pio", "pio").
 * kvm_exit and kvm_entry are always included.  Returns 0 or -EINVAL.
 */
KVMEXIT_API int kvmexit_record_events_parse(const char *text, uint32_t *events);

enum kvmexit_record_target {
	KVMEXIT_TARGET_SYSTEM = 0,	/* every CPU, every process */
	KVMEXIT_TARGET_PIDS,		/* these processes, all their threads */
	KVMEXIT_TARGET_COMMAND,		/* start argv, record it until it exits */
};

struct kvmexit_record_opts {
	size_t sz;			/* sizeof(struct kvmexit_record_opts) */
	enum kvmexit_record_target target;
	const int32_t *pids;		/* KVMEXIT_TARGET_PIDS: nr_pids of them */
	size_t nr_pids;
	char *const *argv;		/* KVMEXIT_TARGET_COMMAND: NULL-terminated */
	uint32_t events;		/* KVMEXIT_EVENT_BIT()s; 0: default */
	const char *output;		/* capture to write; NULL: no file */
	bool overwrite;			/* replace an existing output file */
	uint32_t mmap_pages;		/* ring pages per CPU, power of 2; 0: 128 */
	uint64_t duration_ns;		/* stop after this long; 0: when stopped */
	bool count;			/* counting mode: kernel counters per exit
					 * reason and CPU, no samples, no callback */
	kvmexit_event_fn fn;		/* called for every decoded event, */
	void *fn_arg;			/* also for KVMEXIT_EV_LOST; non-zero stops */
	const char *tracefs;		/* NULL: find (or mount) tracefs */
	const char *cmdline;		/* stored in the capture's metadata */
	/*
	 * The BPF source: a BPF program aggregates the exits in the kernel per
	 * process, vCPU, reason and detail, with exit-handling times and their
	 * histograms; nothing per event leaves the kernel.  The capture holds
	 * the aggregates (a counts-only capture with cells, kvmexit-capture(5)),
	 * no samples; no callback.  With -e ioport, kvm_pio counts per process
	 * and port too.  Needs root, kernel BTF, and a build with BPF.
	 */
	bool bpf;
};

/*
 * Opens the events (disabled), the rings and the output, and for
 * KVMEXIT_TARGET_COMMAND forks the command, which waits to exec until the
 * first kvmexit_recorder_run().  On failure returns a negative errno and a
 * message in errbuf (what failed and what to do).
 */
KVMEXIT_API int kvmexit_recorder_new(const struct kvmexit_record_opts *opts,
				     struct kvmexit_recorder **out,
				     char *errbuf, size_t errlen);

/*
 * Records: the first call enables the events (and starts the command).
 * Returns 1 when @timeout_ms (>= 0) passed while still recording, 0 once the
 * recording has ended (stopped, duration reached, command or every target
 * process exited, or the callback returned non-zero) and the capture is
 * complete, or a negative errno (kvmexit_recorder_errmsg() says more; the
 * capture is still finished as far as it can be).  @timeout_ms < 0: until
 * the end.
 */
KVMEXIT_API int kvmexit_recorder_run(struct kvmexit_recorder *rec, int timeout_ms);

/*
 * Asks a running recorder to end; async-signal-safe (a signal handler may
 * call it).  kvmexit_recorder_run() then drains the rings, finishes the
 * capture and returns 0 within about 100 ms.
 */
KVMEXIT_API void kvmexit_recorder_stop(struct kvmexit_recorder *rec);

struct kvmexit_record_stats {
	uint64_t events;		/* events decoded (kept, after -p filter) */
	uint64_t by_type[KVMEXIT_EV__MAX]; /* per enum kvmexit_event_type */
	uint64_t lost;			/* records the kernel dropped */
	uint64_t bytes;			/* capture size so far */
	uint64_t elapsed_ns;		/* since the events were enabled */
	bool running;
	int32_t child_pid;		/* the command's pid, or 0 */
	bool child_exited;
	int child_status;		/* wait status once child_exited */
};
/* A snapshot of the counters; callable while recording. */
KVMEXIT_API void kvmexit_recorder_stats(const struct kvmexit_recorder *rec,
					struct kvmexit_record_stats *stats);

/* The host facts recorded (vendor, kvm parameters, times, lost). */
KVMEXIT_API const struct kvmexit_meta *
kvmexit_recorder_meta(const struct kvmexit_recorder *rec);

/*
 * Counting mode, after the end (or after kvmexit_recorder_read_counts()):
 * the counts per exit reason and CPU (only non-zero ones).  Returns how many.
 */
KVMEXIT_API size_t kvmexit_recorder_counts(const struct kvmexit_recorder *rec,
					   const struct kvmexit_count **counts);

/*
 * Counting mode, while recording: reads the kernel counters now, so that
 * kvmexit_recorder_counts() and _stats() give the counts so far (live
 * views poll this once per interval).  Returns 0, -EINVAL when the
 * recorder does not count, or a negative errno.
 */
KVMEXIT_API int kvmexit_recorder_read_counts(struct kvmexit_recorder *rec);

/*
 * --bpf: makes @prof hold everything the BPF program has aggregated so far
 * (while recording, a fresh read of its maps; after the end, the final
 * one): exits per process, vCPU, reason and detail with their times and
 * histograms, and kvm_pio counts (other_events).  What @prof aggregated
 * before is replaced; its options (filters) and meta stay.  Totals only
 * grow between calls, so snapshots of @prof (kvmexit_snapshot_new()) taken
 * after each call make intervals.  Returns 0, -EOPNOTSUPP (not --bpf) or a
 * negative errno, with kvmexit_recorder_errmsg().
 */
KVMEXIT_API int kvmexit_recorder_read_profile(struct kvmexit_recorder *rec,
					      struct kvmexit_profile *prof);

/*
 * Forgets process @pid, gone: the recorder's own state of it (whether it
 * was named), and with --bpf while recording its entries in the BPF maps
 * (cells, histogram buckets, kvm_pio counts, followed processes), so that
 * they are not read again.  Call it together with
 * kvmexit_profile_retire_pid() on the profile
 * kvmexit_recorder_read_profile() fills, right after a read: that profile
 * keeps what the process had, folded.  A process that still runs starts
 * counting afresh.  Returns the map entries deleted (0 without --bpf),
 * -EINVAL, or a negative errno with kvmexit_recorder_errmsg().
 */
KVMEXIT_API int kvmexit_recorder_forget_pid(struct kvmexit_recorder *rec, int32_t pid);

/* The message of the recorder's last error, or "". */
KVMEXIT_API const char *kvmexit_recorder_errmsg(const struct kvmexit_recorder *rec);

/* Ends the recording if needed (a started command gets SIGTERM) and frees. */
KVMEXIT_API void kvmexit_recorder_free(struct kvmexit_recorder *rec);

/* ------------------------------------------------------------------ */
/* Interval snapshots (lib/snapshot.c): what changed since the last    */
/* look at a profile that is still being fed (top, serve).             */
/* ------------------------------------------------------------------ */

/*
 * A snapshot is an immutable copy of a profile's cumulative state: per
 * cell (ISA, reason, detail, pid, vCPU) its count, timed exits, time
 * total, min, max and histogram, and the profile's totals.  It costs
 * O(cells) and adds nothing to the profile's per-event path.  A delta
 * compares two snapshots of one profile: what happened between them
 * (counts, rates, average and percentiles from the histograms'
 * difference) next to the totals since a base snapshot (or since the
 * profile began).  Snapshots and deltas own their memory, hold no
 * reference to the profile (free it first if you like) and are read-only:
 * any thread may read them, as long as none frees them meanwhile.
 *
 *	kvmexit_snapshot_new(prof, now, &cur);
 *	kvmexit_delta_new(prev, cur, &opts, &d);	// prev NULL: since start
 *	n = kvmexit_delta_rows(d, &rows);
 *	... rows[i].interval.count, rows[i].rate, rows[i].interval.time_p99,
 *	    rows[i].total.count ...
 *	kvmexit_delta_free(d);
 *	kvmexit_snapshot_free(prev); prev = cur;
 */
struct kvmexit_snapshot;
struct kvmexit_delta;

/*
 * Snapshots @prof, stamped with @time_ns (the source's clock: perf or
 * monotonic ns live, capture time in a replay; 0 means the profile's last
 * event time).  Rates are per second of these stamps.  Returns 0, -EINVAL
 * or -ENOMEM.
 */
KVMEXIT_API int kvmexit_snapshot_new(const struct kvmexit_profile *prof, uint64_t time_ns,
				     struct kvmexit_snapshot **out);
/* Frees a snapshot; NULL is allowed. */
KVMEXIT_API void kvmexit_snapshot_free(struct kvmexit_snapshot *snap);
/* Its stamp. */
KVMEXIT_API uint64_t kvmexit_snapshot_time(const struct kvmexit_snapshot *snap);
/* The profile's totals when it was taken (as kvmexit_profile_totals()). */
KVMEXIT_API void kvmexit_snapshot_totals(const struct kvmexit_snapshot *snap,
					 struct kvmexit_profile_totals *out);

/*
 * How to compare.  NULL, or zero apart from sz: rows per reason, totals
 * since the profile began, every process.
 */
struct kvmexit_delta_opts {
	size_t sz;			/* sizeof(struct kvmexit_delta_opts) */
	enum kvmexit_group group;	/* rows as kvmexit_profile_stats() makes */
	/*
	 * With KVMEXIT_GROUP_PID or _VCPU: one row per process or vCPU, its
	 * reasons summed (rows have isa UNKNOWN and reason 0).
	 */
	bool all_reasons;
	bool has_pid;			/* only exits of this VMM process: */
	int32_t pid;
	/*
	 * The totals (rows' .total, summary's .total) count from this earlier
	 * snapshot of the same profile ("reset"); NULL: from the beginning.
	 */
	const struct kvmexit_snapshot *base;
	/*
	 * Only cells this returns true for (e.g. reasons matching a regex);
	 * NULL: all.  Called once per cell and delta, with keep_arg.
	 */
	bool (*keep)(enum kvmexit_isa isa, uint32_t reason, uint32_t detail, void *keep_arg);
	void *keep_arg;
};

/*
 * One row: the interval and the totals since the base, as two
 * kvmexit_stat of the same key.  interval's time_min and time_max are
 * exact when the row's cells had no timed exit before the interval, else
 * the bounds of the lowest and highest histogram buckets that gained
 * (within 1/32, clamped to the cumulative min and max); time_p50 and
 * time_p99 come from the histograms' difference as kvmexit_profile_stats()
 * computes them.
 */
struct kvmexit_delta_row {
	struct kvmexit_stat interval;	/* what happened between the snapshots */
	struct kvmexit_stat total;	/* since the base snapshot */
	double rate;			/* interval.count per second; 0 if no time passed */
	double share;			/* interval.count / the interval's exits (0..1) */
	double total_share;		/* total.count / all exits since the base */
};

/*
 * Counters of the profile's totals (events, exits, entries, timed,
 * dropped_pairs, unpaired, lost, other_events, time_total_ns) as
 * differences; first_ns and last_ns are the later snapshot's, duration_ns
 * the stamps' difference; nr_vcpus and nr_pids count those with exits in
 * the span; isa is the later snapshot's.  With has_pid or keep, exits,
 * timed and time_total_ns are those of the kept cells, the other counters
 * the profile's.
 */
struct kvmexit_delta_summary {
	uint64_t from_ns, to_ns, base_ns;	/* the stamps (0 for NULL) */
	struct kvmexit_profile_totals interval;	/* from -> to */
	struct kvmexit_profile_totals total;	/* base -> to */
};

/*
 * Compares @from (earlier; NULL: an empty profile) with @to, both
 * snapshots of one profile.  Rows are those with exits in the interval or
 * since the base, most exits in the interval first, then most since the
 * base, then in key order.  Returns 0, -EINVAL (bad options),
 * -KVMEXIT_EMISMATCH (@from or the base is later than @to, or not of the
 * same profile: a count went down) or -ENOMEM.
 */
KVMEXIT_API int kvmexit_delta_new(const struct kvmexit_snapshot *from,
				  const struct kvmexit_snapshot *to,
				  const struct kvmexit_delta_opts *opts,
				  struct kvmexit_delta **out);
/* Frees a delta; NULL is allowed. */
KVMEXIT_API void kvmexit_delta_free(struct kvmexit_delta *delta);
/* The rows, valid until kvmexit_delta_free(); returns how many. */
KVMEXIT_API size_t kvmexit_delta_rows(const struct kvmexit_delta *delta,
				      const struct kvmexit_delta_row **rows);
/* Stamps and totals of the interval and since the base. */
KVMEXIT_API const struct kvmexit_delta_summary *
kvmexit_delta_summary(const struct kvmexit_delta *delta);

/* ------------------------------------------------------------------ */
/* Classic histograms for exporters (lib/profile.c, lib/snapshot.c).   */
/* ------------------------------------------------------------------ */

/*
 * Bounds for a classic (Prometheus) histogram of exit-handling times that
 * the profile's log-linear histogram counts exactly: @per_octave (1, 2, 4,
 * ..., 32) bounds per power of two from 2^@lo_shift ns up to 2^@hi_shift
 * ns (6 <= lo_shift <= hi_shift <= 40).  Each bound is inclusive, the last
 * nanosecond of a histogram bucket: 2^k * (1 + j / per_octave) - 1 ns,
 * e.g. 127, 191, 255, 383 for per_octave 2.  Writes at most @max bounds to
 * @out (may be NULL when @max is 0); returns how many there are (as
 * snprintf, may exceed @max), or -EINVAL.
 */
KVMEXIT_API int kvmexit_profile_time_bounds(unsigned int per_octave,
					    unsigned int lo_shift,
					    unsigned int hi_shift,
					    uint64_t *out, size_t max);

/*
 * The timed exits of one row of a delta from @snap (its .total or, with a
 * NULL from, its .interval: the row's key, isa, reason, detail, pid and
 * vCPU, in grouping @group) whose exit-handling time is <= each of the @nr
 * @bounds (ns), counted over everything @snap holds: cumulative counts, as
 * a histogram's "le" buckets, and exact.  @bounds must rise and each end a
 * histogram bucket (kvmexit_profile_time_bounds() gives such bounds).
 * Returns 0 or -EINVAL (bad group, row or bounds).
 */
KVMEXIT_API int kvmexit_snapshot_time_counts(const struct kvmexit_snapshot *snap,
					     enum kvmexit_group group,
					     const struct kvmexit_stat *row,
					     const uint64_t *bounds, size_t nr,
					     uint64_t *counts);

#ifdef __cplusplus
}
#endif

#endif /* KVMEXIT_H */
