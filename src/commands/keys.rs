//! Generic key commands: existence, deletion, renaming, expiry, iteration.

use crate::engine::key_finders::object_key;
use crate::engine::notify::GENERIC;
use crate::engine::table::{cmd, CommandSpec, CONTAINER, FAST, MARKS_OWN_WRITES, READONLY, WRITE};
use crate::engine::{Call, Engine, Request, NOT_INTEGER, SYNTAX};
use crate::glob::glob_match;
use crate::util::{fmt_i64, itoa_buf, parse_i64};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("del", -2, WRITE, (1, -1, 1), del),
    cmd("unlink", -2, WRITE | FAST, (1, -1, 1), del),
    cmd("exists", -2, READONLY | FAST, (1, -1, 1), exists),
    cmd("touch", -2, READONLY | FAST, (1, -1, 1), touch),
    cmd("type", 2, READONLY | FAST, (1, 1, 1), type_cmd),
    cmd("rename", 3, WRITE, (1, 2, 1), rename),
    cmd("renamenx", 3, WRITE | FAST, (1, 2, 1), renamenx),
    cmd("keys", 2, READONLY, (0, 0, 0), keys),
    cmd("scan", -2, READONLY, (0, 0, 0), scan),
    cmd("randomkey", 1, READONLY, (0, 0, 0), randomkey),
    cmd("expire", -3, WRITE | FAST, (1, 1, 1), expire),
    cmd("pexpire", -3, WRITE | FAST, (1, 1, 1), pexpire),
    cmd("expireat", -3, WRITE | FAST, (1, 1, 1), expireat),
    cmd("pexpireat", -3, WRITE | FAST, (1, 1, 1), pexpireat),
    cmd("ttl", 2, READONLY | FAST, (1, 1, 1), ttl),
    cmd("pttl", 2, READONLY | FAST, (1, 1, 1), pttl),
    cmd("expiretime", 2, READONLY | FAST, (1, 1, 1), expiretime),
    cmd("pexpiretime", 2, READONLY | FAST, (1, 1, 1), pexpiretime),
    cmd("persist", 2, WRITE | FAST, (1, 1, 1), persist),
    cmd("dbsize", 1, READONLY | FAST, (0, 0, 0), dbsize),
    cmd("flushdb", -1, WRITE, (0, 0, 0), flushdb),
    cmd("flushall", -1, WRITE, (0, 0, 0), flushall),
    cmd("swapdb", 3, WRITE | FAST, (0, 0, 0), swapdb),
    cmd("move", 3, WRITE | FAST, (1, 1, 1), move_cmd),
    cmd("copy", -3, WRITE | MARKS_OWN_WRITES, (1, 2, 1), copy),
    cmd("object", -2, READONLY | CONTAINER, (0, 0, 0), object).keys_by(object_key),
];

fn del(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    let mut deleted = 0;
    for &key in &c.args[1..] {
        if e.delete_key(db, key) {
            e.notify(GENERIC, "del", db, key);
            deleted += 1;
        }
    }
    e.dirty += deleted;
    c.out.int(deleted as i64);
}

fn exists(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    let n = c.args[1..].iter().filter(|k| e.lookup_counted(db, k, true).is_some()).count();
    c.out.int(n as i64);
}

/// EXISTS that counts as an access to each key.
fn touch(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    let n = c.args[1..].iter().filter(|k| e.lookup_read(db, k).is_some()).count();
    c.out.int(n as i64);
}

fn type_cmd(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    let name = e.lookup_counted(db, c.arg(1), true).map_or("none", |slot| e.dbs[db].value(slot).type_name());
    c.out.simple(name);
}

/// Moves `src` to `dst` keeping the TTL; false if `src` is missing.
fn rename_key(e: &mut Engine, db: usize, src: &[u8], dst: &[u8]) -> bool {
    let Some(slot) = e.lookup(db, src) else { return false };
    let ttl = e.dbs[db].expire_at(slot);
    if src == dst {
        return true;
    }
    // A destination past its TTL expires first, as Redis's lookup does.
    let replaced = e.lookup(db, dst).is_some();
    let value = e.dbs[db].remove(src).expect("key just found");
    // The old destination goes first: the key is new, as in Redis.
    if replaced {
        e.dbs[db].remove(dst);
    }
    let slot = e.insert_value(db, dst, value);
    if let Some(at) = ttl {
        e.dbs[db].set_expire(slot, at);
    }
    e.notify(GENERIC, "rename_from", db, src);
    e.notify(GENERIC, "rename_to", db, dst);
    e.dirty += 1;
    true
}

fn rename(e: &mut Engine, c: &mut Call) {
    if rename_key(e, c.db(), c.arg(1), c.arg(2)) {
        c.out.ok();
    } else {
        c.out.error("ERR no such key");
    }
}

fn renamenx(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    if e.lookup(db, c.arg(1)).is_none() {
        return c.out.error("ERR no such key");
    }
    if e.lookup(db, c.arg(2)).is_some() {
        return c.out.int(0);
    }
    rename_key(e, db, c.arg(1), c.arg(2));
    c.out.int(1);
}

/// Whether the key behind `slot` is logically expired (reads don't delete).
fn is_expired(e: &Engine, db: usize, slot: crate::store::Slot) -> bool {
    e.dbs[db].is_expired(slot, e.now) && !e.persistence.loading
}

fn keys(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    let pattern = c.arg(1);
    let all = pattern == b"*";
    let found: Vec<&[u8]> = e.dbs[db]
        .dict
        .iter()
        .filter(|&s| !is_expired(e, db, s))
        .map(|s| e.dbs[db].key(s))
        .filter(|k| all || glob_match(pattern, k, false))
        .collect();
    c.out.bulks(found.into_iter());
}

/// Parsed MATCH / COUNT / TYPE options shared by the SCAN family.
pub struct ScanOptions<'a> {
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub type_name: Option<Vec<u8>>,
}

/// Parses a SCAN cursor argument ("ERR invalid cursor" otherwise).
pub fn parse_cursor(c: &mut Call, i: usize) -> Option<u64> {
    // Like strtoul: an optional sign, and "-n" wraps around.
    let text = std::str::from_utf8(c.arg(i)).unwrap_or("");
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let v = digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse::<u64>().ok()).flatten().map(|n| {
        if negative {
            n.wrapping_neg()
        } else {
            n
        }
    });
    if v.is_none() {
        c.out.error("ERR invalid cursor");
    }
    v
}

/// Parses options from argument `from` on; `allow_type` for SCAN only.
pub fn parse_scan_options<'a>(c: &mut Call<'a>, from: usize, allow_type: bool) -> Option<ScanOptions<'a>> {
    let mut o = ScanOptions { pattern: None, count: 10, type_name: None };
    let mut i = from;
    while i < c.argc() {
        if i + 1 >= c.argc() {
            c.out.error(SYNTAX);
            return None;
        }
        if c.is(i, "MATCH") {
            o.pattern = Some(c.arg(i + 1)).filter(|p| *p != b"*");
        } else if c.is(i, "COUNT") {
            match parse_i64(c.arg(i + 1)) {
                Some(n) if n >= 1 => o.count = n as usize,
                Some(_) => {
                    c.out.error(SYNTAX);
                    return None;
                }
                None => {
                    c.out.error(NOT_INTEGER);
                    return None;
                }
            }
        } else if allow_type && c.is(i, "TYPE") {
            o.type_name = Some(c.arg(i + 1).to_ascii_lowercase());
        } else {
            c.out.error(SYNTAX);
            return None;
        }
        i += 2;
    }
    Some(o)
}

/// Replies `[cursor, [items]]`.
pub fn reply_scan(c: &mut Call, cursor: u64, items: &[Vec<u8>]) {
    c.out.array(2);
    let mut num = itoa_buf();
    c.out.bulk(fmt_i64(cursor as i64, &mut num));
    c.out.bulks(items.iter().map(|v| v.as_slice()));
}

fn scan(e: &mut Engine, c: &mut Call) {
    let Some(mut cursor) = parse_cursor(c, 1) else { return };
    let Some(o) = parse_scan_options(c, 2, true) else { return };
    let db = c.db();
    let mut slots = Vec::new();
    let mut iterations = o.count.saturating_mul(10);
    loop {
        cursor = e.dbs[db].dict.scan(cursor, |s| slots.push(s));
        iterations -= 1;
        if cursor == 0 || slots.len() >= o.count || iterations == 0 {
            break;
        }
    }
    // Copied first: the filter below may delete keys.
    let matching: Vec<Vec<u8>> = slots
        .into_iter()
        .map(|s| e.dbs[db].key(s))
        .filter(|k| o.pattern.is_none_or(|p| glob_match(p, k, false)))
        .map(|k| k.to_vec())
        .collect();
    let mut keys = Vec::with_capacity(matching.len());
    for key in matching {
        // Redis's order: the TYPE check looks the key up as a read (not an
        // access), then a key past its TTL is deleted (and announced)
        // rather than returned.
        if let Some(t) = o.type_name.as_deref() {
            match e.lookup_counted(db, &key, true) {
                Some(s) if e.dbs[db].value(s).type_name().as_bytes() == t => {}
                _ => continue,
            }
        }
        if e.find_live(db, &key).is_some() {
            keys.push(key);
        }
    }
    reply_scan(c, cursor, &keys);
}

fn randomkey(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    // Expired keys are skipped (and deleted), a bounded number of times.
    for _ in 0..100 {
        let Some(slot) = e.dbs[db].dict.random(&mut e.rng) else { break };
        let key = e.dbs[db].key(slot).to_vec();
        if e.find_live(db, &key).is_some() {
            return c.out.bulk(&key);
        }
    }
    c.out.null();
}

/// EXPIRE and friends: `base_ms` is added for relative forms, `unit_ms`
/// scales the argument.
fn expire_generic(e: &mut Engine, c: &mut Call, relative: bool, unit_ms: i64, name: &str) {
    // Options are checked before the time, in Redis's order of errors.
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for i in 3..c.argc() {
        let a = c.arg(i).to_ascii_uppercase();
        match a.as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GT" => gt = true,
            b"LT" => lt = true,
            _ => return c.out.error(&format!("ERR Unsupported option {}", String::from_utf8_lossy(c.arg(i)))),
        }
    }
    if nx && (xx || gt || lt) {
        return c.out.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return c.out.error("ERR GT and LT options at the same time are not compatible");
    }
    let Some(n) = c.int_arg(2) else { return };
    let at = n.checked_mul(unit_ms).and_then(|v| if relative { v.checked_add(e.now) } else { Some(v) });
    let Some(at) = at else {
        return c.out.error(&format!("ERR invalid expire time in '{name}' command"));
    };
    let (db, key) = (c.db(), c.arg(1));
    let Some(slot) = e.lookup(db, key) else { return c.out.int(0) };
    let current = e.dbs[db].expire_at(slot);
    let allowed = match current {
        None => !xx && !gt,
        Some(cur) => !nx && (!gt || at > cur) && (!lt || at < cur),
    };
    if !allowed {
        return c.out.int(0);
    }
    if at <= e.now && !e.persistence.loading {
        e.dbs[db].remove(key);
        c.propagate_as(&[b"DEL", key]);
        e.notify(GENERIC, "del", db, key);
    } else {
        e.dbs[db].set_expire(slot, at);
        let mut num = itoa_buf();
        c.propagate_as(&[b"PEXPIREAT", key, fmt_i64(at, &mut num)]);
        e.notify(GENERIC, "expire", db, key);
    }
    e.dirty += 1;
    c.out.int(1);
}

fn expire(e: &mut Engine, c: &mut Call) {
    expire_generic(e, c, true, 1000, "expire");
}

fn pexpire(e: &mut Engine, c: &mut Call) {
    expire_generic(e, c, true, 1, "pexpire");
}

fn expireat(e: &mut Engine, c: &mut Call) {
    expire_generic(e, c, false, 1000, "expireat");
}

fn pexpireat(e: &mut Engine, c: &mut Call) {
    expire_generic(e, c, false, 1, "pexpireat");
}

/// Replies -2 (no key), -1 (no TTL) or `f(expire_at)`.
fn ttl_reply(e: &mut Engine, c: &mut Call, f: impl Fn(i64, i64) -> i64) {
    match e.ttl_of(c.db(), c.arg(1)) {
        None => c.out.int(-2),
        Some(None) => c.out.int(-1),
        Some(Some(at)) => c.out.int(f(at, e.now)),
    }
}

fn ttl(e: &mut Engine, c: &mut Call) {
    ttl_reply(e, c, |at, now| ((at - now).max(0) + 500) / 1000);
}

fn pttl(e: &mut Engine, c: &mut Call) {
    ttl_reply(e, c, |at, now| (at - now).max(0));
}

fn expiretime(e: &mut Engine, c: &mut Call) {
    // Rounded to the nearest second, as Redis does.
    ttl_reply(e, c, |at, _| (at + 500) / 1000);
}

fn pexpiretime(e: &mut Engine, c: &mut Call) {
    ttl_reply(e, c, |at, _| at);
}

fn persist(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    match e.lookup(db, c.arg(1)) {
        Some(slot) if e.dbs[db].persist(slot) => {
            e.notify(GENERIC, "persist", db, c.arg(1));
            e.dirty += 1;
            c.out.int(1);
        }
        _ => c.out.int(0),
    }
}

fn dbsize(e: &mut Engine, c: &mut Call) {
    c.out.int(e.dbs[c.db()].len() as i64);
}

fn flush_mode_ok(c: &mut Call) -> bool {
    match c.argc() {
        1 => true,
        2 if c.is(1, "ASYNC") || c.is(1, "SYNC") => true,
        _ => {
            c.out.error(SYNTAX);
            false
        }
    }
}

fn flushdb(e: &mut Engine, c: &mut Call) {
    if !flush_mode_ok(c) {
        return;
    }
    e.dirty += e.empty_db(c.db()) + 1;
    c.out.ok();
}

fn flushall(e: &mut Engine, c: &mut Call) {
    if !flush_mode_ok(c) {
        return;
    }
    e.dirty += e.empty_data() + 1;
    if !e.config.save.is_empty() && !c.client.loader {
        // As Redis: with save points, the dump is emptied now, so a restart
        // cannot bring the flushed keys back, and a running snapshot (of the
        // keys just flushed) is killed before it can rename over it.
        if e.persistence.rdb_bgsave_in_progress {
            if let Some(pid) = e.kill_child() {
                e.requests.push(Request::Warn(format!("Background saving (pid {pid}) killed by FLUSHALL")));
            }
        }
        if let Err(err) = e.save_now() {
            e.requests.push(Request::Warn(format!("FLUSHALL could not save the empty dataset: {err}")));
        }
        // The save reset the change count; the AOF must still get FLUSHALL.
        c.propagate_as(&[b"FLUSHALL"]);
    }
    c.out.ok();
}

/// Parses a db index argument; replies Redis's error when out of range.
fn db_index(e: &Engine, c: &mut Call, i: usize, invalid: &str) -> Option<usize> {
    match parse_i64(c.arg(i)) {
        None => {
            c.out.error(invalid);
            None
        }
        Some(n) if n < 0 || n as usize >= e.dbs.len() => {
            c.out.error("ERR DB index is out of range");
            None
        }
        Some(n) => Some(n as usize),
    }
}

fn swapdb(e: &mut Engine, c: &mut Call) {
    let Some(a) = db_index(e, c, 1, "ERR invalid first DB index") else { return };
    let Some(b) = db_index(e, c, 2, "ERR invalid second DB index") else { return };
    if a != b {
        e.signal_db_replaced(a, Some(b));
        e.signal_db_replaced(b, Some(a));
        e.dbs.swap(a, b);
    }
    e.dirty += 1;
    c.out.ok();
}

fn move_cmd(e: &mut Engine, c: &mut Call) {
    let Some(dst) = db_index(e, c, 2, NOT_INTEGER) else { return };
    let (src, key) = (c.db(), c.arg(1));
    if src == dst {
        return c.out.error("ERR source and destination objects are the same");
    }
    let Some(slot) = e.lookup(src, key) else { return c.out.int(0) };
    if e.lookup(dst, key).is_some() {
        return c.out.int(0);
    }
    let ttl = e.dbs[src].expire_at(slot);
    let value = e.dbs[src].remove(key).expect("key just found");
    let slot = e.insert_value(dst, key, value);
    if let Some(at) = ttl {
        e.dbs[dst].set_expire(slot, at);
    }
    e.signal_modified(dst, key);
    e.notify(GENERIC, "move_from", src, key);
    e.notify(GENERIC, "move_to", dst, key);
    e.dirty += 1;
    c.out.int(1);
}

fn copy(e: &mut Engine, c: &mut Call) {
    let src_db = c.db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < c.argc() {
        if c.is(i, "REPLACE") {
            replace = true;
        } else if c.is(i, "DB") && i + 1 < c.argc() {
            i += 1;
            let Some(d) = db_index(e, c, i, NOT_INTEGER) else { return };
            dst_db = d;
        } else {
            return c.out.error(SYNTAX);
        }
        i += 1;
    }
    let (src, dst) = (c.arg(1), c.arg(2));
    if src_db == dst_db && src == dst {
        return c.out.error("ERR source and destination objects are the same");
    }
    let Some(slot) = e.lookup_read(src_db, src) else { return c.out.int(0) };
    let value = e.dbs[src_db].value(slot).clone();
    let ttl = e.dbs[src_db].expire_at(slot);
    if e.lookup(dst_db, dst).is_some() && !replace {
        return c.out.int(0);
    }
    // A replaced destination goes first: the key is new, as in Redis.
    e.dbs[dst_db].remove(dst);
    let slot = e.insert_value(dst_db, dst, value);
    if let Some(at) = ttl {
        e.dbs[dst_db].set_expire(slot, at);
    }
    e.signal_modified(dst_db, dst);
    e.notify(GENERIC, "copy_to", dst_db, dst);
    e.dirty += 1;
    c.out.int(1);
}

fn object(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    if sub == b"help" {
        return c.out.help(&[
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "FREQ <key>",
            "IDLETIME <key>",
            "REFCOUNT <key>",
            "HELP",
        ]);
    }
    const KNOWN: &[&str] = &["encoding", "refcount", "idletime", "freq"];
    if c.argc() != 3 || !KNOWN.iter().any(|k| k.as_bytes() == sub.as_slice()) {
        return c.subcommand_error(&["help", "encoding", "refcount", "idletime", "freq"]);
    }
    let db = c.db();
    let Some(slot) = e.lookup_counted(db, c.arg(2), false) else { return c.out.null() };
    const ADJUST: &str =
        "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    match sub.as_slice() {
        b"encoding" => {
            let enc = e.dbs[db].value(slot).encoding();
            c.out.bulk(enc.as_bytes());
        }
        b"refcount" => c.out.int(1),
        b"idletime" => match e.idle_seconds(db, slot) {
            Some(secs) => c.out.int(secs as i64),
            None => c.out.error(&format!("ERR An LFU maxmemory policy is selected, idle time not tracked. {ADJUST}")),
        },
        b"freq" => match e.access_frequency(db, slot) {
            Some(freq) => c.out.int(freq as i64),
            None => c
                .out
                .error(&format!("ERR An LFU maxmemory policy is not selected, access frequency not tracked. {ADJUST}")),
        },
        _ => unreachable!("subcommand checked above"),
    }
}
