//! Cluster routing: which node serves each hash slot, and what a node answers
//! before running a command whose keys it does not serve (`MOVED`,
//! `CROSSSLOT`, `CLUSTERDOWN`), as Redis Cluster does. The rules live here,
//! apart from any transport, so the server's cluster mode and the playground's
//! simulated nodes route a command the same way.

mod state;

pub use state::{ClusterState, ConfigError, GossipEntry, Handshake, NodeInfo, NodeReport};

use crate::commands::{flags, Resolved};
use crate::error::CmdError;
use crate::resp::request::Args;
use crate::slot::{key_slot, SLOTS};

/// One node of a cluster, as clients see it in redirections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The node's 40-character name (`CLUSTER MYID`).
    pub id: String,
    /// `host:port` that clients are redirected to.
    pub addr: String,
}

/// Marks a slot no node serves.
const UNASSIGNED: u16 = u16::MAX;

/// The owner of every hash slot: a node index, or none.
#[derive(Clone, Debug)]
pub struct SlotMap {
    nodes: Vec<Node>,
    owner: Box<[u16]>,
    /// How many slots have an owner (kept, so routing need not count them).
    served: usize,
}

/// Why a node does not run a command itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// The keys hash to more than one slot.
    CrossSlot,
    /// The slot is served by another node.
    Moved {
        /// The slot of the command's keys.
        slot: u16,
        /// The index of the node that serves it.
        node: usize,
    },
    /// No node serves the slot.
    Unserved(u16),
    /// Not every slot is served: the cluster takes no commands on keys.
    Down,
}

impl SlotMap {
    /// A map of `nodes` where no slot is served yet.
    pub fn new(nodes: Vec<Node>) -> Self {
        SlotMap { nodes, owner: vec![UNASSIGNED; SLOTS].into_boxed_slice(), served: 0 }
    }

    /// A map that splits the slots into contiguous, nearly equal ranges, one
    /// per node in order, as `redis-cli --cluster create` does (three nodes get
    /// 0-5460, 5461-10922 and 10923-16383).
    pub fn split_evenly(nodes: Vec<Node>) -> Self {
        let n = nodes.len();
        let mut map = SlotMap::new(nodes);
        let mut first = 0usize;
        for i in 0..n {
            // The range ends at the rounded i+1'th fraction of the slots.
            let end = if i + 1 == n { SLOTS } else { ((i + 1) * SLOTS * 2 + n) / (2 * n) };
            map.assign(first..end.max(first), i);
            first = end.max(first);
        }
        map
    }

    /// Gives the slots in `range` to node `node`.
    pub fn assign(&mut self, range: std::ops::Range<usize>, node: usize) {
        let node = u16::try_from(node).ok().filter(|&n| (n as usize) < self.nodes.len()).unwrap_or(UNASSIGNED);
        for slot in range.start.min(SLOTS)..range.end.min(SLOTS) {
            self.set_raw(slot, node);
        }
    }

    /// Sets (or clears) the owner of one slot.
    pub fn set_owner(&mut self, slot: usize, node: Option<usize>) {
        if slot < SLOTS {
            self.set_raw(slot, node.and_then(|n| u16::try_from(n).ok()).unwrap_or(UNASSIGNED));
        }
    }

    fn set_raw(&mut self, slot: usize, node: u16) {
        let was = std::mem::replace(&mut self.owner[slot], node);
        self.served = self.served + (node != UNASSIGNED) as usize - (was != UNASSIGNED) as usize;
    }

    /// How many slots have an owner.
    pub fn served(&self) -> usize {
        self.served
    }

    /// Adds a node that serves no slot yet; its index.
    pub fn add_node(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Removes node `node`: the slots it served are unbound, and the nodes
    /// after it move down one index.
    pub fn remove_node(&mut self, node: usize) {
        if node >= self.nodes.len() {
            return;
        }
        self.nodes.remove(node);
        for slot in 0..SLOTS {
            let o = self.owner[slot];
            match (o as usize).cmp(&node) {
                _ if o == UNASSIGNED => {}
                std::cmp::Ordering::Equal => self.set_raw(slot, UNASSIGNED),
                std::cmp::Ordering::Greater => self.owner[slot] = o - 1,
                std::cmp::Ordering::Less => {}
            }
        }
    }

    /// Sets the address clients are redirected to for node `node`.
    pub fn set_addr(&mut self, node: usize, addr: String) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.addr = addr;
        }
    }

    /// Renames node `node`.
    pub fn set_id(&mut self, node: usize, id: String) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.id = id;
        }
    }

    /// The nodes, by index.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The index of the node serving `slot`, if any.
    pub fn owner(&self, slot: u16) -> Option<usize> {
        match self.owner.get(slot as usize) {
            Some(&n) if n != UNASSIGNED => Some(n as usize),
            _ => None,
        }
    }

    /// The contiguous slot ranges node `node` serves, inclusive, in order.
    pub fn ranges(&self, node: usize) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for slot in 0..SLOTS as u16 {
            if self.owner(slot) != Some(node) {
                continue;
            }
            match out.last_mut() {
                Some((_, last)) if *last + 1 == slot => *last = slot,
                _ => out.push((slot, slot)),
            }
        }
        out
    }

    /// Decides whether node `me` runs `cmd` itself: `Ok(Some(slot))` for a
    /// command on keys of a slot it serves, `Ok(None)` for a command without
    /// keys (any node runs it), or the redirection a client hears instead.
    pub fn route(&self, me: usize, cmd: Resolved, args: &Args<'_>) -> Result<Option<u16>, Redirect> {
        let Some(slot) = command_slot(cmd, args)? else { return Ok(None) };
        match self.owner(slot) {
            Some(node) if node == me => Ok(Some(slot)),
            Some(node) => Err(Redirect::Moved { slot, node }),
            None => Err(Redirect::Unserved(slot)),
        }
    }

    /// The error a client hears for `redirect`, in Redis's words.
    pub fn error(&self, redirect: &Redirect) -> CmdError {
        match redirect {
            Redirect::CrossSlot => CmdError::msg("CROSSSLOT Keys in request don't hash to the same slot"),
            Redirect::Moved { slot, node } => {
                let addr = self.nodes.get(*node).map_or("", |n| n.addr.as_str());
                CmdError::owned(format!("MOVED {slot} {addr}"))
            }
            Redirect::Unserved(_) => CmdError::msg("CLUSTERDOWN Hash slot not served"),
            Redirect::Down => CmdError::msg("CLUSTERDOWN The cluster is down"),
        }
    }
}

/// The one slot all of a command's keys hash to, `None` for a command without
/// keys, or [`Redirect::CrossSlot`] when they hash to several. Commands that
/// walk the whole keyspace (`KEYS`, `SCAN`, `DBSIZE`) have no key arguments and
/// run on whichever node receives them, over that node's slots.
pub fn command_slot(cmd: Resolved, args: &Args<'_>) -> Result<Option<u16>, Redirect> {
    let mut found: Option<u16> = None;
    if cmd.spec.has(flags::KEYSPACE) && cmd.spec.key_indexes(args).next().is_none() {
        return Ok(None);
    }
    for i in cmd.spec.key_indexes(args) {
        let slot = key_slot(args.get(i));
        match found {
            Some(s) if s != slot => return Err(Redirect::CrossSlot),
            _ => found = Some(slot),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::resolve;
    use crate::resp::request::Argv;

    fn nodes(n: usize) -> Vec<Node> {
        (0..n).map(|i| Node { id: format!("{i:040x}"), addr: format!("127.0.0.1:{}", 7000 + i) }).collect()
    }

    fn route(map: &SlotMap, me: usize, line: &str) -> Result<Option<u16>, String> {
        let argv = Argv::from_args(line.split(' '));
        let args = argv.bind(&[]);
        let cmd = resolve(&args).map_err(|e| e.to_string())?;
        map.route(me, cmd, &args).map_err(|r| map.error(&r).to_string())
    }

    #[test]
    fn splits_like_redis_cli() {
        let map = SlotMap::split_evenly(nodes(3));
        assert_eq!(map.ranges(0), vec![(0, 5460)]);
        assert_eq!(map.ranges(1), vec![(5461, 10922)]);
        assert_eq!(map.ranges(2), vec![(10923, 16383)]);
        for n in 1..=16 {
            let map = SlotMap::split_evenly(nodes(n));
            let total: usize = (0..n).flat_map(|i| map.ranges(i)).map(|(a, b)| (b - a + 1) as usize).sum();
            assert_eq!(total, SLOTS, "{n} nodes");
            assert!((0..SLOTS as u16).all(|s| map.owner(s).is_some()));
            assert_eq!(map.served(), SLOTS);
            let mut less = map.clone();
            less.remove_node(0);
            less.set_owner(SLOTS - 1, None);
            let counted = (0..SLOTS as u16).filter(|&s| less.owner(s).is_some()).count();
            assert_eq!(less.served(), counted, "{n} nodes");
        }
    }

    #[test]
    fn moved_crossslot_and_keyless() {
        let map = SlotMap::split_evenly(nodes(3));
        // slot("foo") = 12182, served by the third node.
        assert_eq!(route(&map, 2, "GET foo"), Ok(Some(12182)));
        assert_eq!(route(&map, 0, "GET foo"), Err("MOVED 12182 127.0.0.1:7002".into()));
        assert_eq!(route(&map, 0, "MSET a 1 b 2"), Err("CROSSSLOT Keys in request don't hash to the same slot".into()));
        assert_eq!(
            route(&map, 0, "MSET {u}a 1 {u}b 2").map(|s| s.is_some()),
            route(&map, 0, "GET u").map(|s| s.is_some())
        );
        assert_eq!(route(&map, 1, "PING"), Ok(None));
        assert_eq!(route(&map, 1, "DBSIZE"), Ok(None));
        assert_eq!(route(&map, 1, "EVAL x 0"), Ok(None));
        assert_eq!(route(&map, 0, "EVAL x 2 a b"), Err("CROSSSLOT Keys in request don't hash to the same slot".into()));
        let mut partial = SlotMap::new(nodes(2));
        partial.assign(0..100, 0);
        assert_eq!(route(&partial, 0, "GET foo"), Err("CLUSTERDOWN Hash slot not served".into()));
    }
}
