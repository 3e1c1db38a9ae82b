//! The channel registry: who is subscribed to which channel, pattern and shard
//! channel, and delivery of published messages to the subscribers' connections.
//!
//! A message is queued on the subscriber's mailbox and written by its own
//! connection task, so a publisher never waits for a slow subscriber. The bytes
//! queued per subscriber are counted against `client-output-buffer-limit
//! pubsub`: past the hard limit, or past the soft limit for longer than its
//! seconds, the subscriber is disconnected, so one that stops reading cannot
//! grow the server's memory without bound.

use super::host::ClientInfo;
use super::now_ms;
use bytes::Bytes;
use slotkv_core::commands::pubsub::{ChannelKind, Subscriptions};
use slotkv_core::exec::Published;
use slotkv_core::glob::glob_match;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tracing::warn;

/// One message on its way to one subscriber.
pub struct Delivery {
    /// Channel or shard channel message.
    pub kind: ChannelKind,
    /// The pattern that matched, for pattern subscriptions.
    pub pattern: Option<Bytes>,
    /// The channel it was published to.
    pub channel: Bytes,
    /// The message.
    pub payload: Bytes,
}

impl Delivery {
    /// Bytes it holds, as counted against the output buffer limit.
    pub fn size(&self) -> usize {
        self.channel.len() + self.payload.len() + self.pattern.as_ref().map_or(0, |p| p.len()) + 48
    }
}

/// `client-output-buffer-limit pubsub`: hard bytes, soft bytes, soft seconds (0: none).
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputLimit {
    /// Disconnect at once past this many bytes.
    pub hard: u64,
    /// Disconnect past this many bytes held for `soft_secs`.
    pub soft: u64,
    /// How long the soft limit may be exceeded.
    pub soft_secs: u64,
}

type Subscribers = HashMap<Vec<u8>, Vec<Arc<ClientInfo>>>;

#[derive(Default)]
struct Registry {
    channels: Subscribers,
    patterns: Subscribers,
    shard: Subscribers,
}

impl Registry {
    fn of(&mut self, kind: ChannelKind) -> &mut Subscribers {
        match kind {
            ChannelKind::Channel => &mut self.channels,
            ChannelKind::Pattern => &mut self.patterns,
            ChannelKind::Shard => &mut self.shard,
        }
    }
    fn of_ref(&self, kind: ChannelKind) -> &Subscribers {
        match kind {
            ChannelKind::Channel => &self.channels,
            ChannelKind::Pattern => &self.patterns,
            ChannelKind::Shard => &self.shard,
        }
    }
}

/// Every subscription of the server.
#[derive(Default)]
pub struct PubSub {
    registry: Mutex<Registry>,
}

impl PubSub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribes (or unsubscribes) `client` to `channel`.
    pub fn register(&self, kind: ChannelKind, channel: &[u8], client: &Arc<ClientInfo>, subscribe: bool) {
        let mut r = self.lock();
        let map = r.of(kind);
        if subscribe {
            let subs = map.entry(channel.to_vec()).or_default();
            if !subs.iter().any(|c| c.id == client.id) {
                subs.push(client.clone());
            }
        } else if let Some(subs) = map.get_mut(channel) {
            subs.retain(|c| c.id != client.id);
            if subs.is_empty() {
                map.remove(channel);
            }
        }
    }

    /// Removes every subscription of a departing client.
    pub fn forget(&self, client: &Arc<ClientInfo>, subs: &Subscriptions) {
        for (kind, names) in [
            (ChannelKind::Channel, &subs.channels),
            (ChannelKind::Pattern, &subs.patterns),
            (ChannelKind::Shard, &subs.shard),
        ] {
            for n in names {
                self.register(kind, n, client, false);
            }
        }
    }

    /// Delivers a message; the publisher's own deliveries (`me`) come back in
    /// [`Published::to_self`] for it to write before its reply.
    pub fn publish(&self, kind: ChannelKind, channel: &[u8], payload: &[u8], me: u64, limit: OutputLimit) -> Published {
        let r = self.lock();
        let (channel_b, payload_b) = (Bytes::copy_from_slice(channel), Bytes::copy_from_slice(payload));
        let mut published = Published::default();
        let mut deliver = |c: &Arc<ClientInfo>, pattern: Option<&[u8]>| {
            published.receivers += 1;
            if c.id == me {
                published.to_self.push(pattern.map(<[u8]>::to_vec));
                return;
            }
            let d = Delivery {
                kind,
                pattern: pattern.map(Bytes::copy_from_slice),
                channel: channel_b.clone(),
                payload: payload_b.clone(),
            };
            let size = d.size();
            // Counted before it is sent: the subscriber may take it (and
            // subtract its size) the moment it is in the mailbox, and the
            // count must never go below zero.
            let queued = c.queued.fetch_add(size, Ordering::AcqRel) + size;
            if c.mailbox.send(d).is_ok() {
                check_limit(c, queued as u64, limit);
            } else {
                c.queued.fetch_sub(size, Ordering::AcqRel);
            }
        };
        if let Some(subs) = r.of_ref(kind).get(channel) {
            for c in subs {
                deliver(c, None);
            }
        }
        if kind == ChannelKind::Channel {
            for (pattern, subs) in &r.patterns {
                if glob_match(pattern, channel, false) {
                    for c in subs {
                        deliver(c, Some(pattern));
                    }
                }
            }
        }
        published
    }

    /// Channels with subscribers, matching `pattern` if given.
    pub fn channels(&self, kind: ChannelKind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let r = self.lock();
        r.of_ref(kind).keys().filter(|c| pattern.is_none_or(|p| glob_match(p, c, false))).cloned().collect()
    }

    /// Subscribers of one channel.
    pub fn numsub(&self, kind: ChannelKind, channel: &[u8]) -> usize {
        self.lock().of_ref(kind).get(channel).map_or(0, Vec::len)
    }

    /// Patterns with subscribers.
    pub fn numpat(&self) -> usize {
        self.lock().patterns.len()
    }
}

/// Disconnects a subscriber whose queued output passed its limits.
fn check_limit(c: &ClientInfo, queued: u64, limit: OutputLimit) {
    let over_hard = limit.hard > 0 && queued > limit.hard;
    let over_soft = limit.soft > 0 && queued > limit.soft;
    let over_soft_too_long = if over_soft {
        let now = now_ms();
        let since = c.soft_since.load(Ordering::Relaxed);
        if since == 0 {
            c.soft_since.store(now, Ordering::Relaxed);
            false
        } else {
            now.saturating_sub(since) >= limit.soft_secs * 1000
        }
    } else {
        c.soft_since.store(0, Ordering::Relaxed);
        false
    };
    if (over_hard || over_soft_too_long) && !c.killed.load(Ordering::Relaxed) {
        warn!("client {} closed for overcoming of output buffer limits ({queued} bytes queued)", c.id);
        c.kill();
    }
}
