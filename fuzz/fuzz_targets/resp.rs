//! The RESP request parser and reply decoder on arbitrary bytes: they either
//! parse or refuse, never panic, and never claim more bytes than they were given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotkv_core::resp::request::RequestLimits;
use slotkv_core::{Argv, RequestParser};

fuzz_target!(|data: &[u8]| {
    let limits = RequestLimits { max_bulk_len: 1 << 16, max_multibulk_len: 1 << 10, max_inline_len: 1 << 12 };
    let mut parser = RequestParser::new(limits);
    let mut argv = Argv::new();
    let mut at = 0;
    while at < data.len() {
        match parser.parse(&data[at..], &mut argv) {
            Ok(Some(used)) => {
                assert!(used > 0 && used <= data.len() - at);
                let args = argv.bind(&data[at..]);
                for a in args.iter() {
                    assert!(a.len() <= data.len());
                }
                at += used;
            }
            Ok(None) | Err(_) => break,
        }
    }
    let mut at = 0;
    while at < data.len() {
        match slotkv_core::resp::decode_reply(&data[at..]) {
            Ok(Some((_, used))) => {
                assert!(used > 0 && used <= data.len() - at);
                at += used;
            }
            _ => break,
        }
    }
});
