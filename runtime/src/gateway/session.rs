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
        let done = execute(shared, &self.info, &mut self.state, &mut host, args, now, out).await;
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
