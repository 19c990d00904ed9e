#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Count tables and symbol files at their limits: counts that would pass
# 2^64 - 1, durations outside 1 ns .. 10^9 s, a UTF-8 byte order mark, a
# NUL byte, an ELF file too short for its header.  Exact messages.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$(cd "$bld" && pwd)/tool/kvmexit"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir input-limits
# fails_with DESC MESSAGE ARGS...: exit status 1 and exactly MESSAGE on stderr
fails_with() {
	local desc=$1 want=$2
	shift 2
	"$kx" "$@" >/dev/null 2>"$tmp/err"
	if [ $? -eq 1 ] && [ "$(cat "$tmp/err")" = "$want" ]; then ok "$desc"; else nok "$desc"; fi
}

echo "1..9"
cd "$tmp" || exit 1
printf 'isa,reason,count\nvmx,HLT,18446744073709551615\nvmx,CPUID,1\n' >sum.csv
fails_with "counts adding up past 2^64 - 1" \
	"kvmexit report: sum.csv:3: the counts add up to more than 2^64 - 1 (18446744073709551615 before this row's 1)" \
	report sum.csv
printf 'vmx,HLT,18446744073709551616\n' >big.csv
fails_with "a count past 2^64 - 1" \
	"kvmexit report: big.csv:1: '18446744073709551616' is not a count (a whole number, 0 or more)" \
	report big.csv
printf '# duration: 1e308\nvmx,HLT,5\n' >long.csv
fails_with "a duration of 1e308 s" \
	"kvmexit report: long.csv:1: duration '1e308' is out of range: give seconds from 0.000000001 to 1000000000" \
	report long.csv
printf 'duration,1e-300\nvmx,HLT,5\n' >short.csv
fails_with "a duration of 1e-300 s" \
	"kvmexit report: short.csv:1: duration '1e-300' is out of range: give seconds from 0.000000001 to 1000000000" \
	report short.csv
printf 'isa,reason,count\nvmx,HLT,5\0\n' >nul.csv
fails_with "a NUL byte: an error about the table" \
	"kvmexit report: nul.csv:2: a NUL byte: not a text count table" report nul.csv
printf '\xef\xbb\xbfisa,reason,count\nvmx,HLT,5\n# duration: 2\n' >bom.csv
"$kx" report --csv bom.csv >out 2>"$tmp/err"
if [ $? -eq 0 ] && grep -q '^VMX,12,HLT,,,,5,1.000000,2.500,' out; then ok "a byte order mark is skipped"; else nok "a byte order mark is skipped"; fi
"$kx" diff bom.csv bom.csv >/dev/null 2>"$tmp/err"
if [ $? -eq 0 ]; then ok "diff reads it too"; else nok "diff reads it too"; fi
printf '\177ELF\002\001\001' >elf40
head -c 40 /dev/zero >>elf40
head -c 40 elf40 >elf && mv elf elf40
fails_with "a 40-byte ELF file" \
	"kvmexit report: elf40: not a readable ELF file: 40 bytes, shorter than a 64-bit ELF header (64)" \
	report -t 1 -g elf40 bom.csv
"$kx" report -g elf40 bom.csv >/dev/null 2>"$tmp/err"
if [ $? -eq 0 ]; then ok "symbols are read only when RIPs are shown"; else nok "symbols are read only when RIPs are shown"; fi
