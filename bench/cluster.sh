#!/usr/bin/env bash
# redis-benchmark --cluster against three slotkv nodes joined by
# redis-cli --cluster create, next to redis-benchmark against one slotkv node,
# on the same machine (all on loopback, so the nodes share its cores).
# A benchmark, not a timed test: the README's test command does not run it.
#
# usage: bench/cluster.sh [REQUESTS]   (needs redis-benchmark, redis-cli)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
# shellcheck source=bench/lib.sh
source bench/lib.sh

start_node() { # dir port [args...]
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir"
  ./target/release/slotkv --port "$port" --bind 127.0.0.1 --http-port -1 --log-level warn --dir "$dir" "$@" \
    >"$dir/log" 2>&1 &
  PIDS+=($!)
  wait_ping "$port"
}

ports=()
for i in 1 2 3; do
  p=$(free_port)
  start_node "$TMP/node$i" "$p" --cluster-enabled yes --cluster-port "$(free_port)"
  ports+=("$p")
done
redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-yes >/dev/null
for p in "${ports[@]}"; do
  until redis-cli -p "$p" CLUSTER INFO | grep -q cluster_state:ok; do sleep 0.1; done
done
SPORT=$(free_port)
start_node "$TMP/single" "$SPORT"

rps() { awk -F, -v t="$1" 'gsub(/"/, "") && $1 == t {print int($2)}'; }
echo "| workload | one node ops/s | cluster of 3 ops/s | ratio |"
echo "|---|---:|---:|---:|"
for P in 1 16; do
  single=$(redis-benchmark -p "$SPORT" -c 50 -P "$P" -n "$N" -r 100000 -t set,get --csv 2>/dev/null)
  cluster=$(redis-benchmark --cluster -p "${ports[0]}" -c 50 -P "$P" -n "$N" -r 100000 -t set,get --csv 2>/dev/null)
  for t in SET GET; do
    a=$(rps "$t" <<<"$single"); b=$(rps "$t" <<<"$cluster")
    echo "| $t -c 50 -P $P | $a | $b | $(python3 -c "print(f'{$b / $a:.2f}')") |"
  done
done
