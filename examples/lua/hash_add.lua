-- Adds ARGV[1] to field KEYS[2] of hash KEYS[1], creating it when absent,
-- and says what it did.
--   redis-cli --eval examples/lua/hash_add.lua counters visits , 5
local key, field, value = KEYS[1], KEYS[2], ARGV[1]
local old = redis.call("HGET", key, field)
if old then
    local new = tonumber(old) + tonumber(value)
    redis.call("HSET", key, field, new)
    return "Updated value: " .. new
end
redis.call("HSET", key, field, value)
return "Added value: " .. value
