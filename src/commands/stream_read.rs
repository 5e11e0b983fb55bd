//! XREAD: entries past given IDs from several streams, optionally waiting
//! (BLOCK) for them. A parked client keeps its command with `$` replaced by
//! the ID it stood for, so the re-run after an XADD serves what arrived.

use super::streams::{id_arg, reply_range};
use crate::engine::{Call, Engine, SYNTAX};
use crate::types::stream::StreamId;
use crate::types::{Value, WRONGTYPE};

/// COUNT of a parked XREAD given none, so a low ID does not flood it
/// (XREAD_BLOCKED_DEFAULT_COUNT).
const BLOCKED_DEFAULT_COUNT: usize = 1000;

struct ReadArgs {
    block_ms: Option<i64>,
    count: usize,
    /// Index of the first key; as many IDs follow the keys.
    streams_at: usize,
    streams: usize,
}

fn parse_read(c: &mut Call) -> Option<ReadArgs> {
    let mut a = ReadArgs { block_ms: None, count: 0, streams_at: 0, streams: 0 };
    let mut i = 1;
    while i < c.argc() {
        let more = c.argc() - i - 1;
        if c.is(i, "BLOCK") && more > 0 {
            if c.client.script {
                let name = String::from_utf8_lossy(c.arg(0)).into_owned();
                c.out.error(&format!("ERR {name} command is not allowed with BLOCK option from scripts"));
                return None;
            }
            i += 1;
            a.block_ms = Some(timeout_ms(c, i)?);
        } else if c.is(i, "COUNT") && more > 0 {
            i += 1;
            a.count = c.int_arg(i)?.max(0) as usize;
        } else if c.is(i, "STREAMS") && more > 0 {
            a.streams_at = i + 1;
            let rest = c.argc() - a.streams_at;
            if !rest.is_multiple_of(2) {
                c.out
                    .error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                return None;
            }
            a.streams = rest / 2;
            break;
        } else if c.is(i, "GROUP") && more >= 2 {
            c.out.error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
            return None;
        } else if c.is(i, "NOACK") {
            c.out.error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
            return None;
        } else {
            c.out.error(SYNTAX);
            return None;
        }
        i += 1;
    }
    if a.streams_at == 0 {
        c.out.error(SYNTAX);
        return None;
    }
    Some(a)
}

/// BLOCK's milliseconds (getTimeoutFromObjectOrReply with UNIT_MILLISECONDS).
fn timeout_ms(c: &mut Call, i: usize) -> Option<i64> {
    let Some(ms) = crate::util::parse_i64(c.arg(i)) else {
        c.out.error("ERR timeout is not an integer or out of range");
        return None;
    };
    if ms < 0 {
        c.out.error("ERR timeout is negative");
        return None;
    }
    Some(ms)
}

pub fn xread(e: &mut Engine, c: &mut Call) {
    let Some(a) = parse_read(c) else { return };
    let db = c.db();
    let parked = e.blocking.waits(c.client.id, db, c.arg(a.streams_at));
    // The ID each key must be passed, checked in order: a key's type, then its ID.
    let mut after = Vec::with_capacity(a.streams);
    for k in 0..a.streams {
        let (key_at, id_at) = (a.streams_at + k, a.streams_at + a.streams + k);
        let last = match e.value(db, c.arg(key_at)) {
            None => StreamId::MIN,
            Some(Value::Stream(s)) => s.last_id,
            // A parked client waits on while a key holds another type.
            Some(_) if parked => StreamId::MAX,
            Some(_) => return c.out.error(WRONGTYPE),
        };
        let id = match c.arg(id_at) {
            b"$" => last,
            b">" => return c.out.error(
                "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            ),
            _ => match id_arg(c, id_at, 0, true) {
                Some(id) => id,
                None => return,
            },
        };
        after.push(id);
    }
    let count = if parked && a.count == 0 { BLOCKED_DEFAULT_COUNT } else { a.count };
    if serve(e, c, &a, &after, count) {
        return;
    }
    match a.block_ms {
        Some(ms) if !c.no_block => {
            let deadline = (ms > 0).then(|| e.now.saturating_add(ms));
            let keys = (a.streams_at..a.streams_at + a.streams).map(|i| c.arg(i).to_vec()).collect();
            // Wait with `$` pinned to the IDs it stood for now.
            let mut command: Vec<Vec<u8>> = c.args.iter().map(|x| x.to_vec()).collect();
            for (k, id) in after.iter().enumerate() {
                command[a.streams_at + a.streams + k] = id.to_bytes();
            }
            c.block_on_as(keys, deadline, command);
        }
        _ => c.out.null_array(),
    }
}

/// Replies with the entries past `after` of every stream that has some;
/// false (nothing replied) when none has.
fn serve(e: &mut Engine, c: &mut Call, a: &ReadArgs, after: &[StreamId], count: usize) -> bool {
    let db = c.db();
    let mut ready = Vec::new();
    for (k, &id) in after.iter().enumerate() {
        if matches!(e.value(db, c.arg(a.streams_at + k)), Some(Value::Stream(s)) if s.last_entry_id() > id) {
            ready.push(k);
        }
    }
    if ready.is_empty() {
        return false;
    }
    if c.client.resp3 {
        c.out.map(ready.len());
    } else {
        c.out.array(ready.len());
    }
    for k in ready {
        let key = c.arg(a.streams_at + k);
        let Some(Value::Stream(s)) = e.value(db, key) else { unreachable!("checked above") };
        if !c.client.resp3 {
            c.out.array(2);
        }
        c.out.bulk(key);
        let start = after[k].incr().expect("below the last entry");
        reply_range(c.out, s, start, StreamId::MAX, count, false);
    }
    true
}
