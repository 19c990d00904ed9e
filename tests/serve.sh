#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# kvmexit serve from the outside: the page of a replayed capture with exact
# values (both formats), the textfile, --per-vcpu and the series limit, the
# HTTP server (content types, 404, a stalled client), SIGTERM, and bad
# command lines.  HTTP listens on loopback, port KVMEXIT_TEST_PORT_BASE + 3
# (default 15103); everything started is killed on every exit path.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
cap="$src/examples/npt-off.perf.data"
port=$((${KVMEXIT_TEST_PORT_BASE:-15100} + 3))
. "${top_srcdir:-.}/tests/tap.sh"
# Its own temporary directory and trap, not tap_tmpdir's: the trap also
# stops the servers it started.
tmp=$(mktemp -d /tmp/kvmexit-serve.XXXXXX) || exit 1
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	exec 3>&- 4>&- 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Its own check, not tap.sh's: a failure shows the whole diff, a "#   "
# line per line of it.
check() { # DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/#   /'
	fi
}
exits_sum() { awk '/^kvmexit_exits_total/ { s += $NF } END { print s + 0 }'; }
echo "1..26"

# --- the page of a replay, exactly
"$kx" serve --replay "$cap" --once >"$tmp/page" 2>"$tmp/err"
check "--once --replay: exit 0, nothing on stderr" "0:" "$?:$(cat "$tmp/err")"
check "exits per VM and reason, as report counts them" \
'kvmexit_exits_total{pid="190",reason="read_cr3",category="paging"} 20
kvmexit_exits_total{pid="190",reason="write_cr3",category="paging"} 20
kvmexit_exits_total{pid="190",reason="PF excp",category="paging"} 402
kvmexit_exits_total{pid="190",reason="interrupt",category="interrupt"} 1
kvmexit_exits_total{pid="190",reason="cpuid",category="instruction"} 50
kvmexit_exits_total{pid="190",reason="hlt",category="instruction"} 1
kvmexit_exits_total{pid="190",reason="invlpg",category="paging"} 400
kvmexit_exits_total{pid="190",reason="io",category="io"} 56' "$(grep '^kvmexit_exits_total' "$tmp/page")"
check "io histogram: buckets around report's times, _sum exact to the ns" \
'kvmexit_exit_handling_seconds_bucket{reason="io",category="io",le="0.000012287"} 0
kvmexit_exit_handling_seconds_bucket{reason="io",category="io",le="0.000016383"} 0
kvmexit_exit_handling_seconds_bucket{reason="io",category="io",le="0.000024575"} 51
kvmexit_exit_handling_seconds_bucket{reason="io",category="io",le="0.000032767"} 51
kvmexit_exit_handling_seconds_bucket{reason="io",category="io",le="+Inf"} 56
kvmexit_exit_handling_seconds_sum{reason="io",category="io"} 0.001438949
kvmexit_exit_handling_seconds_count{reason="io",category="io"} 56' \
	"$(grep -E '^kvmexit_exit_handling_seconds_(bucket\{reason="io",.*le="(0\.0000(12287|16383|24575|32767)|\+Inf)"|(sum|count)\{reason="io")' "$tmp/page")"
# Every bucket of every reason against stock perf's own decoding: pair
# each kvm_exit with its thread's next kvm_entry in `perf script --ns`.
perf=${PERF:-$(command -v perf)}
if [ -n "$perf" ] && "$perf" script --ns -i "$cap" -F tid,time,event,trace >"$tmp/script" 2>/dev/null; then
	bounds=$(sed -n 's/^kvmexit_exit_handling_seconds_bucket{reason="io",.*le="\([0-9.]*\)"}.*/\1/p' "$tmp/page")
	want=$(awk -v bounds="$bounds" '
		BEGIN { nb = split(bounds, b, "\n") }
		{ tid = $1; t = $2; sub(":", "", t); split(t, x, "."); ns = x[1] * 1e9 + x[2] }
		$3 ~ /kvm_exit/ { r = $0; sub(/.* reason /, "", r); sub(/ rip .*/, "", r)
				  pend[tid] = ns; why[tid] = r; next }
		$3 ~ /kvm_entry/ && (tid in pend) {
			d = ns - pend[tid]; r = why[tid]; seen[r] = 1
			for (i = 1; i <= nb; i++) if (d <= b[i] * 1e9 + 0.5) c[r, i]++
			delete pend[tid] }
		END { for (r in seen) for (i = 1; i <= nb; i++)
			printf "%s %s %d\n", r, b[i], c[r, i] }' "$tmp/script" | sort)
	have=$(sed -n 's/^kvmexit_exit_handling_seconds_bucket{reason="\([^"]*\)",.*le="\([0-9.]*\)"} \(.*\)/\1 \2 \3/p' \
		"$tmp/page" | sort)
	check "every bucket of every reason equals stock perf's pairing ($(echo "$have" | wc -l) buckets)" \
		"$want" "$have"
else
	ok "# SKIP stock perf cannot read the capture here"
fi
check "no histogram for hlt (no kvm_entry timed it)" "" \
	"$(grep '^kvmexit_exit_handling_seconds.*reason="hlt"' "$tmp/page")"
check "host info from the capture" \
	'kvmexit_host_info{version="0.1.0",source="replay",kvm_module="kvm_amd",paging="shadow",vendor="AuthenticAMD",kernel="6.1.0-56-amd64"} 1' \
	"$(sed -n 's/version="[^"]*"/version="0.1.0"/; /^kvmexit_host_info/p' "$tmp/page")"
check "the replay has ended, nothing lost" "kvmexit_source_running 0
kvmexit_lost_events_total 0" \
	"$(grep -E '^kvmexit_(source_running|lost_events_total) ' "$tmp/page" | sort -r)"

"$kx" serve --replay "$src/examples/npt-on.perf.data" --once --openmetrics >"$tmp/om"
check "OpenMetrics: counter family without _total, histogram with its unit, # EOF last" \
"# TYPE kvmexit_exits counter
# UNIT kvmexit_exit_handling_seconds seconds
# TYPE kvmexit_host info
# EOF" "$(grep -E '^# (TYPE kvmexit_exits |UNIT kvmexit_exit_handling|TYPE kvmexit_host |EOF)' "$tmp/om")"
check "OpenMetrics: npt-on's 313 exits, npf 206" "313 206" \
	"$(exits_sum <"$tmp/om") $(sed -n 's/^kvmexit_exits_total{.*reason="npf".* //p' "$tmp/om")"

# --- textfile, atomically
mkdir "$tmp/tf"
"$kx" serve --replay "$cap" --once --textfile "$tmp/tf/kvmexit.prom" >"$tmp/out"
check "--textfile: nothing on stdout, only kvmexit.prom in the directory, mode 644" \
	"0 kvmexit.prom 644" "$(wc -c <"$tmp/out") $(ls -A "$tmp/tf") $(stat -c %a "$tmp/tf/kvmexit.prom")"
check "--textfile holds the same exits as the page" \
	"$(grep '^kvmexit_exits' "$tmp/page")" "$(grep '^kvmexit_exits' "$tmp/tf/kvmexit.prom")"
"$kx" serve --replay "$cap" --once --textfile "$tmp/nodir/kvmexit.prom" 2>"$tmp/err"
check "--textfile into a missing directory: exit 1 and why" \
	"1 kvmexit serve: cannot write $tmp/nodir/kvmexit.prom: No such file or directory (check that its directory exists and is writable)" \
	"$? $(cat "$tmp/err")"

# --- options that change the series
"$kx" serve --replay "$cap" --once --per-vcpu >"$tmp/vcpu"
check "--per-vcpu: a vcpu label on every exit series, the same sum" "8 950" \
	"$(grep -c '^kvmexit_exits_total{pid="190",vcpu="0",' "$tmp/vcpu") $(exits_sum <"$tmp/vcpu")"
"$kx" serve --replay "$cap" --once --max-series 10 >"$tmp/limit"
check "--max-series 10: the VM counted under pid=\"other\", the same sum, folded 1" \
	"8 950 1" "$(grep -c '^kvmexit_exits_total{pid="other",' "$tmp/limit") $(exits_sum <"$tmp/limit") \
$(sed -n 's/^kvmexit_vms_folded //p' "$tmp/limit")"
"$kx" serve --replay "$cap" --once --histogram-per-vm --buckets-per-octave 1 >"$tmp/hvm"
check "--histogram-per-vm --buckets-per-octave 1: 20 bounds + Inf per reason, per VM too" "21 147" \
	"$(grep -c '^kvmexit_exit_handling_seconds_bucket{reason="io",' "$tmp/hvm") \
$(grep -c '^kvmexit_exit_handling_seconds_bucket{pid="190",' "$tmp/hvm")"

# --- HTTP
"$kx" serve --replay "$cap" --listen "127.0.0.1:$port" --interval 0.2 \
	--textfile "$tmp/tf/live.prom" 2>"$tmp/serve.err" &
spid=$!
pids+=("$spid")
up=""
for _ in $(seq 100); do	# bounded polling for the server to answer
	curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && { up=1; break; }
	sleep 0.1
done
if [ -n "$up" ]; then ok "serve answers on 127.0.0.1:$port"; else not_ok "serve answers on 127.0.0.1:$port"; fi
check "text format by default, 404 elsewhere" \
	"200 text/plain; version=0.0.4; charset=utf-8 404" \
	"$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/metrics") \
$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nothing")"
check "POST is refused: 405" "405" \
	"$(curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$port/metrics")"
# Stalled clients: one that never finishes its request, one that never reads.
exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n' >&3
exec 4<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >&4
# (bounded polling: the replay may still be running on a busy machine)
got=""
for _ in $(seq 100); do
	got=$(curl -sf --max-time 30 "http://127.0.0.1:$port/metrics" | exits_sum)
	[ "$got" = 950 ] && break
	sleep 0.1
done
check "while two clients stall, a scrape still gets the whole page (exits 950)" "950" "$got"
# ...and the loop keeps rendering: the textfile's stamp changes twice.
stamps=""
for _ in $(seq 100); do
	s=$(sed -n 's/^kvmexit_last_update_timestamp_seconds //p' "$tmp/tf/live.prom" 2>/dev/null)
	case " $stamps " in *" $s "*) ;; *) stamps="$stamps $s" ;; esac
	[ "$(echo $stamps | wc -w)" -ge 3 ] && break
	sleep 0.1
done
check "rendering goes on while they stall (3 distinct textfile stamps)" 3 "$(echo $stamps | wc -w)"
timeout 20 "$kx" serve --replay "$cap" --listen "127.0.0.1:$port" 2>"$tmp/err2"
check "a port in use: exit 1 and what to do" "1 yes" \
	"$? $(grep -qx "kvmexit serve: cannot listen on 127.0.0.1:$port: Address already in use (another server has the port: choose another with --listen)" "$tmp/err2" && echo yes)"
kill -TERM "$spid"
wait "$spid"
check "SIGTERM: exit 0, nothing on stderr, the port closed" "0::closed" \
	"$?:$(cat "$tmp/serve.err"):$(curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || echo closed)"
pids=()
exec 3>&- 4>&-
# A restart binds the port again at once, though connections linger in TIME_WAIT.
"$kx" serve --replay "$cap" --listen "127.0.0.1:$port" --interval 0.2 2>"$tmp/restart.err" &
spid=$!
pids+=("$spid")
got=0
for _ in $(seq 100); do
	got=$(curl -sf "http://127.0.0.1:$port/metrics" | exits_sum)
	[ "$got" != 0 ] && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.1
done
check "a restart on the same port serves at once" "950:" "$got:$(cat "$tmp/restart.err")"
kill -TERM "$spid"
wait "$spid"
pids=()

# --- IPv6 loopback, when the host has it
if [ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	"$kx" serve --replay "$cap" --listen "[::1]:$port" --interval 0.2 2>"$tmp/v6.err" &
	spid=$!
	pids+=("$spid")
	got=""
	for _ in $(seq 100); do
		got=$(curl -sf -g "http://[::1]:$port/metrics" | exits_sum)
		[ "$got" != 0 ] && break
		sleep 0.1
	done
	kill -TERM "$spid"
	wait "$spid"
	check "--listen [::1]:PORT serves the page over IPv6, exits on SIGTERM" "950 0" "$got $?"
	pids=()
else
	ok "# SKIP no IPv6 loopback"
fi

# --- bad command lines: exit 2 and a message
bad=""
for args in "--listen bogus" "--listen 127.0.0.1:99999" "--buckets-per-octave 3" \
	    "--replay $cap --count" "--interval 0" "--max-series 0" "--grace -1" "extra"; do
	# shellcheck disable=SC2086
	"$kx" serve $args --once >/dev/null 2>"$tmp/e"
	rc=$?
	[ "$rc" = 2 ] && grep -q "^kvmexit serve: .*'kvmexit serve --help'" "$tmp/e" || bad="$bad [$args: $rc]"
done
check "bad options: exit 2 and a usage message" "" "$bad"
"$kx" serve --replay "$tmp/missing.data" --once 2>"$tmp/e"
check "a missing capture: exit 1, a message naming it" "1 yes" \
	"$? $(grep -q "^kvmexit serve: .*missing.data" "$tmp/e" && echo yes)"
