#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every command's --help and the OPTIONS section of its man page list the
# same options, long (--output) and short (-o).
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"

# Options a text names, one per line, sorted: long ones, and short ones
# ("-o") standing alone: after a blank, '[', '|' or ',' and
# before one of those, ']' or the end of the line.
opts_of() {
	sed 's/$/ /' | grep -oE -- '--[a-z][a-z0-9-]*|(^|[][ |,])-[a-zA-Z0-9][][ |,]' |
		sed 's/^[][ |,]//; s/[][ |,]$//' | sort -u
}
help_opts() { "$@" --help 2>&1 | opts_of; }
# The OPTIONS section only: examples and prose elsewhere name other
# programs' options (perf script -i, modprobe -r).
man_opts() {
	sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\(em/ /g' "$1" |
		awk '/^\.SH/ { on = ($2 == "OPTIONS") } on' |
		sed 's/^\.[A-Z][A-Z]* *//; s/"//g' | opts_of
}

# command (as run)|man page
pairs="kvmexit|kvmexit.1"
for page in "$src"/man/kvmexit-*.1; do
	[ -f "$page" ] || continue
	cmd=$(basename "$page" .1)
	sub=${cmd#kvmexit-}
	if [ -x "$bld/tool/$cmd" ]; then
		pairs="$pairs
$bld/tool/$cmd|$cmd.1"
	else
		pairs="$pairs
kvmexit $sub|$cmd.1"
	fi
done

n=$(printf '%s\n' "$pairs" | wc -l)
echo "1..$n"
i=0
printf '%s\n' "$pairs" | while IFS='|' read -r cmd page; do
	i=$((i + 1))
	case "$cmd" in
	kvmexit*) run="$bld/tool/$cmd" ;;
	*) run="$cmd" ;;
	esac
	# shellcheck disable=SC2086
	h=$(help_opts $run)
	m=$(man_opts "$src/man/$page")
	if [ "$h" = "$m" ]; then
		echo "ok $i - $page and '$(basename "$cmd") --help' list the same options"
	else
		echo "not ok $i - $page and '$(basename "$cmd") --help' list the same options"
		printf '%s\n' "$h" >/tmp/kx-help.$$; printf '%s\n' "$m" >/tmp/kx-man.$$
		diff /tmp/kx-help.$$ /tmp/kx-man.$$ | sed 's/^/#   /; s/< /only in --help: /; s/> /only in man: /'
		rm -f /tmp/kx-help.$$ /tmp/kx-man.$$
	fi
done
