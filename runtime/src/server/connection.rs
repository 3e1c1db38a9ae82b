//! One client connection: read what the client sent, execute every complete
//! request in the buffer, and write all their replies with one write
//! (pipelining), until the client leaves, is killed, or the server stops.
// Hot path: every request.

use super::host::{ClientInfo, ServerHost, UNBLOCK_ERROR, UNBLOCK_TIMEOUT};
use super::pubsub::Delivery;
use super::scripts::Job;
use super::{now_ms, Shared};
use bytes::{Buf, BytesMut};
use slotkv_core::commands::pubsub::write_message;
use slotkv_core::commands::resolve;
use slotkv_core::resp::request::Args;
use slotkv_core::resp::request::RequestLimits;
use slotkv_core::rng::Rng;
use slotkv_core::{Argv, ClientState, ReplyBuf, RequestParser};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

/// Replies are flushed early once this much output is pending within one batch.
const FLUSH_THRESHOLD: usize = 64 * 1024;

/// Serves one client until it disconnects.
pub async fn serve(mut stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let max = shared.config.read().map(|c| c.get_i64("maxclients")).unwrap_or(10000) as usize;
    if shared.connected.fetch_add(1, Ordering::SeqCst) >= max {
        shared.connected.fetch_sub(1, Ordering::SeqCst);
        shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
        return;
    }
    if refused_by_protected_mode(&shared, peer) {
        shared.connected.fetch_sub(1, Ordering::SeqCst);
        shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(PROTECTED_MODE_DENIED).await;
        return;
    }
    let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
    let local = stream.local_addr().unwrap_or(peer);
    let (mailbox, messages) = tokio::sync::mpsc::unbounded_channel();
    let info = Arc::new(ClientInfo::new(id, peer, local, mailbox));
    shared.clients.lock().unwrap_or_else(|p| p.into_inner()).insert(id, info.clone());
    shared.stats.connections.fetch_add(1, Ordering::Relaxed);
    debug!("client {id} connected from {peer}");
    if shared.shutting_down() {
        // Registered after shutdown closed the others: close this one too.
        info.kill();
    }

    let result = run(&mut stream, &shared, &info, messages).await;
    if let Err(e) = result {
        debug!("client {id}: {e}");
    }
    let _ = stream.shutdown().await;
    shared.clients.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    shared.connected.fetch_sub(1, Ordering::SeqCst);
    debug!("client {id} closed");
}

/// `client-output-buffer-limit normal`: true once replies waiting to be
/// written pass the hard limit, or have stayed past the soft limit for its
/// seconds; the client is then closed without them, as Redis does.
fn over_output_limit(shared: &Shared, pending: usize, soft_since: &mut Option<std::time::Instant>) -> bool {
    let [hard, soft, secs] = &shared.hot.normal_limit;
    let (hard, soft) = (hard.load(Ordering::Relaxed), soft.load(Ordering::Relaxed));
    let pending = pending as u64;
    if hard > 0 && pending > hard {
        return true;
    }
    if soft == 0 || pending <= soft {
        *soft_since = None;
        return false;
    }
    let since = *soft_since.get_or_insert_with(std::time::Instant::now);
    since.elapsed().as_secs() >= secs.load(Ordering::Relaxed)
}

/// Redis's reply to a remote client of a server in protected mode.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Protected mode (Redis's default): with no password set, only clients on
/// the loopback interface are served, so a server bound to a public address
/// by mistake is not open to the network.
fn refused_by_protected_mode(shared: &Shared, peer: SocketAddr) -> bool {
    if peer.ip().is_loopback() || !shared.default_user().needs_no_password() {
        return false;
    }
    // An IPv4 client on a dual-stack socket arrives as ::ffff:127.0.0.1.
    if let std::net::IpAddr::V6(v6) = peer.ip() {
        if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()) {
            return false;
        }
    }
    shared.config.read().map(|c| c.get_bool("protected-mode")).unwrap_or(true)
}

async fn run(
    stream: &mut TcpStream,
    shared: &Arc<Shared>,
    info: &Arc<ClientInfo>,
    messages: Mailbox,
) -> std::io::Result<()> {
    let user = shared.default_user();
    let mut client = ClientState::new(info.id, !user.needs_no_password());
    client.user = Some(user);
    let result = serve_requests(stream, shared, info, &mut client, messages).await;
    // Leave every line this client waits in, forget its WATCHed keys and its
    // subscriptions, however the connection ended.
    shared.pubsub.forget(info, &client.subscriptions);
    let mut wake = Vec::new();
    shared.shards.release(&mut client, &mut wake);
    shared.wake(&mut wake);
    result
}

async fn serve_requests(
    stream: &mut TcpStream,
    shared: &Arc<Shared>,
    info: &Arc<ClientInfo>,
    client: &mut ClientState,
    mut messages: Mailbox,
) -> std::io::Result<()> {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut out = ReplyBuf::new(false);
    let mut parser = RequestParser::new(limits(shared));
    let mut argv = Argv::new();
    let mut rng = Rng::new(now_ms() ^ info.id.rotate_left(32));
    // One wake-up source for CLIENT KILL and server shutdown, created once: a
    // fresh future per read would cost a registration each time.
    let killed = info.kill.notified();
    tokio::pin!(killed);
    // Since when the replies waiting to be written are past the soft limit.
    let mut soft_since = None;
    loop {
        let idle = shared.hot.timeout.load(Ordering::Relaxed);
        // Subscribers also wait for messages; the mailbox is polled only then,
        // as polling costs a registration per read.
        let listening = client.subscriptions.any() || info.queued.load(Ordering::Relaxed) > 0;
        let n = tokio::select! {
            r = stream.read_buf(&mut buf) => r?,
            _ = &mut killed => return Ok(()),
            // A timer only when idle clients are to be closed: it costs a timer
            // registration per read.
            _ = tokio::time::sleep(Duration::from_secs(idle)), if idle > 0 && !listening => return Ok(()),
            Some(first) = messages.recv(), if listening => {
                deliver(first, &mut messages, info, client.resp3, &mut out);
                tokio::select! {
                    r = write_out(stream, &mut out, shared, info.id) => r?,
                    // A subscriber that stops reading is closed when it passes
                    // its output limit, even while this write waits.
                    _ = &mut killed => return Ok(()),
                }
                continue;
            }
        };
        if n == 0 {
            return Ok(());
        }
        if info.killed.load(Ordering::Relaxed) {
            return Ok(());
        }
        shared.stats.net_in.add(info.id, n as u64);
        parser.set_limits(limits(shared));

        let mut host = ServerHost { shared, me: info, rng: &mut rng };
        let now = now_ms();
        let (mut consumed, mut commands, mut dirty) = (0usize, 0u64, 0u64);
        let mut last_cmd = None;
        let mut close = false;
        loop {
            let pending = &buf[consumed..];
            match parser.parse(pending, &mut argv) {
                Ok(Some(used)) => {
                    let args = argv.bind(pending);
                    if !args.is_empty() {
                        commands += 1;
                        let done = execute(shared, info, client, &mut host, args, now, &mut out).await;
                        if done.cmd.is_some() {
                            last_cmd = done.cmd;
                        }
                        dirty += done.dirty;
                        if client.blocked.is_some() {
                            let retry = Argv::from_args(args.iter());
                            write_out(stream, &mut out, shared, info.id).await?;
                            let mut waiting =
                                Waiting { stream: Some(&mut *stream), shared, info, client, host: &mut host };
                            match waiting.wait(retry, &mut out, killed.as_mut()).await? {
                                Some(input) => buf.extend_from_slice(&input),
                                None => return Ok(()),
                            }
                        }
                    }
                    consumed += used;
                    if client.close_after_reply {
                        close = true;
                        break;
                    }
                    if over_output_limit(shared, out.len(), &mut soft_since) {
                        tracing::warn!(
                            "Client id={} addr={} closed for overcoming of output buffer limits.",
                            info.id,
                            info.addr
                        );
                        return Ok(());
                    }
                    if out.len() >= FLUSH_THRESHOLD {
                        write_out(stream, &mut out, shared, info.id).await?;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    out.error(&e.to_string());
                    close = true;
                    break;
                }
            }
        }
        buf.advance(consumed);
        write_out(stream, &mut out, shared, info.id).await?;
        if commands > 0 {
            shared.stats.commands.add(info.id, commands);
            info.last_ms.store(now, Ordering::Relaxed);
            if dirty > 0 {
                shared.stats.dirty.add(info.id, dirty);
            }
            if last_cmd.is_some() {
                info.text.lock().unwrap_or_else(|p| p.into_inner()).last_cmd = last_cmd;
            }
        }
        if close {
            return Ok(());
        }
        if buf.len() > shared.hot.query_limit.load(Ordering::Relaxed) {
            tracing::warn!("closing client {} that reached max query buffer length", info.id);
            return Ok(());
        }
    }
}

/// What [`execute`] did.
pub(crate) struct Executed {
    /// The command that ran (none if it was refused before running).
    pub cmd: Option<slotkv_core::Resolved>,
    /// Changes it made.
    pub dirty: u64,
}

/// Runs one request as every client does, over RESP or HTTP: refuses a write
/// past `maxmemory`, admits it (authentication, MULTI queueing, arity), runs
/// it on its shards (moving a script that outgrows its inline turn to a
/// script thread) and wakes the clients it served. A blocking command that
/// has to wait leaves `client.blocked` set.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn execute(
    shared: &Arc<Shared>,
    info: &Arc<ClientInfo>,
    client: &mut ClientState,
    host: &mut ServerHost<'_>,
    args: Args<'_>,
    now: u64,
    out: &mut ReplyBuf,
) -> Executed {
    let mut done = Executed { cmd: None, dirty: 0 };
    let resolved = resolve(&args);
    if let Ok(cmd) = resolved {
        client.over_maxmemory =
            shared.memory.maxmemory.load(Ordering::Relaxed) > 0 && !shared.memory.make_room(&shared.shards, now);
        if client.over_maxmemory && slotkv_core::exec::grows_memory(client, cmd) {
            let oom = slotkv_core::CmdError::msg(slotkv_core::exec::OOM);
            slotkv_core::exec::refuse(client, cmd, oom, out);
            return done;
        }
    }
    let admitted = {
        let cluster = shared.cluster.as_ref().map(|c| c.state.read().unwrap_or_else(|p| p.into_inner()));
        slotkv_core::exec::admit(client, resolved, &args, out, cluster.as_deref())
    };
    let Some(cmd) = admitted else { return done };
    done.cmd = Some(cmd);
    let mut wake = Vec::new();
    let outcome = loop {
        match shared.shards.try_run(cmd, args, client, host, out, now, &mut wake) {
            Ok(o) => break o,
            Err(busy) => shared.shards.wait_for(busy).await,
        }
    };
    done.dirty = outcome.dirty;
    if outcome.offload {
        info.script_resumed.store(true, Ordering::SeqCst);
        let argv = Argv::from_args(args.iter());
        let job = Job::new(shared.clone(), info.clone(), client.clone(), argv, now);
        let finished = shared.script_pool.run(job).await;
        info.script_resumed.store(false, Ordering::SeqCst);
        match finished {
            Some(finished) => {
                *client = finished.client;
                out.buf.extend_from_slice(&finished.out);
                done.dirty += finished.dirty;
            }
            None => out.error("ERR script thread failed"),
        }
    }
    if !wake.is_empty() {
        shared.wake(&mut wake);
        // Let the woken clients retry before this client's next command, as
        // Redis serves blocked clients first. On one I/O thread this is
        // exact; with more, they race.
        tokio::task::yield_now().await;
    }
    done
}

/// The receiving end of a connection's Pub/Sub mailbox.
type Mailbox = tokio::sync::mpsc::UnboundedReceiver<Delivery>;

/// Writes `first` and every other message already queued into `out`.
fn deliver(first: Delivery, messages: &mut Mailbox, info: &ClientInfo, resp3: bool, out: &mut ReplyBuf) {
    out.resp3 = resp3;
    let mut next = Some(first);
    while let Some(d) = next {
        write_message(out, d.kind, d.pattern.as_deref(), &d.channel, &d.payload);
        info.queued.fetch_sub(d.size(), Ordering::Relaxed);
        next = if out.len() < FLUSH_THRESHOLD { messages.try_recv().ok() } else { None };
    }
}

/// A client waiting in a blocking command. An HTTP client has no stream to
/// read meanwhile.
pub(crate) struct Waiting<'a, 'h> {
    pub stream: Option<&'a mut TcpStream>,
    pub shared: &'a Arc<Shared>,
    pub info: &'a Arc<ClientInfo>,
    pub client: &'a mut ClientState,
    pub host: &'a mut ServerHost<'h>,
}

impl Waiting<'_, '_> {
    /// Waits until the command is served, times out or is unblocked, retrying
    /// `retry` each time a key it waits on is written; its reply is left in
    /// `out`. Returns what the client sent meanwhile, or `None` if the
    /// connection is to close.
    pub async fn wait(
        &mut self,
        mut retry: Argv,
        out: &mut ReplyBuf,
        mut killed: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
    ) -> std::io::Result<Option<BytesMut>> {
        let (shared, info) = (self.shared, self.info);
        if let Some(r) = self.client.blocked.as_mut().and_then(|b| b.retry.take()) {
            retry = r;
        }
        let deadline = self.client.blocked.as_ref().and_then(|b| b.deadline);
        let sleep = tokio::time::sleep(Duration::from_millis(deadline.map_or(0, |d| d.saturating_sub(now_ms()))));
        tokio::pin!(sleep);
        let mut input = BytesMut::new();
        let limit = shared.hot.query_limit.load(Ordering::Relaxed);
        let _counted = BlockedCount::new(shared, info);
        let end = loop {
            tokio::select! {
                _ = info.wake.notified() => {
                    match info.unblock.swap(0, Ordering::SeqCst) {
                        UNBLOCK_TIMEOUT => break self.give_up(out, None),
                        UNBLOCK_ERROR => {
                            break self.give_up(out, Some("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
                        }
                        _ => {}
                    }
                    let args = retry.bind(&[]);
                    let Ok(cmd) = resolve(&args) else { break self.give_up(out, None) };
                    let mut wake = Vec::new();
                    let now = now_ms();
                    while let Err(busy) = shared.shards.try_run(cmd, args, self.client, self.host, out, now, &mut wake) {
                        shared.shards.wait_for(busy).await;
                    }
                    // A retry that changed nothing must not wake itself again.
                    wake.retain(|&id| id != info.id);
                    shared.wake(&mut wake);
                    if self.client.blocked.is_none() {
                        break Some(());
                    }
                    // Not served: let other tasks of this thread run before
                    // the next wake-up, however many arrive.
                    tokio::task::yield_now().await;
                }
                _ = &mut sleep, if deadline.is_some() => break self.give_up(out, None),
                r = read_more(self.stream.as_deref_mut(), &mut input) => {
                    // Redis keeps reading while a client is blocked; a closed
                    // connection ends the wait.
                    if r? == 0 || input.len() > limit {
                        break None;
                    }
                }
                _ = &mut killed => break None,
            }
        };
        Ok(end.map(|()| input))
    }

    /// Ends the wait without being served: the timeout reply, or `error`.
    fn give_up(&mut self, out: &mut ReplyBuf, error: Option<&str>) -> Option<()> {
        let null_bulk = self.client.blocked.as_ref().is_some_and(|b| b.null_bulk);
        let mut wake = Vec::new();
        self.shared.shards.release_wait(self.client, &mut wake);
        self.shared.wake(&mut wake);
        match error {
            Some(e) => out.error(e),
            None => slotkv_core::exec::timeout_reply(out, null_bulk),
        }
        Some(())
    }
}

/// A client counted as blocked (INFO `blocked_clients`, CLIENT LIST flag
/// `b`) for as long as this lives: however the wait ends, even when an HTTP
/// request's future is dropped because its client went away.
struct BlockedCount<'a> {
    shared: &'a Shared,
    info: &'a ClientInfo,
}

impl<'a> BlockedCount<'a> {
    fn new(shared: &'a Shared, info: &'a ClientInfo) -> Self {
        info.blocked.store(true, Ordering::SeqCst);
        shared.blocked.fetch_add(1, Ordering::Relaxed);
        BlockedCount { shared, info }
    }
}

impl Drop for BlockedCount<'_> {
    fn drop(&mut self) {
        self.info.blocked.store(false, Ordering::SeqCst);
        self.shared.blocked.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reads from `stream`, or waits forever without one.
async fn read_more(stream: Option<&mut TcpStream>, buf: &mut BytesMut) -> std::io::Result<usize> {
    match stream {
        Some(s) => s.read_buf(buf).await,
        None => std::future::pending().await,
    }
}

fn limits(shared: &Shared) -> RequestLimits {
    RequestLimits { max_bulk_len: shared.hot.max_bulk_len.load(Ordering::Relaxed), ..RequestLimits::default() }
}

async fn write_out(stream: &mut TcpStream, out: &mut ReplyBuf, shared: &Shared, id: u64) -> std::io::Result<()> {
    if out.buf.is_empty() {
        return Ok(());
    }
    if let Some(aof) = shared.shards.log() {
        // No reply acknowledges a write the append-only file does not hold.
        aof.before_reply().await;
    }
    stream.write_all(&out.buf).await?;
    shared.stats.net_out.add(id, out.buf.len() as u64);
    out.buf.clear();
    if out.buf.capacity() > 1 << 20 {
        out.buf.shrink_to(64 * 1024);
    }
    Ok(())
}
