//! RESP2 and RESP3: the request parser the server reads commands with, a decoder
//! for every reply type (used by clients, tests and the script bridge), and the
//! reply writer handlers encode into.
//!
//! # Layout
//! - [`request`]: incremental command parser (multibulk and inline), with Redis's limits
//! - [`frame`]: decoder for whole reply frames of every RESP2/RESP3 type
//! - [`write`]: [`ReplyBuf`], the encoder handlers write replies into

pub mod frame;
pub mod request;
pub mod write;

pub use frame::decode_reply;
pub use request::{Argv, ProtocolError, RequestLimits, RequestParser};
pub use write::ReplyBuf;

/// Finds the `\r\n` that ends the line starting at `from`; returns the index of `\r`.
#[inline]
pub(crate) fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        match buf[i..].iter().position(|&b| b == b'\r') {
            None => return None,
            Some(off) => {
                let r = i + off;
                if r + 1 >= buf.len() {
                    return None;
                }
                if buf[r + 1] == b'\n' {
                    return Some(r);
                }
                i = r + 1;
            }
        }
    }
    None
}
