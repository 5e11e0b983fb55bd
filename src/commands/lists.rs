//! List commands, blocking pops included, with Redis 7.0's replies and errors.
//!
//! Blocking commands serve at once when a key has data; otherwise they park
//! the client through `Call::block_on` and reply nothing. The engine runs the
//! same handler again when a watched key is written (it parks again if another
//! client was faster) or, with `no_block` set, at the deadline. Served blocking
//! pops are logged to the AOF as the plain pops they amount to.

use crate::engine::key_finders::{counted_first, counted_second};
use crate::engine::notify::{GENERIC, LIST};
use crate::engine::table::{cmd, CommandSpec, BLOCKING, DENYOOM, FAST, READONLY, WRITE};
use crate::engine::{Call, Engine, SYNTAX};
use crate::strtod::parse_f64;
use crate::types::{Limits, List, Value, WRONGTYPE};
use crate::util::{fmt_i64, itoa_buf, parse_i64};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("lpush", -3, WRITE | DENYOOM | FAST, (1, 1, 1), lpush),
    cmd("rpush", -3, WRITE | DENYOOM | FAST, (1, 1, 1), rpush),
    cmd("lpushx", -3, WRITE | DENYOOM | FAST, (1, 1, 1), lpushx),
    cmd("rpushx", -3, WRITE | DENYOOM | FAST, (1, 1, 1), rpushx),
    cmd("lpop", -2, WRITE | FAST, (1, 1, 1), lpop),
    cmd("rpop", -2, WRITE | FAST, (1, 1, 1), rpop),
    cmd("llen", 2, READONLY | FAST, (1, 1, 1), llen),
    cmd("lrange", 4, READONLY, (1, 1, 1), lrange),
    cmd("lindex", 3, READONLY, (1, 1, 1), lindex),
    cmd("lset", 4, WRITE | DENYOOM, (1, 1, 1), lset),
    cmd("lrem", 4, WRITE, (1, 1, 1), lrem),
    cmd("ltrim", 4, WRITE, (1, 1, 1), ltrim),
    cmd("linsert", 5, WRITE | DENYOOM, (1, 1, 1), linsert),
    cmd("lpos", -3, READONLY, (1, 1, 1), lpos),
    cmd("lmove", 5, WRITE | DENYOOM, (1, 2, 1), lmove),
    cmd("rpoplpush", 3, WRITE | DENYOOM, (1, 2, 1), rpoplpush),
    // Movable keys: LMPOP/BLMPOP signal the key they pop from themselves.
    cmd("lmpop", -4, WRITE, (0, 0, 0), lmpop).keys_by(counted_first),
    cmd("blpop", -3, WRITE | BLOCKING, (1, -2, 1), blpop),
    cmd("brpop", -3, WRITE | BLOCKING, (1, -2, 1), brpop),
    cmd("blmove", 6, WRITE | DENYOOM | BLOCKING, (1, 2, 1), blmove),
    cmd("brpoplpush", 4, WRITE | DENYOOM | BLOCKING, (1, 2, 1), brpoplpush),
    cmd("blmpop", -5, WRITE | BLOCKING, (0, 0, 0), blmpop).keys_by(counted_second),
];

const NO_SUCH_KEY: &str = "ERR no such key";
const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
/// Redis 7.0's text (later versions reworded the end).
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

/// What a key holds, looked up for writing (lazy expiry, no hit/miss stats).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Missing,
    List,
    Other,
}

fn kind(e: &mut Engine, db: usize, key: &[u8]) -> Kind {
    match e.value_mut(db, key) {
        None => Kind::Missing,
        Some(Value::List(_)) => Kind::List,
        Some(_) => Kind::Other,
    }
}

/// The list at `key` for reading: Ok(None) if missing, Err after WRONGTYPE.
fn read_list<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e List>, ()> {
    match e.value(c.db(), key) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// The list at `key` for writing: Ok(None) if missing, Err after WRONGTYPE.
fn write_list<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e mut List>, ()> {
    match e.value_mut(c.db(), key) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

fn new_list(e: &Engine) -> List {
    List::new(Limits::from_config(&e.config).list_max_listpack_size)
}

/// Deletes the list at `key` if commands left it empty (Redis never keeps
/// empty lists).
fn delete_if_empty(e: &mut Engine, db: usize, key: &[u8]) {
    if matches!(e.value_mut(db, key), Some(Value::List(l)) if l.is_empty()) {
        e.delete_key(db, key);
        e.notify(GENERIC, "del", db, key);
    }
}

fn push_event(front: bool) -> &'static str {
    if front {
        "lpush"
    } else {
        "rpush"
    }
}

fn pop_event(front: bool) -> &'static str {
    if front {
        "lpop"
    } else {
        "rpop"
    }
}

/// Pushes `values` in order at one end of `key`'s list, creating it; returns
/// the new length. The caller has checked the key is a list or missing, and
/// counts the change in `dirty`.
fn push_values(e: &mut Engine, db: usize, key: &[u8], values: &[&[u8]], front: bool) -> usize {
    let slot = match e.lookup(db, key) {
        Some(slot) => slot,
        None => {
            let list = new_list(e);
            e.insert_value(db, key, Value::List(Box::new(list)))
        }
    };
    let Value::List(list) = e.dbs[db].value_mut(slot) else {
        unreachable!("callers check the type");
    };
    for v in values {
        if front {
            list.push_front(v);
        } else {
            list.push_back(v);
        }
    }
    let len = list.len();
    e.notify(LIST, push_event(front), db, key);
    len
}

/// Pops up to `n` elements from one end of the list at `key` (a live list),
/// deleting the key when it empties.
fn pop_values(e: &mut Engine, db: usize, key: &[u8], front: bool, n: usize) -> Vec<Vec<u8>> {
    let Some(Value::List(l)) = e.value_mut(db, key) else {
        return Vec::new();
    };
    let n = n.min(l.len());
    if n == 0 {
        return Vec::new();
    }
    let popped: Vec<Vec<u8>> = (0..n).filter_map(|_| if front { l.pop_front() } else { l.pop_back() }).collect();
    let empty = l.is_empty();
    e.notify(LIST, pop_event(front), db, key);
    if empty {
        e.delete_key(db, key);
        e.notify(GENERIC, "del", db, key);
    }
    e.dirty += popped.len() as u64;
    popped
}

fn side_name(front: bool) -> &'static [u8] {
    if front {
        b"LEFT"
    } else {
        b"RIGHT"
    }
}

fn pop_name(front: bool) -> &'static [u8] {
    if front {
        b"LPOP"
    } else {
        b"RPOP"
    }
}

// ---- pushes -------------------------------------------------------------

fn push_cmd(e: &mut Engine, c: &mut Call, front: bool, only_existing: bool) {
    let (db, key) = (c.db(), c.arg(1));
    match kind(e, db, key) {
        Kind::Other => return c.out.error(WRONGTYPE),
        Kind::Missing if only_existing => return c.out.int(0),
        _ => {}
    }
    let len = push_values(e, db, key, &c.args[2..], front);
    e.dirty += (c.argc() - 2) as u64;
    c.out.int(len as i64);
}

fn lpush(e: &mut Engine, c: &mut Call) {
    push_cmd(e, c, true, false);
}

fn rpush(e: &mut Engine, c: &mut Call) {
    push_cmd(e, c, false, false);
}

fn lpushx(e: &mut Engine, c: &mut Call) {
    push_cmd(e, c, true, true);
}

fn rpushx(e: &mut Engine, c: &mut Call) {
    push_cmd(e, c, false, true);
}

// ---- pops ---------------------------------------------------------------

fn pop_cmd(e: &mut Engine, c: &mut Call, front: bool) {
    if c.argc() > 3 {
        return c.wrong_args(if front { "lpop" } else { "rpop" });
    }
    let count = if c.argc() == 3 {
        let Some(n) = c.positive_arg(2) else { return };
        Some(n)
    } else {
        None
    };
    let (db, key) = (c.db(), c.arg(1));
    match kind(e, db, key) {
        Kind::Other => return c.out.error(WRONGTYPE),
        Kind::Missing if count.is_some() => return c.out.null_array(),
        Kind::Missing => return c.out.null(),
        Kind::List => {}
    }
    match count {
        None => {
            let v = pop_values(e, db, key, front, 1);
            c.out.bulk(&v[0]);
        }
        Some(n) => {
            let popped = pop_values(e, db, key, front, n);
            c.out.array(popped.len());
            for v in &popped {
                c.out.bulk(v);
            }
        }
    }
}

fn lpop(e: &mut Engine, c: &mut Call) {
    pop_cmd(e, c, true);
}

fn rpop(e: &mut Engine, c: &mut Call) {
    pop_cmd(e, c, false);
}

// ---- reads and in-place edits -------------------------------------------

fn llen(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_list(e, c, c.arg(1)) {
        c.out.int(found.map_or(0, |l| l.len() as i64));
    }
}

fn lrange(e: &mut Engine, c: &mut Call) {
    let Some(start) = c.int_arg(2) else { return };
    let Some(stop) = c.int_arg(3) else { return };
    match read_list(e, c, c.arg(1)) {
        Err(()) => {}
        Ok(None) => c.out.array(0),
        Ok(Some(l)) => {
            let range = l.range(start, stop);
            c.out.array(range.len());
            for item in range {
                item.with_bytes(|b| c.out.bulk(b));
            }
        }
    }
}

fn lindex(e: &mut Engine, c: &mut Call) {
    let list = match read_list(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return c.out.null(),
        Ok(Some(l)) => l,
    };
    let Some(index) = c.int_arg(2) else { return };
    match list.get(index) {
        Some(item) => item.with_bytes(|b| c.out.bulk(b)),
        None => c.out.null(),
    }
}

fn lset(e: &mut Engine, c: &mut Call) {
    let list = match write_list(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return c.out.error(NO_SUCH_KEY),
        Ok(Some(l)) => l,
    };
    let Some(index) = c.int_arg(2) else { return };
    if !list.set(index, c.arg(3)) {
        return c.out.error("ERR index out of range");
    }
    e.notify(LIST, "lset", c.db(), c.arg(1));
    e.dirty += 1;
    c.out.ok();
}

fn lrem(e: &mut Engine, c: &mut Call) {
    let Some(count) = c.int_arg(2) else { return };
    let (db, key) = (c.db(), c.arg(1));
    let removed = match write_list(e, c, key) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(l)) => l.remove(count, c.arg(3)),
    };
    if removed > 0 {
        e.notify(LIST, "lrem", db, key);
        delete_if_empty(e, db, key);
        e.dirty += removed as u64;
    }
    c.out.int(removed as i64);
}

fn ltrim(e: &mut Engine, c: &mut Call) {
    let Some(start) = c.int_arg(2) else { return };
    let Some(stop) = c.int_arg(3) else { return };
    let (db, key) = (c.db(), c.arg(1));
    let removed = match write_list(e, c, key) {
        Err(()) => return,
        Ok(None) => return c.out.ok(),
        Ok(Some(l)) => {
            let before = l.len();
            l.trim(start, stop);
            before - l.len()
        }
    };
    e.notify(LIST, "ltrim", db, key);
    if removed > 0 {
        delete_if_empty(e, db, key);
        e.dirty += removed as u64;
    }
    c.out.ok();
}

fn linsert(e: &mut Engine, c: &mut Call) {
    let before = if c.is(2, "BEFORE") {
        true
    } else if c.is(2, "AFTER") {
        false
    } else {
        return c.out.error(SYNTAX);
    };
    let list = match write_list(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return c.out.int(0),
        Ok(Some(l)) => l,
    };
    match list.insert(before, c.arg(3), c.arg(4)) {
        Some(len) => {
            e.notify(LIST, "linsert", c.db(), c.arg(1));
            e.dirty += 1;
            c.out.int(len as i64);
        }
        None => c.out.int(-1),
    }
}

/// LPOS options: RANK (never 0), COUNT (None when absent), MAXLEN.
struct PosOptions {
    rank: i64,
    count: Option<usize>,
    maxlen: usize,
}

fn parse_lpos(c: &mut Call) -> Option<PosOptions> {
    let mut o = PosOptions { rank: 1, count: None, maxlen: 0 };
    let mut j = 3;
    while j < c.argc() {
        let more = j + 1 < c.argc();
        if c.is(j, "RANK") && more {
            j += 1;
            o.rank = c.int_arg(j)?;
            if o.rank == 0 {
                c.out.error(RANK_ZERO);
                return None;
            }
        } else if c.is(j, "COUNT") && more {
            j += 1;
            let Some(n) = parse_i64(c.arg(j)).filter(|&n| n >= 0) else {
                c.out.error("ERR COUNT can't be negative");
                return None;
            };
            o.count = Some(n as usize);
        } else if c.is(j, "MAXLEN") && more {
            j += 1;
            let Some(n) = parse_i64(c.arg(j)).filter(|&n| n >= 0) else {
                c.out.error("ERR MAXLEN can't be negative");
                return None;
            };
            o.maxlen = n as usize;
        } else {
            c.out.error(SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(o)
}

fn lpos(e: &mut Engine, c: &mut Call) {
    let Some(o) = parse_lpos(c) else { return };
    let found = match read_list(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => Vec::new(),
        Ok(Some(l)) => l.position(c.arg(2), o.rank, o.count.unwrap_or(1), o.maxlen),
    };
    match o.count {
        Some(_) => {
            c.out.array(found.len());
            for i in found {
                c.out.int(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => c.out.int(i as i64),
            None => c.out.null(),
        },
    }
}

// ---- moves --------------------------------------------------------------

/// LEFT → true (head), RIGHT → false; a syntax error reply otherwise.
fn side_arg(c: &mut Call, i: usize) -> Option<bool> {
    c.either(i, "LEFT", "RIGHT")
}

/// Moves one element from the non-empty list `src` to `dst` and replies
/// with it, or replies WRONGTYPE when `dst` holds something else.
fn move_and_reply(e: &mut Engine, c: &mut Call, src: &[u8], dst: &[u8], from_front: bool, to_front: bool) -> bool {
    let db = c.db();
    if kind(e, db, dst) == Kind::Other {
        c.out.error(WRONGTYPE);
        return false;
    }
    let Some(Value::List(l)) = e.value_mut(db, src) else {
        unreachable!("caller checked the source list");
    };
    let Some(v) = (if from_front { l.pop_front() } else { l.pop_back() }) else {
        unreachable!("lists are never empty");
    };
    // Redis pushes before it announces the pop and deletes an emptied source.
    let empty = l.is_empty();
    if src == dst {
        // Rotation: the list never empties.
        if to_front {
            l.push_front(&v);
        } else {
            l.push_back(&v);
        }
        e.notify(LIST, push_event(to_front), db, dst);
    } else {
        push_values(e, db, dst, &[&v], to_front);
    }
    e.notify(LIST, pop_event(from_front), db, src);
    if empty && src != dst {
        e.delete_key(db, src);
        e.notify(GENERIC, "del", db, src);
    }
    e.dirty += 1;
    c.out.bulk(&v);
    true
}

fn lmove_generic(e: &mut Engine, c: &mut Call, from_front: bool, to_front: bool) {
    let (db, src, dst) = (c.db(), c.arg(1), c.arg(2));
    match kind(e, db, src) {
        Kind::Other => c.out.error(WRONGTYPE),
        Kind::Missing => c.out.null(),
        Kind::List => {
            move_and_reply(e, c, src, dst, from_front, to_front);
        }
    }
}

fn lmove(e: &mut Engine, c: &mut Call) {
    let Some(from) = side_arg(c, 3) else { return };
    let Some(to) = side_arg(c, 4) else { return };
    lmove_generic(e, c, from, to);
}

fn rpoplpush(e: &mut Engine, c: &mut Call) {
    lmove_generic(e, c, false, true);
}

// ---- multi-key pops -----------------------------------------------------

/// Parsed `numkeys key… LEFT|RIGHT [COUNT n]` of LMPOP/BLMPOP.
#[derive(Debug, PartialEq, Eq)]
struct MPop {
    first_key: usize,
    numkeys: usize,
    front: bool,
    count: Option<usize>,
}

fn parse_mpop(c: &mut Call, numkeys_at: usize) -> Option<MPop> {
    let Some(numkeys) = parse_i64(c.arg(numkeys_at)).filter(|&n| n > 0) else {
        c.out.error("ERR numkeys should be greater than 0");
        return None;
    };
    let side_at = match usize::try_from(numkeys) {
        Ok(n) if n < c.argc() => numkeys_at + 1 + n,
        _ => c.argc(),
    };
    if side_at >= c.argc() {
        c.out.error(SYNTAX);
        return None;
    }
    let front = side_arg(c, side_at)?;
    let mut count = None;
    let mut j = side_at + 1;
    while j < c.argc() {
        if count.is_none() && c.is(j, "COUNT") && j + 1 < c.argc() {
            j += 1;
            match parse_i64(c.arg(j)).filter(|&n| n > 0) {
                Some(n) => count = Some(n as usize),
                None => {
                    c.out.error("ERR count should be greater than 0");
                    return None;
                }
            }
        } else {
            c.out.error(SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(MPop { first_key: numkeys_at + 1, numkeys: numkeys as usize, front, count })
}

/// The first of the key arguments `keys` holding a list, checking types in
/// order as Redis does: Err after a WRONGTYPE reply. With `skip_other` (a
/// parked client's re-run) keys of another type are passed over, as Redis
/// 7.0 only serves parked clients from lists.
fn first_ready(
    e: &mut Engine,
    c: &mut Call,
    keys: std::ops::Range<usize>,
    skip_other: bool,
) -> Result<Option<usize>, ()> {
    let db = c.db();
    for i in keys {
        match kind(e, db, c.arg(i)) {
            Kind::Missing => {}
            Kind::List => return Ok(Some(i)),
            Kind::Other if skip_other => {}
            Kind::Other => {
                c.out.error(WRONGTYPE);
                return Err(());
            }
        }
    }
    Ok(None)
}

/// Pops from the list at argument `at` for (B)LMPOP, replies [key, [elements]]
/// and logs `LPOP|RPOP key count`.
fn mpop_serve(e: &mut Engine, c: &mut Call, at: usize, front: bool, count: usize) {
    let (db, key) = (c.db(), c.arg(at));
    let popped = pop_values(e, db, key, front, count);
    e.signal_modified(db, key);
    let mut num = itoa_buf();
    c.propagate_as(&[pop_name(front), key, fmt_i64(popped.len() as i64, &mut num)]);
    c.out.array(2);
    c.out.bulk(key);
    c.out.array(popped.len());
    for v in &popped {
        c.out.bulk(v);
    }
}

fn lmpop(e: &mut Engine, c: &mut Call) {
    let Some(m) = parse_mpop(c, 1) else { return };
    match first_ready(e, c, m.first_key..m.first_key + m.numkeys, false) {
        Err(()) => {}
        Ok(None) => c.out.null_array(),
        Ok(Some(at)) => mpop_serve(e, c, at, m.front, m.count.unwrap_or(1)),
    }
}

// ---- blocking -----------------------------------------------------------

/// A blocking command's timeout in ms, rounded up (0 = forever), or the
/// Redis error text. Like Redis 7.0, values past the i64 range of ms count
/// as negative.
fn parse_timeout(arg: &[u8]) -> Result<i64, &'static str> {
    let secs = parse_f64(arg).ok_or(TIMEOUT_NOT_FLOAT)?;
    let ms = (secs * 1000.0).ceil();
    if !(0.0..i64::MAX as f64).contains(&ms) {
        return Err(TIMEOUT_NEGATIVE);
    }
    Ok(ms as i64)
}

/// The absolute deadline for the timeout at argument `i` (Ok(None) =
/// forever), or Err after the error reply.
fn deadline_arg(e: &Engine, c: &mut Call, i: usize) -> Result<Option<i64>, ()> {
    match parse_timeout(c.arg(i)) {
        Ok(0) => Ok(None),
        Ok(ms) => Ok(Some(e.now.saturating_add(ms))),
        Err(text) => {
            c.out.error(text);
            Err(())
        }
    }
}

/// Whether this run is the engine re-running the command of a client parked
/// on `key` (woken, or timed out when `no_block` is set) rather than its
/// first run or a run inside EXEC.
fn parked(e: &Engine, c: &Call, key: &[u8]) -> bool {
    e.blocking.waits(c.client.id, c.db(), key)
}

fn keys_of(c: &Call, keys: std::ops::Range<usize>) -> Vec<Vec<u8>> {
    keys.map(|i| c.arg(i).to_vec()).collect()
}

fn bpop_generic(e: &mut Engine, c: &mut Call, front: bool) {
    let last = c.argc() - 1;
    let Ok(deadline) = deadline_arg(e, c, last) else { return };
    let rerun = parked(e, c, c.arg(1));
    match first_ready(e, c, 1..last, rerun) {
        Err(()) => {}
        Ok(Some(at)) => {
            let (db, key) = (c.db(), c.arg(at));
            let v = pop_values(e, db, key, front, 1);
            c.propagate_as(&[pop_name(front), key]);
            c.out.array(2);
            c.out.bulk(key);
            c.out.bulk(&v[0]);
        }
        Ok(None) if c.no_block => c.out.null_array(),
        Ok(None) => {
            let keys = keys_of(c, 1..last);
            c.block_on(keys, deadline);
        }
    }
}

fn blpop(e: &mut Engine, c: &mut Call) {
    bpop_generic(e, c, true);
}

fn brpop(e: &mut Engine, c: &mut Call) {
    bpop_generic(e, c, false);
}

fn bmove_generic(e: &mut Engine, c: &mut Call, from_front: bool, to_front: bool, timeout_at: usize) {
    let Ok(deadline) = deadline_arg(e, c, timeout_at) else { return };
    let (db, src, dst) = (c.db(), c.arg(1), c.arg(2));
    let rerun = parked(e, c, src);
    let servable = match kind(e, db, src) {
        Kind::Other if !rerun => return c.out.error(WRONGTYPE),
        Kind::List => true,
        // A parked client waits on while the source holds another type.
        _ => false,
    };
    if servable {
        if move_and_reply(e, c, src, dst, from_front, to_front) {
            if timeout_at == 3 {
                c.propagate_as(&[b"RPOPLPUSH", src, dst]);
            } else {
                c.propagate_as(&[b"LMOVE", src, dst, side_name(from_front), side_name(to_front)]);
            }
        }
    } else if rerun && c.no_block {
        // Timed out: Redis answers a null array, unlike the null bulk of a
        // run inside MULTI.
        c.out.null_array();
    } else if c.no_block {
        c.out.null();
    } else {
        c.block_on(vec![src.to_vec()], deadline);
    }
}

fn blmove(e: &mut Engine, c: &mut Call) {
    let Some(from) = side_arg(c, 3) else { return };
    let Some(to) = side_arg(c, 4) else { return };
    bmove_generic(e, c, from, to, 5);
}

fn brpoplpush(e: &mut Engine, c: &mut Call) {
    bmove_generic(e, c, false, true, 3);
}

fn blmpop(e: &mut Engine, c: &mut Call) {
    let Some(m) = parse_mpop(c, 2) else { return };
    let Ok(deadline) = deadline_arg(e, c, 1) else { return };
    let keys = m.first_key..m.first_key + m.numkeys;
    let rerun = parked(e, c, c.arg(m.first_key));
    match first_ready(e, c, keys.clone(), rerun) {
        Err(()) => {}
        Ok(Some(at)) => mpop_serve(e, c, at, m.front, m.count.unwrap_or(1)),
        Ok(None) if c.no_block => c.out.null_array(),
        Ok(None) => {
            let keys = keys_of(c, keys);
            c.block_on(keys, deadline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::resp::Batch;

    /// An engine with the AOF feed on and two connected clients (1 and 2).
    fn engine() -> Engine {
        let mut e = Engine::new(Config::default());
        e.aof.enabled = true;
        e.connect(1, "a".into(), "l".into());
        e.connect(2, "b".into(), "l".into());
        e
    }

    fn run(e: &mut Engine, id: u64, cmd: &[&str]) -> String {
        let out = e.execute(id, Batch::from_commands(&[cmd.to_vec()]));
        String::from_utf8_lossy(&out.data).into_owned()
    }

    /// The AOF records produced so far, as words (SELECT dropped).
    fn records(e: &mut Engine) -> Vec<String> {
        let data = e.aof.take();
        let mut r = crate::aof::reader::AofReader::new(&data[..]);
        let mut out = Vec::new();
        while let Some(cmd) = r.next_command().expect("valid records") {
            let words: Vec<String> = cmd.iter().map(|w| String::from_utf8_lossy(w).into_owned()).collect();
            if words[0] != "SELECT" {
                out.push(words.join(" "));
            }
        }
        out
    }

    #[test]
    fn served_blocking_pops_are_logged_as_plain_pops() {
        let mut e = engine();
        run(&mut e, 1, &["RPUSH", "k2", "a", "b", "c", "d", "e"]);
        assert_eq!(run(&mut e, 1, &["BLPOP", "k1", "k2", "0"]), "*2\r\n$2\r\nk2\r\n$1\r\na\r\n");
        run(&mut e, 1, &["BRPOP", "k2", "0"]);
        run(&mut e, 1, &["BLMOVE", "k2", "d", "left", "right", "0"]);
        run(&mut e, 1, &["BRPOPLPUSH", "k2", "d", "0"]);
        run(&mut e, 1, &["LMPOP", "2", "k1", "k2", "LEFT", "COUNT", "5"]);
        run(&mut e, 1, &["BLMPOP", "0", "1", "d", "RIGHT"]);
        // Commands that change nothing log nothing.
        run(&mut e, 1, &["LPOP", "nokey"]);
        run(&mut e, 1, &["LMPOP", "1", "nokey", "LEFT"]);
        run(&mut e, 1, &["BLPOP", "nokey", "0.01"]);
        assert_eq!(
            records(&mut e),
            [
                "RPUSH k2 a b c d e",
                "LPOP k2",
                "RPOP k2",
                "LMOVE k2 d LEFT RIGHT",
                "RPOPLPUSH k2 d",
                "LPOP k2 1",
                "RPOP d 1",
            ]
        );
    }

    #[test]
    fn a_woken_client_is_served_and_logged_after_the_push() {
        let mut e = engine();
        // Client 2 parks: no reply yet.
        assert_eq!(run(&mut e, 2, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]), "");
        assert_eq!(e.blocked_clients(), 1);
        assert_eq!(run(&mut e, 1, &["RPUSH", "src", "x", "y"]), ":2\r\n");
        assert_eq!(e.blocked_clients(), 0);
        let served: Vec<_> = e.outbox.drain(..).collect();
        assert_eq!(served.len(), 1);
        assert_eq!(served[0].0, 2);
        match &served[0].1 {
            crate::engine::Outbound::Data(d) => assert_eq!(&d[..], b"$1\r\ny\r\n"),
            crate::engine::Outbound::Close => panic!("not closed"),
        }
        assert_eq!(records(&mut e), ["RPUSH src x y", "LMOVE src dst RIGHT LEFT"]);
        assert_eq!(run(&mut e, 1, &["LRANGE", "dst", "0", "-1"]), "*1\r\n$1\r\ny\r\n");
    }

    #[test]
    fn timeouts_and_multi_give_the_no_data_replies() {
        let mut e = engine();
        assert_eq!(run(&mut e, 2, &["BRPOPLPUSH", "src", "dst", "0.001"]), "");
        std::thread::sleep(std::time::Duration::from_millis(5));
        e.cron();
        let served: Vec<_> = e.outbox.drain(..).collect();
        match &served[..] {
            [(2, crate::engine::Outbound::Data(d))] => assert_eq!(&d[..], b"*-1\r\n"),
            _ => panic!("one timeout reply expected"),
        }
        run(&mut e, 1, &["MULTI"]);
        run(&mut e, 1, &["BRPOPLPUSH", "src", "dst", "0"]);
        run(&mut e, 1, &["BLPOP", "src", "0"]);
        assert_eq!(run(&mut e, 1, &["EXEC"]), "*2\r\n$-1\r\n*-1\r\n");
        assert!(records(&mut e).is_empty());
    }

    #[test]
    fn timeouts_parse_like_redis_7_0() {
        assert_eq!(parse_timeout(b"0"), Ok(0));
        assert_eq!(parse_timeout(b"1"), Ok(1000));
        assert_eq!(parse_timeout(b"0.1"), Ok(100));
        assert_eq!(parse_timeout(b"1.5"), Ok(1500));
        // Rounded up: a tiny timeout still times out rather than waiting forever.
        assert_eq!(parse_timeout(b"0.0001"), Ok(1));
        assert_eq!(parse_timeout(b"-0.0001"), Ok(0));
        assert_eq!(parse_timeout(b"-1"), Err(TIMEOUT_NEGATIVE));
        assert_eq!(parse_timeout(b"inf"), Err(TIMEOUT_NEGATIVE));
        assert_eq!(parse_timeout(b"9999999999999999"), Err(TIMEOUT_NEGATIVE));
        assert!(matches!(parse_timeout(b"99999999999999"), Ok(ms) if ms > 99_999_999_999_990_000));
        assert_eq!(parse_timeout(b"abc"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(parse_timeout(b"nan"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(parse_timeout(b" 1"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(parse_timeout(b""), Err(TIMEOUT_NOT_FLOAT));
    }
}
