#!/usr/bin/env bash
# HTTP benchmark: slotkv's gateway (path style and POST / with a JSON body)
# against webdis in front of redis-server, side by side on this machine, with
# wrk at 64 connections. Reports requests per second (median of ROUNDS), p99
# latency, and the servers' CPU time per request (for webdis, webdis's plus
# redis-server's, as both serve each request). Prints Markdown tables.
# This is a measurement, not a test: it never fails on the numbers.
#
# usage: bench/http-vs-webdis.sh [ROUNDS] [SECONDS]   (needs wrk, webdis, redis-server)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
# shellcheck source=bench/lib.sh
source bench/lib.sh

RPORT=$(free_port); WPORT=$(free_port); SPORT=$(free_port); HPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" >/dev/null 2>&1 &
RPID=$!; PIDS+=($RPID)
cat >"$TMP/webdis.json" <<JSON
{ "redis_host": "127.0.0.1", "redis_port": $RPORT, "http_host": "127.0.0.1", "http_port": $WPORT,
  "threads": 2, "pool_size": 20, "daemonize": false, "database": 0, "verbosity": 0, "logfile": "$TMP/webdis.log" }
JSON
webdis "$TMP/webdis.json" &
WPID=$!; PIDS+=($WPID)
./target/release/slotkv --port "$SPORT" --http-port "$HPORT" --bind 127.0.0.1 --log-level warn >/dev/null 2>&1 &
SPID=$!; PIDS+=($SPID)
wait_ping "$RPORT"; wait_ping "$SPORT"
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$WPORT/PING" >/dev/null && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$WPORT/SET/bench:key/hello" >/dev/null
curl -sf "http://127.0.0.1:$HPORT/set/bench:key/hello" >/dev/null

cat >"$TMP/post_get.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '["GET","bench:key"]'
wrk.headers["Content-Type"] = "application/json"
LUA
cat >"$TMP/post_set.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '["SET","bench:key","hello"]'
wrk.headers["Content-Type"] = "application/json"
LUA

cpu_ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
HZ=$(getconf CLK_TCK)
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# run LABEL URL SCRIPT PIDS... -> "rps p99_ms cpu_us_per_request"
run() {
  local url=$1 script=$2; shift 2
  local before after out rps p99 reqs
  before=$(cpu_ticks "$@")
  if [ -n "$script" ]; then
    out=$(wrk -t1 -c64 -d"${SECS}s" --latency -s "$script" "$url")
  else
    out=$(wrk -t1 -c64 -d"${SECS}s" --latency "$url")
  fi
  after=$(cpu_ticks "$@")
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  reqs=$(awk '/requests in/{print $1}' <<<"$out")
  p99=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx responses from $url" >&2; fi
  echo "$rps $p99 $(echo "($after - $before) * 1000000 / $HZ / $reqs" | bc -l)"
}

echo "wrk, 64 connections, ${SECS}s per run, median of $ROUNDS runs"
echo
echo "| workload | webdis req/s | slotkv req/s | ratio | webdis p99 ms | slotkv p99 ms | webdis+redis µs CPU/req | slotkv µs CPU/req |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for w in "GET path style|/GET/bench:key|/get/bench:key|" \
         "SET path style|/SET/bench:key/hello|/set/bench:key/hello|" \
         "GET, slotkv POST / JSON|/GET/bench:key|/|$TMP/post_get.lua" \
         "SET, slotkv POST / JSON|/SET/bench:key/hello|/|$TMP/post_set.lua"; do
  IFS='|' read -r label wpath spath sscript <<<"$w"
  W=(); S=()
  for _ in $(seq 1 "$ROUNDS"); do
    W+=("$(run "http://127.0.0.1:$WPORT$wpath" "" "$WPID" "$RPID")")
    S+=("$(run "http://127.0.0.1:$HPORT$spath" "$sscript" "$SPID")")
  done
  col() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
  wr=$(col 1 "${W[@]}"); sr=$(col 1 "${S[@]}")
  printf '| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.1f | %.1f |\n' "$label" "$wr" "$sr" "$(echo "$sr / $wr" | bc -l)" \
    "$(col 2 "${W[@]}")" "$(col 2 "${S[@]}")" "$(col 3 "${W[@]}")" "$(col 3 "${S[@]}")"
done
