//! The values keys hold. One file per data type; [`Value`] is the sum of them.

pub mod hash;
pub mod set;
pub mod stream;
pub mod zset;

pub use hash::HashValue;
pub use set::SetValue;
pub use stream::StreamValue;
pub use zset::ZSetValue;

/// A list: a double-ended queue of byte strings.
pub type ListValue = std::collections::VecDeque<ByteString>;

use crate::bytestring::ByteString;

/// The value of one key.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string (also integers and floats, which Redis stores as strings).
    Str(ByteString),
    /// A hash of fields to values.
    Hash(Box<HashValue>),
    /// A list.
    List(Box<ListValue>),
    /// A set.
    Set(Box<SetValue>),
    /// A sorted set.
    ZSet(Box<ZSetValue>),
    /// A stream.
    Stream(Box<StreamValue>),
}

impl Value {
    /// True for a collection with no element left (which is then deleted).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::Hash(h) => h.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            // A stream stays when empty: its last id and groups matter.
            Value::Stream(_) => false,
        }
    }

    /// The name `TYPE` answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
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
            // Redis 7.0 keeps every list in a quicklist.
            Value::List(_) => "quicklist",
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }
}

/// A data type a key can hold, as seen through [`Value`]: lets one generic
/// lookup serve every type, with WRONGTYPE when the key holds another.
pub trait Kind {
    /// The value as this type, if it is one.
    fn of(v: &Value) -> Option<&Self>;
    /// The value as this type, mutably, if it is one.
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
}

macro_rules! kind {
    ($t:ty, $variant:ident) => {
        impl Kind for $t {
            #[inline]
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            #[inline]
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}

kind!(ByteString, Str);
kind!(HashValue, Hash);
kind!(ListValue, List);
kind!(SetValue, Set);
kind!(ZSetValue, ZSet);
kind!(StreamValue, Stream);
