-- Extends lock KEYS[1] to ARGV[2] more milliseconds if token ARGV[1] still
-- holds it. Returns 1 if extended, 0 otherwise.
--   redis-cli --eval examples/lua/lock_extend.lua lock:report , worker-1 60000
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
