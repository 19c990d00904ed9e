# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Lab payload: small stock-perf captures of kvmexit-guest for the test
# fixtures in tests/data (see tests/lab/make-fixtures).  For npt=1, then npt=0,
# it runs the same small guest three times, each run under one recorder:
#   M.perf.data          perf record -e kvm:kvm_exit -e kvm:kvm_entry (file)
#   M.pipe.perf.data     the same with -o - (pipe mode; the guest runs with
#                        --quiet, because its stdout is the pipe)
#   M.kvmstat.perf.data  perf kvm stat record
# and emits them with M.summary (kvmexit-guest's name=value summary) and
# modes.txt.  Guest options come from /lab/env as LAB_GUEST_ARGS.
. /lab/lib.sh

args=${LAB_GUEST_ARGS:---memory 4 --pages 64 --passes 1 --cr3-interval 16 --cpuid 10 --ioports 10}
fail=0
command -v perf >/dev/null 2>&1 || { echo "no perf in the image"; exit 1; }
echo "payload start at $(lab_uptime) s; guest: kvmexit-guest $args"

# run NAME COMMAND...: run it, report its status and time (on stderr: the
# caller may redirect stdout).
run()
{
	local name=$1 t0 rc

	shift
	t0=$(lab_uptime)
	"$@"
	rc=$?
	echo "$name: exit $rc, $t0 s .. $(lab_uptime) s" >&2
	return $rc
}

for npt in 1 0; do
	m=lab-npt$npt
	if ! lab_kvm_load npt=$npt; then
		echo "$m: loading kvm_amd npt=$npt failed"; fail=1; continue
	fi
	echo "$m npt=$(cat /sys/module/kvm_amd/parameters/npt)" \
	     "tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu)" >> modes.txt
	# shellcheck disable=SC2086 # $args is a word list
	run "$m.perf.data" perf record -q -o "$m.perf.data" \
		-e kvm:kvm_exit -e kvm:kvm_entry -- kvmexit-guest $args \
		> "$m.summary" || fail=1
	# shellcheck disable=SC2086
	run "$m.pipe.perf.data" perf record -q -o - \
		-e kvm:kvm_exit -e kvm:kvm_entry -- kvmexit-guest --quiet $args \
		> "$m.pipe.perf.data" || fail=1
	# shellcheck disable=SC2086
	run "$m.kvmstat.perf.data" perf kvm stat record -q -o "$m.kvmstat.perf.data" \
		-- kvmexit-guest --quiet $args || fail=1
	for f in "$m.summary" "$m.perf.data" "$m.pipe.perf.data" "$m.kvmstat.perf.data"; do
		[ -s "$f" ] && lab_emit "$f"
	done
	rm -f "$m".*
	lab_kvm_unload
done
lab_emit modes.txt
echo "payload end at $(lab_uptime) s"
exit $fail
