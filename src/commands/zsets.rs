//! Sorted set commands, with Redis 7.0's options, reply shapes and errors.

use crate::commands::draws::Draws;
use crate::commands::keys::{parse_cursor, parse_scan_options, reply_scan};
use crate::engine::key_finders::{counted_first, counted_second, store_then_counted};
use crate::engine::notify::{GENERIC, ZSET};
use crate::engine::table::{cmd, CommandSpec, BLOCKING, DENYOOM, FAST, MARKS_OWN_WRITES, READONLY, WRITE};
use crate::engine::{Call, Engine, NOT_FLOAT, SYNTAX};
use crate::glob::glob_match;
use crate::strtod::parse_f64;
use crate::types::zset::Scored;
use crate::types::{
    parse_lex_range, parse_score_range, sample_indices, AddFlags, AddOutcome, Elem, Limits, Set, Value, ZSet, WRONGTYPE,
};
use crate::util::{format_f64, parse_i64};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("zadd", -4, WRITE | DENYOOM | FAST, (1, 1, 1), zadd),
    cmd("zincrby", 4, WRITE | DENYOOM | FAST, (1, 1, 1), zincrby),
    cmd("zrem", -3, WRITE | FAST, (1, 1, 1), zrem),
    cmd("zscore", 3, READONLY | FAST, (1, 1, 1), zscore),
    cmd("zmscore", -3, READONLY | FAST, (1, 1, 1), zmscore),
    cmd("zcard", 2, READONLY | FAST, (1, 1, 1), zcard),
    cmd("zcount", 4, READONLY | FAST, (1, 1, 1), zcount),
    cmd("zlexcount", 4, READONLY | FAST, (1, 1, 1), zlexcount),
    cmd("zrank", 3, READONLY | FAST, (1, 1, 1), zrank),
    cmd("zrevrank", 3, READONLY | FAST, (1, 1, 1), zrevrank),
    cmd("zrange", -4, READONLY, (1, 1, 1), zrange),
    cmd("zrangestore", -5, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, 2, 1), zrangestore),
    cmd("zrangebyscore", -4, READONLY, (1, 1, 1), zrangebyscore),
    cmd("zrevrangebyscore", -4, READONLY, (1, 1, 1), zrevrangebyscore),
    cmd("zrangebylex", -4, READONLY, (1, 1, 1), zrangebylex),
    cmd("zrevrangebylex", -4, READONLY, (1, 1, 1), zrevrangebylex),
    cmd("zrevrange", -4, READONLY, (1, 1, 1), zrevrange),
    cmd("zremrangebyrank", 4, WRITE, (1, 1, 1), zremrangebyrank),
    cmd("zremrangebyscore", 4, WRITE, (1, 1, 1), zremrangebyscore),
    cmd("zremrangebylex", 4, WRITE, (1, 1, 1), zremrangebylex),
    cmd("zpopmin", -2, WRITE | FAST, (1, 1, 1), zpopmin),
    cmd("zpopmax", -2, WRITE | FAST, (1, 1, 1), zpopmax),
    cmd("bzpopmin", -3, WRITE | FAST | BLOCKING, (1, -2, 1), bzpopmin),
    cmd("bzpopmax", -3, WRITE | FAST | BLOCKING, (1, -2, 1), bzpopmax),
    cmd("zmpop", -4, WRITE, (0, 0, 0), zmpop).keys_by(counted_first),
    cmd("bzmpop", -5, WRITE | BLOCKING, (0, 0, 0), bzmpop).keys_by(counted_second),
    cmd("zunionstore", -4, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, 1, 1), zunionstore).keys_by(store_then_counted),
    cmd("zinterstore", -4, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, 1, 1), zinterstore).keys_by(store_then_counted),
    cmd("zdiffstore", -4, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, 1, 1), zdiffstore).keys_by(store_then_counted),
    cmd("zunion", -3, READONLY, (0, 0, 0), zunion).keys_by(counted_first),
    cmd("zinter", -3, READONLY, (0, 0, 0), zinter).keys_by(counted_first),
    cmd("zdiff", -3, READONLY, (0, 0, 0), zdiff).keys_by(counted_first),
    cmd("zintercard", -3, READONLY, (0, 0, 0), zintercard).keys_by(counted_first),
    cmd("zscan", -3, READONLY, (1, 1, 1), zscan),
    cmd("zrandmember", -2, READONLY, (1, 1, 1), zrandmember),
];

/// An owned member and its score.
type Entry = (Vec<u8>, f64);

/// The sorted set at `key` for reading: Ok(None) if missing, Err after a
/// WRONGTYPE reply.
pub(crate) fn read_zset<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e ZSet>, ()> {
    match e.value(c.db(), key) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// Runs `f`, which removes members, on the sorted set at `key` (None if
/// missing, Err after a WRONGTYPE reply); announces `event` if it removed
/// any, and deletes the key if it emptied it.
fn modify_zset<R>(
    e: &mut Engine,
    c: &mut Call,
    key: &[u8],
    event: &'static str,
    f: impl FnOnce(&mut ZSet) -> R,
) -> Result<Option<R>, ()> {
    let db = c.db();
    let (r, changed, empty) = match e.value_mut(db, key) {
        None => return Ok(None),
        Some(Value::ZSet(z)) => {
            let before = z.len();
            let r = f(z);
            (r, z.len() != before, z.is_empty())
        }
        Some(_) => {
            c.out.error(WRONGTYPE);
            return Err(());
        }
    };
    if changed {
        e.notify(ZSET, event, db, key);
    }
    if empty {
        e.delete_key(db, key);
        e.notify(GENERIC, "del", db, key);
    }
    Ok(Some(r))
}

fn pop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

/// The array header of `n` entries: flat member/score pairs in RESP2,
/// [member, score] pairs in RESP3.
fn reply_header(c: &mut Call, n: usize, withscores: bool) {
    if withscores && !c.out.resp3 {
        c.out.array(2 * n);
    } else {
        c.out.array(n);
    }
}

fn reply_entry(c: &mut Call, member: &[u8], score: f64, withscores: bool) {
    if withscores && c.out.resp3 {
        c.out.array(2);
    }
    c.out.bulk(member);
    if withscores {
        c.out.double(score);
    }
}

fn reply_scored(c: &mut Call, items: &[Scored<'_>], withscores: bool) {
    reply_header(c, items.len(), withscores);
    for (m, s) in items {
        m.with_bytes(|b| reply_entry(c, b, *s, withscores));
    }
}

fn reply_entries(c: &mut Call, items: &[Entry], withscores: bool) {
    reply_header(c, items.len(), withscores);
    for (m, s) in items {
        reply_entry(c, m, *s, withscores);
    }
}

fn owned(items: &[Scored<'_>]) -> Vec<Entry> {
    items.iter().map(|(m, s)| (m.to_vec(), *s)).collect()
}

/// Replaces `dst` with a sorted set of `items` (or deletes it when there are
/// none) and replies with the new cardinality, as the *STORE commands
/// (named by `event`) do.
pub(crate) fn store_result(e: &mut Engine, c: &mut Call, dst: &[u8], items: Vec<Entry>, event: &'static str) {
    let db = c.db();
    let n = if !items.is_empty() {
        let limits = Limits::from_config(&e.config);
        let z = ZSet::from_pairs(items, &limits);
        let n = z.len();
        e.set_value(db, dst, Value::ZSet(Box::new(z)), false);
        e.notify(ZSET, event, db, dst);
        n
    } else if e.delete_key(db, dst) {
        e.notify(GENERIC, "del", db, dst);
        0
    } else {
        return c.out.int(0);
    };
    e.dirty += 1;
    e.signal_modified(db, dst);
    c.out.int(n as i64);
}

// ---------------------------------------------------------------- ZADD

fn zadd(e: &mut Engine, c: &mut Call) {
    zadd_generic(e, c, false);
}

fn zincrby(e: &mut Engine, c: &mut Call) {
    zadd_generic(e, c, true);
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and
/// ZINCRBY key increment member as ZADD INCR.
fn zadd_generic(e: &mut Engine, c: &mut Call, zincrby: bool) {
    let mut f = AddFlags { incr: zincrby, ..AddFlags::default() };
    let mut ch = false;
    let mut i = 2;
    // ZINCRBY reads option words too, as in Redis: `ZINCRBY k NX m` is
    // then one element short, a syntax error.
    while i < c.argc() {
        match c.arg(i).to_ascii_uppercase().as_slice() {
            b"NX" => f.nx = true,
            b"XX" => f.xx = true,
            b"GT" => f.gt = true,
            b"LT" => f.lt = true,
            b"CH" => ch = true,
            b"INCR" => f.incr = true,
            _ => break,
        }
        i += 1;
    }
    let elements = c.argc() - i;
    if elements == 0 || !elements.is_multiple_of(2) {
        return c.out.error(SYNTAX);
    }
    if f.nx && f.xx {
        return c.out.error("ERR XX and NX options at the same time are not compatible");
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return c.out.error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if f.incr && elements > 2 {
        return c.out.error("ERR INCR option supports a single increment-element pair");
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    for j in (i..c.argc()).step_by(2) {
        let Some(score) = parse_f64(c.arg(j)) else { return c.out.error(NOT_FLOAT) };
        pairs.push((score, c.arg(j + 1)));
    }
    add_pairs(e, c, f, ch, &pairs);
}

/// Adds checked (score, member) pairs to the sorted set at `c.arg(1)` with
/// ZADD's flags and replies as ZADD does (GEOADD ends here too).
pub(crate) fn add_pairs(e: &mut Engine, c: &mut Call, f: AddFlags, ch: bool, pairs: &[(f64, &[u8])]) {
    let (db, key) = (c.db(), c.arg(1));
    let limits = Limits::from_config(&e.config);
    let (mut added, mut updated, mut processed, mut last) = (0u64, 0u64, 0u64, 0.0);
    let mut apply = |z: &mut ZSet| -> Result<(), &'static str> {
        for &(score, member) in pairs {
            match z.add(member, score, f, &limits)? {
                AddOutcome::Added(s) => {
                    added += 1;
                    processed += 1;
                    last = s;
                }
                AddOutcome::Updated(s) => {
                    updated += 1;
                    processed += 1;
                    last = s;
                }
                AddOutcome::Unchanged(s) => {
                    processed += 1;
                    last = s;
                }
                AddOutcome::Skipped => {}
            }
        }
        Ok(())
    };
    let result = match e.value_mut(db, key) {
        Some(Value::ZSet(z)) => apply(z),
        Some(_) => return c.out.error(WRONGTYPE),
        None if f.xx => Ok(()),
        None => {
            let mut z = ZSet::new();
            let r = apply(&mut z);
            if !z.is_empty() {
                e.insert_value(db, key, Value::ZSet(Box::new(z)));
            }
            r
        }
    };
    e.dirty += added + updated;
    if added + updated > 0 {
        e.notify(ZSET, if f.incr { "zincr" } else { "zadd" }, db, key);
    }
    if let Err(msg) = result {
        return c.out.error(msg);
    }
    if f.incr {
        if processed > 0 {
            c.out.double(last);
        } else {
            c.out.null();
        }
    } else {
        c.out.int((if ch { added + updated } else { added }) as i64);
    }
}

fn zrem(e: &mut Engine, c: &mut Call) {
    let members = &c.args[2..];
    match modify_zset(e, c, c.arg(1), "zrem", |z| members.iter().filter(|m| z.remove(m)).count()) {
        Err(()) => {}
        Ok(n) => {
            let n = n.unwrap_or(0);
            e.dirty += n as u64;
            c.out.int(n as i64);
        }
    }
}

// ---------------------------------------------------------------- reads

fn zscore(e: &mut Engine, c: &mut Call) {
    if let Ok(z) = read_zset(e, c, c.arg(1)) {
        match z.and_then(|z| z.score(c.arg(2))) {
            Some(s) => c.out.double(s),
            None => c.out.null(),
        }
    }
}

fn zmscore(e: &mut Engine, c: &mut Call) {
    if let Ok(z) = read_zset(e, c, c.arg(1)) {
        c.out.array(c.argc() - 2);
        for i in 2..c.argc() {
            match z.and_then(|z| z.score(c.arg(i))) {
                Some(s) => c.out.double(s),
                None => c.out.null(),
            }
        }
    }
}

fn zcard(e: &mut Engine, c: &mut Call) {
    if let Ok(z) = read_zset(e, c, c.arg(1)) {
        c.out.int(z.map_or(0, |z| z.len()) as i64);
    }
}

fn zcount(e: &mut Engine, c: &mut Call) {
    let range = match parse_score_range(c.arg(2), c.arg(3)) {
        Ok(r) => r,
        Err(msg) => return c.out.error(msg),
    };
    if let Ok(z) = read_zset(e, c, c.arg(1)) {
        c.out.int(z.map_or(0, |z| z.count_by_score(&range)) as i64);
    }
}

fn zlexcount(e: &mut Engine, c: &mut Call) {
    let range = match parse_lex_range(c.arg(2), c.arg(3)) {
        Ok(r) => r,
        Err(msg) => return c.out.error(msg),
    };
    if let Ok(z) = read_zset(e, c, c.arg(1)) {
        c.out.int(z.map_or(0, |z| z.count_by_lex(&range)) as i64);
    }
}

fn rank_generic(e: &mut Engine, c: &mut Call, rev: bool) {
    if let Ok(z) = read_zset(e, c, c.arg(1)) {
        match z.and_then(|z| z.rank(c.arg(2), rev)) {
            Some((r, _)) => c.out.int(r as i64),
            None => c.out.null(),
        }
    }
}

fn zrank(e: &mut Engine, c: &mut Call) {
    rank_generic(e, c, false);
}

fn zrevrank(e: &mut Engine, c: &mut Call) {
    rank_generic(e, c, true);
}

// ---------------------------------------------------------------- ZRANGE

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// ZRANGE and its older forms: `start` is the index of the source key;
/// `by`/`rev` are fixed by the older commands and None for ZRANGE's options;
/// `dst` for ZRANGESTORE.
fn zrange_generic(e: &mut Engine, c: &mut Call, start: usize, dst: Option<&[u8]>, by: Option<By>, rev: Option<bool>) {
    let (mut by_opt, mut rev_opt) = (by, rev);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = start + 3;
    while j < c.argc() {
        let left = c.argc() - j - 1;
        if dst.is_none() && c.is(j, "WITHSCORES") {
            withscores = true;
        } else if c.is(j, "LIMIT") && left >= 2 {
            let Some(o) = c.int_arg(j + 1) else { return };
            let Some(l) = c.int_arg(j + 2) else { return };
            (offset, limit) = (o, l);
            j += 2;
        } else if rev_opt.is_none() && c.is(j, "REV") {
            rev_opt = Some(true);
        } else if by_opt.is_none() && c.is(j, "BYLEX") {
            by_opt = Some(By::Lex);
        } else if by_opt.is_none() && c.is(j, "BYSCORE") {
            by_opt = Some(By::Score);
        } else {
            return c.out.error(SYNTAX);
        }
        j += 1;
    }
    let by = by_opt.unwrap_or(By::Rank);
    let rev = rev_opt.unwrap_or(false);
    if limit != -1 && by == By::Rank {
        return c.out.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    }
    if withscores && by == By::Lex {
        return c.out.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (mut lo, mut hi) = (c.arg(start + 1), c.arg(start + 2));
    if rev && by != By::Rank {
        // Given as max, min.
        std::mem::swap(&mut lo, &mut hi);
    }
    enum Range {
        Rank(i64, i64),
        Score(crate::types::ScoreRange),
        Lex(crate::types::LexRange),
    }
    let range = match by {
        By::Rank => {
            let Some(a) = c.int_arg(start + 1) else { return };
            let Some(b) = c.int_arg(start + 2) else { return };
            Range::Rank(a, b)
        }
        By::Score => match parse_score_range(lo, hi) {
            Ok(r) => Range::Score(r),
            Err(msg) => return c.out.error(msg),
        },
        By::Lex => match parse_lex_range(lo, hi) {
            Ok(r) => Range::Lex(r),
            Err(msg) => return c.out.error(msg),
        },
    };
    // A negative offset skips everything; a negative limit means no limit.
    let offset = if offset < 0 { usize::MAX } else { offset as usize };
    let limit = usize::try_from(limit).ok();
    let Ok(z) = read_zset(e, c, c.arg(start)) else { return };
    let items = match z {
        None => Vec::new(),
        Some(z) => match &range {
            Range::Rank(a, b) => z.range_by_rank(*a, *b, rev),
            Range::Score(r) => z.range_by_score(r, rev, offset, limit),
            Range::Lex(r) => z.range_by_lex(r, rev, offset, limit),
        },
    };
    match dst {
        Some(dst) => {
            let items = owned(&items);
            store_result(e, c, dst, items, "zrangestore");
        }
        None => reply_scored(c, &items, withscores),
    }
}

fn zrange(e: &mut Engine, c: &mut Call) {
    zrange_generic(e, c, 1, None, None, None);
}

fn zrangestore(e: &mut Engine, c: &mut Call) {
    zrange_generic(e, c, 2, Some(c.arg(1)), None, None);
}

fn zrevrange(e: &mut Engine, c: &mut Call) {
    zrange_generic(e, c, 1, None, Some(By::Rank), Some(true));
}

fn zrangebyscore(e: &mut Engine, c: &mut Call) {
    zrange_generic(e, c, 1, None, Some(By::Score), Some(false));
}

fn zrevrangebyscore(e: &mut Engine, c: &mut Call) {
    zrange_generic(e, c, 1, None, Some(By::Score), Some(true));
}

fn zrangebylex(e: &mut Engine, c: &mut Call) {
    zrange_generic(e, c, 1, None, Some(By::Lex), Some(false));
}

fn zrevrangebylex(e: &mut Engine, c: &mut Call) {
    zrange_generic(e, c, 1, None, Some(By::Lex), Some(true));
}

// ---------------------------------------------------------------- ZREMRANGEBY*

fn remrange_reply(e: &mut Engine, c: &mut Call, event: &'static str, f: impl FnOnce(&mut ZSet) -> usize) {
    if let Ok(n) = modify_zset(e, c, c.arg(1), event, f) {
        let n = n.unwrap_or(0);
        e.dirty += n as u64;
        c.out.int(n as i64);
    }
}

fn zremrangebyrank(e: &mut Engine, c: &mut Call) {
    let Some(start) = c.int_arg(2) else { return };
    let Some(stop) = c.int_arg(3) else { return };
    remrange_reply(e, c, "zremrangebyrank", |z| z.remove_range_by_rank(start, stop));
}

fn zremrangebyscore(e: &mut Engine, c: &mut Call) {
    match parse_score_range(c.arg(2), c.arg(3)) {
        Ok(r) => remrange_reply(e, c, "zremrangebyscore", |z| z.remove_range_by_score(&r)),
        Err(msg) => c.out.error(msg),
    }
}

fn zremrangebylex(e: &mut Engine, c: &mut Call) {
    match parse_lex_range(c.arg(2), c.arg(3)) {
        Ok(r) => remrange_reply(e, c, "zremrangebylex", |z| z.remove_range_by_lex(&r)),
        Err(msg) => c.out.error(msg),
    }
}

// ---------------------------------------------------------------- pops

fn zpop_generic(e: &mut Engine, c: &mut Call, max: bool) {
    if c.argc() > 3 {
        return c.out.error(SYNTAX);
    }
    let count = if c.argc() == 3 {
        let Some(n) = c.positive_arg(2) else { return };
        Some(n)
    } else {
        None
    };
    let popped = match modify_zset(e, c, c.arg(1), pop_event(max), |z| z.pop(max, count.unwrap_or(1))) {
        Err(()) => return,
        Ok(p) => p.unwrap_or_default(),
    };
    e.dirty += popped.len() as u64;
    // RESP3 nests [member, score] pairs when a count was given.
    let nested = c.out.resp3 && count.is_some();
    c.out.array(if nested { popped.len() } else { 2 * popped.len() });
    for (m, s) in &popped {
        if nested {
            c.out.array(2);
        }
        c.out.bulk(m);
        c.out.double(*s);
    }
}

fn zpopmin(e: &mut Engine, c: &mut Call) {
    zpop_generic(e, c, false);
}

fn zpopmax(e: &mut Engine, c: &mut Call) {
    zpop_generic(e, c, true);
}

/// Parses a blocking timeout in seconds into an absolute deadline (None
/// for 0 = forever), with Redis's error texts.
fn parse_timeout(e: &Engine, c: &mut Call, i: usize) -> Result<Option<i64>, ()> {
    let Some(secs) = parse_f64(c.arg(i)) else {
        c.out.error("ERR timeout is not a float or out of range");
        return Err(());
    };
    let ms = secs * 1000.0;
    // Out-of-range conversions (inf, huge values) come out negative in Redis.
    let ms = if ms > -9.2e18 && ms < 9.2e18 { ms as i64 } else { i64::MIN };
    if ms < 0 {
        c.out.error("ERR timeout is negative");
        return Err(());
    }
    if ms == 0 {
        return Ok(None);
    }
    match ms.checked_add(e.now) {
        Some(at) => Ok(Some(at)),
        None => {
            c.out.error("ERR timeout is out of range");
            Err(())
        }
    }
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout: pops from the first non-empty
/// key, else blocks; replies [key, member, score] or a null array.
fn bzpop_generic(e: &mut Engine, c: &mut Call, max: bool) {
    let Ok(deadline) = parse_timeout(e, c, c.argc() - 1) else { return };
    let keys = &c.args[1..c.argc() - 1];
    let parked = e.blocking.waits(c.client.id, c.db(), keys[0]);
    for &key in keys {
        if parked && holds_other_type(e, c.db(), key) {
            continue;
        }
        let popped = match modify_zset(e, c, key, pop_event(max), |z| z.pop(max, 1)) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(p)) => p,
        };
        let Some((m, s)) = popped.into_iter().next() else { continue };
        e.dirty += 1;
        c.propagate_as(&[if max { b"ZPOPMAX" } else { b"ZPOPMIN" }, key]);
        c.out.array(3);
        c.out.bulk(key);
        c.out.bulk(&m);
        c.out.double(s);
        return;
    }
    if c.no_block {
        return c.out.null_array();
    }
    c.block_on(keys.iter().map(|k| k.to_vec()).collect(), deadline);
}

/// A parked client woken by a write skips keys that now hold another type
/// and keeps waiting on them, as Redis serves only clients blocked for the
/// key's type (the WRONGTYPE check is for the command's first run).
fn holds_other_type(e: &mut Engine, db: usize, key: &[u8]) -> bool {
    e.value(db, key).is_some_and(|v| !matches!(v, Value::ZSet(_)))
}

fn bzpopmin(e: &mut Engine, c: &mut Call) {
    bzpop_generic(e, c, false);
}

fn bzpopmax(e: &mut Engine, c: &mut Call) {
    bzpop_generic(e, c, true);
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] and BZMPOP timeout
/// numkeys …: pops from the first non-empty key; replies [key, [[member,
/// score], …]] or a null array.
fn zmpop_generic(e: &mut Engine, c: &mut Call, blocking: bool) {
    let deadline = if blocking {
        match parse_timeout(e, c, 1) {
            Ok(d) => d,
            Err(()) => return,
        }
    } else {
        None
    };
    let numkeys_at = if blocking { 2 } else { 1 };
    let numkeys = match parse_i64(c.arg(numkeys_at)) {
        Some(n) if n >= 1 => n as usize,
        _ => return c.out.error("ERR numkeys should be greater than 0"),
    };
    let where_at = numkeys_at.saturating_add(numkeys).saturating_add(1);
    if where_at >= c.argc() {
        return c.out.error(SYNTAX);
    }
    let max = if c.is(where_at, "MAX") {
        true
    } else if c.is(where_at, "MIN") {
        false
    } else {
        return c.out.error(SYNTAX);
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < c.argc() {
        if count.is_none() && c.is(j, "COUNT") && j + 1 < c.argc() {
            match parse_i64(c.arg(j + 1)) {
                Some(n) if n >= 1 => count = Some(n as usize),
                _ => return c.out.error("ERR count should be greater than 0"),
            }
            j += 2;
        } else {
            return c.out.error(SYNTAX);
        }
    }
    let count = count.unwrap_or(1);
    let keys = &c.args[numkeys_at + 1..where_at];
    let parked = blocking && e.blocking.waits(c.client.id, c.db(), keys[0]);
    for &key in keys {
        if parked && holds_other_type(e, c.db(), key) {
            continue;
        }
        let popped = match modify_zset(e, c, key, pop_event(max), |z| z.pop(max, count)) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(p)) => p,
        };
        if popped.is_empty() {
            continue;
        }
        e.dirty += popped.len() as u64;
        e.signal_modified(c.db(), key);
        let n = popped.len().to_string();
        c.propagate_as(&[if max { b"ZPOPMAX" } else { b"ZPOPMIN" }, key, n.as_bytes()]);
        c.out.array(2);
        c.out.bulk(key);
        c.out.array(popped.len());
        for (m, s) in &popped {
            c.out.array(2);
            c.out.bulk(m);
            c.out.double(*s);
        }
        return;
    }
    if !blocking || c.no_block {
        return c.out.null_array();
    }
    c.block_on(keys.iter().map(|k| k.to_vec()).collect(), deadline);
}

fn zmpop(e: &mut Engine, c: &mut Call) {
    zmpop_generic(e, c, false);
}

fn bzmpop(e: &mut Engine, c: &mut Call) {
    zmpop_generic(e, c, true);
}

// ---------------------------------------------------------------- set algebra

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(acc: &mut f64, v: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *acc += v;
            // inf + -inf: Redis's convention is 0.
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *acc {
                *acc = v;
            }
        }
        Aggregate::Max => {
            if v > *acc {
                *acc = v;
            }
        }
    }
}

/// An input of ZUNION and friends: a sorted set, or a set whose members
/// all score 1.
#[derive(Clone, Copy)]
enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(member),
            Src::S(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(Elem<'_>, f64)) {
        match self {
            Src::Missing => {}
            Src::Z(z) => z.iter().for_each(|(m, s)| f(m, s)),
            Src::S(s) => s.iter().for_each(|m| f(m, 1.0)),
        }
    }
}

/// Weighted score; NaN (inf * 0) counts as 0 as in Redis.
fn weighted(weight: f64, score: f64) -> f64 {
    let v = weight * score;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The shared part of ZUNION/ZINTER/ZDIFF[STORE] and ZINTERCARD.
struct SetOp {
    op: Op,
    /// The command name for the numkeys error.
    name: &'static str,
    /// Index of the numkeys argument.
    numkeys_at: usize,
    store: bool,
    card_only: bool,
}

/// What the argument parsing produced.
struct Parsed<'a> {
    srcs: Vec<(Src<'a>, f64)>,
    agg: Aggregate,
    withscores: bool,
    limit: usize,
}

fn parse_setop<'e>(e: &'e mut Engine, c: &mut Call, spec: &SetOp) -> Option<Parsed<'e>> {
    let n = c.int_arg(spec.numkeys_at)?;
    if n < 1 {
        c.out.error(&format!("ERR at least 1 input key is needed for '{}' command", spec.name));
        return None;
    }
    let first = spec.numkeys_at + 1;
    if n as u64 > (c.argc() - first) as u64 {
        c.out.error(SYNTAX);
        return None;
    }
    let n = n as usize;
    let db = c.db();
    let mut slots = Vec::with_capacity(n);
    for j in first..first + n {
        let slot = e.lookup_read(db, c.arg(j));
        if let Some(s) = slot {
            if !matches!(e.dbs[db].value(s), Value::ZSet(_) | Value::Set(_)) {
                c.out.error(WRONGTYPE);
                return None;
            }
        }
        slots.push(slot);
    }
    let mut weights = vec![1.0; n];
    let (mut agg, mut withscores, mut limit) = (Aggregate::Sum, false, 0usize);
    let mut j = first + n;
    while j < c.argc() {
        let remaining = c.argc() - j;
        if spec.op != Op::Diff && !spec.card_only && remaining > n && c.is(j, "WEIGHTS") {
            j += 1;
            for w in weights.iter_mut() {
                match parse_f64(c.arg(j)) {
                    Some(v) => *w = v,
                    None => {
                        c.out.error("ERR weight value is not a float");
                        return None;
                    }
                }
                j += 1;
            }
        } else if spec.op != Op::Diff && !spec.card_only && remaining >= 2 && c.is(j, "AGGREGATE") {
            agg = if c.is(j + 1, "SUM") {
                Aggregate::Sum
            } else if c.is(j + 1, "MIN") {
                Aggregate::Min
            } else if c.is(j + 1, "MAX") {
                Aggregate::Max
            } else {
                c.out.error(SYNTAX);
                return None;
            };
            j += 2;
        } else if !spec.store && !spec.card_only && c.is(j, "WITHSCORES") {
            withscores = true;
            j += 1;
        } else if spec.card_only && remaining >= 2 && c.is(j, "LIMIT") {
            match parse_i64(c.arg(j + 1)) {
                Some(l) if l >= 0 => limit = l as usize,
                _ => {
                    c.out.error("ERR LIMIT can't be negative");
                    return None;
                }
            }
            j += 2;
        } else {
            c.out.error(SYNTAX);
            return None;
        }
    }
    let dbr = &e.dbs[db];
    let srcs = slots
        .into_iter()
        .zip(weights)
        .map(|(slot, w)| {
            let src = match slot.map(|s| dbr.value(s)) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::Missing,
            };
            (src, w)
        })
        .collect();
    Some(Parsed { srcs, agg, withscores, limit })
}

/// Computes the result of `op` over `srcs`, sorted by (score, member).
fn compute_setop(op: Op, mut srcs: Vec<(Src<'_>, f64)>, agg: Aggregate) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    match op {
        Op::Inter => {
            srcs.sort_by_key(|(s, _)| s.len());
            let (first, w0) = srcs[0];
            first.for_each(|m, s| {
                let mut score = weighted(w0, s);
                let found = m.with_bytes(|mb| {
                    srcs[1..].iter().all(|(src, w)| match src.score(mb) {
                        Some(v) => {
                            aggregate(&mut score, w * v, agg);
                            true
                        }
                        None => false,
                    })
                });
                if found {
                    out.push((m.to_vec(), score));
                }
            });
        }
        Op::Union => {
            srcs.sort_by_key(|(s, _)| s.len());
            let mut acc: hashbrown::HashMap<Vec<u8>, f64> = hashbrown::HashMap::new();
            for (src, w) in &srcs {
                src.for_each(|m, s| {
                    let score = weighted(*w, s);
                    m.with_bytes(|mb| match acc.get_mut(mb) {
                        Some(cur) => aggregate(cur, score, agg),
                        None => {
                            acc.insert(mb.to_vec(), score);
                        }
                    });
                });
            }
            out = acc.into_iter().collect();
        }
        Op::Diff => {
            let (first, _) = srcs[0];
            first.for_each(|m, s| {
                let absent = m.with_bytes(|mb| srcs[1..].iter().all(|(src, _)| src.score(mb).is_none()));
                if absent {
                    out.push((m.to_vec(), s));
                }
            });
        }
    }
    out.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    out
}

fn setop_generic(e: &mut Engine, c: &mut Call, spec: SetOp) {
    let Some(p) = parse_setop(e, c, &spec) else { return };
    if spec.card_only {
        let mut srcs = p.srcs;
        srcs.sort_by_key(|(s, _)| s.len());
        let (first, _) = srcs[0];
        let mut n = 0usize;
        first.for_each(|m, _| {
            if p.limit > 0 && n >= p.limit {
                return;
            }
            if m.with_bytes(|mb| srcs[1..].iter().all(|(src, _)| src.score(mb).is_some())) {
                n += 1;
            }
        });
        return c.out.int(n as i64);
    }
    let withscores = p.withscores;
    let result = compute_setop(spec.op, p.srcs, p.agg);
    if spec.store {
        store_result(e, c, c.arg(1), result, spec.name);
    } else {
        reply_entries(c, &result, withscores);
    }
}

fn setop(op: Op, name: &'static str, store: bool) -> SetOp {
    SetOp { op, name, numkeys_at: if store { 2 } else { 1 }, store, card_only: false }
}

fn zunionstore(e: &mut Engine, c: &mut Call) {
    setop_generic(e, c, setop(Op::Union, "zunionstore", true));
}

fn zinterstore(e: &mut Engine, c: &mut Call) {
    setop_generic(e, c, setop(Op::Inter, "zinterstore", true));
}

fn zdiffstore(e: &mut Engine, c: &mut Call) {
    setop_generic(e, c, setop(Op::Diff, "zdiffstore", true));
}

fn zunion(e: &mut Engine, c: &mut Call) {
    setop_generic(e, c, setop(Op::Union, "zunion", false));
}

fn zinter(e: &mut Engine, c: &mut Call) {
    setop_generic(e, c, setop(Op::Inter, "zinter", false));
}

fn zdiff(e: &mut Engine, c: &mut Call) {
    setop_generic(e, c, setop(Op::Diff, "zdiff", false));
}

fn zintercard(e: &mut Engine, c: &mut Call) {
    let spec = SetOp { op: Op::Inter, name: "zintercard", numkeys_at: 1, store: false, card_only: true };
    setop_generic(e, c, spec);
}

// ---------------------------------------------------------------- ZSCAN, ZRANDMEMBER

/// ZSCAN key cursor [MATCH pattern] [COUNT count]. A listpack-encoded set
/// comes back whole with cursor 0 (as Redis); a big one in rank windows,
/// the cursor being the next rank.
fn zscan(e: &mut Engine, c: &mut Call) {
    let Some(cursor) = parse_cursor(c, 2) else { return };
    let Some(o) = parse_scan_options(c, 3, false) else { return };
    let z = match read_zset(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return reply_scan(c, 0, &[]),
        Ok(Some(z)) => z,
    };
    let (next, entries) = if z.encoding() == "listpack" {
        (0, z.iter().collect::<Vec<_>>())
    } else {
        let len = z.len() as u64;
        let start = cursor.min(len);
        let end = start.saturating_add(o.count as u64).min(len);
        let items = if start < end { z.range_by_rank(start as i64, end as i64 - 1, false) } else { Vec::new() };
        (if end >= len { 0 } else { end }, items)
    };
    let mut out = Vec::with_capacity(entries.len() * 2);
    for (m, s) in entries {
        let m = m.to_vec();
        if o.pattern.is_none_or(|p| glob_match(p, &m, false)) {
            out.push(m);
            out.push(format_f64(s).into_bytes());
        }
    }
    reply_scan(c, next, &out);
}

/// ZRANDMEMBER key [count [WITHSCORES]].
fn zrandmember(e: &mut Engine, c: &mut Call) {
    let mut count = None;
    let mut withscores = false;
    if c.argc() >= 3 {
        let Some(n) = c.int_arg(2) else { return };
        if n == i64::MIN {
            return c
                .out
                .error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
        }
        if c.argc() > 4 || (c.argc() == 4 && !c.is(3, "WITHSCORES")) {
            return c.out.error(SYNTAX);
        }
        if c.argc() == 4 {
            withscores = true;
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
                return c.out.error("ERR value is out of range");
            }
        }
        count = Some(n);
    }
    let db = c.db();
    let Some(slot) = e.lookup_read(db, c.arg(1)) else {
        return if count.is_some() { c.out.array(0) } else { c.out.null() };
    };
    let (dbs, rng) = (&e.dbs, &mut e.rng);
    let Value::ZSet(z) = dbs[db].value(slot) else { return c.out.error(WRONGTYPE) };
    let len = z.len();
    let Some(n) = count else {
        let i = rng.below(len);
        let picked = z.range_by_rank(i as i64, i as i64, false);
        return picked[0].0.with_bytes(|b| c.out.bulk(b));
    };
    if n == 0 {
        return c.out.array(0);
    }
    let want = n.unsigned_abs() as usize;
    // Small sets (or large draws) are read once; otherwise pick by rank.
    let all: Vec<Scored<'_>> =
        if len <= 256 || want.saturating_mul(8) >= len { z.iter().collect() } else { Vec::new() };
    let entry = |i: usize| if all.is_empty() { z.range_by_rank(i as i64, i as i64, false)[0] } else { all[i] };
    if n > 0 {
        let picks = sample_indices(len, want, rng);
        reply_header(c, picks.len(), withscores);
        for i in picks {
            let (m, s) = entry(i);
            m.with_bytes(|b| reply_entry(c, b, s, withscores));
        }
        return;
    }
    reply_header(c, want, withscores);
    let mut draws = Draws::new(c, want);
    loop {
        let (m, s) = entry(rng.below(len));
        m.with_bytes(|b| reply_entry(c, b, s, withscores));
        if !draws.more(c) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::Client;
    use crate::reply::Reply;

    fn engine() -> (Engine, Client) {
        let mut e = Engine::new(Config::default());
        e.aof.enabled = true;
        let client = Client::new(1, "test".into(), "test".into(), e.now, false);
        (e, client)
    }

    /// Runs one command as the dispatcher would; returns its raw reply.
    fn run(e: &mut Engine, client: &mut Client, cmd: &str) -> String {
        let args: Vec<&[u8]> = cmd.split(' ').map(str::as_bytes).collect();
        let spec = e.commands.get(args[0]).expect("a known command");
        let mut out = Reply::new(false);
        assert!(e.call(spec, client, &args, &mut out, false).is_none(), "{cmd} blocked");
        String::from_utf8(out.take().to_vec()).unwrap()
    }

    /// The words of the AOF records since the last call.
    fn logged(e: &mut Engine) -> Vec<String> {
        let text = String::from_utf8(e.aof.take().to_vec()).unwrap();
        text.split("\r\n").filter(|w| !w.starts_with(['*', '$']) && !w.is_empty()).map(String::from).collect()
    }

    #[test]
    fn logs_changes_only_and_bzpop_as_zpop() {
        let (mut e, mut cl) = engine();
        run(&mut e, &mut cl, "ZADD z 1 a 2 b 3 c");
        assert_eq!(logged(&mut e), ["SELECT", "0", "ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        // Nothing changed: nothing logged.
        run(&mut e, &mut cl, "ZADD z 1 a");
        run(&mut e, &mut cl, "ZADD z NX INCR 1 a");
        run(&mut e, &mut cl, "ZREM z nope");
        run(&mut e, &mut cl, "ZPOPMIN nokey");
        run(&mut e, &mut cl, "ZINTERSTORE dst 2 z nokey");
        assert!(logged(&mut e).is_empty());
        assert_eq!(e.dirty, 3);
        run(&mut e, &mut cl, "ZINCRBY z 0.5 a");
        assert_eq!(logged(&mut e), ["ZINCRBY", "z", "0.5", "a"]);
        assert_eq!(run(&mut e, &mut cl, "BZPOPMAX nokey z 5"), "*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n");
        assert_eq!(logged(&mut e), ["ZPOPMAX", "z"]);
        assert_eq!(run(&mut e, &mut cl, "BZPOPMIN z 0"), "*3\r\n$1\r\nz\r\n$1\r\na\r\n$3\r\n1.5\r\n");
        assert_eq!(logged(&mut e), ["ZPOPMIN", "z"]);
        run(&mut e, &mut cl, "ZADD z 5 x 6 y");
        logged(&mut e);
        run(&mut e, &mut cl, "ZMPOP 2 nokey z MAX COUNT 2");
        assert_eq!(logged(&mut e), ["ZPOPMAX", "z", "2"]);
        run(&mut e, &mut cl, "BZMPOP 1 1 z MIN COUNT 10");
        assert_eq!(logged(&mut e), ["ZPOPMIN", "z", "1"]);
        run(&mut e, &mut cl, "ZADD z 1 b");
        logged(&mut e);
        run(&mut e, &mut cl, "ZREM z b");
        assert_eq!(logged(&mut e), ["ZREM", "z", "b"]);
        assert_eq!(run(&mut e, &mut cl, "EXISTS z"), ":0\r\n");
    }

    #[test]
    fn bzpop_blocks_only_when_allowed() {
        let (mut e, mut cl) = engine();
        let spec = e.commands.get(b"bzpopmin").unwrap();
        let args: [&[u8]; 4] = [b"BZPOPMIN", b"a", b"b", b"1.5"];
        let mut out = Reply::new(false);
        let now = e.now;
        let req = e.call(spec, &mut cl, &args, &mut out, false).expect("blocks");
        assert_eq!(req.keys, [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(req.deadline, Some(now + 1500));
        assert!(out.is_empty());
        let req = e.call(spec, &mut cl, &[b"BZPOPMIN", b"a", b"0"], &mut out, false).expect("blocks");
        assert_eq!(req.deadline, None);
        assert!(e.call(spec, &mut cl, &args, &mut out, true).is_none());
        assert_eq!(&out.take()[..], b"*-1\r\n");
    }

    #[test]
    fn sets_count_as_score_one() {
        let lim = Limits::default();
        let z = ZSet::from_pairs([("a", 2.0), ("b", 3.0)], &lim);
        let s = Set::from_members(["a", "x", "7"], &lim);
        let names =
            |v: &[Entry]| v.iter().map(|(m, s)| (String::from_utf8(m.clone()).unwrap(), *s)).collect::<Vec<_>>();
        let srcs = || vec![(Src::Z(&z), 1.0), (Src::S(&s), 2.0)];
        let u = compute_setop(Op::Union, srcs(), Aggregate::Sum);
        let want = [("7", 2.0), ("x", 2.0), ("b", 3.0), ("a", 4.0)];
        assert_eq!(names(&u), want.map(|(m, s)| (m.to_string(), s)));
        let i = compute_setop(Op::Inter, srcs(), Aggregate::Max);
        assert_eq!(names(&i), [("a".to_string(), 2.0)]);
        let d =
            compute_setop(Op::Diff, vec![(Src::S(&s), 1.0), (Src::Z(&z), 1.0), (Src::Missing, 1.0)], Aggregate::Sum);
        assert_eq!(names(&d), [("7".to_string(), 1.0), ("x".to_string(), 1.0)]);
    }
}
