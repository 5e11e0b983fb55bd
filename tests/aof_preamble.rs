//! AOF rewrites with an RDB preamble (aof-use-rdb-preamble, yes by default):
//! BGREWRITEAOF writes the dataset in RDB format, the commands logged during
//! and after the rewrite follow it, and the file loads back after a SIGKILL;
//! with `no` the rewrite writes commands, and CONFIG SET switches it live.

mod aof_support;
mod common;

use aof_support::{
    assert_same, contains, dump, info, info_field, wait_rewrite_done, write_every_type, EVERY_TYPE_KEYS,
};
use common::Server;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

fn aof(server: &Server) -> Vec<u8> {
    std::fs::read(server.path("appendonly.aof")).unwrap()
}

/// Keys in db 3, outside what `dump` compares (key by key, slow): enough
/// that the rewrite child runs for a while.
const BULK: u64 = 200_000;
const BULK_DB: &str = "3";

fn bulk_value(i: u64) -> String {
    format!("{i:0>40}")
}

fn write_bulk(con: &mut redis::Connection) {
    redis::cmd("SELECT").arg(BULK_DB).query::<()>(con).unwrap();
    for chunk in 0..BULK / 1000 {
        let mut mset = redis::cmd("MSET");
        for i in chunk * 1000..(chunk + 1) * 1000 {
            mset.arg(format!("bulk:{i}")).arg(bulk_value(i));
        }
        mset.query::<()>(con).unwrap();
    }
    redis::cmd("SELECT").arg(0).query::<()>(con).unwrap();
}

fn assert_bulk(con: &mut redis::Connection) {
    redis::cmd("SELECT").arg(BULK_DB).query::<()>(con).unwrap();
    assert_eq!(redis::cmd("DBSIZE").query::<u64>(con).unwrap(), BULK);
    for i in [0, BULK / 2, BULK - 1] {
        let got: String = redis::cmd("GET").arg(format!("bulk:{i}")).query(con).unwrap();
        assert_eq!(got, bulk_value(i));
    }
    redis::cmd("SELECT").arg(0).query::<()>(con).unwrap();
}

/// SETs `during:<n>` in a loop; `acked` counts the acknowledged ones, so
/// `during:<acked>` is the next key to be written.
fn spawn_writer(url: String, stop: Arc<AtomicBool>, acked: Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
        while !stop.load(Ordering::Relaxed) {
            let n = acked.load(Ordering::Relaxed);
            let _: () = redis::cmd("SET").arg(format!("during:{n}")).arg(n).query(&mut con).unwrap();
            let _: i64 = redis::cmd("RPUSH").arg("during:list").arg(n).query(&mut con).unwrap();
            acked.store(n + 1, Ordering::Relaxed);
        }
    })
}

#[test]
fn bgrewriteaof_writes_an_rdb_preamble_followed_by_the_commands_since_the_fork() {
    let mut server = Server::start_with(&["--appendonly", "yes", "--save", ""]);
    let mut con = server.client();
    write_every_type(&mut con, "base");
    write_bulk(&mut con);

    let (stop, acked) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let writer = spawn_writer(server.url(), stop.clone(), acked.clone());
    while acked.load(Ordering::Relaxed) < 10 {
        std::thread::yield_now();
    }
    let started: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    assert!(started.contains("rewriting started"), "{started}");
    // The child forked before the reply: `during:<n>` for n > fork_bound is
    // written after the fork (n == fork_bound may have been under way).
    let fork_bound = acked.load(Ordering::Relaxed);
    let mut during = fork_bound;
    loop {
        let seen = acked.load(Ordering::Relaxed);
        if info_field(&mut con, "aof_rewrite_in_progress") == "0" {
            break;
        }
        during = seen;
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    wait_rewrite_done(&mut con);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(during >= fork_bound + 2, "too few writes acknowledged while the child ran: {fork_bound} -> {during}");
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");

    let file = aof(&server);
    assert!(file.starts_with(b"REDIS0010"), "the rewritten AOF starts with {:?}", &file[..9.min(file.len())]);
    let preamble = forkv::rdb::check_rdb(server.path("appendonly.aof")).expect("the preamble is a valid RDB");
    assert!(preamble.aux.contains(&("aof-base".into(), "1".into())), "{:?}", preamble.aux);
    // Everything written before the rewrite: the bulk, the typed keys,
    // during:0..10 and during:list at least, nothing after the fork.
    let base_keys = BULK + 3 * EVERY_TYPE_KEYS;
    let keys: u64 = preamble.dbs.values().map(|d| d.keys).sum();
    assert!((base_keys + 11..=base_keys + fork_bound + 2).contains(&keys), "{keys} keys in the preamble");
    let base: u64 = info_field(&mut con, "aof_base_size").parse().unwrap();
    assert_eq!(base, preamble.bytes, "aof_base_size is the preamble's size");
    // The commands logged since the fork follow the preamble.
    let tail = &file[preamble.bytes as usize..];
    assert!(tail.starts_with(b"*2\r\n$6\r\nSELECT\r\n"), "{:?}", String::from_utf8_lossy(&tail[..40.min(tail.len())]));
    let first_after_fork = format!("during:{}\r\n", fork_bound + 1);
    assert!(contains(tail, first_after_fork.as_bytes()), "the tail lacks {first_after_fork}");

    // Writes after the rewrite are appended after the tail.
    write_every_type(&mut con, "after");
    redis::cmd("DEL").arg("base:set").query::<i64>(&mut con).unwrap();
    redis::cmd("SELECT").arg(2).query::<()>(&mut con).unwrap();
    redis::cmd("LPOP").arg("base:biglist").query::<String>(&mut con).unwrap();
    redis::cmd("PERSIST").arg("base:biglist").query::<i64>(&mut con).unwrap();
    redis::cmd("SELECT").arg(0).query::<()>(&mut con).unwrap();
    let report = forkv::aof::reader::check_file(&server.path("appendonly.aof"), false).unwrap();
    assert_eq!(report.preamble.map(|p| p.bytes), Some(preamble.bytes));
    assert!(report.error.is_none(), "{:?}", report.error);
    assert!(contains(&aof(&server)[preamble.bytes as usize..], b"after:bigzset"));

    let before = dump(&mut con, 3);
    let written = acked.load(Ordering::Relaxed) + 1; // during:<n> and during:list
    assert_eq!(before.len() as u64, 2 * 3 * EVERY_TYPE_KEYS - 1 + written);
    drop(con);
    server.kill(); // everysec acknowledges written records; a process kill keeps the page cache
    server.spawn();
    let mut con = server.client();
    assert_same(&before, &dump(&mut con, 3), "the preamble AOF after SIGKILL");
    assert_bulk(&mut con);
    let log = server.log();
    assert!(log.contains("starts with an RDB preamble") && log.contains("reading the remaining AOF tail"), "{log}");
}

#[test]
fn with_the_preamble_off_the_rewrite_writes_commands_and_config_set_turns_it_on() {
    let mut server = Server::start_with(&["--appendonly", "yes", "--save", "", "--aof-use-rdb-preamble", "no"]);
    let mut con = server.client();
    write_every_type(&mut con, "k");
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_rewrite_done(&mut con);
    let file = aof(&server);
    assert!(file.starts_with(b"*2\r\n$6\r\nSELECT\r\n"), "{:?}", String::from_utf8_lossy(&file[..40]));
    assert!(contains(&file, b"PEXPIREAT") && !contains(&file, b"REDIS00"), "a command rewrite");
    let report = forkv::aof::reader::check_file(&server.path("appendonly.aof"), false).unwrap();
    assert!(report.preamble.is_none() && report.error.is_none());

    let _: () = redis::cmd("CONFIG").arg("SET").arg("aof-use-rdb-preamble").arg("yes").query(&mut con).unwrap();
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_rewrite_done(&mut con);
    assert!(aof(&server).starts_with(b"REDIS"), "the next rewrite has a preamble");
    assert_eq!(info(&mut con, "persistence")["aof_rewrites"], "2");
    write_every_type(&mut con, "later");
    let before = dump(&mut con, 3);
    drop(con);
    assert!(server.stop().success());
    server.spawn();
    let mut con = server.client();
    assert_same(&before, &dump(&mut con, 3), "after switching to a preamble and restarting");
}

#[test]
fn keys_that_expire_after_the_rewrite_are_kept_for_the_commands_after_the_preamble() {
    // As Redis: a preamble's keys load even if expired by now, since the
    // commands after it may act on them; they expire once loaded otherwise.
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let mut con = server.client();
    let set_at = std::time::Instant::now();
    for key in ["persisted", "src", "gone"] {
        redis::cmd("SET").arg(key).arg(format!("{key}-value")).arg("PX").arg(3000).query::<()>(&mut con).unwrap();
    }
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_rewrite_done(&mut con);
    assert!(aof(&server).starts_with(b"REDIS"));
    assert_eq!(redis::cmd("PERSIST").arg("persisted").query::<i64>(&mut con).unwrap(), 1);
    redis::cmd("RENAME").arg("src").arg("dst").query::<()>(&mut con).unwrap();
    assert_eq!(redis::cmd("PERSIST").arg("dst").query::<i64>(&mut con).unwrap(), 1);
    assert!(set_at.elapsed() < std::time::Duration::from_millis(2500), "too slow to test before the expiry");
    drop(con);
    server.kill();
    std::thread::sleep(std::time::Duration::from_millis(3200).saturating_sub(set_at.elapsed()));
    server.spawn();
    let mut con = server.client();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for (key, value) in [("persisted", "persisted-value"), ("dst", "src-value")] {
        assert_eq!(redis::cmd("GET").arg(key).query::<Option<String>>(&mut con).unwrap().as_deref(), Some(value));
        assert_eq!(redis::cmd("PTTL").arg(key).query::<i64>(&mut con).unwrap(), -1, "{key}");
    }
}
