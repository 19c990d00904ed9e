#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit report on damaged captures: a capture of tests/gen-capture and the
# lab fixture tests/data/lab-npt0.perf.data (and its pipe-mode twin), cut at
# every 512-byte boundary, and with single bytes flipped across the header,
# attrs and feature sections (the first 4 KiB, every 8th byte) and every
# byte of the feature table.  Each run must exit 0, or exit 1 with one line
# on stderr naming the file and an offset; never crash or hang (10 s).  The
# ASan build of CI runs this too: a leak or a bad access fails it.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
if [ -x "$bld/tool/.libs/kvmexit" ]; then
	kx="$bld/tool/.libs/kvmexit"
	export LD_LIBRARY_PATH="$bld/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
gen="$bld/tests/gen-capture"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir damaged
[ -x "$gen" ] || skip_all "$gen is not built"

"$gen" --isa vmx --layout 6.18 --pairs 500 --vcpus 4 --round 50 --lost-every 97 \
	--data-dir "$src/tests/data" -f -o "$tmp/gen.data" >/dev/null || exit 1
cp "$src/tests/data/lab-npt0.perf.data" "$tmp/lab.data"
cp "$src/tests/data/lab-npt0.pipe.perf.data" "$tmp/lab-pipe.data"

echo "1..6"

# run_report FILE WHAT [any]: empty when the outcome is clean, else a
# complaint.  Clean: exit 0; or exit 1 with one line "kvmexit report: FILE:
# ..." that names an offset or a size (a hex number, or N bytes), or with
# "any", names the file.
run_report() {
	local offset='.*(0x[0-9a-f]+|[0-9]+ bytes)'
	[ "$3" = any ] && offset=

	local rc lines
	timeout 10 "$kx" report "$1" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	case $rc in
	0) return 0 ;;
	1)	if [ "$lines" -ne 1 ]; then
			echo "$2: exit 1 with $lines lines: $(tr '\n' '|' <"$tmp/err")"
		elif ! grep -qE "^kvmexit report: $1: $offset" "$tmp/err"; then
			echo "$2: the message names no offset: $(cat "$tmp/err")"
		fi ;;
	124) echo "$2: hangs (killed after 10 s)" ;;
	*) echo "$2: exit $rc: $(head -n 3 "$tmp/err" | tr '\n' '|')" ;;
	esac
}

# feature table: data.offset + data.size, 16 bytes per set feature bit
table_range() {
	od -An -tu8 -j 40 -N 16 "$1" | awk '{ print $1 + $2 }'
}
nr_features() {
	local b n=0
	for b in $(od -An -tu1 -j 72 -N 32 "$1"); do
		while [ "$b" -gt 0 ]; do n=$((n + (b & 1))); b=$((b >> 1)); done
	done
	echo "$n"
}

sweep_cuts() {	# NAME FILE
	local size bad=() cut msg cuts=0 errors=0
	size=$(stat -c %s "$2")
	for ((cut = 0; cut < size; cut += 512)); do
		head -c "$cut" "$2" >"$tmp/cut.data"
		msg=$(run_report "$tmp/cut.data" "cut at $cut")
		[ -n "$msg" ] && bad+=("$msg")
		[ -s "$tmp/err" ] && errors=$((errors + 1))
		cuts=$((cuts + 1))
	done
	if [ ${#bad[@]} -eq 0 ]; then
		ok "$1: $cuts cuts at 512-byte boundaries, $errors clean errors, no crash"
	else
		not_ok "$1: cuts" "${bad[@]:0:5}"
	fi
}

flip_at() {	# FILE OFFSET -> $tmp/flip.data
	cp "$1" "$tmp/flip.data"
	printf "$(printf '\\%03o' $(( $(od -An -tu1 -j "$2" -N 1 "$1") ^ 0xff )))" |
		dd of="$tmp/flip.data" bs=1 seek="$2" conv=notrunc status=none
}

sweep_flips() {	# NAME FILE
	local size end tstart tend bad=() at msg runs=0
	size=$(stat -c %s "$2")
	end=$((size < 4096 ? size : 4096))
	tstart=$(table_range "$2")
	tend=$((tstart + 16 * $(nr_features "$2")))
	for at in $(seq 0 8 $((end - 1))) $(seq "$tstart" $((tend - 1))); do
		[ "$at" -lt "$size" ] || continue
		flip_at "$2" "$at"
		msg=$(run_report "$tmp/flip.data" "byte $at flipped" any)
		[ -n "$msg" ] && bad+=("$msg")
		runs=$((runs + 1))
	done
	if [ ${#bad[@]} -eq 0 ]; then
		ok "$1: $runs single-byte flips (header, attrs, features, feature table), no crash"
	else
		not_ok "$1: flips" "${bad[@]:0:5}"
	fi
}

sweep_cuts "gen-capture" "$tmp/gen.data"
sweep_cuts "lab-npt0" "$tmp/lab.data"
sweep_cuts "lab-npt0 (pipe)" "$tmp/lab-pipe.data"
sweep_flips "gen-capture" "$tmp/gen.data"
sweep_flips "lab-npt0" "$tmp/lab.data"

# The message of a capture cut in its data: what, where, what to do.
head -c 40960 "$tmp/lab.data" >"$tmp/cut.data"
"$kx" report "$tmp/cut.data" >/dev/null 2>"$tmp/err"
want="kvmexit report: $tmp/cut.data: truncated: the data section ends at 0x10758 but the file has only 0xa000 bytes: it was cut short (copy it again, or record again)"
if grep -qxF "$want" "$tmp/err" || grep -qF "$want " "$tmp/err"; then
	ok "a cut capture's message: $(cat "$tmp/err")"
else
	not_ok "a cut capture's message" "got:  $(cat "$tmp/err")" "want: $want..."
fi
