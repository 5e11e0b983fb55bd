//! The pod's life, locally: the binary started as the StatefulSet starts it
//! (the ConfigMap's forkv.conf as its only argument, the password from the
//! environment as the Secret provides it, JSON logs on stdout), stopped with
//! SIGTERM as the kubelet does, restarted on the same volume, and killed
//! with SIGKILL mid-write as an OOM kill or node loss would.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "pod-secret";
/// The graceful shutdown bound the StatefulSet's grace period relies on.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(10);

/// The `forkv.conf` block of deploy/k8s/configmap.yaml, unindented.
fn configmap_conf() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/configmap.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    let mut lines = yaml.lines().skip_while(|l| l.trim() != "forkv.conf: |");
    let key = lines.next().expect("forkv.conf key in the ConfigMap");
    let key_indent = key.len() - key.trim_start().len();
    let block: Vec<&str> =
        lines.take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > key_indent).collect();
    let indent = block.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap();
    block.iter().map(|l| format!("{}\n", l.get(indent..).unwrap_or(""))).collect()
}

/// The pod: its volume (`data`, standing in for /data), its config file
/// and the running process.
struct Pod {
    root: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    starts: usize,
}

impl Pod {
    fn new() -> Pod {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let conf = configmap_conf();
        assert!(conf.contains("\ndir /data\n") && conf.contains("appendfsync everysec"), "{conf}");
        assert!(conf.contains("log-format json") && conf.contains("bind 0.0.0.0"), "{conf}");
        // Only the volume's mount point differs from the pod.
        let conf = conf.replace("\ndir /data\n", &format!("\ndir {}\n", data.display()));
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/forkv.conf"), conf).unwrap();
        Pod { port: common::free_port(), root, child: None, starts: 0 }
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn log_path(&self, n: usize) -> PathBuf {
        self.root.path().join(format!("stdout-{n}.log"))
    }

    fn log(&self, n: usize) -> String {
        std::fs::read_to_string(self.log_path(n)).unwrap_or_default()
    }

    /// Every stdout line of start `n`, each one JSON object.
    fn json_log(&self, n: usize) -> Vec<serde_json::Value> {
        self.log(n).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
    }

    /// `forkv /etc/forkv/forkv.conf` with the Secret's variable; the port
    /// comes from the environment too, since 6379 may be taken here.
    fn start(&mut self) -> usize {
        self.starts += 1;
        let out = std::fs::File::create(self.log_path(self.starts)).unwrap();
        let child = Command::new(common::binary())
            .arg(self.root.path().join("etc/forkv.conf"))
            .env("FORKV_REQUIREPASS", PASSWORD)
            .env("FORKV_PORT", self.port.to_string())
            .current_dir(self.data())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready();
        self.starts
    }

    /// The readiness probe: PING answers PONG (not -LOADING).
    fn wait_ready(&mut self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("forkv exited during startup ({status}):\n{}", self.log(self.starts));
            }
            if let Ok(mut con) = self.try_client() {
                if redis::cmd("PING").query::<String>(&mut con).is_ok_and(|p| p == "PONG") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("not ready within 60 s:\n{}", self.log(self.starts));
    }

    fn try_client(&self) -> redis::RedisResult<redis::Connection> {
        let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/", self.port);
        redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(2))
    }

    fn client(&self) -> redis::Connection {
        self.try_client().expect("connect")
    }

    fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.as_ref().unwrap().id() as i32)
    }

    /// Waits for the exit after a signal; returns status and time taken.
    fn wait_exit(&mut self, limit: Duration) -> (std::process::ExitStatus, Duration) {
        let start = Instant::now();
        let mut child = self.child.take().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return (status, start.elapsed());
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                panic!("no exit within {limit:?}:\n{}", self.log(self.starts));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn messages(log: &[serde_json::Value]) -> Vec<String> {
    log.iter().map(|v| v["msg"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn sigterm_then_restart_keeps_every_key() {
    let mut pod = Pod::new();
    let first = pod.start();
    let mut con = pod.client();
    // Unauthenticated clients are refused: the Secret's password is in force.
    let url = format!("redis://127.0.0.1:{}/", pod.port);
    let mut anon = redis::Client::open(url).unwrap().get_connection().unwrap();
    assert!(redis::cmd("GET").arg("x").query::<Option<String>>(&mut anon).is_err());

    let mut expected = HashMap::new();
    let mut pipe = redis::pipe();
    for i in 0..20_000 {
        let (k, v) = (format!("user:{i}"), format!("value-{}", i * 7));
        pipe.cmd("SET").arg(&k).arg(&v).ignore();
        expected.insert(k, v);
    }
    pipe.cmd("INCRBY").arg("counter").arg(41).ignore();
    pipe.cmd("SET").arg("session").arg("s").arg("EX").arg(3600).ignore();
    let _: () = pipe.query(&mut con).unwrap();

    nix::sys::signal::kill(pod.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
    let (status, took) = pod.wait_exit(SHUTDOWN_BOUND);
    assert_eq!(status.code(), Some(0), "{}", pod.log(first));
    assert!(took < SHUTDOWN_BOUND, "{took:?}");

    let log = pod.json_log(first);
    for v in &log {
        for field in ["ts", "time", "level", "pid", "msg"] {
            assert!(v.get(field).is_some(), "{field} missing: {v}");
        }
    }
    let msgs = messages(&log);
    let order = [
        "Ready to serve data",
        "Received SIGTERM scheduling shutdown...",
        "Stopped accepting new connections",
        "User requested shutdown...",
        "Calling fsync() on the AOF file.",
        "Saving the final RDB snapshot before exiting.",
        "DB saved on disk",
        "forkv is now ready to exit, bye bye...",
    ];
    let mut at = 0;
    for step in order {
        at += msgs[at..]
            .iter()
            .position(|m| m == step)
            .unwrap_or_else(|| panic!("'{step}' missing or out of order: {msgs:#?}"));
    }
    let saved = log.iter().find(|v| v["msg"] == "DB saved on disk").unwrap();
    assert_eq!(saved["keys"], 20_002, "{saved}");
    assert!(saved["bytes"].as_i64().unwrap() > 0 && saved.get("duration_ms").is_some(), "{saved}");
    assert!(pod.data().join("appendonly.aof").exists() && pod.data().join("dump.rdb").exists());

    let second = pod.start();
    let mut con = pod.client();
    let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, expected.len() + 2);
    let keys: Vec<&String> = expected.keys().collect();
    for chunk in keys.chunks(1000) {
        let got: Vec<Option<String>> = redis::cmd("MGET").arg(chunk).query(&mut con).unwrap();
        for (k, v) in chunk.iter().zip(got) {
            assert_eq!(v.as_deref(), Some(expected[*k].as_str()), "{k}");
        }
    }
    let counter: i64 = redis::cmd("GET").arg("counter").query(&mut con).unwrap();
    assert_eq!(counter, 41);
    let ttl: i64 = redis::cmd("TTL").arg("session").query(&mut con).unwrap();
    assert!((3500..=3600).contains(&ttl), "TTL kept across the restart: {ttl}");
    let msgs = messages(&pod.json_log(second));
    assert!(msgs.iter().any(|m| m.starts_with("DB loaded from append only file")), "{msgs:#?}");
}

#[test]
fn sigkill_mid_write_loses_at_most_the_last_seconds() {
    let mut pod = Pod::new();
    let first = pod.start();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut con = pod.client();
        let stop = stop.clone();
        std::thread::spawn(move || {
            // (sequence number, when its OK arrived)
            let mut acked: Vec<(u64, Instant)> = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                match redis::cmd("SET").arg(format!("seq:{i}")).arg(i).query::<()>(&mut con) {
                    Ok(()) => acked.push((i, Instant::now())),
                    Err(_) => break,
                }
                i += 1;
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_secs(3));
    nix::sys::signal::kill(pod.pid(), nix::sys::signal::Signal::SIGKILL).unwrap();
    let killed_at = Instant::now();
    let (status, _) = pod.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), None, "killed by a signal");
    stop.store(true, Ordering::Relaxed);
    let acked = writer.join().unwrap();
    assert!(acked.len() > 100, "only {} writes acknowledged", acked.len());
    assert!(messages(&pod.json_log(first)).iter().all(|m| !m.contains("ready to exit")));

    let second = pod.start();
    let mut con = pod.client();
    let present = |con: &mut redis::Connection, i: u64| -> bool {
        redis::cmd("EXISTS").arg(format!("seq:{i}")).query::<i64>(con).unwrap() == 1
    };
    // The AOF is replayed in order: what survives is a prefix of the writes.
    let survived = acked.iter().take_while(|(i, _)| present(&mut con, *i)).count();
    for (i, _) in &acked[survived..] {
        assert!(!present(&mut con, *i), "seq:{i} present after a missing earlier write");
    }
    // Anything acknowledged more than 2 s before the kill is there.
    for (i, at) in &acked[survived..] {
        assert!(
            killed_at.duration_since(*at) <= Duration::from_secs(2),
            "seq:{i}, acknowledged {:?} before the kill, lost",
            killed_at.duration_since(*at)
        );
    }
    let log = pod.json_log(second);
    assert!(log.iter().all(|v| v["level"] != "error" && v["level"] != "critical"), "{log:#?}");
    assert!(messages(&log).iter().any(|m| m == "Ready to serve data"));
    let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert!(size >= survived, "{size} < {survived}");
}
