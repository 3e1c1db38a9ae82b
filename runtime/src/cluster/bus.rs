//! The cluster bus: how nodes tell each other who they are, which slots
//! they serve and which other nodes they know.
//!
//! Each node listens on its bus port (`cluster-port`, by default the client
//! port + 10000). A node keeps one outgoing link to every node it knows or
//! was asked to meet; on it, it sends a PING (a MEET to a node it has not met
//! yet) every [`PING_EVERY`], and the other node answers each with a PONG on
//! the same connection. Every message carries the sender's report of itself
//! (name, ports, primary, config epoch, slots, current epoch) and gossip
//! about the other nodes it knows, and the receiver applies Redis Cluster's
//! rules ([`ClusterState::receive`]). Messages are frames of a 4-byte
//! big-endian length and a JSON body (serde_json), at most [`MAX_FRAME`]
//! bytes: the bus is slotkv's own, and only slotkv nodes speak it.

use super::ClusterNode;
use crate::server::{now_ms, Shared};
use serde::{Deserialize, Serialize};
use slotkv_core::cluster::{ClusterState, GossipEntry, NodeReport};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info, warn};

/// How often a link sends a PING.
pub const PING_EVERY: Duration = Duration::from_millis(250);
/// The largest bus message taken in.
pub const MAX_FRAME: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Kind {
    Meet,
    Ping,
    Pong,
}

#[derive(Debug, Serialize, Deserialize)]
struct Message {
    kind: Kind,
    id: String,
    port: u16,
    cport: u16,
    replica_of: Option<String>,
    config_epoch: u64,
    current_epoch: u64,
    slots: Vec<(u16, u16)>,
    gossip: Vec<(String, String, u16, u16)>,
}

impl Message {
    fn new(kind: Kind, state: &ClusterState) -> Message {
        let me = state.my_report();
        Message {
            kind,
            id: me.id,
            port: me.port,
            cport: me.cport,
            replica_of: me.replica_of,
            config_epoch: me.config_epoch,
            current_epoch: me.current_epoch,
            slots: me.slots,
            gossip: state.gossip().into_iter().map(|g| (g.id, g.ip, g.port, g.cport)).collect(),
        }
    }

    fn report(&self) -> NodeReport {
        NodeReport {
            id: self.id.clone(),
            port: self.port,
            cport: self.cport,
            replica_of: self.replica_of.clone(),
            config_epoch: self.config_epoch,
            current_epoch: self.current_epoch,
            slots: self.slots.clone(),
        }
    }

    fn gossip(&self) -> Vec<GossipEntry> {
        self.gossip
            .iter()
            .map(|(id, ip, port, cport)| GossipEntry { id: id.clone(), ip: ip.clone(), port: *port, cport: *cport })
            .collect()
    }
}

async fn write_message(stream: &mut TcpStream, m: &Message) -> std::io::Result<()> {
    let body = serde_json::to_vec(m).map_err(std::io::Error::other)?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    stream.write_all(&frame).await
}

async fn read_message(stream: &mut TcpStream) -> std::io::Result<Message> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other(format!("bus message of {len} bytes (at most {MAX_FRAME})")));
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await?;
    serde_json::from_slice(&body).map_err(std::io::Error::other)
}

/// A message of this node's, counted as sent.
fn outgoing(node: &ClusterNode, kind: Kind) -> Message {
    let mut state = node.state.write().unwrap_or_else(|p| p.into_inner());
    state.messages_sent += 1;
    Message::new(kind, &state)
}

/// Takes in a message that came from `peer` to this node's `local` address.
fn receive(node: &ClusterNode, m: &Message, peer: SocketAddr, local: SocketAddr, meet: bool) {
    let changed = {
        let mut state = node.state.write().unwrap_or_else(|p| p.into_inner());
        state.messages_received += 1;
        // A node learns its own address from the first node that meets or
        // pings it (the address that node reached it at), as in Redis.
        let learned = m.kind != Kind::Pong && state.learn_my_ip(&local.ip().to_string());
        state.receive(&m.report(), &peer.ip().to_string(), meet, &m.gossip(), now_ms()) | learned
    };
    if changed {
        if let Err(e) = node.save() {
            warn!("Could not save the cluster config file: {e:#}");
        }
    }
}

/// Listens on the bus port: every connection is another node's link to
/// this one, answered message by message.
pub async fn listen(listener: TcpListener, shared: Arc<Shared>) {
    crate::server::accept_until_shutdown(listener, shared, |stream, peer, shared| async move {
        if let Err(e) = answer(stream, peer, &shared).await {
            debug!("cluster bus link from {peer} closed: {e}");
        }
    })
    .await;
}

async fn answer(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) -> std::io::Result<()> {
    let Some(node) = &shared.cluster else { return Ok(()) };
    let local = stream.local_addr()?;
    let mut sig = shared.shutdown_signal();
    loop {
        let m = tokio::select! {
            m = read_message(&mut stream) => m?,
            _ = sig.wait_for(|v| *v) => return Ok(()),
        };
        if m.kind == Kind::Pong {
            continue;
        }
        receive(node, &m, peer, local, m.kind == Kind::Meet);
        let pong = outgoing(node, Kind::Pong);
        write_message(&mut stream, &pong).await?;
    }
}

/// Keeps a link open to every node known or to meet, `hz`-style: each
/// tick starts the links that are missing.
pub async fn links(shared: Arc<Shared>) {
    let Some(node) = &shared.cluster else { return };
    let running: Arc<Mutex<HashSet<(String, u16)>>> = Default::default();
    let mut sig = shared.shutdown_signal();
    loop {
        let targets: Vec<(String, u16, u16, bool)> = {
            let state = node.state.read().unwrap_or_else(|p| p.into_inner());
            let mut t: Vec<(String, u16, u16, bool)> =
                state.handshakes().iter().map(|h| (h.ip.clone(), h.port, h.cport, true)).collect();
            for n in 0..state.known_nodes() {
                let (_, info) = state.node(n);
                if !state.is_me(n) && !info.ip.is_empty() {
                    t.push((info.ip.clone(), info.port, info.cport, false));
                }
            }
            t
        };
        for (ip, port, cport, meet) in targets {
            if !running.lock().unwrap_or_else(|p| p.into_inner()).insert((ip.clone(), port)) {
                continue;
            }
            let (shared, running) = (shared.clone(), running.clone());
            tokio::spawn(async move {
                let outcome = link(&shared, &ip, port, cport, meet).await;
                if let Err(e) = outcome {
                    debug!("cluster bus link to {ip}:{cport} closed: {e}");
                }
                running.lock().unwrap_or_else(|p| p.into_inner()).remove(&(ip, port));
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(PING_EVERY) => {}
            _ = sig.wait_for(|v| *v) => return,
        }
    }
}

/// One outgoing link: connects, then pings (MEET while `meet`) and takes in
/// the pongs until the node is forgotten, the link fails, or shutdown.
async fn link(shared: &Shared, ip: &str, port: u16, cport: u16, meet: bool) -> std::io::Result<()> {
    let Some(node) = &shared.cluster else { return Ok(()) };
    let timeout =
        Duration::from_millis(shared.config.read().map(|c| c.get_i64("cluster-node-timeout")).unwrap_or(15000) as u64);
    let mut stream = match tokio::time::timeout(timeout, TcpStream::connect((ip, cport))).await {
        Ok(Ok(s)) => s,
        failed => {
            mark(node, ip, port, false);
            tokio::time::sleep(PING_EVERY).await;
            return Err(match failed {
                Ok(Err(e)) => e,
                _ => std::io::Error::other("connect timed out"),
            });
        }
    };
    let _ = stream.set_nodelay(true);
    let (peer, local) = (stream.peer_addr()?, stream.local_addr()?);
    let mut sig = shared.shutdown_signal();
    let mut kind = if meet { Kind::Meet } else { Kind::Ping };
    loop {
        let still_wanted = {
            let state = node.state.read().unwrap_or_else(|p| p.into_inner());
            let known = state.find_at(ip, port).is_some();
            let pending = state.handshakes().iter().any(|h| h.ip == ip && h.port == port);
            if known && kind == Kind::Meet {
                kind = Kind::Ping;
            }
            known || pending
        };
        if !still_wanted {
            return Ok(());
        }
        let ping = outgoing(node, kind);
        write_message(&mut stream, &ping).await?;
        let pong = tokio::select! {
            r = tokio::time::timeout(timeout, read_message(&mut stream)) => r,
            _ = sig.wait_for(|v| *v) => return Ok(()),
        };
        match pong {
            Ok(Ok(m)) if m.kind == Kind::Pong => receive(node, &m, peer, local, kind == Kind::Meet),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                mark(node, ip, port, false);
                return Err(e);
            }
            Err(_) => {
                mark(node, ip, port, false);
                return Err(std::io::Error::other("no pong within cluster-node-timeout"));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(PING_EVERY) => {}
            _ = sig.wait_for(|v| *v) => return Ok(()),
        }
    }
}

/// Marks the link to the node at `ip:port` up or down.
fn mark(node: &ClusterNode, ip: &str, port: u16, up: bool) {
    node.state.write().unwrap_or_else(|p| p.into_inner()).set_connected_at(ip, port, up);
}

/// Binds the bus port on the first `bind` address.
pub async fn bind(bind: &str, cport: u16) -> anyhow::Result<TcpListener> {
    let addr = bind.split_whitespace().next().unwrap_or("127.0.0.1").trim_start_matches('-');
    let sa: SocketAddr =
        format!("{}:{cport}", if addr.contains(':') { format!("[{addr}]") } else { addr.to_string() }).parse()?;
    let l =
        TcpListener::bind(sa).await.map_err(|e| anyhow::anyhow!("cannot listen on the cluster bus port {sa}: {e}"))?;
    info!("Cluster bus listening on {sa}");
    Ok(l)
}
