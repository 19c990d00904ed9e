# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Lab payload: kvmexit's own recorder in the lab VM (driver: run-kvmexit).
# On either machine (kvm_amd and its npt on AMD, kvm_intel and its ept on
# Intel; below for AMD), with npt=1, then npt=0, it runs the same guest
#   kvmexit record -q -o CAPTURE -- kvmexit-guest ARGS          (size 1)
#   kvmexit record -q -o CAPTURE -- kvmexit-guest ARGS2         (size 2)
# with tracefs (kvm_exit and kvm_pio) recording each run as well, then
#   kvmexit record --count -q -o CAPTURE -- kvmexit-guest ARGS  (size 1 again)
#   kvmexit serve [--count] --textfile FILE around kvmexit-guest ARGS (size 1)
#   kvmexit serve --bpf --grace 0 --textfile FILE around three guests in
#     turn (size 1, npt=1 only): VM churn, each retired once gone
# and emits
#   npt.data, shadow.data              size 1, npt=1 and npt=0 (sampled)
#   npt-big.data, shadow-big.data      size 2
#   npt-count.data, shadow-count.data  size 1, --count (in-kernel counters)
#   npt{1,0}-{rec,big}.summary   kvmexit-guest's summary (the exact work done)
#   npt{1,0}-{rec,big}.counts    count-exits of the tracefs text (reference)
#   npt{1,0}-cnt.guest           the --count run's guest summary
#   npt{1,0}-srv{,c}.prom        kvmexit serve's textfile (sampled, --count)
#   npt{1,0}-srv{,c}.guest       its guest's summary
#   npt1-churn.prom, npt1-churn.guest{1,2,3}  the churn run's textfile and
#                                the three guests' summaries
#   npt{1,0}-*.record.log        kvmexit record's stderr
#   modes.txt                    npt and tdp_mmu read back per mode (Intel:
#                                ept, eptad, unrestricted_guest too)
# On Intel the names say ept: ept1-*, ept0-*, ept.data, ept-big.data,
# ept-count.data (shadow*.data as on AMD).  With LAB_PERF=1 and perf in the
# image, stock `perf record -B -N -e kvm:kvm_exit -e kvm:kvm_entry -e kvm:kvm_pio`
# records the size 1 sampled run as well (around kvmexit record):
# M-rec.perf.data.  (Under emulation perf's start costs seconds, so only
# that one.)
# LAB_EMIT_GZ=1 sends the captures gzipped (NAME.gz).
# The host checks all of them (check-kvmexit).
#
# Parameters (/lab/env):
#   LAB_GUEST_ARGS   size 1 guest options (also the shipped examples)
#   LAB_GUEST_ARGS2  size 2 guest options ("none": no size 2 runs)
#   LAB_COUNT        0: no --count runs
#   LAB_PERF         1: stock perf record too (when perf is in the image)
#   LAB_EMIT_GZ      1: gzip the captures before sending them
#   LAB_SERVE        0: no kvmexit serve runs
#   LAB_CHURN        0: no serve --bpf churn run
#   LAB_BPF          1: then /lab/payload-bpf (payloads/kvmexit-bpf.sh)
#   LD_LIBRARY_PATH  where libkvmexit.so.0 (and libperf, ...) were put
. /lab/lib.sh

args=${LAB_GUEST_ARGS:---memory 4 --pages 200 --passes 2 --cr3-interval 20 --cpuid 50 --ioports 50}
args2=${LAB_GUEST_ARGS2:---memory 8 --pages 1000 --passes 3 --cr3-interval 100 --cpuid 20 --ioports 30}
fail=0
echo "payload start at $(lab_uptime) s"
echo "size 1: kvmexit-guest $args"
echo "size 2: kvmexit-guest $args2"
if ! kvmexit --version; then
	echo "kvmexit does not run in the VM (missing library? LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-})"
	exit 1
fi

# record BASE CAPTURE TRACE(0|1) KVMEXIT-RECORD-OPTIONS -- GUEST-ARGS...
record()
{
	local base=$1 capture=$2 trace=$3 opts=$4 rc t0 t1 f

	shift 4
	if [ "$trace" = 1 ]; then
		lab_trace_start kvm_exit kvm_pio || { fail=1; return 1; }
	fi
	t0=$(lab_uptime)
	if [ "$trace" = 1 ] && [ "$use_perf" = 1 ] && [ "${base#*-}" = rec ]; then
		# shellcheck disable=SC2086 # $opts is a word list
		# No build ids: collecting and caching them costs emulated seconds
		# and tracepoint counts need none.
		perf record -q -B -N -o "$base.perf.data" -e kvm:kvm_exit -e kvm:kvm_entry \
			-e kvm:kvm_pio -- kvmexit record $opts -q -o "$capture" -- \
			kvmexit-guest "$@" > "$base.summary" 2> "$base.record.log"
	else
		# shellcheck disable=SC2086 # $opts is a word list
		kvmexit record $opts -q -o "$capture" -- kvmexit-guest "$@" \
			> "$base.summary" 2> "$base.record.log"
	fi
	rc=$?
	t1=$(lab_uptime)
	if [ "$trace" = 1 ]; then
		lab_trace_stop "$base.trace"
		/lab/count-exits "$base.trace" > "$base.counts"
	else
		mv "$base.summary" "$base.guest"
	fi
	echo "$base: kvmexit record $opts exit $rc, $t0 s .. $t1 s," \
	     "$(wc -c < "$capture" 2>/dev/null || echo no) bytes"
	sed "s/^/$base: record: /" "$base.record.log"
	[ $rc -eq 0 ] || fail=1
	for f in "$capture" "$base.perf.data" "$base.summary" "$base.guest" "$base.counts" \
		 "$base.record.log"; do
		[ -e "$f" ] || continue
		case $f in
		*.data)
			if [ "${LAB_EMIT_GZ:-0}" = 1 ]; then
				gzip -1 "$f" && f=$f.gz
			fi ;;
		esac
		lab_emit "$f"
	done
	rm -f "$capture" "$capture.gz" "$base".*
}

use_perf=0
[ "${LAB_PERF:-0}" = 1 ] && command -v perf >/dev/null 2>&1 && use_perf=1
echo "machine: $LAB_KVM ($LAB_TDP); stock perf record: $use_perf"
# serve_wait TRIES CMD...: runs CMD every 0.1 s, at most TRIES times, until it
# succeeds or kvmexit serve ($serve_pid) has ended.
serve_wait()
{
	local tries=$1 i=0

	shift
	while ! "$@" && [ $i -lt "$tries" ] && kill -0 $serve_pid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
}

# serve_start BASE KVMEXIT-SERVE-OPTIONS: starts kvmexit serve --textfile
# BASE.prom in the background (its pid in $serve_pid) and waits for its
# first page: its events are on then.
serve_start()
{
	# shellcheck disable=SC2086 # $2 is a word list
	kvmexit serve $2 --interval 0.2 --textfile "$1.prom" 2> "$1.serve.log" &
	serve_pid=$!
	serve_wait 300 test -e "$1.prom"
}

# serve_stop BASE KVMEXIT-SERVE-OPTIONS FILE...: SIGTERM to kvmexit serve (its
# last page has everything); says its exit status (non-zero fails the
# payload) and log, and emits each FILE there is.
serve_stop()
{
	local base=$1 opts=$2 rc f

	shift 2
	kill -TERM $serve_pid
	wait $serve_pid
	rc=$?
	echo "$base: kvmexit serve $opts exit $rc," \
	     "$(grep -c '^kvmexit_exits_total' "$base.prom" 2>/dev/null || echo no) exit series"
	sed "s/^/$base: serve: /" "$base.serve.log"
	[ $rc -eq 0 ] || fail=1
	for f in "$@"; do
		[ -e "$f" ] && lab_emit "$f"
	done
	rm -f "$base".*
}

# serve BASE KVMEXIT-SERVE-OPTIONS GUEST-ARGS...: kvmexit serve --textfile
# around one guest run.
serve()
{
	local base=$1 opts=$2

	shift 2
	serve_start "$base" "$opts"
	kvmexit-guest "$@" > "$base.guest"
	serve_stop "$base" "$opts" "$base.prom" "$base.guest" "$base.serve.log"
}

# serve_churn BASE GUEST-ARGS...: kvmexit serve --bpf --grace 0 while three
# guests run in turn, each a VM (process) that ends: each is retired once
# gone; stopped when the textfile says all three were.
serve_churn()
{
	local base=$1 n

	shift
	serve_start "$base" "--bpf --grace 0"
	for n in 1 2 3; do
		kvmexit-guest "$@" > "$base.guest$n"
	done
	serve_wait 100 grep -q '^kvmexit_vms_retired_total 3$' "$base.prom"
	serve_stop "$base" "--bpf --grace 0" "$base.prom" "$base.guest1" "$base.guest2" \
		"$base.guest3"
}

for npt in 1 0; do
	m=$LAB_TDP$npt
	cap=$LAB_TDP
	[ $npt = 1 ] || cap=shadow
	if ! lab_kvm_load $LAB_TDP=$npt; then
		echo "$m: loading $LAB_KVM $LAB_TDP=$npt failed"; fail=1; continue
	fi
	if [ $LAB_KVM = kvm_intel ]; then
		echo "$m ept=$(lab_kvm_param ept) eptad=$(lab_kvm_param eptad)" \
		     "unrestricted_guest=$(lab_kvm_param unrestricted_guest)" \
		     "tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu)" >> modes.txt
	else
		echo "$m npt=$(lab_kvm_param npt)" \
		     "tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu)" >> modes.txt
	fi
	# shellcheck disable=SC2086 # $args and $args2 are word lists
	record "$m-rec" "$cap.data" 1 "" $args
	# shellcheck disable=SC2086
	[ "$args2" = none ] || record "$m-big" "$cap-big.data" 1 "" $args2
	# shellcheck disable=SC2086
	[ "${LAB_COUNT:-1}" = 0 ] || record "$m-cnt" "$cap-count.data" 0 --count $args
	# shellcheck disable=SC2086
	[ "${LAB_SERVE:-1}" = 0 ] || serve "$m-srv" "" $args
	# shellcheck disable=SC2086
	[ "${LAB_SERVE:-1}" = 0 ] || serve "$m-srvc" --count $args
	# shellcheck disable=SC2086
	[ "${LAB_SERVE:-1}" = 0 ] || [ $npt = 0 ] || [ "${LAB_CHURN:-1}" = 0 ] ||
		serve_churn "$m-churn" $args
	lab_kvm_unload
done
dmesg | grep -i -e kvm -e vmx -e svm | sed 's/^/dmesg: /'
lab_emit modes.txt
# LAB_BPF=1 (run-kvmexit --bpf): run-bpf's payload in the same boot; its
# failures show in its files (check-bpf), not in this payload's status.
if [ "${LAB_BPF:-0}" = 1 ] && [ -f /lab/payload-bpf ]; then
	/bin/sh /lab/payload-bpf || echo "payload-bpf: exit $?"
fi
echo "payload end at $(lab_uptime) s"
exit $fail
