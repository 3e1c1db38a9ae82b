//! `cmsgpack` as Redis bundles it (lua-cmsgpack): `pack(...)` encodes each
//! argument with the smallest MessagePack form (integers when the number is
//! one, float32 when exact, tables without holes as arrays, others as maps,
//! nesting past 16 as nil) and `unpack(s)` returns every object in `s`.
//! Both charge the script's budget by size.

use super::base::{bad_arg, raise};
use super::strlib::check_alloc;
use super::Shared;
use piccolo::{Callback, CallbackReturn, Context, Table, Value};

/// Deepest table nesting encoded; deeper tables encode as nil.
const MAX_NESTING: usize = 16;

/// Installs `cmsgpack`.
pub(crate) fn install<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    let t = Table::new(&ctx);
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "pack",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            if stack.is_empty() {
                return Err(bad_arg(ctx, &exec, 0, "pack", "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for i in 0..stack.len() {
                encode(ctx, &mut out, stack.get(i), 0);
                check_alloc(ctx, &b, out.len())?;
            }
            exec.fuel().consume((out.len() / 64).min(i32::MAX as usize) as i32);
            stack.replace(ctx, ctx.intern(&out));
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "unpack",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            let data = super::base::arg_bytes(ctx, &exec, &stack, 0, "unpack")?;
            check_alloc(ctx, &b, data.len().saturating_mul(4))?;
            exec.fuel().consume((data.len() / 16).min(i32::MAX as usize) as i32);
            stack.clear();
            let mut d = Decoder { s: &data, pos: 0 };
            while d.pos < data.len() {
                let v = d.value(ctx, 0).map_err(|m| raise(ctx, &exec, m))?;
                stack.push_back(v);
            }
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = ctx.globals().set(ctx, "cmsgpack", t);
}

fn encode<'gc>(ctx: Context<'gc>, out: &mut Vec<u8>, v: Value<'gc>, depth: usize) {
    match v {
        Value::Boolean(b) => out.push(if b { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => int(out, n),
        Value::Number(f) => {
            const LIMIT: f64 = 9_223_372_036_854_775_808.0;
            if (-LIMIT..LIMIT).contains(&f) && f == (f as i64) as f64 {
                int(out, f as i64);
            } else if f64::from(f as f32) == f || f.is_nan() {
                out.push(0xca);
                out.extend_from_slice(&(f as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&f.to_be_bytes());
            }
        }
        Value::String(s) => bytes(out, s.as_bytes()),
        Value::Table(t) if depth < MAX_NESTING => table(ctx, out, t, depth + 1),
        _ => out.push(0xc0),
    }
}

fn int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        let u = n as u64;
        match u {
            0..=0x7f => out.push(u as u8),
            0x80..=0xff => out.extend_from_slice(&[0xcc, u as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend_from_slice(&(u as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(u as u32).to_be_bytes());
            }
            _ => {
                out.push(0xcf);
                out.extend_from_slice(&u.to_be_bytes());
            }
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -(1 << 31) {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn bytes(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn header(out: &mut Vec<u8>, n: usize, fix: u8, w16: u8, w32: u8) {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(w16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(w32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn table<'gc>(ctx: Context<'gc>, out: &mut Vec<u8>, t: Table<'gc>, depth: usize) {
    // An array when the keys are exactly 1..n.
    let (mut count, mut max, mut array) = (0usize, 0i64, true);
    for (k, _) in t.iter() {
        count += 1;
        match k {
            Value::Integer(n) if n >= 1 => max = max.max(n),
            Value::Number(f) if f >= 1.0 && f.fract() == 0.0 => max = max.max(f as i64),
            _ => array = false,
        }
    }
    if array && max as usize == count {
        header(out, count, 0x90, 0xdc, 0xdd);
        for i in 1..=max {
            encode(ctx, out, t.get(ctx, i), depth);
        }
        return;
    }
    header(out, count, 0x80, 0xde, 0xdf);
    for (k, v) in t.iter() {
        encode(ctx, out, k, depth);
        encode(ctx, out, v, depth);
    }
}

struct Decoder<'s> {
    s: &'s [u8],
    pos: usize,
}

const MISSING: &str = "Missing bytes in input.";
const BAD: &str = "Bad data format in input.";

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], &'static str> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.s.len()).ok_or(MISSING)?;
        let b = &self.s[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn uint(&mut self, n: usize) -> Result<u64, &'static str> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }

    fn value<'gc>(&mut self, ctx: Context<'gc>, depth: usize) -> Result<Value<'gc>, &'static str> {
        if depth > 1000 {
            return Err(BAD);
        }
        let t = self.take(1)?[0];
        let num = |f: f64| super::base::number_value(f);
        Ok(match t {
            0x00..=0x7f => Value::Integer(t as i64),
            0xe0..=0xff => Value::Integer(t as i8 as i64),
            0xc0 => Value::Nil,
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xcc => Value::Integer(self.uint(1)? as i64),
            0xcd => Value::Integer(self.uint(2)? as i64),
            0xce => Value::Integer(self.uint(4)? as i64),
            0xcf => num(self.uint(8)? as f64),
            0xd0 => Value::Integer(self.uint(1)? as u8 as i8 as i64),
            0xd1 => Value::Integer(self.uint(2)? as u16 as i16 as i64),
            0xd2 => Value::Integer(self.uint(4)? as u32 as i32 as i64),
            0xd3 => num(self.uint(8)? as i64 as f64),
            0xca => num(f32::from_bits(self.uint(4)? as u32) as f64),
            0xcb => num(f64::from_bits(self.uint(8)?)),
            0xa0..=0xbf => self.string(ctx, (t & 0x1f) as usize)?,
            0xd9 | 0xc4 => {
                let n = self.uint(1)? as usize;
                self.string(ctx, n)?
            }
            0xda | 0xc5 => {
                let n = self.uint(2)? as usize;
                self.string(ctx, n)?
            }
            0xdb | 0xc6 => {
                let n = self.uint(4)? as usize;
                self.string(ctx, n)?
            }
            0x90..=0x9f => self.array(ctx, (t & 0x0f) as usize, depth)?,
            0xdc => {
                let n = self.uint(2)? as usize;
                self.array(ctx, n, depth)?
            }
            0xdd => {
                let n = self.uint(4)? as usize;
                self.array(ctx, n, depth)?
            }
            0x80..=0x8f => self.map(ctx, (t & 0x0f) as usize, depth)?,
            0xde => {
                let n = self.uint(2)? as usize;
                self.map(ctx, n, depth)?
            }
            0xdf => {
                let n = self.uint(4)? as usize;
                self.map(ctx, n, depth)?
            }
            _ => return Err(BAD),
        })
    }

    fn string<'gc>(&mut self, ctx: Context<'gc>, n: usize) -> Result<Value<'gc>, &'static str> {
        Ok(ctx.intern(self.take(n)?).into())
    }

    fn array<'gc>(&mut self, ctx: Context<'gc>, n: usize, depth: usize) -> Result<Value<'gc>, &'static str> {
        // Every element takes a byte at least: a count past the input is bad data.
        if n > self.s.len() - self.pos {
            return Err(MISSING);
        }
        let t = Table::new(&ctx);
        for i in 1..=n {
            let v = self.value(ctx, depth + 1)?;
            let _ = t.set(ctx, i as i64, v);
        }
        Ok(t.into())
    }

    fn map<'gc>(&mut self, ctx: Context<'gc>, n: usize, depth: usize) -> Result<Value<'gc>, &'static str> {
        if n > (self.s.len() - self.pos) / 2 {
            return Err(MISSING);
        }
        let t = Table::new(&ctx);
        for _ in 0..n {
            let k = self.value(ctx, depth + 1)?;
            let v = self.value(ctx, depth + 1)?;
            if !k.is_nil() {
                let _ = t.set(ctx, k, v);
            }
        }
        Ok(t.into())
    }
}
