# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Shared by the host-side checks of kvmexit's captures (check-kvmexit,
# check-bpf; sourced, not run): the exact totals of kvmexit-guest's runs
# and the reading of `kvmexit report --csv`.
#
# W = pages_touched, T = data_pt_pages, R = cr3_reloads, C = cpuid,
# N = work_port_writes (kvmexit-guest's summary); why the counts are exact:
# check-npt-shadow.  MODE is npt1 or npt0 (kvm_amd, by reason) or ept1 or
# ept0 (kvm_intel, by kind: see by_kind).

# totals MODE SUMMARY: the exact "reason<TAB>count" totals, sorted.
totals()
{
	awk -F= -v mode="$1" '
	{ v[$1] = $2 }
	END {
		w = v["pages_touched"]; t = v["data_pt_pages"]
		r = v["cr3_reloads"]; c = v["cpuid"]; n = v["work_port_writes"]
		if (mode == "ept1") {
			print "EPT_VIOLATION\t" (w + t + 5)
		} else if (mode == "ept0") {
			print "EXCEPTION_NMI/#PF\t" (2 * w + t + 1)
			if (w > 0) print "INVLPG\t" (2 * w)
			if (r > 0) { print "CR_ACCESS/mov-from-cr3\t" r; print "CR_ACCESS/mov-to-cr3\t" r }
		} else if (mode == "npt1") {
			print "npf\t" (w + t + 5)
		} else {
			print "PF excp\t" (2 * w + t + 1)
			if (w > 0) print "invlpg\t" (2 * w)
			if (r > 0) { print "read_cr3\t" r; print "write_cr3\t" r }
		}
		if (mode ~ /^ept/) {
			print "IO_INSTRUCTION/out:0xe9\t6"
			if (n > 0) print "IO_INSTRUCTION/out:0x80\t" n
			if (c > 0) print "CPUID\t" c
			print "HLT\t1"
			exit
		}
		print "io\t" (n + 6)
		if (c > 0) print "cpuid\t" c
		print "hlt\t1"
	}' "$2" | sort
}

# by_kind CSV COLUMN: "kind<TAB>value" from `kvmexit report --by detail --csv`:
# the kind is REASON/DETAIL for the VMX reasons the checks split by kind,
# else the reason (its details summed).
by_kind()
{
	awk -F, -v col="$2" '
	NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
	{
		k = $(idx["reason"]); d = $(idx["detail"])
		if (d != "" && (k == "EXCEPTION_NMI" || k == "CR_ACCESS" || k == "IO_INSTRUCTION"))
			k = k "/" d
		v[k] += $(idx[col])
	}
	END { for (k in v) print k "\t" v[k] }' "$1" | sort
}

# csv_col FILE COLUMN...: the named columns of `kvmexit report --csv`, tab
# separated, sorted (reason names contain blanks but no commas).
csv_col()
{
	local f=$1
	shift
	awk -F, -v cols="$*" '
	NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; nc = split(cols, c, " "); next }
	{ s = ""; for (i = 1; i <= nc; i++) s = s (i > 1 ? "\t" : "") $(idx[c[i]]); print s }' "$f" | sort
}
