//! Helpers the integration tests share (the AOF tests first): dumping a server's whole
//! dataset key by key, INFO fields, a tiny deterministic RNG, and starting
//! the binary without waiting for it to answer.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// One key as a client sees it: type, value (canonical text) and absolute
/// expiry in ms (-1 for none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub kind: String,
    pub value: Vec<String>,
    pub expire_at: i64,
}

pub type Dump = BTreeMap<(u32, String), Entry>;

fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Every key of the first `dbs` databases, with type, value and expiry.
pub fn dump(con: &mut redis::Connection, dbs: u32) -> Dump {
    let mut out = Dump::new();
    for db in 0..dbs {
        let _: () = q(con, &["SELECT", &db.to_string()]);
        let keys: Vec<String> = q(con, &["KEYS", "*"]);
        for key in keys {
            let kind: String = q(con, &["TYPE", &key]);
            let mut value: Vec<String> = match kind.as_str() {
                "string" => vec![q(con, &["GET", &key])],
                "list" => q(con, &["LRANGE", &key, "0", "-1"]),
                "hash" => {
                    let mut pairs: Vec<(String, String)> = q(con, &["HGETALL", &key]);
                    pairs.sort();
                    pairs.into_iter().map(|(f, v)| format!("{f}={v}")).collect()
                }
                "set" => q(con, &["SMEMBERS", &key]),
                "zset" => {
                    let v: Vec<(String, String)> = q(con, &["ZRANGE", &key, "0", "-1", "WITHSCORES"]);
                    v.into_iter().map(|(m, s)| format!("{m}:{s}")).collect()
                }
                "none" => continue, // expired between KEYS and TYPE
                other => panic!("unexpected type {other} for {key}"),
            };
            if kind == "set" {
                value.sort();
            }
            let expire_at: i64 = q(con, &["PEXPIRETIME", &key]);
            out.insert((db, key), Entry { kind, value, expire_at });
        }
    }
    let _: () = q(con, &["SELECT", "0"]);
    out
}

/// Keys `write_every_type` adds to each of dbs 0..3.
pub const EVERY_TYPE_KEYS: u64 = 17;

/// Writes keys of every type into dbs 0..3, both small (listpack, intset)
/// and big (hashtable, skiplist, quicklist) ones, strings an RDB stores as
/// integers, raw or LZF-compressed, strings changed in place, and TTLs. `tag` prefixes the names, so
/// a second call adds keys instead of overwriting them.
pub fn write_every_type(con: &mut redis::Connection, tag: &str) {
    for db in 0..3u32 {
        let _: () = q(con, &["SELECT", &db.to_string()]);
        let k = |name: &str| format!("{tag}:{name}");
        let mut p = redis::pipe();
        p.cmd("SET").arg(k("str")).arg(format!("{tag}/{db}")).ignore();
        p.cmd("SET").arg(k("int")).arg(-12345 - i64::from(db)).ignore();
        p.cmd("SET").arg(k("long")).arg(format!("{tag}{}", "abc".repeat(200))).ignore();
        p.cmd("SET").arg(k("bin")).arg("\x00\x01\r\n\x7f").ignore();
        p.cmd("SET").arg(k("ex")).arg("v").arg("EX").arg(100_000).ignore();
        p.cmd("SET").arg(k("px")).arg("v").arg("PX").arg(90_000_000).ignore();
        p.cmd("RPUSH").arg(k("list")).arg(&["a", "b", "1", "-2"]).ignore();
        p.cmd("RPUSH").arg(k("biglist")).arg((0..600).map(|i| format!("item-{i}")).collect::<Vec<_>>()).ignore();
        p.cmd("SADD").arg(k("intset")).arg(&[1i64, 2, 3, -5, 1 << 40]).ignore();
        p.cmd("SADD").arg(k("set")).arg(&["a", "b", "c"]).ignore();
        p.cmd("SADD").arg(k("bigset")).arg((0..600).map(|i| format!("m{i}")).collect::<Vec<_>>()).ignore();
        p.cmd("HSET").arg(k("hash")).arg(&["f", "v", "n", "1"]).ignore();
        p.cmd("HSET")
            .arg(k("bighash"))
            .arg((0..300).flat_map(|i| [format!("f{i}"), "v".repeat(i % 90)]).collect::<Vec<_>>())
            .ignore();
        p.cmd("ZADD").arg(k("zset")).arg(&["1", "a", "2.5", "b", "-inf", "lo", "+inf", "hi"]).ignore();
        p.cmd("ZADD")
            .arg(k("bigzset"))
            .arg((0..300).flat_map(|i| [format!("{}", i as f64 / 4.0), format!("z{i}")]).collect::<Vec<_>>())
            .ignore();
        p.cmd("EXPIRE").arg(k("hash")).arg(200_000).ignore();
        p.cmd("PEXPIREAT").arg(k("bigzset")).arg(4_102_444_800_000i64).ignore();
        p.cmd("PEXPIRE").arg(k("biglist")).arg(70_000_000).ignore();
        // Strings changed in place (a buffer with spare room).
        for part in ["12", "34", &"x".repeat(100)] {
            p.cmd("APPEND").arg(k("appended")).arg(part).ignore();
        }
        p.cmd("SETRANGE").arg(k("ranged")).arg(30).arg(tag).ignore();
        p.query::<()>(con).unwrap_or_else(|e| panic!("writing the {tag} keys: {e}"));
    }
    let _: () = q(con, &["SELECT", "0"]);
}

/// Reports the first difference between two dumps.
pub fn assert_same(before: &Dump, after: &Dump, what: &str) {
    if before == after {
        return;
    }
    for (k, v) in before {
        match after.get(k) {
            None => panic!("{what}: key {k:?} missing (was {v:?}); {} vs {} keys", before.len(), after.len()),
            Some(w) if w != v => panic!("{what}: key {k:?} differs: {v:?} vs {w:?}"),
            _ => {}
        }
    }
    for k in after.keys() {
        if !before.contains_key(k) {
            panic!("{what}: unexpected key {k:?} = {:?}", after[k]);
        }
    }
}

/// The fields of an INFO section as a map.
pub fn info(con: &mut redis::Connection, section: &str) -> BTreeMap<String, String> {
    let text: String = q(con, &["INFO", section]);
    text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.to_string(), v.trim().to_string())).collect()
}

pub fn info_field(con: &mut redis::Connection, field: &str) -> String {
    info(con, "persistence").get(field).cloned().unwrap_or_else(|| panic!("INFO has no {field}"))
}

/// Whether `needle` occurs in `haystack` (an AOF is not always text).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Polls `cond` every 20 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until no AOF rewrite is running.
pub fn wait_rewrite_done(con: &mut redis::Connection) {
    wait_until(Duration::from_secs(30), "the AOF rewrite to finish", || {
        let i = info(con, "persistence");
        i["aof_rewrite_in_progress"] == "0" && i["aof_rewrite_scheduled"] == "0"
    });
}

/// xorshift64*, seeded explicitly so failures can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn from_time() -> Rng {
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        eprintln!("rng seed {seed}");
        Rng::new(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Runs the binary with `args` in `dir` (log to `dir/forkv.log`) without
/// waiting for it to answer.
pub fn spawn_raw(dir: &Path, port: u16, args: &[&str]) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("forkv.log")).unwrap();
    crate::common::forkv_command(dir, port, args, log).spawn().expect("start forkv")
}

/// Waits (bounded) for a child to exit, killing it if it does not.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A redis-server child (Debian's, for compatibility checks) on a free
/// loopback port, killed on drop.
pub struct RedisServer {
    child: Child,
    log: std::path::PathBuf,
    pub port: u16,
}

impl RedisServer {
    /// Whether redis-server is installed; a note when it is not.
    pub fn available() -> bool {
        let ok = std::process::Command::new("redis-server").arg("--version").output().is_ok();
        if !ok {
            eprintln!("SKIPPED: redis-server is not installed (tests/run.sh installs it)");
        }
        ok
    }

    /// Starts in `dir` with snapshots off and `args`, and waits until it
    /// has loaded its data and answers.
    pub fn start(dir: &Path, args: &[&str]) -> (RedisServer, redis::Connection) {
        let port = crate::common::free_port();
        let log = dir.join("redis.log");
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(args)
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(&log)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server");
        let redis = RedisServer { child, log, port };
        let url = format!("redis://127.0.0.1:{port}/");
        let mut con = None;
        wait_until(Duration::from_secs(30), "redis-server to load and answer", || {
            con = redis::Client::open(url.as_str()).unwrap().get_connection().ok();
            con.as_mut().is_some_and(|c| redis::cmd("PING").query::<String>(c).is_ok())
        });
        (redis, con.unwrap())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SHUTDOWN (its AOF is fsynced) and wait for the exit.
    pub fn shutdown(mut self, con: &mut redis::Connection) {
        let _ = redis::cmd("SHUTDOWN").query::<()>(con);
        let status = wait_exit(&mut self.child, Duration::from_secs(30));
        assert!(status.is_some_and(|s| s.success()), "redis-server shutdown: {status:?}; log:\n{}", self.log());
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
