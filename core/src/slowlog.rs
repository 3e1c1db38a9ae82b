//! The slow log: the most recent commands that took at least
//! `slowlog-log-slower-than` microseconds to execute, newest first, as SLOWLOG
//! GET shows them. The host times commands (core has no clock); this module
//! keeps the entries and shortens what it stores of each command as Redis does,
//! so a huge command does not make a huge entry.

use std::collections::VecDeque;

/// Arguments kept of one command; the last kept slot then says how many more there were.
const MAX_ARGS: usize = 32;
/// Bytes kept of one argument.
const MAX_ARG_LEN: usize = 128;

/// One slow command.
#[derive(Clone, Debug, PartialEq)]
pub struct SlowEntry {
    /// Increasing id, never reused (not even after SLOWLOG RESET).
    pub id: u64,
    /// Unix time in seconds when the command was logged.
    pub time: i64,
    /// Execution time in microseconds.
    pub micros: u64,
    /// The command, shortened.
    pub args: Vec<Vec<u8>>,
    /// `ip:port` of the client.
    pub peer: String,
    /// The client's name (empty when it has none).
    pub name: Vec<u8>,
}

/// The slow log of one server.
#[derive(Debug, Default)]
pub struct SlowLog {
    entries: VecDeque<SlowEntry>,
    next_id: u64,
}

impl SlowLog {
    /// An empty slow log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a command that took `micros`, keeping at most `max_len` entries.
    pub fn push<A: AsRef<[u8]>>(
        &mut self,
        args: &[A],
        micros: u64,
        time: i64,
        peer: String,
        name: &[u8],
        max_len: usize,
    ) {
        let entry = SlowEntry { id: self.next_id, time, micros, args: shorten(args), peer, name: name.to_vec() };
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }

    /// The newest `count` entries (all of them for `None`).
    pub fn newest(&self, count: Option<usize>) -> impl Iterator<Item = &SlowEntry> {
        self.entries.iter().take(count.unwrap_or(usize::MAX))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no command has been logged since the last reset.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every entry (ids keep counting).
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

/// What an entry keeps of a command: at most [`MAX_ARGS`] arguments of at
/// most [`MAX_ARG_LEN`] bytes each, saying how much was left out.
fn shorten<A: AsRef<[u8]>>(args: &[A]) -> Vec<Vec<u8>> {
    let kept = args.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (i, a) in args.iter().take(kept).enumerate() {
        let a = a.as_ref();
        if kept < args.len() && i == kept - 1 {
            out.push(format!("... ({} more arguments)", args.len() - kept + 1).into_bytes());
        } else if a.len() > MAX_ARG_LEN {
            let mut s = a[..MAX_ARG_LEN].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).as_bytes());
            out.push(s);
        } else {
            out.push(a.to_vec());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_and_bounded() {
        let mut log = SlowLog::new();
        for i in 0..5 {
            log.push(&[format!("cmd{i}")], 10 + i, 1000, "1.2.3.4:5".into(), b"", 3);
        }
        let ids: Vec<u64> = log.newest(None).map(|e| e.id).collect();
        assert_eq!(ids, vec![4, 3, 2]);
        assert_eq!(log.newest(Some(1)).next().map(|e| e.args.clone()), Some(vec![b"cmd4".to_vec()]));
        log.reset();
        assert!(log.is_empty());
        log.push(&["x"], 1, 1000, String::new(), b"n", 3);
        assert_eq!(log.newest(None).next().map(|e| e.id), Some(5), "ids go on after a reset");
    }

    #[test]
    fn long_commands_are_shortened() {
        let args: Vec<Vec<u8>> = (0..40).map(|i| vec![b'a' + (i % 26) as u8; if i == 1 { 200 } else { 1 }]).collect();
        let kept = shorten(&args);
        assert_eq!(kept.len(), MAX_ARGS);
        assert_eq!(kept[1].len(), MAX_ARG_LEN + "... (72 more bytes)".len());
        assert!(kept[1].ends_with(b"... (72 more bytes)"));
        assert_eq!(kept[31], b"... (9 more arguments)".to_vec());
        assert_eq!(shorten(&["get", "k"]), vec![b"get".to_vec(), b"k".to_vec()]);
    }

    #[test]
    fn zero_length_keeps_nothing() {
        let mut log = SlowLog::new();
        log.push(&["x"], 1, 1, String::new(), b"", 0);
        assert_eq!(log.len(), 0);
    }
}
