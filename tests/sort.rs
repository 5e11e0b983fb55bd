//! SORT and SORT_RO against the real binary, side by side with Debian's
//! redis-server 7.0: the same data on both, then thousands of option
//! combinations (orders, ALPHA, LIMIT, BY and GET patterns over strings and
//! hash fields, missing ones, STORE), errors, RESP3, scripts, MULTI, the
//! keyspace counters and changes it reports; and STORE results that come
//! back from forkv's AOF and load into redis-server. Cases from Redis's
//! tests/unit/sort.tcl are among them. The side-by-side tests skip with a
//! note when redis-server is not installed.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use aof_support::{assert_same, dump, RedisServer, Rng};
use common::Server;
use helpers::{info_field, Raw, Resp};
use side_by_side::{start_pair, Pair};

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

impl Pair {
    /// Many commands on both, pipelined; replies are not compared.
    fn load(&mut self, commands: &[Vec<Vec<u8>>]) {
        for raw in [&mut self.forkv, &mut self.redis] {
            for chunk in commands.chunks(1000) {
                let mut out = Vec::new();
                for c in chunk {
                    let args: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
                    out.extend(helpers::encode(&args));
                }
                raw.write(&out);
                for c in chunk {
                    let reply = raw.read();
                    assert!(!matches!(reply, Resp::Error(_)), "{:?}: {reply:?}", c);
                }
            }
        }
    }

    fn connect_both(&self) -> (Raw, Raw) {
        (Raw::connect(self.forkv_server.port), Raw::connect(self.redis_server.port))
    }
}

fn command(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// Elements of every kind SORT meets: numbers in all of strtod's forms,
/// words, duplicates, binary ones with a NUL (strcoll stops there), empty.
const NUMBERS: &[&str] =
    &["10", "3", "-1", "3.5", "2", "10", "0", "1e3", "-inf", " 7", "0x10", "", "+5", "1.5e-3", "-0"];
const WORDS: &[&str] =
    &["banana", "apple", "Cherry", "apple", "a\0z", "a\0b", "", "\u{e9}t\u{e9}", "zz", "10", "\u{ff}"];

/// The same dataset on both servers. Weights tie often, miss sometimes,
/// and are sometimes no number, so every path of the comparison is taken.
fn fill(p: &mut Pair) {
    let mut rng = Rng::new(42);
    let mut cmds: Vec<Vec<Vec<u8>>> = Vec::new();
    let push = |cmds: &mut Vec<Vec<Vec<u8>>>, head: &[&str], items: &[String]| {
        let mut c: Vec<Vec<u8>> = head.iter().map(|h| h.as_bytes().to_vec()).collect();
        c.extend(items.iter().map(|i| i.as_bytes().to_vec()));
        cmds.push(c);
    };
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    push(&mut cmds, &["RPUSH", "nums"], &strings(NUMBERS));
    push(&mut cmds, &["RPUSH", "words"], &strings(WORDS));
    push(&mut cmds, &["RPUSH", "mixed"], &strings(&["1", "two", "3"]));
    push(&mut cmds, &["RPUSH", "one"], &strings(&["42"]));
    let big: Vec<String> = (0..300).map(|_| (rng.below(100) as i64 - 50).to_string()).collect();
    push(&mut cmds, &["RPUSH", "big"], &big);
    push(&mut cmds, &["SADD", "iset"], &strings(&["5", "1", "9", "-3", "7", "100"]));
    push(&mut cmds, &["SADD", "sset"], &strings(&["x", "y", "z", "w", "v", "10", "a\0b"]));
    push(&mut cmds, &["ZADD", "zs"], &strings(&["1", "a", "5", "b", "2", "c", "10", "d", "3", "e"]));
    let mut zbig = Vec::new();
    for i in 0..200 {
        zbig.push(rng.below(1000).to_string());
        zbig.push(i.to_string());
    }
    push(&mut cmds, &["ZADD", "zbig"], &zbig);
    push(&mut cmds, &["ZADD", "znum"], &strings(&["3", "30", "1", "10", "2", "-5", "2", "2.5"]));
    push(&mut cmds, &["SET", "str"], &strings(&["value"]));
    push(&mut cmds, &["HSET", "hash"], &strings(&["f", "v"]));
    // Weights for every element of every source.
    let mut elements: Vec<String> = NUMBERS.iter().chain(WORDS).map(|s| s.to_string()).collect();
    elements.extend((-50..50).map(|i| i.to_string()));
    elements.extend((0..200).map(|i| i.to_string()));
    elements.extend(
        ["x", "y", "z", "w", "v", "a", "b", "c", "d", "e", "1", "9", "-3", "5", "7", "100", "two", "42"]
            .map(String::from),
    );
    elements.extend(["30", "2.5"].map(String::from));
    elements.sort();
    elements.dedup();
    for el in &elements {
        let tie = rng.below(6);
        if tie != 0 {
            push(&mut cmds, &["SET", &format!("w_{el}")], &[tie.to_string()]);
        }
        // Non-numeric weights now and then (only wx_ has them).
        let wx = if rng.below(8) == 0 { "nan?".to_string() } else { rng.below(4).to_string() };
        push(&mut cmds, &["SET", &format!("wx_{el}")], &[wx]);
        match rng.below(5) {
            0 => {}
            1 => push(&mut cmds, &["RPUSH", &format!("h_{el}")], &["not a hash".to_string()]),
            2 => push(&mut cmds, &["HSET", &format!("h_{el}")], &["g".to_string(), "only g".to_string()]),
            _ => push(
                &mut cmds,
                &["HSET", &format!("h_{el}")],
                &[
                    "f".to_string(),
                    rng.below(4).to_string(),
                    "g".to_string(),
                    format!("g{}", rng.below(3)),
                    "f->x".to_string(),
                    "arrow".to_string(),
                ],
            ),
        }
    }
    cmds.push(command(&[b"SET", b"x:a->", b"100"]));
    cmds.push(command(&[b"SET", b"fixed", b"constant"]));
    p.load(&cmds);
}

const SOURCES: &[&str] = &["nums", "words", "mixed", "one", "big", "iset", "sset", "zs", "zbig", "znum", "nokey"];
const ORDERS: &[&[&str]] = &[&[], &["DESC"], &["ALPHA"], &["ALPHA", "DESC"], &["asc", "alpha"]];
const BYS: &[&[&str]] =
    &[&[], &["BY", "w_*"], &["BY", "h_*->f"], &["BY", "wx_*"], &["BY", "nosort"], &["BY", "nosuch_*"]];
const LIMITS: &[&[&str]] = &[
    &[],
    &["LIMIT", "0", "3"],
    &["LIMIT", "2", "-1"],
    &["LIMIT", "-5", "2"],
    &["LIMIT", "100", "5"],
    &["LIMIT", "1", "0"],
    &["LIMIT", "3", "9223372036854775807"],
    &["LIMIT", "-9223372036854775808", "-9223372036854775808"],
];
const GETS: &[&[&str]] = &[
    &[],
    &["GET", "#"],
    &["GET", "#", "GET", "w_*", "GET", "h_*->f"],
    &["GET", "h_*->g", "GET", "nosuch_*", "GET", "fixed", "GET", "x:*->", "GET", "w_*->f"],
    &["GET", "h_*->f->x"],
];

/// Whether Redis's reply depends on its hash tables' order, which no
/// other server can reproduce: a hash-table set in its own order, or
/// ALPHA weights that tie (or are all missing) over a set or sorted set.
fn order_is_random(source: &str, order: &[&str], by: &[&str], store: bool) -> bool {
    let unordered = matches!(source, "sset" | "zs" | "zbig" | "znum");
    let nosort = by.contains(&"nosort");
    let alpha = order.iter().any(|o| o.eq_ignore_ascii_case("alpha"));
    (source == "sset" && nosort && !store) || (unordered && alpha && !by.is_empty() && !nosort)
}

fn sort_args<'a>(name: &'a str, source: &'a str, parts: &[&[&'a str]]) -> Vec<&'a str> {
    let mut args = vec![name, source];
    for p in parts {
        args.extend_from_slice(p);
    }
    args
}

#[test]
fn every_option_combination_replies_asredis_server() {
    let Some(mut p) = start_pair() else { return };
    fill(&mut p);
    let mut compared = 0;
    for source in SOURCES {
        for order in ORDERS {
            for by in BYS {
                if order_is_random(source, order, by, false) {
                    continue;
                }
                for limit in LIMITS {
                    for get in GETS {
                        let args = sort_args("SORT", source, &[order, by, limit, get]);
                        let reply = p.both(&args);
                        let ro = sort_args("SORT_RO", source, &[order, by, limit, get]);
                        assert_eq!(p.forkv.cmd(&ro), reply, "{ro:?}");
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared > 5000, "{compared}");
    // Sorting a sorted set converts it, as Redis does, even with SORT_RO.
    p.both(&["OBJECT", "ENCODING", "zs"]);
    assert_eq!(p.both(&["OBJECT", "ENCODING", "zs"]).text(), "skiplist");
}

#[test]
fn store_writes_the_same_lists_and_counts_asredis_server() {
    let Some(mut p) = start_pair() else { return };
    fill(&mut p);
    let changes = |r: &mut Raw| helpers::changes_since_save(r);
    for source in SOURCES {
        for order in ORDERS {
            for by in BYS {
                if order_is_random(source, order, by, true) {
                    continue;
                }
                for limit in &LIMITS[..6] {
                    for get in &GETS[..4] {
                        p.both(&["SET", "dst", "old"]);
                        p.both(&["EXPIRE", "dst", "1000"]);
                        let before = (changes(&mut p.forkv), changes(&mut p.redis));
                        let args = sort_args("SORT", source, &[order, by, limit, get, &["STORE", "dst"]]);
                        let reply = p.both(&args);
                        let after = (changes(&mut p.forkv), changes(&mut p.redis));
                        assert_eq!(after.0 - before.0, after.1 - before.1, "changes counted by {args:?}");
                        p.both(&["TYPE", "dst"]);
                        p.both(&["TTL", "dst"]);
                        p.both(&["LRANGE", "dst", "0", "-1"]);
                        if reply == Resp::Int(0) {
                            assert_eq!(p.both(&["EXISTS", "dst"]), Resp::Int(0), "{args:?}");
                        }
                    }
                }
            }
        }
    }
    // An empty result with no destination changes nothing.
    p.both(&["DEL", "dst"]);
    let before = (changes(&mut p.forkv), changes(&mut p.redis));
    assert_eq!(p.both(&["SORT", "nokey", "STORE", "dst"]), Resp::Int(0));
    assert_eq!((changes(&mut p.forkv), changes(&mut p.redis)), before);
    // The last STORE wins; the source may be the destination.
    assert_eq!(p.both(&["SORT", "iset", "STORE", "a", "STORE", "b"]), Resp::Int(6));
    assert_eq!(p.both(&["EXISTS", "a", "b"]), Resp::Int(1));
    p.both(&["RPUSH", "self", "3", "1", "2"]);
    assert_eq!(p.both(&["SORT", "self", "DESC", "STORE", "self"]), Resp::Int(3));
    assert_eq!(p.both(&["LRANGE", "self", "0", "-1"]), Resp::bulks(&["3", "2", "1"]));
    assert_eq!(p.both(&["OBJECT", "ENCODING", "self"]).text(), "quicklist");
}

#[test]
fn errors_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    fill(&mut p);
    let syntax = Resp::err("ERR syntax error");
    let not_int = Resp::err("ERR value is not an integer or out of range");
    let cases: &[(&[&str], Resp)] = &[
        (&["SORT", "str"], Resp::err(WRONGTYPE)),
        (&["SORT", "hash", "BY", "nosort"], Resp::err(WRONGTYPE)),
        (&["SORT_RO", "str"], Resp::err(WRONGTYPE)),
        (&["SORT", "mixed"], Resp::err(NOT_DOUBLE)),
        (&["SORT", "words"], Resp::err(NOT_DOUBLE)),
        (&["SORT", "nums", "BY", "wx_*"], Resp::err(NOT_DOUBLE)),
        (&["SORT", "mixed", "LIMIT", "0", "1"], Resp::err(NOT_DOUBLE)),
        (&["SORT", "mixed", "STORE", "dst"], Resp::err(NOT_DOUBLE)),
        (&["SORT_RO", "nums", "STORE", "dst"], syntax.clone()),
        (&["SORT", "nums", "STORE"], syntax.clone()),
        (&["SORT", "nums", "BY"], syntax.clone()),
        (&["SORT", "nums", "GET"], syntax.clone()),
        (&["SORT", "nums", "LIMIT", "1"], syntax.clone()),
        (&["SORT", "nums", "LIMIT"], syntax.clone()),
        (&["SORT", "nums", "NOSUCH"], syntax.clone()),
        (&["SORT", "nums", "ALPHA", "DESC", "ASC", "x"], syntax.clone()),
        (&["SORT", "nums", "LIMIT", "x", "1"], not_int.clone()),
        (&["SORT", "nums", "LIMIT", "1", "1.5"], not_int.clone()),
        (&["SORT", "nums", "LIMIT", "0", "99999999999999999999"], not_int.clone()),
        // Options are read before the key: their errors come first.
        (&["SORT", "str", "LIMIT", "x", "1"], not_int.clone()),
        (&["SORT", "str", "BADOPT"], syntax.clone()),
        (&["SORT", "nokey", "BADOPT"], syntax.clone()),
        (&["SORT"], Resp::err("ERR wrong number of arguments for 'sort' command")),
        (&["SORT_RO"], Resp::err("ERR wrong number of arguments for 'sort_ro' command")),
    ];
    for (args, want) in cases {
        assert_eq!(&p.both(args), want, "{args:?}");
    }
    assert_eq!(p.both(&["EXISTS", "dst"]), Resp::Int(0), "a failed SORT stores nothing");
    p.both(&["SET", "dst", "kept"]);
    assert_eq!(p.both(&["SORT", "mixed", "STORE", "dst"]), Resp::err(NOT_DOUBLE));
    assert_eq!(p.both(&["GET", "dst"]), Resp::bulk("kept"));
    // Weights and elements strtod reads only partly, or out of range (those
    // last: Redis never clears errno before its strtod, so after an ERANGE
    // it refuses every weight until a failed system call overwrites errno).
    for (i, bad) in ["1\0", "1\0x", "nan", "1 ", " ", "12abc", "0x", "inf1", "1e400", "1e-310"].iter().enumerate() {
        let key = format!("bad{i}");
        p.both(&["RPUSH", &key, "1", bad]);
        p.both(&["SORT", &key]);
        p.both(&["SET", &format!("w_{bad}"), bad]);
        p.both(&["SORT", &key, "BY", "w_*"]);
    }
    // The SETRANGE-with-huge-offset case of sort.tcl.
    p.both(&["LPUSH", "L", "2", "1", "0"]);
    assert_eq!(p.both(&["SORT_RO", "L", "BY", "a", "LIMIT", "2", "9223372036854775807"]), Resp::bulks(&["2"]));
}

#[test]
fn resp3_replies_nulls_for_missing_get_values() {
    let Some(mut p) = start_pair() else { return };
    fill(&mut p);
    // HELLO's reply names the server: not compared.
    p.forkv.cmd(&["HELLO", "3"]);
    p.redis.cmd(&["HELLO", "3"]);
    for args in [
        &["SORT", "nums", "GET", "#", "GET", "nosuch_*", "GET", "h_*->f"][..],
        &["SORT", "words", "ALPHA", "GET", "w_*"],
        &["SORT", "zs", "BY", "nosort", "GET", "nosuch"],
        &["SORT", "nokey"],
        &["SORT_RO", "iset", "DESC", "LIMIT", "1", "2"],
        &["SORT", "iset", "STORE", "dst3"],
    ] {
        p.both(args);
    }
    let reply = p.both(&["SORT", "one", "GET", "nosuch_*"]);
    assert_eq!(reply, Resp::Array(vec![Resp::Null]));
}

/// Cases of Redis's tests/unit/sort.tcl, beyond the combinations above.
#[test]
fn cases_from_redis_sort_tests() {
    let Some(mut p) = start_pair() else { return };
    assert_eq!(p.both(&["RPUSH", "mylist", "3", "10", "1", "2"]), Resp::Int(4));
    assert_eq!(p.both(&["SORT", "mylist", "ALPHA"]), Resp::bulks(&["1", "10", "2", "3"]));
    p.both(&["ZADD", "zset", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e"]);
    assert_eq!(p.both(&["SORT", "zset", "ALPHA", "DESC"]), Resp::bulks(&["e", "d", "c", "b", "a"]));
    p.both(&["MULTI"]);
    p.both(&["SORT", "zset", "BY", "nosort", "ASC"]);
    p.both(&["SORT", "zset", "BY", "nosort", "DESC"]);
    assert_eq!(
        p.both(&["EXEC"]),
        Resp::Array(vec![Resp::bulks(&["a", "c", "e", "b", "d"]), Resp::bulks(&["d", "b", "e", "c", "a"])])
    );
    for (limit, want) in [
        (&["ASC", "LIMIT", "0", "1"][..], &["a"][..]),
        (&["DESC", "LIMIT", "0", "1"], &["d"]),
        (&["ASC", "LIMIT", "0", "2"], &["a", "c"]),
        (&["DESC", "LIMIT", "0", "2"], &["d", "b"]),
        (&["DESC", "LIMIT", "1", "3"], &["b", "e", "c"]),
        (&["LIMIT", "5", "10"], &[]),
        (&["LIMIT", "-10", "100"], &["a", "c", "e", "b", "d"]),
    ] {
        let mut args = vec!["SORT", "zset", "BY", "nosort"];
        args.extend_from_slice(limit);
        assert_eq!(p.both(&args), Resp::bulks(want), "{args:?}");
    }
    let script =
        "return {redis.call('sort',KEYS[1],'by','nosort','asc'), redis.call('sort',KEYS[1],'by','nosort','desc')}";
    assert_eq!(
        p.both(&["EVAL", script, "1", "zset"]),
        Resp::Array(vec![Resp::bulks(&["a", "c", "e", "b", "d"]), Resp::bulks(&["d", "b", "e", "c", "a"])])
    );
    let floats = ["1.1", "5.10", "3.10", "7.44", "2.1", "5.75", "6.12", "0.25", "1.15"];
    let mut args = vec!["LPUSH", "floats"];
    args.extend(floats);
    p.both(&args);
    assert_eq!(
        p.both(&["SORT", "floats"]),
        Resp::bulks(&["0.25", "1.1", "1.15", "2.1", "3.10", "5.10", "5.75", "6.12", "7.44"])
    );
    assert_eq!(p.both(&["SORT", "foo", "STORE", "bar"]), Resp::Int(0));
    p.both(&["LPUSH", "foo", "bar"]);
    assert_eq!(p.both(&["SORT", "foo", "ALPHA", "LIMIT", "10", "10", "STORE", "zap"]), Resp::Int(0));
    assert_eq!(p.both(&["EXISTS", "zap"]), Resp::Int(0));
    assert_eq!(p.both(&["SORT", "emptylist", "STORE", "foo"]), Resp::Int(0));
    assert_eq!(p.both(&["EXISTS", "foo"]), Resp::Int(0));
    let members = "a b c d e f g h i l m n o p q r s t u v z aa aaa azz";
    let mut args = vec!["SADD", "myset"];
    args.extend(members.split(' '));
    p.both(&args);
    let sorted: Vec<&str> = "a aa aaa azz b c d e f g h i l m n o p q r s t u v z".split(' ').collect();
    assert_eq!(p.both(&["SORT", "myset", "ALPHA", "BY", "_", "STORE", "out"]), Resp::Int(24));
    assert_eq!(p.both(&["LRANGE", "out", "0", "-1"]), Resp::bulks(&sorted));
    // And from a script, without STORE, a set is sorted too.
    assert_eq!(
        p.both(&["EVAL", "return redis.call('sort', KEYS[1], 'by', 'nosort')", "1", "myset"]),
        Resp::bulks(&sorted)
    );
    assert_eq!(
        p.both(&["EVAL", "return redis.call('sort', KEYS[1], 'by', 'nosort', 'desc', 'limit', 1, 2)", "1", "myset"]),
        Resp::bulks(&["v", "u"])
    );
    for m in &sorted {
        p.both(&["SET", &format!("score:{m}"), "100"]);
    }
    assert_eq!(p.both(&["SORT", "myset", "BY", "score:*"]), Resp::bulks(&sorted));
    p.both(&["SADD", "dset", "1", "2", "3", "4"]);
    p.both(&["MSET", "score:1", "10", "score:2", "20", "score:3", "30", "score:4", "not-a-double"]);
    assert_eq!(p.both(&["SORT", "dset", "BY", "score:*"]), Resp::err(NOT_DOUBLE));
    p.both(&["LPUSH", "arrow", "a"]);
    p.both(&["SET", "x:a->", "100"]);
    assert_eq!(p.both(&["SORT", "arrow", "BY", "num", "GET", "x:*->"]), Resp::bulks(&["100"]));
    assert_eq!(p.both(&["SORT_RO", "arrow", "BY", "nosort", "GET", "x:*->"]), Resp::bulks(&["100"]));
    p.both(&["LPUSH", "testa", "2", "1", "4", "3", "5"]);
    assert_eq!(p.both(&["SORT", "testa", "BY", "nosort"]), Resp::bulks(&["5", "3", "4", "1", "2"]));
    assert_eq!(p.both(&["SORT", "testa", "BY", "nosort", "STORE", "testb"]), Resp::Int(5));
    assert_eq!(p.both(&["LRANGE", "testb", "0", "-1"]), Resp::bulks(&["5", "3", "4", "1", "2"]));
    assert_eq!(p.both(&["SORT", "testa", "BY", "nosort", "LIMIT", "0", "3", "STORE", "testb"]), Resp::Int(3));
    assert_eq!(p.both(&["LRANGE", "testb", "0", "-1"]), Resp::bulks(&["5", "3", "4"]));
    assert_eq!(p.both(&["SORT", "testa", "BY", "nosort", "DESC", "LIMIT", "1", "2"]), Resp::bulks(&["1", "4"]));
    // A BY without `*` sticks even when a later BY has one.
    assert_eq!(p.both(&["SORT", "testa", "BY", "nosort", "BY", "w_*"]), Resp::bulks(&["5", "3", "4", "1", "2"]));
    assert_eq!(p.both(&["SORT_RO", "foolist", "STORE", "bar"]), Resp::err("ERR syntax error"));
    // A weight that is no string or hash (or no hash field there) is missing.
    p.both(&["RPUSH", "w_5", "x"]);
    p.both(&["SORT", "testa", "BY", "w_*", "GET", "w_*"]);
    p.both(&["SORT", "testa", "BY", "w_*->f", "ALPHA"]);
}

/// The random datasets of sort.tcl: distinct weights as strings and hash
/// fields, integers and floats, over lists and both kinds of sets.
#[test]
fn random_datasets_sort_by_weights_as_inredis_server() {
    let Some(mut p) = start_pair() else { return };
    let mut rng = Rng::new(7);
    for (n, add) in [(16, "LPUSH"), (1000, "LPUSH"), (10_000, "LPUSH"), (16, "SADD"), (1000, "SADD"), (10_000, "SADD")]
    {
        let mut cmds = vec![command(&[b"DEL", b"tosort"])];
        let mut seen = std::collections::HashSet::new();
        for i in 0..n {
            let weight = loop {
                let w = if rng.below(2) == 0 {
                    rng.below(1_000_000).to_string()
                } else {
                    format!("0.{}", rng.below(1_000_000_000_000))
                };
                if seen.insert(w.clone()) {
                    break w;
                }
            };
            let el = i.to_string();
            cmds.push(command(&[add.as_bytes(), b"tosort", el.as_bytes()]));
            cmds.push(command(&[b"SET", format!("weight_{i}").as_bytes(), weight.as_bytes()]));
            cmds.push(command(&[b"HSET", format!("wobj_{i}").as_bytes(), b"weight", weight.as_bytes()]));
        }
        p.load(&cmds);
        let by_key = p.both(&["SORT", "tosort", "BY", "weight_*"]);
        assert_eq!(by_key.items().len(), n);
        assert_eq!(p.both(&["SORT", "tosort", "BY", "wobj_*->weight"]), by_key);
        assert_eq!(p.both(&["SORT", "tosort", "BY", "weight_*", "LIMIT", "5", "5"]).items(), &by_key.items()[5..10]);
        p.both(&[
            "SORT",
            "tosort",
            "BY",
            "weight_*",
            "DESC",
            "LIMIT",
            "100",
            "20",
            "GET",
            "#",
            "GET",
            "wobj_*->weight",
        ]);
        p.both(&["SORT", "tosort", "BY", "wobj_*->weight", "ALPHA", "LIMIT", "7", "30"]);
        p.both(&["SORT", "tosort", "LIMIT", "0", "10"]);
        p.both(&["SORT", "tosort", "DESC", "ALPHA", "LIMIT", "3", "10"]);
        assert_eq!(p.both(&["SORT", "tosort", "BY", "weight_*", "STORE", "res"]), Resp::Int(n as i64));
        assert_eq!(p.both(&["LRANGE", "res", "0", "-1"]), by_key);
        p.both(&["OBJECT", "ENCODING", "tosort"]);
    }
    // Ties on a list keep Redis's order: stable without LIMIT, and where its
    // partial quicksort leaves them with one.
    let mut cmds = vec![];
    for i in 0..500 {
        cmds.push(command(&[b"RPUSH", b"ties", i.to_string().as_bytes()]));
        if i % 7 != 0 {
            cmds.push(command(&[b"SET", format!("t_{i}").as_bytes(), (i % 3).to_string().as_bytes()]));
        }
    }
    p.load(&cmds);
    for extra in [
        &[][..],
        &["DESC"],
        &["LIMIT", "0", "10"],
        &["LIMIT", "40", "25"],
        &["DESC", "LIMIT", "470", "100"],
        &["LIMIT", "0", "0"],
        &["LIMIT", "499", "1"],
    ] {
        for mode in [&["ALPHA"][..], &[]] {
            let mut args = vec!["SORT", "ties", "BY", "t_*"];
            args.extend_from_slice(mode);
            args.extend_from_slice(extra);
            p.both(&args);
        }
    }
}

/// Inside a script, a set kept in its own order is sorted; a script that
/// may not write cannot run SORT, but SORT_RO; MULTI changes nothing.
#[test]
fn scripts_and_transactions_as_inredis_server() {
    let Some(mut p) = start_pair() else { return };
    fill(&mut p);
    for script in [
        "return redis.call('sort', KEYS[1], 'by', 'nosort')",
        "return redis.call('sort', KEYS[1], 'by', 'nosort', 'desc', 'get', 'w_*')",
        "return redis.call('sort_ro', KEYS[1], 'by', 'nosort', 'limit', 2, 3)",
        "return redis.call('sort', KEYS[1], 'by', 'nosort', 'store', 'dst')",
    ] {
        for key in ["sset", "iset", "zs", "words", "nokey"] {
            p.both(&["EVAL", script, "1", key]);
            p.both(&["LRANGE", "dst", "0", "-1"]);
        }
    }
    for key in ["sset", "nums"] {
        p.both(&["EVAL_RO", "return redis.call('sort', KEYS[1], 'alpha')", "1", key]);
        p.both(&["EVAL_RO", "return redis.call('sort_ro', KEYS[1], 'alpha')", "1", key]);
    }
    p.both(&["MULTI"]);
    p.both(&["SORT", "iset", "BY", "nosort"]);
    p.both(&["SORT", "nums", "STORE", "dst"]);
    p.both(&["SORT", "str"]);
    p.both(&["SORT_RO", "dst", "DESC"]);
    p.both(&["EXEC"]);
}

/// What SORT looks up is counted as keyspace hits and misses, as in Redis.
#[test]
fn pattern_lookups_count_as_keyspace_hits_and_misses() {
    let Some(mut p) = start_pair() else { return };
    fill(&mut p);
    let stats = |r: &mut Raw| {
        let info = r.cmd(&["INFO", "stats"]).text();
        let field = |f: &str| info_field(&info, f).unwrap().parse::<i64>().unwrap();
        (field("keyspace_hits"), field("keyspace_misses"))
    };
    for args in [
        &["SORT", "nums", "BY", "w_*", "GET", "#", "GET", "h_*->f", "GET", "fixed"][..],
        &["SORT", "words", "BY", "h_*->g", "ALPHA", "LIMIT", "1", "3", "GET", "w_*"],
        &["SORT", "mixed", "BY", "nosuch_*"],
        &["SORT", "nums", "BY", "nosort", "GET", "w_*"],
        &["SORT", "nokey", "GET", "w_*"],
        &["SORT", "mixed", "BY", "wx_*", "GET", "w_*"],
    ] {
        let before = (stats(&mut p.forkv), stats(&mut p.redis));
        p.both(args);
        let after = (stats(&mut p.forkv), stats(&mut p.redis));
        let delta = |a: (i64, i64), b: (i64, i64)| (b.0 - a.0, b.1 - a.1);
        assert_eq!(delta(before.0, after.0), delta(before.1, after.1), "{args:?}");
    }
}

#[test]
fn command_getkeys_finds_the_last_store_asredis_server() {
    let Some(mut p) = start_pair() else { return };
    for args in [
        &["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "def"][..],
        &["COMMAND", "GETKEYS", "SORT", "abc", "store", "invalid", "store", "stillbad", "store", "def"],
        &["COMMAND", "GETKEYS", "SORT", "abc", "store", "store", "store", "d"],
        &["COMMAND", "GETKEYS", "SORT", "abc", "LIMIT", "store", "1", "STORE", "d", "GET", "store"],
        &["COMMAND", "GETKEYS", "SORT", "abc", "BY", "store", "GET", "store"],
        &["COMMAND", "GETKEYS", "SORT", "abc", "STORE"],
        &["COMMAND", "GETKEYS", "SORT", "abc"],
        &["COMMAND", "GETKEYS", "SORT_RO", "abc", "STORE", "def"],
        &["COMMAND", "GETKEYS", "SORT"],
    ] {
        p.both(args);
    }
}

/// STORE is seen by WATCH on the destination and wakes a client blocked on
/// it; the source is only read.
#[test]
fn store_touches_only_its_destination() {
    let Some(mut p) = start_pair() else { return };
    fill(&mut p);
    for (watched, aborted) in [("nums", false), ("dst", true)] {
        let (mut f, mut r) = p.connect_both();
        for c in [&mut f, &mut r] {
            assert_eq!(c.cmd(&["WATCH", watched]), Resp::ok());
            assert_eq!(c.cmd(&["MULTI"]), Resp::ok());
            c.cmd(&["PING"]);
        }
        p.both(&["SORT", "nums", "LIMIT", "0", "2", "STORE", "dst"]);
        let replies = (f.cmd(&["EXEC"]), r.cmd(&["EXEC"]));
        assert_eq!(replies.0, replies.1);
        assert_eq!(replies.0 == Resp::NullArray, aborted, "WATCH {watched}");
    }
    p.both(&["DEL", "dst"]);
    let (mut f, mut r) = p.connect_both();
    for c in [&mut f, &mut r] {
        c.send(&["BLPOP", "dst", "10"]);
    }
    // Both clients are parked once CLIENT LIST shows them blocked.
    for raw in [&mut p.forkv, &mut p.redis] {
        assert!(helpers::wait_until(std::time::Duration::from_secs(10), || {
            raw.cmd(&["CLIENT", "LIST"]).text().contains("cmd=blpop")
        }));
    }
    assert_eq!(p.both(&["SORT", "iset", "STORE", "dst"]), Resp::Int(6));
    assert_eq!(f.read(), r.read());
    assert_eq!(p.both(&["LRANGE", "dst", "0", "-1"]), Resp::bulks(&["1", "5", "7", "9", "100"]));
}

/// SORT … STORE is logged as itself and replays to the same lists; SORT
/// without STORE is not logged; the AOF also loads into redis-server.
#[test]
fn stored_results_come_back_after_an_aof_restart() {
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let mut r = Raw::connect(server.port);
    let mut cmds: Vec<Vec<&str>> = vec![
        vec!["RPUSH", "l", "3", "1", "2", "b", "a"],
        vec!["SADD", "s", "x", "y", "z", "10", "ab"],
        vec!["ZADD", "z", "3", "c", "1", "a", "2", "b"],
        // Distinct weights: a set's ties would come out in its own order.
        vec!["MSET", "w_a", "2", "w_b", "1", "w_c", "3", "w_x", "z", "w_y", "y", "w_z", "x", "w_10", "w", "w_ab", "v"],
        vec!["HSET", "h_a", "f", "A"],
        vec!["HSET", "h_b", "f", "B"],
        vec!["RPUSH", "nums", "5", "-1", "2.5", "0x10"],
    ];
    cmds.extend([
        vec!["SORT", "nums", "STORE", "d1"],
        vec!["SORT", "l", "ALPHA", "DESC", "STORE", "d2"],
        vec!["SORT", "z", "BY", "w_*", "GET", "#", "GET", "h_*->f", "STORE", "d3"],
        vec!["SORT", "s", "BY", "nosort", "STORE", "d4"],
        vec!["SORT", "s", "BY", "w_*", "ALPHA", "LIMIT", "1", "3", "STORE", "d5"],
        vec!["SORT", "z", "BY", "nosort", "DESC", "STORE", "d6"],
        vec!["SET", "d7", "old"],
        vec!["SORT", "nokey", "STORE", "d7"],
        vec!["SORT", "l", "ALPHA", "LIMIT", "1", "2"],
        vec!["SORT_RO", "l", "ALPHA"],
    ]);
    for c in &cmds {
        assert!(!matches!(r.cmd(c), Resp::Error(_)), "{c:?}");
    }
    let mut con = server.client();
    let before = dump(&mut con, 1);
    assert_eq!(r.cmd(&["EXISTS", "d7"]), Resp::Int(0));
    assert_eq!(r.cmd(&["LRANGE", "d3", "0", "-1"]), Resp::bulks(&["b", "B", "a", "A", "c", ""]));
    let aof = std::fs::read(server.path("appendonly.aof")).unwrap();
    let sorts = aof.windows(6).filter(|w| w == b"\r\nSORT").count();
    assert_eq!(sorts, 7, "every STORE that changed something, and nothing else");
    drop((r, con));
    server.restart();
    let mut con = server.client();
    assert_same(&before, &dump(&mut con, 1), "after an AOF restart");
    if RedisServer::available() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(server.path("appendonly.aof"), dir.path().join("appendonly.aof")).unwrap();
        let (_redis, mut rcon) =
            RedisServer::start(dir.path(), &["--appendonly", "yes", "--appendfilename", "appendonly.aof"]);
        assert_same(&before, &dump(&mut rcon, 1), "forkv's AOF loaded by redis-server");
    }
}

/// Random lists, weights and option sequences (repeated, conflicting,
/// malformed) on both servers: the same replies and the same stored lists.
/// No element or weight overflows a double: after an ERANGE Redis keeps a
/// stale errno and refuses weights it would otherwise read.
#[test]
fn random_option_sequences_reply_asredis_server() {
    let Some(mut p) = start_pair() else { return };
    let mut rng = Rng::from_time();
    let pool: Vec<String> =
        ["1", "2", "10", "-3", "2.5", "0", "", " 4", "x", "y", "a\0b", "a", "0x1f", "inf", "-inf", "1e5", "w"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let pick = |rng: &mut Rng, v: &[&'static str]| v[rng.below(v.len() as u64) as usize];
    let numbers = |rng: &mut Rng| match rng.below(6) {
        0 => "-1".to_string(),
        1 => "9223372036854775807".to_string(),
        2 => "-9223372036854775808".to_string(),
        3 => "x".to_string(),
        _ => rng.below(12).to_string(),
    };
    for round in 0..2000 {
        p.both(&["DEL", "src", "dst"]);
        let n = rng.below(12) as usize;
        let mut args = vec!["RPUSH".to_string(), "src".to_string()];
        args.extend((0..n).map(|_| pool[rng.below(pool.len() as u64) as usize].clone()));
        if n > 0 {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            p.both(&a);
        }
        if round % 20 == 0 {
            for el in &pool {
                for prefix in ["w_", "h_"] {
                    p.both(&["DEL", &format!("{prefix}{el}")]);
                }
                let (w, h) = (format!("w_{el}"), format!("h_{el}"));
                let number = rng.below(3).to_string();
                let setup: &[&str] = match rng.below(4) {
                    0 => &["PING"],
                    1 => &["SET", &w, &number],
                    2 => &["SET", &w, pick(&mut rng, &["a", "b", "", "1.5"])],
                    _ => &["HSET", &h, "f", &number, "g", "v"],
                };
                p.both(setup);
            }
        }
        let name = if rng.below(4) == 0 { "SORT_RO" } else { "SORT" };
        let mut cmd = vec![name.to_string(), "src".to_string()];
        for _ in 0..rng.below(7) {
            match rng.below(9) {
                0 => cmd.push(pick(&mut rng, &["ASC", "desc", "Alpha"]).to_string()),
                1 | 2 => {
                    cmd.push("LIMIT".to_string());
                    cmd.push(numbers(&mut rng));
                    if rng.below(8) != 0 {
                        cmd.push(numbers(&mut rng));
                    }
                }
                3 | 4 => {
                    cmd.push("BY".to_string());
                    cmd.push(
                        pick(&mut rng, &["w_*", "h_*->f", "nosort", "*", "w_*->", "*->f", "#", "h_*->g"]).to_string(),
                    );
                }
                5 | 6 => {
                    cmd.push("GET".to_string());
                    cmd.push(pick(&mut rng, &["#", "w_*", "h_*->f", "h_*->g", "const", "*"]).to_string());
                }
                7 => {
                    cmd.push("STORE".to_string());
                    cmd.push("dst".to_string());
                }
                _ => cmd.push(pick(&mut rng, &["BY", "GET", "STORE", "junk"]).to_string()),
            }
        }
        let c: Vec<&str> = cmd.iter().map(String::as_str).collect();
        p.both(&c);
        p.both(&["LRANGE", "dst", "0", "-1"]);
    }
}
