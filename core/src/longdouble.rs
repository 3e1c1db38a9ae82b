//! Exact x87 80-bit `long double` arithmetic for INCRBYFLOAT and HINCRBYFLOAT.
//!
//! Redis parses both operands with `strtold`, adds them in 80-bit extended
//! precision (64-bit mantissa) and prints `%.17Lf` with trailing zeros removed.
//! An `f64` sum prints differently (`0.1 + 0.2` gives `0.30000000000000004`, Redis
//! says `0.3`), so this module reproduces the extended format in software: correctly
//! rounded decimal parsing, a correctly rounded sum, and exact decimal printing.

use std::cmp::Ordering;

/// Magnitude range where the 80-bit format stays finite and normal, with margin.
const MAX_EXP10: i64 = 4900;

/// A finite, non-NaN x87 extended value: `(-1)^neg * mant * 2^exp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    /// Normalised (top bit set) unless zero.
    mant: u64,
    exp: i32,
}

/// Arbitrary-precision unsigned integer, little-endian base 2^32 limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut l = Vec::new();
        while v > 0 {
            l.push(v as u32);
            v >>= 32;
        }
        Big(l)
    }
    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
    fn bits(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
        }
    }
    fn bit(&self, i: u64) -> bool {
        let (w, b) = ((i / 32) as usize, i % 32);
        self.0.get(w).is_some_and(|x| x >> b & 1 == 1)
    }
    fn any_below(&self, i: u64) -> bool {
        let (w, b) = ((i / 32) as usize, i % 32);
        self.0.iter().take(w).any(|&x| x != 0) || self.0.get(w).is_some_and(|&x| b > 0 && x & ((1u32 << b) - 1) != 0)
    }
    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for l in self.0.iter_mut() {
            let v = *l as u64 * m as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }
    fn add_small(&mut self, a: u32) {
        let mut carry = a as u64;
        for l in self.0.iter_mut() {
            if carry == 0 {
                return;
            }
            let v = *l as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }
    fn pow10(n: u32) -> Big {
        let mut b = Big(vec![1]);
        for _ in 0..n {
            b.mul_small(10);
        }
        b
    }
    fn shl(&self, n: u64) -> Big {
        let (w, b) = ((n / 32) as usize, n % 32);
        let mut out = vec![0u32; w];
        let mut carry = 0u32;
        for &l in &self.0 {
            out.push((l << b) | carry);
            carry = if b == 0 { 0 } else { l >> (32 - b) };
        }
        if carry > 0 {
            out.push(carry);
        }
        let mut r = Big(out);
        r.trim();
        r
    }
    fn shr(&self, n: u64) -> Big {
        let (w, b) = ((n / 32) as usize, n % 32);
        if w >= self.0.len() {
            return Big(vec![]);
        }
        let src = &self.0[w..];
        let mut out = Vec::with_capacity(src.len());
        for i in 0..src.len() {
            let hi = if b == 0 { 0 } else { src.get(i + 1).map_or(0, |&x| x << (32 - b)) };
            out.push((src[i] >> b) | hi);
        }
        let mut r = Big(out);
        r.trim();
        r
    }
    fn cmp(&self, o: &Big) -> Ordering {
        self.0.len().cmp(&o.0.len()).then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let v = self.0[i] as i64 - borrow - o.0.get(i).copied().unwrap_or(0) as i64;
            borrow = (v < 0) as i64;
            self.0[i] = v.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }
    /// Quotient (which must fit in 128 bits) and whether a remainder is left.
    fn div_small_quotient(&self, d: &Big) -> (u128, bool) {
        let qbits = self.bits().saturating_sub(d.bits()) + 1;
        let mut rem = self.clone();
        let mut q = 0u128;
        for i in (0..qbits).rev() {
            let s = d.shl(i);
            q <<= 1;
            if rem.cmp(&s) != Ordering::Less {
                rem.sub_assign(&s);
                q |= 1;
            }
        }
        (q, !rem.is_zero())
    }
    fn top_u128(&self, bits: u64) -> u128 {
        let s = self.shr(bits);
        s.0.iter().rev().fold(0u128, |acc, &l| (acc << 32) | l as u128)
    }
    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut limbs = self.0.clone();
        let mut chunks = Vec::new();
        while !limbs.is_empty() {
            let mut rem = 0u64;
            for l in limbs.iter_mut().rev() {
                let v = (rem << 32) | *l as u64;
                *l = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
            chunks.push(rem as u32);
        }
        let mut s = chunks.pop().unwrap_or(0).to_string();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:09}"));
        }
        s
    }
}

/// Rounds `q * 2^exp` (with `sticky` meaning nonzero bits below `q`) to a
/// 64-bit mantissa, half to even.
fn round_to_64(q: u128, sticky: bool, exp: i64) -> Option<(u64, i32)> {
    if q == 0 {
        return Some((0, 0));
    }
    let bits = 128 - q.leading_zeros() as i64;
    let shift = bits - 64;
    let (m, mut e) = if shift <= 0 {
        ((q << (-shift)) as u64, exp + shift)
    } else {
        let kept = q >> shift;
        let half = 1u128 << (shift - 1);
        let rest = q & ((1u128 << shift) - 1);
        let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
        let mut k = kept + up as u128;
        let mut e = exp + shift;
        if k >> 64 != 0 {
            k >>= 1;
            e += 1;
        }
        (k as u64, e)
    };
    if !(-20000..=20000).contains(&e) {
        return None;
    }
    if m == 0 {
        e = 0;
    }
    Some((m, e as i32))
}

impl LongDouble {
    /// Parses a decimal number as glibc's `strtold` with Redis's `string2ld`
    /// checks: no spaces, nothing trailing, no NaN, no infinity, no overflow or
    /// underflow to zero.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        let (neg, body) = match s.first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            // Hexadecimal floats are rare; they parse through f64, which is exact
            // for up to 53 significant bits.
            let v = crate::numeric::parse_f64(s)?;
            return Some(Self::from_f64(v));
        }
        let mut digits = Big(vec![]);
        let (mut exp10, mut seen_digit, mut seen_dot, mut i) = (0i64, false, false, 0);
        let mut significant = 0usize;
        while i < body.len() {
            match body[i] {
                c @ b'0'..=b'9' => {
                    seen_digit = true;
                    if significant < 800 {
                        digits.mul_small(10);
                        digits.add_small((c - b'0') as u32);
                        if !digits.is_zero() {
                            significant += 1;
                        }
                        if seen_dot {
                            exp10 -= 1;
                        }
                    } else if !seen_dot {
                        exp10 += 1;
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return None;
        }
        if i < body.len() {
            if body[i] | 0x20 != b'e' {
                return None;
            }
            let e = crate::numeric::parse_i64(strip_plus(&body[i + 1..]))?;
            exp10 = exp10.checked_add(e.clamp(-100_000, 100_000))?;
        }
        if digits.is_zero() {
            return Some(LongDouble { neg, mant: 0, exp: 0 });
        }
        let magnitude = exp10 + digits.to_decimal().len() as i64;
        if !(-MAX_EXP10..=MAX_EXP10).contains(&magnitude) {
            return None;
        }
        let (q, sticky, exp2) = if exp10 >= 0 {
            let mut n = digits;
            for _ in 0..exp10 {
                n.mul_small(10);
            }
            let extra = n.bits().saturating_sub(126);
            (n.top_u128(extra), n.any_below(extra), extra as i64)
        } else {
            let d = Big::pow10((-exp10) as u32);
            let k = 126i64 - (digits.bits() as i64 - d.bits() as i64);
            let (num, den) = if k >= 0 { (digits.shl(k as u64), d) } else { (digits, d.shl((-k) as u64)) };
            let (q, rem) = num.div_small_quotient(&den);
            (q, rem, -k)
        };
        let (mant, exp) = round_to_64(q, sticky, exp2)?;
        Some(LongDouble { neg, mant, exp })
    }

    /// The nearest `f64`, saturating to infinity (or zero) past its range;
    /// precision beyond 53 bits is cut.
    pub fn to_f64_lossy(self) -> f64 {
        if self.mant == 0 {
            return 0.0;
        }
        let v = self.mant as f64 * 2f64.powi(self.exp.clamp(-1200, 1200));
        if self.neg {
            -v
        } else {
            v
        }
    }

    /// The exact value of an `f64`.
    pub fn from_f64(v: f64) -> LongDouble {
        if v == 0.0 {
            return LongDouble { neg: v.is_sign_negative(), mant: 0, exp: 0 };
        }
        let bits = v.to_bits();
        let neg = bits >> 63 == 1;
        let e = ((bits >> 52) & 0x7FF) as i32;
        let f = bits & ((1 << 52) - 1);
        let (m, e) = if e == 0 { (f, -1074) } else { (f | (1 << 52), e - 1075) };
        let lz = m.leading_zeros();
        LongDouble { neg, mant: m << lz, exp: e - lz as i32 }
    }

    /// `self + other`, rounded to the 80-bit format; `None` on overflow.
    pub fn checked_add(self, other: LongDouble) -> Option<LongDouble> {
        if self.mant == 0 {
            return Some(if other.mant == 0 {
                LongDouble { neg: self.neg && other.neg, mant: 0, exp: 0 }
            } else {
                other
            });
        }
        if other.mant == 0 {
            return Some(self);
        }
        let (a, b) = if (self.exp, self.mant) >= (other.exp, other.mant) { (self, other) } else { (other, self) };
        // A at scale 2^(a.exp - 62): 126 bits; B shifted into the same scale.
        let base = a.exp as i64 - 62;
        let am = (a.mant as u128) << 62;
        let shift = b.exp as i64 - base;
        let (bm, sticky) = if shift >= 0 {
            ((b.mant as u128) << shift, false)
        } else if -shift >= 128 {
            (0, true)
        } else {
            let s = (-shift) as u32;
            ((b.mant as u128) >> s, (b.mant as u128) & ((1u128 << s) - 1) != 0)
        };
        let (neg, q, sticky) = if a.neg == b.neg {
            (a.neg, am + bm, sticky)
        } else if am >= bm {
            // Subtracting a sticky remainder: borrow one unit, keep it sticky.
            let q = am - bm - sticky as u128;
            (a.neg, q, sticky)
        } else {
            (b.neg, bm - am, sticky)
        };
        if q == 0 && !sticky {
            return Some(LongDouble { neg: false, mant: 0, exp: 0 });
        }
        let (mant, exp) = round_to_64(q, sticky, base)?;
        Some(LongDouble { neg, mant, exp })
    }

    /// Formats as Redis does (`%.17Lf`, trailing zeros and dot removed, `-0` as `0`).
    pub fn to_redis_string(self) -> String {
        let scale = Big::pow10(17);
        let m = Big::from_u128(self.mant as u128);
        let n = if self.exp >= 0 {
            mul_big(&m.shl(self.exp as u64), &scale)
        } else {
            let prod = mul_big(&m, &scale);
            let s = (-self.exp) as u64;
            let mut q = prod.shr(s);
            let half = s > 0 && prod.bit(s - 1);
            let rest = s > 1 && prod.any_below(s - 1);
            if half && (rest || q.bit(0)) {
                q.add_small(1);
            }
            q
        };
        let digits = n.to_decimal();
        let digits = if digits.len() < 18 { format!("{:0>18}", digits) } else { digits };
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut s = String::new();
        if self.neg {
            s.push('-');
        }
        s.push_str(int);
        if !frac.is_empty() {
            s.push('.');
            s.push_str(frac);
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }
}

fn strip_plus(s: &[u8]) -> &[u8] {
    s.strip_prefix(b"+").unwrap_or(s)
}

fn mul_big(a: &Big, b: &Big) -> Big {
    let mut out = vec![0u32; a.0.len() + b.0.len()];
    for (i, &x) in a.0.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &y) in b.0.iter().enumerate() {
            let v = out[i + j] as u64 + x as u64 * y as u64 + carry;
            out[i + j] = v as u32;
            carry = v >> 32;
        }
        let mut k = i + b.0.len();
        while carry > 0 {
            let v = out[k] as u64 + carry;
            out[k] = v as u32;
            carry = v >> 32;
            k += 1;
        }
    }
    let mut r = Big(out);
    r.trim();
    r
}

/// INCRBYFLOAT: `current + incr` as Redis computes and prints it. `None` when
/// either is not a valid float; `Some(Err(()))` when the sum is not finite.
pub fn incr_by_float(current: &[u8], incr: &[u8]) -> Option<Result<String, ()>> {
    // strtold reads "inf", so the operand is valid but the result is not finite.
    let (a, b) = (parse_or_inf(current)?, parse_or_inf(incr)?);
    match (a, b) {
        (Some(a), Some(b)) => Some(a.checked_add(b).map(LongDouble::to_redis_string).ok_or(())),
        _ => Some(Err(())),
    }
}

/// True for what `strtold` reads as an infinity (`inf`, `-Infinity`, ...).
pub fn is_inf(s: &[u8]) -> bool {
    let body = s.strip_prefix(b"-").or_else(|| s.strip_prefix(b"+")).unwrap_or(s);
    body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity")
}

fn parse_or_inf(s: &[u8]) -> Option<Option<LongDouble>> {
    if is_inf(s) {
        return Some(None);
    }
    LongDouble::parse(s).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> String {
        incr_by_float(a.as_bytes(), b.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn matches_redis_extended_precision() {
        // Values observed from redis-server 7.0 (x86-64, 80-bit long double).
        assert_eq!(sum("10.5", "0.1"), "10.6");
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("10.6", "-5"), "5.6");
        assert_eq!(sum("0", "1e3"), "1000");
        assert_eq!(sum("3", "1.5"), "4.5");
        assert_eq!(sum("1.25", "1e2"), "101.25");
        assert_eq!(sum("-1", "1"), "0");
        assert_eq!(sum("0", "-0"), "0");
        assert_eq!(sum("5.0e3", "2.0e2"), "5200");
    }

    #[test]
    fn parse_rejects() {
        for bad in ["", "abc", "1.2.3", "1e", ".", "-", "1 ", " 1", "nan", "inf"] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad}");
        }
        assert!(LongDouble::parse(b"1e5000").is_none());
    }

    #[test]
    fn exact_integers_and_f64() {
        assert_eq!(LongDouble::parse(b"12345678901234567").unwrap().to_redis_string(), "12345678901234567");
        assert_eq!(LongDouble::from_f64(0.5).to_redis_string(), "0.5");
        assert_eq!(LongDouble::parse(b"0x10").unwrap().to_redis_string(), "16");
    }
}
