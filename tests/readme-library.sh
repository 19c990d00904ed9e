#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The README's library section works as written from the build tree: its
# two commands (build examples/count-reasons.c against lib/.libs, run it
# with LD_LIBRARY_PATH) are taken from README.md, run verbatim in a
# directory that looks like the tree (include/, examples/, tests/ of the
# source, lib/ of the build), and print the counts the README shows.
src="$(cd "${top_srcdir:-.}" && pwd)"
bld="$(cd "${top_builddir:-.}" && pwd)"
echo "1..2"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for d in include examples tests; do ln -s "$src/$d" "$tmp/$d"; done
ln -s "$bld/lib" "$tmp/lib"

# The indented block after "From the build tree", and the one after
# "A whole program that counts" (its output).
cmds=$(awk '/^From the build tree/ { on = 1; next }
	on && /^    / { sub(/^    /, ""); print; got = 1; next }
	on && got { exit }' "$src/README.md")
want=$(awk '/^A whole program that counts/ { on = 1; next }
	on && /^    \$ / { got = 1; next }
	on && got && /^    / { sub(/^    /, ""); print; next }
	on && got { exit }' "$src/README.md")
cc_line=$(printf '%s\n' "$cmds" | sed -n 1p)
run_line=$(printf '%s\n' "$cmds" | sed -n 2p)
case "$cc_line" in
"cc "*) ;;
*) echo "not ok 1 - README: no cc line after 'From the build tree' ($cc_line)"; exit 0 ;;
esac
# A sanitizer build's library needs its runtime in the program too:
# EXAMPLE_LDFLAGS (from make check) adds it, and is empty otherwise.
if (cd "$tmp" && eval "${EXAMPLE_CC:-cc} ${cc_line#cc } ${EXAMPLE_LDFLAGS:-}") >"$tmp/cc.log" 2>&1; then
	echo "ok 1 - README: $cc_line"
else
	echo "not ok 1 - README: $cc_line"
	sed 's/^/#   /' "$tmp/cc.log"
	exit 0
fi
got=$(cd "$tmp" && eval "$run_line" 2>&1)
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	echo "ok 2 - README: $run_line prints what the README shows"
else
	echo "not ok 2 - README: $run_line prints what the README shows"
	printf '#   want: %s\n' "$want"
	printf '#   got:  %s\n' "$got"
fi
