//! Starting the real `slotkv` binary on a free port, and talking to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running server, stopped (SIGTERM, then killed) when dropped.
pub struct TestServer {
    pub child: Child,
    pub port: u16,
    /// The HTTP gateway's port (`--http-port -1`, any free port, unless the test gives one).
    #[allow(dead_code)]
    pub http_port: Option<u16>,
    /// The rest of the server's log, for tests that look at it.
    #[allow(dead_code)]
    pub log: mpsc::Receiver<String>,
    /// What the server logged before it was ready (loading, warnings).
    #[allow(dead_code)]
    pub startup_log: Vec<String>,
}

impl TestServer {
    /// Starts `slotkv --port 0` plus `args`, and waits for its ready line.
    pub fn start(args: &[&str]) -> TestServer {
        Self::try_start(args).expect("server did not start")
    }

    pub fn try_start(args: &[&str]) -> Result<TestServer, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_slotkv"));
        if !args.contains(&"--port") && !args.first().is_some_and(|a| a.ends_with(".conf")) {
            cmd.args(["--port", "0"]);
        }
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        if !args.contains(&"--http-port") {
            cmd.args(["--http-port", "-1"]);
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut http_port = None;
        let mut startup_log = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.split("Ready to accept connections http ").nth(1) {
                        http_port = addr.trim().rsplit(':').next().and_then(|p| p.parse().ok());
                    }
                    if let Some(addr) = line.split("Ready to accept connections tcp ").nth(1) {
                        let port = addr.trim().rsplit(':').next().unwrap().parse().unwrap();
                        return Ok(TestServer { child, port, http_port, log: rx, startup_log });
                    }
                    startup_log.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let mut err = String::new();
                    let _ = stderr.read_to_string(&mut err);
                    let status = child.wait().ok();
                    return Err(format!("no ready line; status {status:?}; stderr: {err}"));
                }
            }
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url()).unwrap().get_connection().unwrap()
    }

    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Raw { s }
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        self.wait_exit()
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
            if self.wait_exit().is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// An HTTP response.
#[allow(dead_code)]
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[allow(dead_code)]
impl HttpResponse {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[allow(dead_code)]
impl TestServer {
    /// One HTTP/1.1 request to the gateway (the connection closes after it).
    pub fn http(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
        let port = self.http_port.expect("the gateway is off");
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        // A server may answer (413) before it read the whole body.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no end of headers");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked") {
            body = dechunk(&body);
        }
        HttpResponse { status, headers, body }
    }

    /// POST of a JSON value.
    pub fn post_json(&self, path: &str, headers: &[(&str, &str)], v: &serde_json::Value) -> HttpResponse {
        self.http("POST", path, headers, v.to_string().as_bytes())
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 4 + n..];
    }
}

/// A raw TCP connection for exact protocol bytes.
pub struct Raw {
    pub s: TcpStream,
}

impl Raw {
    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    /// Reads until `expected.len()` bytes arrived (or the peer closed) and returns them.
    pub fn read_n(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        let mut got = 0;
        while got < n {
            match self.s.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => got += k,
            }
        }
        buf.truncate(got);
        buf
    }

    /// Reads until the bytes received end with `suffix`.
    pub fn read_until(&mut self, suffix: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        while !out.ends_with(suffix) {
            match self.s.read(&mut b) {
                Ok(1) => out.push(b[0]),
                _ => panic!("connection ended before {:?}", String::from_utf8_lossy(suffix)),
            }
        }
        out
    }

    pub fn expect(&mut self, expected: &[u8]) {
        let got = self.read_n(expected.len());
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));
    }

    /// True if the server closed the connection (a read returns end of stream).
    pub fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.s.read(&mut b), Ok(0) | Err(_))
    }
}

/// Encodes a command as a RESP multibulk request.
pub fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Runs one of Redis's file checkers (`redis-check-aof`, `redis-check-rdb`)
/// on `path` and requires `ok_text` in its report; skipped when the tool is
/// not installed, unless SLOTKV_REQUIRE_REDIS_TOOLS is set (the README's test
/// command installs it and sets it).
#[allow(dead_code)]
pub fn redis_checker_accepts(tool: &str, path: &std::path::Path, ok_text: &str) {
    match Command::new(tool).arg(path).output() {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success() && text.contains(ok_text), "{tool}: {text}");
        }
        Err(_) if std::env::var_os("SLOTKV_REQUIRE_REDIS_TOOLS").is_none() => {
            eprintln!("{tool} not installed: skipped");
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}
