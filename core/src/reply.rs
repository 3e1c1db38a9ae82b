//! [`Reply`]: a protocol-neutral tree of RESP3 values, for replies that are built
//! as data (script results, the playground, tests) rather than written straight
//! into a [`ReplyBuf`](crate::resp::ReplyBuf).

use crate::resp::ReplyBuf;

/// One reply value, with every RESP3 type.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+status`
    Simple(String),
    /// `-ERR message`
    Error(String),
    /// `:42`
    Int(i64),
    /// `$3\r\nabc`
    Bulk(Vec<u8>),
    /// The null bulk string (RESP2 `$-1`, RESP3 `_`).
    Null,
    /// The null array (RESP2 `*-1`, RESP3 `_`).
    NullArray,
    /// `*n`
    Array(Vec<Reply>),
    /// `%n` (RESP2: flat array of `2n`)
    Map(Vec<(Reply, Reply)>),
    /// `~n` (RESP2: array)
    Set(Vec<Reply>),
    /// `,1.5` (RESP2: bulk string)
    Double(f64),
    /// `#t` (RESP2: integer)
    Bool(bool),
    /// `(123...` (RESP2: bulk string)
    BigNumber(String),
    /// `=n\r\ntxt:...` (RESP2: bulk string)
    Verbatim {
        /// Three-letter format, such as `txt` or `mkd`.
        format: String,
        /// The text.
        text: Vec<u8>,
    },
    /// `>n` out-of-band push (RESP2: array)
    Push(Vec<Reply>),
}

impl Reply {
    /// Encodes the reply into `out`, in `out`'s protocol version.
    pub fn encode(&self, out: &mut ReplyBuf) {
        match self {
            Reply::Simple(s) => out.simple(s.as_bytes()),
            Reply::Error(e) => out.error(e),
            Reply::Int(n) => out.int(*n),
            Reply::Bulk(b) => out.bulk(b),
            Reply::Null => out.null(),
            Reply::NullArray => out.null_array(),
            Reply::Array(items) => {
                out.array(items.len());
                items.iter().for_each(|r| r.encode(out));
            }
            Reply::Map(pairs) => {
                out.map(pairs.len());
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
            Reply::Set(items) => {
                out.set(items.len());
                items.iter().for_each(|r| r.encode(out));
            }
            Reply::Double(d) => out.double(*d),
            Reply::Bool(b) => out.boolean(*b),
            Reply::BigNumber(s) => out.big_number(s),
            Reply::Verbatim { format, text } => out.verbatim(format, text),
            Reply::Push(items) => {
                out.push(items.len());
                items.iter().for_each(|r| r.encode(out));
            }
        }
    }

    /// Encodes into a new byte vector.
    pub fn to_bytes(&self, resp3: bool) -> Vec<u8> {
        let mut out = ReplyBuf::new(resp3);
        self.encode(&mut out);
        out.buf
    }

    /// Renders the reply as redis-cli prints it (`"v"`, `(integer) 1`, `(nil)`, numbered arrays).
    pub fn to_cli_text(&self) -> String {
        let mut s = String::new();
        cli_text(self, 0, &mut s);
        s
    }
}

fn quote(b: &[u8], out: &mut String) {
    out.push('"');
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
}

fn cli_text(r: &Reply, indent: usize, out: &mut String) {
    let items: Vec<&Reply>;
    match r {
        Reply::Simple(s) => out.push_str(s),
        Reply::Error(e) => {
            out.push_str("(error) ");
            out.push_str(e);
        }
        Reply::Int(n) => out.push_str(&format!("(integer) {n}")),
        Reply::Bulk(b) => quote(b, out),
        Reply::Verbatim { text, .. } => quote(text, out),
        Reply::Null | Reply::NullArray => out.push_str("(nil)"),
        Reply::Double(d) => out.push_str(&format!("(double) {}", crate::numeric::fmt_g17(*d))),
        Reply::Bool(b) => out.push_str(if *b { "(true)" } else { "(false)" }),
        Reply::BigNumber(s) => out.push_str(&format!("(big number) {s}")),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            items = v.iter().collect();
            list_text(&items, indent, out);
        }
        Reply::Map(pairs) => {
            if pairs.is_empty() {
                out.push_str("(empty hash)");
            }
            let w = pairs.len().to_string().len();
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                }
                let label = format!("{:>w$}# ", i + 1);
                out.push_str(&label);
                cli_text(k, indent + label.len(), out);
                out.push_str(" => ");
                cli_text(v, indent + label.len() + 4, out);
            }
        }
    }
}

fn list_text(items: &[&Reply], indent: usize, out: &mut String) {
    if items.is_empty() {
        out.push_str("(empty array)");
        return;
    }
    let w = items.len().to_string().len();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        let label = format!("{:>w$}) ", i + 1);
        out.push_str(&label);
        cli_text(item, indent + label.len(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_rendering() {
        let r = Reply::Array(vec![Reply::Bulk(b"a".to_vec()), Reply::Array(vec![Reply::Int(1), Reply::Null])]);
        assert_eq!(r.to_cli_text(), "1) \"a\"\n2) 1) (integer) 1\n   2) (nil)");
        assert_eq!(Reply::Array(vec![]).to_cli_text(), "(empty array)");
    }
}
