//! The Lua library functions slotkv implements itself (string.format,
//! patterns, cjson, cmsgpack, struct, bit): arbitrary strings as their
//! arguments, through EVAL, under a step budget. Errors are fine; panics,
//! hangs and runaway memory are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotkv_core::Engine;

const SCRIPT: &str = r#"
local f, a, b, c = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local n = tonumber(c) or #c
if f == '0' then return string.format(a, b, n, c)
elseif f == '1' then return {string.find(b, a)}
elseif f == '2' then return {string.match(b, a)}
elseif f == '3' then return (string.gsub(b, a, c))
elseif f == '4' then local t = {} for x in string.gmatch(b, a) do t[#t + 1] = x; if #t > 50 then break end end return t
elseif f == '5' then return cjson.encode(cjson.decode(a))
elseif f == '6' then return cmsgpack.pack(cmsgpack.unpack(a))
elseif f == '7' then return {struct.unpack(a, b)}
elseif f == '8' then return struct.pack(a, n, c)
elseif f == '9' then return {string.rep(a, n % 100, b), bit.tohex(n, #a), string.byte(b, 1, -1)}
end
"#;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let mut parts = rest.splitn(3, |&b| b == 0);
    let (a, b, c) = (parts.next().unwrap_or(b""), parts.next().unwrap_or(b""), parts.next().unwrap_or(b""));
    let f = [b'0' + pick % 10];
    let mut e = Engine::new(1, 1_000_000);
    e.set_script_limits(slotkv_core::scripting::ScriptLimits { steps: 200_000, memory: 16 << 20 });
    let argv: [&[u8]; 7] = [b"EVAL", SCRIPT.as_bytes(), b"0", &f, a, b, c];
    let reply = e.execute_raw(&argv, 1_000_000);
    assert!(!reply.is_empty());
});
