//! slotkv-guest: what a script module written in Rust needs. The bindings of
//! the `slotkv:script` world (wit/script.wit), a [`Reply`] tree in place of
//! the world's flat node list, and `call`/`pcall` that take `&[&[u8]]`.
//!
//! A module implements [`Guest`] (`describe` and `invoke`) and exports it with
//! `slotkv_guest::export_module!(MyModule);`.

/// The generated bindings of the world.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "script-module",
        default_bindings_module: "slotkv_guest::bindings",
        pub_export_macro: true,
        export_macro_name: "export_module",
    });
}

pub use bindings::slotkv::script::host::{self, Function, Level, Node};
pub use bindings::{export_module, Guest};

/// A reply as a tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// No value.
    Nil,
    /// A status, such as `OK`.
    Status(String),
    /// An error, code first.
    Error(String),
    /// An integer.
    Int(i64),
    /// A double.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// A byte string.
    Bulk(Vec<u8>),
    /// An array.
    Array(Vec<Reply>),
    /// A map.
    Map(Vec<(Reply, Reply)>),
    /// A set.
    Set(Vec<Reply>),
}

impl Reply {
    /// Rebuilds a reply from the host's pre-order nodes.
    pub fn from_nodes(nodes: &[Node]) -> Reply {
        fn take(nodes: &[Node], at: &mut usize) -> Reply {
            let Some(node) = nodes.get(*at) else { return Reply::Nil };
            *at += 1;
            let many = |n: u32, at: &mut usize| (0..n).map(|_| take(nodes, at)).collect::<Vec<_>>();
            match node {
                Node::Nil => Reply::Nil,
                Node::Status(s) => Reply::Status(s.clone()),
                Node::Error(e) => Reply::Error(e.clone()),
                Node::Integer(n) => Reply::Int(*n),
                Node::Double(d) => Reply::Double(*d),
                Node::Boolean(b) => Reply::Bool(*b),
                Node::Bulk(b) => Reply::Bulk(b.clone()),
                Node::Array(n) => Reply::Array(many(*n, at)),
                Node::Set(n) => Reply::Set(many(*n, at)),
                Node::Map(n) => {
                    let mut pairs = Vec::new();
                    for _ in 0..*n {
                        let k = take(nodes, at);
                        pairs.push((k, take(nodes, at)));
                    }
                    Reply::Map(pairs)
                }
            }
        }
        take(nodes, &mut 0)
    }

    /// The reply as the host takes it back: nodes in pre-order.
    pub fn into_nodes(self) -> Vec<Node> {
        fn put(r: Reply, out: &mut Vec<Node>) {
            match r {
                Reply::Nil => out.push(Node::Nil),
                Reply::Status(s) => out.push(Node::Status(s)),
                Reply::Error(e) => out.push(Node::Error(e)),
                Reply::Int(n) => out.push(Node::Integer(n)),
                Reply::Double(d) => out.push(Node::Double(d)),
                Reply::Bool(b) => out.push(Node::Boolean(b)),
                Reply::Bulk(b) => out.push(Node::Bulk(b)),
                Reply::Array(v) => {
                    out.push(Node::Array(v.len() as u32));
                    v.into_iter().for_each(|r| put(r, out));
                }
                Reply::Set(v) => {
                    out.push(Node::Set(v.len() as u32));
                    v.into_iter().for_each(|r| put(r, out));
                }
                Reply::Map(v) => {
                    out.push(Node::Map(v.len() as u32));
                    for (k, val) in v {
                        put(k, out);
                        put(val, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        put(self, &mut out);
        out
    }

    /// The bytes of a string reply.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(b) => Some(b),
            Reply::Status(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The value of an integer reply, or of a string that holds one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Int(n) => Some(*n),
            other => std::str::from_utf8(other.as_bytes()?).ok()?.parse().ok(),
        }
    }
}

impl From<&str> for Reply {
    fn from(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }
}

fn command(args: &[&[u8]]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.to_vec()).collect()
}

/// Runs a command as `redis.call`: an error reply is `Err` with its text.
pub fn call(args: &[&[u8]]) -> Result<Reply, String> {
    host::call(&command(args)).map(|n| Reply::from_nodes(&n))
}

/// Runs a command as `redis.pcall`: an error reply is a [`Reply::Error`].
pub fn pcall(args: &[&[u8]]) -> Reply {
    Reply::from_nodes(&host::pcall(&command(args)))
}

/// Declares a function for `describe`.
pub fn function(name: &str, flags: &[&str]) -> Function {
    Function { name: name.into(), flags: flags.iter().map(|f| f.to_string()).collect() }
}
