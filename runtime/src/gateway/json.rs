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
use serde_json::{Map, Value};

/// One command's outcome.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Its reply.
    Value(Value),
    /// Its error reply, as Redis words it.
    Error(String),
}

/// How strings are written.
#[derive(Clone, Copy, Default)]
pub struct Encoding {
    /// Strings as base64 (`Upstash-Encoding: base64`).
    pub base64: bool,
}

/// Reads replies out of RESP bytes.
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
    pub fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The next top-level reply, or `None` at the end (or on bytes that are
    /// not RESP, which the server never writes).
    pub fn next_outcome(&mut self) -> Option<Outcome> {
        if self.buf.get(self.pos) == Some(&b'-') || self.buf.get(self.pos) == Some(&b'!') {
            return match self.value()? {
                Value::Object(mut m) => match m.remove("error") {
                    Some(Value::String(e)) => Some(Outcome::Error(e)),
                    _ => None,
                },
                _ => None,
            };
        }
        self.value().map(Outcome::Value)
    }

    /// The elements of the next reply if it is an array, each as an outcome
    /// (EXEC's replies); `Err` with the reply otherwise.
    pub fn next_array(&mut self) -> Option<Result<Vec<Outcome>, Outcome>> {
        match self.buf.get(self.pos)? {
            b'*' => {
                self.pos += 1;
                let n = self.number()?;
                if n < 0 {
                    return Some(Err(Outcome::Value(Value::Null)));
                }
                let mut items = Vec::with_capacity(n.min(1024) as usize);
                for _ in 0..n {
                    items.push(self.next_outcome()?);
                }
                Some(Ok(items))
            }
            _ => self.next_outcome().map(Err),
        }
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

    fn text(&mut self, bytes: &[u8]) -> Value {
        if self.enc.base64 {
            return Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Value::String(s.to_string()),
            Err(_) => {
                self.lossy = true;
                Value::String(String::from_utf8_lossy(bytes).into_owned())
            }
        }
    }

    fn bulk(&mut self) -> Option<Option<&'a [u8]>> {
        let n = self.number()?;
        if n < 0 {
            return Some(None);
        }
        let start = self.pos;
        let end = start.checked_add(n as usize)?;
        if end + 2 > self.buf.len() {
            return None;
        }
        self.pos = end + 2;
        Some(Some(&self.buf[start..end]))
    }

    fn items(&mut self) -> Option<Option<Vec<Value>>> {
        let n = self.number()?;
        if n < 0 {
            return Some(None);
        }
        let mut items = Vec::with_capacity(n.min(1024) as usize);
        for _ in 0..n {
            items.push(self.value()?);
        }
        Some(Some(items))
    }

    /// The next reply as a JSON value.
    fn value(&mut self) -> Option<Value> {
        let kind = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(match kind {
            b'+' => {
                let l = self.line()?;
                self.text(l)
            }
            b'-' => {
                let l = self.line()?;
                error_object(String::from_utf8_lossy(l).into_owned())
            }
            b':' => Value::from(self.number()?),
            b'$' => match self.bulk()? {
                Some(b) => self.text(b),
                None => Value::Null,
            },
            b'!' => match self.bulk()? {
                Some(b) => error_object(String::from_utf8_lossy(b).into_owned()),
                None => Value::Null,
            },
            // Verbatim: a three-letter format and ':' before the text.
            b'=' => match self.bulk()? {
                Some(b) => self.text(b.get(4..).unwrap_or_default()),
                None => Value::Null,
            },
            b'*' | b'~' | b'>' => self.items()?.map_or(Value::Null, Value::Array),
            b'%' => {
                let n = self.number()?;
                let mut map = Map::new();
                for _ in 0..n.max(0) {
                    let k = self.value()?;
                    let v = self.value()?;
                    map.insert(key_text(k), v);
                }
                Value::Object(map)
            }
            // Attributes annotate the reply after them, which is what counts.
            b'|' => {
                let n = self.number()?;
                for _ in 0..n.max(0) * 2 {
                    self.value()?;
                }
                self.value()?
            }
            b'_' => {
                self.line()?;
                Value::Null
            }
            b'#' => Value::Bool(self.line()? == b"t"),
            b',' => {
                let l = std::str::from_utf8(self.line()?).ok()?;
                match l.parse::<f64>() {
                    Ok(f) if f.is_finite() => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
                    _ => Value::String(l.to_string()),
                }
            }
            b'(' => Value::String(std::str::from_utf8(self.line()?).ok()?.to_string()),
            _ => return None,
        })
    }
}

fn error_object(e: String) -> Value {
    let mut m = Map::new();
    m.insert("error".into(), Value::String(e));
    Value::Object(m)
}

/// A map key as an object key: strings as they are, anything else as its JSON text.
fn key_text(k: Value) -> String {
    match k {
        Value::String(s) => s,
        other => other.to_string(),
    }
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

    #[test]
    fn resp2_replies() {
        assert_eq!(read(b"+OK\r\n", false), Outcome::Value(json!("OK")));
        assert_eq!(read(b":-42\r\n", false), Outcome::Value(json!(-42)));
        assert_eq!(read(b"$-1\r\n", false), Outcome::Value(Value::Null));
        assert_eq!(read(b"*-1\r\n", false), Outcome::Value(Value::Null));
        assert_eq!(read(b"$5\r\nhe\r\no\r\n", false), Outcome::Value(json!("he\r\no")));
        assert_eq!(read(b"-ERR bad\r\n", false), Outcome::Error("ERR bad".into()));
        assert_eq!(
            read(b"*3\r\n$1\r\na\r\n*1\r\n:1\r\n-ERR inner\r\n", false),
            Outcome::Value(json!(["a", [1], {"error": "ERR inner"}]))
        );
    }

    #[test]
    fn resp3_replies() {
        assert_eq!(read(b"%2\r\n$1\r\na\r\n:1\r\n:7\r\n,1.5\r\n", false), Outcome::Value(json!({"a": 1, "7": 1.5})));
        assert_eq!(read(b"~1\r\n$1\r\nx\r\n", false), Outcome::Value(json!(["x"])));
        assert_eq!(read(b",inf\r\n", false), Outcome::Value(json!("inf")));
        assert_eq!(read(b"#t\r\n", false), Outcome::Value(json!(true)));
        assert_eq!(read(b"_\r\n", false), Outcome::Value(Value::Null));
        assert_eq!(read(b"(12345678901234567890\r\n", false), Outcome::Value(json!("12345678901234567890")));
        assert_eq!(read(b"=8\r\ntxt:abcd\r\n", false), Outcome::Value(json!("abcd")));
        assert_eq!(read(b"!5\r\nERR x\r\n", false), Outcome::Error("ERR x".into()));
        assert_eq!(read(b"|1\r\n+a\r\n+b\r\n:3\r\n", false), Outcome::Value(json!(3)));
    }

    #[test]
    fn base64_and_binary() {
        assert_eq!(read(b"$3\r\n\xff\x00a\r\n", true), Outcome::Value(json!("/wBh")));
        assert_eq!(read(b"+OK\r\n", true), Outcome::Value(json!("T0s=")));
        let mut r = ReplyReader::new(b"$1\r\n\xff\r\n", Encoding::default());
        assert_eq!(r.next_outcome(), Some(Outcome::Value(json!("\u{fffd}"))));
        assert!(r.lossy);
    }

    #[test]
    fn truncated_replies_end_reading() {
        for bad in [&b"$5\r\nab\r\n"[..], b"*2\r\n:1\r\n", b":12", b"?x\r\n"] {
            assert_eq!(ReplyReader::new(bad, Encoding::default()).next_outcome(), None, "{bad:?}");
        }
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
}
