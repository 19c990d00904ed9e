# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Helpers for lab payloads, installed as /lab/lib.sh in the initramfs and
# sourced by payloads (busybox ash).  Everything a payload prints goes to the
# second serial port; run-vm on the host turns the @@LAB-FILE blocks into
# files in its output directory and keeps the rest as payload.log.

LAB_MODULES=/lab/modules
TRACEFS=/sys/kernel/tracing

lab_uptime()
{
	cut -d' ' -f1 /proc/uptime
}

# lab_emit FILE [NAME]: send FILE to the host as NAME (default: its basename).
lab_emit()
{
	local f=$1 name=${2:-${1##*/}}

	echo "@@LAB-FILE $name $(wc -c < "$f")"
	base64 "$f"
	echo "@@LAB-END $name"
}

# The machine's kvm module (build-initramfs -M put exactly one in) and its
# nested-paging parameter: kvm_intel and ept on Intel, kvm_amd and npt on AMD.
# shellcheck disable=SC2034 # LAB_TDP is for the payloads
if [ -f $LAB_MODULES/kvm-intel.ko ]; then
	LAB_KVM=kvm_intel LAB_TDP=ept LAB_KVM_DEPS="irqbypass kvm"
else
	LAB_KVM=kvm_amd LAB_TDP=npt LAB_KVM_DEPS="irqbypass kvm ccp"
fi

# lab_kvm_load [module parameters...]: insmod irqbypass, kvm (and ccp on
# AMD), then kvm_amd or kvm_intel with the parameters, in dependency order
# (the .deb has no modules.dep, so no modprobe); reloads the latter.
lab_kvm_load()
{
	local m

	for m in $LAB_KVM_DEPS; do
		grep -q "^$m " /proc/modules && continue
		insmod "$LAB_MODULES/$m.ko" || return 1
	done
	if grep -q "^$LAB_KVM " /proc/modules; then
		rmmod $LAB_KVM || return 1
	fi
	insmod "$LAB_MODULES/$(echo $LAB_KVM | tr _ -).ko" "$@" || return 1
	[ -c /dev/kvm ] || mknod /dev/kvm c 10 232
}

lab_kvm_unload()
{
	grep -q "^$LAB_KVM " /proc/modules && rmmod $LAB_KVM
	return 0
}

# lab_kvm_param NAME: a parameter of the loaded kvm_amd or kvm_intel.
lab_kvm_param()
{
	cat /sys/module/$LAB_KVM/parameters/"$1" 2>/dev/null || echo '?'
}

# lab_trace_start EVENT...: clear the trace buffer and enable kvm/EVENTs.
lab_trace_start()
{
	local e

	echo 0 > $TRACEFS/tracing_on
	echo > $TRACEFS/set_event
	echo "${LAB_TRACE_BUFFER_KB:-32768}" > $TRACEFS/buffer_size_kb
	echo > $TRACEFS/trace
	for e in "$@"; do
		echo 1 > "$TRACEFS/events/kvm/$e/enable" || return 1
	done
	echo 1 > $TRACEFS/tracing_on
}

# lab_trace_stop FILE: stop tracing, save the trace text to FILE.
lab_trace_stop()
{
	echo 0 > $TRACEFS/tracing_on
	echo > $TRACEFS/set_event
	cat $TRACEFS/trace > "$1"
	# Lost events would make the counts wrong: say so.
	cat $TRACEFS/per_cpu/cpu*/stats 2>/dev/null |
		grep -e '^overrun' -e '^dropped events' | grep -v ': 0$' |
		sed 's/^/trace: LOST EVENTS: /'
}
