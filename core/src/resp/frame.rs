//! Decoding whole reply frames of every RESP2 and RESP3 type into [`Reply`] trees.
//! Used by clients (cluster links, tests) and to read back replies that were
//! written as RESP (the script bridge, the HTTP gateway).

use super::find_crlf;
use super::request::ProtocolError;
use crate::numeric::parse_i64;
use crate::reply::Reply;
use std::borrow::Cow;

/// Deepest nesting accepted, so a hostile frame cannot exhaust the stack.
const MAX_DEPTH: usize = 128;
/// Largest aggregate or bulk length accepted.
const MAX_LEN: i64 = 512 << 20;

fn err(what: &'static str) -> ProtocolError {
    ProtocolError(Cow::Borrowed(what))
}

/// Decodes one reply frame from the start of `buf`.
/// Returns the reply and the bytes it used, or `None` if the frame is incomplete.
pub fn decode_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ProtocolError> {
    let mut pos = 0;
    match decode_at(buf, &mut pos, 0)? {
        Some(r) => Ok(Some((r, pos))),
        None => Ok(None),
    }
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let cr = find_crlf(buf, *pos + 1)?;
    let l = &buf[*pos + 1..cr];
    *pos = cr + 2;
    Some(l)
}

fn len_of(l: &[u8]) -> Result<i64, ProtocolError> {
    match parse_i64(l) {
        Some(n) if (-1..=MAX_LEN).contains(&n) => Ok(n),
        _ => Err(err("invalid length")),
    }
}

fn text(l: &[u8]) -> String {
    String::from_utf8_lossy(l).into_owned()
}

fn bulk_body(buf: &[u8], pos: &mut usize, n: i64) -> Result<Option<Vec<u8>>, ProtocolError> {
    let n = n as usize;
    if buf.len() < *pos + n + 2 {
        return Ok(None);
    }
    if &buf[*pos + n..*pos + n + 2] != b"\r\n" {
        return Err(err("bulk string not terminated by CRLF"));
    }
    let b = buf[*pos..*pos + n].to_vec();
    *pos += n + 2;
    Ok(Some(b))
}

macro_rules! need {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

fn decode_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Reply>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(err("reply nested too deeply"));
    }
    if *pos >= buf.len() {
        return Ok(None);
    }
    let tag = buf[*pos];
    let l = need!(line(buf, pos));
    Ok(Some(match tag {
        b'+' => Reply::Simple(text(l)),
        b'-' => Reply::Error(text(l)),
        b':' => Reply::Int(parse_i64(l).ok_or(err("invalid integer"))?),
        b'_' => Reply::Null,
        b'#' => match l {
            b"t" => Reply::Bool(true),
            b"f" => Reply::Bool(false),
            _ => return Err(err("invalid boolean")),
        },
        b',' => Reply::Double(crate::numeric::parse_f64_resp(l).ok_or(err("invalid double"))?),
        b'(' => {
            let digits = l.strip_prefix(b"-").unwrap_or(l);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(err("invalid big number"));
            }
            Reply::BigNumber(text(l))
        }
        b'$' | b'!' | b'=' => {
            let n = len_of(l)?;
            if n < 0 {
                if tag != b'$' {
                    return Err(err("invalid length"));
                }
                Reply::Null
            } else {
                let body = need!(bulk_body(buf, pos, n)?);
                match tag {
                    b'$' => Reply::Bulk(body),
                    b'!' => Reply::Error(text(&body)),
                    _ => {
                        if body.len() < 4 || body[3] != b':' {
                            return Err(err("invalid verbatim string"));
                        }
                        Reply::Verbatim { format: text(&body[..3]), text: body[4..].to_vec() }
                    }
                }
            }
        }
        b'*' | b'~' | b'>' => {
            let n = len_of(l)?;
            if n < 0 {
                if tag != b'*' {
                    return Err(err("invalid length"));
                }
                return Ok(Some(Reply::NullArray));
            }
            let mut items = Vec::with_capacity((n as usize).min(1024));
            for _ in 0..n {
                items.push(need!(decode_at(buf, pos, depth + 1)?));
            }
            match tag {
                b'*' => Reply::Array(items),
                b'~' => Reply::Set(items),
                _ => Reply::Push(items),
            }
        }
        b'%' | b'|' => {
            let n = len_of(l)?;
            if n < 0 {
                return Err(err("invalid length"));
            }
            let mut pairs = Vec::with_capacity((n as usize).min(1024));
            for _ in 0..n {
                let k = need!(decode_at(buf, pos, depth + 1)?);
                let v = need!(decode_at(buf, pos, depth + 1)?);
                pairs.push((k, v));
            }
            if tag == b'|' {
                // An attribute annotates the reply that follows it; return that reply.
                return decode_at(buf, pos, depth + 1);
            }
            Reply::Map(pairs)
        }
        _ => return Err(err("unknown reply type")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_reply() -> impl Strategy<Value = Reply> {
        let leaf = prop_oneof![
            "[a-zA-Z0-9 ]{0,12}".prop_map(Reply::Simple),
            "[A-Z]{1,5} [a-z ]{0,12}".prop_map(Reply::Error),
            any::<i64>().prop_map(Reply::Int),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Reply::Bulk),
            Just(Reply::Null),
            any::<bool>().prop_map(Reply::Bool),
            (-1e300f64..1e300).prop_map(Reply::Double),
            "-?[1-9][0-9]{0,40}".prop_map(Reply::BigNumber),
            proptest::collection::vec(any::<u8>(), 0..20)
                .prop_map(|t| Reply::Verbatim { format: "txt".into(), text: t }),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Reply::Array),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Reply::Set),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Reply::Push),
                proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Reply::Map),
            ]
        })
    }

    proptest! {
        #[test]
        fn resp3_round_trip(r in arb_reply()) {
            let bytes = r.to_bytes(true);
            let (back, used) = decode_reply(&bytes).expect("test input is valid").expect("test input is valid");
            prop_assert_eq!(used, bytes.len());
            // Doubles go through %.17g, which round-trips every finite f64.
            prop_assert_eq!(back, r);
        }

        #[test]
        fn every_prefix_is_incomplete(r in arb_reply()) {
            let bytes = r.to_bytes(true);
            for cut in 0..bytes.len() {
                prop_assert_eq!(decode_reply(&bytes[..cut]).expect("test input is valid"), None);
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_reply(&bytes);
        }
    }

    #[test]
    fn resp2_nulls_and_errors() {
        assert_eq!(decode_reply(b"$-1\r\n").expect("test input is valid").expect("test input is valid").0, Reply::Null);
        assert_eq!(
            decode_reply(b"*-1\r\n").expect("test input is valid").expect("test input is valid").0,
            Reply::NullArray
        );
        assert!(decode_reply(b"?x\r\n").is_err());
        assert!(decode_reply(b"$2\r\nabcd\r\n").is_err());
        assert!(decode_reply(b"#x\r\n").is_err());
        let deep = "*1\r\n".repeat(500);
        assert!(decode_reply(deep.as_bytes()).is_err());
    }
}
