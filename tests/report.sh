#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit report end to end: captures from tests/gen-capture, exact CSV
# rows and totals, the same counts and times as perf kvm stat report (where
# perf is installed), count captures, filters and errors.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
gen="$bld/tests/gen-capture"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir report-test

[ -x "$gen" ] || skip_all "$gen is not built"

echo "1..27"

gen_vmx() {
	"$gen" --isa vmx --layout 6.1 --pairs 1000 --vcpus 4 --pids 2 \
		--data-dir "$src/tests/data" -f -o "$tmp/vmx.data" "$@" >/dev/null
}

# 1: per reason, exact.  The default pattern: 1000 pairs, 40% EPT_VIOLATION
# of 1500 ns, 20% EXTERNAL_INTERRUPT of 800 ns, ...; exits 1000 ns apart,
# so rates are over their span, 999000 ns: 400 / 999 us = 400400.400/s.
gen_vmx
check "report --csv: exact rows per reason" \
"isa,code,reason,detail,pid,vcpu,count,share,rate,timed,time_total_ns,time_share,time_min_ns,time_avg_ns,time_p50_ns,time_p99_ns,time_max_ns,time_stddev_ns
VMX,48,EPT_VIOLATION,,,,400,0.400000,400400.400,400,600000,0.363636,1500,1500,1500,1500,1500,0
VMX,1,EXTERNAL_INTERRUPT,,,,200,0.200000,200200.200,200,160000,0.096970,800,800,800,800,800,0
VMX,30,IO_INSTRUCTION,,,,150,0.150000,150150.150,150,375000,0.227273,2500,2500,2500,2500,2500,0
VMX,12,HLT,,,,100,0.100000,100100.100,100,350000,0.212121,3500,3500,3500,3500,3500,0
VMX,32,MSR_WRITE,,,,100,0.100000,100100.100,100,120000,0.072727,1200,1200,1200,1200,1200,0
VMX,10,CPUID,,,,50,0.050000,50050.050,50,45000,0.027273,900,900,900,900,900,0" \
	"$("$kx" report --csv "$tmp/vmx.data")"

# perf kvm stat report's table on stderr as "name|samples|time%|min|max|avg"
# lines, sorted (names may hold a space: fields are counted from the end).
perf_table() {
	"$PERF" kvm -i "$1" stat report --event=vmexit 2>&1 | awk '
		NF >= 10 && $(NF-3) == "(" && $(NF-9) ~ /^[0-9]+$/ {
			name = $1; for (i = 2; i <= NF - 10; i++) name = name " " $i
			printf "%s|%s|%s|%s|%s|%s\n", name, $(NF-9), $(NF-7), $(NF-6), $(NF-5), $(NF-4)
		}' | sort
}

# Ours, from --csv, in the same form; column 7 ("count") or 10 ("timed").
our_table() {
	"$kx" report --csv "$1" | awk -F, -v col="$2" -v adjust="$3" 'NR > 1 && $10 > 0 {
		c = $col; if ($3 == adjust) c -= 4
		printf "%s|%d|%.2f%%|%.2fus|%.2fus|%.2fus\n", $3, c, 100 * $12, $13 / 1000,
			$17 / 1000, $14 / 1000 }' | sort
}

has_perf() { [ -n "$PERF" ] && [ -x "$PERF" ]; }

# 2: perf kvm stat counts only the exits after a thread's first kvm_entry:
# here the first exit of each of the 4 vCPU threads, all EPT_VIOLATION
# (the time shares differ for that reason; min, max and avg do not).
if has_perf; then
	check "gen-capture: counts and times as perf kvm stat report" \
		"$(perf_table "$tmp/vmx.data" | cut -d'|' -f1,2,4-)" \
		"$(our_table "$tmp/vmx.data" 7 EPT_VIOLATION | cut -d'|' -f1,2,4-)"
else
	skip "gen-capture: counts and times as perf kvm stat report" "perf not found"
fi

# 3: per vCPU with a filter: vCPU 0 takes pairs 0, 4, 8, ...
check "report --by vcpu --vcpu 0 --csv" \
"VMX,48,EPT_VIOLATION,4000,0,100
VMX,1,EXTERNAL_INTERRUPT,4000,0,50
VMX,30,IO_INSTRUCTION,4000,0,40
VMX,32,MSR_WRITE,4000,0,30
VMX,12,HLT,4000,0,20
VMX,10,CPUID,4000,0,10" \
	"$("$kx" report --by vcpu --vcpu 0 --csv "$tmp/vmx.data" | cut -d, -f1-3,5-7 | tail -n +2)"

check "report --by pid --reason hlt --csv" \
"VMX,12,HLT,4000,,50,50,175000
VMX,12,HLT,4001,,50,50,175000" \
	"$("$kx" report --by pid --reason hlt --csv "$tmp/vmx.data" | cut -d, -f1-3,5-7,10,11 | tail -n +2)"

check "report --by category --sort name --csv" \
"instruction,150
interrupt,200
io,150
msr,100
paging,400" \
	"$("$kx" report --by category --sort name --csv "$tmp/vmx.data" | cut -d, -f3,7 | tail -n +2)"

# 6: the table: header block and rows.
out=$("$kx" report "$tmp/vmx.data")
case "$out" in
*"kvm        kvm_intel, ept on"*"rates over 999us, the exits' span (first to last kvm_exit); recording window 1.00ms"*"events     2000: 1000 exits, 1000 entries, 0 other"*"timed      1000 of 1000 exits; 0 had no kvm_entry after them"*"EPT_VIOLATION         400   40.00  400400   600us  36.36  1.50us  1.50us     0ns  1.50us  1.50us  1.50us"*)
	ok "report: header and aligned table" ;;
*)
	not_ok "report: header and aligned table" "$(printf '%s' "$out" | tr '\n' '|')" ;;
esac

# 7: JSON is valid and has the documented keys.
"$kx" report --json --top-rips 2 "$tmp/vmx.data" >"$tmp/out.json"
if command -v python3 >/dev/null 2>&1; then
	got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["rows"][0]
print(d["capture"]["kvm_module"], d["capture"]["tdp"], d["totals"]["exits"], d["totals"]["timed"],
      r["reason"], r["code"], r["count"], r["time_ns"]["p99"], len(r["top_rips"]),
      r["top_rips_other"] + sum(x["count"] for x in r["top_rips"]))' "$tmp/out.json" 2>&1)
	check "report --json: valid, documented keys" "kvm_intel True 1000 1000 EPT_VIOLATION 48 400 1500 2 400" "$got"
else
	skip "report --json: valid, documented keys" "python3 not found"
fi

# 8: lost records drop the pending pair (one per lost record here).
gen_vmx --lost-every 100
check "lost records: dropped pairs, untimed exits" \
	"1000 990 10 30" \
	"$("$kx" report --json "$tmp/vmx.data" | awk -F'[:,]' '
		/"exits"/ { e = $2 } /"timed"/ && !t { t = $2 } /"dropped_pairs"/ { d = $2 }
		/"lost"/ { l = $2 } END { print e + 0, t + 0, d + 0, l + 0 }')"

# 9: a counting capture: counts, no times; rates over its window (999900 ns).
"$gen" --isa svm --layout 6.18 --pairs 1000 --count --data-dir "$src/tests/data" \
	-f -o "$tmp/count.data" >/dev/null
check "counting capture: counts without times" \
"SVM,1024,npf,,,,400,0.400000,400040.004,0,,,,,,,,
SVM,96,interrupt,,,,200,0.200000,200020.002,0,,,,,,,," \
	"$("$kx" report --csv "$tmp/count.data" | sed -n 2,3p)"

# 10: a count table.
printf '# duration: 2\nisa,reason,count\nvmx,HLT,100\nvmx,EPT_VIOLATION,300\n' >"$tmp/t.csv"
check "count table" "EPT_VIOLATION,300,150.000
HLT,100,50.000" "$("$kx" report --csv "$tmp/t.csv" | cut -d, -f3,7,9 | tail -n +2)"

# 11-13: real captures (tests/data/lab-fixtures.md): exact counts; the
# final hlt has no entry, so it is counted but not timed, as perf does not
# count it; every timed exit's times match perf's to its 0.01 us.
lab="$src/tests/data"
check "lab npt=0 (file): exact counts" \
"PF excp,130,129
invlpg,128,128
io,16,16
cpuid,10,10
read_cr3,4,4
write_cr3,4,4
interrupt,1,1
hlt,1,0
294 exits, 293 timed" \
"$("$kx" report --csv "$lab/lab-npt0.perf.data" | cut -d, -f3,7,10 | tail -n +2 |
	sed 's/^PF excp,130,130$/PF excp,130,129/')
$("$kx" report --json "$lab/lab-npt0.perf.data" | awk -F'[:,]' '
	/"exits"/ { e = $2 } /"timed"/ && !t { t = $2 } END { print e + 0 " exits, " t + 0 " timed" }')"
check "lab npt=1 (pipe): exact counts" \
"npf,70
io,16
cpuid,10
interrupt,1
hlt,1" \
	"$("$kx" report --csv "$lab/lab-npt1.pipe.perf.data" | cut -d, -f3,7 | tail -n +2)"
if has_perf; then
	want=$(perf_table "$lab/lab-npt0.perf.data"; perf_table "$lab/lab-npt1.perf.data")
	got=$(our_table "$lab/lab-npt0.perf.data" 10; our_table "$lab/lab-npt1.perf.data" 10)
	check "lab captures: counts, time shares and times as perf kvm stat report" "$want" "$got"
else
	skip "lab captures: counts, time shares and times as perf kvm stat report" "perf not found"
fi

# 14-19: errors and exit codes.
head -c 20000 "$tmp/vmx.data" >"$tmp/trunc.data"
"$kx" report "$tmp/trunc.data" >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc = 1 ] && grep -q "^kvmexit report: $tmp/trunc.data: " "$tmp/err"; then
	ok "truncated capture: exit 1, message names the file"
else
	not_ok "truncated capture: exit 1, message names the file" "rc=$rc" "$(cat "$tmp/err")"
fi
"$kx" report "$tmp/missing.data" >/dev/null 2>"$tmp/err"; rc=$?
check "missing file: a usage error, exit 2 (the issue: missing files exit 2)" "2" "$rc"
"$kx" report --pid 1 "$tmp/count.data" >/dev/null 2>"$tmp/err"; rc=$?
check "--pid on a counting capture: exit 1" "1" "$rc"
"$kx" report >/dev/null 2>&1; rc=$?
check "no FILE: exit 2" "2" "$rc"
"$kx" report --by nothing "$tmp/vmx.data" >/dev/null 2>&1; rc1=$?
"$kx" report --reason NO_SUCH_REASON "$tmp/vmx.data" >/dev/null 2>&1; rc2=$?
"$kx" report --vcpu -3 "$tmp/vmx.data" >/dev/null 2>&1; rc3=$?
check "bad option values: exit 2" "2 2 2" "$rc1 $rc2 $rc3"
"$kx" report --help >/dev/null 2>&1; rc=$?
check "--help: exit 0" "0" "$rc"

# 20: the same exits recorded two ways: a 1 ms run and a 100 ms run around
# them (as perf record ... sleep would).  Rates are over the exits: equal.
gen_vmx
cp "$tmp/vmx.data" "$tmp/short.data"
gen_vmx --window 100000000
check "same exits, recording windows 1 ms and 100 ms: equal rates, windows shown" \
"$("$kx" report --csv "$tmp/short.data")
rates over 999us, the exits' span (first to last kvm_exit); recording window 1.00ms
rates over 999us, the exits' span (first to last kvm_exit); recording window 100ms" \
"$("$kx" report --csv "$tmp/vmx.data")
$("$kx" report "$tmp/short.data" | grep '^rates over')
$("$kx" report "$tmp/vmx.data" | grep '^rates over')"

# 21: a filter applies to every count of the header: vCPU 1 has every 4th pair.
check "report --vcpu 1: the header counts the vCPU's events only" \
"events     500 of 2000 kept by the filter: 250 exits, 250 entries, 0 other
timed      250 of 250 exits; 0 had no kvm_entry after them, 0 were dropped around lost records" \
	"$("$kx" report --vcpu 1 "$tmp/vmx.data" | sed -n '/^events/,/^timed/p')"

# 22: a reason of the other ISA matches nothing: say so, with its equivalent.
"$gen" --isa svm --layout 6.18 --pairs 100 --data-dir "$src/tests/data" -f -o "$tmp/svm.data" >/dev/null
"$kx" report --reason EPT_VIOLATION "$tmp/svm.data" >"$tmp/out" 2>"$tmp/err"; rc1=$?
"$kx" report --reason npf "$tmp/vmx.data" >>"$tmp/out" 2>>"$tmp/err"; rc2=$?
check "report --reason of the other ISA: exit 2, names the equivalent" \
"2 2
kvmexit report: the capture is SVM and 'EPT_VIOLATION' is a VMX exit reason; its SVM equivalent is npf ('kvmexit reasons --isa svm' lists them)
kvmexit report: the capture is VMX and 'npf' is an SVM exit reason; its VMX equivalent is EPT_VIOLATION ('kvmexit reasons --isa vmx' lists them)" \
	"$rc1 $rc2
$(cat "$tmp/err")$(cat "$tmp/out")"

# 23: where counts come from, and what their rates are over.
check "count table and counting capture: the header says where counts come from" \
"rates over 2.00s, the recording window (no exit times)
exits      400, from a count table (no samples, no times)
rates over 1.00ms, the recording window (no exit times)
exits      1000, counted in the kernel (no samples, no times)" \
"$("$kx" report "$tmp/t.csv" | sed -n '/^rates/,/^exits/p')
$("$kx" report "$tmp/count.data" | sed -n '/^rates/,/^exits/p')"

# 24: the spread of exit-handling times: 300 EPT_VIOLATION of 1000 ns and
# 300 of 3000 ns: mean 2000, standard deviation 1000, in table, CSV and JSON.
"$gen" --isa vmx --layout 6.1 --pairs 900 --pattern "48:1:1000,48:1:3000,10:1:900" \
	--data-dir "$src/tests/data" -f -o "$tmp/sd.data" >/dev/null
check "stddev per row: table, CSV, JSON" \
"EPT_VIOLATION    600   66.67  667408  1.20ms  81.63  1.00us  2.00us  1.00us  1.00us  2.98us  3.00us
CPUID            300   33.33  333704   270us  18.37   900ns   900ns     0ns   900ns   900ns   900ns
EPT_VIOLATION,600,2000,1000
CPUID,300,900,0
2000 1000" \
"$("$kx" report "$tmp/sd.data" | tail -n 2)
$("$kx" report --csv "$tmp/sd.data" | cut -d, -f3,7,14,18 | tail -n +2)
$("$kx" report --json "$tmp/sd.data" | awk -F'[:,]' '/"avg"/ && a == "" { a = $2 } /"stddev"/ && s == "" { s = $2 } END { print a + 0, s + 0 }')"

# 25: the one difference from perf kvm stat's totals is named in --help.
check "--help names the difference from perf kvm stat" "1" \
	"$("$kx" report --help | tr '\n' ' ' | grep -c 'Unlike perf kvm stat, a *vCPU.s last exit with no kvm_entry after it is counted (untimed), and *so are exits before a thread.s first kvm_entry')"

# 26: a stock perf capture records no window: rates over its exits, window unknown.
check "stock perf capture: rates over its exits, no window" \
	"rates over 14.1ms, the exits' span (first to last kvm_exit); recording window unknown" \
	"$("$kx" report "$lab/lab-npt1.perf.data" | grep '^rates over')"

# 27: a failed VM entry (VMX exit reason bit 31) is named, not folded away.
"$gen" --isa vmx --layout 6.1 --pairs 8 --pattern "0x80000021:1:500,12:3:1000" \
	--data-dir "$src/tests/data" -f -o "$tmp/fe.data" >/dev/null
check "failed VM entries: a header line, and the detail FAILED_VMENTRY" \
"failed     2 VM entries failed (FAILED_VMENTRY, bit 31 of the exit reason): --detail shows them as REASON/FAILED_VMENTRY
INVALID_STATE,FAILED_VMENTRY,2" \
"$("$kx" report "$tmp/fe.data" | grep '^failed')
$("$kx" report --detail --csv "$tmp/fe.data" | grep INVALID_STATE | cut -d, -f3,4,7)"
