//! The shape of a command declaration: [`CommandSpec`], its flags and key positions.

use crate::error::CmdResult;
use crate::exec::ExecCtx;
use crate::resp::request::Args;

/// A command handler: reads its arguments, writes its reply into `ctx.out`, or
/// returns the error that is the reply. It must not write anything before it
/// returns an error.
pub type Handler = fn(&mut ExecCtx<'_>, Args<'_>) -> CmdResult;

/// Command flags, as Redis names them in COMMAND INFO.
pub mod flags {
    /// May modify the dataset.
    pub const WRITE: u32 = 1 << 0;
    /// Never modifies the dataset.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory use (refused past maxmemory).
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Not allowed inside scripts.
    pub const NOSCRIPT: u32 = 1 << 4;
    /// Allowed while loading data.
    pub const LOADING: u32 = 1 << 5;
    /// Allowed on a stale replica.
    pub const STALE: u32 = 1 << 6;
    /// O(1) or O(log n) and never blocks.
    pub const FAST: u32 = 1 << 7;
    /// Runs without authentication.
    pub const NO_AUTH: u32 = 1 << 8;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 9;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 10;
    /// Reads or writes the whole keyspace of the database rather than named keys
    /// (KEYS, SCAN, DBSIZE, FLUSHDB): the runtime holds every shard for it.
    pub const KEYSPACE: u32 = 1 << 11;
    /// Allowed on an importing slot without ASKING (cluster).
    pub const ASKING: u32 = 1 << 12;
    /// Pub/sub related.
    pub const PUBSUB: u32 = 1 << 13;
    /// Not monitored.
    pub const SKIP_MONITOR: u32 = 1 << 14;
    /// Not in the slow log.
    pub const SKIP_SLOWLOG: u32 = 1 << 15;
    /// May replicate even though not a write.
    pub const MAY_REPLICATE: u32 = 1 << 16;
    /// Container of subcommands.
    pub const CONTAINER: u32 = 1 << 17;
    /// Runs even inside MULTI instead of being queued (MULTI, EXEC, DISCARD, QUIT, RESET).
    pub const RUNS_IN_MULTI: u32 = 1 << 18;
    /// May block the client (BLPOP, XREAD BLOCK).
    pub const BLOCKING: u32 = 1 << 19;
    /// May run without any key (EVAL with no keys).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 20;
    /// Refused while a replica loads its data in the background.
    pub const NO_ASYNC_LOADING: u32 = 1 << 21;

    /// (flag, name in COMMAND INFO), in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Iterator over the key indexes of a call.
pub type KeyIndexes = std::iter::Chain<std::iter::StepBy<std::ops::Range<usize>>, std::ops::Range<usize>>;

/// The command group, as in Redis's documentation; also an ACL category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Connection management.
    Connection,
    /// Server management.
    Server,
    /// Generic key commands.
    Generic,
    /// Strings.
    String,
    /// Hashes.
    Hash,
    /// Lists.
    List,
    /// Sets.
    Set,
    /// Sorted sets.
    SortedSet,
    /// Bitmaps (a kind of string).
    Bitmap,
    /// Cluster.
    Cluster,
    /// Transactions.
    Transactions,
    /// Pub/Sub.
    PubSub,
    /// Streams.
    Stream,
    /// Scripting and functions.
    Scripting,
}

impl Group {
    /// Name in COMMAND DOCS.
    pub fn name(self) -> &'static str {
        match self {
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Generic => "generic",
            Group::String => "string",
            Group::Hash => "hash",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Bitmap => "bitmap",
            Group::Cluster => "cluster",
            Group::Transactions => "transactions",
            Group::PubSub => "pubsub",
            Group::Stream => "stream",
            Group::Scripting => "scripting",
        }
    }

    /// The ACL category the group implies, if any.
    pub fn acl_category(self) -> Option<&'static str> {
        match self {
            Group::Connection => Some("@connection"),
            Group::Generic => Some("@keyspace"),
            Group::String => Some("@string"),
            Group::Hash => Some("@hash"),
            Group::List => Some("@list"),
            Group::Set => Some("@set"),
            Group::SortedSet => Some("@sortedset"),
            Group::Bitmap => Some("@bitmap"),
            Group::Transactions => Some("@transaction"),
            Group::Stream => Some("@stream"),
            Group::Scripting => Some("@scripting"),
            // Pub/Sub's category comes from the pubsub flag.
            Group::Server | Group::Cluster | Group::PubSub => None,
        }
    }
}

/// Where a command's keys are: `first`, `last` (negative counts from the end),
/// `step`, as in COMMAND INFO; `first == 0` means no keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPos {
    /// Index of the first key.
    pub first: i32,
    /// Index of the last key; negative counts from the end (-1 is the last argument).
    pub last: i32,
    /// Distance between keys.
    pub step: i32,
    /// When nonzero, the index of a numkeys argument; the keys follow it.
    pub numkeys_at: i32,
    /// When nonzero, keys follow a `STREAMS` keyword searched from this index,
    /// and are the first half of the arguments after it (XREAD, XREADGROUP).
    pub streams_from: i32,
    /// MIGRATE's keys: the one at `first`, or, with a `KEYS` option, every
    /// argument after it.
    pub migrate: bool,
}

impl KeyPos {
    /// Keys from `first` to `last` (negative: from the end), every `step`.
    pub const fn range(first: i32, last: i32, step: i32) -> KeyPos {
        KeyPos { first, last, step, numkeys_at: 0, streams_from: 0, migrate: false }
    }

    /// Keys counted by the argument at `at` (numkeys), following it; Redis
    /// reports such commands as `movablekeys` with positions 0 0 0.
    pub const fn counted(at: i32) -> KeyPos {
        KeyPos { first: 0, last: 0, step: 0, numkeys_at: at, streams_from: 0, migrate: false }
    }

    /// A destination key at 1, then keys counted by the argument at 2
    /// (ZUNIONSTORE and friends); positions 1 1 1.
    pub const DEST_AND_COUNTED: KeyPos =
        KeyPos { first: 1, last: 1, step: 1, numkeys_at: 2, streams_from: 0, migrate: false };

    /// Keys after the `STREAMS` keyword, searched from index `from`.
    pub const fn after_streams(from: i32) -> KeyPos {
        KeyPos { first: 0, last: 0, step: 0, numkeys_at: 0, streams_from: from, migrate: false }
    }

    /// MIGRATE's keys (positions 3 3 1, `movablekeys`).
    pub const MIGRATE: KeyPos = KeyPos { first: 3, last: 3, step: 1, numkeys_at: 0, streams_from: 0, migrate: true };

    /// True when the keys are found by reading the arguments (numkeys or a keyword).
    pub fn movable(&self) -> bool {
        self.numkeys_at > 0 || self.streams_from > 0 || self.migrate
    }

    /// No keys.
    pub const NONE: KeyPos = KeyPos::range(0, 0, 0);
    /// One key at index 1.
    pub const ONE: KeyPos = KeyPos::range(1, 1, 1);
    /// Every argument from index 1 is a key.
    pub const ALL: KeyPos = KeyPos::range(1, -1, 1);
}

/// Where MIGRATE's `KEYS` option is, if given (its AUTH arguments skipped,
/// as Redis skips them).
fn migrate_keys_option(args: &crate::resp::request::Args<'_>) -> Option<usize> {
    let mut i = 6;
    while i < args.len() {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"keys") {
            return Some(i);
        }
        i += if a.eq_ignore_ascii_case(b"auth") {
            2
        } else if a.eq_ignore_ascii_case(b"auth2") {
            3
        } else {
            1
        };
    }
    None
}

/// A key specification as COMMAND INFO shows it: where a group of keys starts,
/// how far it goes, and what the command does with those keys.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    /// Index of the first key.
    pub begin: i32,
    /// Last key relative to `begin` (0: just one), or negative from the end.
    pub lastkey: i32,
    /// Distance between keys.
    pub step: i32,
    /// Access flags (`RO`, `RW`, `OW`, `RM`, `access`, `update`, `insert`, `delete`).
    pub flags: &'static [&'static str],
    /// Explanation shown in COMMAND INFO, if any.
    pub notes: Option<&'static str>,
    /// The argument at `begin` counts the keys that follow it (`keynum` search).
    pub keynum: bool,
    /// Keys follow this keyword, searched from `begin`, and are the first half
    /// of what follows it (`keyword` search, `limit 2`).
    pub keyword: Option<&'static str>,
}

impl KeySpec {
    /// One key at `begin`.
    pub const fn at(begin: i32, flags: &'static [&'static str]) -> KeySpec {
        KeySpec { begin, lastkey: 0, step: 1, flags, notes: None, keynum: false, keyword: None }
    }
}

/// One command, declared once: everything that routes, checks, documents or
/// runs it reads this.
pub struct CommandSpec {
    /// Lowercase name (`get`; for a subcommand, its own name: `get` under `config`).
    pub name: &'static str,
    /// Redis arity: `n` exactly n arguments, `-n` at least n (the name included).
    pub arity: i32,
    /// [`flags`] bits.
    pub flags: u32,
    /// Key positions.
    pub keys: KeyPos,
    /// Key-spec flags for COMMAND INFO (`RO`/`RW`/`OW`/`RM` and access kinds),
    /// when one key spec covering [`KeyPos`] describes the command.
    pub key_flags: &'static [&'static str],
    /// Explicit key specs, for commands whose keys have different roles
    /// (RENAME's source and destination); when empty, derived from `keys` and `key_flags`.
    pub key_specs: &'static [KeySpec],
    /// Hints for clients and proxies (`request_policy:all_shards`, `nondeterministic_output`).
    pub tips: &'static [&'static str],
    /// Group (documentation and ACL category).
    pub group: Group,
    /// Extra ACL categories beyond those implied by flags and group.
    pub acl: &'static [&'static str],
    /// One-line summary for COMMAND DOCS.
    pub summary: &'static str,
    /// Redis version that introduced the command.
    pub since: &'static str,
    /// Time complexity for COMMAND DOCS.
    pub complexity: &'static str,
    /// Subcommands of a container command (CONFIG, CLIENT, ...).
    pub subcommands: &'static [CommandSpec],
    /// The handler; containers dispatch to subcommands before it is reached.
    pub handler: Handler,
}

impl CommandSpec {
    /// A declaration with the common fields; the rest (extra ACL categories, key
    /// specs, tips, subcommands) start empty and are set with struct update syntax.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: KeyPos,
        key_flags: &'static [&'static str],
        group: Group,
        summary: &'static str,
        since: &'static str,
        complexity: &'static str,
        handler: Handler,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            keys,
            key_flags,
            key_specs: &[],
            tips: &[],
            group,
            acl: &[],
            summary,
            since,
            complexity,
            subcommands: &[],
            handler,
        }
    }

    /// A command without keys, of O(1) complexity.
    pub const fn keyless(
        name: &'static str,
        arity: i32,
        flags: u32,
        group: Group,
        summary: &'static str,
        since: &'static str,
        handler: Handler,
    ) -> CommandSpec {
        CommandSpec::new(name, arity, flags, KeyPos::NONE, &[], group, summary, since, "O(1)", handler)
    }

    /// True if the flag bit(s) are set.
    #[inline]
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// True if `argc` arguments satisfy the arity.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// Indexes of the key arguments of a call: the fixed positions, then the
    /// keys a numkeys argument counts. With a bad count there are no counted
    /// keys: the handler answers the error before touching keys.
    pub fn key_indexes(&self, args: &crate::resp::request::Args<'_>) -> KeyIndexes {
        let argc = args.len();
        let KeyPos { first, last, step, numkeys_at, streams_from, migrate } = self.keys;
        if migrate {
            if let Some(kw) = migrate_keys_option(args) {
                return (0..0).step_by(1).chain(kw + 1..argc);
            }
        }
        let fixed = if first <= 0 {
            0..0
        } else {
            let first = first as usize;
            let last = if last < 0 { argc as i64 + last as i64 } else { last as i64 };
            first..((last + 1).min(argc as i64).max(0) as usize).max(first)
        };
        let counted = if streams_from > 0 {
            let from = (streams_from as usize).min(argc);
            match (from..argc).find(|&i| args.get(i).eq_ignore_ascii_case(b"streams")) {
                Some(kw) => kw + 1..kw + 1 + (argc - kw - 1) / 2,
                None => 0..0,
            }
        } else if numkeys_at > 0 {
            let at = numkeys_at as usize;
            match (at < argc).then(|| crate::numeric::parse_i64(args.get(at))).flatten() {
                Some(n) if n > 0 && (n as u64) < (argc - at) as u64 => at + 1..at + 1 + n as usize,
                _ => 0..0,
            }
        } else {
            0..0
        };
        fixed.step_by(step.max(1) as usize).chain(counted)
    }

    /// ACL categories, implied by the flags and the group plus the extra ones, in
    /// the order Redis lists them.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        if self.has(flags::WRITE) {
            v.push("@write");
        }
        if self.has(flags::READONLY) && !matches!(self.group, Group::Server | Group::Scripting) {
            v.push("@read");
        }
        if let Some(c) = self.group.acl_category() {
            if !self.has(flags::CONTAINER) {
                v.push(c);
            }
        }
        if self.has(flags::ADMIN) {
            v.push("@admin");
            v.push("@dangerous");
        }
        v.push(if self.has(flags::FAST) { "@fast" } else { "@slow" });
        if self.has(flags::BLOCKING) {
            v.push("@blocking");
        }
        if self.has(flags::PUBSUB) {
            v.push("@pubsub");
        }
        for c in self.acl {
            if !v.contains(c) {
                v.push(c);
            }
        }
        v.sort_by_key(|c| ACL_ORDER.iter().position(|o| o == c).unwrap_or(usize::MAX));
        v
    }
}

/// ACL categories in Redis's order (the order COMMAND INFO lists them in).
pub const ACL_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];
