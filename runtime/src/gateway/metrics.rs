//! `GET /metrics`: the server's counters and the gateway's own (requests by
//! status, latency histogram, commands by name) in Prometheus text format.

use crate::server::Shared;
use slotkv_core::Argv;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0, 10.0];

/// The gateway's counters.
pub struct HttpMetrics {
    /// Responses by status code (100 to 599).
    by_status: [AtomicU64; 500],
    /// Cumulative counts per bucket, then the count of all.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    micros: AtomicU64,
    /// Command (container, name): calls, errors.
    commands: Mutex<HashMap<CommandName, (u64, u64)>>,
}

/// A command's name without allocating: its container's and its own.
type CommandName = (Option<&'static str>, &'static str);

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            by_status: std::array::from_fn(|_| AtomicU64::new(0)),
            buckets: Default::default(),
            micros: AtomicU64::new(0),
            commands: Mutex::default(),
        }
    }
}

impl HttpMetrics {
    /// Counts a response.
    pub fn observe(&self, status: u16, took: Duration) {
        if let Some(n) = self.by_status.get(usize::from(status).wrapping_sub(100)) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.buckets[BUCKETS.len()].fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Counts a command run through the gateway.
    pub fn command(&self, argv: &Argv, failed: bool) {
        let args = argv.bind(&[]);
        let name = match slotkv_core::resolve(&args) {
            Ok(c) => (c.parent.map(|p| p.name), c.spec.name),
            // Unknown names are not labels: a client could make them unbounded.
            Err(_) => (None, "unknown"),
        };
        let mut m = self.commands.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(name).or_default();
        e.0 += 1;
        e.1 += u64::from(failed);
    }
}

/// The metrics text.
pub fn render(shared: &Arc<Shared>, http: &HttpMetrics) -> String {
    let mut o = String::new();
    let stats = &shared.stats;
    let counter = |o: &mut String, name: &str, help: &str, v: u64| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
    };
    let gauge = |o: &mut String, name: &str, help: &str, v: u64| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    };
    counter(&mut o, "slotkv_commands_total", "Commands run, over RESP and HTTP.", stats.commands.get());
    counter(
        &mut o,
        "slotkv_connections_total",
        "RESP connections accepted.",
        stats.connections.load(Ordering::Relaxed),
    );
    gauge(
        &mut o,
        "slotkv_connected_clients",
        "RESP clients connected now.",
        shared.connected.load(Ordering::Relaxed) as u64,
    );
    gauge(&mut o, "slotkv_used_memory_bytes", "Heap in use.", crate::server::memory::used_memory());
    counter(&mut o, "slotkv_net_input_bytes_total", "Bytes read from RESP clients.", stats.net_in.get());
    counter(&mut o, "slotkv_net_output_bytes_total", "Bytes written to RESP clients.", stats.net_out.get());
    counter(&mut o, "slotkv_scripts_total", "Scripts and functions run.", stats.scripts_run.load(Ordering::Relaxed));
    let _ = writeln!(
        o,
        "# HELP slotkv_script_stops_total Scripts stopped, by the limit that stopped them.\n# TYPE slotkv_script_stops_total counter"
    );
    for (limit, v) in [
        ("lua-step-budget", &stats.script_budget_stops),
        ("lua-memory-limit", &stats.script_memory_stops),
        ("kill", &stats.script_kills),
    ] {
        let _ = writeln!(o, "slotkv_script_stops_total{{limit=\"{limit}\"}} {}", v.load(Ordering::Relaxed));
    }
    let _ = writeln!(o, "# HELP slotkv_keys Keys per database.\n# TYPE slotkv_keys gauge");
    let databases = shared.config.read().map(|c| c.get_i64("databases")).unwrap_or(16) as usize;
    for db in 0..databases {
        let keys = shared.shards.dbsize(db);
        if keys > 0 || db == 0 {
            let _ = writeln!(o, "slotkv_keys{{db=\"{db}\"}} {keys}");
        }
    }
    let _ = writeln!(
        o,
        "# HELP slotkv_http_requests_total HTTP responses by status.\n# TYPE slotkv_http_requests_total counter"
    );
    for (i, n) in http.by_status.iter().enumerate() {
        let n = n.load(Ordering::Relaxed);
        if n > 0 {
            let _ = writeln!(o, "slotkv_http_requests_total{{status=\"{}\"}} {n}", i + 100);
        }
    }
    let _ = writeln!(
        o,
        "# HELP slotkv_http_request_duration_seconds HTTP request latency.\n# TYPE slotkv_http_request_duration_seconds histogram"
    );
    for (i, bound) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            o,
            "slotkv_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
            http.buckets[i].load(Ordering::Relaxed)
        );
    }
    let count = http.buckets[BUCKETS.len()].load(Ordering::Relaxed);
    let _ = writeln!(o, "slotkv_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
    let _ =
        writeln!(o, "slotkv_http_request_duration_seconds_sum {}", http.micros.load(Ordering::Relaxed) as f64 / 1e6);
    let _ = writeln!(o, "slotkv_http_request_duration_seconds_count {count}");
    let commands = http.commands.lock().unwrap_or_else(|p| p.into_inner());
    let mut names: Vec<(String, (u64, u64))> = commands
        .iter()
        .map(|((parent, name), n)| (parent.map_or_else(|| name.to_string(), |p| format!("{p}|{name}")), *n))
        .collect();
    names.sort();
    let _ = writeln!(o, "# HELP slotkv_http_commands_total Commands run through the gateway, by name.\n# TYPE slotkv_http_commands_total counter");
    for (name, (calls, _)) in &names {
        let _ = writeln!(o, "slotkv_http_commands_total{{command=\"{name}\"}} {calls}");
    }
    let _ = writeln!(o, "# HELP slotkv_http_command_errors_total Gateway commands that answered an error, by name.\n# TYPE slotkv_http_command_errors_total counter");
    for (name, (_, errors)) in &names {
        let _ = writeln!(o, "slotkv_http_command_errors_total{{command=\"{name}\"}} {errors}");
    }
    o
}
