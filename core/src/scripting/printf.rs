//! C `printf` conversions for `string.format`, as Lua 5.1 applies them: flags
//! `-+ #0`, width and precision of at most two digits, and the conversions
//! `c d i o u x X e E f g G q s %`.

/// One parsed conversion spec.
#[derive(Default, Clone, Copy)]
pub(crate) struct Spec {
    pub left: bool,
    pub plus: bool,
    pub space: bool,
    pub alt: bool,
    pub zero: bool,
    pub width: usize,
    pub precision: Option<usize>,
    pub conv: u8,
}

/// Parses the spec after a `%` at `fmt[i..]`; returns it and the index after it.
pub(crate) fn parse_spec(fmt: &[u8], mut i: usize) -> Result<(Spec, usize), String> {
    let mut s = Spec::default();
    let start = i;
    while i < fmt.len() && b"-+ #0".contains(&fmt[i]) {
        match fmt[i] {
            b'-' => s.left = true,
            b'+' => s.plus = true,
            b' ' => s.space = true,
            b'#' => s.alt = true,
            _ => s.zero = true,
        }
        i += 1;
    }
    if i - start > 5 {
        return Err("invalid format (repeated flags)".into());
    }
    let digits = |i: &mut usize| {
        let from = *i;
        let mut v = 0usize;
        while *i < fmt.len() && fmt[*i].is_ascii_digit() {
            v = v * 10 + (fmt[*i] - b'0') as usize;
            *i += 1;
        }
        (v, *i - from)
    };
    let (w, n) = digits(&mut i);
    if n > 2 {
        return Err("invalid format (width or precision too long)".into());
    }
    s.width = w;
    if i < fmt.len() && fmt[i] == b'.' {
        i += 1;
        let (p, n) = digits(&mut i);
        if n > 2 {
            return Err("invalid format (width or precision too long)".into());
        }
        s.precision = Some(p);
    }
    s.conv = fmt.get(i).copied().unwrap_or(0);
    Ok((s, i + 1))
}

fn pad(out: &mut Vec<u8>, spec: &Spec, sign: &str, body: &[u8], zero_ok: bool) {
    let len = sign.len() + body.len();
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        out.extend_from_slice(sign.as_bytes());
        out.extend_from_slice(body);
        out.extend(std::iter::repeat_n(b' ', fill));
    } else if spec.zero && zero_ok {
        out.extend_from_slice(sign.as_bytes());
        out.extend(std::iter::repeat_n(b'0', fill));
        out.extend_from_slice(body);
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(sign.as_bytes());
        out.extend_from_slice(body);
    }
}

fn sign_of(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

/// `%d %i %o %u %x %X` of `n`.
pub(crate) fn integer(out: &mut Vec<u8>, spec: &Spec, n: i64) {
    let (neg, mut digits) = match spec.conv {
        b'd' | b'i' => (n < 0, n.unsigned_abs().to_string()),
        b'o' => (false, format!("{:o}", n as u64)),
        b'u' => (false, (n as u64).to_string()),
        b'x' => (false, format!("{:x}", n as u64)),
        _ => (false, format!("{:X}", n as u64)),
    };
    if let Some(p) = spec.precision {
        if p == 0 && n == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let mut sign = if matches!(spec.conv, b'd' | b'i') { sign_of(neg, spec) } else { "" };
    if spec.alt && n != 0 {
        match spec.conv {
            b'x' => sign = "0x",
            b'X' => sign = "0X",
            b'o' if !digits.starts_with('0') => digits.insert(0, '0'),
            _ => {}
        }
    }
    pad(out, spec, sign, digits.as_bytes(), spec.precision.is_none());
}

/// `%e %E %f %F %g %G` of `d`.
pub(crate) fn float(out: &mut Vec<u8>, spec: &Spec, d: f64) {
    let upper = spec.conv.is_ascii_uppercase();
    let neg = d.is_sign_negative() && !(d.is_nan());
    let sign = sign_of(neg, spec);
    if !d.is_finite() {
        let t = if d.is_nan() { "nan" } else { "inf" };
        let t = if upper { t.to_ascii_uppercase() } else { t.to_string() };
        let sign = if d.is_nan() && d.is_sign_negative() { "-" } else { sign };
        pad(out, spec, sign, t.as_bytes(), false);
        return;
    }
    let a = d.abs();
    let p = spec.precision.unwrap_or(6);
    let body = match spec.conv.to_ascii_lowercase() {
        b'f' => {
            let mut s = format!("{a:.p$}");
            if spec.alt && p == 0 {
                s.push('.');
            }
            s
        }
        b'e' => exp_form(a, p, spec.alt),
        _ => {
            let p = p.max(1);
            let sci = format!("{:.*e}", p - 1, a);
            let x: i32 = sci.split_once('e').map_or(0, |(_, e)| e.parse().unwrap_or(0));
            let s = if x < -4 || x >= p as i32 {
                exp_form(a, p - 1, spec.alt)
            } else {
                format!("{:.*}", (p as i32 - 1 - x).max(0) as usize, a)
            };
            if spec.alt {
                s
            } else {
                strip_fraction_zeros(&s)
            }
        }
    };
    let body = if upper { body.to_ascii_uppercase() } else { body };
    pad(out, spec, sign, body.as_bytes(), true);
}

/// `d.ddde+XX` with `p` fraction digits, C style (two exponent digits at least).
fn exp_form(a: f64, p: usize, alt: bool) -> String {
    let s = format!("{a:.p$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    let mut mant = mant.to_string();
    if alt && p == 0 {
        mant.push('.');
    }
    format!("{mant}e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs())
}

fn strip_fraction_zeros(s: &str) -> String {
    let (m, e) = match s.find('e') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
    format!("{m}{e}")
}

/// `%s` of `s` (precision truncates).
pub(crate) fn string(out: &mut Vec<u8>, spec: &Spec, s: &[u8]) {
    let s = match spec.precision {
        Some(p) if p < s.len() => &s[..p],
        _ => s,
    };
    pad(out, spec, "", s, false);
}

/// `%q`: a string Lua can read back.
pub(crate) fn quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0 => out.extend_from_slice(b"\\000"),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, d: f64) -> String {
        let (spec, _) = parse_spec(fmt.as_bytes(), 1).unwrap();
        let mut out = Vec::new();
        if b"dioxXu".contains(&spec.conv) {
            integer(&mut out, &spec, d as i64);
        } else {
            float(&mut out, &spec, d);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn like_c() {
        assert_eq!(f("%d", 42.0), "42");
        assert_eq!(f("%5d", -42.0), "  -42");
        assert_eq!(f("%-5d", 42.0), "42   ");
        assert_eq!(f("%05d", -42.0), "-0042");
        assert_eq!(f("%+d", 5.0), "+5");
        assert_eq!(f("%.3d", 7.0), "007");
        assert_eq!(f("%x", 255.0), "ff");
        assert_eq!(f("%#X", 255.0), "0XFF");
        assert_eq!(f("%o", 8.0), "10");
        assert_eq!(f("%5.2f", 1.23456), " 1.23");
        assert_eq!(f("%f", 1.0), "1.000000");
        assert_eq!(f("%e", 12345.678), "1.234568e+04");
        assert_eq!(f("%E", 0.00012), "1.200000E-04");
        assert_eq!(f("%g", 0.0001), "0.0001");
        assert_eq!(f("%g", 1e20), "1e+20");
        assert_eq!(f("%g", 100000.0), "100000");
        assert_eq!(f("%g", 1000000.0), "1e+06");
        assert_eq!(f("%.3g", 1.23456), "1.23");
        assert_eq!(f("%10.4f", -1.5), "   -1.5000");
        assert_eq!(f("%f", f64::INFINITY), "inf");
        assert_eq!(f("%d", -0.0), "0");
        let mut out = Vec::new();
        quoted(&mut out, b"a\n\"b\0");
        assert_eq!(out, b"\"a\\\n\\\"b\\000\"");
    }

    #[test]
    fn bad_specs() {
        assert!(parse_spec(b"%123d", 1).is_err());
        assert!(parse_spec(b"%--+ #0d", 1).is_err());
    }
}
