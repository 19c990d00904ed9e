#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# valgrind memcheck of kvmexit report and kvmexit-diff on the lab captures
# (and examples/*.perf.data where there are any): no errors, no definite or
# indirect leaks.  Skips visibly without valgrind, and in a sanitizer build
# (valgrind and ASan do not mix).
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
tmp=$(mktemp -d /tmp/kvmexit-valgrind.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind not installed"; exit 0; }
kx="$bld/tool/.libs/kvmexit"
kd="$bld/tool/.libs/kvmexit-diff"
if [ ! -x "$kx" ] || [ ! -x "$kd" ]; then
	kx="$bld/tool/kvmexit"	# a static build: no libtool wrapper
	kd="$bld/tool/kvmexit-diff"
fi
if grep -qa __asan_init "$kx" "$bld"/lib/.libs/libkvmexit.so* 2>/dev/null; then
	echo "1..0 # SKIP a sanitizer build (valgrind and ASan do not mix)"
	exit 0
fi
export LD_LIBRARY_PATH="$bld/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

d="$src/tests/data"
runs=(
	"$kx report $d/lab-npt0.perf.data"
	"$kx report --by detail --json -t 3 $d/lab-npt1.perf.data"
	"$kx report --csv $d/lab-npt1.pipe.perf.data"
	"$kx report $d/perf-kvm-pio20.file.data"
	"$kx diff $d/lab-npt1.perf.data $d/lab-npt0.perf.data"
	"$kd $d/lab-npt1.perf.data $d/lab-npt0.perf.data"
	"$kd --detail --json --svg $tmp/chart.svg $d/lab-npt1.perf.data $d/lab-npt0.perf.data"
	"$kd --csv $d/diff/ept-y.csv $d/diff/ept-n.csv"
	"$kx serve --replay $d/lab-npt0.perf.data --once --per-vcpu --histogram-per-vm --max-series 50"
	"$kx serve --replay $d/lab-npt1.perf.data --once --openmetrics"
	"$kx report $src/fuzz/seeds/fuzz-prom-json/vector-svm.json"
)
for f in "$src"/examples/*.perf.data; do
	[ -e "$f" ] && runs+=("$kx report $f")
done

echo "1..${#runs[@]}"
n=0
for cmd in "${runs[@]}"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--log-file="$tmp/vg.log" $cmd >/dev/null 2>"$tmp/err"
	rc=$?
	name="valgrind ${cmd#"$bld"/tool/.libs/}"
	if [ "$rc" -eq 99 ] || [ -s "$tmp/vg.log" ]; then
		echo "not ok $n - $name"
		sed 's/^/#   /' "$tmp/vg.log" | head -n 40
	elif [ "$rc" -gt 1 ]; then
		echo "not ok $n - $name"; echo "#   exit $rc: $(head -n 2 "$tmp/err" | tr '\n' '|')"
	else
		echo "ok $n - $name (exit $rc, clean)"
	fi
done
