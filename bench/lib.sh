# SPDX-License-Identifier: GPL-2.0-only
#
# bench/lib.sh - shared helpers of the benchmarks (sourced, not run).
#
# Timing: bench_run NAME COMMAND... runs COMMAND under /usr/bin/time with its
# standard output in $BENCH_TMP/NAME.out and sets BENCH_WALL, BENCH_USER,
# BENCH_SYS (seconds) and BENCH_RSS (peak resident set, KiB).  bench_best N
# NAME COMMAND... runs it N times and keeps the run with the least wall time,
# running the command in $bench_before (if set) before each run.
# BENCH_NICE=N runs the timed commands under nice -n N (as root, a negative
# N keeps other load on a shared machine from skewing the wall times).
# Page cache: bench_cold FILE... drops the page cache (root only) so the
# next run reads its input from the disk; bench_warm FILE... reads the files
# once so they are cached, as root from the disk after dropping the cache:
# the state of a capture read before, not of one just written (on this
# kernel, readahead caches it in large folios, and reading it costs less
# than half the system time; both tools gain).

bench_bld=${top_builddir:-.}

bench_init() {	# bench_init NAME: a scratch directory, removed on exit
	BENCH_TMP=$(mktemp -d "${BENCH_DIR:-/var/tmp}/$1.XXXXXX")
	trap 'rm -rf "$BENCH_TMP"' EXIT
	BENCH_KVMEXIT="$bench_bld/tool/kvmexit"
	BENCH_KVMEXIT_DIFF="$bench_bld/tool/kvmexit-diff"
	BENCH_GEN="$bench_bld/tests/gen-capture"
	BENCH_PERF=${PERF:-perf}
	# The real binaries, not libtool's wrapper scripts (a shell, and its time).
	if [ -x "$bench_bld/tool/.libs/kvmexit" ]; then
		export LD_LIBRARY_PATH="$bench_bld/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
		BENCH_KVMEXIT="$bench_bld/tool/.libs/kvmexit"
		BENCH_KVMEXIT_DIFF="$bench_bld/tool/.libs/kvmexit-diff"
	fi
	[ -x "$BENCH_KVMEXIT" ] && [ -x "$BENCH_GEN" ] ||
		{ echo "$1: build first (make check)" >&2; exit 1; }
	[ -x /usr/bin/time ] || { echo "$1: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
}

bench_need_root() {
	[ "$(id -u)" = 0 ] || { echo "$1: needs root" >&2; exit 77; }
}

bench_run() {	# bench_run NAME COMMAND...
	local name=$1; shift
	${BENCH_NICE:+nice -n "$BENCH_NICE"} \
	/usr/bin/time -f '%e %U %S %M' -o "$BENCH_TMP/$name.time" "$@" \
		>"$BENCH_TMP/$name.out" 2>"$BENCH_TMP/$name.err" || {
		echo "bench: $name failed: $*" >&2
		cat "$BENCH_TMP/$name.err" >&2
		return 1
	}
	read -r BENCH_WALL BENCH_USER BENCH_SYS BENCH_RSS < <(tail -n 1 "$BENCH_TMP/$name.time")
}

bench_best() {	# bench_best N NAME COMMAND...
	local n=$1 name=$2 i best=
	local bw bu bs br
	shift 2
	for ((i = 0; i < n; i++)); do
		${bench_before:-:}
		bench_run "$name" "$@" || return 1
		if [ -z "$best" ] || [ "$(echo "$BENCH_WALL < $bw" | bc -l)" = 1 ]; then
			best=1 bw=$BENCH_WALL bu=$BENCH_USER bs=$BENCH_SYS br=$BENCH_RSS
		fi
	done
	BENCH_WALL=$bw BENCH_USER=$bu BENCH_SYS=$bs BENCH_RSS=$br
}

bench_can_drop() {
	[ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/drop_caches ]
}

bench_cold() {	# drops the page cache: the next run reads from the disk
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

bench_warm() {	# bench_warm FILE...: into the page cache, read from the disk
	if bench_can_drop; then
		bench_cold
	fi
	cat "$@" >/dev/null
}

bench_cpu() {	# user + sys of the last run
	echo "$BENCH_USER + $BENCH_SYS" | bc -l | sed 's/^\./0./'
}

bench_ratio() {	# bench_ratio A B: A / B, two decimals
	echo "scale=2; $1 / $2" | bc -l | sed 's/^\./0./'
}

bench_mib() {	# KiB -> MiB, one decimal
	echo "scale=1; $1 / 1024" | bc -l | sed 's/^\./0./'
}

# One table row: label, wall, cpu, user, sys, peak RSS (MiB), extra column.
bench_row_header() {
	printf '%-34s %8s %8s %8s %8s %10s  %s\n' command wall_s cpu_s user_s sys_s peak_MiB "$1"
}

bench_row() {	# bench_row LABEL EXTRA: from the last run
	printf '%-34s %8s %8s %8s %8s %10s  %s\n' "$1" "$BENCH_WALL" "$(bench_cpu)" \
		"$BENCH_USER" "$BENCH_SYS" "$(bench_mib "$BENCH_RSS")" "$2"
}
