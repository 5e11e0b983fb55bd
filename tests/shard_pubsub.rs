//! Redis 7.0's sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB
//! SHARDCHANNELS / SHARDNUMSUB) and WAIT, against the real binary, side by
//! side with Debian's redis-server 7.0 where replies are deterministic:
//! confirmations and their counts, the RESP2 subscribed context and RESP3
//! pushes, delivery between connections (shard channels are a namespace of
//! their own), MULTI/EXEC and scripts, introspection (PUBSUB, INFO, CLIENT
//! LIST), the command table, and what RESET and a disconnect leave behind.
//! WAIT has no replica to wait for: 0 at once, or 0 at the timeout. The
//! side-by-side tests skip with a note when redis-server is not installed.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use helpers::{info_field, wait_until, Raw, Resp};
use side_by_side::{start_pair, Pair};
use std::time::{Duration, Instant};

impl Pair {
    /// The command on both servers, `n` replies read from each: the same.
    fn both_n(&mut self, args: &[&str], n: usize) -> Vec<Resp> {
        self.forkv.send(args);
        self.redis.send(args);
        let f: Vec<Resp> = (0..n).map(|_| self.forkv.read()).collect();
        let r: Vec<Resp> = (0..n).map(|_| self.redis.read()).collect();
        assert_eq!(f, r, "{}", args.join(" "));
        f
    }

    /// As `both_n`, for replies whose order follows a hash table's (an
    /// unsubscribe from everything): compared once sorted, with the counts
    /// in them checked to fall one by one in both.
    fn both_n_unordered(&mut self, args: &[&str], n: usize) -> Vec<Resp> {
        self.forkv.send(args);
        self.redis.send(args);
        let mut sides =
            [(0..n).map(|_| self.forkv.read()).collect::<Vec<_>>(), (0..n).map(|_| self.redis.read()).collect()];
        for side in &mut sides {
            let counts: Vec<i64> = side.iter().map(|m| m.items()[2].int()).collect();
            let falling: Vec<i64> = (0..n as i64).rev().map(|k| counts[n - 1] + k).collect();
            assert_eq!(counts, falling, "{}", args.join(" "));
            side.sort_by_key(|m| format!("{:?}", m.items()[1]));
            for m in side.iter_mut() {
                if let Resp::Array(items) | Resp::Push(items) = m {
                    items[2] = Resp::Int(0);
                }
            }
        }
        assert_eq!(sides[0], sides[1], "{}", args.join(" "));
        std::mem::take(&mut sides[0])
    }

    /// A second connection to each server.
    fn connections(&self) -> [Raw; 2] {
        [Raw::connect(self.forkv_server.port), Raw::connect(self.redis_server.port)]
    }
}

fn confirmation(kind: &str, name: Option<&str>, count: i64) -> Resp {
    Resp::Array(vec![Resp::bulk(kind), name.map_or(Resp::NullBulk, Resp::bulk), Resp::Int(count)])
}

fn smessage(channel: &str, msg: &str) -> Resp {
    Resp::Array(vec![Resp::bulk("smessage"), Resp::bulk(channel), Resp::bulk(msg)])
}

fn sorted(reply: Resp) -> Vec<String> {
    let mut names: Vec<String> = reply.items().iter().map(Resp::text).collect();
    names.sort();
    names
}

const CONTEXT: &str = "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

/// Confirmations count the shard channels alone, SUBSCRIBE's and
/// PSUBSCRIBE's the others alone; the RESP2 context holds while any kind
/// remains.
#[test]
fn confirmations_and_the_subscribed_context_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let got = p.both_n(&["SSUBSCRIBE", "s1", "s2", "s1"], 3);
    assert_eq!(
        got,
        [
            confirmation("ssubscribe", Some("s1"), 1),
            confirmation("ssubscribe", Some("s2"), 2),
            confirmation("ssubscribe", Some("s1"), 2)
        ]
    );
    assert_eq!(p.line("SUBSCRIBE c1"), confirmation("subscribe", Some("c1"), 1));
    assert_eq!(p.line("PSUBSCRIBE p*"), confirmation("psubscribe", Some("p*"), 2));
    assert_eq!(p.line("SSUBSCRIBE s3"), confirmation("ssubscribe", Some("s3"), 3));

    p.error("GET k", &format!("ERR Can't execute 'get': {CONTEXT}"));
    p.error("PUBLISH c1 x", &format!("ERR Can't execute 'publish': {CONTEXT}"));
    p.error("SPUBLISH s1 x", &format!("ERR Can't execute 'spublish': {CONTEXT}"));
    p.error("WAIT 0 0", &format!("ERR Can't execute 'wait': {CONTEXT}"));
    p.error("PUBSUB SHARDNUMSUB s1", &format!("ERR Can't execute 'pubsub|shardnumsub': {CONTEXT}"));
    assert_eq!(p.line("PING"), Resp::bulks(&["pong", ""]));

    let got = p.both_n(&["SUNSUBSCRIBE", "s1", "nosuch"], 2);
    assert_eq!(got[1], confirmation("sunsubscribe", Some("nosuch"), 2));
    // Leaving the channels and patterns keeps the client subscribed while
    // shard channels remain.
    assert_eq!(p.line("UNSUBSCRIBE"), confirmation("unsubscribe", Some("c1"), 1));
    assert_eq!(p.line("PUNSUBSCRIBE"), confirmation("punsubscribe", Some("p*"), 0));
    p.error("GET k", &format!("ERR Can't execute 'get': {CONTEXT}"));
    let got = p.both_n_unordered(&["SUNSUBSCRIBE"], 2);
    assert_eq!(got[0].items()[1], Resp::bulk("s2"));
    assert_eq!(got[1].items()[1], Resp::bulk("s3"));
    assert_eq!(p.line("GET k"), Resp::NullBulk);
    assert_eq!(p.line("PING"), Resp::Simple("PONG".into()));
    assert_eq!(p.line("SUNSUBSCRIBE"), confirmation("sunsubscribe", None, 0));
    assert_eq!(p.line("SUNSUBSCRIBE x"), confirmation("sunsubscribe", Some("x"), 0));
    assert_eq!(p.line("GET k"), Resp::NullBulk);

    // A channel subscription does not count towards SUNSUBSCRIBE's.
    assert_eq!(p.line("SUBSCRIBE c"), confirmation("subscribe", Some("c"), 1));
    assert_eq!(p.line("SSUBSCRIBE c"), confirmation("ssubscribe", Some("c"), 1));
    assert_eq!(p.line("SUNSUBSCRIBE c"), confirmation("sunsubscribe", Some("c"), 0));
    p.error("GET k", &format!("ERR Can't execute 'get': {CONTEXT}"));
    assert_eq!(p.line("UNSUBSCRIBE c"), confirmation("unsubscribe", Some("c"), 0));
    assert_eq!(p.line("GET k"), Resp::NullBulk);
}

/// RESP3: confirmations and messages are pushes, and other commands run
/// while subscribed; a subscriber's own SPUBLISH delivers before the count.
#[test]
fn resp3_pushes_match_redis() {
    let Some(mut p) = start_pair() else { return };
    assert!(matches!(p.forkv.cmd(&["HELLO", "3"]), Resp::Map(_)));
    assert!(matches!(p.redis.cmd(&["HELLO", "3"]), Resp::Map(_)));
    let push = |items: &[&str], n: i64| {
        let mut v: Vec<Resp> = items.iter().map(|s| Resp::bulk(s)).collect();
        v.push(Resp::Int(n));
        Resp::Push(v)
    };
    assert_eq!(p.line("SSUBSCRIBE s1"), push(&["ssubscribe", "s1"], 1));
    assert_eq!(p.line("GET k"), Resp::Null);
    assert_eq!(
        p.both_n(&["SPUBLISH", "s1", "self"], 2),
        [Resp::Push(vec![Resp::bulk("smessage"), Resp::bulk("s1"), Resp::bulk("self")]), Resp::Int(1)]
    );
    assert_eq!(p.line("PUBLISH s1 global"), Resp::Int(0), "PUBLISH does not reach shard subscribers");
    let [mut f, mut r] = p.connections();
    assert_eq!(f.int(&["SPUBLISH", "s1", "other"]), 1);
    assert_eq!(r.int(&["SPUBLISH", "s1", "other"]), 1);
    assert_eq!(p.forkv.read(), p.redis.read());
    // SPUBLISH by the subscriber inside EXEC: its message lands among the
    // EXEC replies, as Redis writes it there.
    p.line("MULTI");
    p.line("SPUBLISH s1 inexec");
    p.line("GET k");
    // The push is read as the array's first element, so the array's last
    // reply follows it.
    let exec = p.line("EXEC");
    assert_eq!(
        exec.items(),
        [Resp::Push(vec![Resp::bulk("smessage"), Resp::bulk("s1"), Resp::bulk("inexec")]), Resp::Int(1)]
    );
    assert_eq!(p.forkv.read(), Resp::Null);
    assert_eq!(p.redis.read(), Resp::Null);
    assert_eq!(p.line("SUNSUBSCRIBE"), push(&["sunsubscribe", "s1"], 0));
    assert_eq!(p.line("SUNSUBSCRIBE"), Resp::Push(vec![Resp::bulk("sunsubscribe"), Resp::Null, Resp::Int(0)]));
}

/// SPUBLISH reaches shard subscribers only, PUBLISH channel and pattern
/// subscribers only; every subscriber gets its copy.
#[test]
fn delivery_between_connections_matches_redis() {
    let Some(mut p) = start_pair() else { return };
    let [mut fs1, mut rs1] = p.connections();
    let [mut fs2, mut rs2] = p.connections();
    let [mut fc, mut rc] = p.connections();
    for (s1, s2, c) in [(&mut fs1, &mut fs2, &mut fc), (&mut rs1, &mut rs2, &mut rc)] {
        assert_eq!(s1.cmd(&["SSUBSCRIBE", "news", "fence"]), confirmation("ssubscribe", Some("news"), 1));
        assert_eq!(s1.read(), confirmation("ssubscribe", Some("fence"), 2));
        assert_eq!(s2.cmd(&["SSUBSCRIBE", "news"]), confirmation("ssubscribe", Some("news"), 1));
        assert_eq!(c.cmd(&["SUBSCRIBE", "news"]), confirmation("subscribe", Some("news"), 1));
        assert_eq!(c.cmd(&["PSUBSCRIBE", "n*"]), confirmation("psubscribe", Some("n*"), 2));
    }
    assert_eq!(p.line("SPUBLISH news hello"), Resp::Int(2));
    assert_eq!(p.line("PUBLISH news global"), Resp::Int(2), "the channel and the pattern, no shard subscriber");
    assert_eq!(p.line("SPUBLISH nobody x"), Resp::Int(0));
    assert_eq!(p.line("SPUBLISH fence end"), Resp::Int(1));
    for (s1, s2, c) in [(&mut fs1, &mut fs2, &mut fc), (&mut rs1, &mut rs2, &mut rc)] {
        assert_eq!(s1.read(), smessage("news", "hello"));
        // Nothing from PUBLISH in between.
        assert_eq!(s1.read(), smessage("fence", "end"));
        assert_eq!(s2.read(), smessage("news", "hello"));
        assert_eq!(c.read(), Resp::Array(["message", "news", "global"].map(Resp::bulk).to_vec()));
        assert_eq!(c.read(), Resp::Array(["pmessage", "n*", "news", "global"].map(Resp::bulk).to_vec()));
    }
    // Binary payloads and names survive.
    let name: &[u8] = b"bin\x00\r\nchan";
    let payload: &[u8] = &[0, 255, b'\r', b'\n', 7];
    for (sub, publisher) in [(&mut fs2, &mut p.forkv), (&mut rs2, &mut p.redis)] {
        assert!(matches!(sub.cmd_bytes(&[b"SSUBSCRIBE", name]), Resp::Array(_)));
        assert_eq!(publisher.cmd_bytes(&[b"SPUBLISH", name, payload]), Resp::Int(1));
        let msg = sub.read();
        assert_eq!(
            msg,
            Resp::Array(vec![Resp::bulk("smessage"), Resp::Bulk(name.to_vec()), Resp::Bulk(payload.to_vec())])
        );
    }
    // SPUBLISH inside another client's EXEC delivers too.
    assert_eq!(p.line("MULTI"), Resp::ok());
    p.line("SPUBLISH news tx");
    p.line("PUBLISH news tx");
    assert_eq!(p.line("EXEC"), Resp::ints(&[2, 2]));
    for (s1, s2) in [(&mut fs1, &mut fs2), (&mut rs1, &mut rs2)] {
        assert_eq!(s1.read(), smessage("news", "tx"));
        assert_eq!(s2.read(), smessage("news", "tx"));
    }
}

/// PUBSUB SHARDCHANNELS / SHARDNUMSUB, the other PUBSUB subcommands beside
/// them, INFO and CLIENT LIST, before and after the subscribers leave.
#[test]
fn introspection_matches_redis() {
    let Some(mut p) = start_pair() else { return };
    let [mut f1, mut r1] = p.connections();
    let [mut f2, mut r2] = p.connections();
    for (a, b) in [(&mut f1, &mut f2), (&mut r1, &mut r2)] {
        a.send(&["SSUBSCRIBE", "alpha", "beta", "gamma"]);
        for _ in 0..3 {
            a.read();
        }
        a.cmd(&["PSUBSCRIBE", "pat*"]);
        b.cmd(&["SSUBSCRIBE", "alpha"]);
        b.cmd(&["SUBSCRIBE", "alpha"]);
    }
    let [f, r] = [p.forkv.cmd(&["PUBSUB", "SHARDCHANNELS"]), p.redis.cmd(&["PUBSUB", "SHARDCHANNELS"])];
    assert_eq!(sorted(f), ["alpha", "beta", "gamma"]);
    assert_eq!(sorted(r), ["alpha", "beta", "gamma"]);
    let [f, r] = [p.forkv.cmd(&["PUBSUB", "SHARDCHANNELS", "*a"]), p.redis.cmd(&["PUBSUB", "SHARDCHANNELS", "*a"])];
    assert_eq!(sorted(f), sorted(r));
    assert_eq!(p.line("PUBSUB SHARDCHANNELS b*"), Resp::bulks(&["beta"]));
    assert_eq!(p.line("PUBSUB SHARDCHANNELS nomatch*"), Resp::Array(vec![]));
    assert_eq!(p.line("PUBSUB CHANNELS"), Resp::bulks(&["alpha"]));
    p.line("PUBSUB SHARDNUMSUB alpha beta nosuch alpha");
    assert_eq!(
        p.line("PUBSUB SHARDNUMSUB alpha gamma"),
        Resp::Array(vec![Resp::bulk("alpha"), Resp::Int(2), Resp::bulk("gamma"), Resp::Int(1)])
    );
    assert_eq!(
        p.line("PUBSUB NUMSUB alpha beta"),
        Resp::Array(vec![Resp::bulk("alpha"), Resp::Int(1), Resp::bulk("beta"), Resp::Int(0)])
    );
    assert_eq!(p.line("PUBSUB SHARDNUMSUB"), Resp::Array(vec![]));
    assert_eq!(p.line("PUBSUB NUMPAT"), Resp::Int(1));
    p.line("PUBSUB HELP");
    p.error(
        "PUBSUB SHARDCHANNELS a b",
        "ERR unknown subcommand or wrong number of arguments for 'SHARDCHANNELS'. Try PUBSUB HELP.",
    );
    p.error(
        "PUBSUB channels a b",
        "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP.",
    );
    p.error("PUBSUB HELP x", "ERR wrong number of arguments for 'pubsub|help' command");
    p.error("PUBSUB NUMPAT x", "ERR wrong number of arguments for 'pubsub|numpat' command");
    p.error("PUBSUB NOSUCH", "ERR unknown subcommand 'NOSUCH'. Try PUBSUB HELP.");
    p.error("PUBSUB", "ERR wrong number of arguments for 'pubsub' command");
    // RESP3: NUMSUB and SHARDNUMSUB stay flat arrays in Redis 7.0.
    let hello = |p: &mut Pair, v: &str| {
        [&mut p.forkv, &mut p.redis].map(|r| assert!(!matches!(r.cmd(&["HELLO", v]), Resp::Error(_))))
    };
    hello(&mut p, "3");
    p.line("PUBSUB SHARDNUMSUB alpha beta");
    p.line("PUBSUB NUMSUB alpha");
    hello(&mut p, "2");

    let stats = |r: &mut Raw| {
        let info = r.cmd(&["INFO", "stats"]).text();
        ["pubsub_channels", "pubsub_patterns", "pubsubshard_channels"].map(|f| info_field(&info, f).unwrap())
    };
    assert_eq!(stats(&mut p.forkv), ["1", "1", "3"]);
    assert_eq!(stats(&mut p.redis), ["1", "1", "3"]);
    let subscriptions = |r: &mut Raw| {
        let list = r.cmd(&["CLIENT", "LIST"]).text();
        let mut lines: Vec<String> = list
            .lines()
            .map(|l| {
                let fields =
                    l.split(' ').filter(|f| ["flags=", "sub=", "psub=", "ssub="].iter().any(|p| f.starts_with(p)));
                fields.collect::<Vec<_>>().join(" ")
            })
            .collect();
        lines.sort();
        lines
    };
    let f = subscriptions(&mut p.forkv);
    assert_eq!(f, subscriptions(&mut p.redis));
    assert!(f.contains(&"flags=P sub=0 psub=1 ssub=3".to_string()), "{f:?}");
    assert!(f.contains(&"flags=P sub=1 psub=0 ssub=1".to_string()), "{f:?}");

    // A subscriber that disconnects leaves no shard subscription behind.
    drop((f1, r1));
    for r in [&mut p.forkv, &mut p.redis] {
        assert!(wait_until(Duration::from_secs(3), || r.cmd(&["PUBSUB", "SHARDCHANNELS"]) == Resp::bulks(&["alpha"])));
        assert_eq!(
            r.cmd(&["PUBSUB", "SHARDNUMSUB", "alpha", "beta"]),
            Resp::Array(vec![Resp::bulk("alpha"), Resp::Int(1), Resp::bulk("beta"), Resp::Int(0)])
        );
        assert_eq!(r.int(&["SPUBLISH", "beta", "x"]), 0);
        assert_eq!(r.int(&["PUBSUB", "NUMPAT"]), 0);
    }
    assert_eq!(stats(&mut p.forkv), ["1", "0", "1"]);
    assert_eq!(stats(&mut p.redis), ["1", "0", "1"]);
    drop((f2, r2));
    for r in [&mut p.forkv, &mut p.redis] {
        assert!(wait_until(Duration::from_secs(3), || r.cmd(&["PUBSUB", "SHARDCHANNELS"]) == Resp::Array(vec![])));
        assert_eq!(r.cmd(&["PUBSUB", "CHANNELS"]), Resp::Array(vec![]));
    }
}

/// RESET leaves every shard channel, and the client leaves pub/sub mode.
#[test]
fn reset_drops_shard_subscriptions() {
    let Some(mut p) = start_pair() else { return };
    p.both_n(&["SSUBSCRIBE", "s1", "s2"], 2);
    assert_eq!(p.line("RESET"), Resp::Simple("RESET".into()));
    assert_eq!(p.line("GET k"), Resp::NullBulk);
    assert_eq!(
        p.line("PUBSUB SHARDNUMSUB s1 s2"),
        Resp::Array(vec![Resp::bulk("s1"), Resp::Int(0), Resp::bulk("s2"), Resp::Int(0)])
    );
    assert_eq!(p.line("SPUBLISH s1 x"), Resp::Int(0));
    assert_eq!(p.line("SUNSUBSCRIBE"), confirmation("sunsubscribe", None, 0));
}

/// Inside EXEC (a client that may not block) SSUBSCRIBE is refused, though
/// SUBSCRIBE is let through; SUNSUBSCRIBE and SPUBLISH run. Scripts may
/// call SPUBLISH (a write for read-only scripts) and PUBSUB, not the others.
#[test]
fn multi_and_scripts_match_redis() {
    let Some(mut p) = start_pair() else { return };
    assert_eq!(p.line("MULTI"), Resp::ok());
    for cmd in ["SSUBSCRIBE s1", "SUBSCRIBE c1", "SPUBLISH s1 x", "SUNSUBSCRIBE s1", "SUNSUBSCRIBE"] {
        assert_eq!(p.line(cmd), Resp::Simple("QUEUED".into()));
    }
    let exec = p.line("EXEC");
    assert_eq!(exec.items()[0], Resp::err("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"));
    assert_eq!(exec.items()[1], confirmation("subscribe", Some("c1"), 1));
    assert_eq!(exec.items()[2], Resp::Int(0));
    assert_eq!(exec.items()[4], confirmation("sunsubscribe", None, 0));
    assert_eq!(p.line("UNSUBSCRIBE"), confirmation("unsubscribe", Some("c1"), 0));
    assert_eq!(p.line("PUBSUB SHARDCHANNELS"), Resp::Array(vec![]));

    for script in [
        "return redis.call('ssubscribe','x')",
        "return redis.call('sunsubscribe','x')",
        "return redis.call('wait','0','0')",
        "return redis.call('spublish','x','y')",
        "return redis.call('pubsub','shardnumsub','x')",
        "return redis.call('pubsub','shardchannels')",
    ] {
        p.both(&["EVAL", script, "0"]);
    }
    p.both(&["EVAL_RO", "return redis.call('spublish','x','y')", "0"]);
    p.both(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('spublish','x','y')", "0"]);
}

/// Arity, COMMAND INFO and COMMAND GETKEYS: the shard commands carry key
/// positions (NOT_KEY: for cluster slot checks) that name no key.
#[test]
fn command_table_matches_redis() {
    let Some(mut p) = start_pair() else { return };
    p.error("SSUBSCRIBE", "ERR wrong number of arguments for 'ssubscribe' command");
    p.error("SPUBLISH x", "ERR wrong number of arguments for 'spublish' command");
    p.error("SPUBLISH x y z", "ERR wrong number of arguments for 'spublish' command");
    p.error("WAIT 1", "ERR wrong number of arguments for 'wait' command");
    p.error("WAIT 1 2 3", "ERR wrong number of arguments for 'wait' command");
    for cmd in ["SSUBSCRIBE a b", "SUNSUBSCRIBE a", "SPUBLISH a b", "WAIT 1 2"] {
        p.error(&format!("COMMAND GETKEYS {cmd}"), "ERR The command has no key arguments");
    }
    // The flags forkv's table models (Redis's also show noscript and stale,
    // which forkv shows for no command).
    let modelled =
        ["write", "readonly", "denyoom", "admin", "pubsub", "loading", "fast", "no_auth", "blocking", "skip_monitor"];
    for name in ["ssubscribe", "sunsubscribe", "spublish", "wait", "subscribe", "publish"] {
        let rows = [&mut p.forkv, &mut p.redis].map(|r| {
            let info = r.cmd(&["COMMAND", "INFO", name]);
            let row = info.items()[0].items().to_vec();
            let flags: Vec<String> =
                row[2].items().iter().map(Resp::text).filter(|f| modelled.contains(&f.as_str())).collect();
            (row[0].clone(), row[1].clone(), flags, row[3].clone(), row[4].clone(), row[5].clone())
        });
        assert_eq!(rows[0], rows[1], "COMMAND INFO {name}");
    }
    let info = p.forkv.cmd(&["COMMAND", "INFO", "ssubscribe", "spublish"]);
    assert_eq!(&info.items()[0].items()[3..6], &[Resp::Int(1), Resp::Int(-1), Resp::Int(1)]);
    assert_eq!(&info.items()[1].items()[3..6], &[Resp::Int(1), Resp::Int(1), Resp::Int(1)]);
}

/// WAIT's argument errors and immediate answers, alone and inside EXEC.
#[test]
fn wait_errors_and_immediate_replies_match_redis() {
    let Some(mut p) = start_pair() else { return };
    p.error("WAIT x 0", "ERR value is not an integer or out of range");
    p.error("WAIT 1.5 10", "ERR value is not an integer or out of range");
    p.error("WAIT 99999999999999999999 0", "ERR value is not an integer or out of range");
    p.error("WAIT x -1", "ERR value is not an integer or out of range");
    p.error("WAIT 0 x", "ERR timeout is not an integer or out of range");
    p.error("WAIT 1 1.5", "ERR timeout is not an integer or out of range");
    p.error("WAIT 1 99999999999999999999", "ERR timeout is not an integer or out of range");
    p.error("WAIT 0 -1", "ERR timeout is negative");
    p.error("WAIT 1 -1", "ERR timeout is negative");
    for cmd in ["WAIT 0 0", "WAIT 0 100", "WAIT -5 0", "wait -9223372036854775808 1"] {
        assert_eq!(p.line(cmd), Resp::Int(0), "{cmd}");
    }
    // Inside EXEC it never blocks; the errors come at EXEC, as in Redis.
    assert_eq!(p.line("MULTI"), Resp::ok());
    for cmd in ["WAIT 1 0", "WAIT 5 100", "WAIT 1 -1", "WAIT x 0"] {
        assert_eq!(p.line(cmd), Resp::Simple("QUEUED".into()));
    }
    assert_eq!(
        p.line("EXEC"),
        Resp::Array(vec![
            Resp::Int(0),
            Resp::Int(0),
            Resp::err("ERR timeout is negative"),
            Resp::err("ERR value is not an integer or out of range"),
        ])
    );
    let started = Instant::now();
    assert_eq!(p.line("WAIT 1 50"), Resp::Int(0));
    assert!(started.elapsed() >= Duration::from_millis(100), "both servers waited");
}

/// `WAIT 1 200` blocks the client (INFO and CLIENT LIST show it, commands
/// pipelined behind it wait) and answers 0 at the timeout.
#[test]
fn wait_blocks_until_its_timeout() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let mut other = Raw::connect(s.port);
    let started = Instant::now();
    r.write(&[helpers::encode(&[b"WAIT", b"1", b"200"]), helpers::encode(&[b"PING"])].concat());
    std::thread::sleep(Duration::from_millis(50));
    let info = other.cmd(&["INFO", "clients"]).text();
    assert_eq!(info_field(&info, "blocked_clients").as_deref(), Some("1"));
    assert_eq!(info_field(&info, "clients_in_timeout_table").as_deref(), Some("1"));
    let list = other.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.lines().any(|l| l.contains(" flags=b ") && l.contains(" cmd=wait ")), "{list}");
    assert_eq!(r.read(), Resp::Int(0));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(200), "answered after {waited:?}");
    assert!(waited < Duration::from_millis(1500), "answered after {waited:?}");
    assert_eq!(r.read(), Resp::Simple("PONG".into()), "the pipelined command ran after");
    let info = other.cmd(&["INFO", "clients"]).text();
    assert_eq!(info_field(&info, "blocked_clients").as_deref(), Some("0"));
    let stats = other.cmd(&["INFO", "commandstats"]).text();
    assert!(info_field(&stats, "cmdstat_wait").is_some_and(|v| v.starts_with("calls=1,")), "{stats}");

    // A RESP3 client gets the same integer.
    r.cmd(&["HELLO", "3"]);
    assert_eq!(r.cmd(&["WAIT", "2", "10"]), Resp::Int(0));
}

/// `WAIT 1 0` waits forever: a client that disconnects meanwhile leaves
/// nothing blocked behind, and the others are not disturbed.
#[test]
fn wait_forever_ends_with_the_connection() {
    let s = common::Server::start();
    let mut other = Raw::connect(s.port);
    let blocked = |r: &mut Raw| {
        let info = r.cmd(&["INFO", "clients"]).text();
        ["blocked_clients", "clients_in_timeout_table"].map(|f| info_field(&info, f).unwrap())
    };
    let mut waiter = Raw::connect(s.port);
    waiter.send(&["WAIT", "1", "0"]);
    let mut popper = Raw::connect(s.port);
    popper.send(&["BLPOP", "list", "0"]);
    assert!(wait_until(Duration::from_secs(3), || blocked(&mut other) == ["2", "0"]));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(blocked(&mut other), ["2", "0"], "still waiting past a cron or two");
    drop(waiter);
    assert!(wait_until(Duration::from_secs(3), || blocked(&mut other) == ["1", "0"]));
    // Writes still wake the other blocked client.
    assert_eq!(other.int(&["RPUSH", "list", "x"]), 1);
    assert_eq!(popper.read(), Resp::bulks(&["list", "x"]));
    assert_eq!(blocked(&mut other), ["0", "0"]);
    assert_eq!(other.cmd(&["PING"]), Resp::Simple("PONG".into()));
}
