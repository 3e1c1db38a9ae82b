//! The `redis` table scripts call: `call`/`pcall` (handed to the host as a
//! yield, see [`super::Step::Call`]), reply helpers, `sha1hex`, `log`,
//! `setresp`, the accepted-but-inert replication switches, and
//! `register_function` for function libraries.

use super::base::to_bytes;
use super::{PendingCall, RegisteredFunction, ScriptFlags, Shared};
use piccolo::{Callback, CallbackReturn, Context, Error, Table, Value};

fn plain_error<'gc>(ctx: Context<'gc>, msg: &str) -> Error<'gc> {
    Error::from_value(ctx.intern(msg.as_bytes()).into())
}

fn status_table<'gc>(ctx: Context<'gc>, field: &'static str, text: &[u8]) -> Value<'gc> {
    let t = Table::new(&ctx);
    let _ = t.set(ctx, field, ctx.intern(text));
    Value::Table(t)
}

/// Installs `redis`.
pub(crate) fn install<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    let redis = Table::new(&ctx);
    for (name, raise) in [("call", true), ("pcall", false)] {
        let b = bridge.clone();
        let f = Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            let line = exec.upper_lua_frame().map(|f| f.current_line.0 + 1);
            let mut br = b.borrow_mut();
            if let Some(l) = line {
                br.line = l;
            }
            let fail = |br: &mut super::Bridge, msg: &str| {
                let text = format!("ERR {msg}");
                br.call_error = Some(text.clone().into_bytes());
                Err(Error::from_value(ctx.intern(text.as_bytes()).into()))
            };
            if stack.is_empty() {
                return fail(&mut br, "Please specify at least one argument for this redis lib call");
            }
            let mut args = crate::resp::request::Argv::new();
            for i in 0..stack.len() {
                match stack.get(i) {
                    Value::String(s) => args.push(s.as_bytes()),
                    v @ (Value::Integer(_) | Value::Number(_)) => args.push(&to_bytes(v).unwrap_or_default()),
                    _ => return fail(&mut br, "Lua redis lib command arguments must be strings or integers"),
                }
            }
            if !exec.current_thread().is_main {
                return fail(&mut br, "redis.call inside a coroutine is not supported by slotkv");
            }
            if br.loading {
                return fail(&mut br, "redis.call is not allowed while loading a library");
            }
            br.call = Some(PendingCall { args, raise });
            stack.clear();
            Ok(CallbackReturn::Yield { to_thread: None, then: None })
        });
        let _ = redis.set(ctx, name, f);
    }
    let _ = redis.set(
        ctx,
        "error_reply",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let Value::String(s) = stack.get(0) else {
                return Err(super::base::raise(ctx, &exec, "wrong number or type of arguments"));
            };
            // Redis keeps a leading error code ("-CODE msg" or "CODE msg" with a
            // space); a bare word gets the generic ERR code.
            let raw = s.as_bytes();
            let body = raw.strip_prefix(b"-").unwrap_or(raw);
            let text = if body.contains(&b' ') { body.to_vec() } else { [b"ERR ".as_slice(), body].concat() };
            stack.replace(ctx, status_table(ctx, "err", &text));
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = redis.set(
        ctx,
        "status_reply",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let Value::String(s) = stack.get(0) else {
                return Err(super::base::raise(ctx, &exec, "wrong number or type of arguments"));
            };
            stack.replace(ctx, status_table(ctx, "ok", s.as_bytes()));
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = redis.set(
        ctx,
        "sha1hex",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            if stack.len() != 1 {
                return Err(super::base::raise(ctx, &exec, "wrong number of arguments"));
            }
            let body = super::base::to_bytes(stack.get(0)).unwrap_or_default();
            stack.replace(ctx, ctx.intern(super::sha1_hex(&body).as_bytes()));
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    let _ = redis.set(
        ctx,
        "log",
        Callback::from_fn(&ctx, move |ctx, exec, mut stack| {
            if stack.len() < 2 {
                return Err(plain_error(ctx, "redis.log() requires two arguments or more."));
            }
            let Some(level) = stack.get(0).to_integer().filter(|l| (0..=3).contains(l)) else {
                return Err(plain_error(ctx, "Invalid debug level."));
            };
            let mut text = Vec::new();
            for i in 1..stack.len() {
                if i > 1 {
                    text.push(b' ');
                }
                match super::base::to_bytes(stack.get(i)) {
                    Some(s) => text.extend_from_slice(&s),
                    None => return Err(super::base::raise(ctx, &exec, "redis.log() arguments must be strings")),
                }
            }
            let mut br = b.borrow_mut();
            if br.logs.len() < 1000 {
                br.logs.push(super::LogLine { level: level as u8, text: String::from_utf8_lossy(&text).into_owned() });
            }
            stack.clear();
            Ok(CallbackReturn::Return)
        }),
    );
    for (name, v) in [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)] {
        let _ = redis.set(ctx, name, v as i64);
    }
    for (name, v) in [("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3)] {
        let _ = redis.set(ctx, name, v as i64);
    }
    let b = bridge.clone();
    let _ = redis.set(
        ctx,
        "setresp",
        Callback::from_fn(&ctx, move |ctx, _, mut stack| {
            if stack.len() != 1 {
                return Err(plain_error(ctx, "redis.setresp() requires one argument."));
            }
            match stack.get(0).to_integer() {
                Some(2) => b.borrow_mut().resp3 = false,
                Some(3) => b.borrow_mut().resp3 = true,
                _ => return Err(plain_error(ctx, "RESP version must be 2 or 3.")),
            }
            stack.clear();
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = redis.set(
        ctx,
        "set_repl",
        Callback::from_fn(&ctx, |ctx, _, mut stack| {
            if stack.len() != 1 {
                return Err(plain_error(ctx, "redis.set_repl() requires one argument."));
            }
            match stack.get(0).to_integer() {
                Some(0..=3) => {}
                _ => {
                    return Err(plain_error(
                        ctx,
                        "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    ))
                }
            }
            stack.clear();
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = redis.set(
        ctx,
        "replicate_commands",
        Callback::from_fn(&ctx, |ctx, _, mut stack| {
            stack.replace(ctx, true);
            Ok(CallbackReturn::Return)
        }),
    );
    for name in ["breakpoint", "debug"] {
        let _ = redis.set(
            ctx,
            name,
            Callback::from_fn(&ctx, |ctx, _, mut stack| {
                stack.replace(ctx, false);
                Ok(CallbackReturn::Return)
            }),
        );
    }
    let _ = redis.set(
        ctx,
        "acl_check_cmd",
        Callback::from_fn(&ctx, |ctx, _, mut stack| {
            if stack.is_empty() {
                return Err(plain_error(ctx, "ERR Please specify at least one argument for this redis lib call"));
            }
            let name = super::base::to_bytes(stack.get(0)).unwrap_or_default();
            if crate::commands::lookup(&name).is_none() {
                return Err(plain_error(ctx, "ERR Invalid command passed to redis.acl_check_cmd()"));
            }
            // Without ACL users every command is allowed to the default user.
            stack.replace(ctx, true);
            Ok(CallbackReturn::Return)
        }),
    );
    let version = crate::commands::connection_version();
    let _ = redis.set(ctx, "REDIS_VERSION", version);
    let _ = redis.set(ctx, "REDIS_VERSION_NUM", version_num(version));
    let b = bridge.clone();
    let _ = redis.set(
        ctx,
        "register_function",
        Callback::from_fn(&ctx, move |ctx, _, mut stack| {
            let mut br = b.borrow_mut();
            if br.registering.is_none() {
                return Err(plain_error(ctx, "redis.register_function can only be called on FUNCTION LOAD command"));
            }
            let (name, callback, flags, description) = match (stack.get(0), stack.get(1)) {
                (Value::Table(t), Value::Nil) if stack.len() == 1 => {
                    let mut name = None;
                    let mut callback = None;
                    let mut flags = ScriptFlags::default();
                    let mut description = None;
                    for (k, v) in t.iter() {
                        let Value::String(k) = k else {
                            return Err(plain_error(ctx, "named argument key given to redis.register_function is not a string"));
                        };
                        match (k.as_bytes(), v) {
                            (b"function_name", Value::String(s)) => name = Some(s.to_str_lossy().into_owned()),
                            (b"function_name", _) => return Err(plain_error(ctx, "function_name argument given to redis.register_function must be a string")),
                            (b"callback", Value::Function(f)) => callback = Some(f),
                            (b"callback", _) => return Err(plain_error(ctx, "callback argument given to redis.register_function must be a function")),
                            (b"description", Value::String(s)) => description = Some(s.to_str_lossy().into_owned()),
                            (b"description", _) => return Err(plain_error(ctx, "description argument given to redis.register_function must be a string")),
                            (b"flags", Value::Table(ft)) => {
                                let mut list = Vec::new();
                                for (_, f) in ft.iter() {
                                    let Value::String(f) = f else {
                                        return Err(plain_error(ctx, "unknown flag given"));
                                    };
                                    if !list.is_empty() {
                                        list.push(b',');
                                    }
                                    list.extend_from_slice(f.as_bytes());
                                }
                                flags = ScriptFlags::parse(&list).map_err(|_| plain_error(ctx, "unknown flag given"))?;
                            }
                            (b"flags", _) => return Err(plain_error(ctx, "flags argument to redis.register_function must be a table representing function flags")),
                            _ => return Err(plain_error(ctx, "unknown argument given to redis.register_function")),
                        }
                    }
                    let Some(name) = name else {
                        return Err(plain_error(ctx, "redis.register_function must get a function name argument"));
                    };
                    let Some(callback) = callback else {
                        return Err(plain_error(ctx, "redis.register_function must get a callback argument"));
                    };
                    (name, callback, flags, description)
                }
                (Value::String(n), Value::Function(f)) if stack.len() == 2 => (n.to_str_lossy().into_owned(), f, ScriptFlags::default(), None),
                _ => return Err(plain_error(ctx, "wrong number of arguments to redis.register_function")),
            };
            if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                return Err(plain_error(ctx, "Function names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
            }
            let list = br.registering.as_mut().expect("checked above");
            if list.iter().any(|(f, _)| f.name == name) {
                return Err(plain_error(ctx, "Function already exists in the library"));
            }
            list.push((RegisteredFunction { name, description, flags }, ctx.stash(callback)));
            stack.clear();
            Ok(CallbackReturn::Return)
        }),
    );
    let _ = ctx.globals().set(ctx, "redis", redis);
}

/// `7.0.15` as `0x07000f`.
fn version_num(v: &str) -> i64 {
    let mut parts = v.split('.').map(|p| p.parse::<i64>().unwrap_or(0));
    let (a, b, c) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a << 16) | (b << 8) | c
}
