//! One function per endpoint of [`super::api::ENDPOINTS`]: each turns its
//! request into command arguments and its outcome into a response.

use super::json::{self, Encoding, Outcome, ReplyReader};
use super::session::HttpClient;
use super::{
    api, argv_of, bad_request, body_bytes, decode, error, many, metrics, options, parse_json, query_pairs, single,
    status_of, unauthorized, Access, Gateway, Options, Refusal,
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use slotkv_core::{Argv, ReplyBuf};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

type Args = Vec<Vec<u8>>;
type Body = Result<Bytes, BytesRejection>;

/// What every command endpoint starts from: the gateway, the caller's
/// address, what its token allows, and how it wants replies.
pub(super) struct Caller {
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
        let access = parts.extensions.get::<Access>().cloned();
        match (peer, access) {
            (Some(peer), Some(access)) => Ok(Caller { gw: gw.clone(), peer, access, opts: options(&parts.headers) }),
            _ => Err(unauthorized("ERR unauthorized")),
        }
    }
}

impl Caller {
    /// Runs one command; its reply or error is the response.
    async fn one(&self, argv: Argv) -> Response {
        single(self.gw.run(self.peer, &self.access, self.opts, &[argv]).await)
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
pub(super) async fn command(c: Caller, body: Body) -> Result<Response, Refusal> {
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
pub(super) async fn pipeline(c: Caller, body: Body) -> Result<Response, Refusal> {
    let cmds = command_list(body)?;
    Ok(many(c.gw.run(c.peer, &c.access, c.opts, &cmds).await))
}

/// `POST /multi-exec`: commands as one transaction.
pub(super) async fn multi_exec(c: Caller, body: Body) -> Result<Response, Refusal> {
    let cmds = command_list(body)?;
    Ok(match c.gw.transaction(c.peer, &c.access, c.opts, &cmds).await {
        Ok(ran) => many(ran),
        Err(e) => error(status_of(&e), e),
    })
}

/// Path style: `/set/k/v?EX=100`; a POST body is the last argument.
pub(super) async fn path_style(c: Caller, method: Method, uri: Uri, body: Body) -> Result<Response, Refusal> {
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
pub(super) async fn wrong_method(method: Method, uri: Uri) -> Response {
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
pub(super) async fn script_load(c: Caller, body: Body) -> Result<Response, Refusal> {
    let src = body_bytes(body)?;
    Ok(c.one(argv_of(vec![b"SCRIPT".to_vec(), b"LOAD".to_vec(), src.to_vec()])).await)
}

/// `POST /scripts/{sha}`: EVALSHA with the body's keys and args.
pub(super) async fn script_run(c: Caller, Path(sha): Path<String>, body: Body) -> Result<Response, Refusal> {
    c.call(b"EVALSHA", sha.as_bytes(), &body_bytes(body)?).await
}

/// `POST /eval`: `{"script": "...", "keys": [...], "args": [...]}` as EVAL.
pub(super) async fn eval(c: Caller, body: Body) -> Result<Response, Refusal> {
    let bytes = body_bytes(body)?;
    let v = parse_json(&bytes)?;
    let Some(script) = v.get("script").and_then(Value::as_str) else {
        return Err(bad_request("ERR the body must be a JSON object with a \"script\" string"));
    };
    c.call(b"EVAL", script.as_bytes(), &bytes).await
}

/// `GET /functions`: FUNCTION LIST WITHCODE, libraries as objects.
pub(super) async fn functions_list(mut c: Caller) -> Response {
    c.opts.resp3 = true;
    c.one(argv_of(vec![b"FUNCTION".to_vec(), b"LIST".to_vec(), b"WITHCODE".to_vec()])).await
}

/// `POST /functions[?replace=true]`: FUNCTION LOAD of the body; answers the library name.
pub(super) async fn functions_load(c: Caller, uri: Uri, body: Body) -> Result<Response, Refusal> {
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
pub(super) async fn functions_call(c: Caller, Path(name): Path<String>, body: Body) -> Result<Response, Refusal> {
    c.call(b"FCALL", name.as_bytes(), &body_bytes(body)?).await
}

/// `DELETE /functions/{library}`: FUNCTION DELETE.
pub(super) async fn functions_delete(c: Caller, Path(library): Path<String>) -> Response {
    c.one(argv_of(vec![b"FUNCTION".to_vec(), b"DELETE".to_vec(), library.into_bytes()])).await
}

/// `GET /healthz`.
pub(super) async fn healthz(State(gw): State<Arc<Gateway>>) -> Response {
    if gw.shared.shutting_down() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "ERR shutting down");
    }
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /metrics`.
pub(super) async fn metrics_text(State(gw): State<Arc<Gateway>>) -> Response {
    let text = metrics::render(&gw.shared, &gw.metrics);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `GET /openapi.json`.
pub(super) async fn openapi() -> Response {
    Json(api::document()).into_response()
}

/// `GET /subscribe/{channel}` and `GET /psubscribe/{pattern}` (also POST):
/// messages as Server-Sent Events, `message,<channel>,<payload>` as Upstash
/// sends them. Event data is text, never base64 (Upstash's clients read it
/// as it is).
async fn subscribe(c: Caller, command: &[u8], target: String) -> Response {
    let gw = c.gw;
    let mut client = HttpClient::new(&gw.shared, c.peer, gw.local, false, c.access.user());
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

pub(super) async fn subscribe_channel(c: Caller, Path(channel): Path<String>) -> Response {
    subscribe(c, b"SUBSCRIBE", channel).await
}

pub(super) async fn subscribe_pattern(c: Caller, Path(pattern): Path<String>) -> Response {
    subscribe(c, b"PSUBSCRIBE", pattern).await
}
