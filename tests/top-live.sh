#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit top live on this host, around tests/pio-guest 1000 (1000 port
# writes to port 0x8c, one no other test guest uses: 1000 kvm_pio and 1001
# kvm_userspace_exit, the last for its hlt):
# --batch with -e ioport counts them exactly, --count runs, and the screen
# (in tmux) shows the same totals when the command has ended.  Skips
# without root, /dev/kvm or perf_event_open.
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
guest="$bld/tests/pio-guest"

skip() { echo "1..0 # SKIP $1"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
[ -c /dev/kvm ] || skip "no /dev/kvm"
[ -x "$guest" ] || skip "$guest is not built"
command -v jq >/dev/null 2>&1 || skip "jq is not installed (apt-get install jq)"
tmp=$(mktemp -d /tmp/kvmexit-top-live.XXXXXX) || exit 1
sock="kvmexit-top-live-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
if ! "$kx" top --batch --json -e ioport -- "$guest" 1000 0x8c >"$tmp/b.out" 2>"$tmp/b.err"; then
	skip "kvmexit top cannot record here: $(head -n 1 "$tmp/b.err")"
fi

echo "1..4"
n=0
check() {
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "#   expected: $2"
		echo "#   got:      $3"
	fi
}

check "--batch -e ioport: every kvm_pio and userspace exit, none lost" \
	"1000 1001 0" \
	"$(grep '^{' "$tmp/b.out" | jq -r '"\(.other_events.kvm_pio) \(.other_events.kvm_userspace_exit) \(.lost)"')"
check "--batch (text): the other events line" \
	"other events: kvm_userspace_exit 1001 (total 1001), kvm_pio 1000 (total 1000)" \
	"$("$kx" top --batch -e ioport -- "$guest" 1000 0x8c | grep '^other events')"
"$kx" top --batch --count -- "$guest" 1000 0x8c >"$tmp/c.out" 2>&1
check "--count: a snapshot, status 0" "0 1" "$? $(grep -c '  view reason$' "$tmp/c.out")"

if command -v tmux >/dev/null 2>&1; then
	tmux -L "$sock" new-session -d -s a -x 110 -y 20 \
		"$kx top -s 0.5 -e ioport -- $guest 1000 0x8c; echo EXIT=\$?; sleep 600"
	i=0
	while ! tmux -L "$sock" capture-pane -p -t a | grep -q '\[ended\]' && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	line=$(tmux -L "$sock" capture-pane -p -t a | grep '^other events' | sed 's/ *$//')
	tmux -L "$sock" send-keys -t a q
	i=0
	while ! tmux -L "$sock" capture-pane -p -t a | grep -q '^EXIT=' && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	check "screen: the totals once the command ended; q exits 0" \
		"(total 1001), kvm_pio (total 1000) EXIT=0" \
		"$(echo "$line" | sed 's/.*\((total [0-9]*)\), kvm_pio [0-9]* \((total [0-9]*)\)/\1, kvm_pio \2/') $(tmux -L "$sock" capture-pane -p -t a | grep '^EXIT=')"
else
	n=$((n + 1))
	echo "ok $n - screen # SKIP tmux is not installed"
fi
