//! Hash commands.

use super::draws::Draws;
use super::keys::{parse_cursor, parse_scan_options, reply_scan};
use crate::engine::notify::{GENERIC, HASH};
use crate::engine::table::{cmd, CommandSpec, DENYOOM, FAST, READONLY, WRITE};
use crate::engine::{Call, Engine, NOT_INTEGER, SYNTAX};
use crate::glob::glob_match;
use crate::long_double::LongDouble;
use crate::types::hash::Pair;
use crate::types::{Hash, Limits, Value, WRONGTYPE};
use crate::util::parse_i64;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("hset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), hset),
    cmd("hsetnx", 4, WRITE | DENYOOM | FAST, (1, 1, 1), hsetnx),
    cmd("hmset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), hmset),
    cmd("hget", 3, READONLY | FAST, (1, 1, 1), hget),
    cmd("hmget", -3, READONLY | FAST, (1, 1, 1), hmget),
    cmd("hdel", -3, WRITE | FAST, (1, 1, 1), hdel),
    cmd("hexists", 3, READONLY | FAST, (1, 1, 1), hexists),
    cmd("hlen", 2, READONLY | FAST, (1, 1, 1), hlen),
    cmd("hstrlen", 3, READONLY | FAST, (1, 1, 1), hstrlen),
    cmd("hkeys", 2, READONLY, (1, 1, 1), hkeys),
    cmd("hvals", 2, READONLY, (1, 1, 1), hvals),
    cmd("hgetall", 2, READONLY, (1, 1, 1), hgetall),
    cmd("hincrby", 4, WRITE | DENYOOM | FAST, (1, 1, 1), hincrby),
    cmd("hincrbyfloat", 4, WRITE | DENYOOM | FAST, (1, 1, 1), hincrbyfloat),
    cmd("hscan", -3, READONLY, (1, 1, 1), hscan),
    cmd("hrandfield", -2, READONLY, (1, 1, 1), hrandfield),
];

/// The hash at `key` for reading: Ok(None) if missing, Err after a
/// WRONGTYPE reply.
fn read_hash<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e Hash>, ()> {
    match e.value(c.db(), key) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// The hash at `key` for writing: Ok(None) if missing, Err after a
/// WRONGTYPE reply.
fn write_hash<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e mut Hash>, ()> {
    match e.value_mut(c.db(), key) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// The hash at `key`, created empty when missing (the caller must add a
/// field); None after a WRONGTYPE reply.
fn hash_or_create<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Option<&'e mut Hash> {
    let db = c.db();
    match e.lookup(db, key) {
        None => {
            let slot = e.insert_value(db, key, Value::Hash(Box::default()));
            match e.dbs[db].value_mut(slot) {
                Value::Hash(h) => Some(h),
                _ => unreachable!("just inserted a hash"),
            }
        }
        Some(slot) => match e.dbs[db].value_mut(slot) {
            Value::Hash(h) => Some(h),
            _ => {
                c.out.error(WRONGTYPE);
                None
            }
        },
    }
}

/// Sets the field/value pairs from argument 2 on; the number of new fields.
fn set_pairs(e: &mut Engine, c: &mut Call, name: &str) -> Option<i64> {
    if !c.argc().is_multiple_of(2) {
        c.wrong_args(name);
        return None;
    }
    let limits = Limits::from_config(&e.config);
    let h = hash_or_create(e, c, c.arg(1))?;
    let mut added = 0;
    for pair in c.args[2..].chunks(2) {
        if h.set(pair[0], pair[1], &limits) {
            added += 1;
        }
    }
    e.notify(HASH, "hset", c.db(), c.arg(1));
    e.dirty += (c.argc() as u64 - 2) / 2;
    Some(added)
}

fn hset(e: &mut Engine, c: &mut Call) {
    if let Some(added) = set_pairs(e, c, "hset") {
        c.out.int(added);
    }
}

fn hmset(e: &mut Engine, c: &mut Call) {
    if set_pairs(e, c, "hmset").is_some() {
        c.out.ok();
    }
}

fn hsetnx(e: &mut Engine, c: &mut Call) {
    let limits = Limits::from_config(&e.config);
    let (key, field, value) = (c.arg(1), c.arg(2), c.arg(3));
    match write_hash(e, c, key) {
        Err(()) => {}
        Ok(Some(h)) if h.contains(field) => c.out.int(0),
        Ok(_) => {
            if let Some(h) = hash_or_create(e, c, key) {
                h.set(field, value, &limits);
                e.notify(HASH, "hset", c.db(), key);
                e.dirty += 1;
                c.out.int(1);
            }
        }
    }
}

fn hget(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_hash(e, c, c.arg(1)) {
        match found.and_then(|h| h.get(c.arg(2))) {
            Some(v) => v.with_bytes(|b| c.out.bulk(b)),
            None => c.out.null(),
        }
    }
}

fn hmget(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_hash(e, c, c.arg(1)) {
        c.out.array(c.argc() - 2);
        for &field in &c.args[2..] {
            match found.and_then(|h| h.get(field)) {
                Some(v) => v.with_bytes(|b| c.out.bulk(b)),
                None => c.out.null(),
            }
        }
    }
}

fn hdel(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    let (deleted, emptied) = match write_hash(e, c, key) {
        Err(()) => return,
        Ok(None) => return c.out.int(0),
        Ok(Some(h)) => {
            let mut deleted = 0;
            for &field in &c.args[2..] {
                if h.delete(field) {
                    deleted += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            (deleted, h.is_empty())
        }
    };
    if deleted > 0 {
        e.notify(HASH, "hdel", db, key);
    }
    if emptied {
        e.delete_key(db, key);
        e.notify(GENERIC, "del", db, key);
    }
    e.dirty += deleted as u64;
    c.out.int(deleted);
}

fn hexists(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_hash(e, c, c.arg(1)) {
        c.out.int(found.is_some_and(|h| h.contains(c.arg(2))) as i64);
    }
}

fn hlen(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_hash(e, c, c.arg(1)) {
        c.out.int(found.map_or(0, |h| h.len()) as i64);
    }
}

fn hstrlen(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_hash(e, c, c.arg(1)) {
        c.out.int(found.and_then(|h| h.strlen(c.arg(2))).unwrap_or(0) as i64);
    }
}

/// HKEYS, HVALS and HGETALL.
fn get_all(e: &mut Engine, c: &mut Call, fields: bool, values: bool) {
    let Ok(found) = read_hash(e, c, c.arg(1)) else { return };
    let n = found.map_or(0, |h| h.len());
    if fields && values {
        c.out.map(n);
    } else {
        c.out.array(n);
    }
    let Some(h) = found else { return };
    for (f, v) in h.iter() {
        if fields {
            f.with_bytes(|b| c.out.bulk(b));
        }
        if values {
            v.with_bytes(|b| c.out.bulk(b));
        }
    }
}

fn hkeys(e: &mut Engine, c: &mut Call) {
    get_all(e, c, true, false);
}

fn hvals(e: &mut Engine, c: &mut Call) {
    get_all(e, c, false, true);
}

fn hgetall(e: &mut Engine, c: &mut Call) {
    get_all(e, c, true, true);
}

fn hincrby(e: &mut Engine, c: &mut Call) {
    let Some(incr) = c.int_arg(3) else { return };
    let limits = Limits::from_config(&e.config);
    let field = c.arg(2);
    let Some(h) = hash_or_create(e, c, c.arg(1)) else { return };
    let current = match h.get(field) {
        None => 0,
        Some(v) => match v.with_bytes(parse_i64) {
            Some(n) => n,
            None => return c.out.error("ERR hash value is not an integer"),
        },
    };
    let Some(next) = current.checked_add(incr) else {
        return c.out.error("ERR increment or decrement would overflow");
    };
    h.set(field, next.to_string().as_bytes(), &limits);
    e.notify(HASH, "hincrby", c.db(), c.arg(1));
    e.dirty += 1;
    c.out.int(next);
}

fn hincrbyfloat(e: &mut Engine, c: &mut Call) {
    let Some(incr) = c.long_double_arg(3) else { return };
    if !incr.is_finite() {
        return c.out.error("ERR value is NaN or Infinity");
    }
    let limits = Limits::from_config(&e.config);
    let (key, field) = (c.arg(1), c.arg(2));
    let Some(h) = hash_or_create(e, c, key) else { return };
    let current = match h.get(field) {
        None => LongDouble::ZERO,
        Some(v) => match v.with_bytes(LongDouble::parse) {
            Some(n) => n,
            None => return c.out.error("ERR hash value is not a float"),
        },
    };
    let next = current + incr;
    if !next.is_finite() {
        return c.out.error("ERR increment would produce NaN or Infinity");
    }
    let text = next.to_human();
    h.set(field, text.as_bytes(), &limits);
    e.notify(HASH, "hincrbyfloat", c.db(), key);
    e.dirty += 1;
    // Replaying the float addition could round differently: log the result.
    c.propagate_as(&[b"HSET", key, field, text.as_bytes()]);
    c.out.bulk(text.as_bytes());
}

fn hscan(e: &mut Engine, c: &mut Call) {
    let Some(cursor) = parse_cursor(c, 2) else { return };
    let h = match read_hash(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return reply_scan(c, 0, &[]),
        Ok(Some(h)) => h,
    };
    let Some(o) = parse_scan_options(c, 3, false) else { return };
    let (next, pairs) = h.scan(cursor, o.count);
    let mut items = Vec::with_capacity(pairs.len() * 2);
    for (f, v) in pairs {
        let f = f.to_vec();
        if o.pattern.is_none_or(|p| glob_match(p, &f, false)) {
            items.push(f);
            items.push(v.to_vec());
        }
    }
    reply_scan(c, next, &items);
}

fn hrandfield(e: &mut Engine, c: &mut Call) {
    if c.argc() == 2 {
        let db = c.db();
        let Some(slot) = e.lookup_read(db, c.arg(1)) else { return c.out.null() };
        match e.dbs[db].value(slot) {
            Value::Hash(h) => match h.random_pair(&mut e.rng) {
                Some((f, _)) => f.with_bytes(|b| c.out.bulk(b)),
                None => c.out.null(),
            },
            _ => c.out.error(WRONGTYPE),
        }
        return;
    }
    let Some(n) = parse_i64(c.arg(2)) else { return c.out.error(NOT_INTEGER) };
    if n == i64::MIN {
        return c
            .out
            .error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    }
    let with_values = match c.argc() {
        3 => false,
        4 if c.is(3, "WITHVALUES") => true,
        _ => return c.out.error(SYNTAX),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
        return c.out.error("ERR value is out of range");
    }
    let db = c.db();
    let Some(slot) = e.lookup_read(db, c.arg(1)) else { return c.out.array(0) };
    let Value::Hash(h) = e.dbs[db].value(slot) else { return c.out.error(WRONGTYPE) };
    let count = n.unsigned_abs() as usize;
    if n >= 0 {
        let pairs = h.random_pairs(count, &mut e.rng);
        reply_pairs_header(c, pairs.len(), with_values);
        return pairs.iter().for_each(|&p| reply_pair(c, p, with_values));
    }
    reply_pairs_header(c, count, with_values);
    let mut draws = Draws::new(c, count);
    h.draw_pairs(&mut e.rng, |p| {
        reply_pair(c, p, with_values);
        draws.more(c)
    });
}

/// HRANDFIELD's reply: fields, or fields and values (flat in RESP2, as
/// two-element arrays in RESP3).
fn reply_pairs_header(c: &mut Call, count: usize, with_values: bool) {
    let flat = with_values && !c.out.resp3;
    c.out.array(if flat { count * 2 } else { count });
}

fn reply_pair(c: &mut Call, (f, v): Pair<'_>, with_values: bool) {
    if with_values && c.out.resp3 {
        c.out.array(2);
    }
    f.with_bytes(|b| c.out.bulk(b));
    if with_values {
        v.with_bytes(|b| c.out.bulk(b));
    }
}
