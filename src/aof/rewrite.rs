//! The compacted AOF a rewrite child writes from its copy-on-write view of
//! the keyspace: a FUNCTION LOAD per library first, then one command per
//! small key, big collections in batches of 64 items, TTLs as PEXPIREAT —
//! the shape of Redis's rewriteAppendOnlyFile.

use super::record::write_command;
use crate::functions::Libraries;
use crate::store::Db;
use crate::types::{Elem, Stream, Value};
use crate::util::{fmt_i64, format_f64, itoa_buf};
use std::io::{Result, Write};

/// Items per command for collections (AOF_REWRITE_ITEMS_PER_CMD).
pub const ITEMS_PER_COMMAND: usize = 64;

/// Writes a FUNCTION LOAD of each library, then every live key of every db,
/// as commands. Keys already expired at `now_ms` are left out.
pub fn write_dataset<W: Write>(w: &mut W, dbs: &[Db], libraries: &Libraries, now_ms: i64) -> Result<u64> {
    for library in libraries.libraries() {
        write_command(w, &[b"FUNCTION", b"LOAD", &library.code])?;
    }
    let mut keys = 0;
    for (index, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let mut num = itoa_buf();
        write_command(w, &[b"SELECT", fmt_i64(index as i64, &mut num)])?;
        for slot in db.dict.iter() {
            let expire = db.expire_at(slot);
            if expire.is_some_and(|at| at <= now_ms) {
                continue;
            }
            let key = db.key(slot);
            write_value(w, key, db.value(slot))?;
            if let Some(at) = expire {
                write_command(w, &[b"PEXPIREAT", key, fmt_i64(at, &mut num)])?;
            }
            keys += 1;
        }
    }
    Ok(keys)
}

/// An element's text without allocating: integers are formatted into a
/// stack buffer (the rewrite child keeps its own allocations small).
enum Text<'a> {
    Borrowed(&'a [u8]),
    Number([u8; 20], usize),
    Owned(String),
}

impl<'a> Text<'a> {
    fn of(e: &Elem<'a>) -> Text<'a> {
        match *e {
            Elem::Str(b) => Text::Borrowed(b),
            Elem::Int(n) => {
                let mut buf = itoa_buf();
                let len = fmt_i64(n, &mut buf).len();
                buf.copy_within(20 - len.., 0);
                Text::Number(buf, len)
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Text::Borrowed(b) => b,
            Text::Number(buf, len) => &buf[..*len],
            Text::Owned(s) => s.as_bytes(),
        }
    }
}

/// Emits `head` + items in commands of at most ITEMS_PER_COMMAND items.
fn batched<'a, W: Write>(
    w: &mut W,
    head: &[&[u8]],
    items: impl Iterator<Item = [Text<'a>; 2]>,
    width: usize,
) -> Result<()> {
    let mut batch: Vec<[Text<'a>; 2]> = Vec::with_capacity(ITEMS_PER_COMMAND);
    let flush = |w: &mut W, batch: &mut Vec<[Text<'a>; 2]>| -> Result<()> {
        let mut parts: Vec<&[u8]> = head.to_vec();
        for item in batch.iter() {
            parts.extend(item[..width].iter().map(Text::bytes));
        }
        write_command(w, &parts)?;
        batch.clear();
        Ok(())
    };
    for item in items {
        batch.push(item);
        if batch.len() == ITEMS_PER_COMMAND {
            flush(w, &mut batch)?;
        }
    }
    if !batch.is_empty() {
        flush(w, &mut batch)?;
    }
    Ok(())
}

fn write_value<W: Write>(w: &mut W, key: &[u8], value: &Value) -> Result<()> {
    let none = || Text::Borrowed(b"");
    match value {
        Value::Str(s) => s.with_bytes(|b| write_command(w, &[b"SET", key, b])),
        Value::List(l) => batched(w, &[b"RPUSH", key], l.iter().map(|v| [Text::of(&v), none()]), 1),
        Value::Set(s) => batched(w, &[b"SADD", key], s.iter().map(|m| [Text::of(&m), none()]), 1),
        Value::Hash(h) => batched(w, &[b"HSET", key], h.iter().map(|(f, v)| [Text::of(&f), Text::of(&v)]), 2),
        Value::ZSet(z) => {
            batched(w, &[b"ZADD", key], z.iter().map(|(m, s)| [Text::Owned(format_f64(s)), Text::of(&m)]), 2)
        }
        Value::Stream(s) => write_stream(w, key, s),
    }
}

/// XADD per entry (an empty stream: one added and trimmed away), XSETID
/// to restore the counters, then per group XGROUP CREATE and per consumer
/// an XCLAIM of each pending entry (XGROUP CREATECONSUMER when it has
/// none), as Redis's rewriteStreamObject.
fn write_stream<W: Write>(w: &mut W, key: &[u8], s: &Stream) -> Result<()> {
    if s.is_empty() {
        write_command(w, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"])?;
    }
    for (id, items) in s.iter() {
        let id = id.to_bytes();
        let mut parts: Vec<&[u8]> = vec![b"XADD", key, &id];
        parts.extend(items);
        write_command(w, &parts)?;
    }
    let mut num = itoa_buf();
    let (last, deleted) = (s.last_id.to_bytes(), s.max_deleted_id.to_bytes());
    let added = fmt_i64(s.entries_added as i64, &mut num);
    write_command(w, &[b"XSETID", key, &last, b"ENTRIESADDED", added, b"MAXDELETEDID", &deleted])?;
    for (name, g) in &s.groups {
        let (last, read) = (g.last_id.to_bytes(), g.entries_read.to_string());
        write_command(w, &[b"XGROUP", b"CREATE", key, name, &last, b"ENTRIESREAD", read.as_bytes()])?;
        for (consumer, c) in &g.consumers {
            if c.pending.is_empty() {
                write_command(w, &[b"XGROUP", b"CREATECONSUMER", key, name, consumer])?;
            }
            for id in &c.pending {
                let mut args = g.pel[id].claim_command(key, name, *id);
                args.extend([b"JUSTID".to_vec(), b"FORCE".to_vec()]);
                write_command(w, &args.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aof::reader::AofReader;
    use crate::types::Value;

    #[test]
    fn writes_keys_with_ttls_and_skips_expired() {
        let mut dbs: Vec<Db> = (0..2).map(|_| Db::default()).collect();
        dbs[0].set(b"a", Value::from_bytes(b"1"), false, true, 0);
        let slot = dbs[0].set(b"t", Value::from_bytes(b"x"), false, true, 0);
        dbs[0].set_expire(slot, 10_000);
        let slot = dbs[1].set(b"gone", Value::from_bytes(b"x"), false, true, 0);
        dbs[1].set_expire(slot, 10);
        let mut out = Vec::new();
        let keys = write_dataset(&mut out, &dbs, &Libraries::default(), 100).unwrap();
        assert_eq!(keys, 2);
        let mut r = AofReader::new(&out[..]);
        let mut cmds = vec![];
        while let Some(c) = r.next_command().unwrap() {
            cmds.push(c.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "));
        }
        cmds.sort();
        assert_eq!(cmds, vec!["PEXPIREAT t 10000", "SELECT 0", "SELECT 1", "SET a 1", "SET t x"]);
    }
}
