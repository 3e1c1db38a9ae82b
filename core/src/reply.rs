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

    /// The reply as redis-cli prints it on a terminal: `"v"` with C escapes,
    /// `(integer) 1`, `(nil)`, numbered and indented nested arrays, RESP3 maps
    /// as `1# key => value` and sets as `1~ member`.
    pub fn to_cli_text(&self) -> String {
        cli_text(self, false)
    }

    /// The same, with strings unquoted, as redis-cli prints the text answers
    /// of INFO, CLIENT LIST and the like.
    pub fn to_cli_raw(&self) -> String {
        cli_text(self, true)
    }
}

fn cli_text(reply: &Reply, raw: bool) -> String {
    let mut out = String::new();
    cli_write(&mut out, reply, "", raw);
    out.pop();
    out
}

/// Writes `reply` and a newline; `prefix` indents the lines after the first.
fn cli_write(out: &mut String, reply: &Reply, prefix: &str, raw: bool) {
    match reply {
        Reply::Simple(s) => out.push_str(s),
        Reply::Error(e) => {
            out.push_str("(error) ");
            out.push_str(e);
        }
        Reply::Int(n) => out.push_str(&format!("(integer) {n}")),
        Reply::Double(d) => out.push_str(&format!("(double) {}", crate::numeric::fmt_g17(*d))),
        Reply::Bool(b) => out.push_str(if *b { "(true)" } else { "(false)" }),
        Reply::BigNumber(n) => out.push_str(&format!("(big number) {n}")),
        Reply::Null | Reply::NullArray => out.push_str("(nil)"),
        Reply::Bulk(b) if raw => out.push_str(&String::from_utf8_lossy(b)),
        Reply::Bulk(b) => cli_quote(out, b),
        Reply::Verbatim { text, .. } => out.push_str(&String::from_utf8_lossy(text)),
        Reply::Array(items) | Reply::Push(items) => cli_list(out, items, ')', "(empty array)", prefix, raw),
        Reply::Set(items) => cli_list(out, items, '~', "(empty set)", prefix, raw),
        Reply::Map(pairs) => cli_map(out, pairs, prefix, raw),
    }
    out.push('\n');
}

/// Numbered elements: the first on the current line (its parent already wrote
/// the number before it), the next ones on lines indented by `prefix`.
fn cli_list(out: &mut String, items: &[Reply], mark: char, empty: &str, prefix: &str, raw: bool) {
    if items.is_empty() {
        out.push_str(empty);
        return;
    }
    let width = items.len().to_string().len();
    let inner = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(prefix);
        }
        out.push_str(&format!("{:>width$}{mark} ", i + 1));
        cli_write(out, item, &inner, raw);
    }
    out.pop();
}

/// `1# key => value`; a value of several elements starts on its own line.
fn cli_map(out: &mut String, pairs: &[(Reply, Reply)], prefix: &str, raw: bool) {
    if pairs.is_empty() {
        out.push_str("(empty hash)");
        return;
    }
    let width = pairs.len().to_string().len();
    let inner = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(prefix);
        }
        out.push_str(&format!("{:>width$}# ", i + 1));
        cli_write(out, k, &inner, raw);
        out.pop();
        out.push_str(" => ");
        let several = match v {
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => v.len() > 1,
            Reply::Map(v) => v.len() > 1,
            _ => false,
        };
        if several {
            out.push('\n');
            out.push_str(&inner);
        }
        cli_write(out, v, &inner, raw);
    }
    out.pop();
}

/// A string in double quotes with C escapes, as redis-cli's `sdscatrepr`.
fn cli_quote(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(r: &Reply, raw: bool) -> String {
        if raw {
            r.to_cli_raw()
        } else {
            r.to_cli_text()
        }
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    // Expected texts were printed by redis-cli 7.0 (`--no-raw`) for the same replies.
    #[test]
    fn scalars() {
        assert_eq!(cli(&Reply::Simple("OK".into()), false), "OK");
        assert_eq!(cli(&Reply::Error("ERR bad".into()), false), "(error) ERR bad");
        assert_eq!(cli(&Reply::Int(-3), false), "(integer) -3");
        assert_eq!(cli(&Reply::Null, false), "(nil)");
        assert_eq!(cli(&Reply::Double(1.5), false), "(double) 1.5");
        assert_eq!(cli(&Reply::Double(f64::INFINITY), false), "(double) inf");
        assert_eq!(cli(&Reply::Bool(false), false), "(false)");
        assert_eq!(cli(&Reply::Bulk(b"a\x01\xff\"\\".to_vec()), false), r#""a\x01\xff\"\\""#);
        assert_eq!(cli(&bulk("a\nb"), true), "a\nb");
    }

    #[test]
    fn nested_arrays_are_numbered_and_indented() {
        let r = Reply::Array(vec![
            Reply::Int(1),
            Reply::Array(vec![Reply::Int(2), Reply::Array(vec![Reply::Int(3), bulk("x")])]),
            bulk("a\nb"),
            Reply::Array(vec![]),
        ]);
        assert_eq!(
            cli(&r, false),
            "1) (integer) 1\n2) 1) (integer) 2\n   2) 1) (integer) 3\n      2) \"x\"\n3) \"a\\nb\"\n4) (empty array)"
        );
        let mut eleven: Vec<Reply> = (1..=11).map(Reply::Int).collect();
        eleven[2] = Reply::Array(vec![bulk("a"), bulk("b")]);
        let text = cli(&Reply::Array(eleven), false);
        assert!(
            text.starts_with(" 1) (integer) 1\n 2) (integer) 2\n 3) 1) \"a\"\n    2) \"b\"\n 4) (integer) 4\n"),
            "{text}"
        );
        assert!(text.ends_with("\n10) (integer) 10\n11) (integer) 11"), "{text}");
    }

    #[test]
    fn resp3_maps_and_sets() {
        let inner =
            Reply::Map(vec![(bulk("c"), Reply::Int(2)), (bulk("d"), Reply::Array(vec![Reply::Int(1), Reply::Int(2)]))]);
        let r = Reply::Map(vec![(bulk("a"), Reply::Int(1)), (bulk("b"), inner)]);
        assert_eq!(
            cli(&r, false),
            "1# \"a\" => (integer) 1\n2# \"b\" => \n   1# \"c\" => (integer) 2\n   2# \"d\" => \n      1) (integer) 1\n      2) (integer) 2"
        );
        let one = Reply::Map(vec![(bulk("b"), Reply::Map(vec![(bulk("c"), Reply::Int(2))]))]);
        assert_eq!(cli(&one, false), "1# \"b\" => 1# \"c\" => (integer) 2");
        let r = Reply::Array(vec![Reply::Set(vec![bulk("y"), bulk("x")]), Reply::Map(vec![]), Reply::Set(vec![])]);
        assert_eq!(cli(&r, false), "1) 1~ \"y\"\n   2~ \"x\"\n2) (empty hash)\n3) (empty set)");
    }
}
