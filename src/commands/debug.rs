//! DEBUG: Redis's debugging command, for the subcommands that make sense
//! in forkv — the dataset digest (to compare a dataset with another
//! server's), an object's internals as Redis prints them, the RESP3 reply
//! types for client tests, sleeping, populating and switching active expiry.

use crate::digest::{self, Digest};
use crate::engine::{Call, Engine, Reload, Request, NOT_INTEGER};
use crate::strtod::parse_f64;

const PROTOCOL_TYPES: &str = "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false";

pub fn debug(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"sleep" if c.argc() == 3 => {
            let Some(secs) = parse_f64(c.arg(2)).filter(|s| *s >= 0.0) else { return c.out.error(NOT_INTEGER) };
            // DEBUG SLEEP blocks the keyspace, as it blocks Redis's main thread.
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
            c.out.ok();
        }
        b"populate" if (3..=5).contains(&c.argc()) => {
            let Some(count) = c.positive_arg(2) else { return };
            let prefix = c.args.get(3).copied().unwrap_or(b"key");
            let size = match c.argc() {
                5 => match c.positive_arg(4) {
                    Some(n) => Some(n),
                    None => return,
                },
                _ => None,
            };
            let db = c.db();
            // Sized up front, as Redis does: a table that doubled while it
            // filled would go on rehashing from cron for a minute after a
            // large populate, dirtying every entry's page under the next
            // forks. Capped so a huge count cannot demand one giant block.
            const RESERVE_CAP: usize = 1 << 26;
            e.dbs[db].reserve(count.min(RESERVE_CAP));
            let mut key = Vec::new();
            for i in 0..count {
                key.clear();
                key.extend_from_slice(prefix);
                key.push(b':');
                key.extend_from_slice(i.to_string().as_bytes());
                if e.lookup(db, &key).is_some() {
                    continue;
                }
                let mut value = format!("value:{i}").into_bytes();
                if let Some(size) = size {
                    value.resize(size, 0);
                }
                e.insert_value(db, &key, crate::types::Value::from_bytes(&value));
            }
            c.out.ok();
        }
        b"htstats" if c.argc() == 3 => {
            let Some(db) = c.int_arg(2) else { return };
            match usize::try_from(db).ok().filter(|&db| db < e.dbs.len()) {
                Some(db) => c.out.verbatim(&e.dbs[db].htstats_text()),
                None => c.out.error("ERR Out of range database"),
            }
        }
        b"set-active-expire" if c.argc() == 3 => {
            // Redis reads it with atoi: anything but a number is 0.
            e.active_expire_enabled = crate::util::parse_i64(c.arg(2)).unwrap_or(0) != 0;
            c.out.ok();
        }
        b"pause-cron" if c.argc() == 3 => {
            e.cron_paused = crate::util::parse_i64(c.arg(2)).unwrap_or(0) != 0;
            c.out.ok();
        }
        // forkv's lists have no plain (unpacked) nodes: nothing to set, but
        // the argument is checked as Redis checks it.
        b"quicklist-packed-threshold" if c.argc() == 3 => {
            let size = std::str::from_utf8(c.arg(2)).ok().and_then(|v| crate::config::parse_memory(v).ok());
            match size.filter(|&n| n <= (1u64 << 32) - (1 << 20)) {
                Some(_) => c.out.ok(),
                None => c.out.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb"),
            }
        }
        b"reload" => reload(e, c),
        b"loadaof" => {
            if let Some(reply) = reload_outcome(e, c) {
                return reply;
            }
            e.requests.push(Request::Reload { client: c.client.id, from: Reload::Aof });
            c.block_on(Vec::new(), None);
        }
        b"digest" if c.argc() == 2 => c.out.simple(&digest::hex(&digest::dataset(&e.dbs))),
        b"digest-value" => digest_values(e, c),
        b"object" if c.argc() == 3 => object(e, c),
        b"protocol" if c.argc() == 3 => protocol(c),
        b"help" if c.argc() == 2 => c.out.help(&[
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "HTSTATS <dbid>",
            "    Output dict statistics for the given DB.",
            "OBJECT <key>",
            "    Show low level info about the `key` and associated value.",
            "PAUSE-CRON <0|1>",
            "    Stop periodic cron job processing.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "LOADAOF",
            "    Flush the AOF buffers on disk and reload the AOF in memory.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "RELOAD [option ...]",
            "    Save the RDB on disk and reload it back to memory. Options are MERGE,",
            "    NOFLUSH and NOSAVE.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ]),
        _ => c.subcommand_syntax_error(),
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the snapshot (unless
/// NOSAVE), empties the dataset (unless NOFLUSH) and loads the snapshot.
/// The loading is the keyspace actor's: the client is parked until then.
fn reload(e: &mut Engine, c: &mut Call) {
    if let Some(reply) = reload_outcome(e, c) {
        return reply;
    }
    let (mut flush, mut save, mut merge) = (true, true, false);
    for i in 2..c.argc() {
        if c.is(i, "MERGE") {
            // Keys already there are replaced by the file's as forkv's loader
            // always does; libraries too with MERGE.
            merge = true;
        } else if c.is(i, "NOFLUSH") {
            flush = false;
        } else if c.is(i, "NOSAVE") {
            save = false;
        } else {
            return c.out.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
        }
    }
    if save {
        if let Err(err) = e.save_now() {
            return c.out.error(&format!("ERR {err}"));
        }
    }
    e.requests.push(Request::Reload { client: c.client.id, from: Reload::Snapshot { flush, merge } });
    c.block_on(Vec::new(), None);
}

/// The re-run of a parked DEBUG RELOAD/LOADAOF answers how the reload
/// went. Inside MULTI a reload cannot park: refused.
fn reload_outcome(e: &mut Engine, c: &mut Call) -> Option<()> {
    if !c.no_block {
        return None;
    }
    match e.reloaded.take_if(|(client, _)| *client == c.client.id) {
        Some((_, Ok(()))) => c.out.ok(),
        Some((_, Err(_))) if c.is(1, "RELOAD") => c.out.error("ERR Error trying to load the RDB dump"),
        Some((_, Err(err))) => c.out.error(&format!("ERR {err}")),
        None => c.out.error("ERR DEBUG RELOAD and LOADAOF cannot run inside MULTI"),
    }
    Some(())
}

/// DEBUG DIGEST-VALUE key...: each key's value digest (zeros for a missing
/// key); keys past their TTL count, as Redis reads them without a lookup.
fn digest_values(e: &mut Engine, c: &mut Call) {
    let db = &e.dbs[c.db()];
    c.out.array(c.argc() - 2);
    for &key in &c.args[2..] {
        let mut d = Digest::default();
        if let Some(slot) = db.find(key) {
            digest::mix_value(&mut d, db.value(slot), db.expire_at(slot).is_some());
        }
        c.out.simple(&digest::hex(&d));
    }
}

/// DEBUG OBJECT key: Redis's line of internals. forkv shares no values,
/// so the refcount is 1; serializedlength is the value's RDB encoding.
fn object(e: &mut Engine, c: &mut Call) {
    let db = c.db();
    let Some(slot) = e.dbs[db].find(c.arg(2)) else { return c.out.error("ERR no such key") };
    let value = e.dbs[db].value(slot);
    let serialized = crate::snapshot::dump_payload(value, e.config.rdbcompression)
        .map_or(0, |payload| payload.len() - DUMP_TRAILER - 1);
    let idle = e.idle_seconds(db, slot).unwrap_or(0);
    let line = format!(
        "Value at:{:p} refcount:1 encoding:{} serializedlength:{serialized} lru:{} lru_seconds_idle:{idle}",
        value as *const _,
        value.encoding(),
        e.dbs[db].access(slot),
    );
    c.out.simple(&line);
}

/// A DUMP payload ends with the RDB version (2 bytes) and a CRC-64 (8).
const DUMP_TRAILER: usize = 10;

/// DEBUG PROTOCOL type: a sample of each reply type, as Redis sends it.
fn protocol(c: &mut Call) {
    let out = &mut c.out;
    match c.args[2].to_ascii_lowercase().as_slice() {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        // Redis's sample is 3.141, not π.
        #[allow(clippy::approx_constant)]
        b"double" => out.double(3.141),
        b"bignum" => out.big_number(b"1234567999999999999999999999999999999"),
        b"null" => out.null(),
        b"array" | b"set" | b"map" => {
            let kind = c.args[2].to_ascii_lowercase();
            match kind.as_slice() {
                b"array" => out.array(3),
                b"set" => out.set(3),
                _ => out.map(3),
            }
            for j in 0..3 {
                out.int(j);
                if kind == b"map" {
                    out.bool(j == 1);
                }
            }
        }
        b"attrib" => {
            if out.resp3 {
                out.attribute(1);
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            // An attribute annotates a reply: one must follow.
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" if !out.resp3 => out.error("ERR RESP2 is not supported by this command"),
        b"push" => {
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            // A push is no reply: a client that skips it still gets one.
            out.bulk(b"Some real reply following the push reply");
        }
        b"true" => out.bool(true),
        b"false" => out.bool(false),
        b"verbatim" => out.verbatim("This is a verbatim\nstring"),
        _ => out.error(&format!("ERR Wrong protocol type name. Please use one of the following: {PROTOCOL_TYPES}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ProtectedAction};
    use crate::engine::Engine;
    use crate::resp::RespDecoder;
    use bytes::BytesMut;
    use tokio_util::codec::Decoder;

    fn run(e: &mut Engine, args: &[&str]) -> Vec<u8> {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req += &format!("${}\r\n{a}\r\n", a.len());
        }
        let batch = RespDecoder::default().decode(&mut BytesMut::from(req.as_bytes())).unwrap().unwrap();
        e.execute(1, batch).data.to_vec()
    }

    /// A loopback client on a server that allows it DEBUG.
    fn engine() -> Engine {
        let config = Config { enable_debug_command: ProtectedAction::Local, ..Config::default() };
        let mut e = Engine::new(config);
        e.connect(1, "127.0.0.1:1".into(), "127.0.0.1:2".into());
        e
    }

    #[test]
    fn debug_populate_sizes_the_table_before_filling_it() {
        let mut e = engine();
        assert_eq!(run(&mut e, &["DEBUG", "POPULATE", "50000"]), b"+OK\r\n");
        assert_eq!(e.dbs[0].dict.len(), 50_000);
        // Grown by doubling instead, the table would still be moving
        // buckets from 32768 to 65536 (one per insert), left to cron.
        assert!(!e.dbs[0].dict.is_rehashing());
        assert_eq!(e.dbs[0].dict.bucket_count(), 65_536);
        // Into a db that holds keys: one rehash to 262144 buckets, moved
        // along by the inserts themselves, rather than a doubling to 131072
        // and another to 262144 left to cron.
        assert_eq!(run(&mut e, &["DEBUG", "POPULATE", "200000"]), b"+OK\r\n");
        assert_eq!(e.dbs[0].dict.len(), 200_000);
        assert!(!e.dbs[0].dict.is_rehashing());
        assert_eq!(e.dbs[0].dict.bucket_count(), 262_144);
    }

    #[test]
    fn debug_populate_rejects_what_redis_rejects() {
        let mut e = engine();
        let err = b"-ERR value is out of range, must be positive\r\n";
        for args in [&["-5"][..], &["abc"], &["5", "k", "-1"], &["5", "k", "x"]] {
            let cmd: Vec<&str> = ["DEBUG", "POPULATE"].iter().chain(args).copied().collect();
            assert_eq!(run(&mut e, &cmd), err, "{args:?}");
        }
        assert_eq!(e.dbs[0].dict.len(), 0);
    }
}
