//! DEBUG: the dataset digest (`DEBUG DIGEST`, `DEBUG DIGEST-VALUE`), a
//! fingerprint of every key, value and expiry that two servers, or a server
//! before and after a restart, compare to prove they hold the same data.
//!
//! The digest is Redis's: per key, SHA1 mixes of the key, its type and its
//! elements (ordered for strings and lists, order-free for sets, hashes and
//! sorted sets), a mark if it expires; keys xor together, databases are mixed
//! in by number. Strings, lists, sets, hashes and sorted sets digest as Redis
//! digests them; a stream digests its entries, groups and pending entries,
//! where Redis digests its memory layout.

use super::spec::{flags::*, CommandSpec, Group};
use crate::error::CmdResult;
use crate::exec::ExecCtx;
use crate::resp::request::Args;
use crate::types::Value;

pub(crate) const SPECS: &[CommandSpec] = &[CommandSpec {
    acl: &["@admin", "@slow", "@dangerous"],
    ..CommandSpec::keyless(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | KEYSPACE,
        Group::Server,
        "A container for debugging commands.",
        "1.0.0",
        debug,
    )
}];

type Digest = [u8; 20];

fn sha1(bytes: &[u8]) -> Digest {
    sha1_smol::Sha1::from(bytes).digest().bytes()
}

/// `digest ^= sha1(bytes)`: adds an element whose order does not matter.
fn xor_in(digest: &mut Digest, bytes: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(bytes)) {
        *d ^= h;
    }
}

/// `digest = sha1(digest ^ sha1(bytes))`: adds an element in order.
fn mix_in(digest: &mut Digest, bytes: &[u8]) {
    xor_in(digest, bytes);
    *digest = sha1(digest);
}

/// Redis's type numbers (`OBJ_STRING` ...), mixed into each value's digest.
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Mixes one value (and whether it expires) into `d`: Redis's
/// `xorObjectDigest`. DEBUG DIGEST-VALUE starts `d` at zero; the dataset
/// digest starts it from the key.
pub fn mix_value(d: &mut Digest, value: &Value, expires: bool) {
    mix_in(d, &type_code(value).to_be_bytes());
    match value {
        Value::Str(s) => mix_in(d, s.as_slice()),
        Value::List(l) => l.iter().for_each(|e| mix_in(d, e.as_slice())),
        Value::Set(s) => s.members().iter().for_each(|m| xor_in(d, m)),
        Value::ZSet(z) => {
            for (member, score) in z.iter() {
                let mut e = [0u8; 20];
                mix_in(&mut e, member.as_slice());
                mix_in(&mut e, crate::numeric::fmt_g17(score).as_bytes());
                xor_in(d, &e);
            }
        }
        Value::Hash(h) => {
            for (field, val) in h.iter() {
                let mut e = [0u8; 20];
                mix_in(&mut e, field.as_slice());
                mix_in(&mut e, val.as_slice());
                xor_in(d, &e);
            }
        }
        Value::Stream(s) => {
            for e in s.iter() {
                mix_in(d, format!("{}-{}", e.id.ms, e.id.seq).as_bytes());
                e.fields.iter().for_each(|(f, v)| {
                    mix_in(d, f);
                    mix_in(d, v);
                });
            }
            let meta = format!(
                "{}-{} {} {}-{}",
                s.last_id.ms, s.last_id.seq, s.entries_added, s.max_deleted_id.ms, s.max_deleted_id.seq
            );
            mix_in(d, meta.as_bytes());
            for (name, g) in &s.groups {
                mix_in(d, name);
                mix_in(d, format!("{}-{} {}", g.last_id.ms, g.last_id.seq, g.entries_read).as_bytes());
                for (id, p) in &g.pending {
                    mix_in(d, format!("{}-{} {}", id.ms, id.seq, p.delivery_count).as_bytes());
                    mix_in(d, &p.consumer);
                }
                g.consumers.keys().for_each(|c| mix_in(d, c));
            }
        }
    }
    if expires {
        xor_in(d, b"!!expire!!");
    }
}

fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest of every database the command holds (Redis's
/// `computeDatasetDigest`).
fn dataset_digest(ctx: &mut ExecCtx<'_>) -> Digest {
    let mut total = [0u8; 20];
    for db in 0..ctx.databases {
        let mut keys = [0u8; 20];
        let mut any = false;
        for shard in ctx.data.shards_ref() {
            for dict in shard.db_slots(db) {
                for (key, value) in dict.iter() {
                    let mut k = [0u8; 20];
                    mix_in(&mut k, key.as_slice());
                    mix_value(&mut k, value, dict.expire_of(key).is_some());
                    xor_in(&mut keys, &k);
                    any = true;
                }
            }
        }
        // Keys xor in after the database number is mixed, so collecting them
        // first (over every shard) gives the same result.
        if any {
            mix_in(&mut total, &(db as u32).to_be_bytes());
            total.iter_mut().zip(keys).for_each(|(t, k)| *t ^= k);
        }
    }
    total
}

fn debug(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let sub = args.get(1);
    if sub.eq_ignore_ascii_case(b"digest") && args.len() == 2 {
        let d = dataset_digest(ctx);
        ctx.out.simple(hex(&d).as_bytes());
        return Ok(());
    }
    if sub.eq_ignore_ascii_case(b"digest-value") {
        ctx.out.array(args.len() - 2);
        let (db, now) = (ctx.db(), ctx.now);
        for key in args.iter().skip(2) {
            let (ks, slot) = ctx.data.locate(key)?;
            let expires = ks.expire_at(db, slot, key).is_some();
            let mut d = [0u8; 20];
            if let Some((v, _)) = ks.peek(db, slot, key, now) {
                mix_value(&mut d, v, expires);
            }
            ctx.out.simple(hex(&d).as_bytes());
        }
        return Ok(());
    }
    Err(super::util::unknown_subcommand(sub, "DEBUG"))
}
