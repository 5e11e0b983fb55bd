//! A redis.conf written for Redis 7.0 configures forkv: Debian's stock file
//! starts it unchanged, CONFIG GET lists every parameter redis-server lists
//! with the same defaults, and CONFIG SET checks the parameters forkv only
//! keeps (replication, lazy freeing, process title…) with Redis's texts.
//! Compared with redis-server 7.0 when it is installed (skipped otherwise).

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use helpers::{config_pairs, Raw, Resp};
use side_by_side::start_pair;
use std::path::Path;
use std::process::Child;

const STOCK_CONF: &str = "/etc/redis/redis.conf";

/// forkv started from a config file, killed when dropped.
struct FromFile {
    child: Child,
    port: u16,
}

impl Drop for FromFile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// forkv started with `conf` first and `args` after it, as redis-server is
/// started; its output if it exits instead of answering.
fn start_from_file(dir: &Path, conf: &Path, args: &[&str]) -> Result<FromFile, String> {
    match common::start_from_config(common::binary().as_os_str(), conf, dir, args) {
        Some((child, port)) => Ok(FromFile { child, port }),
        None => Err(std::fs::read_to_string(conf.with_extension("log")).unwrap_or_default()),
    }
}

#[test]
fn debians_stock_redis_conf_starts_forkv() {
    if !Path::new(STOCK_CONF).exists() {
        eprintln!("{STOCK_CONF} not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("redis.conf");
    std::fs::copy(STOCK_CONF, &conf).unwrap();
    // What the stock file points at /var and /run, and its daemonizing, are
    // overridden as a service manager's command line would.
    let pid = dir.path().join("forkv.pid");
    let overrides =
        ["--daemonize", "no", "--logfile", "", "--pidfile", pid.to_str().unwrap(), "--bind", "127.0.0.1 -::1"];
    let server = start_from_file(dir.path(), &conf, &overrides).expect("forkv starts from the stock redis.conf");
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["SET", "k", "v"]), Resp::ok());
    // Values from the file, including ones forkv keeps without acting on.
    let get = |c: &mut Raw, name: &str| config_pairs(c.cmd(&["CONFIG", "GET", name]));
    assert_eq!(get(&mut c, "bind"), [("bind".into(), "127.0.0.1 -::1".into())]);
    assert_eq!(
        get(&mut c, "proc-title-template"),
        [("proc-title-template".into(), "{title} {listen-addr} {server-mode}".into())]
    );
    assert_eq!(get(&mut c, "oom-score-adj-values"), [("oom-score-adj-values".into(), "0 200 800".into())]);
}

#[test]
fn config_get_lists_every_redis_parameter_with_redis_defaults() {
    let Some(mut pair) = start_pair() else { return };
    let forkv = config_pairs(pair.forkv.cmd(&["CONFIG", "GET", "*"]));
    let redis = config_pairs(pair.redis.cmd(&["CONFIG", "GET", "*"]));
    let names = |pairs: &[(String, String)]| pairs.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let forkv_names = names(&forkv);
    let missing: Vec<_> = names(&redis).into_iter().filter(|n| !forkv_names.contains(n)).collect();
    assert!(missing.is_empty(), "CONFIG GET * lacks {missing:?}");
    // Set differently by the two test servers' command lines, or forkv's own.
    let started_apart = ["bind", "port", "dir", "save", "enable-debug-command", "logfile", "log-format"];
    for (name, value) in &forkv {
        if let Some((_, theirs)) =
            redis.iter().find(|(n, _)| n == name).filter(|_| !started_apart.contains(&name.as_str()))
        {
            assert_eq!(value, theirs, "default of {name}");
        }
    }
    // A hidden parameter answers only to its exact name.
    pair.line("CONFIG GET key-load-delay");
    pair.line("CONFIG GET key-load-*");
}

#[test]
fn config_set_checks_kept_parameters_as_redis_does() {
    let Some(mut pair) = start_pair() else { return };
    for (name, value) in [
        ("repl-timeout", "0"),
        ("repl-backlog-size", "1x"),
        ("maxmemory-clients", "200%"),
        ("maxmemory-clients", "x"),
        ("activerehashing", "maybe"),
        ("repl-diskless-load", "sometimes"),
        ("oom-score-adj-values", "0 300 9000"),
        ("oom-score-adj-values", "0 300"),
        ("shutdown-on-sigterm", "save nosave"),
        ("shutdown-on-sigterm", "later"),
        ("supervised", "systemd"),
        ("tcp-backlog", "100"),
        ("cluster-enabled", "yes"),
        ("no-such-parameter", "1"),
    ] {
        let reply = pair.both(&["CONFIG", "SET", name, value]);
        assert!(matches!(reply, Resp::Error(_)), "{name} {value}: {reply:?}");
    }
    for (name, value, alias) in [
        ("lua-time-limit", "100", "busy-reply-threshold"),
        ("slave-priority", "7", "replica-priority"),
        ("shutdown-on-sigint", "now nosave", "shutdown-on-sigint"),
        ("oom-score-adj", "relative", "oom-score-adj"),
        ("maxmemory-clients", "10%", "maxmemory-clients"),
        ("repl-backlog-size", "2mb", "repl-backlog-size"),
        ("protected-mode", "no", "protected-mode"),
    ] {
        assert_eq!(pair.both(&["CONFIG", "SET", name, value]), Resp::ok(), "{name}");
        pair.both(&["CONFIG", "GET", alias]);
        pair.both(&["CONFIG", "GET", name]);
    }
}

#[test]
fn what_forkv_cannot_do_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("forkv.conf");
    for (line, why) in [
        ("tls-port 6380", "forkv has no TLS support"),
        ("cluster-enabled yes", "forkv has no cluster mode"),
        ("replicaof 10.0.0.1 6379", "forkv has no replication"),
        ("unixsocket /tmp/forkv.sock", "forkv listens on TCP only"),
    ] {
        std::fs::write(&conf, format!("{line}\n")).unwrap();
        let err = start_from_file(dir.path(), &conf, &[]).err().unwrap_or_else(|| panic!("{line}: started"));
        assert!(err.contains(why) && err.contains(line), "{line}: {err}");
    }
    std::fs::write(&conf, "replicaof no one\ntls-port 0\n").unwrap();
    assert!(start_from_file(dir.path(), &conf, &[]).is_ok());
}

#[test]
fn config_rewrite_keeps_kept_parameters_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("forkv.conf");
    std::fs::write(&conf, "slave-priority 50\nactiverehashing yes\n").unwrap();
    let server = start_from_file(dir.path(), &conf, &[]).unwrap();
    let mut c = Raw::connect(server.port);
    for (name, value) in [("lua-time-limit", "100"), ("shutdown-on-sigterm", "save now"), ("slave-priority", "7")] {
        assert_eq!(c.cmd(&["CONFIG", "SET", name, value]), Resp::ok());
    }
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Resp::ok());
    drop(server);
    let text = std::fs::read_to_string(&conf).unwrap();
    for line in
        ["busy-reply-threshold 100", "shutdown-on-sigterm save now", "replica-priority 7", "activerehashing yes"]
    {
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
    }
    let server = start_from_file(dir.path(), &conf, &[]).unwrap();
    let mut c = Raw::connect(server.port);
    let got = config_pairs(c.cmd(&["CONFIG", "GET", "lua-time-limit"]));
    assert_eq!(got, [("lua-time-limit".into(), "100".into())]);
    let got = config_pairs(c.cmd(&["CONFIG", "GET", "shutdown-on-sigterm"]));
    assert_eq!(got, [("shutdown-on-sigterm".into(), "save now".into())]);
}

/// Started as `forkv redis.conf` from the file's directory with its data
/// elsewhere: the server changes to `dir`, and CONFIG REWRITE must still
/// find the file (Redis keeps the config file's absolute path).
#[test]
fn config_rewrite_finds_a_config_file_given_by_a_relative_path() {
    let (conf_dir, data_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(conf_dir.path().join("forkv.conf"), "maxmemory-samples 7\n").unwrap();
    let port = common::free_port();
    let child = std::process::Command::new(common::binary())
        .current_dir(conf_dir.path())
        .args(["forkv.conf", "--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--dir"])
        .arg(data_dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _server = FromFile { child, port };
    assert!(helpers::wait_until(std::time::Duration::from_secs(20), || common::answers_ping(port)));
    let mut c = Raw::connect(port);
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-samples", "9"]), Resp::ok());
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Resp::ok());
    let text = std::fs::read_to_string(conf_dir.path().join("forkv.conf")).unwrap();
    assert!(text.lines().any(|l| l == "maxmemory-samples 9"), "{text}");
    let info = c.cmd(&["INFO", "server"]).text();
    let expected = format!("config_file:{}", conf_dir.path().join("forkv.conf").display());
    assert!(info.contains(&expected), "{info}");
}

#[test]
fn rename_command_renames_and_removes_as_in_redis() {
    if !aof_support::RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("renamed.conf");
    std::fs::write(&conf, "rename-command CONFIG cfg-secret\nrename-command FLUSHALL \"\"\n").unwrap();
    let (forkv_dir, redis_dir) = (dir.path().join("forkv"), dir.path().join("redis"));
    std::fs::create_dir(&forkv_dir).unwrap();
    std::fs::create_dir(&redis_dir).unwrap();
    let forkv = start_from_file(&forkv_dir, &conf, &[]).expect("forkv starts");
    let (redis, redis_port) =
        common::start_from_config("redis-server".as_ref(), &conf, &redis_dir, &[]).expect("redis-server starts");
    let _redis = FromFile { child: redis, port: redis_port };
    let (mut f, mut r) = (Raw::connect(forkv.port), Raw::connect(redis_port));
    for args in [
        &["CONFIG", "GET", "maxmemory"][..],
        &["cfg-secret", "GET", "maxmemory"],
        &["CFG-SECRET", "SET", "maxmemory", "0"],
        &["FLUSHALL"],
        &["FLUSHDB"],
    ] {
        side_by_side::both(&mut f, &mut r, args);
    }

    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "rename-command NOSUCH x\n").unwrap();
    let err = start_from_file(&forkv_dir, &bad, &[]).err().expect("refused");
    assert!(err.contains("No such command in rename-command"), "{err}");
}

#[test]
fn min_replicas_to_write_refuses_writes_without_replicas_as_redis() {
    let Some(mut pair) = start_pair() else { return };
    let refused = ["SET k v2", "GET k", "MULTI", "INCR n", "EXEC"];
    for line in ["SET k v", "CONFIG SET min-replicas-to-write 1"].iter().chain(&refused) {
        pair.line(line);
    }
    pair.both(&["EVAL", "return redis.call('set','k','v3')", "0"]);
    for line in [
        "CONFIG SET min-slaves-max-lag 0",
        "SET k v4",
        "CONFIG GET min-replicas-max-lag",
        "CONFIG SET min-replicas-max-lag 10",
        "CONFIG SET min-slaves-to-write 0",
        "SET k v5",
        "GET k",
    ] {
        pair.line(line);
    }
    assert_eq!(pair.line("SET k v6"), Resp::ok());
}
