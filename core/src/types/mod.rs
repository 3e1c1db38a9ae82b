//! The values keys hold. One file per data type; [`Value`] is the sum of them.

pub mod hash;

pub use hash::HashValue;

use crate::bytestring::ByteString;

/// The value of one key.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string (also integers and floats, which Redis stores as strings).
    Str(ByteString),
    /// A hash of fields to values.
    Hash(Box<HashValue>),
}

impl Value {
    /// The name `TYPE` answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
        }
    }

    /// The encoding `OBJECT ENCODING` answers, following Redis's rules.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => {
                if s.len() <= 20 && crate::numeric::parse_i64(s).is_some() {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::Hash(h) => h.encoding(),
        }
    }
}
