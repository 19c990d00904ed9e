#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# tests/lab/count-exits on kvm_exit lines of kvm_intel as the lab records
# them (tracefs text; perf script prints the same): the VMX reasons are
# named by kind from intr_info and info1, and -x splits the phases at the
# IO_INSTRUCTION exits to port 0xe9.
src="${top_srcdir:-.}"
ce="$src/tests/lab/count-exits"
echo "1..2"
t=$(mktemp "${TMPDIR:-/tmp}/kvmexit-count-exits.XXXXXX")
trap 'rm -f "$t"' EXIT
x()
{
	printf ' kvmexit-guest-1 [000] d..1. 1.0: kvm_exit: vcpu 0 reason %s rip 0x1000 info1 0x%016x info2 0x0000000000000000 intr_info 0x%08x error_code 0x00000000\n' "$@"
}
{
	x EXCEPTION_NMI 0 0x80000b0e		# #PF
	x EXCEPTION_NMI 0 0x80001b0e		# #PF, NMI unblocking bit
	x EXCEPTION_NMI 0 0x80000306		# #UD
	x IO_INSTRUCTION 0xe90040 0		# out 0xe9: ends phase 1
	x CR_ACCESS 0x003 0			# mov rax -> cr3
	x CR_ACCESS 0x513 0			# mov cr3 -> rbp
	x CR_ACCESS 0x004 0			# mov rax -> cr4
	x IO_INSTRUCTION 0x800040 0		# out 0x80
	x IO_INSTRUCTION 0x70004a 0		# in 0x70
	x INVLPG 0x2000 0
} > "$t"
want="phase 1 EXCEPTION_NMI/#PF 2
phase 1 EXCEPTION_NMI/other 1
phase 1 IO_INSTRUCTION/out:0xe9 1
phase 2 CR_ACCESS/mov-from-cr3 1
phase 2 CR_ACCESS/mov-to-cr3 1
phase 2 CR_ACCESS/other 1
phase 2 INVLPG 1
phase 2 IO_INSTRUCTION/in:0x70 1
phase 2 IO_INSTRUCTION/out:0x80 1"
got=$("$ce" -x "$t" | grep '^phase')
if [ "$got" = "$want" ]; then
	echo "ok 1 - count-exits -x names VMX exits by kind and splits phases at out 0xe9"
else
	echo "not ok 1 - count-exits -x names VMX exits by kind and splits phases at out 0xe9"
	printf '%s\n' "$got" | sed 's/^/#   got: /'
fi
got=$("$ce" "$t" | grep '^total' | tr '\n' ' ')
want="total CR_ACCESS/mov-from-cr3 1 total CR_ACCESS/mov-to-cr3 1 total CR_ACCESS/other 1 total EXCEPTION_NMI/#PF 2 total EXCEPTION_NMI/other 1 total INVLPG 1 total IO_INSTRUCTION/in:0x70 1 total IO_INSTRUCTION/out:0x80 1 total IO_INSTRUCTION/out:0xe9 1 "
got=$(printf '%s' "$got" | tr ' ' '\n' | paste -d' ' - - - | LC_ALL=C sort | tr '\n' ' ')
want=$(printf '%s' "$want" | tr ' ' '\n' | paste -d' ' - - - | LC_ALL=C sort | tr '\n' ' ')
if [ "$got" = "$want" ]; then
	echo "ok 2 - count-exits totals by kind without kvm_pio"
else
	echo "not ok 2 - count-exits totals by kind without kvm_pio"
	echo "#   got:  $got"
	echo "#   want: $want"
fi
