//! `pcall` and `xpcall` as Lua 5.1 has them. piccolo's `pcall` hands a Lua
//! handler the interpreter's own error object (a userdata) for errors the VM
//! raises, where Redis scripts get a string they can concatenate and match;
//! and piccolo has no `xpcall`.

use super::base::{position, runtime_message};
use gc_arena::Collect;
use piccolo::{
    meta_ops, BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Sequence, SequencePoll, Stack, Value,
};

/// The value a handler sees for `error`: a Lua error's own value, or a VM
/// error as Lua 5.1 words it, with the calling line's position.
fn error_value<'gc>(ctx: Context<'gc>, exec: &Execution<'gc, '_>, error: Error<'gc>) -> Value<'gc> {
    match error {
        Error::Lua(v) => v.0,
        Error::Runtime(r) => {
            let text = format!("{}{}", position(exec), runtime_message(&r.to_string()));
            ctx.intern(text.as_bytes()).into()
        }
    }
}

/// Why a call could not even start (`pcall(nil)`); no position, as the
/// failed call is pcall's own.
fn not_callable<'gc>(ctx: Context<'gc>, v: Value<'gc>) -> Value<'gc> {
    let text = format!("attempt to call a {} value", super::base::type_name(v));
    ctx.intern(text.as_bytes()).into()
}

/// A protected call: `pcall` (no handler) or `xpcall(f, handler)`: returns
/// true and `f`'s results, or false and the error (what `handler` makes of it).
#[derive(Collect)]
#[collect(no_drop)]
struct Protected<'gc> {
    handler: Option<Value<'gc>>,
    /// The handler is running.
    handling: bool,
}

impl<'gc> Sequence<'gc> for Protected<'gc> {
    fn poll(
        &mut self,
        _ctx: Context<'gc>,
        _exec: Execution<'gc, '_>,
        mut stack: Stack<'gc, '_>,
    ) -> Result<SequencePoll<'gc>, Error<'gc>> {
        if self.handling {
            let v = stack.get(0);
            stack.clear();
            stack.extend([Value::Boolean(false), v]);
        } else {
            stack.push_front(Value::Boolean(true));
        }
        Ok(SequencePoll::Return)
    }

    fn error(
        &mut self,
        ctx: Context<'gc>,
        exec: Execution<'gc, '_>,
        error: Error<'gc>,
        mut stack: Stack<'gc, '_>,
    ) -> Result<SequencePoll<'gc>, Error<'gc>> {
        stack.clear();
        if self.handling {
            // The handler failed too: Lua 5.1's LUA_ERRERR.
            stack.extend([Value::Boolean(false), ctx.intern(b"error in error handling").into()]);
            return Ok(SequencePoll::Return);
        }
        let v = error_value(ctx, &exec, error);
        let Some(handler) = self.handler else {
            stack.extend([Value::Boolean(false), v]);
            return Ok(SequencePoll::Return);
        };
        self.handling = true;
        match meta_ops::call(ctx, handler) {
            Ok(function) => {
                stack.push_back(v);
                Ok(SequencePoll::Call { function, is_tail: false })
            }
            Err(_) => {
                stack.extend([Value::Boolean(false), Value::Nil]);
                Ok(SequencePoll::Return)
            }
        }
    }
}

/// Installs `pcall` and `xpcall`.
pub(crate) fn install<'gc>(ctx: Context<'gc>) {
    let g = ctx.globals();
    let _ = g.set(
        ctx,
        "pcall",
        Callback::from_fn(&ctx, |ctx, _, mut stack| {
            let f = stack.get(0);
            let Ok(function) = meta_ops::call(ctx, f) else {
                stack.clear();
                stack.extend([Value::Boolean(false), not_callable(ctx, f)]);
                return Ok(CallbackReturn::Return);
            };
            stack.pop_front();
            let seq = Protected { handler: None, handling: false };
            Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, seq)) })
        }),
    );
    let _ = g.set(
        ctx,
        "xpcall",
        Callback::from_fn(&ctx, |ctx, _, mut stack| {
            let (f, handler) = (stack.get(0), stack.get(1));
            // Lua 5.1 calls `f` without arguments.
            stack.clear();
            let Ok(function) = meta_ops::call(ctx, f) else {
                // As in Lua 5.1, the handler sees why `f` could not be called.
                let v = not_callable(ctx, f);
                return match meta_ops::call(ctx, handler) {
                    Ok(h) => {
                        stack.push_back(v);
                        let seq = Protected { handler: Some(handler), handling: true };
                        Ok(CallbackReturn::Call { function: h, then: Some(BoxSequence::new(&ctx, seq)) })
                    }
                    Err(_) => {
                        stack.extend([Value::Boolean(false), Value::Nil]);
                        Ok(CallbackReturn::Return)
                    }
                };
            };
            let seq = Protected { handler: Some(handler), handling: false };
            Ok(CallbackReturn::Call { function, then: Some(BoxSequence::new(&ctx, seq)) })
        }),
    );
}
