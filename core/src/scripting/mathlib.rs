//! The `math` library as Lua 5.1 has it, with `math.random` driven by the
//! same 48-bit generator Redis 7 uses: one sequence for the whole server,
//! starting from `lrand48`'s default state and never reseeded between
//! scripts (so a fresh server draws the numbers a fresh Redis draws).

use super::base::{arg_int, arg_number, number_value, raise};
use super::Shared;
use piccolo::{Callback, CallbackReturn, Context, Table, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// `lrand48` state (Redis's `redisLrand48`), shared by every Lua state of
/// the process as Redis's one interpreter shares it.
static STATE: AtomicU64 = AtomicU64::new(0x1234_ABCD_330E);

const MASK48: u64 = (1 << 48) - 1;

/// Handle on the process-wide `lrand48` sequence.
pub(crate) struct LuaRng;

impl LuaRng {
    pub fn new() -> Self {
        LuaRng
    }

    /// `srand48(seed)`.
    pub fn seed(&mut self, seed: i32) {
        STATE.store(((seed as u32 as u64) << 16) | 0x330E, Ordering::Relaxed);
    }

    /// `lrand48()`: 31 random bits.
    pub fn next(&mut self) -> i32 {
        let step = |x: u64| (0x5DEE_CE66Du64.wrapping_mul(x).wrapping_add(0xB)) & MASK48;
        let prev = STATE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x))).unwrap_or(0);
        (step(prev) >> 17) as i32
    }
}

type F1 = fn(f64) -> f64;
type F2 = fn(f64, f64) -> f64;

/// Installs `math`.
pub(crate) fn install<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    // A new table: piccolo's 5.4 additions (maxinteger, tointeger, type, ult)
    // are not in Lua 5.1, and every 5.1 function is ours.
    let t = Table::new(&ctx);
    let unary: &[(&'static str, F1)] = &[
        ("abs", f64::abs),
        ("acos", f64::acos),
        ("asin", f64::asin),
        ("atan", f64::atan),
        ("ceil", f64::ceil),
        ("cos", f64::cos),
        ("cosh", f64::cosh),
        ("deg", f64::to_degrees),
        ("exp", f64::exp),
        ("floor", f64::floor),
        ("log", f64::ln),
        ("log10", f64::log10),
        ("rad", f64::to_radians),
        ("sin", f64::sin),
        ("sinh", f64::sinh),
        ("sqrt", f64::sqrt),
        ("tan", f64::tan),
        ("tanh", f64::tanh),
    ];
    for &(name, f) in unary {
        let _ = t.set(
            ctx,
            name,
            Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
                let x = arg_number(ctx, &exec, &stack, 0, name)?;
                stack.replace(ctx, number_value(f(x)));
                Ok(CallbackReturn::Return)
            }),
        );
    }
    let binary: &[(&'static str, F2)] = &[
        ("atan2", f64::atan2),
        ("pow", f64::powf),
        ("fmod", |a, b| a % b),
        ("mod", |a, b| a % b),
        ("ldexp", |m, e| m * 2f64.powi(e as i32)),
    ];
    for &(name, f) in binary {
        let _ = t.set(
            ctx,
            name,
            Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
                let a = arg_number(ctx, &exec, &stack, 0, name)?;
                let b = arg_number(ctx, &exec, &stack, 1, name)?;
                stack.replace(ctx, number_value(f(a, b)));
                Ok(CallbackReturn::Return)
            }),
        );
    }
    for (name, max) in [("max", true), ("min", false)] {
        let _ = t.set(
            ctx,
            name,
            Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
                let mut best = arg_number(ctx, &exec, &stack, 0, name)?;
                for i in 1..stack.len() {
                    let x = arg_number(ctx, &exec, &stack, i, name)?;
                    if (max && x > best) || (!max && x < best) {
                        best = x;
                    }
                }
                stack.replace(ctx, number_value(best));
                Ok(CallbackReturn::Return)
            }),
        );
    }
    let _ = t.set(
        ctx,
        "modf",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let x = arg_number(ctx, &exec, &stack, 0, "modf")?;
            let ip = x.trunc();
            let fp = if x.is_infinite() { 0.0 } else { x - ip };
            stack.replace(ctx, (number_value(ip), number_value(fp)));
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = t.set(
        ctx,
        "frexp",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let x = arg_number(ctx, &exec, &stack, 0, "frexp")?;
            let (m, e) = frexp(x);
            stack.replace(ctx, (number_value(m), e));
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = t.set(ctx, "huge", Value::Number(f64::INFINITY));
    let _ = t.set(ctx, "pi", Value::Number(std::f64::consts::PI));
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "random",
        Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let r = b.borrow_mut().rng.next();
            let r = (r % i32::MAX) as f64 / i32::MAX as f64;
            let v = match stack.len() {
                0 => Value::Number(r),
                1 => {
                    let u = arg_int(ctx, &exec, &stack, 0, "random")?;
                    if u < 1 {
                        return Err(raise(ctx, &exec, "bad argument #1 to 'random' (interval is empty)"));
                    }
                    number_value((r * u as f64).floor() + 1.0)
                }
                2 => {
                    let l = arg_int(ctx, &exec, &stack, 0, "random")?;
                    let u = arg_int(ctx, &exec, &stack, 1, "random")?;
                    if l > u {
                        return Err(raise(ctx, &exec, "bad argument #2 to 'random' (interval is empty)"));
                    }
                    number_value((r * (u - l + 1) as f64).floor() + l as f64)
                }
                _ => return Err(raise(ctx, &exec, "wrong number of arguments")),
            };
            stack.replace(ctx, v);
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    let _ = t.set(
        ctx,
        "randomseed",
        Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let s = arg_int(ctx, &exec, &stack, 0, "randomseed")?;
            b.borrow_mut().rng.seed(s as i32);
            stack.clear();
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = ctx.globals().set(ctx, "math", t);
}

/// C's `frexp`: `x = m * 2^e` with `0.5 <= |m| < 1`.
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let mut e = x.abs().log2().floor() as i64 + 1;
    let mut m = x / 2f64.powi(e as i32);
    if m.abs() >= 1.0 {
        m /= 2.0;
        e += 1;
    } else if m.abs() < 0.5 {
        m *= 2.0;
        e -= 1;
    }
    (m, e)
}
