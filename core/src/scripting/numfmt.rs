//! Numbers as Lua 5.1 prints them (`%.14g`): `tostring(0.1 + 0.2)` is `0.3`
//! and `tostring(1e15)` is `1e+15`, where piccolo would print Rust's shortest
//! round-trip form. Every conversion of a number to text in scripts goes
//! through here: `tostring`, `..` (rewritten at compile time), string library
//! arguments and `redis.call` arguments.

use crate::numeric::fmt_g;

/// A float as Lua 5.1's `tostring` prints it.
pub fn number(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    fmt_g(f, 14)
}

/// An integer as Lua 5.1 prints it (Lua 5.1 has only doubles, so large
/// integers print in exponent form).
pub fn int(n: i64) -> String {
    if n.unsigned_abs() < 100_000_000_000_000 {
        return itoa::Buffer::new().format(n).to_string();
    }
    fmt_g(n as f64, 14)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_lua_51() {
        assert_eq!(number(10.0 / 2.0), "5");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(1e15), "1e+15");
        assert_eq!(number(2f64.powi(53)), "9.007199254741e+15");
        assert_eq!(number(1.0 / 3.0), "0.33333333333333");
        assert_eq!(number(f64::INFINITY), "inf");
        assert_eq!(number(f64::NEG_INFINITY), "-inf");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(1e20), "1e+20");
        assert_eq!(int(42), "42");
        assert_eq!(int(-7), "-7");
        assert_eq!(int(100_000_000_000_000), "1e+14");
    }
}
