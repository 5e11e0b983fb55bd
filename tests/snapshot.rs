//! Fork-based snapshots end to end (issue 4): the real binary, real files on
//! disk, clients on 127.0.0.1. Every loop is bounded in count and time.

mod common;

use common::{normalize, Server};
use forkv::rdb::{RdbEntry, RdbReader, RdbValue, RdbWriter};
use nix::sys::signal::Signal;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers

fn info_map(con: &mut redis::Connection) -> BTreeMap<String, String> {
    let text: String = redis::cmd("INFO").arg("everything").query(con).unwrap();
    text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.to_string(), v.trim().to_string())).collect()
}

fn info_field(con: &mut redis::Connection, field: &str) -> String {
    info_map(con).remove(field).unwrap_or_else(|| panic!("INFO has no {field}"))
}

fn info_u64(con: &mut redis::Connection, field: &str) -> u64 {
    info_field(con, field).parse().unwrap_or_else(|_| panic!("INFO {field} is not a number"))
}

/// Polls `cond` every 10 ms until it holds; panics with `what` after `limit`.
fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until no background save runs and `rdb_saves` exceeds `saves_before`.
fn wait_saved(con: &mut redis::Connection, saves_before: u64) {
    wait_until(Duration::from_secs(120), "the background save to finish", || {
        let m = info_map(con);
        m["rdb_bgsave_in_progress"] == "0" && m["rdb_saves"].parse::<u64>().unwrap() > saves_before
    });
}

/// Waits until no background save runs.
fn wait_no_bgsave(con: &mut redis::Connection) {
    wait_until(Duration::from_secs(120), "no background save running", || {
        info_field(con, "rdb_bgsave_in_progress") == "0"
    });
}

fn read_dump(path: &Path) -> Vec<RdbEntry> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut reader = RdbReader::new(BufReader::new(file)).expect("dump header");
    let mut out = Vec::new();
    while let Some(entry) = reader.next_entry().expect("dump entry") {
        out.push(entry);
    }
    out
}

type Dataset = BTreeMap<(usize, Vec<u8>), (RdbValue, Option<i64>)>;

fn as_dataset(entries: Vec<RdbEntry>) -> Dataset {
    entries.into_iter().map(|e| ((e.db, e.key), (normalize(e.value), e.expire_ms))).collect()
}

/// Children of `pid` (any of its threads), from /proc.
fn children_of(pid: u32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return out };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(text.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    out
}

/// Processes in state Z whose parent is `pid`.
fn zombies_of(pid: u32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() >= 2 && fields[0] == "Z" && fields[1] == pid.to_string() {
            out.push(child);
        }
    }
    out
}

fn temp_rdbs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("temp-") && n.ends_with(".rdb"))
        .collect()
}

fn set(con: &mut redis::Connection, key: &str, value: &str) {
    let _: () = redis::cmd("SET").arg(key).arg(value).query(con).unwrap();
}

/// DEBUG POPULATE; a debug build filling 2M keys beside three other tests
/// on two cores can take longer than the client's usual 30 s read timeout.
fn populate(con: &mut redis::Connection, count: u64, prefix: &str, size: u64) {
    con.set_read_timeout(Some(Duration::from_secs(180))).unwrap();
    let _: () = redis::cmd("DEBUG").arg("POPULATE").arg(count).arg(prefix).arg(size).query(con).unwrap();
    con.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
}

fn bgsave(con: &mut redis::Connection) -> String {
    redis::cmd("BGSAVE").query(con).unwrap()
}

/// Sends `cmds` (inline commands) in one write and reads `n` reply lines.
fn pipeline_lines(server: &Server, cmds: &[&str]) -> Vec<String> {
    let mut s = server.raw();
    let text: String = cmds.iter().map(|c| format!("{c}\r\n")).collect();
    s.write_all(text.as_bytes()).unwrap();
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    let start = Instant::now();
    while lines.len() < cmds.len() && start.elapsed() < Duration::from_secs(30) {
        buf.extend(common::read_some(&mut s));
        lines = String::from_utf8_lossy(&buf).split("\r\n").filter(|l| !l.is_empty()).map(String::from).collect();
    }
    assert_eq!(lines.len(), cmds.len(), "replies to {cmds:?}: {lines:?}");
    lines
}

/// Runs the forkv binary in the foreground (for startups that must fail);
/// returns its exit status and what it logged.
fn run_forkv(dir: &Path, args: &[&str], limit: Duration) -> (std::process::ExitStatus, String) {
    let log_path = dir.join("failed-start.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = common::forkv_command(dir, common::free_port(), args, log).spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("forkv kept running with a bad dump: {}", std::fs::read_to_string(&log_path).unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, std::fs::read_to_string(&log_path).unwrap())
}

fn check_rdb(path: &Path) -> (i32, String) {
    let out = Command::new(common::binary()).arg("check-rdb").arg(path).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

// ---------------------------------------------------------------- tests

/// One client writes k1, k2, … in order as fast as it can, two others write
/// elsewhere; every BGSAVE holds exactly k1..kM, with M between what was
/// acknowledged before BGSAVE was sent and what could be in flight after its
/// reply. The server restarted on the last dump holds the same prefix.
#[test]
fn bgsave_under_concurrent_writes_holds_a_prefix() {
    let mut server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let mut admin = server.client();
    populate(&mut admin, 100_000, "base", 32);

    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut threads = Vec::new();
    {
        let (mut con, acked, stop) = (server.client(), acked.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut i = 1u64;
            while !stop.load(Ordering::SeqCst) && i <= 5_000_000 && Instant::now() < deadline {
                let _: () = redis::cmd("SET").arg(format!("k{i}")).arg(i).query(&mut con).unwrap();
                acked.store(i, Ordering::SeqCst);
                i += 1;
            }
        }));
    }
    for t in 0..2 {
        let (mut con, stop) = (server.client(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) && n < 5_000_000 && Instant::now() < deadline {
                let _: () = redis::cmd("SET").arg(format!("other:{t}:{}", n % 5000)).arg(n).query(&mut con).unwrap();
                let _: i64 = redis::cmd("INCR").arg(format!("counter:{t}")).query(&mut con).unwrap();
                n += 1;
            }
        }));
    }
    wait_until(Duration::from_secs(30), "the writer to get going", || acked.load(Ordering::SeqCst) >= 2000);

    let mut last_m = 0;
    for round in 0..4 {
        let saves = info_u64(&mut admin, "rdb_saves");
        let before = acked.load(Ordering::SeqCst);
        assert_eq!(bgsave(&mut admin), "Background saving started");
        // The writer has at most one SET in flight beyond what it recorded.
        let after = acked.load(Ordering::SeqCst) + 1;
        wait_saved(&mut admin, saves);
        let dump = read_dump(&server.path("dump.rdb"));
        let ks: BTreeSet<u64> = dump
            .iter()
            .filter_map(|e| e.key.strip_prefix(b"k"))
            .map(|rest| std::str::from_utf8(rest).unwrap().parse::<u64>().unwrap())
            .collect();
        let m = ks.iter().next_back().copied().unwrap_or(0);
        assert_eq!(ks.len() as u64, m, "round {round}: the dump has holes among k1..k{m}");
        assert!(
            m >= before && m <= after,
            "round {round}: k1..k{m} saved, acked {before} before BGSAVE, {after} after"
        );
        for e in dump.iter().filter(|e| e.key.starts_with(b"k")) {
            assert_eq!(e.value, RdbValue::String(e.key[1..].to_vec()), "value of a k key");
        }
        assert!(dump.iter().filter(|e| e.key.starts_with(b"base:")).count() == 100_000);
        assert!(m > last_m, "round {round}: the writer made no progress");
        last_m = m;
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }

    // Restart on the last dump (SIGKILL: no final save) and look at the prefix.
    server.kill();
    server.spawn();
    let mut con = server.client();
    for chunk in (1..=last_m).collect::<Vec<_>>().chunks(1000) {
        let mut cmd = redis::cmd("EXISTS");
        for i in chunk {
            cmd.arg(format!("k{i}"));
        }
        let n: usize = cmd.query(&mut con).unwrap();
        assert_eq!(n, chunk.len(), "keys k{}..k{} after restart", chunk[0], chunk[chunk.len() - 1]);
    }
    let next: i64 = redis::cmd("EXISTS").arg(format!("k{}", last_m + 1)).query(&mut con).unwrap();
    assert_eq!(next, 0, "k{} was not in the dump", last_m + 1);
}

/// SIGUSR1 writes a new dump while a client keeps getting answers.
#[test]
fn sigusr1_saves_without_interrupting_clients() {
    let server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let mut admin = server.client();
    populate(&mut admin, 1_000_000, "key", 64);
    let lastsave0: i64 = redis::cmd("LASTSAVE").query(&mut admin).unwrap();
    let saves0 = info_u64(&mut admin, "rdb_saves");
    // LASTSAVE has one-second resolution.
    std::thread::sleep(Duration::from_millis(1100));

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let looper = {
        let (mut con, stop, answered) = (server.client(), stop.clone(), answered.clone());
        std::thread::spawn(move || {
            let mut max_gap = Duration::ZERO;
            let mut last = Instant::now();
            let start = Instant::now();
            while !stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(120) {
                let n: u64 = redis::cmd("INCR").arg("ticks").query(&mut con).expect("INCR during the save");
                answered.store(n, Ordering::SeqCst);
                max_gap = max_gap.max(last.elapsed());
                last = Instant::now();
            }
            max_gap
        })
    };
    wait_until(Duration::from_secs(10), "the client loop", || answered.load(Ordering::SeqCst) > 100);

    server.signal(Signal::SIGUSR1);
    // Answers keep coming while the child runs.
    let mut during = Vec::new();
    wait_until(Duration::from_secs(120), "the SIGUSR1 save", || {
        let m = info_map(&mut admin);
        if m["rdb_bgsave_in_progress"] == "1" {
            during.push(answered.load(Ordering::SeqCst));
        }
        m["rdb_bgsave_in_progress"] == "0" && m["rdb_saves"].parse::<u64>().unwrap() == saves0 + 1
    });
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::SeqCst);
    let max_gap = looper.join().unwrap();

    assert!(during.len() >= 2, "the save ran too briefly to watch: {during:?}");
    assert!(during[during.len() - 1] > during[0], "no answers while the child ran: {during:?}");
    assert!(max_gap < Duration::from_secs(1), "a client waited {max_gap:?} for an answer");
    let lastsave: i64 = redis::cmd("LASTSAVE").query(&mut admin).unwrap();
    assert!(lastsave > lastsave0, "LASTSAVE {lastsave} did not advance from {lastsave0}");
    let log = server.log();
    assert!(log.contains("Received SIGUSR1"), "log:\n{log}");
    assert!(log.contains("Background saving terminated with success"), "log:\n{log}");
    let dump = read_dump(&server.path("dump.rdb"));
    assert!(dump.iter().filter(|e| e.key.starts_with(b"key:")).count() == 1_000_000);
    assert!(temp_rdbs(server.dir.path()).is_empty());
}

/// Every type, several dbs and TTLs survive a restart: keys that expired
/// while the server was down are gone, the others keep their deadline.
#[test]
fn restart_loads_types_dbs_and_ttls() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    server.kill();
    let now = forkv::util::now_ms();
    let far = now + 3_600_000;
    let soon = now + 1500;
    let b = |s: &str| s.as_bytes().to_vec();
    let e = |db: usize, key: &str, value: RdbValue, expire_ms: Option<i64>| RdbEntry {
        db,
        key: key.as_bytes().to_vec(),
        value,
        expire_ms,
    };
    let entries = vec![
        e(0, "str", RdbValue::String(b("hello")), None),
        e(0, "int", RdbValue::String(b("12345")), Some(far)),
        e(0, "list", RdbValue::List(vec![b("a"), b("b"), b("c")]), Some(far + 1)),
        e(0, "gone-str", RdbValue::String(b("bye")), Some(soon)),
        e(0, "past", RdbValue::String(b("long gone")), Some(now - 10_000)),
        e(2, "set", RdbValue::Set(vec![b("1"), b("2"), b("x")]), None),
        e(2, "hash", RdbValue::Hash(vec![(b("f"), b("v")), (b("g"), b("w"))]), Some(far + 2)),
        e(2, "gone-hash", RdbValue::Hash(vec![(b("f"), b("v"))]), Some(soon)),
        e(15, "zset", RdbValue::ZSet(vec![(b("m"), 1.5), (b("n"), -2.0)]), Some(far + 3)),
        e(15, "bigset", RdbValue::Set((0..1000).map(|i| b(&format!("member-{i}"))).collect()), None),
        e(15, "biglist", RdbValue::List((0..1000).map(|i| b(&i.to_string())).collect()), None),
        e(15, "gone-zset", RdbValue::ZSet(vec![(b("m"), 1.0)]), Some(soon)),
    ];
    {
        let file = std::fs::File::create(server.path("dump.rdb")).unwrap();
        let mut w = RdbWriter::new(std::io::BufWriter::new(file));
        w.write_header(now / 1000, 0, false).unwrap();
        let mut by_db: BTreeMap<usize, Vec<&RdbEntry>> = BTreeMap::new();
        for en in &entries {
            by_db.entry(en.db).or_default().push(en);
        }
        for (db, list) in by_db {
            let expires = list.iter().filter(|e| e.expire_ms.is_some()).count();
            w.select_db(db, list.len() as u64, expires as u64).unwrap();
            for en in list {
                w.write_value(&en.key, en.expire_ms, &en.value).unwrap();
            }
        }
        let (mut out, _) = w.finish().unwrap();
        out.flush().unwrap();
    }
    // Let the short TTLs run out while the server is down.
    std::thread::sleep(Duration::from_millis((soon - forkv::util::now_ms()).max(0) as u64 + 200));
    server.spawn();

    let mut con = server.client();
    let want: Vec<&RdbEntry> = entries.iter().filter(|e| !e.key.starts_with(b"gone-") && e.key != b"past").collect();
    for (db, n) in [(0, 3), (2, 2), (15, 3)] {
        let _: () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
        let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(size, n, "db {db}");
    }
    for en in &entries {
        let _: () = redis::cmd("SELECT").arg(en.db).query(&mut con).unwrap();
        let exists: i64 = redis::cmd("EXISTS").arg(&en.key).query(&mut con).unwrap();
        let key = String::from_utf8_lossy(&en.key);
        if !want.iter().any(|w| w.db == en.db && w.key == en.key) {
            assert_eq!(exists, 0, "{key} should have expired");
            continue;
        }
        assert_eq!(exists, 1, "{key} in db {}", en.db);
        let t: String = redis::cmd("TYPE").arg(&en.key).query(&mut con).unwrap();
        let want_type = match en.value {
            RdbValue::String(_) => "string",
            RdbValue::List(_) => "list",
            RdbValue::Set(_) => "set",
            RdbValue::Hash(_) => "hash",
            RdbValue::ZSet(_) => "zset",
            RdbValue::Stream(_) => "stream",
        };
        assert_eq!(t, want_type, "{key}");
        let at: i64 = redis::cmd("PEXPIRETIME").arg(&en.key).query(&mut con).unwrap();
        assert_eq!(at, en.expire_ms.unwrap_or(-1), "deadline of {key}");
        let ttl: i64 = redis::cmd("PTTL").arg(&en.key).query(&mut con).unwrap();
        match en.expire_ms {
            Some(at) => assert!(ttl > 0 && ttl <= at - now, "PTTL {ttl} of {key}"),
            None => assert_eq!(ttl, -1, "{key}"),
        }
        if let RdbValue::String(s) = &en.value {
            let got: Vec<u8> = redis::cmd("GET").arg(&en.key).query(&mut con).unwrap();
            assert_eq!(&got, s, "{key}");
        }
    }
    // Values of every type as forkv holds them: save and read back.
    let _: () = redis::cmd("SAVE").query(&mut con).unwrap();
    let saved = as_dataset(read_dump(&server.path("dump.rdb")));
    let expected = as_dataset(want.into_iter().cloned().collect());
    assert_eq!(saved, expected);
}

/// Saves a small dump, grows the dataset, starts a BGSAVE and kills its
/// child with `sig` mid-save; checks the old dump is kept byte for byte and
/// no temp file is left.
fn kill_save_child_midway(server: &Server, con: &mut redis::Connection, sig: Signal) {
    set(con, "before", "1");
    let _: () = redis::cmd("SAVE").query(con).unwrap();
    let old = std::fs::read(server.path("dump.rdb")).unwrap();
    populate(con, 2_000_000, "big", 100);

    assert_eq!(bgsave(con), "Background saving started");
    let mut kids = Vec::new();
    wait_until(Duration::from_secs(5), "the save child", || {
        kids = children_of(server.pid());
        !kids.is_empty()
    });
    assert_eq!(kids.len(), 1, "children {kids:?}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(kids[0]), sig).unwrap();
    wait_no_bgsave(con);
    // Not assert_eq: a failure would print megabytes of dump.
    assert!(std::fs::read(server.path("dump.rdb")).unwrap() == old, "the old dump changed");
    assert!(temp_rdbs(server.dir.path()).is_empty(), "left: {:?}", temp_rdbs(server.dir.path()));
}

/// SIGUSR1 is Redis's way to stop a save child without an error: the save
/// does not count as failed and writes go on.
#[test]
fn child_stopped_with_sigusr1_is_not_an_error() {
    let server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let mut con = server.client();
    kill_save_child_midway(&server, &mut con, Signal::SIGUSR1);
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "ok");
    set(&mut con, "after", "1");
    server.wait_for_log("SIGUSR1");
}

/// SIGKILL to the child mid-save: the old dump stays byte for byte, no temp
/// file is left, the failure shows in INFO and writes are refused (MISCONF)
/// until a BGSAVE succeeds.
#[test]
fn killed_child_keeps_old_dump_and_refuses_writes_until_a_good_save() {
    let server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let mut con = server.client();
    kill_save_child_midway(&server, &mut con, Signal::SIGKILL);

    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "err");
    let err = redis::cmd("SET").arg("after").arg("1").query::<()>(&mut con).unwrap_err();
    assert_eq!(err.code(), Some("MISCONF"), "{err}");
    assert!(
        err.to_string().contains("Redis is configured to save RDB snapshots, but it's currently unable to persist"),
        "{err}"
    );
    let got: String = redis::cmd("GET").arg("before").query(&mut con).unwrap();
    assert_eq!(got, "1", "reads still work");
    server.wait_for_log("terminated by signal");
    assert!(zombies_of(server.pid()).is_empty());

    let saves = info_u64(&mut con, "rdb_saves");
    assert_eq!(bgsave(&mut con), "Background saving started");
    wait_saved(&mut con, saves);
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "ok");
    set(&mut con, "after", "1");
}

/// FLUSHALL with save points empties the dump at once, as Redis does: a
/// restart, even after SIGKILL, cannot bring the flushed keys back — also
/// when a BGSAVE of those keys was running (it is killed before it can
/// rename its snapshot over the empty one), and also with the AOF off.
#[test]
fn flushall_empties_the_dump_and_stops_a_running_save() {
    let mut server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let mut con = server.client();
    set(&mut con, "a", "1");
    let _: () = redis::cmd("SAVE").query(&mut con).unwrap();
    let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    assert_eq!(info_u64(&mut con, "rdb_changes_since_last_save"), 0);
    assert!(read_dump(&server.path("dump.rdb")).is_empty(), "the dump still holds keys");

    populate(&mut con, 2_000_000, "big", 100);
    assert_eq!(bgsave(&mut con), "Background saving started");
    let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    assert_eq!(info_field(&mut con, "rdb_bgsave_in_progress"), "0");
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "ok");
    assert!(children_of(server.pid()).is_empty(), "the save child still runs");
    assert!(temp_rdbs(server.dir.path()).is_empty(), "left: {:?}", temp_rdbs(server.dir.path()));
    server.wait_for_log("killed by FLUSHALL");
    // The next save works and its end is reported as usual.
    set(&mut con, "b", "2");
    let saves = info_u64(&mut con, "rdb_saves");
    assert_eq!(bgsave(&mut con), "Background saving started");
    wait_saved(&mut con, saves);
    server.kill();
    server.spawn();
    let mut con = server.client();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    assert_eq!(keys, ["b"]);
}

/// Fifty background saves leave no zombie behind.
#[test]
fn no_zombies_after_fifty_bgsaves() {
    let server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut con = server.client();
    populate(&mut con, 1000, "key", 10);
    for i in 0..50 {
        set(&mut con, "round", &i.to_string());
        assert_eq!(bgsave(&mut con), "Background saving started");
        wait_saved(&mut con, i);
    }
    assert_eq!(info_u64(&mut con, "rdb_saves"), 50);
    // SIGCHLD handling is asynchronous: give a straggler a moment.
    wait_until(Duration::from_secs(5), "the last child to be reaped", || children_of(server.pid()).is_empty());
    assert_eq!(zombies_of(server.pid()), Vec::<i32>::new());
    let dump = read_dump(&server.path("dump.rdb"));
    assert!(dump.iter().any(|e| e.key == b"round" && e.value == RdbValue::String(b"49".to_vec())));
}

/// A second BGSAVE while one runs is refused; BGSAVE during an AOF rewrite
/// is refused, BGSAVE SCHEDULE then runs once the rewrite is done.
#[test]
fn bgsave_conflicts_and_schedule() {
    let server = Server::start_with(&["--save", "", "--appendonly", "yes"]);
    let mut con = server.client();
    populate(&mut con, 500_000, "key", 32);

    let replies = pipeline_lines(&server, &["BGSAVE", "BGSAVE", "BGSAVE SCHEDULE"]);
    assert_eq!(replies[0], "+Background saving started");
    assert_eq!(replies[1], "-ERR Background save already in progress");
    assert_eq!(replies[2], "-ERR Background save already in progress");
    wait_saved(&mut con, 0);

    let rewrites = info_u64(&mut con, "aof_rewrites");
    let replies = pipeline_lines(&server, &["BGREWRITEAOF", "BGSAVE", "BGSAVE SCHEDULE"]);
    assert_eq!(replies[0], "+Background append only file rewriting started");
    assert!(replies[1].starts_with("-ERR Another child process is active"), "{}", replies[1]);
    assert_eq!(replies[2], "+Background saving scheduled");
    // The rewrite ends first, then the scheduled save runs and ends.
    let mut seen_both = false;
    wait_until(Duration::from_secs(120), "the rewrite and the scheduled save", || {
        let m = info_map(&mut con);
        seen_both |= m["aof_rewrite_in_progress"] == "1" && m["rdb_bgsave_in_progress"] == "1";
        m["aof_rewrites"].parse::<u64>().unwrap() > rewrites
            && m["rdb_saves"] == "2"
            && m["rdb_bgsave_in_progress"] == "0"
            && m["aof_rewrite_in_progress"] == "0"
    });
    assert!(!seen_both, "two children ran at once");
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "ok");
}

/// `save 1 1`: one change and a second later a BGSAVE starts by itself.
#[test]
fn save_point_triggers_bgsave() {
    let server = Server::start_with(&["--save", "1 1", "--appendonly", "no"]);
    let mut con = server.client();
    set(&mut con, "auto", "saved");
    wait_saved(&mut con, 0);
    assert_eq!(info_u64(&mut con, "rdb_changes_since_last_save"), 0);
    let dump = read_dump(&server.path("dump.rdb"));
    assert!(dump.iter().any(|e| e.key == b"auto" && e.value == RdbValue::String(b"saved".to_vec())));
}

fn shutdown(server: &mut Server, how: &str) {
    let mut s = server.raw();
    let reply = common::roundtrip(&mut s, format!("{how}\r\n").as_bytes());
    assert!(reply.is_empty() || reply.starts_with(b"+OK"), "{how}: {:?}", String::from_utf8_lossy(&reply));
    let status = server.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{how}: exit {status}; log:\n{}", server.log());
}

#[test]
fn shutdown_save_and_nosave() {
    // No save points: SHUTDOWN SAVE still writes the dump.
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut con = server.client();
    set(&mut con, "a", "1");
    shutdown(&mut server, "SHUTDOWN SAVE");
    let dump = as_dataset(read_dump(&server.path("dump.rdb")));
    assert_eq!(dump.len(), 1);
    assert!(dump.contains_key(&(0, b"a".to_vec())));

    // Save points: SHUTDOWN NOSAVE leaves the dump as it was.
    server.args = ["--save", "3600 1", "--appendonly", "no"].iter().map(|s| s.to_string()).collect();
    server.spawn();
    let mut con = server.client();
    set(&mut con, "b", "2");
    let before = std::fs::read(server.path("dump.rdb")).unwrap();
    shutdown(&mut server, "SHUTDOWN NOSAVE");
    assert_eq!(std::fs::read(server.path("dump.rdb")).unwrap(), before);

    // And plain SHUTDOWN with save points saves.
    server.spawn();
    let mut con = server.client();
    let b: Option<String> = redis::cmd("GET").arg("b").query(&mut con).unwrap();
    assert_eq!(b, None, "NOSAVE dropped b");
    set(&mut con, "c", "3");
    shutdown(&mut server, "SHUTDOWN");
    let dump = as_dataset(read_dump(&server.path("dump.rdb")));
    assert_eq!(dump.keys().map(|k| k.1.clone()).collect::<Vec<_>>(), vec![b"a".to_vec(), b"c".to_vec()]);
}

#[test]
fn sigterm_with_save_points_writes_a_final_snapshot() {
    let mut server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let mut con = server.client();
    set(&mut con, "k", "v");
    let _: () = redis::cmd("SELECT").arg(5).query(&mut con).unwrap();
    let _: () = redis::cmd("SET").arg("t").arg("x").arg("EX").arg(1000).query(&mut con).unwrap();
    let status = server.stop();
    assert!(status.success(), "exit {status}");
    let log = server.log();
    assert!(log.contains("Saving the final RDB snapshot"), "log:\n{log}");
    let dump = as_dataset(read_dump(&server.path("dump.rdb")));
    assert_eq!(dump.len(), 2);
    assert!(dump[&(5, b"t".to_vec())].1.is_some());

    // Without save points SIGTERM writes nothing.
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut con = server.client();
    set(&mut con, "k", "v");
    assert!(server.stop().success());
    assert!(!server.path("dump.rdb").exists());
}

/// A SHUTDOWN whose final save fails answers Redis's error and the server
/// goes on, the client's next command answered in order; SHUTDOWN ABORT
/// (nothing to abort) and illegal flag mixes are refused without a shutdown.
#[test]
fn a_failed_final_save_keeps_the_server_and_answers_the_client() {
    let mut server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let mut s = server.raw();
    for (command, reply) in [
        ("SHUTDOWN ABORT", "-ERR No shutdown in progress.\r\n"),
        ("SHUTDOWN SAVE NOSAVE", "-ERR syntax error\r\n"),
        ("SHUTDOWN ABORT NOW", "-ERR syntax error\r\n"),
        ("SHUTDOWN FORCE ABORT", "-ERR syntax error\r\n"),
    ] {
        let got = common::roundtrip(&mut s, format!("{command}\r\n").as_bytes());
        assert_eq!(String::from_utf8_lossy(&got), reply, "{command}");
    }
    // The dump cannot be written: a directory stands in its place.
    std::fs::create_dir(server.path("dump.rdb")).unwrap();
    let got = common::roundtrip(&mut s, b"SET k v\r\nSHUTDOWN\r\nGET k\r\n");
    assert_eq!(String::from_utf8_lossy(&got), "+OK\r\n-ERR Errors trying to SHUTDOWN. Check logs.\r\n$1\r\nv\r\n");
    assert!(server.is_running());
    server.wait_for_log("can't exit");
    std::fs::remove_dir(server.path("dump.rdb")).unwrap();
    shutdown(&mut server, "SHUTDOWN");
    assert_eq!(as_dataset(read_dump(&server.path("dump.rdb"))).len(), 1);
}

/// rdb_changes_since_last_save drops by what the snapshot covered; writes
/// made while the child ran stay counted. COW and fork time are reported.
#[test]
fn changes_since_last_save_cow_and_fork_time() {
    let server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let mut con = server.client();
    populate(&mut con, 1_000_000, "key", 64);
    for i in 0..10 {
        set(&mut con, &format!("pre{i}"), "x");
    }
    assert!(info_u64(&mut con, "rdb_changes_since_last_save") >= 10);
    let mut cmds = vec!["BGSAVE".to_string()];
    // Overwrite many values while the child runs, so pages get copied.
    cmds.extend((0..7).map(|i| format!("SET during{i} y")));
    let cmds: Vec<&str> = cmds.iter().map(String::as_str).collect();
    let replies = pipeline_lines(&server, &cmds);
    assert_eq!(replies[0], "+Background saving started");
    for r in &replies[1..] {
        assert_eq!(r, "+OK");
    }
    let mut overwritten = 0;
    while info_field(&mut con, "rdb_bgsave_in_progress") == "1" && overwritten < 200_000 {
        let mut p = redis::pipe();
        for i in overwritten..overwritten + 1000 {
            p.cmd("APPEND").arg(format!("key:{i}")).arg("z").ignore();
        }
        let _: () = p.query(&mut con).unwrap();
        overwritten += 1000;
    }
    wait_saved(&mut con, 0);
    let m = info_map(&mut con);
    assert_eq!(m["rdb_changes_since_last_save"].parse::<u64>().unwrap(), 7 + overwritten);
    assert!(m["rdb_last_cow_size"].parse::<u64>().unwrap() > 0, "rdb_last_cow_size {}", m["rdb_last_cow_size"]);
    assert!(m["latest_fork_usec"].parse::<u64>().unwrap() > 0, "latest_fork_usec {}", m["latest_fork_usec"]);
    let dump = read_dump(&server.path("dump.rdb"));
    assert!(dump.iter().any(|e| e.key == b"pre9"));
    assert!(!dump.iter().any(|e| e.key.starts_with(b"during")), "writes after the fork are not in the dump");
}

/// A dump holding keys of a db the server is not configured to have stops
/// startup (as Redis): loading it without them would lose data silently.
#[test]
fn dump_with_more_dbs_than_configured_is_refused() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut con = server.client();
    let _: () = redis::cmd("SELECT").arg(10).query(&mut con).unwrap();
    set(&mut con, "in-db-10", "kept");
    let _: () = redis::cmd("SAVE").query(&mut con).unwrap();
    server.kill();
    let dir = server.dir.path().to_path_buf();
    let dump = std::fs::read(dir.join("dump.rdb")).unwrap();
    let (status, log) =
        run_forkv(&dir, &["--save", "", "--appendonly", "no", "--databases", "4"], Duration::from_secs(30));
    assert!(!status.success(), "forkv started without db 10; log:\n{log}");
    assert!(log.contains("more than 4 databases"), "log:\n{log}");
    assert!(!log.contains("Ready to serve data"), "log:\n{log}");
    assert_eq!(std::fs::read(dir.join("dump.rdb")).unwrap(), dump, "the dump is left as it was");
    server.spawn();
    let mut con = server.client();
    let _: () = redis::cmd("SELECT").arg(10).query(&mut con).unwrap();
    let v: String = redis::cmd("GET").arg("in-db-10").query(&mut con).unwrap();
    assert_eq!(v, "kept");
}

/// A truncated or corrupt dump stops startup with a clear message, and
/// check-rdb tells what is wrong.
#[test]
fn corrupt_or_truncated_dump_stops_startup() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut con = server.client();
    populate(&mut con, 5000, "key", 40);
    set(&mut con, "long", &"compressible ".repeat(500));
    let _: () = redis::cmd("SAVE").query(&mut con).unwrap();
    server.kill();
    let dir = server.dir.path().to_path_buf();
    let good = std::fs::read(dir.join("dump.rdb")).unwrap();
    let (code, text) = check_rdb(&dir.join("dump.rdb"));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("looks OK"), "{text}");
    assert!(text.contains("5001 keys"), "{text}");

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x20;
    let mut bad_magic = good.clone();
    bad_magic[..5].copy_from_slice(b"REDIX");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("truncated-checksum", good[..good.len() - 3].to_vec()),
        ("flipped byte", flipped),
        ("bad magic", bad_magic),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        std::fs::write(dir.join("dump.rdb"), &bytes).unwrap();
        let (status, log) = run_forkv(&dir, &["--save", "", "--appendonly", "no"], Duration::from_secs(30));
        assert!(!status.success(), "{what}: forkv started on a bad dump; log:\n{log}");
        assert!(log.contains("dump.rdb"), "{what}: the message names the file; log:\n{log}");
        assert!(!log.contains("Ready to serve data"), "{what}: log:\n{log}");
        let (code, text) = check_rdb(&dir.join("dump.rdb"));
        assert_eq!(code, 1, "{what}: check-rdb said:\n{text}");
        assert!(text.contains("not valid"), "{what}: {text}");
    }
    // The good file still loads.
    std::fs::write(dir.join("dump.rdb"), &good).unwrap();
    server.spawn();
    let mut con = server.client();
    let n: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 5001);
}

/// Kills the wrapped process on drop.
struct Reaper(std::process::Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sets the soft RLIMIT_NPROC of `pid` with util-linux's prlimit, run as the
/// server's own user (lowering and restoring a soft limit up to the hard one
/// needs no privilege; root without CAP_SYS_RESOURCE may not touch another
/// user's process). None when prlimit is missing.
fn set_nproc_soft(pid: u32, uid: Option<u32>, soft: &str) -> Option<()> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("prlimit");
    cmd.arg("--pid").arg(pid.to_string()).arg(format!("--nproc={soft}:"));
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    let out = cmd.output().ok()?;
    assert!(out.status.success(), "prlimit: {}", String::from_utf8_lossy(&out.stderr));
    Some(())
}

/// fork() failing with EAGAIN (RLIMIT_NPROC, which binds only a non-root
/// user, so as root the server runs as uid 65534; skipped with a note when
/// util-linux's prlimit is missing): the client gets an error,
/// the log says why, and the server keeps serving; BGSAVE works again once
/// the limit is lifted.
#[test]
fn fork_failure_is_logged_and_reported() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let log_path = dir.path().join("forkv.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = common::free_port();
    let mut cmd = common::forkv_command(dir.path(), port, &["--save", "", "--appendonly", "no"], log);
    // SAFETY: geteuid has no preconditions.
    let uid = (unsafe { libc::geteuid() } == 0).then_some(65534);
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    let mut child = Reaper(cmd.spawn().unwrap());
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut con = None;
    wait_until(Duration::from_secs(20), "forkv to accept connections", || {
        assert!(child.0.try_wait().unwrap().is_none(), "forkv exited: {}", std::fs::read_to_string(&log_path).unwrap());
        con = client.get_connection_with_timeout(Duration::from_secs(1)).ok();
        con.is_some()
    });
    let mut con = con.unwrap();
    wait_until(Duration::from_secs(20), "PING", || redis::cmd("PING").query::<String>(&mut con).is_ok());
    set(&mut con, "a", "1");

    let hard = std::fs::read_to_string(format!("/proc/{}/limits", child.0.id()))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Max processes"))
        .and_then(|l| l.split_whitespace().nth(3).map(String::from))
        .unwrap();
    if set_nproc_soft(child.0.id(), uid, "1").is_none() {
        eprintln!("note: prlimit not found; skipping the fork failure test");
        return;
    }
    let err = redis::cmd("BGSAVE").query::<String>(&mut con).unwrap_err();
    assert!(err.to_string().contains("fork"), "{err}");
    assert!(err.to_string().contains("EAGAIN") || err.to_string().contains("Resource temporarily"), "{err}");
    let log = || std::fs::read_to_string(&log_path).unwrap();
    wait_until(Duration::from_secs(5), "the fork failure in the log", || log().contains("Can't save in background"));
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "err");
    // Still serving.
    for i in 0..100 {
        set(&mut con, &format!("k{i}"), "v");
    }
    let got: String = redis::cmd("GET").arg("k99").query(&mut con).unwrap();
    assert_eq!(got, "v");
    assert!(!dir.path().join("dump.rdb").exists());

    set_nproc_soft(child.0.id(), uid, &hard).unwrap();
    assert_eq!(bgsave(&mut con), "Background saving started");
    wait_saved(&mut con, 0);
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "ok");
    assert_eq!(read_dump(&dir.path().join("dump.rdb")).len(), 101);
}

/// SHUTDOWN (and SIGTERM) while a save child runs: the child is stopped, the
/// final snapshot holds the latest writes and is not replaced afterwards by
/// the child's older one, and nothing is left behind.
#[test]
fn shutdown_during_bgsave_keeps_the_final_snapshot() {
    for how in ["SHUTDOWN", "SIGTERM"] {
        let mut server = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
        let mut con = server.client();
        populate(&mut con, 1_000_000, "big", 100);
        assert_eq!(bgsave(&mut con), "Background saving started");
        let mut kids = Vec::new();
        wait_until(Duration::from_secs(5), "the save child", || {
            kids = children_of(server.pid());
            !kids.is_empty()
        });
        set(&mut con, "marker", "latest");
        if how == "SHUTDOWN" {
            shutdown(&mut server, "SHUTDOWN");
        } else {
            assert!(server.stop().success(), "log:\n{}", server.log());
        }
        // The child must be gone with the server, not finish later.
        for kid in &kids {
            let alive = Path::new(&format!("/proc/{kid}")).exists()
                && !std::fs::read_to_string(format!("/proc/{kid}/stat")).unwrap_or_default().contains(") Z ");
            assert!(!alive, "{how}: save child {kid} outlived the server");
        }
        // Killed before the final save starts, not concurrently with it.
        let log = server.log();
        let killed = log.find("Killed the running background child").expect("the kill is logged");
        let saving = log.find("Saving the final RDB snapshot").expect("the final save is logged");
        assert!(killed < saving, "{how}: the child still ran during the final save; log:\n{log}");
        std::thread::sleep(Duration::from_millis(500));
        let dump = read_dump(&server.path("dump.rdb"));
        assert!(
            dump.iter().any(|e| e.key == b"marker" && e.value == RdbValue::String(b"latest".to_vec())),
            "{how}: the final snapshot lacks the last write"
        );
        assert!(temp_rdbs(server.dir.path()).is_empty(), "{how}: left {:?}", temp_rdbs(server.dir.path()));
    }
}

#[test]
fn latency_monitor_records_a_fork_that_reaches_the_threshold() {
    let server = Server::start_with(&["--save", "", "--appendonly", "no", "--latency-monitor-threshold", "1"]);
    let mut con = server.client();
    // A dataset big enough that forking it usually takes a millisecond or more.
    populate(&mut con, 1_000_000, "key", 16);
    let saves = info_u64(&mut con, "rdb_saves");
    bgsave(&mut con);
    wait_saved(&mut con, saves);
    let fork_millis = info_u64(&mut con, "latest_fork_usec") / 1000;
    let history: Vec<(i64, i64)> = redis::cmd("LATENCY").arg("HISTORY").arg("fork").query(&mut con).unwrap();
    if fork_millis >= 1 {
        assert_eq!(history.len(), 1, "a {fork_millis} ms fork is a latency event");
        assert_eq!(history[0].1 as u64, fork_millis);
    } else {
        assert!(history.is_empty(), "a fork under 1 ms is not: {history:?}");
    }
}

/// INFO counts the keys a load kept and those it dropped as expired.
#[test]
fn info_reports_keys_loaded_and_expired_at_load() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut con = server.client();
    for i in 0..10 {
        let _: () = redis::cmd("SET").arg(format!("short:{i}")).arg("v").arg("PX").arg(300).query(&mut con).unwrap();
    }
    set(&mut con, "stays", "v");
    let _: () = redis::cmd("SAVE").query(&mut con).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    server.kill();
    server.spawn();
    let mut con = server.client();
    assert_eq!(info_u64(&mut con, "rdb_last_load_keys_expired"), 10);
    assert_eq!(info_u64(&mut con, "rdb_last_load_keys_loaded"), 1);
}
