//! Consumer group commands: XGROUP, XACK, XPENDING, XCLAIM and XAUTOCLAIM.
//! Claims are logged as Redis propagates them: one idempotent
//! `XCLAIM … FORCE JUSTID LASTID` per entry whose ownership changed.

use super::streams::{checked_stream, id_arg, interval_arg, read_stream, reply_entry};
use crate::engine::notify::STREAM;
use crate::engine::{Call, Engine, SYNTAX};
use crate::types::stream::{Group, StreamId, UNKNOWN_READS};
use crate::types::{Stream, Value, WRONGTYPE};
use crate::util::parse_i64;

const HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

/// NOGROUP for a key that exists without the group.
pub(super) fn no_such_group(c: &mut Call, key_at: usize, group_at: usize) {
    let (key, group) = (String::from_utf8_lossy(c.arg(key_at)), String::from_utf8_lossy(c.arg(group_at)));
    c.out.error(&format!("NOGROUP No such consumer group '{group}' for key name '{key}'"));
}

fn no_group(c: &mut Call, key_at: usize, group_at: usize) {
    let (key, group) = (String::from_utf8_lossy(c.arg(key_at)), String::from_utf8_lossy(c.arg(group_at)));
    c.out.error(&format!("NOGROUP No such key '{key}' or consumer group '{group}'"));
}

/// The stream at argument 1 and its group at argument 2 for a write, or
/// the WRONGTYPE / NOGROUP reply.
fn stream_and_group<'e>(e: &'e mut Engine, c: &mut Call) -> Option<&'e mut Stream> {
    match e.value_mut(c.db(), c.arg(1)) {
        Some(Value::Stream(s)) if s.groups.contains_key(c.arg(2)) => Some(s),
        Some(Value::Stream(_)) | None => {
            no_group(c, 1, 2);
            None
        }
        Some(_) => {
            c.out.error(WRONGTYPE);
            None
        }
    }
}

/// Logs that `consumer` owns `id` as Redis's streamPropagateXCLAIM does.
pub(super) fn propagate_claim(c: &mut Call, key: &[u8], group_name: &[u8], g: &Group, id: StreamId) {
    let Some(nack) = g.pel.get(&id) else { return };
    let (id, time, count, last) =
        (id.to_bytes(), nack.delivery_time.to_string(), nack.delivery_count.to_string(), g.last_id.to_bytes());
    c.propagate_as(&[
        b"XCLAIM",
        key,
        group_name,
        &nack.consumer,
        b"0",
        &id,
        b"TIME",
        time.as_bytes(),
        b"RETRYCOUNT",
        count.as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        &last,
    ]);
}

/// Logs a group's last ID and read counter (streamPropagateGroupID).
pub(super) fn propagate_group_id(c: &mut Call, key: &[u8], group_name: &[u8], g: &Group) {
    let (last, read) = (g.last_id.to_bytes(), g.entries_read.to_string());
    c.propagate_as(&[b"XGROUP", b"SETID", key, group_name, &last, b"ENTRIESREAD", read.as_bytes()]);
}

// ---- XGROUP ---------------------------------------------------------------

pub fn xgroup(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    let arity_ok = match sub.as_slice() {
        b"help" => c.argc() == 2,
        b"create" | b"setid" => c.argc() >= 5,
        b"destroy" => c.argc() == 4,
        b"createconsumer" | b"delconsumer" => c.argc() == 5,
        _ => false,
    };
    if !arity_ok {
        return c.subcommand_error(&["help", "create", "setid", "destroy", "createconsumer", "delconsumer"]);
    }
    if sub == b"help" {
        return c.out.help(HELP);
    }
    let (create, setid) = (sub == b"create", sub == b"setid");
    let (mut mkstream, mut entries_read) = (false, UNKNOWN_READS);
    let mut i = 5;
    while i < c.argc() {
        if create && c.is(i, "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && c.is(i, "ENTRIESREAD") && i + 1 < c.argc() {
            let Some(n) = c.int_arg(i + 1) else { return };
            if n < 0 && n != UNKNOWN_READS {
                return c.out.error("ERR value for ENTRIESREAD must be positive or -1");
            }
            entries_read = n;
            i += 2;
        } else {
            return c.subcommand_syntax_error();
        }
    }
    let (db, key, name) = (c.db(), c.arg(2), c.arg(3));
    let exists = match e.value_mut(db, key) {
        None => false,
        Some(Value::Stream(s)) => {
            if !s.groups.contains_key(name) && (setid || sub == b"createconsumer" || sub == b"delconsumer") {
                return no_such_group(c, 2, 3);
            }
            true
        }
        Some(_) => return c.out.error(WRONGTYPE),
    };
    if !exists && !mkstream {
        return c.out.error(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
        );
    }
    match sub.as_slice() {
        b"create" if c.argc() <= 8 => xgroup_create(e, c, exists, entries_read),
        b"setid" if c.argc() == 5 || c.argc() == 7 => {
            let s = checked_stream(e, db, key);
            let id = if c.arg(4) == b"$" {
                s.last_id
            } else {
                match id_arg(c, 4, 0, false) {
                    Some(id) => id,
                    None => return,
                }
            };
            let g = s.groups.get_mut(name).expect("checked above");
            (g.last_id, g.entries_read) = (id, entries_read);
            c.out.ok();
            e.dirty += 1;
            e.notify(STREAM, "xgroup-setid", db, key);
        }
        b"destroy" => {
            let s = checked_stream(e, db, key);
            if s.groups.remove(name).is_none() {
                return c.out.int(0);
            }
            c.out.int(1);
            e.dirty += 1;
            e.notify(STREAM, "xgroup-destroy", db, key);
        }
        b"createconsumer" => {
            let now = e.now;
            let s = checked_stream(e, db, key);
            let created = s.groups.get_mut(name).expect("checked above").create_consumer(c.arg(4), now);
            c.out.int(i64::from(created));
            if created {
                e.dirty += 1;
                e.notify(STREAM, "xgroup-createconsumer", db, key);
            }
        }
        b"delconsumer" => {
            let s = checked_stream(e, db, key);
            let deleted = s.groups.get_mut(name).expect("checked above").delete_consumer(c.arg(4));
            c.out.int(deleted.unwrap_or(0) as i64);
            if deleted.is_some() {
                e.dirty += 1;
                e.notify(STREAM, "xgroup-delconsumer", db, key);
            }
        }
        _ => c.subcommand_syntax_error(),
    }
}

fn xgroup_create(e: &mut Engine, c: &mut Call, exists: bool, entries_read: i64) {
    let (db, key, name) = (c.db(), c.arg(2), c.arg(3));
    let last = match e.value_mut(db, key) {
        Some(Value::Stream(s)) => s.last_id,
        _ => StreamId::MIN,
    };
    let id = if c.arg(4) == b"$" {
        last
    } else {
        match id_arg(c, 4, 0, true) {
            Some(id) => id,
            None => return,
        }
    };
    if !exists {
        e.insert_value(db, key, Value::Stream(Box::default()));
        e.dirty += 1;
    }
    let s = checked_stream(e, db, key);
    if s.groups.contains_key(name) {
        return c.out.error("BUSYGROUP Consumer Group name already exists");
    }
    s.groups.insert(name.to_vec(), Group::new(id, entries_read));
    c.out.ok();
    e.dirty += 1;
    e.notify(STREAM, "xgroup-create", db, key);
}

// ---- XACK / XPENDING ------------------------------------------------------

pub fn xack(e: &mut Engine, c: &mut Call) {
    let (db, key) = (c.db(), c.arg(1));
    match e.value(db, key) {
        Some(Value::Stream(s)) if s.groups.contains_key(c.arg(2)) => {}
        Some(Value::Stream(_)) | None => return c.out.int(0),
        Some(_) => return c.out.error(WRONGTYPE),
    }
    let mut ids = Vec::with_capacity(c.argc() - 3);
    for i in 3..c.argc() {
        let Some(id) = id_arg(c, i, 0, true) else { return };
        ids.push(id);
    }
    let s = checked_stream(e, db, key);
    let g = s.groups.get_mut(c.arg(2)).expect("checked above");
    let acked = ids.into_iter().filter(|&id| g.ack(id)).count();
    e.dirty += acked as u64;
    c.out.int(acked as i64);
}

pub fn xpending(e: &mut Engine, c: &mut Call) {
    let argc = c.argc();
    if argc != 3 && !(6..=9).contains(&argc) {
        return c.out.error(SYNTAX);
    }
    let mut range = None;
    let (mut min_idle, mut consumer) = (0, None);
    if argc >= 6 {
        let mut at = 3;
        if c.is(3, "IDLE") {
            let Some(n) = c.int_arg(4) else { return };
            min_idle = n;
            if argc < 8 {
                return c.out.error(SYNTAX);
            }
            at = 5;
        }
        let Some(count) = c.int_arg(at + 2) else { return };
        let Some(start) = interval_arg(c, at, 0, StreamId::incr, "ERR invalid start ID for the interval") else {
            return;
        };
        let Some(end) = interval_arg(c, at + 1, u64::MAX, StreamId::decr, "ERR invalid end ID for the interval") else {
            return;
        };
        if at + 3 < argc {
            consumer = Some(c.arg(at + 3));
        }
        range = Some((start, end, count.max(0) as usize));
    }
    let now = e.now;
    let s = match read_stream(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(s) => s,
    };
    let Some(g) = s.and_then(|s| s.groups.get(c.arg(2))) else { return no_group(c, 1, 2) };
    let Some((start, end, count)) = range else {
        c.out.array(4);
        c.out.int(g.pel.len() as i64);
        let (Some(first), Some(last)) = (g.pel.keys().next(), g.pel.keys().next_back()) else {
            c.out.null();
            c.out.null();
            return c.out.null_array();
        };
        c.out.bulk(first.to_string().as_bytes());
        c.out.bulk(last.to_string().as_bytes());
        let owners: Vec<_> = g.consumers.iter().filter(|(_, c)| !c.pending.is_empty()).collect();
        c.out.array(owners.len());
        for (name, owner) in owners {
            c.out.array(2);
            c.out.bulk(name);
            c.out.bulk_i64(owner.pending.len() as i64);
        }
        return;
    };
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(name) {
            None => return c.out.array(0),
            Some(owner) => owner.pending.iter().copied().collect(),
        },
        None => g.pel.keys().copied().collect(),
    };
    let rows: Vec<_> = if start > end {
        Vec::new()
    } else {
        ids.into_iter()
            .filter(|id| (start..=end).contains(id))
            .map(|id| (id, &g.pel[&id]))
            .filter(|(_, n)| min_idle == 0 || now - n.delivery_time >= min_idle)
            .take(count)
            .collect()
    };
    c.out.array(rows.len());
    for (id, nack) in rows {
        c.out.array(4);
        c.out.bulk(id.to_string().as_bytes());
        c.out.bulk(&nack.consumer);
        c.out.int((now - nack.delivery_time).max(0));
        c.out.int(nack.delivery_count as i64);
    }
}

// ---- XCLAIM / XAUTOCLAIM --------------------------------------------------

/// An integer option, or `ERR <msg>`.
fn int_or(c: &mut Call, i: usize, msg: &str) -> Option<i64> {
    let v = parse_i64(c.arg(i));
    if v.is_none() {
        c.out.error(&format!("ERR {msg}"));
    }
    v
}

/// Looks up or creates the claiming consumer once (seen now).
fn claimer(e: &mut Engine, c: &Call, created: &mut Option<bool>) {
    if created.is_some() {
        return;
    }
    let (db, key, now) = (c.db(), c.arg(1), e.now);
    let Some(Value::Stream(s)) = e.value_mut(db, key) else { return };
    let g = s.groups.get_mut(c.arg(2)).expect("checked by the caller");
    let name = c.arg(3);
    let new = g.create_consumer(name, now);
    g.consumers.get_mut(name).expect("just ensured").seen_time = now;
    if new {
        e.dirty += 1;
        e.notify(STREAM, "xgroup-createconsumer", db, key);
    }
    *created = Some(new);
}

pub fn xclaim(e: &mut Engine, c: &mut Call) {
    if stream_and_group(e, c).is_none() {
        return;
    }
    let Some(min_idle) = int_or(c, 4, "Invalid min-idle-time argument for XCLAIM") else { return };
    let min_idle = min_idle.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < c.argc() {
        match parse_exact(c.arg(j)) {
            Some(id) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let now = e.now;
    let (mut force, mut justid, mut retry, mut time, mut last_id) = (false, false, None, None, StreamId::MIN);
    while j < c.argc() {
        let more = j + 1 < c.argc();
        if c.is(j, "FORCE") {
            force = true;
        } else if c.is(j, "JUSTID") {
            justid = true;
        } else if c.is(j, "IDLE") && more {
            j += 1;
            let Some(n) = int_or(c, j, "Invalid IDLE option argument for XCLAIM") else { return };
            time = Some(now - n);
        } else if c.is(j, "TIME") && more {
            j += 1;
            let Some(n) = int_or(c, j, "Invalid TIME option argument for XCLAIM") else { return };
            time = Some(n);
        } else if c.is(j, "RETRYCOUNT") && more {
            j += 1;
            let Some(n) = int_or(c, j, "Invalid RETRYCOUNT option argument for XCLAIM") else { return };
            // A negative count leaves the counter to the usual rule.
            retry = u64::try_from(n).ok();
        } else if c.is(j, "LASTID") && more {
            j += 1;
            let Some(id) = id_arg(c, j, 0, true) else { return };
            last_id = id;
        } else {
            let opt = String::from_utf8_lossy(c.arg(j)).into_owned();
            return c.out.error(&format!("ERR Unrecognized XCLAIM option '{opt}'"));
        }
        j += 1;
    }
    let delivery_time = time.filter(|&t| (0..=now).contains(&t)).unwrap_or(now);
    let (db, key, group_name) = (c.db(), c.arg(1), c.arg(2));
    c.propagate_nothing();
    let mut propagate_last_id = false;
    {
        let s = stream_and_group(e, c).expect("checked above");
        let g = s.groups.get_mut(group_name).expect("checked above");
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    let mut created = None;
    let mut claimed = Vec::new();
    for id in ids {
        let s = checked_stream(e, db, key);
        let exists = s.contains(id);
        let g = s.groups.get(group_name).expect("checked above");
        let pending = g.pel.get(&id).map(|n| now - n.delivery_time);
        if !exists {
            if pending.is_some() {
                propagate_claim(c, key, group_name, g, id);
                propagate_last_id = false;
                let s = checked_stream(e, db, key);
                s.groups.get_mut(group_name).expect("checked above").ack(id);
                e.dirty += 1;
            }
            continue;
        }
        match pending {
            None if !force => continue,
            Some(idle) if min_idle > 0 && idle < min_idle => continue,
            _ => {}
        }
        claimer(e, c, &mut created);
        let s = checked_stream(e, db, key);
        let g = s.groups.get_mut(group_name).expect("checked above");
        let old_count = g.pel.get(&id).map_or(1, |n| n.delivery_count);
        let count = match retry {
            Some(n) => n,
            None if !justid => old_count + 1,
            None => old_count,
        };
        g.assign(id, c.arg(3), delivery_time, count);
        propagate_claim(c, key, group_name, g, id);
        propagate_last_id = false;
        e.dirty += 1;
        claimed.push(id);
    }
    let s = checked_stream(e, db, key);
    if propagate_last_id {
        propagate_group_id(c, key, group_name, &s.groups[group_name]);
        e.dirty += 1;
    }
    let s = checked_stream(e, db, key);
    reply_claimed(c, s, &claimed, justid);
}

/// The claimed entries, or their IDs with JUSTID.
fn reply_claimed(c: &mut Call, s: &Stream, claimed: &[StreamId], justid: bool) {
    c.out.array(claimed.len());
    for &id in claimed {
        if justid {
            c.out.bulk(id.to_string().as_bytes());
        } else if let Some((id, items)) = s.range(id, id).next() {
            reply_entry(c.out, id, items);
        }
    }
}

/// XCLAIM's IDs run until an argument is not one (the options follow).
fn parse_exact(arg: &[u8]) -> Option<StreamId> {
    crate::types::stream::parse_exact(arg, 0, true)
}

pub fn xautoclaim(e: &mut Engine, c: &mut Call) {
    let Some(min_idle) = int_or(c, 4, "Invalid min-idle-time argument for XAUTOCLAIM") else { return };
    let min_idle = min_idle.max(0);
    let Some(start) = interval_arg(c, 5, 0, StreamId::incr, "ERR invalid start ID for the interval") else {
        return;
    };
    let (mut count, mut justid) = (100usize, false);
    let mut j = 6;
    while j < c.argc() {
        if c.is(j, "COUNT") && j + 1 < c.argc() {
            const MAX_COUNT: i64 = i64::MAX / 16;
            match parse_i64(c.arg(j + 1)).filter(|n| (1..=MAX_COUNT).contains(n)) {
                Some(n) => count = n as usize,
                None => return c.out.error("ERR COUNT must be > 0"),
            }
            j += 1;
        } else if c.is(j, "JUSTID") {
            justid = true;
        } else {
            return c.out.error(SYNTAX);
        }
        j += 1;
    }
    if stream_and_group(e, c).is_none() {
        return;
    }
    let (db, key, group_name, now) = (c.db(), c.arg(1), c.arg(2), e.now);
    c.propagate_nothing();
    let mut attempts = count.saturating_mul(10);
    let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
    let mut created = None;
    let mut cursor = Some(start);
    while attempts > 0 && count > 0 {
        let s = checked_stream(e, db, key);
        let g = s.groups.get(group_name).expect("checked above");
        let Some((&id, nack)) = cursor.and_then(|from| g.pel.range(from..).next()) else {
            cursor = None;
            break;
        };
        attempts -= 1;
        cursor = id.incr();
        if !s.contains(id) {
            propagate_claim(c, key, group_name, g, id);
            let s = checked_stream(e, db, key);
            s.groups.get_mut(group_name).expect("checked above").ack(id);
            e.dirty += 1;
            deleted.push(id);
            count -= 1;
            continue;
        }
        if min_idle > 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        let delivery_count = nack.delivery_count + u64::from(!justid);
        claimer(e, c, &mut created);
        let s = checked_stream(e, db, key);
        let g = s.groups.get_mut(group_name).expect("checked above");
        g.assign(id, c.arg(3), now, delivery_count);
        propagate_claim(c, key, group_name, g, id);
        e.dirty += 1;
        claimed.push(id);
        count -= 1;
    }
    let s = checked_stream(e, db, key);
    let g = &s.groups[group_name];
    let next = cursor.and_then(|from| g.pel.range(from..).next().map(|(id, _)| *id)).unwrap_or(StreamId::MIN);
    c.out.array(3);
    c.out.bulk(next.to_string().as_bytes());
    reply_claimed(c, s, &claimed, justid);
    c.out.array(deleted.len());
    for id in deleted {
        c.out.bulk(id.to_string().as_bytes());
    }
}
