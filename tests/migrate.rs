//! MIGRATE against the real binary: keys of every type moved forkv → forkv,
//! forkv → redis-server and redis-server → forkv with their TTLs; COPY,
//! REPLACE, KEYS, AUTH and AUTH2; the target's errors (BUSYKEY, a bad db,
//! a wrong password) and the keys it took anyway; NOKEY and argument errors
//! as redis-server words them; timeouts, retries on a dead cached socket,
//! WATCH, and the DEL the AOF gets instead.

mod aof_support;
mod common;
mod helpers;

use aof_support::{dump, info, write_every_type, Dump, RedisServer};
use helpers::{Raw, Resp};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The dbs `write_every_type` fills.
const DBS: u32 = 3;

/// MIGRATE to 127.0.0.1:`port` with the arguments after the port.
fn migrate(r: &mut Raw, port: u16, rest: &[&str]) -> Resp {
    let port = port.to_string();
    let args: Vec<&str> = ["MIGRATE", "127.0.0.1", &port].iter().chain(rest).copied().collect();
    r.cmd(&args)
}

/// Moves every key of dbs 0..3 from `src` to the same db of the target on
/// `port`, one MIGRATE … KEYS per db (so the cached link selects each db).
fn migrate_every_db(src: &mut Raw, port: u16, extra: &[&str]) {
    for db in 0..DBS {
        let db = db.to_string();
        src.cmd(&["SELECT", &db]);
        let keys: Vec<String> = src.cmd(&["KEYS", "*"]).items().iter().map(Resp::text).collect();
        assert!(!keys.is_empty());
        let mut args: Vec<&str> = vec!["", &db, "5000"];
        args.extend(extra);
        args.push("KEYS");
        args.extend(keys.iter().map(String::as_str));
        assert_eq!(migrate(src, port, &args), Resp::ok(), "db {db}");
    }
    src.cmd(&["SELECT", "0"]);
}

/// Two dumps hold the same keys and values, and deadlines at most a
/// second apart (MIGRATE sends what remains of a TTL).
fn assert_moved(before: &Dump, after: &Dump, what: &str) {
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "{what}: key names");
    for (key, was) in before {
        let now = &after[key];
        assert_eq!((&was.kind, &was.value), (&now.kind, &now.value), "{what}: {key:?}");
        assert_eq!(was.expire_at == -1, now.expire_at == -1, "{what}: TTL of {key:?}");
        assert!((was.expire_at - now.expire_at).abs() < 1000, "{what}: deadline of {key:?}: {was:?} vs {now:?}");
    }
}

#[test]
fn every_type_moves_between_forkv_servers_with_its_ttl() {
    let (source, target) = (common::Server::start(), common::Server::start());
    let mut src_con = source.client();
    write_every_type(&mut src_con, "m");
    let before = dump(&mut src_con, DBS);
    let mut src = Raw::connect(source.port);
    assert_eq!(info(&mut src_con, "stats")["migrate_cached_sockets"], "0");
    migrate_every_db(&mut src, target.port, &[]);
    assert_moved(&before, &dump(&mut target.client(), DBS), "forkv → forkv");
    assert!(dump(&mut src_con, DBS).is_empty(), "the source keys are deleted");
    assert_eq!(info(&mut src_con, "stats")["migrate_cached_sockets"], "1", "one link, reused for each db");
}

#[test]
fn every_type_moves_from_forkv_to_redis_server_and_back() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (redis, mut redis_con) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    let forkv = common::Server::start();
    let mut forkv_con = forkv.client();
    write_every_type(&mut forkv_con, "m");
    let before = dump(&mut forkv_con, DBS);

    migrate_every_db(&mut Raw::connect(forkv.port), redis.port, &[]);
    assert_moved(&before, &dump(&mut redis_con, DBS), "forkv → redis-server");
    assert!(dump(&mut forkv_con, DBS).is_empty());

    migrate_every_db(&mut Raw::connect(redis.port), forkv.port, &[]);
    assert_moved(&before, &dump(&mut forkv_con, DBS), "redis-server → forkv");
    assert!(dump(&mut redis_con, DBS).is_empty());
}

#[test]
fn copy_keeps_the_source_and_replace_overwrites_a_busy_target_key() {
    let (source, target) = (common::Server::start(), common::Server::start());
    let (mut src, mut dst) = (Raw::connect(source.port), Raw::connect(target.port));
    src.cmd(&["RPUSH", "list", "a", "b"]);
    src.cmd(&["PEXPIRE", "list", "50000"]);
    assert_eq!(migrate(&mut src, target.port, &["list", "0", "5000", "COPY"]), Resp::ok());
    assert_eq!(src.cmd(&["LRANGE", "list", "0", "-1"]), Resp::bulks(&["a", "b"]));
    assert_eq!(dst.cmd(&["LRANGE", "list", "0", "-1"]), Resp::bulks(&["a", "b"]));
    let ttl = dst.int(&["PTTL", "list"]);
    assert!(ttl > 40_000 && ttl <= 50_000, "the TTL goes along: {ttl}");

    dst.cmd(&["SET", "list", "busy"]);
    assert_eq!(
        migrate(&mut src, target.port, &["list", "0", "5000"]),
        Resp::err("ERR Target instance replied with error: BUSYKEY Target key name already exists.")
    );
    assert_eq!(src.int(&["EXISTS", "list"]), 1, "a key the target refused stays");
    assert_eq!(migrate(&mut src, target.port, &["list", "0", "5000", "REPLACE"]), Resp::ok());
    assert_eq!(src.int(&["EXISTS", "list"]), 0);
    assert_eq!(dst.cmd(&["LRANGE", "list", "0", "-1"]), Resp::bulks(&["a", "b"]));
}

#[test]
fn with_keys_only_existing_keys_go_and_only_those_the_target_took_are_deleted() {
    let (source, target) = (common::Server::start(), common::Server::start());
    let (mut src, mut dst) = (Raw::connect(source.port), Raw::connect(target.port));
    src.cmd(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]);
    dst.cmd(&["SELECT", "5"]);
    dst.cmd(&["MSET", "b", "busy", "d", "busy"]);
    assert_eq!(migrate(&mut src, target.port, &["", "5", "5000", "KEYS", "no1", "no2"]), Resp::Simple("NOKEY".into()));
    let reply = migrate(&mut src, target.port, &["", "5", "5000", "KEYS", "a", "nokey", "b", "c", "d"]);
    assert_eq!(reply, Resp::err("ERR Target instance replied with error: BUSYKEY Target key name already exists."));
    assert_eq!(
        src.cmd(&["MGET", "a", "b", "c", "d"]),
        Resp::Array(vec![Resp::NullBulk, Resp::bulk("2"), Resp::NullBulk, Resp::bulk("4")])
    );
    assert_eq!(dst.cmd(&["MGET", "a", "b", "c", "d"]), Resp::bulks(&["1", "busy", "3", "busy"]));
    // The refusal made the link forget its db: the next MIGRATE selects
    // it again rather than writing into the target's db 0.
    assert_eq!(migrate(&mut src, target.port, &["", "5", "5000", "REPLACE", "KEYS", "b"]), Resp::ok());
    assert_eq!(dst.cmd(&["GET", "b"]), Resp::bulk("2"));
    assert_eq!(dst.cmd(&["SELECT", "0"]), Resp::ok());
    assert_eq!(dst.int(&["DBSIZE"]), 0);
}

#[test]
fn auth_and_auth2_log_in_to_the_target() {
    let (source, target) = (common::Server::start(), common::Server::start());
    let (mut src, mut dst) = (Raw::connect(source.port), Raw::connect(target.port));
    dst.cmd(&["ACL", "SETUSER", "mover", "on", ">movepw", "~*", "+@all"]);
    dst.cmd(&["CONFIG", "SET", "requirepass", "secret"]);
    src.cmd(&["MSET", "k1", "v1", "k2", "v2", "k3", "v3"]);
    assert_eq!(
        migrate(&mut src, target.port, &["k1", "0", "5000"]),
        Resp::err("ERR Target instance replied with error: NOAUTH Authentication required.")
    );
    assert_eq!(migrate(&mut src, target.port, &["k1", "0", "5000", "AUTH", "secret"]), Resp::ok());
    assert_eq!(migrate(&mut src, target.port, &["k2", "0", "5000", "AUTH2", "mover", "movepw"]), Resp::ok());
    assert_eq!(
        migrate(&mut src, target.port, &["k3", "0", "5000", "AUTH2", "mover", "wrong"]),
        Resp::err(
            "ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled."
        )
    );
    assert_eq!(src.int(&["EXISTS", "k1", "k2", "k3"]), 1, "a refused AUTH keeps k3 here");
    // As with redis-server: the refused AUTH left the cached link logged
    // in as before, so the target did restore k3.
    assert_eq!(dst.cmd(&["MGET", "k1", "k2", "k3"]), Resp::bulks(&["v1", "v2", "v3"]));
}

#[test]
fn a_target_error_on_select_is_reported() {
    let (source, target) = (common::Server::start(), common::Server::start());
    let mut src = Raw::connect(source.port);
    src.cmd(&["SET", "k", "v"]);
    assert_eq!(
        migrate(&mut src, target.port, &["k", "99", "5000"]),
        Resp::err("ERR Target instance replied with error: ERR DB index is out of range")
    );
    assert_eq!(src.int(&["EXISTS", "k"]), 1);
}

#[test]
fn argument_errors_and_nokey_match_redis_server() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (redis, _con) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    let forkv = common::Server::start();
    // Nothing listens on the port of a listener just dropped.
    let closed_port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let cases: &[&[&str]] = &[
        &["MIGRATE", "127.0.0.1", "1", "k", "0"],
        &["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "KEYS", "a"],
        &["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "AUTH"],
        &["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "AUTH2", "user"],
        &["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "NOSUCH"],
        &["MIGRATE", "127.0.0.1", "1", "k", "0", "x"],
        &["MIGRATE", "127.0.0.1", "1", "k", "x", "100"],
        &["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "COPY", "REPLACE", "AUTH", "p"],
        &["MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS"],
        // A refused connection shows when Redis 7.0 writes; a name that
        // does not resolve is the one "connecting" error.
        &["MIGRATE", "127.0.0.1", &closed_port, "present", "0", "200"],
        &["MIGRATE", "nosuch.invalid", "6379", "present", "0", "200"],
        &["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "0", "AUTH", "KEYS", "KEYS", "a", "b"],
        &["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "0", "KEYS", "a"],
    ];
    let (mut f, mut r) = (Raw::connect(forkv.port), Raw::connect(redis.port));
    for server in [&mut f, &mut r] {
        server.cmd(&["SET", "present", "v"]);
    }
    for case in cases {
        let ours = f.cmd(case);
        assert_eq!(ours, r.cmd(case), "{case:?}");
    }
    assert_eq!(f.cmd(&["EXISTS", "present"]), Resp::Int(1));
}

/// A target on a free loopback port that accepts connections until the
/// flag is set, without answering: each is held open, or closed at once if
/// `hang_up`. Its port, the flag, and a handle giving how many came.
fn silent_target(hang_up: bool) -> (u16, Arc<AtomicBool>, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let accepted = std::thread::spawn(move || {
        let (mut held, mut count) = (Vec::new(), 0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !stopped.load(Ordering::SeqCst) && Instant::now() < deadline {
            match listener.accept() {
                Ok((socket, _)) => {
                    count += 1;
                    if !hang_up {
                        held.push(socket);
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        count
    });
    (port, stop, accepted)
}

#[test]
fn a_silent_target_times_out_without_a_retry() {
    let source = common::Server::start();
    let mut src = Raw::connect(source.port);
    src.cmd(&["SET", "k", "v"]);
    let (port, stop, accepted) = silent_target(false);
    let started = Instant::now();
    let reply = migrate(&mut src, port, &["k", "0", "200"]);
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    assert_eq!(reply, Resp::err("IOERR error or timeout reading to target instance"));
    assert!(took >= Duration::from_millis(190) && took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(accepted.join().unwrap(), 1, "a timeout is not retried");
    assert_eq!(src.int(&["EXISTS", "k"]), 1);
    // The failed link is not kept.
    let mut con = source.client();
    assert_eq!(info(&mut con, "stats")["migrate_cached_sockets"], "0");
}

#[test]
fn a_target_that_hangs_up_is_tried_twice() {
    let source = common::Server::start();
    let mut src = Raw::connect(source.port);
    src.cmd(&["SET", "k", "v"]);
    let (port, stop, accepted) = silent_target(true);
    let reply = migrate(&mut src, port, &["k", "0", "2000"]);
    stop.store(true, Ordering::SeqCst);
    // Whether the hang-up shows when writing or when reading is timing.
    assert!(reply.text().starts_with("IOERR error or timeout "), "{reply:?}");
    assert_eq!(accepted.join().unwrap(), 2, "one retry on a new socket");
    assert_eq!(src.int(&["EXISTS", "k"]), 1);
}

#[test]
fn a_cached_link_to_a_restarted_target_is_replaced() {
    let source = common::Server::start();
    let mut target = common::Server::start();
    let mut src = Raw::connect(source.port);
    src.cmd(&["MSET", "k1", "v1", "k2", "v2"]);
    assert_eq!(migrate(&mut src, target.port, &["k1", "2", "5000"]), Resp::ok());
    target.restart();
    assert_eq!(migrate(&mut src, target.port, &["k2", "2", "5000"]), Resp::ok());
    let mut dst = Raw::connect(target.port);
    dst.cmd(&["SELECT", "2"]);
    assert_eq!(dst.cmd(&["GET", "k2"]), Resp::bulk("v2"), "the new link selected db 2 again");
}

#[test]
fn a_moved_key_touches_watchers_and_the_aof_gets_del() {
    let mut source = common::Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let target = common::Server::start();
    let (mut src, mut watcher) = (Raw::connect(source.port), Raw::connect(source.port));
    src.cmd(&["MSET", "a", "1", "b", "2", "kept", "3"]);
    src.cmd(&["PEXPIRE", "b", "100000"]);
    watcher.cmd(&["WATCH", "a"]);
    assert_eq!(migrate(&mut src, target.port, &["", "0", "5000", "KEYS", "a", "b"]), Resp::ok());
    assert_eq!(migrate(&mut src, target.port, &["kept", "0", "5000", "COPY", "REPLACE"]), Resp::ok());
    watcher.cmd(&["MULTI"]);
    watcher.cmd(&["SET", "x", "y"]);
    assert_eq!(watcher.cmd(&["EXEC"]), Resp::NullArray, "WATCH saw the key go");

    let aof = std::fs::read(source.path("appendonly.aof")).unwrap();
    let has = |needle: &[u8]| aof.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle));
    assert!(has(b"*3\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n"), "{}", String::from_utf8_lossy(&aof));
    assert!(!has(b"MIGRATE"), "MIGRATE itself is not logged");
    drop((src, watcher));
    source.restart();
    let mut src = Raw::connect(source.port);
    assert_eq!(
        src.cmd(&["MGET", "a", "b", "kept"]),
        Resp::Array(vec![Resp::NullBulk, Resp::NullBulk, Resp::bulk("3")])
    );
}
