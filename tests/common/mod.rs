//! Test harness: starts the real `forkv` binary on a free loopback port in a
//! fresh directory and hands out `redis` crate connections to it.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
    child: Option<Child>,
}

/// A port nobody listens on right now, and never handed out before in this
/// test binary: its tests run in parallel, and two servers given the same
/// port would answer each other's clients.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = l.local_addr().unwrap().port();
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// What a server on 127.0.0.1:`port` first answers to PING, if anything.
pub fn ping_reply(port: u16) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    s.write_all(b"PING\r\n").ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    Some(buf[..n].to_vec()).filter(|r| r.starts_with(b"+") || r.starts_with(b"-"))
}

/// Whether PING is served (NOAUTH counts: with requirepass it serves all
/// the same; LOADING does not).
pub fn answers_ping(port: u16) -> bool {
    ping_reply(port).is_some_and(|r| r.starts_with(b"+PONG") || r.starts_with(b"-NOAUTH"))
}

/// `binary` (forkv or redis-server) started from the config file `conf` on
/// a free port in `dir`, persistence off, then `extra` arguments; None if
/// it exited instead (its output goes to `conf`.log).
pub fn start_from_config(binary: &std::ffi::OsStr, conf: &Path, dir: &Path, extra: &[&str]) -> Option<(Child, u16)> {
    let port = free_port();
    let log = std::fs::File::create(conf.with_extension("log")).unwrap();
    let mut child = Command::new(binary)
        .arg(conf)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--dir"])
        .arg(dir)
        .args(extra)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if answers_ping(port) {
            return Some((child, port));
        }
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_forkv"))
}

/// The forkv command for a server on 127.0.0.1:`port` with its data in
/// `dir`, both output streams going to `log`. DEBUG is allowed from the
/// loopback address, as Redis's own test servers allow it (`args` may say
/// otherwise: later arguments win).
pub fn forkv_command<S: AsRef<std::ffi::OsStr>>(dir: &Path, port: u16, args: &[S], log: std::fs::File) -> Command {
    let mut cmd = Command::new(binary());
    cmd.arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--dir")
        .arg(dir)
        .args(["--enable-debug-command", "local"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
    cmd
}

impl Server {
    /// Persistence off, like a plain cache.
    pub fn start() -> Server {
        Server::start_with(&["--save", "", "--appendonly", "no"])
    }

    pub fn start_with(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut s = Server { port: free_port(), dir, args: args.iter().map(|s| s.to_string()).collect(), child: None };
        s.spawn_on_free_port();
        s
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("forkv.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Waits (up to 10 s) for `needle` in the log: a running server's log
    /// is written by its own thread and may trail what clients already see.
    pub fn wait_for_log(&self, needle: &str) {
        let start = Instant::now();
        while !self.log().contains(needle) {
            assert!(start.elapsed() < Duration::from_secs(10), "no {needle:?} in the log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server command for this directory, port and arguments, logging
    /// to the server's log file.
    fn command(&self) -> Command {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).expect("log file");
        forkv_command(self.dir.path(), self.port, &self.args, log)
    }

    /// Starts the binary (again) with the same directory, port and arguments.
    pub fn spawn(&mut self) {
        self.child = Some(self.command().spawn().expect("start forkv"));
        self.wait_ready(Duration::from_secs(20));
    }

    /// Starts the first time; a port taken by a parallel test between
    /// `free_port` and the bind is replaced by another (bounded retries).
    fn spawn_on_free_port(&mut self) {
        for _ in 0..5 {
            let before = self.log().len();
            let mut child = self.command().spawn().expect("start forkv");
            let start = Instant::now();
            // Binding happens right at startup: wait until it listens or fails.
            while start.elapsed() < Duration::from_secs(5) {
                if child.try_wait().ok().flatten().is_some() || TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let lost_port =
                child.try_wait().ok().flatten().is_some() && self.log()[before..].contains("Failed listening");
            if !lost_port {
                self.child = Some(child);
                self.wait_ready(Duration::from_secs(20));
                return;
            }
            self.port = free_port();
        }
        panic!("no free port after 5 tries; log:\n{}", self.log());
    }

    /// Waits until PING answers (bounded), NOAUTH included.
    pub fn wait_ready(&mut self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("forkv exited during startup ({status}); log:\n{}", self.log());
            }
            if answers_ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("forkv did not answer PING within {limit:?}; log:\n{}", self.log());
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn client(&self) -> redis::Connection {
        let c = redis::Client::open(self.url()).unwrap();
        let conn = c.get_connection_with_timeout(Duration::from_secs(5)).expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        conn
    }

    /// A raw socket, for protocol-level tests.
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid() as i32), sig).expect("signal");
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (bounded) for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.wait_exit(Duration::from_secs(30))
    }

    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        let start = Instant::now();
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > limit {
                let _ = c.kill();
                panic!("forkv did not exit within {limit:?}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.spawn();
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends raw bytes and reads whatever answer arrives until `want` bytes or
/// the connection closes or times out.
pub fn roundtrip(s: &mut TcpStream, data: &[u8]) -> Vec<u8> {
    s.write_all(data).unwrap();
    read_some(s)
}

pub fn read_some(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            }
            Err(_) => break,
        }
    }
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    out
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// A command from its words.
pub fn cmd(args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

/// Runs a command that must succeed.
pub fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    cmd(args).query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Runs a command that must fail; its error line without the leading '-'.
pub fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    match cmd(args).query::<redis::Value>(con) {
        Ok(v) => panic!("{args:?} succeeded with {v:?}"),
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")).trim_end().to_string(),
    }
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// OBJECT ENCODING of a key.
pub fn encoding(con: &mut redis::Connection, key: &str) -> String {
    q(con, &["OBJECT", "ENCODING", key])
}

/// Sorts unordered collections so values compare regardless of encoding.
pub fn normalize(v: forkv::rdb::RdbValue) -> forkv::rdb::RdbValue {
    use forkv::rdb::RdbValue;
    match v {
        RdbValue::Set(mut s) => {
            s.sort();
            RdbValue::Set(s)
        }
        RdbValue::Hash(mut h) => {
            h.sort();
            RdbValue::Hash(h)
        }
        RdbValue::ZSet(mut z) => {
            z.sort_by(|a, b| a.0.cmp(&b.0));
            RdbValue::ZSet(z)
        }
        other => other,
    }
}
