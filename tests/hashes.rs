//! Hash commands over a real connection, with Redis 7.0's replies and errors.

mod common;

use common::{encoding, err, q, Server, WRONGTYPE};
use redis::{Connection, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn hset_hget_and_friends() {
    let server = Server::start();
    let con = &mut server.client();
    assert_eq!(q::<i64>(con, &["HSET", "h", "a", "1", "b", "2"]), 2);
    assert_eq!(q::<i64>(con, &["HSET", "h", "a", "10", "c", "3"]), 1, "only new fields count");
    assert_eq!(q::<String>(con, &["HGET", "h", "a"]), "10");
    assert_eq!(q::<Option<String>>(con, &["HGET", "h", "zz"]), None);
    assert_eq!(q::<Option<String>>(con, &["HGET", "nokey", "a"]), None);
    assert_eq!(q::<String>(con, &["HMSET", "h", "d", "4", "e", "5"]), "OK");
    assert_eq!(
        q::<Vec<Option<String>>>(con, &["HMGET", "h", "a", "zz", "e"]),
        [Some("10".into()), None, Some("5".into())]
    );
    assert_eq!(q::<Vec<Option<String>>>(con, &["HMGET", "nokey", "a", "b"]), [None, None]);
    assert_eq!(q::<i64>(con, &["HSETNX", "h", "a", "x"]), 0);
    assert_eq!(q::<i64>(con, &["HSETNX", "h", "f", "6"]), 1);
    assert_eq!(q::<i64>(con, &["HSETNX", "fresh", "f", "v"]), 1);
    assert_eq!(q::<String>(con, &["HGET", "h", "a"]), "10");
    assert_eq!(q::<i64>(con, &["HLEN", "h"]), 6);
    assert_eq!(q::<i64>(con, &["HLEN", "nokey"]), 0);
    assert_eq!(q::<i64>(con, &["HEXISTS", "h", "f"]), 1);
    assert_eq!(q::<i64>(con, &["HEXISTS", "h", "zz"]), 0);
    assert_eq!(q::<i64>(con, &["HEXISTS", "nokey", "f"]), 0);
    assert_eq!(q::<i64>(con, &["HSTRLEN", "h", "a"]), 2);
    assert_eq!(q::<i64>(con, &["HSTRLEN", "h", "zz"]), 0);
    assert_eq!(q::<i64>(con, &["HSTRLEN", "nokey", "zz"]), 0);
    assert_eq!(sorted(q(con, &["HKEYS", "h"])), ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(sorted(q(con, &["HVALS", "h"])), ["10", "2", "3", "4", "5", "6"]);
    let all: BTreeMap<String, String> = q(con, &["HGETALL", "h"]);
    assert_eq!(all.len(), 6);
    assert_eq!(all["a"], "10");
    assert_eq!(all["f"], "6");
    // Field/value order is kept: the flat RESP2 array pairs them up.
    let flat: Vec<String> = q(con, &["HGETALL", "h"]);
    for pair in flat.chunks(2) {
        assert_eq!(all[&pair[0]], pair[1]);
    }
    assert!(q::<Vec<String>>(con, &["HKEYS", "nokey"]).is_empty());
    assert!(q::<Vec<String>>(con, &["HVALS", "nokey"]).is_empty());
    assert!(q::<Vec<String>>(con, &["HGETALL", "nokey"]).is_empty());
    assert_eq!(q::<String>(con, &["TYPE", "h"]), "hash");
}

#[test]
fn arity_errors() {
    let server = Server::start();
    let con = &mut server.client();
    assert_eq!(err(con, &["HSET", "h", "a"]), "ERR wrong number of arguments for 'hset' command");
    assert_eq!(err(con, &["HSET", "h", "a", "1", "b"]), "ERR wrong number of arguments for 'hset' command");
    assert_eq!(err(con, &["HMSET", "h", "a", "1", "b"]), "ERR wrong number of arguments for 'hmset' command");
    assert_eq!(err(con, &["HSETNX", "h", "a"]), "ERR wrong number of arguments for 'hsetnx' command");
    assert_eq!(err(con, &["HGET", "h"]), "ERR wrong number of arguments for 'hget' command");
    assert_eq!(err(con, &["HDEL", "h"]), "ERR wrong number of arguments for 'hdel' command");
    assert_eq!(err(con, &["HMGET", "h"]), "ERR wrong number of arguments for 'hmget' command");
    assert_eq!(err(con, &["HSCAN", "h"]), "ERR wrong number of arguments for 'hscan' command");
    assert_eq!(err(con, &["HRANDFIELD"]), "ERR wrong number of arguments for 'hrandfield' command");
    assert_eq!(q::<i64>(con, &["EXISTS", "h"]), 0, "failed commands create nothing");
}

#[test]
fn hdel_deletes_the_key_with_its_last_field() {
    let server = Server::start();
    let con = &mut server.client();
    q::<i64>(con, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(q::<i64>(con, &["HDEL", "h", "a", "zz", "a"]), 1);
    assert_eq!(q::<i64>(con, &["HDEL", "h", "zz"]), 0);
    assert_eq!(q::<i64>(con, &["HDEL", "nokey", "a"]), 0);
    assert_eq!(q::<i64>(con, &["HDEL", "h", "b", "c", "d"]), 2);
    assert_eq!(q::<i64>(con, &["EXISTS", "h"]), 0);
}

#[test]
fn hincrby_counts_and_refuses_bad_values() {
    let server = Server::start();
    let con = &mut server.client();
    assert_eq!(q::<i64>(con, &["HINCRBY", "h", "n", "5"]), 5);
    assert_eq!(q::<i64>(con, &["HINCRBY", "h", "n", "-12"]), -7);
    assert_eq!(q::<String>(con, &["HGET", "h", "n"]), "-7");
    assert_eq!(err(con, &["HINCRBY", "h", "n", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(err(con, &["HINCRBY", "h", "n", "1.5"]), "ERR value is not an integer or out of range");
    q::<i64>(con, &["HSET", "h", "s", "str", "f", "1.5", "sp", " 1"]);
    for field in ["s", "f", "sp"] {
        assert_eq!(err(con, &["HINCRBY", "h", field, "1"]), "ERR hash value is not an integer");
    }
    assert_eq!(q::<i64>(con, &["HINCRBY", "h", "max", "9223372036854775807"]), i64::MAX);
    assert_eq!(err(con, &["HINCRBY", "h", "max", "1"]), "ERR increment or decrement would overflow");
    assert_eq!(q::<i64>(con, &["HINCRBY", "h", "min", "-9223372036854775808"]), i64::MIN);
    assert_eq!(err(con, &["HINCRBY", "h", "min", "-1"]), "ERR increment or decrement would overflow");
    assert_eq!(q::<i64>(con, &["HINCRBY", "h", "min", "9223372036854775807"]), -1);
    assert_eq!(err(con, &["HINCRBY", "nokey", "n", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(q::<i64>(con, &["EXISTS", "nokey"]), 0);
}

#[test]
fn hincrbyfloat_adds_and_refuses_bad_values() {
    let server = Server::start();
    let con = &mut server.client();
    assert_eq!(q::<String>(con, &["HINCRBYFLOAT", "h", "f", "10.5"]), "10.5");
    assert_eq!(q::<String>(con, &["HINCRBYFLOAT", "h", "f", "0.5"]), "11");
    assert_eq!(q::<String>(con, &["HINCRBYFLOAT", "h", "f", "-1.25"]), "9.75");
    assert_eq!(q::<String>(con, &["HINCRBYFLOAT", "h", "f", "5.0e3"]), "5009.75");
    assert_eq!(q::<String>(con, &["HGET", "h", "f"]), "5009.75");
    // long double, as in Redis: 1.1 + 2.2 reads 3.3, not 3.3000000000000003.
    assert_eq!(q::<String>(con, &["HINCRBYFLOAT", "h", "d", "1.1"]), "1.1");
    assert_eq!(q::<String>(con, &["HINCRBYFLOAT", "h", "d", "2.2"]), "3.3");
    q::<i64>(con, &["HSET", "h", "i", "3", "s", "abc"]);
    assert_eq!(q::<String>(con, &["HINCRBYFLOAT", "h", "i", "1.5"]), "4.5");
    assert_eq!(err(con, &["HINCRBYFLOAT", "h", "s", "1"]), "ERR hash value is not a float");
    assert_eq!(err(con, &["HINCRBYFLOAT", "h", "f", "abc"]), "ERR value is not a valid float");
    assert_eq!(err(con, &["HINCRBYFLOAT", "h", "f", "inf"]), "ERR value is NaN or Infinity");
    assert_eq!(err(con, &["HINCRBYFLOAT", "h", "f", "nan"]), "ERR value is not a valid float");
    assert_eq!(q::<String>(con, &["HGET", "h", "f"]), "5009.75");
    assert_eq!(err(con, &["HINCRBYFLOAT", "nokey", "f", "x"]), "ERR value is not a valid float");
    assert_eq!(q::<i64>(con, &["EXISTS", "nokey"]), 0);
}

#[test]
fn hincrbyfloat_is_logged_as_its_result() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "yes", "--appendfsync", "always"]);
    let con = &mut server.client();
    q::<String>(con, &["HINCRBYFLOAT", "h", "f", "1.25"]);
    q::<String>(con, &["HINCRBYFLOAT", "h", "f", "2"]);
    q::<i64>(con, &["HINCRBY", "h", "n", "7"]);
    let aof = std::fs::read_to_string(server.path("appendonly.aof")).unwrap();
    assert!(!aof.to_ascii_uppercase().contains("HINCRBYFLOAT"), "AOF:\n{aof}");
    assert!(aof.contains("3.25"), "AOF:\n{aof}");
    server.kill();
    server.spawn();
    let con = &mut server.client();
    let all: BTreeMap<String, String> = q(con, &["HGETALL", "h"]);
    assert_eq!(all, BTreeMap::from([("f".into(), "3.25".into()), ("n".into(), "7".into())]));
}

#[test]
fn hash_commands_refuse_other_types() {
    let server = Server::start();
    let con = &mut server.client();
    q::<String>(con, &["SET", "str", "v"]);
    let cmds: &[&[&str]] = &[
        &["HSET", "str", "a", "1"],
        &["HSETNX", "str", "a", "1"],
        &["HMSET", "str", "a", "1"],
        &["HGET", "str", "a"],
        &["HMGET", "str", "a"],
        &["HDEL", "str", "a"],
        &["HEXISTS", "str", "a"],
        &["HLEN", "str"],
        &["HSTRLEN", "str", "a"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HGETALL", "str"],
        &["HINCRBY", "str", "a", "1"],
        &["HINCRBYFLOAT", "str", "a", "1"],
        &["HSCAN", "str", "0"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "2"],
        &["HRANDFIELD", "str", "-2", "WITHVALUES"],
    ];
    for c in cmds {
        assert_eq!(err(con, c), WRONGTYPE, "{c:?}");
    }
    assert_eq!(q::<String>(con, &["GET", "str"]), "v");
}

#[test]
fn listpack_converts_to_hashtable_at_the_thresholds() {
    let server = Server::start();
    let con = &mut server.client();
    // Redis 7.0's default: 512 fields.
    for i in 0..512 {
        q::<i64>(con, &["HSET", "h", &format!("f{i}"), "v"]);
    }
    assert_eq!(encoding(con, "h"), "listpack");
    q::<i64>(con, &["HSET", "h", "f0", "w"]);
    assert_eq!(encoding(con, "h"), "listpack", "overwriting does not grow it");
    q::<i64>(con, &["HSET", "h", "f512", "v"]);
    assert_eq!(encoding(con, "h"), "hashtable");
    assert_eq!(q::<i64>(con, &["HLEN", "h"]), 513);
    q::<i64>(con, &["HDEL", "h", "f512", "f511"]);
    assert_eq!(encoding(con, "h"), "hashtable", "never converts back");

    let v64 = "x".repeat(64);
    let v65 = "x".repeat(65);
    q::<i64>(con, &["HSET", "v", "a", &v64]);
    assert_eq!(encoding(con, "v"), "listpack");
    q::<i64>(con, &["HSET", "v", "b", &v65]);
    assert_eq!(encoding(con, "v"), "hashtable");
    assert_eq!(q::<String>(con, &["HGET", "v", "b"]), v65);
    q::<i64>(con, &["HSET", "f", &v65, "1"]);
    assert_eq!(encoding(con, "f"), "hashtable", "long field");
    q::<i64>(con, &["HSETNX", "n", "a", &v65]);
    assert_eq!(encoding(con, "n"), "hashtable");
    q::<String>(con, &["HMSET", "m", "a", "1", "b", &v65]);
    assert_eq!(encoding(con, "m"), "hashtable");

    // The thresholds follow CONFIG SET.
    q::<String>(con, &["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    q::<i64>(con, &["HSET", "small", "a", "1", "b", "2"]);
    assert_eq!(encoding(con, "small"), "listpack");
    q::<i64>(con, &["HSET", "small", "c", "3"]);
    assert_eq!(encoding(con, "small"), "hashtable");
}

/// Runs HSCAN to completion; every (field, value) returned.
fn full_hscan(con: &mut Connection, key: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["HSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(con, &args);
        assert_eq!(items.len() % 2, 0);
        out.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
        calls += 1;
        assert!(calls < 10_000, "HSCAN does not terminate");
        if next == "0" {
            return out;
        }
        cursor = next;
    }
}

#[test]
fn hscan_returns_every_field() {
    let server = Server::start();
    let con = &mut server.client();
    q::<i64>(con, &["HSET", "small", "a", "1", "b", "2", "c", "3"]);
    let (cursor, items): (String, Vec<String>) = q(con, &["HSCAN", "small", "0", "COUNT", "1"]);
    assert_eq!(cursor, "0", "a listpack is returned in one go");
    assert_eq!(items.len(), 6);
    let (_, items): (String, Vec<String>) = q(con, &["HSCAN", "small", "0", "MATCH", "b"]);
    assert_eq!(items, ["b", "2"]);

    for chunk in (0..1000).collect::<Vec<_>>().chunks(100) {
        let mut args = vec!["HSET".to_string(), "big".to_string()];
        for i in chunk {
            args.push(format!("field:{i}"));
            args.push(format!("value:{i}"));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        q::<i64>(con, &refs);
    }
    assert_eq!(encoding(con, "big"), "hashtable");
    for extra in [&[][..], &["COUNT", "7"], &["COUNT", "1000"]] {
        let got = full_hscan(con, "big", extra);
        let fields: HashSet<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields.len(), 1000, "{extra:?}");
        for (f, v) in &got {
            assert_eq!(f.replace("field", "value"), *v);
        }
    }
    let matched = full_hscan(con, "big", &["MATCH", "field:1?", "COUNT", "50"]);
    let fields: BTreeSet<String> = matched.into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, (10..20).map(|i| format!("field:{i}")).collect());

    assert!(full_hscan(con, "nokey", &[]).is_empty());
    assert_eq!(err(con, &["HSCAN", "big", "abc"]), "ERR invalid cursor");
    // Redis parses the cursor with strtoul: "-1" wraps and is accepted, a suffix is not.
    assert_eq!(err(con, &["HSCAN", "big", "1x"]), "ERR invalid cursor");
    assert_eq!(err(con, &["HSCAN", "big", "0", "COUNT", "0"]), "ERR syntax error");
    assert_eq!(err(con, &["HSCAN", "big", "0", "COUNT", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(err(con, &["HSCAN", "big", "0", "MATCH"]), "ERR syntax error");
    assert_eq!(err(con, &["HSCAN", "big", "0", "TYPE", "hash"]), "ERR syntax error");
}

#[test]
fn hrandfield_picks_fields() {
    let server = Server::start();
    let con = &mut server.client();
    q::<i64>(con, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]);
    let all: BTreeMap<String, String> = q(con, &["HGETALL", "h"]);
    for _ in 0..20 {
        let f: String = q(con, &["HRANDFIELD", "h"]);
        assert!(all.contains_key(&f));
    }
    assert_eq!(q::<Option<String>>(con, &["HRANDFIELD", "nokey"]), None);
    assert!(q::<Vec<String>>(con, &["HRANDFIELD", "nokey", "3"]).is_empty());
    assert!(q::<Vec<String>>(con, &["HRANDFIELD", "nokey", "-3", "WITHVALUES"]).is_empty());
    assert!(q::<Vec<String>>(con, &["HRANDFIELD", "h", "0"]).is_empty());
    assert!(q::<Vec<String>>(con, &["HRANDFIELD", "h", "0", "WITHVALUES"]).is_empty());

    for n in [1, 3, 5, 6, 100] {
        let got: Vec<String> = q(con, &["HRANDFIELD", "h", &n.to_string()]);
        assert_eq!(got.len(), n.min(5));
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "distinct");
        assert!(got.iter().all(|f| all.contains_key(f)));
        let with: Vec<String> = q(con, &["HRANDFIELD", "h", &n.to_string(), "withvalues"]);
        assert_eq!(with.len(), 2 * n.min(5));
        for p in with.chunks(2) {
            assert_eq!(all[&p[0]], p[1]);
        }
    }
    let many: Vec<String> = q(con, &["HRANDFIELD", "h", "-50"]);
    assert_eq!(many.len(), 50);
    assert!(many.iter().all(|f| all.contains_key(f)));
    assert!(many.iter().collect::<HashSet<_>>().len() < 50, "repeats allowed");
    let with: Vec<String> = q(con, &["HRANDFIELD", "h", "-7", "WITHVALUES"]);
    assert_eq!(with.len(), 14);
    for p in with.chunks(2) {
        assert_eq!(all[&p[0]], p[1]);
    }

    // A big (hashtable) hash: distinct picks below its size.
    for i in 0..300 {
        q::<i64>(con, &["HSET", "big", &i.to_string(), "v"]);
    }
    let got: Vec<String> = q(con, &["HRANDFIELD", "big", "150"]);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 150);

    assert_eq!(err(con, &["HRANDFIELD", "h", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(err(con, &["HRANDFIELD", "h", "2", "foo"]), "ERR syntax error");
    assert_eq!(err(con, &["HRANDFIELD", "h", "2", "WITHVALUES", "x"]), "ERR syntax error");
    assert_eq!(
        err(con, &["HRANDFIELD", "h", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(err(con, &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]), "ERR value is out of range");
}

#[test]
fn resp3_reply_shapes() {
    let server = Server::start();
    let mut s = server.raw();
    common::roundtrip(&mut s, b"HELLO 3\r\n");
    assert_eq!(common::roundtrip(&mut s, b"HSET h a 1\r\n"), b":1\r\n");
    assert_eq!(common::roundtrip(&mut s, b"HGETALL h\r\n"), b"%1\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(common::roundtrip(&mut s, b"HGETALL nokey\r\n"), b"%0\r\n");
    assert_eq!(common::roundtrip(&mut s, b"HKEYS h\r\n"), b"*1\r\n$1\r\na\r\n");
    assert_eq!(common::roundtrip(&mut s, b"HRANDFIELD h 1 WITHVALUES\r\n"), b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(
        common::roundtrip(&mut s, b"HRANDFIELD h -2 WITHVALUES\r\n"),
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(common::roundtrip(&mut s, b"HRANDFIELD nokey\r\n"), b"_\r\n");
    assert_eq!(common::roundtrip(&mut s, b"HMGET h a b\r\n"), b"*2\r\n$1\r\n1\r\n_\r\n");
}

#[test]
fn hash_writes_invalidate_watch() {
    let server = Server::start();
    let con = &mut server.client();
    let other = &mut server.client();
    q::<i64>(con, &["HSET", "h", "a", "1"]);
    for write in [&["HSET", "h", "a", "2"][..], &["HDEL", "h", "a"], &["HINCRBYFLOAT", "h", "f", "1"]] {
        q::<String>(con, &["WATCH", "h"]);
        q::<String>(con, &["MULTI"]);
        q::<String>(con, &["PING"]);
        q::<Value>(other, write);
        assert_eq!(q::<Value>(con, &["EXEC"]), Value::Nil, "{write:?}");
    }
    // A write that changes nothing leaves the watch alone.
    q::<String>(con, &["WATCH", "h"]);
    q::<String>(con, &["MULTI"]);
    q::<String>(con, &["PING"]);
    q::<i64>(other, &["HDEL", "h", "zz"]);
    assert_ne!(q::<Value>(con, &["EXEC"]), Value::Nil);
}
