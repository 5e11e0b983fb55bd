//! Keyspace notifications against the real binary, side by side with
//! Debian's redis-server 7.0: a subscriber on each server listens to every
//! `__keyspace@*__` and `__keyevent@*__` channel while the same commands run
//! on both, and must receive the same messages in the same order (every
//! event class, new keys, key misses, lazy and active expiry, MULTI/EXEC, a
//! script, served blocked clients, random command sequences, RESP3
//! self-delivery). `notify-keyspace-events` must read and print its flag
//! strings as Redis does, and writes made with it on must replay from the
//! AOF. Side-by-side tests skip with a note when redis-server is not
//! installed.

mod aof_support;
mod common;
mod helpers;

use aof_support::RedisServer;
use common::Server;
use helpers::{Raw, Resp};
use std::time::Duration;

/// The channel each subscriber also listens on: a PUBLISH to it marks the
/// end of the messages a batch of commands produced.
const FENCE: &str = "fence";

/// One server: a connection for commands and a subscribed one.
struct Side {
    cmd: Raw,
    sub: Raw,
}

impl Side {
    fn connect(port: u16, flags: &str) -> Side {
        let mut cmd = Raw::connect(port);
        assert_eq!(cmd.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags]), Resp::ok());
        let mut sub = Raw::connect(port);
        sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
        sub.cmd(&["SUBSCRIBE", FENCE]);
        Side { cmd, sub }
    }

    /// The messages received up to the next fence, as "channel message"
    /// lines (pattern messages without their pattern).
    fn messages(&mut self) -> Vec<String> {
        self.cmd.cmd(&["PUBLISH", FENCE, "end"]);
        let mut got = Vec::new();
        for _ in 0..10_000 {
            let items = match self.sub.read() {
                Resp::Array(items) | Resp::Push(items) => items,
                other => panic!("not a pub/sub message: {other:?}"),
            };
            let texts: Vec<String> = items.iter().map(Resp::text).collect();
            match texts[0].as_str() {
                "message" if texts[1] == FENCE => return got,
                "pmessage" => got.push(format!("{} {}", texts[2], texts[3])),
                _ => panic!("unexpected message {texts:?}"),
            }
        }
        panic!("no fence after 10000 messages");
    }
}

/// forkv and redis-server, persistence off, each with a subscriber.
/// Fields drop in order: connections, servers, then redis's directory.
struct Pair {
    forkv: Side,
    redis: Side,
    _forkv_server: Server,
    _redis_server: RedisServer,
    _dir: tempfile::TempDir,
}

fn start_pair(flags: &str) -> Option<Pair> {
    if !RedisServer::available() {
        return None;
    }
    let forkv_server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (redis_server, _) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    Some(Pair {
        forkv: Side::connect(forkv_server.port, flags),
        redis: Side::connect(redis_server.port, flags),
        _forkv_server: forkv_server,
        _redis_server: redis_server,
        _dir: dir,
    })
}

impl Pair {
    /// The command on both servers: the same reply.
    fn both(&mut self, args: &[&str]) -> Resp {
        let f = self.forkv.cmd.cmd(args);
        let r = self.redis.cmd.cmd(args);
        assert_eq!(f, r, "{args:?}");
        f
    }

    /// Runs `commands` on both, then checks both subscribers got the same
    /// messages; returns them.
    fn run(&mut self, commands: &[&[&str]]) -> Vec<String> {
        for args in commands {
            self.both(args);
        }
        let (f, r) = (self.forkv.messages(), self.redis.messages());
        assert_eq!(f, r, "messages after {commands:?}");
        f
    }
}

/// Every class of event, one family at a time, with keys created ('n'),
/// reads and writes of missing keys ('m'), emptied containers deleted, and
/// no-op writes that announce nothing.
#[test]
fn every_command_family_announces_what_redis_announces() {
    let Some(mut p) = start_pair("KEAnm") else { return };
    let strings: &[&[&str]] = &[
        &["SET", "s", "1"],
        &["SET", "s", "2", "EX", "100"],
        &["SET", "s", "3", "NX"],
        &["SETNX", "s2", "x"],
        &["SETEX", "s3", "100", "v"],
        &["PSETEX", "s4", "100000", "v"],
        &["MSET", "m1", "a", "m2", "b"],
        &["MSETNX", "m3", "a", "m1", "b"],
        &["MSETNX", "m3", "a", "m4", "b"],
        &["INCR", "n"],
        &["DECR", "n"],
        &["INCRBY", "n", "5"],
        &["DECRBY", "n", "2"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["INCR", "s2"],
        &["APPEND", "a", "xy"],
        &["APPEND", "a", "z"],
        &["SETRANGE", "a", "1", "QQ"],
        &["SETRANGE", "a", "1", ""],
        &["SETRANGE", "new", "2", "hi"],
        &["GETSET", "a", "g"],
        &["GETDEL", "a"],
        &["GETDEL", "a"],
        &["GETEX", "s", "PX", "100000"],
        &["GETEX", "s", "PERSIST"],
        &["GETEX", "s", "PERSIST"],
        &["GETEX", "s4", "PXAT", "1"],
        &["SETBIT", "b", "7", "1"],
        &["SETBIT", "b", "7", "1"],
        &["BITFIELD", "bf", "SET", "u8", "0", "200", "GET", "u8", "0"],
        &["BITOP", "OR", "bo", "b", "bf"],
        &["BITOP", "AND", "bo", "missing1", "missing2"],
        &["PFADD", "h", "a", "b"],
        &["PFADD", "h", "a"],
        &["PFADD", "h2", "c"],
        &["PFMERGE", "h3", "h", "h2"],
    ];
    assert!(!p.run(strings).is_empty());
    let lists: &[&[&str]] = &[
        &["LPUSH", "l", "a", "b", "c", "d"],
        &["RPUSH", "l", "e"],
        &["LPUSHX", "l", "f"],
        &["RPUSHX", "nol", "f"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["LSET", "l", "0", "z"],
        &["LINSERT", "l", "BEFORE", "z", "y"],
        &["LINSERT", "l", "BEFORE", "nothere", "y"],
        &["LREM", "l", "0", "y"],
        &["LREM", "l", "0", "nothere"],
        &["LTRIM", "l", "0", "-1"],
        &["LTRIM", "nol", "0", "1"],
        &["LMOVE", "l", "l2", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "l2", "l2"],
        &["LMOVE", "l2", "l", "RIGHT", "LEFT"],
        &["LMPOP", "2", "nol", "l", "LEFT", "COUNT", "10"],
        &["RPUSH", "l", "1", "2", "3"],
        &["BLPOP", "l", "0"],
        &["BRPOP", "l", "0"],
        &["BLMOVE", "l", "l3", "LEFT", "LEFT", "0"],
        &["RPUSH", "l", "1", "2", "3"],
        &["LTRIM", "l", "5", "10"],
        &["RPUSH", "l", "1", "2"],
        &["LREM", "l", "0", "1"],
        &["LREM", "l", "0", "2"],
    ];
    assert!(!p.run(lists).is_empty());
    let hashes: &[&[&str]] = &[
        &["HSET", "h", "f", "v", "g", "w"],
        &["HSET", "hh", "f", "v", "g", "w"],
        &["HSET", "hh", "f", "v"],
        &["HMSET", "hh", "x", "1"],
        &["HSETNX", "hh", "x", "2"],
        &["HSETNX", "hh", "y", "2"],
        &["HINCRBY", "hh", "x", "3"],
        &["HINCRBYFLOAT", "hh", "x", "0.5"],
        &["HINCRBY", "hh2", "c", "1"],
        &["HDEL", "hh", "nothere"],
        &["HDEL", "hh", "f", "g"],
        &["HDEL", "hh", "x", "y"],
    ];
    p.both(&["DEL", "h"]);
    assert!(!p.run(hashes).is_empty());
    let sets: &[&[&str]] = &[
        &["SADD", "st", "a", "b", "c"],
        &["SADD", "st", "a"],
        &["SREM", "st", "zz"],
        &["SREM", "st", "a"],
        &["SMOVE", "st", "st2", "b"],
        &["SMOVE", "st", "st2", "c"],
        &["SMOVE", "st2", "st2", "c"],
        &["SADD", "u", "1", "2"],
        &["SINTERSTORE", "d", "u", "st2"],
        &["SUNIONSTORE", "d", "u", "st2"],
        &["SDIFFSTORE", "d", "u", "u"],
        &["SDIFFSTORE", "d", "u", "u"],
        &["SPOP", "u", "0"],
        &["SPOP", "u", "5"],
        &["SADD", "one", "x"],
        &["SPOP", "one"],
    ];
    assert!(!p.run(sets).is_empty());
    let zsets: &[&[&str]] = &[
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        &["ZADD", "z", "1", "a"],
        &["ZADD", "z", "XX", "5", "a"],
        &["ZADD", "nz", "XX", "5", "a"],
        &["ZADD", "z", "INCR", "1", "a"],
        &["ZINCRBY", "z", "1", "b"],
        &["ZINCRBY", "z2", "1", "b"],
        &["ZREM", "z", "nothere"],
        &["ZREM", "z", "c"],
        &["ZADD", "z", "7", "e", "8", "f", "9", "g"],
        &["ZREMRANGEBYSCORE", "z", "8", "8"],
        &["ZREMRANGEBYRANK", "z", "0", "0"],
        &["ZREMRANGEBYLEX", "z", "[zz", "[zzz"],
        &["ZPOPMIN", "z"],
        &["ZPOPMAX", "z", "2"],
        &["ZPOPMAX", "z", "0"],
        &["BZPOPMIN", "z", "0"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZMPOP", "2", "nz", "z", "MAX", "COUNT", "1"],
        &["BZMPOP", "0", "1", "z", "MIN"],
        &["ZRANGESTORE", "zd", "z", "0", "-1"],
        &["ZUNIONSTORE", "zd", "2", "z", "z2"],
        &["ZINTERSTORE", "zd", "2", "z", "z2"],
        &["ZDIFFSTORE", "zd", "1", "z"],
        &["ZRANGESTORE", "zd", "z", "5", "6"],
        &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
    ];
    assert!(!p.run(zsets).is_empty());
    let generic: &[&[&str]] = &[
        &["SET", "g1", "v"],
        &["SET", "g2", "v"],
        &["DEL", "g1", "g2", "g3"],
        &["SET", "g1", "v"],
        &["UNLINK", "g1"],
        &["SET", "g1", "v"],
        &["EXPIRE", "g1", "100"],
        &["PEXPIRE", "g1", "100000", "NX"],
        &["EXPIREAT", "g1", "99999999999"],
        &["PEXPIREAT", "g1", "99999999999999", "GT"],
        &["PERSIST", "g1"],
        &["PERSIST", "g1"],
        &["RENAME", "g1", "g2"],
        &["SET", "g3", "x"],
        &["RENAME", "g2", "g3"],
        &["RENAMENX", "g3", "g4"],
        &["SET", "g5", "y"],
        &["RENAMENX", "g4", "g5"],
        &["MOVE", "g4", "1"],
        &["COPY", "g5", "g6"],
        &["COPY", "g5", "g6", "REPLACE"],
        &["COPY", "g5", "g7", "DB", "2"],
        &["EXPIRE", "g5", "-1"],
        &["PEXPIREAT", "g6", "1"],
        &["SET", "dumped", "payload"],
        &["FLUSHDB"],
        &["SWAPDB", "0", "1"],
    ];
    assert!(!p.run(generic).is_empty());
}

/// RESTORE (new, with REPLACE, and with a TTL already passed) announces
/// what Redis does; each server restores its own DUMP payload.
#[test]
fn restore_announces_new_and_restore() {
    let Some(mut p) = start_pair("KEAn") else { return };
    p.both(&["RPUSH", "src", "a", "b"]);
    for side in [&mut p.forkv, &mut p.redis] {
        let Resp::Bulk(payload) = side.cmd.cmd(&["DUMP", "src"]) else { panic!("DUMP") };
        for args in [
            &[&b"RESTORE"[..], b"dst", b"0", &payload][..],
            &[b"RESTORE", b"dst", b"0", &payload, b"REPLACE"],
            &[b"RESTORE", b"dst", b"1", &payload, b"REPLACE", b"ABSTTL"],
        ] {
            assert_eq!(side.cmd.cmd_bytes(args), Resp::ok());
        }
    }
    let got = p.run(&[]);
    assert_eq!(got.iter().filter(|m| *m == "__keyevent@0__:restore dst").count(), 2, "{got:?}");
    assert_eq!(got[got.len() - 2..], ["__keyspace@0__:dst del", "__keyevent@0__:del dst"]);
}

/// 'n' alone announces only key creation, in every family and through
/// RENAME/MOVE/COPY; a class filter ("gxE") keeps only its classes.
#[test]
fn class_filters_select_events() {
    let Some(mut p) = start_pair("nK") else { return };
    let got = p.run(&[
        &["SET", "a", "1"],
        &["SET", "a", "2"],
        &["LPUSH", "l", "x"],
        &["HSET", "h", "f", "v"],
        &["SADD", "s", "m"],
        &["ZADD", "z", "1", "m"],
        &["INCR", "n"],
        &["APPEND", "ap", "x"],
        &["SETBIT", "b", "1", "1"],
        &["PFADD", "hl", "x"],
        &["RENAME", "a", "b2"],
        &["COPY", "b2", "c"],
        &["MOVE", "c", "3"],
        &["LMOVE", "l", "l2", "LEFT", "LEFT"],
        &["SUNIONSTORE", "su", "s"],
        &["ZUNIONSTORE", "zu", "1", "z"],
        &["BITOP", "NOT", "bn", "b"],
    ]);
    assert!(got.len() >= 15, "{got:?}");
    assert!(got.iter().all(|m| m.ends_with(" new")), "{got:?}");
    for flags in ["gxE", "$E", "lK", "shzE"] {
        for side in [&mut p.forkv, &mut p.redis] {
            side.cmd.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags]);
        }
        p.run(&[
            &["SET", "k", "1", "PX", "100000"],
            &["DEL", "k"],
            &["RPUSH", "l", "1"],
            &["SADD", "s", "x"],
            &["HSET", "h", "g", "v"],
            &["ZINCRBY", "z", "2", "m"],
            &["EXPIRE", "s", "0"],
        ]);
    }
}

/// A key expiring announces `expired` once, whether a lookup (lazy) or
/// the cron (active) deletes it, and the notification ends there.
#[test]
fn expiry_announces_expired() {
    let Some(mut p) = start_pair("KEA") else { return };
    // Lazy: a short PEXPIRE, then lookups until the key is gone.
    p.both(&["SET", "lazy", "v"]);
    p.both(&["PEXPIRE", "lazy", "30"]);
    for side in [&mut p.forkv, &mut p.redis] {
        assert!(helpers::wait_until(Duration::from_secs(5), || side.cmd.int(&["EXISTS", "lazy"]) == 0));
    }
    let got = p.run(&[]);
    assert_eq!(got.iter().filter(|m| m.contains("expired")).count(), 2, "{got:?}");
    // Active: nobody looks the key up; the cron deletes it.
    p.both(&["SET", "active", "v", "PX", "30"]);
    for side in [&mut p.forkv, &mut p.redis] {
        assert!(helpers::wait_until(Duration::from_secs(5), || side.cmd.int(&["DBSIZE"]) == 0));
    }
    let got = p.run(&[]);
    assert_eq!(got[got.len() - 2..], ["__keyspace@0__:active expired", "__keyevent@0__:expired active"]);
}

/// A write to a key past its TTL announces `expired` before its own
/// events (the key is then `new`), as Redis's write lookups do; so does a
/// SCAN that comes across it.
#[test]
fn writes_expire_stale_keys_first() {
    let Some(mut p) = start_pair("KEAn") else { return };
    let writes: &[&[&str]] = &[
        &["SET", "k", "v2"],
        &["LPUSH", "k", "a"],
        &["RENAME", "src", "k"],
        &["INCR", "k"],
        &["SMOVE", "set", "k", "m"],
        &["LMOVE", "list", "k", "LEFT", "LEFT"],
        &["COPY", "src", "k"],
        &["SUNIONSTORE", "k", "set"],
        &["MSET", "k", "m"],
        &["SCAN", "0", "MATCH", "k", "COUNT", "1000"],
    ];
    for write in writes {
        p.both(&["DEL", "k", "src", "set", "list"]);
        p.both(&["SET", "src", "s"]);
        p.both(&["SADD", "set", "m"]);
        p.both(&["RPUSH", "list", "x"]);
        p.both(&["SET", "k", "v", "PX", "20"]);
        // The TTL must pass with nothing looking the key up (a lookup
        // would expire it itself); the cron may, with the same events.
        std::thread::sleep(Duration::from_millis(60));
        let got = p.run(&[write]);
        assert!(got.contains(&"__keyevent@0__:expired k".to_string()), "{write:?}: {got:?}");
    }
}

/// Inside MULTI/EXEC and inside a script, events come in command order,
/// each command's before the next one's.
#[test]
fn transactions_and_scripts_keep_command_order() {
    let Some(mut p) = start_pair("KEAn") else { return };
    let got = p.run(&[
        &["MULTI"],
        &["SET", "t", "1"],
        &["LPUSH", "tl", "a", "b"],
        &["RPOP", "tl"],
        &["INCRBY", "t", "4"],
        &["RENAME", "t", "t2"],
        &["DEL", "t2", "tl"],
        &["EXEC"],
    ]);
    assert!(got.len() >= 14, "{got:?}");
    let script = "redis.call('SET', KEYS[1], 'x') \
                  redis.call('HSET', KEYS[2], 'f', 'v') \
                  redis.call('EXPIRE', KEYS[1], 100) \
                  redis.call('HDEL', KEYS[2], 'f') \
                  return redis.call('LPUSH', KEYS[1] .. 'l', 'v')";
    let got = p.run(&[&["EVAL", script, "2", "sk", "sh"]]);
    assert!(got.len() >= 10, "{got:?}");
}

/// A RESP3 client subscribed to its own events gets them as pushes ahead
/// of the reply of a command that announces before it replies (SET), also
/// inside EXEC's array, and ahead of a script's reply, as redis-server does;
/// so do messages it publishes to itself, from a script too.
#[test]
fn resp3_subscriber_gets_its_own_events_before_the_reply() {
    let Some(mut p) = start_pair("KEA") else { return };
    let run = |side: &mut Side| -> Vec<Resp> {
        let port = side.cmd.writer.peer_addr().unwrap().port();
        let mut c = Raw::connect(port);
        c.cmd(&["HELLO", "3"]);
        c.cmd(&["SUBSCRIBE", "__keyevent@0__:set", "ch"]);
        c.read();
        for args in [
            &["SET", "r", "1"][..],
            &["MULTI"],
            &["SET", "r", "2"],
            &["SET", "r", "3"],
            &["EXEC"],
            &["EVAL", "redis.call('SET', 'r', 4) redis.call('SET', 'r', 5) return 7", "0"],
            &["EVAL", "return redis.call('PUBLISH', 'ch', 'from a script')", "0"],
            &["PUBLISH", "ch", "to myself"],
        ] {
            c.send(args);
        }
        // Eight replies and seven pushes; the parser takes EXEC's `*2` as
        // [push, +OK] and leaves the second pair as two replies.
        (0..15).map(|_| c.read()).collect()
    };
    let f = run(&mut p.forkv);
    let r = run(&mut p.redis);
    assert_eq!(f, r);
    assert!(matches!(f[0], Resp::Push(_)) && f[1] == Resp::ok(), "{f:?}");
    assert!(matches!(&f[5], Resp::Array(items) if matches!(items[0], Resp::Push(_))), "{f:?}");
    assert_eq!(f[10], Resp::Int(7));
}

/// Redis's flag-string parsing and canonical form, its error text, and
/// the directive from the command line.
#[test]
fn config_flags_read_and_print_as_redis() {
    let Some(mut p) = start_pair("") else { return };
    for flags in ["", "KEA", "AKE", "Exg", "$lshzxetdg", "n", "Kn", "AnK", "mE", "KEA$", "zz", "KEA m", "KEa", "x", "e"]
    {
        p.both(&["CONFIG", "SET", "notify-keyspace-events", flags]);
        p.both(&["CONFIG", "GET", "notify-keyspace-events"]);
    }
    p.both(&["CONFIG", "SET", "notify-keyspace-events", "a", "b"]);
    let server = Server::start_with(&["--save", "", "--notify-keyspace-events", "KEA"]);
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]), Resp::bulks(&["notify-keyspace-events", "AKE"]));
}

/// Off by default: nothing reaches a subscriber, and turning it off again
/// stops the messages.
#[test]
fn off_by_default_and_when_cleared() {
    let server = Server::start();
    let mut side = Side::connect(server.port, "");
    assert_eq!(
        side.cmd.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        Resp::bulks(&["notify-keyspace-events", ""])
    );
    side.cmd.cmd(&["SET", "a", "1"]);
    side.cmd.cmd(&["DEL", "a"]);
    assert!(side.messages().is_empty());
    side.cmd.cmd(&["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    side.cmd.cmd(&["SET", "a", "1"]);
    assert_eq!(side.messages(), ["__keyevent@0__:set a"]);
    side.cmd.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    side.cmd.cmd(&["SET", "a", "2"]);
    assert!(side.messages().is_empty());
}

/// `m` announces reads that find no key, as Redis's read lookups do.
#[test]
fn key_misses_announce_keymiss() {
    let Some(mut p) = start_pair("Em") else { return };
    let got = p.run(&[
        &["GET", "nokey"],
        &["SET", "k", "v"],
        &["GET", "k"],
        &["EXISTS", "nokey", "k"],
        &["TYPE", "nokey"],
        &["STRLEN", "nokey"],
        &["HGET", "noh", "f"],
        &["LRANGE", "nol", "0", "-1"],
        &["SMEMBERS", "nos"],
        &["ZSCORE", "noz", "m"],
        &["MGET", "k", "nokey", "nokey2"],
        &["TTL", "nokey"],
        &["DEL", "nokey"],
        &["SET", "nokey", "v"],
    ]);
    assert!(got.len() >= 5, "{got:?}");
}

/// A client parked by BLPOP/BLMOVE/BZPOPMIN and served by another
/// client's push announces its pop after the push, as in Redis.
#[test]
fn served_blocked_clients_announce_after_the_push() {
    let Some(mut p) = start_pair("KEAn") else { return };
    let cases: &[(&[&str], &[&str])] = &[
        (&["BLPOP", "bl", "0"], &["RPUSH", "bl", "x", "y"]),
        (&["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"], &["RPUSH", "src", "x"]),
        (&["BRPOPLPUSH", "src2", "src2", "0"], &["LPUSH", "src2", "x"]),
        (&["BZPOPMIN", "bz", "0"], &["ZADD", "bz", "1", "a"]),
        (&["BLMPOP", "0", "2", "n1", "bl2", "LEFT", "COUNT", "5"], &["RPUSH", "bl2", "a", "b"]),
    ];
    for (blocking, push) in cases {
        let mut parked = Vec::new();
        for side in [&mut p.forkv, &mut p.redis] {
            let mut waiter = Raw::connect(side.cmd.writer.peer_addr().unwrap().port());
            waiter.send(blocking);
            let mut blocked = || helpers::info_field(&side.cmd.cmd(&["INFO", "clients"]).text(), "blocked_clients");
            assert!(helpers::wait_until(Duration::from_secs(5), || blocked().as_deref() == Some("1")));
            parked.push(waiter);
        }
        let got = p.run(&[push]);
        assert!(got.len() >= 4, "{blocking:?}: {got:?}");
        let (f, r) = (parked[0].read(), parked[1].read());
        assert_eq!(f, r, "{blocking:?}");
    }
}

/// Random writes and reads over three keys of changing types, in two dbs:
/// every command's messages (all classes, `n` and `m` included) must be
/// redis-server's.
#[test]
fn random_commands_announce_what_redis_announces() {
    let Some(mut p) = start_pair("KEAnm") else { return };
    let mut rng = aof_support::Rng::from_time();
    // `K` is a random key, `M` a random member, `N` a small number.
    const TEMPLATES: &[&str] = &[
        "SET K N",
        "SET K v NX",
        "SET K v XX",
        "SET K v GET",
        "SET K v KEEPTTL",
        "SET K v EX 100",
        "DEL K K",
        "INCR K",
        "APPEND K x",
        "GETDEL K",
        "GETEX K PERSIST",
        "SETRANGE K 2 zz",
        "INCRBYFLOAT K 1.5",
        "MSET K 1 K 2",
        "MSETNX K 1 K 2",
        "GET K",
        "SETBIT K N 1",
        "BITOP AND K K K",
        "PFADD K M",
        "PFMERGE K K",
        "LPUSH K M M",
        "RPOP K 2",
        "LPOP K",
        "LREM K 0 M",
        "LTRIM K 1 N",
        "LMOVE K K LEFT RIGHT",
        "LINSERT K BEFORE M M",
        "LSET K 0 M",
        "LMPOP 2 K K RIGHT COUNT 2",
        "LRANGE K 0 -1",
        "HSET K M N",
        "HDEL K M M",
        "HINCRBY K M 2",
        "HINCRBYFLOAT K M 1.5",
        "HSETNX K M 1",
        "SADD K M M",
        "SREM K M",
        "SMOVE K K M",
        "SINTERSTORE K K K",
        "SUNIONSTORE K K K",
        "SDIFFSTORE K K K",
        "SPOP K 5",
        "ZADD K N M",
        "ZADD K NX N M",
        "ZADD K XX CH N M",
        "ZADD K GT N M",
        "ZADD K INCR N M",
        "ZINCRBY K N M",
        "ZREM K M M",
        "ZREMRANGEBYSCORE K N N",
        "ZREMRANGEBYRANK K 0 N",
        "ZPOPMIN K 2",
        "ZMPOP 2 K K MAX",
        "ZUNIONSTORE K 2 K K",
        "ZINTERSTORE K 2 K K",
        "ZDIFFSTORE K 2 K K",
        "ZRANGESTORE K K 0 N",
        "RENAME K K",
        "RENAMENX K K",
        "COPY K K REPLACE",
        "EXPIRE K 100",
        "EXPIRE K 0",
        "PERSIST K",
        "MOVE K 1",
        "SWAPDB 0 1",
        "SELECT 0",
        "SELECT 1",
        "TYPE K",
    ];
    for _ in 0..600 {
        let template = TEMPLATES[rng.below(TEMPLATES.len() as u64) as usize];
        let words: Vec<String> = template
            .split(' ')
            .map(|w| match w {
                "K" => format!("k{}", rng.below(3)),
                "M" => ["a", "b", "c"][rng.below(3) as usize].to_string(),
                "N" => (rng.below(8) as i64 - 2).to_string(),
                other => other.to_string(),
            })
            .collect();
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        if template.starts_with("SPOP") {
            // Which members come first is the set's iteration order.
            let sorted = |r: Resp| match r {
                Resp::Array(mut items) | Resp::Set(mut items) => {
                    items.sort_by_key(Resp::text);
                    items
                }
                other => vec![other],
            };
            assert_eq!(sorted(p.forkv.cmd.cmd(&args)), sorted(p.redis.cmd.cmd(&args)), "{args:?}");
            assert_eq!(p.forkv.messages(), p.redis.messages(), "messages after {args:?}");
        } else {
            p.run(&[&args]);
        }
    }
}

/// With notifications on, the writes that expire stale keys first log
/// those expiries, and the AOF replays to the same data.
#[test]
fn aof_replays_writes_made_with_notifications_on() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "yes", "--notify-keyspace-events", "KEAn"]);
    let mut side = Side::connect(server.port, "KEAn");
    for args in [
        &["SADD", "set", "m"][..],
        &["SET", "k", "v", "PX", "20"],
        &["SET", "k2", "v", "PX", "20"],
        &["MSET", "keep", "1", "k3", "x"],
    ] {
        side.cmd.cmd(args);
    }
    // The TTLs must pass with nothing looking the keys up.
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(side.cmd.int(&["SUNIONSTORE", "k", "set"]), 1);
    assert_eq!(side.cmd.cmd(&["MSET", "k2", "w"]), Resp::ok());
    assert_eq!(side.cmd.cmd(&["RENAME", "k3", "k4"]), Resp::ok());
    let got = side.messages();
    for stale in ["k", "k2"] {
        let expired = got.iter().position(|m| *m == format!("__keyevent@0__:expired {stale}"));
        let new = got.iter().rposition(|m| *m == format!("__keyevent@0__:new {stale}"));
        assert!(expired.is_some() && expired < new, "{stale}: {got:?}");
    }
    let dump =
        |c: &mut Raw| -> Vec<Resp> { ["k", "k2", "k3", "k4", "keep"].iter().map(|k| c.cmd(&["DUMP", k])).collect() };
    let before = dump(&mut side.cmd);
    drop(side);
    server.restart();
    let mut c = Raw::connect(server.port);
    assert_eq!(dump(&mut c), before);
    // Redis's canonical form drops `n` next to `A`.
    assert_eq!(c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]), Resp::bulks(&["notify-keyspace-events", "AKE"]));
}

/// GEO stores and SORT STORE announce Redis's events (GEOADD as `zadd`),
/// and an emptied destination a `del`.
#[test]
fn geo_and_sort_stores_announce_what_redis_announces() {
    let Some(mut p) = start_pair("KEAn") else { return };
    let got = p.run(&[
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
        &["GEOADD", "g", "XX", "13.361389", "38.115556", "Palermo"],
        &["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d1"],
        &["GEORADIUSBYMEMBER", "g", "Palermo", "10", "km", "STOREDIST", "d2"],
        &["GEOSEARCHSTORE", "d3", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
        &["GEOSEARCHSTORE", "d3", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        &["RPUSH", "l", "3", "1", "2"],
        &["SORT", "l", "STORE", "sorted"],
        &["SORT", "l", "STORE", "sorted"],
        &["SORT", "missing", "STORE", "sorted"],
    ]);
    for event in ["zadd g", "georadiusstore d1", "georadiusstore d2", "geosearchstore d3", "sortstore sorted", "del d3"]
    {
        assert!(got.contains(&format!("__keyevent@0__:{event}")), "{event}: {got:?}");
    }
}

/// Every key `maxmemory` evicts is announced once, as `evicted`.
#[test]
fn evictions_announce_evicted() {
    let server = Server::start();
    let mut side = Side::connect(server.port, "KEe");
    let info = side.cmd.cmd(&["INFO", "memory"]).text();
    let used: u64 = helpers::info_field(&info, "used_memory").unwrap().parse().unwrap();
    let limit = (used + 512 * 1024).to_string();
    side.cmd.cmd(&["CONFIG", "SET", "maxmemory", &limit, "maxmemory-policy", "allkeys-random"]);
    let value = "v".repeat(1024);
    for i in 0..1024 {
        assert_eq!(side.cmd.cmd(&["SET", &format!("k{i}"), &value]), Resp::ok());
    }
    side.cmd.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    let got = side.messages();
    let evicted: Vec<&str> = got.iter().filter_map(|m| m.strip_prefix("__keyevent@0__:evicted ")).collect();
    let stats = side.cmd.cmd(&["INFO", "stats"]).text();
    let count: usize = helpers::info_field(&stats, "evicted_keys").unwrap().parse().unwrap();
    assert!(count > 0);
    assert_eq!(evicted.len(), count, "{got:?}");
    assert_eq!(got.len(), 2 * count, "a keyspace and a keyevent message each");
    for key in evicted {
        assert!(got.contains(&format!("__keyspace@0__:{key} evicted")));
        assert_eq!(side.cmd.int(&["EXISTS", key]), 0, "{key} was evicted");
    }
}
