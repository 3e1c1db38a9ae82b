//! The loaders: arbitrary bytes as an append-only file replayed into an
//! engine (as loading does, keys not expiring), and as a DUMP/snapshot value
//! payload (RESTORE, and FUNCTION RESTORE's payload). Either loads or refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotkv_core::{Argv, Engine, RequestParser};

fuzz_target!(|data: &[u8]| {
    let _ = slotkv_core::rdb::restore(data);
    let _ = slotkv_core::rdb::restore_functions(data);
    let mut e = Engine::new(1, 1_000_000);
    e.set_script_limits(slotkv_core::scripting::ScriptLimits { steps: 100_000, memory: 8 << 20 });
    e.set_loading(true);
    let mut parser = RequestParser::new(Default::default());
    let mut argv = Argv::new();
    let mut at = 0;
    for _ in 0..64 {
        match parser.parse(&data[at..], &mut argv) {
            Ok(Some(used)) => {
                let args: Vec<Vec<u8>> = argv.bind(&data[at..]).iter().map(|a| a.to_vec()).collect();
                if !args.is_empty() && !args[0].eq_ignore_ascii_case(b"shutdown") {
                    e.execute_raw(&args, 1_000_000);
                }
                at += used;
            }
            _ => break,
        }
    }
    e.set_loading(false);
    e.execute_raw(&["DEBUG", "DIGEST"], 1_000_000);
});
