# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Lab payload: kvm_amd with nested paging (npt=1), then with shadow paging
# (npt=0), running kvmexit-guest once per case under tracefs (kvm_exit and
# kvm_pio) and, when perf is in the image, under
# `perf record -e kvm:kvm_exit -e kvm:kvm_entry -e kvm:kvm_pio` at the same
# time.  For each mode M (npt1, npt0) and case C it emits:
#   M-C.summary      kvmexit-guest's name=value summary
#   M-C.counts       count-exits of the tracefs text
#   M-C.trace.gz     the tracefs text
#   M-C.perf.data.gz the perf capture, M-C.perf-counts count-exits of perf script
# and modes.txt (npt parameter read back per mode).  check-npt-shadow on the
# host compares the counts with the exact formulas.
#
# Parameters (/lab/env, see build-initramfs -e):
#   LAB_CASES         "MiB[:W] ..." guest memory and optional page count
#                     (default "16 64 64:1000")
#   LAB_PASSES        phase 2 passes (default 2)
#   LAB_CR3_INTERVAL  K (default 64)
#   LAB_CPUID         CPUID count (default 100)
#   LAB_IOPORTS       port writes (default 100)
#   LAB_PERF          0 to skip perf even if present (default 1)
. /lab/lib.sh

cases=${LAB_CASES:-16 64 64:1000}
passes=${LAB_PASSES:-2}
k=${LAB_CR3_INTERVAL:-64}
ncpuid=${LAB_CPUID:-100}
nio=${LAB_IOPORTS:-100}
use_perf=${LAB_PERF:-1}
command -v perf >/dev/null 2>&1 || use_perf=0
fail=0

echo "payload start at $(lab_uptime) s; cases: $cases; P=$passes K=$k cpuid=$ncpuid io=$nio perf=$use_perf"
echo "== kvmexit-guest before kvm is loaded (expect a clear error):"
kvmexit-guest --ioports 1
echo "exit status $?"

run_case()
{
	local name=$1 mib=${2%%:*} pages='' t0 t1

	case $2 in *:*) pages="--pages ${2#*:}" ;; esac
	# shellcheck disable=SC2086 # $pages is empty or two words
	set -- kvmexit-guest --memory "$mib" $pages --passes "$passes" \
		--cr3-interval "$k" --cpuid "$ncpuid" --ioports "$nio"
	lab_trace_start kvm_exit kvm_pio || return 1
	t0=$(lab_uptime)
	if [ "$use_perf" = 1 ]; then
		perf record -q -o "$name.perf.data" -e kvm:kvm_exit \
			-e kvm:kvm_entry -e kvm:kvm_pio -- "$@" > "$name.summary"
	else
		"$@" > "$name.summary"
	fi
	rc=$?
	t1=$(lab_uptime)
	lab_trace_stop "$name.trace"
	echo "$name: '$*' exit $rc, $t0 s .. $t1 s"
	[ $rc -eq 0 ] || return 1
	/lab/count-exits "$name.trace" > "$name.counts"
	gzip -1 "$name.trace"
	lab_emit "$name.summary"
	lab_emit "$name.counts"
	lab_emit "$name.trace.gz"
	if [ "$use_perf" = 1 ]; then
		perf script -i "$name.perf.data" -F event,trace 2>/dev/null |
			/lab/count-exits > "$name.perf-counts"
		echo "$name: perf script + count at $(lab_uptime) s," \
		     "kvm_entry events: $(perf script -i "$name.perf.data" 2>/dev/null | grep -c 'kvm:kvm_entry:')"
		gzip -1 "$name.perf.data"
		lab_emit "$name.perf-counts"
		lab_emit "$name.perf.data.gz"
	fi
	rm -f "$name".*
}

for npt in 1 0; do
	mode=npt$npt
	if ! lab_kvm_load npt=$npt; then
		echo "$mode: loading kvm_amd npt=$npt failed"; fail=1; continue
	fi
	got=$(cat /sys/module/kvm_amd/parameters/npt)
	echo "$mode npt=$got tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu)" >> modes.txt
	want=Y; [ $npt = 1 ] || want=N
	if [ "$got" != "$want" ]; then
		echo "$mode: /sys/module/kvm_amd/parameters/npt is $got, want $want"; fail=1
	fi
	if [ ! -d "$TRACEFS"/events/kvm/kvm_exit ]; then
		echo "$mode: no kvm:kvm_exit in tracefs"; fail=1; continue
	fi
	for c in $cases; do
		run_case "$mode-$(echo "$c" | tr : w)" "$c" || fail=1
	done
	lab_kvm_unload
done
dmesg | grep -i -e kvm -e svm | sed 's/^/dmesg: /'
lab_emit modes.txt
echo "payload end at $(lab_uptime) s"
exit $fail
