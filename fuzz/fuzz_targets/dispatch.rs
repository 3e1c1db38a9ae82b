//! The command dispatcher: random argument vectors against a live engine.
//! The input is split into commands at 0xFF and into arguments at 0x00; the
//! first byte of a command picks its name from the command table, so every
//! command is reached. Every reply must be whole RESP frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotkv_core::Engine;
use std::sync::OnceLock;

fn names() -> &'static Vec<Vec<Vec<u8>>> {
    static NAMES: OnceLock<Vec<Vec<Vec<u8>>>> = OnceLock::new();
    NAMES.get_or_init(|| {
        slotkv_core::commands::all()
            .filter(|c| c.name != "shutdown")
            .flat_map(|c| {
                let mut v = vec![vec![c.name.as_bytes().to_vec()]];
                v.extend(c.subcommands.iter().map(|s| vec![c.name.as_bytes().to_vec(), s.name.as_bytes().to_vec()]));
                v
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut e = Engine::new(1, 1_000_000);
    e.set_script_limits(slotkv_core::scripting::ScriptLimits { steps: 100_000, memory: 8 << 20 });
    for (i, command) in data.split(|&b| b == 0xFF).take(64).enumerate() {
        let Some((&pick, rest)) = command.split_first() else { continue };
        let mut argv = names()[pick as usize % names().len()].clone();
        if !rest.is_empty() {
            argv.extend(rest.split(|&b| b == 0).map(|a| a.to_vec()));
        }
        let now = 1_000_000 + i as u64 * 50;
        let reply = e.execute_raw(&argv, now);
        let mut at = 0;
        while at < reply.len() {
            let (_, used) = slotkv_core::resp::decode_reply(&reply[at..])
                .expect("a well-formed reply")
                .expect("a whole reply");
            at += used;
        }
        e.active_expire(now);
    }
});
