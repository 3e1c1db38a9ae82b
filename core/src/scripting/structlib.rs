//! `struct` as Redis bundles it (lua-struct): `pack(fmt, ...)`, `unpack(fmt, s
//! [, pos])` and `size(fmt)` between Lua values and binary records.
//!
//! Formats: `>` `<` set byte order (little-endian by default), `!n` the
//! alignment (a power of two, 8 when `n` is absent), `b B h H l L T` integers
//! of 1, 2, 8 and 8 bytes, `i[n] I[n]` integers of `n` bytes (4 by default, at
//! most 32), `f d` floats, `x` a zero byte, `c[n]` `n` bytes of a string (`c0`:
//! the whole string when packing, the length just unpacked when unpacking), `s`
//! a zero-terminated string, spaces ignored. Numbers are Lua 5.1 doubles, so
//! conversions follow what Redis's C build does on x86-64.
//!
//! The work is bounded by the format's length and the data's size, and both are
//! charged to the script's budget.

use super::base::{arg_bytes, arg_number, bad_arg, float_to_int, number_value, raise, to_bytes, to_number};
use super::strlib::{charge, check_alloc};
use super::Shared;
use piccolo::{Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

/// Widest integer option (`i32`).
const MAX_INT_SIZE: usize = 32;
/// Alignment of `!` without a number: the strictest alignment of the C build.
const MAX_ALIGN: usize = 8;

/// How a `struct` function failed: a bad argument `n`, or a plain error.
#[derive(Debug, PartialEq)]
enum Fail {
    Arg(usize, String),
    Plain(String),
}

/// A format string being read, with the byte order and alignment it has set so far.
struct Format<'a> {
    fmt: &'a [u8],
    at: usize,
    big_endian: bool,
    align: usize,
}

impl<'a> Format<'a> {
    fn new(fmt: &'a [u8]) -> Self {
        Format { fmt, at: 0, big_endian: false, align: 1 }
    }

    /// The next option and its size in bytes (0 for `s`, `c0` and control options).
    fn next_option(&mut self) -> Option<Result<(u8, usize), Fail>> {
        let opt = *self.fmt.get(self.at)?;
        self.at += 1;
        Some(self.size_of(opt).map(|size| (opt, size)))
    }

    fn number(&mut self, default: usize) -> Result<usize, Fail> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut n: usize = 0;
        while let Some(&d) = self.fmt.get(self.at).filter(|c| c.is_ascii_digit()) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add((d - b'0') as usize))
                .filter(|&n| n <= i32::MAX as usize)
                .ok_or_else(|| Fail::Plain("integral size overflow".into()))?;
            self.at += 1;
        }
        Ok(n)
    }

    fn size_of(&mut self, opt: u8) -> Result<usize, Fail> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let n = self.number(4)?;
                if n > MAX_INT_SIZE {
                    return Err(Fail::Plain(format!("integral size {n} is larger than limit of {MAX_INT_SIZE}")));
                }
                n
            }
            _ => 0,
        })
    }

    /// Padding before an item of `size` bytes at offset `len`.
    fn padding(&self, len: usize, opt: u8, size: usize) -> usize {
        if size == 0 || opt == b'c' {
            return 0;
        }
        let size = size.min(self.align);
        (size - (len & (size - 1))) & (size - 1)
    }

    /// Applies a control option (`<`, `>`, `!n`, space); anything else is not an option.
    fn control(&mut self, opt: u8) -> Result<(), Fail> {
        match opt {
            b' ' => {}
            b'>' => self.big_endian = true,
            b'<' => self.big_endian = false,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(Fail::Plain(format!("alignment {a} is not a power of 2")));
                }
                self.align = a;
            }
            _ => return Err(Fail::Arg(1, format!("invalid format option '{}'", opt as char))),
        }
        Ok(())
    }

    fn put_bytes(&self, out: &mut Vec<u8>, little_endian: &[u8]) {
        if self.big_endian {
            out.extend(little_endian.iter().rev());
        } else {
            out.extend_from_slice(little_endian);
        }
    }

    fn put_integer(&self, out: &mut Vec<u8>, n: f64, size: usize) {
        let mut value = if n < 0.0 { float_to_int(n) as u64 } else { double_to_u64(n) };
        let mut bytes = [0u8; MAX_INT_SIZE];
        for b in bytes.iter_mut().take(size) {
            *b = value as u8;
            value = value.checked_shr(8).unwrap_or(0);
        }
        self.put_bytes(out, &bytes[..size]);
    }

    fn get_integer(&self, data: &[u8], signed: bool) -> f64 {
        let mut l: u64 = 0;
        let mut push = |b: u8| l = (l << 8) | b as u64;
        if self.big_endian {
            data.iter().for_each(|&b| push(b));
        } else {
            data.iter().rev().for_each(|&b| push(b));
        }
        if !signed {
            return l as f64;
        }
        // The C build shifts by `size * 8 - 1`, which x86-64 takes modulo 64.
        let mask = u64::MAX.wrapping_shl((data.len() * 8).wrapping_sub(1) as u32);
        if l & mask != 0 {
            l |= mask;
        }
        l as i64 as f64
    }

    fn get_float(&self, data: &[u8]) -> f64 {
        let mut b = [0u8; 8];
        b[..data.len()].copy_from_slice(data);
        if self.big_endian {
            b[..data.len()].reverse();
        }
        match data.len() {
            4 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            _ => f64::from_le_bytes(b),
        }
    }
}

/// `(unsigned long)n` for a non-negative double as x86-64 code converts it.
fn double_to_u64(n: f64) -> u64 {
    const HIGH: f64 = 9_223_372_036_854_775_808.0;
    if n < HIGH {
        float_to_int(n) as u64
    } else {
        (float_to_int(n - HIGH) as u64) ^ (1 << 63)
    }
}

/// An argument of `pack`, as Lua sees it.
trait PackArgs {
    fn number(&self, i: usize) -> Result<f64, Fail>;
    fn string(&self, i: usize) -> Result<Vec<u8>, Fail>;
    fn expected(&self, i: usize, what: &str) -> Fail;
}

impl PackArgs for [Value<'_>] {
    fn number(&self, i: usize) -> Result<f64, Fail> {
        let v = self.get(i).copied().unwrap_or(Value::Nil);
        to_number(v).ok_or_else(|| self.expected(i, "number"))
    }

    fn string(&self, i: usize) -> Result<Vec<u8>, Fail> {
        let v = self.get(i).copied().unwrap_or(Value::Nil);
        to_bytes(v).ok_or_else(|| self.expected(i, "string"))
    }

    /// The C build pushes a nil right after the arguments, so the first
    /// missing one reads as nil and the ones after it as no value.
    fn expected(&self, i: usize, what: &str) -> Fail {
        let got = match self.get(i) {
            Some(&v) => super::base::type_name(v),
            None if i == self.len() => "nil",
            None => "no value",
        };
        Fail::Arg(i + 1, format!("{what} expected, got {got}"))
    }
}

/// `struct.pack`: `args[0]` is the format.
fn pack(fmt: &[u8], args: &[Value<'_>]) -> Result<Vec<u8>, Fail> {
    let mut f = Format::new(fmt);
    let mut out = Vec::new();
    let mut arg = 1;
    while let Some(next) = f.next_option() {
        let (opt, size) = next?;
        let pad = f.padding(out.len(), opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = args.number(arg)?;
                arg += 1;
                f.put_integer(&mut out, n, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let n = args.number(arg)? as f32;
                arg += 1;
                f.put_bytes(&mut out, &n.to_le_bytes());
            }
            b'd' => {
                let n = args.number(arg)?;
                arg += 1;
                f.put_bytes(&mut out, &n.to_le_bytes());
            }
            b'c' | b's' => {
                let s = args.string(arg)?;
                let size = if size == 0 { s.len() } else { size };
                if s.len() < size {
                    // The C build has already moved past this argument when it checks.
                    return Err(Fail::Arg(arg + 2, "string too short".into()));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
                arg += 1;
            }
            _ => f.control(opt)?,
        }
    }
    Ok(out)
}

/// A value `unpack` read: a number, or a string as a range of the data.
#[derive(Debug, PartialEq)]
enum Item {
    Number(f64),
    Bytes(std::ops::Range<usize>),
}

/// `struct.unpack`: the values read and the position after them (1-based).
fn unpack(fmt: &[u8], data: &[u8], start: i64) -> Result<(Vec<Item>, usize), Fail> {
    if start == 0 {
        return Err(Fail::Arg(3, "offset must be 1 or greater".into()));
    }
    // The C build keeps the position unsigned: a negative one is past the end.
    let mut pos = (start as usize).wrapping_sub(1);
    let mut f = Format::new(fmt);
    let mut out = Vec::new();
    let short = || Fail::Arg(2, "data string too short".into());
    let fits = |pos: usize, size: usize| size <= data.len() && pos <= data.len() - size;
    while let Some(next) = f.next_option() {
        let (opt, mut size) = next?;
        pos = pos.wrapping_add(f.padding(pos, opt, size));
        if !fits(pos, size) {
            return Err(short());
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                out.push(Item::Number(f.get_integer(&data[pos..pos + size], opt.is_ascii_lowercase())));
            }
            b'x' => {}
            b'f' | b'd' => out.push(Item::Number(f.get_float(&data[pos..pos + size]))),
            b'c' => {
                if size == 0 {
                    let n = match out.last() {
                        Some(Item::Number(n)) => Some(*n),
                        Some(Item::Bytes(r)) => super::base::parse_number(&data[r.clone()]),
                        None => None,
                    };
                    let Some(n) = n else {
                        return Err(Fail::Plain("format 'c0' needs a previous size".into()));
                    };
                    out.pop();
                    size = double_to_u64(n) as usize;
                    if !fits(pos, size) {
                        return Err(short());
                    }
                }
                out.push(Item::Bytes(pos..pos + size));
            }
            b's' => {
                let Some(len) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(Fail::Plain("unfinished string in data".into()));
                };
                out.push(Item::Bytes(pos..pos + len));
                size = len + 1;
            }
            _ => f.control(opt)?,
        }
        pos += size;
    }
    Ok((out, pos.wrapping_add(1)))
}

/// `struct.size`: the bytes a record of this format takes.
fn size(fmt: &[u8]) -> Result<usize, Fail> {
    let mut f = Format::new(fmt);
    let mut pos: usize = 0;
    while let Some(next) = f.next_option() {
        let (opt, size) = next?;
        pos += f.padding(pos, opt, size);
        if opt == b's' {
            return Err(Fail::Arg(1, "option 's' has no fixed size".into()));
        }
        if opt == b'c' && size == 0 {
            return Err(Fail::Arg(1, "option 'c0' has no fixed size".into()));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt)?;
        }
        pos += size;
    }
    Ok(pos)
}

fn lua_error<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, f: &str, e: Fail) -> Error<'gc> {
    match e {
        Fail::Arg(n, why) => bad_arg(ctx, exec, n, f, &why),
        Fail::Plain(m) => raise(ctx, exec, &m),
    }
}

fn charge_format<'gc>(
    ctx: Context<'gc>,
    exec: &mut Execution<'gc, '_>,
    b: &Shared,
    stack: &Stack<'gc, '_>,
    f: &str,
) -> Result<Vec<u8>, Error<'gc>> {
    let fmt = arg_bytes(ctx, exec, stack, 0, f)?;
    charge(ctx, exec, b, fmt.len() / 8 + 1)?;
    Ok(fmt)
}

/// Installs `struct`.
pub(crate) fn install<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    let t = Table::new(&ctx);
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "pack",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            let fmt = charge_format(ctx, &mut exec, &b, &stack, "pack")?;
            let args: Vec<Value<'gc>> = (0..stack.len()).map(|i| stack.get(i)).collect();
            let out = pack(&fmt, &args).map_err(|e| lua_error(ctx, &exec, "pack", e))?;
            check_alloc(ctx, &b, out.len())?;
            charge(ctx, &mut exec, &b, out.len() / 8)?;
            stack.replace(ctx, ctx.intern(&out));
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "unpack",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            let fmt = charge_format(ctx, &mut exec, &b, &stack, "unpack")?;
            let data = arg_bytes(ctx, &exec, &stack, 1, "unpack")?;
            let start = match stack.get(2) {
                Value::Nil => 1,
                _ => float_to_int(arg_number(ctx, &exec, &stack, 2, "unpack")?),
            };
            let (values, next) = unpack(&fmt, &data, start).map_err(|e| lua_error(ctx, &exec, "unpack", e))?;
            charge(ctx, &mut exec, &b, values.len() + data.len() / 8)?;
            stack.clear();
            for v in values {
                stack.push_back(match v {
                    Item::Number(n) => number_value(n),
                    Item::Bytes(r) => ctx.intern(&data[r]).into(),
                });
            }
            stack.push_back(Value::Integer(next as i64));
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "size",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            let fmt = charge_format(ctx, &mut exec, &b, &stack, "size")?;
            let n = size(&fmt).map_err(|e| lua_error(ctx, &exec, "size", e))?;
            stack.replace(ctx, Value::Integer(n as i64));
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = ctx.globals().set(ctx, "struct", t);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(items: &[Item]) -> Vec<f64> {
        items
            .iter()
            .map(|i| match i {
                Item::Number(n) => *n,
                Item::Bytes(_) => f64::NAN,
            })
            .collect()
    }

    #[test]
    fn integers_round_trip_in_both_byte_orders() {
        let args = [Value::Nil, Value::Integer(-5), Value::Integer(300), Value::Integer(7)];
        let packed = pack(b">i<h!4b", &args).unwrap();
        assert_eq!(packed, vec![0xff, 0xff, 0xff, 0xfb, 0x2c, 0x01, 0x07]);
        let (items, next) = unpack(b">i<h!4b", &packed, 1).unwrap();
        assert_eq!(numbers(&items), vec![-5.0, 300.0, 7.0]);
        assert_eq!(next, 8);
    }

    #[test]
    fn alignment_pads_to_the_smaller_of_size_and_align() {
        let args = [Value::Nil, Value::Integer(1), Value::Integer(2), Value::Integer(3)];
        assert_eq!(pack(b"!4bih", &args).unwrap(), vec![1, 0, 0, 0, 2, 0, 0, 0, 3, 0]);
        assert_eq!(size(b"!8bd"), Ok(16));
        assert_eq!(size(b"bd"), Ok(9));
        assert_eq!(size(b"!2bd"), Ok(10));
    }

    #[test]
    fn strings_and_counted_strings() {
        let (items, next) = unpack(b"bc0s", b"\x03abcde\0", 1).unwrap();
        assert_eq!(items, vec![Item::Bytes(1..4), Item::Bytes(4..6)]);
        assert_eq!(next, 8);
        assert_eq!(unpack(b"c0", b"abc", 1), Err(Fail::Plain("format 'c0' needs a previous size".into())));
        assert_eq!(unpack(b"s", b"abc", 1), Err(Fail::Plain("unfinished string in data".into())));
    }

    #[test]
    fn bad_formats_and_short_data_are_errors() {
        let no_args = [Value::Nil];
        assert_eq!(pack(b"z", &no_args), Err(Fail::Arg(1, "invalid format option 'z'".into())));
        assert_eq!(pack(b"i", &no_args), Err(Fail::Arg(2, "number expected, got nil".into())));
        assert_eq!(pack(b"!3", &no_args), Err(Fail::Plain("alignment 3 is not a power of 2".into())));
        assert_eq!(pack(b"!0", &no_args), Err(Fail::Plain("alignment 0 is not a power of 2".into())));
        assert_eq!(size(b"i33"), Err(Fail::Plain("integral size 33 is larger than limit of 32".into())));
        assert_eq!(size(b"c99999999999"), Err(Fail::Plain("integral size overflow".into())));
        assert_eq!(size(b"s"), Err(Fail::Arg(1, "option 's' has no fixed size".into())));
        assert_eq!(unpack(b"i", b"ab", 1), Err(Fail::Arg(2, "data string too short".into())));
        assert_eq!(unpack(b"i", b"abcd", 0), Err(Fail::Arg(3, "offset must be 1 or greater".into())));
        assert_eq!(unpack(b"i", b"abcd", -1), Err(Fail::Arg(2, "data string too short".into())));
    }

    #[test]
    fn wide_integers_sign_extend_as_the_c_build_does() {
        let (items, _) = unpack(b"i17", &[0xff; 17], 1).unwrap();
        assert_eq!(numbers(&items), vec![-1.0]);
        let (items, _) = unpack(b"I3", &[0xff; 3], 1).unwrap();
        assert_eq!(numbers(&items), vec![16_777_215.0]);
        assert_eq!(double_to_u64(2f64.powi(70)), 0);
        assert_eq!(double_to_u64(2f64.powi(63)), 1 << 63);
    }
}
