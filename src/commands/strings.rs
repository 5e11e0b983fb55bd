//! String commands.

use crate::engine::notify::{GENERIC, STRING};
use crate::engine::table::{cmd, CommandSpec, DENYOOM, FAST, READONLY, WRITE};
use crate::engine::{Call, Engine, NOT_INTEGER, SYNTAX};
use crate::long_double::LongDouble;
use crate::types::string::resize_greedy;
use crate::types::{Str, Value, WRONGTYPE};
use crate::util::{fmt_i64, itoa_buf, parse_i64};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("get", 2, READONLY | FAST, (1, 1, 1), get),
    cmd("set", -3, WRITE | DENYOOM, (1, 1, 1), set),
    cmd("setnx", 3, WRITE | DENYOOM | FAST, (1, 1, 1), setnx),
    cmd("setex", 4, WRITE | DENYOOM, (1, 1, 1), setex),
    cmd("psetex", 4, WRITE | DENYOOM, (1, 1, 1), psetex),
    cmd("mget", -2, READONLY | FAST, (1, -1, 1), mget),
    cmd("mset", -3, WRITE | DENYOOM, (1, -1, 2), mset),
    cmd("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), msetnx),
    cmd("incr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), incr),
    cmd("decr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), decr),
    cmd("incrby", 3, WRITE | DENYOOM | FAST, (1, 1, 1), incrby),
    cmd("decrby", 3, WRITE | DENYOOM | FAST, (1, 1, 1), decrby),
    cmd("incrbyfloat", 3, WRITE | DENYOOM | FAST, (1, 1, 1), incrbyfloat),
    cmd("append", 3, WRITE | DENYOOM | FAST, (1, 1, 1), append),
    cmd("strlen", 2, READONLY | FAST, (1, 1, 1), strlen),
    cmd("getrange", 4, READONLY, (1, 1, 1), getrange),
    cmd("substr", 4, READONLY, (1, 1, 1), getrange),
    cmd("setrange", 4, WRITE | DENYOOM, (1, 1, 1), setrange),
    cmd("getset", 3, WRITE | DENYOOM | FAST, (1, 1, 1), getset),
    cmd("getdel", 2, WRITE | FAST, (1, 1, 1), getdel),
    cmd("getex", -2, WRITE | FAST, (1, 1, 1), getex),
    cmd("lcs", -3, READONLY, (1, 2, 1), lcs),
];

/// Largest string SETRANGE/APPEND may build (proto-max-bulk-len).
const MAX_STRING: usize = 512 * 1024 * 1024;

/// The string stored at `key`: Ok(None) if missing, Err after a WRONGTYPE reply.
pub(crate) fn read_str<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e Str>, ()> {
    let found = e.value(c.db(), key);
    as_str(c, found)
}

/// `read_str` for a command about to write the key: a miss is neither
/// counted nor announced (Redis's lookupKeyWrite).
fn str_to_write<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e Str>, ()> {
    let db = c.db();
    let found = e.lookup(db, key).map(|slot| e.dbs[db].value(slot));
    as_str(c, found)
}

fn as_str<'e>(c: &mut Call, found: Option<&'e Value>) -> Result<Option<&'e Str>, ()> {
    match found {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

fn get(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_str(e, c, c.arg(1)) {
        match found {
            Some(s) => s.with_bytes(|b| c.out.bulk(b)),
            None => c.out.null(),
        }
    }
}

/// Options shared by SET and GETEX: a relative or absolute expiry.
#[derive(Clone, Copy, PartialEq)]
enum ExpireUnit {
    Seconds,
    Millis,
    UnixSeconds,
    UnixMillis,
}

/// Converts an expiry argument to an absolute time in ms, or replies
/// "invalid expire time in '<cmd>' command".
fn absolute_expire(e: &Engine, c: &mut Call, arg: &[u8], unit: ExpireUnit, name: &str) -> Option<i64> {
    let invalid = |c: &mut Call| c.out.error(&format!("ERR invalid expire time in '{name}' command"));
    let Some(n) = parse_i64(arg) else {
        c.out.error(NOT_INTEGER);
        return None;
    };
    if n <= 0 {
        invalid(c);
        return None;
    }
    let at = match unit {
        ExpireUnit::Seconds => n.checked_mul(1000).and_then(|ms| ms.checked_add(e.now)),
        ExpireUnit::Millis => n.checked_add(e.now),
        ExpireUnit::UnixSeconds => n.checked_mul(1000),
        ExpireUnit::UnixMillis => Some(n),
    };
    if at.is_none() {
        invalid(c);
    }
    at
}

fn expire_unit(word: &[u8]) -> Option<ExpireUnit> {
    match word.to_ascii_uppercase().as_slice() {
        b"EX" => Some(ExpireUnit::Seconds),
        b"PX" => Some(ExpireUnit::Millis),
        b"EXAT" => Some(ExpireUnit::UnixSeconds),
        b"PXAT" => Some(ExpireUnit::UnixMillis),
        _ => None,
    }
}

struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    expire_at: Option<i64>,
}

/// Options are all read before the expire time is judged, so a bad word
/// after it is a syntax error, as in Redis.
fn parse_set_options(e: &Engine, c: &mut Call) -> Option<SetOptions> {
    let mut o = SetOptions { nx: false, xx: false, get: false, keep_ttl: false, expire_at: None };
    let mut expire: Option<(ExpireUnit, usize)> = None;
    let mut i = 3;
    while i < c.argc() {
        let a = c.arg(i).to_ascii_uppercase();
        match a.as_slice() {
            b"NX" if !o.xx => o.nx = true,
            b"XX" if !o.nx => o.xx = true,
            b"GET" => o.get = true,
            b"KEEPTTL" if expire.is_none() => o.keep_ttl = true,
            _ => match expire_unit(&a) {
                Some(unit) if expire.is_none() && !o.keep_ttl && i + 1 < c.argc() => {
                    i += 1;
                    expire = Some((unit, i));
                }
                _ => {
                    c.out.error(SYNTAX);
                    return None;
                }
            },
        }
        i += 1;
    }
    if let Some((unit, at)) = expire {
        o.expire_at = Some(absolute_expire(e, c, c.arg(at), unit, "set")?);
    }
    Some(o)
}

fn set(e: &mut Engine, c: &mut Call) {
    let Some(o) = parse_set_options(e, c) else { return };
    let (db, key, val) = (c.db(), c.arg(1), c.arg(2));
    // Plain SET overwrites any type; only SET … GET needs a string there.
    let old = if o.get {
        match read_str(e, c, key) {
            Err(()) => return,
            Ok(found) => found.map(|s| s.bytes().into_owned()),
        }
    } else {
        None
    };
    let found = e.lookup(db, key);
    let exists = found.is_some();
    if (o.nx && exists) || (o.xx && !exists) {
        if o.get {
            reply_old(c, old);
        } else {
            c.out.null();
        }
        return;
    }
    let slot = e.write_looked_up(db, key, found, Value::from_bytes(val), o.keep_ttl);
    e.notify(STRING, "set", db, key);
    if let Some(at) = o.expire_at {
        e.dbs[db].set_expire(slot, at);
        let mut num = itoa_buf();
        c.propagate_as(&[b"SET", key, val, b"PXAT", fmt_i64(at, &mut num)]);
        e.notify(GENERIC, "expire", db, key);
    }
    e.dirty += 1;
    if o.get {
        reply_old(c, old);
    } else {
        c.out.ok();
    }
}

fn reply_old(c: &mut Call, old: Option<Vec<u8>>) {
    match old {
        Some(v) => c.out.bulk(&v),
        None => c.out.null(),
    }
}

fn setnx(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    if e.lookup(db, key).is_some() {
        c.out.int(0);
        return;
    }
    e.insert_value(db, key, Value::from_bytes(c.arg(2)));
    e.notify(STRING, "set", db, key);
    e.dirty += 1;
    c.out.int(1);
}

fn set_with_ttl(e: &mut Engine, c: &mut Call, unit: ExpireUnit, name: &str) {
    let Some(at) = absolute_expire(e, c, c.arg(2), unit, name) else { return };
    let (db, key, val) = (c.db(), c.arg(1), c.arg(3));
    let slot = e.set_value(db, key, Value::from_bytes(val), false);
    e.notify(STRING, "set", db, key);
    e.dbs[db].set_expire(slot, at);
    e.notify(GENERIC, "expire", db, key);
    e.dirty += 1;
    let mut num = itoa_buf();
    c.propagate_as(&[b"SET", key, val, b"PXAT", fmt_i64(at, &mut num)]);
    c.out.ok();
}

fn setex(e: &mut Engine, c: &mut Call) {
    set_with_ttl(e, c, ExpireUnit::Seconds, "setex");
}

fn psetex(e: &mut Engine, c: &mut Call) {
    set_with_ttl(e, c, ExpireUnit::Millis, "psetex");
}

fn mget(e: &mut Engine, c: &mut Call) {
    c.out.array(c.argc() - 1);
    for i in 1..c.argc() {
        match e.value(c.db(), c.arg(i)) {
            Some(Value::Str(s)) => s.with_bytes(|b| c.out.bulk(b)),
            _ => c.out.null(),
        }
    }
}

fn mset_pairs(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    for pair in c.args[1..].chunks(2) {
        e.set_value(db, pair[0], Value::from_bytes(pair[1]), false);
        e.notify(STRING, "set", db, pair[0]);
    }
    e.dirty += (c.argc() as u64 - 1) / 2;
}

fn mset(e: &mut Engine, c: &mut Call) {
    if c.argc().is_multiple_of(2) {
        c.wrong_args("mset");
        return;
    }
    mset_pairs(e, c);
    c.out.ok();
}

fn msetnx(e: &mut Engine, c: &mut Call) {
    if c.argc().is_multiple_of(2) {
        c.wrong_args("msetnx");
        return;
    }
    let db = c.db();
    let any_exists = (1..c.argc()).step_by(2).any(|i| e.lookup(db, c.arg(i)).is_some());
    if any_exists {
        c.out.int(0);
        return;
    }
    mset_pairs(e, c);
    c.out.int(1);
}

/// Adds `delta` to the integer at `key` (created as 0).
fn incr_by(e: &mut Engine, c: &mut Call, delta: i64) {
    let (db, key) = (c.db(), c.arg(1));
    // One lookup: the value is updated in place through its slot.
    let slot = e.lookup(db, key);
    let current = match slot.map(|s| e.dbs[db].value(s)) {
        None => 0,
        Some(Value::Str(s)) => match s.as_int() {
            Some(n) => n,
            None => return c.out.error(NOT_INTEGER),
        },
        Some(_) => return c.out.error(WRONGTYPE),
    };
    let Some(next) = current.checked_add(delta) else {
        return c.out.error("ERR increment or decrement would overflow");
    };
    match slot {
        Some(s) => *e.dbs[db].value_mut(s) = Value::Str(Str::Int(next)),
        None => {
            e.insert_value(db, key, Value::Str(Str::Int(next)));
        }
    }
    e.notify(STRING, "incrby", db, key);
    e.dirty += 1;
    c.out.int(next);
}

fn incr(e: &mut Engine, c: &mut Call) {
    incr_by(e, c, 1);
}

fn decr(e: &mut Engine, c: &mut Call) {
    incr_by(e, c, -1);
}

fn incrby(e: &mut Engine, c: &mut Call) {
    if let Some(d) = c.int_arg(2) {
        incr_by(e, c, d);
    }
}

fn decrby(e: &mut Engine, c: &mut Call) {
    let Some(d) = c.int_arg(2) else { return };
    match d.checked_neg() {
        Some(neg) => incr_by(e, c, neg),
        None => c.out.error("ERR decrement would overflow"),
    }
}

fn incrbyfloat(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    // Redis's order of errors: the key's type, its value, then the increment.
    let current = match str_to_write(e, c, key) {
        Err(()) => return,
        Ok(None) => LongDouble::ZERO,
        Ok(Some(s)) => match s.with_bytes(LongDouble::parse) {
            Some(v) => v,
            None => return c.out.error("ERR value is not a valid float"),
        },
    };
    let Some(delta) = c.long_double_arg(2) else { return };
    let next = current + delta;
    if !next.is_finite() {
        return c.out.error("ERR increment would produce NaN or Infinity");
    }
    let text = next.to_human();
    e.set_value(db, key, Value::Str(Str::raw(text.as_bytes())), true);
    e.notify(STRING, "incrbyfloat", db, key);
    e.dirty += 1;
    // Replaying the float addition could round differently: log the result.
    c.propagate_as(&[b"SET", key, text.as_bytes(), b"KEEPTTL"]);
    c.out.bulk(text.as_bytes());
}

/// The string at the key in argument 1 as a buffer to change in place, a
/// missing key created empty, its TTL kept; None after a WRONGTYPE reply.
/// The caller bumps `dirty` if it changes something.
pub(crate) fn string_buffer<'e>(e: &'e mut Engine, c: &mut Call) -> Option<&'e mut Vec<u8>> {
    let (db, key) = (c.db(), c.arg(1));
    let slot = match e.lookup(db, key) {
        Some(slot) => slot,
        None => e.insert_value(db, key, Value::Str(Str::raw(b""))),
    };
    let Value::Str(s) = e.dbs[db].value_mut(slot) else {
        c.out.error(WRONGTYPE);
        return None;
    };
    Some(s.edit())
}

/// Changes the string at `key` in place through `f` (a missing key starts
/// empty), keeping its TTL; returns the new length, or None after a
/// WRONGTYPE reply.
fn edit_string(e: &mut Engine, c: &mut Call, f: impl FnOnce(&mut Vec<u8>)) -> Option<usize> {
    let buf = string_buffer(e, c)?;
    f(buf);
    let len = buf.len();
    e.dirty += 1;
    Some(len)
}

fn append(e: &mut Engine, c: &mut Call) {
    let extra = c.arg(2);
    let current = match str_to_write(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(s) => s.map(|s| s.len()),
    };
    let Some(current) = current else {
        // A new key holds the argument as SET stores it (Redis: an integer
        // or a short string keeps its compact encoding).
        let (db, key) = (c.db(), c.arg(1));
        e.set_value(db, key, Value::from_bytes(extra), false);
        e.notify(STRING, "append", db, key);
        e.dirty += 1;
        return c.out.int(extra.len() as i64);
    };
    if current + extra.len() > MAX_STRING {
        return c.out.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    if let Some(len) = edit_string(e, c, |b| {
        let end = b.len() + extra.len();
        resize_greedy(b, end);
        b[end - extra.len()..].copy_from_slice(extra);
    }) {
        e.notify(STRING, "append", c.db(), c.arg(1));
        c.out.int(len as i64);
    }
}

fn strlen(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_str(e, c, c.arg(1)) {
        c.out.int(found.map_or(0, |s| s.len()) as i64);
    }
}

/// Clamps Redis-style inclusive (start, end) indexes, negatives from the end.
pub fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    s = s.max(0);
    e = e.max(0);
    if len == 0 || s > e || s >= len {
        return None;
    }
    e = e.min(len - 1);
    Some((s as usize, e as usize))
}

fn getrange(e: &mut Engine, c: &mut Call) {
    // One at a time: a bad start must not also report a bad end (one reply).
    let Some(start) = c.int_arg(2) else { return };
    let Some(end) = c.int_arg(3) else { return };
    let Ok(found) = read_str(e, c, c.arg(1)) else { return };
    // Redis answers "" when both indexes are negative and start > end.
    if start < 0 && end < 0 && start > end {
        return c.out.bulk(b"");
    }
    // Only the range is copied, into the reply: GETRANGE on a big string
    // costs the bytes it returns.
    let reply = |bytes: &[u8], c: &mut Call| match clamp_range(start, end, bytes.len()) {
        Some((s, e)) => c.out.bulk(&bytes[s..=e]),
        None => c.out.bulk(b""),
    };
    match found {
        Some(s) => s.with_bytes(|b| reply(b, c)),
        None => reply(b"", c),
    }
}

fn setrange(e: &mut Engine, c: &mut Call) {
    let Some(offset) = c.int_arg(2) else { return };
    if offset < 0 {
        return c.out.error("ERR offset is out of range");
    }
    let value = c.arg(3);
    let current = match str_to_write(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(s) => s.map(|s| s.len()),
    };
    if value.is_empty() {
        // Nothing to write: the key is not created.
        return c.out.int(current.unwrap_or(0) as i64);
    }
    if offset as usize + value.len() > MAX_STRING {
        return c.out.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    let offset = offset as usize;
    let done = edit_string(e, c, |b| {
        if b.len() < offset + value.len() {
            resize_greedy(b, offset + value.len());
        }
        b[offset..offset + value.len()].copy_from_slice(value);
    });
    if let Some(len) = done {
        e.notify(STRING, "setrange", c.db(), c.arg(1));
        c.out.int(len as i64);
    }
}

fn getset(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    let old = match read_str(e, c, key) {
        Err(()) => return,
        Ok(found) => found.map(|s| s.bytes().into_owned()),
    };
    e.set_value(db, key, Value::from_bytes(c.arg(2)), false);
    e.notify(STRING, "set", db, key);
    e.dirty += 1;
    reply_old(c, old);
}

fn getdel(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    let old = match read_str(e, c, key) {
        Err(()) => return,
        Ok(found) => found.map(|s| s.bytes().into_owned()),
    };
    if old.is_some() {
        e.delete_key(db, key);
        e.dirty += 1;
        c.propagate_as(&[b"DEL", key]);
        e.notify(GENERIC, "del", db, key);
    }
    reply_old(c, old);
}

fn getex(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    let mut expire: Option<(ExpireUnit, usize)> = None;
    let mut persist = false;
    let mut i = 2;
    while i < c.argc() {
        let word = c.arg(i).to_ascii_uppercase();
        match expire_unit(&word) {
            Some(unit) if i + 1 < c.argc() && expire.is_none() && !persist => {
                i += 1;
                expire = Some((unit, i));
            }
            None if word == b"PERSIST" && expire.is_none() => persist = true,
            _ => return c.out.error(SYNTAX),
        }
        i += 1;
    }
    // Redis judges the time only for an existing string key.
    let value = match read_str(e, c, key) {
        Err(()) => return,
        Ok(None) => return c.out.null(),
        Ok(Some(s)) => s.bytes().into_owned(),
    };
    let absolute = matches!(expire, Some((ExpireUnit::UnixSeconds | ExpireUnit::UnixMillis, _)));
    let expire_at = match expire {
        Some((unit, at)) => match absolute_expire(e, c, c.arg(at), unit, "getex") {
            Some(at) => Some(at),
            None => return,
        },
        None => None,
    };
    c.out.bulk(&value);
    let slot = e.lookup(db, key).expect("key just read");
    if let Some(at) = expire_at {
        e.dirty += 1;
        if absolute && at <= e.now {
            // EXAT/PXAT in the past deletes the key now, as Redis does.
            e.delete_key(db, key);
            c.propagate_as(&[b"DEL", key]);
            return e.notify(GENERIC, "del", db, key);
        }
        e.dbs[db].set_expire(slot, at);
        let mut num = itoa_buf();
        c.propagate_as(&[b"PEXPIREAT", key, fmt_i64(at, &mut num)]);
        e.notify(GENERIC, "expire", db, key);
    } else if persist && e.dbs[db].persist(slot) {
        e.dirty += 1;
        c.propagate_as(&[b"PERSIST", key]);
        e.notify(GENERIC, "persist", db, key);
    }
}

/// An option word as Redis's strcasecmp sees the argument: C text, read
/// up to its first NUL byte.
fn c_word_is(arg: &[u8], word: &str) -> bool {
    let text = arg.iter().position(|&b| b == 0).map_or(arg, |nul| &arg[..nul]);
    text.eq_ignore_ascii_case(word.as_bytes())
}

/// The bytes of a string (an integer as its decimal text) or "" for a
/// missing key; None for another type.
fn lcs_operand(found: Option<&Value>) -> Option<Vec<u8>> {
    match found {
        None => Some(Vec::new()),
        Some(Value::Str(s)) => Some(s.bytes().into_owned()),
        Some(_) => None,
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
fn lcs(e: &mut Engine, c: &mut Call) {
    // Both keys are looked up (hits, misses, expiry) before either's type
    // is judged, and the type before the options, as in Redis.
    let db = c.db();
    let a = lcs_operand(e.value(db, c.arg(1)));
    let b = lcs_operand(e.value(db, c.arg(2)));
    let (Some(a), Some(b)) = (a, b) else {
        return c.out.error("ERR The specified keys must contain string values");
    };
    let (mut len, mut idx, mut with_match_len, mut min_match_len) = (false, false, false, 0i64);
    let mut i = 3;
    while i < c.argc() {
        let opt = c.arg(i);
        if c_word_is(opt, "IDX") {
            idx = true;
        } else if c_word_is(opt, "LEN") {
            len = true;
        } else if c_word_is(opt, "WITHMATCHLEN") {
            with_match_len = true;
        } else if c_word_is(opt, "MINMATCHLEN") && i + 1 < c.argc() {
            let Some(n) = c.int_arg(i + 1) else { return };
            min_match_len = n.max(0);
            i += 1;
        } else {
            return c.out.error(SYNTAX);
        }
        i += 1;
    }
    if len && idx {
        return c.out.error("ERR If you want both the length and indexes, please just use IDX.");
    }
    let table = match crate::lcs::table(&a, &b, e.config.proto_max_bulk_len) {
        Ok(table) => table,
        Err(err) => return c.out.error(err.message()),
    };
    if len {
        return c.out.int(i64::from(table.len()));
    }
    let walk = table.walk(!idx, idx, min_match_len);
    if let Some(matches) = walk.matches {
        c.out.map(2);
        c.out.bulk(b"matches");
        c.out.array(matches.len());
        for m in &matches {
            c.out.array(2 + usize::from(with_match_len));
            c.out.array(2);
            c.out.int(i64::from(m.a.0));
            c.out.int(i64::from(m.a.1));
            c.out.array(2);
            c.out.int(i64::from(m.b.0));
            c.out.int(i64::from(m.b.1));
            if with_match_len {
                c.out.int(i64::from(m.len));
            }
        }
        c.out.bulk(b"len");
        c.out.int(i64::from(table.len()));
    } else if let Some(string) = walk.string {
        c.out.bulk(&string);
    }
}

#[cfg(test)]
mod tests {
    use super::{c_word_is, clamp_range};

    #[test]
    fn options_read_as_c_text() {
        assert!(c_word_is(b"idx", "IDX"));
        assert!(c_word_is(b"LEN\0junk", "LEN"));
        assert!(!c_word_is(b"LENx", "LEN"));
        assert!(!c_word_is(b"\0LEN", "LEN"));
    }

    #[test]
    fn clamps_like_redis() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-2, -1, 5), Some((3, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(0, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(7, 9, 5), None);
        assert_eq!(clamp_range(0, 0, 0), None);
    }
}
