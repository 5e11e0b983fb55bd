//! Cross-checks the RDB module against a real Redis 7.0 (`redis-server` on
//! PATH; skipped with a note otherwise): Redis' own dump must read back
//! exactly, and our dump must load in Redis and pass `redis-check-rdb`.

mod common;

use common::normalize;
use forkv::rdb::{check_rdb, RdbEntry, RdbReader, RdbValue, RdbWriter};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn redis_available() -> bool {
    let ok = Command::new("redis-server").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        eprintln!("note: redis-server not on PATH, skipping Redis compatibility test");
    }
    ok
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("forkv-rdb-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A redis-server child, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path, dbfilename: &str) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(dir)
            .args(["--dbfilename", dbfilename, "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--enable-debug-command", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("redis-server exited early: {status}");
            }
            if let Ok(mut c) = server.try_conn() {
                if c.cmd(&["PING"]) == Reply::Simple("PONG".into()) {
                    return server;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn try_conn(&self) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn { r: BufReader::new(s.try_clone()?), w: s })
    }

    fn conn(&self) -> Conn {
        self.try_conn().expect("connect to redis-server")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Reply {
    fn bulk(self) -> Vec<u8> {
        match self {
            Reply::Bulk(Some(b)) => b,
            r => panic!("expected bulk, got {r:?}"),
        }
    }

    fn int(self) -> i64 {
        match self {
            Reply::Int(i) => i,
            r => panic!("expected integer, got {r:?}"),
        }
    }

    fn array(self) -> Vec<Vec<u8>> {
        match self {
            Reply::Array(a) => a.into_iter().map(Reply::bulk).collect(),
            r => panic!("expected array, got {r:?}"),
        }
    }
}

/// Minimal binary-safe RESP2 client.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let mut buf = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&buf).unwrap();
        self.reply()
    }

    fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let r = self.cmd(args);
        assert!(!matches!(r, Reply::Error(_)), "{r:?}");
    }

    fn reply(&mut self) -> Reply {
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let line = line.trim_end();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Reply::Simple(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut b = vec![0; n as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                Reply::Bulk(Some(b))
            }
            "*" => {
                let n: usize = rest.parse().unwrap();
                Reply::Array((0..n).map(|_| self.reply()).collect())
            }
            _ => panic!("bad reply line {line:?}"),
        }
    }

    /// Current value of `key` in the selected db, in a canonical order.
    fn fetch(&mut self, key: &[u8]) -> RdbValue {
        let t = self.cmd(&[&b"TYPE"[..], key]);
        let value = match t {
            Reply::Simple(t) if t == "string" => RdbValue::String(self.cmd(&[&b"GET"[..], key]).bulk()),
            Reply::Simple(t) if t == "list" => RdbValue::List(self.cmd(&[&b"LRANGE"[..], key, b"0", b"-1"]).array()),
            Reply::Simple(t) if t == "set" => RdbValue::Set(self.cmd(&[&b"SMEMBERS"[..], key]).array()),
            Reply::Simple(t) if t == "hash" => {
                let flat = self.cmd(&[&b"HGETALL"[..], key]).array();
                RdbValue::Hash(flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
            }
            Reply::Simple(t) if t == "zset" => {
                let flat = self.cmd(&[&b"ZRANGE"[..], key, b"0", b"-1", b"WITHSCORES"]).array();
                let score = |s: &[u8]| std::str::from_utf8(s).unwrap().parse::<f64>().unwrap();
                RdbValue::ZSet(flat.chunks(2).map(|p| (p[0].clone(), score(&p[1]))).collect())
            }
            r => panic!("unexpected TYPE reply {r:?}"),
        };
        normalize(value)
    }
}

fn b(s: impl AsRef<[u8]>) -> Vec<u8> {
    s.as_ref().to_vec()
}

/// Keys covering every encoding Redis 7.0 saves (except streams/modules).
fn dataset() -> Vec<RdbEntry> {
    let e = |db, key: &[u8], value, expire_ms| RdbEntry { db, key: key.to_vec(), value, expire_ms };
    let far = 4_102_444_800_000; // 2100-01-01
    let long = "lorem ipsum dolor ".repeat(200);
    let nums = |n: i64| (0..n).map(|i| b((i * 7919 - 3000).to_string())).collect::<Vec<_>>();
    let words = |n: usize, w: usize| (0..n).map(|i| b(format!("{i:0w$}"))).collect::<Vec<_>>();
    vec![
        e(0, b"str", RdbValue::String(b("hello")), None),
        e(0, b"", RdbValue::String(b("empty key")), None),
        e(0, b"empty", RdbValue::String(Vec::new()), None),
        e(0, b"bin\0\xff\r\n", RdbValue::String(b(b"\0\x01\xfe\xff")), None),
        e(0, b"int8", RdbValue::String(b("-100")), None),
        e(0, b"int32", RdbValue::String(b("2000000000")), Some(far)),
        e(0, b"int64", RdbValue::String(b("-9223372036854775808")), None),
        e(0, b"leading0", RdbValue::String(b("0012")), None),
        e(0, b"long", RdbValue::String(b(&long)), None),
        e(0, b"list-small", RdbValue::List(vec![b("a"), b("1"), Vec::new(), b("-77")]), Some(far + 1)),
        e(0, b"list-big", RdbValue::List(words(3000, 12)), None),
        e(0, b"list-plain", RdbValue::List(vec![b("x"), b(&long), b("y")]), None),
        e(0, b"intset", RdbValue::Set(nums(50)), None),
        e(0, b"set-big-int", RdbValue::Set(nums(600)), None),
        e(0, b"set-str", RdbValue::Set(vec![b("a"), b("b"), b(&long)]), None),
        e(0, b"hash-small", RdbValue::Hash(vec![(b("f"), b("v")), (b("n"), b("12")), (b(""), b(""))]), None),
        e(0, b"hash-big", RdbValue::Hash(words(600, 5).into_iter().zip(words(600, 40)).collect()), None),
        e(
            0,
            b"zset-small",
            RdbValue::ZSet(vec![
                (b("a"), 1.5),
                (b("b"), -2.0),
                (b("inf"), f64::INFINITY),
                (b("ninf"), f64::NEG_INFINITY),
                (b("tiny"), 1e-300),
            ]),
            None,
        ),
        e(
            0,
            b"zset-big",
            RdbValue::ZSet(words(300, 8).into_iter().enumerate().map(|(i, w)| (w, i as f64 / 3.0)).collect()),
            Some(far + 2),
        ),
        e(1, b"db1-str", RdbValue::String(b("one")), Some(far + 3)),
        e(1, b"db1-hash", RdbValue::Hash(vec![(b("k"), b("v"))]), None),
        e(3, b"db3-list", RdbValue::List(vec![b("z")]), None),
    ]
    .into_iter()
    .map(|mut en| {
        en.value = normalize(en.value);
        en
    })
    .collect()
}

/// Creates `entry` in Redis with ordinary commands.
fn populate(c: &mut Conn, en: &RdbEntry) {
    c.ok(&[b"SELECT".to_vec(), b(en.db.to_string())]);
    let k = en.key.clone();
    let batch = |c: &mut Conn, head: &[&[u8]], items: Vec<Vec<u8>>| {
        for chunk in items.chunks(200) {
            let mut args: Vec<Vec<u8>> = head.iter().map(|h| h.to_vec()).collect();
            args.push(k.clone());
            args.extend(chunk.iter().cloned());
            c.ok(&args);
        }
    };
    match &en.value {
        RdbValue::String(s) => c.ok(&[b"SET".to_vec(), k.clone(), s.clone()]),
        RdbValue::List(l) => batch(c, &[b"RPUSH"], l.clone()),
        RdbValue::Set(s) => batch(c, &[b"SADD"], s.clone()),
        RdbValue::Hash(h) => batch(c, &[b"HSET"], h.iter().flat_map(|(f, v)| [f.clone(), v.clone()]).collect()),
        RdbValue::ZSet(z) => {
            let score = |s: f64| {
                b(if s.is_infinite() {
                    if s > 0.0 {
                        "+inf".into()
                    } else {
                        "-inf".into()
                    }
                } else {
                    format!("{s:?}")
                })
            };
            batch(c, &[b"ZADD"], z.iter().flat_map(|(m, s)| [score(*s), m.clone()]).collect())
        }
        RdbValue::Stream(_) => unreachable!("no streams generated here: tests/streams.rs covers them"),
    }
    if let Some(ms) = en.expire_ms {
        c.ok(&[b"PEXPIREAT".to_vec(), k, b(ms.to_string())]);
    }
}

/// Asserts Redis holds exactly `want` (values, expiries, db sizes).
fn verify_in_redis(c: &mut Conn, want: &[RdbEntry]) {
    let mut per_db: BTreeMap<usize, i64> = BTreeMap::new();
    for en in want {
        *per_db.entry(en.db).or_default() += 1;
        c.ok(&[b"SELECT".to_vec(), b(en.db.to_string())]);
        assert_eq!(c.fetch(&en.key), en.value, "key {:?}", String::from_utf8_lossy(&en.key));
        let exp = c.cmd(&[&b"PEXPIRETIME"[..], &en.key]).int();
        assert_eq!(exp, en.expire_ms.unwrap_or(-1), "expiry of {:?}", String::from_utf8_lossy(&en.key));
    }
    for (db, n) in per_db {
        c.ok(&[b"SELECT".to_vec(), b(db.to_string())]);
        assert_eq!(c.cmd(&["DBSIZE"]).int(), n, "db {db}");
    }
}

/// Reads a file with our reader; returns the entries (normalized) and the
/// set of RDB type bytes seen.
fn read_file(path: &Path) -> (Vec<RdbEntry>, BTreeSet<u8>) {
    let mut r = RdbReader::new(BufReader::new(File::open(path).unwrap())).unwrap();
    let mut entries = Vec::new();
    let mut types = BTreeSet::new();
    while let Some(mut en) = r.next_entry().unwrap() {
        types.insert(r.last_type().unwrap());
        en.value = normalize(en.value);
        entries.push(en);
    }
    assert!(r.checksum().unwrap() != 0);
    assert!(r.aux().iter().any(|(k, v)| k == b"redis-ver" && v == b"7.0.15"));
    (entries, types)
}

fn sorted(mut v: Vec<RdbEntry>) -> Vec<RdbEntry> {
    v.sort_by(|a, b| (a.db, &a.key).cmp(&(b.db, &b.key)));
    v
}

#[test]
fn redis_dump_reads_back_exactly() {
    if !redis_available() {
        return;
    }
    let dir = temp_dir("from-redis");
    let want = dataset();
    {
        let server = Server::start(&dir, "dump.rdb");
        let mut c = server.conn();
        // Makes the long list element a PLAIN quicklist node.
        c.ok(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000"]);
        for en in &want {
            populate(&mut c, en);
        }
        verify_in_redis(&mut c, &want);
        assert_eq!(c.cmd(&["SAVE"]), Reply::Simple("OK".into()));
    }
    let (got, types) = read_file(&dir.join("dump.rdb"));
    assert_eq!(sorted(got), sorted(want));
    // string, set, hash, zset2, intset, hash/zset listpack, quicklist2
    assert_eq!(types, BTreeSet::from([0, 2, 4, 5, 11, 16, 17, 18]));
    let report = check_rdb(dir.join("dump.rdb")).unwrap();
    assert_eq!(report.dbs.keys().copied().collect::<Vec<_>>(), [0, 1, 3]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn our_dump_loads_in_redis() {
    if !redis_available() {
        return;
    }
    let dir = temp_dir("to-redis");
    let path = dir.join("forkv.rdb");
    let want = dataset();
    let mut w = RdbWriter::new(BufWriter::new(File::create(&path).unwrap()));
    w.write_header(1_700_000_000, 1 << 20, false).unwrap();
    for db in [0, 1, 3] {
        let keys: Vec<_> = want.iter().filter(|e| e.db == db).collect();
        let expires = keys.iter().filter(|e| e.expire_ms.is_some()).count();
        w.select_db(db, keys.len() as u64, expires as u64).unwrap();
        for en in keys {
            w.write_value(&en.key, en.expire_ms, &en.value).unwrap();
        }
    }
    w.finish().unwrap();

    let check = Command::new("redis-check-rdb").arg(&path).output().unwrap();
    assert!(check.status.success(), "redis-check-rdb failed:\n{}", String::from_utf8_lossy(&check.stdout));
    {
        let server = Server::start(&dir, "forkv.rdb");
        let mut c = server.conn();
        verify_in_redis(&mut c, &want);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
