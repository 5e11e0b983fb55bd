//! CLIENT PAUSE / UNPAUSE / UNBLOCK and the small HELP, GETREDIR,
//! TRACKINGINFO, CONFIG HELP, COMMAND GETKEYSANDFLAGS and MEMORY
//! subcommands against the real binary; exact replies side by side with
//! redis-server 7.0 (skipped with a note when it is not installed).

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use helpers::{info_field, start_raw, wait_until, Raw, Resp};
use side_by_side::start_pair;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(5);

fn info_int(r: &mut Raw, field: &str) -> i64 {
    let info = r.cmd(&["INFO", "clients"]).text();
    info_field(&info, field).and_then(|v| v.parse().ok()).unwrap_or(-1)
}

fn wait_blocked(r: &mut Raw, n: i64) {
    assert!(wait_until(LIMIT, || info_int(r, "blocked_clients") == n), "blocked_clients never reached {n}");
}

fn client_id(r: &mut Raw) -> String {
    r.int(&["CLIENT", "ID"]).to_string()
}

#[test]
fn pause_write_holds_writers_and_lets_readers_through() {
    let (server, mut admin) = start_raw();
    admin.cmd(&["SET", "k", "old"]);
    admin.cmd(&["PFADD", "hll", "a"]);
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), Resp::ok());
    let mut writer = Raw::connect(server.port);
    writer.send(&["SET", "k", "new"]);
    let mut publisher = Raw::connect(server.port);
    publisher.send(&["PUBLISH", "ch", "m"]);
    let mut counter = Raw::connect(server.port);
    counter.send(&["PFCOUNT", "hll"]);
    let mut reader = Raw::connect(server.port);
    wait_blocked(&mut reader, 3);
    // Reads, and scripts that declare no writes, go on.
    assert_eq!(reader.bulk(&["GET", "k"]), b"old");
    assert_eq!(reader.cmd(&["EVAL", "#!lua flags=no-writes\nreturn 7", "0"]), Resp::Int(7));
    assert!(reader.cmd(&["CLIENT", "LIST"]).text().contains("flags=b"));
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), Resp::ok());
    assert_eq!(writer.read(), Resp::ok());
    assert_eq!(publisher.read(), Resp::Int(0));
    assert_eq!(counter.read(), Resp::Int(1));
    assert_eq!(reader.bulk(&["GET", "k"]), b"new");
    assert_eq!(info_int(&mut reader, "blocked_clients"), 0);
}

#[test]
fn pause_write_holds_exec_of_queued_writes_only() {
    let (server, mut admin) = start_raw();
    let mut tx = Raw::connect(server.port);
    tx.cmd(&["MULTI"]);
    assert_eq!(tx.cmd(&["SET", "k", "v"]), Resp::Simple("QUEUED".into()));
    let mut ro = Raw::connect(server.port);
    ro.cmd(&["MULTI"]);
    ro.cmd(&["GET", "k"]);
    admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]);
    assert_eq!(ro.cmd(&["EXEC"]), Resp::Array(vec![Resp::NullBulk]));
    tx.send(&["EXEC"]);
    wait_blocked(&mut admin, 1);
    admin.cmd(&["CLIENT", "UNPAUSE"]);
    assert_eq!(tx.read(), Resp::Array(vec![Resp::ok()]));
}

#[test]
fn unpause_runs_held_commands_in_order() {
    let (server, mut admin) = start_raw();
    admin.cmd(&["SET", "k", "a"]);
    admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]);
    let mut first = Raw::connect(server.port);
    // One pipelined batch, held at its first command: the read behind it
    // waits too, so the client's replies stay in order.
    first.write(b"*3\r\n$6\r\nAPPEND\r\n$1\r\nk\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$6\r\nAPPEND\r\n$1\r\nk\r\n$1\r\n2\r\n");
    wait_blocked(&mut admin, 1);
    let mut second = Raw::connect(server.port);
    second.send(&["APPEND", "k", "3"]);
    wait_blocked(&mut admin, 2);
    // A later, shorter pause of a weaker kind changes nothing.
    admin.cmd(&["CLIENT", "PAUSE", "10", "WRITE"]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(info_int(&mut admin, "blocked_clients"), 2);
    admin.cmd(&["CLIENT", "UNPAUSE"]);
    assert_eq!(first.read(), Resp::Int(2));
    assert_eq!(first.read(), Resp::bulk("a1"));
    assert_eq!(first.read(), Resp::Int(3));
    assert_eq!(second.read(), Resp::Int(4));
    assert_eq!(admin.bulk(&["GET", "k"]), b"a123");
}

#[test]
fn pause_all_holds_everyone_until_its_timeout() {
    let (server, mut admin) = start_raw();
    admin.cmd(&["SET", "k", "a"]);
    let pause = Duration::from_millis(600);
    let start = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "600", "ALL"]), Resp::ok());
    let mut writer = Raw::connect(server.port);
    writer.send(&["APPEND", "k", "1"]);
    std::thread::sleep(Duration::from_millis(100));
    let mut reader = Raw::connect(server.port);
    reader.send(&["GET", "k"]);
    // Under ALL even UNPAUSE waits for the end, as in Redis.
    admin.send(&["CLIENT", "UNPAUSE"]);
    assert_eq!(writer.read(), Resp::Int(2));
    assert!(start.elapsed() >= pause, "released after {:?}", start.elapsed());
    assert_eq!(reader.read(), Resp::bulk("a1"));
    assert_eq!(admin.read(), Resp::ok());
    assert!(start.elapsed() < LIMIT);
}

#[test]
fn pause_keeps_expired_keys_and_drops_disconnected_clients() {
    let (server, mut admin) = start_raw();
    admin.cmd(&["SET", "k", "v", "PX", "50"]);
    admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]);
    std::thread::sleep(Duration::from_millis(300));
    // Expired for readers, but neither active nor lazy expiry deletes it.
    assert_eq!(admin.cmd(&["GET", "k"]), Resp::NullBulk);
    assert_eq!(admin.int(&["DBSIZE"]), 1);
    let mut gone = Raw::connect(server.port);
    gone.send(&["SET", "other", "1"]);
    wait_blocked(&mut admin, 1);
    drop(gone);
    assert!(wait_until(LIMIT, || info_int(&mut admin, "connected_clients") == 1));
    assert_eq!(info_int(&mut admin, "blocked_clients"), 0);
    admin.cmd(&["CLIENT", "UNPAUSE"]);
    assert!(wait_until(LIMIT, || admin.int(&["DBSIZE"]) == 0));
    assert_eq!(admin.cmd(&["EXISTS", "other"]), Resp::Int(0));
    let stats = admin.cmd(&["INFO", "commandstats"]).text();
    assert!(stats.contains("cmdstat_client|pause:calls=1"), "{stats}");
    assert!(stats.contains("cmdstat_client|unpause:calls=1"), "{stats}");
}

#[test]
fn unblock_ends_a_blocking_pop_by_timeout_or_error() {
    let (server, mut admin) = start_raw();
    let mut blocked = Raw::connect(server.port);
    let id = client_id(&mut blocked);
    assert_eq!(admin.int(&["CLIENT", "UNBLOCK", &id]), 0);
    blocked.send(&["BLPOP", "list", "0"]);
    blocked.send(&["PING"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.int(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), 1);
    assert_eq!(blocked.read(), Resp::NullArray);
    assert_eq!(blocked.read(), Resp::Simple("PONG".into()));
    blocked.send(&["BLMOVE", "list", "dst", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.int(&["CLIENT", "UNBLOCK", &id, "ERROR"]), 1);
    assert_eq!(blocked.read(), Resp::err("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
    assert_eq!(admin.int(&["CLIENT", "UNBLOCK", &id, "ERROR"]), 0);
    // Still usable, and no longer parked on the key.
    admin.cmd(&["RPUSH", "list", "x"]);
    assert_eq!(blocked.cmd(&["LLEN", "list"]), Resp::Int(1));
    assert_eq!(info_int(&mut admin, "blocked_clients"), 0);
}

#[test]
fn unblock_ends_a_wait_with_its_count_or_an_error() {
    let (server, mut admin) = start_raw();
    let mut waiting = Raw::connect(server.port);
    let id = client_id(&mut waiting);
    waiting.send(&["WAIT", "1", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.int(&["CLIENT", "UNBLOCK", &id]), 1);
    // No replica acknowledged: the count is 0, as when its timeout ends it.
    assert_eq!(waiting.read(), Resp::Int(0));
    waiting.send(&["WAIT", "1", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.int(&["CLIENT", "UNBLOCK", &id, "ERROR"]), 1);
    assert_eq!(waiting.read(), Resp::err("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
    assert_eq!(info_int(&mut admin, "blocked_clients"), 0);
}

#[test]
fn replies_match_redis() {
    let Some(mut pair) = start_pair() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let cases: &[&[&str]] = &[
        &["CLIENT", "HELP"],
        &["CLIENT", "GETREDIR"],
        &["CLIENT", "TRACKINGINFO"],
        &["CLIENT", "GETREDIR", "x"],
        &["CLIENT", "TRACKINGINFO", "x"],
        &["CLIENT", "PAUSE"],
        &["CLIENT", "PAUSE", "abc"],
        &["CLIENT", "PAUSE", "-1"],
        &["CLIENT", "PAUSE", "10", "foo"],
        &["CLIENT", "PAUSE", "abc", "foo"],
        &["CLIENT", "PAUSE", "0", "write"],
        &["CLIENT", "UNPAUSE", "x"],
        &["CLIENT", "UNPAUSE"],
        &["CLIENT", "UNBLOCK"],
        &["CLIENT", "UNBLOCK", "abc"],
        &["CLIENT", "UNBLOCK", "1", "foo"],
        &["CLIENT", "UNBLOCK", "999999"],
        &["CLIENT", "UNBLOCK", "-5", "error"],
        &["CLIENT", "NOSUCH"],
        &["CLIENT", "LIST", "TYPE", "wrong_type"],
        &["CLIENT", "LIST", "TYPE", "master"],
        &["CLIENT", "LIST", "TYPE", "replica"],
        &["CLIENT", "LIST", "ID", "abc"],
        &["CLIENT", "LIST", "ID", "999999"],
        &["CLIENT", "LIST", "foo"],
        &["CLIENT", "LIST", "TYPE"],
        &["CLIENT", "KILL", "TYPE", "wrong_type"],
        &["CLIENT", "KILL", "TYPE", "master"],
        &["CLIENT", "KILL", "TYPE", "slave", "SKIPME", "no"],
        &["CLIENT", "KILL", "SKIPME", "yes_or_no"],
        &["CLIENT", "KILL", "ID", "10", "wrong_arg"],
        &["ACL", "CAT", "a", "b"],
        &["ACL", "GENPASS", "1", "2"],
        &["ACL", "LOG", "1", "2"],
        &["CONFIG", "HELP"],
        &["CONFIG", "HELP", "x"],
        &["COMMAND", "GETKEYSANDFLAGS", "GET", "k"],
        &["COMMAND", "GETKEYSANDFLAGS", "MGET", "a", "b"],
        &["COMMAND", "GETKEYSANDFLAGS"],
        &["COMMAND", "GETKEYSANDFLAGS", "get"],
        &["COMMAND", "GETKEYSANDFLAGS", "ping", "x"],
        &["COMMAND", "GETKEYSANDFLAGS", "nosuch", "x"],
        &["COMMAND", "GETKEYSANDFLAGS", "get", "a", "b"],
        &["MEMORY", "HELP"],
        &["MEMORY", "DOCTOR", "x"],
        &["MEMORY", "STATS", "x"],
    ];
    for resp3 in [false, true] {
        if resp3 {
            pair.forkv.cmd(&["HELLO", "3"]);
            pair.redis.cmd(&["HELLO", "3"]);
        }
        for args in cases {
            assert_eq!(pair.forkv.cmd(args), pair.redis.cmd(args), "{args:?} resp3={resp3}");
        }
    }
    // MEMORY STATS: Redis 7.0's fields, in its order (values differ).
    let names = |r: Resp| -> Vec<Resp> {
        match r {
            Resp::Map(pairs) => pairs.into_iter().map(|(k, _)| k).collect(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(names(pair.forkv.cmd(&["MEMORY", "STATS"])), names(pair.redis.cmd(&["MEMORY", "STATS"])));
    let doctor = pair.forkv.cmd(&["MEMORY", "DOCTOR"]);
    assert!(matches!(&doctor, Resp::Verbatim(_, text) if text.starts_with(b"Hi Sam")), "{doctor:?}");
}

/// CLIENT LIST and CLIENT KILL filter by type: a subscriber is `pubsub`,
/// the others `normal`; LIST ID lists the ids given, in their order.
#[test]
fn client_list_and_kill_filter_by_type_and_id() {
    let (server, mut r) = start_raw();
    let mut subscriber = Raw::connect(server.port);
    let sub_id = client_id(&mut subscriber);
    subscriber.cmd(&["SUBSCRIBE", "news"]);
    let mut plain = Raw::connect(server.port);
    let (me, plain_id) = (client_id(&mut r), client_id(&mut plain));
    let ids_in = |reply: Resp| -> Vec<String> {
        reply.text().lines().map(|l| l.split(' ').next().unwrap().trim_start_matches("id=").to_string()).collect()
    };
    assert_eq!(ids_in(r.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"])), [sub_id]);
    assert_eq!(ids_in(r.cmd(&["CLIENT", "LIST", "TYPE", "normal"])), [me.clone(), plain_id.clone()]);
    assert_eq!(ids_in(r.cmd(&["CLIENT", "LIST", "ID", &plain_id, "424242", &me])), [plain_id.clone(), me.clone()]);
    assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), Resp::Int(1));
    assert!(wait_until(LIMIT, || ids_in(r.cmd(&["CLIENT", "LIST"])) == [me.clone(), plain_id.clone()]));
    assert_eq!(plain.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

/// Reads replies up to and including the bulk "end" (the reply of a
/// closing `ECHO end`).
fn replies_until_end(r: &mut Raw) -> Vec<Resp> {
    let mut seen = Vec::new();
    while seen.last() != Some(&Resp::bulk("end")) {
        seen.push(r.read());
    }
    seen
}

/// What one server answers to CLIENT REPLY: OFF silences replies and
/// errors but not pub/sub messages and subscription changes, SKIP the next
/// command's reply, a blocked command's included; ON and RESET speak again.
fn client_reply_transcript(port: u16) -> Vec<Resp> {
    let mut seen = Vec::new();
    let mut a = Raw::connect(port);
    let script: &[&[&str]] = &[
        &["CLIENT", "REPLY", "OFF"],
        &["SET", "a", "1"],
        &["GET", "a"],
        &["NOSUCHCOMMAND"],
        &["CLIENT", "REPLY", "ON"],
        &["GET", "a"],
        &["CLIENT", "REPLY", "SKIP"],
        &["GET", "a"],
        &["ECHO", "two"],
        &["CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "SKIP"],
        &["ECHO", "three"],
        &["ECHO", "four"],
        &["CLIENT", "REPLY", "bogus"],
        &["CLIENT", "REPLY", "OFF"],
        &["CLIENT", "REPLY", "SKIP"],
        &["ECHO", "five"],
        &["CLIENT", "REPLY", "ON"],
        &["ECHO", "end"],
    ];
    for args in script {
        a.send(args);
    }
    seen.extend(replies_until_end(&mut a));

    let mut subscriber = Raw::connect(port);
    subscriber.cmd(&["HELLO", "3"]);
    seen.push(subscriber.cmd(&["SUBSCRIBE", "ch"]));
    subscriber.send(&["CLIENT", "REPLY", "OFF"]);
    subscriber.send(&["CLIENT", "SETNAME", "silenced"]);
    let mut publisher = Raw::connect(port);
    assert!(wait_until(LIMIT, || publisher.cmd(&["CLIENT", "LIST"]).text().contains("name=silenced")));
    seen.push(publisher.cmd(&["PUBLISH", "ch", "unheard"]));
    subscriber.send(&["CLIENT", "REPLY", "ON"]);
    seen.push(subscriber.read()); // the message, published before ON was sent
    seen.push(subscriber.read()); // ON's own OK
    seen.push(publisher.cmd(&["PUBLISH", "ch", "heard"]));
    seen.push(subscriber.read());

    // Subscription changes are pushes too; RESET speaks again.
    let mut silent = Raw::connect(port);
    for args in [&["CLIENT", "REPLY", "OFF"][..], &["SUBSCRIBE", "ch2"], &["UNSUBSCRIBE", "ch2"], &["RESET"]] {
        silent.send(args);
    }
    seen.extend((0..3).map(|_| silent.read()));

    let mut popper = Raw::connect(port);
    popper.send(&["CLIENT", "REPLY", "SKIP"]);
    popper.send(&["BLPOP", "list", "0"]);
    wait_blocked(&mut publisher, 1);
    seen.push(publisher.cmd(&["RPUSH", "list", "x"]));
    popper.send(&["ECHO", "end"]);
    seen.extend(replies_until_end(&mut popper));
    seen
}

#[test]
fn client_reply_off_and_skip_silence_what_redis_silences() {
    let Some(pair) = start_pair() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let forkv = client_reply_transcript(pair.forkv_server.port);
    let redis = client_reply_transcript(pair.redis_server.port);
    assert_eq!(forkv, redis);
    assert!(forkv.contains(&Resp::bulk("four")) && !forkv.contains(&Resp::bulk("three")), "{forkv:?}");
}

#[test]
fn command_list_names_subcommands_and_filters_as_redis() {
    let Some(mut pair) = start_pair() else { return };
    // Not in forkv: LOLWUT, and CLUSTER's and MODULE's subcommands
    // (both answer as a standalone server without modules, as one command).
    let missing = |name: &String| name == "lolwut" || name.starts_with("cluster|") || name.starts_with("module|");
    let sorted = |r: &mut Raw, args: &[&str]| {
        let mut names: Vec<String> = r.cmd(args).items().iter().map(Resp::text).collect();
        names.sort();
        names
    };
    for args in [
        &["COMMAND", "LIST"][..],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "dangerous"],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "xinfo*"],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"],
        &["COMMAND", "LIST", "FILTERBY", "MODULE", "m"],
    ] {
        let theirs: Vec<String> = sorted(&mut pair.redis, args).into_iter().filter(|n| !missing(n)).collect();
        assert_eq!(sorted(&mut pair.forkv, args), theirs, "{args:?}");
    }
    assert!(sorted(&mut pair.forkv, &["COMMAND", "LIST"]).contains(&"config|get".to_string()));
    pair.line("COMMAND LIST FILTERBY");
    pair.line("COMMAND LIST FILTERBY NOSUCH x");
    pair.line("COMMAND LIST extra");
    pair.line("COMMAND LIST FILTERBY PATTERN a FILTERBY PATTERN b");
}

/// failed_calls as Redis counts them: EXEC is not failed by a command of
/// its transaction, and a blocked command ended by CLIENT UNBLOCK ERROR is
/// one failed call.
#[test]
fn failed_calls_count_as_in_redis() {
    let Some(mut pair) = start_pair() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let counts = |r: &mut Raw| -> Vec<String> {
        let stats = r.cmd(&["INFO", "commandstats"]).text();
        let errors = r.cmd(&["INFO", "errorstats"]).text();
        // Redis also counts CLIENT UNBLOCK ERROR itself as failed, the
        // UNBLOCKED error being sent while it runs; forkv does not.
        let calls =
            stats.lines().filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_client|unblock")).map(|l| {
                // Times differ: keep the name and the counters.
                let (name, fields) = l.split_once(':').unwrap();
                let kept: Vec<&str> = fields.split(',').filter(|f| !f.starts_with("usec")).collect();
                format!("{name}:{}", kept.join(","))
            });
        calls.chain(errors.lines().filter(|l| l.starts_with("errorstat_")).map(str::to_string)).collect()
    };
    for line in ["CONFIG RESETSTAT", "MULTI", "SET a b", "AUTH a", "EXEC", "EXEC", "MULTI", "INCR a", "EXEC"] {
        pair.both(&line.split(' ').collect::<Vec<_>>());
    }
    let (mut f_waiter, mut r_waiter) = (Raw::connect(pair.forkv_server.port), Raw::connect(pair.redis_server.port));
    for (waiter, other) in [(&mut f_waiter, &mut pair.forkv), (&mut r_waiter, &mut pair.redis)] {
        let id = client_id(waiter);
        waiter.send(&["BLPOP", "nolist", "0"]);
        wait_blocked(other, 1);
        assert_eq!(other.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), Resp::Int(1));
        assert!(matches!(waiter.read(), Resp::Error(e) if e.starts_with("UNBLOCKED")));
    }
    let mut forkv = counts(&mut pair.forkv);
    let mut redis = counts(&mut pair.redis);
    forkv.sort();
    redis.sort();
    assert_eq!(forkv, redis);
}

/// COMMAND INFO marks the commands whose keys are found by parsing their
/// arguments `movablekeys`, as redis-server marks them (cluster clients
/// then ask COMMAND GETKEYS).
#[test]
fn movablekeys_flags_match_redis() {
    let Some(mut pair) = start_pair() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let movable = |r: &mut Raw| -> Vec<String> {
        let mut names: Vec<String> = r
            .cmd(&["COMMAND"])
            .items()
            .iter()
            .filter(|info| info.items()[2].items().iter().any(|flag| flag.text() == "movablekeys"))
            .map(|info| info.items()[0].text())
            .collect();
        names.sort();
        names
    };
    let redis = movable(&mut pair.redis);
    assert!(redis.len() > 20, "{redis:?}");
    assert_eq!(movable(&mut pair.forkv), redis);
}
