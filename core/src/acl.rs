//! Access control: users, their passwords, and which commands, keys and
//! channels each may use, as Redis 7's ACL rules describe them (`on`,
//! `>password`, `~pattern`, `%R~pattern`, `&channel`, `+@category`,
//! `-command`, `+command|subcommand` ...).
//!
//! Command permissions are a bit per command and subcommand of the command
//! table, set and cleared by the rules in order, as Redis keeps them; the
//! categories come from the same table, so `ACL CAT`, `COMMAND INFO` and the
//! checks agree. The rules are described back (ACL LIST, ACL GETUSER) with
//! Redis's algorithm: start from `+@all` or `-@all`, add the categories that
//! fit best, then the single commands that still differ.
//!
//! Checks run where commands run ([`crate::exec`]), for scripts' `redis.call`
//! too, and the HTTP gateway authenticates its requests as users.

use crate::commands::{self, CommandSpec, Resolved};
use crate::glob::glob_match;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// Every command and subcommand, numbered: the bits of a permission set.
struct CommandIndex {
    entries: Vec<IndexEntry>,
    by_spec: HashMap<usize, usize>,
}

struct IndexEntry {
    full_name: String,
    categories: Vec<&'static str>,
    /// For a container: its subcommands' entries.
    subs: std::ops::Range<usize>,
}

fn index() -> &'static CommandIndex {
    static INDEX: OnceLock<CommandIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut entries = Vec::new();
        let mut by_spec = HashMap::new();
        for c in commands::all() {
            let at = entries.len();
            by_spec.insert(c as *const CommandSpec as usize, at);
            entries.push(IndexEntry { full_name: c.name.to_string(), categories: c.acl_categories(), subs: 0..0 });
            let first = entries.len();
            for s in c.subcommands {
                by_spec.insert(s as *const CommandSpec as usize, entries.len());
                entries.push(IndexEntry {
                    full_name: format!("{}|{}", c.name, s.name),
                    categories: s.acl_categories(),
                    subs: 0..0,
                });
            }
            entries[at].subs = first..entries.len();
        }
        CommandIndex { entries, by_spec }
    })
}

fn spec_id(spec: &CommandSpec) -> Option<usize> {
    index().by_spec.get(&(spec as *const CommandSpec as usize)).copied()
}

/// The categories ACL CAT lists, in Redis's order (without the `@`).
pub fn categories() -> impl Iterator<Item = &'static str> {
    crate::commands::spec::ACL_ORDER.iter().map(|c| &c[1..])
}

/// The commands (and subcommands) in `category` (without the `@`).
pub fn commands_in(category: &str) -> Option<Vec<&'static str>> {
    let cat = crate::commands::spec::ACL_ORDER.iter().find(|c| c[1..].eq_ignore_ascii_case(category))?;
    Some(index().entries.iter().filter(|e| e.categories.contains(cat)).map(|e| e.full_name.as_str()).collect())
}

/// A key pattern and what it allows.
#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyPattern {
    pattern: Vec<u8>,
    read: bool,
    write: bool,
}

/// One user's rules.
#[derive(Clone, Debug)]
pub struct Rules {
    enabled: bool,
    nopass: bool,
    /// SHA-256 of each password, hex.
    passwords: Vec<String>,
    /// `None`, `Some(true)` (sanitize-payload) or `Some(false)` (skip-sanitize-payload).
    sanitize: Option<bool>,
    allowed: Vec<bool>,
    /// Set by `+@all`: commands added later are allowed too.
    all_future: bool,
    all_keys: bool,
    keys: Vec<KeyPattern>,
    all_channels: bool,
    channels: Vec<Vec<u8>>,
}

/// Why a call is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The command (or subcommand).
    Command,
    /// One of its keys.
    Key,
    /// One of its channels.
    Channel,
}

impl Denied {
    /// Redis's reply to a client.
    pub fn reply(self, cmd: Resolved) -> String {
        match self {
            Denied::Command => format!(
                "NOPERM this user has no permissions to run the '{}' command",
                commands::full_name(cmd.parent, cmd.spec)
            ),
            Denied::Key => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
            Denied::Channel => {
                "NOPERM this user has no permissions to access one of the channels used as arguments".into()
            }
        }
    }

    /// Redis's error to a script's `redis.call`.
    pub fn script_error(self) -> &'static str {
        match self {
            Denied::Command => "ERR The user executing the script can't run this command or subcommand",
            Denied::Key => "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments",
            Denied::Channel => "ERR The user executing the script can't publish to the channel mentioned in the command",
        }
    }

    /// ACL DRYRUN's answer; `arg` is the argument refused.
    pub fn dry_run(self, cmd: Resolved, arg: &[u8]) -> String {
        let arg = String::from_utf8_lossy(arg);
        match self {
            Denied::Command => format!(
                "This user has no permissions to run the '{}' command",
                commands::full_name(cmd.parent, cmd.spec)
            ),
            Denied::Key => format!("This user has no permissions to access the '{arg}' key"),
            Denied::Channel => format!("This user has no permissions to access the '{arg}' channel"),
        }
    }
}

fn sha256_hex(s: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(s);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl Rules {
    /// A new user: off, no passwords, no commands, keys or channels.
    fn new() -> Rules {
        Rules {
            enabled: false,
            nopass: false,
            passwords: Vec::new(),
            sanitize: None,
            allowed: vec![false; index().entries.len()],
            all_future: false,
            all_keys: false,
            keys: Vec::new(),
            all_channels: false,
            channels: Vec::new(),
        }
    }

    /// The default user: on, no password, everything allowed.
    fn everything() -> Rules {
        let mut r = Rules::new();
        for op in ["on", "nopass", "~*", "&*", "+@all"] {
            let _ = r.apply(op.as_bytes());
        }
        r
    }

    fn unrestricted(&self) -> bool {
        self.all_keys && self.all_channels && self.allowed.iter().all(|&a| a)
    }

    fn set_command(&mut self, id: usize, on: bool) {
        self.allowed[id] = on;
        for s in index().entries[id].subs.clone() {
            self.allowed[s] = on;
        }
    }

    fn set_category(&mut self, cat: &str, on: bool) {
        for (i, e) in index().entries.iter().enumerate() {
            if e.categories.contains(&cat) {
                self.allowed[i] = on;
            }
        }
    }

    /// Applies one rule; the error is the reason Redis gives.
    pub fn apply(&mut self, op: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(op);
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "allkeys" => {
                self.all_keys = true;
                self.keys.clear();
            }
            "resetkeys" => {
                self.all_keys = false;
                self.keys.clear();
            }
            "allchannels" => {
                self.all_channels = true;
                self.channels.clear();
            }
            "resetchannels" => {
                self.all_channels = false;
                self.channels.clear();
            }
            "allcommands" => return self.apply(b"+@all"),
            "nocommands" => return self.apply(b"-@all"),
            "sanitize-payload" => self.sanitize = Some(true),
            "skip-sanitize-payload" => self.sanitize = Some(false),
            "clearselectors" => {}
            "reset" => {
                *self = Rules::new();
                self.sanitize = Some(true);
            }
            _ => return self.apply_pattern(op, &lower),
        }
        Ok(())
    }

    fn apply_pattern(&mut self, op: &[u8], lower: &str) -> Result<(), String> {
        match op.first() {
            Some(b'>') => {
                let h = sha256_hex(&op[1..]);
                if !self.passwords.contains(&h) {
                    self.passwords.push(h);
                }
                self.nopass = false;
            }
            Some(b'#') => {
                let h = &op[1..];
                if h.len() != 64 || !h.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)) {
                    return Err("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters".into());
                }
                let h = String::from_utf8_lossy(h).into_owned();
                if !self.passwords.contains(&h) {
                    self.passwords.push(h);
                }
                self.nopass = false;
            }
            Some(b'<') | Some(b'!') => {
                let h =
                    if op[0] == b'<' { sha256_hex(&op[1..]) } else { String::from_utf8_lossy(&op[1..]).into_owned() };
                let before = self.passwords.len();
                self.passwords.retain(|p| *p != h);
                if self.passwords.len() == before {
                    return Err("The password you are trying to remove from the user does not exist".into());
                }
            }
            Some(b'~') => self.add_key(&op[1..], true, true)?,
            Some(b'%') => {
                if self.all_keys {
                    return self.add_key(b"", true, true);
                }
                let Some(tilde) = op.iter().position(|&c| c == b'~') else {
                    return Err("Syntax error".into());
                };
                let perms = &lower.as_bytes()[1..tilde];
                let (mut read, mut write) = (false, false);
                for c in perms {
                    match c {
                        b'r' => read = true,
                        b'w' => write = true,
                        _ => return Err("Syntax error".into()),
                    }
                }
                if !read && !write {
                    return Err("Syntax error".into());
                }
                self.add_key(&op[tilde + 1..], read, write)?;
            }
            Some(b'&') => {
                if self.all_channels {
                    return Err("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels".into());
                }
                let pat = &op[1..];
                if pat == b"*" {
                    self.all_channels = true;
                    self.channels.clear();
                } else if !self.channels.iter().any(|c| c == pat) {
                    self.channels.push(pat.to_vec());
                }
            }
            Some(b'+') | Some(b'-') => {
                let on = op[0] == b'+';
                let name = &lower[1..];
                if let Some(cat) = name.strip_prefix('@') {
                    if cat == "all" {
                        self.allowed.iter_mut().for_each(|a| *a = on);
                        self.all_future = on;
                    } else {
                        let cat = crate::commands::spec::ACL_ORDER
                            .iter()
                            .find(|c| c[1..] == *cat)
                            .ok_or("Unknown command or category name in ACL")?;
                        self.set_category(cat, on);
                    }
                } else {
                    let id = index()
                        .entries
                        .iter()
                        .position(|e| e.full_name == name)
                        .ok_or("Unknown command or category name in ACL")?;
                    self.set_command(id, on);
                }
            }
            Some(b'(') => return Err("Selectors are not supported by slotkv".into()),
            _ => return Err("Syntax error".into()),
        }
        Ok(())
    }

    fn add_key(&mut self, pat: &[u8], read: bool, write: bool) -> Result<(), String> {
        if self.all_keys {
            return Err("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns".into());
        }
        if pat == b"*" && read && write {
            self.all_keys = true;
            self.keys.clear();
            return Ok(());
        }
        match self.keys.iter_mut().find(|k| k.pattern == pat) {
            Some(k) => {
                k.read |= read;
                k.write |= write;
            }
            None => self.keys.push(KeyPattern { pattern: pat.to_vec(), read, write }),
        }
        Ok(())
    }

    /// May `key` be read (or written, with `write`)?
    fn key_allowed(&self, key: &[u8], write: bool) -> bool {
        self.all_keys
            || self.keys.iter().any(|k| if write { k.write } else { k.read } && glob_match(&k.pattern, key, false))
    }

    /// May messages go to (or come from) `channel`? A subscription pattern
    /// must be one of the allowed patterns itself (`literal`).
    fn channel_allowed(&self, channel: &[u8], literal: bool) -> bool {
        self.all_channels
            || self.channels.iter().any(|c| if literal { c == channel } else { glob_match(c, channel, false) })
    }

    /// Checks a call against these rules.
    pub fn check(&self, cmd: Resolved, args: &crate::resp::request::Args<'_>) -> Result<(), Denied> {
        self.check_at(cmd, args).map_err(|(d, _)| d)
    }

    /// Checks a call; a refusal comes with the index of the argument refused
    /// (0 for the command).
    pub fn check_at(&self, cmd: Resolved, args: &crate::resp::request::Args<'_>) -> Result<(), (Denied, usize)> {
        let Some(id) = spec_id(cmd.spec) else { return Err((Denied::Command, 0)) };
        if !self.allowed[id] {
            return Err((Denied::Command, 0));
        }
        if !self.all_keys {
            let write = cmd.spec.has(crate::commands::spec::flags::WRITE);
            if let Some(i) = cmd.spec.key_indexes(args).find(|&i| !self.key_allowed(args.get(i), write)) {
                return Err((Denied::Key, i));
            }
        }
        if !self.all_channels {
            let (from, literal) = match cmd.spec.name {
                "publish" | "spublish" => (1..2.min(args.len()), false),
                "subscribe" | "ssubscribe" => (1..args.len(), false),
                "psubscribe" => (1..args.len(), true),
                _ => (0..0, false),
            };
            if let Some(i) = from.into_iter().find(|&i| !self.channel_allowed(args.get(i), literal)) {
                return Err((Denied::Channel, i));
            }
        }
        Ok(())
    }

    /// The command rules, as Redis describes them.
    pub fn describe_commands(&self) -> String {
        let idx = index();
        let mut rules: Vec<String> = Vec::new();
        let additive = !self.all_future;
        let mut fake = Rules::new();
        if additive {
            rules.push("-@all".into());
        } else {
            rules.push("+@all".into());
            fake.allowed.iter_mut().for_each(|a| *a = true);
        }
        // What the categories chosen so far leave to explain.
        let mut temp = self.allowed.clone();
        loop {
            let mut best: Option<(&str, usize, usize)> = None;
            for cat in crate::commands::spec::ACL_ORDER {
                let (mut on, mut off) = (0usize, 0usize);
                for (i, e) in idx.entries.iter().enumerate() {
                    if e.categories.contains(cat) {
                        if temp[i] {
                            on += 1;
                        } else {
                            off += 1;
                        }
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                let better = match best {
                    None => true,
                    Some((_, min_diff, max_same)) => diff < min_diff || (diff == min_diff && same > max_same),
                };
                if same > diff && better {
                    best = Some((cat, diff, same));
                }
            }
            let Some((cat, _, _)) = best else { break };
            rules.push(format!("{}{cat}", if additive { '+' } else { '-' }));
            fake.set_category(cat, additive);
            for (i, e) in idx.entries.iter().enumerate() {
                if e.categories.contains(&cat) {
                    temp[i] = !additive;
                }
            }
        }
        // The single commands that still differ: each container before its
        // subcommands, as Redis walks them.
        for (i, e) in idx.entries.iter().enumerate() {
            if self.allowed[i] != fake.allowed[i] {
                rules.push(format!("{}{}", if self.allowed[i] { '+' } else { '-' }, e.full_name));
                fake.set_command(i, self.allowed[i]);
            }
        }
        rules.join(" ")
    }

    /// The whole user, as ACL LIST shows it (after `user <name> `).
    fn describe(&self) -> String {
        let mut s = String::from(if self.enabled { "on" } else { "off" });
        if self.nopass {
            s.push_str(" nopass");
        }
        for p in &self.passwords {
            s.push_str(" #");
            s.push_str(p);
        }
        match self.sanitize {
            Some(true) => s.push_str(" sanitize-payload"),
            Some(false) => s.push_str(" skip-sanitize-payload"),
            None => {}
        }
        let keys = self.describe_keys();
        if !keys.is_empty() {
            s.push(' ');
            s.push_str(&keys);
        }
        s.push(' ');
        s.push_str(&self.describe_channels());
        s.push(' ');
        s.push_str(&self.describe_commands());
        s
    }

    fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        let parts: Vec<String> = self
            .keys
            .iter()
            .map(|k| {
                let prefix = match (k.read, k.write) {
                    (true, true) => "~",
                    (true, false) => "%R~",
                    _ => "%W~",
                };
                format!("{prefix}{}", String::from_utf8_lossy(&k.pattern))
            })
            .collect();
        parts.join(" ")
    }

    fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        let mut s = String::from("resetchannels");
        for c in &self.channels {
            s.push_str(" &");
            s.push_str(&String::from_utf8_lossy(c));
        }
        s
    }
}

/// A user: its name and rules. Connections hold it; ACL SETUSER changes the
/// rules in place, so they apply to its connections at once.
#[derive(Debug)]
pub struct AclUser {
    /// The user's name.
    pub name: String,
    rules: RwLock<Rules>,
    /// No check can fail (every command, key and channel allowed).
    unrestricted: AtomicBool,
}

impl AclUser {
    fn new(name: &str, rules: Rules) -> AclUser {
        let unrestricted = AtomicBool::new(rules.unrestricted());
        AclUser { name: name.to_string(), rules: RwLock::new(rules), unrestricted }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rules> {
        self.rules.read().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the rules.
    pub fn rules(&self) -> Rules {
        self.read().clone()
    }

    fn set_rules(&self, rules: Rules) {
        self.unrestricted.store(rules.unrestricted(), Ordering::Release);
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = rules;
    }

    /// Checks a call; the fast path for a user who may do anything.
    #[inline]
    pub fn check(&self, cmd: Resolved, args: &crate::resp::request::Args<'_>) -> Result<(), Denied> {
        if self.unrestricted.load(Ordering::Acquire) {
            return Ok(());
        }
        self.read().check(cmd, args)
    }

    /// True if the user is on and `password` is one of its passwords (any, with nopass).
    pub fn accepts(&self, password: &[u8]) -> bool {
        let r = self.read();
        r.enabled && (r.nopass || r.passwords.contains(&sha256_hex(password)))
    }

    /// True if the user is on and has `nopass`.
    pub fn needs_no_password(&self) -> bool {
        let r = self.read();
        r.enabled && r.nopass
    }
}

/// Every user, by name.
#[derive(Debug)]
pub struct Acl {
    users: BTreeMap<String, Arc<AclUser>>,
    default: Arc<AclUser>,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

impl Acl {
    /// The default user only: on, no password, everything allowed.
    pub fn new() -> Acl {
        let default = Arc::new(AclUser::new("default", Rules::everything()));
        Acl { users: BTreeMap::from([("default".to_string(), default.clone())]), default }
    }

    /// The default user (connections start as it).
    pub fn default_user(&self) -> &Arc<AclUser> {
        &self.default
    }

    /// `requirepass`: the default user's one password, or none (nopass).
    pub fn set_requirepass(&self, password: Option<&[u8]>) {
        let mut r = self.default.rules();
        let _ = r.apply(b"resetpass");
        match password {
            Some(p) => {
                let mut op = b">".to_vec();
                op.extend_from_slice(p);
                let _ = r.apply(&op);
            }
            None => {
                let _ = r.apply(b"nopass");
            }
        }
        self.default.set_rules(r);
    }

    /// A user by name.
    pub fn user(&self, name: &[u8]) -> Option<&Arc<AclUser>> {
        self.users.get(std::str::from_utf8(name).ok()?)
    }

    /// AUTH: the user, if `password` opens it.
    pub fn authenticate(&self, name: &[u8], password: &[u8]) -> Option<Arc<AclUser>> {
        self.user(name).filter(|u| u.accepts(password)).cloned()
    }

    /// ACL SETUSER: creates the user if needed and applies the rules, all or
    /// none; the error is Redis's reply.
    pub fn set_user(&mut self, name: &[u8], ops: &[&[u8]]) -> Result<(), String> {
        let name = String::from_utf8_lossy(name).into_owned();
        if name.contains(' ') {
            return Err("ERR Usernames can't contain spaces or null characters".into());
        }
        let mut rules = self.users.get(&name).map_or_else(Rules::new, |u| u.rules());
        for op in ops {
            rules
                .apply(op)
                .map_err(|why| format!("ERR Error in ACL SETUSER modifier '{}': {why}", String::from_utf8_lossy(op)))?;
        }
        match self.users.get(&name) {
            Some(u) => u.set_rules(rules),
            None => {
                self.users.insert(name.clone(), Arc::new(AclUser::new(&name, rules)));
            }
        }
        Ok(())
    }

    /// ACL DELUSER: removes the users; the count removed.
    pub fn delete_users(&mut self, names: &[&[u8]]) -> Result<usize, String> {
        if names.iter().any(|n| *n == b"default") {
            return Err("ERR The 'default' user cannot be removed".into());
        }
        Ok(names.iter().filter(|n| self.users.remove(&*String::from_utf8_lossy(n)).is_some()).count())
    }

    /// ACL LIST lines.
    pub fn list(&self) -> Vec<String> {
        self.users.values().map(|u| format!("user {} {}", u.name, u.rules().describe())).collect()
    }

    /// User names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }
}

/// What ACL GETUSER shows of a user.
pub struct UserView {
    /// `on`/`off`, `nopass`, `sanitize-payload`...
    pub flags: Vec<&'static str>,
    /// Password hashes.
    pub passwords: Vec<String>,
    /// Command rules.
    pub commands: String,
    /// Key patterns.
    pub keys: String,
    /// Channel patterns.
    pub channels: String,
}

impl Rules {
    /// The fields ACL GETUSER shows.
    pub fn view(&self) -> UserView {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize {
            Some(true) => flags.push("sanitize-payload"),
            Some(false) => flags.push("skip-sanitize-payload"),
            None => {}
        }
        let channels = if self.all_channels {
            "&*".to_string()
        } else {
            self.channels.iter().map(|c| format!("&{}", String::from_utf8_lossy(c))).collect::<Vec<_>>().join(" ")
        };
        UserView {
            flags,
            passwords: self.passwords.clone(),
            commands: self.describe_commands(),
            keys: self.describe_keys(),
            channels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(ops: &str) -> Rules {
        let mut r = Rules::new();
        for op in ops.split_whitespace() {
            r.apply(op.as_bytes()).unwrap();
        }
        r
    }

    #[test]
    fn describes_command_rules_as_redis_does() {
        // Each pair: rules applied to a new user, and Redis 7.0's description.
        for (ops, want) in [
            ("+get -get", "-@all"),
            ("-get", "-@all"),
            ("+@all -get +get", "+@all"),
            ("+@all -get", "+@all -get"),
            ("+@read -get", "-@all +@read -get"),
            ("+@read -get +get", "-@all +@read"),
            ("+@read -@read", "-@all"),
            ("+@read -@write", "-@all +@read"),
            ("+get +@read", "-@all +@read"),
            ("+@all +get", "+@all"),
            ("-@all +config|get", "-@all +config|get"),
            ("+config -config|get", "-@all +config -config|get"),
            ("+config|get -config", "-@all"),
            ("+@read -@string +@string", "-@all +@read +@string"),
            ("nocommands +get allcommands", "+@all"),
            ("+@all -@dangerous", "+@all -@dangerous"),
            ("+@read +@read", "-@all +@read"),
            ("+get +get", "-@all +get"),
        ] {
            assert_eq!(rules(ops).describe_commands(), want, "{ops}");
        }
    }

    #[test]
    fn describes_users_as_acl_list_does() {
        let acl = Acl::new();
        assert_eq!(acl.list(), ["user default on nopass ~* &* +@all"]);
        let mut acl = acl;
        acl.set_user(b"alice", &[b"on", b">pw", b"~user:*", b"+@read"]).unwrap();
        acl.set_user(b"bob", &[]).unwrap();
        assert_eq!(
            acl.list(),
            [
                "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~user:* resetchannels -@all +@read",
                "user bob off resetchannels -@all",
                "user default on nopass ~* &* +@all",
            ]
        );
        acl.set_user(b"t", &[b"reset", b"%R~a*", b"%W~b*", b"&news*"]).unwrap();
        assert_eq!(acl.list()[3], "user t off sanitize-payload %R~a* %W~b* resetchannels &news* -@all");
    }

    #[test]
    fn refuses_bad_rules_with_redis_reasons_and_changes_nothing() {
        let mut acl = Acl::new();
        acl.set_user(b"x", &[b"on", b"allkeys"]).unwrap();
        let before = acl.list();
        for (op, why) in [
            ("+nope", "Unknown command or category name in ACL"),
            ("+@nope", "Unknown command or category name in ACL"),
            ("foo", "Syntax error"),
            ("%X~a", "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"),
            ("~a*", "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"),
            ("<nothere", "The password you are trying to remove from the user does not exist"),
            ("#abc", "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
        ] {
            let err = acl.set_user(b"x", &[b"off", op.as_bytes()]).unwrap_err();
            assert_eq!(err, format!("ERR Error in ACL SETUSER modifier '{op}': {why}"));
        }
        assert_eq!(acl.list(), before, "a failed SETUSER changes nothing");
        let err = acl.set_user(b"y", &[b"%X~a"]).unwrap_err();
        assert_eq!(err, "ERR Error in ACL SETUSER modifier '%X~a': Syntax error");
        assert_eq!(acl.delete_users(&[b"default"]).unwrap_err(), "ERR The 'default' user cannot be removed");
        assert_eq!(acl.delete_users(&[b"x", b"nobody"]).unwrap(), 1);
    }

    #[test]
    fn checks_commands_keys_and_channels() {
        let mut acl = Acl::new();
        acl.set_user(b"u", &[b"on", b">pw", b"~user:*", b"%R~ro:*", b"+@read", b"+publish", b"&news.*"]).unwrap();
        let u = acl.authenticate(b"u", b"pw").unwrap();
        assert!(acl.authenticate(b"u", b"wrong").is_none());
        let run = |argv: &[&str]| {
            let args: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
            let argv = crate::resp::Argv::from_args(args.iter().map(|a| a.as_slice()));
            let args = argv.bind(&[]);
            let cmd = crate::commands::resolve(&args).unwrap();
            u.check(cmd, &args)
        };
        assert_eq!(run(&["get", "user:1"]), Ok(()));
        assert_eq!(run(&["get", "ro:1"]), Ok(()));
        assert_eq!(run(&["get", "other"]), Err(Denied::Key));
        assert_eq!(run(&["mget", "user:1", "other"]), Err(Denied::Key));
        assert_eq!(run(&["set", "user:1", "v"]), Err(Denied::Command));
        assert_eq!(run(&["publish", "news.x", "hi"]), Ok(()));
        assert_eq!(run(&["publish", "sport", "hi"]), Err(Denied::Channel));
        acl.set_user(b"u", &[b"+set"]).unwrap();
        assert_eq!(run(&["set", "user:1", "v"]), Ok(()), "a change applies to the user's connections at once");
        assert_eq!(run(&["set", "ro:1", "v"]), Err(Denied::Key));
        let flushall = crate::resp::Argv::from_args([b"flushall".as_slice()]);
        let args = flushall.bind(&[]);
        assert!(acl.default_user().check(crate::commands::resolve(&args).unwrap(), &args).is_ok());
    }
}
