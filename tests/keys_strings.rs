//! Generic key commands and string commands against the real binary, with
//! Redis 7.0's reply types and error texts.

mod common;
mod helpers;

use helpers::{info_field, start_raw, wait_until, Raw, Resp};
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";

#[test]
fn set_options() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.cmd(&["SET", "k", "v"]), Resp::ok());
    assert_eq!(r.cmd(&["GET", "k"]), Resp::bulk("v"));
    assert_eq!(r.cmd(&["GET", "missing"]), Resp::NullBulk);

    // NX / XX
    assert_eq!(r.cmd(&["SET", "k", "v2", "NX"]), Resp::NullBulk);
    assert_eq!(r.cmd(&["SET", "new", "v", "XX"]), Resp::NullBulk);
    assert_eq!(r.int(&["EXISTS", "new"]), 0);
    assert_eq!(r.cmd(&["SET", "k", "v2", "XX"]), Resp::ok());
    assert_eq!(r.cmd(&["SET", "nx", "1", "nx"]), Resp::ok());

    // GET returns the old value (or nil), also with NX/XX.
    assert_eq!(r.cmd(&["SET", "k", "v3", "GET"]), Resp::bulk("v2"));
    assert_eq!(r.cmd(&["SET", "fresh", "x", "GET"]), Resp::NullBulk);
    assert_eq!(r.cmd(&["GET", "fresh"]), Resp::bulk("x"));
    assert_eq!(r.cmd(&["SET", "k", "v4", "NX", "GET"]), Resp::bulk("v3"));
    assert_eq!(r.cmd(&["GET", "k"]), Resp::bulk("v3"));

    // EX / PX / EXAT / PXAT
    assert_eq!(r.cmd(&["SET", "k", "v", "EX", "100"]), Resp::ok());
    assert_eq!(r.int(&["TTL", "k"]), 100);
    assert_eq!(r.cmd(&["SET", "k", "v", "PX", "100000"]), Resp::ok());
    let pttl = r.int(&["PTTL", "k"]);
    assert!((99_000..=100_000).contains(&pttl), "pttl {pttl}");
    let at = now_ms() / 1000 + 500;
    assert_eq!(r.cmd(&["SET", "k", "v", "EXAT", &at.to_string()]), Resp::ok());
    assert_eq!(r.int(&["EXPIRETIME", "k"]), at);
    let pat = now_ms() + 600_000;
    assert_eq!(r.cmd(&["SET", "k", "v", "PXAT", &pat.to_string()]), Resp::ok());
    assert_eq!(r.int(&["PEXPIRETIME", "k"]), pat);
    // An absolute time in the past: set, then immediately gone.
    assert_eq!(r.cmd(&["SET", "past", "v", "EXAT", "1"]), Resp::ok());
    assert_eq!(r.cmd(&["GET", "past"]), Resp::NullBulk);

    // Plain SET drops the TTL, KEEPTTL keeps it.
    r.cmd(&["SET", "k", "v", "EX", "100"]);
    r.cmd(&["SET", "k", "w", "KEEPTTL"]);
    assert_eq!(r.int(&["TTL", "k"]), 100);
    assert_eq!(r.cmd(&["GET", "k"]), Resp::bulk("w"));
    r.cmd(&["SET", "k", "x"]);
    assert_eq!(r.int(&["TTL", "k"]), -1);

    // Errors
    for args in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "FOO"],
        // The time is judged after all options are read.
        &["SET", "k", "v", "EX", "abc", "FOO"],
    ] {
        assert_eq!(r.err(args), SYNTAX, "{args:?}");
    }
    assert_eq!(r.err(&["SET", "k", "v", "EX", "0"]), "ERR invalid expire time in 'set' command");
    assert_eq!(r.err(&["SET", "k", "v", "PX", "-5"]), "ERR invalid expire time in 'set' command");
    assert_eq!(r.err(&["SET", "k", "v", "EX", "9999999999999999"]), "ERR invalid expire time in 'set' command");
    assert_eq!(r.err(&["SET", "k", "v", "EX", "abc"]), NOT_INT);
    assert_eq!(r.err(&["SET", "k"]), "ERR wrong number of arguments for 'set' command");
    assert_eq!(r.cmd(&["GET", "k"]), Resp::bulk("x"));
}

#[test]
fn setnx_setex_psetex_mset_msetnx_mget() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.int(&["SETNX", "a", "1"]), 1);
    assert_eq!(r.int(&["SETNX", "a", "2"]), 0);
    assert_eq!(r.cmd(&["SETEX", "b", "100", "v"]), Resp::ok());
    assert_eq!(r.int(&["TTL", "b"]), 100);
    assert_eq!(r.cmd(&["PSETEX", "c", "100000", "v"]), Resp::ok());
    assert!(r.int(&["PTTL", "c"]) > 99_000);
    assert_eq!(r.err(&["SETEX", "b", "0", "v"]), "ERR invalid expire time in 'setex' command");
    assert_eq!(r.err(&["PSETEX", "b", "-1", "v"]), "ERR invalid expire time in 'psetex' command");
    assert_eq!(r.err(&["SETEX", "b", "x", "v"]), NOT_INT);

    assert_eq!(r.cmd(&["MSET", "m1", "1", "m2", "2"]), Resp::ok());
    assert_eq!(r.err(&["MSET", "m1", "1", "m2"]), "ERR wrong number of arguments for 'mset' command");
    assert_eq!(r.err(&["MSET", "m1"]), "ERR wrong number of arguments for 'mset' command");
    assert_eq!(r.int(&["MSETNX", "m1", "x", "m3", "3"]), 0);
    assert_eq!(r.int(&["EXISTS", "m3"]), 0);
    assert_eq!(r.int(&["MSETNX", "m3", "3", "m4", "4"]), 1);
    assert_eq!(
        r.cmd(&["MGET", "m1", "nope", "m4"]),
        Resp::Array(vec![Resp::bulk("1"), Resp::NullBulk, Resp::bulk("4")])
    );
}

#[test]
fn incr_family_and_incrbyfloat() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.int(&["INCR", "n"]), 1);
    assert_eq!(r.int(&["INCRBY", "n", "10"]), 11);
    assert_eq!(r.int(&["DECR", "n"]), 10);
    assert_eq!(r.int(&["DECRBY", "n", "20"]), -10);
    assert_eq!(r.cmd(&["GET", "n"]), Resp::bulk("-10"));
    r.cmd(&["SET", "max", "9223372036854775807"]);
    assert_eq!(r.err(&["INCR", "max"]), "ERR increment or decrement would overflow");
    r.cmd(&["SET", "min", "-9223372036854775808"]);
    assert_eq!(r.err(&["DECR", "min"]), "ERR increment or decrement would overflow");
    assert_eq!(r.err(&["DECRBY", "n", "-9223372036854775808"]), "ERR decrement would overflow");
    assert_eq!(r.err(&["INCRBY", "n", "1.5"]), NOT_INT);
    r.cmd(&["SET", "s", "abc"]);
    assert_eq!(r.err(&["INCR", "s"]), NOT_INT);
    r.cmd(&["SET", "sp", " 1"]);
    assert_eq!(r.err(&["INCR", "sp"]), NOT_INT);

    r.cmd(&["SET", "f", "10.5"]);
    assert_eq!(r.cmd(&["INCRBYFLOAT", "f", "0.1"]), Resp::bulk("10.6"));
    assert_eq!(r.cmd(&["INCRBYFLOAT", "f", "-5.1"]), Resp::bulk("5.5"));
    assert_eq!(r.cmd(&["INCRBYFLOAT", "f", "4.5"]), Resp::bulk("10"));
    assert_eq!(r.cmd(&["INCRBYFLOAT", "f", "5.0e3"]), Resp::bulk("5010"));
    assert_eq!(r.cmd(&["INCRBYFLOAT", "newf", "1.25"]), Resp::bulk("1.25"));
    assert_eq!(r.cmd(&["INCRBYFLOAT", "n", "0.5"]), Resp::bulk("-9.5"));
    assert_eq!(r.err(&["INCRBYFLOAT", "f", "abc"]), "ERR value is not a valid float");
    assert_eq!(r.err(&["INCRBYFLOAT", "s", "1"]), "ERR value is not a valid float");
    assert_eq!(r.err(&["INCRBYFLOAT", "f", "inf"]), "ERR increment would produce NaN or Infinity");
    // Redis adds in long double (64 significant bits): decimal sums read as
    // typed, and operands beyond f64's range are numbers.
    r.cmd(&["SET", "money", "0.1"]);
    assert_eq!(r.cmd(&["INCRBYFLOAT", "money", "0.2"]), Resp::bulk("0.3"));
    match r.cmd(&["INCRBYFLOAT", "big", "1e400"]) {
        Resp::Bulk(b) => assert!(b.len() == 401 && b.starts_with(b"1000000000000000000028188068394758651458"), "{b:?}"),
        other => panic!("INCRBYFLOAT 1e400: {other:?}"),
    }
    assert_eq!(r.err(&["INCRBYFLOAT", "big", "1e-5000"]), "ERR value is not a valid float");
    assert_eq!(r.cmd(&["INCRBYFLOAT", "hex", "0x10"]), Resp::bulk("16"));
    // INCRBYFLOAT keeps the TTL.
    r.cmd(&["EXPIRE", "f", "100"]);
    r.cmd(&["INCRBYFLOAT", "f", "1"]);
    assert_eq!(r.int(&["TTL", "f"]), 100);
}

#[test]
fn append_strlen_getrange_setrange() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.int(&["APPEND", "a", "hello"]), 5);
    assert_eq!(r.int(&["APPEND", "a", " world"]), 11);
    assert_eq!(r.int(&["STRLEN", "a"]), 11);
    assert_eq!(r.int(&["STRLEN", "missing"]), 0);
    r.cmd(&["SET", "n", "123"]);
    assert_eq!(r.int(&["APPEND", "n", "4"]), 4);
    assert_eq!(r.int(&["INCR", "n"]), 1235);

    r.cmd(&["SET", "s", "hello"]);
    for (start, end, want) in [
        ("0", "-1", "hello"),
        ("0", "0", "h"),
        ("-3", "-1", "llo"),
        ("-100", "-50", "h"),
        ("-100", "2", "hel"),
        ("3", "1", ""),
        ("-1", "-2", ""),
        ("10", "20", ""),
        ("0", "100", "hello"),
        ("4", "-100", ""),
    ] {
        assert_eq!(r.cmd(&["GETRANGE", "s", start, end]), Resp::bulk(want), "GETRANGE {start} {end}");
    }
    assert_eq!(r.cmd(&["GETRANGE", "missing", "0", "-1"]), Resp::bulk(""));
    assert_eq!(r.cmd(&["SUBSTR", "s", "1", "2"]), Resp::bulk("el"));
    assert_eq!(r.err(&["GETRANGE", "s", "a", "1"]), NOT_INT);
    // Both indexes bad: still one reply, so the next command reads its own.
    assert_eq!(r.err(&["GETRANGE", "s", "a", "b"]), NOT_INT);
    assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));

    assert_eq!(r.int(&["SETRANGE", "s", "1", "EL"]), 5);
    assert_eq!(r.cmd(&["GET", "s"]), Resp::bulk("hELlo"));
    assert_eq!(r.int(&["SETRANGE", "s", "7", "x"]), 8);
    assert_eq!(r.cmd(&["GET", "s"]), Resp::Bulk(b"hELlo\0\0x".to_vec()));
    assert_eq!(r.int(&["SETRANGE", "pad", "3", "ab"]), 5);
    assert_eq!(r.cmd(&["GET", "pad"]), Resp::Bulk(b"\0\0\0ab".to_vec()));
    // An empty value never creates the key.
    assert_eq!(r.int(&["SETRANGE", "none", "5", ""]), 0);
    assert_eq!(r.int(&["EXISTS", "none"]), 0);
    assert_eq!(r.int(&["SETRANGE", "s", "0", ""]), 8);
    assert_eq!(r.err(&["SETRANGE", "s", "-1", "x"]), "ERR offset is out of range");
    assert_eq!(
        r.err(&["SETRANGE", "s", "536870912", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    // SETRANGE keeps the TTL.
    r.cmd(&["EXPIRE", "s", "100"]);
    r.cmd(&["SETRANGE", "s", "0", "H"]);
    assert_eq!(r.int(&["TTL", "s"]), 100);
}

/// APPEND and SETRANGE change a string in place with spare room, as
/// Redis's sds does: the result is exact, the room beyond 1 MiB stays
/// under 1 MiB, the TTL stays and WATCH sees the change. (tests/aof_*
/// write such strings to the AOF and its RDB preamble.)
#[test]
fn append_and_setrange_grow_a_string_in_place() {
    let server = common::Server::start();
    let mut con = server.client();
    let chunk: Vec<u8> = (0..100u8).collect();
    let mut expected = Vec::new();
    let mut pipe = redis::pipe();
    for _ in 0..20_000 {
        pipe.cmd("APPEND").arg("log").arg(&chunk).ignore();
        expected.extend_from_slice(&chunk);
    }
    let _: () = pipe.query(&mut con).unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg("log").query(&mut con).unwrap();
    assert!(got == expected, "20000 appends give their concatenation");
    let usage =
        |con: &mut redis::Connection| -> usize { redis::cmd("MEMORY").arg("USAGE").arg("log").query(con).unwrap() };
    let before = usage(&mut con);
    assert!(
        before > expected.len() && before < expected.len() + (1 << 20) + 4096,
        "{before} bytes for a {}-byte string: room to grow into, capped at 1 MiB (as an sds)",
        expected.len()
    );
    // A short APPEND fits in that room: nothing is allocated or copied.
    let _: usize = redis::cmd("APPEND").arg("log").arg("tail").query(&mut con).unwrap();
    expected.extend_from_slice(b"tail");
    assert_eq!(usage(&mut con), before, "the APPEND wrote into the spare room");
    // A string SETRANGE creates is made to measure, as in Redis: no room
    // doubled before anything appends to it.
    let _: usize = redis::cmd("SETRANGE").arg("fresh").arg(99_999).arg("x").query(&mut con).unwrap();
    let fresh: usize = redis::cmd("MEMORY").arg("USAGE").arg("fresh").query(&mut con).unwrap();
    assert!(fresh < 110_000, "{fresh} bytes for a new 100000-byte string");
    let encoding: String = redis::cmd("OBJECT").arg("ENCODING").arg("log").query(&mut con).unwrap();
    assert_eq!(encoding, "raw");

    // In place keeps the TTL; past the end SETRANGE zero-fills.
    let _: () = redis::cmd("EXPIRE").arg("log").arg(1000).query(&mut con).unwrap();
    let len: usize = redis::cmd("SETRANGE").arg("log").arg(expected.len() + 3).arg("end").query(&mut con).unwrap();
    expected.extend_from_slice(b"\0\0\0end");
    assert_eq!(len, expected.len());
    let _: usize = redis::cmd("SETRANGE").arg("log").arg(5).arg("HEAD").query(&mut con).unwrap();
    expected[5..9].copy_from_slice(b"HEAD");
    let ttl: i64 = redis::cmd("TTL").arg("log").query(&mut con).unwrap();
    assert!(ttl > 990, "TTL kept: {ttl}");

    // An APPEND by another client between WATCH and EXEC aborts the EXEC.
    let _: () = redis::cmd("WATCH").arg("log").query(&mut con).unwrap();
    let mut other = server.client();
    let _: usize = redis::cmd("APPEND").arg("log").arg("!").query(&mut other).unwrap();
    expected.push(b'!');
    let _: () = redis::cmd("MULTI").query(&mut con).unwrap();
    let _: () = redis::cmd("GET").arg("log").query(&mut con).unwrap();
    let exec: Option<Vec<Vec<u8>>> = redis::cmd("EXEC").query(&mut con).unwrap();
    assert_eq!(exec, None, "WATCH saw the APPEND");
    let got: Vec<u8> = redis::cmd("GET").arg("log").query(&mut con).unwrap();
    assert!(got == expected, "the SETRANGEs and the other client's APPEND are all in place");
}

#[test]
fn getset_getdel_getex() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.cmd(&["GETSET", "k", "1"]), Resp::NullBulk);
    r.cmd(&["EXPIRE", "k", "100"]);
    assert_eq!(r.cmd(&["GETSET", "k", "2"]), Resp::bulk("1"));
    assert_eq!(r.int(&["TTL", "k"]), -1, "GETSET drops the TTL");
    assert_eq!(r.cmd(&["GETDEL", "k"]), Resp::bulk("2"));
    assert_eq!(r.cmd(&["GETDEL", "k"]), Resp::NullBulk);
    assert_eq!(r.int(&["EXISTS", "k"]), 0);

    r.cmd(&["SET", "g", "v"]);
    assert_eq!(r.cmd(&["GETEX", "g"]), Resp::bulk("v"));
    assert_eq!(r.int(&["TTL", "g"]), -1);
    assert_eq!(r.cmd(&["GETEX", "g", "EX", "100"]), Resp::bulk("v"));
    assert_eq!(r.int(&["TTL", "g"]), 100);
    assert_eq!(r.cmd(&["GETEX", "g", "PX", "200000"]), Resp::bulk("v"));
    assert!(r.int(&["PTTL", "g"]) > 199_000);
    let at = now_ms() / 1000 + 300;
    assert_eq!(r.cmd(&["GETEX", "g", "EXAT", &at.to_string()]), Resp::bulk("v"));
    assert_eq!(r.int(&["EXPIRETIME", "g"]), at);
    let pat = now_ms() + 400_000;
    assert_eq!(r.cmd(&["GETEX", "g", "PXAT", &pat.to_string()]), Resp::bulk("v"));
    assert_eq!(r.int(&["PEXPIRETIME", "g"]), pat);
    assert_eq!(r.cmd(&["GETEX", "g", "PERSIST"]), Resp::bulk("v"));
    assert_eq!(r.int(&["TTL", "g"]), -1);
    assert_eq!(r.cmd(&["GETEX", "missing", "EX", "10"]), Resp::NullBulk);
    // The time is judged only for an existing string, as in Redis.
    assert_eq!(r.cmd(&["GETEX", "missing", "EX", "abc"]), Resp::NullBulk);
    assert_eq!(r.err(&["GETEX", "g", "EX", "0"]), "ERR invalid expire time in 'getex' command");
    assert_eq!(r.err(&["GETEX", "g", "PXAT", "0"]), "ERR invalid expire time in 'getex' command");
    for args in [
        &["GETEX", "g", "PERSIST", "EX", "10"][..],
        &["GETEX", "g", "EX", "10", "PERSIST"],
        &["GETEX", "g", "EX"],
        &["GETEX", "g", "FOO"],
        &["GETEX", "g", "EXAT", "soon", "FOO"],
    ] {
        assert_eq!(r.err(args), SYNTAX, "{args:?}");
    }
}

#[test]
fn expire_options_and_ttl_queries() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "k", "v"]);
    assert_eq!(r.int(&["EXPIRE", "k", "100", "XX"]), 0);
    assert_eq!(r.int(&["EXPIRE", "k", "100", "GT"]), 0, "GT treats no TTL as infinite");
    assert_eq!(r.int(&["EXPIRE", "k", "100", "NX"]), 1);
    assert_eq!(r.int(&["EXPIRE", "k", "200", "NX"]), 0);
    assert_eq!(r.int(&["EXPIRE", "k", "200", "XX"]), 1);
    assert_eq!(r.int(&["EXPIRE", "k", "100", "GT"]), 0);
    assert_eq!(r.int(&["EXPIRE", "k", "300", "GT"]), 1);
    assert_eq!(r.int(&["EXPIRE", "k", "400", "LT"]), 0);
    assert_eq!(r.int(&["EXPIRE", "k", "50", "lt"]), 1);
    assert_eq!(r.int(&["TTL", "k"]), 50);
    assert_eq!(r.int(&["PERSIST", "k"]), 1);
    assert_eq!(r.int(&["PERSIST", "k"]), 0);
    assert_eq!(r.int(&["EXPIRE", "k", "10", "LT"]), 1, "LT treats no TTL as infinite");

    assert_eq!(
        r.err(&["EXPIRE", "k", "10", "NX", "XX"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(r.err(&["EXPIRE", "k", "10", "GT", "LT"]), "ERR GT and LT options at the same time are not compatible");
    assert_eq!(r.err(&["EXPIRE", "k", "10", "FOO"]), "ERR Unsupported option FOO");
    // Options are judged before the time, as in Redis.
    assert_eq!(r.err(&["EXPIRE", "k", "soon", "FOO"]), "ERR Unsupported option FOO");
    assert_eq!(
        r.err(&["EXPIRE", "k", "soon", "NX", "XX"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(r.err(&["EXPIRE", "k", "abc"]), NOT_INT);
    assert_eq!(r.err(&["EXPIRE", "k", "9223372036854775807"]), "ERR invalid expire time in 'expire' command");
    assert_eq!(r.err(&["PEXPIRE", "k", "9223372036854775807"]), "ERR invalid expire time in 'pexpire' command");
    assert_eq!(r.err(&["EXPIREAT", "k", "9223372036854775807"]), "ERR invalid expire time in 'expireat' command");
    assert_eq!(r.err(&["EXPIRE"]), "ERR wrong number of arguments for 'expire' command");
    assert_eq!(r.int(&["EXPIRE", "missing", "10"]), 0);

    r.cmd(&["SET", "k", "v"]);
    assert_eq!(r.int(&["PEXPIRE", "k", "100000"]), 1);
    assert!(r.int(&["PTTL", "k"]) > 99_000);
    assert_eq!(r.int(&["EXPIREAT", "k", "4000000000"]), 1);
    assert_eq!(r.int(&["EXPIRETIME", "k"]), 4_000_000_000);
    assert_eq!(r.int(&["PEXPIRETIME", "k"]), 4_000_000_000_000);
    assert_eq!(r.int(&["PEXPIREAT", "k", "4000000000123"]), 1);
    assert_eq!(r.int(&["PEXPIRETIME", "k"]), 4_000_000_000_123);
    assert_eq!(r.int(&["EXPIRETIME", "k"]), 4_000_000_000);
    // EXPIRETIME rounds to the nearest second, as Redis does.
    assert_eq!(r.int(&["PEXPIREAT", "k", "4000000000600"]), 1);
    assert_eq!(r.int(&["EXPIRETIME", "k"]), 4_000_000_001);

    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(r.int(&[cmd, "missing"]), -2, "{cmd}");
    }
    r.cmd(&["SET", "plain", "v"]);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(r.int(&[cmd, "plain"]), -1, "{cmd}");
    }
    // A time in the past deletes the key at once.
    assert_eq!(r.int(&["EXPIRE", "plain", "-1"]), 1);
    assert_eq!(r.int(&["EXISTS", "plain"]), 0);
    r.cmd(&["SET", "plain", "v"]);
    assert_eq!(r.int(&["PEXPIREAT", "plain", "1"]), 1);
    assert_eq!(r.int(&["EXISTS", "plain"]), 0);

    // Lazy expiry: a short TTL, then the key reads as missing.
    r.cmd(&["SET", "short", "v", "PX", "50"]);
    assert!(wait_until(Duration::from_secs(3), || r.cmd(&["GET", "short"]) == Resp::NullBulk));
    assert_eq!(r.int(&["TTL", "short"]), -2);
}

#[test]
fn del_exists_touch_unlink_type_keys_randomkey() {
    let (_s, mut r) = start_raw();
    r.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(r.int(&["EXISTS", "a", "a", "missing"]), 2);
    assert_eq!(r.int(&["TOUCH", "a", "missing"]), 1);
    assert_eq!(r.int(&["DEL", "a", "missing"]), 1);
    assert_eq!(r.int(&["UNLINK", "b", "c", "missing"]), 2);
    assert_eq!(r.err(&["DEL"]), "ERR wrong number of arguments for 'del' command");
    assert_eq!(r.cmd(&["TYPE", "missing"]), Resp::Simple("none".into()));
    r.cmd(&["SET", "s", "x"]);
    assert_eq!(r.cmd(&["TYPE", "s"]), Resp::Simple("string".into()));
    assert_eq!(r.cmd(&["RANDOMKEY"]), Resp::bulk("s"));
    r.cmd(&["DEL", "s"]);
    assert_eq!(r.cmd(&["RANDOMKEY"]), Resp::NullBulk);

    r.cmd(&["MSET", "user:1", "a", "user:2", "b", "other", "c", "h?llo", "d"]);
    let keys = |r: &mut Raw, pattern: &str| -> HashSet<String> {
        r.cmd(&["KEYS", pattern]).items().iter().map(|k| k.text()).collect()
    };
    assert_eq!(keys(&mut r, "user:*"), HashSet::from(["user:1".to_string(), "user:2".to_string()]));
    assert_eq!(keys(&mut r, "*").len(), 4);
    assert_eq!(keys(&mut r, "h\\?llo"), HashSet::from(["h?llo".to_string()]));
    assert_eq!(keys(&mut r, "user:[13]"), HashSet::from(["user:1".to_string()]));
    assert!(keys(&mut r, "nomatch*").is_empty());
    // Expired keys are not listed.
    r.cmd(&["SET", "gone", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(20));
    assert!(!keys(&mut r, "*").contains("gone"));
}

#[test]
fn wrongtype_errors_need_a_non_string_type() {
    let (_s, mut r) = start_raw();
    // No non-string write command may exist yet; only run when one does.
    match r.cmd(&["RPUSH", "list", "a"]) {
        Resp::Int(1) => {}
        Resp::Error(e) if e.starts_with("ERR unknown command") => return,
        other => panic!("RPUSH: {other:?}"),
    }
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for args in [
        &["GET", "list"][..],
        &["INCR", "list"],
        &["INCRBYFLOAT", "list", "1"],
        &["INCRBYFLOAT", "list", "abc"],
        &["APPEND", "list", "x"],
        &["STRLEN", "list"],
        &["GETRANGE", "list", "0", "1"],
        &["SETRANGE", "list", "0", "x"],
        &["GETSET", "list", "x"],
        &["GETDEL", "list"],
        &["GETEX", "list"],
        &["GETEX", "list", "PXAT", "soon"],
        &["SET", "list", "x", "GET"],
    ] {
        assert_eq!(r.err(args), wrongtype, "{args:?}");
    }
    assert_eq!(r.cmd(&["TYPE", "list"]), Resp::Simple("list".into()));
    assert_eq!(r.cmd(&["MGET", "list"]), Resp::Array(vec![Resp::NullBulk]));
    // A plain SET overwrites any type.
    assert_eq!(r.cmd(&["SET", "list", "x"]), Resp::ok());
    assert_eq!(r.cmd(&["TYPE", "list"]), Resp::Simple("string".into()));
}

#[test]
fn arity_and_unknown_command_errors() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.err(&["GET"]), "ERR wrong number of arguments for 'get' command");
    assert_eq!(r.err(&["GET", "a", "b"]), "ERR wrong number of arguments for 'get' command");
    assert_eq!(r.err(&["get"]), "ERR wrong number of arguments for 'get' command");
    assert_eq!(r.err(&["KEYS"]), "ERR wrong number of arguments for 'keys' command");
    assert_eq!(r.err(&["FOO", "bar", "baz"]), "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' ");
    assert_eq!(r.err(&["foo"]), "ERR unknown command 'foo', with args beginning with: ");
    // The connection is still fine.
    assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn scan_returns_every_key_with_match_count_type() {
    let (_s, mut r) = start_raw();
    let n = 1000;
    let mut pipeline = Vec::new();
    for i in 0..n {
        pipeline.extend(helpers::encode(&[b"SET", format!("key:{i}").as_bytes(), b"v"]));
    }
    for i in 0..100 {
        pipeline.extend(helpers::encode(&[b"SET", format!("other:{i}").as_bytes(), b"v"]));
    }
    r.write(&pipeline);
    for _ in 0..n + 100 {
        assert_eq!(r.read(), Resp::ok());
    }

    let full_scan = |r: &mut Raw, extra: &[&str]| -> Vec<String> {
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        for _ in 0..100_000 {
            let mut args = vec!["SCAN", cursor.as_str()];
            args.extend_from_slice(extra);
            let reply = r.cmd(&args);
            let items = reply.items();
            assert_eq!(items.len(), 2);
            let next = items[0].text();
            seen.extend(items[1].items().iter().map(|k| k.text()));
            if next == "0" {
                return seen;
            }
            cursor = next;
        }
        panic!("SCAN did not finish");
    };
    let all = full_scan(&mut r, &[]);
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), n + 100, "every key at least once");

    let matched = full_scan(&mut r, &["MATCH", "other:*", "COUNT", "7"]);
    let unique: HashSet<&String> = matched.iter().collect();
    assert_eq!(unique.len(), 100);
    assert!(matched.iter().all(|k| k.starts_with("other:")));

    let strings = full_scan(&mut r, &["TYPE", "string", "COUNT", "1000"]);
    assert_eq!(strings.iter().collect::<HashSet<_>>().len(), n + 100);
    assert!(full_scan(&mut r, &["TYPE", "list"]).is_empty());

    assert_eq!(r.err(&["SCAN", "abc"]), "ERR invalid cursor");
    assert_eq!(r.err(&["SCAN", "18446744073709551616"]), "ERR invalid cursor");
    assert_eq!(r.err(&["SCAN", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(r.err(&["SCAN", "0", "COUNT", "abc"]), NOT_INT);
    assert_eq!(r.err(&["SCAN", "0", "MATCH"]), SYNTAX);
    assert_eq!(r.err(&["SCAN", "0", "FOO", "bar"]), SYNTAX);
    // strtoul semantics: a negative cursor wraps instead of failing.
    assert_eq!(r.cmd(&["SCAN", "-1"]).items().len(), 2);
    // A huge COUNT must not break the server.
    let reply = r.cmd(&["SCAN", "0", "COUNT", "9223372036854775807"]);
    assert_eq!(reply.items()[0], Resp::bulk("0"));
    assert_eq!(reply.items()[1].items().len(), n + 100);
    assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn rename_renamenx_keep_ttl() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "a", "1", "EX", "100"]);
    assert_eq!(r.cmd(&["RENAME", "a", "b"]), Resp::ok());
    assert_eq!(r.int(&["EXISTS", "a"]), 0);
    assert_eq!(r.cmd(&["GET", "b"]), Resp::bulk("1"));
    assert_eq!(r.int(&["TTL", "b"]), 100);
    assert_eq!(r.cmd(&["RENAME", "b", "b"]), Resp::ok());
    assert_eq!(r.int(&["TTL", "b"]), 100);
    assert_eq!(r.err(&["RENAME", "missing", "x"]), "ERR no such key");
    // RENAME over an existing key replaces it, and its TTL.
    r.cmd(&["SET", "c", "2", "EX", "500"]);
    r.cmd(&["SET", "d", "3"]);
    r.cmd(&["RENAME", "d", "c"]);
    assert_eq!(r.int(&["TTL", "c"]), -1);
    assert_eq!(r.cmd(&["GET", "c"]), Resp::bulk("3"));

    assert_eq!(r.int(&["RENAMENX", "b", "c"]), 0);
    assert_eq!(r.int(&["RENAMENX", "b", "b"]), 0);
    assert_eq!(r.int(&["RENAMENX", "b", "e"]), 1);
    assert_eq!(r.int(&["TTL", "e"]), 100);
    assert_eq!(r.err(&["RENAMENX", "missing", "x"]), "ERR no such key");
}

#[test]
fn copy_move_swapdb_flush_across_dbs() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "a", "1", "EX", "100"]);
    r.cmd(&["SET", "c", "2"]);
    assert_eq!(r.int(&["COPY", "a", "c"]), 0);
    assert_eq!(r.int(&["COPY", "a", "c", "REPLACE"]), 1);
    assert_eq!(r.cmd(&["GET", "c"]), Resp::bulk("1"));
    assert_eq!(r.int(&["TTL", "c"]), 100);
    assert_eq!(r.int(&["COPY", "missing", "x"]), 0);
    assert_eq!(r.err(&["COPY", "a", "a"]), "ERR source and destination objects are the same");
    assert_eq!(r.int(&["COPY", "a", "x", "DB", "1"]), 1);
    assert_eq!(r.err(&["COPY", "a", "x", "DB", "99"]), "ERR DB index is out of range");
    assert_eq!(r.err(&["COPY", "a", "x", "DB", "abc"]), NOT_INT);
    assert_eq!(r.err(&["COPY", "a", "x", "DB"]), SYNTAX);
    assert_eq!(r.err(&["COPY", "a", "x", "FOO"]), SYNTAX);
    // The copy is independent of the source.
    r.cmd(&["APPEND", "c", "x"]);
    assert_eq!(r.cmd(&["GET", "a"]), Resp::bulk("1"));

    assert_eq!(r.cmd(&["SELECT", "1"]), Resp::ok());
    assert_eq!(r.cmd(&["GET", "x"]), Resp::bulk("1"));
    assert_eq!(r.int(&["TTL", "x"]), 100);
    assert_eq!(r.int(&["DBSIZE"]), 1);
    r.cmd(&["SELECT", "0"]);

    assert_eq!(r.int(&["MOVE", "a", "1"]), 1);
    assert_eq!(r.int(&["EXISTS", "a"]), 0);
    assert_eq!(r.int(&["MOVE", "missing", "1"]), 0);
    r.cmd(&["SET", "x", "local"]);
    assert_eq!(r.int(&["MOVE", "x", "1"]), 0, "target exists in db 1");
    assert_eq!(r.err(&["MOVE", "x", "0"]), "ERR source and destination objects are the same");
    assert_eq!(r.err(&["MOVE", "x", "99"]), "ERR DB index is out of range");
    assert_eq!(r.err(&["MOVE", "x", "abc"]), NOT_INT);
    r.cmd(&["SELECT", "1"]);
    assert_eq!(r.cmd(&["GET", "a"]), Resp::bulk("1"));
    assert_eq!(r.int(&["TTL", "a"]), 100, "MOVE keeps the TTL");
    assert_eq!(r.int(&["DBSIZE"]), 2);
    r.cmd(&["SELECT", "0"]);
    assert_eq!(r.int(&["DBSIZE"]), 2);

    // SWAPDB: db 0 now shows db 1's keys; another client sees it too.
    assert_eq!(r.cmd(&["SWAPDB", "0", "1"]), Resp::ok());
    assert_eq!(r.cmd(&["GET", "a"]), Resp::bulk("1"));
    assert_eq!(r.cmd(&["GET", "c"]), Resp::NullBulk);
    assert_eq!(r.err(&["SWAPDB", "0", "99"]), "ERR DB index is out of range");
    assert_eq!(r.err(&["SWAPDB", "a", "1"]), "ERR invalid first DB index");
    assert_eq!(r.err(&["SWAPDB", "0", "b"]), "ERR invalid second DB index");

    // FLUSHDB only the selected db, FLUSHALL every db.
    r.cmd(&["SELECT", "2"]);
    r.cmd(&["SET", "z", "1"]);
    assert_eq!(r.cmd(&["FLUSHDB"]), Resp::ok());
    assert_eq!(r.int(&["DBSIZE"]), 0);
    r.cmd(&["SELECT", "0"]);
    assert_eq!(r.int(&["DBSIZE"]), 2);
    assert_eq!(r.err(&["FLUSHDB", "foo"]), SYNTAX);
    assert_eq!(r.cmd(&["FLUSHDB", "ASYNC"]), Resp::ok());
    assert_eq!(r.int(&["DBSIZE"]), 0);
    r.cmd(&["SELECT", "1"]);
    assert_eq!(r.int(&["DBSIZE"]), 2);
    assert_eq!(r.err(&["FLUSHALL", "SYNC", "ASYNC"]), SYNTAX);
    assert_eq!(r.cmd(&["FLUSHALL", "sync"]), Resp::ok());
    assert_eq!(r.int(&["DBSIZE"]), 0);
    assert_eq!(r.cmd(&["INFO", "keyspace"]).text().trim(), "# Keyspace");
}

#[test]
fn object_encoding_and_errors() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "int", "123"]);
    r.cmd(&["SET", "neg", "-1"]);
    r.cmd(&["SET", "big", "12345678901234567890"]);
    r.cmd(&["SET", "lead", "01"]);
    r.cmd(&["SET", "emb", &"x".repeat(44)]);
    r.cmd(&["SET", "raw", &"x".repeat(45)]);
    for (key, enc) in
        [("int", "int"), ("neg", "int"), ("big", "embstr"), ("lead", "embstr"), ("emb", "embstr"), ("raw", "raw")]
    {
        assert_eq!(r.cmd(&["OBJECT", "ENCODING", key]), Resp::bulk(enc), "{key}");
    }
    r.cmd(&["INCR", "int"]);
    assert_eq!(r.cmd(&["OBJECT", "encoding", "int"]), Resp::bulk("int"));
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "missing"]), Resp::NullBulk);
    assert_eq!(r.err(&["OBJECT", "foo", "bar"]), "ERR unknown subcommand 'foo'. Try OBJECT HELP.");
    assert_eq!(r.err(&["OBJECT", "ENCODING"]), "ERR wrong number of arguments for 'object|encoding' command");
    assert_eq!(r.err(&["OBJECT", "encoding", "a", "b"]), "ERR wrong number of arguments for 'object|encoding' command");
    assert!(matches!(r.cmd(&["OBJECT", "HELP"]), Resp::Array(v) if !v.is_empty()));
}

#[test]
fn active_expiry_removes_unread_keys() {
    let (_s, mut r) = start_raw();
    let mut pipeline = Vec::new();
    for i in 0..1000 {
        pipeline.extend(helpers::encode(&[b"SET", format!("t:{i}").as_bytes(), b"v", b"PX", b"100"]));
    }
    pipeline.extend(helpers::encode(&[b"SET", b"keep", b"v"]));
    r.write(&pipeline);
    for _ in 0..1001 {
        assert_eq!(r.read(), Resp::ok());
    }
    // Nobody reads the keys: only the active cycle can remove them.
    let gone = wait_until(Duration::from_secs(10), || {
        std::thread::sleep(Duration::from_millis(100));
        r.int(&["DBSIZE"]) == 1
    });
    assert!(gone, "DBSIZE still {}", r.int(&["DBSIZE"]));
    let info = r.cmd(&["INFO", "stats"]).text();
    assert_eq!(info_field(&info, "expired_keys").as_deref(), Some("1000"));
    assert_eq!(r.cmd(&["GET", "keep"]), Resp::bulk("v"));
}
