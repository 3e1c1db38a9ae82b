//! Replies as `redis-cli` prints them on a terminal (core's
//! [`Reply::to_cli_text`]), which commands it prints raw, and replies rebuilt
//! from the HTTP gateway's JSON for connected mode.

use slotkv_core::Reply;

/// Formats `reply` as redis-cli does on a terminal; `raw` prints strings
/// unquoted (see [`prints_raw`]).
pub fn format(reply: &Reply, raw: bool) -> String {
    if raw {
        reply.to_cli_raw()
    } else {
        reply.to_cli_text()
    }
}

/// Whether redis-cli prints this command's string answer raw.
pub fn prints_raw(args: &[Vec<u8>]) -> bool {
    let word = |i: usize| args.get(i).map(|a| a.to_ascii_lowercase()).unwrap_or_default();
    match word(0).as_slice() {
        b"info" | b"lolwut" => true,
        b"client" => matches!(word(1).as_slice(), b"list" | b"info"),
        b"cluster" => matches!(word(1).as_slice(), b"nodes" | b"info"),
        b"memory" | b"latency" => word(1) == b"doctor",
        _ => false,
    }
}

/// A reply rebuilt from the HTTP gateway's JSON answer (`{"result": ...}` or
/// `{"error": ...}`), for connected mode. JSON does not tell a status from a
/// string, so both print quoted.
pub fn from_gateway(answer: &serde_json::Value) -> Reply {
    use serde_json::Value;
    fn value(v: &Value) -> Reply {
        match v {
            Value::Null => Reply::Null,
            Value::Bool(b) => Reply::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Reply::Int(i),
                None => Reply::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Reply::Bulk(s.as_bytes().to_vec()),
            Value::Array(items) => Reply::Array(items.iter().map(value).collect()),
            Value::Object(map) => match (map.len(), map.get("error")) {
                (1, Some(Value::String(e))) => Reply::Error(e.clone()),
                _ => Reply::Map(map.iter().map(|(k, v)| (Reply::Bulk(k.as_bytes().to_vec()), value(v))).collect()),
            },
        }
    }
    match (answer.get("error"), answer.get("result")) {
        (Some(serde_json::Value::String(e)), _) => Reply::Error(e.clone()),
        (_, Some(result)) => value(result),
        _ => Reply::Error(format!("ERR unexpected answer from the gateway: {answer}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_answers() {
        let v = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(format(&from_gateway(&v(r#"{"result":"hello"}"#)), false), "\"hello\"");
        assert_eq!(
            format(&from_gateway(&v(r#"{"result":[1,null,["a"]]}"#)), false),
            "1) (integer) 1\n2) (nil)\n3) 1) \"a\""
        );
        assert_eq!(format(&from_gateway(&v(r#"{"error":"ERR nope"}"#)), false), "(error) ERR nope");
        assert_eq!(format(&from_gateway(&v(r#"{"result":{"a":1.5}}"#)), false), "1# \"a\" => (double) 1.5");
    }

    #[test]
    fn raw_commands() {
        assert!(prints_raw(&[b"INFO".to_vec()]));
        assert!(prints_raw(&[b"client".to_vec(), b"LIST".to_vec()]));
        assert!(!prints_raw(&[b"get".to_vec(), b"info".to_vec()]));
    }
}
