//! The request parser: turns the bytes a client sent into command argument vectors.
//!
//! It is incremental: a command split across reads is resumed where it stopped,
//! without parsing its finished arguments again, and it never copies an argument;
//! [`Argv`] holds offsets into the caller's buffer. Malformed input yields a
//! [`ProtocolError`] whose text is Redis's `ERR Protocol error: ...` reply, after
//! which the connection must be closed.
// Hot path: runs once per command.

use super::find_crlf;
use crate::numeric::parse_i64;

/// Limits on what one request may contain (Redis defaults).
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// Largest bulk argument (`proto-max-bulk-len`, 512 MB).
    pub max_bulk_len: usize,
    /// Most arguments in one multibulk request.
    pub max_multibulk_len: usize,
    /// Longest inline command line, or header line (`PROTO_INLINE_MAX_SIZE`, 64 KB).
    pub max_inline_len: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits { max_bulk_len: 512 << 20, max_multibulk_len: 1 << 20, max_inline_len: 64 << 10 }
    }
}

/// A malformed request. `Display` gives the exact error reply text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub std::borrow::Cow<'static, str>);

impl ProtocolError {
    const fn new(what: &'static str) -> Self {
        ProtocolError(std::borrow::Cow::Borrowed(what))
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ERR Protocol error: {}", self.0)
    }
}

/// The arguments of one command: byte ranges into a buffer, or owned bytes.
#[derive(Default, Debug, Clone)]
pub struct Argv {
    spans: Vec<(usize, usize)>,
    owned: Vec<u8>,
}

impl Argv {
    /// An empty argument vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an argument vector that owns its bytes (for scripts, HTTP, tests).
    pub fn from_args<I, A>(args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let mut a = Argv::new();
        for arg in args {
            a.push(arg.as_ref());
        }
        a
    }

    /// Appends an argument (its bytes are copied).
    pub fn push(&mut self, arg: &[u8]) {
        let start = self.owned.len();
        self.owned.extend_from_slice(arg);
        self.spans.push((start, self.owned.len()));
    }

    /// Number of arguments, the command name included.
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Binds the argument offsets to the buffer they point into. For an owned
    /// `Argv` (built by [`Argv::from_args`] or an inline command) pass any buffer.
    #[inline]
    pub fn bind<'a>(&'a self, buf: &'a [u8]) -> Args<'a> {
        let data = if self.owned.is_empty() && !self.spans.is_empty() { buf } else { &self.owned[..] };
        Args { data, spans: &self.spans }
    }

    fn clear(&mut self) {
        self.spans.clear();
        self.owned.clear();
    }
}

/// A bound argument list: what command handlers read.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    data: &'a [u8],
    spans: &'a [(usize, usize)],
}

impl<'a> Args<'a> {
    /// Number of arguments, the command name included.
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    /// True when there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    /// Argument `i` (0 is the command name). Panics if out of range: handlers
    /// only index below the arity the table checked.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.spans[i];
        &self.data[s..e]
    }
    /// Iterates over the arguments.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        self.spans.iter().map(move |&(s, e)| &data[s..e])
    }
    /// The arguments from `from` on, as a new list.
    pub fn tail(&self, from: usize) -> Args<'a> {
        Args { data: self.data, spans: &self.spans[from.min(self.spans.len())..] }
    }
    /// Copies the arguments into owned vectors.
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(|a| a.to_vec()).collect()
    }
}

#[derive(Debug, Default)]
enum State {
    /// Nothing parsed of the next request.
    #[default]
    Start,
    /// Inside a multibulk request: how many arguments are still expected, and where
    /// the next one starts.
    Multibulk { remaining: usize, pos: usize },
}

/// Incremental request parser; one per connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    limits: RequestLimits,
    state: State,
}

impl RequestParser {
    /// A parser with the given limits.
    pub fn new(limits: RequestLimits) -> Self {
        RequestParser { limits, state: State::Start }
    }

    /// Changes the limits (CONFIG SET proto-max-bulk-len).
    pub fn set_limits(&mut self, limits: RequestLimits) {
        self.limits = limits;
    }

    /// Parses the next request at the start of `buf` into `argv`.
    ///
    /// Returns `Ok(Some(n))` when a request is complete and used the first `n`
    /// bytes (an empty request, such as a blank inline line, gives an empty
    /// `argv`); `Ok(None)` when more bytes are needed (call again with the same
    /// buffer, extended). The caller drops the first `n` bytes before the next call.
    pub fn parse(&mut self, buf: &[u8], argv: &mut Argv) -> Result<Option<usize>, ProtocolError> {
        if let State::Start = self.state {
            argv.clear();
            if buf.is_empty() {
                return Ok(None);
            }
            if buf[0] != b'*' {
                return self.parse_inline(buf, argv);
            }
            let Some(cr) = find_crlf(buf, 1) else {
                if buf.len() > self.limits.max_inline_len {
                    return Err(ProtocolError::new("too big mbulk count string"));
                }
                return Ok(None);
            };
            let n = match parse_i64(&buf[1..cr]) {
                Some(n) if n <= self.limits.max_multibulk_len as i64 => n,
                _ => return Err(ProtocolError::new("invalid multibulk length")),
            };
            if n <= 0 {
                return Ok(Some(cr + 2));
            }
            argv.spans.reserve(n.min(1024) as usize);
            self.state = State::Multibulk { remaining: n as usize, pos: cr + 2 };
        }
        let State::Multibulk { remaining, pos } = &mut self.state else { unreachable!() };
        while *remaining > 0 {
            let p = *pos;
            if p >= buf.len() {
                return Ok(None);
            }
            if buf[p] != b'$' {
                self.state = State::Start;
                return Err(expected_dollar(buf[p]));
            }
            let Some(cr) = find_crlf(buf, p + 1) else {
                if buf.len() - p > self.limits.max_inline_len {
                    self.state = State::Start;
                    return Err(ProtocolError::new("too big bulk count string"));
                }
                return Ok(None);
            };
            let len = match parse_i64(&buf[p + 1..cr]) {
                Some(n) if n >= 0 && n as u64 <= self.limits.max_bulk_len as u64 => n as usize,
                _ => {
                    self.state = State::Start;
                    return Err(ProtocolError::new("invalid bulk length"));
                }
            };
            let start = cr + 2;
            // Like Redis, the two bytes after the payload are skipped, not checked.
            if buf.len() < start + len + 2 {
                return Ok(None);
            }
            argv.spans.push((start, start + len));
            *pos = start + len + 2;
            *remaining -= 1;
        }
        let used = *pos;
        self.state = State::Start;
        Ok(Some(used))
    }

    fn parse_inline(&mut self, buf: &[u8], argv: &mut Argv) -> Result<Option<usize>, ProtocolError> {
        let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
            if buf.len() > self.limits.max_inline_len {
                return Err(ProtocolError::new("too big inline request"));
            }
            return Ok(None);
        };
        let mut line = &buf[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let args = split_args(line).ok_or(ProtocolError::new("unbalanced quotes in request"))?;
        *argv = Argv::from_args(args);
        Ok(Some(nl + 1))
    }
}

fn expected_dollar(got: u8) -> ProtocolError {
    ProtocolError(format!("expected '$', got '{}'", got as char).into())
}

/// Splits an inline command line into arguments as redis-cli and Redis do
/// (`sdssplitargs`): whitespace separates, `"..."` understands `\n \r \t \b \a \\ \"
/// \xHH`, `'...'` understands `\'`. A closing quote must be followed by a space or
/// the end. Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= line.len() {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < line.len() {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        o => o,
                    });
                } else if c == b'"' {
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    inq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if i >= line.len() {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < line.len() && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    insq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= line.len() {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        let _ = (inq, insq);
        out.push(cur);
    }
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = RequestParser::default();
        let mut argv = Argv::new();
        let mut out = Vec::new();
        let mut buf = input;
        while let Some(n) = p.parse(buf, &mut argv)? {
            if !argv.is_empty() {
                out.push(argv.bind(buf).to_vecs());
            }
            buf = &buf[n..];
        }
        Ok(out)
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_pipeline() {
        let got = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n").expect("test input is valid");
        assert_eq!(got, vec![v(&["GET", "k"]), v(&["PING"])]);
    }

    #[test]
    fn every_split_point_resumes() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n";
        for cut in 0..input.len() {
            let mut p = RequestParser::default();
            let mut argv = Argv::new();
            assert_eq!(p.parse(&input[..cut], &mut argv).expect("test input is valid"), None, "cut {cut}");
            let n = p.parse(input, &mut argv).expect("test input is valid").expect("test input is valid");
            assert_eq!(n, input.len());
            assert_eq!(argv.bind(input).to_vecs(), v(&["SET", "key", "va\r\nl"]));
        }
    }

    #[test]
    fn inline_commands() {
        assert_eq!(parse_all(b"PING\r\n").expect("test input is valid"), vec![v(&["PING"])]);
        assert_eq!(parse_all(b"set \"a b\" 'c d'\n").expect("test input is valid"), vec![v(&["set", "a b", "c d"])]);
        assert_eq!(parse_all(b"\r\n\r\nPING\r\n").expect("test input is valid"), vec![v(&["PING"])]);
        assert_eq!(parse_all(b"echo \"\\x41\\n\"\r\n").expect("test input is valid"), vec![v(&["echo", "A\n"])]);
        assert_eq!(
            parse_all(b"set \"a\r\n").unwrap_err().to_string(),
            "ERR Protocol error: unbalanced quotes in request"
        );
        assert_eq!(parse_all(b"set \"a\"b\r\n").unwrap_err().0, "unbalanced quotes in request");
    }

    #[test]
    fn empty_and_negative_multibulk_are_skipped() {
        assert_eq!(parse_all(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n").expect("test input is valid"), vec![v(&["PING"])]);
    }

    #[test]
    fn malformed_frames() {
        let e = |b: &[u8]| parse_all(b).unwrap_err().to_string();
        assert_eq!(e(b"*abc\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(e(b"*1048577\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(e(b"*1\r\n$-1\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(e(b"*1\r\n$x\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(e(b"*1\r\n$536870913\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(e(b"*1\r\n:1\r\n"), "ERR Protocol error: expected '$', got ':'");
        assert_eq!(e(b"*1\r\nx\r\n"), "ERR Protocol error: expected '$', got 'x'");
        let long = vec![b'a'; 70 * 1024];
        assert_eq!(e(&long), "ERR Protocol error: too big inline request");
        let mut mb = b"*".to_vec();
        mb.extend(vec![b'1'; 70 * 1024]);
        assert_eq!(e(&mb), "ERR Protocol error: too big mbulk count string");
        let mut bb = b"*1\r\n$".to_vec();
        bb.extend(vec![b'1'; 70 * 1024]);
        assert_eq!(e(&bb), "ERR Protocol error: too big bulk count string");
    }

    #[test]
    fn limits_are_configurable() {
        let mut p = RequestParser::new(RequestLimits { max_bulk_len: 4, ..Default::default() });
        let mut argv = Argv::new();
        assert!(p.parse(b"*1\r\n$5\r\nhello\r\n", &mut argv).is_err());
        assert!(p.parse(b"*1\r\n$4\r\nhell\r\n", &mut argv).expect("test input is valid").is_some());
    }
}
