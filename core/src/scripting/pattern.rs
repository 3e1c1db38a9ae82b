//! Lua 5.1 patterns (`string.find`, `match`, `gmatch`, `gsub`): a backtracking
//! matcher over bytes, written for slotkv, with two guards the reference C
//! implementation lacks: every step is counted against a limit the caller
//! takes from the script's budget (patterns can backtrack exponentially), and
//! recursion is capped (`pattern too complex`) instead of growing the stack.

/// Most captures one pattern may have (Lua's `LUA_MAXCAPTURES`).
const MAX_CAPTURES: usize = 32;
/// Deepest recursion of the matcher (Lua 5.2's `MAXCCALLS`).
const MAX_DEPTH: usize = 200;
const CAP_UNFINISHED: isize = -1;
const CAP_POSITION: isize = -2;

/// Why a match could not be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// A malformed pattern, with Lua's message.
    Bad(&'static str),
    /// The step limit was reached.
    Steps,
}

/// One capture of a successful match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// The bytes `start..end` of the subject.
    Span(usize, usize),
    /// A position capture `()`: the 1-based index.
    Position(usize),
}

/// A matcher of one pattern against one subject.
pub struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    level: usize,
    capture: [(usize, isize); MAX_CAPTURES],
    depth: usize,
    /// Steps taken so far.
    pub steps: u64,
    limit: u64,
}

type MatchResult = Result<Option<usize>, PatternError>;

impl<'a> Matcher<'a> {
    /// A matcher that gives up after `limit` steps.
    pub fn new(src: &'a [u8], pat: &'a [u8], limit: u64) -> Self {
        Matcher { src, pat, level: 0, capture: [(0, 0); MAX_CAPTURES], depth: 0, steps: 0, limit }
    }

    /// Tries to match the pattern from `p` (an index into the pattern, after
    /// any `^`) at subject position `s`; returns the end of the match.
    pub fn match_at(&mut self, s: usize, p: usize) -> MatchResult {
        self.level = 0;
        self.depth = 0;
        self.do_match(s, p)
    }

    /// The captures of the last successful match `s..e` (the whole match when
    /// the pattern has none).
    pub fn captures(&self, s: usize, e: usize) -> Result<Vec<Capture>, PatternError> {
        if self.level == 0 {
            return Ok(vec![Capture::Span(s, e)]);
        }
        (0..self.level).map(|i| self.capture(i, s, e)).collect()
    }

    /// Capture `i` of the last match `s..e`.
    pub fn capture(&self, i: usize, s: usize, e: usize) -> Result<Capture, PatternError> {
        if i >= self.level {
            return if i == 0 { Ok(Capture::Span(s, e)) } else { Err(PatternError::Bad("invalid capture index")) };
        }
        let (start, len) = self.capture[i];
        match len {
            CAP_UNFINISHED => Err(PatternError::Bad("unfinished capture")),
            CAP_POSITION => Ok(Capture::Position(start + 1)),
            n => Ok(Capture::Span(start, start + n as usize)),
        }
    }

    /// Number of captures of the last match.
    pub fn level(&self) -> usize {
        self.level
    }

    fn tick(&mut self) -> Result<(), PatternError> {
        self.steps += 1;
        if self.steps > self.limit {
            return Err(PatternError::Steps);
        }
        Ok(())
    }

    fn do_match(&mut self, s: usize, p: usize) -> MatchResult {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PatternError::Bad("pattern too complex"));
        }
        let r = self.match_loop(s, p);
        self.depth -= 1;
        r
    }

    fn match_loop(&mut self, mut s: usize, mut p: usize) -> MatchResult {
        let (pat, src) = (self.pat, self.src);
        loop {
            self.tick()?;
            if p == pat.len() {
                return Ok(Some(s));
            }
            match pat[p] {
                b'(' => {
                    return if pat.get(p + 1) == Some(&b')') {
                        self.start_capture(s, p + 2, CAP_POSITION)
                    } else {
                        self.start_capture(s, p + 1, CAP_UNFINISHED)
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                b'$' if p + 1 == pat.len() => return Ok((s == src.len()).then_some(s)),
                b'%' if pat.get(p + 1) == Some(&b'b') => match self.match_balance(s, p + 2)? {
                    Some(e) => {
                        s = e;
                        p += 4;
                        continue;
                    }
                    None => return Ok(None),
                },
                b'%' if pat.get(p + 1) == Some(&b'f') => {
                    p += 2;
                    if pat.get(p) != Some(&b'[') {
                        return Err(PatternError::Bad("missing '[' after '%f' in pattern"));
                    }
                    let ep = self.class_end(p)?;
                    let prev = if s == 0 { 0 } else { src[s - 1] };
                    let cur = src.get(s).copied().unwrap_or(0);
                    if !self.match_bracket(prev, p, ep - 1) && self.match_bracket(cur, p, ep - 1) {
                        p = ep;
                        continue;
                    }
                    return Ok(None);
                }
                b'%' if pat.get(p + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    match self.match_capture(s, pat[p + 1])? {
                        Some(e) => {
                            s = e;
                            p += 2;
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
                _ => {}
            }
            let ep = self.class_end(p)?;
            let m = s < src.len() && self.single_match(src[s], p, ep);
            match pat.get(ep) {
                Some(b'?') => {
                    if m {
                        if let Some(r) = self.do_match(s + 1, ep + 1)? {
                            return Ok(Some(r));
                        }
                    }
                    p = ep + 1;
                    continue;
                }
                Some(b'*') => return self.max_expand(s, p, ep),
                Some(b'+') => return if m { self.max_expand(s + 1, p, ep) } else { Ok(None) },
                Some(b'-') => return self.min_expand(s, p, ep),
                _ => {}
            }
            if !m {
                return Ok(None);
            }
            s += 1;
            p = ep;
        }
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> MatchResult {
        let mut i = 0;
        while s + i < self.src.len() && self.single_match(self.src[s + i], p, ep) {
            self.tick()?;
            i += 1;
        }
        loop {
            if let Some(r) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(r));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> MatchResult {
        loop {
            if let Some(r) = self.do_match(s, ep + 1)? {
                return Ok(Some(r));
            }
            if s < self.src.len() && self.single_match(self.src[s], p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, what: isize) -> MatchResult {
        if self.level >= MAX_CAPTURES {
            return Err(PatternError::Bad("too many captures"));
        }
        self.capture[self.level] = (s, what);
        self.level += 1;
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.level -= 1;
        }
        Ok(r)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> MatchResult {
        let l = (0..self.level)
            .rev()
            .find(|&l| self.capture[l].1 == CAP_UNFINISHED)
            .ok_or(PatternError::Bad("invalid pattern capture"))?;
        self.capture[l].1 = (s - self.capture[l].0) as isize;
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.capture[l].1 = CAP_UNFINISHED;
        }
        Ok(r)
    }

    fn match_balance(&mut self, s: usize, p: usize) -> MatchResult {
        if p + 1 >= self.pat.len() {
            return Err(PatternError::Bad("unbalanced pattern"));
        }
        let (b, e) = (self.pat[p], self.pat[p + 1]);
        if self.src.get(s) != Some(&b) {
            return Ok(None);
        }
        let mut depth = 1;
        for i in s + 1..self.src.len() {
            self.tick()?;
            let c = self.src[i];
            if c == e {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i + 1));
                }
            } else if c == b {
                depth += 1;
            }
        }
        Ok(None)
    }

    fn match_capture(&mut self, s: usize, digit: u8) -> MatchResult {
        let l = (digit as usize).wrapping_sub(b'1' as usize);
        if l >= self.level || self.capture[l].1 == CAP_UNFINISHED {
            return Err(PatternError::Bad("invalid capture index"));
        }
        let (start, len) = self.capture[l];
        let len = len.max(0) as usize;
        if self.src.len() - s >= len && self.src[start..start + len] == self.src[s..s + len] {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
    }

    /// The end of the single-character class starting at `p`.
    fn class_end(&self, mut p: usize) -> Result<usize, PatternError> {
        let pat = self.pat;
        let c = pat[p];
        p += 1;
        if c == b'%' {
            if p >= pat.len() {
                return Err(PatternError::Bad("malformed pattern (ends with '%')"));
            }
            return Ok(p + 1);
        }
        if c == b'[' {
            if pat.get(p) == Some(&b'^') {
                p += 1;
            }
            loop {
                if p >= pat.len() {
                    return Err(PatternError::Bad("malformed pattern (missing ']')"));
                }
                let c = pat[p];
                p += 1;
                if c == b'%' && p < pat.len() {
                    p += 1;
                }
                if p >= pat.len() {
                    return Err(PatternError::Bad("malformed pattern (missing ']')"));
                }
                if pat[p] == b']' {
                    return Ok(p + 1);
                }
            }
        }
        Ok(p)
    }

    fn single_match(&self, c: u8, p: usize, ep: usize) -> bool {
        match self.pat[p] {
            b'.' => true,
            b'%' => class_matches(c, self.pat[p + 1]),
            b'[' => self.match_bracket(c, p, ep - 1),
            pc => pc == c,
        }
    }

    /// Matches `c` against the set `[...]` from `p` (the `[`) to `ec` (the `]`).
    fn match_bracket(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let pat = self.pat;
        let mut sig = true;
        if pat[p + 1] == b'^' {
            sig = false;
            p += 1;
        }
        p += 1;
        while p < ec {
            if pat[p] == b'%' {
                p += 1;
                if p < pat.len() && class_matches(c, pat[p]) {
                    return sig;
                }
            } else if pat.get(p + 1) == Some(&b'-') && p + 2 < ec {
                if pat[p] <= c && c <= pat[p + 2] {
                    return sig;
                }
                p += 2;
            } else if pat[p] == c {
                return sig;
            }
            p += 1;
        }
        !sig
    }
}

/// `%a`, `%d`, ... in the C locale; an upper-case class is the complement.
fn class_matches(c: u8, cl: u8) -> bool {
    let m = match cl.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        b'z' => c == 0,
        _ => return cl == c,
    };
    if cl.is_ascii_uppercase() {
        !m
    } else {
        m
    }
}

/// True if `pat` has no magic characters (find can search it as plain text).
pub fn is_plain(pat: &[u8]) -> bool {
    !pat.iter().any(|c| b"^$*+?.([%-".contains(c))
}

/// Finds the first match of `pat` in `src` from byte `init`: the match's span
/// and the matcher holding its captures.
pub fn find<'a>(
    src: &'a [u8],
    pat: &'a [u8],
    init: usize,
    limit: u64,
) -> Result<Option<(usize, usize, Matcher<'a>)>, PatternError> {
    let anchor = pat.first() == Some(&b'^');
    let p = usize::from(anchor);
    let mut m = Matcher::new(src, pat, limit);
    let mut s = init;
    loop {
        if let Some(e) = m.match_at(s, p)? {
            return Ok(Some((s, e, m)));
        }
        s += 1;
        if anchor || s > src.len() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(src: &str, pat: &str) -> Option<(usize, usize)> {
        find(src.as_bytes(), pat.as_bytes(), 0, 1_000_000).unwrap().map(|(s, e, _)| (s, e))
    }

    fn caps(src: &str, pat: &str) -> Vec<String> {
        let (s, e, m) = find(src.as_bytes(), pat.as_bytes(), 0, 1_000_000).unwrap().unwrap();
        m.captures(s, e)
            .unwrap()
            .into_iter()
            .map(|c| match c {
                Capture::Span(a, b) => src[a..b].to_string(),
                Capture::Position(p) => p.to_string(),
            })
            .collect()
    }

    #[test]
    fn matches_like_lua() {
        assert_eq!(first("hello world", "o w"), Some((4, 7)));
        assert_eq!(first("hello", "l+"), Some((2, 4)));
        assert_eq!(first("hello", "^h"), Some((0, 1)));
        assert_eq!(first("hello", "^e"), None);
        assert_eq!(first("hello", "o$"), Some((4, 5)));
        assert_eq!(first("", "a*"), Some((0, 0)));
        assert_eq!(caps("key:123:abc", "(%a+):(%d+)"), ["key", "123"]);
        assert_eq!(caps("hello", "()ll()"), ["3", "5"]);
        assert_eq!(caps("f(a(b)c)d", "%b()"), ["(a(b)c)"]);
        assert_eq!(caps("THE (quick) fox", "%f[%a]%a+"), ["THE"]);
        assert_eq!(caps("abcabc", "(abc)%1"), ["abc"]);
        assert_eq!(caps("a]b", "[]]"), ["]"]);
        assert_eq!(caps("x-y", "[a-]"), ["-"]);
        assert_eq!(caps("  trim  ", "^%s*(.-)%s*$"), ["trim"]);
        assert_eq!(caps("\0x", "%z"), ["\0"]);
    }

    #[test]
    fn bad_patterns_are_errors() {
        for (pat, msg) in [
            ("%", "malformed pattern (ends with '%')"),
            ("[a", "malformed pattern (missing ']')"),
            ("(a", "unfinished capture"),
            ("a)", "invalid pattern capture"),
            ("%1", "invalid capture index"),
            ("%f", "missing '[' after '%f' in pattern"),
            ("%b", "unbalanced pattern"),
        ] {
            let r = find(b"aaa", pat.as_bytes(), 0, 1000)
                .and_then(|m| m.map(|(s, e, m)| m.captures(s, e).map(|_| ())).transpose());
            assert_eq!(r, Err(PatternError::Bad(msg)), "{pat}");
        }
    }

    #[test]
    fn runaway_patterns_stop() {
        let src = "a".repeat(30);
        let pat = "a-a-a-a-a-a-a-a-a-a-b";
        assert_eq!(find(src.as_bytes(), pat.as_bytes(), 0, 100_000).err(), Some(PatternError::Steps));
        let deep = "a?".repeat(300) + &"a".repeat(300);
        assert_eq!(
            find("a".repeat(300).as_bytes(), deep.as_bytes(), 0, u64::MAX).err(),
            Some(PatternError::Bad("pattern too complex"))
        );
    }
}
