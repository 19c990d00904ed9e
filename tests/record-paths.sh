#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit record -o on paths it must not write through: a symlink planted
# where the capture goes, a device node, a FIFO, an existing file without
# -f.  Exact messages, exit status 1, the planted file's bytes and mode
# unchanged; with -f an existing capture is replaced by a new file (a new
# inode, mode 0600), a hard link to the old one keeps the old bytes, and
# no temporary file is left.  Needs root (tracefs event ids).
bld="${top_builddir:-.}"
kx="$(cd "$bld" && pwd)/tool/kvmexit"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir paths
[ "$(id -u)" -eq 0 ] || skip_all "needs root (tracefs event ids)"
cd "$tmp" || exit 1
"$kx" record -q -o probe.data -- true >/dev/null 2>err ||
	skip_all "kvmexit record does not work here: $(head -n 1 err)"

# refused PATH MESSAGE: record -f -o PATH fails with exactly MESSAGE
refused() {
	"$kx" record -q -f -o "$1" -- true >/dev/null 2>"$tmp/err"
	[ $? -eq 1 ] && [ "$(cat "$tmp/err")" = "$2" ]
}

echo "1..8"
echo "not yours" >victim
chmod 644 victim
ln -s "$tmp/victim" planted.data
check_cmd "a symlink is refused" refused planted.data \
	"kvmexit record: planted.data is a symbolic link: captures are never written through a link; give the target's path"
check_cmd "its target is untouched" [ "$(cat victim)-$(stat -c %a victim)" = "not yours-644" ]
mknod null c 1 3 && chmod 666 null
check_cmd "a device node is refused" refused null \
	"kvmexit record: null is a character device: captures only replace regular files; give another path"
check_cmd "its mode is untouched" [ "$(stat -c %a null)" = 666 ]
mkfifo fifo
check_cmd "a FIFO is refused" refused fifo \
	"kvmexit record: fifo is a FIFO: captures only replace regular files; give another path"
"$kx" record -q -o victim -- true >/dev/null 2>err
check_cmd "an existing file without -f is refused" [ "$(cat err)" = \
	"kvmexit record: victim exists: give -f to overwrite it, or another -o" ]
ln victim hardlink
ino=$(stat -c %i victim)
"$kx" record -q -f -o victim -- true >/dev/null 2>err
check_cmd "-f replaces it with a new private file" \
	[ "$(stat -c %a victim)" = 600 -a "$(stat -c %i victim)" != "$ino" ]
check_cmd "the old bytes stay in the hard link, no temporary file is left" \
	[ "$(cat hardlink)" = "not yours" -a -z "$(ls -A | grep '^\.victim\.')" ]
