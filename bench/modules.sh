#!/usr/bin/env bash
# FCALL on a WebAssembly module against the same function in Lua, and against
# Redis's EVALSHA of the same Lua: requests per second with redis-benchmark
# (-c 50, pipelines of 1 and 16) and the server's CPU time per call, which
# does not depend on the client. The function increments a key
# (examples/wasm-modules counter's wasm_counter_add, examples/lua
# counters_lib.lua's counter_add). Prints a Markdown table. A measurement,
# not a test.
#
# usage: bench/modules.sh [REQUESTS]   (needs redis-server, redis-benchmark; builds the modules)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
# shellcheck source=bench/lib.sh
source bench/lib.sh
./examples/wasm-modules/build.sh >/dev/null 2>&1

RPORT=$(free_port); SPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" >/dev/null 2>&1 &
RPID=$!; PIDS+=($RPID)
./target/release/slotkv --port "$SPORT" --bind 127.0.0.1 --http-port 0 --log-level warn >/dev/null 2>&1 &
SPID=$!; PIDS+=($SPID)
wait_ping "$RPORT"; wait_ping "$SPORT"

redis-cli -p "$SPORT" -x FUNCTION LOAD <examples/wasm-modules/dist/counter.wasm >/dev/null
redis-cli -p "$SPORT" -x FUNCTION LOAD <examples/lua/counters_lib.lua >/dev/null
LUA='return redis.call("INCRBY", KEYS[1], ARGV[1])'
RSHA=$(redis-cli -p "$RPORT" SCRIPT LOAD "$LUA")
SSHA=$(redis-cli -p "$SPORT" SCRIPT LOAD "$LUA")

tck=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
# run PORT PID PIPELINE COMMAND... -> "<requests/s> <us of server CPU per call>"
run() {
  local port=$1 pid=$2 p=$3; shift 3
  local c0 c1 ops
  c0=$(cpu "$pid")
  ops=$(redis-benchmark -p "$port" -c 50 -n "$N" -P "$p" -q "$@" 2>/dev/null | tr '\r' '\n' \
    | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
  c1=$(cpu "$pid")
  awk -v o="${ops:-0}" -v d=$((c1 - c0)) -v t="$tck" -v n="$N" 'BEGIN{printf "%.0f %.2f", o, d * 1e6 / t / n}'
}

echo "| workload | pipeline | requests/s | server CPU µs/call | vs Redis EVALSHA (req/s, CPU) |"
echo "|---|---|---|---|---|"
for p in 1 16; do
  read -r rops rcpu <<<"$(run "$RPORT" "$RPID" "$p" EVALSHA "$RSHA" 1 bench:r 1)"
  echo "| redis-server EVALSHA (Lua) | $p | $rops | $rcpu | 1.00, 1.00 |"
  for row in "slotkv EVALSHA (Lua)|EVALSHA $SSHA 1 bench:e 1" \
             "slotkv FCALL Lua function|FCALL counter_add 1 bench:l 1" \
             "slotkv FCALL wasm module|FCALL wasm_counter_add 1 bench:w 1"; do
    label=${row%%|*}; read -r -a cmd <<<"${row#*|}"
    read -r ops cpuus <<<"$(run "$SPORT" "$SPID" "$p" "${cmd[@]}")"
    ratio=$(awk -v a="$ops" -v b="$rops" -v c="$cpuus" -v d="$rcpu" 'BEGIN{printf "%.2f, %.2f", a / b, c / d}')
    echo "| $label | $p | $ops | $cpuus | $ratio |"
  done
done
[ "$(redis-cli -p "$SPORT" GET bench:w)" = "$(redis-cli -p "$SPORT" GET bench:l)" ] || echo "note: the wasm and Lua counters differ" >&2
