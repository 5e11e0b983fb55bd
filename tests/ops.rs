//! Operations: configuration sources and errors, CONFIG GET/SET/REWRITE,
//! runtime log level, JSON logs, signals, INFO as monitoring tools parse it,
//! and -LOADING while the dataset loads.

mod common;
mod helpers;

use common::{binary, free_port, ping_reply, q, Server};
use helpers::info_field;
use nix::sys::signal::Signal;
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Runs the binary to completion (it must exit by itself), returning code and stderr.
fn run_to_exit(args: &[&str], env: &[(&str, &str)], dir: &Path) -> (i32, String) {
    let mut child = Command::new(binary())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
            return (status.code().unwrap_or(-1), text);
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("forkv {args:?} kept running; it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_configuration_stops_startup_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("forkv.conf");
    std::fs::write(&conf, "port 7000\n# comment\nappendonly yes\nno-such-directive 5\n").unwrap();
    let (code, text) = run_to_exit(&[conf.to_str().unwrap()], &[], dir.path());
    assert_ne!(code, 0);
    assert!(text.contains("FATAL CONFIG FILE ERROR") && text.contains("line 4"), "{text}");
    assert!(text.contains("no-such-directive"), "{text}");

    std::fs::write(&conf, "appendfsync sometimes\n").unwrap();
    let (code, text) = run_to_exit(&[conf.to_str().unwrap()], &[], dir.path());
    assert_ne!(code, 0);
    assert!(text.contains("line 1") && text.contains("always, everysec, no"), "{text}");

    let (code, text) = run_to_exit(&["--maxclients", "lots"], &[], dir.path());
    assert_ne!(code, 0);
    assert!(text.contains("--maxclients"), "{text}");

    let (code, text) = run_to_exit(&["--port", "0"], &[("FORKV_APPENDONLY", "perhaps")], dir.path());
    assert_ne!(code, 0);
    assert!(text.contains("FORKV_APPENDONLY"), "{text}");

    let (code, text) = run_to_exit(&["/nonexistent/forkv.conf"], &[], dir.path());
    assert_ne!(code, 0);
    assert!(text.contains("can't open config file"), "{text}");
}

/// A server started by hand (own arguments and environment), stopped on drop.
struct Proc {
    child: Option<Child>,
    port: u16,
    log: std::path::PathBuf,
}

impl Proc {
    fn start(args: &[String], env: &[(&str, &str)], dir: &Path, port: u16) -> Proc {
        let log = dir.join("forkv.log");
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let before = out.metadata().unwrap().len() as usize;
        let child = Command::new(binary())
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut p = Proc { child: Some(child), port, log };
        // Its own log line, not only an answer: a parallel test's server
        // could hold the port this one failed to bind. Loading counts as serving.
        let ok = wait_until(Duration::from_secs(20), || {
            p.log_text()[before..].contains("Ready to accept connections") && ping_reply(port).is_some()
        });
        assert!(ok, "not serving; log:\n{}", p.log_text());
        assert!(p.child.as_mut().unwrap().try_wait().unwrap().is_none(), "exited; log:\n{}", p.log_text());
        p
    }

    fn client(&self, password: Option<&str>) -> redis::Connection {
        let url = match password {
            Some(pw) => format!("redis://:{pw}@127.0.0.1:{}/", self.port),
            None => format!("redis://127.0.0.1:{}/", self.port),
        };
        redis::Client::open(url).unwrap().get_connection_with_timeout(Duration::from_secs(5)).unwrap()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().unwrap();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.id() as i32), Signal::SIGTERM).unwrap();
        let start = Instant::now();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn environment_overrides_sit_between_file_and_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("forkv.conf");
    std::fs::write(
        &conf,
        format!("port {port}\nbind 127.0.0.1\nsave \"\"\nmaxclients 10\nhz 10\nappendfsync always\n"),
    )
    .unwrap();
    let args = vec![conf.display().to_string(), "--maxclients".into(), "30".into()];
    let env = [
        ("FORKV_MAXCLIENTS", "20"),
        ("FORKV_HZ", "20"),
        ("FORKV_REQUIREPASS", "s3cret"),
        ("FORKV_SERVICE_HOST", "10.0.0.1"),
        ("FORKV_DIR", dir.path().to_str().unwrap()),
    ];
    let p = Proc::start(&args, &env, dir.path(), port);
    let mut con = p.client(Some("s3cret"));
    let got: HashMap<String, String> = q(&mut con, &["CONFIG", "GET", "maxclients", "hz", "appendfsync", "port"]);
    assert_eq!(got["maxclients"], "30", "command line wins over the environment");
    assert_eq!(got["hz"], "20", "environment wins over the file");
    assert_eq!(got["appendfsync"], "always", "file value kept");
    assert_eq!(got["port"], port.to_string());
    // Without the password from FORKV_REQUIREPASS commands are refused.
    let mut anon = p.client(None);
    let err = redis::cmd("GET").arg("x").query::<Option<String>>(&mut anon).unwrap_err();
    assert!(err.to_string().contains("NOAUTH"), "{err}");
    let log = p.log_text();
    assert!(log.contains("FORKV_SERVICE_HOST names no directive"), "{log}");
}

#[test]
fn config_get_set_and_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("forkv.conf");
    let original = format!("# my settings\nport {port}\nbind 127.0.0.1\nappendonly no\nsave 900 1\n# end\n");
    std::fs::write(&conf, &original).unwrap();
    let args = vec![conf.display().to_string(), "--dir".into(), dir.path().display().to_string()];
    let mut p = Proc::start(&args, &[], dir.path(), port);
    let mut con = p.client(None);

    let got: HashMap<String, String> = q(&mut con, &["CONFIG", "GET", "append*", "*max*clients", "aof-use-*"]);
    assert_eq!(got["aof-use-rdb-preamble"], "yes");
    assert_eq!(got["appendonly"], "no");
    assert_eq!(got["appendfsync"], "everysec");
    assert_eq!(got["maxclients"], "10000");
    assert!(!got.contains_key("port"));

    let _: () = q(&mut con, &["CONFIG", "SET", "appendonly", "yes", "appendfsync", "always"]);
    let _: () = q(&mut con, &["CONFIG", "SET", "save", "60 5 300 10"]);
    let _: () = q(&mut con, &["CONFIG", "SET", "maxclients", "77"]);
    let _: () = q(&mut con, &["CONFIG", "SET", "aof-use-rdb-preamble", "no"]);
    let _: () = q(&mut con, &["SET", "k", "v"]);
    assert!(wait_until(Duration::from_secs(5), || dir.path().join("appendonly.aof").exists()));
    let err = redis::cmd("CONFIG").arg("SET").arg("port").arg("1").query::<()>(&mut con).unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    let err = redis::cmd("CONFIG").arg("SET").arg("appendfsync").arg("bad").query::<()>(&mut con).unwrap_err();
    assert!(err.to_string().contains("appendfsync"), "{err}");

    let _: () = q(&mut con, &["CONFIG", "REWRITE"]);
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.starts_with("# my settings\n"), "comments kept:\n{text}");
    assert!(text.contains("appendonly yes\n") && text.contains("appendfsync always\n"), "{text}");
    assert!(text.contains("save 60 5\nsave 300 10\n") && text.contains("maxclients 77\n"), "{text}");
    assert!(text.contains("aof-use-rdb-preamble no\n"), "{text}");
    assert!(!text.contains("save 900 1"), "{text}");

    // The rewritten file is what the next start reads.
    assert!(p.stop().success());
    let p =
        Proc::start(&[conf.display().to_string()], &[("FORKV_DIR", dir.path().to_str().unwrap())], dir.path(), port);
    let mut con = p.client(None);
    let got: HashMap<String, String> =
        q(&mut con, &["CONFIG", "GET", "appendonly", "maxclients", "save", "aof-use-rdb-preamble"]);
    assert_eq!(got["appendonly"], "yes");
    assert_eq!(got["aof-use-rdb-preamble"], "no");
    assert_eq!(got["maxclients"], "77");
    assert_eq!(got["save"], "60 5 300 10");
    let v: String = q(&mut con, &["GET", "k"]);
    assert_eq!(v, "v");
}

#[test]
fn loglevel_changes_at_runtime_and_json_lines_parse() {
    let server = Server::start_with(&["--save", "", "--log-format", "json", "--loglevel", "notice"]);
    let mut con = server.client();
    for _ in 0..3 {
        let _: String = q(&mut server.client(), &["PING"]);
    }
    assert!(!server.log().contains("\"Accepted\""), "no verbose lines at notice:\n{}", server.log());
    let _: () = q(&mut con, &["CONFIG", "SET", "loglevel", "verbose"]);
    let _: String = q(&mut server.client(), &["PING"]);
    assert!(
        wait_until(Duration::from_secs(5), || server.log().contains("\"Accepted\"")),
        "verbose lines after CONFIG SET loglevel verbose:\n{}",
        server.log()
    );
    let _: () = q(&mut con, &["CONFIG", "SET", "loglevel", "warning"]);
    // Lines of clients that closed before the change may still be on their way.
    std::thread::sleep(Duration::from_millis(500));
    let before = server.log().lines().count();
    for _ in 0..3 {
        let _: String = q(&mut server.client(), &["PING"]);
    }
    server.signal(Signal::SIGUSR1);
    std::thread::sleep(Duration::from_millis(500));
    let after: Vec<String> = server.log().lines().skip(before).map(str::to_string).collect();
    assert!(after.iter().all(|l| !l.contains("\"info\"") && !l.contains("\"debug\"")), "{after:?}");
    let level: HashMap<String, String> = q(&mut con, &["CONFIG", "GET", "loglevel"]);
    assert_eq!(level["loglevel"], "warning");

    for line in server.log().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for field in ["ts", "time", "level", "pid", "msg"] {
            assert!(v.get(field).is_some(), "{field} missing: {line}");
        }
    }
}

#[test]
fn sigusr1_saves_and_sighup_sigpipe_are_survived() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut con = server.client();
    let _: () = q(&mut con, &["SET", "a", "1"]);
    server.signal(Signal::SIGUSR1);
    let dump = server.path("dump.rdb");
    assert!(wait_until(Duration::from_secs(10), || dump.exists()), "log:\n{}", server.log());
    // SIGCHLD reached the supervisor: the save is reported finished.
    assert!(wait_until(Duration::from_secs(10), || {
        let info: String = q(&mut con, &["INFO", "persistence"]);
        info.contains("rdb_bgsave_in_progress:0") && info.contains("rdb_saves:1")
    }));
    let log = server.log();
    assert!(log.contains("Received SIGUSR1") && log.contains("Background saving terminated with success"), "{log}");
    assert!(log.contains("cow_bytes=") && log.contains("fork_usec="), "{log}");

    for sig in [Signal::SIGHUP, Signal::SIGPIPE, Signal::SIGHUP] {
        server.signal(sig);
        std::thread::sleep(Duration::from_millis(100));
        assert!(server.is_running(), "{sig} killed the server");
        let pong: String = q(&mut con, &["PING"]);
        assert_eq!(pong, "PONG");
    }
    assert!(server.stop().success());
}

#[test]
fn sigterm_stops_accepting_finishes_in_flight_and_removes_pidfile() {
    let mut server = Server::start_with(&["--save", "3600 1", "--appendonly", "yes", "--pidfile", "forkv.pid"]);
    let pidfile = server.path("forkv.pid");
    assert!(pidfile.exists());
    let mut con = server.client();
    let _: () = q(&mut con, &["SET", "before", "1"]);
    // A command in flight when SIGTERM arrives: it must still be answered.
    let mut busy = server.raw();
    busy.write_all(b"DEBUG SLEEP 2\r\nSET during 2\r\n").unwrap();
    // Long enough for the batch to reach the keyspace even on a loaded machine.
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    server.signal(Signal::SIGTERM);
    // The listening socket closes at once, while the keyspace is still busy.
    assert!(
        wait_until(Duration::from_millis(800), || TcpStream::connect(("127.0.0.1", server.port)).is_err()),
        "still accepting connections after SIGTERM"
    );
    let replies = common::read_some(&mut busy);
    assert_eq!(replies, b"+OK\r\n+OK\r\n", "in-flight commands answered");
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!pidfile.exists(), "pid file removed");
    let log = server.log();
    let steps = [
        "Received SIGTERM",
        "Stopped accepting new connections",
        "User requested shutdown",
        "Calling fsync() on the AOF file",
        "Saving the final RDB snapshot",
        "DB saved on disk",
        "Removing the pid file",
        "ready to exit",
    ];
    let mut at = 0;
    for step in steps {
        let found = log[at..].find(step).unwrap_or_else(|| panic!("'{step}' missing or out of order:\n{log}"));
        at += found;
    }
    server.spawn();
    let mut con = server.client();
    let got: Vec<Option<String>> = redis::cmd("MGET").arg("before").arg("during").query(&mut con).unwrap();
    assert_eq!(got, vec![Some("1".into()), Some("2".into())]);
}

#[test]
fn shutdown_on_signal_settings_decide_the_final_save() {
    // nosave: no snapshot although save points are set.
    let mut server = Server::start_with(&["--save", "3600 1", "--shutdown-on-sigterm", "nosave"]);
    let _: () = q(&mut server.client(), &["SET", "k", "v"]);
    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(10)).success());
    assert!(!server.path("dump.rdb").exists(), "saved despite nosave:\n{}", server.log());

    // save: a snapshot although there are no save points.
    let mut server = Server::start_with(&["--save", "", "--shutdown-on-sigint", "save"]);
    let _: () = q(&mut server.client(), &["SET", "k", "v"]);
    server.signal(Signal::SIGINT);
    assert!(server.wait_exit(Duration::from_secs(10)).success());
    server.spawn();
    let got: Option<String> = q(&mut server.client(), &["GET", "k"]);
    assert_eq!(got.as_deref(), Some("v"));

    // force: the server exits even though the final save fails (its
    // directory is gone); without it, it stays up.
    for (flags, exits) in [("default", false), ("force", true)] {
        let mut server = Server::start_with(&["--save", "3600 1", "--shutdown-on-sigterm", flags]);
        let mut con = server.client();
        let _: () = q(&mut con, &["SET", "k", "v"]);
        std::fs::remove_dir_all(server.path("")).unwrap();
        server.signal(Signal::SIGTERM);
        let gone = wait_until(Duration::from_secs(5), || !server.is_running());
        assert_eq!(gone, exits, "{flags}");
        if !exits {
            let pong: String = q(&mut server.client(), &["PING"]);
            assert_eq!(pong, "PONG");
        }
    }
}

#[test]
fn second_sigint_exits_at_once() {
    let mut server = Server::start_with(&["--save", "", "--appendonly", "no"]);
    let mut busy = server.raw();
    busy.write_all(b"DEBUG SLEEP 20\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.signal(Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    if !server.is_running() {
        let status = server.wait_exit(Duration::from_secs(1));
        panic!("first SIGINT must wait for the keyspace; exited {status}; log:\n{}", server.log());
    }
    let start = Instant::now();
    server.signal(Signal::SIGINT);
    let status = server.wait_exit(Duration::from_secs(3));
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(!status.success(), "forced exit reports failure: {status}");
    assert!(server.log().contains("You insist"), "{}", server.log());
}

/// redis-py's `parse_info`, rule for rule: `key:value` lines, values with
/// `=` become dicts of comma-separated `k=v` items, values with commas lists,
/// numbers int or float, anything else a string.
#[derive(Debug, PartialEq)]
enum InfoValue {
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<InfoValue>),
    Dict(HashMap<String, InfoValue>),
}

fn py_value(v: &str) -> InfoValue {
    if !v.contains(',') && !v.contains('=') {
        let parsed = if v.contains('.') {
            v.parse::<f64>().ok().filter(|f| f.is_finite()).map(InfoValue::Float)
        } else {
            v.parse::<i64>().ok().map(InfoValue::Int)
        };
        parsed.unwrap_or_else(|| InfoValue::Str(v.to_string()))
    } else if !v.contains('=') {
        InfoValue::List(v.split(',').filter(|s| !s.is_empty()).map(py_value).collect())
    } else {
        let mut d = HashMap::new();
        for item in v.split(',').filter(|s| !s.is_empty()) {
            match item.rsplit_once('=') {
                Some((k, val)) => d.insert(k.to_string(), py_value(val)),
                None => d.insert(item.to_string(), InfoValue::Int(1)),
            };
        }
        InfoValue::Dict(d)
    }
}

fn py_parse_info(text: &str) -> HashMap<String, InfoValue> {
    let mut info = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once(':').unwrap_or_else(|| panic!("redis-py puts '{line}' in __raw__"));
        assert!(!k.is_empty() && !k.contains(' '), "bad key in '{line}'");
        assert!(info.insert(k.to_string(), py_value(v)).is_none(), "duplicate key {k}");
    }
    info
}

#[test]
fn info_parses_as_redis_py_does_with_exporter_field_names() {
    let server = Server::start_with(&["--save", "", "--appendonly", "yes"]);
    let mut con = server.client();
    let _: () = q(&mut con, &["SET", "a", "1"]);
    let _: () = q(&mut con, &["SET", "b", "2", "EX", "100"]);
    let _: () = q(&mut con, &["SELECT", "3"]);
    let _: () = q(&mut con, &["SET", "c", "3"]);
    let _: String = q(&mut con, &["BGSAVE"]);
    std::thread::sleep(Duration::from_millis(300));
    let text: String = q(&mut con, &["INFO"]);
    let info = py_parse_info(&text);
    let ints = [
        // server, clients
        "uptime_in_seconds",
        "process_id",
        "tcp_port",
        "connected_clients",
        "blocked_clients",
        "maxclients",
        // memory
        "used_memory",
        "used_memory_rss",
        "used_memory_peak",
        "total_system_memory",
        "maxmemory",
        "allocator_allocated",
        "allocator_active",
        "allocator_resident",
        "allocator_frag_bytes",
        "allocator_rss_bytes",
        "rss_overhead_bytes",
        "mem_fragmentation_bytes",
        // persistence
        "loading",
        "async_loading",
        "current_cow_size",
        "rdb_changes_since_last_save",
        "rdb_bgsave_in_progress",
        "rdb_last_save_time",
        "rdb_last_bgsave_time_sec",
        "rdb_current_bgsave_time_sec",
        "rdb_saves",
        "rdb_last_cow_size",
        "rdb_last_load_keys_loaded",
        "aof_enabled",
        "aof_rewrite_in_progress",
        "aof_rewrite_scheduled",
        "aof_last_rewrite_time_sec",
        "aof_current_rewrite_time_sec",
        "aof_rewrites",
        "aof_last_cow_size",
        "aof_current_size",
        "aof_base_size",
        "aof_pending_rewrite",
        "aof_buffer_length",
        "aof_delayed_fsync",
        // stats
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "rejected_connections",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "latest_fork_usec",
        "total_forks",
        // replication
        "connected_slaves",
        "master_repl_offset",
    ];
    for k in ints {
        assert!(matches!(info.get(k), Some(InfoValue::Int(_))), "{k}: {:?}", info.get(k));
    }
    for (k, want) in [
        ("role", "master"),
        ("rdb_last_bgsave_status", "ok"),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_last_write_status", "ok"),
        ("redis_mode", "standalone"),
    ] {
        assert_eq!(info.get(k), Some(&InfoValue::Str(want.into())), "{k}");
    }
    assert_eq!(info["async_loading"], InfoValue::Int(0));
    assert_eq!(info["loading"], InfoValue::Int(0));
    for k in ["mem_fragmentation_ratio", "allocator_frag_ratio", "allocator_rss_ratio", "rss_overhead_ratio"] {
        assert!(matches!(info[k], InfoValue::Float(_)), "{k}: {:?}", info[k]);
    }
    // jemalloc's own figures, not the process's: live bytes sit in active
    // pages, which it holds resident.
    let int = |k: &str| match info[k] {
        InfoValue::Int(n) => n,
        ref other => panic!("{k}: {other:?}"),
    };
    assert!(int("allocator_allocated") <= int("allocator_active"));
    assert!(int("allocator_active") <= int("allocator_resident"));
    assert!(int("allocator_resident") < int("used_memory_rss"));
    assert!(matches!(info["latest_fork_usec"], InfoValue::Int(n) if n > 0));
    let InfoValue::Dict(db0) = &info["db0"] else { panic!("db0: {:?}", info["db0"]) };
    assert_eq!(db0["keys"], InfoValue::Int(2));
    assert_eq!(db0["expires"], InfoValue::Int(1));
    assert!(db0.contains_key("avg_ttl"));
    let InfoValue::Dict(db3) = &info["db3"] else { panic!() };
    assert_eq!(db3["keys"], InfoValue::Int(1));
    // Sections on request, Redis's header names.
    let text: String = q(&mut con, &["INFO", "persistence"]);
    assert!(text.starts_with("# Persistence\r\n") && !text.contains("# Stats"), "{text}");
}

/// Writes an AOF of `n` SETs, big enough that loading takes a while.
fn write_big_aof(path: &Path, n: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let value = "x".repeat(100);
    for i in 0..n {
        let key = format!("key:{i}");
        write!(out, "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n", key.len(), value.len()).unwrap();
    }
    out.flush().unwrap();
}

#[test]
fn ping_answers_loading_until_the_dataset_is_in() {
    let dir = tempfile::tempdir().unwrap();
    let n = 600_000;
    write_big_aof(&dir.path().join("appendonly.aof"), n);
    let port = free_port();
    let args: Vec<String> = ["--port", &port.to_string(), "--dir", dir.path().to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .chain(["--appendonly", "yes", "--save", ""].iter().map(|s| s.to_string()))
        .collect();
    let p = Proc::start(&args, &[], dir.path(), port);
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let reply = common::roundtrip(&mut raw, b"PING\r\n");
    assert!(reply.starts_with(b"-LOADING"), "{}", String::from_utf8_lossy(&reply));
    let info = String::from_utf8_lossy(&common::roundtrip(&mut raw, b"INFO persistence\r\n")).to_string();
    assert!(info.contains("loading:1\r\n") && info.contains("async_loading:0\r\n"), "{info}");
    for field in [
        "loading_start_time:",
        "loading_total_bytes:",
        "loading_loaded_bytes:",
        "loading_loaded_perc:",
        "loading_eta_seconds:",
    ] {
        assert!(info.contains(field), "{field} missing:\n{info}");
    }
    // Readiness: PONG only once loaded, and then everything is there.
    let ready = wait_until(Duration::from_secs(120), || common::roundtrip(&mut raw, b"PING\r\n").starts_with(b"+PONG"));
    assert!(ready, "log:\n{}", p.log_text());
    let size = common::roundtrip(&mut raw, b"DBSIZE\r\n");
    assert_eq!(size, format!(":{n}\r\n").as_bytes());
    let log = p.log_text();
    assert!(log.contains("DB loaded from append only file"), "{log}");
}

/// MEMORY USAGE answers for every type, grows with the value, samples big
/// collections unless SAMPLES 0, and refuses bad options as Redis does.
#[test]
fn memory_usage_estimates_each_key() {
    let server = Server::start();
    let mut con = server.client();
    let usage = |con: &mut redis::Connection, args: &[&str]| -> Option<i64> {
        let mut cmd = redis::cmd("MEMORY");
        cmd.arg("USAGE").arg(args);
        cmd.query(con).unwrap()
    };
    assert_eq!(usage(&mut con, &["missing"]), None);
    let _: () = q(&mut con, &["SET", "small", "x"]);
    let big = "y".repeat(10_000);
    let _: () = q(&mut con, &["SET", "big", &big]);
    let small = usage(&mut con, &["small"]).unwrap();
    let large = usage(&mut con, &["big"]).unwrap();
    assert!(small > 0 && small < 200, "{small}");
    assert!((10_000..11_000).contains(&large), "{large}");
    for (key, fill) in [("list", "RPUSH"), ("set", "SADD"), ("hash", "HSET"), ("zset", "ZADD")] {
        let mut before = 0;
        for round in 0..3 {
            let mut cmd = redis::cmd(fill);
            cmd.arg(key);
            for i in 0..400 {
                let member = format!("{key}-{round}-{i}-{}", "m".repeat(40));
                match fill {
                    "HSET" => cmd.arg(&member).arg("value"),
                    "ZADD" => cmd.arg(i).arg(&member),
                    _ => cmd.arg(&member),
                };
            }
            let _: i64 = cmd.query(&mut con).unwrap();
            let sampled = usage(&mut con, &[key]).unwrap();
            let exact = usage(&mut con, &[key, "SAMPLES", "0"]).unwrap();
            assert!(exact > before + 400 * 40, "{key}: {before} -> {exact}");
            // Members of one length: sampling lands close to counting all.
            assert!((sampled - exact).abs() * 10 < exact, "{key}: sampled {sampled}, all {exact}");
            before = exact;
        }
    }
    let err = |con: &mut redis::Connection, args: &[&str]| -> String {
        let mut cmd = redis::cmd("MEMORY");
        cmd.arg(args);
        cmd.query::<()>(con).unwrap_err().to_string()
    };
    assert!(err(&mut con, &["USAGE", "small", "SAMPLES", "-1"]).contains("syntax error"));
    assert!(err(&mut con, &["USAGE", "small", "SAMPLES", "x"]).contains("not an integer"));
    assert!(err(&mut con, &["USAGE", "small", "FOO"]).contains("syntax error"));
    assert!(err(&mut con, &["USAGE"]).contains("wrong number of arguments for 'memory|usage'"));
    assert!(err(&mut con, &["NOSUCH"]).contains("unknown subcommand 'NOSUCH'. Try MEMORY HELP."));
}

/// Redis 7's protected actions: by default no client may run DEBUG (even
/// queued in MULTI) or point `dir`/`dbfilename` at another file, and the
/// settings themselves are fixed at startup; `local` lets loopback clients
/// (the tests connect from 127.0.0.1) do both. Texts as redis-server 7.0.15's.
#[test]
fn debug_and_protected_configs_are_refused_unless_enabled() {
    let refused = Server::start_with(&["--save", "", "--enable-debug-command", "no"]);
    let mut con = refused.client();
    let debug_refused = "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
    assert_eq!(common::err(&mut con, &["DEBUG", "SLEEP", "0"]), format!("ERR {debug_refused}"));
    let _: () = q(&mut con, &["MULTI"]);
    assert_eq!(common::err(&mut con, &["DEBUG", "SLEEP", "0"]), format!("ERR {debug_refused}"));
    assert!(common::err(&mut con, &["EXEC"]).starts_with("EXECABORT"));
    for (name, value) in [("dir", "/tmp"), ("dbfilename", "other.rdb")] {
        assert_eq!(
            common::err(&mut con, &["CONFIG", "SET", "hz", "20", name, value]),
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - can't set protected config")
        );
    }
    let hz: HashMap<String, String> = q(&mut con, &["CONFIG", "GET", "hz"]);
    assert_eq!(hz["hz"], "10", "nothing applied");
    for name in ["enable-debug-command", "enable-protected-configs", "enable-module-command"] {
        assert_eq!(
            common::err(&mut con, &["CONFIG", "SET", name, "yes"]),
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config")
        );
    }
    let got: HashMap<String, String> = q(&mut con, &["CONFIG", "GET", "enable-*"]);
    assert_eq!(got["enable-debug-command"], "no");
    assert_eq!(got["enable-protected-configs"], "no");

    let local =
        Server::start_with(&["--save", "", "--enable-protected-configs", "local", "--enable-debug-command", "local"]);
    let mut con = local.client();
    let _: () = q(&mut con, &["DEBUG", "SLEEP", "0"]);
    let _: () = q(&mut con, &["CONFIG", "SET", "dbfilename", "other.rdb"]);
    let _: () = q(&mut con, &["SAVE"]);
    assert!(local.path("other.rdb").exists());
}

/// MEMORY PURGE hands freed memory back to the system at once (jemalloc
/// would otherwise return it over seconds), and MALLOC-STATS is
/// jemalloc's own report.
#[test]
fn memory_purge_returns_freed_pages_and_malloc_stats_reports() {
    let server = Server::start();
    let mut con = server.client();
    let rss = |con: &mut redis::Connection| -> i64 {
        let info: String = q(con, &["INFO", "memory"]);
        info_field(&info, "used_memory_rss").unwrap().parse().unwrap()
    };
    let _: () = q(&mut con, &["DEBUG", "POPULATE", "300000", "key", "64"]);
    let _: () = q(&mut con, &["FLUSHALL"]);
    let freed = rss(&mut con);
    let _: () = q(&mut con, &["MEMORY", "PURGE"]);
    let purged = rss(&mut con);
    // 300k keys of 64-byte values held about 40 MB.
    assert!(purged < freed - (10 << 20), "RSS {freed} before MEMORY PURGE, {purged} after");
    let report: String = q(&mut con, &["MEMORY", "MALLOC-STATS"]);
    assert!(report.starts_with("___ Begin jemalloc statistics ___"), "{}", &report[..report.len().min(200)]);
    assert!(report.trim_end().ends_with("--- End jemalloc statistics ---"));
}
