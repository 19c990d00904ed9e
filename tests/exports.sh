#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# libkvmexit.so exports exactly the functions include/kvmexit.h declares
# KVMEXIT_API (no more, no fewer), all listed in lib/libkvmexit.sym and
# versioned; nothing of libperf's, nothing internal.
src="${top_srcdir:-.}"
so="${top_builddir:-.}/lib/.libs/libkvmexit.so"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "1..6"
if [ ! -f "$so" ]; then
	echo "not ok 1 - $so exists"
	for i in 2 3 4 5 6; do echo "ok $i # SKIP no library"; done
	exit 0
fi
echo "ok 1 - $so exists"

# Each KVMEXIT_API declaration runs to its ';': join, split on ';', take
# the name before the first '('.  Static inline helpers are not KVMEXIT_API.
sed -n '/^KVMEXIT_API/,/;/p' "$src/include/kvmexit.h" | tr '\n' ' ' | tr ';' '\n' |
	grep -oE 'kvmexit_[a-z0-9_]+ *\(' | sed 's/ *(//' | sort -u >"$tmp/header"
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRWV]$/ { print $3 }' |
	grep -v '^LIBKVMEXIT_' | sed 's/@.*//' | sort -u >"$tmp/so"
grep -oE '^[[:space:]]*kvmexit_[a-z0-9_]+;' "$src/lib/libkvmexit.sym" |
	tr -d ' \t;' | sort >"$tmp/sym"

report() { # n, description, file a, label a, file b, label b
	if [ -s "$tmp/header" ] && cmp -s "$3" "$5"; then
		echo "ok $1 - $2"
	else
		echo "not ok $1 - $2"
		comm -23 "$3" "$5" | sed "s/^/#   only in $4: /"
		comm -13 "$3" "$5" | sed "s/^/#   only in $6: /"
	fi
}
report 2 "exported symbols = KVMEXIT_API functions of kvmexit.h ($(wc -l <"$tmp/header"))" \
	"$tmp/header" header "$tmp/so" libkvmexit.so
report 3 "lib/libkvmexit.sym lists exactly the header's functions" \
	"$tmp/header" header "$tmp/sym" libkvmexit.sym
if [ "$(sort "$tmp/sym" | uniq -d)" = "" ] && ! grep -q '\*' "$tmp/sym"; then
	echo "ok 4 - the version script has no duplicates or globs"
else
	echo "not ok 4 - the version script has no duplicates or globs"
fi

bad=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRWV]$/ { print $3 }' | sed 's/@.*//' |
	grep -v -e '^kvmexit_' -e '^LIBKVMEXIT_')
if [ -z "$bad" ]; then
	echo "ok 5 - nothing but kvmexit_ symbols is exported (no perf_*, no internals)"
else
	echo "not ok 5 - nothing but kvmexit_ symbols is exported"
	printf '#   %s\n' $bad
fi
unver=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRWV]$/ { print $3 }' |
	grep '^kvmexit_' | grep -vE '@@LIBKVMEXIT_[0-9.]+$')
if [ -z "$unver" ]; then
	echo "ok 6 - every symbol carries a LIBKVMEXIT_ version"
else
	echo "not ok 6 - every symbol carries a LIBKVMEXIT_ version"
	printf '#   %s\n' $unver
fi
