#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every man page renders without warnings.  A link page (one line,
# ".so man3/PAGE.3", so that "man kvmexit_capture_open" works) is not
# rendered alone (mandoc calls .so fragile, and its target path is relative
# to a man tree): it must name a page that exists here and is no link.
src="${top_srcdir:-.}"
pages=$(ls "$src"/man/*.[0-9])
n=$(echo "$pages" | wc -l)
echo "1..$n"
i=0
for p in $pages; do
	i=$((i + 1))
	out=""
	if head -n 1 "$p" | grep -q '^\.so '; then
		target=$(sed -n '1s/^\.so man[0-9]\/\([^ ]*\)$/\1/p' "$p")
		if [ "$(wc -l <"$p")" -eq 1 ] && [ -n "$target" ] && [ -f "$src/man/$target" ] &&
		   ! head -n 1 "$src/man/$target" | grep -q '^\.so '; then
			echo "ok $i - $(basename "$p") links to $target"
		else
			echo "not ok $i - $(basename "$p") links to an existing page"
		fi
		continue
	fi
	if [ -n "$MANDOC" ]; then
		out=$("$MANDOC" -T lint -W warning "$p" 2>&1)
	fi
	if [ -n "$GROFF" ]; then
		out="$out$(LC_ALL=C "$GROFF" -ww -z -man "$p" 2>&1)"
	fi
	if [ -z "$out" ]; then
		echo "ok $i - $(basename "$p") renders cleanly"
	else
		echo "not ok $i - $(basename "$p") renders cleanly"
		echo "$out" | sed 's/^/#   /'
	fi
done
