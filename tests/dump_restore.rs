//! DUMP and RESTORE against the real binary: every type and encoding moved
//! forkv → forkv, redis-server → forkv and forkv → redis-server; TTL,
//! ABSTTL, REPLACE and BUSYKEY; replies and error texts compared with
//! redis-server's; corrupted payloads; WATCH and blocked clients; and
//! RESTORE's AOF records replayed after a restart to the same deadlines.

mod aof_support;
mod common;
mod helpers;

use aof_support::{assert_same, dump, write_every_type, RedisServer, Rng, EVERY_TYPE_KEYS};
use forkv::rdb::{seal_payload, write_payload, RdbValue};
use helpers::{Raw, Resp};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_FORMAT: &str = "ERR Bad data format";
const SYNTAX: &str = "ERR syntax error";

/// The keys `write_every_type` writes, in each of dbs 0..3.
const DBS: u32 = 3;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn select(con: &mut redis::Connection, db: u32) {
    let _: () = redis::cmd("SELECT").arg(db).query(con).unwrap();
}

fn dump_key(con: &mut redis::Connection, key: &[u8]) -> Option<Vec<u8>> {
    redis::cmd("DUMP").arg(key).query(con).unwrap()
}

fn encoding(con: &mut redis::Connection, key: &[u8]) -> String {
    redis::cmd("OBJECT").arg("ENCODING").arg(key).query(con).unwrap()
}

/// Copies every key of dbs 0..3 from `src` to `dst` with DUMP and RESTORE,
/// keeping deadlines with ABSTTL, and checks each collection gets the
/// encoding it had (strings may change: RESTORE re-encodes them as SET
/// does, in both servers). Returns the number of keys copied.
fn copy_all(src: &mut redis::Connection, dst: &mut redis::Connection) -> u64 {
    let mut copied = 0;
    for db in 0..DBS {
        select(src, db);
        select(dst, db);
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(src).unwrap();
        for key in keys {
            let payload = dump_key(src, &key).unwrap_or_else(|| panic!("DUMP {key:?}"));
            let at: i64 = redis::cmd("PEXPIRETIME").arg(&key).query(src).unwrap();
            let mut restore = redis::cmd("RESTORE");
            restore.arg(&key).arg(at.max(0)).arg(&payload);
            if at > 0 {
                restore.arg("ABSTTL");
            }
            let reply: redis::RedisResult<String> = restore.query(dst);
            assert_eq!(reply.as_deref(), Ok("OK"), "RESTORE {:?}", String::from_utf8_lossy(&key));
            let kind: String = redis::cmd("TYPE").arg(&key).query(src).unwrap();
            if kind != "string" {
                assert_eq!(encoding(src, &key), encoding(dst, &key), "encoding of {:?}", String::from_utf8_lossy(&key));
            }
            copied += 1;
        }
    }
    select(src, 0);
    select(dst, 0);
    copied
}

/// Writes the every-type data set, plus values at the encoding limits.
fn fill(con: &mut redis::Connection) {
    write_every_type(con, "t");
    let mut p = redis::pipe();
    // Just under and over the listpack limits (128 entries, 64 bytes) and
    // the intset one (512), and integers of every RDB width.
    p.cmd("HSET").arg("h128").arg((0..128).flat_map(|i| [format!("f{i}"), "v".into()]).collect::<Vec<_>>()).ignore();
    p.cmd("HSET").arg("h129").arg((0..129).flat_map(|i| [format!("f{i}"), "v".into()]).collect::<Vec<_>>()).ignore();
    p.cmd("HSET").arg("hlongval").arg("f").arg("x".repeat(65)).ignore();
    p.cmd("ZADD").arg("z128").arg((0..128).flat_map(|i| [i.to_string(), format!("m{i}")]).collect::<Vec<_>>()).ignore();
    p.cmd("ZADD").arg("zlong").arg("1").arg("m".repeat(65)).ignore();
    p.cmd("SADD").arg("i512").arg((0..512).collect::<Vec<i64>>()).ignore();
    p.cmd("SADD").arg("i513").arg((0..513).collect::<Vec<i64>>()).ignore();
    p.cmd("SADD").arg("mixed").arg(&["1", "2", "x"]).ignore();
    p.cmd("RPUSH").arg("bigitems").arg(&["x".repeat(10_000), "y".repeat(70_000), "z".into()]).ignore();
    for (k, v) in [("i8", "-128"), ("i16", "32767"), ("i32", "-2147483648"), ("i64", "9223372036854775807")] {
        p.cmd("SET").arg(k).arg(v).ignore();
    }
    p.cmd("SET").arg("notint").arg("0123").ignore();
    p.cmd("SET").arg("empty").arg("").ignore();
    p.query::<()>(con).unwrap();
}

/// Keys `fill` writes.
const FILLED: u64 = EVERY_TYPE_KEYS * DBS as u64 + 15;

#[test]
fn every_type_round_trips_between_forkv_servers() {
    let a = common::Server::start();
    let b = common::Server::start();
    let (mut src, mut dst) = (a.client(), b.client());
    fill(&mut src);
    let before = dump(&mut src, DBS);
    assert_eq!(copy_all(&mut src, &mut dst), FILLED);
    assert_same(&before, &dump(&mut dst, DBS), "forkv -> forkv");
    // The payload of a restored key is the payload it was restored from.
    for key in ["t:bighash", "t:list", "t:int", "i513", "bigitems"] {
        assert_eq!(dump_key(&mut src, key.as_bytes()), dump_key(&mut dst, key.as_bytes()), "{key}");
    }
}

#[test]
fn payloads_move_between_redis_server_and_forkv() {
    if !RedisServer::available() {
        return;
    }
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_redis, mut redis) = RedisServer::start(dirs.0.path(), &["--appendonly", "no"]);
    let (_redis2, mut redis2) = RedisServer::start(dirs.1.path(), &["--appendonly", "no"]);
    let server = common::Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut forkv = server.client();
    fill(&mut redis);
    let original = dump(&mut redis, DBS);
    assert_eq!(copy_all(&mut redis, &mut forkv), FILLED);
    assert_same(&original, &dump(&mut forkv, DBS), "redis-server -> forkv");
    assert_eq!(copy_all(&mut forkv, &mut redis2), FILLED);
    assert_same(&original, &dump(&mut redis2, DBS), "forkv -> redis-server");
    // Strings are serialized to the very same bytes, except LZF-compressed
    // ones: the two compressors may find different matches.
    let mut compared = 0;
    for db in 0..DBS {
        select(&mut redis, db);
        select(&mut forkv, db);
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut redis).unwrap();
        for key in keys {
            let kind: String = redis::cmd("TYPE").arg(&key).query(&mut redis).unwrap();
            let want = dump_key(&mut redis, &key).unwrap();
            if kind == "string" && want[1] != 0xC3 {
                assert_eq!(dump_key(&mut forkv, &key), Some(want), "{:?}", String::from_utf8_lossy(&key));
                compared += 1;
            }
        }
    }
    assert!(compared >= 20, "{compared} strings compared");
}

/// Replies of both servers to the same commands, one by one.
fn same_replies(redis: &mut Raw, forkv: &mut Raw, commands: &[Vec<Vec<u8>>]) {
    for args in commands {
        let parts: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let want = redis.cmd_bytes(&parts);
        let got = forkv.cmd_bytes(&parts);
        let shown: Vec<String> =
            args.iter().map(|a| String::from_utf8_lossy(&a[..a.len().min(40)]).into_owned()).collect();
        assert_eq!(got, want, "{shown:?}");
    }
}

fn command(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// A payload whose footer is valid but whose value is `body`.
fn sealed(body: &[u8]) -> Vec<u8> {
    seal_payload(body.to_vec())
}

#[test]
fn replies_and_errors_are_redis_servers() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_redis, _con) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    let server = common::Server::start();
    let mut redis = Raw::connect(_redis.port);
    let mut forkv = Raw::connect(server.port);
    let p = write_payload(&RdbValue::String(b"bar".to_vec()), true).unwrap();
    let p = p.as_slice();
    let mut truncated = p.to_vec();
    truncated.pop();
    let mut bad_crc = p.to_vec();
    *bad_crc.last_mut().unwrap() ^= 0x40;
    let mut newer = p[..p.len() - 10].to_vec();
    let mut v11 = newer.clone();
    v11.extend_from_slice(&[11, 0]);
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&v11);
    v11.extend_from_slice(&crc.to_le_bytes());
    newer.extend_from_slice(&[9, 0]);
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&newer);
    newer.extend_from_slice(&crc.to_le_bytes());
    let v9 = newer;
    let score = |s: f64| s.to_le_bytes().to_vec();
    let zset_dup = [&[5u8, 2, 1, b'm'][..], &score(1.0), &[1, b'm'], &score(2.0)].concat();
    let zset_nan = [&[5u8, 1, 1, b'm'][..], &score(f64::NAN)].concat();
    let zset_ok = [&[5u8, 2, 1, b'm'][..], &score(1.0), &[1, b'n'], &score(-2.5)].concat();
    let mut commands = vec![
        command(&[b"SET", b"foo", b"old"]),
        command(&[b"RESTORE", b"foo", b"0", p]),
        command(&[b"RESTORE", b"foo", b"-1", b"garbage"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"bogus"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"REPLACE", b"IDLETIME", b"-1"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"REPLACE", b"IDLETIME", b"x"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"REPLACE", b"IDLETIME"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"REPLACE", b"FREQ", b"256"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"REPLACE", b"FREQ", b"-1"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"REPLACE", b"FREQ", b"1", b"IDLETIME", b"1"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"REPLACE", b"IDLETIME", b"1", b"FREQ", b"1"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"IDLETIME", b"-1", b"bogus"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"bogus", b"IDLETIME", b"-1"]),
        command(&[b"RESTORE", b"new", b"-1", p]),
        command(&[b"RESTORE", b"new", b"1.5", p]),
        command(&[b"RESTORE", b"new", b"", p]),
        command(&[b"RESTORE", b"new", b"0", b""]),
        command(&[b"RESTORE", b"new", b"0", b"short"]),
        command(&[b"RESTORE", b"new", b"0", &truncated]),
        command(&[b"RESTORE", b"new", b"0", &bad_crc]),
        command(&[b"RESTORE", b"new", b"0", &v11]),
        command(&[b"RESTORE", b"new", b"0", b"-1", b"whatever"]),
        command(&[b"RESTORE", b"new"]),
        command(&[b"RESTORE", b"new", b"0"]),
        command(&[b"DUMP"]),
        command(&[b"DUMP", b"a", b"b"]),
        command(&[b"DUMP", b"missing"]),
        command(&[b"RESTORE", b"v9", b"0", &v9]),
        command(&[b"GET", b"v9"]),
        command(&[b"RESTORE", b"foo", b"0", p, b"replace", b"absttl", b"idletime", b"1000"]),
        command(&[b"GET", b"foo"]),
        command(&[b"TTL", b"foo"]),
        command(&[b"RESTORE", b"f", b"0", p, b"FREQ", b"255", b"ABSTTL", b"FREQ", b"0"]),
        command(&[b"RESTORE-ASKING", b"asking", b"0", p]),
        command(&[b"GET", b"asking"]),
        command(&[b"RESTORE", b"zok", b"0", &sealed(&zset_ok)]),
        command(&[b"ZRANGE", b"zok", b"0", b"-1", b"WITHSCORES"]),
        command(&[b"RESTORE", b"old", b"0", &sealed(&[3, 1, 1, b'm', 3, b'1', b'.', b'5'])]),
        command(&[b"ZSCORE", b"old", b"m"]),
        command(&[b"RESTORE", b"trailing", b"0", &sealed(&[0, 1, b'x', 7, 7, 7])]),
        command(&[b"GET", b"trailing"]),
        command(&[b"RESTORE", b"into-footer", b"0", &sealed(&[0, 10])]),
        command(&[b"STRLEN", b"into-footer"]),
    ];
    // Values that are not well formed, behind a valid footer.
    let bad: Vec<Vec<u8>> = vec![
        vec![8],
        vec![0xFF],
        vec![0, 0x3F, b'a'],
        vec![1, 0],
        vec![2, 0],
        vec![4, 0],
        vec![5, 0],
        vec![2, 2, 1, b'a', 1, b'a'],
        zset_dup,
        zset_nan,
        vec![0, 0xC4, 0, 0],
        vec![0, 0xC3, 5, 20, 0, b'a', 0xE0, 0xFF, 0],
        vec![3, 1, 1, b'm', 253],
        vec![1, 3, 1, b'a', 1, b'b'],
    ];
    for (i, body) in bad.iter().enumerate() {
        let key = format!("bad{i}");
        commands.push(command(&[b"RESTORE", key.as_bytes(), b"0", &sealed(body)]));
        commands.push(command(&[b"EXISTS", key.as_bytes()]));
    }
    same_replies(&mut redis, &mut forkv, &commands);
    // A small hash naming a field twice: Redis 7.0 checks for that only
    // with sanitize-dump-payload yes (else it builds a corrupt listpack);
    // forkv always refuses it.
    let hash_dup = sealed(&[4, 2, 1, b'f', 1, b'v', 1, b'f', 1, b'w']);
    assert_eq!(forkv.cmd_bytes(&[b"RESTORE", b"hdup", b"0", &hash_dup]), Resp::err(BAD_FORMAT));
    assert_eq!(forkv.int(&["EXISTS", "hdup"]), 0);
    // And the texts are those Redis documents.
    assert_eq!(forkv.cmd(&["RESTORE", "foo", "0", "x"]), Resp::err(BUSYKEY));
    assert_eq!(forkv.cmd(&["RESTORE", "n", "0", "x"]), Resp::err(BAD_PAYLOAD));
    assert_eq!(forkv.cmd_bytes(&[b"RESTORE", b"n", b"0", &sealed(&[1, 0])]), Resp::err(BAD_FORMAT));
    assert_eq!(forkv.cmd(&["RESTORE", "n", "0", "x", "nope"]), Resp::err(SYNTAX));
}

fn restore(r: &mut Raw, key: &str, ttl: i64, payload: &[u8], options: &[&str]) -> Resp {
    let ttl = ttl.to_string();
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(options.iter().map(|o| o.as_bytes()));
    r.cmd_bytes(&args)
}

#[test]
fn ttl_absttl_replace_and_busykey() {
    let (_s, mut r) = helpers::start_raw();
    r.cmd(&["SET", "foo", "bar"]);
    let p = r.bulk(&["DUMP", "foo"]);
    assert_eq!(r.cmd(&["DUMP", "nope"]), Resp::NullBulk);
    // The key is checked first, then the TTL, then the payload.
    assert_eq!(restore(&mut r, "foo", 0, &p, &[]), Resp::err(BUSYKEY));
    assert_eq!(restore(&mut r, "foo", -1, b"junk", &[]), Resp::err(BUSYKEY));
    assert_eq!(restore(&mut r, "x", -1, b"junk", &[]), Resp::err("ERR Invalid TTL value, must be >= 0"));
    assert_eq!(restore(&mut r, "x", 0, b"junk", &[]), Resp::err(BAD_PAYLOAD));
    assert_eq!(r.int(&["EXISTS", "x"]), 0);

    r.cmd(&["SET", "foo", "old", "EX", "100"]);
    assert_eq!(restore(&mut r, "foo", 0, &p, &["replace"]), Resp::ok());
    assert_eq!(r.cmd(&["GET", "foo"]), Resp::bulk("bar"));
    assert_eq!(r.int(&["TTL", "foo"]), -1, "REPLACE drops the old TTL");

    assert_eq!(restore(&mut r, "foo", 5000, &p, &["REPLACE"]), Resp::ok());
    let pttl = r.int(&["PTTL", "foo"]);
    assert!((4000..=5000).contains(&pttl), "{pttl}");
    // A TTL past 32 bits.
    assert_eq!(restore(&mut r, "foo", 2_569_591_501, &p, &["REPLACE"]), Resp::ok());
    let pttl = r.int(&["PTTL", "foo"]);
    assert!((2_569_591_501 - 3000..=2_569_591_501).contains(&pttl), "{pttl}");
    // An absolute deadline.
    let at = now_ms() + 3000;
    assert_eq!(restore(&mut r, "foo", at, &p, &["REPLACE", "ABSTTL"]), Resp::ok());
    assert_eq!(r.int(&["PEXPIRETIME", "foo"]), at);
    // ABSTTL 0 is no TTL.
    assert_eq!(restore(&mut r, "foo", 0, &p, &["REPLACE", "ABSTTL"]), Resp::ok());
    assert_eq!(r.int(&["TTL", "foo"]), -1);

    // A deadline already past: OK, and the key is gone, replaced or not.
    assert_eq!(restore(&mut r, "foo", now_ms() - 3000, &p, &["ABSTTL", "REPLACE"]), Resp::ok());
    assert_eq!(r.int(&["EXISTS", "foo"]), 0);
    assert_eq!(restore(&mut r, "foo", 1, &p, &["ABSTTL"]), Resp::ok());
    assert_eq!(r.int(&["EXISTS", "foo"]), 0);
    // A relative TTL that overflows wraps into the past, as in Redis.
    assert_eq!(restore(&mut r, "foo", i64::MAX, &p, &[]), Resp::ok());
    assert_eq!(r.int(&["EXISTS", "foo"]), 0);
    assert_eq!(restore(&mut r, "foo", i64::MAX, &p, &["ABSTTL"]), Resp::ok());
    assert_eq!(r.int(&["PEXPIRETIME", "foo"]), i64::MAX);

    // An expired key is no obstacle: it is deleted on the way.
    r.cmd(&["SET", "short", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(restore(&mut r, "short", 0, &p, &[]), Resp::ok());
    assert_eq!(r.cmd(&["GET", "short"]), Resp::bulk("bar"));

    // IDLETIME and FREQ are accepted (forkv tracks neither), also lowercase.
    assert_eq!(restore(&mut r, "lru", 0, &p, &["idletime", "1000"]), Resp::ok());
    assert_eq!(restore(&mut r, "lfu", 0, &p, &["freq", "100"]), Resp::ok());
    assert_eq!(r.cmd(&["MGET", "lru", "lfu"]), Resp::bulks(&["bar", "bar"]));

    // RESTORE-ASKING is RESTORE outside a cluster.
    let args: [&[u8]; 4] = [b"RESTORE-ASKING", b"asked", b"0", &p];
    assert_eq!(r.cmd_bytes(&args), Resp::ok());
    assert_eq!(r.cmd_bytes(&args), Resp::err(BUSYKEY));

    // Inside MULTI.
    r.cmd(&["MULTI"]);
    restore(&mut r, "tx", 0, &p, &[]);
    r.cmd(&["GET", "tx"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::ok(), Resp::bulk("bar")]));

    // Each value type restores as itself, under another name too.
    r.cmd(&["RPUSH", "l", "a", "b", "c"]);
    r.cmd(&["HSET", "h", "f", "1"]);
    r.cmd(&["SADD", "s", "1", "2"]);
    r.cmd(&["ZADD", "z", "2", "b", "1", "a"]);
    for key in ["l", "h", "s", "z"] {
        let payload = r.bulk(&["DUMP", key]);
        let copy = format!("{key}-copy");
        assert_eq!(restore(&mut r, &copy, 0, &payload, &[]), Resp::ok());
        assert_eq!(r.cmd(&["TYPE", &copy]), r.cmd(&["TYPE", key]));
        assert_eq!(r.bulk(&["DUMP", &copy]), payload);
    }
    assert_eq!(r.cmd(&["LRANGE", "l-copy", "0", "-1"]), Resp::bulks(&["a", "b", "c"]));
    assert_eq!(r.cmd(&["ZRANGE", "z-copy", "0", "-1"]), Resp::bulks(&["a", "b"]));
    // Long strings are LZF-compressed as rdbcompression says.
    let long = "ab".repeat(100);
    r.cmd(&["SET", "long", &long]);
    assert_eq!(r.bulk(&["DUMP", "long"])[..2], [0, 0xC3]);
    assert_eq!(r.cmd(&["CONFIG", "SET", "rdbcompression", "no"]), Resp::ok());
    let plain = r.bulk(&["DUMP", "long"]);
    assert_eq!(plain[..3], [0, 0x40, 200]);
    assert_eq!(restore(&mut r, "long2", 0, &plain, &[]), Resp::ok());
    assert_eq!(r.cmd(&["GET", "long2"]), Resp::bulk(&long));
    // A wrong type on the same name is replaced as any other value.
    let list = r.bulk(&["DUMP", "l"]);
    assert_eq!(restore(&mut r, "h", 0, &list, &["REPLACE"]), Resp::ok());
    assert_eq!(r.cmd(&["TYPE", "h"]), Resp::Simple("list".into()));
}

fn changes_since_save(r: &mut Raw) -> i64 {
    let info = r.cmd(&["INFO", "persistence"]).text();
    helpers::info_field(&info, "rdb_changes_since_last_save").unwrap().parse().unwrap()
}

#[test]
fn watch_blocked_clients_and_change_counts() {
    let (server, mut r) = helpers::start_raw();
    let mut other = Raw::connect(server.port);
    r.cmd(&["SET", "src", "v"]);
    let p = r.bulk(&["DUMP", "src"]);

    let before = changes_since_save(&mut r);
    assert_eq!(restore(&mut other, "a", 0, &p, &[]), Resp::ok());
    assert_eq!(restore(&mut other, "a", 0, &p, &[]), Resp::err(BUSYKEY));
    assert_eq!(restore(&mut other, "gone", 1, &p, &["ABSTTL"]), Resp::ok());
    assert_eq!(changes_since_save(&mut r), before + 1, "only the created key counts");

    // A refused RESTORE, or one whose key expires at once, changes nothing.
    assert_eq!(r.cmd(&["WATCH", "a", "gone"]), Resp::ok());
    assert_eq!(restore(&mut other, "a", 0, &p, &[]), Resp::err(BUSYKEY));
    assert_eq!(restore(&mut other, "gone", 1, &p, &["ABSTTL"]), Resp::ok());
    r.cmd(&["MULTI"]);
    r.cmd(&["GET", "a"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::bulk("v")]));
    // One that writes the key aborts the transaction.
    assert_eq!(r.cmd(&["WATCH", "a"]), Resp::ok());
    assert_eq!(restore(&mut other, "a", 0, &p, &["REPLACE"]), Resp::ok());
    r.cmd(&["MULTI"]);
    r.cmd(&["GET", "a"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);
    // So does one that deletes it, with a deadline already past.
    assert_eq!(r.cmd(&["WATCH", "a"]), Resp::ok());
    assert_eq!(restore(&mut other, "a", 1, &p, &["REPLACE", "ABSTTL"]), Resp::ok());
    assert_eq!(other.int(&["EXISTS", "a"]), 0);
    r.cmd(&["MULTI"]);
    r.cmd(&["GET", "a"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);

    // A client blocked on a list is served by the list RESTORE creates.
    r.cmd(&["RPUSH", "l", "x", "y"]);
    let list = r.bulk(&["DUMP", "l"]);
    r.send(&["BLPOP", "target", "5"]);
    let blocked = helpers::wait_until(Duration::from_secs(5), || {
        let info = other.cmd(&["INFO", "clients"]).text();
        helpers::info_field(&info, "blocked_clients").as_deref() == Some("1")
    });
    assert!(blocked, "BLPOP did not block");
    assert_eq!(restore(&mut other, "target", 0, &list, &[]), Resp::ok());
    assert_eq!(r.read(), Resp::bulks(&["target", "x"]));
    assert_eq!(other.cmd(&["LRANGE", "target", "0", "-1"]), Resp::bulks(&["y"]));
}

/// Payloads of many shapes, mutated at random: every RESTORE answers OK or
/// one of its two errors, a restored value is whole (it dumps and restores
/// again), and the server stays up with its memory in bounds.
#[test]
fn corrupted_payloads_get_an_error_and_never_bring_the_server_down() {
    let server = common::Server::start();
    let mut con = server.client();
    fill(&mut con);
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for db in 0..DBS {
        select(&mut con, db);
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
        seeds.extend(keys.iter().filter_map(|k| dump_key(&mut con, k)));
    }
    select(&mut con, 0);
    // Redis's own compact encodings (quicklist, intset, listpacks), which
    // forkv never writes.
    for hex in [
        "1201020f0f00000003008161028162020101ff0a00e01bab4a47ce5922",
        "0b0e0200000003000000fdff010002000a00d1b78ed9bc07c27f",
        "1012120000000400816602817602816e020101ff0a00fce408f17922e016",
        "111414000000040081610283312e35048162020201ff0a00fa02b425af188763",
    ] {
        seeds.push((0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect());
    }
    let mut r = Raw::connect(server.port);
    let mut rng = Rng::from_time();
    let (mut ok, mut bad_format, mut bad_footer) = (0, 0, 0);
    for round in 0..3000 {
        let seed = &seeds[rng.below(seeds.len() as u64) as usize];
        let mut body = seed[..seed.len() - 10].to_vec();
        match rng.below(4) {
            0 => {
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(body.len() as u64) as usize;
                    body[at] ^= 1 + rng.below(255) as u8;
                }
            }
            1 => body.truncate(rng.below(body.len() as u64) as usize),
            2 => {
                let at = rng.below(body.len() as u64 + 1) as usize;
                let junk: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
                body.splice(at..at, junk);
            }
            _ => {
                let at = 1 + rng.below(body.len() as u64 - 1) as usize;
                body[at] = [0x80, 0x81, 0xC3, 0x7F][rng.below(4) as usize];
            }
        }
        // Mostly re-sealed, so the value itself is read.
        let payload = if rng.below(8) == 0 {
            let mut p = body.clone();
            p.extend_from_slice(&seed[seed.len() - 10..]);
            p
        } else {
            seal_payload(body)
        };
        match restore(&mut r, "fuzz", 0, &payload, &["REPLACE"]) {
            Resp::Simple(s) if s == "OK" => {
                ok += 1;
                let again = r.bulk(&["DUMP", "fuzz"]);
                assert_eq!(restore(&mut r, "fuzz2", 0, &again, &["REPLACE"]), Resp::ok(), "round {round}");
                assert_eq!(r.bulk(&["DUMP", "fuzz2"]), again, "round {round}");
            }
            Resp::Error(e) if e == BAD_FORMAT => bad_format += 1,
            Resp::Error(e) if e == BAD_PAYLOAD => bad_footer += 1,
            other => panic!("round {round}: {other:?} for {payload:?}"),
        }
    }
    eprintln!("{ok} restored, {bad_format} bad data, {bad_footer} bad footers");
    assert!(bad_format > 500 && bad_footer > 100 && ok > 20, "{ok} {bad_format} {bad_footer}");
    assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
    let info = r.cmd(&["INFO", "memory"]).text();
    let used: u64 = helpers::info_field(&info, "used_memory").unwrap().parse().unwrap();
    assert!(used < 256 << 20, "used_memory {used}");
}

/// Lengths claiming gigabytes or more in a few bytes: refused at once,
/// without allocating for them.
#[test]
fn absurd_lengths_are_refused_quickly() {
    let (_s, mut r) = helpers::start_raw();
    let huge = [0x81u8, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    let bodies: Vec<Vec<u8>> = vec![
        [&[0u8][..], &huge, b"abc"].concat(),
        [&[0u8, 0x80, 0xFF, 0xFF, 0xFF, 0xF0][..], b"abc"].concat(),
        [&[1u8][..], &huge, &[1, b'a']].concat(),
        [&[2u8][..], &huge, &[1, b'a']].concat(),
        [&[4u8][..], &huge, &[1, b'a', 1, b'b']].concat(),
        [&[5u8][..], &huge, &[1, b'a']].concat(),
        [&[18u8][..], &huge, &[2]].concat(),
        // LZF: 3 compressed bytes announcing 4 GB.
        vec![0, 0xC3, 3, 0x80, 0xFF, 0xFF, 0xFF, 0xF0, 0, b'a', 0],
        // A listpack blob announcing a huge total size.
        [&[16u8, 10][..], &[0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0, 0, 0, 0xFF]].concat(),
    ];
    for body in bodies {
        let start = Instant::now();
        assert_eq!(restore(&mut r, "k", 0, &sealed(&body), &[]), Resp::err(BAD_FORMAT), "{body:?}");
        assert!(start.elapsed() < Duration::from_secs(1), "{body:?} took {:?}", start.elapsed());
    }
    let info = r.cmd(&["INFO", "memory"]).text();
    let peak: u64 = helpers::info_field(&info, "used_memory_peak").unwrap().parse().unwrap();
    assert!(peak < 64 << 20, "used_memory_peak {peak}");
    assert_eq!(r.int(&["DBSIZE"]), 0);
}

/// RESTOREs of every kind, then a restart: the AOF brings back the same
/// keys with the same deadlines (a relative TTL is logged as a deadline).
#[test]
fn restored_keys_survive_a_restart_through_the_aof() {
    let mut server = common::Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let mut con = server.client();
    fill(&mut con);
    // Every key is dumped, deleted and restored with a relative TTL.
    let mut r = Raw::connect(server.port);
    for db in 0..DBS {
        r.cmd(&["SELECT", &db.to_string()]);
        let keys: Vec<String> = match r.cmd(&["KEYS", "*"]) {
            Resp::Array(items) => items.iter().map(Resp::text).collect(),
            other => panic!("{other:?}"),
        };
        for (i, key) in keys.iter().enumerate() {
            let p = r.bulk(&["DUMP", key]);
            let pttl = r.int(&["PTTL", key]);
            r.cmd(&["DEL", key]);
            let ttl = if pttl > 0 {
                pttl
            } else if i % 3 == 0 {
                50_000_000
            } else {
                0
            };
            let options: &[&str] = if i % 2 == 0 { &["IDLETIME", "5"] } else { &[] };
            assert_eq!(restore(&mut r, key, ttl, &p, options), Resp::ok(), "{key}");
        }
    }
    r.cmd(&["SELECT", "0"]);
    let p = r.bulk(&["DUMP", "t:str"]);
    let at = now_ms() + 80_000_000;
    assert_eq!(restore(&mut r, "abs", at, &p, &["ABSTTL"]), Resp::ok());
    r.cmd(&["SET", "replaced", "old"]);
    assert_eq!(restore(&mut r, "replaced", 0, &p, &["REPLACE"]), Resp::ok());
    r.cmd(&["SET", "deleted", "old"]);
    assert_eq!(restore(&mut r, "deleted", 1, &p, &["REPLACE", "ABSTTL"]), Resp::ok());
    assert_eq!(restore(&mut r, "never", 1, &p, &["ABSTTL"]), Resp::ok());
    let asked: [&[u8]; 5] = [b"RESTORE-ASKING", b"asked", b"90000000", &p, b"FREQ"];
    assert_eq!(r.cmd_bytes(&asked), Resp::err(SYNTAX));
    assert_eq!(r.cmd_bytes(&asked[..4]), Resp::ok());
    r.cmd(&["MULTI"]);
    restore(&mut r, "in-multi", 70_000_000, &p, &[]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::ok()]));
    assert_eq!(r.int(&["EXISTS", "deleted", "never"]), 0);

    let before = dump(&mut con, DBS);
    assert_eq!(before.len() as u64, FILLED + 4);
    let aof = std::fs::read(server.path("appendonly.aof")).unwrap();
    let count = |needle: &[u8]| aof.windows(needle.len()).filter(|w| w.eq_ignore_ascii_case(needle)).count();
    let restores = count(b"\r\nRESTORE\r\n");
    assert_eq!(restores as u64, FILLED + 3, "one record per RESTORE that wrote");
    assert!(count(b"ABSTTL") >= 3, "relative TTLs are logged as deadlines");
    assert!(!aof.windows(10).any(|w| w == b"\r\n50000000"), "a relative TTL must not be logged");
    assert_eq!(count(b"\r\nRESTORE-ASKING\r\n"), 1);
    drop(con);
    drop(r);
    std::thread::sleep(Duration::from_millis(50));
    server.restart();
    let mut con = server.client();
    assert_same(&before, &dump(&mut con, DBS), "after the AOF replay");
}
