//! The HTTP/JSON gateway: Redis over HTTP for code that cannot hold a TCP
//! connection, following the Upstash REST convention so its clients work
//! unchanged. Every request runs its commands through the same command table,
//! shards and scripts as a RESP connection; nothing here implements a command.
//!
//! # Layout
//! - [`api`]: the endpoint table that drives both routing and the OpenAPI document
//! - [`session`]: one request as a short-lived client of the server
//! - [`json`]: RESP replies read back as JSON, JSON requests as arguments
//! - [`metrics`]: `GET /metrics` in Prometheus text format

pub mod api;
pub mod json;
pub mod metrics;
pub mod session;

use crate::server::Shared;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use json::{Encoding, Outcome, ReplyReader};
use serde_json::{json, Value};
use session::HttpClient;
use slotkv_core::commands::flags;
use slotkv_core::{resolve, Argv, ReplyBuf};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// The gateway's shared state.
pub struct Gateway {
    shared: Arc<Shared>,
    /// The address requests arrive at (CLIENT LIST's laddr).
    local: SocketAddr,
    /// Requests, statuses and latencies.
    pub metrics: metrics::HttpMetrics,
}

/// What a request's token lets it do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    /// Every command.
    Full,
    /// Commands that neither write nor administer (`http-readonly-token`).
    ReadOnly,
}

/// Binds the gateway's listeners: `http-port` on every `bind` address; none
/// if `http-port` is 0; any free port if it is -1 (tests).
pub async fn bind(config: &crate::Config) -> anyhow::Result<Vec<TcpListener>> {
    let port = match config.get_i64("http-port") {
        0 => return Ok(Vec::new()),
        -1 => 0,
        p => p as u16,
    };
    crate::server::bind_all(config.get("bind"), port).await
}

/// Serves HTTP on `listeners` until shutdown is requested; requests in
/// flight finish (blocked commands and event streams end when the server
/// closes its clients).
pub async fn serve(listeners: Vec<TcpListener>, shared: Arc<Shared>) {
    let Some(local) = listeners.first().and_then(|l| l.local_addr().ok()) else { return };
    let gateway = Arc::new(Gateway { shared: shared.clone(), local, metrics: Default::default() });
    let app = router(gateway, &shared);
    let mut tasks = tokio::task::JoinSet::new();
    for l in listeners {
        let app = app.clone().into_make_service_with_connect_info::<SocketAddr>();
        let mut sig = shared.shutdown_signal();
        tasks.spawn(async move {
            let stop = async move {
                let _ = sig.wait_for(|v| *v).await;
            };
            // Replies go out at once, as over RESP (no Nagle delay).
            let l = axum::serve::ListenerExt::tap_io(l, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            if let Err(e) = axum::serve(l, app).with_graceful_shutdown(stop).await {
                tracing::warn!("HTTP gateway stopped: {e}");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// The router: the endpoint table's routes, path-style commands for the rest.
fn router(gateway: Arc<Gateway>, shared: &Shared) -> Router {
    let (max_body, origins) = {
        let c = shared.config.read().unwrap_or_else(|p| p.into_inner());
        (c.get_i64("http-max-body") as usize, c.get("http-cors-origins").to_string())
    };
    let mut app = Router::new();
    for e in api::ENDPOINTS {
        if let Some(route) = api::method_router(e) {
            app = app.route(e.path, route);
        }
    }
    let app = app
        .fallback(path_style)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(gateway.clone(), authorize))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(gateway);
    match cors(&origins) {
        Some(layer) => app.layer(layer),
        None => app,
    }
}

/// `http-cors-origins`: `*` for any origin, or origins separated by spaces.
fn cors(origins: &str) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    let origins: Vec<&str> = origins.split_whitespace().collect();
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers(Any)
            .expose_headers(Any),
    )
}

/// A request refused before any command ran.
pub struct Refusal {
    status: StatusCode,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.status, self.message)
    }
}

/// A 400 refusal.
fn bad_request(message: impl Into<String>) -> Refusal {
    Refusal { status: StatusCode::BAD_REQUEST, message: message.into() }
}

/// A 401 refusal.
fn unauthorized(message: &str) -> Refusal {
    Refusal { status: StatusCode::UNAUTHORIZED, message: message.into() }
}

/// A JSON error with its status.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    let mut body = json!({ "error": message });
    // A script stopped by a limit says which one, for programs to act on.
    for limit in ["lua-step-budget", "lua-memory-limit"] {
        if message.contains(limit) {
            body["limit"] = json!(limit);
        }
    }
    (status, Json(body)).into_response()
}

/// Checks the token (`Authorization: Bearer` or `?_token=`) before anything
/// runs and records what it allows; counts every response by status and
/// its latency. (One layer: each layer costs a boxed future per request.)
async fn authorize(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let resp = if api::is_public(req.uri().path()) {
        next.run(req).await
    } else {
        match access(&gw, peer, req.headers(), req.uri()) {
            Ok(a) => {
                req.extensions_mut().insert(a);
                next.run(req).await
            }
            Err(refused) => refused.into_response(),
        }
    };
    gw.metrics.observe(resp.status().as_u16(), start.elapsed());
    resp
}

/// What the request's token allows, or the 401 that refuses it.
fn access(gw: &Gateway, peer: SocketAddr, headers: &HeaderMap, uri: &Uri) -> Result<Access, Refusal> {
    let given = bearer(headers).or_else(|| query_token(uri));
    let c = gw.shared.config.read().unwrap_or_else(|p| p.into_inner());
    let (token, password, read_only) = (c.get("http-token"), c.get("requirepass"), c.get("http-readonly-token"));
    let matches = |secret: &str, t: &str| !secret.is_empty() && same_secret(secret.as_bytes(), t.as_bytes());
    match given {
        // Without any token configured, the gateway serves this machine
        // only, as Redis's protected mode does (whatever token a client
        // sends: Upstash's clients always send one).
        _ if token.is_empty() && password.is_empty() && read_only.is_empty() => {
            if peer.ip().is_loopback() {
                Ok(Access::Full)
            } else {
                Err(unauthorized(
                    "ERR no http-token is configured, so the gateway accepts requests from the loopback interface only",
                ))
            }
        }
        Some(t) if matches(token, &t) || matches(password, &t) => Ok(Access::Full),
        Some(t) if matches(read_only, &t) => Ok(Access::ReadOnly),
        None => Err(unauthorized("ERR missing token: send Authorization: Bearer <token>")),
        Some(_) => Err(unauthorized("ERR invalid token")),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

fn query_token(uri: &Uri) -> Option<String> {
    query_pairs(uri).into_iter().find(|(k, _)| k == b"_token").map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
}

/// Compares secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `?a=1&b` as decoded pairs (`b` has an empty value).
fn query_pairs(uri: &Uri) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Some(q) = uri.query() else { return Vec::new() };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

/// How a request wants its replies.
#[derive(Clone, Copy)]
struct Options {
    enc: Encoding,
    resp3: bool,
}

fn options(headers: &HeaderMap) -> Options {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    Options {
        enc: Encoding { base64: header("upstash-encoding").is_some_and(|v| v.eq_ignore_ascii_case("base64")) },
        resp3: header("slotkv-protocol") == Some("3"),
    }
}

/// Why the read-only token may not run `argv`, if it may not: the command
/// table says it writes (its flags, or keys it may change, as EVAL's are),
/// administers the server, or replicates.
fn refused_read_only(argv: &Argv) -> Option<String> {
    let cmd = resolve(&argv.bind(&[])).ok()?;
    let top = cmd.parent.unwrap_or(cmd.spec);
    let denied = flags::WRITE | flags::ADMIN | flags::MAY_REPLICATE;
    let changes_keys = cmd.spec.key_specs.iter().any(|k| k.flags.iter().any(|f| matches!(*f, "RW" | "OW" | "RM")));
    (top.has(denied) || cmd.spec.has(denied) || changes_keys).then(|| {
        format!(
            "NOPERM this token is read-only and cannot run the '{}' command",
            slotkv_core::commands::full_name(cmd.parent, cmd.spec)
        )
    })
}

/// The outcomes of running `commands` in order on one client.
struct Ran {
    outcomes: Vec<Outcome>,
    lossy: bool,
}

impl Gateway {
    /// Runs `commands` one after another on one client, as a pipeline does.
    async fn run(&self, peer: SocketAddr, access: Access, opts: Options, commands: &[Argv]) -> Ran {
        let mut client = HttpClient::new(&self.shared, peer, self.local, opts.resp3);
        let mut ran = Ran { outcomes: Vec::with_capacity(commands.len()), lossy: false };
        let mut out = ReplyBuf::new(opts.resp3);
        for argv in commands {
            if access == Access::ReadOnly {
                if let Some(e) = refused_read_only(argv) {
                    self.metrics.command(argv, true);
                    ran.outcomes.push(Outcome::Error(e));
                    continue;
                }
            }
            out.buf.clear();
            client.run(argv, &mut out).await;
            let mut reader = ReplyReader::new(&out.buf, opts.enc);
            let outcome = reader.next_outcome().unwrap_or_else(|| Outcome::Error("ERR no reply".into()));
            ran.lossy |= reader.lossy;
            self.metrics.command(argv, matches!(outcome, Outcome::Error(_)));
            ran.outcomes.push(outcome);
        }
        ran
    }

    /// Runs `commands` as one transaction (MULTI ... EXEC): one outcome per
    /// command, or the error that aborted it.
    async fn transaction(
        &self,
        peer: SocketAddr,
        access: Access,
        opts: Options,
        commands: &[Argv],
    ) -> Result<Ran, String> {
        if access == Access::ReadOnly {
            if let Some(e) = commands.iter().find_map(refused_read_only) {
                return Err(e);
            }
        }
        let mut client = HttpClient::new(&self.shared, peer, self.local, opts.resp3);
        let mut out = ReplyBuf::new(opts.resp3);
        client.run(&Argv::from_args([&b"MULTI"[..]]), &mut out).await;
        let mut queue_error = None;
        for argv in commands {
            out.buf.clear();
            client.run(argv, &mut out).await;
            if let Some(Outcome::Error(e)) = ReplyReader::new(&out.buf, opts.enc).next_outcome() {
                self.metrics.command(argv, true);
                queue_error.get_or_insert(e);
            }
        }
        out.buf.clear();
        client.run(&Argv::from_args([&b"EXEC"[..]]), &mut out).await;
        let mut reader = ReplyReader::new(&out.buf, opts.enc);
        match reader.next_array() {
            Some(Ok(outcomes)) => {
                for (argv, o) in commands.iter().zip(&outcomes) {
                    self.metrics.command(argv, matches!(o, Outcome::Error(_)));
                }
                Ok(Ran { outcomes, lossy: reader.lossy })
            }
            Some(Err(Outcome::Error(e))) => Err(match queue_error {
                Some(first) => format!("{e} (first error: {first})"),
                None => e,
            }),
            Some(Err(Outcome::Value(_))) => Err("EXECABORT the transaction was aborted".into()),
            _ => Err("ERR no reply".into()),
        }
    }
}

/// One outcome as the response to a single command.
fn single(ran: Ran) -> Response {
    let lossy = ran.lossy;
    let mut resp = match ran.outcomes.into_iter().next() {
        Some(Outcome::Value(v)) => json_response(result_object(&v)),
        Some(Outcome::Error(e)) => error(status_of(&e), e),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "ERR no reply"),
    };
    mark_lossy(&mut resp, lossy);
    resp
}

/// The status of a command's error: 403 for a permission refused, 400 otherwise.
fn status_of(e: &str) -> StatusCode {
    if e.starts_with("NOPERM") {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// `{"result":<json>}`.
fn result_object(json: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(json.len() + 11);
    body.extend_from_slice(b"{\"result\":");
    body.extend_from_slice(json);
    body.push(b'}');
    body
}

/// A 200 response of JSON text.
fn json_response(body: Vec<u8>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// Outcomes as a pipeline's response: each its own `result` or `error`.
fn many(ran: Ran) -> Response {
    let mut body = vec![b'['];
    for (i, o) in ran.outcomes.into_iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        match o {
            Outcome::Value(v) => body.extend_from_slice(&result_object(&v)),
            Outcome::Error(e) => body.extend_from_slice(json!({ "error": e }).to_string().as_bytes()),
        }
    }
    body.push(b']');
    let mut resp = json_response(body);
    mark_lossy(&mut resp, ran.lossy);
    resp
}

fn mark_lossy(resp: &mut Response, lossy: bool) {
    if lossy {
        resp.headers_mut().insert("slotkv-lossy", HeaderValue::from_static("1"));
    }
}

/// The body, or the response that refuses it (too large, unreadable).
fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Refusal> {
    body.map_err(|r| {
        let status = r.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "ERR the request body is larger than http-max-body".to_string()
        } else {
            format!("ERR cannot read the request body: {}", r.body_text())
        };
        Refusal { status, message }
    })
}

fn parse_json(body: &[u8]) -> Result<Value, Refusal> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("ERR the request body is not valid JSON: {e}")))
}

fn argv_of(args: Vec<Vec<u8>>) -> Argv {
    Argv::from_args(args.iter().map(Vec::as_slice))
}

type Args = Vec<Vec<u8>>;
type Body = Result<Bytes, BytesRejection>;

/// What every command endpoint starts from: the gateway, the caller's
/// address, what its token allows, and how it wants replies.
struct Caller {
    gw: Arc<Gateway>,
    peer: SocketAddr,
    access: Access,
    opts: Options,
}

impl FromRequestParts<Arc<Gateway>> for Caller {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, gw: &Arc<Gateway>) -> Result<Self, Refusal> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        // `authorize` records the access of every request it lets through.
        let access = parts.extensions.get::<Access>().copied();
        match (peer, access) {
            (Some(peer), Some(access)) => Ok(Caller { gw: gw.clone(), peer, access, opts: options(&parts.headers) }),
            _ => Err(unauthorized("ERR unauthorized")),
        }
    }
}

impl Caller {
    /// Runs one command; its reply or error is the response.
    async fn one(&self, argv: Argv) -> Response {
        single(self.gw.run(self.peer, self.access, self.opts, &[argv]).await)
    }

    /// Runs `verb target numkeys keys... args...` (EVAL, EVALSHA, FCALL) with
    /// the keys and args of a JSON body.
    async fn call(&self, verb: &[u8], target: &[u8], body: &[u8]) -> Result<Response, Refusal> {
        let (keys, args) = keys_and_args(body)?;
        let numkeys = keys.len().to_string().into_bytes();
        let all: Args = [verb.to_vec(), target.to_vec(), numkeys].into_iter().chain(keys).chain(args).collect();
        Ok(self.one(argv_of(all)).await)
    }
}

/// `POST /`: one command as a JSON array.
async fn command(c: Caller, body: Body) -> Result<Response, Refusal> {
    let v = parse_json(&body_bytes(body)?)?;
    let args = json::command_args(&v).map_err(bad_request)?;
    Ok(c.one(argv_of(args)).await)
}

/// The commands of a pipeline or transaction body: an array of command
/// arrays, all checked before any runs.
fn command_list(body: Body) -> Result<Vec<Argv>, Refusal> {
    let v = parse_json(&body_bytes(body)?)?;
    let Value::Array(commands) = v else {
        return Err(bad_request(format!(
            "ERR the body must be a JSON array of commands, such as [[\"SET\",\"k\",\"v\"]], not {}",
            json::kind_of(&v)
        )));
    };
    if commands.is_empty() {
        return Err(bad_request("ERR the body has no commands"));
    }
    commands
        .iter()
        .enumerate()
        .map(|(i, c)| json::command_args(c).map(argv_of).map_err(|e| bad_request(format!("{e} (command {})", i + 1))))
        .collect()
}

/// `POST /pipeline`: commands in order, each with its own result.
async fn pipeline(c: Caller, body: Body) -> Result<Response, Refusal> {
    let cmds = command_list(body)?;
    Ok(many(c.gw.run(c.peer, c.access, c.opts, &cmds).await))
}

/// `POST /multi-exec`: commands as one transaction.
async fn multi_exec(c: Caller, body: Body) -> Result<Response, Refusal> {
    let cmds = command_list(body)?;
    Ok(match c.gw.transaction(c.peer, c.access, c.opts, &cmds).await {
        Ok(ran) => many(ran),
        Err(e) => error(status_of(&e), e),
    })
}

/// Path style: `/set/k/v?EX=100`; a POST body is the last argument.
async fn path_style(c: Caller, method: Method, uri: Uri, body: Body) -> Result<Response, Refusal> {
    if method != Method::GET && method != Method::POST {
        let message = "ERR path-style commands take GET or POST".to_string();
        return Err(Refusal { status: StatusCode::METHOD_NOT_ALLOWED, message });
    }
    let body = body_bytes(body)?;
    let mut args: Args = uri.path().split('/').filter(|s| !s.is_empty()).map(decode).collect();
    for (k, v) in query_pairs(&uri) {
        if k != b"_token" {
            args.push(k);
            if !v.is_empty() {
                args.push(v);
            }
        }
    }
    if method == Method::POST && !body.is_empty() {
        args.push(body.to_vec());
    }
    Ok(c.one(argv_of(args)).await)
}

/// A known path with a method it does not take.
async fn wrong_method(method: Method, uri: Uri) -> Response {
    let allowed: Vec<&str> =
        api::ENDPOINTS.iter().filter(|e| api::path_matches(e.path, uri.path())).map(|e| e.method).collect();
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("ERR {} {} is not an endpoint; {} takes {}", method, uri.path(), uri.path(), allowed.join(", ")),
    )
}

/// A script call's body: `{"keys": [...], "args": [...]}` (both optional).
fn keys_and_args(body: &[u8]) -> Result<(Args, Args), Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((Vec::new(), Vec::new()));
    }
    let v = parse_json(body)?;
    if !v.is_object() {
        return Err(bad_request(format!(
            "ERR the body must be a JSON object {{\"keys\": [...], \"args\": [...]}}, not {}",
            json::kind_of(&v)
        )));
    }
    let keys = json::string_list(v.get("keys"), "keys").map_err(bad_request)?;
    Ok((keys, json::string_list(v.get("args"), "args").map_err(bad_request)?))
}

/// `POST /scripts`: SCRIPT LOAD of the body; answers the SHA.
async fn script_load(c: Caller, body: Body) -> Result<Response, Refusal> {
    let src = body_bytes(body)?;
    Ok(c.one(argv_of(vec![b"SCRIPT".to_vec(), b"LOAD".to_vec(), src.to_vec()])).await)
}

/// `POST /scripts/{sha}`: EVALSHA with the body's keys and args.
async fn script_run(c: Caller, Path(sha): Path<String>, body: Body) -> Result<Response, Refusal> {
    c.call(b"EVALSHA", sha.as_bytes(), &body_bytes(body)?).await
}

/// `POST /eval`: `{"script": "...", "keys": [...], "args": [...]}` as EVAL.
async fn eval(c: Caller, body: Body) -> Result<Response, Refusal> {
    let bytes = body_bytes(body)?;
    let v = parse_json(&bytes)?;
    let Some(script) = v.get("script").and_then(Value::as_str) else {
        return Err(bad_request("ERR the body must be a JSON object with a \"script\" string"));
    };
    c.call(b"EVAL", script.as_bytes(), &bytes).await
}

/// `GET /functions`: FUNCTION LIST WITHCODE, libraries as objects.
async fn functions_list(mut c: Caller) -> Response {
    c.opts.resp3 = true;
    c.one(argv_of(vec![b"FUNCTION".to_vec(), b"LIST".to_vec(), b"WITHCODE".to_vec()])).await
}

/// `POST /functions[?replace=true]`: FUNCTION LOAD of the body; answers the library name.
async fn functions_load(c: Caller, uri: Uri, body: Body) -> Result<Response, Refusal> {
    let src = body_bytes(body)?;
    let replace = query_pairs(&uri).iter().any(|(k, v)| k == b"replace" && (v == b"true" || v == b"1" || v.is_empty()));
    let mut args = vec![b"FUNCTION".to_vec(), b"LOAD".to_vec()];
    if replace {
        args.push(b"REPLACE".to_vec());
    }
    args.push(src.to_vec());
    Ok(c.one(argv_of(args)).await)
}

/// `POST /functions/{name}`: FCALL with the body's keys and args.
async fn functions_call(c: Caller, Path(name): Path<String>, body: Body) -> Result<Response, Refusal> {
    c.call(b"FCALL", name.as_bytes(), &body_bytes(body)?).await
}

/// `DELETE /functions/{library}`: FUNCTION DELETE.
async fn functions_delete(c: Caller, Path(library): Path<String>) -> Response {
    c.one(argv_of(vec![b"FUNCTION".to_vec(), b"DELETE".to_vec(), library.into_bytes()])).await
}

/// `GET /healthz`.
async fn healthz(State(gw): State<Arc<Gateway>>) -> Response {
    if gw.shared.shutting_down() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "ERR shutting down");
    }
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /metrics`.
async fn metrics_text(State(gw): State<Arc<Gateway>>) -> Response {
    let text = metrics::render(&gw.shared, &gw.metrics);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `GET /openapi.json`.
async fn openapi() -> Response {
    Json(api::document()).into_response()
}

/// `GET /subscribe/{channel}` and `GET /psubscribe/{pattern}` (also POST):
/// messages as Server-Sent Events, `message,<channel>,<payload>` as Upstash
/// sends them. Event data is text, never base64 (Upstash's clients read it
/// as it is).
async fn subscribe(c: Caller, command: &[u8], target: String) -> Response {
    let gw = c.gw;
    let mut client = HttpClient::new(&gw.shared, c.peer, gw.local, false);
    let mut out = ReplyBuf::new(false);
    client.run(&argv_of(vec![command.to_vec(), target.clone().into_bytes()]), &mut out).await;
    if let Some(Outcome::Error(e)) = ReplyReader::new(&out.buf, Encoding::default()).next_outcome() {
        return error(StatusCode::BAD_REQUEST, e);
    }
    let kind = if command == b"PSUBSCRIBE" { "psubscribe" } else { "subscribe" };
    let first = Event::default().data(format!("{kind},{target},1"));
    let stop = gw.shared.shutdown_signal();
    let stream =
        futures_util::stream::unfold((client, stop, Some(first)), |(mut client, mut stop, first)| async move {
            if let Some(e) = first {
                return Some((Ok::<_, std::convert::Infallible>(e), (client, stop, None)));
            }
            let d = tokio::select! {
                d = client.messages.recv() => d?,
                _ = client.info.kill.notified() => return None,
                _ = stop.wait_for(|v| *v) => return None,
            };
            client.info.queued.fetch_sub(d.size(), Ordering::Relaxed);
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let data = match &d.pattern {
                Some(p) => format!("pmessage,{},{},{}", text(p), text(&d.channel), text(&d.payload)),
                None => format!("message,{},{}", text(&d.channel), text(&d.payload)),
            };
            Some((Ok(Event::default().data(data)), (client, stop, None)))
        });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

async fn subscribe_channel(c: Caller, Path(channel): Path<String>) -> Response {
    subscribe(c, b"SUBSCRIBE", channel).await
}

async fn subscribe_pattern(c: Caller, Path(pattern): Path<String>) -> Response {
    subscribe(c, b"PSUBSCRIBE", pattern).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"x"));
    }

    #[test]
    fn query_pairs_decode() {
        let uri: Uri = "/set/k/v?EX=100&NX&_token=a%20b".parse().unwrap();
        assert_eq!(
            query_pairs(&uri),
            vec![(b"EX".to_vec(), b"100".to_vec()), (b"NX".to_vec(), vec![]), (b"_token".to_vec(), b"a b".to_vec())]
        );
        assert_eq!(query_token(&uri).as_deref(), Some("a b"));
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
        assert_eq!(bearer(&h).as_deref(), Some("s3cret"));
        h.insert("authorization", HeaderValue::from_static("Basic s3cret"));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn read_only_refuses_writes_and_admin() {
        let argv = |a: &[&str]| Argv::from_args(a.iter().map(|s| s.as_bytes()));
        assert_eq!(refused_read_only(&argv(&["GET", "k"])), None);
        assert_eq!(refused_read_only(&argv(&["EVAL_RO", "return 1", "0"])), None);
        assert!(refused_read_only(&argv(&["SET", "k", "v"])).unwrap().contains("'set'"));
        assert!(refused_read_only(&argv(&["EVAL", "return 1", "0"])).is_some());
        assert!(refused_read_only(&argv(&["CONFIG", "SET", "x", "y"])).unwrap().contains("'config|set'"));
        assert!(refused_read_only(&argv(&["FLUSHALL"])).is_some());
        // Unknown commands get their own error when they run.
        assert_eq!(refused_read_only(&argv(&["NOPE"])), None);
    }
}
