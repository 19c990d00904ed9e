# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Lab payload of bench/lab-bpf-bench (busybox ash, in the VM): the same
# guest (kvmexit-guest --cpuid N: N cpuid exits, each a kvm_exit and a
# kvm_entry) bare and under each source, RUNS times interleaved, with
# lab-timeit; emits cost.txt: "MODE real user sys" per run, and the
# exits of one sampled run (exits.txt).
. /lab/lib.sh

n=${LAB_CPUID:-200000}
runs=${LAB_RUNS:-3}
args="--memory 4 --pages 1 --passes 1 --cr3-interval 0 --cpuid $n"
lab_kvm_load npt=1 || { echo "loading kvm_amd failed"; exit 1; }
echo "payload start at $(lab_uptime) s; kvmexit-guest $args; $runs runs"

# one MODE: the guest's times under MODE's recorder (started 2 s before)
one()
{
	local m=$1 pid=''

	case $m in
	bpf) kvmexit record -q -a --bpf -o /tmp/r.data & pid=$! ;;
	bpf-record) KVMEXIT_BPF_EXIT=record kvmexit record -q -a --bpf -o /tmp/r.data & pid=$! ;;
	count) kvmexit record -q -a --count -o /tmp/r.data & pid=$! ;;
	sampled) kvmexit record -q -a -o /tmp/r.data & pid=$! ;;
	perf) perf record -q -a -e kvm:kvm_exit -e kvm:kvm_entry -o /tmp/r.data 2>/dev/null & pid=$! ;;
	esac
	[ -n "$pid" ] && sleep 2
	# shellcheck disable=SC2086
	lab-timeit "$m" kvmexit-guest -q $args 2>> cost.txt
	if [ -n "$pid" ]; then
		kill -INT "$pid"
		wait "$pid"
		rm -f /tmp/r.data /tmp/r.data.old
	fi
}

i=0
while [ $i -lt "$runs" ]; do
	for m in ${LAB_MODES:-bare bpf count sampled perf}; do
		command -v perf >/dev/null || [ $m != perf ] || continue
		one $m
	done
	i=$((i + 1))
done
# shellcheck disable=SC2086
kvmexit record -q -o /tmp/x.data -- kvmexit-guest -q $args
kvmexit report --csv /tmp/x.data > exits.txt
lab_emit cost.txt
lab_emit exits.txt
echo "payload end at $(lab_uptime) s"
