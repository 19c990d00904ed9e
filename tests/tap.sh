# SPDX-License-Identifier: GPL-2.0-only
# TAP helpers for the shell tests, POSIX sh (the tests run under dash and
# bash).  A test sources it first, then prints its own plan:
#
#   . "${top_srcdir:-.}/tests/tap.sh"
#   tap_tmpdir NAME
#   echo "1..N"
#
# n                     the number of the last test line printed
# ok NAME               "ok N - NAME"
# not_ok NAME [LINE...] "not ok N - NAME", then each LINE as "#   LINE"
# nok NAME              "not ok N - NAME", then $tmp/err (if any) as "#   " lines
# skip NAME REASON      "ok N - NAME # SKIP REASON"
# skip_all REASON       the plan "1..0 # SKIP REASON", and exit 0
# check NAME EXPECTED ACTUAL
#                       ok when the two strings are equal, else not_ok with
#                       their diff on one line (lines joined by |)
# check_cmd NAME CMD [ARG...]
#                       runs CMD: ok when it exits 0, else nok
# tap_tmpdir NAME       sets tmp to a new /tmp/kvmexit-NAME.XXXXXX (exit 1 when
#                       it cannot) and an EXIT trap that removes it; a test
#                       with more to clean up sets its own trap instead

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; [ -f "$tmp/err" ] && sed 's/^/#   /' "$tmp/err"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		printf '%s\n' "$2" >"$tmp/want"
		printf '%s\n' "$3" >"$tmp/got"
		not_ok "$1" "$(diff "$tmp/want" "$tmp/got" | tr '\n' '|')"
	fi
}

check_cmd() {
	tap_name=$1
	shift
	if "$@"; then ok "$tap_name"; else nok "$tap_name"; fi
}

tap_tmpdir() {
	tmp=$(mktemp -d "/tmp/kvmexit-$1.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
}
