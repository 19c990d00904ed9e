#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Stock perf's tools on kvmexit's captures: perf inject (plain and -b),
# perf script, perf report and perf kvm stat report accept a capture the
# library writes (tests/gen-capture) and the example captures, with exact
# counts; kvmexit still reads its metadata (in the VERSION section) after
# perf inject, and still reads that of 0.1 captures (feature bit 250,
# which made perf 6.1 inject crash).
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
gen="$bld/tests/gen-capture"
perf=${PERF:-perf}
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir perf-tools-test

[ -x "$gen" ] || skip_all "$gen is not built"
"$perf" version >/dev/null 2>&1 || skip_all "perf is not installed"

echo "1..18"
# perf kvm stat's table: "REASON SAMPLES" lines
kvm_stat() {
	"$perf" kvm -i "$1" stat report --event=vmexit 2>&1 |
		awk '/VM-EXIT +Samples/{ t = 1; next } t && NF >= 2 && $2 ~ /^[0-9]+$/ { print $1, $2 }'
}
# kvmexit report without its first line (the capture's name)
report() {
	"$kx" report "$1" 2>&1 | sed 1d
}

"$gen" --isa vmx --layout 6.1 --pairs 1000 --vcpus 4 --pids 2 \
	--data-dir "$src/tests/data" -f -o "$tmp/a.data" >/dev/null

# 1-2: perf inject and perf inject -b (perf 6.1 crashed on bit 250)
"$perf" inject -i "$tmp/a.data" -o "$tmp/inj.data" >"$tmp/out" 2>&1
check "perf inject: exit status 0" "0" "$?"
"$perf" inject -b -i "$tmp/a.data" -o "$tmp/injb.data" >"$tmp/out" 2>&1
check "perf inject -b: exit status 0" "0" "$?"

# 3: perf script: every sample, before and after inject
check "perf script: 2000 samples (1000 kvm_exit), the same after perf inject and -b" "2000 1000 1000 2000 2000" \
	"$("$perf" script -i "$tmp/a.data" 2>/dev/null | wc -l) \
$("$perf" script -i "$tmp/a.data" 2>/dev/null | grep -c 'kvm:kvm_exit:') \
$("$perf" script -i "$tmp/inj.data" 2>/dev/null | grep -c 'kvm:kvm_entry:') \
$("$perf" script -i "$tmp/inj.data" 2>/dev/null | wc -l) \
$("$perf" script -i "$tmp/injb.data" 2>/dev/null | wc -l)"

# 4: perf report: 4 threads of 25% each, for each of the two events
check "perf report --sort pid: 4 threads, 25% each" \
	"$(printf '25.00%%\n%.0s' 1 2 3 4 5 6 7 8)" \
	"$("$perf" report -i "$tmp/a.data" --stdio --sort pid 2>/dev/null | awk '/^ +[0-9.]+%/ { print $1 }')"

# 5-6: perf kvm stat report; perf skips each vCPU's exit before its first entry (4)
want_kvm="EPT_VIOLATION 396
EXTERNAL_INTERRUPT 200
IO_INSTRUCTION 150
HLT 100
MSR_WRITE 100
CPUID 50"
check "perf kvm stat report: exact counts" "$want_kvm" "$(kvm_stat "$tmp/a.data")"
check "perf kvm stat report after perf inject: the same" "$want_kvm" "$(kvm_stat "$tmp/inj.data")"

# 7: the header perf prints: kvmexit's version string, nothing else of it
check "perf report --header-only: perf version" "# perf version : kvmexit $("$kx" --version | awk '{ print $NF }')" \
	"$("$perf" report --header-only -i "$tmp/a.data" 2>/dev/null | grep '^# perf version')"

# 8-9: kvmexit after perf inject: the same report, metadata included
report "$tmp/a.data" >"$tmp/a.txt"
check "kvmexit report after perf inject: identical (metadata went through)" \
	"$(cat "$tmp/a.txt")" "$(report "$tmp/inj.data")"
check "kvmexit report after perf inject -b: identical" "$(cat "$tmp/a.txt")" "$(report "$tmp/injb.data")"
check "metadata: kvm module and ept" "kvm        kvm_intel, ept on" "$(grep '^kvm ' "$tmp/a.txt")"

# 11-12: the example capture (a real one, kvm_amd) through perf inject
ex="$src/examples/npt-on.perf.data"
"$perf" inject -i "$ex" -o "$tmp/ex.data" >"$tmp/out" 2>&1
check "perf inject of examples/npt-on.perf.data: exit status 0" "0" "$?"
check "perf kvm stat report of it: npf 206, io 56, cpuid 50" "npf 206
io 56
cpuid 50" "$(kvm_stat "$tmp/ex.data")"

# 13-14: a kvmexit 0.1 capture (metadata at feature bit 250) reads as before
old="$src/tests/data/kvmexit-0.1.perf.data"
check "0.1 capture: its metadata (npt on, recording window)" "kvm        kvm_amd, npt on
rates over 36.4ms, the exits' span (first to last kvm_exit); recording window 182ms" \
	"$(report "$old" | grep -E '^(kvm|rates over) ')"
check "0.1 capture and its upgrade (examples/npt-on.perf.data): same report" \
	"$(report "$old")" "$(report "$ex")"

# 15-17: pipe mode (-o -): kvmexit and perf read the stream from standard input
"$gen" --isa vmx --layout 6.1 --pairs 1000 --vcpus 4 --pids 2 \
	--data-dir "$src/tests/data" -f -o - >"$tmp/p.data" 2>"$tmp/err"
check "a pipe-mode capture: kvmexit report - as the file's" "$(cat "$tmp/a.txt")" \
	"$(cat "$tmp/p.data" | "$kx" report - 2>&1 | sed 1d)"
check "perf script -i -: 2000 samples" "2000" \
	"$(cat "$tmp/p.data" | "$perf" script -i - 2>/dev/null | wc -l)"
check "perf report -i -: 4 threads, 25% each" "$(printf '25.00%%\n%.0s' 1 2 3 4 5 6 7 8)" \
	"$(cat "$tmp/p.data" | "$perf" report -i - --stdio --sort pid 2>/dev/null |
		awk '/^ +[0-9.]+%/ { print $1 }')"

# 18: kvmexit record -o - on a real guest (root, /dev/kvm): its 16 port
# writes reach perf script and kvmexit report through a pipe, and the
# guest's own output goes to standard error, not into the stream
guest="$bld/tool/kvmexit-guest"
if [ "$(id -u)" = 0 ] && [ -w /dev/kvm ] && [ -x "$guest" ]; then
	"$kx" record -q -e ioport -o - -- "$guest" --memory 4 --pages 8 --passes 1 \
		--cpuid 5 --ioports 10 2>"$tmp/rec.err" | tee "$tmp/rec.data" |
		"$kx" report - >"$tmp/rec.txt" 2>&1
	check "kvmexit record -o - | kvmexit report -: 16 kvm_pio, guest output on stderr" \
		"16 events 33: 0 exits, 0 entries, 33 other work_port_writes=10" \
		"$("$perf" script -i - <"$tmp/rec.data" 2>/dev/null | grep -c 'kvm:kvm_pio:') \
$(grep '^events ' "$tmp/rec.txt" | tr -s ' ') $(grep '^work_port_writes=' "$tmp/rec.err")"
else
	skip "kvmexit record -o -" "needs root, /dev/kvm and kvmexit-guest"
fi
