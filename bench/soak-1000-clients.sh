#!/usr/bin/env bash
# Soak: 1,000 concurrent clients (redis-benchmark -c 1000, pipelines of 16)
# for DURATION seconds (60 by default) against slotkv with the append-only
# file on (appendfsync everysec). Checks that no reply was an error and that
# the server's memory returns near where it started once the clients have
# left. A long check, not a timed test: the README's test command does not
# run it.
#
# usage: bench/soak-1000-clients.sh [DURATION]   (needs redis-benchmark, redis-cli)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-60}
# shellcheck source=bench/lib.sh
source bench/lib.sh
ulimit -n 20000 2>/dev/null || true

SPORT=$(free_port)
./target/release/slotkv --port "$SPORT" --bind 127.0.0.1 --http-port -1 --log-level warn \
  --dir "$TMP" --appendonly yes --appendfsync everysec >"$TMP/slotkv.log" 2>&1 &
SPID=$!; PIDS+=($SPID)
wait_ping "$SPORT"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SPID/status"; }
TESTS=set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100
# A warm-up with the same key range fills the keyspace, so the comparison
# measures what the connections leave behind, not the data.
redis-benchmark -p "$SPORT" -c 50 -n 200000 -r 10000 -P 16 -t "$TESTS" -q >/dev/null 2>&1
redis-cli -p "$SPORT" DEL mylist >/dev/null
start_rss=$(rss_kb)
used_human() { redis-cli -p "$SPORT" INFO memory | tr -d '\r' | awk -F: '/^used_memory_human/ {print $2}'; }
start_used=$(used_human)
start_clients=$(redis-cli -p "$SPORT" INFO clients | tr -d '\r' | awk -F: '/^connected_clients/ {print $2}')

errors=0; runs=0; requests=0
deadline=$(( $(date +%s) + DURATION ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  # redis-benchmark stops with a non-zero status at the first error reply.
  status=0
  out=$(redis-benchmark -p "$SPORT" -c 1000 -n 200000 -r 10000 -P 16 -t "$TESTS" --csv 2>&1) || status=$?
  runs=$((runs + 1))
  if [ "$status" -ne 0 ] || grep -qiE '^error|ERR ' <<<"$out"; then
    errors=$((errors + 1))
    echo "run $runs: status $status"
    grep -iE 'error|ERR ' <<<"$out" | head -5 || true
  fi
  requests=$((requests + 9 * 200000))
  redis-cli -p "$SPORT" DEL mylist >/dev/null
done

# The clients are gone once the server counts only the one asking.
for _ in $(seq 1 100); do
  n=$(redis-cli -p "$SPORT" INFO clients | tr -d '\r' | awk -F: '/^connected_clients/ {print $2}')
  [ "$n" -le "$start_clients" ] && break
  sleep 0.1
done
# The allocator hands freed pages back after its decay time (jemalloc's
# background thread, 10 s), so memory is given up to 30 s to come back.
left_at=$(date +%s)
for _ in $(seq 1 300); do
  end_rss=$(rss_kb)
  growth=$(( (end_rss - start_rss) * 100 / start_rss ))
  [ "$growth" -le 25 ] && break
  sleep 0.1
done
waited=$(( $(date +%s) - left_at ))
echo "| runs of 9 tests x 200,000 requests | $runs |"
echo "| requests | $requests |"
echo "| runs with error replies | $errors |"
echo "| server RSS before / after the clients | $((start_rss / 1024)) MB / $((end_rss / 1024)) MB ($growth%, ${waited} s after they left) |"
echo "| used_memory (allocated) before / after the clients | $start_used / $(used_human) |"
redis-cli -p "$SPORT" DEBUG DIGEST >/dev/null
[ "$errors" -eq 0 ] || { echo "FAIL: error replies"; exit 1; }
[ "$growth" -le 25 ] || { echo "FAIL: memory did not return near its start"; exit 1; }
echo "PASS"
