// SPDX-License-Identifier: GPL-2.0-only
/*
 * pio-guest N [PORT] - a /dev/kvm guest that performs exactly N port writes
 * (`out %al,%dx` to PORT, default 0x8a) and then hlt.
 *
 * One vCPU in 64-bit long mode, 2 MiB of memory identity mapped by one
 * 2 MiB page.  Every `out` returns to this program as KVM_EXIT_IO (one
 * kvm:kvm_pio and one kvm:kvm_userspace_exit of reason IO), the hlt as
 * KVM_EXIT_HLT; it prints "pio=N" and exits 0 when it saw exactly that.
 *
 * Run without arguments (as `make check` does with every check program),
 * it checks itself with N = 10 and prints TAP; it skips without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_SIZE	(2u << 20)
#define PML4_GPA	0x1000
#define PDPT_GPA	0x2000
#define PD_GPA		0x3000
#define CODE_GPA	0x4000

/* rcx = N and dx = PORT come in registers. */
static const uint8_t guest_code[] = {
	0x48, 0x85, 0xc9,	/* 0: test %rcx,%rcx */
	0x74, 0x06,		/* 3: jz 11 */
	0xee,			/* 5: out %al,(%dx) */
	0x48, 0xff, 0xc9,	/* 6: dec %rcx */
	0x75, 0xfa,		/* 9: jnz 5 */
	0xf4,			/* 11: hlt */
};

static int fail(const char *what)
{
	fprintf(stderr, "pio-guest: %s: %s\n", what, strerror(errno));
	return -1;
}

static void segment(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	*s = (struct kvm_segment){ .limit = 0xffffffff, .selector = sel, .type = type,
				   .present = 1, .s = 1, .g = 1, .l = code, .db = !code };
}

static int setup_vcpu(int kvm, int vcpu, uint64_t n, uint16_t port)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2, .rcx = n, .rdx = port };
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));

	if (!cpuid)
		return fail("calloc");
	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
	    ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) {
		free(cpuid);
		return fail("KVM_SET_CPUID2");
	}
	free(cpuid);
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	segment(&sregs.cs, 0x08, 11, 1);
	segment(&sregs.ds, 0x10, 3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .selector = 0x18, .type = 11, .present = 1 };
	sregs.ldt = (struct kvm_segment){ .type = 2, .unusable = 1 };
	sregs.cr0 = 0x80050033;		/* PG WP NE ET MP PE */
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0x500;		/* LME LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS");
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");
	return 0;
}

/* Runs the guest; returns the number of port writes it saw, or -1. */
static int64_t run_guest(uint64_t n, uint16_t port)
{
	int kvm, vm, vcpu, run_size;
	struct kvm_userspace_memory_region region;
	struct kvm_run *run;
	uint8_t *mem;
	uint64_t *pt;
	int64_t seen = 0;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	pt = (uint64_t *)(mem + PML4_GPA);
	pt[0] = PDPT_GPA | 3;
	pt = (uint64_t *)(mem + PDPT_GPA);
	pt[0] = PD_GPA | 3;
	pt = (uint64_t *)(mem + PD_GPA);
	pt[0] = 0x83;			/* 2 MiB page at 0: present, writable, PS */
	memcpy(mem + CODE_GPA, guest_code, sizeof(guest_code));
	region = (struct kvm_userspace_memory_region){
		.memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap of kvm_run");
	if (setup_vcpu(kvm, vcpu, n, port))
		return -1;
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			return fail("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
		    run->io.port != port) {
			fprintf(stderr, "pio-guest: unexpected exit %u\n", run->exit_reason);
			return -1;
		}
		seen++;
	}
	munmap(run, run_size);
	munmap(mem, MEM_SIZE);
	close(vcpu);
	close(vm);
	close(kvm);
	return seen;
}

static int self_test(void)
{
	int64_t seen;

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm not usable here\n");
		return 0;
	}
	seen = run_guest(10, 0x80);
	printf("1..1\n%s 1 - the guest performed 10 port writes (saw %" PRId64 ")\n",
	       seen == 10 ? "ok" : "not ok", seen);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n;
	unsigned long port = 0x8a;	/* a port no other test guest uses (top-live.sh: 0x8c) */
	int64_t seen;
	char *end;

	if (argc == 1)
		return self_test();
	n = strtoull(argv[1], &end, 0);
	if (*end || (argc > 2 && ((port = strtoul(argv[2], &end, 0)) > 0xffff || *end)) ||
	    argc > 3) {
		fprintf(stderr, "usage: pio-guest N [PORT]\n");
		return 2;
	}
	seen = run_guest(n, (uint16_t)port);
	if (seen < 0)
		return 1;
	printf("pio=%" PRId64 "\n", seen);
	return (uint64_t)seen == n ? 0 : 1;
}
