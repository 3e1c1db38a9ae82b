//! Replies as JSON: the RESP a command wrote, read back into the JSON values
//! the Upstash REST convention gives, and JSON requests into arguments.
//!
//! | RESP                           | JSON                                        |
//! |--------------------------------|---------------------------------------------|
//! | simple, bulk, verbatim string  | string (base64 under `Upstash-Encoding`)    |
//! | integer                        | number                                      |
//! | null, null bulk, null array    | `null`                                      |
//! | array, set, push               | array                                       |
//! | map                            | object; keys as their string text           |
//! | double                         | number; `inf`, `-inf`, `nan` as strings     |
//! | big number                     | string of its digits                        |
//! | boolean                        | `true` / `false`                            |
//! | error inside an array          | `{"error": "..."}`                          |
//!
//! Strings that are not UTF-8 cannot be JSON strings: without base64 they are
//! converted lossily and the response says so (`Slotkv-Lossy: 1`).

use base64::Engine as _;
use serde_json::Value;

/// One command's outcome.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Its reply, as JSON text.
    Value(Vec<u8>),
    /// Its error reply, as Redis words it.
    Error(String),
}

/// How strings are written.
#[derive(Clone, Copy, Default)]
pub struct Encoding {
    /// Strings as base64 (`Upstash-Encoding: base64`).
    pub base64: bool,
}

/// Reads replies out of RESP bytes and writes them as JSON text, without an
/// intermediate tree (this runs for every HTTP request).
pub struct ReplyReader<'a> {
    buf: &'a [u8],
    pos: usize,
    enc: Encoding,
    /// A string was not UTF-8 and was converted lossily.
    pub lossy: bool,
}

impl<'a> ReplyReader<'a> {
    /// A reader over the replies in `buf`.
    pub fn new(buf: &'a [u8], enc: Encoding) -> Self {
        ReplyReader { buf, pos: 0, enc, lossy: false }
    }

    /// True once every reply was read.
    #[cfg(test)]
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The next top-level reply, or `None` at the end (or on bytes that are
    /// not RESP, which the server never writes).
    pub fn next_outcome(&mut self) -> Option<Outcome> {
        match *self.buf.get(self.pos)? {
            b'-' => {
                self.pos += 1;
                Some(Outcome::Error(String::from_utf8_lossy(self.line()?).into_owned()))
            }
            b'!' => {
                self.pos += 1;
                Some(Outcome::Error(String::from_utf8_lossy(self.bulk()??).into_owned()))
            }
            _ => {
                let mut out = Vec::with_capacity(64);
                self.value(&mut out)?;
                Some(Outcome::Value(out))
            }
        }
    }

    /// The elements of the next reply if it is an array, each as an outcome
    /// (EXEC's replies); `Err` with the reply otherwise (an error, or `null`
    /// for an aborted transaction).
    pub fn next_array(&mut self) -> Option<Result<Vec<Outcome>, Outcome>> {
        if self.buf.get(self.pos) != Some(&b'*') {
            return self.next_outcome().map(Err);
        }
        self.pos += 1;
        let n = self.number()?;
        if n < 0 {
            return Some(Err(Outcome::Value(b"null".to_vec())));
        }
        (0..n).map(|_| self.next_outcome()).collect::<Option<Vec<_>>>().map(Ok)
    }

    fn line(&mut self) -> Option<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        self.pos += end + 2;
        Some(&rest[..end])
    }

    fn number(&mut self) -> Option<i64> {
        std::str::from_utf8(self.line()?).ok()?.parse().ok()
    }

    fn bulk(&mut self) -> Option<Option<&'a [u8]>> {
        let n = self.number()?;
        if n < 0 {
            return Some(None);
        }
        let start = self.pos;
        let end = start.checked_add(usize::try_from(n).ok()?)?;
        if end.checked_add(2)? > self.buf.len() {
            return None;
        }
        self.pos = end + 2;
        Some(Some(&self.buf[start..end]))
    }

    /// A string: base64, or its text (lossy if it is not UTF-8).
    fn text(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        if self.enc.base64 {
            out.push(b'"');
            let at = out.len();
            let n = base64::encoded_len(bytes.len(), true).unwrap_or(0);
            out.resize(at + n, 0);
            let written = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut out[at..]).unwrap_or(0);
            out.truncate(at + written);
            out.push(b'"');
            return;
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => string(s, out),
            Err(_) => {
                self.lossy = true;
                string(&String::from_utf8_lossy(bytes), out);
            }
        }
    }

    fn items(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let n = self.number()?;
        if n < 0 {
            out.extend_from_slice(b"null");
            return Some(());
        }
        out.push(b'[');
        for i in 0..n {
            if i > 0 {
                out.push(b',');
            }
            self.value(out)?;
        }
        out.push(b']');
        Some(())
    }

    /// Writes the next reply as JSON.
    fn value(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let kind = *self.buf.get(self.pos)?;
        self.pos += 1;
        match kind {
            b'+' => {
                let l = self.line()?;
                self.text(l, out);
            }
            b'-' => {
                let l = self.line()?;
                error_object(&String::from_utf8_lossy(l), out);
            }
            b':' => {
                let n = self.number()?;
                out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            }
            b'$' => match self.bulk()? {
                Some(b) => self.text(b, out),
                None => out.extend_from_slice(b"null"),
            },
            b'!' => match self.bulk()? {
                Some(b) => error_object(&String::from_utf8_lossy(b), out),
                None => out.extend_from_slice(b"null"),
            },
            // Verbatim: a three-letter format and ':' before the text.
            b'=' => match self.bulk()? {
                Some(b) => self.text(b.get(4..).unwrap_or_default(), out),
                None => out.extend_from_slice(b"null"),
            },
            b'*' | b'~' | b'>' => self.items(out)?,
            b'%' => {
                let n = self.number()?;
                out.push(b'{');
                let mut key = Vec::new();
                for i in 0..n.max(0) {
                    if i > 0 {
                        out.push(b',');
                    }
                    key.clear();
                    self.value(&mut key)?;
                    // Object keys are strings: a string key as it is, any
                    // other as its JSON text.
                    if key.first() == Some(&b'"') {
                        out.extend_from_slice(&key);
                    } else {
                        string(&String::from_utf8_lossy(&key), out);
                    }
                    out.push(b':');
                    self.value(out)?;
                }
                out.push(b'}');
            }
            // Attributes annotate the reply after them, which is what counts.
            b'|' => {
                let n = self.number()?;
                let mut skipped = Vec::new();
                for _ in 0..n.max(0) * 2 {
                    self.value(&mut skipped)?;
                }
                self.value(out)?;
            }
            b'_' => {
                self.line()?;
                out.extend_from_slice(b"null");
            }
            b'#' => out.extend_from_slice(if self.line()? == b"t" { b"true" } else { b"false" }),
            b',' => {
                let l = std::str::from_utf8(self.line()?).ok()?;
                match l.parse::<f64>() {
                    Ok(f) if f.is_finite() => serde_json::to_writer(&mut *out, &f).ok()?,
                    _ => string(l, out),
                }
            }
            b'(' => {
                let l = std::str::from_utf8(self.line()?).ok()?;
                string(l, out);
            }
            _ => return None,
        }
        Some(())
    }
}

/// Writes `s` as a JSON string.
fn string(s: &str, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn error_object(e: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"error\":");
    string(e, out);
    out.push(b'}');
}

/// Why a JSON request could not become a command.
pub type BadRequest = String;

/// A JSON array of strings and numbers as command arguments.
pub fn command_args(v: &Value) -> Result<Vec<Vec<u8>>, BadRequest> {
    let Value::Array(items) = v else {
        return Err(format!(
            "ERR a command must be a JSON array of strings and numbers, such as [\"SET\",\"k\",\"v\"], not {}",
            kind_of(v)
        ));
    };
    if items.is_empty() {
        return Err("ERR empty command: the array has no command name".into());
    }
    items.iter().enumerate().map(|(i, item)| argument(item).map_err(|k| arg_error(i, k))).collect()
}

/// Strings and numbers in a JSON array (`keys`, `args` of the script endpoints).
pub fn string_list(v: Option<&Value>, field: &str) -> Result<Vec<Vec<u8>>, BadRequest> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                argument(item).map_err(|k| format!("ERR {field}[{i}] is {k}; it must be a string or a number"))
            })
            .collect(),
        Some(other) => Err(format!("ERR {field} must be an array of strings and numbers, not {}", kind_of(other))),
    }
}

fn arg_error(i: usize, kind: &str) -> String {
    format!("ERR argument {} is {kind}; arguments must be strings or numbers", i + 1)
}

fn argument(v: &Value) -> Result<Vec<u8>, &'static str> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Number(n) => Ok(n.to_string().into_bytes()),
        other => Err(kind_of(other)),
    }
}

/// "an object", "a boolean": for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(resp: &[u8], base64: bool) -> Outcome {
        let mut r = ReplyReader::new(resp, Encoding { base64 });
        let o = r.next_outcome().expect("a reply");
        assert!(r.done(), "bytes left after one reply");
        o
    }

    /// The reply as a JSON value (checking the text is valid JSON).
    fn value(resp: &[u8], base64: bool) -> Value {
        match read(resp, base64) {
            Outcome::Value(text) => serde_json::from_slice(&text).expect("valid JSON"),
            Outcome::Error(e) => panic!("error {e}"),
        }
    }

    #[test]
    fn resp2_replies() {
        assert_eq!(value(b"+OK\r\n", false), json!("OK"));
        assert_eq!(value(b":-42\r\n", false), json!(-42));
        assert_eq!(value(b"$-1\r\n", false), Value::Null);
        assert_eq!(value(b"*-1\r\n", false), Value::Null);
        assert_eq!(value(b"$5\r\nhe\r\no\r\n", false), json!("he\r\no"));
        assert_eq!(value(b"$4\r\n\"\\\t\x01\r\n", false), json!("\"\\\t\u{1}"));
        assert_eq!(read(b"-ERR bad\r\n", false), Outcome::Error("ERR bad".into()));
        assert_eq!(
            value(b"*3\r\n$1\r\na\r\n*1\r\n:1\r\n-ERR inner\r\n", false),
            json!(["a", [1], {"error": "ERR inner"}])
        );
        assert_eq!(value(b"*0\r\n", false), json!([]));
    }

    #[test]
    fn resp3_replies() {
        assert_eq!(value(b"%2\r\n$1\r\na\r\n:1\r\n:7\r\n,1.5\r\n", false), json!({"a": 1, "7": 1.5}));
        assert_eq!(value(b"%0\r\n", false), json!({}));
        assert_eq!(value(b"~1\r\n$1\r\nx\r\n", false), json!(["x"]));
        assert_eq!(value(b",inf\r\n", false), json!("inf"));
        assert_eq!(value(b",3\r\n", false), json!(3.0));
        assert_eq!(value(b"#t\r\n", false), json!(true));
        assert_eq!(value(b"_\r\n", false), Value::Null);
        assert_eq!(value(b"(12345678901234567890\r\n", false), json!("12345678901234567890"));
        assert_eq!(value(b"=8\r\ntxt:abcd\r\n", false), json!("abcd"));
        assert_eq!(read(b"!5\r\nERR x\r\n", false), Outcome::Error("ERR x".into()));
        assert_eq!(value(b"|1\r\n+a\r\n+b\r\n:3\r\n", false), json!(3));
    }

    #[test]
    fn base64_and_binary() {
        assert_eq!(value(b"$3\r\n\xff\x00a\r\n", true), json!("/wBh"));
        assert_eq!(value(b"+OK\r\n", true), json!("T0s="));
        assert_eq!(value(b"$0\r\n\r\n", true), json!(""));
        let mut r = ReplyReader::new(b"$1\r\n\xff\r\n", Encoding::default());
        assert_eq!(r.next_outcome(), Some(Outcome::Value("\"\u{fffd}\"".as_bytes().to_vec())));
        assert!(r.lossy);
    }

    #[test]
    fn truncated_replies_end_reading() {
        for bad in [&b"$5\r\nab\r\n"[..], b"*2\r\n:1\r\n", b":12", b"?x\r\n", b"$-5x\r\n", b"%1\r\n:1\r\n"] {
            assert_eq!(ReplyReader::new(bad, Encoding::default()).next_outcome(), None, "{bad:?}");
        }
    }

    #[test]
    fn exec_replies_as_outcomes() {
        let mut r = ReplyReader::new(b"*2\r\n+OK\r\n-ERR x\r\n", Encoding::default());
        assert_eq!(r.next_array(), Some(Ok(vec![Outcome::Value(b"\"OK\"".to_vec()), Outcome::Error("ERR x".into())])));
        let mut r = ReplyReader::new(b"-EXECABORT y\r\n", Encoding::default());
        assert_eq!(r.next_array(), Some(Err(Outcome::Error("EXECABORT y".into()))));
    }

    #[test]
    fn request_arguments() {
        assert_eq!(
            command_args(&json!(["SET", "k", 1.5, 10])).unwrap(),
            vec![b"SET".to_vec(), b"k".to_vec(), b"1.5".to_vec(), b"10".to_vec()]
        );
        assert!(command_args(&json!([])).unwrap_err().contains("empty command"));
        assert!(command_args(&json!({"a": 1})).unwrap_err().contains("not an object"));
        assert_eq!(
            command_args(&json!(["SET", "k", true])).unwrap_err(),
            "ERR argument 3 is a boolean; arguments must be strings or numbers"
        );
        assert!(command_args(&json!(["SET", null])).is_err());
        assert!(command_args(&json!(["SET", ["x"]])).is_err());
        assert_eq!(string_list(Some(&json!(["a", 2])), "keys").unwrap(), vec![b"a".to_vec(), b"2".to_vec()]);
        assert_eq!(
            string_list(Some(&json!("a")), "keys").unwrap_err(),
            "ERR keys must be an array of strings and numbers, not a string"
        );
        assert_eq!(
            string_list(Some(&json!([{}])), "args").unwrap_err(),
            "ERR args[0] is an object; it must be a string or a number"
        );
    }

    /// A reply tree, written as the server writes RESP.
    #[derive(Debug, Clone)]
    enum Reply {
        Simple(String),
        Bulk(Option<Vec<u8>>),
        Int(i64),
        Double(f64),
        Error(String),
        Array(Vec<Reply>),
        Map(Vec<(Reply, Reply)>),
    }

    fn encode(r: &Reply, out: &mut Vec<u8>) {
        match r {
            Reply::Simple(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
            Reply::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
            Reply::Bulk(Some(b)) => {
                out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Int(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
            Reply::Double(f) => out.extend_from_slice(format!(",{f}\r\n").as_bytes()),
            Reply::Error(e) => out.extend_from_slice(format!("-{e}\r\n").as_bytes()),
            Reply::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                items.iter().for_each(|i| encode(i, out));
            }
            Reply::Map(pairs) => {
                out.extend_from_slice(format!("%{}\r\n", pairs.len()).as_bytes());
                for (k, v) in pairs {
                    encode(k, out);
                    encode(v, out);
                }
            }
        }
    }

    fn reply() -> impl Strategy<Value = Reply> {
        let line = "[a-zA-Z0-9 _.-]{0,12}";
        let leaf = prop_oneof![
            line.prop_map(Reply::Simple),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)).prop_map(Reply::Bulk),
            any::<i64>().prop_map(Reply::Int),
            any::<f64>().prop_map(Reply::Double),
            line.prop_map(|s| Reply::Error(format!("ERR {s}"))),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Reply::Array),
                proptest::collection::vec((inner.clone(), inner), 0..3).prop_map(Reply::Map),
            ]
        })
    }

    use proptest::prelude::*;

    proptest! {
        /// Every reply the server can write becomes valid JSON, with base64
        /// or without, and nothing is left over.
        #[test]
        fn every_reply_is_valid_json(r in reply(), base64 in any::<bool>()) {
            let mut resp = Vec::new();
            encode(&r, &mut resp);
            let mut reader = ReplyReader::new(&resp, Encoding { base64 });
            match reader.next_outcome() {
                Some(Outcome::Value(text)) => {
                    prop_assert!(serde_json::from_slice::<Value>(&text).is_ok(), "{}", String::from_utf8_lossy(&text));
                }
                Some(Outcome::Error(e)) => prop_assert!(matches!(r, Reply::Error(_)), "{e}"),
                None => prop_assert!(false, "no outcome for {r:?}"),
            }
            prop_assert!(reader.done());
        }

        /// Arbitrary bytes (never written by the server) end reading
        /// without a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut reader = ReplyReader::new(&bytes, Encoding::default());
            while let Some(o) = reader.next_outcome() {
                if let Outcome::Value(text) = o {
                    prop_assert!(serde_json::from_slice::<Value>(&text).is_ok());
                }
                if reader.done() {
                    break;
                }
            }
        }

        /// Any JSON value is either a command or a clear refusal.
        #[test]
        fn any_json_is_a_command_or_an_error(v in json_value()) {
            match command_args(&v) {
                Ok(args) => prop_assert!(!args.is_empty()),
                Err(e) => prop_assert!(e.starts_with("ERR "), "{e}"),
            }
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,4}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
