//! The browser playground's files, served by the gateway: the page at `/`
//! and its scripts, styles and WebAssembly at `/playground/{file}`. The files
//! are built by `web/build.sh` into `web/dist/` (or the directory
//! `playground-dir` names); until then `/` says how to build them.

use super::Gateway;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the built page is: `playground-dir`, or `web/dist` of the checkout
/// this binary was built from.
pub fn directory(config: &crate::Config) -> PathBuf {
    match config.get("playground-dir") {
        "" => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/dist")),
        dir => PathBuf::from(dir),
    }
}

/// `GET /`: the page.
pub(super) async fn page(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    match serve(&gw.playground, "index.html", &headers).await {
        Some(resp) => resp,
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
            format!(
                "<!doctype html><title>slotkv</title><h1>slotkv</h1>\
                 <p>The HTTP/JSON gateway is running (see <a href=\"/openapi.json\">/openapi.json</a>).</p>\
                 <p>The playground is not built: run <code>web/build.sh</code> in the slotkv checkout \
                 (it writes <code>web/dist/</code>), or start the server with \
                 <code>--playground-dir</code> naming a built copy. Looked in <code>{}</code>.</p>\n",
                html_escape(&gw.playground.display().to_string())
            ),
        )
            .into_response(),
    }
}

/// `GET /playground/{file}`: one of the page's files.
pub(super) async fn file(State(gw): State<Arc<Gateway>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    match serve(&gw.playground, &name, &headers).await {
        Some(resp) => resp,
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}

/// Reads `name` from `dir`, its `.gz` twin when the client takes gzip. Names
/// are single path segments of safe characters: nothing outside `dir` can
/// be reached.
async fn serve(dir: &std::path::Path, name: &str, headers: &HeaderMap) -> Option<Response> {
    let safe = !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !safe {
        return None;
    }
    let content_type = content_type(name)?;
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let path = dir.join(name);
    let (body, encoding) = match gzip {
        true => match tokio::fs::read(dir.join(format!("{name}.gz"))).await {
            Ok(b) => (b, Some("gzip")),
            Err(_) => (tokio::fs::read(&path).await.ok()?, None),
        },
        false => (tokio::fs::read(&path).await.ok()?, None),
    };
    let mut resp = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Rebuilt pages are picked up at once; loopback makes revalidation cheap.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        body,
    )
        .into_response();
    if let Some(e) = encoding {
        resp.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    Some(resp)
}

fn content_type(name: &str) -> Option<&'static str> {
    Some(match name.rsplit_once('.')?.1 {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "ico" => "image/x-icon",
        "lua" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_only_plain_names_inside_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), "ok").unwrap();
        std::fs::write(dir.path().join("app.js.gz"), "zipped").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        let plain = HeaderMap::new();
        let mut gz = HeaderMap::new();
        gz.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br, gzip"));
        let body = |r: Response| async move {
            let enc = r.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_string());
            let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            (String::from_utf8(b.to_vec()).unwrap(), enc)
        };
        assert_eq!(body(serve(dir.path(), "app.js", &plain).await.unwrap()).await, ("ok".into(), None));
        assert_eq!(body(serve(dir.path(), "app.js", &gz).await.unwrap()).await, ("zipped".into(), Some("gzip".into())));
        for bad in ["secret.txt", "../app.js", "..", ".hidden.js", "a/b.js", "", "missing.js"] {
            assert!(serve(dir.path(), bad, &plain).await.is_none(), "{bad}");
        }
    }
}
