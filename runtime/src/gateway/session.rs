//! One HTTP request as a client of the server: it runs its commands exactly
//! as a RESP connection does (same admission, shards, scripts, blocking and
//! Pub/Sub), and leaves no trace when the request ends, however it ends.

use crate::server::connection::{execute, Waiting};
use crate::server::host::{ClientInfo, ServerHost};
use crate::server::pubsub::Delivery;
use crate::server::{now_ms, Shared};
use slotkv_core::rng::Rng;
use slotkv_core::{Argv, ClientState, ReplyBuf};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;

/// A client that lives as long as one HTTP request (or one event stream).
pub struct HttpClient {
    shared: Arc<Shared>,
    /// Its entry in the client registry (CLIENT LIST, wake-ups, kills).
    pub info: Arc<ClientInfo>,
    /// Its state: protocol, selected database, transaction, subscriptions.
    state: ClientState,
    /// Pub/Sub messages for it.
    pub messages: UnboundedReceiver<Delivery>,
    rng: Rng,
}

impl HttpClient {
    /// Registers a client for a request from `peer` to `local`.
    /// `user`: the ACL user its token named (none: the token allows everything).
    pub fn new(
        shared: &Arc<Shared>,
        peer: SocketAddr,
        local: SocketAddr,
        resp3: bool,
        user: Option<Arc<slotkv_core::acl::AclUser>>,
    ) -> Self {
        let id = shared.next_client_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (mailbox, messages) = tokio::sync::mpsc::unbounded_channel();
        let info = Arc::new(ClientInfo::new(id, peer, local, mailbox));
        shared.clients.lock().unwrap_or_else(|p| p.into_inner()).insert(id, info.clone());
        if shared.shutting_down() {
            info.kill();
        }
        // The token authenticated the request: no AUTH is asked of it.
        let mut state = ClientState::new(id, false);
        state.resp3 = resp3;
        state.user = user;
        info.resp3.store(resp3, std::sync::atomic::Ordering::Relaxed);
        HttpClient { shared: shared.clone(), info, state, messages, rng: Rng::new(now_ms() ^ id.rotate_left(32)) }
    }

    /// Runs one command and appends its reply to `out`. A blocking command
    /// waits here until it is served, times out, or the server stops.
    pub async fn run(&mut self, argv: &Argv, out: &mut ReplyBuf) {
        let args = argv.bind(&[]);
        let shared = &self.shared;
        let mut host = ServerHost { shared, me: &self.info, rng: &mut self.rng };
        let now = now_ms();
        let start = out.buf.len();
        let done = execute(shared, &self.info, &mut self.state, &mut host, args, now, out).await;
        // In cluster mode a key of another node's slot is answered by that
        // node: the caller of an HTTP API never sees MOVED.
        if let Some(addr) = moved_to(&out.buf[start..]) {
            let reply = forward(shared, &addr, argv, self.state.resp3).await;
            out.buf.truncate(start);
            match reply {
                Ok(bytes) => out.buf.extend_from_slice(&bytes),
                Err(e) => out.error(&format!("ERR could not forward the command to {addr}: {e}")),
            }
        }
        if let Some(aof) = shared.shards.log() {
            aof.before_reply().await;
        }
        shared.stats.commands.add(self.info.id, 1);
        if done.dirty > 0 {
            shared.stats.dirty.add(self.info.id, done.dirty);
        }
        if done.cmd.is_some() {
            self.info.text.lock().unwrap_or_else(|p| p.into_inner()).last_cmd = done.cmd;
        }
        if self.state.blocked.is_some() {
            let killed = self.info.kill.notified();
            tokio::pin!(killed);
            let mut waiting =
                Waiting { stream: None, shared, info: &self.info, client: &mut self.state, host: &mut host };
            let served = waiting.wait(argv.clone(), out, killed.as_mut()).await;
            if !matches!(served, Ok(Some(_))) {
                out.error("ERR the server closed the request while it waited");
            }
        }
        out.resp3 = self.state.resp3;
    }
}

/// The `host:port` of a `MOVED` error reply, if `reply` is one.
fn moved_to(reply: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(reply.strip_prefix(b"-MOVED ")?).ok()?;
    let addr = text.trim_end().split(' ').nth(1)?;
    Some(addr.to_string())
}

/// How long a forwarded command may take, connection included.
const FORWARD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `argv` on the node at `addr` over RESP (as RESP3 after HELLO 3 when
/// the caller speaks it, and after AUTH with this node's `requirepass`, which
/// the nodes of a cluster share); its reply, as the bytes it sent.
async fn forward(shared: &Shared, addr: &str, argv: &Argv, resp3: bool) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let password = shared.config.read().unwrap_or_else(|p| p.into_inner()).get("requirepass").to_string();
    let mut request = Vec::new();
    let mut preamble = 0;
    if !password.is_empty() {
        slotkv_core::effects::encode_command(&mut request, &[b"AUTH".as_slice(), password.as_bytes()]);
        preamble += 1;
    }
    if resp3 {
        slotkv_core::effects::encode_command(&mut request, &[b"HELLO".as_slice(), b"3"]);
        preamble += 1;
    }
    let args: Vec<&[u8]> = argv.bind(&[]).iter().collect();
    slotkv_core::effects::encode_command(&mut request, &args);
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(&request).await?;
        let mut buf = Vec::new();
        let mut replies = 0;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            // Skip the replies to AUTH and HELLO; keep the command's.
            while let Some((reply, used)) =
                slotkv_core::resp::frame::decode_reply(&buf).map_err(|e| std::io::Error::other(format!("{e:?}")))?
            {
                if replies == preamble {
                    buf.truncate(used);
                    return Ok(buf);
                }
                if let slotkv_core::Reply::Error(e) = reply {
                    return Err(std::io::Error::other(e));
                }
                buf.drain(..used);
                replies += 1;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(FORWARD_TIMEOUT, exchange).await.map_err(|_| std::io::Error::other("timed out"))?
}

impl Drop for HttpClient {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.pubsub.forget(&self.info, &self.state.subscriptions);
        let mut wake = Vec::new();
        shared.shards.release(&mut self.state, &mut wake);
        shared.wake(&mut wake);
        shared.clients.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.info.id);
    }
}
