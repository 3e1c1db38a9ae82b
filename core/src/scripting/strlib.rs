//! The `string` library as Lua 5.1 has it. Every function that loops over
//! data charges the script's step budget in proportion to its work, and checks
//! the size of what it builds before allocating it.

use super::base::{arg_bytes, arg_int, bad_arg, opt_int, raise, set, to_bytes, type_name};
use super::pattern::{self, Capture, Matcher, PatternError};
use super::printf;
use super::{Shared, Stop};
use gc_arena::Collect;
use piccolo::{BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Sequence, SequencePoll, Stack, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// Bytes of output one step of budget pays for.
const BYTES_PER_STEP: usize = 64;

/// Lua 5.1's `posrelat`: a negative position counts from the end.
fn posrelat(pos: i64, len: usize) -> i64 {
    if pos < 0 {
        pos + len as i64 + 1
    } else {
        pos
    }
}

/// Charges `steps` to the script; a budget stop if it does not fit.
pub(crate) fn charge<'gc>(
    ctx: Context<'gc>,
    exec: &mut Execution<'gc, '_>,
    b: &Shared,
    steps: usize,
) -> Result<(), Error<'gc>> {
    exec.fuel().consume(steps.min(i32::MAX as usize) as i32);
    if b.borrow_mut().charge(steps as i64) {
        Ok(())
    } else {
        Err(budget_error(ctx))
    }
}

/// Checks an allocation of `bytes` by a native function.
pub(crate) fn check_alloc<'gc>(ctx: Context<'gc>, b: &Shared, bytes: usize) -> Result<(), Error<'gc>> {
    if b.borrow_mut().may_alloc(bytes) {
        Ok(())
    } else {
        Err(Error::from_value(ctx.intern(b"not enough memory").into()))
    }
}

fn budget_error<'gc>(ctx: Context<'gc>) -> Error<'gc> {
    Error::from_value(ctx.intern(b"script step budget exceeded").into())
}

fn pattern_error<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, b: &Shared, e: PatternError) -> Error<'gc> {
    match e {
        PatternError::Bad(m) => raise(ctx, exec, m),
        PatternError::Steps => {
            b.borrow_mut().stop = Some(Stop::Budget);
            budget_error(ctx)
        }
    }
}

fn step_limit(b: &Shared) -> u64 {
    b.borrow().steps_left.max(0) as u64
}

fn capture_value<'gc>(ctx: Context<'gc>, src: &[u8], c: Capture) -> Value<'gc> {
    match c {
        Capture::Span(s, e) => ctx.intern(&src[s..e]).into(),
        Capture::Position(p) => Value::Integer(p as i64),
    }
}

#[allow(clippy::too_many_arguments)]
fn push_captures<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    b: &Shared,
    stack: &mut Stack<'gc, '_>,
    m: &Matcher<'_>,
    src: &[u8],
    s: usize,
    e: usize,
) -> Result<(), Error<'gc>> {
    for c in m.captures(s, e).map_err(|err| pattern_error(ctx, exec, b, err))? {
        stack.push_back(capture_value(ctx, src, c));
    }
    Ok(())
}

/// Installs `string`.
pub(crate) fn install<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    let t = super::base::library(ctx, "string");
    set(
        ctx,
        t,
        "len",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let s = arg_bytes(ctx, &exec, &stack, 0, "len")?;
            stack.replace(ctx, s.len() as i64);
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        t,
        "sub",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let s = arg_bytes(ctx, &exec, &stack, 0, "sub")?;
            let i = posrelat(opt_int(ctx, &exec, &stack, 1, "sub", 1)?, s.len()).max(1);
            let j = posrelat(opt_int(ctx, &exec, &stack, 2, "sub", -1)?, s.len()).min(s.len() as i64);
            let out: &[u8] = if i <= j { &s[(i - 1) as usize..j as usize] } else { b"" };
            stack.replace(ctx, ctx.intern(out));
            Ok(CallbackReturn::Return)
        }),
    );
    for (name, upper) in [("upper", true), ("lower", false)] {
        let b = bridge.clone();
        set(
            ctx,
            t,
            name,
            Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
                let mut s = arg_bytes(ctx, &exec, &stack, 0, name)?;
                charge(ctx, &mut exec, &b, s.len() / BYTES_PER_STEP)?;
                if upper {
                    s.make_ascii_uppercase();
                } else {
                    s.make_ascii_lowercase();
                }
                stack.replace(ctx, ctx.intern(&s));
                Ok(CallbackReturn::Return)
            }),
        );
    }
    let b = bridge.clone();
    set(
        ctx,
        t,
        "reverse",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            let mut s = arg_bytes(ctx, &exec, &stack, 0, "reverse")?;
            charge(ctx, &mut exec, &b, s.len() / BYTES_PER_STEP)?;
            s.reverse();
            stack.replace(ctx, ctx.intern(&s));
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    set(
        ctx,
        t,
        "rep",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            let s = arg_bytes(ctx, &exec, &stack, 0, "rep")?;
            let n = arg_int(ctx, &exec, &stack, 1, "rep")?;
            if n <= 0 || s.is_empty() {
                stack.replace(ctx, ctx.intern(b""));
                return Ok(CallbackReturn::Return);
            }
            let total = s.len().saturating_mul(n as usize);
            check_alloc(ctx, &b, total)?;
            charge(ctx, &mut exec, &b, total / BYTES_PER_STEP)?;
            stack.replace(ctx, ctx.intern(&s.repeat(n as usize)));
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        t,
        "byte",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let s = arg_bytes(ctx, &exec, &stack, 0, "byte")?;
            let i = posrelat(opt_int(ctx, &exec, &stack, 1, "byte", 1)?, s.len());
            let j = posrelat(opt_int(ctx, &exec, &stack, 2, "byte", i)?, s.len());
            let (i, j) = (i.max(1), j.min(s.len() as i64));
            stack.clear();
            if i > j {
                return Ok(CallbackReturn::Return);
            }
            if j - i >= 8000 {
                return Err(raise(ctx, &exec, "string slice too long"));
            }
            for k in i..=j {
                stack.push_back(Value::Integer(s[(k - 1) as usize] as i64));
            }
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        t,
        "char",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let mut out = Vec::with_capacity(stack.len());
            for i in 0..stack.len() {
                let c = arg_int(ctx, &exec, &stack, i, "char")?;
                if !(0..=255).contains(&c) {
                    return Err(bad_arg(ctx, &exec, i + 1, "char", "invalid value"));
                }
                out.push(c as u8);
            }
            stack.replace(ctx, ctx.intern(&out));
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    set(
        ctx,
        t,
        "format",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| format(ctx, &mut exec, &mut stack, &b)),
    );
    for (name, find) in [("find", true), ("match", false)] {
        let b = bridge.clone();
        set(
            ctx,
            t,
            name,
            Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| find_aux(ctx, &mut exec, &mut stack, &b, find)),
        );
    }
    let b = bridge.clone();
    set(
        ctx,
        t,
        "gmatch",
        Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let src = arg_bytes(ctx, &exec, &stack, 0, "gmatch")?;
            let pat = arg_bytes(ctx, &exec, &stack, 1, "gmatch")?;
            let state = Rc::new(RefCell::new((src, pat, 0usize)));
            let b = b.clone();
            let iter = Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
                let mut st = state.borrow_mut();
                let (src, pat, pos) = &mut *st;
                stack.clear();
                while *pos <= src.len() {
                    let mut m = Matcher::new(src, pat, step_limit(&b));
                    let r = m.match_at(*pos, 0);
                    let steps = m.steps as usize;
                    charge(ctx, &mut exec, &b, steps)?;
                    match r.map_err(|e| pattern_error(ctx, &exec, &b, e))? {
                        Some(e) => {
                            let s = *pos;
                            *pos = if e == s { e + 1 } else { e };
                            push_captures(ctx, &exec, &b, &mut stack, &m, src, s, e)?;
                            return Ok(CallbackReturn::Return);
                        }
                        None => *pos += 1,
                    }
                }
                Ok(CallbackReturn::Return)
            });
            stack.replace(ctx, iter);
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    set(ctx, t, "gsub", Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| gsub(ctx, &mut exec, &mut stack, &b)));
    let _ = ctx.globals().set(ctx, "string", t);
}

fn find_aux<'gc>(
    ctx: Context<'gc>,
    exec: &mut Execution<'gc, '_>,
    stack: &mut Stack<'gc, '_>,
    b: &Shared,
    find: bool,
) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let name = if find { "find" } else { "match" };
    let src = arg_bytes(ctx, exec, stack, 0, name)?;
    let pat = arg_bytes(ctx, exec, stack, 1, name)?;
    let init = posrelat(opt_int(ctx, exec, stack, 2, name, 1)?, src.len()) - 1;
    let init = init.clamp(0, src.len() as i64) as usize;
    let plain = stack.get(3).to_bool();
    stack.clear();
    if find && (plain || pattern::is_plain(&pat)) {
        charge(ctx, exec, b, src.len().saturating_sub(init) / BYTES_PER_STEP)?;
        let found = if pat.is_empty() {
            Some(init)
        } else {
            src[init..].windows(pat.len()).position(|w| w == pat.as_slice()).map(|p| p + init)
        };
        match found {
            Some(p) => {
                stack.push_back(Value::Integer(p as i64 + 1));
                stack.push_back(Value::Integer((p + pat.len()) as i64));
            }
            None => stack.push_back(Value::Nil),
        }
        return Ok(CallbackReturn::Return);
    }
    let r = pattern::find(&src, &pat, init, step_limit(b));
    match r {
        Ok(Some((s, e, m))) => {
            charge(ctx, exec, b, m.steps as usize)?;
            if find {
                stack.push_back(Value::Integer(s as i64 + 1));
                stack.push_back(Value::Integer(e as i64));
                if m.level() > 0 {
                    push_captures(ctx, exec, b, stack, &m, &src, s, e)?;
                }
            } else {
                push_captures(ctx, exec, b, stack, &m, &src, s, e)?;
            }
        }
        Ok(None) => stack.push_back(Value::Nil),
        Err(e) => return Err(pattern_error(ctx, exec, b, e)),
    }
    Ok(CallbackReturn::Return)
}

fn format<'gc>(
    ctx: Context<'gc>,
    exec: &mut Execution<'gc, '_>,
    stack: &mut Stack<'gc, '_>,
    b: &Shared,
) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let fmt = arg_bytes(ctx, exec, stack, 0, "format")?;
    let mut out = Vec::with_capacity(fmt.len() + 16);
    let mut arg = 0;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let (spec, next) = printf::parse_spec(&fmt, i).map_err(|m| raise(ctx, exec, &m))?;
        i = next;
        arg += 1;
        if arg >= stack.len() && spec.conv != 0 {
            return Err(bad_arg(ctx, exec, arg + 1, "format", "no value"));
        }
        match spec.conv {
            b'c' => {
                let n = arg_int(ctx, exec, stack, arg, "format")?;
                printf::string(&mut out, &spec, &[n as u8]);
            }
            b'd' | b'i' | b'o' | b'u' | b'x' | b'X' => {
                let n = num_arg(ctx, exec, stack, arg)?;
                printf::integer(&mut out, &spec, super::base::float_to_int(n));
            }
            b'e' | b'E' | b'f' | b'g' | b'G' => {
                let n = num_arg(ctx, exec, stack, arg)?;
                printf::float(&mut out, &spec, n);
            }
            b'q' => printf::quoted(&mut out, &arg_bytes(ctx, exec, stack, arg, "format")?),
            b's' => {
                let v = stack.get(arg);
                let s = match super::base::display(v) {
                    Some(s) => s,
                    None => {
                        return Err(bad_arg(
                            ctx,
                            exec,
                            arg + 1,
                            "format",
                            &format!("string expected, got {}", type_name(v)),
                        ))
                    }
                };
                printf::string(&mut out, &spec, &s);
            }
            other => {
                let shown = if other == 0 { String::new() } else { (other as char).to_string() };
                return Err(raise(ctx, exec, &format!("invalid option '%{shown}' to 'format'")));
            }
        }
        check_alloc(ctx, b, out.len())?;
    }
    charge(ctx, exec, b, out.len() / BYTES_PER_STEP)?;
    stack.replace(ctx, ctx.intern(&out));
    Ok(CallbackReturn::Return)
}

fn num_arg<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
) -> Result<f64, Error<'gc>> {
    super::base::arg_number(ctx, exec, stack, i, "format")
}

/// Appends a string replacement, with `%0`-`%9` and `%%`.
#[allow(clippy::too_many_arguments)]
fn add_replacement<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    b: &Shared,
    out: &mut Vec<u8>,
    repl: &[u8],
    m: &Matcher<'_>,
    src: &[u8],
    s: usize,
    e: usize,
) -> Result<(), Error<'gc>> {
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        if i >= repl.len() {
            // Lua 5.1 reads the string's terminating zero as the escaped byte.
            out.push(0);
            continue;
        }
        let d = repl[i];
        i += 1;
        if !d.is_ascii_digit() {
            out.push(d);
        } else if d == b'0' {
            out.extend_from_slice(&src[s..e]);
        } else {
            match m.capture((d - b'1') as usize, s, e).map_err(|err| pattern_error(ctx, exec, b, err))? {
                Capture::Span(a, z) => out.extend_from_slice(&src[a..z]),
                Capture::Position(p) => out.extend_from_slice(p.to_string().as_bytes()),
            }
        }
    }
    Ok(())
}

fn gsub<'gc>(
    ctx: Context<'gc>,
    exec: &mut Execution<'gc, '_>,
    stack: &mut Stack<'gc, '_>,
    b: &Shared,
) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let src = arg_bytes(ctx, exec, stack, 0, "gsub")?;
    let pat = arg_bytes(ctx, exec, stack, 1, "gsub")?;
    let repl = stack.get(2);
    let max_n = if stack.get(3).is_nil() { i64::MAX } else { arg_int(ctx, exec, stack, 3, "gsub")? };
    if !matches!(repl, Value::String(_) | Value::Integer(_) | Value::Number(_) | Value::Table(_) | Value::Function(_)) {
        return Err(bad_arg(ctx, exec, 3, "gsub", "string/function/table expected"));
    }
    let mut g = Gsub { src, pat, pos: 0, n: 0, max_n, out: Vec::new(), repl, pending: None, bridge: b.clone() };
    stack.clear();
    if let Value::Function(f) = repl {
        return match g.advance(ctx, exec, stack)? {
            Some(()) => Ok(CallbackReturn::Call { function: f, then: Some(BoxSequence::new(&ctx, g)) }),
            None => {
                g.finish(ctx, stack);
                Ok(CallbackReturn::Return)
            }
        };
    }
    while g.advance(ctx, exec, stack)?.is_some() {}
    g.finish(ctx, stack);
    Ok(CallbackReturn::Return)
}

/// A `gsub` in progress; a Lua function replacement is called between steps.
#[derive(Collect)]
#[collect(no_drop)]
struct Gsub<'gc> {
    #[collect(require_static)]
    src: Vec<u8>,
    #[collect(require_static)]
    pat: Vec<u8>,
    #[collect(require_static)]
    pos: usize,
    #[collect(require_static)]
    n: i64,
    #[collect(require_static)]
    max_n: i64,
    #[collect(require_static)]
    out: Vec<u8>,
    repl: Value<'gc>,
    /// The match a function replacement is being called for.
    #[collect(require_static)]
    pending: Option<(usize, usize)>,
    #[collect(require_static)]
    bridge: Shared,
}

impl<'gc> Gsub<'gc> {
    /// Finds the next match and applies a string or table replacement; for a
    /// function, pushes its arguments and returns `Some` to have it called.
    /// `None` when there are no more matches.
    fn advance(
        &mut self,
        ctx: Context<'gc>,
        exec: &mut Execution<'gc, '_>,
        stack: &mut Stack<'gc, '_>,
    ) -> Result<Option<()>, Error<'gc>> {
        let anchor = self.pat.first() == Some(&b'^');
        let p = usize::from(anchor);
        let b = self.bridge.clone();
        while self.n < self.max_n {
            let mut m = Matcher::new(&self.src, &self.pat, step_limit(&b));
            let r = m.match_at(self.pos, p);
            charge(ctx, exec, &b, m.steps as usize + 1)?;
            let r = r.map_err(|e| pattern_error(ctx, exec, &b, e))?;
            let s = self.pos;
            if let Some(e) = r {
                self.n += 1;
                match self.repl {
                    Value::Function(_) => {
                        let first = m.capture(0, s, e).map_err(|err| pattern_error(ctx, exec, &b, err))?;
                        if m.level() == 0 {
                            stack.push_back(capture_value(ctx, &self.src, first));
                        } else {
                            push_captures(ctx, exec, &b, stack, &m, &self.src, s, e)?;
                        }
                        self.pending = Some((s, e));
                        return Ok(Some(()));
                    }
                    Value::Table(t) => {
                        let key = capture_value(
                            ctx,
                            &self.src,
                            m.capture(0, s, e).map_err(|err| pattern_error(ctx, exec, &b, err))?,
                        );
                        let v = t.get_value(key);
                        self.add_value(ctx, exec, v, s, e)?;
                    }
                    repl => {
                        let text = to_bytes(repl).unwrap_or_default();
                        let mut out = std::mem::take(&mut self.out);
                        add_replacement(ctx, exec, &b, &mut out, &text, &m, &self.src, s, e)?;
                        self.out = out;
                    }
                }
            }
            if !self.step_past(r, s) || anchor {
                break;
            }
            check_alloc(ctx, &b, self.out.len())?;
        }
        Ok(None)
    }

    /// Moves past a match ending at `r` that started at `s`; false at the end.
    fn step_past(&mut self, r: Option<usize>, s: usize) -> bool {
        match r {
            Some(e) if e > s => {
                self.pos = e;
                true
            }
            _ => {
                if s < self.src.len() {
                    self.out.push(self.src[s]);
                    self.pos = s + 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    fn add_value(
        &mut self,
        ctx: Context<'gc>,
        exec: &Execution<'gc, '_>,
        v: Value<'gc>,
        s: usize,
        e: usize,
    ) -> Result<(), Error<'gc>> {
        match v {
            Value::Nil | Value::Boolean(false) => self.out.extend_from_slice(&self.src[s..e]),
            Value::String(_) | Value::Integer(_) | Value::Number(_) => {
                self.out.extend_from_slice(&to_bytes(v).unwrap_or_default())
            }
            other => return Err(raise(ctx, exec, &format!("invalid replacement value (a {})", type_name(other)))),
        }
        Ok(())
    }

    fn finish(&mut self, ctx: Context<'gc>, stack: &mut Stack<'gc, '_>) {
        let pos = self.pos.min(self.src.len());
        self.out.extend_from_slice(&self.src[pos..]);
        stack.clear();
        stack.push_back(ctx.intern(&self.out).into());
        stack.push_back(Value::Integer(self.n));
    }
}

impl<'gc> Sequence<'gc> for Gsub<'gc> {
    fn poll(
        &mut self,
        ctx: Context<'gc>,
        mut exec: Execution<'gc, '_>,
        mut stack: Stack<'gc, '_>,
    ) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if let Some((s, e)) = self.pending.take() {
            let v = stack.get(0);
            stack.clear();
            self.add_value(ctx, &exec, v, s, e)?;
            let anchor = self.pat.first() == Some(&b'^');
            if !self.step_past(Some(e), s) || anchor {
                self.finish(ctx, &mut stack);
                return Ok(SequencePoll::Return);
            }
            check_alloc(ctx, &self.bridge, self.out.len())?;
        }
        match self.advance(ctx, &mut exec, &mut stack)? {
            Some(()) => match self.repl {
                Value::Function(f) => Ok(SequencePoll::Call { function: f, is_tail: false }),
                _ => Ok(SequencePoll::Return),
            },
            None => {
                self.finish(ctx, &mut stack);
                Ok(SequencePoll::Return)
            }
        }
    }
}
