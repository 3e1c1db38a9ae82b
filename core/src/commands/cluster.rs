//! Cluster commands answered from the keyspace alone: KEYSLOT, COUNTKEYSINSLOT,
//! GETKEYSINSLOT. They work in standalone mode too, on the selected database.

use super::spec::{flags::*, CommandSpec, Group};
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::numeric::parse_i64;
use crate::resp::request::Args;
use crate::slot::{key_slot, SLOTS};

const fn cl(
    name: &'static str,
    arity: i32,
    flags: u32,
    summary: &'static str,
    since: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec::keyless(name, arity, flags, Group::Cluster, summary, since, handler)
}

pub(crate) const SPECS: &[CommandSpec] = &[CommandSpec {
    subcommands: &[
        cl("keyslot", 3, STALE, "Returns the hash slot for a key.", "3.0.0", keyslot),
        cl(
            "countkeysinslot",
            3,
            STALE | KEYSPACE,
            "Returns the number of keys in a hash slot.",
            "3.0.0",
            countkeysinslot,
        ),
        CommandSpec {
            tips: &["nondeterministic_output"],
            ..cl("getkeysinslot", 4, STALE | KEYSPACE, "Returns the key names in a hash slot.", "3.0.0", getkeysinslot)
        },
        cl("help", 2, LOADING | STALE, "Returns helpful text about the different subcommands.", "5.0.0", help),
    ],
    flags: CONTAINER,
    ..cl("cluster", -2, 0, "A container for Redis Cluster commands.", "3.0.0", super::server::container)
}];

fn keyslot(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    ctx.out.int(key_slot(args.get(2)) as i64);
    Ok(())
}

fn slot_arg(a: &[u8], msg: &'static str) -> Result<usize, CmdError> {
    let n = parse_i64(a).ok_or(CmdError::NotInteger)?;
    if n < 0 || n >= SLOTS as i64 {
        return Err(CmdError::msg(msg));
    }
    Ok(n as usize)
}

fn countkeysinslot(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let slot = slot_arg(args.get(2), "ERR Invalid slot")?;
    let db = ctx.db();
    let n = ctx.data.shard(slot).and_then(|s| s.slot_dict(db, slot)).map_or(0, |d| d.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn getkeysinslot(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let slot_n = parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?;
    let max = parse_i64(args.get(3)).ok_or(CmdError::NotInteger)?;
    if slot_n < 0 || slot_n >= SLOTS as i64 || max < 0 {
        return Err(CmdError::msg("ERR Invalid slot or number of keys"));
    }
    let (slot, db) = (slot_n as usize, ctx.db());
    let keys: Vec<Vec<u8>> = ctx
        .data
        .shard(slot)
        .and_then(|s| s.slot_dict(db, slot))
        .map(|d| d.iter().take(max as usize).map(|(k, _)| k.to_vec()).collect())
        .unwrap_or_default();
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(&k);
    }
    Ok(())
}

fn help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply(
        ctx,
        "CLUSTER",
        &[
            "COUNTKEYSINSLOT <slot>",
            "    Return the number of keys in <slot>.",
            "GETKEYSINSLOT <slot> <count>",
            "    Return key names stored by current node in a slot.",
            "KEYSLOT <key>",
            "    Return the hash slot for <key>.",
        ],
    );
    Ok(())
}
