#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit record --bpf on this host's real kvm: its KVM never fires kvm_exit,
# but kvm_pio fires for tests/pio-guest, once per port write.  Two guests
# at once (1000 writes to 0x8a, 300 to 0x70), under
#   kvmexit record --bpf -e ioport -- kvmexit record -e ioport -- sh -c ...
# so both recorders see the same events: the --bpf capture must hold
# exactly 1000 and 300 kvm_pio for the two guests' processes, as many as
# the sampled capture has per process (stock perf script counts them), and
# `kvmexit report --pid` shows each; `kvmexit top --bpf` of one guest.  Then the errors: --bpf with --count,
# bpf() refused (tests/fault-shim.c), no kernel BTF; or, in a build without
# BPF, the message that says so.  Needs root and /dev/kvm; skips otherwise.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
guest="$bld/tests/pio-guest"
perf=${PERF:-/usr/bin/perf}
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir bpf

if ! grep -q '^#define HAVE_BPF 1' "$bld/config.h"; then
	echo "1..1"
	"$kx" record --bpf -q -o "$tmp/x.data" -a -d 0.1 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'built without the BPF source.*with --count' "$tmp/err"; then
		ok "a build without BPF says so and names the other sources"
	else
		not_ok "a build without BPF: exit $rc" "$(cat "$tmp/err")"
	fi
	exit 0
fi
[ "$(id -u)" -eq 0 ] || skip_all "needs root (BPF, kvm tracepoints)"
[ -w /dev/kvm ] || skip_all "no usable /dev/kvm"
[ -x "$guest" ] || skip_all "$guest is not built"
"$kx" record --bpf -q -o "$tmp/probe.data" -e ioport -- "$guest" 10 >/dev/null 2>"$tmp/probe.err" ||
	skip_all "kvmexit record --bpf does not work here: $(head -n 1 "$tmp/probe.err")"
echo "1..7"

# 1-3: two guests, both recorders.
"$kx" record --bpf -q -e ioport -o "$tmp/bpf.data" -- \
	"$kx" record -q -e ioport -o "$tmp/sampled.data" -- \
	sh -c "'$guest' 1000 & '$guest' 300 0x70; wait" > "$tmp/guests.out" 2>"$tmp/rec.err"
rc=$?
pids=$(strings "$tmp/bpf.data" |
	sed -n 's/^pio=\([0-9]*\),1,\([0-9]*\),1,\([0-9]*\)$/\1 \2 \3/p' | sort -k3,3nr)
if [ $rc -eq 0 ] && [ "$(echo "$pids" | awk '{ print $2 ":" $3 }' | tr '\n' ' ')" = "138:1000 112:300 " ]; then
	ok "--bpf: kvm_pio of two guests at once, exactly 1000 (port 0x8a) and 300 (0x70)"
else
	not_ok "--bpf: kvm_pio per process" "record exit $rc: $(head -n 2 "$tmp/rec.err")" "pio: $pids"
fi
p1=$(echo "$pids" | awk 'NR == 1 { print $1 }') p2=$(echo "$pids" | awk 'NR == 2 { print $1 }')
r1=$("$kx" report --pid "$p1" "$tmp/bpf.data" | sed -n 's/^exits .*; \([0-9]*\) kvm_pio$/\1/p')
r2=$("$kx" report --pid "$p2" "$tmp/bpf.data" | sed -n 's/^exits .*; \([0-9]*\) kvm_pio$/\1/p')
if [ "$r1:$r2" = "1000:300" ]; then
	ok "report --pid shows each guest's kvm_pio (1000, 300)"
else
	not_ok "report --pid: got '$r1' and '$r2'"
fi
if [ -x "$perf" ]; then
	s=$("$perf" script -i "$tmp/sampled.data" 2>/dev/null | awk '/kvm:kvm_pio:/ { n[$2]++ } END { for (p in n) print p, n[p] }' | sort -k2,2nr | tr '\n' ' ')
	if [ "$s" = "$p1 1000 $p2 300 " ]; then
		ok "the sampled capture of the same run has the same counts per process ($s)"
	else
		not_ok "sampled per process: '$s', --bpf: '$p1 1000 $p2 300'"
	fi
else
	ok "# SKIP no perf to read the sampled capture"
fi

# 4: the live source: kvmexit top --bpf.
"$kx" top --batch --bpf -e ioport -- "$guest" 2000 > "$tmp/top.out" 2>"$tmp/top.err"
rc=$?
# The total is exact; the last interval's share depends on when it began.
if [ $rc -eq 0 ] && grep -q '^other events: kvm_pio [0-9]* (total 2000)$' "$tmp/top.out"; then
	ok "kvmexit top --batch --bpf: kvm_pio 2000 in all, read from the BPF maps"
else
	not_ok "top --bpf: exit $rc" "$(head -n 3 "$tmp/top.out" "$tmp/top.err" | tr '\n' '|')"
fi

# 5-7: errors.
"$kx" record --bpf --count -q -o "$tmp/e.data" -a 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'two sources' "$tmp/err"; then
	ok "--bpf with --count is refused"
else
	not_ok "--bpf --count: exit $rc" "$(cat "$tmp/err")"
fi
${CC:-cc} -shared -fPIC -o "$tmp/fault-shim.so" "$src/tests/fault-shim.c" -ldl 2>"$tmp/cc.err" ||
	{ not_ok "cannot build the fault shim" "$(head -n 3 "$tmp/cc.err")"; exit 0; }
# An ASan build checks that its runtime comes first: the shim may go first.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
real=$kx
[ -x "$bld/tool/.libs/kvmexit" ] && real=$bld/tool/.libs/kvmexit
env FAULT_BPF=EPERM LD_PRELOAD="$tmp/fault-shim.so" \
	LD_LIBRARY_PATH="$bld/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	"$real" record --bpf -q -o "$tmp/e.data" -a -d 0.1 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'permission denied.*CAP_BPF.*with --count' "$tmp/err" && [ ! -e "$tmp/e.data" ]; then
	ok "bpf() refused: says why and which source to use instead, no capture left"
else
	not_ok "bpf() refused: exit $rc" "$(cat "$tmp/err")"
fi
env FAULT_ENOENT=btf/vmlinux LD_PRELOAD="$tmp/fault-shim.so" \
	LD_LIBRARY_PATH="$bld/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	"$real" record --bpf -q -o "$tmp/e.data" -a -d 0.1 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'no BTF.*with --count' "$tmp/err"; then
	ok "no kernel BTF: says so and which source to use instead"
else
	not_ok "no BTF: exit $rc" "$(cat "$tmp/err")"
fi
