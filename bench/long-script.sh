#!/usr/bin/env bash
# Latency of other clients while one client runs a long Lua script, slotkv and
# redis-server side by side. The script writes key {a}x (slot 15495) and then
# loops for about SECONDS seconds; meanwhile a probe client sends SET and GET
# on keys {b}:<n> (slot 3300) one after another and times each. In Redis the
# script holds the only thread, so the probe waits for it; in slotkv it holds
# only the shard of {a}x. Prints a Markdown table. A measurement, not a test.
#
# usage: bench/long-script.sh [SECONDS]   (needs redis-server, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_WANTED=${1:-3}
# shellcheck source=bench/lib.sh
source bench/lib.sh

RPORT=$(free_port); SPORT=$(free_port)
# Redis answers BUSY to others after busy-reply-threshold; keep it above the run.
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" \
  --busy-reply-threshold 60000 >/dev/null 2>&1 &
PIDS+=($!)
./target/release/slotkv --port "$SPORT" --bind 127.0.0.1 --log-level warn --lua-step-budget 100000000000 >/dev/null 2>&1 &
PIDS+=($!)
wait_ping "$RPORT"; wait_ping "$SPORT"

# One Python process per server: a probe connection opened beforehand, the
# script started on a second connection, then SET and GET on {b} keys one after
# another, each timed, until the script returns.
probe() { # port, seconds wanted -> the rest of a table row
  python3 - "$1" "$2" <<'EOF'
import socket, sys, threading, time
port, wanted = int(sys.argv[1]), float(sys.argv[2])
BODY = b"redis.call('set', KEYS[1], 'busy') local i = 0 while i < tonumber(ARGV[1]) do i = i + 1 end return i"

def conn():
    return socket.create_connection(("127.0.0.1", port))

def call(s, *args):
    args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    data = s.recv(65536)
    # Replies here are short: +OK, :n, $-1 or one small bulk.
    while data.startswith(b"$") and not data.startswith(b"$-1") and data.count(b"\r\n") < 2:
        data += s.recv(65536)
    assert data and not data.startswith(b"-"), data
    return data

def run_script(n):
    s = conn()
    t = time.monotonic()
    call(s, b"EVAL", BODY, 1, b"{a}x", n)
    return time.monotonic() - t

n = 1_000_000
n = int(n * wanted / max(run_script(n), 0.01))
probe = conn()
call(probe, b"PING")
took = []
runner = threading.Thread(target=lambda: took.append(run_script(n)))
runner.start()
time.sleep(0.2)  # let the script start (a benchmark may wait on the clock; the tests never do)
lat = []
i = 0
while runner.is_alive():
    i += 1
    t = time.monotonic()
    if i % 2:
        call(probe, b"SET", b"{b}:%d" % i, b"v")
    else:
        call(probe, b"GET", b"{b}:%d" % (i - 1))
    lat.append((time.monotonic() - t) * 1000)
runner.join()
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print("| %.2f | %d | %.3f | %.3f | %.1f |" % (took[0], len(lat), pct(0.5), pct(0.99), lat[-1]))
EOF
}

echo "| server | script run (s) | SET/GET answered meanwhile | p50 ms | p99 ms | max ms |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| redis $(probe "$RPORT" "$SECONDS_WANTED")"
echo "| slotkv $(probe "$SPORT" "$SECONDS_WANTED")"
