//! Cluster mode on this node (`cluster-enabled yes`): its view of the
//! cluster, read from its `cluster-config-file` at start (or created with a
//! fresh node name) and written back, durably, after every change, as Redis
//! does. Routing and the CLUSTER commands live in core; this module owns the
//! file and, in [`bus`], the links between nodes.

pub mod bus;

use crate::config::Config;
use crate::persistence::write_durably;
use anyhow::{bail, Context, Result};
use slotkv_core::cluster::{ClusterState, NodeInfo};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use tracing::info;

/// This node's view of its cluster and the file that keeps it.
pub struct ClusterNode {
    /// The view: nodes, slots, epochs.
    pub state: RwLock<ClusterState>,
    path: PathBuf,
    /// Serialises saves: they share one temporary file.
    saving: Mutex<()>,
    /// The bus port.
    pub cport: u16,
}

impl ClusterNode {
    /// The cluster view of a node listening on `port`: loaded from the
    /// `cluster-config-file` (relative to `dir`), or new, with a fresh name,
    /// and saved at once. `None` unless `cluster-enabled yes`.
    pub fn open(cfg: &Config, port: u16) -> Result<Option<ClusterNode>> {
        if !cfg.get_bool("cluster-enabled") {
            return Ok(None);
        }
        let cport = match cfg.get_i64("cluster-port") {
            0 if port > 55535 => bail!("Redis port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less."),
            0 => port + 10000,
            p => p as u16,
        };
        let path = Path::new(cfg.get("dir")).join(cfg.get("cluster-config-file"));
        let announced = cfg.get("cluster-announce-ip");
        let mut state = match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => ClusterState::from_config_text(&text).map_err(|e| {
                anyhow::anyhow!("Unrecoverable error: corrupted cluster config file \"{}\": {e}", path.display())
            })?,
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("reading the cluster config file {}", path.display()))
            }
            _ => {
                let id = new_node_id()?;
                info!("No cluster configuration found, I'm {id}");
                ClusterState::new(id, NodeInfo::default())
            }
        };
        // The ports are this run's; the address is the announced one, or
        // the one the node had learned.
        let ip = if announced.is_empty() { state.me().ip.clone() } else { announced.to_string() };
        state.set_my_address(&ip, port, cport);
        let node = ClusterNode { state: RwLock::new(state), path, saving: Mutex::new(()), cport };
        node.save()?;
        Ok(Some(node))
    }

    /// Writes the view to the `cluster-config-file`.
    pub fn save(&self) -> Result<()> {
        let _one_at_a_time = self.saving.lock().unwrap_or_else(|p| p.into_inner());
        let text = self.state.read().unwrap_or_else(|p| p.into_inner()).config_text();
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = self.path.file_name().and_then(|n| n.to_str()).unwrap_or("nodes.conf");
        write_durably(dir, name, text.as_bytes())
    }
}

/// 40 random hex characters, from the system's random source.
fn new_node_id() -> Result<String> {
    let mut bytes = [0u8; 20];
    let mut f = std::fs::File::open("/dev/urandom").context("opening /dev/urandom for a node name")?;
    std::io::Read::read_exact(&mut f, &mut bytes).context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
