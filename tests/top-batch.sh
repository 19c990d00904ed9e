#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit top without a terminal, exactly: --batch and --log (text, CSV,
# JSON) of a replayed tests/gen-capture capture, whose intervals are
# capture time and so the same on every run; -L with SIGHUP; errors.
#
# The capture: 1000 pairs, one every 10 ms from 1 s on (so 9.99 s), pair i
# on vCPU i % 4 of pid 4000 + (i % 4) % 2, with the reason of element i % 5
# of EPT_VIOLATION x3 (1500 ns), HLT (30000 ns), CPUID (800 ns).  So 600
# EPT_VIOLATION, 200 HLT, 200 CPUID; per 300 pairs (a 3 s interval) 180, 60,
# 60; each pid has half of every reason.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
gen="$bld/tests/gen-capture"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir top-test

[ -x "$gen" ] || skip_all "$gen is not built"

echo "1..14"

g="$tmp/g.data"
"$gen" --isa vmx --layout 6.1 --pairs 1000 --pattern 48:3:1500,12:1:30000,10:1:800 \
	--vcpus 4 --pids 2 --step 10000000 --start 1000000000 \
	--data-dir "$src/tests/data" -f -o "$g" >/dev/null

# 1: one snapshot of the whole replay.
check "--batch: the whole capture per reason" "\
+9.990  interval 9.990 s  exits 1000  events 2000  lost 0  view reason
REASON         EXITS  RATE/s  TOTAL   SHARE     AVG     P99
EPT_VIOLATION    600    60.1    600   60.0%  1.50us  1.50us
CPUID            200    20.0    200   20.0%   800ns   800ns
HLT              200    20.0    200   20.0%  30.0us  30.0us
Total           1000     100   1000  100.0%  7.06us       -" "$("$kx" top --replay "$g" --batch)"

# 2: a block per 3 s of capture time, the last one short; totals grow.
check "--log -s 3 --by vm: intervals of capture time" "\
+3.000  interval 3.000 s  exits 300  events 600  lost 0  view vm
VM         PID  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
pid 4000  4000    150    50.0    150   50.0%  7.06us  30.0us
pid 4001  4001    150    50.0    150   50.0%  7.06us  30.0us
Total             300     100    300  100.0%  7.06us       -
+6.000  interval 3.000 s  exits 300  events 600  lost 0  view vm
VM         PID  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
pid 4000  4000    150    50.0    300   50.0%  7.06us  30.0us
pid 4001  4001    150    50.0    300   50.0%  7.06us  30.0us
Total             300     100    600  100.0%  7.06us       -
+9.000  interval 3.000 s  exits 300  events 600  lost 0  view vm
VM         PID  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
pid 4000  4000    150    50.0    450   50.0%  7.06us  30.0us
pid 4001  4001    150    50.0    450   50.0%  7.06us  30.0us
Total             300     100    900  100.0%  7.06us       -
+9.990  interval 0.990 s  exits 100  events 200  lost 0  view vm
VM         PID  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
pid 4000  4000     50    50.5    500   50.0%  7.06us  30.0us
pid 4001  4001     50    50.5    500   50.0%  7.06us  30.0us
Total             100     101   1000  100.0%  7.06us       -" "$("$kx" top --replay "$g" --log -s 3 --by vm)"

# 3: CSV, a header and a line per row and interval.
check "--log --csv -s 5" "\
time,interval_s,vm,pid,vcpu,reason,exits,rate,total,share,avg_ns,p99_ns
+5.000,5.000,,,,EPT_VIOLATION,300,60.000,300,0.6000,1500,1500
+5.000,5.000,,,,CPUID,100,20.000,100,0.2000,800,800
+5.000,5.000,,,,HLT,100,20.000,100,0.2000,30000,30000
+9.990,4.990,,,,EPT_VIOLATION,300,60.120,600,0.6000,1500,1500
+9.990,4.990,,,,CPUID,100,20.040,200,0.2000,800,800
+9.990,4.990,,,,HLT,100,20.040,200,0.2000,30000,30000" \
	"$("$kx" top --replay "$g" --log --csv -s 5)"

# 4: JSON lines (kvmexit's own CPU use varies: masked).
check "--batch --json --by process" \
	'{"time":"+9.990","interval_s":9.990,"view":"process","exits":1000,"events":2000,"lost":0,"total_exits":1000,"cpu_pct":X,"source":"replay","other_events":{},"rows":[{"vm":"pid 4000","pid":4000,"reason":"EPT_VIOLATION","exits":300,"rate":30.030,"total":300,"share":0.3000,"avg_ns":1500,"p99_ns":1500},{"vm":"pid 4001","pid":4001,"reason":"EPT_VIOLATION","exits":300,"rate":30.030,"total":300,"share":0.3000,"avg_ns":1500,"p99_ns":1500},{"vm":"pid 4000","pid":4000,"reason":"CPUID","exits":100,"rate":10.010,"total":100,"share":0.1000,"avg_ns":800,"p99_ns":800},{"vm":"pid 4001","pid":4001,"reason":"CPUID","exits":100,"rate":10.010,"total":100,"share":0.1000,"avg_ns":800,"p99_ns":800},{"vm":"pid 4000","pid":4000,"reason":"HLT","exits":100,"rate":10.010,"total":100,"share":0.1000,"avg_ns":30000,"p99_ns":30000},{"vm":"pid 4001","pid":4001,"reason":"HLT","exits":100,"rate":10.010,"total":100,"share":0.1000,"avg_ns":30000,"p99_ns":30000}]}' \
	"$("$kx" top --replay "$g" --batch --json --by process | sed 's/"cpu_pct":[0-9.]*/"cpu_pct":X/')"

# 5, 6: a filter on reasons, one VM per vCPU.
check "--filter 'hlt|cpuid' (regex, any case)" "\
+9.990  interval 9.990 s  exits 400  events 2000  lost 0  view reason  filter hlt|cpuid
REASON  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
CPUID     200    20.0    200   50.0%   800ns   800ns
HLT       200    20.0    200   50.0%  30.0us  30.0us
Total     400    40.0    400  100.0%  15.4us       -" \
	"$("$kx" top --replay "$g" --batch --filter 'hlt|cpuid')"
check "--vm 4001 --by vcpu" "\
+9.990  interval 9.990 s  exits 500  events 2000  lost 0  view vcpu  vm pid 4001 [4001]
VM         PID  VCPU  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
pid 4001  4001     1    250    25.0    250   50.0%  7.06us  30.0us
pid 4001  4001     3    250    25.0    250   50.0%  7.06us  30.0us
Total                   500    50.1    500  100.0%  7.06us       -" \
	"$("$kx" top --replay "$g" --batch --vm 4001 --by vcpu)"

# 7, 8: a VM by name (a replay names VMs "pid N"): found at the first
# interval; a name no VM has shows nothing, and says so.
check "--vm NAME: found once it has had exits" "\
+5.000  interval 5.000 s  exits 250  events 1000  lost 0  view reason  vm pid 4001 [4001]
REASON         EXITS  RATE/s  TOTAL   SHARE     AVG     P99
EPT_VIOLATION    150    30.0    150   60.0%  1.50us  1.50us
CPUID             50    10.0     50   20.0%   800ns   800ns
HLT               50    10.0     50   20.0%  30.0us  30.0us
Total            250    50.0    250  100.0%  7.06us       -" \
	"$("$kx" top --replay "$g" --log -s 5 --vm 'pid 4001' | head -n 6)"
check "--vm NAME of no VM: no rows, and the header says so" "\
+9.990  interval 9.990 s  exits 0  events 2000  lost 0  view reason  vm nosuch (no exits yet)
REASON  EXITS  RATE/s  TOTAL  SHARE  AVG  P99
Total       0    0.00      0   0.0%    -    -" "$("$kx" top --replay "$g" --batch --vm nosuch)"

# 9: categories.
check "--by category" "\
+9.990  interval 9.990 s  exits 1000  events 2000  lost 0  view category
CATEGORY     EXITS  RATE/s  TOTAL   SHARE     AVG     P99
paging         600    60.1    600   60.0%  1.50us  1.50us
instruction    400    40.0    400   40.0%  15.4us  30.0us
Total         1000     100   1000  100.0%  7.06us       -" "$("$kx" top --replay "$g" --batch --by category)"

# 10: -L appends, with the CSV header only at the start of the file.
"$kx" top --replay "$g" --log --csv -s 5 -L "$tmp/log.csv"
"$kx" top --replay "$g" --log --csv -s 5 -L "$tmp/log.csv"
check "-L FILE: appends, one CSV header" "13 1" \
	"$(wc -l <"$tmp/log.csv") $(grep -c '^time,' "$tmp/log.csv")"

# 11: SIGHUP reopens -L's file (logrotate): moved away after the first block,
# the log goes on in a new file; nothing is lost or repeated.  At 4x, 10
# intervals of 1 s take 2.5 s; the move waits for the first block (bounded).
"$kx" top --replay "$g" --speed 4 --log --csv -s 1 -L "$tmp/rot.csv" &
pid=$!
i=0
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
while [ "$(lines "$tmp/rot.csv")" -lt 4 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
mv "$tmp/rot.csv" "$tmp/rot.csv.1"
kill -HUP $pid
wait $pid
status=$?
"$kx" top --replay "$g" --log --csv -s 1 >"$tmp/all.csv"
check "SIGHUP: the rotated and the new file hold every line once, each a header" \
	"0 $(cat "$tmp/all.csv" | wc -l) 2" \
	"$status $( (cat "$tmp/rot.csv.1"; grep -v '^time,' "$tmp/rot.csv") | wc -l) $(cat "$tmp/rot.csv.1" "$tmp/rot.csv" | grep -c '^time,')"

# 12: SIGTERM ends a log cleanly: status 0, the part-interval printed.
"$kx" top --replay "$g" --speed 4 --log -s 1 >"$tmp/term.txt" &
pid=$!
i=0
while ! grep -q '^Total' "$tmp/term.txt" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -TERM $pid
wait $pid
status=$?
last=$(tail -n 1 "$tmp/term.txt")
check "SIGTERM: status 0, the log ends with a whole block" "0 Total" "$status ${last%% *}"

# 13, 14: errors say what to do, with status 2.
msg=$("$kx" top --replay "$g" </dev/null 2>&1 >/dev/null)
check "no terminal: use --batch or --log" \
	"2 kvmexit top: no terminal for the full-screen view: use --batch or --log" \
	"$? $(printf '%s\n' "$msg" | head -n 1)"
msg=$("$kx" top --replay "$g" --batch --filter '(' 2>&1)
check "a bad regex is named" "2 kvmexit top: --filter: bad regular expression '(':" \
	"$? $(printf '%s\n' "$msg" | head -n 1 | sed 's/: [^:]*$/:/')"
