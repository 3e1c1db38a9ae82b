-- A fixed-window rate limiter: at most ARGV[1] calls per ARGV[2] milliseconds
-- for the caller named by KEYS[1]. Returns {allowed (1/0), calls so far, ms
-- until the window resets}.
--   redis-cli --eval examples/lua/rate_limit.lua rate:alice , 10 60000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local calls = redis.call("INCR", KEYS[1])
if calls == 1 then
    redis.call("PEXPIRE", KEYS[1], window)
end
local ttl = redis.call("PTTL", KEYS[1])
if calls > limit then
    return {0, calls, ttl}
end
return {1, calls, ttl}
