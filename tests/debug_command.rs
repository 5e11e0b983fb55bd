//! DEBUG subcommands against redis-server side by side: the dataset digest
//! (equal for equal data, so it can check a dataset moved between the two),
//! the reply-type samples of DEBUG PROTOCOL byte for byte, DEBUG OBJECT's
//! line, and switching active expiry off and on.

mod aof_support;
mod common;
mod helpers;

use aof_support::RedisServer;
use common::Server;
use helpers::{wait_until, Raw, Resp};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The same data on both servers: every type, a TTL, two dbs.
const DATASET: &[&[&str]] = &[
    &["SET", "str", "bar"],
    &["SET", "num", "12345"],
    &["SET", "ttl", "v", "EX", "1000"],
    &["RPUSH", "list", "a", "1", "b"],
    &["SADD", "intset", "3", "1", "2"],
    &["SADD", "set", "x", "y", "2"],
    &["ZADD", "zset", "1.5", "m", "2", "n", "0.1", "o"],
    &["HSET", "hash", "f", "v", "g", "1"],
    &["XADD", "stream", "1-1", "a", "b", "c", "d"],
    &["XADD", "stream", "2-5", "a", "z"],
    &["SELECT", "3"],
    &["SET", "in3", "v"],
    &["SELECT", "0"],
];

fn start_redis(dir: &std::path::Path) -> RedisServer {
    RedisServer::start(dir, &["--appendonly", "no", "--enable-debug-command", "yes"]).0
}

#[test]
fn digests_match_redis_for_the_same_data() {
    if !RedisServer::available() {
        return;
    }
    let forkv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let redis = start_redis(dir.path());
    let (mut f, mut r) = (Raw::connect(forkv.port), Raw::connect(redis.port));
    let empty = Resp::Simple("0".repeat(40));
    assert_eq!(f.cmd(&["DEBUG", "DIGEST"]), empty);
    for command in DATASET {
        assert_eq!(f.cmd(command), r.cmd(command), "{command:?}");
    }
    let keys = ["str", "num", "ttl", "list", "intset", "set", "zset", "hash", "stream", "missing"];
    let digest_values: Vec<&str> = ["DEBUG", "DIGEST-VALUE"].into_iter().chain(keys).collect();
    assert_eq!(f.cmd(&digest_values), r.cmd(&digest_values));
    let digest = f.cmd(&["DEBUG", "DIGEST"]);
    assert_ne!(digest, empty);
    assert_eq!(digest, r.cmd(&["DEBUG", "DIGEST"]));
    // Order matters in a list, not in a set.
    f.cmd(&["LSET", "list", "0", "b"]);
    f.cmd(&["LSET", "list", "2", "a"]);
    f.cmd(&["DEL", "set"]);
    f.cmd(&["SADD", "set", "2", "y", "x"]);
    assert_ne!(f.cmd(&["DEBUG", "DIGEST-VALUE", "list"]), r.cmd(&["DEBUG", "DIGEST-VALUE", "list"]));
    assert_eq!(f.cmd(&["DEBUG", "DIGEST-VALUE", "set"]), r.cmd(&["DEBUG", "DIGEST-VALUE", "set"]));
}

/// Sends `commands` (inline) in one write, then PING, and returns every
/// byte up to PING's reply.
fn raw_replies(port: u16, commands: &[&str]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut request: String = commands.iter().map(|c| format!("{c}\r\n")).collect();
    request += "PING\r\n";
    s.write_all(request.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"+PONG\r\n") {
        let n = s.read(&mut buf).expect("replies");
        assert!(n > 0, "connection closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn debug_protocol_sends_what_redis_sends() {
    if !RedisServer::available() {
        return;
    }
    let forkv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let redis = start_redis(dir.path());
    let types =
        ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push", "verbatim", "true"];
    let mut commands: Vec<String> = types.iter().map(|t| format!("DEBUG PROTOCOL {t}")).collect();
    commands.extend(["DEBUG PROTOCOL FALSE".into(), "DEBUG PROTOCOL nope".into(), "DEBUG PROTOCOL".into()]);
    for hello in ["HELLO 2", "HELLO 3"] {
        let all: Vec<&str> = std::iter::once(hello).chain(commands.iter().map(String::as_str)).collect();
        let (f, r) = (raw_replies(forkv.port, &all), raw_replies(redis.port, &all));
        // HELLO's own reply names the server and its version: compare after it.
        let samples = |b: &[u8]| {
            let text = String::from_utf8_lossy(b).to_string();
            text[text.find("Hello World").expect("the string sample")..].to_string()
        };
        assert_eq!(samples(&f), samples(&r), "{hello}");
    }
}

#[test]
fn debug_object_describes_a_value_as_redis_does() {
    let forkv = Server::start();
    let mut c = Raw::connect(forkv.port);
    c.cmd(&["SET", "k", "bar"]);
    let Resp::Simple(line) = c.cmd(&["DEBUG", "OBJECT", "k"]) else { panic!("a status line") };
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields[0], "Value");
    assert!(fields[1].starts_with("at:0x"), "{line}");
    assert_eq!(&fields[2..5], ["refcount:1", "encoding:embstr", "serializedlength:4"], "{line}");
    assert!(fields[5].starts_with("lru:") && fields[6] == "lru_seconds_idle:0", "{line}");
    assert_eq!(c.cmd(&["DEBUG", "OBJECT", "nokey"]), Resp::Error("ERR no such key".into()));
}

/// After `switch_off`, a key with a 1 ms TTL is still counted ten cron
/// rounds later: no active expiry ran.
fn a_short_key_outlives_its_ttl_after(c: &mut Raw, switch_off: &[&str]) {
    assert_eq!(c.cmd(switch_off), Resp::ok());
    c.cmd(&["SET", "gone", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.cmd(&["DBSIZE"]), Resp::Int(1));
}

#[test]
fn set_active_expire_off_leaves_expired_keys_until_read() {
    let forkv = Server::start();
    let mut c = Raw::connect(forkv.port);
    a_short_key_outlives_its_ttl_after(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    assert_eq!(c.cmd(&["GET", "gone"]), Resp::NullBulk);
    assert_eq!(c.cmd(&["DBSIZE"]), Resp::Int(0));
    c.cmd(&["SET", "gone", "v", "PX", "1"]);
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), Resp::ok());
    assert!(wait_until(Duration::from_secs(5), || c.cmd(&["DBSIZE"]) == Resp::Int(0)), "active expiry");
}

/// DEBUG LOADAOF and DEBUG RELOAD load the dataset back from the files:
/// the same digest after each (the check Redis's own AOF-rewrite tests
/// make), no record logged twice, commands pipelined behind answered after.
#[test]
fn loadaof_and_reload_bring_back_the_same_dataset() {
    let server = Server::start_with(&["--save", "", "--appendonly", "yes"]);
    let mut c = Raw::connect(server.port);
    for command in DATASET {
        c.cmd(command);
    }
    c.cmd(&["INCRBYFLOAT", "float", "1.5"]);
    c.cmd(&["EXPIRE", "list", "1000"]);
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    let aof_size = || std::fs::metadata(server.path("appendonly.aof")).unwrap().len();
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), Resp::ok());
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest);
    let size = aof_size();
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), Resp::ok());
    assert_eq!(aof_size(), size, "LOADAOF logged what it replayed");
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), Resp::ok());
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest);
    assert!(c.int(&["TTL", "list"]) > 0);

    // NOSAVE loads the snapshot as it was; NOFLUSH keeps what is not in it.
    c.cmd(&["SET", "later", "1"]);
    let got = raw_replies(server.port, &["DEBUG RELOAD NOSAVE", "EXISTS later"]);
    assert_eq!(String::from_utf8_lossy(&got), "+OK\r\n:0\r\n+PONG\r\n");
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest);
    c.cmd(&["SET", "later", "1"]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]), Resp::ok());
    assert_eq!(c.cmd(&["GET", "later"]), Resp::bulk("1"));
    assert_eq!(
        c.cmd(&["DEBUG", "RELOAD", "FAST"]),
        Resp::Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into())
    );
    // The AOF holds every write: loading it gives back the last state.
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), Resp::ok());
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest);
}

#[test]
fn pause_cron_stops_the_periodic_work() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    a_short_key_outlives_its_ttl_after(&mut c, &["DEBUG", "PAUSE-CRON", "1"]);
    assert_eq!(c.cmd(&["DEBUG", "PAUSE-CRON", "0"]), Resp::ok());
    assert!(wait_until(Duration::from_secs(5), || c.cmd(&["DBSIZE"]) == Resp::Int(0)), "cron never resumed");
}

/// DEBUG RELOAD flushes the function libraries with the keys and loads
/// them back; NOFLUSH meets the loaded ones (an error) unless MERGE.
#[test]
fn reload_brings_function_libraries_back() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let library =
        |name: &str| format!("#!lua name={name}\nredis.register_function('{name}', function() return 'hello' end)");
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", &library("one")]), Resp::bulk("one"));
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), Resp::ok());
    assert_eq!(c.cmd(&["FCALL", "one", "0"]), Resp::bulk("hello"));
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOFLUSH"]), Resp::Error("ERR Error trying to load the RDB dump".into()));
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", &library("two")]), Resp::bulk("two"));
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]), Resp::ok());
    assert_eq!(c.cmd(&["FCALL", "one", "0"]), Resp::bulk("hello"));
    assert_eq!(c.cmd(&["FCALL", "two", "0"]), Resp::bulk("hello"));
    // Without NOFLUSH the libraries the file lacks are gone.
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]), Resp::ok());
    assert!(matches!(c.cmd(&["FCALL", "two", "0"]), Resp::Error(e) if e.contains("Function not found")));
}
