//! One node's view of its cluster: the nodes it knows, which node serves each
//! slot, the epochs, and the texts Redis gives them. `CLUSTER NODES` and the
//! `cluster-config-file` share one format (the file adds a `vars` line), so
//! the node's view is saved and reloaded by the same code that prints it.
//!
//! The rules are Redis Cluster's:
//! - the cluster is `ok` when every slot is served (`cluster-require-full-coverage yes`);
//! - a command on keys of a slot no node serves answers `CLUSTERDOWN Hash slot
//!   not served`, on keys of a served slot while the cluster is down
//!   `CLUSTERDOWN The cluster is down`, on keys of another node's slot
//!   `MOVED <slot> <ip>:<port>`, and on keys of several slots `CROSSSLOT`;
//! - a transaction's commands must all be on one slot, checked at `EXEC`;
//! - a node's config epoch orders claims on slots: `SET-CONFIG-EPOCH` sets the
//!   first one of a lone node, `BUMPEPOCH` takes a new one without consensus.

use super::{Node, Redirect, SlotMap};
use crate::commands::{flags, Resolved};
use crate::error::CmdError;
use crate::resp::request::Args;
use crate::slot::{key_slot, SLOTS};
use std::fmt::Write as _;

/// What a node knows of one node of its cluster, besides its name and
/// address (kept in the [`SlotMap`] for redirections).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// The IP address clients and nodes reach it at; empty while a lone node
    /// has not learned its own (as in Redis).
    pub ip: String,
    /// The client port.
    pub port: u16,
    /// The cluster bus port.
    pub cport: u16,
    /// The primary it replicates, if it is a replica.
    pub replica_of: Option<String>,
    /// The epoch of its claim on its slots.
    pub config_epoch: u64,
    /// Unix milliseconds of the last ping sent to it, 0 when none is pending.
    pub ping_sent: u64,
    /// Unix milliseconds of the last pong received from it.
    pub pong_recv: u64,
    /// This node's link to it works (always true of this node itself).
    pub connected: bool,
}

/// A node this node was asked to meet (CLUSTER MEET, or named in another
/// node's gossip) and whose name it has not learned yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// Its IP address.
    pub ip: String,
    /// Its client port.
    pub port: u16,
    /// Its cluster bus port.
    pub cport: u16,
}

/// What a node says of itself in a message on the cluster bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeReport {
    /// Its name.
    pub id: String,
    /// Its client port.
    pub port: u16,
    /// Its cluster bus port.
    pub cport: u16,
    /// Its primary, if it is a replica.
    pub replica_of: Option<String>,
    /// Its config epoch.
    pub config_epoch: u64,
    /// The greatest epoch it has seen.
    pub current_epoch: u64,
    /// The slot ranges it serves, inclusive.
    pub slots: Vec<(u16, u16)>,
}

/// Another node named in a bus message's gossip, as the sender knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipEntry {
    /// Its name.
    pub id: String,
    /// Its address, client port and bus port.
    pub ip: String,
    /// Its client port.
    pub port: u16,
    /// Its cluster bus port.
    pub cport: u16,
}

/// The cluster as one node sees it.
#[derive(Clone, Debug)]
pub struct ClusterState {
    map: SlotMap,
    info: Vec<NodeInfo>,
    /// The index of this node in `map` and `info`.
    me: usize,
    /// The greatest epoch this node has seen.
    pub current_epoch: u64,
    /// The epoch of this node's last failover vote.
    pub last_vote_epoch: u64,
    /// Bus messages sent (CLUSTER INFO).
    pub messages_sent: u64,
    /// Bus messages received.
    pub messages_received: u64,
    /// Slots this node is giving away, and the node receiving each
    /// (SETSLOT MIGRATING).
    migrating: std::collections::BTreeMap<u16, String>,
    /// Slots this node is receiving, and the node giving each (SETSLOT IMPORTING).
    importing: std::collections::BTreeMap<u16, String>,
    /// Nodes to meet whose names are not known yet.
    handshakes: Vec<Handshake>,
    /// Nodes forgotten (CLUSTER FORGET) and the Unix millisecond until
    /// which gossip may not bring them back.
    forgotten: Vec<(String, u64)>,
}

/// How long a forgotten node is kept out, as in Redis.
const FORGET_MS: u64 = 60_000;

/// Why a `cluster-config-file` could not be read: the line and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl ClusterState {
    /// A cluster of one node, `id`, serving no slot.
    pub fn new(id: String, me: NodeInfo) -> Self {
        let node = Node { id, addr: format!("{}:{}", me.ip, me.port) };
        Self::of_nodes(SlotMap::new(vec![node]), vec![NodeInfo { connected: true, ..me }], 0)
    }

    /// The view of `map`'s nodes (described by `info`), this node at `me`,
    /// with no epoch, slot move, handshake or message counted yet.
    fn of_nodes(map: SlotMap, info: Vec<NodeInfo>, me: usize) -> Self {
        ClusterState {
            map,
            info,
            me,
            current_epoch: 0,
            last_vote_epoch: 0,
            messages_sent: 0,
            messages_received: 0,
            migrating: Default::default(),
            importing: Default::default(),
            handshakes: Vec::new(),
            forgotten: Vec::new(),
        }
    }

    /// This node's name (`CLUSTER MYID`).
    pub fn my_id(&self) -> &str {
        &self.map.nodes()[self.me].id
    }

    /// This node's shard: the name of its primary, or its own if it is one.
    pub fn my_shard_id(&self) -> &str {
        self.info[self.me].replica_of.as_deref().unwrap_or_else(|| self.my_id())
    }

    /// What this node knows of itself.
    pub fn me(&self) -> &NodeInfo {
        &self.info[self.me]
    }

    /// Sets this node's address as it is announced (`cluster-announce-ip`,
    /// the ports it listens on).
    pub fn set_my_address(&mut self, ip: &str, port: u16, cport: u16) {
        let me = &mut self.info[self.me];
        (me.ip, me.port, me.cport) = (ip.to_string(), port, cport);
        self.map.set_addr(self.me, format!("{ip}:{port}"));
    }

    /// Gives this node a new name (`CLUSTER RESET HARD`).
    pub fn set_my_id(&mut self, id: String) {
        self.map.set_id(self.me, id);
    }

    /// The slot map, for routing.
    pub fn slots(&self) -> &SlotMap {
        &self.map
    }

    /// How many nodes this node knows, itself included.
    pub fn known_nodes(&self) -> usize {
        self.info.len()
    }

    /// The index of the node named `id`.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.map.nodes().iter().position(|n| n.id == id)
    }

    /// True for this node's own index.
    pub fn is_me(&self, node: usize) -> bool {
        node == self.me
    }

    /// What this node knows of node `node`.
    pub fn node(&self, node: usize) -> (&Node, &NodeInfo) {
        (&self.map.nodes()[node], &self.info[node])
    }

    /// True when every slot is served: the cluster accepts commands on keys.
    pub fn is_ok(&self) -> bool {
        self.map.served() == SLOTS
    }

    /// How many slots have an owner.
    pub fn slots_assigned(&self) -> usize {
        self.map.served()
    }

    /// Primaries serving at least one slot (`cluster_size`).
    pub fn size(&self) -> usize {
        (0..self.info.len()).filter(|&n| self.info[n].replica_of.is_none() && !self.map.ranges(n).is_empty()).count()
    }

    /// Forgets node `node` (CLUSTER FORGET): the slots it served are unbound.
    /// This node itself is never forgotten.
    pub fn remove_node(&mut self, node: usize, now_ms: u64) {
        if node == self.me || node >= self.info.len() {
            return;
        }
        let id = self.map.nodes()[node].id.clone();
        self.forgotten.retain(|(f, until)| *f != id && *until > now_ms);
        self.forgotten.push((id, now_ms + FORGET_MS));
        self.map.remove_node(node);
        self.info.remove(node);
        if self.me > node {
            self.me -= 1;
        }
    }

    /// Gives `slot` to this node (ADDSLOTS), or takes it from it (DELSLOTS).
    pub fn set_mine(&mut self, slot: u16, mine: bool) {
        let owner = if mine { Some(self.me) } else { None };
        self.map.set_owner(slot as usize, owner);
    }

    /// Forgets every slot's owner (FLUSHSLOTS of a lone node, RESET).
    pub fn forget_my_slots(&mut self) {
        for slot in 0..SLOTS as u16 {
            if self.map.owner(slot) == Some(self.me) {
                self.map.set_owner(slot as usize, None);
            }
        }
    }

    /// Forgets every other node and every slot (CLUSTER RESET).
    pub fn reset(&mut self, hard: bool, new_id: String) {
        let me = self.info[self.me].clone();
        let epochs = (self.current_epoch, self.last_vote_epoch);
        let id = if hard { new_id } else { self.my_id().to_string() };
        *self = ClusterState::new(id, NodeInfo { replica_of: None, ..me });
        if hard {
            self.info[self.me].config_epoch = 0;
        } else {
            (self.current_epoch, self.last_vote_epoch) = epochs;
        }
    }

    /// `CLUSTER SET-CONFIG-EPOCH`: the first epoch of a node that knows no other.
    pub fn set_config_epoch(&mut self, epoch: i64) -> Result<(), CmdError> {
        if epoch < 0 {
            return Err(CmdError::owned(format!("ERR Invalid config epoch specified: {epoch}")));
        }
        if self.info.len() > 1 {
            return Err(CmdError::msg(
                "ERR The user can assign a config epoch only when the node does not know any other node.",
            ));
        }
        if self.info[self.me].config_epoch != 0 {
            return Err(CmdError::msg("ERR Node config epoch is already non-zero"));
        }
        let epoch = epoch as u64;
        self.info[self.me].config_epoch = epoch;
        self.current_epoch = self.current_epoch.max(epoch);
        Ok(())
    }

    /// `CLUSTER BUMPEPOCH`: a new config epoch without asking the others,
    /// unless this node's is already the greatest and unique. True if bumped;
    /// the epoch either way.
    pub fn bump_epoch(&mut self) -> (bool, u64) {
        let max = self.info.iter().map(|n| n.config_epoch).max().unwrap_or(0).max(self.current_epoch);
        let mine = self.info[self.me].config_epoch;
        if mine == 0 || mine != max {
            self.current_epoch += 1;
            self.info[self.me].config_epoch = self.current_epoch;
            return (true, self.current_epoch);
        }
        (false, mine)
    }

    /// Whether this node runs `cmd` for a client, or the error the client
    /// hears instead (Redis's `getNodeByQuery`). `queued` holds the commands of
    /// a transaction at its EXEC: they are checked together.
    pub fn check<'a>(
        &self,
        commands: impl IntoIterator<Item = (Resolved, Args<'a>)>,
        readonly_client: bool,
        asking: bool,
    ) -> Result<Option<u16>, Redirect> {
        let mut slot: Option<u16> = None;
        let mut all_read_only = true;
        let mut asked = asking;
        // Key by key, as Redis checks them: a first key in an unserved slot
        // is reported before a later key in another slot.
        for (cmd, args) in commands {
            let mut keyed = false;
            for i in cmd.spec.key_indexes(&args) {
                let s = key_slot(args.get(i));
                match slot {
                    None if self.map.owner(s).is_none() => return Err(Redirect::Unserved(s)),
                    None => slot = Some(s),
                    Some(first) if first != s => return Err(Redirect::CrossSlot),
                    Some(_) => {}
                }
                keyed = true;
            }
            if keyed {
                let top = cmd.parent.unwrap_or(cmd.spec);
                all_read_only &= top.has(flags::READONLY) && !top.has(flags::WRITE);
                asked |= top.has(flags::ASKING);
            }
        }
        let Some(slot) = slot else { return Ok(None) };
        if !self.is_ok() {
            return Err(Redirect::Down);
        }
        match self.map.owner(slot) {
            Some(n) if n == self.me => Ok(Some(slot)),
            // A client sent here by ASK may use a slot this node is receiving.
            Some(_) if asked && self.importing.contains_key(&slot) => Ok(Some(slot)),
            // A replica answers reads of its primary's slots to a client that
            // asked for it (READONLY).
            Some(n) if readonly_client && all_read_only && self.serves_reads_of(n) => Ok(Some(slot)),
            Some(node) => Err(Redirect::Moved { slot, node }),
            None => Err(Redirect::Unserved(slot)),
        }
    }

    fn serves_reads_of(&self, primary: usize) -> bool {
        self.info[self.me].replica_of.as_deref() == Some(self.map.nodes()[primary].id.as_str())
    }

    /// One node's `CLUSTER NODES` line (without the newline).
    pub fn node_line(&self, n: usize) -> String {
        let (node, info) = (&self.map.nodes()[n], &self.info[n]);
        let mut flags = String::new();
        if n == self.me {
            flags.push_str("myself,");
        }
        flags.push_str(if info.replica_of.is_some() { "slave" } else { "master" });
        let mut line = format!(
            "{} {}:{}@{} {} {} {} {} {} {}",
            node.id,
            info.ip,
            info.port,
            info.cport,
            flags,
            info.replica_of.as_deref().unwrap_or("-"),
            info.ping_sent,
            info.pong_recv,
            info.config_epoch,
            if info.connected { "connected" } else { "disconnected" }
        );
        for (a, b) in self.map.ranges(n) {
            if a == b {
                let _ = write!(line, " {a}");
            } else {
                let _ = write!(line, " {a}-{b}");
            }
        }
        if n == self.me {
            for (slot, to) in &self.migrating {
                let _ = write!(line, " [{slot}->-{to}]");
            }
            for (slot, from) in &self.importing {
                let _ = write!(line, " [{slot}-<-{from}]");
            }
        }
        line
    }

    /// `CLUSTER NODES`: one line per node, this node first.
    pub fn nodes_text(&self) -> String {
        let mut out = String::new();
        let order = std::iter::once(self.me).chain((0..self.info.len()).filter(|&n| n != self.me));
        for n in order {
            out.push_str(&self.node_line(n));
            out.push('\n');
        }
        out
    }

    /// The `cluster-config-file`: `CLUSTER NODES` and the epochs.
    pub fn config_text(&self) -> String {
        format!(
            "{}vars currentEpoch {} lastVoteEpoch {}\n",
            self.nodes_text(),
            self.current_epoch,
            self.last_vote_epoch
        )
    }

    /// Reads a `cluster-config-file` written by [`ClusterState::config_text`]
    /// (or by Redis).
    pub fn from_config_text(text: &str) -> Result<Self, ConfigError> {
        // Each node with the slot ranges its line gives.
        type NodeLine = (Node, NodeInfo, Vec<(u16, u16)>);
        let mut nodes: Vec<NodeLine> = Vec::new();
        let mut me = None;
        let (mut current_epoch, mut last_vote_epoch) = (0, 0);
        for (i, line) in text.lines().enumerate() {
            let err = |reason: &str| ConfigError { line: i + 1, reason: reason.to_string() };
            let fields: Vec<&str> = line.split(' ').filter(|f| !f.is_empty()).collect();
            match fields.first() {
                None => continue,
                Some(&"vars") => {
                    for pair in fields[1..].chunks(2) {
                        let value = pair.get(1).and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| err("bad vars"))?;
                        match pair[0] {
                            "currentEpoch" => current_epoch = value,
                            "lastVoteEpoch" => last_vote_epoch = value,
                            _ => {}
                        }
                    }
                    continue;
                }
                Some(_) if fields.len() < 8 => return Err(err("fewer than 8 fields")),
                Some(_) => {}
            }
            let id = fields[0];
            if !valid_name(id) {
                return Err(err("bad node name"));
            }
            let (ip, port, cport) = parse_address(fields[1]).ok_or_else(|| err("bad address"))?;
            let flag_list: Vec<&str> = fields[2].split(',').collect();
            if flag_list.contains(&"myself") {
                me = Some(nodes.len());
            }
            let replica_of = match (flag_list.contains(&"slave"), fields[3]) {
                (true, primary) if primary != "-" => Some(primary.to_string()),
                _ => None,
            };
            let number = |f: &str| f.parse::<u64>().map_err(|_| err("bad number"));
            let info = NodeInfo {
                ip: ip.to_string(),
                port,
                cport,
                replica_of,
                ping_sent: number(fields[4])?,
                pong_recv: number(fields[5])?,
                config_epoch: number(fields[6])?,
                connected: flag_list.contains(&"myself"),
            };
            let mut ranges = Vec::new();
            for r in &fields[8..] {
                // Slots being migrated or imported (`[slot->-node]`) are
                // settled again by the nodes themselves.
                if r.starts_with('[') {
                    continue;
                }
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                let slot = |s: &str| s.parse::<u16>().ok().filter(|&s| (s as usize) < SLOTS);
                match (slot(a), slot(b)) {
                    (Some(a), Some(b)) if a <= b => ranges.push((a, b)),
                    _ => return Err(err("bad slot range")),
                }
            }
            let node = Node { id: id.to_string(), addr: format!("{ip}:{port}") };
            nodes.push((node, info, ranges));
        }
        let me = me.ok_or(ConfigError { line: 0, reason: "no line for this node (myself)".into() })?;
        let mut map = SlotMap::new(nodes.iter().map(|(n, _, _)| n.clone()).collect());
        let mut info = Vec::with_capacity(nodes.len());
        for (i, (_, node, ranges)) in nodes.into_iter().enumerate() {
            for (a, b) in ranges {
                map.assign(a as usize..b as usize + 1, i);
            }
            info.push(node);
        }
        let mut state = Self::of_nodes(map, info, me);
        (state.current_epoch, state.last_vote_epoch) = (current_epoch, last_vote_epoch);
        Ok(state)
    }

    /// True while some slot is being moved to or from this node.
    pub fn has_open_slots(&self) -> bool {
        !self.migrating.is_empty() || !self.importing.is_empty()
    }

    /// The address (`ip:port`) of the node `slot` is being moved to, if this
    /// node is giving it away.
    pub fn migrating_to(&self, slot: u16) -> Option<String> {
        let to = self.find(self.migrating.get(&slot)?)?;
        Some(self.map.nodes()[to].addr.clone())
    }

    /// True if this node is receiving `slot`.
    pub fn is_importing(&self, slot: u16) -> bool {
        self.importing.contains_key(&slot)
    }

    /// The index of primary `id`, or Redis's error for SETSLOT.
    fn setslot_target(&self, id: &str, unknown: &str) -> Result<usize, CmdError> {
        let n = self.find(id).ok_or_else(|| CmdError::owned(format!("ERR {unknown} {id}")))?;
        if self.info[n].replica_of.is_some() {
            return Err(CmdError::msg("ERR Target node is not a master"));
        }
        Ok(n)
    }

    /// `CLUSTER SETSLOT slot MIGRATING node`: this node gives `slot` to `id`.
    pub fn set_migrating(&mut self, slot: u16, id: &str) -> Result<(), CmdError> {
        if self.map.owner(slot) != Some(self.me) {
            return Err(CmdError::owned(format!("ERR I'm not the owner of hash slot {slot}")));
        }
        self.setslot_target(id, "I don't know about node")?;
        self.migrating.insert(slot, id.to_string());
        Ok(())
    }

    /// `CLUSTER SETSLOT slot IMPORTING node`: this node receives `slot` from `id`.
    pub fn set_importing(&mut self, slot: u16, id: &str) -> Result<(), CmdError> {
        if self.map.owner(slot) == Some(self.me) {
            return Err(CmdError::owned(format!("ERR I'm already the owner of hash slot {slot}")));
        }
        self.setslot_target(id, "I don't know about node")?;
        self.importing.insert(slot, id.to_string());
        Ok(())
    }

    /// `CLUSTER SETSLOT slot STABLE`: the slot is no longer being moved.
    pub fn set_stable(&mut self, slot: u16) {
        self.migrating.remove(&slot);
        self.importing.remove(&slot);
    }

    /// `CLUSTER SETSLOT slot NODE node`: `id` serves `slot` from now on.
    /// `local_keys`: the keys of the slot this node still holds. A node that
    /// takes a slot it was importing takes a new config epoch, so the rest of
    /// the cluster accepts its claim (as Redis does, without consensus).
    pub fn set_slot_node(&mut self, slot: u16, id: &str, local_keys: usize) -> Result<(), CmdError> {
        let n = self.setslot_target(id, "Unknown node")?;
        if self.map.owner(slot) == Some(self.me) && n != self.me && local_keys != 0 {
            return Err(CmdError::owned(format!(
                "ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."
            )));
        }
        if local_keys == 0 && n != self.me {
            self.migrating.remove(&slot);
        }
        if n == self.me && self.importing.remove(&slot).is_some() {
            self.bump_epoch();
        }
        self.map.set_owner(slot as usize, Some(n));
        Ok(())
    }

    /// CLUSTER MEET: remembers to meet the node at `ip:port` (bus port
    /// `cport`). Redis's error for an address that is not an IP address.
    pub fn meet(&mut self, ip: &str, port: u16, cport: u16) -> Result<(), String> {
        let ip: std::net::IpAddr =
            ip.parse().map_err(|_| format!("ERR Invalid node address specified: {ip}:{port}"))?;
        let ip = ip.to_string();
        let known = self.info.iter().any(|n| n.ip == ip && n.port == port && n.cport == cport);
        let pending = self.handshakes.iter().any(|h| h.ip == ip && h.port == port);
        if !known && !pending {
            self.handshakes.push(Handshake { ip, port, cport });
        }
        Ok(())
    }

    /// The nodes to meet.
    pub fn handshakes(&self) -> &[Handshake] {
        &self.handshakes
    }

    /// Gives up meeting the node at `ip:port`.
    pub fn drop_handshake(&mut self, ip: &str, port: u16) {
        self.handshakes.retain(|h| !(h.ip == ip && h.port == port));
    }

    /// This node's report of itself, for its bus messages.
    pub fn my_report(&self) -> NodeReport {
        let me = &self.info[self.me];
        NodeReport {
            id: self.my_id().to_string(),
            port: me.port,
            cport: me.cport,
            replica_of: me.replica_of.clone(),
            config_epoch: me.config_epoch,
            current_epoch: self.current_epoch,
            slots: self.map.ranges(self.me),
        }
    }

    /// The other nodes this node knows, for its bus messages' gossip.
    pub fn gossip(&self) -> Vec<GossipEntry> {
        (0..self.info.len())
            .filter(|&n| n != self.me && !self.info[n].ip.is_empty())
            .map(|n| GossipEntry {
                id: self.map.nodes()[n].id.clone(),
                ip: self.info[n].ip.clone(),
                port: self.info[n].port,
                cport: self.info[n].cport,
            })
            .collect()
    }

    /// Takes in a bus message from `sender`, which this node reached at (or
    /// heard from) IP `ip`: `meet` says the sender asked to be met (MEET,
    /// or the pong to this node's MEET), so an unknown sender joins. Applies
    /// Redis Cluster's rules: the greatest epoch wins, a slot goes to the
    /// claimant with the greater config epoch, two primaries with one config
    /// epoch are parted by the one with the smaller name taking a new epoch,
    /// and gossip names nodes to meet. True if the view changed (to save).
    pub fn receive(&mut self, sender: &NodeReport, ip: &str, meet: bool, gossip: &[GossipEntry], now_ms: u64) -> bool {
        if sender.id == self.my_id() || !valid_name(&sender.id) {
            return false;
        }
        let mut changed = false;
        let node = match self.find(&sender.id) {
            Some(n) => n,
            None if meet && !self.is_forgotten(&sender.id, now_ms) => {
                self.drop_handshake(ip, sender.port);
                self.map.add_node(Node { id: sender.id.clone(), addr: format!("{ip}:{}", sender.port) });
                self.info.push(NodeInfo {
                    ip: ip.to_string(),
                    port: sender.port,
                    cport: sender.cport,
                    ..NodeInfo::default()
                });
                changed = true;
                self.info.len() - 1
            }
            None => return false,
        };
        self.drop_handshake(ip, sender.port);
        let info = &mut self.info[node];
        info.pong_recv = now_ms;
        info.ping_sent = 0;
        info.connected = true;
        if (info.replica_of.as_ref(), info.config_epoch) != (sender.replica_of.as_ref(), sender.config_epoch) {
            info.replica_of = sender.replica_of.clone();
            info.config_epoch = sender.config_epoch;
            changed = true;
        }
        if sender.current_epoch > self.current_epoch {
            self.current_epoch = sender.current_epoch;
            changed = true;
        }
        if sender.replica_of.is_none() {
            for &(a, b) in &sender.slots {
                for slot in a..=b.min(SLOTS as u16 - 1) {
                    let owner = self.map.owner(slot);
                    let wins = match owner {
                        Some(o) if o == node => false,
                        Some(o) => self.info[o].config_epoch < sender.config_epoch,
                        None => true,
                    };
                    if wins {
                        self.map.set_owner(slot as usize, Some(node));
                        changed = true;
                    }
                }
            }
            let me = &self.info[self.me];
            if me.replica_of.is_none() && me.config_epoch == sender.config_epoch && self.my_id() < sender.id.as_str() {
                self.current_epoch += 1;
                self.info[self.me].config_epoch = self.current_epoch;
                changed = true;
            }
        }
        for g in gossip {
            let known = g.id == self.my_id() || self.find(&g.id).is_some() || self.is_forgotten(&g.id, now_ms);
            if !known && !g.ip.is_empty() && valid_name(&g.id) {
                let _ = self.meet(&g.ip, g.port, g.cport);
            }
        }
        changed
    }

    /// Learns this node's own IP address from the bus, if it had none.
    pub fn learn_my_ip(&mut self, ip: &str) -> bool {
        if !self.info[self.me].ip.is_empty() {
            return false;
        }
        let me = &self.info[self.me];
        let (port, cport) = (me.port, me.cport);
        self.set_my_address(ip, port, cport);
        true
    }

    /// The index of the other node at `ip:port`, if this node knows it.
    pub fn find_at(&self, ip: &str, port: u16) -> Option<usize> {
        (0..self.info.len()).find(|&n| n != self.me && self.info[n].ip == ip && self.info[n].port == port)
    }

    /// Marks the link to the node at `ip:port` up or down.
    pub fn set_connected_at(&mut self, ip: &str, port: u16, up: bool) {
        if let Some(n) = self.find_at(ip, port) {
            self.info[n].connected = up;
        }
    }

    fn is_forgotten(&self, id: &str, now_ms: u64) -> bool {
        self.forgotten.iter().any(|(f, until)| f == id && *until > now_ms)
    }

    /// `CLUSTER INFO`.
    pub fn info_text(&self) -> String {
        let (messages_sent, messages_received) = (self.messages_sent, self.messages_received);
        let assigned = self.slots_assigned();
        format!(
            "cluster_state:{}\r\ncluster_slots_assigned:{assigned}\r\ncluster_slots_ok:{assigned}\r\n\
             cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\n\
             cluster_current_epoch:{}\r\ncluster_my_epoch:{}\r\ncluster_stats_messages_sent:{messages_sent}\r\n\
             cluster_stats_messages_received:{messages_received}\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n",
            if self.is_ok() { "ok" } else { "fail" },
            self.info.len(),
            self.size(),
            self.current_epoch,
            self.my_epoch(),
        )
    }

    /// The config epoch of this node, or of its primary if it is a replica.
    pub fn my_epoch(&self) -> u64 {
        match &self.info[self.me].replica_of {
            Some(p) => self.find(p).map_or(0, |n| self.info[n].config_epoch),
            None => self.info[self.me].config_epoch,
        }
    }

    /// The replicas of node `node`.
    pub fn replicas_of(&self, node: usize) -> Vec<usize> {
        let id = &self.map.nodes()[node].id;
        (0..self.info.len()).filter(|&n| self.info[n].replica_of.as_ref() == Some(id)).collect()
    }
}

/// A node name: 40 hex characters.
fn valid_name(id: &str) -> bool {
    id.len() == 40 && id.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `ip:port@cport[,hostname]`.
fn parse_address(field: &str) -> Option<(&str, u16, u16)> {
    let field = field.split(',').next()?;
    let (addr, cport) = field.split_once('@')?;
    let (ip, port) = addr.rsplit_once(':')?;
    Some((ip, port.parse().ok()?, cport.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::resolve;
    use crate::resp::request::Argv;

    const A: &str = "589f6d6b8bff3d87ba7d00cf61feda78af464cc6";

    fn lone() -> ClusterState {
        let me = NodeInfo { ip: String::new(), port: 7101, cport: 17101, ..NodeInfo::default() };
        ClusterState::new(A.to_string(), me)
    }

    fn check(state: &ClusterState, lines: &[&str]) -> Result<Option<u16>, String> {
        let argvs: Vec<Argv> = lines.iter().map(|l| Argv::from_args(l.split(' '))).collect();
        let bound: Vec<Args<'_>> = argvs.iter().map(|a| a.bind(&[])).collect();
        let cmds: Vec<(Resolved, Args<'_>)> = bound.iter().map(|a| (resolve(a).unwrap(), *a)).collect();
        state.check(cmds, false, false).map_err(|r| state.slots().error(&r).text().into_owned())
    }

    #[test]
    fn a_lone_node_prints_as_redis_does() {
        let mut s = lone();
        assert_eq!(s.nodes_text(), format!("{A} :7101@17101 myself,master - 0 0 0 connected\n"));
        for slot in (0..=100).chain([200, 201, 300]) {
            s.set_mine(slot, true);
        }
        assert_eq!(s.nodes_text(), format!("{A} :7101@17101 myself,master - 0 0 0 connected 0-100 200-201 300\n"));
        assert!(s.info_text().starts_with("cluster_state:fail\r\ncluster_slots_assigned:104\r\n"));
        assert_eq!(s.config_text().lines().last(), Some("vars currentEpoch 0 lastVoteEpoch 0"));
    }

    #[test]
    fn the_config_file_reads_back_what_it_wrote() {
        let mut s = lone();
        s.set_my_address("127.0.0.1", 7000, 17000);
        for slot in 0..16384 {
            s.set_mine(slot, slot % 3 != 1);
        }
        s.set_config_epoch(7).unwrap();
        let text = s.config_text();
        let back = ClusterState::from_config_text(&text).unwrap();
        assert_eq!(back.config_text(), text);
        assert_eq!(back.my_id(), A);
        assert_eq!(back.current_epoch, 7);
        assert_eq!(back.me().port, 7000);
    }

    #[test]
    fn a_damaged_config_file_names_its_line() {
        let bad_range = format!("{A} :7101@17101 myself,master - 0 0 0 connected 5-2\n");
        assert_eq!(ClusterState::from_config_text(&bad_range).unwrap_err().line, 1);
        let no_myself = format!("{A} :7101@17101 master - 0 0 0 connected\n");
        assert!(ClusterState::from_config_text(&no_myself).unwrap_err().reason.contains("myself"));
        assert_eq!(ClusterState::from_config_text("vars currentEpoch x\n").unwrap_err().line, 1);
        let short_name = "abc :7101@17101 myself,master - 0 0 0 connected\n";
        assert!(ClusterState::from_config_text(short_name).is_err());
        let bad_port = format!("\n{A} :70000@1 myself,master - 0 0 0 connected\n");
        assert_eq!(ClusterState::from_config_text(&bad_port).unwrap_err().line, 2);
    }

    #[test]
    fn routing_follows_redis() {
        let mut s = lone();
        assert_eq!(check(&s, &["GET foo"]), Err("CLUSTERDOWN Hash slot not served".into()));
        assert_eq!(check(&s, &["PING"]), Ok(None));
        for slot in 0..16384 {
            s.set_mine(slot, true);
        }
        assert_eq!(check(&s, &["GET foo"]), Ok(Some(12182)));
        assert_eq!(check(&s, &["MSET a 1 b 2"]), Err("CROSSSLOT Keys in request don't hash to the same slot".into()));
        // A transaction is checked as a whole at EXEC.
        assert_eq!(
            check(&s, &["SET a 1", "SET b 1"]),
            Err("CROSSSLOT Keys in request don't hash to the same slot".into())
        );
        assert_eq!(check(&s, &["SET {a}x 1", "GET a"]), Ok(Some(15495)));
        s.set_mine(0, false);
        assert_eq!(check(&s, &["GET {a}x"]), Err("CLUSTERDOWN The cluster is down".into()));
        assert_eq!(check(&s, &["GET {b}x"]), Err("CLUSTERDOWN The cluster is down".into()));
        assert_eq!(check(&s, &["GET {a}x", "PING"]), Err("CLUSTERDOWN The cluster is down".into()));
    }

    #[test]
    fn epochs_follow_redis() {
        let mut s = lone();
        assert_eq!(s.set_config_epoch(-1).unwrap_err().text(), "ERR Invalid config epoch specified: -1");
        assert_eq!(s.bump_epoch(), (true, 1));
        assert_eq!(s.bump_epoch(), (false, 1));
        assert_eq!(s.set_config_epoch(5).unwrap_err().text(), "ERR Node config epoch is already non-zero");
        let mut s = lone();
        s.set_config_epoch(5).unwrap();
        assert_eq!((s.current_epoch, s.my_epoch()), (5, 5));
        s.reset(true, "f".repeat(40));
        assert_eq!((s.my_id(), s.my_epoch()), ("f".repeat(40).as_str(), 0));
    }

    fn report(id: char, epoch: u64, slots: Vec<(u16, u16)>) -> NodeReport {
        NodeReport {
            id: id.to_string().repeat(40),
            port: 7000 + id as u16,
            cport: 17000 + id as u16,
            replica_of: None,
            config_epoch: epoch,
            current_epoch: epoch,
            slots,
        }
    }

    #[test]
    fn nodes_join_by_meeting_and_slots_go_to_the_greater_epoch() {
        let mut s = lone();
        let b = report('b', 2, vec![(100, 199)]);
        // An unknown node is taken in only from a MEET (or its answer to ours).
        assert!(!s.receive(&b, "10.0.0.2", false, &[], 1));
        assert_eq!(s.known_nodes(), 1);
        s.meet("10.0.0.2", b.port, b.cport).unwrap();
        assert_eq!(s.handshakes().len(), 1);
        assert!(s.receive(&b, "10.0.0.2", true, &[], 1));
        assert!(s.handshakes().is_empty(), "the handshake is done");
        assert_eq!(s.known_nodes(), 2);
        let bi = s.find(&b.id).unwrap();
        assert_eq!(s.slots().owner(150), Some(bi));
        assert_eq!(s.slots().nodes()[bi].addr, format!("10.0.0.2:{}", b.port));
        assert_eq!(s.current_epoch, 2);
        // A claim with a smaller epoch loses to the owner's; a greater one wins.
        for slot in 0..100 {
            s.set_mine(slot, true);
        }
        s.bump_epoch();
        let mine = s.my_epoch();
        assert!(mine > 2);
        let weak = report('b', 2, vec![(0, 10)]);
        s.receive(&weak, "10.0.0.2", false, &[], 2);
        assert!(s.is_me(s.slots().owner(5).unwrap()));
        let strong = report('b', mine + 1, vec![(0, 10)]);
        assert!(s.receive(&strong, "10.0.0.2", false, &[], 3));
        assert_eq!(s.slots().owner(5), Some(bi));
        assert!(s.is_me(s.slots().owner(50).unwrap()));
    }

    #[test]
    fn gossip_names_nodes_to_meet_and_forgotten_ones_stay_away() {
        let mut s = lone();
        let b = report('b', 1, vec![]);
        s.receive(&b, "10.0.0.2", true, &[], 1);
        let c = GossipEntry { id: "c".repeat(40), ip: "10.0.0.3".into(), port: 7003, cport: 17003 };
        s.receive(&b, "10.0.0.2", false, std::slice::from_ref(&c), 2);
        assert_eq!(s.handshakes(), &[Handshake { ip: "10.0.0.3".into(), port: 7003, cport: 17003 }]);
        let bi = s.find(&b.id).unwrap();
        s.remove_node(bi, 10);
        assert_eq!(s.known_nodes(), 1);
        // Gossip about it, or its MEET, is ignored for a minute...
        let d = GossipEntry { id: b.id.clone(), ip: "10.0.0.2".into(), port: b.port, cport: b.cport };
        s.receive(&report('c', 1, vec![]), "10.0.0.3", true, std::slice::from_ref(&d), 20);
        assert!(s.find(&b.id).is_none());
        assert!(!s.receive(&b, "10.0.0.2", true, &[], 30));
        // ...and not after.
        assert!(s.receive(&b, "10.0.0.2", true, &[], 10 + FORGET_MS + 1));
    }

    #[test]
    fn two_primaries_with_one_config_epoch_are_parted() {
        let mut s = lone();
        s.set_config_epoch(4).unwrap();
        // The node with the smaller name takes a new epoch.
        let bigger = NodeReport { id: "f".repeat(40), ..report('b', 4, vec![]) };
        s.receive(&bigger, "10.0.0.2", true, &[], 1);
        assert_eq!(s.my_epoch(), 5);
        let mut t = ClusterState::new("f".repeat(40), NodeInfo::default());
        t.set_config_epoch(4).unwrap();
        let smaller = NodeReport { id: A.to_string(), ..report('b', 4, vec![]) };
        t.receive(&smaller, "10.0.0.2", true, &[], 1);
        assert_eq!(t.my_epoch(), 4);
    }

    #[test]
    fn slots_move_between_nodes_as_setslot_says() {
        let mut s = lone();
        for slot in 0..16384 {
            s.set_mine(slot, slot < 8192);
        }
        let b = report('b', 3, vec![(8192, 16383)]);
        s.receive(&b, "10.0.0.2", true, &[], 1);
        let err = |r: Result<(), CmdError>| r.unwrap_err().text().into_owned();
        assert_eq!(err(s.set_migrating(9000, &b.id)), "ERR I'm not the owner of hash slot 9000");
        assert_eq!(err(s.set_importing(5, &b.id)), "ERR I'm already the owner of hash slot 5");
        assert_eq!(err(s.set_migrating(5, "x")), "ERR I don't know about node x");
        s.set_migrating(5, &b.id).unwrap();
        s.set_importing(9000, &b.id).unwrap();
        assert!(s.nodes_text().lines().next().unwrap().ends_with(&format!(" [5->-{}] [9000-<-{}]", b.id, b.id)));
        assert_eq!(s.migrating_to(5), Some(format!("10.0.0.2:{}", b.port)));
        // A slot being imported serves a client that asked (ASKING) only.
        let argv = Argv::from_args(["GET", "{a}b"].iter().copied());
        let slot = crate::slot::key_slot(b"{a}b");
        s.set_importing(slot, &b.id).unwrap();
        let cmd = resolve(&argv.bind(&[])).unwrap();
        assert!(matches!(s.check([(cmd, argv.bind(&[]))], false, false), Err(Redirect::Moved { .. })));
        assert_eq!(s.check([(cmd, argv.bind(&[]))], false, true), Ok(Some(slot)));
        // Giving a slot away needs it empty here; taking one bumps the epoch.
        assert_eq!(
            err(s.set_slot_node(5, &b.id, 3)),
            "ERR Can't assign hashslot 5 to a different node while I still hold keys for this hash slot."
        );
        s.set_slot_node(5, &b.id, 0).unwrap();
        assert_eq!(s.slots().owner(5), s.find(&b.id));
        let before = s.my_epoch();
        let me = s.my_id().to_string();
        s.set_slot_node(9000, &me, 0).unwrap();
        assert!(s.is_me(s.slots().owner(9000).unwrap()));
        assert!(s.my_epoch() > before);
        s.set_stable(slot);
        assert!(!s.has_open_slots());
    }
}
