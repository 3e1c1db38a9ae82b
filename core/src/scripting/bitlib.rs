//! `bit` (LuaBitOp, as bundled with Redis): 32-bit operations on numbers.

use super::base::{arg_number, raise};
use super::Shared;
use piccolo::{Callback, CallbackReturn, Context, Execution, Stack, Table};

/// LuaBitOp's `tobit`: the number modulo 2^32 as a signed 32-bit integer.
fn tobit(x: f64) -> i32 {
    // Adding 2^52 + 2^51 puts the integer part in the low mantissa bits.
    let b = (x + 6_755_399_441_055_744.0).to_bits();
    b as u32 as i32
}

fn arg<'gc>(
    ctx: Context<'gc>,
    exec: &Execution<'gc, '_>,
    stack: &Stack<'gc, '_>,
    i: usize,
    f: &str,
) -> Result<i32, piccolo::Error<'gc>> {
    arg_number(ctx, exec, stack, i, f).map(tobit)
}

type BinOp = fn(i32, i32) -> i32;
type ShiftOp = fn(i32, u32) -> i32;

/// Installs `bit`.
pub(crate) fn install<'gc>(ctx: Context<'gc>, _bridge: &Shared) {
    let t = Table::new(&ctx);
    let folds: &[(&'static str, BinOp)] = &[("band", |a, b| a & b), ("bor", |a, b| a | b), ("bxor", |a, b| a ^ b)];
    for &(name, op) in folds {
        let _ = t.set(
            ctx,
            name,
            Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
                let mut acc = arg(ctx, &exec, &stack, 0, name)?;
                for i in 1..stack.len() {
                    acc = op(acc, arg(ctx, &exec, &stack, i, name)?);
                }
                stack.replace(ctx, acc as i64);
                Ok(CallbackReturn::Return)
            }),
        );
    }
    let shifts: &[(&'static str, ShiftOp)] = &[
        ("lshift", |a, n| ((a as u32) << n) as i32),
        ("rshift", |a, n| ((a as u32) >> n) as i32),
        ("arshift", |a, n| a >> n),
        ("rol", |a, n| (a as u32).rotate_left(n) as i32),
        ("ror", |a, n| (a as u32).rotate_right(n) as i32),
    ];
    for &(name, op) in shifts {
        let _ = t.set(
            ctx,
            name,
            Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
                let a = arg(ctx, &exec, &stack, 0, name)?;
                let n = (arg(ctx, &exec, &stack, 1, name)? & 31) as u32;
                stack.replace(ctx, op(a, n) as i64);
                Ok(CallbackReturn::Return)
            }),
        );
    }
    let _ = t.set(
        ctx,
        "tobit",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let a = arg(ctx, &exec, &stack, 0, "tobit")?;
            stack.replace(ctx, a as i64);
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = t.set(
        ctx,
        "bnot",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let a = arg(ctx, &exec, &stack, 0, "bnot")?;
            stack.replace(ctx, !a as i64);
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = t.set(
        ctx,
        "bswap",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let a = arg(ctx, &exec, &stack, 0, "bswap")?;
            stack.replace(ctx, a.swap_bytes() as i64);
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = t.set(
        ctx,
        "tohex",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let a = arg(ctx, &exec, &stack, 0, "tohex")?;
            let mut n = if stack.get(1).is_nil() { 8 } else { arg(ctx, &exec, &stack, 1, "tohex")? };
            let upper = n < 0;
            if upper {
                n = -n;
            }
            if n > 8 {
                n = 8;
            }
            if n == 0 {
                return Err(raise(ctx, &exec, "bad argument #2 to 'tohex' (invalid number of digits)"));
            }
            let full = if upper { format!("{:08X}", a as u32) } else { format!("{:08x}", a as u32) };
            let s = &full[8 - n as usize..];
            stack.replace(ctx, ctx.intern(s.as_bytes()));
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = ctx.globals().set(ctx, "bit", t);
}
