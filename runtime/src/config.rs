//! Configuration: one table of directives read from a redis.conf-style file,
//! overridden by `--directive value` arguments, and served by CONFIG GET/SET.
//!
//! Every directive has a kind that validates its value, a default, and whether
//! CONFIG SET may change it while the server runs.

use anyhow::{anyhow, bail, Result};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Signed integer within a range.
    Int(i64, i64),
    /// Memory size: bytes, or with k/kb/m/mb/g/gb units.
    Memory,
    /// `yes` or `no`.
    Bool,
    /// One of these words.
    Enum(&'static [&'static str]),
    /// Any string (may be empty).
    Str,
    /// Words separated by spaces (`bind`).
    Words,
    /// `save`: `seconds changes` pairs, or empty for no snapshots.
    SaveRules,
    /// `client-output-buffer-limit`: `class hard soft seconds` groups; the
    /// classes given replace theirs, the others keep their values.
    OutputLimits,
}

struct Directive {
    name: &'static str,
    kind: Kind,
    default: &'static str,
    mutable: bool,
}

const fn d(name: &'static str, kind: Kind, default: &'static str, mutable: bool) -> Directive {
    Directive { name, kind, default, mutable }
}

/// Every directive slotkv understands.
const DIRECTIVES: &[Directive] = &[
    d("port", Kind::Int(0, 65535), "6379", false),
    d("bind", Kind::Words, "127.0.0.1", false),
    d("requirepass", Kind::Str, "", true),
    d("databases", Kind::Int(1, 1 << 20), "16", false),
    d("maxclients", Kind::Int(1, 1 << 24), "10000", true),
    d("timeout", Kind::Int(0, i32::MAX as i64), "0", true),
    d("tcp-keepalive", Kind::Int(0, i32::MAX as i64), "300", true),
    d("proto-max-bulk-len", Kind::Memory, "536870912", true),
    d("client-query-buffer-limit", Kind::Memory, "1073741824", true),
    d("hz", Kind::Int(1, 500), "10", true),
    d("loglevel", Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]), "notice", true),
    d("logfile", Kind::Str, "", false),
    d("dir", Kind::Str, ".", false),
    d("dbfilename", Kind::Str, "dump.rdb", true),
    d("save", Kind::SaveRules, "", true),
    d("appendonly", Kind::Bool, "no", false),
    d("appendfilename", Kind::Str, "appendonly.aof", false),
    d("appenddirname", Kind::Str, "appendonlydir", false),
    d("appendfsync", Kind::Enum(&["always", "everysec", "no"]), "everysec", true),
    d("aof-load-truncated", Kind::Bool, "yes", true),
    d("aof-use-rdb-preamble", Kind::Bool, "yes", true),
    d("auto-aof-rewrite-percentage", Kind::Int(0, i32::MAX as i64), "100", true),
    d("auto-aof-rewrite-min-size", Kind::Memory, "67108864", true),
    d("protected-mode", Kind::Bool, "yes", true),
    d("daemonize", Kind::Bool, "no", false),
    d("cluster-enabled", Kind::Bool, "no", false),
    d("cluster-config-file", Kind::Str, "nodes.conf", false),
    d("cluster-node-timeout", Kind::Int(1, i64::MAX), "15000", true),
    // 0: the client port + 10000.
    d("cluster-port", Kind::Int(0, 65535), "0", false),
    d("cluster-announce-ip", Kind::Str, "", false),
    d("maxmemory", Kind::Memory, "0", true),
    d(
        "client-output-buffer-limit",
        Kind::OutputLimits,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        true,
    ),
    d(
        "maxmemory-policy",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
        true,
    ),
    d("jemalloc-bg-thread", Kind::Bool, "yes", true),
    d("maxmemory-samples", Kind::Int(1, i32::MAX as i64), "5", true),
    d("lfu-log-factor", Kind::Int(0, i32::MAX as i64), "10", true),
    d("lfu-decay-time", Kind::Int(0, i32::MAX as i64), "1", true),
    d("slowlog-log-slower-than", Kind::Int(-1, i64::MAX), "10000", true),
    d("slowlog-max-len", Kind::Int(0, i64::MAX), "128", true),
    d("lua-step-budget", Kind::Int(1, i64::MAX), "100000000", true),
    d("lua-memory-limit", Kind::Memory, "67108864", true),
    // WebAssembly script modules: fuel (about one unit per instruction), the
    // memory a call may grow to, and a wall-clock backstop.
    d("module-fuel-budget", Kind::Int(1, i64::MAX), "1000000000", false),
    d("module-memory-limit", Kind::Memory, "67108864", false),
    d("module-time-limit", Kind::Int(1, i64::MAX), "5000", false),
    d("shards", Kind::Int(1, 1024), "16", false),
    d("io-threads", Kind::Int(0, 128), "0", false),
    d("http-port", Kind::Int(-1, 65535), "8080", false),
    d("http-token", Kind::Str, "", true),
    d("http-readonly-token", Kind::Str, "", true),
    d("http-cors-origins", Kind::Words, "", false),
    d("http-max-body", Kind::Memory, "16777216", false),
    // Empty: web/dist of the checkout the server was built from (web/build.sh).
    d("playground-dir", Kind::Str, "", false),
];

/// The effective configuration: every directive's current value, normalised.
#[derive(Clone, Debug)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
    /// The file the configuration was read from, if any.
    pub file: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config { values: DIRECTIVES.iter().map(|d| (d.name, d.default.to_string())).collect(), file: None }
    }
}

fn find(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Parses a memory size as redis.conf does (`1gb`, `512mb`, `100k`, `42`).
pub fn parse_memory(v: &str) -> Option<i64> {
    let l = v.to_ascii_lowercase();
    let units: [(&str, i64); 8] = [
        ("kb", 1024),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("k", 1000),
        ("m", 1_000_000),
        ("g", 1_000_000_000),
        ("b", 1),
        ("", 1),
    ];
    for (suffix, mul) in units {
        if let Some(num) = l.strip_suffix(suffix) {
            if num.is_empty() {
                continue;
            }
            if let Ok(n) = num.parse::<i64>() {
                return n.checked_mul(mul).filter(|n| *n >= 0);
            }
            if !suffix.is_empty() {
                return None;
            }
        }
    }
    None
}

fn normalise(d: &Directive, value: &str, current: &str) -> std::result::Result<String, String> {
    match d.kind {
        Kind::Int(lo, hi) => match value.parse::<i64>() {
            Ok(n) if n >= lo && n <= hi => Ok(n.to_string()),
            Ok(_) => Err(format!("argument must be between {lo} and {hi} inclusive")),
            Err(_) => Err("argument couldn't be parsed into an integer".into()),
        },
        Kind::Memory => {
            parse_memory(value).map(|n| n.to_string()).ok_or_else(|| "argument must be a memory value".into())
        }
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" | "no" => Ok(value.to_ascii_lowercase()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Enum(words) => {
            let l = value.to_ascii_lowercase();
            if words.contains(&l.as_str()) {
                Ok(l)
            } else {
                Err("argument(s) must be one of the following: ".to_string() + &words.join(", "))
            }
        }
        Kind::Str => Ok(value.to_string()),
        Kind::Words => Ok(value.split_whitespace().collect::<Vec<_>>().join(" ")),
        Kind::SaveRules => match crate::persistence::snapshot::parse_rules(value) {
            Some(rules) => Ok(rules.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(" ")),
            None => Err("Invalid save parameters".into()),
        },
        Kind::OutputLimits => merge_output_limits(current, value),
    }
}

/// Applies `class hard soft seconds` groups to the current limits.
fn merge_output_limits(current: &str, value: &str) -> std::result::Result<String, String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut classes: Vec<Vec<String>> = current
        .split_whitespace()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().map(|w| w.to_string()).collect())
        .collect();
    for g in words.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => "normal",
            "slave" | "replica" => "slave",
            "pubsub" => "pubsub",
            _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
        };
        let hard = parse_memory(g[1]);
        let soft = parse_memory(g[2]);
        let secs = g[3].parse::<u64>().ok();
        let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
            return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
        };
        let group = vec![class.to_string(), hard.to_string(), soft.to_string(), secs.to_string()];
        match classes.iter_mut().find(|c| c[0] == class) {
            Some(c) => *c = group,
            None => classes.push(group),
        }
    }
    Ok(classes.into_iter().flatten().collect::<Vec<_>>().join(" "))
}

/// The `(hard, soft, soft seconds)` limits of one client class from a
/// normalised `client-output-buffer-limit` value; 0 means no limit.
pub fn output_limits(value: &str, class: &str) -> (u64, u64, u64) {
    let words: Vec<&str> = value.split_whitespace().collect();
    words
        .chunks(4)
        .find(|c| c.len() == 4 && c[0] == class)
        .map(|c| (c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0), c[3].parse().unwrap_or(0)))
        .unwrap_or((0, 0, 0))
}

impl Config {
    /// Reads `file` (if given) then applies `overrides` (`--name value...` arguments).
    pub fn load(file: Option<&str>, overrides: &[String]) -> Result<Config> {
        let mut c = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| anyhow!("cannot read config file {path}: {e}"))?;
            c.apply_text(&text, path)?;
            c.file = Some(path.to_string());
        }
        c.apply_args(overrides)?;
        c.check_supported()?;
        Ok(c)
    }

    /// Applies redis.conf-style text; errors name the file and line.
    pub fn apply_text(&mut self, text: &str, origin: &str) -> Result<()> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = slotkv_core::resp::request::split_args(line.as_bytes())
                .ok_or_else(|| anyhow!("{origin}:{}: unbalanced quotes in configuration line", n + 1))?;
            let words: Vec<String> = words.into_iter().map(|w| String::from_utf8_lossy(&w).into_owned()).collect();
            let (name, vals) = words.split_first().ok_or_else(|| anyhow!("{origin}:{}: empty directive", n + 1))?;
            self.set_directive(name, &vals.join(" ")).map_err(|e| anyhow!("{origin}:{}: '{line}': {e}", n + 1))?;
        }
        Ok(())
    }

    /// Applies `--name value [value...]` arguments, as redis-server accepts them.
    pub fn apply_args(&mut self, args: &[String]) -> Result<()> {
        let mut i = 0;
        while i < args.len() {
            let Some(name) = args[i].strip_prefix("--") else {
                bail!("unexpected argument '{}': directives are given as --name value", args[i]);
            };
            let mut vals = Vec::new();
            i += 1;
            while i < args.len()
                && !(args[i].starts_with("--") && args[i].len() > 2 && !args[i][2..].starts_with(char::is_numeric))
            {
                vals.push(args[i].clone());
                i += 1;
            }
            self.set_directive(name, &vals.join(" ")).map_err(|e| anyhow!("--{name}: {e}"))?;
        }
        Ok(())
    }

    fn set_directive(&mut self, name: &str, value: &str) -> std::result::Result<(), String> {
        let d = find(name).ok_or_else(|| format!("unknown directive '{name}'"))?;
        let v = normalise(d, value, self.get(d.name))?;
        self.values.insert(d.name, v);
        Ok(())
    }

    /// Refuses settings that ask for features this build does not provide,
    /// rather than silently ignoring them.
    fn check_supported(&self) -> Result<()> {
        if self.get_bool("daemonize") {
            bail!("daemonize yes is not supported: run slotkv under a supervisor instead");
        }
        Ok(())
    }

    /// The value of a directive (normalised text).
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// An integer or memory directive.
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).parse().unwrap_or(0)
    }

    /// A yes/no directive.
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    /// CONFIG GET: directives whose name matches the glob `pattern`.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter(|(k, _)| slotkv_core::glob::glob_match(pattern, k.as_bytes(), true))
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// CONFIG SET: validates every pair first, then applies them all.
    pub fn set_runtime(&mut self, pairs: &[(&[u8], &[u8])]) -> std::result::Result<(), String> {
        let mut staged = Vec::new();
        for (k, v) in pairs {
            let name = String::from_utf8_lossy(k);
            let d = match find(&name) {
                Some(d) if d.mutable => d,
                Some(d) => {
                    return Err(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{}') - can't set immutable config",
                        d.name
                    ))
                }
                None => return Err(format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")),
            };
            let val = normalise(d, &String::from_utf8_lossy(v), self.get(d.name))
                .map_err(|e| format!("ERR CONFIG SET failed (possibly related to argument '{}') - {e}", d.name))?;
            staged.push((d.name, val));
        }
        for (k, v) in staged {
            self.values.insert(k, v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_args() {
        let mut c = Config::default();
        c.apply_text("# comment\nport 7000\nbind 127.0.0.1 ::1\nsave 900 1 300 10\n", "t.conf").unwrap();
        c.apply_args(&["--port".into(), "7001".into(), "--lua-step-budget".into(), "1000".into()]).unwrap();
        assert_eq!(c.get("port"), "7001");
        assert_eq!(c.get("bind"), "127.0.0.1 ::1");
        assert_eq!(c.get("save"), "900 1 300 10");
        assert_eq!(c.get_i64("lua-step-budget"), 1000);
    }

    #[test]
    fn errors_name_the_line() {
        let mut c = Config::default();
        let e = c.apply_text("port 1\nfrobnicate yes\n", "my.conf").unwrap_err().to_string();
        assert!(e.starts_with("my.conf:2:") && e.contains("unknown directive 'frobnicate'"), "{e}");
        let e = c.apply_text("port abc\n", "my.conf").unwrap_err().to_string();
        assert!(e.contains("my.conf:1:"), "{e}");
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("100k"), Some(100_000));
        assert_eq!(parse_memory("42"), Some(42));
        assert_eq!(parse_memory("x"), None);
        assert_eq!(parse_memory("-1"), None);
    }

    #[test]
    fn output_buffer_limits_merge_per_class() {
        let mut c = Config::default();
        c.set_runtime(&[(b"client-output-buffer-limit", b"pubsub 1mb 512kb 10")]).unwrap();
        let v = c.get("client-output-buffer-limit").to_string();
        assert_eq!(v, "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10");
        assert_eq!(output_limits(&v, "pubsub"), (1_048_576, 524_288, 10));
        assert!(c.set_runtime(&[(b"client-output-buffer-limit", b"pubsub 1mb")]).is_err());
        assert!(c.set_runtime(&[(b"client-output-buffer-limit", b"nobody 1 1 1")]).is_err());
        assert_eq!(c.get("client-output-buffer-limit"), v, "unchanged after errors");
    }

    #[test]
    fn config_set_is_all_or_nothing() {
        let mut c = Config::default();
        let e = c.set_runtime(&[(b"timeout", b"5"), (b"maxclients", b"abc")]).unwrap_err();
        assert!(e.contains("maxclients"));
        assert_eq!(c.get("timeout"), "0");
        assert!(c.set_runtime(&[(b"port", b"1")]).unwrap_err().contains("immutable"));
        assert!(c.set_runtime(&[(b"nope", b"1")]).unwrap_err().contains("Unknown option"));
        c.set_runtime(&[(b"timeout", b"5")]).unwrap();
        assert_eq!(c.get("timeout"), "5");
    }
}
