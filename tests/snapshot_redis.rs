//! Snapshot round trips with Debian's redis-server (skipped with a note when
//! it is not on PATH): Redis's dump — compact and big encodings of every
//! type, TTLs, several dbs — loads into forkv, and forkv's dump loads back
//! into Redis, comparing every key, type, value and deadline.
//!
//! forkv's main has only the string and key commands so far, so on the forkv
//! side values of the other types are compared through forkv's own SAVE
//! (read with `forkv::rdb::RdbReader`) and, where forkv answers LRANGE /
//! SMEMBERS / HGETALL / ZRANGE, through those too.

mod common;

use common::normalize;

use forkv::rdb::{RdbReader, RdbValue};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Dataset = BTreeMap<(usize, Vec<u8>), (RdbValue, Option<i64>)>;

fn redis_available() -> bool {
    let ok = Command::new("redis-server").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("note: redis-server not on PATH, skipping the Redis snapshot round trips");
    }
    ok
}

/// A redis-server child in its own directory, killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(dir: &Path, dbfilename: &str) -> Redis {
        let port = common::free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(dir)
            .args(["--dbfilename", dbfilename, "--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--enable-debug-command", "yes", "--databases", "16"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut r = Redis { child, port };
        let start = Instant::now();
        loop {
            assert!(r.child.try_wait().unwrap().is_none(), "redis-server exited during startup");
            if let Ok(mut c) = redis::Client::open(r.url()).unwrap().get_connection() {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return r;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(20), "redis-server did not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn client(&self) -> redis::Connection {
        redis::Client::open(self.url()).unwrap().get_connection().unwrap()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_dump(path: &Path) -> Dataset {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut reader = RdbReader::new(std::io::BufReader::new(file)).expect("dump header");
    let mut out = Dataset::new();
    while let Some(e) = reader.next_entry().expect("dump entry") {
        out.insert((e.db, e.key), (normalize(e.value), e.expire_ms));
    }
    out
}

fn pairs(flat: Vec<Vec<u8>>) -> Vec<(Vec<u8>, Vec<u8>)> {
    flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

fn parse_score(s: &[u8]) -> f64 {
    match s {
        b"inf" | b"+inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        _ => std::str::from_utf8(s).unwrap().parse().unwrap(),
    }
}

/// The value of `key` read with the type's own commands; None when the
/// server does not know that command (yet).
fn fetch(con: &mut redis::Connection, key: &[u8], ty: &str) -> Option<RdbValue> {
    let q = |con: &mut redis::Connection, cmd: &mut redis::Cmd| -> Option<Vec<Vec<u8>>> {
        match cmd.query::<Vec<Vec<u8>>>(con) {
            Ok(v) => Some(v),
            Err(e) if e.to_string().contains("unknown command") => None,
            Err(e) => panic!("reading {}: {e}", String::from_utf8_lossy(key)),
        }
    };
    let value = match ty {
        "string" => RdbValue::String(redis::cmd("GET").arg(key).query(con).unwrap()),
        "list" => RdbValue::List(q(con, redis::cmd("LRANGE").arg(key).arg(0).arg(-1))?),
        "set" => RdbValue::Set(q(con, redis::cmd("SMEMBERS").arg(key))?),
        "hash" => RdbValue::Hash(pairs(q(con, redis::cmd("HGETALL").arg(key))?)),
        "zset" => {
            let flat = q(con, redis::cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES"))?;
            RdbValue::ZSet(pairs(flat).into_iter().map(|(m, s)| (m, parse_score(&s))).collect())
        }
        other => panic!("unexpected type {other}"),
    };
    Some(normalize(value))
}

fn type_of(v: &RdbValue) -> &'static str {
    match v {
        RdbValue::String(_) => "string",
        RdbValue::List(_) => "list",
        RdbValue::Set(_) => "set",
        RdbValue::Hash(_) => "hash",
        RdbValue::ZSet(_) => "zset",
        RdbValue::Stream(_) => "stream",
    }
}

fn select(con: &mut redis::Connection, db: usize) {
    let _: () = redis::cmd("SELECT").arg(db).query(con).unwrap();
}

/// Everything a server holds, through commands only (KEYS, TYPE, PEXPIRETIME
/// and the type's read command). Values whose read command the server lacks
/// are left out of the map and counted in the second result.
fn dataset_via_commands(con: &mut redis::Connection) -> (Dataset, usize) {
    let mut out = Dataset::new();
    let mut unread = 0;
    for db in 0..16 {
        select(con, db);
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(con).unwrap();
        for key in keys {
            let ty: String = redis::cmd("TYPE").arg(&key).query(con).unwrap();
            let at: i64 = redis::cmd("PEXPIRETIME").arg(&key).query(con).unwrap();
            match fetch(con, &key, &ty) {
                Some(v) => {
                    out.insert((db, key), (v, (at >= 0).then_some(at)));
                }
                None => unread += 1,
            }
        }
    }
    select(con, 0);
    (out, unread)
}

/// Asserts forkv holds `want`: per db sizes, and per key TYPE, PEXPIRETIME
/// and, where forkv has the read command, the value.
fn verify_in_forkv(con: &mut redis::Connection, want: &Dataset) {
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for ((db, key), (value, at)) in want {
        *sizes.entry(*db).or_default() += 1;
        select(con, *db);
        let name = String::from_utf8_lossy(key);
        let ty: String = redis::cmd("TYPE").arg(key).query(con).unwrap();
        assert_eq!(ty, type_of(value), "type of {name} in db {db}");
        let got_at: i64 = redis::cmd("PEXPIRETIME").arg(key).query(con).unwrap();
        assert_eq!(got_at, at.unwrap_or(-1), "deadline of {name} in db {db}");
        if let Some(got) = fetch(con, key, &ty) {
            assert_eq!(&got, value, "value of {name} in db {db}");
        }
    }
    for db in 0..16 {
        select(con, db);
        let n: usize = redis::cmd("DBSIZE").query(con).unwrap();
        assert_eq!(n, sizes.get(&db).copied().unwrap_or(0), "DBSIZE of db {db}");
    }
    select(con, 0);
}

fn cmd_ok(con: &mut redis::Connection, args: &[&[u8]]) {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        c.arg(*a);
    }
    let _: redis::Value = c.query(con).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])));
}

/// Fills Redis with compact and big encodings of every type, TTLs and
/// several dbs; returns the far-future deadline used.
fn fill_redis(con: &mut redis::Connection) -> i64 {
    let far = forkv::util::now_ms() + 86_400_000;
    let far_s = far.to_string();
    let long = "lorem ipsum dolor sit amet ".repeat(400);
    // db 0: strings of every encoding.
    for (k, v) in [
        ("str", "hello"),
        ("int", "12345"),
        ("neg", "-9223372036854775808"),
        ("lead0", "007"),
        ("empty", ""),
        ("long", long.as_str()),
    ] {
        cmd_ok(con, &[b"SET", k.as_bytes(), v.as_bytes()]);
    }
    cmd_ok(con, &[b"SET", b"bin\0\xff", b"\x00\x01\xfe\xff\r\n"]);
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    cmd_ok(con, &[b"SET", b"big-incompressible", &big]);
    cmd_ok(con, &[b"PEXPIREAT", b"int", far_s.as_bytes()]);
    cmd_ok(con, &[b"PEXPIREAT", b"long", far_s.as_bytes()]);
    // Lists: one listpack node, many quicklist nodes, a large element.
    cmd_ok(con, &[b"RPUSH", b"list-small", b"a", b"1", b"", b"-77"]);
    for chunk in (0..5000).collect::<Vec<i32>>().chunks(500) {
        let items: Vec<String> = chunk.iter().map(|i| format!("item-{i:06}")).collect();
        let mut args: Vec<&[u8]> = vec![b"RPUSH", b"list-big"];
        args.extend(items.iter().map(|s| s.as_bytes()));
        cmd_ok(con, &args);
    }
    cmd_ok(con, &[b"RPUSH", b"list-long-elem", b"x", long.as_bytes(), b"y"]);
    cmd_ok(con, &[b"PEXPIREAT", b"list-small", (far + 1).to_string().as_bytes()]);
    // Sets: intset, big intset turned hashtable, strings.
    let ints: Vec<String> = (0..50).map(|i| (i * 7919 - 3000).to_string()).collect();
    let mut args: Vec<&[u8]> = vec![b"SADD", b"intset"];
    args.extend(ints.iter().map(|s| s.as_bytes()));
    cmd_ok(con, &args);
    let many: Vec<String> = (0..1000).map(|i| (i * 31).to_string()).collect();
    let mut args: Vec<&[u8]> = vec![b"SADD", b"set-big-int"];
    args.extend(many.iter().map(|s| s.as_bytes()));
    cmd_ok(con, &args);
    cmd_ok(con, &[b"SADD", b"set-str", b"a", b"b", long.as_bytes()]);
    // Hashes: listpack, hashtable by count, hashtable by value size.
    cmd_ok(con, &[b"HSET", b"hash-small", b"f", b"v", b"n", b"12", b"", b""]);
    let fields: Vec<String> = (0..700).map(|i| format!("field-{i}")).collect();
    for chunk in fields.chunks(100) {
        let mut args: Vec<Vec<u8>> = vec![b"HSET".to_vec(), b"hash-big".to_vec()];
        for f in chunk {
            args.push(f.as_bytes().to_vec());
            args.push(format!("value of {f}").into_bytes());
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        cmd_ok(con, &refs);
    }
    cmd_ok(con, &[b"HSET", b"hash-long-value", b"f", long.as_bytes()]);
    cmd_ok(con, &[b"PEXPIREAT", b"hash-small", (far + 2).to_string().as_bytes()]);
    // Sorted sets: listpack (with infinities) and skiplist.
    cmd_ok(
        con,
        &[b"ZADD", b"zset-small", b"1.5", b"a", b"-2", b"b", b"+inf", b"top", b"-inf", b"bottom", b"0.1", b"c"],
    );
    for chunk in (0..400).collect::<Vec<i32>>().chunks(100) {
        let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"zset-big".to_vec()];
        for i in chunk {
            args.push((*i as f64 / 3.0).to_string().into_bytes());
            args.push(format!("member-{i}").into_bytes());
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        cmd_ok(con, &refs);
    }
    cmd_ok(con, &[b"PEXPIREAT", b"zset-big", (far + 3).to_string().as_bytes()]);
    // Other dbs.
    select(con, 1);
    cmd_ok(con, &[b"SET", b"db1-str", b"one"]);
    cmd_ok(con, &[b"PEXPIREAT", b"db1-str", (far + 4).to_string().as_bytes()]);
    cmd_ok(con, &[b"HSET", b"db1-hash", b"k", b"v"]);
    select(con, 3);
    cmd_ok(con, &[b"DEBUG", b"POPULATE", b"5000", b"bulk", b"20"]);
    select(con, 15);
    cmd_ok(con, &[b"RPUSH", b"db15-list", b"z"]);
    cmd_ok(con, &[b"SADD", b"db15-set", b"only"]);
    select(con, 0);
    far
}

fn encodings(con: &mut redis::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["list-small", "list-big", "intset", "set-big-int", "hash-small", "hash-big", "zset-small", "zset-big"] {
        let enc: String = redis::cmd("OBJECT").arg("ENCODING").arg(key).query(con).unwrap();
        out.push(format!("{key}={enc}"));
    }
    out
}

#[test]
fn redis_dump_into_forkv_and_forkv_dump_into_redis() {
    if !redis_available() {
        return;
    }
    let redis_dir = tempfile::tempdir().unwrap();
    let redis = Redis::start(redis_dir.path(), "dump.rdb");
    let mut rc = redis.client();
    let far = fill_redis(&mut rc);
    let enc = encodings(&mut rc);
    for want in ["list-small=quicklist", "intset=intset", "set-big-int=hashtable", "hash-small=listpack"] {
        assert!(enc.iter().any(|e| e == want), "Redis encodings {enc:?}");
    }
    for want in ["hash-big=hashtable", "zset-small=listpack", "zset-big=skiplist"] {
        assert!(enc.iter().any(|e| e == want), "Redis encodings {enc:?}");
    }
    let (expected, unread) = dataset_via_commands(&mut rc);
    assert_eq!(unread, 0);
    assert!(expected.len() > 5_000);
    let _: () = redis::cmd("SAVE").query(&mut rc).unwrap();
    drop(redis);
    // Our reader agrees with Redis's own view of its dump.
    assert_eq!(read_dump(&redis_dir.path().join("dump.rdb")), expected, "Redis's dump read with RdbReader");

    // forkv starts with Redis's dump as its dump.rdb.
    let mut forkv = common::Server::start_with(&["--save", "", "--appendonly", "no"]);
    forkv.kill();
    std::fs::copy(redis_dir.path().join("dump.rdb"), forkv.path("dump.rdb")).unwrap();
    forkv.spawn();
    let mut fc = forkv.client();
    verify_in_forkv(&mut fc, &expected);

    // forkv adds some keys of its own, then saves.
    let mut expected = expected;
    select(&mut fc, 2);
    let _: () = redis::cmd("SET").arg("forkv-str").arg("made in forkv").query(&mut fc).unwrap();
    let _: () = redis::cmd("SET").arg("forkv-int").arg("-42").arg("PXAT").arg(far + 5).query(&mut fc).unwrap();
    let _: i64 = redis::cmd("INCRBY").arg("forkv-counter").arg(1_000_000_000_000i64).query(&mut fc).unwrap();
    let _: () = redis::cmd("SET").arg("forkv-bin\r\n").arg(&b"\xff\x00 binary"[..]).query(&mut fc).unwrap();
    select(&mut fc, 0);
    let _: () = redis::cmd("SET").arg("str").arg("overwritten by forkv").query(&mut fc).unwrap();
    let _: i64 = redis::cmd("DEL").arg("hash-small").query(&mut fc).unwrap();
    let s = |x: &[u8]| RdbValue::String(x.to_vec());
    expected.insert((2, b"forkv-str".to_vec()), (s(b"made in forkv"), None));
    expected.insert((2, b"forkv-int".to_vec()), (s(b"-42"), Some(far + 5)));
    expected.insert((2, b"forkv-counter".to_vec()), (s(b"1000000000000"), None));
    expected.insert((2, b"forkv-bin\r\n".to_vec()), (s(b"\xff\x00 binary"), None));
    expected.insert((0, b"str".to_vec()), (s(b"overwritten by forkv"), None));
    expected.remove(&(0, b"hash-small".to_vec()));
    verify_in_forkv(&mut fc, &expected);
    let _: () = redis::cmd("SAVE").query(&mut fc).unwrap();
    assert_eq!(read_dump(&forkv.path("dump.rdb")), expected, "forkv's dump read with RdbReader");

    // redis-check-rdb accepts forkv's dump, and redis-server loads it.
    let check = Command::new("redis-check-rdb").arg(forkv.path("dump.rdb")).output();
    if let Ok(out) = check {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("RDB looks OK"), "redis-check-rdb:\n{text}");
    }
    let redis2_dir = tempfile::tempdir().unwrap();
    std::fs::copy(forkv.path("dump.rdb"), redis2_dir.path().join("from-forkv.rdb")).unwrap();
    let redis2 = Redis::start(redis2_dir.path(), "from-forkv.rdb");
    let mut rc2 = redis2.client();
    let (in_redis, unread) = dataset_via_commands(&mut rc2);
    assert_eq!(unread, 0);
    assert_eq!(in_redis.len(), expected.len());
    for (k, v) in &expected {
        assert_eq!(
            in_redis.get(k),
            Some(v),
            "key {:?} in db {} after forkv → Redis",
            String::from_utf8_lossy(&k.1),
            k.0
        );
    }
}
