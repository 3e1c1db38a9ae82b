#!/usr/bin/env bash
# Starts three slotkv nodes on loopback (ports 7000-7002, bus ports
# 17000-17002), each in its own directory under a temporary one, and joins
# them into one cluster with redis-cli, as for Redis Cluster. Ctrl-C stops
# them. Replicas (--cluster-replicas 1) are not supported yet.
#
# usage: examples/cluster/start.sh        (needs redis-cli; builds slotkv)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --bin slotkv
DIR=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait; rm -rf "$DIR"' EXIT
for port in 7000 7001 7002; do
  mkdir -p "$DIR/$port"
  ./target/release/slotkv --port "$port" --cluster-enabled yes --dir "$DIR/$port" \
    --appendonly yes --http-port -1 >"$DIR/$port/log" 2>&1 &
  PIDS+=($!)
done
for port in 7000 7001 7002; do
  until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
done
redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 --cluster-yes
echo
echo "cluster up: redis-cli -c -p 7000, or redis-cli --cluster check 127.0.0.1:7000 (logs in $DIR)"
wait
