-- A distributed lock: take KEYS[1] for token ARGV[1] for ARGV[2] milliseconds.
-- Returns 1 if taken, 0 if someone else holds it.
--   redis-cli --eval examples/lua/lock_acquire.lua lock:report , worker-1 30000
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then
    return 1
end
return 0
