//! HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST), as
//! Redis 7.0's hyperloglog.c: the sketch is a plain string, read and
//! changed in place (see `types::hyperloglog` for its bytes).

use crate::engine::notify::STRING;
use crate::engine::table::{cmd, CommandSpec, ADMIN, DENYOOM, FAST, MARKS_OWN_WRITES, MAY_REPLICATE, READONLY, WRITE};
use crate::engine::{Call, Engine};
use crate::store::Slot;
use crate::types::hyperloglog::{self as hll, REGISTERS};
use crate::types::{Str, Value, WRONGTYPE};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("pfadd", -2, WRITE | DENYOOM | FAST, (1, 1, 1), pfadd),
    // Read-only, yet a count refreshes the cached cardinality in the
    // string: that change is logged (and signalled) as in Redis.
    cmd("pfcount", -2, READONLY | MAY_REPLICATE, (1, -1, 1), pfcount),
    cmd("pfmerge", -2, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, -1, 1), pfmerge),
    // Redis signals no key for PFDEBUG's conversions.
    cmd("pfdebug", 3, WRITE | DENYOOM | ADMIN | MARKS_OWN_WRITES, (2, 2, 1), pfdebug),
    cmd("pfselftest", 1, ADMIN, (0, 0, 0), pfselftest),
];

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// The HLL in the string at `slot`, checked, as a buffer to change in
/// place (made `raw`, as Redis unshares it); None after an error reply.
fn hll_at<'e>(e: &'e mut Engine, c: &mut Call, db: usize, slot: Slot) -> Option<&'e mut Vec<u8>> {
    let Value::Str(s) = e.dbs[db].value_mut(slot) else {
        c.out.error(WRONGTYPE);
        return None;
    };
    if !s.with_bytes(hll::is_hll) {
        c.out.error(NOT_HLL);
        return None;
    }
    Some(s.edit())
}

/// A new empty HLL at `key` (lookup said it is missing).
fn create<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> &'e mut Vec<u8> {
    let slot = e.insert_value(db, key, Value::Str(Str::Edited(Box::new(hll::new_sparse()))));
    match e.dbs[db].value_mut(slot) {
        Value::Str(s) => s.edit(),
        _ => unreachable!("a string was just stored"),
    }
}

fn sparse_max_bytes(e: &Engine) -> usize {
    usize::try_from(e.config.hll_sparse_max_bytes).unwrap_or(usize::MAX)
}

fn pfadd(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    let max_bytes = sparse_max_bytes(e);
    // Creating the key counts as a change, even with no elements.
    let (buf, mut updated) = match e.lookup(db, key) {
        None => (create(e, db, key), 1),
        Some(slot) => match hll_at(e, c, db, slot) {
            Some(buf) => (buf, 0),
            None => return,
        },
    };
    for ele in &c.args[2..] {
        match hll::add(buf, ele, max_bytes) {
            Ok(changed) => updated += u64::from(changed),
            // As in Redis, what was added before stays, unlogged.
            Err(hll::Corrupt) => return c.out.error(CORRUPT),
        }
    }
    if updated > 0 {
        hll::invalidate(buf);
        e.notify(STRING, "pfadd", db, key);
        e.dirty += updated;
    }
    c.out.int(i64::from(updated > 0));
}

/// Merges the HLLs at `keys` (missing ones are empty) into `max`; whether
/// one of them is dense. None after an error reply.
fn merge_keys(e: &mut Engine, c: &mut Call, keys: &[&[u8]], max: &mut [u8; REGISTERS]) -> Option<bool> {
    let db = c.db();
    let mut any_dense = false;
    for &key in keys {
        let merged = match e.value(db, key) {
            None => continue,
            Some(Value::Str(s)) => s.with_bytes(|b| {
                if !hll::is_hll(b) {
                    return Err(NOT_HLL);
                }
                any_dense |= hll::is_dense(b);
                hll::merge(max, b).map_err(|_| CORRUPT)
            }),
            Some(_) => Err(WRONGTYPE),
        };
        if let Err(msg) = merged {
            c.out.error(msg);
            return None;
        }
    }
    Some(any_dense)
}

fn pfcount(e: &mut Engine, c: &mut Call) {
    if c.argc() > 2 {
        // The union's cardinality, through a merge that is not stored.
        let (keys, mut max) = (c.args, Box::new([0u8; REGISTERS]));
        if merge_keys(e, c, &keys[1..], &mut max).is_some() {
            c.out.int(hll::count_registers(&max) as i64);
        }
        return;
    }
    let (db, key) = (c.db(), c.arg(1));
    let Some(slot) = e.lookup_read(db, key) else { return c.out.int(0) };
    let Some(buf) = hll_at(e, c, db, slot) else { return };
    if let Some(card) = hll::cached(buf) {
        return c.out.int(card as i64);
    }
    let Ok(card) = hll::count(buf) else { return c.out.error(CORRUPT) };
    hll::set_cached(buf, card);
    // The string changed: a change to log, as Redis propagates it.
    e.signal_modified(db, key);
    e.dirty += 1;
    c.out.int(card as i64);
}

fn pfmerge(e: &mut Engine, c: &mut Call) {
    let (db, dest) = (c.db(), c.arg(1));
    let max_bytes = sparse_max_bytes(e);
    // The destination is a source too.
    let (keys, mut max) = (c.args, Box::new([0u8; REGISTERS]));
    let Some(use_dense) = merge_keys(e, c, &keys[1..], &mut max) else { return };
    let buf = match e.lookup(db, dest) {
        None => create(e, db, dest),
        // Checked as a source already.
        Some(slot) => match hll_at(e, c, db, slot) {
            Some(buf) => buf,
            None => return,
        },
    };
    // Dense if a source was; else sparse, promoted as it grows.
    if use_dense && hll::to_dense(buf).is_err() {
        return c.out.error(CORRUPT);
    }
    hll::raise_all(buf, &max, max_bytes);
    hll::invalidate(buf);
    e.signal_modified(db, dest);
    // Redis announces a merge as a mass PFADD.
    e.notify(STRING, "pfadd", db, dest);
    e.dirty += 1;
    c.out.ok();
}

fn pfdebug(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(2));
    let Some(slot) = e.lookup(db, key) else { return c.out.error("ERR The specified key does not exist") };
    let Some(buf) = hll_at(e, c, db, slot) else { return };
    let sub = c.arg(1);
    let mut converted = false;
    if sub.eq_ignore_ascii_case(b"getreg") || sub.eq_ignore_ascii_case(b"todense") {
        converted = !hll::is_dense(buf);
        if hll::to_dense(buf).is_err() {
            return c.out.error(CORRUPT);
        }
    }
    if sub.eq_ignore_ascii_case(b"getreg") {
        c.out.array(REGISTERS);
        hll::registers(buf).for_each(|r| c.out.int(i64::from(r)));
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if hll::is_dense(buf) {
            return c.out.error("ERR HLL encoding is not sparse");
        }
        c.out.bulk(hll::decode(buf).as_bytes());
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        c.out.simple(if hll::is_dense(buf) { "dense" } else { "sparse" });
    } else if sub.eq_ignore_ascii_case(b"todense") {
        c.out.int(i64::from(converted));
    } else {
        return c.out.error(&format!("ERR Unknown PFDEBUG subcommand '{}'", String::from_utf8_lossy(sub)));
    }
    // A conversion is logged, so a replay converts too.
    if converted {
        e.dirty += 1;
    }
}

fn pfselftest(e: &mut Engine, c: &mut Call) {
    let max_bytes = sparse_max_bytes(e);
    let rng = &mut e.rng;
    match hll::self_test(1000, 10_000_000, max_bytes, || rng.next_u64()) {
        Ok(()) => c.out.ok(),
        Err(msg) => c.out.error(&msg),
    }
}
