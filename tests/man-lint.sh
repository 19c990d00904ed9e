#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every man page renders without warnings.
src="${top_srcdir:-.}"
pages=$(ls "$src"/man/*.[0-9])
n=$(echo "$pages" | wc -l)
echo "1..$n"
i=0
for p in $pages; do
	i=$((i + 1))
	out=""
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
