//! The gateway's endpoints, declared once: the router is built from this
//! table and so is the OpenAPI 3.1 document, so the two cannot drift apart.

use super::Gateway;
use axum::routing::{delete, get, post, MethodRouter};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// What an endpoint's request body is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    /// None.
    Empty,
    /// A JSON array of strings and numbers: one command.
    Command,
    /// A JSON array of commands.
    Commands,
    /// Lua source (text).
    Source,
    /// `{"keys": [...], "args": [...]}`.
    KeysArgs,
    /// `{"script": "...", "keys": [...], "args": [...]}`.
    Script,
    /// Any bytes: the last argument of a path-style command.
    Value,
}

/// What an endpoint answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ResponseBody {
    /// `{"result": ...}` or `{"error": "..."}`.
    Result,
    /// An array of `{"result"}` / `{"error"}` objects.
    Results,
    /// `text/event-stream`.
    Events,
    /// Prometheus text.
    Metrics,
    /// A JSON document.
    Document,
    /// A file of the playground page (HTML, JavaScript, CSS, WebAssembly).
    Page,
}

/// One endpoint.
pub struct Endpoint {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The path, with `{name}` parameters.
    pub path: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Its request body.
    pub body: RequestBody,
    /// Its response.
    pub response: ResponseBody,
    /// False for endpoints anyone may call.
    pub auth: bool,
}

const fn ep(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: RequestBody,
    response: ResponseBody,
    auth: bool,
) -> Endpoint {
    Endpoint { method, path, summary, body, response, auth }
}

use RequestBody as Rq;
use ResponseBody as Rs;

/// Every endpoint. `/{command}` stands for the path-style commands the
/// router answers for every path not listed here.
pub const ENDPOINTS: &[Endpoint] = &[
    ep(
        "POST",
        "/",
        "Run one command given as a JSON array, such as [\"SET\",\"k\",\"v\"]",
        Rq::Command,
        Rs::Result,
        true,
    ),
    ep(
        "POST",
        "/pipeline",
        "Run commands in order; each answers its own result or error",
        Rq::Commands,
        Rs::Results,
        true,
    ),
    ep("POST", "/multi-exec", "Run commands as one transaction (MULTI ... EXEC)", Rq::Commands, Rs::Results, true),
    ep("POST", "/scripts", "Store a Lua script (SCRIPT LOAD); answers its SHA1", Rq::Source, Rs::Result, true),
    ep("POST", "/scripts/{sha}", "Run a stored script (EVALSHA) with keys and args", Rq::KeysArgs, Rs::Result, true),
    ep("POST", "/eval", "Run a one-off Lua script (EVAL)", Rq::Script, Rs::Result, true),
    ep(
        "GET",
        "/functions",
        "List function libraries with their code (FUNCTION LIST WITHCODE)",
        Rq::Empty,
        Rs::Result,
        true,
    ),
    ep(
        "POST",
        "/functions",
        "Load a function library (FUNCTION LOAD; ?replace=true replaces it)",
        Rq::Source,
        Rs::Result,
        true,
    ),
    ep("POST", "/functions/{name}", "Call a function (FCALL) with keys and args", Rq::KeysArgs, Rs::Result, true),
    ep("DELETE", "/functions/{name}", "Delete a function library (FUNCTION DELETE)", Rq::Empty, Rs::Result, true),
    ep(
        "GET",
        "/subscribe/{channel}",
        "Receive a channel's messages as Server-Sent Events",
        Rq::Empty,
        Rs::Events,
        true,
    ),
    ep(
        "GET",
        "/psubscribe/{pattern}",
        "Receive messages of channels matching a pattern as Server-Sent Events",
        Rq::Empty,
        Rs::Events,
        true,
    ),
    ep("POST", "/subscribe/{channel}", "The same, as @upstash/redis asks for it", Rq::Empty, Rs::Events, true),
    ep("POST", "/psubscribe/{pattern}", "The same, as @upstash/redis asks for it", Rq::Empty, Rs::Events, true),
    ep("GET", "/healthz", "Liveness: 200 while the server runs", Rq::Empty, Rs::Document, false),
    ep("GET", "/metrics", "Counters and gauges in Prometheus text format", Rq::Empty, Rs::Metrics, true),
    ep("GET", "/openapi.json", "This document", Rq::Empty, Rs::Document, false),
    ep("GET", "/", "The playground: slotkv running in the browser (built by web/build.sh)", Rq::Empty, Rs::Page, false),
    ep("GET", "/playground/{file}", "A file of the playground page", Rq::Empty, Rs::Page, false),
    ep("GET", "/{command}", "Path style: /set/k/v?EX=100 runs SET k v EX 100", Rq::Empty, Rs::Result, true),
    ep("POST", "/{command}", "Path style with the body as the last argument: POST /set/k", Rq::Value, Rs::Result, true),
];

/// The route for `e`, or `None` for the path-style entries (the fallback).
pub fn method_router(e: &Endpoint) -> Option<MethodRouter<Arc<Gateway>>> {
    use super::handlers::*;
    Some(match (e.method, e.path) {
        ("POST", "/") => post(command),
        ("POST", "/pipeline") => post(pipeline),
        ("POST", "/multi-exec") => post(multi_exec),
        ("POST", "/scripts") => post(script_load),
        ("POST", "/scripts/{sha}") => post(script_run),
        ("POST", "/eval") => post(eval),
        ("GET", "/functions") => get(functions_list),
        ("POST", "/functions") => post(functions_load),
        ("POST", "/functions/{name}") => post(functions_call),
        ("DELETE", "/functions/{name}") => delete(functions_delete),
        ("GET", "/subscribe/{channel}") => get(subscribe_channel),
        ("POST", "/subscribe/{channel}") => post(subscribe_channel),
        ("GET", "/psubscribe/{pattern}") => get(subscribe_pattern),
        ("POST", "/psubscribe/{pattern}") => post(subscribe_pattern),
        ("GET", "/healthz") => get(healthz),
        ("GET", "/metrics") => get(metrics_text),
        ("GET", "/openapi.json") => get(openapi),
        ("GET", "/") => get(super::playground::page),
        ("GET", "/playground/{file}") => get(super::playground::file),
        _ => return None,
    })
}

/// True if `path` is an instance of the template `template` (`{name}`
/// matches one segment).
pub fn path_matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts == ps || (ts.starts_with('{') && !ps.is_empty()) => {}
            _ => return false,
        }
    }
}

/// True for requests that need no token: `GET /` is the page, `POST /` a command.
pub fn is_public(method: &str, path: &str) -> bool {
    ENDPOINTS.iter().any(|e| !e.auth && e.method == method && path_matches(e.path, path))
}

/// The OpenAPI 3.1 document of [`ENDPOINTS`].
pub fn document() -> Value {
    let mut paths = Map::new();
    for e in ENDPOINTS {
        let entry = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        entry[e.method.to_ascii_lowercase()] = operation(e);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "slotkv HTTP/JSON gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Redis commands over HTTP, compatible with the Upstash REST convention. \
                Strings are base64 when the request sends `Upstash-Encoding: base64`; \
                `Slotkv-Protocol: 3` answers with RESP3 types (maps as objects, sets as arrays, doubles as numbers)."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "token": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "http-token, http-readonly-token, requirepass, or username:password of an ACL user" },
                "token": { "type": "apiKey", "in": "query", "name": "_token" }
            },
            "schemas": schemas(),
            "responses": {
                "Error": {
                    "description": "The command's error, a malformed request (400), a missing or wrong token (401), a read-only token (403 for NOPERM) or a body over http-max-body (413)",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                }
            }
        }
    })
}

fn operation(e: &Endpoint) -> Value {
    let mut op = json!({
        "summary": e.summary,
        "operationId": operation_id(e),
        "responses": {
            "200": response(e.response),
            "400": { "$ref": "#/components/responses/Error" },
            "401": { "$ref": "#/components/responses/Error" },
        }
    });
    if !e.auth {
        op["security"] = json!([]);
    }
    let params: Vec<Value> = e
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if !params.is_empty() {
        op["parameters"] = Value::Array(params);
    }
    if let Some(body) = request(e.body) {
        op["requestBody"] = body;
    }
    op
}

fn operation_id(e: &Endpoint) -> String {
    let mut id = e.method.to_ascii_lowercase();
    for part in e.path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        id.push('_');
        id.push_str(part);
    }
    if e.path == "/" {
        id.push_str(if e.method == "GET" { "_playground" } else { "_run" });
    }
    id
}

fn json_schema(name: &str) -> Value {
    json!({ "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } } })
}

fn request(body: RequestBody) -> Option<Value> {
    let mut v = match body {
        Rq::Empty => return None,
        Rq::Command => json_schema("Command"),
        Rq::Commands => json_schema("Commands"),
        Rq::KeysArgs => json_schema("KeysArgs"),
        Rq::Script => json_schema("Script"),
        Rq::Source => json!({ "content": { "text/plain": { "schema": { "type": "string" } } } }),
        Rq::Value => json!({ "content": { "application/octet-stream": { "schema": { "type": "string" } } } }),
    };
    v["required"] = json!(body != Rq::KeysArgs && body != Rq::Value);
    Some(v)
}

fn response(body: ResponseBody) -> Value {
    let (description, content) = match body {
        Rs::Result => ("The command's reply", json_schema("Result")["content"].clone()),
        Rs::Results => ("One result or error per command", json_schema("Results")["content"].clone()),
        Rs::Events => (
            "Lines `data: message,<channel>,<payload>` as messages arrive",
            json!({ "text/event-stream": { "schema": { "type": "string" } } }),
        ),
        Rs::Metrics => {
            ("Prometheus text exposition format", json!({ "text/plain": { "schema": { "type": "string" } } }))
        }
        Rs::Document => ("A JSON document", json!({ "application/json": { "schema": { "type": "object" } } })),
        Rs::Page => (
            "The file, or 404 until web/build.sh has built the page",
            json!({ "text/html": { "schema": { "type": "string" } } }),
        ),
    };
    json!({ "description": description, "content": content })
}

fn schemas() -> Value {
    let argument = json!({ "type": ["string", "number"] });
    json!({
        "Command": { "type": "array", "items": argument, "minItems": 1, "examples": [["SET", "k", "v", "EX", 100]] },
        "Commands": { "type": "array", "items": { "$ref": "#/components/schemas/Command" }, "minItems": 1 },
        "KeysArgs": {
            "type": "object",
            "properties": { "keys": { "type": "array", "items": argument }, "args": { "type": "array", "items": argument } }
        },
        "Script": {
            "type": "object",
            "required": ["script"],
            "properties": {
                "script": { "type": "string" },
                "keys": { "type": "array", "items": argument },
                "args": { "type": "array", "items": argument }
            }
        },
        "Result": {
            "type": "object",
            "properties": { "result": {}, "error": { "type": "string" } },
            "description": "Integers are numbers, strings are strings, nil is null, arrays are arrays"
        },
        "Results": { "type": "array", "items": { "$ref": "#/components/schemas/Result" } },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": { "type": "string", "description": "Redis's error text, such as ERR unknown command ..." },
                "limit": { "type": "string", "description": "The script limit that stopped the script: lua-step-budget or lua-memory-limit" }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_routed_or_path_style() {
        for e in ENDPOINTS {
            assert!(method_router(e).is_some() || e.path == "/{command}", "{} {} has no handler", e.method, e.path);
        }
    }

    #[test]
    fn document_lists_every_endpoint_once() {
        let doc = document();
        let mut ids = std::collections::HashSet::new();
        for e in ENDPOINTS {
            let op = &doc["paths"][e.path][e.method.to_ascii_lowercase()];
            assert!(op.is_object(), "{} {}", e.method, e.path);
            assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()), "duplicate id for {}", e.path);
        }
        assert!(is_public("GET", "/healthz") && !is_public("GET", "/metrics") && !is_public("POST", "/"));
        assert!(is_public("GET", "/") && is_public("GET", "/playground/app.js"));
        assert!(!is_public("GET", "/get/k") && !is_public("POST", "/playground/app.js"));
        assert!(path_matches("/subscribe/{channel}", "/subscribe/news"));
        assert!(!path_matches("/subscribe/{channel}", "/subscribe/"));
        assert!(!path_matches("/subscribe/{channel}", "/subscribe/a/b"));
        assert!(path_matches("/", "/") && !path_matches("/", "/x"));
    }
}
