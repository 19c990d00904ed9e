#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Section 3 pages (not the symbolic links of functions) show their example programs verbatim: the .EX block that
# follows a '.\" example: examples/FILE.c' line, unescaped, equals FILE.c
# without its SPDX line.  The build compiles examples/*.c, so every EXAMPLE
# in the pages compiles.  Every section 3 page that is not a link has one.
src="${top_srcdir:-.}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pages=$(for p in "$src"/man/*.3; do [ -L "$p" ] || echo "$p"; done)
echo "1..$(echo "$pages" | wc -l)"
i=0
for p in $pages; do
	i=$((i + 1))
	name=$(basename "$p")
	file=$(sed -n 's/^\.\\" example: \([^ ]*\).*/\1/p' "$p" | head -n 1)
	if [ -z "$file" ] || [ ! -f "$src/$file" ]; then
		echo "not ok $i - $name shows an example program of examples/ (no '.\\\" example:' line)"
		continue
	fi
	# The block after the marker, with roff's escapes undone.
	awk '/^\.\\" example: / { on = 1; next }
	     on && /^\.EX/ { inex = 1; next }
	     inex && /^\.EE/ { exit }
	     inex { print }' "$p" |
		sed 's/\\-/-/g; s/^\\&//; s/\\e/\\/g' >"$tmp/page"
	grep -v '^// SPDX-License-Identifier' "$src/$file" >"$tmp/file"
	if cmp -s "$tmp/page" "$tmp/file"; then
		echo "ok $i - $name shows $file verbatim"
	else
		echo "not ok $i - $name shows $file verbatim"
		diff "$tmp/file" "$tmp/page" | head -20 | sed 's/^/#   /'
	fi
done
