#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Inputs as users have them: a stream is read once whatever it is (a FIFO,
# /dev/stdin, <(...), a pipe on -), for captures and count tables; a
# perf.data without kvm events and text that is no count table are errors
# that say what the file is and what was expected, with status 1.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
d="$src/tests/data"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir inputs-test

echo "1..10"
events() { grep '^events ' | tr -s ' '; }

pipe="$d/perf-kvm-pio20.pipe.data"
want="events 41: 0 exits, 0 entries, 41 other"

# 1-4: a pipe-mode capture through a FIFO, /dev/stdin, <(...) and -
mkfifo "$tmp/fifo"
cat "$pipe" >"$tmp/fifo" &
check "a FIFO, read once" "$want" "$("$kx" report "$tmp/fifo" 2>&1 | events)"
wait
check "/dev/stdin" "$want" "$(cat "$pipe" | "$kx" report /dev/stdin 2>&1 | events)"
check "<(...)" "$want" "$("$kx" report <(cat "$pipe") 2>&1 | events)"
check "- on a pipe" "$want" "$(cat "$pipe" | "$kx" report - 2>&1 | events)"

# 5-6: a count table through a FIFO and a pipe
table=$(printf 'isa,reason,count\nvmx,HLT,5\nvmx,CPUID,3\n')
printf '%s\n' "$table" >"$tmp/fifo" &
check "a count table through a FIFO" "HLT 5 CPUID 3" \
	"$("$kx" report "$tmp/fifo" 2>&1 | awk '/^(HLT|CPUID) / { printf "%s%s %s", s, $1, $2; s = " " }')"
wait
check "a count table on a pipe" "HLT 5 CPUID 3" \
	"$(printf '%s\n' "$table" | "$kx" report - 2>&1 |
		awk '/^(HLT|CPUID) / { printf "%s%s %s", s, $1, $2; s = " " }')"

# 7-8: a perf.data of sched events only: what it is, what was expected, status 1
"$kx" report "$d/perf-sched-only.data" >"$tmp/out" 2>&1
check "sched-only capture: status 1" "1" "$?"
check "sched-only capture: the message" "kvmexit report: $d/perf-sched-only.data: a perf.data capture of sched:sched_process_exec, sched:sched_process_exit, but no kvm events: kvmexit reads kvm:kvm_exit and kvm:kvm_entry (and kvm_pio, kvm_mmio, kvm_msr, kvm_userspace_exit); record with kvmexit record, perf record -e 'kvm:*' or perf kvm stat record" \
	"$(cat "$tmp/out")"

# 9-10: /etc/passwd-like text is no count table
printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n' >"$tmp/passwd"
"$kx" report "$tmp/passwd" >"$tmp/out" 2>&1
check "text that is no count table: status 1" "1" "$?"
check "text that is no count table: the message" "kvmexit report: $tmp/passwd: neither a perf.data capture nor a count table: it is text, and its first line (\"root:x:0:0:root:/root:/bin/bash\") has no isa,reason,count fields; give a capture of kvmexit record, perf record -e 'kvm:*' or perf kvm stat record, or a count table (kvmexit-capture(5))" \
	"$(cat "$tmp/out")"
