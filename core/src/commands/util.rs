//! Small helpers handlers share: typed argument reads and typed key lookups.

use crate::bytestring::ByteString;
use crate::error::CmdError;
use crate::exec::ExecCtx;
use crate::numeric::{parse_f64, parse_i64};
use crate::types::{HashValue, Kind, ListValue, SetValue, Value};

/// Reads an integer argument (`ERR value is not an integer or out of range`).
#[inline]
pub fn int_arg(a: &[u8]) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(CmdError::NotInteger)
}

/// For commands taking `key field value [field value ...]` style pairs after
/// `first` fixed arguments: a missing value is an arity error, as Redis reports it.
pub fn check_pairs(args: &crate::resp::request::Args<'_>, first: usize, name: &str) -> Result<(), CmdError> {
    if !(args.len() - first).is_multiple_of(2) {
        return Err(CmdError::WrongArity(name.into()));
    }
    Ok(())
}

/// Parses the tail of LMPOP/ZMPOP from `at`: `numkeys key [key ...] <first|second> [COUNT count]`.
/// Returns the number of keys, whether the `first` keyword was given, and the count.
pub fn mpop_args(
    args: &crate::resp::request::Args<'_>,
    at: usize,
    first: &str,
    second: &str,
) -> Result<(usize, bool, usize), CmdError> {
    let n = super::sets::numkeys_arg(args, at)?;
    let where_at = at + n + 1;
    if where_at >= args.len() {
        return Err(CmdError::Syntax);
    }
    let side = args.get(where_at);
    let is_first = if is_kw(side, first) {
        true
    } else if is_kw(side, second) {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        if count.is_none() && is_kw(args.get(i), "count") && i + 1 < args.len() {
            match parse_i64(args.get(i + 1)) {
                Some(c) if c > 0 => count = Some(c as usize),
                _ => return Err(CmdError::msg("ERR count should be greater than 0")),
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((n, is_first, count.unwrap_or(1)))
}

/// The timeout of a blocking command as the deadline it sets (unix ms), or
/// `None` to wait for ever (0). Seconds may be fractional (BLPOP); milliseconds
/// are an integer (XREAD BLOCK). Converted as Redis does: a float beyond the
/// range of a 64-bit millisecond count becomes negative.
pub fn timeout_arg(a: &[u8], now: u64, seconds: bool) -> Result<Option<u64>, CmdError> {
    let ms = if seconds {
        // Redis reads a long double, whose range is wider than an f64's.
        let f = parse_f64(a)
            .or_else(|| crate::longdouble::LongDouble::parse(a).map(|l| l.to_f64_lossy()))
            .ok_or(CmdError::msg("ERR timeout is not a float or out of range"))?
            * 1000.0;
        if f.is_finite() && f > -9.223_372_036_854_775e18 && f < 9.223_372_036_854_775e18 {
            f as i64
        } else {
            i64::MIN
        }
    } else {
        parse_i64(a).ok_or(CmdError::msg("ERR timeout is not an integer or out of range"))?
    };
    match ms {
        ..=-1 => Err(CmdError::msg("ERR timeout is negative")),
        0 => Ok(None),
        ms if ms > i64::MAX - now as i64 => Err(CmdError::msg("ERR timeout is out of range")),
        ms => Ok(Some(now + ms as u64)),
    }
}

/// The count of HRANDFIELD/SRANDMEMBER/ZRANDMEMBER: any integer but the most
/// negative one, which cannot be negated.
pub fn random_count_arg(a: &[u8]) -> Result<i64, CmdError> {
    match parse_i64(a) {
        Some(i64::MIN) => Err(CmdError::msg(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )),
        Some(c) => Ok(c),
        None => Err(CmdError::NotInteger),
    }
}

impl ExecCtx<'_> {
    /// Positions to reply for a random-members command over `len` elements:
    /// negative `count` picks with repetition, a count at least `len` takes
    /// everything (in `whole` order), otherwise `count` distinct positions.
    pub fn random_picks(&mut self, len: usize, count: i64, whole: impl Iterator<Item = usize>) -> Vec<usize> {
        if len == 0 || count == 0 {
            Vec::new()
        } else if count < 0 {
            (0..count.unsigned_abs()).map(|_| (self.host.random() % len as u64) as usize).collect()
        } else if count as usize >= len {
            whole.collect()
        } else {
            let mut idx: Vec<usize> = (0..len).collect();
            for i in 0..count as usize {
                let j = i + (self.host.random() % (len - i) as u64) as usize;
                idx.swap(i, j);
            }
            idx.truncate(count as usize);
            idx
        }
    }
}

/// Writes an array of bulk strings, `None` as null (MGET, HMGET).
pub fn reply_optional_bulks(out: &mut crate::resp::ReplyBuf, vals: &[Option<Vec<u8>>]) {
    out.array(vals.len());
    for v in vals {
        match v {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
}

/// True if `a` equals the keyword `kw` (given in lowercase), ignoring ASCII case.
#[inline]
pub fn is_kw(a: &[u8], kw: &str) -> bool {
    a.eq_ignore_ascii_case(kw.as_bytes())
}

impl ExecCtx<'_> {
    /// The value of type `T` at `key`: `None` if missing, WRONGTYPE if another type.
    #[inline]
    pub fn read<T: Kind>(&mut self, key: &[u8]) -> Result<Option<&T>, CmdError> {
        let (db, now) = (self.db(), self.now);
        let (ks, slot) = self.data.locate(key)?;
        match ks.get(db, slot, key, now) {
            None => Ok(None),
            Some(v) => T::of(v).map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The value of type `T` at `key`, for a blocking command: WRONGTYPE,
    /// except on a blocked client's retry, where a key of another type counts
    /// as missing (Redis serves a blocked client only from a key of the type
    /// it waits for).
    pub fn read_waitable<T: Kind>(&mut self, key: &[u8]) -> Result<Option<&T>, CmdError> {
        let retrying = self.retrying();
        match self.read(key) {
            Err(CmdError::WrongType) if retrying => Ok(None),
            r => r,
        }
    }

    /// The value of type `T` at `key` for writing, if it exists.
    #[inline]
    pub fn modify<T: Kind>(&mut self, key: &[u8]) -> Result<Option<&mut T>, CmdError> {
        let (db, now) = (self.db(), self.now);
        let (ks, slot) = self.data.locate(key)?;
        match ks.get_mut(db, slot, key, now) {
            None => Ok(None),
            Some(v) => T::of_mut(v).map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The value of type `T` at `key` for writing, stored as `make()` (an empty
    /// collection) when missing. The caller adds to it or calls
    /// [`ExecCtx::drop_if_empty`], as Redis never keeps an empty collection.
    pub fn modify_or_create<T: Kind>(&mut self, key: &[u8], make: impl FnOnce() -> Value) -> Result<&mut T, CmdError> {
        let (db, now) = (self.db(), self.now);
        let (ks, slot) = self.data.locate(key)?;
        if ks.get_mut(db, slot, key, now).is_none() {
            ks.insert(db, slot, key, make(), true, now);
        }
        ks.get_mut(db, slot, key, now).and_then(T::of_mut).ok_or(CmdError::WrongType)
    }

    /// The string at `key`.
    #[inline]
    pub fn read_str(&mut self, key: &[u8]) -> Result<Option<&ByteString>, CmdError> {
        self.read(key)
    }

    /// The hash at `key`.
    pub fn read_hash(&mut self, key: &[u8]) -> Result<Option<&HashValue>, CmdError> {
        self.read(key)
    }

    /// The hash at `key` for writing, created empty when missing.
    pub fn hash_for_write(&mut self, key: &[u8]) -> Result<&mut HashValue, CmdError> {
        self.modify_or_create(key, || Value::Hash(Box::default()))
    }

    /// Stores `value` at `key`; `keep_ttl` keeps an existing expiry time.
    #[inline]
    pub fn store(&mut self, key: &[u8], value: Value, keep_ttl: bool) -> Result<(), CmdError> {
        let (db, now) = (self.db(), self.now);
        let (ks, slot) = self.data.locate(key)?;
        ks.insert(db, slot, key, value, keep_ttl, now);
        self.dirty += 1;
        Ok(())
    }

    /// Deletes `key`; true if it existed (and had not expired).
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, CmdError> {
        let (db, now) = (self.db(), self.now);
        let (ks, slot) = self.data.locate(key)?;
        if !ks.contains(db, slot, key, now) {
            return Ok(false);
        }
        ks.remove(db, slot, key);
        self.dirty += 1;
        Ok(true)
    }

    /// True if `key` exists.
    pub fn exists(&mut self, key: &[u8]) -> Result<bool, CmdError> {
        let (db, now) = (self.db(), self.now);
        let (ks, slot) = self.data.locate(key)?;
        Ok(ks.contains(db, slot, key, now))
    }

    /// Expiry time of `key` (unix ms), if it exists and has one.
    pub fn expire_of(&mut self, key: &[u8]) -> Result<Option<u64>, CmdError> {
        let db = self.db();
        let (ks, slot) = self.data.locate(key)?;
        Ok(ks.expire_at(db, slot, key))
    }

    /// Sets the expiry time of existing `key`.
    pub fn set_expire(&mut self, key: &[u8], at: u64) -> Result<(), CmdError> {
        let db = self.db();
        let (ks, slot) = self.data.locate(key)?;
        ks.set_expire(db, slot, key, at);
        self.dirty += 1;
        Ok(())
    }

    /// Removes the collection at `key` if it became empty, as Redis never keeps
    /// an empty hash, list or set.
    pub fn drop_if_empty(&mut self, key: &[u8]) -> Result<(), CmdError> {
        let (db, now) = (self.db(), self.now);
        let (ks, slot) = self.data.locate(key)?;
        if ks.get_mut(db, slot, key, now).is_some_and(|v| v.is_empty_collection()) {
            ks.remove(db, slot, key);
        }
        Ok(())
    }

    /// The list at `key`.
    pub fn read_list(&mut self, key: &[u8]) -> Result<Option<&ListValue>, CmdError> {
        self.read(key)
    }

    /// The list at `key` for writing, if it exists.
    pub fn list_mut(&mut self, key: &[u8]) -> Result<Option<&mut ListValue>, CmdError> {
        self.modify(key)
    }

    /// The list at `key` for writing, created empty when missing.
    pub fn list_for_write(&mut self, key: &[u8]) -> Result<&mut ListValue, CmdError> {
        self.modify_or_create(key, || Value::List(Box::default()))
    }

    /// The set at `key`.
    pub fn read_set(&mut self, key: &[u8]) -> Result<Option<&SetValue>, CmdError> {
        self.read(key)
    }

    /// The set at `key` for writing, if it exists.
    pub fn set_mut(&mut self, key: &[u8]) -> Result<Option<&mut SetValue>, CmdError> {
        self.modify(key)
    }

    /// The set at `key` for writing, created (in the form suiting `first`) when missing.
    pub fn set_for_write(&mut self, key: &[u8], first: &[u8]) -> Result<&mut SetValue, CmdError> {
        self.modify_or_create(key, || Value::Set(Box::new(SetValue::for_member(first))))
    }
}

/// Redis's reply to a subcommand it does not know or called with the wrong
/// number of arguments: `sub` as given, `container` as in its HELP (`ACL`).
pub(crate) fn unknown_subcommand(sub: &[u8], container: &str) -> CmdError {
    CmdError::owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
        String::from_utf8_lossy(sub)
    ))
}
