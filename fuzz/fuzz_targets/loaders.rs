//! The loaders: arbitrary bytes as an append-only file replayed into an
//! engine (as loading does, keys not expiring), and as a DUMP/snapshot value
//! payload (RESTORE, and FUNCTION RESTORE's payload), and as a snapshot file.
//! The input is also wrapped with a valid checksum, so the parsers behind the
//! checksum see it. Either loads or refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotkv_core::{Argv, Engine, RequestParser};

const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

fuzz_target!(|data: &[u8]| {
    let _ = slotkv_core::rdb::restore(data);
    let _ = slotkv_core::rdb::restore_functions(data);
    // A DUMP payload: the bytes, RDB version 10, their checksum.
    let mut payload = data.to_vec();
    payload.extend_from_slice(&10u16.to_le_bytes());
    let crc = CRC.checksum(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let _ = slotkv_core::rdb::restore(&payload);
    let _ = slotkv_core::rdb::restore_functions(&payload);
    // A snapshot file: signature, the bytes, end marker, checksum.
    let mut file = b"REDIS0010".to_vec();
    file.extend_from_slice(data);
    file.push(0xFF);
    let crc = CRC.checksum(&file);
    file.extend_from_slice(&crc.to_le_bytes());
    let _ = slotkv_core::snapshot::read_snapshot(&file, |_| {});
    let _ = slotkv_core::snapshot::read_snapshot(data, |_| {});
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
