#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The exporter proven against a real Prometheus (Debian's prometheus and
# prometheus-node-exporter, installed when missing and possible):
# Prometheus scrapes `kvmexit serve --replay` of a shipped capture, and
# node_exporter's textfile collector reads serve's --textfile; the HTTP API
# must then give the capture's exact exit count, a reason's exact count,
# and a p99 within one histogram bucket of `kvmexit report`'s.
# Everything listens on loopback, on KVMEXIT_TEST_PORT_BASE .. +2
# (default 15100), and everything started is killed on every exit path.
src="${top_srcdir:-.}"
bld="${top_builddir:-.}"
kx="$bld/tool/kvmexit"
cap="$src/examples/npt-off.perf.data"
base=${KVMEXIT_TEST_PORT_BASE:-15100}
p_serve=$base p_prom=$((base + 1)) p_node=$((base + 2)) p_serve2=$((base + 4))
cap2="$src/examples/npt-on.perf.data"
rules="$(cd "$src" && pwd)/doc/kvmexit-rules.yml"
. "${top_srcdir:-.}/tests/tap.sh"

need=(prometheus promtool prometheus-node-exporter curl jq)
missing() {
	local m=() c
	for c in "${need[@]}"; do command -v "$c" >/dev/null || m+=("$c"); done
	echo "${m[*]}"
}
if [ -n "$(missing)" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
		--no-install-recommends prometheus prometheus-node-exporter curl jq >/dev/null 2>&1
fi
if [ -n "$(missing)" ]; then
	echo "1..0 # SKIP missing $(missing) (apt-get install prometheus prometheus-node-exporter curl jq)"
	exit 0
fi

# Its own temporary directory and trap, not tap_tmpdir's: the trap also
# stops the servers it started.
tmp=$(mktemp -d /tmp/kvmexit-prom.XXXXXX) || exit 1
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Its own check, not tap.sh's: ok shows the value (its lines joined by
# "; "), and a failure the whole diff, a "#   " line per line of it.
check() { # DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1 (${3//$'\n'/; })"; else
		not_ok "$1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/#   /'
	fi
}
echo "1..18"

mkdir -p "$tmp/textfile" "$tmp/data"
"$kx" serve --replay "$cap" --listen "127.0.0.1:$p_serve" --interval 0.5 \
	--textfile "$tmp/textfile/kvmexit.prom" 2>"$tmp/serve.err" &
pids+=($!)
# A second host, with nested paging on: the fleet of two.
"$kx" serve --replay "$cap2" --listen "127.0.0.1:$p_serve2" --interval 0.5 2>"$tmp/serve2.err" &
pids+=($!)
prometheus-node-exporter --web.listen-address="127.0.0.1:$p_node" \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$tmp/textfile" >"$tmp/node.log" 2>&1 &
pids+=($!)
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['$rules']
scrape_configs:
  - job_name: kvmexit
    static_configs: [{ targets: ['127.0.0.1:$p_serve'] }]
  - job_name: node
    static_configs: [{ targets: ['127.0.0.1:$p_node'] }]
  - job_name: kvmexit-npt-on
    static_configs: [{ targets: ['127.0.0.1:$p_serve2'] }]
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address="127.0.0.1:$p_prom" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)

# An instant query's single value ("" when the result is empty).
query() {
	curl -sf "http://127.0.0.1:$p_prom/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // ""' 2>/dev/null
}

# Bounded polling: at most 120 tries, half a second apart.
ready=""
for _ in $(seq 120); do
	# The replay has ended (the capture is read) on both paths.
	if [ "$(query 'kvmexit_source_running{job="kvmexit"}')" = 0 ] &&
	   [ "$(query 'kvmexit_source_running{job="node"}')" = 0 ] &&
	   [ "$(query 'kvmexit_source_running{job="kvmexit-npt-on"}')" = 0 ]; then
		ready=1
		break
	fi
	sleep 0.5
done
if [ -z "$ready" ]; then
	not_ok "Prometheus scraped kvmexit serve and node_exporter to the end of the replay"
	sed 's/^/# /' "$tmp/serve.err" "$tmp/node.log" | tail -n 20
	tail -n 20 "$tmp/prometheus.log" | sed 's/^/# /'
	exit 1
fi
ok "Prometheus scraped kvmexit serve and node_exporter to the end of the replay"

csv=$("$kx" report --csv "$cap")
exits=$(printf '%s\n' "$csv" | awk -F, 'NR > 1 { s += $7 } END { print s }')
pf=$(printf '%s\n' "$csv" | awk -F, '$3 == "PF excp" { print $7 }')
pf_p99=$(printf '%s\n' "$csv" | awk -F, '$3 == "PF excp" { print $16 }')

check "up{job=kvmexit}" 1 "$(query 'up{job="kvmexit"}')"
check "sum of kvmexit_exits_total is the capture's exit count" "$exits" \
	"$(query 'sum(kvmexit_exits_total{job="kvmexit"})')"
check "PF excp exits as report counts them" "$pf" \
	"$(query 'sum(kvmexit_exits_total{job="kvmexit",reason="PF excp"})')"
check "PF excp histogram _count" "$pf" \
	"$(query 'sum(kvmexit_exit_handling_seconds_count{job="kvmexit",reason="PF excp"})')"

# p99: Prometheus's must lie in the bucket that holds report's.
q=$(query 'histogram_quantile(0.99, sum by (le) (kvmexit_exit_handling_seconds_bucket{job="kvmexit",reason="PF excp"}))')
page=$(curl -sf "http://127.0.0.1:$p_serve/metrics")
bucket=$(printf '%s\n' "$page" |
	sed -n 's/^kvmexit_exit_handling_seconds_bucket{reason="PF excp",.*le="\([0-9.]*\)"}.*/\1/p' |
	awk -v p="$pf_p99" 'BEGIN { lo = 0 } { if ($1 * 1e9 >= p) { print lo, $1; exit } lo = $1 }')
if [ -n "$q" ] && [ -n "$bucket" ] &&
   awk -v q="$q" -v b="$bucket" 'BEGIN { split(b, x, " "); exit !(q >= x[1] && q <= x[2]) }'; then
	ok "histogram_quantile(0.99) of PF excp ($q s) in report's p99 bucket ($pf_p99 ns in ($bucket])"
else
	not_ok "histogram_quantile(0.99) of PF excp: '$q' s, report's p99 $pf_p99 ns, bucket '$bucket'"
fi

# The page as Prometheus's own linter sees it (text format 0.0.4).
if out=$(printf '%s\n' "$page" | promtool check metrics 2>&1); then
	ok "promtool check metrics accepts the page"
else
	not_ok "promtool check metrics: $out"
fi
# OpenMetrics, when asked for as Prometheus asks.
accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
hdr=$(curl -sf -o "$tmp/om" -D - -H "Accept: $accept" "http://127.0.0.1:$p_serve/metrics" |
	tr -d '\r' | sed -n 's/^Content-Type: //Ip')
check "OpenMetrics content type for Prometheus's Accept" \
	"application/openmetrics-text; version=1.0.0; charset=utf-8" "$hdr"
check "OpenMetrics page ends with # EOF" "# EOF" "$(tail -n 1 "$tmp/om")"
# Prometheus scraped (and parsed) every sample of the OpenMetrics page.
samples=$(grep -vc '^#' "$tmp/om")
check "samples Prometheus scraped" "$samples" "$(query 'scrape_samples_scraped{job="kvmexit"}')"

# node_exporter's textfile collector read serve's --textfile.
check "textfile via node_exporter: sum of kvmexit_exits_total" "$exits" \
	"$(query 'sum(kvmexit_exits_total{job="node"})')"
check "textfile via node_exporter: no textfile scrape error" 0 \
	"$(query 'node_textfile_scrape_error{job="node"}')"

# Count tables from the query API: kvmexit reads its JSON answer.
api() { curl -sf "http://127.0.0.1:$p_prom/api/v1/query" --data-urlencode "query=$1"; }
api 'sum by (reason) (kvmexit_exits_total{job="kvmexit"})' >"$tmp/off.json"
api 'sum by (reason) (kvmexit_exits_total{job="kvmexit-npt-on"})' >"$tmp/on.json"
counts() { "$kx" report --csv "$1" | awk -F, 'NR > 1 { print $3 "," $7 }' | sort; }
check "kvmexit report of the query's JSON: the capture's counts per reason" \
	"$(counts "$cap")" "$(counts "$tmp/off.json")"
# kvmexit-diff of two hosts (or two windows) from Prometheus = of their captures.
cmp_cols() { "$bld/tool/kvmexit-diff" --csv "$1" "$2" | cut -d, -f1,6,7,9,11,18 | sort; }
check "kvmexit-diff of two query answers = of the two captures (counts, deltas, p-values)" \
	"$(cmp_cols "$cap2" "$cap")" "$(cmp_cols "$tmp/on.json" "$tmp/off.json")"
# A window: a counter now minus the same counter earlier is exact (with a
# replay that has ended, every reason's window is 0).  Bounded polling:
# the earlier sample must exist.
for _ in $(seq 40); do
	api 'sum by (reason) (kvmexit_exits_total{job="kvmexit"} - kvmexit_exits_total{job="kvmexit"} offset 1s)' \
		>"$tmp/window.json"
	[ "$(jq '.data.result | length' "$tmp/window.json")" = 8 ] && break
	sleep 0.5
done
check "a window of one second after the replay: 8 reasons in the answer, 0 exits read" "8 0" \
	"$(jq '.data.result | length' "$tmp/window.json") \
$("$kx" report --csv "$tmp/window.json" | awk -F, 'NR > 1 { s += $7 } END { print s + 0 }')"

# doc/kvmexit-rules.yml: valid, loaded, healthy, and recording.
if out=$(promtool check rules "$rules" 2>&1); then
	ok "promtool check rules doc/kvmexit-rules.yml (${out##*SUCCESS: })"
else
	not_ok "promtool check rules: $out"
fi
for _ in $(seq 40); do	# bounded polling: rate() needs two samples
	rec=$(query "count(instance_reason:kvmexit_exits:rate5m{instance=\"127.0.0.1:$p_serve\"})")
	[ "$rec" = 8 ] && break
	sleep 0.5
done
check "recording rule instance_reason:kvmexit_exits:rate5m: a series per reason" 8 "$rec"
for _ in $(seq 40); do	# bounded polling: "unknown" until a group's first evaluation
	health=$(curl -sf "http://127.0.0.1:$p_prom/api/v1/rules" |
		jq -r '[.data.groups[].rules[]] | "\(length) \(map(.health) | unique | join(","))"')
	[ "${health#* }" != unknown ] && [ "${health#* }" != "ok,unknown" ] && break
	sleep 0.5
done
check "every rule loaded and healthy" "13 ok" "$health"
