//! `maxmemory` against the real binary: writes refused with Redis's errors
//! when memory is over the limit and the policy forbids eviction (compared
//! reply for reply with Debian's redis-server), every eviction policy
//! keeping used memory under the limit and evicting only what it may,
//! LRU keeping recently used keys, access stamps (OBJECT IDLETIME/FREQ),
//! and evictions logged to the AOF so a restart brings back what was left.

mod aof_support;
mod common;
mod helpers;

use aof_support::RedisServer;
use common::Server;
use helpers::{config_pairs, info_field, wait_until, Raw, Resp};
use std::time::Duration;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn used_memory(c: &mut Raw) -> u64 {
    let info = c.cmd(&["INFO", "memory"]).text();
    info_field(&info, "used_memory").unwrap().parse().unwrap()
}

fn stat(c: &mut Raw, field: &str) -> u64 {
    let info = c.cmd(&["INFO", "stats"]).text();
    info_field(&info, field).unwrap().parse().unwrap()
}

/// What a client sees while the server is out of memory under
/// `noeviction`: the commands run on one server (`limit_via` sets
/// `maxmemory 1` from a second connection partway).
fn out_of_memory_script(c: &mut Raw, admin: &mut Raw) -> Vec<Resp> {
    let mut replies = vec![c.cmd(&["SET", "kept", "1"]), c.cmd(&["RPUSH", "list", "a"])];
    // A transaction queued before the limit, executed after it.
    replies.push(c.cmd(&["MULTI"]));
    replies.push(c.cmd(&["SET", "queued", "1"]));
    replies.push(admin.cmd(&["CONFIG", "SET", "maxmemory", "1"]));
    replies.push(c.cmd(&["EXEC"]));
    for command in [
        &["SET", "a", "1"][..],
        &["INCR", "kept"],
        &["APPEND", "kept", "x"],
        &["RPUSH", "list", "b"],
        &["SADD", "s", "m"],
        &["GET", "kept"],
        &["LRANGE", "list", "0", "-1"],
        &["EXPIRE", "kept", "100"],
        &["PERSIST", "kept"],
        &["DEL", "list"],
        &["EXISTS", "list"],
        // Queueing takes memory: refused inside MULTI, and EXEC aborts.
        &["MULTI"],
        &["GET", "kept"],
        &["EXEC"],
        &["MULTI"],
        &["DISCARD"],
        // Scripts: old-style ones fail at their first write; declared
        // flags decide for the new ones.
        &["EVAL", "return redis.call('get', 'kept')", "0"],
        &["EVAL", "return redis.pcall('set', 'a', 'b')", "0"],
        &["EVAL", "redis.call('del', 'nothing'); return redis.pcall('set', 'a', 'b')", "0"],
        &["EVAL", "#!lua\nreturn redis.call('get', 'kept')", "0"],
        &["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'kept')", "0"],
        &["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'script', 'ok')", "0"],
        &["GET", "script"],
        &["FLUSHALL"],
        &["DBSIZE"],
    ] {
        replies.push(c.cmd(command));
    }
    replies.push(admin.cmd(&["CONFIG", "SET", "maxmemory", "0"]));
    replies.push(c.cmd(&["SET", "a", "1"]));
    replies
}

#[test]
fn noeviction_refuses_what_may_grow_memory_as_redis_server_does() {
    if !RedisServer::available() {
        return;
    }
    let forkv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (redis, _) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    let mut answers = Vec::new();
    for port in [forkv.port, redis.port] {
        let (mut c, mut admin) = (Raw::connect(port), Raw::connect(port));
        answers.push(out_of_memory_script(&mut c, &mut admin));
    }
    let (forkv_replies, redis_replies) = (&answers[0], &answers[1]);
    assert_eq!(forkv_replies.len(), redis_replies.len());
    for (i, (f, r)) in forkv_replies.iter().zip(redis_replies).enumerate() {
        assert_eq!(f, r, "reply {i}: forkv {f:?}, redis-server {r:?}");
    }
    assert!(forkv_replies.contains(&Resp::err(OOM)), "the script met the limit: {forkv_replies:?}");
    let mut c = Raw::connect(forkv.port);
    let info = c.cmd(&["INFO", "errorstats"]).text();
    assert!(info.contains("errorstat_OOM:count="), "{info}");
}

#[test]
fn eviction_settings_answer_as_redis_server_does() {
    if !RedisServer::available() {
        return;
    }
    let forkv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (redis, _) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    let commands: &[&[&str]] = &[
        &["CONFIG", "GET", "maxmemory-policy"],
        &["CONFIG", "GET", "maxmemory-samples"],
        &["CONFIG", "GET", "maxmemory-eviction-tenacity"],
        &["CONFIG", "GET", "lfu-*"],
        &["CONFIG", "SET", "maxmemory-policy", "lru"],
        &["CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LFU"],
        &["CONFIG", "GET", "maxmemory-policy"],
        &["CONFIG", "SET", "maxmemory-samples", "0"],
        &["CONFIG", "SET", "maxmemory-samples", "65"],
        &["CONFIG", "SET", "maxmemory-samples", "10"],
        &["CONFIG", "SET", "maxmemory-eviction-tenacity", "101"],
        &["CONFIG", "SET", "lfu-log-factor", "-1"],
        &["CONFIG", "SET", "lfu-decay-time", "x"],
        &["CONFIG", "GET", "maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity"],
        &["SET", "k", "v"],
        &["OBJECT", "FREQ", "k"],
        &["OBJECT", "IDLETIME", "k"],
        &["OBJECT", "FREQ", "missing"],
        &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"],
        &["OBJECT", "IDLETIME", "k"],
        &["OBJECT", "FREQ", "k"],
        &["TOUCH", "k", "missing", "k"],
    ];
    let (mut f, mut r) = (Raw::connect(forkv.port), Raw::connect(redis.port));
    for command in commands {
        let (fr, rr) = (f.cmd(command), r.cmd(command));
        if command[..2] == ["CONFIG", "GET"] {
            // Redis lists matches in its dict's order.
            assert_eq!(config_pairs(fr), config_pairs(rr), "{command:?}");
        } else if let (["OBJECT", "IDLETIME", _], Resp::Int(fi), Resp::Int(ri)) = (command, &fr, &rr) {
            // Under volatile-ttl the key's stamp still holds LFU data, read
            // against the LRU clock, whose second may tick between the two.
            assert!((fi - ri).abs() <= 1, "{command:?}: {fi} against {ri}");
        } else {
            assert_eq!(fr, rr, "{command:?}");
        }
    }
    let policy = |c: &mut Raw| info_field(&c.cmd(&["INFO", "memory"]).text(), "maxmemory_policy");
    assert_eq!(policy(&mut f), Some("volatile-ttl".to_string()));
    assert_eq!(policy(&mut f), policy(&mut r));
}

/// Fills a server whose limit is 2 MB above its empty state with 4 MB of
/// 1 KB values (`ttl` on every other key when set); returns the limit.
fn fill_past_limit(c: &mut Raw, policy: &str, ttl: bool) -> u64 {
    let limit = used_memory(c) + 2 * 1024 * 1024;
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string(), "maxmemory-policy", policy]), Resp::ok());
    let value = "v".repeat(1024);
    for i in 0..4096 {
        let key = format!("key:{i}");
        let reply =
            if ttl && i % 2 == 0 { c.cmd(&["SET", &key, &value, "EX", "3600"]) } else { c.cmd(&["SET", &key, &value]) };
        if reply != Resp::ok() {
            return limit;
        }
    }
    limit
}

#[test]
fn every_policy_keeps_used_memory_under_the_limit() {
    for policy in [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let server = Server::start();
        let mut c = Raw::connect(server.port);
        let limit = fill_past_limit(&mut c, policy, true);
        let used = used_memory(&mut c);
        // A key is evicted before each command once over: at most one
        // command's worth (a 1 KB value) above, as Redis's own test allows.
        assert!(used < limit + 4096, "{policy}: used {used}, limit {limit}");
        assert!(stat(&mut c, "evicted_keys") > 0, "{policy}");
        let volatile_left = c.cmd(&["INFO", "keyspace"]).text();
        if policy.starts_with("volatile") {
            // Only keys with a TTL went; the writes then met the limit.
            for i in (1..4096).step_by(2).filter(|i| *i < 1024) {
                assert_eq!(c.int(&["EXISTS", &format!("key:{i}")]), 1, "{policy}: key:{i} had no TTL");
            }
            assert_eq!(c.err(&["SET", "more", "x"]), OOM, "{policy}: {volatile_left}");
        } else {
            assert_eq!(c.cmd(&["SET", "more", "x"]), Resp::ok(), "{policy}");
        }
    }
}

/// Redis's "is the memory limit honoured?" with tiny values, where what
/// each eviction leaves behind shows: writing as many keys again as it
/// took to reach the limit keeps memory under it, for every policy.
#[test]
fn small_keys_written_past_the_limit_stay_under_it() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    for policy in ["allkeys-random", "volatile-random", "allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-ttl"] {
        c.cmd(&["FLUSHALL"]);
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        let limit = used_memory(&mut c) + 100 * 1024;
        c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string(), "maxmemory-policy", policy]);
        let mut written = 0;
        while used_memory(&mut c) + 4096 <= limit && written < 100_000 {
            assert_eq!(c.cmd(&["SETEX", &format!("key:{written}"), "10000", "x"]), Resp::ok(), "{policy}");
            written += 1;
        }
        for i in 0..written {
            assert_eq!(c.cmd(&["SETEX", &format!("again:{i}"), "10000", "x"]), Resp::ok(), "{policy}: write {i}");
        }
        let used = used_memory(&mut c);
        assert!(used < limit + 4096, "{policy}: used {used}, limit {limit}");
        assert!(c.int(&["DBSIZE"]) > written as i64 / 2, "{policy}: evicted more than it needed to");
    }
}

#[test]
fn lru_evicts_idle_keys_first_and_reads_that_do_not_touch_keep_idle_time() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let value = "v".repeat(1024);
    for i in 0..2000 {
        assert_eq!(c.cmd(&["SET", &format!("cold:{i}"), &value]), Resp::ok());
    }
    // The only key of db 1, for RANDOMKEY.
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["SET", "alone", "v"]);
    c.cmd(&["SELECT", "0"]);
    // The LRU clock counts seconds.
    std::thread::sleep(Duration::from_millis(2100));
    let idle = c.int(&["OBJECT", "IDLETIME", "cold:0"]);
    assert!(idle >= 2, "idle {idle}");
    for command in [
        &["TYPE", "cold:0"][..],
        &["EXISTS", "cold:0"],
        &["TTL", "cold:0"],
        &["OBJECT", "ENCODING", "cold:0"],
        &["SCAN", "0", "MATCH", "cold:0", "COUNT", "100000"],
        &["SCAN", "0", "MATCH", "cold:0", "TYPE", "string", "COUNT", "100000"],
    ] {
        c.cmd(command);
    }
    assert!(c.int(&["OBJECT", "IDLETIME", "cold:0"]) >= 2, "TYPE, EXISTS, TTL, OBJECT and SCAN are not accesses");
    c.cmd(&["SELECT", "1"]);
    assert_eq!(c.bulk(&["RANDOMKEY"]), b"alone");
    assert!(c.int(&["OBJECT", "IDLETIME", "alone"]) >= 2, "RANDOMKEY is not an access");
    c.cmd(&["SELECT", "0"]);
    for i in 0..500 {
        c.bulk(&["GET", &format!("cold:{i}")]);
    }
    // The clock may tick between the GET and OBJECT: at most one second.
    assert!(c.int(&["OBJECT", "IDLETIME", "cold:0"]) <= 1, "GET is an access");
    // Room for about 1000 more keys than there are: 1000 must go.
    let limit = used_memory(&mut c) - 1000 * 1100;
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string(), "maxmemory-policy", "allkeys-lru"]),
        Resp::ok()
    );
    assert!(wait_until(Duration::from_secs(10), || used_memory(&mut c) < limit));
    let evicted = stat(&mut c, "evicted_keys");
    assert!(evicted >= 900, "evicted {evicted}");
    let hot_left = (0..500).filter(|i| c.int(&["EXISTS", &format!("cold:{i}")]) == 1).count();
    assert!(hot_left >= 475, "only {hot_left} of 500 recently read keys survived {evicted} evictions");
}

#[test]
fn lfu_counts_accesses() {
    let server = Server::start_with(&["--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0"]);
    let mut c = Raw::connect(server.port);
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.int(&["OBJECT", "FREQ", "k"]), 5, "a new key starts at Redis's LFU_INIT_VAL");
    for _ in 0..20 {
        c.bulk(&["GET", "k"]);
    }
    // With log factor 0 every access counts.
    assert_eq!(c.int(&["OBJECT", "FREQ", "k"]), 25);
    assert!(c.err(&["OBJECT", "IDLETIME", "k"]).starts_with("ERR An LFU maxmemory policy is selected"));
}

#[test]
fn evictions_reach_the_aof_and_a_restart_has_what_was_left() {
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = Raw::connect(server.port);
    fill_past_limit(&mut c, "allkeys-random", false);
    // No limit from here on: nothing more is evicted while we look.
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), Resp::ok());
    let evicted = stat(&mut c, "evicted_keys");
    assert!(evicted > 0);
    let keys = |c: &mut Raw| {
        let mut keys: Vec<String> = c.cmd(&["KEYS", "*"]).items().iter().map(|k| k.text()).collect();
        keys.sort();
        keys
    };
    let before = keys(&mut c);
    assert!(!before.is_empty() && before.len() < 4096, "{} keys", before.len());
    let aof = std::fs::read(server.path("appendonly.aof")).unwrap();
    let dels = aof.windows(9).filter(|w| w == b"$3\r\nDEL\r\n").count() as u64;
    assert_eq!(dels, evicted, "one DEL per eviction");
    server.kill();
    server.restart();
    let mut c = Raw::connect(server.port);
    assert_eq!(keys(&mut c), before);
}

#[test]
fn restore_sets_the_idle_time_or_frequency_as_redis_does() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    c.cmd(&["SET", "foo", "bar"]);
    let payload = c.bulk(&["DUMP", "foo"]);
    let restore = |c: &mut Raw, option: &str, n: &str| {
        c.cmd_bytes(&[b"RESTORE", b"foo", b"0", &payload, b"REPLACE", option.as_bytes(), n.as_bytes()])
    };
    assert_eq!(restore(&mut c, "IDLETIME", "1000"), Resp::ok());
    let idle = c.int(&["OBJECT", "IDLETIME", "foo"]);
    assert!((1000..=1010).contains(&idle), "idle {idle}");
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    assert_eq!(restore(&mut c, "FREQ", "100"), Resp::ok());
    assert_eq!(c.int(&["OBJECT", "FREQ", "foo"]), 100);
}
