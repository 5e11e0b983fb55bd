//! MULTI/EXEC/DISCARD/WATCH and publish/subscribe across real clients.

mod common;
mod helpers;

use helpers::{Raw, Resp};
use std::time::Duration;

fn queued() -> Resp {
    Resp::Simple("QUEUED".into())
}

#[test]
fn multi_exec_discard() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    assert_eq!(r.cmd(&["MULTI"]), Resp::ok());
    assert_eq!(r.err(&["MULTI"]), "ERR MULTI calls can not be nested");
    assert_eq!(r.cmd(&["SET", "a", "x"]), queued());
    assert_eq!(r.cmd(&["INCR", "a"]), queued());
    assert_eq!(r.cmd(&["GET", "a"]), queued());
    assert_eq!(
        r.cmd(&["EXEC"]),
        Resp::Array(vec![Resp::ok(), Resp::err("ERR value is not an integer or out of range"), Resp::bulk("x")])
    );
    assert_eq!(r.err(&["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(r.err(&["DISCARD"]), "ERR DISCARD without MULTI");

    assert_eq!(r.cmd(&["MULTI"]), Resp::ok());
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![]));

    assert_eq!(r.cmd(&["MULTI"]), Resp::ok());
    assert_eq!(r.cmd(&["SET", "a", "discarded"]), queued());
    assert_eq!(r.cmd(&["DISCARD"]), Resp::ok());
    assert_eq!(r.cmd(&["GET", "a"]), Resp::bulk("x"));

    // Queued commands see nothing until EXEC; another client sees nothing either.
    let mut other = Raw::connect(s.port);
    r.cmd(&["MULTI"]);
    r.cmd(&["SET", "b", "1"]);
    assert_eq!(other.cmd(&["GET", "b"]), Resp::NullBulk);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::ok()]));
    assert_eq!(other.cmd(&["GET", "b"]), Resp::bulk("1"));

    // SELECT inside MULTI applies to the following queued commands.
    r.cmd(&["MULTI"]);
    r.cmd(&["SELECT", "3"]);
    r.cmd(&["SET", "in3", "v"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::ok(), Resp::ok()]));
    assert_eq!(r.int(&["DBSIZE"]), 1);
    r.cmd(&["SELECT", "0"]);

    assert_eq!(r.cmd(&["MULTI"]), Resp::ok());
    assert_eq!(r.err(&["WATCH", "a"]), "ERR WATCH inside MULTI is not allowed");
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![]));
}

#[test]
fn queueing_errors_abort_exec() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let execabort = "EXECABORT Transaction discarded because of previous errors.";
    r.cmd(&["MULTI"]);
    assert_eq!(r.cmd(&["SET", "a", "1"]), queued());
    assert_eq!(r.err(&["NOSUCH"]), "ERR unknown command 'NOSUCH', with args beginning with: ");
    assert_eq!(r.err(&["EXEC"]), execabort);
    assert_eq!(r.cmd(&["GET", "a"]), Resp::NullBulk, "nothing ran");

    r.cmd(&["MULTI"]);
    r.cmd(&["SET", "a", "1"]);
    assert_eq!(r.err(&["GET"]), "ERR wrong number of arguments for 'get' command");
    assert_eq!(r.err(&["EXEC"]), execabort);
    assert_eq!(r.cmd(&["GET", "a"]), Resp::NullBulk);

    // The next transaction is clean again.
    r.cmd(&["MULTI"]);
    r.cmd(&["SET", "a", "1"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::ok()]));
}

#[test]
fn watch_fails_exec_when_another_client_writes() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let mut other = Raw::connect(s.port);
    r.cmd(&["SET", "w", "0"]);

    // Untouched: executes.
    assert_eq!(r.cmd(&["WATCH", "w"]), Resp::ok());
    r.cmd(&["MULTI"]);
    r.cmd(&["INCR", "w"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::Int(1)]));

    // Modified by another client between WATCH and EXEC: nil, nothing runs.
    r.cmd(&["WATCH", "w"]);
    assert_eq!(other.cmd(&["SET", "w", "10"]), Resp::ok());
    r.cmd(&["MULTI"]);
    r.cmd(&["INCR", "w"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);
    assert_eq!(r.cmd(&["GET", "w"]), Resp::bulk("10"));

    // EXEC unwatched everything: the next transaction runs.
    other.cmd(&["SET", "w", "20"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["INCR", "w"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::Int(21)]));

    // Writes after MULTI (but before EXEC) count too.
    r.cmd(&["WATCH", "w"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["INCR", "w"]);
    other.cmd(&["DEL", "w"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);

    // Watching a missing key that another client creates.
    r.cmd(&["WATCH", "created"]);
    other.cmd(&["SET", "created", "1"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["PING"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);

    // UNWATCH and DISCARD forget the watch.
    r.cmd(&["WATCH", "w"]);
    r.cmd(&["UNWATCH"]);
    other.cmd(&["SET", "w", "1"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["PING"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::Simple("PONG".into())]));
    r.cmd(&["WATCH", "w"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["DISCARD"]);
    other.cmd(&["SET", "w", "2"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["PING"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::Simple("PONG".into())]));

    // FLUSHALL touches every watched key that exists; a failed command
    // touches nothing.
    r.cmd(&["SET", "w", "1"]);
    r.cmd(&["WATCH", "w"]);
    other.cmd(&["FLUSHALL"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["PING"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);
    r.cmd(&["SET", "w", "notanumber"]);
    r.cmd(&["WATCH", "w"]);
    assert!(matches!(other.cmd(&["INCR", "w"]), Resp::Error(_)));
    r.cmd(&["MULTI"]);
    r.cmd(&["PING"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::Simple("PONG".into())]));

    // A key that expires after WATCH fails the transaction, as in Redis.
    r.cmd(&["SET", "ttl", "v", "PX", "50"]);
    r.cmd(&["WATCH", "ttl"]);
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(other.cmd(&["GET", "ttl"]), Resp::NullBulk);
    r.cmd(&["MULTI"]);
    r.cmd(&["PING"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);
}

/// FLUSHDB, FLUSHALL and SWAPDB change a watched key only if it exists
/// before, or (SWAPDB) after: a key missing on both sides leaves EXEC to
/// run, as Redis's touchAllWatchedKeysInDb decides.
#[test]
fn flushes_and_swapdb_touch_only_watched_keys_that_exist() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let mut other = Raw::connect(s.port);
    let pong = Resp::Array(vec![Resp::Simple("PONG".into())]);
    let cases: &[(&[&str], &[&str], bool)] = &[
        (&["DEL", "x"], &["FLUSHALL"], true),
        (&["DEL", "x"], &["FLUSHDB"], true),
        (&["SET", "x", "1"], &["FLUSHDB"], false),
        (&["SET", "x", "1"], &["FLUSHALL", "ASYNC"], false),
        // SWAPDB: missing in both dbs, existing only in db 0, only in db 1.
        (&["DEL", "x"], &["SWAPDB", "0", "1"], true),
        (&["SET", "x", "1"], &["SWAPDB", "0", "1"], false),
        (&["DEL", "x"], &["SWAPDB", "1", "0"], false),
    ];
    for (setup, write, runs) in cases {
        r.cmd(setup);
        r.cmd(&["WATCH", "x"]);
        assert_eq!(other.cmd(write), Resp::ok(), "{write:?}");
        r.cmd(&["MULTI"]);
        r.cmd(&["PING"]);
        let want = if *runs { pong.clone() } else { Resp::NullArray };
        assert_eq!(r.cmd(&["EXEC"]), want, "{setup:?} then {write:?}");
    }
}

/// Commands that read some keys and write another (BITOP, the *STORE
/// commands, COPY) change only their destination: a WATCH on a source
/// still lets EXEC run, one on the destination stops it — as in Redis.
#[test]
fn writing_a_destination_leaves_watches_on_the_sources_alone() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let mut other = Raw::connect(s.port);
    let setup: &[&[&str]] = &[&["SET", "str", "ab"], &["SADD", "set", "m"], &["ZADD", "zset", "1", "m"]];
    for cmd in setup {
        other.cmd(cmd);
    }
    let writes: &[(&[&str], &str, &str)] = &[
        (&["BITOP", "OR", "dest", "str", "str"], "str", "dest"),
        (&["SUNIONSTORE", "dest", "set", "set"], "set", "dest"),
        (&["SINTERSTORE", "dest", "set"], "set", "dest"),
        (&["SDIFFSTORE", "dest", "set", "none"], "set", "dest"),
        (&["ZUNIONSTORE", "dest", "1", "zset"], "zset", "dest"),
        (&["ZRANGESTORE", "dest", "zset", "0", "-1"], "zset", "dest"),
        (&["COPY", "str", "dest", "REPLACE"], "str", "dest"),
    ];
    for (write, source, dest) in writes {
        for (watched, runs) in [(source, true), (dest, false)] {
            r.cmd(&["WATCH", watched]);
            other.cmd(write);
            r.cmd(&["MULTI"]);
            r.cmd(&["PING"]);
            let exec = r.cmd(&["EXEC"]);
            let ran = exec != Resp::NullArray;
            assert_eq!(ran, runs, "WATCH {watched}, then {write:?} from another client: EXEC gave {exec:?}");
        }
    }
    // Key positions as Redis reports them.
    let keys = r.cmd(&["COMMAND", "GETKEYS", "SUNIONSTORE", "d", "a", "b"]);
    assert_eq!(keys, Resp::Array(["d", "a", "b"].map(Resp::bulk).to_vec()));
    let keys = r.cmd(&["COMMAND", "GETKEYS", "BITOP", "AND", "d", "a"]);
    assert_eq!(keys, Resp::Array(["d", "a"].map(Resp::bulk).to_vec()));
}

#[test]
fn watched_key_expiring_fails_exec_without_a_deletion() {
    // hz 1: the active cycle rarely runs, so the expired key stays in place.
    let s = common::Server::start_with(&["--save", "", "--appendonly", "no", "--hz", "1"]);
    let mut r = Raw::connect(s.port);
    for _ in 0..3 {
        r.cmd(&["SET", "ttl", "v", "PX", "50"]);
        r.cmd(&["WATCH", "ttl"]);
        std::thread::sleep(Duration::from_millis(100));
        r.cmd(&["MULTI"]);
        r.cmd(&["PING"]);
        assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);
    }
    // A key already expired when watched does not fail the transaction.
    for _ in 0..3 {
        r.cmd(&["SET", "old", "v", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(20));
        r.cmd(&["WATCH", "old"]);
        r.cmd(&["MULTI"]);
        r.cmd(&["PING"]);
        assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::Simple("PONG".into())]));
    }
}

#[test]
fn exec_is_atomic_under_concurrent_incr() {
    let s = common::Server::start();
    let port = s.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for _ in 0..4 {
        let stop = stop.clone();
        writers.push(std::thread::spawn(move || {
            let mut r = Raw::connect(port);
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 200_000 {
                r.int(&["INCR", "x"]);
                n += 1;
            }
            n
        }));
    }
    let mut r = Raw::connect(port);
    let mut tx = helpers::encode(&[b"MULTI"]);
    for _ in 0..1000 {
        tx.extend(helpers::encode(&[b"INCR", b"x"]));
    }
    tx.extend(helpers::encode(&[b"EXEC"]));
    for round in 0..20 {
        r.write(&tx);
        assert_eq!(r.read(), Resp::ok());
        for _ in 0..1000 {
            assert_eq!(r.read(), queued());
        }
        let values: Vec<i64> = r.read().items().iter().map(|v| v.int()).collect();
        assert_eq!(values.len(), 1000);
        for w in values.windows(2) {
            assert_eq!(w[1], w[0] + 1, "round {round}: EXEC interleaved with other clients");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let others: i64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(r.cmd(&["GET", "x"]), Resp::bulk(&(others + 20 * 1000).to_string()));
}

#[test]
fn publish_subscribe_between_clients() {
    let s = common::Server::start();
    let sub_client = redis::Client::open(s.url()).unwrap();
    let mut sub_con = sub_client.get_connection().unwrap();
    sub_con.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut publisher = s.client();

    let mut pubsub = sub_con.as_pubsub();
    pubsub.subscribe(&["news", "sports"]).unwrap();
    pubsub.psubscribe("weather.*").unwrap();

    let mut r = Raw::connect(s.port);
    let channels: std::collections::HashSet<String> =
        r.cmd(&["PUBSUB", "CHANNELS"]).items().iter().map(|c| c.text()).collect();
    assert_eq!(channels, ["news".to_string(), "sports".to_string()].into_iter().collect());
    assert_eq!(r.cmd(&["PUBSUB", "CHANNELS", "n*"]), Resp::bulks(&["news"]));
    assert_eq!(
        r.cmd(&["PUBSUB", "NUMSUB", "news", "nobody"]),
        Resp::Array(vec![Resp::bulk("news"), Resp::Int(1), Resp::bulk("nobody"), Resp::Int(0)])
    );
    assert_eq!(r.int(&["PUBSUB", "NUMPAT"]), 1);
    assert_eq!(r.err(&["PUBSUB", "FOO"]), "ERR unknown subcommand 'FOO'. Try PUBSUB HELP.");

    let n: i64 = redis::cmd("PUBLISH").arg("news").arg("hello").query(&mut publisher).unwrap();
    assert_eq!(n, 1);
    let msg = pubsub.get_message().unwrap();
    assert_eq!(msg.get_channel_name(), "news");
    assert_eq!(msg.get_payload::<String>().unwrap(), "hello");
    assert!(!msg.from_pattern());

    let n: i64 = redis::cmd("PUBLISH").arg("weather.paris").arg("rain").query(&mut publisher).unwrap();
    assert_eq!(n, 1);
    let msg = pubsub.get_message().unwrap();
    assert_eq!(msg.get_channel_name(), "weather.paris");
    assert_eq!(msg.get_pattern::<String>().unwrap(), "weather.*");
    assert_eq!(msg.get_payload::<String>().unwrap(), "rain");

    let n: i64 = redis::cmd("PUBLISH").arg("nobody").arg("x").query(&mut publisher).unwrap();
    assert_eq!(n, 0);

    // Binary payloads survive.
    let payload = vec![0u8, 255, b'\r', b'\n', 7];
    let _: i64 = redis::cmd("PUBLISH").arg("sports").arg(&payload[..]).query(&mut publisher).unwrap();
    let msg = pubsub.get_message().unwrap();
    assert_eq!(msg.get_payload::<Vec<u8>>().unwrap(), payload);

    pubsub.unsubscribe("news").unwrap();
    pubsub.punsubscribe("weather.*").unwrap();
    assert_eq!(r.int(&["PUBSUB", "NUMPAT"]), 0);
    assert_eq!(
        r.cmd(&["PUBSUB", "NUMSUB", "news", "sports"]),
        Resp::Array(vec![Resp::bulk("news"), Resp::Int(0), Resp::bulk("sports"), Resp::Int(1)])
    );
    let n: i64 = redis::cmd("PUBLISH").arg("news").arg("late").query(&mut publisher).unwrap();
    assert_eq!(n, 0);
    let _: i64 = redis::cmd("PUBLISH").arg("sports").arg("goal").query(&mut publisher).unwrap();
    let msg = pubsub.get_message().unwrap();
    assert_eq!(msg.get_channel_name(), "sports");
    assert_eq!(msg.get_payload::<String>().unwrap(), "goal");

    // A subscriber that goes away is forgotten.
    drop(pubsub);
    drop(sub_con);
    assert!(helpers::wait_until(Duration::from_secs(3), || r.cmd(&["PUBSUB", "CHANNELS"]).items().is_empty()));
}

#[test]
fn subscribe_mode_in_resp2_and_resp3() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let mut publisher = Raw::connect(s.port);
    assert_eq!(
        r.cmd(&["SUBSCRIBE", "a", "b"]),
        Resp::Array(vec![Resp::bulk("subscribe"), Resp::bulk("a"), Resp::Int(1)])
    );
    assert_eq!(r.read(), Resp::Array(vec![Resp::bulk("subscribe"), Resp::bulk("b"), Resp::Int(2)]));
    assert_eq!(
        r.err(&["GET", "k"]),
        "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    );
    assert_eq!(r.cmd(&["PING"]), Resp::Array(vec![Resp::bulk("pong"), Resp::bulk("")]));
    assert_eq!(r.cmd(&["PING", "x"]), Resp::Array(vec![Resp::bulk("pong"), Resp::bulk("x")]));
    assert_eq!(
        r.cmd(&["PSUBSCRIBE", "p*"]),
        Resp::Array(vec![Resp::bulk("psubscribe"), Resp::bulk("p*"), Resp::Int(3)])
    );
    assert_eq!(publisher.int(&["PUBLISH", "a", "m1"]), 1);
    assert_eq!(r.read(), Resp::Array(vec![Resp::bulk("message"), Resp::bulk("a"), Resp::bulk("m1")]));
    assert_eq!(publisher.int(&["PUBLISH", "pq", "m2"]), 1);
    assert_eq!(
        r.read(),
        Resp::Array(vec![Resp::bulk("pmessage"), Resp::bulk("p*"), Resp::bulk("pq"), Resp::bulk("m2")])
    );
    // Unsubscribing from everything answers once per channel, then leaves the mode.
    r.send(&["UNSUBSCRIBE"]);
    let mut left = [r.read(), r.read()];
    left.sort_by_key(|m| m.items()[1].text());
    assert_eq!(left[0], Resp::Array(vec![Resp::bulk("unsubscribe"), Resp::bulk("a"), Resp::Int(2)]));
    assert_eq!(left[1].items()[1], Resp::bulk("b"));
    assert_eq!(r.cmd(&["PUNSUBSCRIBE"]), Resp::Array(vec![Resp::bulk("punsubscribe"), Resp::bulk("p*"), Resp::Int(0)]));
    assert_eq!(r.cmd(&["UNSUBSCRIBE"]), Resp::Array(vec![Resp::bulk("unsubscribe"), Resp::NullBulk, Resp::Int(0)]));
    assert_eq!(r.cmd(&["GET", "k"]), Resp::NullBulk);
    assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));

    // RESP3: pushes, and ordinary commands keep working while subscribed.
    let mut r3 = Raw::connect(s.port);
    assert!(matches!(r3.cmd(&["HELLO", "3"]), Resp::Map(_)));
    assert_eq!(r3.cmd(&["SUBSCRIBE", "c"]), Resp::Push(vec![Resp::bulk("subscribe"), Resp::bulk("c"), Resp::Int(1)]));
    assert_eq!(r3.cmd(&["GET", "k"]), Resp::Null);
    assert_eq!(publisher.int(&["PUBLISH", "c", "hi"]), 1);
    assert_eq!(r3.read(), Resp::Push(vec![Resp::bulk("message"), Resp::bulk("c"), Resp::bulk("hi")]));
    // A RESP3 subscriber receives its own publication as a push, then the count.
    r3.send(&["PUBLISH", "c", "self"]);
    let first = r3.read();
    let second = r3.read();
    assert_eq!(first, Resp::Push(vec![Resp::bulk("message"), Resp::bulk("c"), Resp::bulk("self")]));
    assert_eq!(second, Resp::Int(1));
}
