//! Streams side by side with redis-server 7.0: XADD, XLEN, XRANGE,
//! XREVRANGE, XDEL, XTRIM, XSETID, XINFO and XREAD (blocking too), their
//! errors in Redis's order, both protocols; then persistence: BGSAVE and
//! restart, forkv's dump loaded by redis-server and Redis's by forkv, AOF
//! rewrites with and without the RDB preamble, DUMP/RESTORE both ways.
//! Skips with a note when redis-server is not installed.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use aof_support::RedisServer;
use common::Server;
use helpers::{Raw, Resp};
use side_by_side::{start_pair, Pair};
use std::time::Duration;

fn words(line: &str) -> Vec<&[u8]> {
    line.split(' ').map(str::as_bytes).collect()
}

/// The command on both servers: the same reply, returned.
fn both(forkv: &mut Raw, redis: &mut Raw, line: &str) -> Resp {
    side_by_side::both_bytes(forkv, redis, &words(line))
}

fn same(p: &mut Pair, line: &str) -> Resp {
    both(&mut p.forkv, &mut p.redis, line)
}

/// Commands that build the same streams on both servers (explicit IDs).
const SETUP: &[&str] = &[
    "XADD s 1-1 a 1 b 2",
    "XADD s 1-2 a 3",
    "XADD s 2-0 c hello d world e 5",
    "XADD s 2-* a 4",
    "XADD s 3 a 5",
    "XADD s 5-0 big 18446744073709551615 neg -12",
    "DEL e",
];

#[test]
fn commands_and_errors_match_redis() {
    let Some(mut p) = start_pair() else { return };
    for line in SETUP {
        same(&mut p, line);
    }
    for line in [
        "XLEN s",
        "XLEN nokey",
        "XRANGE s - +",
        "XRANGE s - + COUNT 2",
        "XRANGE s - + COUNT 0",
        "XRANGE s - + COUNT -5",
        "XRANGE s 1 1",
        "XRANGE s (1-1 (3-0",
        "XRANGE s 2 +",
        "XRANGE s 5 3",
        "XRANGE nokey - +",
        "XREVRANGE s + -",
        "XREVRANGE s + - COUNT 3",
        "XREVRANGE s (5-0 (1-1",
        "XREVRANGE s 2 2",
        "XRANGE s ( +",
        "XRANGE s (- +",
        "XRANGE s - (+",
        "XRANGE s (18446744073709551615-18446744073709551615 +",
        "XRANGE s - (0-0",
        "XRANGE s abc +",
        "XRANGE s - + COUNT",
        "XRANGE s - + COUNT x",
        "XRANGE s - + LIMIT 1",
        "XADD s 5-0 a 1",
        "XADD s 4 a 1",
        "XADD s 0-0 a 1",
        "XADD s2 0-0 a 1",
        "XADD s 6-0 a",
        "XADD s 6-0",
        "XADD s 6-0 a 1 b",
        "XADD s x-1 a 1",
        "XADD s - a 1",
        "XADD s + a 1",
        "XADD s MAXLEN -1 * a 1",
        "XADD s MAXLEN x * a 1",
        "XADD s MAXLEN 1 MINID 1 * a 1",
        "XADD s LIMIT 10 * a 1",
        "XADD s MAXLEN 5 LIMIT 10 * a 1",
        "XADD s MAXLEN ~ 5 LIMIT -1 * a 1",
        "XADD s MINID bad * a 1",
        "XADD s NOMKSTREAM",
        "XADD nokey NOMKSTREAM * a 1",
        "EXISTS nokey",
        "XADD s 5-* x y",
        "XADD s 7-3 x y",
        "XADD s 7-* x y",
        "XADD s2 0-* x y",
        "XRANGE s2 - +",
        "XTRIM s",
        "XTRIM s FOO 1",
        "XTRIM s MAXLEN",
        "XTRIM s MAXLEN = 100",
        "XTRIM s MAXLEN ~ 2",
        "XTRIM s LIMIT 5 MAXLEN 2",
        "XTRIM s MAXLEN 20 LIMIT 5",
        "XTRIM nokey MAXLEN 1",
        "XTRIM s MINID 2",
        "XRANGE s - +",
        "XTRIM s MAXLEN 3",
        "XRANGE s - +",
        "XDEL s 1-1",
        "XDEL s 5-0 7-3 99-0",
        "XDEL s bad",
        "XDEL s 5-1 bad",
        "XDEL nokey bad",
        "XRANGE s - +",
        "XLEN s",
        "XSETID s 1-0",
        "XSETID s 100-0",
        "XSETID nokey 1-0",
        "XSETID s bad",
        "XSETID s 200-0 ENTRIESADDED -1",
        "XSETID s 200-0 ENTRIESADDED 0",
        "XSETID s 200-0 MAXDELETEDID 300-0",
        "XSETID s 200-0 ENTRIESADDED 50 MAXDELETEDID 150-0",
        "XSETID s 200-0 FOO",
        "XSETID s 200-0 ENTRIESADDED",
        "XADD s 150-0 a 1",
        "XINFO STREAM s",
        "XINFO STREAM s FULL",
        "XINFO STREAM s FULL COUNT 1",
        "XINFO STREAM s FULL COUNT -1",
        "XINFO STREAM s FULL COUNT",
        "XINFO STREAM s FOO",
        "XINFO STREAM nokey",
        "XINFO GROUPS s",
        "XINFO CONSUMERS s g",
        "XINFO HELP",
        "XINFO FOO s",
        "XINFO GROUPS",
        "XINFO STREAM",
        "SET str x",
        "XADD str * a 1",
        "XLEN str",
        "XRANGE str - +",
        "XDEL str 1-1",
        "XTRIM str MAXLEN 1",
        "XSETID str 1-1",
        "XINFO STREAM str",
        "XREAD STREAMS str 0",
        "TYPE s",
        "OBJECT ENCODING s",
    ] {
        same(&mut p, line);
    }
    // Emptied streams remain, with their counters.
    for line in ["XADD e 1-1 a 1", "XDEL e 1-1", "EXISTS e", "XLEN e", "XINFO STREAM e", "XTRIM e MAXLEN 0"] {
        same(&mut p, line);
    }
}

#[test]
fn resp3_replies_match_redis() {
    let Some(p) = start_pair() else { return };
    let mut forkv = Raw::connect(p.forkv_server.port);
    let mut redis = Raw::connect(p.redis_server.port);
    for r in [&mut forkv, &mut redis] {
        assert!(matches!(r.cmd(&["HELLO", "3"]), Resp::Map(_)));
    }
    for line in SETUP {
        both(&mut forkv, &mut redis, line);
    }
    for line in [
        "XRANGE s - +",
        "XRANGE s - + COUNT 0",
        "XREVRANGE s + - COUNT 1",
        "XINFO STREAM s",
        "XINFO STREAM s FULL",
        "XREAD STREAMS s s2 0 0",
        "XREAD COUNT 1 STREAMS s 1-2",
        "XREAD STREAMS s $",
        "XREAD BLOCK 10 STREAMS s $",
        "XADD e NOMKSTREAM * a 1",
    ] {
        both(&mut forkv, &mut redis, line);
    }
}

#[test]
fn xread_matches_redis() {
    let Some(mut p) = start_pair() else { return };
    for line in SETUP {
        same(&mut p, line);
    }
    same(&mut p, "XADD t 9-9 k v");
    for line in [
        "XREAD STREAMS s 0",
        "XREAD STREAMS s t 0 0",
        "XREAD COUNT 2 STREAMS s t 1-2 0",
        "XREAD STREAMS s t $ $",
        "XREAD STREAMS s t 5-0 9-9",
        "XREAD STREAMS nokey 0",
        "XREAD STREAMS s",
        "XREAD STREAMS s t 0",
        "XREAD COUNT x STREAMS s 0",
        "XREAD COUNT -1 STREAMS s 0",
        "XREAD BLOCK x STREAMS s 0",
        "XREAD BLOCK -1 STREAMS s 0",
        "XREAD BLOCK 0 STREAMS s 0",
        "XREAD STREAMS s >",
        "XREAD STREAMS s bad",
        "XREAD STREAMS s +",
        "XREAD GROUP g c STREAMS s 0",
        "XREAD NOACK STREAMS s 0",
        "XREAD FOO STREAMS s 0",
        "XREAD COUNT 1",
        "MULTI",
        "XREAD BLOCK 0 STREAMS s $",
        "EXEC",
        "COMMAND GETKEYS XREAD COUNT 1 BLOCK 5 STREAMS a b 0 0",
        "COMMAND GETKEYS XREAD STREAMS a",
    ] {
        same(&mut p, line);
    }
}

/// A blocked XREAD on each server, woken by the same XADD.
#[test]
fn blocking_xread_matches_redis() {
    let Some(mut p) = start_pair() else { return };
    same(&mut p, "XADD s 1-1 a 1");
    let mut readers: Vec<Raw> =
        [p.forkv_server.port, p.redis_server.port].iter().map(|&port| Raw::connect(port)).collect();
    // `$` stands for the last ID when the reader blocked; a later XADD to
    // another key it waits on does not wake it with old entries.
    for r in readers.iter_mut() {
        r.send(&["XREAD", "BLOCK", "0", "STREAMS", "other", "s", "$", "$"]);
    }
    std::thread::sleep(Duration::from_millis(200));
    same(&mut p, "XADD s 2-1 b 2");
    let replies: Vec<Resp> = readers.iter_mut().map(Raw::read).collect();
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0].items()[0].items()[1].items().len(), 1);
    // Timeouts answer a null array.
    for r in readers.iter_mut() {
        r.send(&["XREAD", "BLOCK", "100", "STREAMS", "s", "$"]);
    }
    let replies: Vec<Resp> = readers.iter_mut().map(Raw::read).collect();
    assert_eq!(replies, [Resp::NullArray, Resp::NullArray]);
    // A key created while waiting wakes it.
    for r in readers.iter_mut() {
        r.send(&["XREAD", "BLOCK", "5000", "STREAMS", "fresh", "$"]);
    }
    std::thread::sleep(Duration::from_millis(200));
    same(&mut p, "XADD fresh 3-3 c 3");
    let replies: Vec<Resp> = readers.iter_mut().map(Raw::read).collect();
    assert_eq!(replies[0], replies[1]);
    assert_eq!(same(&mut p, "INFO nosuchsection"), Resp::Bulk(Vec::new()));
}

#[test]
fn approximate_trimming_removes_whole_nodes_like_redis() {
    let Some(mut p) = start_pair() else { return };
    for i in 1..=350 {
        same(&mut p, &format!("XADD s {i}-0 f v"));
    }
    for line in [
        "XTRIM s MAXLEN ~ 300",
        "XTRIM s MAXLEN ~ 120",
        "XLEN s",
        "XTRIM s MINID ~ 310",
        "XTRIM s MINID ~ 200 LIMIT 50",
        "XADD s MAXLEN ~ 10 LIMIT 100 351-0 f v",
        "XLEN s",
        "XRANGE s - + COUNT 1",
        "XINFO STREAM s",
    ] {
        same(&mut p, line);
    }
}

/// forkv's generated IDs: milliseconds, then sequence within one.
#[test]
fn generated_ids_follow_the_clock() {
    let mut server = Server::start();
    let mut r = Raw::connect(server.port);
    let first = String::from_utf8(r.bulk(&["XADD", "s", "*", "a", "1"])).unwrap();
    let (ms, seq) = first.split_once('-').unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(ms.parse::<u64>().unwrap().abs_diff(now) < 10_000);
    assert_eq!(seq, "0");
    r.cmd(&["XSETID", "s", "99999999999999-5"]);
    assert_eq!(r.bulk(&["XADD", "s", "*", "a", "1"]), b"99999999999999-6");
    r.cmd(&["XSETID", "s", "18446744073709551615-18446744073709551615"]);
    assert_eq!(
        r.err(&["XADD", "s", "*", "a", "1"]),
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    );
    server.stop();
}

/// A stream with history: deletions, a trim, XSETID counters.
fn fill(r: &mut Raw) {
    for i in 1..=250 {
        r.cmd(&["XADD", "s", &format!("{i}-{i}"), "field", &format!("value-{i}"), "n", &i.to_string()]);
    }
    r.cmd(&["XADD", "s", "300-0", "other", "fields", "x", "y", "z", "1"]);
    r.cmd(&["XDEL", "s", "2-2", "100-100", "240-240"]);
    r.cmd(&["XTRIM", "s", "MAXLEN", "200"]);
    r.cmd(&["XADD", "e", "1-1", "a", "1"]);
    r.cmd(&["XDEL", "e", "1-1"]);
    r.cmd(&["XSETID", "e", "5-5", "ENTRIESADDED", "9", "MAXDELETEDID", "4-0"]);
    // Groups: pending entries owned by two consumers, one idle consumer,
    // an acknowledged entry, a pending entry since deleted, an unknown
    // read counter.
    r.cmd(&["XGROUP", "CREATE", "s", "g1", "0"]);
    r.cmd(&["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "s", ">"]);
    r.cmd(&["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "s", ">"]);
    r.cmd(&["XACK", "s", "g1", "52-52"]);
    r.cmd(&["XGROUP", "CREATECONSUMER", "s", "g1", "idle"]);
    r.cmd(&["XCLAIM", "s", "g1", "bob", "0", "53-53", "RETRYCOUNT", "9", "JUSTID"]);
    r.cmd(&["XGROUP", "CREATE", "s", "g2", "150-150", "ENTRIESREAD", "-1"]);
    r.cmd(&["XREADGROUP", "GROUP", "g2", "carol", "NOACK", "COUNT", "2", "STREAMS", "s", ">"]);
    r.cmd(&["XGROUP", "CREATE", "e", "empty", "$"]);
}

/// What a server holds for the filled keys: everything XINFO and XRANGE show.
fn snapshot(r: &mut Raw) -> Vec<Resp> {
    let mut out = Vec::new();
    for key in ["s", "e"] {
        out.push(r.cmd(&["XRANGE", key, "-", "+"]));
        let info = r.cmd(&["XINFO", "STREAM", key]);
        // radix-tree-nodes (the 6th item) is Redis's internal tree size.
        let mut items = info.items().to_vec();
        items.drain(4..6);
        out.push(Resp::Array(items));
        out.push(r.cmd(&["TYPE", key]));
        out.push(r.cmd(&["XINFO", "GROUPS", key]));
    }
    for group in ["g1", "g2", "g3"] {
        out.push(r.cmd(&["XPENDING", "s", group]));
        out.push(pel_rows_without_times(&r.cmd(&["XPENDING", "s", group, "-", "+", "1000"])));
        out.push(without_times(&r.cmd(&["XINFO", "CONSUMERS", "s", group]), &["idle"]));
    }
    out
}

#[test]
fn bgsave_and_restart_keep_streams() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut r = Raw::connect(server.port);
    fill(&mut r);
    let before = snapshot(&mut r);
    assert_eq!(r.cmd(&["SAVE"]), Resp::ok());
    drop(r);
    server.restart();
    let mut r = Raw::connect(server.port);
    assert_eq!(snapshot(&mut r), before);
}

/// Waits for a BGREWRITEAOF to have finished well.
fn wait_rewrite(r: &mut Raw) {
    assert!(helpers::wait_until(Duration::from_secs(20), || {
        let info = r.cmd(&["INFO", "persistence"]).text();
        helpers::info_field(&info, "aof_rewrite_in_progress").as_deref() == Some("0")
            && helpers::info_field(&info, "aof_rewrite_scheduled").as_deref() == Some("0")
            && helpers::info_field(&info, "aof_last_bgrewrite_status").as_deref() == Some("ok")
    }));
}

/// The same history on forkv and redis-server, rewritten and followed by
/// more writes (their propagated forms land in the new AOF), then both
/// restarted: they must load the same streams. (Redis's own replay of a
/// propagated XREADGROUP leaves a group's entries-read unknown: so must
/// forkv's.)
#[test]
fn aof_rewrites_keep_streams() {
    if !RedisServer::available() {
        return;
    }
    for preamble in ["yes", "no"] {
        let args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
        let mut forkv = Server::start_with(&[&["--save", ""][..], &args].concat());
        let dir = tempfile::tempdir().unwrap();
        let (redis, con) = RedisServer::start(dir.path(), &args);
        let mut r = Raw::connect(forkv.port);
        let mut rr = Raw::connect(redis.port);
        for conn in [&mut r, &mut rr] {
            fill(conn);
            conn.cmd(&["BGREWRITEAOF"]);
            wait_rewrite(conn);
            for line in [
                "XADD s 400-1 after rewrite",
                "XADD s 400-2 after rewrite",
                "XREADGROUP GROUP g1 dave COUNT 2 STREAMS s >",
                "XREADGROUP GROUP g2 erin NOACK STREAMS s >",
                "XACK s g1 51-51",
                "XAUTOCLAIM s g1 frank 0 0 COUNT 2",
                "XCLAIM s g1 gina 0 54-54 LASTID 300-1",
                "XGROUP DELCONSUMER s g1 bob",
                "XGROUP CREATE s g3 $ ENTRIESREAD 3",
                "XGROUP SETID s g3 100-100",
                "XGROUP DESTROY s g2",
            ] {
                conn.cmd(&line.split(' ').collect::<Vec<_>>());
            }
        }
        assert_eq!(snapshot(&mut r), snapshot(&mut rr), "before restart");
        drop((r, rr));
        forkv.restart();
        redis.shutdown(&mut { con });
        let (redis, _con) = RedisServer::start(dir.path(), &args);
        let mut r = Raw::connect(forkv.port);
        let mut rr = Raw::connect(redis.port);
        assert_eq!(snapshot(&mut r), snapshot(&mut rr), "aof-use-rdb-preamble {preamble}");
    }
}

#[test]
fn dumps_load_both_ways_with_redis() {
    if !RedisServer::available() {
        return;
    }
    // forkv's dump.rdb loaded by redis-server.
    let mut forkv = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut r = Raw::connect(forkv.port);
    fill(&mut r);
    let want = snapshot(&mut r);
    assert_eq!(r.cmd(&["SAVE"]), Resp::ok());
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(forkv.path("dump.rdb"), dir.path().join("dump.rdb")).unwrap();
    let check = std::process::Command::new("redis-check-rdb").arg(dir.path().join("dump.rdb")).output().unwrap();
    assert!(check.status.success(), "redis-check-rdb:\n{}", String::from_utf8_lossy(&check.stdout));
    let (redis, _) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    let mut rr = Raw::connect(redis.port);
    assert_eq!(snapshot(&mut rr), want);
    // Redis's own dump loaded by forkv.
    rr.cmd(&["XADD", "s", "400-1", "from", "redis"]);
    let want = snapshot(&mut rr);
    assert_eq!(rr.cmd(&["SAVE"]), Resp::ok());
    drop(r);
    forkv.stop();
    std::fs::copy(dir.path().join("dump.rdb"), forkv.path("dump.rdb")).unwrap();
    forkv.spawn();
    let mut r = Raw::connect(forkv.port);
    assert_eq!(snapshot(&mut r), want);
    // DUMP/RESTORE across the two.
    for key in ["s", "e"] {
        let from_forkv = r.cmd(&["DUMP", key]);
        let from_redis = rr.cmd(&["DUMP", key]);
        let (Resp::Bulk(f), Resp::Bulk(d)) = (&from_forkv, &from_redis) else { panic!("no DUMP payload") };
        let restored = format!("{key}-copy");
        assert_eq!(rr.cmd_bytes(&[b"RESTORE", restored.as_bytes(), b"0", f]), Resp::ok());
        assert_eq!(r.cmd_bytes(&[b"RESTORE", restored.as_bytes(), b"0", d]), Resp::ok());
        for conn in [&mut r, &mut rr] {
            assert_eq!(conn.cmd(&["XRANGE", &restored, "-", "+"]), conn.cmd(&["XRANGE", key, "-", "+"]));
            let a = conn.cmd(&["XINFO", "STREAM", &restored]).items()[6..].to_vec();
            let b = conn.cmd(&["XINFO", "STREAM", key]).items()[6..].to_vec();
            assert_eq!(a, b);
            assert_eq!(conn.cmd(&["XINFO", "GROUPS", &restored]), conn.cmd(&["XINFO", "GROUPS", key]));
            let group = if key == "s" { "g1" } else { "empty" };
            let pending =
                |conn: &mut Raw, k: &str| pel_rows_without_times(&conn.cmd(&["XPENDING", k, group, "-", "+", "99"]));
            assert_eq!(pending(conn, &restored), pending(conn, key));
        }
    }
}

/// Turns keyspace events on and subscribes to every event of db 0 on
/// each server.
fn subscribe_to_events(p: &mut Pair) -> Vec<Raw> {
    same(p, "CONFIG SET notify-keyspace-events KEA");
    let mut subs: Vec<Raw> =
        [p.forkv_server.port, p.redis_server.port].iter().map(|&port| Raw::connect(port)).collect();
    for s in subs.iter_mut() {
        s.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    }
    subs
}

/// The next `n` events (their channels) are the same on both servers.
fn assert_same_events(subs: &mut [Raw], n: usize) {
    let mut events = subs.iter_mut().map(|s| (0..n).map(|_| s.read().items()[2].clone()).collect::<Vec<_>>());
    assert_eq!(events.next(), events.next());
}

#[test]
fn keyspace_events_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let mut subs = subscribe_to_events(&mut p);
    for line in [
        "XADD s 1-1 a 1",
        "XADD s MAXLEN 1 2-2 a 1",
        "XDEL s 2-2",
        "XADD s 3-3 a 1",
        "XTRIM s MAXLEN 0",
        "XSETID s 9-9",
        "DEL s",
        "XADD s NOMKSTREAM 10-1 a 1",
    ] {
        same(&mut p, line);
    }
    assert_same_events(&mut subs, 8);
}

/// Zeroes the integers of a reply that are times (Unix ms, and what
/// follows one of `names`) so servers run apart compare equal.
fn without_times(r: &Resp, names: &[&str]) -> Resp {
    match r {
        Resp::Array(items) => {
            let mut out = Vec::new();
            let mut blank_next = false;
            for item in items {
                if blank_next {
                    out.push(Resp::Int(0));
                    blank_next = false;
                    continue;
                }
                blank_next = matches!(item, Resp::Bulk(b) if names.iter().any(|n| n.as_bytes() == b.as_slice()));
                out.push(without_times(item, names));
            }
            Resp::Array(out)
        }
        Resp::Int(n) if *n >= 1_000_000_000_000 => Resp::Int(0),
        other => other.clone(),
    }
}

/// XPENDING's extended rows and XINFO's PEL rows: [id, consumer, ms, count]
/// or [id, ms, count] with the time zeroed.
fn pel_rows_without_times(r: &Resp) -> Resp {
    match r {
        Resp::Array(rows) => Resp::Array(
            rows.iter()
                .map(|row| match row.items() {
                    [id, consumer, Resp::Int(_), count] => {
                        Resp::Array(vec![id.clone(), consumer.clone(), Resp::Int(0), count.clone()])
                    }
                    _ => row.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn consumer_groups_match_redis() {
    let Some(mut p) = start_pair() else { return };
    for line in SETUP {
        same(&mut p, line);
    }
    for line in [
        "XGROUP CREATE s g1 0",
        "XGROUP CREATE s g1 0",
        "XGROUP CREATE s g2 $",
        "XGROUP CREATE s g3 2-0 ENTRIESREAD 2",
        "XGROUP CREATE s g4 0 ENTRIESREAD -2",
        "XGROUP CREATE s g4 0 ENTRIESREAD x",
        "XGROUP CREATE s g4 bad",
        "XGROUP CREATE s g4 0 FOO",
        "XGROUP CREATE nokey g 0",
        "XGROUP CREATE made g $ MKSTREAM",
        "XINFO STREAM made",
        "XGROUP CREATE str g 0",
        "SET str x",
        "XGROUP CREATE str g 0",
        "XGROUP SETID s nog 0",
        "XGROUP SETID s g2 0 ENTRIESREAD 0",
        "XGROUP SETID s g2 $",
        "XGROUP SETID s g2 + ",
        "XGROUP DESTROY s g2",
        "XGROUP DESTROY s g2",
        "XGROUP CREATECONSUMER s g1 alice",
        "XGROUP CREATECONSUMER s g1 alice",
        "XGROUP CREATECONSUMER s nog alice",
        "XGROUP DELCONSUMER s g1 nobody",
        "XGROUP HELP",
        "XGROUP FOO",
        "XGROUP CREATE s",
        "XGROUP DESTROY s g1 x",
        "XINFO GROUPS s",
        "XREADGROUP GROUP g1 alice COUNT 2 STREAMS s >",
        "XREADGROUP GROUP g1 bob STREAMS s >",
        "XREADGROUP GROUP g1 bob STREAMS s >",
        "XREADGROUP GROUP g1 alice STREAMS s 0",
        "XREADGROUP GROUP g1 alice COUNT 1 STREAMS s 1-1",
        "XREADGROUP GROUP g1 alice STREAMS s $",
        "XREADGROUP GROUP nog alice STREAMS s >",
        "XREADGROUP GROUP g1 alice STREAMS nokey >",
        "XREADGROUP GROUP g1 alice STREAMS str >",
        "XREADGROUP STREAMS s >",
        "XREADGROUP GROUP g1 alice STREAMS s bad",
        "XREADGROUP GROUP g1 alice NOACK BLOCK 10 STREAMS s >",
        "XREAD GROUP g1 alice STREAMS s >",
        "XREADGROUP GROUP g3 carol NOACK STREAMS s >",
        "XPENDING s g3",
        "XINFO GROUPS s",
        "XPENDING s g1",
        "XPENDING s nog",
        "XPENDING nokey g1",
        "XPENDING s g1 - + 10 nobody",
        "XPENDING s g1 - +",
        "XPENDING s g1 - + x",
        "XPENDING s g1 IDLE x - + 10",
        "XPENDING s g1 IDLE 10 - +",
        "XPENDING s g1 bad + 10",
        "XPENDING s g1 (5-0 + 10",
        "XACK s g1 1-1 1-2 9-9",
        "XACK s g1 1-1",
        "XACK s nog 1-1",
        "XACK nokey g1 1-1",
        "XACK s g1 bad",
        "XACK str g1 1-1",
        "XPENDING s g1",
        "XDEL s 2-0",
        "XREADGROUP GROUP g1 bob STREAMS s 0",
        "XINFO CONSUMERS s nog",
        "XCLAIM s g1 alice 0 3-0 JUSTID",
        "XCLAIM s g1 alice 0 2-0 3-0",
        "XPENDING s g1",
        "XCLAIM s g1 carol 0 5-0 FORCE JUSTID",
        "XCLAIM s g1 carol 0 1-1 FORCE JUSTID",
        "XCLAIM s g1 carol 0 9-9 FORCE JUSTID",
        "XCLAIM s g1 carol 0 1-2 RETRYCOUNT 7 JUSTID",
        "XCLAIM s g1 carol 3600000 1-2 JUSTID",
        "XCLAIM s g1 carol x 1-2",
        "XCLAIM s g1 carol 0 1-2 FOO",
        "XCLAIM s g1 carol 0 1-2 IDLE x",
        "XCLAIM s g1 carol 0 1-2 TIME x",
        "XCLAIM s g1 carol 0 1-2 RETRYCOUNT x",
        "XCLAIM s g1 carol 0 1-2 LASTID bad",
        "XCLAIM s nog carol 0 1-2",
        "XCLAIM str g1 carol 0 1-2",
        "XCLAIM s g1 carol 0 1-2 LASTID 9-0 JUSTID",
        "XINFO GROUPS s",
        "XAUTOCLAIM s g1 dave 0 0 COUNT 2 JUSTID",
        "XAUTOCLAIM s g1 dave 0 0 COUNT 2",
        "XAUTOCLAIM s g1 dave 0 (1-2",
        "XAUTOCLAIM s g1 dave 0 0 COUNT 0",
        "XAUTOCLAIM s g1 dave 0 0 COUNT x",
        "XAUTOCLAIM s g1 dave x 0",
        "XAUTOCLAIM s g1 dave 0 bad",
        "XAUTOCLAIM s g1 dave 0 0 FOO",
        "XAUTOCLAIM s nog dave 0 0",
        "XAUTOCLAIM nokey g1 dave 0 0",
        "XPENDING s g1",
        "XGROUP DELCONSUMER s g1 dave",
        "XPENDING s g1",
        "XINFO GROUPS s",
        "XADD s 10-0 new entry",
        "XINFO GROUPS s",
        "XTRIM s MAXLEN 1",
        "XINFO GROUPS s",
        "XINFO STREAM s",
    ] {
        same(&mut p, line);
    }
    for line in ["XPENDING s g1 - + 10", "XPENDING s g1 IDLE 0 - + 10 carol"] {
        let (f, r) = (p.forkv.cmd_bytes(&words(line)), p.redis.cmd_bytes(&words(line)));
        assert_eq!(pel_rows_without_times(&f), pel_rows_without_times(&r), "{line}");
    }
    for line in ["XINFO CONSUMERS s g1", "XINFO STREAM s FULL", "XINFO STREAM made FULL"] {
        let (f, r) = (p.forkv.cmd_bytes(&words(line)), p.redis.cmd_bytes(&words(line)));
        let names = ["idle", "seen-time"];
        assert_eq!(without_times(&f, &names), without_times(&r, &names), "{line}");
    }
}

/// Blocked XREADGROUP readers on each server: woken by an XADD (and served
/// once), ended with NOGROUP when their group goes, timing out with a null.
#[test]
fn blocking_xreadgroup_matches_redis() {
    let Some(mut p) = start_pair() else { return };
    for line in ["XADD s 1-1 a 1", "XGROUP CREATE s g $", "XGROUP CREATE s other $"] {
        same(&mut p, line);
    }
    let ports = [p.forkv_server.port, p.redis_server.port];
    let mut first: Vec<Raw> = ports.iter().map(|&port| Raw::connect(port)).collect();
    let mut second: Vec<Raw> = ports.iter().map(|&port| Raw::connect(port)).collect();
    for r in first.iter_mut() {
        r.send(&["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"]);
    }
    std::thread::sleep(Duration::from_millis(100));
    for r in second.iter_mut() {
        r.send(&["XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">"]);
    }
    std::thread::sleep(Duration::from_millis(200));
    same(&mut p, "XADD s 2-1 b 2");
    // The first to block is served; the second waits on.
    let served: Vec<Resp> = first.iter_mut().map(Raw::read).collect();
    assert_eq!(served[0], served[1]);
    same(&mut p, "XPENDING s g");
    same(&mut p, "XADD s 3-1 c 3");
    let served: Vec<Resp> = second.iter_mut().map(Raw::read).collect();
    assert_eq!(served[0], served[1]);
    same(&mut p, "XPENDING s g");
    same(&mut p, "XINFO GROUPS s");
    // Destroying the group ends the wait with an error.
    for r in first.iter_mut() {
        r.send(&["XREADGROUP", "GROUP", "other", "carol", "BLOCK", "0", "STREAMS", "s", ">"]);
    }
    std::thread::sleep(Duration::from_millis(200));
    same(&mut p, "XGROUP DESTROY s other");
    let ended: Vec<Resp> = first.iter_mut().map(Raw::read).collect();
    assert_eq!(ended[0], ended[1]);
    // A timeout, and NOACK deliveries.
    for r in first.iter_mut() {
        r.send(&["XREADGROUP", "GROUP", "g", "dave", "BLOCK", "100", "STREAMS", "s", ">"]);
    }
    let timed_out: Vec<Resp> = first.iter_mut().map(Raw::read).collect();
    assert_eq!(timed_out, [Resp::NullArray, Resp::NullArray]);
    for r in first.iter_mut() {
        r.send(&["XREADGROUP", "GROUP", "g", "erin", "NOACK", "BLOCK", "0", "STREAMS", "s", ">"]);
    }
    std::thread::sleep(Duration::from_millis(200));
    same(&mut p, "XADD s 4-1 d 4");
    let served: Vec<Resp> = first.iter_mut().map(Raw::read).collect();
    assert_eq!(served[0], served[1]);
    same(&mut p, "XPENDING s g");
    same(&mut p, "XINFO GROUPS s");
}

#[test]
fn consumer_group_events_and_resp3_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let mut subs = subscribe_to_events(&mut p);
    for line in [
        "XGROUP CREATE s g $ MKSTREAM",
        "XGROUP CREATECONSUMER s g c1",
        "XADD s 1-1 a 1",
        "XREADGROUP GROUP g c2 STREAMS s >",
        "XCLAIM s g c3 0 1-1 JUSTID",
        "XGROUP SETID s g 0",
        "XGROUP DELCONSUMER s g c1",
        "XGROUP DESTROY s g",
    ] {
        same(&mut p, line);
    }
    assert_same_events(&mut subs, 8);
    let mut forkv = Raw::connect(p.forkv_server.port);
    let mut redis = Raw::connect(p.redis_server.port);
    for r in [&mut forkv, &mut redis] {
        assert!(matches!(r.cmd(&["HELLO", "3"]), Resp::Map(_)));
    }
    for line in [
        "XGROUP CREATE s g 0",
        "XADD t 1-1 b 2",
        "XGROUP CREATE t g 0",
        "XREADGROUP GROUP g c STREAMS s t > >",
        "XREADGROUP GROUP g c STREAMS s t 0 0",
        "XPENDING s g",
        "XINFO GROUPS s",
        "XAUTOCLAIM s g d 0 0 JUSTID",
    ] {
        both(&mut forkv, &mut redis, line);
    }
}

/// RESTORE of stream payloads damaged byte by byte (with a valid footer)
/// answers OK or an error and never brings the server down; whatever it
/// accepts serves every stream command.
#[test]
fn damaged_stream_payloads_never_crash() {
    let mut server = Server::start();
    let mut r = Raw::connect(server.port);
    for line in [
        "XADD s 1-1 f v n 12",
        "XADD s 2-2 f w n 13",
        "XADD s 3-3 other x",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
        "XGROUP CREATECONSUMER s g bob",
    ] {
        r.cmd(&line.split(' ').collect::<Vec<_>>());
    }
    let Resp::Bulk(payload) = r.cmd(&["DUMP", "s"]) else { panic!("no DUMP payload") };
    let body = &payload[..payload.len() - 10];
    let mut accepted = 0;
    for at in 0..body.len() {
        for value in [0u8, 1, 0x7f, 0xff, body[at].wrapping_add(1)] {
            let mut damaged = body.to_vec();
            damaged[at] = value;
            let sealed = forkv::rdb::seal_payload(damaged);
            match r.cmd_bytes(&[b"RESTORE", b"d", b"0", &sealed, b"REPLACE"]) {
                Resp::Simple(_) => {
                    accepted += 1;
                    for line in [
                        "XRANGE d - +",
                        "XREVRANGE d + -",
                        "XINFO STREAM d FULL",
                        "XINFO GROUPS d",
                        "XPENDING d g - + 10",
                        "XREADGROUP GROUP g carol STREAMS d >",
                        "XREADGROUP GROUP g alice STREAMS d 0",
                        "XAUTOCLAIM d g dave 0 0",
                        "XADD d * k v",
                        "XTRIM d MAXLEN 1",
                        "DUMP d",
                    ] {
                        r.cmd(&line.split(' ').collect::<Vec<_>>());
                    }
                }
                Resp::Error(_) => {}
                other => panic!("RESTORE answered {other:?}"),
            }
            assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()), "byte {at} set to {value}");
        }
    }
    assert!(accepted > 0);
    server.stop();
}
