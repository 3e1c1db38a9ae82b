#!/usr/bin/env bash
# Side-by-side benchmark of slotkv and redis-server on this machine, with
# redis-benchmark: throughput (alternating runs, median of ROUNDS), server CPU
# time per request (independent of the client's speed), and resident memory
# per key after loading keys. Prints a Markdown table of ratios slotkv/redis.
# This is a measurement, not a test: it never fails on the numbers.
#
# usage: bench/vs-redis.sh [ROUNDS]     (needs redis-server, redis-benchmark)
set -euo pipefail
set -f # workload command lines hold '*' (XADD ids)
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
TOOLS=$PWD/tools
# shellcheck source=bench/lib.sh
source bench/lib.sh

RPORT=$(free_port); SPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" >/dev/null 2>&1 &
RPID=$!; PIDS+=($RPID)
./target/release/slotkv --port "$SPORT" --bind 127.0.0.1 --log-level warn >/dev/null 2>&1 &
SPID=$!; PIDS+=($SPID)
wait_ping "$RPORT"; wait_ping "$SPORT"

rps() { # port, args...
  local port=$1; shift
  redis-benchmark -p "$port" -q "$@" 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1 |
    sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }

echo "| workload | redis ops/s | slotkv ops/s | ratio | redis µs CPU/op | slotkv µs CPU/op | CPU ratio (redis/slotkv) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for w in "SET -c 50 -P 1:set:1:set_p1" "GET -c 50 -P 1:get:1:get_p1" "SET -c 50 -P 16:set:16:set_p16" "GET -c 50 -P 16:get:16:get_p16"; do
  IFS=: read -r label test pipe cpuw <<<"$w"
  n=$((pipe == 1 ? 200000 : 2000000))
  r=(); s=()
  for _ in $(seq 1 "$ROUNDS"); do
    r+=("$(rps "$RPORT" -t "$test" -c 50 -P "$pipe" -n "$n" -r 100000)")
    s+=("$(rps "$SPORT" -t "$test" -c 50 -P "$pipe" -n "$n" -r 100000)")
  done
  rm_=$(printf '%s\n' "${r[@]}" | median); sm=$(printf '%s\n' "${s[@]}" | median)
  rc=$(bash "$TOOLS/cpu-per-op.sh" "$RPORT" "$RPID" "$cpuw" | awk '{print $3}')
  sc=$(bash "$TOOLS/cpu-per-op.sh" "$SPORT" "$SPID" "$cpuw" | awk '{print $3}')
  printf '| %s | %.0f | %.0f | %.2f | %s | %s | %.2f |\n' "$label" "$rm_" "$sm" "$(echo "$sm / $rm_" | bc -l)" "$rc" "$sc" "$(echo "$rc / $sc" | bc -l)"
done

# Data types: throughput only, unpipelined and pipelined.
echo
echo "| data type workload | redis ops/s | slotkv ops/s | ratio |"
echo "|---|---:|---:|---:|"
for w in "LPUSH:-t lpush" "LPOP:-t lpop" "SADD:-t sadd" "ZADD:-t zadd" \
         "ZRANGEBYSCORE (10 of 1000):ZRANGEBYSCORE zbench -inf +inf LIMIT 0 10" \
         "XADD (MAXLEN ~ 100000):XADD xbench MAXLEN ~ 100000 * field value"; do
  label=${w%%:*}; spec=${w#*:}
  for pipe in 1 16; do
    n=$((pipe == 1 ? 200000 : 1000000))
    r=(); s=()
    for _ in $(seq 1 "$ROUNDS"); do
      for port in "$RPORT" "$SPORT"; do
        if [[ $spec == -t* ]]; then
          v=$(rps "$port" $spec -c 50 -P "$pipe" -n "$n" -r 100000)
        else
          if [[ $spec == ZRANGEBYSCORE* ]] && [ "$(redis-cli -p "$port" zcard zbench)" != 1000 ]; then
            for i in $(seq 1 1000); do echo "ZADD zbench $i m$i"; done | redis-cli -p "$port" >/dev/null
          fi
          # shellcheck disable=SC2086
          v=$(rps "$port" -c 50 -P "$pipe" -n "$n" $spec)
        fi
        if [ "$port" = "$RPORT" ]; then r+=("$v"); else s+=("$v"); fi
      done
    done
    rm_=$(printf '%s\n' "${r[@]}" | median); sm=$(printf '%s\n' "${s[@]}" | median)
    printf '| %s -c 50 -P %s | %.0f | %.0f | %.2f |\n' "$label" "$pipe" "$rm_" "$sm" "$(echo "$sm / $rm_" | bc -l)"
  done
done

# Scripts: EVALSHA of a one-call script and of a 200-iteration loop.
echo
echo "| script workload | redis ops/s | slotkv ops/s | ratio |"
echo "|---|---:|---:|---:|"
INCR_SCRIPT="return redis.call('incr', KEYS[1])"
LOOP_SCRIPT="local x = 0 for i = 1, 200 do x = x + i end return x"
for w in "EVALSHA incr:$INCR_SCRIPT:1 sbench" "EVALSHA 200-step loop:$LOOP_SCRIPT:0"; do
  IFS=: read -r label body keys <<<"$w"
  for pipe in 1 16; do
    n=$((pipe == 1 ? 200000 : 1000000))
    r=(); s=()
    for _ in $(seq 1 "$ROUNDS"); do
      for port in "$RPORT" "$SPORT"; do
        sha=$(redis-cli -p "$port" script load "$body")
        # shellcheck disable=SC2086
        v=$(rps "$port" -c 50 -P "$pipe" -n "$n" evalsha "$sha" $keys)
        if [ "$port" = "$RPORT" ]; then r+=("$v"); else s+=("$v"); fi
      done
    done
    rm_=$(printf '%s\n' "${r[@]}" | median); sm=$(printf '%s\n' "${s[@]}" | median)
    printf '| %s -c 50 -P %s | %.0f | %.0f | %.2f |\n' "$label" "$pipe" "$rm_" "$sm" "$(echo "$sm / $rm_" | bc -l)"
  done
done

# Memory: load keys with 16-byte values, compare resident memory growth per key.
redis-cli -p "$RPORT" flushall >/dev/null; redis-cli -p "$SPORT" flushall >/dev/null
r0=$(rss_kb "$RPID"); s0=$(rss_kb "$SPID")
redis-benchmark -p "$RPORT" -t set -r 1000000 -n 2000000 -d 16 -P 16 -q >/dev/null 2>&1
redis-benchmark -p "$SPORT" -t set -r 1000000 -n 2000000 -d 16 -P 16 -q >/dev/null 2>&1
r1=$(rss_kb "$RPID"); s1=$(rss_kb "$SPID")
rk=$(redis-cli -p "$RPORT" dbsize); sk=$(redis-cli -p "$SPORT" dbsize)
rb=$(( (r1 - r0) * 1024 / rk )); sb=$(( (s1 - s0) * 1024 / sk ))
echo
echo "| memory after \`redis-benchmark -t set -r 1000000 -n 2000000 -d 16\` | redis | slotkv | ratio |"
echo "|---|---:|---:|---:|"
printf '| keys | %s | %s | |\n' "$rk" "$sk"
printf '| resident memory (MB) | %.1f | %.1f | %.2f |\n' "$(echo "$r1/1024" | bc -l)" "$(echo "$s1/1024" | bc -l)" "$(echo "$s1 / $r1" | bc -l)"
printf '| bytes per key (RSS growth / keys) | %s | %s | %.2f |\n' "$rb" "$sb" "$(echo "$sb / $rb" | bc -l)"
