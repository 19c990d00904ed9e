#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The README's first command: kvmexit-diff on the shipped Intel example pair
# prints exactly what the README shows, and both pairs (Intel and AMD) name
# the shadow-paging side with the counts examples/README.md derives.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
diff_tool="$(cd "$bld/tool" && pwd)/kvmexit-diff"
echo "1..3"

# The indented block under "## What the first command shows", unindented.
shown=$(awk '/^## What the first command shows/ { on = 1; next }
	on && /^[^ ]/ { exit }
	on { sub(/^    /, ""); print }' "$src/README.md" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' | sed '1{/^$/d}')
# Paths as the README runs them, from the top of the source tree.
got=$(cd "$src" && "$diff_tool" examples/ept-on.perf.data examples/ept-off.perf.data 2>&1)
if [ "$shown" = "$got" ]; then
	echo "ok 1 - README shows the real output of its first command"
else
	echo "not ok 1 - README shows the real output of its first command"
	printf '%s\n' "$shown" >/tmp/kx-readme.$$; printf '%s\n' "$got" >/tmp/kx-got.$$
	diff /tmp/kx-readme.$$ /tmp/kx-got.$$ | sed 's/^/#   /'
	rm -f /tmp/kx-readme.$$ /tmp/kx-got.$$
fi

# paging TDP: the paging summary of examples/TDP-on and -off.perf.data.
paging()
{
	"$diff_tool" --json "$src/examples/$1-on.perf.data" "$src/examples/$1-off.perf.data" |
		python3 -c '
import json, sys
p = json.load(sys.stdin)["summary"]["paging"]
print(p["shadow_side"], p["pf"], p["cr3"], p["invlpg"], p["tdp_faults"])'
}

# Both pairs: W = 200 pages, T = 1, R = 20 (examples/README.md).
want="B [0, 402] [0, 40] [0, 400] [206, 0]"
n=2
for tdp in ept npt; do
	got=$(paging $tdp)
	if [ "$got" = "$want" ]; then
		echo "ok $n - the $tdp examples show the shadow-paging signature: $want"
	else
		echo "not ok $n - the $tdp examples show the shadow-paging signature"
		echo "#   want: $want"
		echo "#   got:  $got"
	fi
	n=$((n + 1))
done
