//! client-output-buffer-limit against the real binary: the directive from
//! a config file, arguments and the environment, CONFIG GET/SET/REWRITE
//! side by side with Debian's redis-server 7.0, and its enforcement — a
//! subscriber that never reads is closed at the hard limit and the
//! server's memory stays bounded, the soft limit only after its seconds
//! (with traffic or without), a reply over a normal client's limit is
//! never sent, and clients under the default `normal 0 0 0` are left alone
//! (the cases of Redis's obuf-limits.tcl).

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use aof_support::RedisServer;
use common::{q, start_from_config, Server};
use helpers::{info_field, wait_until, Raw, Resp};
use side_by_side::start_pair;
use std::time::{Duration, Instant};

const NAME: &str = "client-output-buffer-limit";
const DEFAULT: &str = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";
/// The three lines of Redis's stock redis.conf.
const STOCK_LINES: &str = "client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit replica 256mb 64mb 60\nclient-output-buffer-limit pubsub 32mb 8mb 60\n";

fn config_value(r: &mut Raw) -> String {
    let reply = r.cmd(&["CONFIG", "GET", NAME]);
    assert_eq!(reply.items()[0], Resp::bulk(NAME));
    reply.items()[1].text()
}

/// Whether CLIENT LIST shows a client called `name`.
fn listed(admin: &mut Raw, name: &str) -> bool {
    admin.cmd(&["CLIENT", "LIST"]).text().contains(&format!(" name={name} "))
}

fn used_memory(admin: &mut Raw) -> u64 {
    let info = admin.cmd(&["INFO", "memory"]).text();
    info_field(&info, "used_memory").expect("used_memory").parse().unwrap()
}

/// A client called `name`, subscribed to `ch` (in RESP3 with `resp3`),
/// that reads nothing more.
fn subscriber(server: &Server, name: &str, resp3: bool) -> Raw {
    let mut sub = Raw::connect(server.port);
    if resp3 {
        assert!(matches!(sub.cmd(&["HELLO", "3"]), Resp::Map(_)));
    }
    assert_eq!(sub.cmd(&["CLIENT", "SETNAME", name]), Resp::ok());
    let confirmation = sub.cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(confirmation.items()[0], Resp::bulk("subscribe"));
    sub
}

fn publish(publisher: &mut Raw, msg: &[u8]) -> i64 {
    publisher.cmd_bytes(&[b"PUBLISH", b"ch", msg]).int()
}

#[test]
fn config_get_and_set_as_redis() {
    let Some(mut p) = start_pair() else { return };
    p.both(&["CONFIG", "GET", NAME]);
    for (value, error) in [
        ("wrong number", "Wrong number of arguments"),
        ("normal  1 1 1", "Wrong number of arguments"),
        ("invalid_class 10mb 10mb 60", "Invalid client class"),
        ("master 10mb 10mb 60", "Invalid client class"),
        ("normal 10mbs 10mb 60", "Error in hard, soft or soft_seconds"),
        ("replica 10mb 10mbs 60", "Error in hard, soft or soft_seconds"),
        ("pubsub 10mb 10mb 60s", "Error in hard, soft or soft_seconds"),
        ("pubsub 10mb 10mb -1", "Error in hard, soft or soft_seconds"),
        ("normal 1 1 1 pubsub 10mb 10mb", "Wrong number of arguments"),
    ] {
        let reply = p.both(&["CONFIG", "SET", NAME, value]);
        let want = format!("ERR CONFIG SET failed (possibly related to argument '{NAME}') - {error}");
        assert!(matches!(&reply, Resp::Error(e) if e.starts_with(&want)), "{value}: {reply:?}");
    }
    assert_eq!(config_value(&mut p.forkv), DEFAULT, "a refused value changes nothing");
    for value in ["normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80", "PUBSUB 1KB 2k +3", "slave 1 2 ", ""] {
        assert_eq!(p.both(&["CONFIG", "SET", NAME, value]), Resp::ok(), "{value}");
        p.both(&["CONFIG", "GET", NAME]);
    }
    assert_eq!(config_value(&mut p.forkv), "normal 1048576 2097152 60 slave 1 2 0 pubsub 1024 2000 3");
}

#[test]
fn stock_config_lines_start_and_rewrite_as_redis() {
    let dir = tempfile::tempdir().unwrap();
    let lines = |conf: &std::path::Path| -> Vec<String> {
        let text = std::fs::read_to_string(conf).unwrap();
        text.lines().filter(|l| l.starts_with(NAME)).map(str::to_string).collect()
    };
    let mut binaries = vec![common::binary().into_os_string()];
    if RedisServer::available() {
        binaries.push("redis-server".into());
    }
    let mut rewritten = Vec::new();
    for (i, binary) in binaries.iter().enumerate() {
        // The stock lines, then one more that changes a class: lines add up.
        let conf = dir.path().join(format!("{i}.conf"));
        std::fs::write(&conf, format!("{STOCK_LINES}client-output-buffer-limit pubsub 16mb 4mb 30\n")).unwrap();
        let (mut child, port) = start_from_config(binary, &conf, dir.path(), &[]).expect("starts from the stock lines");
        let mut c = Raw::connect(port);
        assert_eq!(config_value(&mut c), "normal 0 0 0 slave 268435456 67108864 60 pubsub 16777216 4194304 30");
        assert_eq!(c.cmd(&["CONFIG", "SET", NAME, "normal 1gb 1000 0"]), Resp::ok());
        assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Resp::ok());
        rewritten.push(lines(&conf));
        // A file with one line keeps one, plus the classes that changed.
        std::fs::write(&conf, "client-output-buffer-limit pubsub 32mb 8mb 60\n").unwrap();
        assert_eq!(c.cmd(&["CONFIG", "SET", NAME, "normal 0 0 0 slave 1mb 0 0 pubsub 32mb 8mb 60"]), Resp::ok());
        assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Resp::ok());
        rewritten.push(lines(&conf));
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(
        rewritten[0],
        [
            "client-output-buffer-limit normal 1gb 1000 0",
            "client-output-buffer-limit replica 256mb 64mb 60",
            "client-output-buffer-limit pubsub 16mb 4mb 30",
        ]
    );
    assert_eq!(rewritten[1], ["client-output-buffer-limit normal 0 0 0", "client-output-buffer-limit replica 1mb 0 0"]);
    if rewritten.len() == 4 {
        assert_eq!(rewritten[..2], rewritten[2..], "forkv's lines, then redis-server's");
    }
    // forkv reads back what it wrote.
    let conf = dir.path().join("0.conf");
    let (mut child, port) = start_from_config(binaries[0].as_os_str(), &conf, dir.path(), &[]).expect("restarts");
    assert_eq!(config_value(&mut Raw::connect(port)), "normal 0 0 0 slave 1048576 0 0 pubsub 33554432 8388608 60");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn argument_and_environment_set_the_directive() {
    let server =
        Server::start_with(&["--save", "", "--client-output-buffer-limit", "pubsub 1mb 512kb 5 normal 64mb 0 0"]);
    let mut c = server.client();
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", NAME]);
    assert_eq!(got[1], "normal 67108864 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 5");

    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let log = std::fs::File::create(dir.path().join("forkv.log")).unwrap();
    let mut child = common::forkv_command(dir.path(), port, &["--save", ""], log)
        .env("FORKV_CLIENT_OUTPUT_BUFFER_LIMIT", "replica 0 0 0")
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(20), || common::answers_ping(port)), "forkv did not start");
    assert_eq!(config_value(&mut Raw::connect(port)), "normal 0 0 0 slave 0 0 0 pubsub 33554432 8388608 60");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_subscriber_that_never_reads_is_closed_at_the_hard_limit() {
    // The default pubsub limit: 32mb hard.
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    let before = used_memory(&mut admin);
    let mut subs = [subscriber(&server, "resp2-sub", false), subscriber(&server, "resp3-sub", true)];
    let mut publisher = Raw::connect(server.port);
    let msg = vec![b'x'; 1 << 20];
    let mut peak = 0;
    let mut published = 0;
    // 150 MB in all unless the subscribers go; the loopback's socket
    // buffers take a few MB each.
    while published < 150 && publish(&mut publisher, &msg) > 0 {
        published += 1;
        peak = peak.max(used_memory(&mut admin));
    }
    assert!(published < 100, "subscribers still there after {published} MB");
    for (sub, name) in subs.iter_mut().zip(["resp2-sub", "resp3-sub"]) {
        assert!(sub.is_closed(Duration::from_secs(10)), "{name} closed");
        assert!(!listed(&mut admin, name), "{name} gone from CLIENT LIST");
        server.wait_for_log(&format!(" name={name} "));
    }
    server.wait_for_log("scheduled to be closed ASAP for overcoming of output buffer limits.");
    let info = admin.cmd(&["INFO", "clients"]).text();
    assert_eq!(info_field(&info, "connected_clients").as_deref(), Some("2"), "admin and publisher");
    assert!(peak < before + 100 * (1 << 20), "used_memory peaked at {peak}, {before} at the start");
    assert!(
        wait_until(Duration::from_secs(5), || used_memory(&mut admin) < before + 16 * (1 << 20)),
        "the dropped output is freed: used_memory {}",
        used_memory(&mut admin)
    );
}

#[test]
fn the_soft_limit_closes_only_after_its_seconds() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    assert_eq!(admin.cmd(&["CONFIG", "SET", NAME, "pubsub 0 1mb 2"]), Resp::ok());
    let mut publisher = Raw::connect(server.port);
    let msg = vec![b'x'; 100 * 1024];

    // Far over the soft limit at once, then no more output: closed once
    // the 2 s are over, not before.
    let mut quiet = subscriber(&server, "quiet", false);
    let start = Instant::now();
    for _ in 0..200 {
        assert_eq!(publish(&mut publisher, &msg), 1);
    }
    // (A machine too busy to publish 20 MB within the 2 s skips this check.)
    if start.elapsed() < Duration::from_millis(1900) {
        assert!(listed(&mut admin, "quiet"), "over the soft limit for less than its seconds");
    }
    assert!(wait_until(Duration::from_secs(6), || !listed(&mut admin, "quiet")), "closed without more output");
    assert!(start.elapsed() >= Duration::from_secs(2), "closed after {:?}", start.elapsed());
    assert!(quiet.is_closed(Duration::from_secs(5)));

    // Output all along: closed when the time is over.
    let mut busy = subscriber(&server, "busy", false);
    let start = Instant::now();
    while publish(&mut publisher, &msg) == 1 {
        assert!(start.elapsed() < Duration::from_secs(8), "still subscribed after {:?}", start.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(start.elapsed() >= Duration::from_secs(2), "closed after {:?}", start.elapsed());
    assert!(!listed(&mut admin, "busy"));
    assert!(busy.is_closed(Duration::from_secs(5)));
}

#[test]
fn a_reply_over_the_limit_is_never_sent() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    assert_eq!(admin.cmd(&["CONFIG", "SET", NAME, "normal 100000 0 0"]), Resp::ok());
    let item = "x".repeat(1000);
    for _ in 0..150 {
        admin.cmd(&["LPUSH", "mylist", &item]);
    }
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "mybiglist"]), Resp::ok());
    c.send(&["LRANGE", "mylist", "0", "-1"]);
    let mut rest = Vec::new();
    use std::io::Read;
    c.reader.read_to_end(&mut rest).expect("closed, not timed out");
    assert!(rest.is_empty(), "{} bytes of the reply were sent", rest.len());
    assert!(!listed(&mut admin, "mybiglist"));
    // The admin's own replies are under the limit.
    assert_eq!(admin.cmd(&["LLEN", "mylist"]), Resp::Int(150));
}

#[test]
fn clients_under_their_class_limit_stay() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    let big = "x".repeat(1 << 20);
    assert_eq!(admin.cmd(&["SET", "big", &big]), Resp::ok());

    // `normal 0 0 0`: 40 MB of replies the client reads only later.
    let mut reader = Raw::connect(server.port);
    for _ in 0..40 {
        reader.send(&["GET", "big"]);
    }
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..40 {
        assert_eq!(reader.read(), Resp::Bulk(big.clone().into_bytes()));
    }
    assert_eq!(reader.cmd(&["PING"]), Resp::Simple("PONG".into()));

    // A tight pubsub limit applies while subscribed, in RESP2 or RESP3,
    // and no longer once the last subscription is gone.
    assert_eq!(admin.cmd(&["CONFIG", "SET", NAME, "pubsub 100000 0 0"]), Resp::ok());
    let mut left = subscriber(&server, "left", false);
    assert_eq!(left.cmd(&["UNSUBSCRIBE"]).items()[0], Resp::bulk("unsubscribe"));
    assert_eq!(left.cmd(&["GET", "big"]), Resp::Bulk(big.clone().into_bytes()));
    let mut stayed = subscriber(&server, "stayed", true);
    stayed.send(&["GET", "big"]);
    assert!(stayed.is_closed(Duration::from_secs(5)), "a subscriber's 1 MB reply is over 100000");
    assert!(listed(&mut admin, "left") && !listed(&mut admin, "stayed"));
}
