//! The HTTP/JSON gateway: Redis over HTTP for code that cannot hold a TCP
//! connection, following the Upstash REST convention so its clients work
//! unchanged. Every request runs its commands through the same command table,
//! shards and scripts as a RESP connection; nothing here implements a command.
//!
//! # Layout
//! - [`api`]: the endpoint table that drives both routing and the OpenAPI document
//! - `auth`: tokens, what they allow, and the per-request layer that checks them
//! - `handlers`: one function per endpoint
//! - [`session`]: one request as a short-lived client of the server
//! - [`json`]: RESP replies read back as JSON, JSON requests as arguments
//! - [`metrics`]: `GET /metrics` in Prometheus text format

pub mod api;
mod auth;
mod handlers;
pub mod json;
pub mod metrics;
pub mod playground;
pub mod session;

use crate::server::Shared;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use json::{Encoding, Outcome, ReplyReader};
use serde_json::{json, Value};
use session::HttpClient;
use slotkv_core::{Argv, ReplyBuf};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The gateway's shared state.
pub struct Gateway {
    shared: Arc<Shared>,
    /// The address requests arrive at (CLIENT LIST's laddr).
    local: SocketAddr,
    /// Requests, statuses and latencies.
    pub metrics: metrics::HttpMetrics,
    /// Where the playground's built files are.
    playground: std::path::PathBuf,
}

/// What a request's token lets it do.
#[derive(Clone, Debug)]
pub enum Access {
    /// Every command.
    Full,
    /// Commands that neither write nor administer (`http-readonly-token`).
    ReadOnly,
    /// What an ACL user may do (a `username:password` token).
    User(Arc<slotkv_core::acl::AclUser>),
}

impl Access {
    /// The ACL user the request acts as, if its token named one.
    pub fn user(&self) -> Option<Arc<slotkv_core::acl::AclUser>> {
        match self {
            Access::User(u) => Some(u.clone()),
            _ => None,
        }
    }
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
    let playground = playground::directory(&shared.config.read().unwrap_or_else(|p| p.into_inner()));
    let gateway = Arc::new(Gateway { shared: shared.clone(), local, metrics: Default::default(), playground });
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
        .fallback(handlers::path_style)
        .method_not_allowed_fallback(handlers::wrong_method)
        .layer(axum::middleware::from_fn_with_state(gateway.clone(), auth::authorize))
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

/// The outcomes of running `commands` in order on one client.
struct Ran {
    outcomes: Vec<Outcome>,
    lossy: bool,
}

impl Gateway {
    /// Runs `commands` one after another on one client, as a pipeline does.
    async fn run(&self, peer: SocketAddr, access: &Access, opts: Options, commands: &[Argv]) -> Ran {
        let mut client = HttpClient::new(&self.shared, peer, self.local, opts.resp3, access.user());
        let mut ran = Ran { outcomes: Vec::with_capacity(commands.len()), lossy: false };
        let mut out = ReplyBuf::new(opts.resp3);
        for argv in commands {
            if matches!(access, Access::ReadOnly) {
                if let Some(e) = auth::refused_read_only(argv) {
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
        access: &Access,
        opts: Options,
        commands: &[Argv],
    ) -> Result<Ran, String> {
        if matches!(access, Access::ReadOnly) {
            if let Some(e) = commands.iter().find_map(auth::refused_read_only) {
                return Err(e);
            }
        }
        let mut client = HttpClient::new(&self.shared, peer, self.local, opts.resp3, access.user());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_decode() {
        let uri: Uri = "/set/k/v?EX=100&NX&_token=a%20b".parse().unwrap();
        assert_eq!(
            query_pairs(&uri),
            vec![(b"EX".to_vec(), b"100".to_vec()), (b"NX".to_vec(), vec![]), (b"_token".to_vec(), b"a b".to_vec())]
        );
        assert_eq!(auth::query_token(&uri).as_deref(), Some("a b"));
    }
}
