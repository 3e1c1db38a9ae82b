//! [`ReplyBuf`]: the encoder command handlers write their replies into, in the
//! client's protocol version. RESP3-only types are written in their RESP2 form
//! when the client speaks RESP2, as Redis does (a map becomes a flat array, a
//! double a bulk string, a boolean an integer).
// Hot path: every reply goes through here.

use crate::numeric::fmt_g17;

/// An output buffer of encoded replies for one client.
#[derive(Debug, Default, Clone)]
pub struct ReplyBuf {
    /// The encoded bytes, ready to be written to the client.
    pub buf: Vec<u8>,
    /// True when the client speaks RESP3 (`HELLO 3`).
    pub resp3: bool,
}

impl ReplyBuf {
    /// An empty buffer for a RESP2 (`resp3 == false`) or RESP3 client.
    pub fn new(resp3: bool) -> Self {
        ReplyBuf { buf: Vec::new(), resp3 }
    }

    /// Encoded length so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    fn header(&mut self, tag: u8, n: i64) {
        self.buf.push(tag);
        self.buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`.
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string. It must not contain `\r` or `\n`.
    #[inline]
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply; `msg` starts with its code (`ERR ...`, `WRONGTYPE ...`).
    /// Newlines in the message are replaced by spaces, as Redis does.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        self.buf.extend(msg.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer.
    #[inline]
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.buf.extend_from_slice(b":0\r\n"),
            1 => self.buf.extend_from_slice(b":1\r\n"),
            _ => self.header(b':', n),
        }
    }

    /// A bulk string.
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (Redis does this for INCRBYFLOAT-like replies).
    pub fn bulk_int(&mut self, n: i64) {
        self.bulk(itoa::Buffer::new().format(n).as_bytes());
    }

    /// The null reply (`$-1` in RESP2, `_` in RESP3).
    #[inline]
    pub fn null(&mut self) {
        self.buf.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        self.buf.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    /// The header of an array of `n` replies; write them next.
    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// The header of a map of `n` pairs (RESP2: an array of `2n`); write the keys
    /// and values next, alternating.
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64)
        } else {
            self.header(b'*', 2 * n as i64)
        }
    }

    /// The header of a set of `n` replies (RESP2: an array).
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n as i64)
    }

    /// The header of a push message of `n` replies (RESP2: an array).
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n as i64)
    }

    /// A double, formatted as Redis's `%.17g` (RESP2: a bulk string).
    pub fn double(&mut self, d: f64) {
        let s = fmt_g17(d);
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// A boolean (RESP2: the integer 1 or 0).
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A big number given as its decimal digits (RESP2: a bulk string).
    pub fn big_number(&mut self, digits: &str) {
        if self.resp3 {
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(digits.as_bytes());
        }
    }

    /// A verbatim string with a three-letter format such as `txt` (RESP2: a bulk string).
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if self.resp3 {
            self.header(b'=', (text.len() + 4) as i64);
            self.buf.extend_from_slice(format.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Appends raw, already encoded bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_forms() {
        let mut r = ReplyBuf::new(false);
        r.ok();
        r.int(-5);
        r.bulk(b"hi");
        r.null();
        r.map(1);
        r.double(1.5);
        r.boolean(true);
        r.error("ERR a\r\nb");
        assert_eq!(r.buf, b"+OK\r\n:-5\r\n$2\r\nhi\r\n$-1\r\n*2\r\n$3\r\n1.5\r\n:1\r\n-ERR a  b\r\n");
    }

    #[test]
    fn resp3_forms() {
        let mut r = ReplyBuf::new(true);
        r.null();
        r.map(1);
        r.set(0);
        r.double(f64::INFINITY);
        r.boolean(false);
        r.verbatim("txt", b"x");
        r.big_number("123");
        r.push(2);
        assert_eq!(r.buf, b"_\r\n%1\r\n~0\r\n,inf\r\n#f\r\n=5\r\ntxt:x\r\n(123\r\n>2\r\n");
    }
}
