//! HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG) against the
//! real binary, side by side with Debian's redis-server 7.0: the same
//! commands must leave byte-identical string values (sparse, promoted,
//! dense, merged, and corrupted ones) and get the same replies, sketches
//! written by redis-server must work in forkv (through SET and through its
//! RDB snapshot), and everything must come back after an AOF replay. The
//! side-by-side tests skip with a note when redis-server is not installed.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use aof_support::{RedisServer, Rng};
use common::Server;
use helpers::{Raw, Resp};
use side_by_side::{start_pair, Pair};

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// An element whose hash has 32 zeros after its 14 register bits: a run
/// of 33, more than a sparse VAL opcode holds.
const LONG_RUN: &str = "dwdytpqc";

impl Pair {
    /// PFADD of many elements on both: the same reply.
    fn pfadd(&mut self, key: &str, elements: &[String]) -> Resp {
        let mut args = vec!["PFADD", key];
        args.extend(elements.iter().map(String::as_str));
        self.both(&args)
    }

    /// GET on both: the same bytes, returned (empty for a missing key).
    fn value(&mut self, key: &str) -> Vec<u8> {
        match self.both(&["GET", key]) {
            Resp::Bulk(b) => b,
            Resp::NullBulk => vec![],
            other => panic!("GET {key}: {other:?}"),
        }
    }

    /// Same bytes, same count (which fills the cache), same bytes again.
    fn check(&mut self, key: &str) -> i64 {
        self.value(key);
        let count = self.both(&["PFCOUNT", key]).int();
        self.value(key);
        count
    }
}

fn elements(tag: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{tag}-{i}")).collect()
}

fn encoding(p: &mut Pair, key: &str) -> String {
    p.both(&["PFDEBUG", "ENCODING", key]).text()
}

#[test]
fn small_sketches_are_byte_identical_toredis_server() {
    let Some(mut p) = start_pair() else { return };
    for n in [0, 1, 2, 5, 10, 50, 100, 300, 700] {
        let key = format!("s{n}");
        assert_eq!(p.pfadd(&key, &elements("el", 0..n)), Resp::Int(1), "a new key counts as a change");
        let count = p.check(&key);
        assert!((count - n as i64).abs() <= (n as i64 / 50).max(1), "{n} elements counted as {count}");
        assert_eq!(encoding(&mut p, &key), "sparse");
        if n > 0 {
            assert_eq!(p.pfadd(&key, &elements("el", 0..n)), Resp::Int(0), "nothing new");
        }
        p.both(&["OBJECT", "ENCODING", &key]);
    }
    // The header: magic, sparse, the cache flagged stale, then filled.
    assert_eq!(p.both(&["PFADD", "h", "a", "b", "c"]), Resp::Int(1));
    assert_eq!(p.value("h")[..16], *b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80");
    assert_eq!(p.both(&["PFCOUNT", "h"]), Resp::Int(3));
    assert_eq!(p.value("h")[..16], *b"HYLL\x01\0\0\0\x03\0\0\0\0\0\0\0");
    assert_eq!(p.both(&["PFADD", "h", "a", "b", "c"]), Resp::Int(0));
    assert_eq!(p.value("h")[15], 0, "an add that changes nothing keeps the cache");
    // Odd elements: empty, binary, numbers, long ones (the hash's tail and words).
    p.both(&["PFADD", "odd", ""]);
    p.both_bytes(&[b"PFADD", b"odd", b"\x00\xff\r\n", b"12345", b"-1", &[b'x'; 1000], b"0123456789abcdef0"]);
    p.check("odd");
    assert_eq!(p.both(&["PFADD", "odd", ""]), Resp::Int(0));
}

#[test]
fn promotion_to_dense_matchesredis_server() {
    let Some(mut p) = start_pair() else { return };
    let mut rng = Rng::new(7);
    for (key, max_bytes) in [("default", "3000"), ("small", "300"), ("big", "8000")] {
        p.both(&["CONFIG", "SET", "hll-sparse-max-bytes", max_bytes]);
        assert_eq!(
            p.both(&["CONFIG", "GET", "hll-sparse-max-bytes"]),
            Resp::bulks(&["hll-sparse-max-bytes", max_bytes])
        );
        let mut promoted_at = None;
        let mut added = 0;
        while added < 8000 && promoted_at.is_none_or(|at| added < at + 500) {
            let batch: Vec<String> = (0..1 + rng.below(60)).map(|_| format!("{:x}", rng.next())).collect();
            added += batch.len();
            p.pfadd(key, &batch);
            if added % 5 == 0 {
                p.check(key);
            } else {
                p.value(key);
            }
            if promoted_at.is_none() && encoding(&mut p, key) == "dense" {
                promoted_at = Some(added);
                assert_eq!(p.value(key).len(), 12304);
            }
        }
        let at = promoted_at.expect("promoted");
        eprintln!("{key}: promoted after {at} elements");
        p.check(key);
    }
    p.both(&["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
    // A register past a sparse VAL's range (33+) promotes at once: an
    // element with 32 zeros after its register bits (found by search).
    assert_eq!(p.pfadd("long-run", &elements("e", 0..10)), Resp::Int(1));
    assert_eq!(encoding(&mut p, "long-run"), "sparse");
    assert_eq!(p.both(&["PFADD", "long-run", LONG_RUN]), Resp::Int(1));
    assert_eq!(encoding(&mut p, "long-run"), "dense");
    p.check("long-run");
    // And through a merge: a dense source with a register of 40.
    let mut crafted = b"HYLL\0\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    crafted.resize(12304, 0);
    crafted[16 + 3] = 40 << 2;
    p.both_bytes(&[b"SET", b"crafted", &crafted]);
    p.check("crafted");
    p.both(&["PFMERGE", "long-run", "crafted"]);
    p.check("long-run");
    // PFDEBUG TODENSE and GETREG convert; DECODE shows the opcodes.
    p.pfadd("conv", &elements("c", 0..40));
    p.both(&["PFDEBUG", "DECODE", "conv"]);
    assert_eq!(p.both(&["PFDEBUG", "TODENSE", "conv"]), Resp::Int(1));
    assert_eq!(p.both(&["PFDEBUG", "TODENSE", "conv"]), Resp::Int(0));
    p.check("conv");
    p.pfadd("conv2", &elements("c", 0..40));
    assert_eq!(p.both(&["PFDEBUG", "GETREG", "conv2"]).items().len(), 16384);
    let (getreg, todense) = (p.value("conv2"), p.value("conv"));
    assert!(getreg[16..] == todense[16..], "GETREG and TODENSE convert alike");
}

#[test]
fn a_hundred_thousand_elements_count_asredis_server_does() {
    let Some(mut p) = start_pair() else { return };
    for batch in 0..120 {
        p.pfadd("big", &elements("big", batch * 1000..(batch + 1) * 1000));
        p.pfadd("other", &elements("big", batch * 1000 + 500..(batch + 1) * 1000 + 500));
        if batch % 20 == 19 {
            let count = p.check("big");
            let real = (batch + 1) as i64 * 1000;
            assert!((count - real).abs() < real / 50, "{real} elements counted as {count}");
            p.both(&["PFCOUNT", "big", "other"]);
        }
    }
    p.check("big");
    p.check("other");
    assert_eq!(encoding(&mut p, "big"), "dense");
    let union = p.both(&["PFCOUNT", "big", "other", "missing"]).int();
    assert!((union - 120_500).abs() < 120_500 / 50, "union counted as {union}");
    assert_eq!(p.both(&["PFMERGE", "all", "big", "other"]), Resp::ok());
    assert_eq!(p.check("all"), union, "the stored merge counts as the union");
}

#[test]
fn pfmerge_and_union_counts_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    p.pfadd("a", &elements("x", 0..100));
    p.pfadd("b", &elements("x", 50..200));
    p.pfadd("c", &elements("y", 0..20000));
    p.pfadd("tiny", &elements("t", 0..3));
    // Sparse sources: a sparse result.
    assert_eq!(p.both(&["PFMERGE", "ab", "a", "b", "nosuch"]), Resp::ok());
    assert_eq!(encoding(&mut p, "ab"), "sparse");
    p.check("ab");
    assert_eq!(p.both(&["PFCOUNT", "a", "b"]), p.both(&["PFCOUNT", "ab"]));
    // A dense source: a dense result.
    assert_eq!(p.both(&["PFMERGE", "ac", "a", "c"]), Resp::ok());
    assert_eq!(encoding(&mut p, "ac"), "dense");
    p.check("ac");
    // The destination is a source too; PFMERGE with it alone.
    assert_eq!(p.both(&["PFMERGE", "tiny", "a"]), Resp::ok());
    p.check("tiny");
    assert_eq!(p.both(&["PFMERGE", "tiny"]), Resp::ok());
    p.check("tiny");
    assert_eq!(p.both(&["PFMERGE", "fresh"]), Resp::ok());
    assert_eq!(p.value("fresh"), b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff");
    assert_eq!(p.both(&["PFMERGE", "fresh2", "nosuch1", "nosuch2"]), Resp::ok());
    p.check("fresh2");
    // Many sparse sources growing a sparse destination past its limit.
    for i in 0..12 {
        p.pfadd(&format!("part{i}"), &elements(&format!("p{i}"), 0..250));
    }
    let parts: Vec<String> = (0..12).map(|i| format!("part{i}")).collect();
    let mut args = vec!["PFMERGE", "parts"];
    args.extend(parts.iter().map(String::as_str));
    assert_eq!(p.both(&args), Resp::ok());
    assert_eq!(encoding(&mut p, "parts"), "dense");
    p.check("parts");
    args[0] = "PFCOUNT";
    args[1] = "nosuch";
    p.both(&args);
    // A sparse merge that stays just under the limit.
    assert_eq!(p.both(&["PFMERGE", "two", "part0", "part1"]), Resp::ok());
    p.check("two");
    p.both(&["PFCOUNT", "a", "b", "c", "tiny", "nosuch"]);
    p.both(&["PFCOUNT", "nosuch", "nosuch2"]);
}

#[test]
fn sketches_written_byredis_server_work_in_forkv() {
    let Some(mut p) = start_pair() else { return };
    let mut r = Raw::connect(p.redis_server.port);
    let mut f = Raw::connect(p.forkv_server.port);
    for (key, n) in [("sparse", 200), ("dense", 30_000)] {
        for chunk in elements(key, 0..n).chunks(1000) {
            let mut args = vec!["PFADD", key];
            args.extend(chunk.iter().map(String::as_str));
            r.cmd(&args);
        }
        let Resp::Bulk(bytes) = r.cmd(&["GET", key]) else { panic!("GET {key}") };
        assert_eq!(f.cmd_bytes(&[b"SET", key.as_bytes(), &bytes]), Resp::ok());
        // Stale cache in the copy: both compute and store the count.
        p.check(key);
        p.pfadd(key, &elements("more", 0..300));
        p.check(key);
        // And the other way round.
        let Resp::Bulk(bytes) = f.cmd(&["GET", key]) else { panic!("GET {key}") };
        let copy = format!("{key}-back");
        assert_eq!(r.cmd_bytes(&[b"SET", copy.as_bytes(), &bytes]), Resp::ok());
        assert_eq!(f.cmd_bytes(&[b"SET", copy.as_bytes(), &bytes]), Resp::ok());
        p.check(&copy);
    }
    assert_eq!(p.both(&["PFMERGE", "m", "sparse", "dense"]), Resp::ok());
    p.check("m");
    p.both(&["PFCOUNT", "sparse", "dense", "m"]);
}

#[test]
fn errors_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    p.both(&["LPUSH", "list", "x"]);
    p.both(&["SET", "str", "not an hll at all, but long enough"]);
    p.both(&["SET", "int", "12345"]);
    p.both(&["SET", "short", "HYLL"]);
    p.pfadd("hll", &elements("e", 0..3));
    // Each corrupted in its own way, as Redis's own tests do.
    for (key, offset, bytes) in [("magic", 0, "0123"), ("enc", 4, "x"), ("dense-len", 4, "\x00")] {
        p.pfadd(key, &elements("e", 0..3));
        p.both(&["SETRANGE", key, &offset.to_string(), bytes]);
    }
    p.pfadd("tail", &elements("e", 0..3));
    p.both(&["APPEND", "tail", "hello"]);
    let wrongtype = Resp::err(WRONGTYPE);
    let not_hll = Resp::err(NOT_HLL);
    let corrupt = Resp::err(CORRUPT);
    let script: &[(&[&str], &Resp)] = &[
        (&["PFADD", "list", "a"], &wrongtype),
        (&["PFCOUNT", "list"], &wrongtype),
        (&["PFCOUNT", "hll", "list"], &wrongtype),
        (&["PFMERGE", "list", "hll"], &wrongtype),
        (&["PFMERGE", "hll", "list"], &wrongtype),
        (&["PFDEBUG", "ENCODING", "list"], &wrongtype),
        (&["PFADD", "str", "a"], &not_hll),
        (&["PFADD", "int", "a"], &not_hll),
        (&["PFADD", "short"], &not_hll),
        (&["PFCOUNT", "str"], &not_hll),
        (&["PFCOUNT", "magic"], &not_hll),
        (&["PFCOUNT", "enc"], &not_hll),
        (&["PFCOUNT", "dense-len"], &not_hll),
        (&["PFCOUNT", "hll", "str"], &not_hll),
        (&["PFMERGE", "dest", "hll", "str"], &not_hll),
        (&["PFMERGE", "str", "hll"], &not_hll),
        (&["PFDEBUG", "GETREG", "str"], &not_hll),
        (&["PFCOUNT", "tail"], &corrupt),
        (&["PFCOUNT", "hll", "tail"], &corrupt),
        (&["PFMERGE", "dest", "tail"], &corrupt),
        (&["PFDEBUG", "GETREG", "tail"], &corrupt),
        (&["PFDEBUG", "TODENSE", "tail"], &corrupt),
    ];
    for (args, want) in script {
        assert_eq!(&p.both(args), *want, "{args:?}");
    }
    assert_eq!(p.value("dest"), b"", "no destination after a failed merge");
    // The tail is not looked at by an add (Redis finds no error there).
    p.both(&["PFADD", "tail", "z"]);
    p.value("tail");
    for args in [
        &["PFADD"][..],
        &["PFCOUNT"],
        &["PFMERGE"],
        &["PFDEBUG", "ENCODING"],
        &["PFDEBUG", "ENCODING", "hll", "x"],
        &["PFDEBUG", "NOSUCH", "hll"],
        &["PFDEBUG", "NOSUCH", "missing"],
        &["PFDEBUG", "ENCODING", "missing"],
        &["PFSELFTEST", "x"],
    ] {
        assert!(matches!(p.both(args), Resp::Error(_)), "{args:?}");
    }
    p.both(&["PFDEBUG", "TODENSE", "hll"]);
    assert_eq!(p.both(&["PFDEBUG", "DECODE", "hll"]), Resp::err("ERR HLL encoding is not sparse"));
    p.both(&["CONFIG", "SET", "hll-sparse-max-bytes", "-1"]);
    p.both(&["CONFIG", "SET", "hll-sparse-max-bytes", "9223372036854775808"]);
    p.both(&["CONFIG", "SET", "hll-sparse-max-bytes", "3kb"]);
    p.both(&["CONFIG", "GET", "hll-sparse-max-bytes"]);
    assert_eq!(p.forkv.cmd(&["PFSELFTEST"]), Resp::ok());
}

/// Random bytes written over sketches, as Redis's fuzzing test does: every
/// command must answer as redis-server does and leave the same bytes,
/// corrupted or not, and nothing may crash.
#[test]
fn corrupted_sketches_behave_as_inredis_server() {
    let Some(mut p) = start_pair() else { return };
    let mut rng = Rng::from_time();
    for round in 0..300 {
        p.both(&["DEL", "hll", "dest", "sum"]);
        // At least one element: the sketch must exist for SETRANGE to corrupt it.
        let n = 1 + rng.below(if round % 3 == 0 { 4000 } else { 400 }) as usize;
        for chunk in elements(&format!("f{round}"), 0..n).chunks(1000) {
            p.pfadd("hll", chunk);
        }
        let len = p.value("hll").len() as u64;
        for _ in 0..5 {
            let pos = rng.below(len).to_string();
            let byte = [rng.below(256) as u8];
            p.both_bytes(&[b"SETRANGE", b"hll", pos.as_bytes(), &byte]);
            if rng.below(2) == 0 {
                break;
            }
        }
        p.both(&["PFCOUNT", "hll"]);
        p.value("hll");
        p.both(&["PFCOUNT", "hll", "nosuch"]);
        p.both(&["PFMERGE", "dest", "hll"]);
        p.value("dest");
        p.pfadd("hll", &elements("late", 0..1 + rng.below(20) as usize));
        p.value("hll");
        p.both(&["PFCOUNT", "hll"]);
        p.pfadd("sum", &elements("s", 0..50));
        p.both(&["PFMERGE", "sum", "hll"]);
        p.value("sum");
    }
    assert_eq!(p.forkv.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn watch_sees_a_cache_refresh_but_not_an_add_that_changes_nothing() {
    let Some(mut p) = start_pair() else { return };
    let mut others = [Raw::connect(p.forkv_server.port), Raw::connect(p.redis_server.port)];
    p.both(&["PFADD", "k", "a", "b"]);
    p.both(&["PFCOUNT", "k"]);
    for (touch, expect_abort) in [
        (&["PFADD", "k", "a"][..], false),
        (&["PFADD", "k", "c"], true),
        (&["PFCOUNT", "k"], true),
        (&["PFCOUNT", "k"], false),
    ] {
        p.both(&["WATCH", "k"]);
        for o in &mut others {
            o.cmd(touch);
        }
        p.both(&["MULTI"]);
        p.both(&["PING"]);
        let exec = p.both(&["EXEC"]);
        assert_eq!(exec == Resp::NullArray, expect_abort, "{touch:?}: {exec:?}");
    }
}

/// Every sketch change, a PFCOUNT's cache refresh included, is in the AOF
/// and replays to the same bytes.
#[test]
fn sketches_come_back_the_same_after_an_aof_restart() {
    let mut server = Server::start_with(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
        "--hll-sparse-max-bytes",
        "200",
    ]);
    let mut r = Raw::connect(server.port);
    let add = |r: &mut Raw, key: &str, els: &[String]| {
        let mut args = vec!["PFADD", key];
        args.extend(els.iter().map(String::as_str));
        r.cmd(&args)
    };
    add(&mut r, "sparse", &elements("s", 0..20));
    add(&mut r, "sparse", &elements("s", 0..20));
    for chunk in elements("d", 0..50_000).chunks(5000) {
        add(&mut r, "dense", chunk);
    }
    assert_eq!(r.cmd(&["PFCOUNT", "sparse"]).int(), r.cmd(&["PFCOUNT", "sparse"]).int());
    r.cmd(&["PFCOUNT", "dense"]);
    assert_eq!(r.cmd(&["PFMERGE", "merged", "sparse", "dense"]), Resp::ok());
    add(&mut r, "converted", &elements("c", 0..10));
    assert_eq!(r.cmd(&["PFDEBUG", "TODENSE", "converted"]), Resp::Int(1));
    add(&mut r, "empty", &[]);
    // Promoted early by the configured limit.
    add(&mut r, "small-limit", &elements("l", 0..100));
    assert_eq!(r.cmd(&["PFDEBUG", "ENCODING", "sparse"]).text(), "sparse");
    let keys = ["sparse", "dense", "merged", "converted", "empty", "small-limit"];
    let before: Vec<Resp> = keys.iter().map(|k| r.cmd(&["GET", k])).collect();
    assert!(before.iter().all(|v| matches!(v, Resp::Bulk(b) if b.starts_with(b"HYLL"))));
    assert_eq!(r.cmd(&["PFDEBUG", "ENCODING", "small-limit"]).text(), "dense");
    let aof = std::fs::read(server.path("appendonly.aof")).unwrap();
    let pfcounts = aof.windows(7).filter(|w| w.eq_ignore_ascii_case(b"pfcount")).count();
    assert_eq!(pfcounts, 2, "a count from the cache is not logged, a refresh is");
    drop(r);
    server.restart();
    let mut r = Raw::connect(server.port);
    let after: Vec<Resp> = keys.iter().map(|k| r.cmd(&["GET", k])).collect();
    assert_eq!(after, before);
    assert_eq!(r.cmd(&["PFDEBUG", "ENCODING", "converted"]).text(), "dense");
}

/// A snapshot redis-server saved, with sketches in it, loads into forkv.
#[test]
fn sketches_in_aredis_server_snapshot_load_into_forkv() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (redis_server, mut con) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    let mut r = Raw::connect(redis_server.port);
    let mut args = vec!["PFADD", "dense"];
    let many = elements("d", 0..20_000);
    args.extend(many.iter().map(String::as_str));
    r.cmd(&args);
    r.cmd(&["PFADD", "sparse", "a", "b", "c"]);
    r.cmd(&["PFCOUNT", "sparse"]);
    let keys = ["dense", "sparse"];
    let counts: Vec<Resp> = keys.iter().map(|k| r.cmd(&["PFCOUNT", k])).collect();
    let values: Vec<Resp> = keys.iter().map(|k| r.cmd(&["GET", k])).collect();
    assert_eq!(r.cmd(&["SAVE"]), Resp::ok());
    drop(r);
    redis_server.shutdown(&mut con);
    let mut server = Server::start();
    server.kill();
    std::fs::copy(dir.path().join("dump.rdb"), server.path("dump.rdb")).unwrap();
    server.spawn();
    let mut f = Raw::connect(server.port);
    let loaded: Vec<Resp> = keys.iter().map(|k| f.cmd(&["GET", k])).collect();
    assert_eq!(loaded, values);
    let recounted: Vec<Resp> = keys.iter().map(|k| f.cmd(&["PFCOUNT", k])).collect();
    assert_eq!(recounted, counts);
    assert_eq!(f.cmd(&["PFDEBUG", "ENCODING", "dense"]).text(), "dense");
    assert_eq!(f.cmd(&["PFADD", "sparse", "a"]), Resp::Int(0));
    assert_eq!(f.cmd(&["PFADD", "sparse", "d"]), Resp::Int(1));
}
