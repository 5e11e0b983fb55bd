//! Set commands.

use super::draws::Draws;
use super::keys::{parse_cursor, parse_scan_options, reply_scan};
use crate::engine::key_finders::counted_first;
use crate::engine::notify::{GENERIC, SET};
use crate::engine::table::{cmd, CommandSpec, DENYOOM, FAST, MARKS_OWN_WRITES, READONLY, WRITE};
use crate::engine::{Call, Engine, NOT_INTEGER, SYNTAX};
use crate::glob::glob_match;
use crate::types::{Elem, Limits, Set, Value, WRONGTYPE};
use crate::util::parse_i64;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("sadd", -3, WRITE | DENYOOM | FAST, (1, 1, 1), sadd),
    cmd("srem", -3, WRITE | FAST, (1, 1, 1), srem),
    cmd("smembers", 2, READONLY, (1, 1, 1), smembers),
    cmd("sismember", 3, READONLY | FAST, (1, 1, 1), sismember),
    cmd("smismember", -3, READONLY | FAST, (1, 1, 1), smismember),
    cmd("scard", 2, READONLY | FAST, (1, 1, 1), scard),
    cmd("spop", -2, WRITE | FAST, (1, 1, 1), spop),
    cmd("srandmember", -2, READONLY, (1, 1, 1), srandmember),
    cmd("smove", 4, WRITE | FAST | MARKS_OWN_WRITES, (1, 2, 1), smove),
    cmd("sinter", -2, READONLY, (1, -1, 1), sinter),
    cmd("sintercard", -3, READONLY, (0, 0, 0), sintercard).keys_by(counted_first),
    cmd("sunion", -2, READONLY, (1, -1, 1), sunion),
    cmd("sdiff", -2, READONLY, (1, -1, 1), sdiff),
    cmd("sinterstore", -3, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, -1, 1), sinterstore),
    cmd("sunionstore", -3, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, -1, 1), sunionstore),
    cmd("sdiffstore", -3, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, -1, 1), sdiffstore),
    cmd("sscan", -3, READONLY, (1, 1, 1), sscan),
];

/// Count arguments of SRANDMEMBER and HRANDFIELD exclude i64::MIN.
const COUNT_RANGE: &str = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// The set at `key` for reading: Ok(None) if missing, Err after a WRONGTYPE
/// reply.
fn read_set<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e Set>, ()> {
    match e.value(c.db(), key) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// The set at `key` for writing: Ok(None) if missing, Err after a WRONGTYPE
/// reply.
fn write_set<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e mut Set>, ()> {
    match e.value_mut(c.db(), key) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

fn reply_elems(c: &mut Call, elems: &[Elem<'_>]) {
    c.out.array(elems.len());
    for m in elems {
        m.with_bytes(|b| c.out.bulk(b));
    }
}

fn reply_set_of<'a>(c: &mut Call, members: impl ExactSizeIterator<Item = Elem<'a>>) {
    c.out.set(members.len());
    for m in members {
        m.with_bytes(|b| c.out.bulk(b));
    }
}

fn sadd(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    let limits = Limits::from_config(&e.config);
    let s = match write_set(e, c, key) {
        Err(()) => return,
        Ok(Some(s)) => s,
        Ok(None) => {
            let slot = e.insert_value(db, key, Value::Set(Box::default()));
            match e.dbs[db].value_mut(slot) {
                Value::Set(s) => s,
                _ => unreachable!("just inserted a set"),
            }
        }
    };
    let added = c.args[2..].iter().filter(|m| s.add(m, &limits)).count();
    if added > 0 {
        e.notify(SET, "sadd", db, key);
    }
    e.dirty += added as u64;
    c.out.int(added as i64);
}

fn srem(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    let (removed, emptied) = match write_set(e, c, key) {
        Err(()) => return,
        Ok(None) => return c.out.int(0),
        Ok(Some(s)) => {
            let mut removed = 0;
            for &m in &c.args[2..] {
                if s.remove(m) {
                    removed += 1;
                    if s.is_empty() {
                        break;
                    }
                }
            }
            (removed, s.is_empty())
        }
    };
    if removed > 0 {
        e.notify(SET, "srem", db, key);
    }
    if emptied {
        e.delete_key(db, key);
        e.notify(GENERIC, "del", db, key);
    }
    e.dirty += removed as u64;
    c.out.int(removed);
}

fn smembers(e: &mut Engine, c: &mut Call) {
    match read_set(e, c, c.arg(1)) {
        Err(()) => {}
        Ok(None) => c.out.set(0),
        Ok(Some(s)) => reply_set_of(c, s.iter()),
    }
}

fn sismember(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_set(e, c, c.arg(1)) {
        c.out.int(found.is_some_and(|s| s.contains(c.arg(2))) as i64);
    }
}

fn smismember(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_set(e, c, c.arg(1)) {
        c.out.array(c.argc() - 2);
        for &m in &c.args[2..] {
            c.out.int(found.is_some_and(|s| s.contains(m)) as i64);
        }
    }
}

fn scard(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_set(e, c, c.arg(1)) {
        c.out.int(found.map_or(0, |s| s.len()) as i64);
    }
}

fn spop(e: &mut Engine, c: &mut Call) {
    match c.argc() {
        2 => spop_one(e, c),
        3 => spop_many(e, c),
        _ => c.out.error(SYNTAX),
    }
}

fn spop_one(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    let Some(slot) = e.lookup(db, key) else { return c.out.null() };
    let Value::Set(s) = e.dbs[db].value_mut(slot) else { return c.out.error(WRONGTYPE) };
    let member = s.pop_random(&mut e.rng).expect("sets in the keyspace are never empty");
    let emptied = s.is_empty();
    e.notify(SET, "spop", db, key);
    if emptied {
        e.delete_key(db, key);
        e.notify(GENERIC, "del", db, key);
    }
    e.dirty += 1;
    // The member was picked at random: log which one went.
    c.propagate_as(&[b"SREM", key, &member]);
    c.out.bulk(&member);
}

fn spop_many(e: &mut Engine, c: &mut Call) {
    let Some(count) = c.positive_arg(2) else { return };
    let (db, key) = (c.db(), c.arg(1));
    let Some(slot) = e.lookup(db, key) else { return c.out.set(0) };
    let Value::Set(s) = e.dbs[db].value_mut(slot) else { return c.out.error(WRONGTYPE) };
    if count == 0 {
        return c.out.set(0);
    }
    let whole = count >= s.len();
    let popped = s.pop_random_many(count, &mut e.rng);
    e.dirty += popped.len() as u64;
    e.notify(SET, "spop", db, key);
    if whole {
        e.delete_key(db, key);
        e.notify(GENERIC, "del", db, key);
        c.propagate_as(&[b"DEL", key]);
    } else {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(popped.len() + 2);
        parts.push(b"SREM");
        parts.push(key);
        parts.extend(popped.iter().map(Vec::as_slice));
        c.propagate_as(&parts);
    }
    c.out.set(popped.len());
    for m in &popped {
        c.out.bulk(m);
    }
}

fn srandmember(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    match c.argc() {
        2 => {
            let Some(slot) = e.lookup_read(db, c.arg(1)) else { return c.out.null() };
            match e.dbs[db].value(slot) {
                Value::Set(s) => match s.random_member(&mut e.rng) {
                    Some(m) => m.with_bytes(|b| c.out.bulk(b)),
                    None => c.out.null(),
                },
                _ => c.out.error(WRONGTYPE),
            }
        }
        3 => {
            let Some(n) = parse_i64(c.arg(2)) else { return c.out.error(NOT_INTEGER) };
            if n == i64::MIN {
                return c.out.error(COUNT_RANGE);
            }
            let Some(slot) = e.lookup_read(db, c.arg(1)) else { return c.out.array(0) };
            let Value::Set(s) = e.dbs[db].value(slot) else { return c.out.error(WRONGTYPE) };
            let count = n.unsigned_abs() as usize;
            if n >= 0 {
                return reply_elems(c, &s.random_members(count, &mut e.rng));
            }
            c.out.array(count);
            let mut draws = Draws::new(c, count);
            s.draw_members(&mut e.rng, |m| {
                m.with_bytes(|b| c.out.bulk(b));
                draws.more(c)
            });
        }
        _ => c.out.error(SYNTAX),
    }
}

fn smove(e: &mut Engine, c: &mut Call) {
    let (db, src, dst, member) = (c.db(), c.arg(1), c.arg(2), c.arg(3));
    let limits = Limits::from_config(&e.config);
    let Some(src_slot) = e.lookup(db, src) else {
        e.lookup(db, dst);
        return c.out.int(0);
    };
    let dst_slot = e.lookup(db, dst);
    let src_ok = matches!(e.dbs[db].value(src_slot), Value::Set(_));
    let dst_ok = dst_slot.is_none_or(|s| matches!(e.dbs[db].value(s), Value::Set(_)));
    if !src_ok || !dst_ok {
        return c.out.error(WRONGTYPE);
    }
    if src == dst {
        let Value::Set(s) = e.dbs[db].value(src_slot) else { unreachable!("checked above") };
        return c.out.int(s.contains(member) as i64);
    }
    let Value::Set(s) = e.dbs[db].value_mut(src_slot) else { unreachable!("checked above") };
    if !s.remove(member) {
        return c.out.int(0);
    }
    let emptied = s.is_empty();
    e.signal_modified(db, src);
    e.notify(SET, "srem", db, src);
    if emptied {
        e.delete_key(db, src);
        e.notify(GENERIC, "del", db, src);
    }
    e.dirty += 1;
    let dst_slot = match e.dbs[db].find(dst) {
        Some(slot) => slot,
        None => e.insert_value(db, dst, Value::Set(Box::default())),
    };
    if let Value::Set(d) = e.dbs[db].value_mut(dst_slot) {
        // A member the destination already had leaves it untouched: no
        // WATCH of it fails, as in Redis.
        if d.add(member, &limits) {
            e.dirty += 1;
            e.signal_modified(db, dst);
            e.notify(SET, "sadd", db, dst);
        }
    }
    c.out.int(1);
}

/// Looks up every key as a set (missing keys are None); None after a
/// WRONGTYPE reply, at the first key of another type (the keys after it
/// are not looked up, as in Redis). Expired keys are removed by the first
/// pass, so the second one can borrow all the sets at once.
fn gather<'e>(e: &'e mut Engine, c: &mut Call, keys: &[&[u8]]) -> Option<Vec<Option<&'e Set>>> {
    let db = c.db();
    for key in keys {
        if let Some(slot) = e.lookup_read(db, key) {
            if !matches!(e.dbs[db].value(slot), Value::Set(_)) {
                c.out.error(WRONGTYPE);
                return None;
            }
        }
    }
    let d = &e.dbs[db];
    Some(
        keys.iter()
            .map(|k| match d.find(k).map(|s| d.value(s)) {
                Some(Value::Set(s)) => Some(&**s),
                _ => None,
            })
            .collect(),
    )
}

/// Members of the intersection, up to `limit` (0 = all).
fn intersect<'a>(sets: &[Option<&'a Set>], limit: usize) -> Vec<Elem<'a>> {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else { return Vec::new() };
    sets.sort_by_key(|s| s.len());
    let mut out = Vec::new();
    for m in sets[0].iter() {
        if m.with_bytes(|b| sets[1..].iter().all(|s| s.contains(b))) {
            out.push(m);
            if out.len() == limit {
                break;
            }
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The result of `op` over `sets` as a new set (encoded per `limits`).
fn combine(sets: &[Option<&Set>], op: Op, limits: &Limits) -> Set {
    let mut out = Set::new();
    match op {
        Op::Inter => {
            for m in intersect(sets, 0) {
                m.with_bytes(|b| out.add(b, limits));
            }
        }
        Op::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    m.with_bytes(|b| out.add(b, limits));
                }
            }
        }
        Op::Diff => {
            if let Some(first) = sets[0] {
                for m in first.iter() {
                    m.with_bytes(|b| {
                        if !sets[1..].iter().flatten().any(|s| s.contains(b)) {
                            out.add(b, limits);
                        }
                    });
                }
            }
        }
    }
    out
}

/// SINTER, SUNION, SDIFF.
fn set_op(e: &mut Engine, c: &mut Call, op: Op) {
    let limits = Limits::from_config(&e.config);
    let args = c.args;
    let Some(sets) = gather(e, c, &args[1..]) else { return };
    if op == Op::Inter {
        return reply_set_of(c, intersect(&sets, 0).into_iter());
    }
    let result = combine(&sets, op, &limits);
    reply_set_of(c, result.iter());
}

/// SINTERSTORE, SUNIONSTORE, SDIFFSTORE: the destination is overwritten
/// (whatever its type) or deleted when the result is empty.
fn set_op_store(e: &mut Engine, c: &mut Call, op: Op) {
    let limits = Limits::from_config(&e.config);
    let args = c.args;
    let Some(sets) = gather(e, c, &args[2..]) else { return };
    let result = combine(&sets, op, &limits);
    let (db, dst) = (c.db(), c.arg(1));
    let n = result.len();
    if n > 0 {
        e.set_value(db, dst, Value::Set(Box::new(result)), false);
        let event = match op {
            Op::Inter => "sinterstore",
            Op::Union => "sunionstore",
            Op::Diff => "sdiffstore",
        };
        e.notify(SET, event, db, dst);
    } else if e.delete_key(db, dst) {
        e.notify(GENERIC, "del", db, dst);
    } else {
        return c.out.int(0);
    }
    e.dirty += 1;
    e.signal_modified(db, dst);
    c.out.int(n as i64);
}

fn sinter(e: &mut Engine, c: &mut Call) {
    set_op(e, c, Op::Inter);
}

fn sunion(e: &mut Engine, c: &mut Call) {
    set_op(e, c, Op::Union);
}

fn sdiff(e: &mut Engine, c: &mut Call) {
    set_op(e, c, Op::Diff);
}

fn sinterstore(e: &mut Engine, c: &mut Call) {
    set_op_store(e, c, Op::Inter);
}

fn sunionstore(e: &mut Engine, c: &mut Call) {
    set_op_store(e, c, Op::Union);
}

fn sdiffstore(e: &mut Engine, c: &mut Call) {
    set_op_store(e, c, Op::Diff);
}

fn sintercard(e: &mut Engine, c: &mut Call) {
    let numkeys = match parse_i64(c.arg(1)) {
        Some(n) if n > 0 => n as usize,
        _ => return c.out.error("ERR numkeys should be greater than 0"),
    };
    if numkeys > c.argc() - 2 {
        return c.out.error("ERR Number of keys can't be greater than number of args");
    }
    let mut limit = 0;
    let mut i = 2 + numkeys;
    while i < c.argc() {
        if c.is(i, "LIMIT") && i + 1 < c.argc() {
            i += 1;
            limit = match parse_i64(c.arg(i)) {
                Some(n) if n >= 0 => n as usize,
                _ => return c.out.error("ERR LIMIT can't be negative"),
            };
        } else {
            return c.out.error(SYNTAX);
        }
        i += 1;
    }
    let args = c.args;
    let Some(sets) = gather(e, c, &args[2..2 + numkeys]) else { return };
    c.out.int(intersect(&sets, limit).len() as i64);
}

fn sscan(e: &mut Engine, c: &mut Call) {
    let Some(cursor) = parse_cursor(c, 2) else { return };
    let s = match read_set(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return reply_scan(c, 0, &[]),
        Ok(Some(s)) => s,
    };
    let Some(o) = parse_scan_options(c, 3, false) else { return };
    let (next, members) = s.scan(cursor, o.count);
    let items: Vec<Vec<u8>> =
        members.iter().map(Elem::to_vec).filter(|m| o.pattern.is_none_or(|p| glob_match(p, m, false))).collect();
    reply_scan(c, next, &items);
}
