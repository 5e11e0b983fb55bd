//! Stream commands that add, trim, delete and range over entries, with
//! Redis 7.0's replies, errors (in its order) and propagation: XADD and
//! XTRIM are logged with generated IDs and approximate thresholds made
//! explicit, so the AOF replays to the same stream.

use crate::engine::key_finders::xread_keys;
use crate::engine::notify::STREAM;
use crate::engine::table::{cmd, CommandSpec, BLOCKING, CONTAINER, DENYOOM, FAST, READONLY, WRITE};
use crate::engine::{Call, Engine, SYNTAX};
use crate::reply::Reply;
use crate::types::stream::{entry, parse_exact, parse_id, IdArg, StreamId, Trim, TrimStrategy, INVALID_ID};
use crate::types::stream::{AddError, NODE_ENTRIES};
use crate::types::{Stream, Value, WRONGTYPE};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("xadd", -5, WRITE | DENYOOM | FAST, (1, 1, 1), xadd),
    cmd("xtrim", -4, WRITE, (1, 1, 1), xtrim),
    cmd("xdel", -3, WRITE | FAST, (1, 1, 1), xdel),
    cmd("xsetid", -3, WRITE | DENYOOM | FAST, (1, 1, 1), xsetid),
    cmd("xlen", 2, READONLY | FAST, (1, 1, 1), xlen),
    cmd("xrange", -4, READONLY, (1, 1, 1), xrange),
    cmd("xrevrange", -4, READONLY, (1, 1, 1), xrevrange),
    cmd("xread", -4, READONLY | BLOCKING, (0, 0, 0), super::stream_read::xread).keys_by(xread_keys),
    cmd("xinfo", -2, READONLY | CONTAINER, (0, 0, 0), super::stream_info::xinfo),
    cmd("xgroup", -2, WRITE | CONTAINER, (2, 2, 1), super::stream_groups::xgroup),
    cmd("xreadgroup", -7, WRITE | BLOCKING, (0, 0, 0), super::stream_read::xreadgroup).keys_by(xread_keys),
    cmd("xack", -4, WRITE | FAST, (1, 1, 1), super::stream_groups::xack),
    cmd("xpending", -3, READONLY, (1, 1, 1), super::stream_groups::xpending),
    cmd("xclaim", -6, WRITE | FAST, (1, 1, 1), super::stream_groups::xclaim),
    cmd("xautoclaim", -6, WRITE | FAST, (1, 1, 1), super::stream_groups::xautoclaim),
];

/// The stream at `key` for reading: Ok(None) if missing, Err after WRONGTYPE.
pub(super) fn read_stream<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e Stream>, ()> {
    match e.value(c.db(), key) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// The stream at `key` for writing: Ok(None) if missing, Err after WRONGTYPE.
fn write_stream<'e>(e: &'e mut Engine, c: &mut Call, key: &[u8]) -> Result<Option<&'e mut Stream>, ()> {
    match e.value_mut(c.db(), key) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => {
            c.out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// The stream at `key`, which the caller has checked (or made) exists.
pub(super) fn checked_stream<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> &'e mut Stream {
    match e.value_mut(db, key) {
        Some(Value::Stream(s)) => s,
        _ => unreachable!("the caller checked the key holds a stream"),
    }
}

/// Argument `i` as an ID (`-`/`+` only unless `strict`), or the error reply.
pub(super) fn id_arg(c: &mut Call, i: usize, missing_seq: u64, strict: bool) -> Option<StreamId> {
    let id = parse_exact(c.arg(i), missing_seq, strict);
    if id.is_none() {
        c.out.error(INVALID_ID);
    }
    id
}

/// One entry as Redis replies it: [id, [field, value, …]].
pub(super) fn reply_entry(out: &mut Reply, id: StreamId, items: entry::Items<'_>) {
    out.array(2);
    out.bulk(id.to_string().as_bytes());
    out.array(items.clone().count());
    for item in items {
        out.bulk(item);
    }
}

/// Up to `count` entries (0: all) from `start` to `end`, as an array.
pub(super) fn reply_range(out: &mut Reply, s: &Stream, start: StreamId, end: StreamId, count: usize, rev: bool) {
    let limit = if count == 0 { usize::MAX } else { count };
    let entries: Vec<_> =
        if rev { s.range(start, end).rev().take(limit).collect() } else { s.range(start, end).take(limit).collect() };
    out.array(entries.len());
    for (id, items) in entries {
        reply_entry(out, id, items);
    }
}

// ---- XADD / XTRIM -------------------------------------------------------

/// What XADD and XTRIM parsed from their options.
struct AddTrimArgs {
    /// Where XADD's ID is (XTRIM: past the end).
    id_pos: usize,
    /// XADD's ID; None for `*`.
    id: Option<IdArg>,
    nomkstream: bool,
    trim: Option<Trim>,
    /// Where the trim threshold is, to log it rewritten.
    threshold_pos: usize,
}

/// Parses XADD's or XTRIM's options as Redis's
/// streamParseAddOrTrimArgsOrReply, errors in its order.
fn parse_add_trim(c: &mut Call, xadd: bool) -> Option<AddTrimArgs> {
    let mut a = AddTrimArgs { id_pos: 2, id: None, nomkstream: false, trim: None, threshold_pos: 0 };
    let (mut approx, mut limit, mut limit_given) = (false, 0usize, false);
    let mut strategy = None;
    let mut i = 2;
    while i < c.argc() {
        let more = c.argc() - 1 - i;
        let opt = c.arg(i);
        if xadd && opt == b"*" {
            break;
        } else if (c.is(i, "MAXLEN") || c.is(i, "MINID")) && more > 0 {
            if strategy.is_some() {
                c.out.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return None;
            }
            let maxlen = c.is(i, "MAXLEN");
            approx = false;
            let next = c.arg(i + 1);
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            strategy = Some(if maxlen {
                let n = c.int_arg(i + 1)?;
                if n < 0 {
                    c.out.error("ERR The MAXLEN argument must be >= 0.");
                    return None;
                }
                TrimStrategy::MaxLen(usize::try_from(n).unwrap_or(usize::MAX))
            } else {
                TrimStrategy::MinId(id_arg(c, i + 1, 0, true)?)
            });
            i += 1;
            a.threshold_pos = i;
        } else if c.is(i, "LIMIT") && more > 0 {
            let n = c.int_arg(i + 1)?;
            if n < 0 {
                c.out.error("ERR The LIMIT argument must be >= 0.");
                return None;
            }
            limit = usize::try_from(n).unwrap_or(usize::MAX);
            limit_given = true;
            i += 1;
        } else if xadd && c.is(i, "NOMKSTREAM") {
            a.nomkstream = true;
        } else if xadd {
            let Some(id) = parse_id(opt, 0, true, true) else {
                c.out.error(INVALID_ID);
                return None;
            };
            a.id = Some(id);
            break;
        } else {
            c.out.error(SYNTAX);
            return None;
        }
        i += 1;
    }
    a.id_pos = i;
    if limit > 0 && strategy.is_none() {
        c.out.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return None;
    }
    if !xadd && strategy.is_none() {
        c.out.error("ERR syntax error, XTRIM must be called with a trimming strategy");
        return None;
    }
    if c.client.loader {
        // Replayed commands were logged with exact thresholds: never capped.
        limit = 0;
    } else if limit_given {
        if !approx {
            c.out.error("ERR syntax error, LIMIT cannot be used without the special ~ option");
            return None;
        }
    } else {
        limit = if approx { 100 * NODE_ENTRIES } else { 0 };
    }
    a.trim = strategy.map(|strategy| Trim { strategy, approx, limit });
    Some(a)
}

/// After an approximate trim, the command as logged: `=` and the exact
/// length or first ID the stream was left with (streamRewriteTrimArgument).
fn exact_trim_args(c: &Call, a: &AddTrimArgs, s: &Stream) -> Vec<Vec<u8>> {
    let mut args: Vec<Vec<u8>> = c.args.iter().map(|x| x.to_vec()).collect();
    if let Some(t) = a.trim.filter(|t| t.approx) {
        args[a.threshold_pos - 1] = b"=".to_vec();
        args[a.threshold_pos] = match t.strategy {
            TrimStrategy::MaxLen(_) => s.len().to_string().into_bytes(),
            TrimStrategy::MinId(_) => s.first_entry_id_or_max().to_bytes(),
        };
    }
    args
}

fn propagate_owned(c: &mut Call, args: &[Vec<u8>]) {
    let parts: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    c.propagate_as(&parts);
}

fn xadd(e: &mut Engine, c: &mut Call) {
    let Some(a) = parse_add_trim(c, true) else { return };
    let fields_at = a.id_pos + 1;
    if c.argc() < fields_at + 2 || (c.argc() - fields_at) % 2 == 1 {
        return c.wrong_args("xadd");
    }
    if a.id == Some(IdArg::Exact(StreamId::MIN)) {
        return c.out.error("ERR The ID specified in XADD must be greater than 0-0");
    }
    let (db, key) = (c.db(), c.arg(1));
    match write_stream(e, c, key) {
        Err(()) => return,
        Ok(None) if a.nomkstream => return c.out.null(),
        Ok(None) => {
            e.insert_value(db, key, Value::Stream(Box::default()));
        }
        Ok(Some(_)) => {}
    }
    let now = e.now.max(0) as u64;
    let s = checked_stream(e, db, key);
    if s.last_id == StreamId::MAX {
        return c.out.error("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match s.next_id(a.id, now) {
        Ok(id) => id,
        Err(AddError::NotGreater) => {
            return c.out.error("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        }
    };
    s.append(id, c.args[fields_at..].iter().copied());
    let trimmed = a.trim.map_or(0, |t| s.trim(&t));
    let mut logged = exact_trim_args(c, &a, s);
    c.out.bulk(id.to_string().as_bytes());
    e.notify(STREAM, "xadd", db, key);
    e.dirty += 1;
    if trimmed > 0 {
        e.notify(STREAM, "xtrim", db, key);
    }
    if !matches!(a.id, Some(IdArg::Exact(_))) {
        logged[a.id_pos] = id.to_bytes();
    }
    propagate_owned(c, &logged);
}

fn xtrim(e: &mut Engine, c: &mut Call) {
    let Some(a) = parse_add_trim(c, false) else { return };
    let (db, key) = (c.db(), c.arg(1));
    let s = match write_stream(e, c, key) {
        Err(()) => return,
        Ok(None) => return c.out.int(0),
        Ok(Some(s)) => s,
    };
    let trimmed = a.trim.map_or(0, |t| s.trim(&t));
    if trimmed > 0 {
        let logged = exact_trim_args(c, &a, s);
        e.notify(STREAM, "xtrim", db, key);
        e.dirty += trimmed as u64;
        propagate_owned(c, &logged);
    }
    c.out.int(trimmed as i64);
}

// ---- XDEL / XSETID --------------------------------------------------------

fn xdel(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    match write_stream(e, c, key) {
        Err(()) => return,
        Ok(None) => return c.out.int(0),
        Ok(Some(_)) => {}
    }
    // Every ID is checked before any is deleted.
    let mut ids = Vec::with_capacity(c.argc() - 2);
    for i in 2..c.argc() {
        let Some(id) = id_arg(c, i, 0, true) else { return };
        ids.push(id);
    }
    let s = checked_stream(e, db, key);
    let deleted = s.delete(&ids);
    if deleted > 0 {
        e.notify(STREAM, "xdel", db, key);
        e.dirty += deleted as u64;
    }
    c.out.int(deleted as i64);
}

fn xsetid(e: &mut Engine, c: &mut Call) {
    let Some(id) = id_arg(c, 2, 0, true) else { return };
    let (mut entries_added, mut max_deleted) = (None, StreamId::MIN);
    let mut i = 3;
    while i < c.argc() {
        let more = c.argc() - 1 - i;
        if c.is(i, "ENTRIESADDED") && more > 0 {
            let Some(n) = c.int_arg(i + 1) else { return };
            if n < 0 {
                return c.out.error("ERR entries_added must be positive");
            }
            entries_added = Some(n as u64);
        } else if c.is(i, "MAXDELETEDID") && more > 0 {
            let Some(d) = id_arg(c, i + 1, 0, true) else { return };
            if id < d {
                return c.out.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
            }
            max_deleted = d;
        } else {
            return c.out.error(SYNTAX);
        }
        i += 2;
    }
    let (db, key) = (c.db(), c.arg(1));
    let s = match write_stream(e, c, key) {
        Err(()) => return,
        Ok(None) => return c.out.error("ERR no such key"),
        Ok(Some(s)) => s,
    };
    if !s.is_empty() {
        if id < s.last_entry_id() {
            return c.out.error("ERR The ID specified in XSETID is smaller than the target stream top item");
        }
        if entries_added.is_some_and(|n| n < s.len() as u64) {
            return c.out.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if max_deleted != StreamId::MIN {
        s.max_deleted_id = max_deleted;
    }
    c.out.ok();
    e.dirty += 1;
    e.notify(STREAM, "xsetid", db, key);
}

// ---- reads ----------------------------------------------------------------

fn xlen(e: &mut Engine, c: &mut Call) {
    if let Ok(found) = read_stream(e, c, c.arg(1)) {
        c.out.int(found.map_or(0, |s| s.len() as i64));
    }
}

/// A range bound: `(` makes it exclusive, stepped past with `step`.
pub(super) fn interval_arg(
    c: &mut Call,
    i: usize,
    missing_seq: u64,
    step: fn(StreamId) -> Option<StreamId>,
    err: &str,
) -> Option<StreamId> {
    let arg = c.arg(i);
    if arg.len() > 1 && arg[0] == b'(' {
        let Some(id) = parse_exact(&arg[1..], missing_seq, true) else {
            c.out.error(INVALID_ID);
            return None;
        };
        let stepped = step(id);
        if stepped.is_none() {
            c.out.error(err);
        }
        stepped
    } else {
        id_arg(c, i, missing_seq, false)
    }
}

fn xrange_generic(e: &mut Engine, c: &mut Call, rev: bool) {
    let (start_at, end_at) = if rev { (3, 2) } else { (2, 3) };
    let Some(start) = interval_arg(c, start_at, 0, StreamId::incr, "ERR invalid start ID for the interval") else {
        return;
    };
    let Some(end) = interval_arg(c, end_at, u64::MAX, StreamId::decr, "ERR invalid end ID for the interval") else {
        return;
    };
    let mut count = None;
    let mut j = 4;
    while j < c.argc() {
        if c.is(j, "COUNT") && j + 1 < c.argc() {
            let Some(n) = c.int_arg(j + 1) else { return };
            count = Some(n.max(0) as usize);
            j += 1;
        } else {
            return c.out.error(SYNTAX);
        }
        j += 1;
    }
    let s = match read_stream(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return c.out.array(0),
        Ok(Some(s)) => s,
    };
    match count {
        Some(0) => c.out.null_array(),
        _ => reply_range(c.out, s, start, end, count.unwrap_or(0), rev),
    }
}

fn xrange(e: &mut Engine, c: &mut Call) {
    xrange_generic(e, c, false);
}

fn xrevrange(e: &mut Engine, c: &mut Call) {
    xrange_generic(e, c, true);
}
