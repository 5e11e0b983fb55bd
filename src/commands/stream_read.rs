//! XREAD and XREADGROUP: entries past given IDs from several streams,
//! optionally waiting (BLOCK) for them. A parked XREAD keeps its command
//! with `$` replaced by the ID it stood for, so the re-run after an XADD
//! serves what arrived; a parked XREADGROUP re-runs with `>` as it was.
//! XREADGROUP is logged as Redis propagates it: an XCLAIM per delivered
//! entry, or with NOACK an XGROUP SETID (and XGROUP CREATECONSUMER).

use super::stream_groups::{propagate_claim, propagate_group_id};
use super::streams::{checked_stream, id_arg, reply_entry, reply_range};
use crate::engine::notify::STREAM;
use crate::engine::{Call, Engine, SYNTAX};
use crate::types::stream::StreamId;
use crate::types::{Value, WRONGTYPE};

/// COUNT of a parked read given none, so a low ID does not flood it
/// (XREAD_BLOCKED_DEFAULT_COUNT).
const BLOCKED_DEFAULT_COUNT: usize = 1000;

struct ReadArgs {
    block_ms: Option<i64>,
    count: usize,
    /// Index of the first key; as many IDs follow the keys.
    streams_at: usize,
    streams: usize,
    /// XREADGROUP's GROUP argument (the consumer follows it).
    group_at: usize,
    noack: bool,
}

fn parse_read(c: &mut Call, xreadgroup: bool) -> Option<ReadArgs> {
    let mut a = ReadArgs { block_ms: None, count: 0, streams_at: 0, streams: 0, group_at: 0, noack: false };
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
            if !xreadgroup {
                c.out.error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return None;
            }
            a.group_at = i + 1;
            i += 2;
        } else if c.is(i, "NOACK") {
            if !xreadgroup {
                c.out.error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return None;
            }
            a.noack = true;
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
    if xreadgroup && a.group_at == 0 {
        c.out.error("ERR Missing GROUP option for XREADGROUP");
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

/// Nothing to serve: park the client (BLOCK) re-running `command`, or
/// answer a null array.
fn block_or_null(e: &Engine, c: &mut Call, a: &ReadArgs, command: Vec<Vec<u8>>) {
    match a.block_ms {
        Some(ms) if !c.no_block => {
            let deadline = (ms > 0).then(|| e.now.saturating_add(ms));
            let keys = (a.streams_at..a.streams_at + a.streams).map(|i| c.arg(i).to_vec()).collect();
            c.block_on_as(keys, deadline, command);
        }
        _ => c.out.null_array(),
    }
}

fn reply_header(c: &mut Call, streams: usize) {
    if c.client.resp3 {
        c.out.map(streams);
    } else {
        c.out.array(streams);
    }
}

pub fn xread(e: &mut Engine, c: &mut Call) {
    let Some(a) = parse_read(c, false) else { return };
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
    let mut ready = Vec::new();
    for (k, &id) in after.iter().enumerate() {
        if matches!(e.value(db, c.arg(a.streams_at + k)), Some(Value::Stream(s)) if s.last_entry_id() > id) {
            ready.push(k);
        }
    }
    if ready.is_empty() {
        // Wait with `$` pinned to the IDs it stood for now.
        let mut command: Vec<Vec<u8>> = c.args.iter().map(|x| x.to_vec()).collect();
        for (k, id) in after.iter().enumerate() {
            command[a.streams_at + a.streams + k] = id.to_bytes();
        }
        return block_or_null(e, c, &a, command);
    }
    reply_header(c, ready.len());
    for k in ready {
        let key = c.arg(a.streams_at + k);
        // A read lookup, counted in the keyspace hits as Redis counts it.
        let Some(Value::Stream(s)) = e.value(db, key) else { unreachable!("checked above") };
        if !c.client.resp3 {
            c.out.array(2);
        }
        c.out.bulk(key);
        let start = after[k].incr().expect("below the last entry");
        reply_range(c.out, s, start, StreamId::MAX, count, false);
    }
}

/// `>`: entries never delivered to the group.
const NEW_ENTRIES: StreamId = StreamId::MAX;

pub fn xreadgroup(e: &mut Engine, c: &mut Call) {
    let Some(a) = parse_read(c, true) else { return };
    let (db, group_name) = (c.db(), c.arg(a.group_at));
    let parked = e.blocking.waits(c.client.id, db, c.arg(a.streams_at));
    let mut after = Vec::with_capacity(a.streams);
    for k in 0..a.streams {
        let (key_at, id_at) = (a.streams_at + k, a.streams_at + a.streams + k);
        let key = c.arg(key_at);
        match e.value(db, key) {
            Some(Value::Stream(s)) if s.groups.contains_key(group_name) => {}
            Some(Value::Stream(_)) if parked => {
                return c.out.error("NOGROUP the consumer group this client was blocked on no longer exists")
            }
            // A parked client waits on while its key is gone or of another type.
            _ if parked => {
                after.push(None);
                continue;
            }
            Some(Value::Stream(_)) | None => {
                let (key, group) = (String::from_utf8_lossy(key), String::from_utf8_lossy(group_name));
                return c.out.error(&format!(
                    "NOGROUP No such key '{key}' or consumer group '{group}' in XREADGROUP with GROUP option"
                ));
            }
            Some(_) => return c.out.error(WRONGTYPE),
        }
        let id = match c.arg(id_at) {
            b"$" => {
                return c.out.error(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                )
            }
            b">" => NEW_ENTRIES,
            _ => match id_arg(c, id_at, 0, true) {
                Some(id) => id,
                None => return,
            },
        };
        after.push(Some(id));
    }
    let count = if parked && a.count == 0 { BLOCKED_DEFAULT_COUNT } else { a.count };
    let mut ready = Vec::new();
    for (k, id) in after.iter().enumerate() {
        let Some(id) = *id else { continue };
        let Some(Value::Stream(s)) = e.value(db, c.arg(a.streams_at + k)) else { continue };
        if id != NEW_ENTRIES || s.last_entry_id() > s.groups[group_name].last_id {
            ready.push((k, id));
        }
    }
    if ready.is_empty() {
        let command = c.args.iter().map(|x| x.to_vec()).collect();
        return block_or_null(e, c, &a, command);
    }
    // Deliveries are logged as the claims and group moves they amount to.
    c.propagate_nothing();
    reply_header(c, ready.len());
    for (k, id) in ready {
        let key = c.arg(a.streams_at + k);
        if !c.client.resp3 {
            c.out.array(2);
        }
        c.out.bulk(key);
        serve_group(e, c, key, &a, id, count);
        e.dirty += 1;
    }
}

/// Serves one stream to the consumer: its own pending entries after `after`
/// (history), or with NEW_ENTRIES the entries past the group's last ID.
fn serve_group(e: &mut Engine, c: &mut Call, key: &[u8], a: &ReadArgs, after: StreamId, count: usize) {
    let (db, now) = (c.db(), e.now);
    let (group_name, consumer) = (c.arg(a.group_at), c.arg(a.group_at + 1));
    let s = checked_stream(e, db, key);
    let mut g = s.groups.remove(group_name).expect("checked by the caller");
    let created = g.create_consumer(consumer, now);
    g.consumers.get_mut(consumer).expect("just ensured").seen_time = now;
    if created && a.noack {
        c.propagate_as(&[b"XGROUP", b"CREATECONSUMER", key, group_name, consumer]);
    }
    let limit = if count == 0 { usize::MAX } else { count };
    let start = after.incr().unwrap_or(StreamId::MAX);
    if after != NEW_ENTRIES {
        let ids: Vec<StreamId> = g.consumers[consumer].pending.range(start..).take(limit).copied().collect();
        c.out.array(ids.len());
        for id in ids {
            match s.range(id, id).next() {
                Some((id, items)) => {
                    reply_entry(c.out, id, items);
                    let nack = g.pel.get_mut(&id).expect("owned entries are pending");
                    nack.delivery_time = now;
                    nack.delivery_count += 1;
                }
                // Deleted since delivered: its ID with no fields.
                None => {
                    c.out.array(2);
                    c.out.bulk(id.to_string().as_bytes());
                    c.out.null_array();
                }
            }
        }
    } else {
        let from = g.last_id.incr().unwrap_or(StreamId::MAX);
        let ids: Vec<StreamId> = s.range(from, StreamId::MAX).take(limit).map(|(id, _)| id).collect();
        c.out.array(ids.len());
        let moved = !ids.is_empty();
        for id in ids {
            s.advance_group(&mut g, id);
            let (id, items) = s.range(id, id).next().expect("listed above");
            reply_entry(c.out, id, items);
            if !a.noack {
                g.assign(id, consumer, now, 1);
                propagate_claim(c, key, group_name, &g, id);
            }
        }
        if moved && a.noack {
            propagate_group_id(c, key, group_name, &g);
        }
    }
    s.groups.insert(group_name.to_vec(), g);
    if created {
        e.dirty += 1;
        e.notify(STREAM, "xgroup-createconsumer", db, key);
    }
}
