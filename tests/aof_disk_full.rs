//! A full disk under the AOF: writes get -MISCONF (never OK for data not in
//! the file), reads keep working, INFO reports the error, and once space is
//! freed writes resume without a restart; after a restart the data is what
//! was in memory. Needs root to mount a small tmpfs; skips otherwise.

mod aof_support;
mod common;

use aof_support::{assert_same, dump, info_field, wait_until};
use common::Server;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A mounted tmpfs, unmounted on drop (also when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!("SKIPPED: cannot mount a tmpfs ({})", String::from_utf8_lossy(&out.stderr).trim());
            return None;
        }
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn disk_full(policy: &str) {
    let Some(fs) = Tmpfs::mount("2m") else { return };
    let filler: PathBuf = fs.path().join("filler");
    std::fs::write(&filler, vec![b'f'; 512 * 1024]).unwrap();
    let dir = fs.path().to_str().unwrap().to_string();
    // The harness keeps its log in its own temp dir; only the AOF lives on the tmpfs.
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", policy, "--save", "", "--dir", &dir]);
    let mut con = server.client();
    let value = "v".repeat(8 * 1024);
    let mut acked = vec![];
    let mut refused = vec![];
    let started = Instant::now();
    for i in 0.. {
        assert!(started.elapsed() < Duration::from_secs(30), "the disk never filled up");
        let key = format!("k{i}");
        match redis::cmd("SET").arg(&key).arg(&value).query::<()>(&mut con) {
            Ok(()) => acked.push(key),
            Err(e) => {
                assert!(e.to_string().contains("MISCONF") && e.to_string().contains("AOF"), "unexpected error: {e}");
                refused.push(key);
                if refused.len() >= 5 {
                    break;
                }
            }
        }
    }
    assert!(acked.len() > 50, "only {} writes fit", acked.len());
    // Every acknowledged write is in the file, whole.
    let file = std::fs::read(fs.path().join("appendonly.aof")).unwrap();
    let text = String::from_utf8_lossy(&file);
    for key in &acked {
        assert!(text.contains(&format!("\r\n{key}\r\n$8192\r\n")), "{policy}: acknowledged {key} is not in the AOF");
    }
    let report = forkv::aof::reader::check_file(&fs.path().join("appendonly.aof"), false).unwrap();
    assert!(report.error.is_none(), "{policy}: the AOF has a partial record: {:?}", report.error);

    // Reads keep working; writes are refused; INFO tells why.
    let got: String = redis::cmd("GET").arg(&acked[0]).query(&mut con).unwrap();
    assert_eq!(got, value);
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert!(n as usize >= acked.len());
    let err = redis::cmd("SET").arg("x").arg("y").query::<()>(&mut con).unwrap_err();
    assert!(err.to_string().contains("MISCONF"), "{err}");
    assert_eq!(info_field(&mut con, "aof_last_write_status"), "err");
    let mut other = server.client();
    let got: Option<String> = redis::cmd("GET").arg(&acked[1]).query(&mut other).unwrap();
    assert_eq!(got.as_deref(), Some(value.as_str()), "a fresh client's read");

    // Free space: writes resume without a restart.
    std::fs::remove_file(&filler).unwrap();
    wait_until(Duration::from_secs(10), "aof_last_write_status:ok", || {
        info_field(&mut con, "aof_last_write_status") == "ok"
    });
    for i in 0..10 {
        redis::cmd("SET").arg(format!("after{i}")).arg(i).query::<()>(&mut con).unwrap();
    }
    let before = dump(&mut con, 1);
    for key in &acked {
        assert!(before.contains_key(&(0, key.clone())), "{key} missing in memory");
    }
    drop((con, other));
    assert!(server.stop().success());
    server.spawn();
    let mut con = server.client();
    assert_same(&before, &dump(&mut con, 1), &format!("{policy}: after restart"));
    drop(con);
    server.stop();
    assert!(server.log().contains("No space left"), "log:\n{}", server.log());
}

#[test]
fn full_disk_refuses_writes_keeps_reads_and_recovers_everysec() {
    disk_full("everysec");
}

#[test]
fn full_disk_refuses_writes_keeps_reads_and_recovers_always() {
    disk_full("always");
}

/// A reply held for the AOF becomes one error per reply when the write
/// fails, however many commands it ran inside (a script's calls, EXEC's
/// commands): the client's next command still gets its own reply.
#[test]
fn a_failed_write_answers_a_script_with_one_error() {
    let Some(fs) = Tmpfs::mount("1m") else { return };
    let dir = fs.path().to_str().unwrap().to_string();
    let server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--dir", &dir]);
    let mut con = server.client();
    let value = "v".repeat(16 * 1024);
    let script = "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', KEYS[2], ARGV[1]) redis.call('SET', KEYS[3], ARGV[1]) return 1";
    let mut refused = 0;
    for i in 0..200 {
        let reply = redis::cmd("EVAL")
            .arg(script)
            .arg(3)
            .arg(format!("a{i}"))
            .arg(format!("b{i}"))
            .arg(format!("c{i}"))
            .arg(&value)
            .query::<i64>(&mut con);
        if let Err(e) = reply {
            assert!(e.to_string().contains("MISCONF"), "unexpected error: {e}");
            refused += 1;
        }
        let echo: String = redis::cmd("ECHO").arg(i).query(&mut con).expect("ECHO gets its own reply");
        assert_eq!(echo, i.to_string());
        if refused >= 3 {
            return;
        }
    }
    panic!("the disk never filled up");
}
