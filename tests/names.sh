#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Processes, VMs and vCPU threads by name, end to end: a gen-capture with
# VM names and COMM records (exact rows of report --by vm, --by vcpu and
# --vm; perf script and perf report --sort comm name the same threads),
# report's input (kvmexit.data by default, -i FILE), and a live recording
# of tests/pio-guest run as "qemu-system-x86_64 ... -name guest=web,,1"
# (root, /dev/kvm and kvm_pio needed; skipped otherwise).
src="${top_srcdir:-.}"
bld="$(cd "${top_builddir:-.}" && pwd)"
kx="$bld/tool/kvmexit"
gen="$bld/tests/gen-capture"
perf="${PERF:-$(command -v perf)}"
. "${top_srcdir:-.}/tests/tap.sh"
tap_tmpdir names-test

echo "1..15"

# 1000 pairs on 4 vCPUs: vCPU v is tid 5000+v of pid 4000 + v % 2, so each
# process has 500 exits, each vCPU 250.  VM names: 4000 web1, 4001 db.
"$gen" --isa vmx --layout 6.1 --pairs 1000 --vcpus 4 --pids 2 --names web1,db \
	--data-dir "$src/tests/data" -f -o "$tmp/n.data" >/dev/null

# 1: --by vm, summed per VM (CSV: vm is column 18, count 7)
check "report --by vm: 500 exits for web1, 500 for db" "db,4001,500
web1,4000,500" "$("$kx" report --by vm --csv "$tmp/n.data" |
	awk -F, 'NR > 1 { c[$19 "," $5] += $7 } END { for (k in c) print k "," c[k] }' | sort)"

# 2: the table's VM column
check "report --by vm table: the VM column" "VM PID
web1 4000
db 4001" "$("$kx" report --by vm "$tmp/n.data" | awk '/^VM /,0 { print $1, $2 }' | awk '!s[$0]++' | head -3)"

# 3: --by vcpu names the threads
check "report --by vcpu: thread names CPU N/KVM" "4000,0,CPU 0/KVM,250
4000,2,CPU 2/KVM,250
4001,1,CPU 1/KVM,250
4001,3,CPU 3/KVM,250" "$("$kx" report --by vcpu --csv "$tmp/n.data" |
	awk -F, 'NR > 1 { c[$5 "," $6 "," $21] += $7 } END { for (k in c) print k "," c[k] }' | sort)"

# 4: --by pid names processes by comm
check "report --by pid: comm qemu-system-x86" "4000 qemu-system-x86
4001 qemu-system-x86" "$("$kx" report --by pid "$tmp/n.data" | awk '$1 ~ /^400[01]$/ { print $1, $2 }' | sort -u)"

# 5-6: --vm filters (table header and totals)
check "report --vm db: 500 exits" "500" \
	"$("$kx" report --vm db --json "$tmp/n.data" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["exits"])')"
out=$("$kx" report --vm nosuch "$tmp/n.data")
case "$out" in
*"filter     vm nosuch"*"no exits match the filter"*) ok "report --vm nosuch: no exits match" ;;
*) not_ok "report --vm nosuch: no exits match" "$(printf '%s' "$out" | tail -3 | tr '\n' '|')" ;;
esac

# 7-8: stock perf names the same threads
if [ -x "$perf" ] || command -v "$perf" >/dev/null 2>&1; then
	check "perf script: 500 events of each vCPU thread, by name" "    500 CPU 0/KVM
    500 CPU 1/KVM
    500 CPU 2/KVM
    500 CPU 3/KVM" "$("$perf" script -i "$tmp/n.data" -F comm 2>/dev/null | sed 's/^ *//; s/ *$//' | sort | uniq -c)"
	check "perf report --sort comm: four threads of 25%" "25.00% CPU 0/KVM
25.00% CPU 1/KVM
25.00% CPU 2/KVM
25.00% CPU 3/KVM" "$("$perf" report -i "$tmp/n.data" --sort comm --stdio 2>/dev/null |
		awk '/%/ && !/^#/ { $1 = $1; print }' | sort -u)"
else
	skip "perf script: names" "perf is not installed"
	skip "perf report --sort comm" "perf is not installed"
fi

# 9: a capture stock perf recorded in the lab: its COMM records name pid 107
check "stock perf capture: --by pid names pid 107 kvmexit-guest (97 exits)" "107,kvmexit-guest,97" \
	"$("$kx" report --by pid --csv "$src/tests/data/lab-npt1.perf.data" |
	awk -F, 'NR > 1 { c[$5 "," $20] += $7 } END { for (k in c) print k "," c[k] }')"

# 10-12: the input: kvmexit.data by default, -i FILE, not both
cp "$tmp/n.data" "$tmp/kvmexit.data"
want=$("$kx" report --csv "$tmp/n.data")
check "report with no FILE reads kvmexit.data" "$want" "$(cd "$tmp" && "$kx" report --csv)"
check "report -i FILE reads FILE" "$want" "$("$kx" report --csv -i "$tmp/n.data")"
(cd "$tmp" && rm kvmexit.data && "$kx" report) >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "no kvmexit.data here" "$tmp/err"; then
	ok "report without FILE and kvmexit.data: exit 2, says so"
else
	not_ok "report without FILE and kvmexit.data: exit 2, says so" "exit $rc: $(head -1 "$tmp/err")"
fi

# 13-15: a live recording names the process, its VM and its threads
if [ "$(id -u)" != 0 ] || [ ! -w /dev/kvm ] || [ ! -x "$bld/tests/pio-guest" ]; then
	for t in "record: the VM name from the command line" "record: perf script names all 41 events" \
		 "record: perf report --sort comm"; do
		skip "$t" "needs root and /dev/kvm"
	done
	exit 0
fi
mkdir "$tmp/bin" && ln -s "$bld/tests/pio-guest" "$tmp/bin/qemu-system-x86_64"
if ! "$kx" record -q -e ioport -o "$tmp/live.data" -- "$tmp/bin/qemu-system-x86_64" 20 0x8a -- \
	-name guest=web,,1,debug-threads=on >"$tmp/rec.out" 2>&1; then
	for t in 1 2 3; do skip "record $t" "kvmexit record failed: $(tail -1 "$tmp/rec.out")"; done
	exit 0
fi
vms=$("$kx" report -J "$tmp/live.data" | python3 -c '
import json, sys
print(",".join(v["name"] for v in json.load(sys.stdin)["capture"]["vms"]))')
check "record: the VM name from the command line (-name guest=web,,1)" "web,1" "$vms"
if command -v "$perf" >/dev/null 2>&1; then
	# 20 kvm_pio, 20 kvm_userspace_exit of IO and 1 of HLT: every one named
	check "record: perf script names all 41 events qemu-system-x86" "     41 qemu-system-x86" \
		"$("$perf" script -i "$tmp/live.data" -F comm 2>/dev/null | sed 's/^ *//; s/ *$//' | sort | uniq -c)"
	check "record: perf report --sort comm: qemu-system-x86 100%" "100.00% qemu-system-x86" \
		"$("$perf" report -i "$tmp/live.data" --sort comm --stdio 2>/dev/null |
		awk '/%/ && !/^#/ { $1 = $1; print }' | sort -u)"
else
	skip "record: perf script" "perf is not installed"
	skip "record: perf report" "perf is not installed"
fi
