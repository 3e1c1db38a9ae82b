//! Script threads: where a script that outgrows its short turn on the I/O
//! thread runs to its end, so the I/O thread keeps serving everyone else.
//!
//! A script first runs on the I/O thread with a small step allowance
//! ([`INLINE_STEPS`], about a millisecond): most scripts finish there and pay
//! nothing more. One that does not is rolled back (it has written nothing
//! visible, since it held its shards throughout) and its command is sent here,
//! with the client's state, to run again with its whole budget. The I/O thread
//! meanwhile waits for the shards it holds without blocking
//! ([`super::shards::Shards::wait_for`]) and SCRIPT KILL reaches it.

use super::host::{ClientInfo, ServerHost};
use super::Shared;
use slotkv_core::exec::ClientState;
use slotkv_core::resp::request::Argv;
use slotkv_core::{resolve, ReplyBuf};
use std::cell::Cell;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Steps a script may take on the I/O thread before it moves to a script thread.
pub const INLINE_STEPS: u64 = 100_000;

/// Script threads kept (each holds its own Lua state).
const THREADS: usize = 2;

thread_local! {
    static ON_SCRIPT_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// True on a script thread: scripts run to their end here.
pub fn on_script_thread() -> bool {
    ON_SCRIPT_THREAD.with(|c| c.get())
}

/// A command to run on a script thread.
pub struct Job {
    /// Server state.
    pub shared: Arc<Shared>,
    /// The calling connection.
    pub info: Arc<ClientInfo>,
    /// Its state, handed back with the reply.
    pub client: ClientState,
    /// The command.
    pub argv: Argv,
    /// The command's time (unix ms).
    pub now: u64,
    reply: Option<oneshot::Sender<Done>>,
}

/// What a job hands back.
pub struct Done {
    /// The client's state after the command.
    pub client: ClientState,
    /// The encoded reply.
    pub out: Vec<u8>,
    /// Changes made.
    pub dirty: u64,
}

/// The script threads, started on first use.
#[derive(Default)]
pub struct ScriptPool {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
}

impl ScriptPool {
    /// Runs `job` on a script thread; `None` if the thread failed.
    pub async fn run(&self, mut job: Job) -> Option<Done> {
        let (tx, rx) = oneshot::channel();
        job.reply = Some(tx);
        self.sender().send(job).ok()?;
        rx.await.ok()
    }

    fn sender(&self) -> mpsc::Sender<Job> {
        let mut tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        tx.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let rx = Arc::new(Mutex::new(rx));
            for i in 0..THREADS {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new().name(format!("slotkv-script-{i}")).spawn(move || worker(rx));
                if let Err(e) = spawned {
                    tracing::warn!("cannot start a script thread: {e}");
                }
            }
            tx
        })
        .clone()
    }
}

impl Job {
    /// A job for `argv` from the connection `info` in state `client`.
    pub fn new(shared: Arc<Shared>, info: Arc<ClientInfo>, client: ClientState, argv: Argv, now: u64) -> Self {
        Job { shared, info, client, argv, now, reply: None }
    }
}

fn worker(rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    ON_SCRIPT_THREAD.with(|c| c.set(true));
    let mut rng = slotkv_core::rng::Rng::new(super::now_ms());
    loop {
        let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        let Job { shared, info, mut client, argv, now, reply } = job;
        let args = argv.bind(&[]);
        let mut out = ReplyBuf::new(client.resp3);
        let mut dirty = 0;
        match resolve(&args) {
            Ok(cmd) => {
                let mut host = ServerHost { shared: &shared, me: &info, rng: &mut rng };
                let mut wake = Vec::new();
                dirty = shared.shards.run(cmd, args, &mut client, &mut host, &mut out, now, &mut wake).dirty;
                shared.wake(&mut wake);
            }
            Err(e) => out.error(&e.text()),
        }
        if let Some(reply) = reply {
            let _ = reply.send(Done { client, out: out.buf, dirty });
        }
    }
}
