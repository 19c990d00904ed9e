#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Untrusted text (host name, kernel release, CPU name from a capture or a
# count table; names quoted in errors) never reaches the output raw: escape
# sequences, carriage returns and bytes that are not UTF-8 are escaped in
# tables and messages, HTML and Markdown characters in --markdown, and
# --json stays valid UTF-8.  Exact expected lines.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
gen="$bld/tests/gen-capture"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir escape
# no_raw FILE: no control character but newline, no byte that is not UTF-8
no_raw() { ! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$1" && iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }

echo "1..11"
"$gen" --isa vmx --layout 6.1 --data-dir "$src/tests/data" --pairs 10 -o "$tmp/evil.data" \
	--hostname $'h\e[2Jx' --osrelease $'6.1<b>|*_\xff' --cpu-desc $'cpu\xc2\x9b31m\xe2\x80\xaeRTL' 2>"$tmp/err"
"$gen" --isa vmx --layout 6.1 --data-dir "$src/tests/data" --pairs 10 -o "$tmp/good.data" 2>>"$tmp/err"

"$kx" report "$tmp/evil.data" >"$tmp/out" 2>"$tmp/err"
check_cmd "report: the kernel line escaped" grep -qxF 'kernel     6.1<b>|*_\xff on h\x1b[2Jx (x86_64, 4 CPUs)' "$tmp/out"
check_cmd "report: C1 control and bidi override escaped" grep -qxF 'cpu        cpu\x9b31m\u202eRTL (GenuineIntel, VMX)' "$tmp/out"
check_cmd "report: nothing raw" no_raw "$tmp/out"

"$kx" report --json "$tmp/evil.data" >"$tmp/json" 2>"$tmp/err"
check_cmd "report --json: valid UTF-8, escapes" grep -qF '"hostname": "h\u001b[2Jx",' "$tmp/json"
check_cmd "report --json: a byte that is not UTF-8 becomes U+FFFD" grep -qF '"osrelease": "6.1<b>|*_\ufffd",' "$tmp/json"
check_cmd "report --json: nothing raw" no_raw "$tmp/json"

"$kx" diff --markdown "$tmp/good.data" "$tmp/evil.data" >"$tmp/md" 2>"$tmp/err"
check_cmd "diff --markdown: HTML and Markdown characters escaped" grep -qxF \
	'**A** = 6.1.0-gen (good.data), **B** = 6.1&lt;b&gt;\|\*\_\xff (evil.data)' \
	<(sed "s|$tmp/||g" "$tmp/md")
"$kx" diff "$tmp/good.data" "$tmp/evil.data" >"$tmp/out" 2>"$tmp/err"
check_cmd "diff: table and warning escaped" grep -qxF \
	'warning: A and B were taken on different kernels (6.1.0-gen, 6.1<b>|*_\xff)' "$tmp/out"
check_cmd "diff: nothing raw" no_raw "$tmp/out"

printf 'isa,reason,count\nvmx,\033[31mFOO,5\n' >"$tmp/evil.csv"
"$kx" report "$tmp/evil.csv" >/dev/null 2>"$tmp/err"
check_cmd "errors: a quoted name escaped" grep -qxF \
	"kvmexit report: $tmp/evil.csv:2: '\\x1b[31mFOO' is not a VMX exit reason" "$tmp/err"
printf '# hostname: a\033]0;title\007b\nisa,reason,count\nvmx,HLT,5\n' >"$tmp/evil2.csv"
"$kx" report "$tmp/evil2.csv" >"$tmp/out" 2>"$tmp/err"
check_cmd "count table: an OSC sequence in the host name escaped" grep -qxF \
	'kernel     unknown on a\x1b]0;title\x07b (unknown, 0 CPUs)' "$tmp/out"
