//! Set commands over a real connection, with Redis 7.0's replies and errors.

mod common;

use common::{encoding, err, q, Server, WRONGTYPE};
use redis::{Connection, Value};
use std::collections::{BTreeSet, HashSet};

fn members(con: &mut Connection, key: &str) -> BTreeSet<String> {
    q(con, &["SMEMBERS", key])
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// SADD of `n` members named by `f`, in batches.
fn fill(con: &mut Connection, key: &str, n: usize, f: impl Fn(usize) -> String) {
    let all: Vec<String> = (0..n).map(f).collect();
    for chunk in all.chunks(200) {
        let mut args = vec!["SADD", key];
        args.extend(chunk.iter().map(String::as_str));
        q::<i64>(con, &args);
    }
}

#[test]
fn sadd_srem_and_membership() {
    let server = Server::start();
    let con = &mut server.client();
    assert_eq!(q::<i64>(con, &["SADD", "s", "a", "b", "a"]), 2);
    assert_eq!(q::<i64>(con, &["SADD", "s", "b", "c"]), 1);
    assert_eq!(members(con, "s"), set_of(&["a", "b", "c"]));
    assert!(members(con, "nokey").is_empty());
    assert_eq!(q::<i64>(con, &["SCARD", "s"]), 3);
    assert_eq!(q::<i64>(con, &["SCARD", "nokey"]), 0);
    assert_eq!(q::<i64>(con, &["SISMEMBER", "s", "a"]), 1);
    assert_eq!(q::<i64>(con, &["SISMEMBER", "s", "z"]), 0);
    assert_eq!(q::<i64>(con, &["SISMEMBER", "nokey", "a"]), 0);
    assert_eq!(q::<Vec<i64>>(con, &["SMISMEMBER", "s", "a", "z", "c"]), [1, 0, 1]);
    assert_eq!(q::<Vec<i64>>(con, &["SMISMEMBER", "nokey", "a", "b"]), [0, 0]);
    assert_eq!(q::<i64>(con, &["SREM", "s", "a", "z", "a"]), 1);
    assert_eq!(q::<i64>(con, &["SREM", "nokey", "a"]), 0);
    assert_eq!(q::<i64>(con, &["SREM", "s", "b", "c"]), 2);
    assert_eq!(q::<i64>(con, &["EXISTS", "s"]), 0, "the last SREM deletes the key");
    assert_eq!(q::<String>(con, &["TYPE", "nums"]), "none");
    q::<i64>(con, &["SADD", "nums", "3", "-1", "10"]);
    assert_eq!(q::<String>(con, &["TYPE", "nums"]), "set");
    assert_eq!(q::<i64>(con, &["SISMEMBER", "nums", "03"]), 0);
    assert_eq!(q::<i64>(con, &["SISMEMBER", "nums", "-1"]), 1);
    assert_eq!(err(con, &["SADD", "s"]), "ERR wrong number of arguments for 'sadd' command");
    assert_eq!(err(con, &["SMISMEMBER", "s"]), "ERR wrong number of arguments for 'smismember' command");
    assert_eq!(err(con, &["SINTERCARD", "1"]), "ERR wrong number of arguments for 'sintercard' command");
}

#[test]
fn set_commands_refuse_other_types() {
    let server = Server::start();
    let con = &mut server.client();
    q::<String>(con, &["SET", "str", "v"]);
    q::<i64>(con, &["SADD", "s", "1"]);
    let cmds: &[&[&str]] = &[
        &["SADD", "str", "a"],
        &["SREM", "str", "a"],
        &["SMEMBERS", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "-2"],
        &["SMOVE", "str", "s", "1"],
        &["SMOVE", "s", "str", "1"],
        &["SINTER", "s", "str"],
        &["SINTER", "nokey", "str"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SUNION", "s", "str"],
        &["SDIFF", "s", "str"],
        &["SDIFF", "nokey", "str"],
        &["SINTERSTORE", "d", "nokey", "str"],
        &["SUNIONSTORE", "d", "s", "str"],
        &["SDIFFSTORE", "d", "s", "str"],
        &["SSCAN", "str", "0"],
    ];
    for c in cmds {
        assert_eq!(err(con, c), WRONGTYPE, "{c:?}");
    }
    assert_eq!(q::<String>(con, &["GET", "str"]), "v");
    assert_eq!(members(con, "s"), set_of(&["1"]));
    assert_eq!(q::<i64>(con, &["EXISTS", "d"]), 0);
    // A missing source makes SMOVE answer 0 before any type check.
    assert_eq!(q::<i64>(con, &["SMOVE", "nokey", "str", "1"]), 0);
}

#[test]
fn intset_converts_to_hashtable_at_the_thresholds() {
    let server = Server::start();
    let con = &mut server.client();
    fill(con, "ints", 512, |i| i.to_string());
    assert_eq!(encoding(con, "ints"), "intset");
    q::<i64>(con, &["SADD", "ints", "0"]);
    assert_eq!(encoding(con, "ints"), "intset");
    q::<i64>(con, &["SADD", "ints", "512"]);
    assert_eq!(encoding(con, "ints"), "hashtable");
    assert_eq!(q::<i64>(con, &["SCARD", "ints"]), 513);
    q::<i64>(con, &["SREM", "ints", "512", "511"]);
    assert_eq!(encoding(con, "ints"), "hashtable", "never converts back");

    q::<i64>(con, &["SADD", "edge", "-9223372036854775808", "9223372036854775807"]);
    assert_eq!(encoding(con, "edge"), "intset");
    assert_eq!(members(con, "edge"), set_of(&["-9223372036854775808", "9223372036854775807"]));
    for non_int in ["x", "01", "1.0", " 1", "9223372036854775808"] {
        q::<i64>(con, &["DEL", "t"]);
        q::<i64>(con, &["SADD", "t", "1", non_int]);
        assert_eq!(encoding(con, "t"), "hashtable", "{non_int:?}");
        assert_eq!(members(con, "t"), set_of(&["1", non_int]));
    }
    q::<i64>(con, &["SADD", "str", "a"]);
    assert_eq!(encoding(con, "str"), "hashtable");

    q::<String>(con, &["CONFIG", "SET", "set-max-intset-entries", "2"]);
    q::<i64>(con, &["SADD", "small", "1", "2"]);
    assert_eq!(encoding(con, "small"), "intset");
    q::<i64>(con, &["SADD", "small", "3"]);
    assert_eq!(encoding(con, "small"), "hashtable");
}

#[test]
fn spop_removes_random_members() {
    let server = Server::start();
    let con = &mut server.client();
    for (key, n) in [("small", 20usize), ("big", 600)] {
        fill(con, key, n, |i| format!("m{i}"));
        let before = members(con, key);
        let one: String = q(con, &["SPOP", key]);
        assert!(before.contains(&one));
        let popped: Vec<String> = q(con, &["SPOP", key, "5"]);
        assert_eq!(popped.len(), 5);
        let distinct: HashSet<&String> = popped.iter().collect();
        assert_eq!(distinct.len(), 5, "distinct");
        assert!(!distinct.contains(&one));
        let after = members(con, key);
        assert_eq!(after.len(), n - 6);
        for p in popped.iter().chain([&one]) {
            assert!(before.contains(p) && !after.contains(p));
        }
        assert!(q::<Vec<String>>(con, &["SPOP", key, "0"]).is_empty());
        let rest: BTreeSet<String> = q(con, &["SPOP", key, &(n * 2).to_string()]);
        assert_eq!(rest, after);
        assert_eq!(q::<i64>(con, &["EXISTS", key]), 0);
    }
    q::<i64>(con, &["SADD", "ints", "1", "2", "3"]);
    assert_eq!(q::<Vec<String>>(con, &["SPOP", "ints", "2"]).len(), 2);
    q::<String>(con, &["SPOP", "ints"]);
    assert_eq!(q::<i64>(con, &["EXISTS", "ints"]), 0, "the last SPOP deletes the key");

    assert_eq!(q::<Option<String>>(con, &["SPOP", "nokey"]), None);
    assert!(q::<Vec<String>>(con, &["SPOP", "nokey", "3"]).is_empty());
    q::<i64>(con, &["SADD", "s", "a"]);
    assert_eq!(err(con, &["SPOP", "s", "-1"]), "ERR value is out of range, must be positive");
    assert_eq!(err(con, &["SPOP", "s", "abc"]), "ERR value is out of range, must be positive");
    assert_eq!(err(con, &["SPOP", "s", "1", "2"]), "ERR syntax error");
    assert_eq!(members(con, "s"), set_of(&["a"]));
}

#[test]
fn spop_replays_from_the_aof_to_the_same_set() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "yes", "--appendfsync", "always"]);
    let con = &mut server.client();
    fill(con, "s", 300, |i| format!("m{i}"));
    fill(con, "ints", 50, |i| i.to_string());
    fill(con, "gone", 10, |i| i.to_string());
    q::<String>(con, &["SPOP", "s"]);
    q::<Vec<String>>(con, &["SPOP", "s", "40"]);
    q::<Vec<String>>(con, &["SPOP", "ints", "7"]);
    q::<Vec<String>>(con, &["SPOP", "gone", "10"]);
    q::<i64>(con, &["SADD", "one", "x"]);
    q::<String>(con, &["SPOP", "one"]);
    q::<i64>(con, &["SMOVE", "ints", "moved", "49"]);
    let s = members(con, "s");
    let ints = members(con, "ints");
    let moved = members(con, "moved");
    assert_eq!(s.len(), 259);
    let aof = std::fs::read_to_string(server.path("appendonly.aof")).unwrap();
    assert!(!aof.to_ascii_uppercase().contains("SPOP"), "SPOP is logged as SREM/DEL");
    server.kill();
    server.spawn();
    let con = &mut server.client();
    assert_eq!(members(con, "s"), s);
    assert_eq!(members(con, "ints"), ints);
    assert_eq!(members(con, "moved"), moved);
    assert_eq!(q::<i64>(con, &["EXISTS", "gone", "one"]), 0);
}

#[test]
fn srandmember_counts_and_distinctness() {
    let server = Server::start();
    let con = &mut server.client();
    for (key, n) in [("small", 5usize), ("ints", 100), ("big", 400)] {
        if key == "ints" {
            fill(con, key, n, |i| i.to_string());
        } else {
            fill(con, key, n, |i| format!("m{i}"));
        }
        let all = members(con, key);
        let one: String = q(con, &["SRANDMEMBER", key]);
        assert!(all.contains(&one));
        for count in [1, 3, n - 1, n, n + 10] {
            let got: Vec<String> = q(con, &["SRANDMEMBER", key, &count.to_string()]);
            assert_eq!(got.len(), count.min(n), "{key} {count}");
            assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "distinct");
            assert!(got.iter().all(|m| all.contains(m)));
        }
        let rep: Vec<String> = q(con, &["SRANDMEMBER", key, &format!("-{}", n * 3)]);
        assert_eq!(rep.len(), n * 3);
        assert!(rep.iter().all(|m| all.contains(m)));
        assert!(rep.iter().collect::<HashSet<_>>().len() < n * 3, "repeats allowed");
        assert_eq!(members(con, key), all, "nothing removed");
    }
    assert!(q::<Vec<String>>(con, &["SRANDMEMBER", "small", "0"]).is_empty());
    assert_eq!(q::<Option<String>>(con, &["SRANDMEMBER", "nokey"]), None);
    assert!(q::<Vec<String>>(con, &["SRANDMEMBER", "nokey", "5"]).is_empty());
    assert!(q::<Vec<String>>(con, &["SRANDMEMBER", "nokey", "-5"]).is_empty());
    assert_eq!(err(con, &["SRANDMEMBER", "small", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(err(con, &["SRANDMEMBER", "small", "1", "2"]), "ERR syntax error");
    assert_eq!(
        err(con, &["SRANDMEMBER", "small", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
}

#[test]
fn smove_moves_one_member() {
    let server = Server::start();
    let con = &mut server.client();
    q::<i64>(con, &["SADD", "a", "1", "2", "x"]);
    q::<i64>(con, &["SADD", "b", "3"]);
    assert_eq!(q::<i64>(con, &["SMOVE", "a", "b", "1"]), 1);
    assert_eq!(members(con, "a"), set_of(&["2", "x"]));
    assert_eq!(members(con, "b"), set_of(&["1", "3"]));
    assert_eq!(q::<i64>(con, &["SMOVE", "a", "b", "zz"]), 0);
    assert_eq!(q::<i64>(con, &["SMOVE", "nokey", "b", "1"]), 0);
    q::<i64>(con, &["SADD", "b", "2"]);
    assert_eq!(q::<i64>(con, &["SMOVE", "a", "b", "2"]), 1, "already in the destination");
    assert_eq!(members(con, "b"), set_of(&["1", "2", "3"]));
    assert_eq!(q::<i64>(con, &["SMOVE", "a", "a", "x"]), 1);
    assert_eq!(q::<i64>(con, &["SMOVE", "a", "a", "zz"]), 0);
    assert_eq!(members(con, "a"), set_of(&["x"]));
    assert_eq!(q::<i64>(con, &["SMOVE", "a", "new", "x"]), 1);
    assert_eq!(q::<i64>(con, &["EXISTS", "a"]), 0, "emptied source is deleted");
    assert_eq!(members(con, "new"), set_of(&["x"]));
    assert_eq!(encoding(con, "new"), "hashtable");
    q::<i64>(con, &["SMOVE", "b", "newints", "3"]);
    assert_eq!(encoding(con, "newints"), "intset");
}

#[test]
fn inter_union_diff() {
    let server = Server::start();
    let con = &mut server.client();
    q::<i64>(con, &["SADD", "a", "1", "2", "3", "x", "y"]);
    q::<i64>(con, &["SADD", "b", "2", "3", "4", "y"]);
    q::<i64>(con, &["SADD", "c", "3", "y", "z"]);
    assert_eq!(q::<BTreeSet<String>>(con, &["SINTER", "a", "b"]), set_of(&["2", "3", "y"]));
    assert_eq!(q::<BTreeSet<String>>(con, &["SINTER", "a", "b", "c"]), set_of(&["3", "y"]));
    assert_eq!(q::<BTreeSet<String>>(con, &["SINTER", "a"]), members(con, "a"));
    assert!(q::<Vec<String>>(con, &["SINTER", "a", "nokey"]).is_empty());
    assert!(q::<Vec<String>>(con, &["SINTER", "nokey", "a"]).is_empty());
    assert_eq!(q::<BTreeSet<String>>(con, &["SUNION", "a", "b", "c"]), set_of(&["1", "2", "3", "4", "x", "y", "z"]));
    assert_eq!(q::<BTreeSet<String>>(con, &["SUNION", "nokey", "c"]), set_of(&["3", "y", "z"]));
    assert!(q::<Vec<String>>(con, &["SUNION", "nokey"]).is_empty());
    assert_eq!(q::<BTreeSet<String>>(con, &["SDIFF", "a", "b"]), set_of(&["1", "x"]));
    assert_eq!(q::<BTreeSet<String>>(con, &["SDIFF", "a", "b", "c"]), set_of(&["1", "x"]));
    assert_eq!(q::<BTreeSet<String>>(con, &["SDIFF", "a", "nokey"]), members(con, "a"));
    assert!(q::<Vec<String>>(con, &["SDIFF", "a", "a"]).is_empty());
    assert!(q::<Vec<String>>(con, &["SDIFF", "nokey", "a"]).is_empty());

    assert_eq!(q::<i64>(con, &["SINTERCARD", "2", "a", "b"]), 3);
    assert_eq!(q::<i64>(con, &["SINTERCARD", "3", "a", "b", "c"]), 2);
    assert_eq!(q::<i64>(con, &["SINTERCARD", "2", "a", "b", "LIMIT", "2"]), 2);
    assert_eq!(q::<i64>(con, &["SINTERCARD", "2", "a", "b", "limit", "0"]), 3);
    assert_eq!(q::<i64>(con, &["SINTERCARD", "2", "a", "b", "LIMIT", "100"]), 3);
    assert_eq!(q::<i64>(con, &["SINTERCARD", "1", "a"]), 5);
    assert_eq!(q::<i64>(con, &["SINTERCARD", "2", "a", "nokey"]), 0);
    let numkeys = "ERR numkeys should be greater than 0";
    assert_eq!(err(con, &["SINTERCARD", "0", "a"]), numkeys);
    assert_eq!(err(con, &["SINTERCARD", "-1", "a"]), numkeys);
    assert_eq!(err(con, &["SINTERCARD", "abc", "a"]), numkeys);
    assert_eq!(err(con, &["SINTERCARD", "3", "a", "b"]), "ERR Number of keys can't be greater than number of args");
    assert_eq!(err(con, &["SINTERCARD", "1", "a", "LIMIT", "-1"]), "ERR LIMIT can't be negative");
    assert_eq!(err(con, &["SINTERCARD", "1", "a", "LIMIT", "abc"]), "ERR LIMIT can't be negative");
    assert_eq!(err(con, &["SINTERCARD", "1", "a", "LIMIT"]), "ERR syntax error");
    assert_eq!(err(con, &["SINTERCARD", "1", "a", "b"]), "ERR syntax error");
}

#[test]
fn store_variants_overwrite_or_delete_the_destination() {
    let server = Server::start();
    let con = &mut server.client();
    q::<i64>(con, &["SADD", "a", "1", "2", "3", "x"]);
    q::<i64>(con, &["SADD", "b", "2", "3", "4"]);
    q::<i64>(con, &["SADD", "i1", "1", "2", "3"]);
    q::<i64>(con, &["SADD", "i2", "2", "3", "4"]);

    assert_eq!(q::<i64>(con, &["SINTERSTORE", "d", "a", "b"]), 2);
    assert_eq!(members(con, "d"), set_of(&["2", "3"]));
    assert_eq!(encoding(con, "d"), "intset", "the result is encoded by its contents");
    assert_eq!(q::<i64>(con, &["SUNIONSTORE", "d", "a", "b"]), 5);
    assert_eq!(members(con, "d"), set_of(&["1", "2", "3", "4", "x"]));
    assert_eq!(encoding(con, "d"), "hashtable");
    assert_eq!(q::<i64>(con, &["SDIFFSTORE", "d", "a", "b"]), 2);
    assert_eq!(members(con, "d"), set_of(&["1", "x"]));
    assert_eq!(q::<i64>(con, &["SUNIONSTORE", "u", "i1", "i2"]), 4);
    assert_eq!(encoding(con, "u"), "intset");

    // The destination may be a source.
    assert_eq!(q::<i64>(con, &["SINTERSTORE", "a", "a", "b"]), 2);
    assert_eq!(members(con, "a"), set_of(&["2", "3"]));

    // Any type is overwritten, and the TTL goes with the old value.
    q::<String>(con, &["SET", "str", "v", "EX", "100"]);
    assert_eq!(q::<i64>(con, &["SUNIONSTORE", "str", "b"]), 3);
    assert_eq!(q::<String>(con, &["TYPE", "str"]), "set");
    assert_eq!(q::<i64>(con, &["TTL", "str"]), -1);
    q::<i64>(con, &["HSET", "h", "f", "v"]);
    assert_eq!(q::<i64>(con, &["SDIFFSTORE", "h", "b", "nokey"]), 3);
    assert_eq!(q::<String>(con, &["TYPE", "h"]), "set");

    // An empty result deletes the destination, whatever it held.
    q::<String>(con, &["SET", "str", "v"]);
    assert_eq!(q::<i64>(con, &["SINTERSTORE", "str", "a", "nokey"]), 0);
    assert_eq!(q::<i64>(con, &["EXISTS", "str"]), 0);
    assert_eq!(q::<i64>(con, &["SDIFFSTORE", "d", "a", "a"]), 0);
    assert_eq!(q::<i64>(con, &["EXISTS", "d"]), 0);
    q::<i64>(con, &["SADD", "d", "q"]);
    assert_eq!(q::<i64>(con, &["SUNIONSTORE", "d", "nokey"]), 0);
    assert_eq!(q::<i64>(con, &["EXISTS", "d"]), 0);
    assert_eq!(q::<i64>(con, &["SINTERSTORE", "d", "a", "i1", "x"]), 0);
    assert_eq!(q::<i64>(con, &["EXISTS", "d"]), 0);
}

#[test]
fn store_variants_invalidate_watch_on_the_destination() {
    let server = Server::start();
    let con = &mut server.client();
    let other = &mut server.client();
    q::<i64>(con, &["SADD", "a", "1", "2"]);
    q::<i64>(con, &["SADD", "b", "2"]);
    let writes: &[&[&str]] = &[
        &["SINTERSTORE", "d", "a", "b"],
        &["SUNIONSTORE", "d", "a", "b"],
        &["SDIFFSTORE", "d", "a", "nokey"],
        &["SINTERSTORE", "d", "a", "nokey"],
        &["SMOVE", "a", "d", "1"],
        &["SMOVE", "d", "a", "1"],
        &["SADD", "d", "x", "y"],
        &["SPOP", "d", "1"],
        &["SPOP", "d"],
    ];
    for write in writes {
        q::<String>(con, &["WATCH", "d"]);
        q::<String>(con, &["MULTI"]);
        q::<String>(con, &["PING"]);
        q::<Value>(other, write);
        assert_eq!(q::<Value>(con, &["EXEC"]), Value::Nil, "{write:?}");
    }
}

#[test]
fn smove_of_a_member_the_destination_has_leaves_its_watch_alone() {
    let server = Server::start();
    let con = &mut server.client();
    let other = &mut server.client();
    q::<i64>(con, &["SADD", "src", "a", "b"]);
    q::<i64>(con, &["SADD", "dst", "a"]);
    for (watched, fails) in [("dst", false), ("src", true)] {
        q::<String>(con, &["WATCH", watched]);
        q::<String>(con, &["MULTI"]);
        q::<String>(con, &["SADD", "dst", "c"]);
        assert_eq!(q::<i64>(other, &["SMOVE", "src", "dst", "a"]), 1);
        let exec = q::<Value>(con, &["EXEC"]);
        assert_eq!(exec == Value::Nil, fails, "WATCH {watched}: {exec:?}");
        q::<i64>(con, &["SADD", "src", "a"]);
    }
    assert_eq!(members(con, "dst"), set_of(&["a", "c"]));
}

/// Runs SSCAN to completion; every member returned.
fn full_sscan(con: &mut Connection, key: &str, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["SSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(con, &args);
        out.extend(items);
        calls += 1;
        assert!(calls < 10_000, "SSCAN does not terminate");
        if next == "0" {
            return out;
        }
        cursor = next;
    }
}

#[test]
fn sscan_returns_every_member() {
    let server = Server::start();
    let con = &mut server.client();
    fill(con, "ints", 100, |i| i.to_string());
    let (cursor, items): (String, Vec<String>) = q(con, &["SSCAN", "ints", "0", "COUNT", "5"]);
    assert_eq!((cursor.as_str(), items.len()), ("0", 100), "an intset is returned in one go");
    let (_, items): (String, Vec<String>) = q(con, &["SSCAN", "ints", "0", "MATCH", "9?"]);
    assert_eq!(items.into_iter().collect::<BTreeSet<_>>(), (90..100).map(|i| i.to_string()).collect());

    fill(con, "big", 2000, |i| format!("member:{i}"));
    for extra in [&[][..], &["COUNT", "3"], &["COUNT", "5000"]] {
        let got = full_sscan(con, "big", extra);
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), 2000, "{extra:?}");
    }
    let matched: BTreeSet<String> = full_sscan(con, "big", &["MATCH", "*:19??", "COUNT", "100"]).into_iter().collect();
    assert_eq!(matched, (1900..2000).map(|i| format!("member:{i}")).collect());
    assert!(full_sscan(con, "nokey", &[]).is_empty());
    assert_eq!(err(con, &["SSCAN", "big", "x"]), "ERR invalid cursor");
    assert_eq!(err(con, &["SSCAN", "big", "0", "COUNT", "0"]), "ERR syntax error");
    assert_eq!(err(con, &["SSCAN", "big", "0", "COUNT", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(con, &["SSCAN", "big", "0", "NOPE", "x"]), "ERR syntax error");
}

#[test]
fn resp3_reply_shapes() {
    let server = Server::start();
    let mut s = server.raw();
    common::roundtrip(&mut s, b"HELLO 3\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SADD s 1\r\n"), b":1\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SMEMBERS s\r\n"), b"~1\r\n$1\r\n1\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SMEMBERS nokey\r\n"), b"~0\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SINTER s s\r\n"), b"~1\r\n$1\r\n1\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SUNION nokey\r\n"), b"~0\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SRANDMEMBER s 5\r\n"), b"*1\r\n$1\r\n1\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SRANDMEMBER nokey\r\n"), b"_\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SPOP nokey 2\r\n"), b"~0\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SPOP s 2\r\n"), b"~1\r\n$1\r\n1\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SPOP s\r\n"), b"_\r\n");
    assert_eq!(common::roundtrip(&mut s, b"SMISMEMBER nokey a\r\n"), b"*1\r\n:0\r\n");
}

/// Reads a connection to its end (bounded by `limit`): the byte count and
/// whether the server closed it.
fn drain(s: &mut std::net::TcpStream, limit: std::time::Duration) -> (usize, bool) {
    use std::io::Read;
    let start = std::time::Instant::now();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let (mut total, mut buf) = (0, vec![0u8; 1 << 16]);
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return (total, true),
            Ok(n) => total += n,
            Err(_) => break,
        }
    }
    (total, false)
}

/// A negative count draws with replacement and is not bounded by the
/// collection: asked for 2^63-1 draws, SRANDMEMBER, HRANDFIELD and
/// ZRANDMEMBER stop at a quarter GiB of reply and close that client, as
/// Redis does past an output buffer limit, instead of exhausting the
/// server's memory; the server and its data carry on. A large count that
/// fits is answered in full.
#[test]
fn huge_negative_counts_close_the_client_not_the_server() {
    use std::io::Write;
    let server = Server::start();
    let con = &mut server.client();
    let member = "m".repeat(1000);
    q::<i64>(con, &["SADD", "s", &member]);
    q::<i64>(con, &["HSET", "h", &member, "v"]);
    q::<i64>(con, &["ZADD", "z", "1", &member]);
    for (command, key) in [("SRANDMEMBER", "s"), ("HRANDFIELD", "h"), ("ZRANDMEMBER", "z")] {
        let mut raw = server.raw();
        raw.write_all(format!("{command} {key} -9223372036854775807\r\n").as_bytes()).unwrap();
        let (bytes, closed) = drain(&mut raw, std::time::Duration::from_secs(120));
        assert!(closed, "{command}: the connection stays open after {bytes} bytes");
        assert!((256 << 20..300 << 20).contains(&bytes), "{command}: {bytes} bytes before the close");
        assert_eq!(q::<String>(con, &["PING"]), "PONG");
        let drawn: Vec<String> = q(con, &[command, key, "-20000"]);
        assert_eq!(drawn.len(), 20000);
        assert!(drawn.iter().all(|m| *m == member));
    }
    assert_eq!(q::<i64>(con, &["DBSIZE"]), 3);
}
