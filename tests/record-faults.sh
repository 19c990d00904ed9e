#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit record under faults, on this host's real kvm (tests/pio-guest):
# SIGINT/SIGTERM at random moments (from before the first round on), a full
# disk (a 2 MiB tmpfs), an existing output without -f, the file's mode.
# Every capture left behind must read with kvmexit report, and as many
# events as perf script sees in it.  Needs root, /dev/kvm and the kvm
# tracepoints; skips visibly otherwise.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
guest="$bld/tests/pio-guest"
# The real binary, not libtool's wrapper script: a signal must reach it.
if [ -x "$bld/tool/.libs/kvmexit" ]; then
	kx="$bld/tool/.libs/kvmexit"
	export LD_LIBRARY_PATH="$bld/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
	kx="$bld/tool/kvmexit"
fi
perf=${PERF:-/usr/bin/perf}
. "${top_srcdir:-.}/tests/tap.sh"
# Its own temporary directory and trap, not tap_tmpdir's: the trap also
# unmounts the tmpfs, and only in this shell.
tmp=$(mktemp -d /tmp/kvmexit-faults.XXXXXX) || exit 1
mnt=
cleanup() {
	# only this shell: a forked child of it that a signal hits before
	# its exec would run the trap too
	[ "$BASHPID" = "$$" ] || return
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip_all "needs root (perf_event_open of kvm tracepoints)"
[ -w /dev/kvm ] || skip_all "no usable /dev/kvm"
[ -x "$guest" ] || skip_all "$guest is not built"
"$kx" record -q -o "$tmp/probe.data" -e ioport -- "$guest" 10 >/dev/null 2>"$tmp/probe.err" ||
	skip_all "kvmexit record does not work here: $(head -n 1 "$tmp/probe.err")"
[ -x "$perf" ] || perf=

runs=${FAULT_RUNS:-20}
echo "1..$((runs + 5))"

events_of() {	# the events report counts, or nothing
	"$kx" report --json "$1" 2>"$tmp/report.err" | sed -n 's/^ *"events": \([0-9]*\),*$/\1/p' | head -n 1
}
perf_events_of() {
	"$perf" script -i "$1" 2>/dev/null | grep -c ' kvm:kvm_'
}
# check_capture NAME FILE: report reads FILE, and perf script agrees.
check_capture() {
	local ev pev
	ev=$(events_of "$2")
	if [ -z "$ev" ]; then
		not_ok "$1" "report: $(head -n 1 "$tmp/report.err")"
		return
	fi
	if [ -n "$perf" ]; then
		pev=$(perf_events_of "$2")
		if [ "$ev" != "$pev" ]; then
			not_ok "$1" "report counts $ev events, perf script $pev"
			return
		fi
	fi
	ok "$1 ($ev events)"
}

# 1..runs: a signal at a random moment in 0-500 ms.  Job control on, so
# the background recorder does not start with SIGINT ignored.
set -m
for i in $(seq 1 "$runs"); do
	sig=INT
	[ $((i % 2)) -eq 0 ] && sig=TERM
	ms=$((RANDOM % 501))
	[ "$i" -le 3 ] && ms=$((i - 1))		# very early: 0, 1, 2 ms
	out="$tmp/sig$i.data"
	"$kx" record -q -o "$out" -e ioport -- "$guest" 100000000 >/dev/null 2>"$tmp/rec.err" &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -s "$sig" "$pid"
	# a watchdog: the recorder must stop at once
	(sleep 20; kill -KILL "$pid" 2>/dev/null) &
	dog=$!
	wait "$pid"
	rc=$?
	kill "$dog" 2>/dev/null
	wait "$dog" 2>/dev/null
	name="SIG$sig after $ms ms"
	if [ "$rc" -eq 137 ]; then
		not_ok "$name" "the recorder did not stop within 20 s"
	elif [ "$rc" -gt 128 ] && [ ! -e "$out" ]; then
		# killed before its handler was set (exit 128+N): no file at all
		ok "$name: died before recording, no file (exit $rc)"
	elif [ "$rc" -ne 0 ]; then
		not_ok "$name" "exit $rc: $(head -n 1 "$tmp/rec.err")"
	else
		check_capture "$name: exit 0, the capture reads" "$out"
	fi
	rm -f "$out"
done
set +m

# An existing output is not overwritten without -f.
out="$tmp/exists.data"
echo "precious" >"$out"
"$kx" record -q -o "$out" -e ioport -- "$guest" 10 >/dev/null 2>"$tmp/rec.err"
rc=$?
if [ "$rc" -ne 0 ] && [ "$(cat "$out")" = "precious" ] && grep -q -- '-f' "$tmp/rec.err"; then
	ok "an existing output is kept without -f (exit $rc: $(head -n 1 "$tmp/rec.err"))"
else
	not_ok "an existing output is kept without -f" "exit $rc, $(head -n 1 "$tmp/rec.err")"
fi

# With -f it is replaced, and made private; a new capture is 0600 too.
chmod 0644 "$out"
"$kx" record -q -f -o "$out" -e ioport -- "$guest" 10 >/dev/null 2>&1
mode=$(stat -c %a "$out")
[ "$mode" = 600 ] && ok "-f replaces the output, mode 0600" || not_ok "-f: mode 0600" "mode $mode"
"$kx" record -q -o "$tmp/new.data" -e ioport -- "$guest" 10 >/dev/null 2>&1
mode=$(stat -c %a "$tmp/new.data")
[ "$mode" = 600 ] && ok "a new capture has mode 0600" || not_ok "a new capture: mode 0600" "mode $mode"
check_capture "a complete capture: 10 pio + 10 userspace exits + hlt" "$tmp/new.data"

# A full disk: exit 1 with a message saying so; the capture reads.
mnt="$tmp/mnt"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=2m none "$mnt" 2>"$tmp/mount.err"; then
	mnt=
	skip "disk full" "mount tmpfs: $(cat "$tmp/mount.err")"
else
	"$kx" record -q -o "$mnt/full.data" -e ioport -- "$guest" 1000000 >/dev/null 2>"$tmp/rec.err"
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -q 'No space left on device.*free space and record again' "$tmp/rec.err"; then
		not_ok "disk full: exit 1 and a message" "exit $rc: $(head -n 1 "$tmp/rec.err")"
	else
		check_capture "disk full: exit 1, 'No space left', the capture reads" "$mnt/full.data"
	fi
fi
