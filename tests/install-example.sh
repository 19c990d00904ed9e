#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The installed library is usable as documented: 'make install' into a
# scratch DESTDIR, then examples/count-reasons.c (the program libkvmexit(3)
# shows) is compiled with nothing but pkg-config's flags for the installed
# libkvmexit.pc, run against the installed libkvmexit.so, and its output
# checked against tests/data/lab-fixtures.md (lab-npt1.perf.data: npf=70
# io=16 cpuid=10 hlt=1).
#
# Environment (set by Makefile.am): MAKE, abs_top_builddir, top_srcdir,
# inst_libdir and inst_includedir (the configured $(libdir), $(includedir)),
# EXAMPLE_CC, EXAMPLE_CFLAGS, EXAMPLE_LDFLAGS.
src="${top_srcdir:-.}"
bld="${abs_top_builddir:-$(pwd)}"
make_cmd="${MAKE:-make}"
cc="${EXAMPLE_CC:-cc}"

if [ -z "$inst_libdir" ] || [ -z "$inst_includedir" ]; then
	echo "1..0 # SKIP run from make check (needs inst_libdir, inst_includedir)"
	exit 0
fi
echo "1..7"
if ! command -v pkg-config >/dev/null 2>&1; then
	for i in 1 2 3 4 5 6 7; do echo "ok $i # SKIP pkg-config is not installed"; done
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/root"

# 1: install.  MAKEFLAGS from the outer make (-j, jobserver) are fine.
if $make_cmd -C "$bld" install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	echo "ok 1 - make install DESTDIR=... ($inst_libdir, $inst_includedir)"
else
	echo "not ok 1 - make install DESTDIR=..."
	tail -20 "$tmp/install.log" | sed 's/^/#   /'
	exit 0
fi

# 2: the .pc file resolves inside the sysroot.
pcdir="$dest$inst_libdir/pkgconfig"
flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$dest" \
	pkg-config --cflags --libs libkvmexit 2>"$tmp/pc.err")
if [ $? -eq 0 ] && [ -f "$dest$inst_includedir/kvmexit.h" ] &&
   printf '%s\n' "$flags" | grep -q -- "-L$dest$inst_libdir" &&
   printf '%s\n' "$flags" | grep -q -- "-I$dest$inst_includedir"; then
	echo "ok 2 - pkg-config --cflags --libs libkvmexit: $flags"
else
	echo "not ok 2 - pkg-config --cflags --libs libkvmexit (from $pcdir)"
	printf '#   flags: %s\n' "$flags"
	sed 's/^/#   /' "$tmp/pc.err"
	exit 0
fi

# 3: compile the example with those flags only (no -I into the source tree).
# shellcheck disable=SC2086
if $cc $EXAMPLE_CFLAGS -o "$tmp/count-reasons" "$src/examples/count-reasons.c" \
	$flags $EXAMPLE_LDFLAGS >"$tmp/cc.log" 2>&1; then
	echo "ok 3 - examples/count-reasons.c compiles and links against the installed copy"
else
	echo "not ok 3 - examples/count-reasons.c compiles and links against the installed copy"
	sed 's/^/#   /' "$tmp/cc.log"
	exit 0
fi

# 4: it loads the installed library, not the build tree's.
so=$(LD_LIBRARY_PATH="$dest$inst_libdir" ldd "$tmp/count-reasons" 2>/dev/null |
	awk '$1 ~ /^libkvmexit\.so/ { print $3 }')
case "$so" in
"$dest$inst_libdir"/libkvmexit.so.*)
	echo "ok 4 - it runs with the installed $(basename "$so")" ;;
*)
	echo "not ok 4 - it runs with the installed libkvmexit.so (ldd says '$so')" ;;
esac

# 5: exact counts of the lab fixture.
cat >"$tmp/want" <<'WANT'
npf                        70
io                         16
cpuid                      10
hlt                         1
WANT
LD_LIBRARY_PATH="$dest$inst_libdir" "$tmp/count-reasons" \
	"$src/tests/data/lab-npt1.perf.data" >"$tmp/got" 2>&1
rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/want" "$tmp/got"; then
	echo "ok 5 - count-reasons lab-npt1.perf.data: npf 70, io 16, cpuid 10, hlt 1"
else
	echo "not ok 5 - count-reasons lab-npt1.perf.data (exit status $rc)"
	diff "$tmp/want" "$tmp/got" | sed 's/^/#   /'
fi

# 6: a static program links with pkg-config --static alone: libperf's
# objects are in libkvmexit.a (not libperf.a as a member), -lm is in
# Libs.private.  compare.c needs -lm (diff), record-exits.c libperf.
sflags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$dest" \
	pkg-config --static --cflags --libs libkvmexit 2>/dev/null)
ok=1
case "${EXAMPLE_LDFLAGS:-}" in
*sanitize*)	# ASan's runtime does not link statically
	echo "ok 6 # SKIP a sanitizer build: no static program"
	echo "ok 7 # SKIP a sanitizer build: no static program"
	exit 0 ;;
esac
for ex in count-reasons compare record-exits; do
	# shellcheck disable=SC2086
	if ! $cc -static -o "$tmp/$ex-static" "$src/examples/$ex.c" $sflags \
		>"$tmp/static-$ex.log" 2>&1; then
		ok=0
		grep -v 'statically linked applications requires' "$tmp/static-$ex.log" |
			head -10 | sed "s/^/#   $ex: /"
	fi
done
if [ $ok = 1 ]; then
	echo "ok 6 - cc -static ... \$(pkg-config --static --libs libkvmexit) links count-reasons, compare, record-exits"
else
	echo "not ok 6 - cc -static with pkg-config --static --libs libkvmexit ($sflags)"
fi

# 7: the static count-reasons gives the same counts.
if [ $ok = 1 ] && "$tmp/count-reasons-static" "$src/tests/data/lab-npt1.perf.data" >"$tmp/got-static" 2>&1 &&
   cmp -s "$tmp/want" "$tmp/got-static"; then
	echo "ok 7 - static count-reasons lab-npt1.perf.data: npf 70, io 16, cpuid 10, hlt 1"
else
	echo "not ok 7 - static count-reasons lab-npt1.perf.data"
	diff "$tmp/want" "$tmp/got-static" 2>&1 | sed 's/^/#   /'
fi
