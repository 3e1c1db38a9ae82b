//! Pub/Sub: SUBSCRIBE and friends record the client's subscriptions here and
//! register them with the host, which owns the channel registry and delivers
//! messages to other connections; PUBLISH asks the host to deliver. A RESP2
//! client with subscriptions is in subscribed mode (see [`crate::exec::admit`]);
//! a RESP3 client gets messages as push frames between its replies.

use super::spec::{flags::*, CommandSpec, Group, KeyPos};
use crate::error::CmdResult;
use crate::exec::ExecCtx;
use crate::resp::request::Args;
use crate::resp::ReplyBuf;

const P: Group = Group::PubSub;
const NOT_KEY: &[&str] = &["not_key"];

/// The three kinds of subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// SUBSCRIBE: one channel by name.
    Channel,
    /// PSUBSCRIBE: every channel matching a glob pattern.
    Pattern,
    /// SSUBSCRIBE: a shard channel (routed by its slot in a cluster).
    Shard,
}

impl ChannelKind {
    fn verbs(self) -> (&'static str, &'static str) {
        match self {
            ChannelKind::Channel => ("subscribe", "unsubscribe"),
            ChannelKind::Pattern => ("psubscribe", "punsubscribe"),
            ChannelKind::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

/// What one client is subscribed to, in the order it subscribed.
#[derive(Clone, Debug, Default)]
pub struct Subscriptions {
    /// SUBSCRIBE channels.
    pub channels: Vec<Vec<u8>>,
    /// PSUBSCRIBE patterns.
    pub patterns: Vec<Vec<u8>>,
    /// SSUBSCRIBE shard channels.
    pub shard: Vec<Vec<u8>>,
}

impl Subscriptions {
    /// True if subscribed to anything (RESP2 clients are then in subscribed mode).
    pub fn any(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty() || !self.shard.is_empty()
    }

    fn of(&mut self, kind: ChannelKind) -> &mut Vec<Vec<u8>> {
        match kind {
            ChannelKind::Channel => &mut self.channels,
            ChannelKind::Pattern => &mut self.patterns,
            ChannelKind::Shard => &mut self.shard,
        }
    }

    /// The count Redis reports after a (un)subscription: channels and patterns
    /// together, shard channels apart.
    fn count(&self, kind: ChannelKind) -> usize {
        match kind {
            ChannelKind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }
}

/// Writes one delivered message: `message`, `pmessage` (with the pattern that
/// matched) or `smessage`; a push frame in RESP3.
pub fn write_message(out: &mut ReplyBuf, kind: ChannelKind, pattern: Option<&[u8]>, channel: &[u8], payload: &[u8]) {
    match (kind, pattern) {
        (_, Some(p)) => {
            out.push(4);
            out.bulk(b"pmessage");
            out.bulk(p);
        }
        (ChannelKind::Shard, None) => {
            out.push(3);
            out.bulk(b"smessage");
        }
        _ => {
            out.push(3);
            out.bulk(b"message");
        }
    }
    out.bulk(channel);
    out.bulk(payload);
}

pub(crate) const SPECS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, KeyPos::NONE, &[], P, "Listens for messages published to channels.", "2.0.0", "O(N) where N is the number of channels to subscribe to.", subscribe),
    CommandSpec::new("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, KeyPos::NONE, &[], P, "Stops listening to messages posted to channels.", "2.0.0", "O(N) where N is the number of channels to unsubscribe.", unsubscribe),
    CommandSpec::new("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, KeyPos::NONE, &[], P, "Listens for messages published to channels that match one or more patterns.", "2.0.0", "O(N) where N is the number of patterns to subscribe to.", psubscribe),
    CommandSpec::new("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, KeyPos::NONE, &[], P, "Stops listening to messages published to channels that match one or more patterns.", "2.0.0", "O(N) where N is the number of patterns to unsubscribe.", punsubscribe),
    CommandSpec::new("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, KeyPos::ALL, NOT_KEY, P, "Listens for messages published to shard channels.", "7.0.0", "O(N) where N is the number of shard channels to subscribe to.", ssubscribe),
    CommandSpec::new("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, KeyPos::ALL, NOT_KEY, P, "Stops listening to messages posted to shard channels.", "7.0.0", "O(N) where N is the number of shard channels to unsubscribe.", sunsubscribe),
    CommandSpec::new("publish", 3, PUBSUB | LOADING | STALE | FAST, KeyPos::NONE, &[], P, "Posts a message to a channel.", "2.0.0", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", publish),
    CommandSpec::new("spublish", 3, PUBSUB | LOADING | STALE | FAST, KeyPos::ONE, NOT_KEY, P, "Post a message to a shard channel", "7.0.0", "O(N) where N is the number of clients subscribed to the receiving shard channel.", spublish),
    CommandSpec {
        subcommands: &[
            CommandSpec::new("shardchannels", -2, PUBSUB | LOADING | STALE, KeyPos::NONE, &[], P, "Returns the active shard channels.", "7.0.0", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).", pubsub_shardchannels),
            CommandSpec::new("channels", -2, PUBSUB | LOADING | STALE, KeyPos::NONE, &[], P, "Returns the active channels.", "2.8.0", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", pubsub_channels),
            CommandSpec::new("numsub", -2, PUBSUB | LOADING | STALE, KeyPos::NONE, &[], P, "Returns a count of subscribers to channels.", "2.8.0", "O(N) for the NUMSUB subcommand, where N is the number of requested channels", pubsub_numsub),
            CommandSpec::new("shardnumsub", -2, PUBSUB | LOADING | STALE, KeyPos::NONE, &[], P, "Returns the count of subscribers of shard channels.", "7.0.0", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels", pubsub_shardnumsub),
            CommandSpec::keyless("help", 2, LOADING | STALE, P, "Returns helpful text about the different subcommands.", "6.2.0", pubsub_help),
            CommandSpec::new("numpat", 2, PUBSUB | LOADING | STALE, KeyPos::NONE, &[], P, "Returns a count of unique pattern subscriptions.", "2.8.0", "O(1)", pubsub_numpat),
        ],
        flags: CONTAINER,
        ..CommandSpec::new("pubsub", -2, 0, KeyPos::NONE, &[], P, "A container for Pub/Sub commands.", "2.8.0", "Depends on subcommand.", super::server::container)
    },
];

fn subscribe_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, kind: ChannelKind) -> CmdResult {
    for ch in args.iter().skip(1) {
        let subs = ctx.client.subscriptions.of(kind);
        if !subs.iter().any(|c| c == ch) {
            subs.push(ch.to_vec());
            ctx.host.pubsub_register(kind, ch, true);
        }
        ctx.out.push(3);
        ctx.out.bulk(kind.verbs().0.as_bytes());
        ctx.out.bulk(ch);
        ctx.out.int(ctx.client.subscriptions.count(kind) as i64);
    }
    ctx.host.client_updated(ctx.client);
    Ok(())
}

fn unsubscribe_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, kind: ChannelKind) -> CmdResult {
    let verb = kind.verbs().1.as_bytes();
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args.iter().skip(1).map(<[u8]>::to_vec).collect()
    } else {
        ctx.client.subscriptions.of(kind).clone()
    };
    if names.is_empty() {
        ctx.out.push(3);
        ctx.out.bulk(verb);
        ctx.out.null();
        ctx.out.int(ctx.client.subscriptions.count(kind) as i64);
        return Ok(());
    }
    for ch in &names {
        let subs = ctx.client.subscriptions.of(kind);
        if let Some(i) = subs.iter().position(|c| c == ch) {
            subs.remove(i);
            ctx.host.pubsub_register(kind, ch, false);
        }
        ctx.out.push(3);
        ctx.out.bulk(verb);
        ctx.out.bulk(ch);
        ctx.out.int(ctx.client.subscriptions.count(kind) as i64);
    }
    ctx.host.client_updated(ctx.client);
    Ok(())
}

/// Drops every subscription of the calling client (RESET).
pub(crate) fn unsubscribe_all(ctx: &mut ExecCtx<'_>) {
    for kind in [ChannelKind::Channel, ChannelKind::Pattern, ChannelKind::Shard] {
        for ch in std::mem::take(ctx.client.subscriptions.of(kind)) {
            ctx.host.pubsub_register(kind, &ch, false);
        }
    }
}

fn subscribe(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    subscribe_generic(ctx, &args, ChannelKind::Channel)
}
fn psubscribe(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    subscribe_generic(ctx, &args, ChannelKind::Pattern)
}
fn ssubscribe(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    subscribe_generic(ctx, &args, ChannelKind::Shard)
}
fn unsubscribe(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_generic(ctx, &args, ChannelKind::Channel)
}
fn punsubscribe(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_generic(ctx, &args, ChannelKind::Pattern)
}
fn sunsubscribe(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_generic(ctx, &args, ChannelKind::Shard)
}

fn publish_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, kind: ChannelKind) -> CmdResult {
    let (channel, payload) = (args.get(1), args.get(2));
    let published = ctx.host.publish(kind, channel, payload);
    // The publisher's own subscriptions get the message first, in its own
    // output, as Redis writes it there before the reply.
    for pattern in &published.to_self {
        write_message(ctx.out, kind, pattern.as_deref(), channel, payload);
    }
    ctx.out.int(published.receivers as i64);
    Ok(())
}

fn publish(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    publish_generic(ctx, &args, ChannelKind::Channel)
}
fn spublish(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    publish_generic(ctx, &args, ChannelKind::Shard)
}

fn channels_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, kind: ChannelKind) -> CmdResult {
    if args.len() > 3 {
        return Err(super::util::unknown_subcommand(args.get(1), "PUBSUB"));
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    let names = ctx.host.pubsub_channels(kind, pattern);
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

fn numsub_generic(ctx: &mut ExecCtx<'_>, args: &Args<'_>, kind: ChannelKind) -> CmdResult {
    ctx.out.array((args.len() - 2) * 2);
    for ch in args.iter().skip(2) {
        ctx.out.bulk(ch);
        ctx.out.int(ctx.host.pubsub_numsub(kind, ch) as i64);
    }
    Ok(())
}

fn pubsub_channels(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    channels_generic(ctx, &args, ChannelKind::Channel)
}
fn pubsub_shardchannels(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    channels_generic(ctx, &args, ChannelKind::Shard)
}
fn pubsub_numsub(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    numsub_generic(ctx, &args, ChannelKind::Channel)
}
fn pubsub_shardnumsub(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    numsub_generic(ctx, &args, ChannelKind::Shard)
}
fn pubsub_numpat(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let n = ctx.host.pubsub_numpat();
    ctx.out.int(n as i64);
    Ok(())
}

fn pubsub_help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    const LINES: &[&str] = &[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    ctx.out.array(LINES.len());
    for l in LINES {
        ctx.out.simple(l.as_bytes());
    }
    Ok(())
}
