#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit record's error paths, with tests/fault-shim.c preloaded to make
# system calls fail: perf_event_open (EACCES, EPERM, EMFILE), the kvm
# tracefs files (ENOENT), writes to the capture (ENOSPC after N bytes).
# Exact messages, exit status 1, and no capture left by a failed start.
# Needs root (tracefs event ids), /dev/kvm and a C compiler.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
guest="$bld/tests/pio-guest"
if [ -x "$bld/tool/.libs/kvmexit" ]; then
	kx="$bld/tool/.libs/kvmexit"
	export LD_LIBRARY_PATH="$bld/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
	kx="$bld/tool/kvmexit"
fi
perf=${PERF:-/usr/bin/perf}
[ -x "$perf" ] || perf=
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir errors

[ "$(id -u)" -eq 0 ] || skip_all "needs root (tracefs event ids)"
[ -w /dev/kvm ] || skip_all "no usable /dev/kvm"
[ -x "$guest" ] || skip_all "$guest is not built"
"$kx" record -q -o "$tmp/probe.data" -e ioport -- "$guest" 10 >/dev/null 2>"$tmp/probe.err" ||
	skip_all "kvmexit record does not work here: $(head -n 1 "$tmp/probe.err")"
${CC:-cc} -shared -fPIC -o "$tmp/fault-shim.so" "$src/tests/fault-shim.c" -ldl 2>"$tmp/cc.err" ||
	skip_all "cannot build the fault shim: $(head -n 1 "$tmp/cc.err")"
# An ASan build checks that its runtime comes first: the shim may go first.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)

echo "1..9"

# expect NAME WANT-STATUS WANT-STDERR (a grep -E pattern of the whole line) ENV... -- ARGS
expect() {
	local name=$1 want_rc=$2 want=$3 envs=() rc
	shift 3
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	rm -f "$tmp/out.data"
	env "${envs[@]}" LD_PRELOAD="$tmp/fault-shim.so" "$kx" record -q -o "$tmp/out.data" "$@" \
		>/dev/null 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want_rc" ]; then
		not_ok "$name" "exit $rc, want $want_rc: $(head -n 3 "$tmp/err" | tr '\n' '|')"
	elif [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -qxE -- "$want" "$tmp/err"; then
		not_ok "$name" "stderr: $(tr '\n' '|' <"$tmp/err")" "want: $want"
	else
		ok "$name: $(cat "$tmp/err")"
	fi
}
no_capture() {
	[ ! -e "$tmp/out.data" ] && ok "$1: no capture left" ||
		not_ok "$1: no capture left" "$(ls -l "$tmp/out.data")"
}

perm="permission denied: run as root or lower /proc/sys/kernel/perf_event_paranoid \\(now $paranoid\\), or grant CAP_PERFMON"
expect "perf_event_open EACCES" 1 "kvmexit record: opening the kvm tracepoints: $perm" \
	FAULT_PERF_EVENT_OPEN=EACCES -- -e ioport -- "$guest" 10
no_capture "perf_event_open EACCES"
expect "perf_event_open EPERM" 1 "kvmexit record: opening the kvm tracepoints: $perm" \
	FAULT_PERF_EVENT_OPEN=EPERM -- -e ioport -- "$guest" 10
expect "perf_event_open EMFILE" 1 \
	"kvmexit record: opening the kvm tracepoints: too many open files: raise the limit \\(ulimit -n\\)" \
	FAULT_PERF_EVENT_OPEN=EMFILE -- -e ioport -- "$guest" 10
expect "--count, perf_event_open EACCES" 1 "kvmexit record: opening counters: $perm" \
	FAULT_PERF_EVENT_OPEN=EACCES -- --count -- "$guest" 10
expect "tracefs kvm events ENOENT" 1 \
	"kvmexit record: kvm tracepoints not found in /.*/events/kvm: is kvm_intel or kvm_amd loaded\\?" \
	FAULT_ENOENT=events/kvm -- -e ioport -- "$guest" 10
no_capture "tracefs kvm events ENOENT"

# Disk full after 300000 bytes: exit 1, the message, and the capture reads
# (perf script sees the same events as report).
expect "write ENOSPC after 300000 bytes" 1 \
	"kvmexit record: writing $tmp/out.data at byte [0-9]+: No space left on device; the capture keeps the rounds written before \\([0-9]+ bytes of data\\): free space and record again" \
	FAULT_ENOSPC_PATH="$tmp/out.data" FAULT_ENOSPC_AFTER=300000 -- -e ioport -- "$guest" 20000
# How many rounds fit before the fault depends on how busy the machine is
# (a round is one drain of the rings): zero complete rounds is possible,
# an unreadable capture is not.
ev=$("$kx" report --json "$tmp/out.data" 2>"$tmp/err" | sed -n 's/^ *"events": \([0-9]*\),*$/\1/p' | head -n 1)
if [ -z "$ev" ]; then
	not_ok "the capture of a full disk reads" "$(head -n 1 "$tmp/err")"
elif [ -n "$perf" ] && [ "$("$perf" script -i "$tmp/out.data" 2>/dev/null | grep -c ' kvm:kvm_')" != "$ev" ]; then
	not_ok "the capture of a full disk: perf script agrees" "report: $ev events"
else
	ok "the capture of a full disk reads: $ev events${perf:+, as perf script}"
fi
