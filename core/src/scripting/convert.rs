//! Conversion between Lua values and replies, by the rules Redis documents for
//! RESP2 and RESP3 scripts (`redis.setresp`).

use super::base::float_to_int;
use crate::reply::Reply;
use piccolo::{Context, Table, Value};

/// Nesting deeper than this is refused (and stops cyclic tables).
const MAX_DEPTH: usize = 1000;

/// A script's return value as a reply. `resp3` is the protocol the script
/// chose with `redis.setresp` (booleans and nils differ).
pub(crate) fn lua_to_reply<'gc>(ctx: Context<'gc>, v: Value<'gc>, resp3: bool) -> Reply {
    convert(ctx, v, resp3, 0)
}

fn convert<'gc>(ctx: Context<'gc>, v: Value<'gc>, resp3: bool, depth: usize) -> Reply {
    if depth > MAX_DEPTH {
        return Reply::Error("ERR reached lua stack limit".into());
    }
    match v {
        Value::Nil => Reply::Null,
        Value::Boolean(b) if resp3 => Reply::Bool(b),
        Value::Boolean(true) => Reply::Int(1),
        Value::Boolean(false) => Reply::Null,
        Value::Integer(n) => Reply::Int(n),
        Value::Number(f) => Reply::Int(float_to_int(f)),
        Value::String(s) => Reply::Bulk(s.as_bytes().to_vec()),
        Value::Table(t) => table_to_reply(ctx, t, resp3, depth),
        _ => Reply::Null,
    }
}

fn table_to_reply<'gc>(ctx: Context<'gc>, t: Table<'gc>, resp3: bool, depth: usize) -> Reply {
    if let Value::String(e) = t.get(ctx, "err") {
        return Reply::Error(e.to_str_lossy().replace(['\r', '\n'], " "));
    }
    if let Value::String(s) = t.get(ctx, "ok") {
        return Reply::Simple(s.to_str_lossy().replace(['\r', '\n'], " "));
    }
    match t.get(ctx, "double") {
        Value::Number(f) => return Reply::Double(f),
        Value::Integer(n) => return Reply::Double(n as f64),
        _ => {}
    }
    if let Value::String(s) = t.get(ctx, "big_number") {
        return Reply::BigNumber(s.to_str_lossy().into_owned());
    }
    if let Value::Table(m) = t.get(ctx, "map") {
        let pairs =
            m.iter().map(|(k, v)| (convert(ctx, k, resp3, depth + 1), convert(ctx, v, resp3, depth + 1))).collect();
        return Reply::Map(pairs);
    }
    if let Value::Table(s) = t.get(ctx, "set") {
        return Reply::Set(s.iter().map(|(k, _)| convert(ctx, k, resp3, depth + 1)).collect());
    }
    if let Value::Table(v) = t.get(ctx, "verbatim_string") {
        if let (Value::String(f), Value::String(s)) = (v.get(ctx, "format"), v.get(ctx, "string")) {
            return Reply::Verbatim { format: f.to_str_lossy().into_owned(), text: s.as_bytes().to_vec() };
        }
    }
    let mut items = Vec::new();
    for i in 1.. {
        let v = t.get(ctx, i as i64);
        if v.is_nil() {
            break;
        }
        let r = convert(ctx, v, resp3, depth + 1);
        if let Reply::Error(e) = &r {
            if e == "ERR reached lua stack limit" {
                return r;
            }
        }
        items.push(r);
    }
    Reply::Array(items)
}

/// A command's reply as the Lua value `redis.call` returns.
pub(crate) fn reply_to_lua<'gc>(ctx: Context<'gc>, r: &Reply, resp3: bool) -> Value<'gc> {
    let field = |name: &'static str, v: Value<'gc>| {
        let t = Table::new(&ctx);
        let _ = t.set(ctx, name, v);
        Value::Table(t)
    };
    match r {
        Reply::Int(n) => Value::Integer(*n),
        Reply::Bulk(b) => ctx.intern(b).into(),
        Reply::Null | Reply::NullArray => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        Reply::Simple(s) => field("ok", ctx.intern(s.as_bytes()).into()),
        Reply::Error(e) => field("err", ctx.intern(e.as_bytes()).into()),
        Reply::Array(items) | Reply::Push(items) => {
            let t = Table::new(&ctx);
            for (i, item) in items.iter().enumerate() {
                let _ = t.set(ctx, i as i64 + 1, reply_to_lua(ctx, item, resp3));
            }
            Value::Table(t)
        }
        Reply::Map(pairs) => {
            let m = Table::new(&ctx);
            for (k, v) in pairs {
                let _ = m.set(ctx, reply_to_lua(ctx, k, resp3), reply_to_lua(ctx, v, resp3));
            }
            field("map", m.into())
        }
        Reply::Set(items) => {
            let s = Table::new(&ctx);
            for k in items {
                let _ = s.set(ctx, reply_to_lua(ctx, k, resp3), true);
            }
            field("set", s.into())
        }
        Reply::Double(d) => field("double", Value::Number(*d)),
        Reply::Bool(b) => Value::Boolean(*b),
        Reply::BigNumber(s) => field("big_number", ctx.intern(s.as_bytes()).into()),
        Reply::Verbatim { format, text } => {
            let v = Table::new(&ctx);
            let _ = v.set(ctx, "format", ctx.intern(format.as_bytes()));
            let _ = v.set(ctx, "string", ctx.intern(text));
            field("verbatim_string", v.into())
        }
    }
}
