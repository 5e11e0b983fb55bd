//! AOFs cross between forkv and Debian's redis-server (7.0) with the same
//! keys, values and expiries: forkv's command AOF and its AOF with an RDB
//! preamble load into Redis (which takes an old-style `appendonly.aof` in
//! `dir` as the base to upgrade), and forkv started on Redis 7's data
//! directory takes over its multi-part AOF (base RDB, then commands). Skips with a
//! note when redis-server is not installed.

mod aof_support;
mod common;

use aof_support::{assert_same, dump, wait_rewrite_done, write_every_type, RedisServer};
use common::Server;
use std::path::Path;
use std::process::Command;

/// Starts redis-server with AOF on in `dir` (it loads `appendonly.aof`).
fn start_redis(dir: &Path) -> (RedisServer, redis::Connection) {
    RedisServer::start(dir, &["--appendonly", "yes", "--appendfilename", "appendonly.aof"])
}

/// Loads forkv's `appendonly.aof` into redis-server and checks it holds `want`.
fn assert_redis_loads(aof: &Path, want: &aof_support::Dump, dbs: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(aof, dir.path().join("appendonly.aof")).unwrap();
    let (redis, mut con) = start_redis(dir.path());
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut con).unwrap();
    assert!(info.contains("aof_enabled:1") && info.contains("loading:0"), "{info}");
    let log = redis.log();
    assert!(log.contains("DB loaded from append only file"), "redis log:\n{log}");
    assert_same(want, &dump(&mut con, dbs), "forkv's AOF loaded by redis-server");
    log
}

#[test]
fn forkv_aof_loads_into_redis_server_with_the_same_data() {
    if !RedisServer::available() {
        return;
    }
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let mut con = server.client();
    for db in 0..4u32 {
        redis::cmd("SELECT").arg(db).query::<()>(&mut con).unwrap();
        for i in 0..30 {
            redis::cmd("SET").arg(format!("s{i}")).arg(format!("{db}/{i}")).query::<()>(&mut con).unwrap();
        }
        redis::cmd("SET").arg("ex").arg("v").arg("EX").arg(100_000).query::<()>(&mut con).unwrap();
        redis::cmd("SET").arg("px").arg("v").arg("PX").arg(90_000_000).query::<()>(&mut con).unwrap();
        redis::cmd("SETEX").arg("setex").arg(200_000).arg("v").query::<()>(&mut con).unwrap();
        redis::cmd("EXPIRE").arg("s1").arg(300_000).query::<i64>(&mut con).unwrap();
        redis::cmd("PEXPIREAT").arg("s2").arg(4_102_444_800_000i64).query::<i64>(&mut con).unwrap();
        redis::cmd("INCRBYFLOAT").arg("float").arg("3.0e3").query::<String>(&mut con).unwrap();
        redis::cmd("INCRBYFLOAT").arg("float").arg("-0.125").query::<String>(&mut con).unwrap();
        redis::cmd("INCRBY").arg("int").arg(db * 1000 + 7).query::<i64>(&mut con).unwrap();
        redis::cmd("APPEND").arg("s3").arg("+appended").query::<i64>(&mut con).unwrap();
        redis::cmd("DEL").arg("s4").query::<i64>(&mut con).unwrap();
        redis::cmd("PERSIST").arg("ex").query::<i64>(&mut con).unwrap();
        redis::cmd("SET").arg("ex").arg("v2").arg("KEEPTTL").query::<()>(&mut con).unwrap();
        redis::cmd("RENAME").arg("s5").arg("renamed").query::<()>(&mut con).unwrap();
        redis::cmd("GETEX").arg("s6").arg("EX").arg(50_000).query::<String>(&mut con).unwrap();
        redis::cmd("MSET").arg("m1").arg("a").arg("m2").arg("b").query::<()>(&mut con).unwrap();
        let _: () = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("tx")
            .arg("in-multi")
            .cmd("INCR")
            .arg("int")
            .cmd("EXPIRE")
            .arg("tx")
            .arg(400_000)
            .query(&mut con)
            .unwrap();
        redis::cmd("SET").arg("bin\x00key").arg("\x01\x02\r\n").query::<()>(&mut con).unwrap();
    }
    redis::cmd("SELECT").arg(0).query::<()>(&mut con).unwrap();
    redis::cmd("SET").arg("moved").arg("to-3").query::<()>(&mut con).unwrap();
    assert_eq!(redis::cmd("MOVE").arg("moved").arg(3).query::<i64>(&mut con).unwrap(), 1);
    redis::cmd("SWAPDB").arg(1).arg(2).query::<()>(&mut con).unwrap();
    let want = dump(&mut con, 4);
    drop(con);
    assert!(server.stop().success());

    let log = assert_redis_loads(&server.path("appendonly.aof"), &want, 4);
    assert!(!log.contains("RDB preamble"), "a command AOF:\n{log}");
}

/// Changes to keys written before a rewrite, so the commands after the
/// preamble modify what it holds.
fn modify_base_keys(con: &mut redis::Connection) {
    for db in 0..3 {
        redis::cmd("SELECT").arg(db).query::<()>(con).unwrap();
        redis::cmd("DEL").arg("base:set").query::<i64>(con).unwrap();
        redis::cmd("LPOP").arg("base:biglist").query::<String>(con).unwrap();
        redis::cmd("HDEL").arg("base:bighash").arg("f7").query::<i64>(con).unwrap();
        redis::cmd("ZINCRBY").arg("base:bigzset").arg(10).arg("z3").query::<String>(con).unwrap();
        redis::cmd("SADD").arg("base:intset").arg("not-an-int").query::<i64>(con).unwrap();
        redis::cmd("PERSIST").arg("base:hash").query::<i64>(con).unwrap();
        redis::cmd("APPEND").arg("base:str").arg("+tail").query::<i64>(con).unwrap();
    }
    redis::cmd("SELECT").arg(0).query::<()>(con).unwrap();
}

#[test]
fn forkv_aof_with_an_rdb_preamble_loads_into_redis_server() {
    if !RedisServer::available() {
        return;
    }
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let mut con = server.client();
    write_every_type(&mut con, "base");
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_rewrite_done(&mut con);
    write_every_type(&mut con, "tail");
    modify_base_keys(&mut con);
    let want = dump(&mut con, 3);
    drop(con);
    assert!(server.stop().success());
    assert!(std::fs::read(server.path("appendonly.aof")).unwrap().starts_with(b"REDIS"));

    // redis-check-aof takes it as an old-style AOF with a preamble.
    let check = Command::new("redis-check-aof").arg(server.path("appendonly.aof")).output().unwrap();
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success() && out.contains("RDB preamble is OK") && out.contains("is valid"), "{out}");

    let log = assert_redis_loads(&server.path("appendonly.aof"), &want, 3);
    assert!(log.contains("Reading RDB preamble from AOF file"), "redis log:\n{log}");
}

#[test]
fn forkv_takes_over_a_redis7_data_dir_and_its_multi_part_aof() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (redis, mut con) = start_redis(dir.path());
    write_every_type(&mut con, "base");
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_rewrite_done(&mut con);
    // Redis 7 can annotate its commands with `#TS:` lines; forkv skips them.
    let _: () = redis::cmd("CONFIG").arg("SET").arg("aof-timestamp-enabled").arg("yes").query(&mut con).unwrap();
    write_every_type(&mut con, "tail");
    modify_base_keys(&mut con);
    let want = dump(&mut con, 3);
    redis.shutdown(&mut con);

    // Redis 6's single file is Redis 7's base RDB with its commands after it.
    let aof_dir = dir.path().join("appendonlydir");
    let manifest = std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).unwrap();
    let file_of = |kind: &str| -> String {
        let line = manifest.lines().find(|l| l.ends_with(&format!(" type {kind}"))).expect(&manifest);
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    let (base, incr) =
        (std::fs::read(aof_dir.join(file_of("b"))).unwrap(), std::fs::read(aof_dir.join(file_of("i"))).unwrap());
    assert!(base.starts_with(b"REDIS") && incr.starts_with(b"#TS:"), "manifest:\n{manifest}");
    assert!(incr.windows(3).any(|w| w == b"*3\r"), "commands follow the annotations");

    // forkv started on Redis's directory as it is: it copies the base and
    // the commands, in the manifest's order, into its own file and loads it.
    let mut server = Server::start_with(&["--appendonly", "yes", "--save", ""]);
    server.kill();
    std::fs::remove_file(server.path("appendonly.aof")).unwrap();
    let forkv_aof_dir = server.path("appendonlydir");
    std::fs::create_dir(&forkv_aof_dir).unwrap();
    for entry in std::fs::read_dir(&aof_dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), forkv_aof_dir.join(entry.file_name())).unwrap();
    }
    server.spawn();
    let mut con = server.client();
    assert_same(&want, &dump(&mut con, 3), "Redis's multi-part AOF loaded by forkv");
    server.wait_for_log("reading the remaining AOF tail");
    server.wait_for_log("Copied a Redis 7 multi-part AOF");
    assert_eq!(std::fs::read(server.path("appendonly.aof")).unwrap(), [base.as_slice(), &incr].concat());

    // From then on forkv's file is the data: a write after the takeover
    // survives a restart, and Redis's files are left as they were.
    let _: () = redis::cmd("SET").arg("after-takeover").arg("1").query(&mut con).unwrap();
    let want = dump(&mut con, 3);
    drop(con);
    assert!(server.stop().success());
    server.spawn();
    assert_same(&want, &dump(&mut server.client(), 3), "forkv's own AOF after the takeover");
    for entry in std::fs::read_dir(&aof_dir).unwrap() {
        let entry = entry.unwrap();
        let copy = std::fs::read(forkv_aof_dir.join(entry.file_name())).unwrap();
        assert_eq!(std::fs::read(entry.path()).unwrap(), copy, "{:?} changed", entry.file_name());
    }
}
