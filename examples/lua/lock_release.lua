-- Releases lock KEYS[1] only if token ARGV[1] still holds it (compare and
-- delete, atomically). Returns 1 if released, 0 otherwise.
--   redis-cli --eval examples/lua/lock_release.lua lock:report , worker-1
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
