//! CLUSTER and the commands of cluster clients (ASKING, READONLY, READWRITE).
//! KEYSLOT, COUNTKEYSINSLOT and GETKEYSINSLOT are answered from the keyspace
//! alone, so they work in standalone mode too, on the selected database; the
//! others read or change this node's [`ClusterState`] and answer Redis's
//! "cluster support disabled" error in standalone mode.

use super::spec::{flags::*, CommandSpec, Group};
use crate::cluster::ClusterState;
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::numeric::parse_i64;
use crate::resp::request::Args;
use crate::slot::{key_slot, SLOTS};

const fn cl(
    name: &'static str,
    arity: i32,
    flags: u32,
    summary: &'static str,
    since: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec::keyless(name, arity, flags, Group::Cluster, summary, since, handler)
}

pub(crate) const SPECS: &[CommandSpec] = &[
    CommandSpec {
        subcommands: &[
            cl("keyslot", 3, STALE, "Returns the hash slot for a key.", "3.0.0", keyslot),
            cl(
                "countkeysinslot",
                3,
                STALE | KEYSPACE,
                "Returns the number of keys in a hash slot.",
                "3.0.0",
                countkeysinslot,
            ),
            CommandSpec {
                tips: &["nondeterministic_output"],
                ..cl(
                    "getkeysinslot",
                    4,
                    STALE | KEYSPACE,
                    "Returns the key names in a hash slot.",
                    "3.0.0",
                    getkeysinslot,
                )
            },
            cl("help", 2, LOADING | STALE, "Returns helpful text about the different subcommands.", "5.0.0", help),
            cl(
                "addslots",
                -3,
                ADMIN | STALE | NO_ASYNC_LOADING,
                "Assigns new hash slots to a node.",
                "3.0.0",
                addslots,
            ),
            cl(
                "addslotsrange",
                -4,
                ADMIN | STALE | NO_ASYNC_LOADING,
                "Assigns new hash slot ranges to a node.",
                "7.0.0",
                addslotsrange,
            ),
            cl(
                "delslots",
                -3,
                ADMIN | STALE | NO_ASYNC_LOADING,
                "Sets hash slots as unbound for a node.",
                "3.0.0",
                delslots,
            ),
            cl(
                "delslotsrange",
                -4,
                ADMIN | STALE | NO_ASYNC_LOADING,
                "Sets hash slot ranges as unbound for a node.",
                "7.0.0",
                delslotsrange,
            ),
            cl(
                "flushslots",
                2,
                ADMIN | STALE | NO_ASYNC_LOADING | KEYSPACE,
                "Deletes all slots information from a node.",
                "3.0.0",
                flushslots,
            ),
            nondeterministic(cl(
                "bumpepoch",
                2,
                ADMIN | STALE | NO_ASYNC_LOADING,
                "Advances the cluster config epoch.",
                "3.0.0",
                bumpepoch,
            )),
            cl(
                "set-config-epoch",
                3,
                ADMIN | STALE | NO_ASYNC_LOADING,
                "Sets the configuration epoch for a new node.",
                "3.0.0",
                set_config_epoch,
            ),
            nondeterministic(cl(
                "count-failure-reports",
                3,
                ADMIN | STALE,
                "Returns the number of active failure reports active for a node.",
                "3.0.0",
                count_failure_reports,
            )),
            cl("forget", 3, ADMIN | STALE | NO_ASYNC_LOADING, "Removes a node from the nodes table.", "3.0.0", forget),
            nondeterministic(cl("info", 2, STALE, "Returns information about the state of a node.", "3.0.0", info)),
            nondeterministic(cl(
                "links",
                2,
                STALE,
                "Returns a list of all TCP links to and from peer nodes.",
                "7.0.0",
                links,
            )),
            cl(
                "meet",
                -4,
                ADMIN | STALE | NO_ASYNC_LOADING,
                "Forces a node to handshake with another node.",
                "3.0.0",
                meet,
            ),
            cl("myid", 2, STALE, "Returns the ID of a node.", "3.0.0", myid),
        cl("setslot", -4, ADMIN | STALE | NO_ASYNC_LOADING | KEYSPACE, "Binds a hash slot to a node.", "3.0.0", setslot),
            cl("myshardid", 2, STALE, "Returns the shard ID of a node.", "7.2.0", myshardid),
            nondeterministic(cl("nodes", 2, STALE, "Returns the cluster configuration for a node.", "3.0.0", nodes)),
            nondeterministic(cl(
                "replicas",
                3,
                ADMIN | STALE,
                "Lists the replica nodes of a master node.",
                "5.0.0",
                replicas,
            )),
            nondeterministic(cl(
                "slaves",
                3,
                ADMIN | STALE,
                "Lists the replica nodes of a master node.",
                "3.0.0",
                replicas,
            )),
            cl("reset", -2, ADMIN | NOSCRIPT | STALE | KEYSPACE, "Resets a node.", "3.0.0", reset),
            cl(
                "saveconfig",
                2,
                ADMIN | STALE | NO_ASYNC_LOADING,
                "Forces a node to save the cluster configuration to disk.",
                "3.0.0",
                saveconfig,
            ),
            nondeterministic(cl(
                "shards",
                2,
                STALE,
                "Returns the mapping of cluster slots to shards.",
                "7.0.0",
                shards,
            )),
            nondeterministic(cl("slots", 2, STALE, "Returns the mapping of cluster slots to nodes.", "3.0.0", slots)),
        ],
        flags: CONTAINER,
        ..cl("cluster", -2, 0, "A container for Redis Cluster commands.", "3.0.0", super::server::container)
    },
    CommandSpec {
        acl: &["@dangerous"],
        tips: &["nondeterministic_output"],
        ..CommandSpec::new(
            "migrate",
            -6,
            WRITE,
            crate::commands::spec::KeyPos::MIGRATE,
            &["RW", "access", "delete"],
            Group::Generic,
            "Atomically transfers a key from one Redis instance to another.",
            "2.6.0",
            "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
            migrate,
        )
    },
    connection("asking", FAST, "Signals that a cluster client is following an -ASK redirect.", asking),
    connection(
        "readonly",
        LOADING | STALE | FAST,
        "Enables read-only queries for a connection to a Redis Cluster replica node.",
        readonly,
    ),
    connection(
        "readwrite",
        LOADING | STALE | FAST,
        "Enables read-write queries for a connection to a Reids Cluster replica node.",
        readwrite,
    ),
];

const fn nondeterministic(spec: CommandSpec) -> CommandSpec {
    CommandSpec { tips: &["nondeterministic_output"], ..spec }
}

const fn connection(name: &'static str, flags: u32, summary: &'static str, handler: super::Handler) -> CommandSpec {
    CommandSpec {
        acl: &["@connection"],
        ..CommandSpec::keyless(name, 1, flags, Group::Cluster, summary, "3.0.0", handler)
    }
}

const DISABLED: CmdError = CmdError::msg("ERR This instance has cluster support disabled");

/// Runs `f` on this node's view of the cluster.
fn read<T>(ctx: &ExecCtx<'_>, f: impl FnOnce(&ClusterState) -> T) -> Result<T, CmdError> {
    let lock = ctx.host.cluster().ok_or(DISABLED)?;
    let state = lock.read().unwrap_or_else(|p| p.into_inner());
    Ok(f(&state))
}

/// Changes this node's view of the cluster with `f` and, if it succeeds,
/// saves it (the `cluster-config-file`).
fn change<T>(ctx: &mut ExecCtx<'_>, f: impl FnOnce(&mut ClusterState) -> Result<T, CmdError>) -> Result<T, CmdError> {
    let out = {
        let lock = ctx.host.cluster().ok_or(DISABLED)?;
        let mut state = lock.write().unwrap_or_else(|p| p.into_inner());
        f(&mut state)?
    };
    ctx.host.cluster_changed()?;
    Ok(out)
}

fn asking(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    read(ctx, |_| ())?;
    ctx.client.asking = true;
    ctx.out.ok();
    Ok(())
}

fn readonly(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    read(ctx, |_| ())?;
    ctx.client.cluster_readonly = true;
    ctx.out.ok();
    Ok(())
}

fn readwrite(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    read(ctx, |_| ())?;
    ctx.client.cluster_readonly = false;
    ctx.out.ok();
    Ok(())
}

/// A slot argument of ADDSLOTS and its kin.
fn slot_number(a: &[u8]) -> Result<u16, CmdError> {
    match parse_i64(a) {
        Some(n) if (0..SLOTS as i64).contains(&n) => Ok(n as u16),
        _ => Err(CmdError::msg("ERR Invalid or out of range slot")),
    }
}

/// The slots ADDSLOTS/DELSLOTS name, or with `ranges`, the slots of the
/// ranges ADDSLOTSRANGE/DELSLOTSRANGE name: checked all before any changes.
fn named_slots(args: &Args<'_>, ranges: bool, name: &str) -> Result<Vec<u16>, CmdError> {
    let mut slots = Vec::new();
    if !ranges {
        for i in 2..args.len() {
            slots.push(slot_number(args.get(i))?);
        }
        return Ok(slots);
    }
    if args.len() % 2 == 1 {
        return Err(CmdError::WrongArity(name.to_string()));
    }
    for i in (2..args.len()).step_by(2) {
        let (a, b) = (slot_number(args.get(i))?, slot_number(args.get(i + 1))?);
        if a > b {
            return Err(CmdError::owned(format!("ERR start slot number {a} is greater than end slot number {b}")));
        }
        slots.extend(a..=b);
    }
    Ok(slots)
}

/// ADDSLOTS and its kin: every slot named is checked (free to add, or this
/// node's to delete; named once) before any changes, as Redis does.
fn set_slots(ctx: &mut ExecCtx<'_>, args: &Args<'_>, ranges: bool, add: bool) -> CmdResult {
    read(ctx, |_| ())?;
    let name = if add { "cluster|addslotsrange" } else { "cluster|delslotsrange" };
    let slots = named_slots(args, ranges, name)?;
    change(ctx, |state| {
        let mut seen = vec![false; SLOTS];
        for &slot in &slots {
            let owner = state.slots().owner(slot);
            if add && owner.is_some() {
                return Err(CmdError::owned(format!("ERR Slot {slot} is already busy")));
            }
            if !add && owner.is_none() {
                return Err(CmdError::owned(format!("ERR Slot {slot} is already unassigned")));
            }
            if std::mem::replace(&mut seen[slot as usize], true) {
                return Err(CmdError::owned(format!("ERR Slot {slot} specified multiple times")));
            }
        }
        for &slot in &slots {
            state.set_mine(slot, add);
        }
        Ok(())
    })?;
    ctx.out.ok();
    Ok(())
}

fn addslots(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    set_slots(ctx, &args, false, true)
}

fn addslotsrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    set_slots(ctx, &args, true, true)
}

fn delslots(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    set_slots(ctx, &args, false, false)
}

fn delslotsrange(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    set_slots(ctx, &args, true, false)
}

fn flushslots(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    read(ctx, |_| ())?;
    if ctx.data.counts(0).keys != 0 {
        return Err(CmdError::msg("ERR DB must be empty to perform CLUSTER FLUSHSLOTS."));
    }
    change(ctx, |state| {
        state.forget_my_slots();
        Ok(())
    })?;
    ctx.out.ok();
    Ok(())
}

fn bumpepoch(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let (bumped, epoch) = change(ctx, |state| Ok(state.bump_epoch()))?;
    let word = if bumped { "BUMPED" } else { "STILL" };
    ctx.out.simple(format!("{word} {epoch}").as_bytes());
    Ok(())
}

fn set_config_epoch(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    read(ctx, |_| ())?;
    let epoch = parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?;
    change(ctx, |state| state.set_config_epoch(epoch))?;
    ctx.out.ok();
    Ok(())
}

/// The index of the node named by argument 2, or Redis's error.
fn named_node(state: &ClusterState, args: &Args<'_>) -> Result<usize, CmdError> {
    let id = args.get(2);
    std::str::from_utf8(id)
        .ok()
        .and_then(|id| state.find(id))
        .ok_or_else(|| CmdError::owned(format!("ERR Unknown node {}", String::from_utf8_lossy(id))))
}

fn count_failure_reports(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    // Failure reports come from other nodes' gossip; a node counts those it holds.
    read(ctx, |state| named_node(state, &args))??;
    ctx.out.int(0);
    Ok(())
}

fn forget(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    read(ctx, |state| {
        let node = named_node(state, &args)?;
        if state.is_me(node) {
            return Err(CmdError::msg("ERR I tried hard but I can't forget myself..."));
        }
        if state.me().replica_of.as_deref() == Some(state.node(node).0.id.as_str()) {
            return Err(CmdError::msg("ERR Can't forget my master!"));
        }
        Ok(())
    })??;
    let now = ctx.now;
    change(ctx, |state| {
        if let Ok(node) = named_node(state, &args) {
            state.remove_node(node, now);
        }
        Ok(())
    })?;
    ctx.out.ok();
    Ok(())
}

fn info(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let text = read(ctx, |state| state.info_text())?;
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

fn links(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    // The bus does not list its links yet (COMPATIBILITY.md): an empty list,
    // which is also the true answer of a node that has met no other.
    read(ctx, |_| ())?;
    ctx.out.array(0);
    Ok(())
}

fn meet(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    read(ctx, |_| ())?;
    if args.len() > 5 {
        return Err(super::util::unknown_subcommand(args.get(1), "CLUSTER"));
    }
    let port_arg = |i: usize, what: &str| {
        let a = args.get(i);
        parse_i64(a).ok_or_else(|| {
            CmdError::owned(format!("ERR Invalid {what} port specified: {}", String::from_utf8_lossy(a)))
        })
    };
    let port = port_arg(3, "TCP base")?;
    let cport = if args.len() == 5 { port_arg(4, "TCP bus")? } else { port.saturating_add(10000) };
    let ip = String::from_utf8_lossy(args.get(2)).into_owned();
    let valid = |p: i64| u16::try_from(p).ok().filter(|&p| p > 0);
    let (Some(port), Some(cport)) = (valid(port), valid(cport)) else {
        return Err(CmdError::owned(format!("ERR Invalid node address specified: {ip}:{port}")));
    };
    change(ctx, |state| state.meet(&ip, port, cport).map_err(CmdError::owned))?;
    ctx.out.ok();
    Ok(())
}

fn setslot(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if read(ctx, |state| state.me().replica_of.is_some())? {
        return Err(CmdError::msg("ERR Please use SETSLOT only with masters."));
    }
    let slot = slot_number(args.get(2))?;
    let id = String::from_utf8_lossy(args.get(args.len().min(5) - 1)).into_owned();
    let action = args.get(3).to_ascii_lowercase();
    match (action.as_slice(), args.len()) {
        (b"migrating", 5) => change(ctx, |state| state.set_migrating(slot, &id))?,
        (b"importing", 5) => change(ctx, |state| state.set_importing(slot, &id))?,
        (b"stable", 4) => change(ctx, |state| {
            state.set_stable(slot);
            Ok(())
        })?,
        (b"node", 5) => {
            let keys = ctx.data.shard(slot as usize).and_then(|s| s.slot_dict(0, slot as usize)).map_or(0, |d| d.len());
            change(ctx, |state| state.set_slot_node(slot, &id, keys))?
        }
        _ => return Err(CmdError::msg("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")),
    }
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key [key ...]]`
///
/// Sends each key that exists here as a RESTORE (RESTORE-ASKING in cluster
/// mode, so a node importing the slot takes it) and, unless COPY, deletes
/// the keys the target took. The exchange blocks this command's shards for
/// at most the timeout per step, as Redis blocks its whole server.
fn migrate(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Vec<&[u8]> = Vec::new();
    let mut keys: Vec<&[u8]> = vec![args.get(3)];
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = args.get(j);
        if a.eq_ignore_ascii_case(b"copy") {
            copy = true;
        } else if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if a.eq_ignore_ascii_case(b"auth") && more >= 1 {
            auth = vec![args.get(j + 1)];
            j += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") && more >= 2 {
            auth = vec![args.get(j + 1), args.get(j + 2)];
            j += 2;
        } else if a.eq_ignore_ascii_case(b"keys") {
            if !args.get(3).is_empty() {
                return Err(CmdError::msg(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            keys = (j + 1..args.len()).map(|i| args.get(i)).collect();
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let timeout = parse_i64(args.get(5)).ok_or(CmdError::NotInteger)?;
    let db = parse_i64(args.get(4)).ok_or(CmdError::NotInteger)?;
    let timeout = if timeout <= 0 { 1000 } else { timeout as u64 };
    // The keys here, with their payloads and times to live.
    let mut found: Vec<(&[u8], Vec<u8>, u64)> = Vec::new();
    for &key in &keys {
        let (cur, now) = (ctx.db(), ctx.now);
        let (ks, slot) = ctx.data.locate(key)?;
        let Some(value) = ks.get(cur, slot, key, now) else { continue };
        let payload = crate::rdb::dump(value);
        let ttl = match ks.expire_at(cur, slot, key) {
            Some(at) => at.saturating_sub(now).max(1),
            None => 0,
        };
        found.push((key, payload, ttl));
    }
    if found.is_empty() {
        ctx.out.simple(b"NOKEY");
        return Ok(());
    }
    let mut request = Vec::new();
    let mut replies = found.len() + 1;
    if !auth.is_empty() {
        let mut argv: Vec<&[u8]> = vec![b"AUTH"];
        argv.extend(&auth);
        crate::effects::encode_command(&mut request, &argv);
        replies += 1;
    }
    let mut n = itoa::Buffer::new();
    crate::effects::encode_command(&mut request, &[b"SELECT".as_slice(), n.format(db).as_bytes()]);
    let restore: &[u8] = if ctx.host.cluster().is_some() { b"RESTORE-ASKING" } else { b"RESTORE" };
    for (key, payload, ttl) in &found {
        let ttl = ttl.to_string();
        let mut argv: Vec<&[u8]> = vec![restore, key, ttl.as_bytes(), payload];
        if replace {
            argv.push(b"REPLACE");
        }
        crate::effects::encode_command(&mut request, &argv);
    }
    let host = String::from_utf8_lossy(args.get(1)).into_owned();
    let port = String::from_utf8_lossy(args.get(2)).into_owned();
    let answers = ctx.host.migrate_exchange(&host, &port, timeout, &request, replies).map_err(|e| match e {
        crate::exec::MigrateIo::Connect => CmdError::msg("IOERR error or timeout connecting to the client"),
        crate::exec::MigrateIo::Write => CmdError::msg("IOERR error or timeout writing to target instance"),
        crate::exec::MigrateIo::Read => CmdError::msg("IOERR error or timeout reading to target instance"),
    })?;
    // AUTH and SELECT first: an error there is the target's answer to all.
    let preamble = replies - found.len();
    let first_error = |r: &crate::reply::Reply| match r {
        crate::reply::Reply::Error(e) => Some(e.clone()),
        _ => None,
    };
    let setup_error = answers[..preamble].iter().find_map(first_error);
    let mut error = setup_error.clone();
    let mut moved: Vec<&[u8]> = Vec::new();
    for ((key, _, _), answer) in found.iter().zip(&answers[preamble..]) {
        match first_error(answer) {
            Some(e) => {
                error.get_or_insert(e);
            }
            None if setup_error.is_none() && !copy => moved.push(key),
            None => {}
        }
    }
    for key in &moved {
        ctx.delete(key)?;
    }
    if !moved.is_empty() {
        let mut del: Vec<&[u8]> = vec![b"DEL"];
        del.extend(&moved);
        ctx.propagate(&del);
    }
    match error {
        Some(e) => Err(CmdError::owned(format!("ERR Target instance replied with error: {e}"))),
        None => {
            ctx.out.ok();
            Ok(())
        }
    }
}

fn myid(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let id = read(ctx, |state| state.my_id().to_string())?;
    ctx.out.bulk(id.as_bytes());
    Ok(())
}

fn myshardid(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let id = read(ctx, |state| state.my_shard_id().to_string())?;
    ctx.out.bulk(id.as_bytes());
    Ok(())
}

fn nodes(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let text = read(ctx, |state| state.nodes_text())?;
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

fn replicas(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let lines = read(ctx, |state| {
        let node = named_node(state, &args)?;
        if state.node(node).1.replica_of.is_some() {
            return Err(CmdError::msg("ERR The specified node is not a master"));
        }
        Ok(state.replicas_of(node).into_iter().map(|r| state.node_line(r)).collect::<Vec<_>>())
    })??;
    ctx.out.array(lines.len());
    for line in lines {
        ctx.out.bulk(line.as_bytes());
    }
    Ok(())
}

fn reset(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    read(ctx, |_| ())?;
    let hard = match args.len() {
        2 => false,
        3 if args.get(2).eq_ignore_ascii_case(b"hard") => true,
        3 if args.get(2).eq_ignore_ascii_case(b"soft") => false,
        3 => return Err(CmdError::Syntax),
        _ => return Err(super::util::unknown_subcommand(args.get(1), "CLUSTER")),
    };
    let primary = read(ctx, |state| state.me().replica_of.is_none())?;
    if primary && ctx.data.counts(0).keys != 0 {
        return Err(CmdError::msg("ERR Can't CLUSTER RESET a master node with assigned keys"));
    }
    let new_id = random_node_id(ctx);
    change(ctx, |state| {
        state.reset(hard, new_id);
        Ok(())
    })?;
    ctx.out.ok();
    Ok(())
}

/// A fresh 40-character node name.
pub fn random_node_id(ctx: &mut ExecCtx<'_>) -> String {
    let mut id = String::with_capacity(48);
    for _ in 0..3 {
        id.push_str(&format!("{:016x}", ctx.host.random()));
    }
    id.truncate(40);
    id
}

fn saveconfig(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    change(ctx, |_| Ok(()))?;
    ctx.out.ok();
    Ok(())
}

/// The address fields of one node in CLUSTER SLOTS: ip, port, name, and
/// the (empty) map of other endpoints.
fn slot_node(ctx: &mut ExecCtx<'_>, state: &ClusterState, node: usize) {
    let (n, info) = state.node(node);
    ctx.out.array(4);
    ctx.out.bulk(info.ip.as_bytes());
    ctx.out.int(info.port as i64);
    ctx.out.bulk(n.id.as_bytes());
    ctx.out.map(0);
}

fn slots(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let state = read(ctx, |state| state.clone())?;
    let mut entries = Vec::new();
    for node in 0..state.known_nodes() {
        if state.node(node).1.replica_of.is_none() {
            entries.extend(state.slots().ranges(node).into_iter().map(|r| (r, node)));
        }
    }
    entries.sort();
    ctx.out.array(entries.len());
    for ((a, b), node) in entries {
        let replicas = state.replicas_of(node);
        ctx.out.array(3 + replicas.len());
        ctx.out.int(a as i64);
        ctx.out.int(b as i64);
        slot_node(ctx, &state, node);
        for r in replicas {
            slot_node(ctx, &state, r);
        }
    }
    Ok(())
}

fn shards(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let state = read(ctx, |state| state.clone())?;
    let primaries: Vec<usize> = (0..state.known_nodes()).filter(|&n| state.node(n).1.replica_of.is_none()).collect();
    ctx.out.array(primaries.len());
    for primary in primaries {
        let ranges = state.slots().ranges(primary);
        ctx.out.map(2);
        ctx.out.bulk(b"slots");
        ctx.out.array(ranges.len() * 2);
        for (a, b) in ranges {
            ctx.out.int(a as i64);
            ctx.out.int(b as i64);
        }
        ctx.out.bulk(b"nodes");
        let members: Vec<usize> = std::iter::once(primary).chain(state.replicas_of(primary)).collect();
        ctx.out.array(members.len());
        for node in members {
            let (n, info) = state.node(node);
            ctx.out.map(7);
            ctx.out.bulk(b"id");
            ctx.out.bulk(n.id.as_bytes());
            ctx.out.bulk(b"port");
            ctx.out.int(info.port as i64);
            ctx.out.bulk(b"ip");
            ctx.out.bulk(info.ip.as_bytes());
            ctx.out.bulk(b"endpoint");
            ctx.out.bulk(info.ip.as_bytes());
            ctx.out.bulk(b"role");
            ctx.out.bulk(if info.replica_of.is_some() { b"replica".as_slice() } else { b"master" });
            ctx.out.bulk(b"replication-offset");
            ctx.out.int(0);
            ctx.out.bulk(b"health");
            ctx.out.bulk(b"online");
        }
    }
    Ok(())
}

fn keyslot(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    ctx.out.int(key_slot(args.get(2)) as i64);
    Ok(())
}

fn slot_arg(a: &[u8], msg: &'static str) -> Result<usize, CmdError> {
    let n = parse_i64(a).ok_or(CmdError::NotInteger)?;
    if n < 0 || n >= SLOTS as i64 {
        return Err(CmdError::msg(msg));
    }
    Ok(n as usize)
}

fn countkeysinslot(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let slot = slot_arg(args.get(2), "ERR Invalid slot")?;
    let db = ctx.db();
    let n = ctx.data.shard(slot).and_then(|s| s.slot_dict(db, slot)).map_or(0, |d| d.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn getkeysinslot(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let slot_n = parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?;
    let max = parse_i64(args.get(3)).ok_or(CmdError::NotInteger)?;
    if slot_n < 0 || slot_n >= SLOTS as i64 || max < 0 {
        return Err(CmdError::msg("ERR Invalid slot or number of keys"));
    }
    let (slot, db) = (slot_n as usize, ctx.db());
    let keys: Vec<Vec<u8>> = ctx
        .data
        .shard(slot)
        .and_then(|s| s.slot_dict(db, slot))
        .map(|d| d.iter().take(max as usize).map(|(k, _)| k.to_vec()).collect())
        .unwrap_or_default();
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(&k);
    }
    Ok(())
}

fn help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply(
        ctx,
        "CLUSTER",
        &[
            "ADDSLOTS <slot> [<slot> ...]",
            "    Assign slots to current node.",
            "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
            "    Assign slots which are between <start-slot> and <end-slot> to current node.",
            "BUMPEPOCH",
            "    Advance the cluster config epoch.",
            "COUNT-FAILURE-REPORTS <node-id>",
            "    Return number of failure reports for <node-id>.",
            "COUNTKEYSINSLOT <slot>",
            "    Return the number of keys in <slot>.",
            "DELSLOTS <slot> [<slot> ...]",
            "    Delete slots information from current node.",
            "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
            "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
            "FORGET <node-id>",
            "    Remove a node from the cluster.",
            "GETKEYSINSLOT <slot> <count>",
            "    Return key names stored by current node in a slot.",
            "FLUSHSLOTS",
            "    Delete current node own slots information.",
            "INFO",
            "    Return information about the cluster.",
            "KEYSLOT <key>",
            "    Return the hash slot for <key>.",
            "MEET <ip> <port> [<bus-port>]",
            "    Connect nodes into a working cluster.",
            "MYID",
            "    Return the node id.",
            "MYSHARDID",
            "    Return the node's shard id.",
            "NODES",
            "    Return cluster configuration seen by node. Output format:",
            "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
            "RESET [HARD|SOFT]",
            "    Reset current node (default: soft).",
            "SET-CONFIG-EPOCH <epoch>",
            "    Set config epoch of current node.",
            "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
            "    Set slot state.",
            "REPLICAS <node-id>",
            "    Return <node-id> replicas.",
            "SAVECONFIG",
            "    Force saving cluster configuration on disk.",
            "SLOTS",
            "    Return information about slots range mappings. Each range is made of:",
            "    start, end, master and replicas IP addresses, ports and ids",
            "SHARDS",
            "    Return information about slot range mappings and the nodes associated with them.",
            "LINKS",
            "    Return information about all network links between this node and its peers.",
            "    Output format is an array where each array element is a map containing attributes of a link",
        ],
    );
    Ok(())
}
