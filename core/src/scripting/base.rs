//! The Lua 5.1 base functions piccolo lacks or prints differently (`tonumber`,
//! `tostring`, `unpack`, `error` with levels, `rawequal`, `_G`, `_VERSION`),
//! the read-only global table Redis 7 gives scripts, the helpers every native
//! function uses to read arguments and raise errors with Lua's position prefix,
//! and the formatting of a script's final error as Redis prints it.

use super::numfmt;
use super::{Bridge, ScriptOrigin, Shared};
use piccolo::{BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Stack, Table, Value};

/// `user_script:3: ` for the Lua function that called the native function now running.
pub(crate) fn position(exec: &Execution<'_, '_>) -> String {
    match exec.upper_lua_frame() {
        Some(f) => format!("{}:{}: ", f.chunk_name.to_str_lossy(), f.current_line.0 + 1),
        None => String::new(),
    }
}

/// A Lua error raised by a native function: `msg` with the caller's position,
/// as `luaL_error` does.
pub(crate) fn raise<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, msg: &str) -> Error<'gc> {
    let text = format!("{}{}", position(exec), msg);
    Error::from_value(ctx.intern(text.as_bytes()).into())
}

/// `bad argument #n to 'f' (why)`.
pub(crate) fn bad_arg<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, n: usize, f: &str, why: &str) -> Error<'gc> {
    raise(ctx, exec, &format!("bad argument #{n} to '{f}' ({why})"))
}

/// Lua 5.1's name of a value's type in messages.
pub(crate) fn type_name(v: Value<'_>) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        Value::UserData(_) => "userdata",
    }
}

fn expected<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    n: usize,
    f: &str,
    what: &str,
    got: Option<Value<'gc>>,
) -> Error<'gc> {
    let got = got.map_or("no value", type_name);
    bad_arg(ctx, exec, n, f, &format!("{what} expected, got {got}"))
}

/// Argument `i`, or None when the caller passed fewer (Lua's "no value").
fn given<'gc>(stack: &Stack<'gc, '_>, i: usize) -> Option<Value<'gc>> {
    (i < stack.len()).then(|| stack.get(i))
}

/// A string argument (numbers are converted, as Lua does).
pub(crate) fn arg_bytes<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
    f: &str,
) -> Result<Vec<u8>, Error<'gc>> {
    let v = stack.get(i);
    to_bytes(v).ok_or_else(|| expected(ctx, exec, i + 1, f, "string", given(stack, i)))
}

/// The bytes of a string or number value, as Lua 5.1 converts it.
pub(crate) fn to_bytes(v: Value<'_>) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(n) => Some(numfmt::int(n).into_bytes()),
        Value::Number(n) => Some(numfmt::number(n).into_bytes()),
        _ => None,
    }
}

/// A number argument (numeric strings are converted).
pub(crate) fn arg_number<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
    f: &str,
) -> Result<f64, Error<'gc>> {
    let v = stack.get(i);
    to_number(v).ok_or_else(|| expected(ctx, exec, i + 1, f, "number", given(stack, i)))
}

/// An integer argument (Lua 5.1 truncates numbers toward zero).
pub(crate) fn arg_int<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
    f: &str,
) -> Result<i64, Error<'gc>> {
    if let Value::Integer(n) = stack.get(i) {
        return Ok(n);
    }
    arg_number(ctx, exec, stack, i, f).map(float_to_int)
}

/// An optional integer argument.
pub(crate) fn opt_int<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
    f: &str,
    default: i64,
) -> Result<i64, Error<'gc>> {
    if stack.get(i).is_nil() {
        return Ok(default);
    }
    arg_int(ctx, exec, stack, i, f)
}

/// A table argument.
pub(crate) fn arg_table<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
    f: &str,
) -> Result<Table<'gc>, Error<'gc>> {
    match stack.get(i) {
        Value::Table(t) => Ok(t),
        _ => Err(expected(ctx, exec, i + 1, f, "table", given(stack, i))),
    }
}

/// `(lua_Integer)` of a double, as Lua 5.1's `lua_tointeger` does on x86-64.
pub(crate) fn float_to_int(f: f64) -> i64 {
    // x86-64's conversion gives the "integer indefinite" value for NaN and
    // anything out of range, as Redis replies show (`1e400` becomes i64::MIN).
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// A value as a Lua 5.1 number: numbers, and strings that read as one.
pub(crate) fn to_number(v: Value<'_>) -> Option<f64> {
    match v {
        Value::Integer(n) => Some(n as f64),
        Value::Number(n) => Some(n),
        Value::String(s) => parse_number(s.as_bytes()),
        _ => None,
    }
}

/// Lua 5.1's `lua_str2number`: a decimal float (strtod) or a hex integer,
/// surrounded by optional whitespace.
pub(crate) fn parse_number(s: &[u8]) -> Option<f64> {
    let t = std::str::from_utf8(s).ok()?.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
    if t.is_empty() {
        return None;
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let v = hex.bytes().fold(0f64, |acc, c| acc * 16.0 + (c as char).to_digit(16).unwrap_or(0) as f64);
        return Some(if neg { -v } else { v });
    }
    let lower = body.to_ascii_lowercase();
    if lower.starts_with("inf") || lower.starts_with("nan") {
        // strtod reads these; Lua 5.1 accepts them only in full ("inf", "nan").
        let v = match lower.as_str() {
            "inf" | "infinity" => f64::INFINITY,
            "nan" => f64::NAN,
            _ => return None,
        };
        return Some(if neg { -v } else { v });
    }
    if !body.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    let v: f64 = body.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// `tonumber(s, base)` for bases other than 10: what Lua 5.1 makes of
/// `strtoul`: an unsigned integer in that base, a negative one wrapping
/// around 2^64, as a double (`nil` unless the whole string is read).
fn parse_in_base<'gc>(s: &[u8], base: u32) -> Option<Value<'gc>> {
    let t = std::str::from_utf8(s).ok()?.trim_matches(|c: char| c.is_ascii_whitespace());
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for c in digits.chars() {
        let d = c.to_digit(base)? as u64;
        match v.checked_mul(base as u64).and_then(|v| v.checked_add(d)) {
            Some(n) => v = n,
            None => overflow = true,
        }
    }
    let v = if overflow {
        u64::MAX
    } else if neg {
        v.wrapping_neg()
    } else {
        v
    };
    Some(number_value(v as f64))
}

/// A Lua number value for `f`: an integer when it is one (keeps piccolo's
/// integer fast paths), a float otherwise.
pub(crate) fn number_value<'gc>(f: f64) -> Value<'gc> {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 && !(f == 0.0 && f.is_sign_negative()) {
        Value::Integer(f as i64)
    } else {
        Value::Number(f)
    }
}

/// `tostring` as Lua 5.1 prints: numbers with `%.14g`.
pub(crate) fn display<'gc>(v: Value<'gc>) -> Option<Vec<u8>> {
    match v {
        Value::Nil => Some(b"nil".to_vec()),
        Value::Boolean(b) => Some(if b { b"true".to_vec() } else { b"false".to_vec() }),
        Value::String(_) | Value::Integer(_) | Value::Number(_) => to_bytes(v),
        _ => None,
    }
}

/// Sets the function `name` of a library table.
pub(crate) fn set<'gc>(ctx: Context<'gc>, t: Table<'gc>, name: &'static str, f: Callback<'gc>) {
    let _ = t.set(ctx, name, f);
}

/// The global library table `name` (piccolo's, to extend), or a new one.
pub(crate) fn library<'gc>(ctx: Context<'gc>, name: &'static str) -> Table<'gc> {
    match ctx.globals().get(ctx, name) {
        Value::Table(t) => t,
        _ => Table::new(&ctx),
    }
}

/// Installs the base functions.
pub(crate) fn install<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    let g = ctx.globals();
    let _ = g.set(ctx, "_G", g);
    let _ = g.set(ctx, "_VERSION", "Lua 5.1");
    let piccolo_tostring = g.get(ctx, "tostring");
    set(
        ctx,
        g,
        "tostring",
        Callback::from_fn_with(&ctx, piccolo_tostring, |orig, ctx, exec, mut stack| {
            if stack.is_empty() {
                return Err(bad_arg(ctx, &exec, 1, "tostring", "value expected"));
            }
            let v = stack.get(0);
            if let Some(b) = display(v) {
                stack.replace(ctx, ctx.intern(&b));
                return Ok(CallbackReturn::Return);
            }
            match orig {
                Value::Function(f) => {
                    stack.drain(1..);
                    Ok(CallbackReturn::Call { function: *f, then: None })
                }
                _ => Err(raise(ctx, &exec, "tostring unavailable")),
            }
        }),
    );
    set(
        ctx,
        g,
        "tonumber",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let v = stack.get(0);
            let base = stack.get(1);
            let out = if base.is_nil() {
                to_number(v).map(number_value)
            } else {
                let b = arg_int(ctx, &exec, &stack, 1, "tonumber")?;
                if !(2..=36).contains(&b) {
                    return Err(bad_arg(ctx, &exec, 2, "tonumber", "base out of range"));
                }
                let s = arg_bytes(ctx, &exec, &stack, 0, "tonumber")?;
                parse_in_base(&s, b as u32)
            };
            stack.replace(ctx, out.unwrap_or(Value::Nil));
            Ok(CallbackReturn::Return)
        }),
    );
    let unpack = Callback::from_fn(&ctx, |ctx, mut exec, mut stack| {
        let t = arg_table(ctx, &exec, &stack, 0, "unpack")?;
        let i = opt_int(ctx, &exec, &stack, 1, "unpack", 1)?;
        let j = if stack.get(2).is_nil() { t.length() } else { arg_int(ctx, &exec, &stack, 2, "unpack")? };
        stack.clear();
        if i > j {
            return Ok(CallbackReturn::Return);
        }
        let n = (j as i128 - i as i128 + 1) as u128;
        if n >= 8000 {
            return Err(raise(ctx, &exec, "too many results to unpack"));
        }
        exec.fuel().consume(n as i32);
        for k in i..=j {
            stack.push_back(t.get(ctx, k));
        }
        Ok(CallbackReturn::Return)
    });
    set(ctx, g, "unpack", unpack);
    if let Value::Table(table) = g.get(ctx, "table") {
        let _ = table.set(ctx, "unpack", unpack);
    }
    let b = bridge.clone();
    set(
        ctx,
        g,
        "error",
        Callback::from_fn(&ctx, move |ctx, exec, stack| {
            let v = stack.get(0);
            let level = stack.get(1).to_integer().unwrap_or(1);
            if let Some(f) = exec.upper_lua_frame() {
                b.borrow_mut().line = f.current_line.0 + 1;
            }
            match v {
                Value::String(s) if level > 0 => {
                    let mut text = position(&exec).into_bytes();
                    text.extend_from_slice(s.as_bytes());
                    Err(Error::from_value(ctx.intern(&text).into()))
                }
                v => Err(Error::from_value(v)),
            }
        }),
    );
    let b = bridge.clone();
    set(
        ctx,
        g,
        super::rewrite::CONCAT,
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            let (x, y) = (stack.get(0), stack.get(1));
            let (Some(a), Some(c)) = (to_bytes(x), to_bytes(y)) else {
                let handler = |v: Value<'gc>| match v {
                    Value::Table(t) => t.metatable().map(|m| m.get(ctx, "__concat")).filter(|f| !f.is_nil()),
                    _ => None,
                };
                if let Some(Ok(function)) = handler(x).or_else(|| handler(y)).map(|f| piccolo::meta_ops::call(ctx, f)) {
                    return Ok(CallbackReturn::Call { function, then: None });
                }
                let bad = if to_bytes(x).is_none() { x } else { y };
                return Err(raise(ctx, &exec, &format!("attempt to concatenate a {} value", type_name(bad))));
            };
            let len = a.len() + c.len();
            super::strlib::check_alloc(ctx, &b, len)?;
            exec.fuel().consume((len / 64).min(i32::MAX as usize) as i32);
            let mut out = a;
            out.extend_from_slice(&c);
            stack.replace(ctx, ctx.intern(&out));
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        g,
        "select",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let n = stack.len().saturating_sub(1) as i64;
            if let Value::String(s) = stack.get(0) {
                if s.as_bytes().first() == Some(&b'#') {
                    stack.replace(ctx, Value::Integer(n));
                    return Ok(CallbackReturn::Return);
                }
            }
            let i = arg_int(ctx, &exec, &stack, 0, "select")?;
            let i = if i < 0 { n + i + 1 } else { i.min(n + 1) };
            if i < 1 {
                return Err(bad_arg(ctx, &exec, 1, "select", "index out of range"));
            }
            stack.drain(..i as usize);
            Ok(CallbackReturn::Return)
        }),
    );
    let string_meta = Table::new(&ctx);
    let _ = string_meta.set(ctx, "__index", library(ctx, "string"));
    set(
        ctx,
        g,
        "getmetatable",
        Callback::from_fn_with(&ctx, string_meta, |string_meta, ctx, _, mut stack| {
            let meta = match stack.get(0) {
                Value::Table(t) => t.metatable(),
                Value::String(_) => Some(*string_meta),
                _ => None,
            };
            let v = match meta {
                Some(m) => match m.get(ctx, "__metatable") {
                    Value::Nil => Value::Table(m),
                    protected => protected,
                },
                None => Value::Nil,
            };
            stack.replace(ctx, v);
            Ok(CallbackReturn::Return)
        }),
    );
    set(ctx, g, super::rewrite::PASS, Callback::from_fn(&ctx, |_, _, _| Ok(CallbackReturn::Return)));
    let strings = library(ctx, "string");
    set(
        ctx,
        g,
        super::rewrite::METHOD,
        Callback::from_fn_with(&ctx, strings, |strings, ctx, exec, mut stack| {
            let obj = stack.get(0);
            let name = stack.get(1);
            let mut args: Vec<Value> = stack.drain(..).collect();
            args.remove(1);
            let shown = || display(name).map(|n| String::from_utf8_lossy(&n).into_owned()).unwrap_or_default();
            let method = match obj {
                Value::String(_) => strings.get_value(name),
                Value::Table(_) | Value::UserData(_) => match piccolo::meta_ops::index(ctx, obj, name) {
                    Ok(piccolo::meta_ops::MetaResult::Value(v)) => v,
                    Ok(piccolo::meta_ops::MetaResult::Call(c)) => {
                        stack.extend(c.args);
                        let then = BoxSequence::new(&ctx, MethodCall { args });
                        return Ok(CallbackReturn::Call { function: c.function, then: Some(then) });
                    }
                    Err(_) => Value::Nil,
                },
                other => {
                    return Err(raise(ctx, &exec, &format!("attempt to index a {} value", type_name(other))));
                }
            };
            let Ok(function) = piccolo::meta_ops::call(ctx, method) else {
                return Err(raise(
                    ctx,
                    &exec,
                    &format!("attempt to call method '{}' (a {} value)", shown(), type_name(method)),
                ));
            };
            stack.extend(args);
            Ok(CallbackReturn::Call { function, then: None })
        }),
    );
    set(
        ctx,
        g,
        "rawequal",
        Callback::from_fn(&ctx, |ctx, _, mut stack| {
            let eq = raw_equal(stack.get(0), stack.get(1));
            stack.replace(ctx, eq);
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        g,
        "gcinfo",
        Callback::from_fn(&ctx, |ctx, _, mut stack| {
            let kb = ctx.metrics().total_allocation() / 1024;
            stack.replace(ctx, kb as i64);
            Ok(CallbackReturn::Return)
        }),
    );
}

/// A method found through an `__index` function: call it with the object and
/// the arguments once the lookup returns.
#[derive(gc_arena::Collect)]
#[collect(no_drop)]
struct MethodCall<'gc> {
    args: Vec<Value<'gc>>,
}

impl<'gc> piccolo::Sequence<'gc> for MethodCall<'gc> {
    fn poll(
        &mut self,
        ctx: Context<'gc>,
        exec: Execution<'gc, '_>,
        mut stack: Stack<'gc, '_>,
    ) -> Result<piccolo::SequencePoll<'gc>, Error<'gc>> {
        let method = stack.get(0);
        stack.clear();
        let function = piccolo::meta_ops::call(ctx, method)
            .map_err(|_| raise(ctx, &exec, &format!("attempt to call a {} value", type_name(method))))?;
        stack.extend(self.args.drain(..));
        Ok(piccolo::SequencePoll::Call { function, is_tail: true })
    }
}

fn raw_equal<'gc>(a: Value<'gc>, b: Value<'gc>) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Number(y)) | (Value::Number(y), Value::Integer(x)) => x as f64 == y,
        (Value::Nil, Value::Nil) => true,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        (Value::Integer(x), Value::Integer(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x.as_bytes() == y.as_bytes(),
        (Value::Table(x), Value::Table(y)) => x == y,
        (Value::Function(x), Value::Function(y)) => x == y,
        (Value::Thread(x), Value::Thread(y)) => x == y,
        (Value::UserData(x), Value::UserData(y)) => x == y,
        _ => false,
    }
}

/// Makes the global table read-only, as Redis 7 does: reading a missing global
/// and creating one are errors.
pub(crate) fn protect_globals<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    let meta = Table::new(&ctx);
    let b = bridge.clone();
    let _ = meta.set(
        ctx,
        "__index",
        Callback::from_fn(&ctx, move |ctx, exec, stack| {
            if let Some(f) = exec.upper_lua_frame() {
                b.borrow_mut().line = f.current_line.0 + 1;
            }
            let name = display(stack.get(1)).unwrap_or_default();
            Err(raise(
                ctx,
                &exec,
                &format!("Script attempted to access nonexistent global variable '{}'", String::from_utf8_lossy(&name)),
            ))
        }),
    );
    let b = bridge.clone();
    let _ = meta.set(
        ctx,
        "__newindex",
        Callback::from_fn(&ctx, move |ctx, exec, _| {
            if let Some(f) = exec.upper_lua_frame() {
                b.borrow_mut().line = f.current_line.0 + 1;
            }
            Err(raise(ctx, &exec, "Attempt to modify a readonly table"))
        }),
    );
    let _ = ctx.globals().set_metatable(&ctx, Some(meta));
}

/// A compile error as Lua 5.1 words it: `user_script:1: <why>`.
pub(crate) fn compile_error(chunk: &str, code: &[u8], e: &piccolo::PrototypeError) -> String {
    match e {
        piccolo::PrototypeError::Parser(p) => {
            use piccolo::compiler::ParseErrorKind as K;
            let why = match &p.kind {
                K::ExpressionNotStatement => {
                    super::syntax::expression_statement(code, p.line_number.0).unwrap_or_else(|| p.kind.to_string())
                }
                K::EndOfStream { expected } => match expected.as_deref().and_then(super::syntax::expected_text) {
                    Some(want) => format!("{want} expected near '<eof>'"),
                    None => "unexpected symbol near '<eof>'".to_string(),
                },
                K::Unexpected { unexpected, expected } => {
                    let near = super::syntax::debug_token_text(unexpected);
                    match super::syntax::expected_text(expected) {
                        Some(want) => format!("{want} expected near '{near}'"),
                        None => format!("unexpected symbol near '{near}'"),
                    }
                }
                K::LexError(l) => l.to_string(),
                other => other.to_string(),
            };
            format!("{chunk}:{}: {why}", p.line_number.0 + 1)
        }
        piccolo::PrototypeError::Compiler(c) => format!("{chunk}:{}: {}", c.line_number.0 + 1, c.kind),
    }
}

/// The error reply for a script that ended with a Lua error, as Redis 7 words it.
pub(crate) fn error_text<'gc>(ctx: Context<'gc>, e: &Error<'gc>, b: &Bridge, origin: &ScriptOrigin) -> String {
    let chunk = if origin.function { "user_function" } else { "user_script" };
    let suffix = format!(" script: {}, on @{chunk}:{}.", origin.name, b.line.max(1));
    let text = match e {
        Error::Lua(v) => match v.0 {
            Value::String(s) => {
                let bytes = s.as_bytes();
                let msg = String::from_utf8_lossy(bytes);
                if b.call_error.as_deref() == Some(bytes) {
                    msg.into_owned()
                } else {
                    format!("ERR {msg}")
                }
            }
            Value::Table(t) => match t.get(ctx, "err") {
                Value::String(s) => s.to_str_lossy().into_owned(),
                _ => "ERR unknown error".to_string(),
            },
            other => match display(other) {
                Some(d) => format!("ERR {}", String::from_utf8_lossy(&d)),
                None => "ERR unknown error".to_string(),
            },
        },
        Error::Runtime(r) => format!("ERR {chunk}:{}: {}", b.line.max(1), runtime_message(&r.to_string())),
    };
    let text = text.replace(['\r', '\n'], " ");
    format!("{text}{suffix}")
}

/// piccolo's wording of a VM error, in Lua 5.1's words where they are known.
pub(crate) fn runtime_message(m: &str) -> String {
    let m = m.strip_prefix("runtime error: ").unwrap_or(m);
    if let Some(rest) = m.strip_prefix("type error, expected ") {
        return format!("attempt to use a {} value", rest.rsplit(' ').next().unwrap_or("nil"));
    }
    m.to_string()
}
