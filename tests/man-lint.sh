#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every man page renders without warnings.  A link page (so that
# "man kvmexit_capture_open" works) is a symbolic link to its group's page
# in man/, not a ".so man3/PAGE.3" line: .so resolves relative to the man
# tree, so "man -l man/PAGE.3" could not open it, while a symbolic link
# opens from anywhere and installs as a copy.  It must name a page that
# exists here and is no link; "man -l" must render it.
src="${top_srcdir:-.}"
pages=$(ls "$src"/man/*.[0-9])
n=$(echo "$pages" | wc -l)
echo "1..$n"
i=0
for p in $pages; do
	i=$((i + 1))
	out=""
	if head -n 1 "$p" | grep -q '^\.so '; then
		echo "not ok $i - $(basename "$p") is a .so page: make it a symbolic link" \
		     "(ln -s GROUP.3 man/$(basename "$p")), which man -l opens"
		continue
	fi
	if [ -L "$p" ]; then
		target=$(readlink "$p")
		if [ "${target#*/}" = "$target" ] && [ -f "$src/man/$target" ] &&
		   [ ! -L "$src/man/$target" ] &&
		   { ! command -v man >/dev/null ||
		     [ -z "$(man -l "$p" 2>&1 >/dev/null)" ]; }; then
			echo "ok $i - $(basename "$p") links to $target and opens with man -l"
		else
			echo "not ok $i - $(basename "$p") links to a page of man/ that man -l opens"
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
