//! AOF rewrites: BGREWRITEAOF under concurrent writers compacts the file and
//! loses nothing, the automatic rewrite triggers on size, CONFIG SET
//! appendonly yes builds the AOF from the live data, CONFIG SET appendfsync
//! switches the policy, and INFO persistence reports it all.

mod aof_support;
mod common;

use aof_support::{assert_same, contains, dump, info, info_field, wait_rewrite_done, wait_until};
use common::Server;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn aof_size(server: &Server) -> u64 {
    std::fs::metadata(server.path("appendonly.aof")).unwrap().len()
}

/// Many overwrites of few keys, pipelined: a rewrite shrinks this a lot.
fn overwrite(con: &mut redis::Connection, keys: usize, rounds: usize, value_len: usize) {
    for round in 0..rounds {
        let mut pipe = redis::pipe();
        for k in 0..keys {
            let v = format!("{round}:{}", "x".repeat(value_len));
            pipe.cmd("SET").arg(format!("ow:{k}")).arg(v).ignore();
        }
        pipe.cmd("EXPIRE").arg("ow:0").arg(100_000).ignore();
        pipe.query::<()>(con).unwrap();
    }
}

#[test]
fn bgrewriteaof_under_twenty_writers_compacts_and_keeps_every_key() {
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]);
    let mut con = server.client();
    overwrite(&mut con, 100, 200, 200);
    for db in 1..3 {
        redis::cmd("SELECT").arg(db).query::<()>(&mut con).unwrap();
        redis::cmd("SET").arg(format!("db{db}")).arg(db).arg("PX").arg(90_000_000).query::<()>(&mut con).unwrap();
    }
    redis::cmd("SELECT").arg(0).query::<()>(&mut con).unwrap();
    let size_before = aof_size(&server);
    assert!(size_before > 4_000_000, "only {size_before} bytes written");

    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = vec![];
    for t in 0..20 {
        let (url, stop) = (server.url(), stop.clone());
        writers.push(std::thread::spawn(move || {
            let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
            let started = Instant::now();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(20) {
                let _: () = redis::cmd("SET").arg(format!("w{t}:{}", i % 50)).arg(i).query(&mut con).unwrap();
                let _: i64 = redis::cmd("INCR").arg(format!("w{t}:n")).query(&mut con).unwrap();
                if i.is_multiple_of(10) {
                    let _: () =
                        redis::cmd("SET").arg(format!("w{t}:ttl")).arg(i).arg("EX").arg(1000).query(&mut con).unwrap();
                    let _: () = redis::cmd("SET").arg(format!("ow:{}", i % 100)).arg(i).query(&mut con).unwrap();
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            i
        }));
    }
    std::thread::sleep(Duration::from_millis(200));
    let started: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    assert!(started.contains("rewriting started"), "{started}");
    wait_rewrite_done(&mut con);
    std::thread::sleep(Duration::from_millis(300)); // writes after the swap land in the new file
    stop.store(true, Ordering::Relaxed);
    let total: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(total > 100, "writers made only {total} rounds");
    let i = info(&mut con, "persistence");
    assert_eq!(i["aof_last_bgrewrite_status"], "ok");
    assert_eq!(i["aof_rewrites"], "1");
    let size_after = aof_size(&server);
    assert!(size_after < size_before / 4, "rewrite did not compact: {size_before} -> {size_after}");
    let report = forkv::aof::reader::check_file(&server.path("appendonly.aof"), false).unwrap();
    assert!(report.preamble.is_some() && report.error.is_none(), "an RDB preamble, then whole commands");
    server.wait_for_log("rewrite finished successfully");

    let before = dump(&mut con, 3);
    assert!(before.len() > 100 + 20 * 50, "{} keys", before.len());
    drop(con);
    assert!(server.stop().success());
    server.spawn();
    let mut con = server.client();
    assert_same(&before, &dump(&mut con, 3), "after rewrite and restart");
    // No leftover temp files.
    let temps: Vec<_> = std::fs::read_dir(server.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn automatic_rewrite_triggers_on_growth() {
    let mut server = Server::start_with(&[
        "--appendonly",
        "yes",
        "--save",
        "",
        "--auto-aof-rewrite-min-size",
        "200000",
        "--auto-aof-rewrite-percentage",
        "100",
    ]);
    let mut con = server.client();
    let start = Instant::now();
    while info_field(&mut con, "aof_rewrites") == "0" {
        assert!(start.elapsed() < Duration::from_secs(30), "no automatic rewrite; log:\n{}", server.log());
        overwrite(&mut con, 20, 20, 100);
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_rewrite_done(&mut con);
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
    let base: u64 = info_field(&mut con, "aof_base_size").parse().unwrap();
    assert!(base > 0 && base < 200_000, "aof_base_size {base}");
    let before = dump(&mut con, 1);
    drop(con);
    server.kill(); // everysec acknowledges written records; a process kill keeps the page cache
    std::thread::sleep(Duration::from_millis(10));
    server.spawn();
    let mut con = server.client();
    assert_same(&before, &dump(&mut con, 1), "after an automatic rewrite and SIGKILL");
}

#[test]
fn config_set_appendonly_builds_the_aof_and_appendfsync_switches_policy() {
    let mut server = Server::start_with(&["--appendonly", "no", "--save", ""]);
    let mut con = server.client();
    for db in 0..3u32 {
        redis::cmd("SELECT").arg(db).query::<()>(&mut con).unwrap();
        for i in 0..50 {
            redis::cmd("SET").arg(format!("k{i}")).arg(format!("{db}:{i}")).query::<()>(&mut con).unwrap();
        }
        redis::cmd("PEXPIRE").arg("k1").arg(80_000_000).query::<i64>(&mut con).unwrap();
    }
    redis::cmd("SELECT").arg(0).query::<()>(&mut con).unwrap();
    assert!(!server.path("appendonly.aof").exists());
    assert_eq!(info_field(&mut con, "aof_enabled"), "0");

    let _: () = redis::cmd("CONFIG").arg("SET").arg("appendonly").arg("yes").query(&mut con).unwrap();
    wait_until(Duration::from_secs(30), "the AOF to be built", || {
        let i = info(&mut con, "persistence");
        i["aof_rewrites"] == "1" && i["aof_rewrite_in_progress"] == "0"
    });
    // Built as an RDB preamble (aof-use-rdb-preamble yes) holding every key and TTL.
    let built = forkv::rdb::check_rdb(server.path("appendonly.aof")).expect("the AOF starts with an RDB preamble");
    assert!(built.aux.contains(&("aof-base".into(), "1".into())), "{built}");
    for db in 0..3 {
        assert_eq!((built.dbs[&db].keys, built.dbs[&db].expires), (50, 1), "db {db}: {built}");
    }
    let file = std::fs::read(server.path("appendonly.aof")).unwrap();
    assert!(contains(&file[..built.bytes as usize], b"2:49"), "the preamble lacks the value 2:49");
    // Later writes are appended after it.
    redis::cmd("SET").arg("later").arg("1").query::<()>(&mut con).unwrap();
    redis::cmd("INCRBYFLOAT").arg("f").arg("2.5").query::<String>(&mut con).unwrap();
    wait_until(Duration::from_secs(5), "the later write in the file", || {
        let file = std::fs::read(server.path("appendonly.aof")).unwrap();
        contains(&file[built.bytes as usize..], b"later")
    });

    let _: () = redis::cmd("CONFIG").arg("SET").arg("appendfsync").arg("always").query(&mut con).unwrap();
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("appendfsync").query(&mut con).unwrap();
    assert_eq!(got, ["appendfsync", "always"]);
    redis::cmd("SET").arg("synced").arg("yes").query::<()>(&mut con).unwrap();

    // INFO persistence fields, present and plausible.
    let i = info(&mut con, "persistence");
    assert_eq!(i["aof_enabled"], "1");
    assert_eq!(i["aof_last_write_status"], "ok");
    assert_eq!(i["aof_rewrite_in_progress"], "0");
    assert_eq!(i["aof_last_bgrewrite_status"], "ok");
    assert_eq!(i["aof_delayed_fsync"], "0");
    let last_rewrite: i64 = i["aof_last_rewrite_time_sec"].parse().unwrap();
    assert!((0..30).contains(&last_rewrite), "aof_last_rewrite_time_sec {last_rewrite}");
    let current: u64 = i["aof_current_size"].parse().unwrap();
    let base: u64 = i["aof_base_size"].parse().unwrap();
    assert_eq!(current, aof_size(&server), "aof_current_size vs the file");
    assert!(base > 0 && base < current, "aof_base_size {base}, aof_current_size {current}");

    // With always, SIGKILL right after the reply loses nothing.
    let before = dump(&mut con, 3);
    drop(con);
    server.kill();
    server.args = ["--appendonly", "yes", "--save", ""].iter().map(|s| s.to_string()).collect();
    server.spawn();
    let mut con = server.client();
    assert_same(&before, &dump(&mut con, 3), "after CONFIG SET appendonly yes and a restart");

    // Turning it off stops appending.
    let _: () = redis::cmd("CONFIG").arg("SET").arg("appendonly").arg("no").query(&mut con).unwrap();
    let size = aof_size(&server);
    redis::cmd("SET").arg("not-logged").arg("1").query::<()>(&mut con).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(aof_size(&server), size);
    assert_eq!(info_field(&mut con, "aof_enabled"), "0");
}

/// CONFIG SET appendonly no stops a running rewrite with SIGUSR1, as Redis
/// does: the child and its temp file go, and the rewrite status stays ok.
#[test]
fn turning_appendonly_off_cancels_a_running_rewrite() {
    let server = Server::start_with(&["--appendonly", "yes", "--save", ""]);
    let mut con = server.client();
    // A debug build filling 2M keys beside other tests may pass the usual 30 s read timeout.
    con.set_read_timeout(Some(Duration::from_secs(180))).unwrap();
    let _: () = redis::cmd("DEBUG").arg("POPULATE").arg(2_000_000).arg("key").arg(100).query(&mut con).unwrap();
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_until(Duration::from_secs(10), "the rewrite child", || info_field(&mut con, "aof_rewrite_in_progress") == "1");
    let _: () = redis::cmd("CONFIG").arg("SET").arg("appendonly").arg("no").query(&mut con).unwrap();
    wait_until(Duration::from_secs(10), "the rewrite to stop", || {
        info_field(&mut con, "aof_rewrite_in_progress") == "0"
    });
    let log = server.log();
    assert!(log.contains("Background AOF rewrite cancelled"), "log:\n{log}");
    assert!(!log.contains("Background AOF rewrite finished successfully"), "log:\n{log}");
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
    let temps: Vec<_> = std::fs::read_dir(server.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("temp-rewriteaof"))
        .collect();
    assert!(temps.is_empty(), "left: {temps:?}");

    // Back on: a new rewrite builds the file from the dataset.
    let _: () = redis::cmd("CONFIG").arg("SET").arg("appendonly").arg("yes").query(&mut con).unwrap();
    wait_rewrite_done(&mut con);
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
    server.wait_for_log("Background AOF rewrite finished successfully");
}

/// BGREWRITEAOF with appendonly off writes the AOF all the same, as Redis
/// does: a later start with appendonly yes loads it.
#[test]
fn bgrewriteaof_with_appendonly_off_writes_the_file() {
    let mut server = Server::start_with(&["--appendonly", "no", "--save", ""]);
    let mut con = server.client();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    wait_rewrite_done(&mut con);
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(info_field(&mut con, "aof_enabled"), "0");
    assert!(server.path("appendonly.aof").exists(), "no AOF written; log:\n{}", server.log());
    server.kill();
    server.args = ["--appendonly", "yes", "--save", ""].iter().map(|s| s.to_string()).collect();
    server.spawn();
    let mut con = server.client();
    let got: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(got, "v");
}
