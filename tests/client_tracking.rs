//! Client-side caching (CLIENT TRACKING) against the real binary: the
//! invalidations a tracking client gets (RESP3 pushes on its connection,
//! `__redis__:invalidate` messages to a RESP2 redirect subscriber, nulls
//! after flushes, BCAST prefixes, NOLOOP, OPTIN/OPTOUT, broken redirects,
//! expiry, the table limit), their order against replies, and the
//! subcommands' errors and reports. The scenarios also run on Redis 7.0's
//! redis-server when it is installed, and must read the same byte for byte
//! (client ids aside); they skip that comparison with a note otherwise.

mod aof_support;
mod common;
mod helpers;

use aof_support::RedisServer;
use common::Server;
use helpers::{info_field, wait_until, Raw, Resp};
use std::time::Duration;

fn push(items: &[Resp]) -> Resp {
    Resp::Push(items.to_vec())
}

/// `>2 invalidate [keys]`.
fn invalidate(keys: &[&str]) -> Resp {
    push(&[Resp::bulk("invalidate"), Resp::bulks(keys)])
}

/// A RESP3 connection.
fn resp3(port: u16) -> Raw {
    let mut r = Raw::connect(port);
    r.cmd(&["HELLO", "3"]);
    r
}

/// A RESP2 connection subscribed to the invalidation channel, and its id.
fn redirect_subscriber(port: u16) -> (Raw, String) {
    let mut r = Raw::connect(port);
    let id = r.int(&["CLIENT", "ID"]).to_string();
    r.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
    (r, id)
}

/// Runs `scenario` on forkv, then on redis-server if installed, and
/// asserts both transcripts are equal; returns forkv's.
fn on_both(scenario: fn(u16) -> Vec<Resp>) -> Vec<Resp> {
    let server = Server::start();
    let ours = scenario(server.port);
    if RedisServer::available() {
        let dir = tempfile::tempdir().unwrap();
        let (redis, _) = RedisServer::start(dir.path(), &[]);
        assert_eq!(ours, scenario(redis.port), "forkv (left) and redis-server (right) differ");
    }
    ours
}

fn default_mode(port: u16) -> Vec<Resp> {
    let mut t = resp3(port);
    let mut other = Raw::connect(port);
    let mut seen = vec![t.cmd(&["CLIENT", "TRACKING", "on"])];
    // Another client's write: one push, and the key leaves the table.
    t.cmd(&["MGET", "a", "b"]);
    other.cmd(&["SET", "a", "1"]);
    other.cmd(&["SET", "a", "2"]);
    seen.push(t.read());
    // Its own write: the push follows the reply.
    t.cmd(&["GET", "b"]);
    seen.push(t.cmd(&["SET", "b", "1"]));
    seen.push(t.read());
    // Inside MULTI: after EXEC's whole reply.
    t.cmd(&["GET", "a"]);
    t.cmd(&["MULTI"]);
    t.cmd(&["INCR", "a"]);
    t.cmd(&["GET", "b"]);
    seen.push(t.cmd(&["EXEC"]));
    seen.push(t.read());
    // A flush: a null for every tracking client.
    other.cmd(&["FLUSHALL"]);
    seen.push(t.read());
    // A key expiring (active expiry, within a second) is a change too.
    t.cmd(&["SET", "e", "1", "PX", "200"]);
    t.cmd(&["GET", "e"]);
    seen.push(t.read());
    // Tracking off: nothing more, as the PONG right after shows.
    t.cmd(&["GET", "a"]);
    t.cmd(&["CLIENT", "TRACKING", "off"]);
    other.cmd(&["SET", "a", "3"]);
    seen.push(t.cmd(&["PING"]));
    seen
}

#[test]
fn a_tracking_client_hears_of_changes_to_what_it_read() {
    let seen = on_both(default_mode);
    assert_eq!(
        seen,
        vec![
            Resp::ok(),
            invalidate(&["a"]),
            Resp::ok(),
            invalidate(&["b"]),
            Resp::Array(vec![Resp::Int(3), Resp::bulk("1")]),
            invalidate(&["a"]),
            push(&[Resp::bulk("invalidate"), Resp::Null]),
            invalidate(&["e"]),
            Resp::Simple("PONG".into()),
        ]
    );
}

fn redirected(port: u16) -> Vec<Resp> {
    let (mut sub, id) = redirect_subscriber(port);
    let mut t = Raw::connect(port);
    let mut other = Raw::connect(port);
    let mut seen = vec![t.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id, "NOLOOP"])];
    t.cmd(&["MGET", "mine", "theirs"]);
    t.cmd(&["SET", "mine", "1"]); // NOLOOP: not announced
    other.cmd(&["SET", "theirs", "1"]);
    seen.push(sub.read());
    t.cmd(&["GET", "theirs"]);
    other.cmd(&["FLUSHDB"]);
    seen.push(sub.read());
    // Ids differ between servers: GETREDIR must name the subscriber.
    seen.push(Resp::Bool(t.int(&["CLIENT", "GETREDIR"]).to_string() == id));
    // The redirect client leaves: a RESP3 tracker is told at the next
    // invalidation, and shows the `R` flag.
    let mut t3 = resp3(port);
    t3.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]);
    t3.cmd(&["GET", "x"]);
    sub.cmd(&["QUIT"]);
    assert!(sub.is_closed(Duration::from_secs(5)));
    other.cmd(&["SET", "x", "1"]);
    match t3.read() {
        Resp::Push(items) => seen.push(items[0].clone()),
        other => panic!("expected a push, got {other:?}"),
    }
    let info = t3.cmd(&["CLIENT", "TRACKINGINFO"]);
    seen.push(match info {
        Resp::Map(pairs) => pairs[0].1.clone(),
        other => panic!("expected a map, got {other:?}"),
    });
    let line = t3.cmd(&["CLIENT", "INFO"]).text();
    seen.push(Resp::bulk(line.split(' ').find(|f| f.starts_with("flags=")).unwrap()));
    seen
}

#[test]
fn a_redirect_subscriber_gets_messages_and_a_broken_redirect_is_reported() {
    let seen = on_both(redirected);
    let message = |value: Resp| Resp::Array(vec![Resp::bulk("message"), Resp::bulk("__redis__:invalidate"), value]);
    assert_eq!(seen[1], message(Resp::bulks(&["theirs"])));
    assert_eq!(seen[2], message(Resp::NullBulk));
    assert_eq!(seen[3], Resp::Bool(true));
    assert_eq!(seen[4], Resp::bulk("tracking-redir-broken"));
    assert_eq!(seen[5], Resp::Set(vec![Resp::bulk("on"), Resp::bulk("broken_redirect")]));
    assert_eq!(seen[6], Resp::bulk("flags=tR"));
}

fn broadcast(port: u16) -> Vec<Resp> {
    let mut t = resp3(port);
    let mut other = Raw::connect(port);
    let mut seen = vec![t.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b:", "PREFIX", "a:", "NOLOOP"])];
    // One push per prefix, keys in order, after the batch.
    other.cmd(&["MSET", "a:2", "1", "b:1", "1", "a:1", "1", "c:1", "1"]);
    seen.push(t.read());
    seen.push(t.read());
    // NOLOOP leaves out its own changes.
    t.cmd(&["MSET", "a:3", "1"]);
    other.cmd(&["SET", "a:4", "1"]);
    seen.push(t.read());
    // More prefixes add up; an overlapping one is refused.
    seen.push(t.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c:"]));
    seen.push(t.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:x"]));
    seen.push(t.cmd(&["CLIENT", "TRACKINGINFO"]));
    seen.push(t.cmd(&["CLIENT", "TRACKING", "on"]));
    seen
}

#[test]
fn bcast_clients_get_the_keys_changed_under_their_prefixes() {
    let seen = on_both(broadcast);
    assert_eq!(seen[1], invalidate(&["a:1", "a:2"]));
    assert_eq!(seen[2], invalidate(&["b:1"]));
    assert_eq!(seen[3], invalidate(&["a:4"]));
    assert_eq!(
        seen[5],
        Resp::Error(
            "ERR Prefix 'a:x' overlaps with an existing prefix 'a:'. Prefixes for a single client must not overlap."
                .into()
        )
    );
    assert_eq!(
        seen[7],
        Resp::Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into())
    );
}

fn opt_in_and_out(port: u16) -> Vec<Resp> {
    let mut t = resp3(port);
    let mut other = Raw::connect(port);
    let mut seen = vec![t.cmd(&["CLIENT", "TRACKING", "on", "OPTIN"])];
    t.cmd(&["GET", "skipped"]);
    seen.push(t.cmd(&["CLIENT", "CACHING", "yes"]));
    seen.push(t.cmd(&["CLIENT", "TRACKINGINFO"]));
    t.cmd(&["GET", "cached"]);
    other.cmd(&["MSET", "skipped", "1", "cached", "1"]);
    seen.push(t.read());
    seen.push(t.cmd(&["CLIENT", "CACHING", "no"]));
    seen.push(t.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]));
    t.cmd(&["CLIENT", "TRACKING", "off"]);
    t.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]);
    t.cmd(&["CLIENT", "CACHING", "no"]);
    t.cmd(&["GET", "skipped"]);
    t.cmd(&["GET", "cached"]);
    other.cmd(&["MSET", "skipped", "2", "cached", "2"]);
    seen.push(t.read());
    seen
}

#[test]
fn optin_and_optout_track_by_client_caching() {
    let seen = on_both(opt_in_and_out);
    assert_eq!(seen[3], invalidate(&["cached"]));
    assert_eq!(seen[6], invalidate(&["cached"]));
    assert_eq!(
        seen[4],
        Resp::Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.".into())
    );
}

/// Every refusal, in RESP2, and the reports of a client not tracking.
fn refusals(port: u16) -> Vec<Resp> {
    let mut r = Raw::connect(port);
    let commands: &[&[&str]] = &[
        &["CLIENT", "TRACKING", "maybe"],
        &["CLIENT", "TRACKING", "on", "BOGUS"],
        &["CLIENT", "TRACKING", "on", "REDIRECT"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "abc"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "987654"],
        &["CLIENT", "TRACKING", "off", "REDIRECT", "0"],
        &["CLIENT", "TRACKING", "on", "PREFIX", "a"],
        &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
        &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
        &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR"],
        &["CLIENT", "CACHING", "yes"],
        &["CLIENT", "CACHING"],
        &["CLIENT", "GETREDIR"],
        &["CLIENT", "TRACKINGINFO"],
        &["CLIENT", "TRACKING", "on", "OPTIN"],
        &["CLIENT", "TRACKING", "on", "OPTOUT"],
        &["CLIENT", "CACHING", "no"],
        &["CLIENT", "CACHING", "maybe"],
        &["CLIENT", "TRACKINGINFO"],
        &["RESET"],
        &["CLIENT", "TRACKINGINFO"],
    ];
    commands.iter().map(|args| r.cmd(args)).collect()
}

#[test]
fn refusals_and_reports_read_as_redis() {
    let seen = on_both(refusals);
    assert_eq!(seen[4], Resp::err("ERR The client ID you want redirect to does not exist"));
    assert_eq!(seen[6], Resp::err("ERR PREFIX option requires BCAST mode to be enabled"));
    assert_eq!(seen[12], Resp::Int(-1));
    assert_eq!(seen[15], Resp::err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
    assert_eq!(seen[20], seen[13], "RESET turns tracking off");
}

#[test]
fn the_table_limit_evicts_keys_and_info_counts_them() {
    let server = Server::start();
    let (mut sub, id) = redirect_subscriber(server.port);
    let mut t = Raw::connect(server.port);
    let mut admin = Raw::connect(server.port);
    t.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]);
    t.cmd(&["MGET", "k1", "k2", "k3", "k4"]);
    let mut b = resp3(server.port);
    b.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:", "PREFIX", "q:"]);
    b.cmd(&["GET", "k1"]); // BCAST clients' reads are not remembered
    let info = admin.cmd(&["INFO"]).text();
    assert_eq!(info_field(&info, "tracking_clients").as_deref(), Some("2"));
    assert_eq!(info_field(&info, "tracking_total_keys").as_deref(), Some("4"));
    assert_eq!(info_field(&info, "tracking_total_items").as_deref(), Some("4"));
    assert_eq!(info_field(&info, "tracking_total_prefixes").as_deref(), Some("2"));

    admin.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1"]);
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "tracking-table-max-keys"]),
        Resp::bulks(&["tracking-table-max-keys", "1"])
    );
    // Three keys go (by cron, within a second), each announced once.
    let mut evicted: Vec<String> = (0..3).map(|_| sub.read().items()[2].items()[0].text()).collect();
    evicted.sort();
    evicted.dedup();
    assert_eq!(evicted.len(), 3);
    let info = admin.cmd(&["INFO", "stats"]).text();
    assert_eq!(info_field(&info, "tracking_total_keys").as_deref(), Some("1"));

    // Disconnecting turns tracking off and drops its prefixes.
    drop(t);
    drop(b);
    assert!(wait_until(Duration::from_secs(5), || {
        let info = admin.cmd(&["INFO"]).text();
        info_field(&info, "tracking_clients").as_deref() == Some("0")
            && info_field(&info, "tracking_total_prefixes").as_deref() == Some("0")
    }));
}

#[test]
fn client_reply_off_keeps_invalidation_pushes() {
    let server = Server::start();
    let mut t = resp3(server.port);
    let mut other = Raw::connect(server.port);
    t.cmd(&["CLIENT", "TRACKING", "on"]);
    t.cmd(&["GET", "k"]);
    t.send(&["CLIENT", "REPLY", "off"]);
    other.cmd(&["SET", "k", "1"]);
    assert_eq!(t.read(), invalidate(&["k"]));
    assert_eq!(t.cmd(&["CLIENT", "REPLY", "on"]), Resp::ok());
}

#[test]
fn an_unblocked_client_hears_of_its_own_write_after_its_reply() {
    let server = Server::start();
    let mut t = resp3(server.port);
    let mut other = Raw::connect(server.port);
    other.cmd(&["RPUSH", "dst", "a"]);
    t.cmd(&["CLIENT", "TRACKING", "on"]);
    t.cmd(&["LRANGE", "dst", "0", "-1"]);
    t.send(&["BLMOVE", "src", "dst", "LEFT", "LEFT", "0"]);
    assert!(wait_until(Duration::from_secs(5), || {
        let info = other.cmd(&["INFO", "clients"]).text();
        info_field(&info, "blocked_clients").as_deref() == Some("1")
    }));
    other.cmd(&["RPUSH", "src", "x"]);
    assert_eq!(t.read(), Resp::bulk("x"));
    assert_eq!(t.read(), invalidate(&["dst"]));
}
