# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Lab payload: `kvmexit top --batch` around kvmexit-guest (driver: run-top).
# With kvm_amd npt=1, then npt=0, sampled and --count:
#   kvmexit top --batch --json [--count] -- kvmexit-guest ARGS
# emits npt{1,0}-{top,topc}.out: the guest's summary (name=value lines)
# followed by top's JSON line; run-top checks each reason against its
# exact formula.  LAB_GUEST_ARGS (/lab/env) sets the guest's size.
. /lab/lib.sh

args=${LAB_GUEST_ARGS:---memory 4 --pages 200 --passes 2 --cr3-interval 20 --cpuid 50 --ioports 50}
fail=0
kvmexit --version || exit 1
for npt in 1 0; do
	m=npt$npt
	if ! lab_kvm_load npt=$npt; then
		echo "$m: loading kvm_amd npt=$npt failed"; fail=1; continue
	fi
	for v in top topc; do
		opts=
		[ $v = topc ] && opts=--count
		# shellcheck disable=SC2086 # $opts and $args are word lists
		kvmexit top --batch --json $opts -- kvmexit-guest $args > "$m-$v.out" 2> "$m-$v.log"
		rc=$?
		echo "$m: kvmexit top --batch $opts exit $rc"
		sed "s/^/$m-$v: /" "$m-$v.log"
		[ $rc -eq 0 ] || fail=1
		lab_emit "$m-$v.out"
		rm -f "$m-$v.out" "$m-$v.log"
	done
	lab_kvm_unload
done
exit $fail
