// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit reasons: the VMX and SVM tables, and decoders for the details of one
 * exit.  Pure functions over constant tables: no I/O, no allocation, no
 * mutable state.
 *
 * Sources.  Names of codes that the kvm_exit tracepoint prints are exactly
 * the kernel's (VMX_EXIT_REASONS in arch/x86/include/uapi/asm/vmx.h and
 * SVM_EXIT_REASONS in arch/x86/include/uapi/asm/svm.h, as they appear in the
 * __print_symbolic tables of kvm_exit's format, Linux 6.1 to 6.18); those
 * entries have linux_names = true.  The other entries come from the Intel
 * SDM (vol. 3, appendix C, "VMX basic exit reasons"), the AMD APM (vol. 2,
 * appendix C, "SVM intercept exit codes") and the GHCB specification
 * (SEV-ES VMGEXIT software exit codes); they have linux_names = false and
 * names in the kernel's style: upper case for VMX, lower case for SVM.
 * EXIT_REASON_SEAMCALL (76) is defined by recent Linux headers but is not in
 * VMX_EXIT_REASONS, so kvm_exit prints it as a number: linux_names = false.
 * Codes named by none of these are left out and decode as UNKNOWN(0x..).
 *
 * Categories (enum kvmexit_category), where the choice is not obvious:
 *  - exception: exception intercepts (VMX EXCEPTION_NMI, SVM "XX excp"),
 *    except SVM "PF excp", which is paging.  TRIPLE_FAULT and SVM shutdown
 *    are not intercepted exceptions: other.
 *  - paging: EPT violation/misconfiguration (KVM's MMIO path under EPT is
 *    EPT_MISCONFIG: still paging), PML full, SPP, SVM npf, INVLPG, INVLPGA,
 *    INVLPGB, TLBSYNC, INVPCID, SEV-SNP page state changes.
 *  - io: port I/O instructions, SEV-ES MMIO requests.
 *  - interrupt: external interrupts, INIT/SIPI/SMI, NMI and interrupt
 *    windows, APIC virtualization (APIC access/write, EOI, TPR, AVIC), and
 *    the VMX preemption timer, which KVM uses to emulate the APIC timer.
 *  - instruction: intercepted ordinary instructions, including descriptor
 *    table accesses (GDTR_IDTR, LDTR_TR, SVM read/write_idtr...).
 *  - msr: RDMSR/WRMSR in all forms, and the SVM EFER write trap.
 *  - cr-dr: control and debug register access, CR write traps.
 *  - virt: VMX and SVM instructions (VMCALL, VMLAUNCH, INVEPT, INVVPID,
 *    VMFUNC, vmrun, vmmcall...), TDX TDCALL/SEAMCALL, SEV-ES vmgexit and
 *    guest requests to the hypervisor.
 *  - other: VM-entry failures, task switches, MTF, bus locks, notify exits,
 *    shutdown and everything else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define L true	/* kvm_exit prints this name */
#define S false	/* SDM/APM/GHCB only */
#define R(c, n, cat, lnx, d) \
	{ .code = (c), .name = (n), .description = (d), \
	  .category = KVMEXIT_CAT_##cat, .linux_names = (lnx) }

/* Intel SDM vol. 3, appendix C.  35, 38, 42, 82 and 83 are not defined. */
static const struct kvmexit_reason vmx_reasons[] = {
	R(0, "EXCEPTION_NMI", EXCEPTION, L, "Exception or NMI (vector and type in intr_info)"),
	R(1, "EXTERNAL_INTERRUPT", INTERRUPT, L, "External interrupt"),
	R(2, "TRIPLE_FAULT", OTHER, L, "Triple fault (guest shutdown)"),
	R(3, "INIT_SIGNAL", INTERRUPT, L, "INIT signal"),
	R(4, "SIPI_SIGNAL", INTERRUPT, L, "Start-up IPI in wait-for-SIPI state"),
	R(5, "IO_SMI", INTERRUPT, S, "I/O system-management interrupt"),
	R(6, "OTHER_SMI", INTERRUPT, S, "Other system-management interrupt"),
	R(7, "INTERRUPT_WINDOW", INTERRUPT, L, "Interrupt window: the guest can take an interrupt"),
	R(8, "NMI_WINDOW", INTERRUPT, L, "NMI window: the guest can take an NMI"),
	R(9, "TASK_SWITCH", OTHER, L, "Hardware task switch"),
	R(10, "CPUID", INSTRUCTION, L, "CPUID instruction"),
	R(11, "GETSEC", INSTRUCTION, S, "GETSEC instruction (SMX)"),
	R(12, "HLT", INSTRUCTION, L, "HLT instruction"),
	R(13, "INVD", INSTRUCTION, L, "INVD instruction"),
	R(14, "INVLPG", PAGING, L, "INVLPG instruction"),
	R(15, "RDPMC", INSTRUCTION, L, "RDPMC instruction"),
	R(16, "RDTSC", INSTRUCTION, L, "RDTSC instruction"),
	R(17, "RSM", INSTRUCTION, S, "RSM instruction in SMM"),
	R(18, "VMCALL", VIRT, L, "VMCALL instruction (hypercall)"),
	R(19, "VMCLEAR", VIRT, L, "VMCLEAR instruction"),
	R(20, "VMLAUNCH", VIRT, L, "VMLAUNCH instruction"),
	R(21, "VMPTRLD", VIRT, L, "VMPTRLD instruction"),
	R(22, "VMPTRST", VIRT, L, "VMPTRST instruction"),
	R(23, "VMREAD", VIRT, L, "VMREAD instruction"),
	R(24, "VMRESUME", VIRT, L, "VMRESUME instruction"),
	R(25, "VMWRITE", VIRT, L, "VMWRITE instruction"),
	R(26, "VMOFF", VIRT, L, "VMXOFF instruction"),
	R(27, "VMON", VIRT, L, "VMXON instruction"),
	R(28, "CR_ACCESS", CR_DR, L, "Control-register access (MOV CR, CLTS, LMSW)"),
	R(29, "DR_ACCESS", CR_DR, L, "Debug-register access (MOV DR)"),
	R(30, "IO_INSTRUCTION", IO, L, "I/O instruction (IN, OUT, INS, OUTS)"),
	R(31, "MSR_READ", MSR, L, "RDMSR instruction"),
	R(32, "MSR_WRITE", MSR, L, "WRMSR instruction"),
	R(33, "INVALID_STATE", OTHER, L, "VM-entry failure: invalid guest state"),
	R(34, "MSR_LOAD_FAIL", OTHER, L, "VM-entry failure: MSR loading"),
	R(36, "MWAIT_INSTRUCTION", INSTRUCTION, L, "MWAIT instruction"),
	R(37, "MONITOR_TRAP_FLAG", OTHER, L, "Monitor trap flag (single step)"),
	R(39, "MONITOR_INSTRUCTION", INSTRUCTION, L, "MONITOR instruction"),
	R(40, "PAUSE_INSTRUCTION", INSTRUCTION, L, "PAUSE instruction or PAUSE-loop exiting"),
	R(41, "MCE_DURING_VMENTRY", OTHER, L, "VM-entry failure: machine-check event"),
	R(43, "TPR_BELOW_THRESHOLD", INTERRUPT, L, "TPR below threshold (virtual APIC)"),
	R(44, "APIC_ACCESS", INTERRUPT, L, "Access to the APIC-access page"),
	R(45, "EOI_INDUCED", INTERRUPT, L, "Virtualized EOI"),
	R(46, "GDTR_IDTR", INSTRUCTION, L, "Access to GDTR or IDTR (LGDT, LIDT, SGDT, SIDT)"),
	R(47, "LDTR_TR", INSTRUCTION, L, "Access to LDTR or TR (LLDT, LTR, SLDT, STR)"),
	R(48, "EPT_VIOLATION", PAGING, L, "EPT violation"),
	R(49, "EPT_MISCONFIG", PAGING, L, "EPT misconfiguration (KVM's MMIO path)"),
	R(50, "INVEPT", VIRT, L, "INVEPT instruction"),
	R(51, "RDTSCP", INSTRUCTION, L, "RDTSCP instruction"),
	R(52, "PREEMPTION_TIMER", INTERRUPT, L, "VMX-preemption timer expired"),
	R(53, "INVVPID", VIRT, L, "INVVPID instruction"),
	R(54, "WBINVD", INSTRUCTION, L, "WBINVD or WBNOINVD instruction"),
	R(55, "XSETBV", INSTRUCTION, L, "XSETBV instruction"),
	R(56, "APIC_WRITE", INTERRUPT, L, "Write to the virtual APIC page (trap)"),
	R(57, "RDRAND", INSTRUCTION, L, "RDRAND instruction"),
	R(58, "INVPCID", PAGING, L, "INVPCID instruction"),
	R(59, "VMFUNC", VIRT, L, "VMFUNC instruction (VM function)"),
	R(60, "ENCLS", INSTRUCTION, L, "ENCLS instruction (SGX)"),
	R(61, "RDSEED", INSTRUCTION, L, "RDSEED instruction"),
	R(62, "PML_FULL", PAGING, L, "Page-modification log full"),
	R(63, "XSAVES", INSTRUCTION, L, "XSAVES instruction"),
	R(64, "XRSTORS", INSTRUCTION, L, "XRSTORS instruction"),
	R(65, "PCONFIG", INSTRUCTION, S, "PCONFIG instruction"),
	R(66, "SPP", PAGING, S, "Sub-page-permission (SPP) event"),
	R(67, "UMWAIT", INSTRUCTION, L, "UMWAIT instruction"),
	R(68, "TPAUSE", INSTRUCTION, L, "TPAUSE instruction"),
	R(69, "LOADIWKEY", INSTRUCTION, S, "LOADIWKEY instruction (Key Locker)"),
	R(70, "ENCLV", INSTRUCTION, S, "ENCLV instruction (SGX)"),
	R(71, "SGX_CONFLICT", OTHER, S, "SGX conflict"),
	R(72, "ENQCMD_PASID", INSTRUCTION, S, "ENQCMD PASID translation failure"),
	R(73, "ENQCMDS_PASID", INSTRUCTION, S, "ENQCMDS PASID translation failure"),
	R(74, "BUS_LOCK", OTHER, L, "Bus lock detected"),
	R(75, "NOTIFY", OTHER, L, "Notify window: no event window for too long"),
	R(76, "SEAMCALL", VIRT, S, "SEAMCALL instruction (TDX)"),
	R(77, "TDCALL", VIRT, L, "TDCALL instruction (TDX)"),
	R(78, "RDMSRLIST", MSR, S, "RDMSRLIST instruction"),
	R(79, "WRMSRLIST", MSR, S, "WRMSRLIST instruction"),
	R(80, "URDMSR", MSR, S, "URDMSR instruction"),
	R(81, "UWRMSR", MSR, S, "UWRMSR instruction"),
	R(84, "MSR_READ_IMM", MSR, L, "RDMSR with an immediate operand"),
	R(85, "MSR_WRITE_IMM", MSR, L, "WRMSRNS with an immediate operand"),
};

/*
 * AMD APM vol. 2, appendix C, plus the GHCB software exit codes that KVM
 * reports for SEV-ES guests.  The tracepoint's exit_reason is 32 bits, so
 * the negative codes (-1 invalid, -2 busy, ...) appear as 0xffffffff etc.
 * Exception vectors 2, 9, 15, 20, 22-27 and 31 have no intercept name.
 */
static const struct kvmexit_reason svm_reasons[] = {
	R(0x000, "read_cr0", CR_DR, L, "Read of CR0 (MOV from CR0)"),
	R(0x001, "read_cr1", CR_DR, S, "Read of CR1 (MOV from CR1)"),
	R(0x002, "read_cr2", CR_DR, L, "Read of CR2 (MOV from CR2)"),
	R(0x003, "read_cr3", CR_DR, L, "Read of CR3 (MOV from CR3)"),
	R(0x004, "read_cr4", CR_DR, L, "Read of CR4 (MOV from CR4)"),
	R(0x005, "read_cr5", CR_DR, S, "Read of CR5 (MOV from CR5)"),
	R(0x006, "read_cr6", CR_DR, S, "Read of CR6 (MOV from CR6)"),
	R(0x007, "read_cr7", CR_DR, S, "Read of CR7 (MOV from CR7)"),
	R(0x008, "read_cr8", CR_DR, L, "Read of CR8 (MOV from CR8)"),
	R(0x009, "read_cr9", CR_DR, S, "Read of CR9 (MOV from CR9)"),
	R(0x00a, "read_cr10", CR_DR, S, "Read of CR10 (MOV from CR10)"),
	R(0x00b, "read_cr11", CR_DR, S, "Read of CR11 (MOV from CR11)"),
	R(0x00c, "read_cr12", CR_DR, S, "Read of CR12 (MOV from CR12)"),
	R(0x00d, "read_cr13", CR_DR, S, "Read of CR13 (MOV from CR13)"),
	R(0x00e, "read_cr14", CR_DR, S, "Read of CR14 (MOV from CR14)"),
	R(0x00f, "read_cr15", CR_DR, S, "Read of CR15 (MOV from CR15)"),
	R(0x010, "write_cr0", CR_DR, L, "Write of CR0 (MOV to CR0)"),
	R(0x011, "write_cr1", CR_DR, S, "Write of CR1 (MOV to CR1)"),
	R(0x012, "write_cr2", CR_DR, L, "Write of CR2 (MOV to CR2)"),
	R(0x013, "write_cr3", CR_DR, L, "Write of CR3 (MOV to CR3)"),
	R(0x014, "write_cr4", CR_DR, L, "Write of CR4 (MOV to CR4)"),
	R(0x015, "write_cr5", CR_DR, S, "Write of CR5 (MOV to CR5)"),
	R(0x016, "write_cr6", CR_DR, S, "Write of CR6 (MOV to CR6)"),
	R(0x017, "write_cr7", CR_DR, S, "Write of CR7 (MOV to CR7)"),
	R(0x018, "write_cr8", CR_DR, L, "Write of CR8 (MOV to CR8)"),
	R(0x019, "write_cr9", CR_DR, S, "Write of CR9 (MOV to CR9)"),
	R(0x01a, "write_cr10", CR_DR, S, "Write of CR10 (MOV to CR10)"),
	R(0x01b, "write_cr11", CR_DR, S, "Write of CR11 (MOV to CR11)"),
	R(0x01c, "write_cr12", CR_DR, S, "Write of CR12 (MOV to CR12)"),
	R(0x01d, "write_cr13", CR_DR, S, "Write of CR13 (MOV to CR13)"),
	R(0x01e, "write_cr14", CR_DR, S, "Write of CR14 (MOV to CR14)"),
	R(0x01f, "write_cr15", CR_DR, S, "Write of CR15 (MOV to CR15)"),
	R(0x020, "read_dr0", CR_DR, L, "Read of DR0 (MOV from DR0)"),
	R(0x021, "read_dr1", CR_DR, L, "Read of DR1 (MOV from DR1)"),
	R(0x022, "read_dr2", CR_DR, L, "Read of DR2 (MOV from DR2)"),
	R(0x023, "read_dr3", CR_DR, L, "Read of DR3 (MOV from DR3)"),
	R(0x024, "read_dr4", CR_DR, L, "Read of DR4 (MOV from DR4)"),
	R(0x025, "read_dr5", CR_DR, L, "Read of DR5 (MOV from DR5)"),
	R(0x026, "read_dr6", CR_DR, L, "Read of DR6 (MOV from DR6)"),
	R(0x027, "read_dr7", CR_DR, L, "Read of DR7 (MOV from DR7)"),
	R(0x028, "read_dr8", CR_DR, S, "Read of DR8 (MOV from DR8)"),
	R(0x029, "read_dr9", CR_DR, S, "Read of DR9 (MOV from DR9)"),
	R(0x02a, "read_dr10", CR_DR, S, "Read of DR10 (MOV from DR10)"),
	R(0x02b, "read_dr11", CR_DR, S, "Read of DR11 (MOV from DR11)"),
	R(0x02c, "read_dr12", CR_DR, S, "Read of DR12 (MOV from DR12)"),
	R(0x02d, "read_dr13", CR_DR, S, "Read of DR13 (MOV from DR13)"),
	R(0x02e, "read_dr14", CR_DR, S, "Read of DR14 (MOV from DR14)"),
	R(0x02f, "read_dr15", CR_DR, S, "Read of DR15 (MOV from DR15)"),
	R(0x030, "write_dr0", CR_DR, L, "Write of DR0 (MOV to DR0)"),
	R(0x031, "write_dr1", CR_DR, L, "Write of DR1 (MOV to DR1)"),
	R(0x032, "write_dr2", CR_DR, L, "Write of DR2 (MOV to DR2)"),
	R(0x033, "write_dr3", CR_DR, L, "Write of DR3 (MOV to DR3)"),
	R(0x034, "write_dr4", CR_DR, L, "Write of DR4 (MOV to DR4)"),
	R(0x035, "write_dr5", CR_DR, L, "Write of DR5 (MOV to DR5)"),
	R(0x036, "write_dr6", CR_DR, L, "Write of DR6 (MOV to DR6)"),
	R(0x037, "write_dr7", CR_DR, L, "Write of DR7 (MOV to DR7)"),
	R(0x038, "write_dr8", CR_DR, S, "Write of DR8 (MOV to DR8)"),
	R(0x039, "write_dr9", CR_DR, S, "Write of DR9 (MOV to DR9)"),
	R(0x03a, "write_dr10", CR_DR, S, "Write of DR10 (MOV to DR10)"),
	R(0x03b, "write_dr11", CR_DR, S, "Write of DR11 (MOV to DR11)"),
	R(0x03c, "write_dr12", CR_DR, S, "Write of DR12 (MOV to DR12)"),
	R(0x03d, "write_dr13", CR_DR, S, "Write of DR13 (MOV to DR13)"),
	R(0x03e, "write_dr14", CR_DR, S, "Write of DR14 (MOV to DR14)"),
	R(0x03f, "write_dr15", CR_DR, S, "Write of DR15 (MOV to DR15)"),
	R(0x040, "DE excp", EXCEPTION, L, "Intercepted #DE (divide error)"),
	R(0x041, "DB excp", EXCEPTION, L, "Intercepted #DB (debug)"),
	R(0x043, "BP excp", EXCEPTION, L, "Intercepted #BP (breakpoint)"),
	R(0x044, "OF excp", EXCEPTION, L, "Intercepted #OF (overflow)"),
	R(0x045, "BR excp", EXCEPTION, L, "Intercepted #BR (BOUND range exceeded)"),
	R(0x046, "UD excp", EXCEPTION, L, "Intercepted #UD (invalid opcode)"),
	R(0x047, "NM excp", EXCEPTION, L, "Intercepted #NM (device not available)"),
	R(0x048, "DF excp", EXCEPTION, L, "Intercepted #DF (double fault)"),
	R(0x04a, "TS excp", EXCEPTION, L, "Intercepted #TS (invalid TSS)"),
	R(0x04b, "NP excp", EXCEPTION, L, "Intercepted #NP (segment not present)"),
	R(0x04c, "SS excp", EXCEPTION, L, "Intercepted #SS (stack-segment fault)"),
	R(0x04d, "GP excp", EXCEPTION, L, "Intercepted #GP (general protection)"),
	R(0x04e, "PF excp", PAGING, L, "Intercepted #PF (page fault)"),
	R(0x050, "MF excp", EXCEPTION, L, "Intercepted #MF (x87 floating-point error)"),
	R(0x051, "AC excp", EXCEPTION, L, "Intercepted #AC (alignment check)"),
	R(0x052, "MC excp", EXCEPTION, L, "Intercepted #MC (machine check)"),
	R(0x053, "XF excp", EXCEPTION, L, "Intercepted #XF (SIMD floating-point exception)"),
	R(0x055, "CP excp", EXCEPTION, S, "Intercepted #CP (control protection)"),
	R(0x05c, "HV excp", EXCEPTION, S, "Intercepted #HV (hypervisor injection)"),
	R(0x05d, "VC excp", EXCEPTION, S, "Intercepted #VC (VMM communication)"),
	R(0x05e, "SX excp", EXCEPTION, S, "Intercepted #SX (security exception)"),
	R(0x060, "interrupt", INTERRUPT, L, "Physical INTR (external interrupt)"),
	R(0x061, "nmi", INTERRUPT, L, "Physical NMI"),
	R(0x062, "smi", INTERRUPT, L, "Physical SMI"),
	R(0x063, "init", INTERRUPT, L, "Physical INIT"),
	R(0x064, "vintr", INTERRUPT, L, "Virtual interrupt window"),
	R(0x065, "cr0_sel_write", CR_DR, L, "Write of CR0 changing bits other than TS and MP"),
	R(0x066, "read_idtr", INSTRUCTION, L, "Read of IDTR (SIDT)"),
	R(0x067, "read_gdtr", INSTRUCTION, L, "Read of GDTR (SGDT)"),
	R(0x068, "read_ldtr", INSTRUCTION, L, "Read of LDTR (SLDT)"),
	R(0x069, "read_rt", INSTRUCTION, L, "Read of TR (STR)"),
	R(0x06a, "write_idtr", INSTRUCTION, L, "Write of IDTR (LIDT)"),
	R(0x06b, "write_gdtr", INSTRUCTION, L, "Write of GDTR (LGDT)"),
	R(0x06c, "write_ldtr", INSTRUCTION, L, "Write of LDTR (LLDT)"),
	R(0x06d, "write_rt", INSTRUCTION, L, "Write of TR (LTR)"),
	R(0x06e, "rdtsc", INSTRUCTION, L, "RDTSC instruction"),
	R(0x06f, "rdpmc", INSTRUCTION, L, "RDPMC instruction"),
	R(0x070, "pushf", INSTRUCTION, L, "PUSHF instruction"),
	R(0x071, "popf", INSTRUCTION, L, "POPF instruction"),
	R(0x072, "cpuid", INSTRUCTION, L, "CPUID instruction"),
	R(0x073, "rsm", INSTRUCTION, L, "RSM instruction"),
	R(0x074, "iret", INSTRUCTION, L, "IRET instruction"),
	R(0x075, "swint", INSTRUCTION, L, "Software interrupt (INTn)"),
	R(0x076, "invd", INSTRUCTION, L, "INVD instruction"),
	R(0x077, "pause", INSTRUCTION, L, "PAUSE instruction or pause filter"),
	R(0x078, "hlt", INSTRUCTION, L, "HLT instruction"),
	R(0x079, "invlpg", PAGING, L, "INVLPG instruction"),
	R(0x07a, "invlpga", PAGING, L, "INVLPGA instruction"),
	R(0x07b, "io", IO, L, "I/O instruction (IN, OUT, INS, OUTS)"),
	R(0x07c, "msr", MSR, L, "RDMSR or WRMSR instruction"),
	R(0x07d, "task_switch", OTHER, L, "Hardware task switch"),
	R(0x07e, "ferr_freeze", OTHER, L, "Processor frozen by FERR_FREEZE"),
	R(0x07f, "shutdown", OTHER, L, "Shutdown (triple fault)"),
	R(0x080, "vmrun", VIRT, L, "VMRUN instruction"),
	R(0x081, "hypercall", VIRT, L, "VMMCALL instruction (hypercall)"),
	R(0x082, "vmload", VIRT, L, "VMLOAD instruction"),
	R(0x083, "vmsave", VIRT, L, "VMSAVE instruction"),
	R(0x084, "stgi", VIRT, L, "STGI instruction"),
	R(0x085, "clgi", VIRT, L, "CLGI instruction"),
	R(0x086, "skinit", VIRT, L, "SKINIT instruction"),
	R(0x087, "rdtscp", INSTRUCTION, L, "RDTSCP instruction"),
	R(0x088, "icebp", INSTRUCTION, L, "ICEBP (INT1) instruction"),
	R(0x089, "wbinvd", INSTRUCTION, L, "WBINVD or WBNOINVD instruction"),
	R(0x08a, "monitor", INSTRUCTION, L, "MONITOR or MONITORX instruction"),
	R(0x08b, "mwait", INSTRUCTION, L, "MWAIT or MWAITX instruction"),
	R(0x08c, "mwait_cond", INSTRUCTION, S, "MWAIT or MWAITX with the monitor armed"),
	R(0x08d, "xsetbv", INSTRUCTION, L, "XSETBV instruction"),
	R(0x08e, "rdpru", INSTRUCTION, S, "RDPRU instruction"),
	R(0x08f, "write_efer_trap", MSR, L, "Write of EFER after the instruction (trap, SEV-ES)"),
	R(0x090, "write_cr0_trap", CR_DR, L, "Write of CR0 after the instruction (trap, SEV-ES)"),
	R(0x091, "write_cr1_trap", CR_DR, S, "Write of CR1 after the instruction (trap, SEV-ES)"),
	R(0x092, "write_cr2_trap", CR_DR, S, "Write of CR2 after the instruction (trap, SEV-ES)"),
	R(0x093, "write_cr3_trap", CR_DR, S, "Write of CR3 after the instruction (trap, SEV-ES)"),
	R(0x094, "write_cr4_trap", CR_DR, L, "Write of CR4 after the instruction (trap, SEV-ES)"),
	R(0x095, "write_cr5_trap", CR_DR, S, "Write of CR5 after the instruction (trap, SEV-ES)"),
	R(0x096, "write_cr6_trap", CR_DR, S, "Write of CR6 after the instruction (trap, SEV-ES)"),
	R(0x097, "write_cr7_trap", CR_DR, S, "Write of CR7 after the instruction (trap, SEV-ES)"),
	R(0x098, "write_cr8_trap", CR_DR, L, "Write of CR8 after the instruction (trap, SEV-ES)"),
	R(0x099, "write_cr9_trap", CR_DR, S, "Write of CR9 after the instruction (trap, SEV-ES)"),
	R(0x09a, "write_cr10_trap", CR_DR, S, "Write of CR10 after the instruction (trap, SEV-ES)"),
	R(0x09b, "write_cr11_trap", CR_DR, S, "Write of CR11 after the instruction (trap, SEV-ES)"),
	R(0x09c, "write_cr12_trap", CR_DR, S, "Write of CR12 after the instruction (trap, SEV-ES)"),
	R(0x09d, "write_cr13_trap", CR_DR, S, "Write of CR13 after the instruction (trap, SEV-ES)"),
	R(0x09e, "write_cr14_trap", CR_DR, S, "Write of CR14 after the instruction (trap, SEV-ES)"),
	R(0x09f, "write_cr15_trap", CR_DR, S, "Write of CR15 after the instruction (trap, SEV-ES)"),
	R(0x0a0, "invlpgb", PAGING, S, "INVLPGB instruction"),
	R(0x0a1, "invlpgb_illegal", PAGING, S, "INVLPGB instruction with illegal operands"),
	R(0x0a2, "invpcid", PAGING, L, "INVPCID instruction"),
	R(0x0a3, "mcommit", INSTRUCTION, S, "MCOMMIT instruction"),
	R(0x0a4, "tlbsync", PAGING, S, "TLBSYNC instruction"),
	R(0x0a5, "buslock", OTHER, L, "Bus lock with the bus lock threshold counter at 0"),
	R(0x0a6, "idle-halt", INSTRUCTION, L, "HLT instruction with no pending interrupt"),
	R(0x400, "npf", PAGING, L, "Nested page fault"),
	R(0x401, "avic_incomplete_ipi", INTERRUPT, L, "AVIC: virtual IPI delivery not completed"),
	R(0x402, "avic_unaccelerated_access", INTERRUPT, L, "AVIC: vAPIC register access not accelerated"),
	R(0x403, "vmgexit", VIRT, L, "VMGEXIT instruction (SEV-ES)"),
	R(0x80000001, "vmgexit_mmio_read", IO, L, "SEV-ES guest request: MMIO read"),
	R(0x80000002, "vmgexit_mmio_write", IO, L, "SEV-ES guest request: MMIO write"),
	R(0x80000003, "vmgexit_nmi_complete", INTERRUPT, L, "SEV-ES guest request: NMI handling complete"),
	R(0x80000004, "vmgexit_ap_hlt_loop", OTHER, L, "SEV-ES guest request: AP parked in HLT loop"),
	R(0x80000005, "vmgexit_ap_jump_table", OTHER, L, "SEV-ES guest request: get or set AP jump table"),
	R(0x80000010, "vmgexit_page_state_change", PAGING, L, "SEV-SNP guest request: page state change"),
	R(0x80000011, "vmgexit_guest_request", VIRT, L, "SEV-SNP guest request: message to the firmware"),
	R(0x80000012, "vmgexit_ext_guest_request", VIRT, L, "SEV-SNP guest request: extended message to the firmware"),
	R(0x80000013, "vmgexit_ap_creation", OTHER, L, "SEV-SNP guest request: create or destroy an AP"),
	R(0x80000014, "vmgexit_hv_doorbell_page", INTERRUPT, S, "SEV-SNP guest request: #HV doorbell page"),
	R(0x80000018, "vmgexit_snp_run_vmpl", VIRT, S, "SEV-SNP guest request: run at another VMPL"),
	R(0x8000001a, "vmgexit_savic", INTERRUPT, S, "SEV-SNP guest request: Secure AVIC"),
	R(0x8000fffd, "vmgexit_hypervisor_feature", VIRT, L, "SEV-ES guest request: hypervisor features"),
	R(0x8000fffe, "vmgexit_term_request", OTHER, S, "SEV-ES guest request: terminate the guest"),
	R(0x8000ffff, "vmgexit_unsupported_event", OTHER, S, "SEV-ES guest: unsupported event"),
	R(0xfffffffc, "invalid_pmc", OTHER, S, "VMRUN failed: invalid PMC configuration (-4)"),
	R(0xfffffffd, "idle_required", OTHER, S, "VMRUN failed: idle required (-3)"),
	R(0xfffffffe, "busy", OTHER, S, "VMRUN failed: the VMSA is busy (-2)"),
	R(0xffffffff, "invalid_guest_state", OTHER, L, "VMRUN failed: invalid guest state (-1)"),
};

#undef R
#undef L
#undef S

/* ------------------------------------------------------------------ */
/* Names and lookup                                                    */
/* ------------------------------------------------------------------ */

static const char *const category_names[KVMEXIT_CAT__MAX] = {
	[KVMEXIT_CAT_OTHER] = "other",
	[KVMEXIT_CAT_PAGING] = "paging",
	[KVMEXIT_CAT_IO] = "io",
	[KVMEXIT_CAT_INTERRUPT] = "interrupt",
	[KVMEXIT_CAT_INSTRUCTION] = "instruction",
	[KVMEXIT_CAT_MSR] = "msr",
	[KVMEXIT_CAT_CR_DR] = "cr-dr",
	[KVMEXIT_CAT_EXCEPTION] = "exception",
	[KVMEXIT_CAT_VIRT] = "virt",
};

KVMEXIT_API const char *kvmexit_isa_name(enum kvmexit_isa isa)
{
	switch (isa) {
	case KVMEXIT_ISA_VMX:
		return "VMX";
	case KVMEXIT_ISA_SVM:
		return "SVM";
	default:
		return "unknown";
	}
}

KVMEXIT_API const char *kvmexit_category_name(enum kvmexit_category cat)
{
	if ((unsigned int)cat >= KVMEXIT_CAT__MAX)
		return "unknown";
	return category_names[cat];
}

KVMEXIT_API const struct kvmexit_reason *
kvmexit_reason_table(enum kvmexit_isa isa, size_t *count)
{
	const struct kvmexit_reason *table = NULL;
	size_t n = 0;

	switch (isa) {
	case KVMEXIT_ISA_VMX:
		table = vmx_reasons;
		n = ARRAY_SIZE(vmx_reasons);
		break;
	case KVMEXIT_ISA_SVM:
		table = svm_reasons;
		n = ARRAY_SIZE(svm_reasons);
		break;
	default:
		break;
	}
	if (count)
		*count = n;
	return table;
}

KVMEXIT_API const struct kvmexit_reason *
kvmexit_reason_lookup(enum kvmexit_isa isa, uint32_t code)
{
	const struct kvmexit_reason *table;
	size_t lo = 0, hi;

	table = kvmexit_reason_table(isa, &hi);
	if (isa == KVMEXIT_ISA_VMX)
		code = kvmexit_vmx_basic(code);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (table[mid].code == code)
			return &table[mid];
		if (table[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * A bounded writer with snprintf's contract: it always NUL-terminates a
 * non-empty buffer and counts the length it would have written.
 */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_init(struct out *o, char *buf, size_t size)
{
	o->buf = buf;
	o->size = buf ? size : 0;
	o->len = 0;
	if (o->size)
		o->buf[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void out_printf(struct out *o, const char *fmt, ...)
{
	size_t room = o->len < o->size ? o->size - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static int out_done(const struct out *o)
{
	return o->len > INT32_MAX ? INT32_MAX : (int)o->len;
}

static bool isa_valid(enum kvmexit_isa isa)
{
	return isa == KVMEXIT_ISA_VMX || isa == KVMEXIT_ISA_SVM;
}

static uint32_t reason_code(enum kvmexit_isa isa, uint32_t exit_reason)
{
	return isa == KVMEXIT_ISA_VMX ? kvmexit_vmx_basic(exit_reason) : exit_reason;
}

KVMEXIT_API int kvmexit_reason_name(enum kvmexit_isa isa, uint32_t exit_reason,
				    char *buf, size_t size)
{
	const struct kvmexit_reason *r;
	uint32_t code = reason_code(isa, exit_reason);
	struct out o;

	if (!isa_valid(isa) || (!buf && size))
		return -EINVAL;
	out_init(&o, buf, size);
	r = kvmexit_reason_lookup(isa, code);
	if (r)
		out_printf(&o, "%s", r->name);
	else
		out_printf(&o, "UNKNOWN(0x%x)", code);
	return out_done(&o);
}

/* Parses a whole unsigned 32-bit number, decimal or 0x hex. */
static int parse_u32(const char *s, size_t len, uint32_t *val)
{
	unsigned long long v = 0;
	unsigned int base = 10, digit;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			digit = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			digit = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			digit = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v * base + digit;
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*val = (uint32_t)v;
	return 0;
}

KVMEXIT_API int kvmexit_reason_parse(enum kvmexit_isa isa, const char *text,
				     uint32_t *code)
{
	const struct kvmexit_reason *table;
	size_t n, i, len;

	if (!isa_valid(isa) || !text || !code)
		return -EINVAL;
	table = kvmexit_reason_table(isa, &n);
	for (i = 0; i < n; i++) {
		if (!strcasecmp(text, table[i].name)) {
			*code = table[i].code;
			return 0;
		}
	}
	len = strlen(text);
	if (len > 9 && !strncasecmp(text, "UNKNOWN(", 8) && text[len - 1] == ')')
		return parse_u32(text + 8, len - 9, code);
	return parse_u32(text, len, code);
}

/* Bits 31..16 of a VMX exit_reason, highest first (the kernel prints 31). */
static const struct {
	uint32_t bit;
	const char *name;
} vmx_flag_names[] = {
	{ KVMEXIT_VMX_FLAG_FAILED_VMENTRY, "FAILED_VMENTRY" },
	{ KVMEXIT_VMX_FLAG_SMI_FROM_VMX_ROOT, "SMI_FROM_VMX_ROOT" },
	{ KVMEXIT_VMX_FLAG_SMI_PENDING_MTF, "SMI_PENDING_MTF" },
	{ KVMEXIT_VMX_FLAG_ENCLAVE, "ENCLAVE_MODE" },
	{ KVMEXIT_VMX_FLAG_BUS_LOCK, "BUS_LOCK_DETECTED" },
};

KVMEXIT_API int kvmexit_vmx_flags_str(uint32_t exit_reason, char *buf,
				      size_t size)
{
	uint32_t rest = kvmexit_vmx_flags(exit_reason);
	const char *sep = "";
	struct out o;
	size_t i;

	if (!buf && size)
		return -EINVAL;
	out_init(&o, buf, size);
	for (i = 0; i < ARRAY_SIZE(vmx_flag_names); i++) {
		if (!(rest & vmx_flag_names[i].bit))
			continue;
		out_printf(&o, "%s%s", sep, vmx_flag_names[i].name);
		rest &= ~vmx_flag_names[i].bit;
		sep = " ";
	}
	if (rest)
		out_printf(&o, "%s0x%x", sep, rest);
	return out_done(&o);
}

/* ------------------------------------------------------------------ */
/* Exit details                                                        */
/* ------------------------------------------------------------------ */

/*
 * The kvm_exit fields, as the kernel fills them (vmx_get_exit_info() and
 * svm_get_exit_info()):
 *   VMX  info1 = exit qualification, info2 = IDT-vectoring information,
 *        intr_info = VM-exit interruption information, error_code = VM-exit
 *        interruption error code (0 unless intr_info says it is valid); after
 *        a failed VM entry only info1 is set.  No guest-physical address.
 *   SVM  info1 = EXITINFO1, info2 = EXITINFO2, intr_info = EXITINTINFO (the
 *        event that was being delivered), error_code = its error code.
 *
 * Detail keys.  A key means something only together with its ISA and basic
 * reason; 0 means "no detail".  DETAIL_VALID keeps every real key non-zero.
 *   VMX EXCEPTION_NMI    VALID | type << 8 | vector     (from intr_info;
 *                        type 2 NMI, 3 hardware exception, 5 privileged
 *                        software exception (INT1), 6 software exception)
 *   VMX CR_ACCESS        VALID | access << 4 | cr       (access 0 mov-to-cr,
 *                        1 mov-from-cr, 2 clts, 3 lmsw)
 *   VMX DR_ACCESS        VALID | direction << 4 | dr    (1 = mov-from-dr)
 *   VMX IO_INSTRUCTION,
 *   SVM io               VALID | IN | port               (IN bit 17 set for
 *                        in/ins, port in bits 15:0)
 *   VMX EPT_VIOLATION,
 *   SVM npf, PF excp     VALID | RSVD | PRESENT | access (access 1 read,
 *                        2 write, 3 fetch, 0 none; PRESENT bit 4, RSVD
 *                        bit 5, the latter for SVM only)
 *   SVM msr              VALID | 0 (rdmsr) or VALID | 1 (wrmsr)
 *   VMX, any reason      DETAIL_FAILED_ENTRY when exit_reason has bit 31
 *                        (a failed VM entry; the other fields mean nothing)
 *   any reason           VALID | OTHER: every detail but those counted
 *                        apart (kvmexit record --count counts #PF and CR3
 *                        accesses apart from the rest of their reason)
 * Keys never change meaning once released: add bits, never reuse them.
 */
#define DETAIL_VALID		(1u << 16)
#define DETAIL_FAILED_ENTRY	(DETAIL_VALID | (1u << 30))
#define DETAIL_IO_IN		(1u << 17)
#define DETAIL_MEM_PRESENT	(1u << 4)
#define DETAIL_MEM_RSVD		(1u << 5)
#define DETAIL_OTHER		(1u << 18)

enum {
	VMX_EXCEPTION_NMI = 0,
	VMX_CR_ACCESS = 28,
	VMX_DR_ACCESS = 29,
	VMX_IO_INSTRUCTION = 30,
	VMX_EPT_VIOLATION = 48,
	SVM_EXCP_PF = 0x04e,
	SVM_IOIO = 0x07b,
	SVM_MSR = 0x07c,
	SVM_NPF = 0x400,
};

enum { ACC_NONE, ACC_READ, ACC_WRITE, ACC_FETCH };

static const char *const access_names[] = { "access", "read", "write", "fetch" };

static const char *const gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static const char *const exception_names[32] = {
	[0] = "#DE", [1] = "#DB", [3] = "#BP", [4] = "#OF",
	[5] = "#BR", [6] = "#UD", [7] = "#NM", [8] = "#DF", [10] = "#TS",
	[11] = "#NP", [12] = "#SS", [13] = "#GP", [14] = "#PF", [16] = "#MF",
	[17] = "#AC", [18] = "#MC", [19] = "#XM", [20] = "#VE", [21] = "#CP",
	[28] = "#HV", [29] = "#VC", [30] = "#SX",
};

/* VM-exit interruption information (SDM 25.9.2). */
#define INTR_INFO_VECTOR(i)	((i) & 0xffu)
#define INTR_INFO_TYPE(i)	(((i) >> 8) & 7u)
#define INTR_INFO_ERROR_VALID	(1u << 11)
#define INTR_INFO_VALID		(1u << 31)
enum { INTR_TYPE_NMI = 2, INTR_TYPE_HW_EXC = 3, INTR_TYPE_PRIV_SW_EXC = 5,
       INTR_TYPE_SW_EXC = 6 };

static void name_exception(struct out *o, uint32_t key)
{
	unsigned int vector = INTR_INFO_VECTOR(key), type = INTR_INFO_TYPE(key);
	const char *mnem = vector < 32 ? exception_names[vector] : NULL;

	switch (type) {
	case INTR_TYPE_NMI:
		out_printf(o, "NMI");
		return;
	case INTR_TYPE_HW_EXC:
	case INTR_TYPE_PRIV_SW_EXC:
	case INTR_TYPE_SW_EXC:
		if (mnem)
			out_printf(o, "%s", mnem);
		else
			out_printf(o, "vector%u", vector);
		if (type == INTR_TYPE_PRIV_SW_EXC)
			out_printf(o, "(icebp)");
		return;
	default:
		out_printf(o, "type%u:vector%u", type, vector);
		return;
	}
}

static void name_cr(struct out *o, uint32_t key)
{
	unsigned int cr = key & 0xf;

	switch ((key >> 4) & 3) {
	case 0:
		out_printf(o, "mov-to-cr%u", cr);
		break;
	case 1:
		out_printf(o, "mov-from-cr%u", cr);
		break;
	case 2:
		out_printf(o, "clts");
		break;
	default:
		out_printf(o, "lmsw");
		break;
	}
}

static void name_dr(struct out *o, uint32_t key)
{
	out_printf(o, "mov-%s-dr%u", (key >> 4) & 1 ? "from" : "to", key & 7);
}

static void name_io(struct out *o, uint32_t key)
{
	out_printf(o, "%s:0x%x", key & DETAIL_IO_IN ? "in" : "out", key & 0xffff);
}

static void name_mem(struct out *o, uint32_t key)
{
	out_printf(o, "%s", access_names[key & 3]);
	if (!(key & DETAIL_MEM_PRESENT))
		out_printf(o, "-notpresent");
	if (key & DETAIL_MEM_RSVD)
		out_printf(o, "-rsvd");
}

/* Keys, from the raw fields. */

static uint32_t vmx_exception_key(const struct kvmexit_exit *e)
{
	if (!(e->intr_info & INTR_INFO_VALID))
		return 0;
	return DETAIL_VALID | (e->intr_info & 0x7ffu & ~INTR_INFO_ERROR_VALID);
}

static uint32_t vmx_cr_key(uint64_t qual)
{
	return DETAIL_VALID | (uint32_t)(qual & 0x3f);
}

static uint32_t vmx_dr_key(uint64_t qual)
{
	return DETAIL_VALID | (uint32_t)(qual & 0x17);
}

static uint32_t io_key(bool in, uint64_t port)
{
	return DETAIL_VALID | (in ? DETAIL_IO_IN : 0) | (uint32_t)(port & 0xffff);
}

/* EPT violation qualification (SDM 28.3.3.2). */
#define EPT_READ	(1u << 0)
#define EPT_WRITE	(1u << 1)
#define EPT_FETCH	(1u << 2)
#define EPT_PERM_MASK	(7u << 3)
#define EPT_GLA_VALID	(1u << 7)
#define EPT_GLA_FINAL	(1u << 8)
#define EPT_NMI_UNBLOCK	(1u << 12)

static uint32_t ept_key(uint64_t qual)
{
	uint32_t key = DETAIL_VALID | ACC_NONE;

	if (qual & EPT_FETCH)
		key = DETAIL_VALID | ACC_FETCH;
	else if (qual & EPT_WRITE)
		key = DETAIL_VALID | ACC_WRITE;
	else if (qual & EPT_READ)
		key = DETAIL_VALID | ACC_READ;
	if (qual & EPT_PERM_MASK)
		key |= DETAIL_MEM_PRESENT;
	return key;
}

/* SVM nested page fault error code, in EXITINFO1 (APM 15.25.6). */
#define NPF_P		(1ull << 0)
#define NPF_W		(1ull << 1)
#define NPF_U		(1ull << 2)
#define NPF_RSVD	(1ull << 3)
#define NPF_ID		(1ull << 4)
#define NPF_FINAL	(1ull << 32)
#define NPF_WALK	(1ull << 33)

static uint32_t npf_key(uint64_t err)
{
	uint32_t key = DETAIL_VALID | ACC_READ;

	if (err & NPF_ID)
		key = DETAIL_VALID | ACC_FETCH;
	else if (err & NPF_W)
		key = DETAIL_VALID | ACC_WRITE;
	if (err & NPF_P)
		key |= DETAIL_MEM_PRESENT;
	if (err & NPF_RSVD)
		key |= DETAIL_MEM_RSVD;
	return key;
}

/* SVM IOIO EXITINFO1 (APM 15.10.2). */
#define IOIO_IN		(1ull << 0)
#define IOIO_STR	(1ull << 2)
#define IOIO_REP	(1ull << 3)
#define IOIO_SIZE(i)	(((i) >> 4) & 7u)	/* SZ8, SZ16, SZ32 one-hot */

/* VMX I/O instruction qualification (SDM table 28-5). */
#define VMX_IO_SIZE(q)	((unsigned int)((q) & 7) + 1)
#define VMX_IO_IN	(1ull << 3)
#define VMX_IO_STR	(1ull << 4)
#define VMX_IO_REP	(1ull << 5)

KVMEXIT_API uint32_t kvmexit_exit_detail(const struct kvmexit_exit *e)
{
	if (!e)
		return 0;
	if (e->isa == KVMEXIT_ISA_VMX) {
		/* Shown as the kernel's flag printing does: FAILED_VMENTRY. */
		if (e->exit_reason & KVMEXIT_VMX_FLAG_FAILED_VMENTRY)
			return DETAIL_FAILED_ENTRY;
		switch (kvmexit_vmx_basic(e->exit_reason)) {
		case VMX_EXCEPTION_NMI:
			return vmx_exception_key(e);
		case VMX_CR_ACCESS:
			return vmx_cr_key(e->info1);
		case VMX_DR_ACCESS:
			return vmx_dr_key(e->info1);
		case VMX_IO_INSTRUCTION:
			return io_key(e->info1 & VMX_IO_IN, e->info1 >> 16);
		case VMX_EPT_VIOLATION:
			return ept_key(e->info1);
		}
	} else if (e->isa == KVMEXIT_ISA_SVM) {
		switch (e->exit_reason) {
		case SVM_IOIO:
			return io_key(e->info1 & IOIO_IN, e->info1 >> 16);
		case SVM_NPF:
		case SVM_EXCP_PF:	/* the #PF error code: the same bits */
			return npf_key(e->info1);
		case SVM_MSR:
			return DETAIL_VALID | (e->info1 ? 1 : 0);
		}
	}
	return 0;
}

/*
 * The bits of info1 and intr_info that kvmexit_exit_detail() reads for an
 * exit of this ISA and reason (the VMX basic reason), so that a source that
 * keeps only those bits (the BPF program) gets the same detail keys.
 * Both 0 for reasons without details.
 */
void kx_exit_detail_masks(enum kvmexit_isa isa, uint32_t reason, uint64_t *info1,
			  uint32_t *intr_info)
{
	*info1 = 0;
	*intr_info = 0;
	if (isa == KVMEXIT_ISA_VMX) {
		switch (kvmexit_vmx_basic(reason)) {
		case VMX_EXCEPTION_NMI:
			*intr_info = INTR_INFO_VALID | 0x7ffu;
			break;
		case VMX_CR_ACCESS:
			*info1 = 0x3f;
			break;
		case VMX_DR_ACCESS:
			*info1 = 0x17;
			break;
		case VMX_IO_INSTRUCTION:
			*info1 = VMX_IO_IN | 0xffff0000ull;
			break;
		case VMX_EPT_VIOLATION:
			*info1 = EPT_READ | EPT_WRITE | EPT_FETCH | EPT_PERM_MASK;
			break;
		}
	} else if (isa == KVMEXIT_ISA_SVM) {
		switch (reason) {
		case SVM_IOIO:
			*info1 = IOIO_IN | 0xffff0000ull;
			break;
		case SVM_NPF:
		case SVM_EXCP_PF:
			*info1 = NPF_P | NPF_W | NPF_RSVD | NPF_ID;
			break;
		case SVM_MSR:
			*info1 = ~0ull;		/* 0 or 1: rdmsr or wrmsr */
			break;
		}
	}
}

#define SVM_READ_CR3	0x003
#define SVM_WRITE_CR3	0x013
#define CR_KEY_ACCESS(k)	(((k) >> 4) & 3u)
#define CR_KEY_CR(k)		((k) & 0xfu)

KVMEXIT_API enum kvmexit_category kvmexit_detail_category(enum kvmexit_isa isa,
							  uint32_t exit_reason,
							  uint32_t detail)
{
	uint32_t code = reason_code(isa, exit_reason);
	const struct kvmexit_reason *r = kvmexit_reason_lookup(isa, code);
	bool valid = (detail & DETAIL_VALID) && !(detail & DETAIL_OTHER);

	if (isa == KVMEXIT_ISA_VMX && valid && code == VMX_EXCEPTION_NMI &&
	    INTR_INFO_TYPE(detail) == INTR_TYPE_HW_EXC && INTR_INFO_VECTOR(detail) == 14)
		return KVMEXIT_CAT_PAGING;
	if (isa == KVMEXIT_ISA_VMX && valid && code == VMX_CR_ACCESS &&
	    CR_KEY_ACCESS(detail) <= 1 && CR_KEY_CR(detail) == 3)
		return KVMEXIT_CAT_PAGING;
	if (isa == KVMEXIT_ISA_SVM && (code == SVM_READ_CR3 || code == SVM_WRITE_CR3))
		return KVMEXIT_CAT_PAGING;
	return r ? r->category : KVMEXIT_CAT_OTHER;
}

/* Writes the name of a key; returns false when the reason has no keys. */
static bool name_key(struct out *o, enum kvmexit_isa isa, uint32_t code,
		     uint32_t key)
{
	if (isa == KVMEXIT_ISA_VMX) {
		if (key == DETAIL_FAILED_ENTRY) {
			out_printf(o, "FAILED_VMENTRY");
			return true;
		}
		switch (code) {
		case VMX_EXCEPTION_NMI:
			name_exception(o, key);
			return true;
		case VMX_CR_ACCESS:
			name_cr(o, key);
			return true;
		case VMX_DR_ACCESS:
			name_dr(o, key);
			return true;
		case VMX_IO_INSTRUCTION:
			name_io(o, key);
			return true;
		case VMX_EPT_VIOLATION:
			name_mem(o, key);
			return true;
		}
	} else {
		switch (code) {
		case SVM_IOIO:
			name_io(o, key);
			return true;
		case SVM_NPF:
		case SVM_EXCP_PF:
			name_mem(o, key);
			return true;
		case SVM_MSR:
			out_printf(o, "%s", key & 1 ? "wrmsr" : "rdmsr");
			return true;
		}
	}
	return false;
}

KVMEXIT_API int kvmexit_detail_name(enum kvmexit_isa isa, uint32_t exit_reason,
				    uint32_t detail, char *buf, size_t size)
{
	struct out o;

	if (!isa_valid(isa) || (!buf && size))
		return -EINVAL;
	out_init(&o, buf, size);
	if (!detail)
		return 0;
	if (detail == (DETAIL_VALID | DETAIL_OTHER))
		out_printf(&o, "other");
	else if (!(detail & DETAIL_VALID) ||
	    !name_key(&o, isa, reason_code(isa, exit_reason), detail))
		out_printf(&o, "0x%x", detail);
	return out_done(&o);
}

/* Full descriptions. */

static void describe_vmx_exception(struct out *o, const struct kvmexit_exit *e)
{
	uint32_t key = vmx_exception_key(e);

	if (!key)
		return;
	name_exception(o, key);
	if (e->intr_info & INTR_INFO_ERROR_VALID)
		out_printf(o, " error 0x%x", e->error_code);
	if (INTR_INFO_TYPE(key) == INTR_TYPE_HW_EXC && INTR_INFO_VECTOR(key) == 14)
		out_printf(o, " addr 0x%llx", (unsigned long long)e->info1);
}

static void describe_vmx_cr(struct out *o, uint64_t qual)
{
	const char *gpr = gpr_names[(qual >> 8) & 0xf];

	name_cr(o, vmx_cr_key(qual));
	switch ((qual >> 4) & 3) {
	case 0:
		out_printf(o, " from %s", gpr);
		break;
	case 1:
		out_printf(o, " to %s", gpr);
		break;
	case 3:
		out_printf(o, " 0x%x%s", (unsigned int)((qual >> 16) & 0xffff),
			   qual & (1u << 6) ? " from memory" : "");
		break;
	}
}

static void describe_vmx_dr(struct out *o, uint64_t qual)
{
	name_dr(o, vmx_dr_key(qual));
	out_printf(o, " %s %s", qual & (1u << 4) ? "to" : "from",
		   gpr_names[(qual >> 8) & 0xf]);
}

static void describe_io(struct out *o, bool in, unsigned int port,
			unsigned int size, bool rep, bool string)
{
	out_printf(o, "%s port 0x%x size %u%s%s", in ? "in" : "out", port, size,
		   rep ? " rep" : "", string ? " string" : "");
}

static void describe_ept(struct out *o, uint64_t qual)
{
	name_mem(o, ept_key(qual));
	if (qual & EPT_PERM_MASK)
		out_printf(o, " perms %c%c%c", qual & (1u << 3) ? 'r' : '-',
			   qual & (1u << 4) ? 'w' : '-', qual & (1u << 5) ? 'x' : '-');
	if (qual & EPT_GLA_VALID)
		out_printf(o, " gla-valid %s", qual & EPT_GLA_FINAL ? "final" : "walk");
	if (qual & EPT_NMI_UNBLOCK)
		out_printf(o, " nmi-unblocking");
}

static void describe_npf(struct out *o, const struct kvmexit_exit *e)
{
	name_mem(o, npf_key(e->info1));
	out_printf(o, " gpa 0x%llx", (unsigned long long)e->info2);
	if (e->info1 & NPF_U)
		out_printf(o, " user");
	if (e->info1 & NPF_FINAL)
		out_printf(o, " final");
	if (e->info1 & NPF_WALK)
		out_printf(o, " walk");
}

static void describe_svm_io(struct out *o, uint64_t info1)
{
	unsigned int sz = IOIO_SIZE(info1);
	unsigned int size = sz & 4 ? 4 : sz & 2 ? 2 : 1;

	describe_io(o, info1 & IOIO_IN, (unsigned int)(info1 >> 16) & 0xffff,
		    size, info1 & IOIO_REP, info1 & IOIO_STR);
}

static void describe_vmx(struct out *o, const struct kvmexit_exit *e)
{
	uint64_t q = e->info1;

	if (e->exit_reason & KVMEXIT_VMX_FLAG_FAILED_VMENTRY) {
		out_printf(o, "FAILED_VMENTRY");
		return;
	}
	switch (kvmexit_vmx_basic(e->exit_reason)) {
	case VMX_EXCEPTION_NMI:
		describe_vmx_exception(o, e);
		break;
	case VMX_CR_ACCESS:
		describe_vmx_cr(o, q);
		break;
	case VMX_DR_ACCESS:
		describe_vmx_dr(o, q);
		break;
	case VMX_IO_INSTRUCTION:
		describe_io(o, q & VMX_IO_IN, (unsigned int)(q >> 16) & 0xffff,
			    VMX_IO_SIZE(q), q & VMX_IO_REP, q & VMX_IO_STR);
		break;
	case VMX_EPT_VIOLATION:
		describe_ept(o, q);
		break;
	}
}

static void describe_svm(struct out *o, const struct kvmexit_exit *e)
{
	switch (e->exit_reason) {
	case SVM_EXCP_PF:
		out_printf(o, "#PF error 0x%llx addr 0x%llx",
			   (unsigned long long)e->info1, (unsigned long long)e->info2);
		break;
	case SVM_IOIO:
		describe_svm_io(o, e->info1);
		break;
	case SVM_NPF:
		describe_npf(o, e);
		break;
	case SVM_MSR:
		out_printf(o, "%s", e->info1 ? "wrmsr" : "rdmsr");
		break;
	}
}

KVMEXIT_API int kvmexit_exit_describe(const struct kvmexit_exit *exit,
				      char *buf, size_t size)
{
	struct out o;

	if (!exit || (!buf && size))
		return -EINVAL;
	out_init(&o, buf, size);
	if (exit->isa == KVMEXIT_ISA_VMX)
		describe_vmx(&o, exit);
	else if (exit->isa == KVMEXIT_ISA_SVM)
		describe_svm(&o, exit);
	return out_done(&o);
}
