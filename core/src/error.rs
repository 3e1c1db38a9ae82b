//! [`CmdError`]: every error a command can answer, mapped to the exact text Redis
//! sends, so clients that match on error prefixes behave the same.

use std::borrow::Cow;
use std::fmt;

/// An error reply from a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmdError {
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`
    WrongType,
    /// `ERR value is not an integer or out of range`
    NotInteger,
    /// `ERR value is not a valid float`
    NotFloat,
    /// `ERR syntax error`
    Syntax,
    /// `ERR no such key`
    NoSuchKey,
    /// `ERR wrong number of arguments for '<name>' command`
    WrongArity(String),
    /// `ERR increment or decrement would overflow`
    Overflow,
    /// `ERR DB index is out of range`
    DbIndexOutOfRange,
    /// `NOAUTH Authentication required.`
    NoAuth,
    /// Any other error; the text includes its code (`ERR ...`).
    Other(Cow<'static, str>),
}

impl CmdError {
    /// An error with a fixed text (`ERR ...`).
    pub const fn msg(s: &'static str) -> CmdError {
        CmdError::Other(Cow::Borrowed(s))
    }

    /// An error with a formatted text; it must start with its code.
    pub fn owned(s: String) -> CmdError {
        CmdError::Other(Cow::Owned(s))
    }

    /// The text sent to the client, without the leading `-`.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            CmdError::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
            CmdError::NotInteger => "ERR value is not an integer or out of range".into(),
            CmdError::NotFloat => "ERR value is not a valid float".into(),
            CmdError::Syntax => "ERR syntax error".into(),
            CmdError::NoSuchKey => "ERR no such key".into(),
            CmdError::WrongArity(name) => format!("ERR wrong number of arguments for '{name}' command").into(),
            CmdError::Overflow => "ERR increment or decrement would overflow".into(),
            CmdError::DbIndexOutOfRange => "ERR DB index is out of range".into(),
            CmdError::NoAuth => "NOAUTH Authentication required.".into(),
            CmdError::Other(s) => Cow::Borrowed(s),
        }
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for CmdError {}

/// Result of a command handler: the reply was written, or this error is the reply.
pub type CmdResult = Result<(), CmdError>;
