//! Tokens: which one a request carries, what it allows (full or read-only,
//! decided from the command table's flags), and the layer that checks it
//! before anything runs and counts every response.

use super::{api, query_pairs, unauthorized, Access, Gateway, Refusal};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use slotkv_core::commands::flags;
use slotkv_core::{resolve, Argv};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Checks the token (`Authorization: Bearer` or `?_token=`) before anything
/// runs and records what it allows; counts every response by status and
/// its latency. (One layer: each layer costs a boxed future per request.)
pub(super) async fn authorize(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let resp = if api::is_public(req.method().as_str(), req.uri().path()) {
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
    // `username:password` acts as that ACL user, with its permissions.
    let as_user = |t: &str| {
        let (user, pass) = t.split_once(':')?;
        gw.shared.acl.read().unwrap_or_else(|p| p.into_inner()).authenticate(user.as_bytes(), pass.as_bytes())
    };
    if let Some(t) = given.as_deref().filter(|t| !matches(token, t) && !matches(read_only, t)) {
        if let Some(u) = as_user(t) {
            return Ok(Access::User(u));
        }
    }
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

pub(super) fn query_token(uri: &Uri) -> Option<String> {
    query_pairs(uri).into_iter().find(|(k, _)| k == b"_token").map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
}

/// Compares secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why the read-only token may not run `argv`, if it may not: the command
/// table says it writes (its flags, or keys it may change, as EVAL's are),
/// administers the server, or replicates.
pub(super) fn refused_read_only(argv: &Argv) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"x"));
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
