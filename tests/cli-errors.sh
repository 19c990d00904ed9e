#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad command lines, for every command: unknown options, missing
# arguments, missing files, conflicting options.  Each must print a usage
# error on stderr (nothing on stdout) and exit 2.  Table driven: one row
# per command line; the row's pattern must match stderr's first line.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
kd="$bld/tool/kvmexit-diff"
kg="$bld/tool/kvmexit-guest"
cap="$src/tests/data/lab-npt0.perf.data"
csv="$src/tests/data/diff/ept-y.csv"
tmp=$(mktemp -d /tmp/kvmexit-cli.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# PATTERN <TAB> COMMAND LINE (words; no quoting needed)
table=$(cat <<TABLE
is not a command	$kx --bogus
is not a command	$kx nosuchcommand
^usage: kvmexit	$kx
unrecognized option	$kx record --bogus
requires an argument	$kx record -o
give one of -a, -p or a command	$kx record -a -p 1
give one of -a, -p or a command	$kx record -p 1 -- true
give a positive number of seconds	$kx record -d abc
give a power of 2	$kx record -m 3 -a
unknown option	$kx report --bogus $cap
no input FILE given, and no kvmexit.data here	$kx report
give one input	$kx report -i $cap $cap
--by takes reason, detail, vcpu, pid, vm or category	$kx report --by bogus $cap
unknown option	$kx report -d $cap
unknown option	$kx report -v 0 $cap
unknown option	$kx reasons -i vmx
no exits of a VM named 'nosuch'	$kx diff --vm nosuch $cap $cap
more than one input FILE	$kx report $cap $cap
no such file	$kx report $tmp/missing.data
no such file	$kx report -g $tmp/missing.elf $cap
give one of --csv and --json	$kx report --csv --json $cap
--sort takes	$kx report -s bogus $cap
unknown or incomplete option	$kx diff --bogus $cap $cap
expected two inputs	$kx diff
expected two inputs	$kx diff $cap
cannot open	$kx diff $tmp/missing.data $cap
give one of --csv, --json and --markdown	$kx diff --csv --json $cap $csv
unknown option	$kx reasons --bogus
unexpected argument	$kx reasons extra
unknown or incomplete option	$kd --bogus $cap $cap
expected two inputs	$kd $cap
cannot open	$kd $cap $tmp/missing.csv
give one of --csv, --json and --markdown	$kd --json --markdown $csv $csv
unrecognized option	$kg --bogus
TABLE
)

echo "1..$(printf '%s\n' "$table" | wc -l)"
n=0
while IFS=$'\t' read -r want cmd; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	$cmd >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	name="${cmd#"$bld"/tool/}: exit 2, '$want'"
	if [ "$rc" -ne 2 ]; then
		echo "not ok $n - $name"; echo "#   exit $rc: $(head -n 2 "$tmp/err" | tr '\n' '|')"
	elif [ -s "$tmp/out" ]; then
		echo "not ok $n - $name"; echo "#   wrote to stdout: $(head -n 1 "$tmp/out")"
	elif ! head -n 1 "$tmp/err" | grep -qE -- "$want"; then
		echo "not ok $n - $name"; echo "#   stderr: $(head -n 2 "$tmp/err" | tr '\n' '|')"
	else
		echo "ok $n - $name"
	fi
done <<<"$table"
