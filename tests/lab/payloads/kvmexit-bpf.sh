# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Lab payload: the BPF source (record --bpf) in the lab VM (driver: run-bpf).
# On either machine (kvm_amd and its npt on AMD, kvm_intel and its ept on
# Intel; below for AMD), with npt=1, then npt=0, one run of the
# deterministic guest under two recorders at once, so both see the very
# same exits:
#   kvmexit record --bpf -o bpf.data -- \
#       kvmexit record -o sampled.data -- kvmexit-guest ARGS
# (the BPF program follows the inner recorder's fork of the guest) and
# emits npt{1,0}-bpf.data, npt{1,0}-sampled.data, npt{1,0}.summary (the
# guest's summary: the exact work done) and npt{1,0}.log (both recorders'
# stderr); then `kvmexit top --batch --bpf -- kvmexit-guest ARGS`, the live
# source, into npt{1,0}-top.txt.  On Intel the names say ept: ept{1,0}-*.
# The host checks them (check-bpf).
#
# Parameters (/lab/env): LAB_GUEST_ARGS (the guest's options), LAB_BPF_TOP
# (0: no kvmexit top run), LD_LIBRARY_PATH (where libkvmexit.so.0 was put).
. /lab/lib.sh

args=${LAB_GUEST_ARGS:---memory 4 --pages 200 --passes 2 --cr3-interval 20 --cpuid 50 --ioports 50}
fail=0
echo "payload start at $(lab_uptime) s; kvmexit-guest $args"
kvmexit --version || { echo "kvmexit does not run in the VM"; exit 1; }
for npt in 1 0; do
	m=$LAB_TDP$npt
	if ! lab_kvm_load $LAB_TDP=$npt; then
		echo "$m: loading $LAB_KVM $LAB_TDP=$npt failed"; fail=1; continue
	fi
	t0=$(lab_uptime)
	# shellcheck disable=SC2086 # $args is a word list
	kvmexit record --bpf -q -o "$m-bpf.data" -- \
		kvmexit record -q -o "$m-sampled.data" -- kvmexit-guest $args \
		> "$m.summary" 2> "$m.log"
	rc=$?
	echo "$m: kvmexit record --bpf ... exit $rc, $t0 s .. $(lab_uptime) s"
	sed "s/^/$m: /" "$m.log"
	[ $rc -eq 0 ] || fail=1
	if [ "${LAB_BPF_TOP:-1}" != 0 ]; then
		# The live source: one snapshot of kvmexit top --bpf at the guest's end.
		t0=$(lab_uptime)
		# shellcheck disable=SC2086
		kvmexit top --batch --bpf -- kvmexit-guest -q $args > "$m-top.txt" 2> "$m-top.log"
		echo "$m: kvmexit top --batch --bpf exit $?, $t0 s .. $(lab_uptime) s"
	fi
	for f in "$m-bpf.data" "$m-sampled.data" "$m.summary" "$m.log" "$m-top.txt" "$m-top.log"; do
		[ -e "$f" ] && lab_emit "$f"
	done
	rm -f "$m"-*.data "$m".*
	lab_kvm_unload
done
echo "payload end at $(lab_uptime) s"
exit $fail
