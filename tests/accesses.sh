#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit report --event ioport|mmio|msr: exact rows on a gen-capture with
# kvm_pio, kvm_mmio and kvm_msr inside exit/entry pairs (1000 pairs of the
# default VMX pattern: 150 I/O exits, 100 MSR writes, 400 EPT violations),
# the same samples and times as stock perf kvm stat report --event=... on
# that capture, and a stock perf capture of this host, where kvm_entry
# never fires: kvmexit counts its 20 port writes, perf times none.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
gen="$bld/tests/gen-capture"
perf="${PERF:-$(command -v perf)}"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir accesses-test

echo "1..8"

"$gen" --isa vmx --layout 6.18 --pairs 1000 --vcpus 4 --pids 2 --accesses \
	--data-dir "$src/tests/data" -f -o "$tmp/a.data" >/dev/null

rows() { "$kx" report --event "$1" --csv "$tmp/a.data" | tail -n +2 | cut -d, -f1-3,5,8-10; }

# 1: ports: pair i of an I/O exit (2500 ns) writes port 0x70 + i % 3 at
# exit + 625 ns, out when i is even; the entry ends it 1875 ns later.
check "ioport: per port and direction, exact" "0x70,out,27,27,1875,1875,1875
0x72,out,27,27,1875,1875,1875
0x71,out,26,26,1875,1875,1875
0x71,in,24,24,1875,1875,1875
0x70,in,23,23,1875,1875,1875
0x72,in,23,23,1875,1875,1875" "$(rows ioport)"

# 2: MMIO: writes run from the kvm_mmio write (exit + 375 ns) to the entry
# (1125 ns), reads from the exit to the kvm_mmio read (375 ns); each
# vCPU's first exit comes before its first entry, so perf (and we) time
# 99 of 100.
check "mmio: per address and direction, exact" "0xfee00000,R,100,99,375,375,375
0xfee00000,W,100,99,1125,1125,1125
0xfee00300,R,100,99,375,375,375
0xfee00300,W,100,99,1125,1125,1125" "$(rows mmio)"

# 3: MSRs: 0x6e0 when i % 4 < 2, a write when i is even; 900 ns each.
check "msr: per MSR and direction, exact" "0x6e0,W,30,30,900,900,900
0x830,R,30,30,900,900,900
0x6e0,R,20,20,900,900,900
0x830,W,20,20,900,900,900" "$(rows msr)"

# 4-6: perf kvm stat report --event=KIND on the same capture: the same
# rows (key, direction, samples = timed, min, max, avg in us to 2 places).
perf_rows() {
	"$perf" kvm -i "$tmp/a.data" stat report --event="$1" 2>&1 |
		awk '$1 ~ /^0x[0-9a-f]+:/ { sub(/us$/, "", $5); sub(/us$/, "", $6); sub(/us$/, "", $7);
			print $1, $2, $5, $6, $7 }'
}
our_rows() {
	"$kx" report --event "$1" --csv "$tmp/a.data" | awk -F, -v kind="$1" 'NR > 1 && $5 > 0 {
		rw = $2; if (kind == "ioport") rw = (rw == "out") ? "POUT" : "PIN"
		printf "%s:%s %d %.2f %.2f %.2f\n", $1, rw, $5, $8 / 1000, $10 / 1000, $9 / 1000 }'
}
for kind in ioport mmio msr; do
	if ! command -v "$perf" >/dev/null 2>&1; then
		skip "$kind: the same as perf kvm stat report --event=$kind" "perf is not installed"
		continue
	fi
	want=$(perf_rows $kind)
	if [ -z "$want" ]; then
		not_ok "$kind: the same as perf kvm stat report --event=$kind" "perf printed no rows"
	else
		check "$kind: the same as perf kvm stat report --event=$kind ($(printf '%s\n' "$want" | wc -l) rows)" \
			"$want" "$(our_rows $kind)"
	fi
done

# 7-8: a stock perf kvm stat record capture of this host (tests/pio-guest
# style, 20 writes to port 0x80, no kvm_entry): 20 counted, none timed,
# and perf kvm stat agrees that none can be timed.
stock="$src/tests/data/perf-kvm-pio20.file.data"
check "stock perf capture without kvm_entry: 20 writes to 0x80 counted, 0 timed" "0x80,out,20,0,,," \
	"$("$kx" report --event ioport --csv "$stock" | tail -n +2 | cut -d, -f1-3,5,8-10)"
if command -v "$perf" >/dev/null 2>&1; then
	check "perf kvm stat report --event=ioport on it: Total Samples:0" "TotalSamples:0," \
		"$("$perf" kvm -i "$stock" stat report --event=ioport 2>&1 | awk '/^Total Samples/ { print $1, $2 }' | tr -d ' ')"
else
	skip "perf kvm stat on the stock capture" "perf is not installed"
fi
