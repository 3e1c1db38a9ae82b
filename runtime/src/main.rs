//! The `slotkv` binary: `slotkv [config-file] [--directive value ...]`.

use anyhow::Result;
use slotkv_runtime::{Config, Server};
use tracing_subscriber::EnvFilter;

/// jemalloc: its statistics give `used_memory` (INFO, maxmemory) the heap's
/// real size, and it holds up well under many threads.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str = "\
Usage: slotkv [CONFIG_FILE] [--directive value ...] [--log-level FILTER]

A Redis-compatible key-value server sharded by hash slots.

  CONFIG_FILE            a redis.conf-style file (port, bind, requirepass, databases, ...)
  --directive value      any directive of the file, overriding it: --port 7000 --requirepass secret
  --log-level FILTER     error, warn, info, debug, trace (overrides loglevel)
  -h, --help             this text
  -v, --version          the version
";

/// Command line as redis-server takes it: an optional file, then `--name value...`.
/// (Parsed by hand: the directive set is open-ended, which argument parsers
/// built on declared flags cannot express.)
struct Cli {
    file: Option<String>,
    log_level: Option<String>,
    directives: Vec<String>,
}

fn parse_cli() -> Cli {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        std::process::exit(0);
    }
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!("slotkv {}", env!("CARGO_PKG_VERSION"));
        std::process::exit(0);
    }
    let mut log_level = None;
    if let Some(i) = args.iter().position(|a| a == "--log-level") {
        if i + 1 < args.len() {
            log_level = Some(args.remove(i + 1));
        }
        args.remove(i);
    }
    let file = if args.first().is_some_and(|a| !a.starts_with("--")) { Some(args.remove(0)) } else { None };
    Cli { file, log_level, directives: args }
}

fn level_of(loglevel: &str) -> &'static str {
    match loglevel {
        "debug" => "debug",
        "verbose" => "info",
        "notice" => "info",
        "warning" => "warn",
        _ => "error",
    }
}

fn main() -> Result<()> {
    let cli = parse_cli();
    let config = match Config::load(cli.file.as_deref(), &cli.directives) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("*** FATAL CONFIG FILE ERROR *** {e:#}");
            std::process::exit(1);
        }
    };
    let filter = cli.log_level.clone().unwrap_or_else(|| level_of(config.get("loglevel")).to_string());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();

    let threads = match config.get_i64("io-threads") {
        // Auto: half the cores, leaving the rest to the kernel's network work
        // (and, on a shared machine, to the clients).
        0 => (std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) / 2).max(1),
        n => n as usize,
    };
    // One I/O thread runs on a current-thread runtime: no work-stealing
    // bookkeeping and no cross-thread wake-ups, which on a small machine shared
    // with its clients is the fastest arrangement.
    let rt = if threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?
    };
    rt.block_on(async move {
        let server = Server::bind(config).await?;
        let shared = server.shared();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::warn!("Received shutdown signal, scheduling shutdown...");
            shared.request_shutdown();
        });
        server.run().await
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
