//! Transactions: MULTI queues the commands that follow (see
//! [`crate::exec::admit`]), EXEC runs them all while holding every shard, so
//! nothing else runs in between, and DISCARD drops them. WATCH records each
//! key's version (see [`crate::keyspace::Keyspace::watch`]); EXEC runs nothing
//! if any of them changed since.

use super::spec::KeyPos;
use super::spec::{flags::*, CommandSpec, Group};
use crate::error::{CmdError, CmdResult};
use crate::exec::{execute, unwatch_all, ExecCtx, WatchedKey};
use crate::resp::request::Args;

const T: Group = Group::Transactions;

pub(crate) const SPECS: &[CommandSpec] = &[
    CommandSpec::keyless(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | RUNS_IN_MULTI,
        T,
        "Starts a transaction.",
        "1.2.0",
        multi,
    ),
    CommandSpec {
        complexity: "Depends on commands in the transaction",
        ..CommandSpec::keyless(
            "exec",
            1,
            NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | RUNS_IN_MULTI | KEYSPACE,
            T,
            "Executes all commands in a transaction.",
            "1.2.0",
            exec,
        )
    },
    CommandSpec {
        complexity: "O(N), when N is the number of queued commands",
        ..CommandSpec::keyless(
            "discard",
            1,
            NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | RUNS_IN_MULTI | KEYSPACE,
            T,
            "Discards a transaction.",
            "2.0.0",
            discard,
        )
    },
    CommandSpec::new(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | RUNS_IN_MULTI,
        KeyPos::ALL,
        &["RO"],
        T,
        "Monitors changes to keys to determine the execution of a transaction.",
        "2.2.0",
        "O(1) for every key.",
        watch,
    ),
    CommandSpec::keyless(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | KEYSPACE,
        T,
        "Forgets about watched keys of a transaction.",
        "2.2.0",
        unwatch,
    ),
];

fn watch(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::msg("ERR WATCH inside MULTI is not allowed"));
    }
    let (db, now) = (ctx.db(), ctx.now);
    for key in args.iter().skip(1) {
        if ctx.client.watching.iter().any(|w| w.db == db && w.key == key) {
            continue;
        }
        let (ks, slot) = ctx.data.locate(key)?;
        // A key already past its time goes now, so its removal later is no change.
        ks.contains(db, slot, key, now);
        let version = ks.watch(db, key);
        ctx.client.watching.push(WatchedKey { db, key: key.to_vec(), version });
    }
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    unwatch_all(&mut ctx.data, ctx.client);
    ctx.out.ok();
    Ok(())
}

/// True if a WATCHed key was written (or expired) since WATCH.
fn watched_changed(ctx: &mut ExecCtx<'_>) -> bool {
    let now = ctx.now;
    let watching = std::mem::take(&mut ctx.client.watching);
    let changed = watching.iter().any(|w| match ctx.data.locate(&w.key) {
        Ok((ks, slot)) => {
            ks.contains(w.db, slot, &w.key, now);
            ks.watch_version(w.db, &w.key) != w.version
        }
        Err(_) => true,
    });
    ctx.client.watching = watching;
    changed
}

fn multi(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::msg("ERR MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Vec::new());
    ctx.client.multi_error = false;
    ctx.out.ok();
    Ok(())
}

fn exec(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let Some(queue) = ctx.client.multi.take() else {
        return Err(CmdError::msg("ERR EXEC without MULTI"));
    };
    if let Some(e) = cluster_refusal(ctx, &queue) {
        ctx.client.multi_error = false;
        unwatch_all(&mut ctx.data, ctx.client);
        return Err(e);
    }
    if std::mem::take(&mut ctx.client.multi_error) {
        unwatch_all(&mut ctx.data, ctx.client);
        return Err(CmdError::msg("EXECABORT Transaction discarded because of previous errors."));
    }
    let changed = watched_changed(ctx);
    unwatch_all(&mut ctx.data, ctx.client);
    if changed {
        ctx.out.null_array();
        return Ok(());
    }
    // Blocking commands inside a transaction answer as if they timed out.
    ctx.may_block = false;
    ctx.out.array(queue.len());
    for argv in &queue {
        let args = argv.bind(&[]);
        match super::resolve(&args) {
            Ok(cmd) => execute(ctx, cmd, args),
            Err(e) => ctx.out.error(&e.text()),
        }
    }
    Ok(())
}

/// In cluster mode, why this node does not run the transaction: its
/// commands must all be on one slot this node serves (checked as a whole at
/// EXEC, as Redis does).
fn cluster_refusal(ctx: &ExecCtx<'_>, queue: &[crate::resp::request::Argv]) -> Option<CmdError> {
    let state = ctx.host.cluster()?.read().unwrap_or_else(|p| p.into_inner());
    let bound: Vec<Args<'_>> = queue.iter().map(|a| a.bind(&[])).collect();
    let commands = bound.iter().filter_map(|a| super::resolve(a).ok().map(|c| (c, *a)));
    let redirect = state.check(commands, ctx.client.cluster_readonly, false).err()?;
    Some(state.slots().error(&redirect))
}

fn discard(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.client.multi.take().is_none() {
        return Err(CmdError::msg("ERR DISCARD without MULTI"));
    }
    ctx.client.multi_error = false;
    unwatch_all(&mut ctx.data, ctx.client);
    ctx.out.ok();
    Ok(())
}
