//! Numbers as Redis reads and prints them: strict integers (`string2ll`), floats
//! (`strtod` with Redis's extra checks), and `%.17g` formatting.

/// Parses a signed 64-bit integer exactly as Redis's `string2ll`: no spaces, no
/// `+`, no leading zeros, no overflow.
#[inline]
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a float as Redis's `string2d`/`string2ld` accept it: what C's `strtod`
/// reads (decimal, exponent, `inf`, hex), with no leading space, nothing after the
/// number, no NaN, and no overflow or underflow to zero.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s[0].is_ascii_whitespace() {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    let neg = lower.starts_with('-');
    if unsigned == "inf" || unsigned == "infinity" {
        return Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if unsigned.starts_with("nan") || unsigned.starts_with("inf") {
        return None;
    }
    let v = if let Some(hex) = unsigned.strip_prefix("0x") {
        let v = parse_hex_float(hex)?;
        if neg {
            -v
        } else {
            v
        }
    } else {
        if !unsigned.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-')) {
            return None;
        }
        lower.parse::<f64>().ok()?
    };
    if v.is_infinite() {
        return None; // ERANGE overflow
    }
    if v == 0.0 {
        let mantissa = unsigned.split(['e', 'p']).next().unwrap_or("");
        let mantissa = mantissa.strip_prefix("0x").unwrap_or(mantissa);
        if mantissa.bytes().any(|c| c.is_ascii_alphanumeric() && c != b'0') {
            return None; // ERANGE underflow
        }
    }
    Some(v)
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find('p') {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// Parses a float exactly as C's `strtod` accepts a whole string: leading
/// whitespace skipped, an empty rest reads as 0, overflow reads as infinity and
/// underflow as 0 (score ranges are parsed this way in Redis). NaN is returned
/// as NaN for the caller to refuse.
pub fn parse_f64_strtod(s: &[u8]) -> Option<f64> {
    let start = s.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(s.len());
    let t = &s[start..];
    if t.is_empty() {
        return Some(0.0);
    }
    let text = std::str::from_utf8(t).ok()?;
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if unsigned.starts_with("0x") {
        return parse_f64(t);
    }
    if unsigned.starts_with("nan") {
        return (unsigned == "nan").then_some(f64::NAN);
    }
    if !unsigned.starts_with("inf")
        && !unsigned.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    lower.parse::<f64>().ok()
}

/// Parses a RESP3 double (`1.5`, `inf`, `-inf`, `nan`).
pub fn parse_f64_resp(s: &[u8]) -> Option<f64> {
    match s {
        b"inf" | b"+inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" => Some(f64::NAN),
        _ => std::str::from_utf8(s).ok()?.parse().ok(),
    }
}

/// Formats like C's `printf("%.{prec}g", d)`, with `inf`, `-inf`, `nan`.
pub fn fmt_g(d: f64, prec: usize) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let p = prec.max(1);
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{:.*e}", p - 1, d);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    if x < -4 || x >= p as i32 {
        let mant = strip_zeros(mant);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", x.abs())
    } else {
        let f = format!("{:.*}", (p as i32 - 1 - x).max(0) as usize, d);
        strip_zeros(&f).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `%.17g`: how Redis replies with doubles (ZSCORE, RESP3 doubles).
pub fn fmt_g17(d: f64) -> String {
    fmt_g(d, 17)
}

/// A double as Redis stores it back into a string (`d2string`): integers in the
/// exact range print without a fraction, everything else as `%.17g`.
pub fn fmt_d2string(d: f64) -> String {
    if d.is_finite() && d != 0.0 && d > -4503599627370495.0 && d < 4503599627370496.0 && d == (d as i64) as f64 {
        return (d as i64).to_string();
    }
    fmt_g17(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [&b""[..], b"-", b"+1", b"01", b"-0", b" 1", b"1 ", b"1.5", b"9223372036854775808", b"abc"] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"+5"), Some(5.0));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"0"), Some(0.0));
        assert_eq!(parse_f64(b"0.000"), Some(0.0));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"abc", b"1e400", b"1e-400", b"1,5"] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn g17() {
        assert_eq!(fmt_g17(1.5), "1.5");
        assert_eq!(fmt_g17(3.0), "3");
        assert_eq!(fmt_g17(0.1), "0.10000000000000001");
        assert_eq!(fmt_g17(1e20), "1e+20");
        assert_eq!(fmt_g17(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(fmt_g17(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(fmt_g17(f64::INFINITY), "inf");
        assert_eq!(fmt_g(0.0001, 17), "0.0001");
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(1e15, 14), "1e+15");
        assert_eq!(fmt_d2string(10.0), "10");
        assert_eq!(fmt_d2string(10.5), "10.5");
    }
}
