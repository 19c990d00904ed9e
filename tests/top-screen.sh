#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit top's screen, driven in tmux: keys sent with send-keys, the
# screen read with capture-pane, exact numbers after each key.  The replay
# starts paused; n steps one interval of 3 s of capture time, so every
# screen is the same on every run.  The capture is top-batch.sh's: per 3 s
# 300 pairs, 180 EPT_VIOLATION (1500 ns), 60 HLT (30 us), 60 CPUID (800 ns),
# half of each in pid 4000 and half in pid 4001.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
gen="$bld/tests/gen-capture"
. "${top_srcdir:-.}/tests/tap.sh"

command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed (apt-get install tmux)"
[ -x "$gen" ] || skip_all "$gen is not built"
# Its own temporary directory and trap, not tap_tmpdir's: the trap also
# stops the tmux server.
tmp=$(mktemp -d /tmp/kvmexit-top-screen.XXXXXX) || exit 1
sock="kvmexit-top-test-$$"
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$tmp"' EXIT

echo "1..16"
screen() { tm capture-pane -p -t "$1"; }
# Waits (at most 200 looks) until the screen shows the line, then compares
# lines FROM..TO of the screen with the expected text.
expect() { # NAME TARGET FROM TO WAIT_FOR EXPECTED [COLUMNS]
	i=0
	while ! screen "$2" | grep -qF -- "$5" && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	# kvmexit's own CPU use varies: masked.
	got=$(screen "$2" | sed -n "$3,$4p" | sed 's/ *$//; s/cpu [0-9.]*%/cpu X%/' |
		cut -c "1-${7:-999}" | sed 's/ *$//')
	check "$1" "$6" "$got"
}

g="$tmp/g.data"
"$gen" --isa vmx --layout 6.1 --pairs 1000 --pattern 48:3:1500,12:1:30000,10:1:800 \
	--vcpus 4 --pids 2 --step 10000000 --start 1000000000 \
	--data-dir "$src/tests/data" -f -o "$g" >/dev/null
tm new-session -d -s a -x 100 -y 30 \
	"$kx top --replay $g --speed 1000 --paused -s 3; echo EXIT=\$?; sleep 600"

expect "starts paused, nothing yet" a 4 7 "[paused]" "\
view reason  sort rate  refresh 3.0 s  [paused]

REASON  EXITS  RATE/s  TOTAL  SHARE  AVG  P99
Total       0    0.00      0   0.0%    -    -"

tm send-keys -t a n
expect "n: the first interval" a 3 10 "+3.000" "\
+3.000  interval 3.0 s  total 3.0 s  exits 300  events 600  lost 0  VMs 2  cpu X%
view reason  sort rate  refresh 3.0 s  [paused]

REASON         EXITS  RATE/s  TOTAL   SHARE     AVG     P99
EPT_VIOLATION    180    60.0    180   60.0%  1.50us  1.50us
CPUID             60    20.0     60   20.0%   800ns   800ns
HLT               60    20.0     60   20.0%  30.0us  30.0us
Total            300     100    300  100.0%  7.06us       -"

tm send-keys -t a n
expect "n: the second, totals grow" a 6 10 "+6.000" "\
REASON         EXITS  RATE/s  TOTAL   SHARE     AVG     P99
EPT_VIOLATION    180    60.0    360   60.0%  1.50us  1.50us
CPUID             60    20.0    120   20.0%   800ns   800ns
HLT               60    20.0    120   20.0%  30.0us  30.0us
Total            300     100    600  100.0%  7.06us       -"

tm send-keys -t a 3
expect "3: per VM" a 4 9 "view vm" "\
view vm  sort rate  refresh 3.0 s  [paused]

VM         PID  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
pid 4000  4000    150    50.0    300   50.0%  7.06us  30.0us
pid 4001  4001    150    50.0    300   50.0%  7.06us  30.0us
Total             300     100    600  100.0%  7.06us       -"

tm send-keys -t a Enter
expect "Enter: into the selected VM, per reason" a 4 10 "[4000]" "\
view reason  sort rate  refresh 3.0 s  vm pid 4000 [4000]  [paused]

REASON         EXITS  RATE/s  TOTAL   SHARE     AVG     P99
EPT_VIOLATION     90    30.0    180   60.0%  1.50us  1.50us
CPUID             30    10.0     60   20.0%   800ns   800ns
HLT               30    10.0     60   20.0%  30.0us  30.0us
Total            150    50.0    300  100.0%  7.06us       -"

tm send-keys -t a f h l t Enter
expect "f hlt: a filter on reasons" a 4 8 "filter hlt" "\
view reason  sort rate  refresh 3.0 s  vm pid 4000 [4000]  filter hlt  [paused]

REASON  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
HLT        30    10.0     60  100.0%  30.0us  30.0us
Total      30    10.0     60  100.0%  30.0us       -"

tm send-keys -t a Escape
expect "Esc: back to all VMs (the filter stays)" a 4 8 "view vm  sort rate  refresh 3.0 s  filter hlt" "\
view vm  sort rate  refresh 3.0 s  filter hlt  [paused]

VM         PID  EXITS  RATE/s  TOTAL   SHARE     AVG     P99
pid 4000  4000     30    10.0     60   50.0%  30.0us  30.0us
pid 4001  4001     30    10.0     60   50.0%  30.0us  30.0us"

tm send-keys -t a c 1 r
expect "c, 1, r: no filter, per reason, totals reset" a 4 10 "view reason  sort rate  refresh 3.0 s  [paused]" "\
view reason  sort rate  refresh 3.0 s  [paused]

REASON         EXITS  RATE/s  TOTAL   SHARE     AVG     P99
EPT_VIOLATION    180    60.0      0   60.0%  1.50us  1.50us
CPUID             60    20.0      0   20.0%   800ns   800ns
HLT               60    20.0      0   20.0%  30.0us  30.0us
Total            300     100      0  100.0%  7.06us       -"

tm send-keys -t a n
i=0
while ! screen a | grep -qF "+9.000" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
tm send-keys -t a o o o
expect "n, o o o: totals since the reset, sorted by p99" a 3 10 "sort p99" "\
+9.000  interval 3.0 s  total 3.0 s  exits 300  events 600  lost 0  VMs 2  cpu X%
view reason  sort p99  refresh 3.0 s  [paused]

REASON         EXITS  RATE/s  TOTAL   SHARE     AVG     P99
HLT               60    20.0     60   20.0%  30.0us  30.0us
EPT_VIOLATION    180    60.0    180   60.0%  1.50us  1.50us
CPUID             60    20.0     60   20.0%   800ns   800ns
Total            300     100    300  100.0%  7.06us       -"

tm send-keys -t a - h
expect "-, h: slower refresh; the help names every key" a 1 3 "kvmexit top keys" "\
kvmexit top keys

  q          quit (also Ctrl-C)"

tm send-keys -t a x
expect "a key closes the help" a 4 4 "refresh 6.0 s" "\
view reason  sort p99  refresh 6.0 s  [paused]"

tm resize-window -t a -x 50 -y 12
expect "resize: clipped to the narrower screen, the table still drawn" a 4 10 "view reason  sort p99  refresh 6.0 s  [paused]" "\
view reason  sort p99  refresh 6.0 s  [paused

REASON         EXITS  RATE/s  TOTAL   SHARE
HLT               60    20.0     60   20.0%
EPT_VIOLATION    180    60.0    180   60.0%
CPUID             60    20.0     60   20.0%
Total            300     100    300  100.0%" 45
if [ "$(screen a | awk '{ if (length($0) > 50) n++ } END { print n + 0 }')" = 0 ]; then
	ok "resize: no line is wider than the screen"
else
	not_ok "resize: no line is wider than the screen"
fi

tm send-keys -t a q
expect "q: status 0, the terminal restored" a 1 1 "EXIT=" "EXIT=0"

# SIGTERM while running (a slow replay): the same clean way out.
tm new-session -d -s b -x 100 -y 30 \
	"sh -c 'echo \$\$ >$tmp/pid; exec $kx top --replay $g --speed 0.01'; echo EXIT=\$?; sleep 600"
i=0
while ! screen b | grep -q "^REASON" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$(cat "$tmp/pid")"
expect "SIGTERM: status 0, the terminal restored" b 1 1 "EXIT=" "EXIT=0"

# A terminal that goes away (the session killed: SIGHUP) ends the view too.
tm new-session -d -s c -x 100 -y 30 \
	"sh -c 'echo \$\$ >$tmp/pid2; exec $kx top --replay $g --speed 1000 --paused'"
i=0
while ! screen c | grep -q "^REASON" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
pid=$(cat "$tmp/pid2")
tm kill-session -t c
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then
	not_ok "hang-up: the view ends with its terminal" "pid $pid still runs"
	kill "$pid"
else
	ok "hang-up: the view ends with its terminal"
fi
