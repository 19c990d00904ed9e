// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmexit-guest - a reproducible KVM guest workload with exactly known work.
 *
 * Creates a VM through /dev/kvm with one vCPU in 64-bit long mode, identity
 * maps all guest memory with 4 KiB pages, and runs a small guest program in
 * phases.  Every phase ends with one `out` of the phase number to port 0xe9,
 * so the phases are visible in a capture (kvm_pio, kvm_exit "io").
 *
 *   phase 1  first touch: one write to each of W data pages
 *   phase 2  P passes of one read per page; every K-th page of a pass,
 *            reload CR3 with its own value (mov %cr3,%rax; mov %rax,%cr3)
 *   phase 3  for each page: invlpg, then read
 *   phase 4  for each page: rewrite its PTE with the value this program
 *            first gave it (present|writable, Accessed and Dirty clear),
 *            invlpg, then read
 *   phase 5  N_cpuid CPUID instructions (leaf 0)
 *   phase 6  N_io `out` instructions to port 0x80 (value: counter & 0xff)
 *   then     hlt: KVM_RUN returns KVM_EXIT_HLT and the program exits 0.
 *
 * Guest physical layout (GPA == GVA, everything identity mapped):
 *   0x1000            guest code (copied from guest_code below, < 4 KiB)
 *   0x2000            PML4
 *   0x3000            PDPT
 *   0x4000...         one PD per GiB, then one PT per 2 MiB of memory
 *   sys_end           rounded up to 2 MiB: first data page
 *   sys_end + i*4096  data page i, 0 <= i < W
 * Every paging entry is written with Accessed (and Dirty) clear, so that
 * KVM's shadow MMU never prefetches an entry the guest has not used (it only
 * prefetches accessed guest PTEs).  The guest uses no stack, no IDT and no
 * interrupts (RFLAGS.IF = 0): any exception is a triple fault, reported as
 * KVM_EXIT_SHUTDOWN.
 *
 * The summary printed at the end (name=value lines) gives the exact amounts
 * of work, computed from the options, so tests can derive expected exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE_SIZE	4096ULL
#define MIB		(1024ULL * 1024)
#define PT_SPAN		(2 * MIB)		/* memory mapped by one PT */
#define PD_SPAN		(1024 * MIB)		/* memory mapped by one PD */
#define MAX_MEMORY_MIB	UINT64_C(4096)			/* one PDPT page's worth is 512 GiB */

#define CODE_GPA	0x1000ULL
#define PML4_GPA	0x2000ULL
#define PDPT_GPA	0x3000ULL
#define PD_GPA		0x4000ULL

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)

#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PHASE_PORT	0xe9
#define WORK_PORT	0x80
#define NR_PHASES	6

/*
 * The guest program.  Position independent (relative jumps only) and
 * stackless; its parameters come in registers set with KVM_SET_REGS:
 *   r8  GVA of data page 0          r9  W, number of data pages
 *   r10 P, read passes (phase 2)    r11 K, CR3 reload interval (0: never)
 *   r12 GVA of data page 0's PTE    r13 CPUID count   r14 port write count
 */
__asm__(
	".pushsection .rodata.kvmexit_guest, \"a\"\n"
	"guest_code:\n"
	/* phase 1: one write to each data page */
	"	mov %r8, %rdi\n"
	"	mov %r9, %rcx\n"
	".Lg_touch:\n"
	"	test %rcx, %rcx\n"
	"	jz .Lg_touch_done\n"
	"	movb $1, (%rdi)\n"
	"	add $4096, %rdi\n"
	"	dec %rcx\n"
	"	jmp .Lg_touch\n"
	".Lg_touch_done:\n"
	"	mov $1, %al\n"
	"	out %al, $0xe9\n"
	/* phase 2: P read passes, CR3 reload after every K-th page */
	"	mov %r10, %rbx\n"
	".Lg_pass:\n"
	"	test %rbx, %rbx\n"
	"	jz .Lg_pass_done\n"
	"	mov %r8, %rdi\n"
	"	mov %r9, %rcx\n"
	"	xor %edx, %edx\n"
	".Lg_read:\n"
	"	test %rcx, %rcx\n"
	"	jz .Lg_read_done\n"
	"	mov (%rdi), %al\n"
	"	add $4096, %rdi\n"
	"	dec %rcx\n"
	"	inc %rdx\n"
	"	cmp %r11, %rdx\n"
	"	jne .Lg_read\n"
	"	xor %edx, %edx\n"
	"	mov %cr3, %rax\n"
	"	mov %rax, %cr3\n"
	"	jmp .Lg_read\n"
	".Lg_read_done:\n"
	"	dec %rbx\n"
	"	jmp .Lg_pass\n"
	".Lg_pass_done:\n"
	"	mov $2, %al\n"
	"	out %al, $0xe9\n"
	/* phase 3: invlpg each page, then read it */
	"	mov %r8, %rdi\n"
	"	mov %r9, %rcx\n"
	".Lg_inv:\n"
	"	test %rcx, %rcx\n"
	"	jz .Lg_inv_done\n"
	"	invlpg (%rdi)\n"
	"	mov (%rdi), %al\n"
	"	add $4096, %rdi\n"
	"	dec %rcx\n"
	"	jmp .Lg_inv\n"
	".Lg_inv_done:\n"
	"	mov $3, %al\n"
	"	out %al, $0xe9\n"
	/* phase 4: rewrite each PTE (P|RW, A/D clear), invlpg, read */
	"	mov %r8, %rdi\n"
	"	mov %r12, %rsi\n"
	"	mov %r9, %rcx\n"
	".Lg_pte:\n"
	"	test %rcx, %rcx\n"
	"	jz .Lg_pte_done\n"
	"	lea 3(%rdi), %rax\n"
	"	mov %rax, (%rsi)\n"
	"	invlpg (%rdi)\n"
	"	mov (%rdi), %al\n"
	"	add $4096, %rdi\n"
	"	add $8, %rsi\n"
	"	dec %rcx\n"
	"	jmp .Lg_pte\n"
	".Lg_pte_done:\n"
	"	mov $4, %al\n"
	"	out %al, $0xe9\n"
	/* phase 5: CPUID leaf 0, N times */
	"	mov %r13, %rsi\n"
	".Lg_cpuid:\n"
	"	test %rsi, %rsi\n"
	"	jz .Lg_cpuid_done\n"
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	dec %rsi\n"
	"	jmp .Lg_cpuid\n"
	".Lg_cpuid_done:\n"
	"	mov $5, %al\n"
	"	out %al, $0xe9\n"
	/* phase 6: N port writes to 0x80 */
	"	mov %r14, %rsi\n"
	".Lg_io:\n"
	"	test %rsi, %rsi\n"
	"	jz .Lg_io_done\n"
	"	mov %esi, %eax\n"
	"	out %al, $0x80\n"
	"	dec %rsi\n"
	"	jmp .Lg_io\n"
	".Lg_io_done:\n"
	"	mov $6, %al\n"
	"	out %al, $0xe9\n"
	".Lg_halt:\n"
	"	hlt\n"
	"	jmp .Lg_halt\n"
	"guest_code_end:\n"
	".popsection\n");

extern const unsigned char guest_code[], guest_code_end[];

struct options {
	uint64_t memory_mib;
	uint64_t pages;			/* W; UINT64_MAX: all data pages */
	uint64_t passes;		/* P */
	uint64_t cr3_interval;		/* K; 0: no reloads */
	uint64_t cpuid;
	uint64_t ioports;
	bool quiet;
	bool verbose;
};

struct layout {
	uint64_t mem_size;
	uint64_t nr_pd;			/* PD pages */
	uint64_t nr_pt;			/* PT pages (all of memory) */
	uint64_t pt_gpa;		/* first PT */
	uint64_t data_gpa;		/* first data page */
	uint64_t data_pages_max;
	uint64_t w;			/* data pages used */
	uint64_t data_pt_pages;		/* PT pages holding data pages' PTEs */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

struct counts {
	uint64_t runs;			/* KVM_RUN returns */
	uint64_t io_out;		/* all port writes */
	uint64_t io_work;		/* writes to WORK_PORT */
	uint64_t markers;		/* writes to PHASE_PORT */
	uint64_t eintr;
	unsigned int last_phase;
};

static const char *prog = "kvmexit-guest";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTION]...\n"
"Run a deterministic guest in a one-vCPU KVM VM, in phases that each end\n"
"with a write of the phase number to port 0x%x:\n"
"  1 first write to each of W pages   2 P read passes, CR3 reload every K pages\n"
"  3 invlpg + read of each page       4 PTE rewrite + invlpg + read of each page\n"
"  5 N CPUID instructions             6 N writes to port 0x%x\n"
"then hlt.  Prints the exact amounts of work as name=value lines.\n"
"\n"
"  -m, --memory=MIB        guest memory in MiB, a multiple of 2 (default 16);\n"
"                          W defaults to all pages above the page tables\n"
"  -w, --pages=W           data pages to use (at most the default W)\n"
"  -p, --passes=P          read passes in phase 2 (default 2)\n"
"  -k, --cr3-interval=K    reload CR3 after every K-th page read in phase 2;\n"
"                          0 disables (default 64)\n"
"  -c, --cpuid=N           CPUID instructions in phase 5 (default 0)\n"
"  -i, --ioports=N         port writes in phase 6 (default 0)\n"
"  -q, --quiet             print nothing but errors\n"
"  -v, --verbose           also print each phase and userspace exit counts\n"
"  -h, --help              show this help\n"
"\n"
"Exit status: 0 when the guest reached hlt, 1 on any error, 2 on bad usage.\n",
		prog, PHASE_PORT, WORK_PORT);
}

static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	*out = strtoull(s, &end, 0);
	if (errno || *end != '\0')
		goto bad;
	return 0;
bad:
	fprintf(stderr, "%s: --%s: '%s' is not a non-negative integer\n",
		prog, opt, s);
	return -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "pages", required_argument, NULL, 'w' },
		{ "passes", required_argument, NULL, 'p' },
		{ "cr3-interval", required_argument, NULL, 'k' },
		{ "cpuid", required_argument, NULL, 'c' },
		{ "ioports", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, idx;

	*o = (struct options){ .memory_mib = 16, .pages = UINT64_MAX, .passes = 2,
			       .cr3_interval = 64 };
	while ((c = getopt_long(argc, argv, "m:w:p:k:c:i:qvh", longopts,
				&idx)) != -1) {
		uint64_t *dst = NULL;
		const char *name = NULL;

		switch (c) {
		case 'm': dst = &o->memory_mib; name = "memory"; break;
		case 'w': dst = &o->pages; name = "pages"; break;
		case 'p': dst = &o->passes; name = "passes"; break;
		case 'k': dst = &o->cr3_interval; name = "cr3-interval"; break;
		case 'c': dst = &o->cpuid; name = "cpuid"; break;
		case 'i': dst = &o->ioports; name = "ioports"; break;
		case 'q': o->quiet = true; break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return -1;
		}
		if (dst && parse_u64(name, optarg, dst))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
			argv[optind]);
		return -1;
	}
	if (o->quiet && o->verbose) {
		fprintf(stderr, "%s: --quiet and --verbose exclude each other\n",
			prog);
		return -1;
	}
	return 0;
}

static uint64_t div_round_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static int layout_compute(const struct options *o, struct layout *l)
{
	uint64_t sys_end;

	if (o->memory_mib < 4 || o->memory_mib % 2 ||
	    o->memory_mib > MAX_MEMORY_MIB) {
		fprintf(stderr,
			"%s: --memory=%" PRIu64 ": need an even number of MiB from 4 to %" PRIu64 "\n",
			prog, o->memory_mib, MAX_MEMORY_MIB);
		return -1;
	}
	l->mem_size = o->memory_mib * MIB;
	l->nr_pd = div_round_up(l->mem_size, PD_SPAN);
	l->nr_pt = l->mem_size / PT_SPAN;
	l->pt_gpa = PD_GPA + l->nr_pd * PAGE_SIZE;
	sys_end = l->pt_gpa + l->nr_pt * PAGE_SIZE;
	l->data_gpa = div_round_up(sys_end, PT_SPAN) * PT_SPAN;
	if (l->data_gpa >= l->mem_size) {
		fprintf(stderr, "%s: --memory=%" PRIu64 " leaves no data pages\n",
			prog, o->memory_mib);
		return -1;
	}
	l->data_pages_max = (l->mem_size - l->data_gpa) / PAGE_SIZE;
	l->w = o->pages == UINT64_MAX ? l->data_pages_max : o->pages;
	if (l->w > l->data_pages_max) {
		fprintf(stderr,
			"%s: --pages=%" PRIu64 ": only %" PRIu64 " data pages fit in %" PRIu64 " MiB; raise --memory\n",
			prog, o->pages, l->data_pages_max, o->memory_mib);
		return -1;
	}
	l->data_pt_pages = div_round_up(l->w, PT_SPAN / PAGE_SIZE);
	return 0;
}

/* Identity map all of guest memory with 4 KiB pages, A/D bits clear. */
static void page_tables_build(uint8_t *mem, const struct layout *l)
{
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	uint64_t *pt = (uint64_t *)(mem + l->pt_gpa);
	uint64_t i;

	pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	for (i = 0; i < l->nr_pd; i++)
		pdpt[i] = (PD_GPA + i * PAGE_SIZE) | PTE_P | PTE_RW;
	for (i = 0; i < l->nr_pt; i++)
		pd[i] = (l->pt_gpa + i * PAGE_SIZE) | PTE_P | PTE_RW;
	for (i = 0; i < l->mem_size / PAGE_SIZE; i++)
		pt[i] = (i * PAGE_SIZE) | PTE_P | PTE_RW;
}

static int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		fprintf(stderr,
			"%s: cannot open /dev/kvm: %s; is kvm loaded? (modprobe kvm_intel or kvm_amd, and enable virtualization in the firmware)\n",
			prog, strerror(errno));
	else if (errno == EACCES || errno == EPERM)
		fprintf(stderr,
			"%s: cannot open /dev/kvm: permission denied; run as root or join the group that owns /dev/kvm (usually kvm)\n",
			prog);
	else
		fprintf(stderr, "%s: cannot open /dev/kvm: %s\n", prog,
			strerror(errno));
	return -1;
}

static int kvm_fail(const char *what)
{
	fprintf(stderr, "%s: %s failed: %s\n", prog, what, strerror(errno));
	return -1;
}

static int vcpu_set_cpuid(struct vm *vm)
{
	const int max = 256;
	struct kvm_cpuid2 *cpuid;
	int ret = 0;

	cpuid = calloc(1, sizeof(*cpuid) + max * sizeof(cpuid->entries[0]));
	if (!cpuid) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	cpuid->nent = max;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
		ret = kvm_fail("KVM_GET_SUPPORTED_CPUID");
	else if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		ret = kvm_fail("KVM_SET_CPUID2");
	free(cpuid);
	return ret;
}

static void segment_set(struct kvm_segment *s, uint16_t sel, uint8_t type,
			bool code)
{
	*s = (struct kvm_segment){ .base = 0, .limit = 0xffffffff,
				   .selector = sel, .type = type, .present = 1,
				   .dpl = 0, .s = 1, .g = 1,
				   .l = code, .db = !code };
}

static int vcpu_set_long_mode(struct vm *vm)
{
	struct kvm_sregs sregs;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return kvm_fail("KVM_GET_SREGS");
	segment_set(&sregs.cs, 0x08, 11, true);	/* execute/read, accessed */
	segment_set(&sregs.ds, 0x10, 3, false);	/* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .selector = 0x18,
					 .type = 11, .present = 1 };
	sregs.ldt = (struct kvm_segment){ .selector = 0, .type = 2,
					  .unusable = 1 };
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return kvm_fail("KVM_SET_SREGS (64-bit long mode)");
	return 0;
}

static int vcpu_set_regs(struct vm *vm, const struct options *o,
			 const struct layout *l)
{
	struct kvm_regs regs = {
		.rip = CODE_GPA,
		.rflags = 0x2,
		.r8 = l->data_gpa,
		.r9 = l->w,
		.r10 = o->passes,
		.r11 = o->cr3_interval,
		.r12 = l->pt_gpa + l->data_gpa / PAGE_SIZE * 8,
		.r13 = o->cpuid,
		.r14 = o->ioports,
	};

	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return kvm_fail("KVM_SET_REGS");
	return 0;
}

static int vm_create(struct vm *vm, const struct options *o,
		     const struct layout *l)
{
	struct kvm_userspace_memory_region region;
	size_t code_size = (size_t)(guest_code_end - guest_code);
	int mmap_size;

	vm->kvm_fd = kvm_open();
	if (vm->kvm_fd < 0)
		return -1;
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "%s: /dev/kvm has an unexpected API version\n",
			prog);
		return -1;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return kvm_fail("KVM_CREATE_VM");

	vm->mem = mmap(NULL, l->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return kvm_fail("mmap of guest memory");
	}
	/* One host fault, and one NPF, per 4 KiB page: no THP. */
	if (madvise(vm->mem, l->mem_size, MADV_NOHUGEPAGE) < 0)
		return kvm_fail("madvise(MADV_NOHUGEPAGE)");
	memcpy(vm->mem + CODE_GPA, guest_code, code_size);
	page_tables_build(vm->mem, l);

	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = l->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return kvm_fail("KVM_SET_USER_MEMORY_REGION");

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return kvm_fail("KVM_CREATE_VCPU");
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		return kvm_fail("KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)mmap_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		return kvm_fail("mmap of the vCPU's kvm_run");
	}
	if (vcpu_set_cpuid(vm) || vcpu_set_long_mode(vm) ||
	    vcpu_set_regs(vm, o, l))
		return -1;
	return 0;
}

static void vm_destroy(struct vm *vm, const struct layout *l)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->mem)
		munmap(vm->mem, l->mem_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}

static const char *exit_reason_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
	case KVM_EXIT_IO: return "KVM_EXIT_IO";
	case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
	case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
	case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN (triple fault)";
	case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
	default: return "unexpected exit";
	}
}

/* Print why the guest stopped, with its registers; returns -1. */
static int guest_failed(struct vm *vm, const char *why)
{
	struct kvm_run *run = vm->run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	fprintf(stderr, "%s: guest stopped: %s (exit reason %u)%s%s\n", prog,
		exit_reason_name(run->exit_reason), run->exit_reason,
		why ? ": " : "", why ? why : "");
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		fprintf(stderr, "  hardware_entry_failure_reason 0x%llx\n",
			(unsigned long long)
			run->fail_entry.hardware_entry_failure_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		fprintf(stderr, "  internal error suberror %u\n",
			run->internal.suberror);
	if (run->exit_reason == KVM_EXIT_MMIO)
		fprintf(stderr, "  mmio %s at 0x%llx, len %u\n",
			run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len);
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) == 0)
		fprintf(stderr,
			"  rip 0x%llx rflags 0x%llx rax 0x%llx rcx 0x%llx rdx 0x%llx\n"
			"  rsi 0x%llx rdi 0x%llx r8 0x%llx r9 0x%llx r12 0x%llx\n",
			regs.rip, regs.rflags, regs.rax, regs.rcx, regs.rdx,
			regs.rsi, regs.rdi, regs.r8, regs.r9, regs.r12);
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) == 0)
		fprintf(stderr,
			"  cr0 0x%llx cr2 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx\n",
			sregs.cr0, sregs.cr2, sregs.cr3, sregs.cr4, sregs.efer);
	return -1;
}

/* A port write; returns 0 to go on, -1 on an unexpected access. */
static int handle_io(struct vm *vm, const struct options *o, struct counts *c)
{
	struct kvm_run *run = vm->run;
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 1)
		return guest_failed(vm, "unexpected port access");
	c->io_out += run->io.count;
	if (run->io.port == WORK_PORT) {
		c->io_work += run->io.count;
		return 0;
	}
	if (run->io.port != PHASE_PORT)
		return guest_failed(vm, "write to an unexpected port");
	c->markers += run->io.count;
	if (data[0] != c->last_phase + 1)
		return guest_failed(vm, "phases out of order");
	c->last_phase = data[0];
	if (o->verbose)
		printf("phase %u done: %" PRIu64 " KVM_RUN returns, %" PRIu64
		       " port writes so far\n", c->last_phase, c->runs,
		       c->io_out);
	return 0;
}

static int vm_run(struct vm *vm, const struct options *o, struct counts *c)
{
	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				c->eintr++;
				continue;
			}
			return kvm_fail("KVM_RUN");
		}
		c->runs++;
		switch (vm->run->exit_reason) {
		case KVM_EXIT_IO:
			if (handle_io(vm, o, c))
				return -1;
			break;
		case KVM_EXIT_HLT:
			if (c->last_phase != NR_PHASES)
				return guest_failed(vm, "hlt before the last phase");
			return 0;
		default:
			return guest_failed(vm, NULL);
		}
	}
}

static void summary_print(const struct options *o, const struct layout *l,
			  const struct counts *c)
{
	uint64_t reloads = o->cr3_interval ?
			   o->passes * (l->w / o->cr3_interval) : 0;

	printf("memory_mib=%" PRIu64 "\n", o->memory_mib);
	printf("data_gpa=0x%" PRIx64 "\n", l->data_gpa);
	printf("pages_touched=%" PRIu64 "\n", l->w);
	printf("data_pt_pages=%" PRIu64 "\n", l->data_pt_pages);
	printf("read_passes=%" PRIu64 "\n", o->passes);
	printf("page_reads=%" PRIu64 "\n", o->passes * l->w + 2 * l->w);
	printf("cr3_reloads=%" PRIu64 "\n", reloads);
	printf("invlpgs=%" PRIu64 "\n", 2 * l->w);
	printf("pte_writes=%" PRIu64 "\n", l->w);
	printf("cpuid=%" PRIu64 "\n", o->cpuid);
	printf("port_writes=%" PRIu64 "\n", o->ioports + NR_PHASES);
	printf("phase_markers=%d\n", NR_PHASES);
	printf("work_port_writes=%" PRIu64 "\n", o->ioports);
	if (o->verbose) {
		printf("userspace_exits=%" PRIu64 "\n", c->runs);
		printf("userspace_io_writes=%" PRIu64 "\n", c->io_out);
		printf("kvm_run_eintr=%" PRIu64 "\n", c->eintr);
	}
}

int main(int argc, char **argv)
{
	struct vm vm = { .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 };
	struct options o;
	struct layout l;
	struct counts c = { 0 };
	int ret;

	if (parse_options(argc, argv, &o))
		return 2;
	if (layout_compute(&o, &l))
		return 2;
	if ((size_t)(guest_code_end - guest_code) > PAGE_SIZE) {
		fprintf(stderr, "%s: guest code exceeds one page\n", prog);
		return 1;
	}
	ret = vm_create(&vm, &o, &l);
	if (!ret)
		ret = vm_run(&vm, &o, &c);
	if (!ret && c.io_out != o.ioports + NR_PHASES) {
		fprintf(stderr, "%s: saw %" PRIu64 " port writes, expected %" PRIu64 "\n",
			prog, c.io_out, o.ioports + NR_PHASES);
		ret = -1;
	}
	if (!ret && !o.quiet)
		summary_print(&o, &l, &c);
	vm_destroy(&vm, &l);
	return ret ? 1 : 0;
}
