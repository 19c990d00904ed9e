#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# libkvmexit.so exports the public kvmexit_ API and nothing else: not
# libperf's perf_* symbols, not our internal helpers.
so="${top_builddir:-.}/lib/.libs/libkvmexit.so"
echo "1..3"
if [ ! -f "$so" ]; then
	echo "not ok 1 - $so exists"; echo "not ok 2 # SKIP"; echo "not ok 3 # SKIP"; exit 0
fi
echo "ok 1 - $so exists"
syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRW]$/ { print $3 }' | sed 's/@.*//')
bad=$(printf '%s\n' "$syms" | grep -v '^kvmexit_' | grep -v '^LIBKVMEXIT_' | grep -v '^$')
if [ -z "$bad" ]; then
	echo "ok 2 - only kvmexit_ symbols are exported"
else
	echo "not ok 2 - symbols exported beyond kvmexit_:"; printf '#   %s\n' $bad
fi
if nm -D "$so" | grep -q ' kvmexit_reason_lookup@@LIBKVMEXIT_0.1'; then
	echo "ok 3 - symbols carry the LIBKVMEXIT_0.1 version"
else
	echo "not ok 3 - symbols carry the LIBKVMEXIT_0.1 version"
fi
