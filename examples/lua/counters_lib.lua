#!lua name=counters
-- A function library: load it once, call its functions by name.
--   redis-cli -x FUNCTION LOAD REPLACE < examples/lua/counters_lib.lua
--   redis-cli FCALL counter_add 1 visits 5
--   redis-cli FCALL_RO counter_get 1 visits

-- Adds args[1] (default 1) to counter keys[1]; returns the new value.
local function add(keys, args)
    return redis.call("INCRBY", keys[1], args[1] or 1)
end

-- Reads counter keys[1] (0 when absent).
local function get(keys)
    return tonumber(redis.call("GET", keys[1]) or "0")
end

redis.register_function("counter_add", add)
redis.register_function{
    function_name = "counter_get",
    callback = get,
    flags = {"no-writes"},
    description = "Reads a counter",
}
