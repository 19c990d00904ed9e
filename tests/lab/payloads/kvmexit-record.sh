# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Lab payload: kvmexit's own recorder in the lab VM (driver: run-kvmexit).
# With kvm_amd npt=1, then npt=0, it runs
#   kvmexit record -q -o CAPTURE -- kvmexit-guest ARGS
# with tracefs (kvm_exit and kvm_pio) recording at the same time, and emits
#   npt.data            the npt=1 capture     npt1-rec.summary  guest summary
#   shadow.data         the npt=0 capture     npt0-rec.summary
#   npt{1,0}-rec.counts count-exits of the tracefs text (the reference)
#   npt{1,0}-rec.record.log  kvmexit record's stderr
#   modes.txt           npt read back per mode
# The host then checks the counts (check-npt-shadow), and runs kvmexit
# report and kvmexit-diff on the two captures.
#
# Parameters (/lab/env):
#   LAB_GUEST_ARGS   kvmexit-guest's options
#   LD_LIBRARY_PATH  where libkvmexit.so.0 (and libperf, ...) were put
. /lab/lib.sh

args=${LAB_GUEST_ARGS:---memory 4 --pages 200 --passes 2 --cr3-interval 50 --cpuid 50 --ioports 50}
fail=0
echo "payload start at $(lab_uptime) s; guest: kvmexit-guest $args"
if ! kvmexit --version; then
	echo "kvmexit does not run in the VM (missing library? LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-})"
	exit 1
fi

for npt in 1 0; do
	m=npt$npt
	capture=npt.data
	[ $npt = 1 ] || capture=shadow.data
	if ! lab_kvm_load npt=$npt; then
		echo "$m: loading kvm_amd npt=$npt failed"; fail=1; continue
	fi
	echo "$m npt=$(cat /sys/module/kvm_amd/parameters/npt)" \
	     "tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu)" >> modes.txt
	lab_trace_start kvm_exit kvm_pio || { fail=1; continue; }
	t0=$(lab_uptime)
	# shellcheck disable=SC2086 # $args is a word list
	kvmexit record -q -o "$capture" -- kvmexit-guest $args \
		> "$m-rec.summary" 2> "$m-rec.record.log"
	rc=$?
	t1=$(lab_uptime)
	lab_trace_stop "$m-rec.trace"
	echo "$m: kvmexit record exit $rc, $t0 s .. $t1 s, $(wc -c < "$capture" 2>/dev/null || echo no) bytes"
	sed "s/^/$m: record: /" "$m-rec.record.log"
	[ $rc -eq 0 ] || fail=1
	/lab/count-exits "$m-rec.trace" > "$m-rec.counts"
	for f in "$capture" "$m-rec.summary" "$m-rec.counts" "$m-rec.record.log"; do
		[ -e "$f" ] && lab_emit "$f"
	done
	rm -f "$capture" "$m"-rec.*
	lab_kvm_unload
done
lab_emit modes.txt
echo "payload end at $(lab_uptime) s"
exit $fail
