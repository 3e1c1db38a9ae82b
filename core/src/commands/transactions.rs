//! Transactions: MULTI queues the commands that follow (see
//! [`crate::exec::admit`]), EXEC runs them all while holding every shard, so
//! nothing else runs in between, and DISCARD drops them. WATCH is not there yet.

use super::spec::{flags::*, CommandSpec, Group};
use crate::error::{CmdError, CmdResult};
use crate::exec::{execute, ExecCtx};
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
            NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | RUNS_IN_MULTI,
            T,
            "Discards a transaction.",
            "2.0.0",
            discard,
        )
    },
];

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
    if std::mem::take(&mut ctx.client.multi_error) {
        return Err(CmdError::msg("EXECABORT Transaction discarded because of previous errors."));
    }
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

fn discard(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.client.multi.take().is_none() {
        return Err(CmdError::msg("ERR DISCARD without MULTI"));
    }
    ctx.client.multi_error = false;
    ctx.out.ok();
    Ok(())
}
