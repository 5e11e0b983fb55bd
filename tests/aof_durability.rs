//! AOF durability: a restart after a clean shutdown or a SIGKILL restores
//! the data for each `appendfsync` policy, and with `always` no acknowledged
//! write is ever lost however the process dies — nor when an fsync fails.

mod aof_support;
mod common;

use aof_support::{assert_same, dump, Rng};
use common::Server;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn aof_server(policy: &str) -> Server {
    Server::start_with(&["--appendonly", "yes", "--appendfsync", policy, "--save", ""])
}

/// Writes a mix of records: plain sets, TTLs, counters, floats, a
/// transaction, deletes and several dbs.
fn write_mixed(con: &mut redis::Connection, tag: &str, n: usize) {
    for i in 0..n {
        let db = (i % 3) as u32;
        redis::cmd("SELECT").arg(db).query::<()>(con).unwrap();
        redis::cmd("SET").arg(format!("{tag}:s:{i}")).arg(format!("v{i}")).query::<()>(con).unwrap();
        redis::cmd("SET").arg(format!("{tag}:ex:{i}")).arg(i).arg("EX").arg(10_000).query::<()>(con).unwrap();
        redis::cmd("INCRBY").arg(format!("{tag}:counter")).arg(i).query::<i64>(con).unwrap();
        redis::cmd("INCRBYFLOAT").arg(format!("{tag}:float")).arg("0.25").query::<String>(con).unwrap();
        redis::cmd("APPEND").arg(format!("{tag}:log")).arg("x").query::<i64>(con).unwrap();
        if i % 5 == 0 {
            redis::cmd("EXPIRE").arg(format!("{tag}:s:{i}")).arg(5000).query::<i64>(con).unwrap();
            redis::cmd("DEL").arg(format!("{tag}:ex:{i}")).query::<i64>(con).unwrap();
        }
        if i % 7 == 0 {
            let (a, b): (String, i64) = redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(format!("{tag}:tx:{i}"))
                .arg("in-multi")
                .cmd("INCR")
                .arg(format!("{tag}:txcount"))
                .query(con)
                .unwrap();
            assert_eq!((a.as_str(), b > 0), ("OK", true));
        }
    }
    redis::cmd("SELECT").arg(0).query::<()>(con).unwrap();
}

#[test]
fn restart_after_clean_shutdown_and_sigkill_restores_data_for_each_policy() {
    for policy in ["always", "everysec", "no"] {
        let mut server = aof_server(policy);
        let mut con = server.client();
        write_mixed(&mut con, "a", 60);
        let before = dump(&mut con, 3);
        assert!(before.len() > 100, "{policy}: only {} keys", before.len());
        drop(con);
        let status = server.stop();
        assert!(status.success(), "{policy}: exit status {status}");
        server.spawn();
        let mut con = server.client();
        assert_same(&before, &dump(&mut con, 3), &format!("{policy}: after SIGTERM + restart"));

        // SIGKILL: with `always` every acknowledged write is on disk; with
        // everysec/no the page cache (written at once) survives a process kill.
        write_mixed(&mut con, "b", 40);
        if policy != "always" {
            std::thread::sleep(Duration::from_millis(1500));
        }
        let before = dump(&mut con, 3);
        drop(con);
        server.kill();
        server.spawn();
        let mut con = server.client();
        assert_same(&before, &dump(&mut con, 3), &format!("{policy}: after SIGKILL + restart"));
        drop(con);
        server.stop();
    }
}

/// What the writer threads had acknowledged when the server died.
#[derive(Default)]
struct Acked {
    /// Unique keys and their values.
    keys: Vec<(String, String)>,
    /// Per counter: highest value INCR returned, and how many INCRs were sent.
    counters: Vec<(String, i64, i64)>,
}

#[test]
fn always_never_loses_an_acknowledged_write_across_random_sigkills() {
    let mut rng = Rng::from_time();
    let mut server = aof_server("always");
    let acked = Arc::new(Mutex::new(Acked::default()));
    let threads = 4;
    for cycle in 0..20 {
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = vec![];
        for t in 0..threads {
            let url = server.url();
            let (acked, stop) = (acked.clone(), stop.clone());
            handles.push(std::thread::spawn(move || {
                let counter = format!("counter:{t}");
                let client = redis::Client::open(url).unwrap();
                let Ok(mut con) = client.get_connection_with_timeout(Duration::from_secs(5)) else {
                    // Killed before this writer got in (a slow thread start): nothing sent.
                    acked.lock().unwrap().counters.push((counter, 0, 0));
                    return;
                };
                con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut incr_sent = 0i64;
                let mut incr_acked = None;
                let mut local = vec![];
                let started = Instant::now();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(5) {
                        break;
                    }
                    let key = format!("c{cycle}:t{t}:{i}");
                    let ok = match i % 3 {
                        0 => {
                            redis::cmd("SET").arg(&key).arg(i).query::<()>(&mut con).map(|_| vec![(key, i.to_string())])
                        }
                        1 => {
                            incr_sent += 1;
                            redis::cmd("INCR").arg(&counter).query::<i64>(&mut con).map(|v| {
                                incr_acked = Some(v);
                                vec![]
                            })
                        }
                        _ => redis::pipe()
                            .atomic()
                            .cmd("SET")
                            .arg(format!("{key}:a"))
                            .arg("x")
                            .cmd("SET")
                            .arg(format!("{key}:b"))
                            .arg("y")
                            .query::<()>(&mut con)
                            .map(|_| vec![(format!("{key}:a"), "x".into()), (format!("{key}:b"), "y".into())]),
                    };
                    match ok {
                        Ok(written) => local.extend(written),
                        Err(_) => break, // the server died: this write is not acknowledged
                    }
                }
                let mut a = acked.lock().unwrap();
                a.keys.extend(local);
                a.counters.push((counter, incr_acked.unwrap_or(0), incr_sent));
            }));
        }
        std::thread::sleep(Duration::from_millis(50 + rng.below(250)));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.join().unwrap();
        }
        server.spawn();
        let mut con = server.client();
        let a = acked.lock().unwrap();
        for chunk in a.keys.chunks(500) {
            let keys: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
            let values: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
            for ((k, v), got) in chunk.iter().zip(values) {
                assert_eq!(got.as_deref(), Some(v.as_str()), "cycle {cycle}: acknowledged key {k} lost");
            }
        }
        // Counters: at least the highest acknowledged value, at most what was sent.
        let mut sent: std::collections::HashMap<&str, i64> = Default::default();
        for (c, _, n) in &a.counters {
            *sent.entry(c.as_str()).or_default() += n;
        }
        for (c, v, _) in &a.counters {
            let got: Option<i64> = redis::cmd("GET").arg(c).query(&mut con).unwrap();
            let got = got.unwrap_or(0);
            assert!(got >= *v, "cycle {cycle}: {c} = {got} but INCR acknowledged {v}");
            assert!(
                got <= sent[c.as_str()],
                "cycle {cycle}: {c} = {got} but only {} INCRs were sent",
                sent[c.as_str()]
            );
        }
        drop(a);
        let seen: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert!(seen > 0 || cycle == 0, "cycle {cycle}: empty dataset after restart");
    }
    let a = acked.lock().unwrap();
    assert!(a.keys.len() > 100, "only {} acknowledged writes in 20 cycles", a.keys.len());
    eprintln!("{} acknowledged keys survived 20 SIGKILLs; log tail:\n{}", a.keys.len(), tail(&server.log(), 5));
}

/// With `always`, a failed fdatasync ends the process (exit status 1, as
/// Redis does) before the reply that waited on it leaves: a retry could
/// report success for pages the kernel dropped. The AOF here is a symlink
/// to /dev/null, which takes writes and refuses fdatasync (EINVAL) — a real
/// failure from the kernel, no mocked disk.
#[test]
fn always_exits_when_fsync_fails_without_acknowledging_the_write() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.path().join("appendonly.aof")).unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let mut server =
        Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", dir_arg]);
    let mut con = server.client();
    let reply = redis::cmd("SET").arg("k").arg("v").query::<String>(&mut con);
    assert!(reply.is_err(), "a write was acknowledged though its fsync failed: {reply:?}");
    let status = server.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1), "log:\n{}", server.log());
    assert!(server.log().contains("Can't persist AOF for fsync error"), "log:\n{}", server.log());
}

/// Commands replayed from the AOF at startup are not client commands:
/// INFO's command counters start from zero after a restart, as in Redis.
#[test]
fn replayed_commands_are_not_counted_as_client_commands() {
    let mut server = aof_server("everysec");
    let mut con = server.client();
    for i in 0..300 {
        redis::cmd("SET").arg(format!("k{i}")).arg(i).query::<()>(&mut con).unwrap();
    }
    drop(con);
    server.restart();
    let mut con = server.client();
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 300);
    let processed: u64 = aof_support::info(&mut con, "stats")["total_commands_processed"].parse().unwrap();
    assert!(processed < 50, "replayed commands were counted: {processed}");
    let commandstats: String = redis::cmd("INFO").arg("commandstats").query(&mut con).unwrap();
    assert!(!commandstats.contains("cmdstat_set:"), "{commandstats}");
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
