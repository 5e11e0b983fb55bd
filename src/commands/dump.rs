//! DUMP and RESTORE (and RESTORE-ASKING, which outside a cluster is RESTORE):
//! a value serialized as Redis 7.0 does, so keys move between forkv and
//! redis-server in either direction.

use crate::engine::notify::GENERIC;
use crate::engine::table::{cmd, CommandSpec, DENYOOM, READONLY, WRITE};
use crate::engine::{Call, Engine, SYNTAX};
use crate::rdb::{read_payload, verify_payload, RdbValue};
use crate::snapshot::{dump_payload, value_from_rdb};
use crate::types::{Limits, Value};
use crate::util::{fmt_i64, itoa_buf};
use std::collections::HashSet;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("dump", 2, READONLY, (1, 1, 1), dump),
    cmd("restore", -4, WRITE | DENYOOM, (1, 1, 1), restore),
    cmd("restore-asking", -4, WRITE | DENYOOM, (1, 1, 1), restore),
];

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_FORMAT: &str = "ERR Bad data format";

fn dump(e: &mut Engine, c: &mut Call) {
    let compression = e.config.rdbcompression;
    let Some(value) = e.value(c.db(), c.arg(1)) else { return c.out.null() };
    match dump_payload(value, compression) {
        Ok(payload) => c.out.bulk(&payload),
        // Only an empty collection, which the keyspace never holds.
        Err(err) => c.out.error(&format!("ERR {err}")),
    }
}

/// Whether a set, hash or sorted set names a member twice: Redis refuses
/// such a payload rather than build a value that breaks its invariants.
fn has_duplicates(value: &RdbValue) -> bool {
    fn repeats<'a>(mut names: impl Iterator<Item = &'a [u8]>) -> bool {
        let mut seen = HashSet::new();
        !names.all(|n| seen.insert(n))
    }
    match value {
        RdbValue::String(_) | RdbValue::List(_) => false,
        RdbValue::Set(members) => repeats(members.iter().map(Vec::as_slice)),
        RdbValue::Hash(pairs) => repeats(pairs.iter().map(|(f, _)| f.as_slice())),
        RdbValue::ZSet(pairs) => repeats(pairs.iter().map(|(m, _)| m.as_slice())),
        RdbValue::Stream(s) => repeats(s.groups.iter().map(|g| g.name.as_slice())),
    }
}

/// The value of a payload whose footer was verified, or None when it does
/// not decode to one.
fn load_payload(payload: &[u8], limits: &Limits) -> Option<Value> {
    let value = read_payload(payload).ok().filter(|v| !has_duplicates(v))?;
    value_from_rdb(value, limits).ok()
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ
/// frequency], with Redis's checks in Redis's order. IDLETIME or FREQ set
/// the key's access stamp, as the eviction policy reads it.
fn restore(e: &mut Engine, c: &mut Call) {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq) = (None, None);
    let mut i = 4;
    while i < c.argc() {
        let has_value = i + 1 < c.argc();
        if c.is(i, "REPLACE") {
            replace = true;
        } else if c.is(i, "ABSTTL") {
            absttl = true;
        } else if c.is(i, "IDLETIME") && has_value && freq.is_none() {
            let Some(n) = c.int_arg(i + 1) else { return };
            if n < 0 {
                return c.out.error("ERR Invalid IDLETIME value, must be >= 0");
            }
            idle = Some(n);
            i += 1;
        } else if c.is(i, "FREQ") && has_value && idle.is_none() {
            let Some(n) = c.int_arg(i + 1) else { return };
            if !(0..=255).contains(&n) {
                return c.out.error("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            freq = Some(n);
            i += 1;
        } else {
            return c.out.error(SYNTAX);
        }
        i += 1;
    }
    let (db, key) = (c.db(), c.arg(1));
    if !replace && e.lookup(db, key).is_some() {
        return c.out.error(BUSYKEY);
    }
    let Some(ttl) = c.int_arg(2) else { return };
    if ttl < 0 {
        return c.out.error("ERR Invalid TTL value, must be >= 0");
    }
    let payload = c.arg(3);
    if !verify_payload(payload) {
        return c.out.error(BAD_PAYLOAD);
    }
    let Some(value) = load_payload(payload, &Limits::from_config(&e.config)) else {
        return c.out.error(BAD_FORMAT);
    };
    // As Redis's dbDelete: the old value goes even if its TTL has passed.
    let deleted = replace && e.dbs[db].remove(key).is_some();
    // A relative TTL wraps around on overflow, as Redis's C arithmetic
    // does, and then counts as already passed.
    let at = if ttl != 0 && !absttl { ttl.wrapping_add(e.now) } else { ttl };
    if at != 0 && at <= e.now && !e.persistence.loading {
        // The key would expire at once: it is not created, and the one it
        // replaces is gone (a DEL in the AOF).
        if deleted {
            c.propagate_as(&[b"DEL", key]);
            e.notify(GENERIC, "del", db, key);
            e.dirty += 1;
        }
        return c.out.ok();
    }
    let slot = e.set_value(db, key, value, false);
    if at != 0 {
        e.dbs[db].set_expire(slot, at);
        if !absttl {
            // Replayed later, a relative TTL would start again: the AOF
            // gets the deadline, as Redis propagates it.
            let mut num = itoa_buf();
            let mut parts: Vec<&[u8]> = c.args.to_vec();
            parts[2] = fmt_i64(at, &mut num);
            parts.push(b"ABSTTL");
            c.propagate_as(&parts);
        }
    }
    e.restore_access(db, slot, idle, freq);
    e.notify(GENERIC, "restore", db, key);
    e.dirty += 1;
    c.out.ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn duplicates_are_found_in_sets_hashes_and_zsets() {
        assert!(has_duplicates(&RdbValue::Set(vec![v("a"), v("b"), v("a")])));
        assert!(!has_duplicates(&RdbValue::Set(vec![v("a"), v("b")])));
        assert!(has_duplicates(&RdbValue::Hash(vec![(v("f"), v("1")), (v("f"), v("2"))])));
        assert!(!has_duplicates(&RdbValue::Hash(vec![(v("f"), v("1")), (v("1"), v("f"))])));
        assert!(has_duplicates(&RdbValue::ZSet(vec![(v("m"), 1.0), (v("m"), 2.0)])));
        assert!(!has_duplicates(&RdbValue::List(vec![v("a"), v("a")])));
    }
}
