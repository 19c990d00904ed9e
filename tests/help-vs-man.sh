#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every command's --help and its man page list the same long options.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"

# Long options a --help text or a roff page names, one per line, sorted.
help_opts() { "$@" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
man_opts() { sed 's/\\-/-/g; s/\\f[BIRP]//g' "$1" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

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
