//! `cjson` as Redis bundles it (lua-cjson's defaults): `encode`, `decode`,
//! `null`. Written for slotkv with lua-cjson's rules and messages: empty
//! tables encode as `{}`, arrays may have holes (filled with `null`) unless
//! excessively sparse, `/` is escaped, numbers print with `%.14g`, nesting
//! stops at 1000, and decode errors name the token and its position. Both
//! directions charge the script's budget by size.

use super::base::{raise, to_bytes, type_name};
use super::strlib::check_alloc;
use super::{numfmt, Shared};
use piccolo::{Callback, CallbackReturn, Context, Table, UserData, Value};

/// Deepest nesting encoded or decoded.
const MAX_DEPTH: usize = 1000;

/// Installs `cjson`.
pub(crate) fn install<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    let t = Table::new(&ctx);
    let null = UserData::new_static(&ctx, ());
    let _ = t.set(ctx, "null", null);
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "encode",
        Callback::from_fn_with(&ctx, null, move |null, ctx, mut exec, mut stack| {
            if stack.len() != 1 {
                return Err(raise(ctx, &exec, "bad argument #1 to 'encode' (expected 1 argument)"));
            }
            let mut enc = Encoder { out: Vec::new(), null: *null, bridge: &b };
            enc.value(ctx, stack.get(0), 0).map_err(|m| raise(ctx, &exec, &m))?;
            exec.fuel().consume((enc.out.len() / 64).min(i32::MAX as usize) as i32);
            stack.replace(ctx, ctx.intern(&enc.out));
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "decode",
        Callback::from_fn_with(&ctx, null, move |null, ctx, mut exec, mut stack| {
            if stack.len() != 1 {
                return Err(raise(ctx, &exec, "bad argument #1 to 'decode' (expected 1 argument)"));
            }
            let Some(text) = to_bytes(stack.get(0)) else {
                let why = format!("string expected, got {}", type_name(stack.get(0)));
                return Err(raise(ctx, &exec, &format!("bad argument #1 to 'decode' ({why})")));
            };
            check_alloc(ctx, &b, text.len().saturating_mul(4))?;
            exec.fuel().consume((text.len() / 16).min(i32::MAX as usize) as i32);
            let mut d = Decoder { s: &text, pos: 0, null: *null };
            let v = d.document(ctx).map_err(|m| raise(ctx, &exec, &m))?;
            stack.replace(ctx, v);
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = ctx.globals().set(ctx, "cjson", t);
}

struct Encoder<'b, 'gc> {
    out: Vec<u8>,
    null: UserData<'gc>,
    bridge: &'b Shared,
}

impl<'gc> Encoder<'_, 'gc> {
    fn value(&mut self, ctx: Context<'gc>, v: Value<'gc>, depth: usize) -> Result<(), String> {
        match v {
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::Boolean(b) => self.out.extend_from_slice(if b { b"true" } else { b"false" }),
            Value::Integer(n) => self.out.extend_from_slice(numfmt::int(n).as_bytes()),
            Value::Number(f) => {
                if !f.is_finite() {
                    return Err("Cannot serialise number: must not be NaN or Inf".into());
                }
                self.out.extend_from_slice(numfmt::number(f).as_bytes());
            }
            Value::String(s) => self.string(s.as_bytes()),
            Value::UserData(u) if u == self.null => self.out.extend_from_slice(b"null"),
            Value::Table(t) => self.table(ctx, t, depth + 1)?,
            other => return Err(format!("Cannot serialise {}: type not supported", type_name(other))),
        }
        if !self.bridge.borrow_mut().may_alloc(self.out.len()) {
            return Err("not enough memory".into());
        }
        Ok(())
    }

    fn string(&mut self, s: &[u8]) {
        self.out.push(b'"');
        for &c in s {
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                c if c < 0x20 || c == 0x7f => self.out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
                c => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }

    fn table(&mut self, ctx: Context<'gc>, t: Table<'gc>, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("Cannot serialise, excessive nesting ({depth})"));
        }
        // An array when every key is a positive integer (lua-cjson's test).
        let (mut max, mut items, mut array) = (0i64, 0i64, true);
        for (k, _) in t.iter() {
            items += 1;
            let n = match k {
                Value::Integer(n) => Some(n),
                Value::Number(f) if f.fract() == 0.0 => Some(f as i64),
                _ => None,
            };
            match n {
                Some(n) if n >= 1 => max = max.max(n),
                _ => array = false,
            }
        }
        if array && max > 0 {
            if max > items * 2 && max > 10 {
                return Err("Cannot serialise table: excessively sparse array".into());
            }
            self.out.push(b'[');
            for i in 1..=max {
                if i > 1 {
                    self.out.push(b',');
                }
                self.value(ctx, t.get(ctx, i), depth)?;
            }
            self.out.push(b']');
            return Ok(());
        }
        self.out.push(b'{');
        let mut first = true;
        for (k, v) in t.iter() {
            if !first {
                self.out.push(b',');
            }
            first = false;
            match k {
                Value::String(s) => self.string(s.as_bytes()),
                Value::Integer(_) | Value::Number(_) => {
                    let key = to_bytes(k).unwrap_or_default();
                    self.string(&key);
                }
                other => {
                    return Err(format!("Cannot serialise {}: table key must be a number or string", type_name(other)))
                }
            }
            self.out.push(b':');
            self.value(ctx, v, depth)?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// A token as lua-cjson names it in messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    /// A bad token, with lua-cjson's description.
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(why) => why,
        }
    }
}

struct Decoder<'s, 'gc> {
    s: &'s [u8],
    pos: usize,
    null: UserData<'gc>,
}

/// A token with its value and where it started.
struct Token<'gc> {
    tok: Tok,
    at: usize,
    value: Value<'gc>,
}

impl<'gc> Decoder<'_, 'gc> {
    fn document(&mut self, ctx: Context<'gc>) -> Result<Value<'gc>, String> {
        let t = self.next(ctx);
        let v = self.value(ctx, t, 0)?;
        let t = self.next(ctx);
        if t.tok != Tok::End {
            return Err(expected("the end", &t));
        }
        Ok(v)
    }

    fn value(&mut self, ctx: Context<'gc>, t: Token<'gc>, depth: usize) -> Result<Value<'gc>, String> {
        match t.tok {
            Tok::Str | Tok::Num | Tok::Bool | Tok::Null => Ok(t.value),
            Tok::ObjBegin => self.object(ctx, depth + 1, t.at),
            Tok::ArrBegin => self.array(ctx, depth + 1, t.at),
            _ => Err(expected("value", &t)),
        }
    }

    fn nested(&self, depth: usize, at: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("Found too many nested data structures ({depth}) at character {}", at + 1));
        }
        Ok(())
    }

    fn object(&mut self, ctx: Context<'gc>, depth: usize, at: usize) -> Result<Value<'gc>, String> {
        self.nested(depth, at)?;
        let table = Table::new(&ctx);
        let mut t = self.next(ctx);
        if t.tok == Tok::ObjEnd {
            return Ok(table.into());
        }
        loop {
            if t.tok != Tok::Str {
                return Err(expected("object key string", &t));
            }
            let key = t.value;
            let c = self.next(ctx);
            if c.tok != Tok::Colon {
                return Err(expected("colon", &c));
            }
            let vt = self.next(ctx);
            let v = self.value(ctx, vt, depth)?;
            let _ = table.set(ctx, key, v);
            let sep = self.next(ctx);
            match sep.tok {
                Tok::ObjEnd => return Ok(table.into()),
                Tok::Comma => t = self.next(ctx),
                _ => return Err(expected("comma or object end", &sep)),
            }
        }
    }

    fn array(&mut self, ctx: Context<'gc>, depth: usize, at: usize) -> Result<Value<'gc>, String> {
        self.nested(depth, at)?;
        let table = Table::new(&ctx);
        let mut t = self.next(ctx);
        if t.tok == Tok::ArrEnd {
            return Ok(table.into());
        }
        let mut i = 1i64;
        loop {
            let v = self.value(ctx, t, depth)?;
            let _ = table.set(ctx, i, v);
            i += 1;
            let sep = self.next(ctx);
            match sep.tok {
                Tok::ArrEnd => return Ok(table.into()),
                Tok::Comma => t = self.next(ctx),
                _ => return Err(expected("comma or array end", &sep)),
            }
        }
    }

    fn next(&mut self, ctx: Context<'gc>) -> Token<'gc> {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let at = self.pos;
        let tok = |tok| Token { tok, at, value: Value::Nil };
        let Some(&c) = self.s.get(at) else { return tok(Tok::End) };
        let single = match c {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b':' => Some(Tok::Colon),
            b',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return tok(t);
        }
        if c == b'"' {
            return match self.string() {
                Ok(s) => Token { tok: Tok::Str, at, value: ctx.intern(&s).into() },
                Err((why, pos)) => Token { tok: Tok::Error(why), at: pos, value: Value::Nil },
            };
        }
        if c == b'-' || c.is_ascii_digit() {
            return match self.number() {
                Some(f) => Token { tok: Tok::Num, at, value: super::base::number_value(f) },
                None => tok(Tok::Error("invalid number")),
            };
        }
        for (word, t, v) in [
            (&b"true"[..], Tok::Bool, Value::Boolean(true)),
            (b"false", Tok::Bool, Value::Boolean(false)),
            (b"null", Tok::Null, Value::UserData(self.null)),
        ] {
            if self.s[at..].starts_with(word) {
                self.pos += word.len();
                return Token { tok: t, at, value: v };
            }
        }
        tok(Tok::Error("invalid token"))
    }

    fn string(&mut self) -> Result<Vec<u8>, (&'static str, usize)> {
        let mut out = Vec::new();
        let mut i = self.pos + 1;
        loop {
            let Some(&c) = self.s.get(i) else { return Err(("unexpected end of string", i)) };
            i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(i) else { return Err(("unexpected end of string", i)) };
                    let at = i - 1;
                    let bad = |why| (why, at);
                    i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = hex4(self.s, i).ok_or(bad("invalid unicode escape code"))?;
                            i += 4;
                            if (0xD800..0xDC00).contains(&cp) {
                                // A surrogate pair: the low half must follow.
                                if self.s.get(i..i + 2) != Some(b"\\u") {
                                    return Err(bad("invalid unicode escape code"));
                                }
                                let low = hex4(self.s, i + 2).ok_or(bad("invalid unicode escape code"))?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(bad("invalid unicode escape code"));
                                }
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                                i += 6;
                            } else if (0xDC00..0xE000).contains(&cp) {
                                return Err(bad("invalid unicode escape code"));
                            }
                            let ch = char::from_u32(cp).ok_or(bad("invalid unicode escape code"))?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(bad("invalid escape code")),
                    }
                }
                c => out.push(c),
            }
        }
        self.pos = i;
        Ok(out)
    }

    /// A number as `strtod` reads it (lua-cjson accepts hex and `-0` too).
    fn number(&mut self) -> Option<f64> {
        let start = self.pos;
        let mut end = start;
        while end < self.s.len()
            && matches!(self.s[end], b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' | b'x' | b'X' | b'.' | b'+' | b'-')
        {
            end += 1;
        }
        // The longest prefix that reads as a number.
        let text = std::str::from_utf8(&self.s[start..end]).ok()?;
        let mut n = text.len();
        while n > 0 {
            if let Some(v) = super::base::parse_number(&text.as_bytes()[..n]) {
                self.pos = start + n;
                return Some(v);
            }
            n -= 1;
        }
        None
    }
}

fn hex4(s: &[u8], at: usize) -> Option<u32> {
    let h = s.get(at..at + 4)?;
    u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
}

fn expected(what: &str, t: &Token<'_>) -> String {
    format!("Expected {what} but found {} at character {}", t.tok.name(), t.at + 1)
}
