//! Snapshots in Redis's RDB format: writing the keyspace to `temp-<pid>.rdb`,
//! fsyncing it and renaming it over the dump file (in a fork child or, for
//! SAVE, in the keyspace thread), and turning a dump's entries into values.

use crate::functions::Libraries;
use crate::rdb::{RdbConsumer, RdbEntry, RdbGroup, RdbNack, RdbStream, RdbValue, RdbWriter, StreamMeta, StreamNodes};
use crate::store::Db;
use crate::types::stream::{Consumer, Group, Nack};
use crate::types::{Hash, Limits, List, Set, Stream, Value, ZSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What a completed save wrote.
pub struct Saved {
    pub bytes: u64,
    pub keys: u64,
}

/// The temp file a process with `pid` writes before renaming.
pub fn temp_path(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("temp-{pid}.rdb"))
}

/// Writes the function libraries and every live key of `dbs` to `target`
/// atomically: temp file, fsync, rename, fsync of the directory. The temp
/// file is removed on failure.
pub fn save(
    dbs: &[Db],
    libraries: &Libraries,
    target: &Path,
    compression: bool,
    now_ms: i64,
) -> std::io::Result<Saved> {
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = temp_path(dir, std::process::id());
    let result = write_file(dbs, libraries, &temp, compression, now_ms).and_then(|saved| {
        std::fs::rename(&temp, target)?;
        File::open(dir)?.sync_all()?;
        Ok(saved)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn write_file(
    dbs: &[Db],
    libraries: &Libraries,
    path: &Path,
    compression: bool,
    now_ms: i64,
) -> std::io::Result<Saved> {
    let mut out = BufWriter::with_capacity(64 * 1024, File::create(path)?);
    let saved = write_rdb(&mut out, dbs, libraries, compression, now_ms, false)?;
    out.get_ref().sync_all()?;
    Ok(saved)
}

/// Writes the function libraries, then every live key of `dbs`, to `out`
/// in RDB format, up to the EOF opcode and checksum, and flushes it: a dump
/// file or, with `aof_base`, the RDB preamble of a rewritten AOF.
pub fn write_rdb<W: Write>(
    out: W,
    dbs: &[Db],
    libraries: &Libraries,
    compression: bool,
    now_ms: i64,
    aof_base: bool,
) -> std::io::Result<Saved> {
    let mut rdb = RdbWriter::new(out);
    rdb.set_compression(compression);
    rdb.write_header(now_ms / 1000, crate::memory::used_memory(), aof_base)?;
    for library in libraries.libraries() {
        rdb.write_function(&library.code)?;
    }
    let mut keys = 0;
    for (index, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        rdb.select_db(index, db.len() as u64, db.expires_len() as u64)?;
        for slot in db.dict.iter() {
            let expire = db.expire_at(slot);
            if expire.is_some_and(|at| at <= now_ms) {
                continue;
            }
            write_entry(&mut rdb, db.key(slot), expire, db.value(slot))?;
            keys += 1;
        }
    }
    let (_, bytes) = rdb.finish()?;
    Ok(Saved { bytes, keys })
}

fn write_entry<W: Write>(
    rdb: &mut RdbWriter<W>,
    key: &[u8],
    expire: Option<i64>,
    value: &Value,
) -> std::io::Result<()> {
    match value {
        Value::Str(s) => s.with_bytes(|b| rdb.write_string(key, expire, b)),
        Value::List(l) => {
            rdb.begin_list(key, expire, l.len() as u64)?;
            l.iter().try_for_each(|e| e.with_bytes(|b| rdb.push_element(b)))
        }
        Value::Set(s) => {
            rdb.begin_set(key, expire, s.len() as u64)?;
            s.iter().try_for_each(|e| e.with_bytes(|b| rdb.push_element(b)))
        }
        Value::Hash(h) => {
            rdb.begin_hash(key, expire, h.len() as u64)?;
            h.iter().try_for_each(|(f, v)| f.with_bytes(|fb| v.with_bytes(|vb| rdb.push_field(fb, vb))))
        }
        Value::ZSet(z) => {
            rdb.begin_zset(key, expire, z.len() as u64)?;
            z.iter().try_for_each(|(m, score)| m.with_bytes(|b| rdb.push_member(b, score)))
        }
        Value::Stream(s) => {
            let mut nodes = StreamNodes::new();
            for (id, items) in s.iter() {
                nodes.push(id, items);
            }
            rdb.write_stream(key, expire, &nodes.finish(), &stream_meta(s), &rdb_groups(s))
        }
    }
}

fn stream_meta(s: &Stream) -> StreamMeta {
    StreamMeta {
        length: s.len() as u64,
        last_id: s.last_id,
        first_id: s.first_id,
        max_deleted_id: s.max_deleted_id,
        entries_added: s.entries_added,
    }
}

fn rdb_groups(s: &Stream) -> Vec<RdbGroup> {
    s.groups
        .iter()
        .map(|(name, g)| RdbGroup {
            name: name.clone(),
            last_id: g.last_id,
            entries_read: g.entries_read,
            pel: g
                .pel
                .iter()
                .map(|(id, n)| RdbNack { id: *id, delivery_time: n.delivery_time, delivery_count: n.delivery_count })
                .collect(),
            consumers: g
                .consumers
                .iter()
                .map(|(name, c)| RdbConsumer {
                    name: name.clone(),
                    seen_time: c.seen_time,
                    pending: c.pending.iter().copied().collect(),
                })
                .collect(),
        })
        .collect()
}

/// A loaded stream; Err for a last ID below its entries, or a group that
/// repeats or whose PEL names an entry no consumer owns.
fn stream_from_rdb(loaded: RdbStream) -> Result<Stream, String> {
    let mut s = Stream::new();
    for (id, items) in loaded.entries {
        s.insert_loaded(id, crate::types::stream::entry::pack(items.iter().map(Vec::as_slice)));
    }
    let m = loaded.meta;
    (s.last_id, s.first_id, s.max_deleted_id, s.entries_added) =
        (m.last_id, m.first_id, m.max_deleted_id, m.entries_added);
    if s.last_entry_id() > s.last_id {
        // New IDs would collide with loaded entries.
        return Err("Stream last ID is smaller than its last entry".into());
    }
    for g in loaded.groups {
        let mut group = Group::new(g.last_id, g.entries_read);
        let mut owners = std::collections::HashMap::new();
        for c in g.consumers {
            for id in &c.pending {
                if owners.insert(*id, c.name.clone()).is_some() {
                    return Err("Duplicated consumer PEL entry loading a stream consumer group".into());
                }
            }
            let consumer = Consumer { seen_time: c.seen_time, pending: c.pending.into_iter().collect() };
            if group.consumers.insert(c.name, consumer).is_some() {
                return Err("Duplicate stream consumer detected.".into());
            }
        }
        for n in g.pel {
            let consumer = owners.remove(&n.id).ok_or("Stream CG PEL entry without consumer")?;
            let nack = Nack { delivery_time: n.delivery_time, delivery_count: n.delivery_count, consumer };
            if group.pel.insert(n.id, nack).is_some() {
                return Err("Duplicated global PEL entry loading stream consumer group".into());
            }
        }
        if s.groups.insert(g.name, group).is_some() {
            return Err("Duplicated consumer group name".into());
        }
    }
    Ok(s)
}

/// DUMP's serialization of a value: the RDB encoding a file gives it after
/// its key, then the RDB version and a CRC-64.
pub fn dump_payload(value: &Value, compression: bool) -> std::io::Result<Vec<u8>> {
    let mut rdb = RdbWriter::payload(Vec::new());
    rdb.set_compression(compression);
    write_entry(&mut rdb, b"", None, value)?;
    rdb.finish_payload()
}

/// Builds a keyspace value from a dump entry, in the compact encodings the
/// limits allow; Err for what forkv cannot hold.
pub fn value_from_rdb(value: RdbValue, limits: &Limits) -> Result<Value, String> {
    Ok(match value {
        RdbValue::String(s) => Value::from_bytes(&s),
        RdbValue::List(items) => Value::List(Box::new(List::from_items(limits.list_max_listpack_size, items))),
        RdbValue::Set(members) => Value::Set(Box::new(Set::from_members(members, limits))),
        RdbValue::Hash(pairs) => Value::Hash(Box::new(Hash::from_pairs(pairs, limits))),
        RdbValue::ZSet(pairs) => Value::ZSet(Box::new(ZSet::from_pairs(pairs, limits))),
        RdbValue::Stream(s) => Value::Stream(Box::new(stream_from_rdb(*s)?)),
    })
}

/// Adds a loaded entry to `dbs`; entries expired at `skip_expired_at` (None
/// keeps them all) are skipped. Returns whether the key was added; a key of
/// a db this server does not have is an error, as in Redis: dropping it
/// would lose data silently.
pub fn load_entry(
    dbs: &mut [Db],
    entry: RdbEntry,
    limits: &Limits,
    skip_expired_at: Option<i64>,
    access: u32,
) -> Result<bool, String> {
    let count = dbs.len();
    let Some(db) = dbs.get_mut(entry.db) else {
        return Err(format!(
            "Data file was created with a server configured to handle more than {count} databases (a key of db {}); raise `databases`",
            entry.db
        ));
    };
    if entry.expire_ms.zip(skip_expired_at).is_some_and(|(at, now)| at <= now) {
        return Ok(false);
    }
    let value = value_from_rdb(entry.value, limits)?;
    let slot = db.set(&entry.key, value, false, true, access);
    if let Some(at) = entry.expire_ms {
        db.set_expire(slot, at);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::RdbReader;

    #[test]
    fn saves_and_loads_every_type() {
        let limits = Limits::default();
        let mut dbs: Vec<Db> = (0..3).map(|_| Db::default()).collect();
        dbs[0].set(b"s", Value::from_bytes(b"hello"), false, true, 0);
        let slot = dbs[0].set(b"n", Value::from_bytes(b"42"), false, true, 0);
        dbs[0].set_expire(slot, 9_000_000_000_000);
        dbs[2].set(
            b"l",
            value_from_rdb(RdbValue::List(vec![b"a".to_vec(), b"b".to_vec()]), &limits).unwrap(),
            false,
            true,
            0,
        );
        dbs[2].set(
            b"h",
            value_from_rdb(RdbValue::Hash(vec![(b"f".to_vec(), b"v".to_vec())]), &limits).unwrap(),
            false,
            true,
            0,
        );
        dbs[2].set(b"z", value_from_rdb(RdbValue::ZSet(vec![(b"m".to_vec(), 1.5)]), &limits).unwrap(), false, true, 0);
        dbs[2].set(
            b"st",
            value_from_rdb(RdbValue::Set(vec![b"1".to_vec(), b"x".to_vec()]), &limits).unwrap(),
            false,
            true,
            0,
        );
        let slot = dbs[1].set(b"old", Value::from_bytes(b"x"), false, true, 0);
        dbs[1].set_expire(slot, 5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.rdb");
        let saved = save(&dbs, &Libraries::default(), &path, true, 1000).unwrap();
        assert_eq!(saved.keys, 6);
        assert!(!temp_path(dir.path(), std::process::id()).exists());
        let mut loaded: Vec<Db> = (0..3).map(|_| Db::default()).collect();
        let mut reader = RdbReader::new(File::open(&path).unwrap()).unwrap();
        while let Some(entry) = reader.next_entry().unwrap() {
            load_entry(&mut loaded, entry, &limits, Some(1000), 0).unwrap();
        }
        assert_eq!(loaded[0].len(), 2);
        assert_eq!(loaded[1].len(), 0);
        assert_eq!(loaded[2].len(), 4);
        let n = loaded[0].find(b"n").unwrap();
        assert_eq!(loaded[0].expire_at(n), Some(9_000_000_000_000));
        assert_eq!(loaded[2].value(loaded[2].find(b"z").unwrap()).type_name(), "zset");
    }

    #[test]
    fn expired_entries_are_kept_only_without_a_cutoff() {
        let limits = Limits::default();
        let entry =
            || RdbEntry { db: 0, key: b"k".to_vec(), value: RdbValue::String(b"v".to_vec()), expire_ms: Some(5) };
        let mut dbs = vec![Db::default()];
        assert!(!load_entry(&mut dbs, entry(), &limits, Some(1000), 0).unwrap());
        assert!(dbs[0].is_empty());
        assert!(load_entry(&mut dbs, entry(), &limits, None, 0).unwrap());
        assert_eq!(dbs[0].expire_at(dbs[0].find(b"k").unwrap()), Some(5));
    }

    #[test]
    fn a_key_of_a_db_out_of_range_is_refused() {
        let entry = RdbEntry { db: 3, key: b"k".to_vec(), value: RdbValue::String(b"v".to_vec()), expire_ms: None };
        let mut dbs = vec![Db::default(), Db::default()];
        let err = load_entry(&mut dbs, entry, &Limits::default(), None, 0).unwrap_err();
        assert!(err.contains("more than 2 databases") && err.contains("db 3"), "{err}");
        assert!(dbs.iter().all(|db| db.is_empty()));
    }

    #[test]
    fn failed_save_leaves_no_temp_and_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("missing-dir").join("dump.rdb");
        assert!(save(&[Db::default()], &Libraries::default(), &target, true, 0).is_err());
        assert!(!temp_path(&dir.path().join("missing-dir"), std::process::id()).exists());
    }
}
