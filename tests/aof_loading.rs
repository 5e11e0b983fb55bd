//! While a big AOF loads, clients are answered with -LOADING (INFO still
//! works and says loading:1) and the log shows progress; afterwards every
//! key is there. With an RDB preamble, loading steps through the preamble
//! and then its commands the same way, progress counted in file bytes.

mod aof_support;
mod common;

use aof_support::{spawn_raw, wait_exit};
use common::free_port;
use std::io::{BufWriter, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const COMMANDS: u64 = 1_500_000;

fn write_big_aof(path: &std::path::Path) {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    w.write_all(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n").unwrap();
    for i in 0..COMMANDS {
        // A third are overwrites, so the key count differs from the command count.
        let n = if i % 3 == 2 { i - 1 } else { i };
        let key = format!("key:{n}");
        let val = i.to_string();
        write!(w, "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{val}\r\n", key.len(), val.len()).unwrap();
    }
    w.flush().unwrap();
}

fn ask(s: &mut TcpStream, cmd: &[u8]) -> String {
    s.write_all(cmd).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).expect("reply");
        assert!(n > 0, "connection closed");
        out.extend_from_slice(&buf[..n]);
        // Simple and bulk replies used here end with one or two CRLFs.
        let text = String::from_utf8_lossy(&out);
        let complete = match out[0] {
            b'$' => text.matches("\r\n").count() >= 2 || text.starts_with("$-1\r\n"),
            _ => text.ends_with("\r\n"),
        };
        if complete {
            return text.into_owned();
        }
    }
}

/// The server's log once it holds every needle, or after 10 s: the log is
/// written by its own thread and may trail what clients already see.
fn log_once_it_has(dir: &std::path::Path, needles: &[&str]) -> String {
    let read = || std::fs::read_to_string(dir.join("forkv.log")).unwrap_or_default();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) && !needles.iter().all(|n| read().contains(n)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    read()
}

#[test]
fn clients_get_loading_while_a_big_aof_loads_and_the_log_shows_progress() {
    let dir = tempfile::tempdir().unwrap();
    write_big_aof(&dir.path().join("appendonly.aof"));
    let port = free_port();
    let mut child = spawn_raw(dir.path(), port, &["--appendonly", "yes", "--save", ""]);
    let start = Instant::now();
    let (mut loading_replies, mut info_loading, mut config_refused) = (0, false, false);
    // The last command (i % 3 == 2) overwrites the key before it.
    let last = format!("key:{}", COMMANDS - 2);
    let get_last = format!("*2\r\n$3\r\nGET\r\n${}\r\n{last}\r\n", last.len());
    let done = loop {
        assert!(start.elapsed() < Duration::from_secs(120), "the AOF did not load in 120 s");
        assert!(child.try_wait().unwrap().is_none(), "forkv exited while loading");
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let reply = ask(&mut s, get_last.as_bytes());
        if reply.starts_with("-LOADING") {
            assert_eq!(reply, "-LOADING Redis is loading the dataset in memory\r\n");
            loading_replies += 1;
            if !info_loading {
                let info = ask(&mut s, b"*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n");
                info_loading = info.contains("loading:1");
            }
            // Parameters that would swap the files being loaded wait, as in
            // Redis (+OK only if the load ended in between).
            let set =
                ask(&mut s, b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$18\r\nrepl-diskless-load\r\n$8\r\ndisabled\r\n");
            assert!(set == "+OK\r\n" || set.starts_with("-LOADING"), "{set:?}");
            config_refused |= set.starts_with("-LOADING");
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        break reply;
    };
    let want = (COMMANDS - 1).to_string();
    assert_eq!(done, format!("${}\r\n{want}\r\n", want.len()), "the last key after loading");
    assert!(loading_replies > 0, "no client ever saw -LOADING");
    assert!(info_loading, "INFO never said loading:1 while loading");
    assert!(config_refused, "CONFIG SET repl-diskless-load was never refused while loading");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let keys = COMMANDS - COMMANDS / 3;
    assert_eq!(ask(&mut s, b"*1\r\n$6\r\nDBSIZE\r\n"), format!(":{keys}\r\n"));
    let log = log_once_it_has(dir.path(), &["bytes_read", "total_bytes", "DB loaded from append only file"]);
    assert!(log.contains("bytes_read") && log.contains("total_bytes"), "no load progress in the log:\n{log}");
    assert!(log.contains("DB loaded from append only file"), "log:\n{log}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(30)).expect("exit after SIGTERM");
    assert!(status.success(), "{status}");
}

const PREAMBLE_KEYS: u64 = 1_000_000;
const TAIL_SETS: u64 = 300_000;

/// A preamble of PREAMBLE_KEYS strings, then TAIL_SETS commands that
/// overwrite the first keys and add as many more; the tail is the smaller
/// part. Returns the preamble's length.
fn write_big_preamble_aof(path: &std::path::Path) -> u64 {
    let mut w = forkv::rdb::RdbWriter::new(BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap()));
    w.write_header(1_700_000_000, 0, true).unwrap();
    w.select_db(0, PREAMBLE_KEYS, 0).unwrap();
    for i in 0..PREAMBLE_KEYS {
        w.write_string(format!("key:{i}").as_bytes(), None, b"rdb").unwrap();
    }
    let (mut out, preamble) = w.finish().unwrap();
    out.write_all(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n").unwrap();
    for i in 0..TAIL_SETS {
        let key = format!("key:{}", if i % 2 == 0 { i } else { PREAMBLE_KEYS + i });
        write!(out, "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$3\r\naof\r\n", key.len()).unwrap();
    }
    out.flush().unwrap();
    preamble
}

fn info_number(info: &str, field: &str) -> u64 {
    let line = info.lines().find_map(|l| l.strip_prefix(field)).unwrap_or_else(|| panic!("no {field} in {info}"));
    line.trim_start_matches(':').trim().parse().unwrap()
}

#[test]
fn a_big_preamble_aof_loads_in_slices_with_progress_in_file_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof");
    let preamble = write_big_preamble_aof(&path);
    let total = std::fs::metadata(&path).unwrap().len();
    assert!(total - preamble < preamble, "the tail must be smaller than the preamble");
    let port = free_port();
    let mut child = spawn_raw(dir.path(), port, &["--appendonly", "yes", "--save", ""]);
    let start = Instant::now();
    let mut progress = vec![];
    loop {
        assert!(start.elapsed() < Duration::from_secs(180), "the AOF did not load in 180 s");
        assert!(child.try_wait().unwrap().is_none(), "forkv exited while loading");
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        if !ask(&mut s, b"*1\r\n$4\r\nPING\r\n").starts_with("-LOADING") {
            break;
        }
        let info = ask(&mut s, b"*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n");
        if info.contains("loading:1") {
            assert_eq!(info_number(&info, "loading_total_bytes"), total);
            progress.push(info_number(&info, "loading_loaded_bytes"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(progress.windows(2).all(|w| w[0] <= w[1]) && progress.iter().all(|&p| p <= total), "{progress:?}");
    // Counted from the file's start: past the preamble while the (shorter) tail loads.
    assert!(progress.iter().any(|&p| p < preamble), "never sampled inside the preamble: {progress:?}");
    assert!(progress.iter().any(|&p| p > preamble), "never sampled inside the tail: {progress:?}");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(ask(&mut s, b"*1\r\n$6\r\nDBSIZE\r\n"), format!(":{}\r\n", PREAMBLE_KEYS + TAIL_SETS / 2));
    assert_eq!(ask(&mut s, b"*2\r\n$3\r\nGET\r\n$5\r\nkey:0\r\n"), "$3\r\naof\r\n");
    assert_eq!(ask(&mut s, b"*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n"), "$3\r\nrdb\r\n");
    let log = log_once_it_has(dir.path(), &["reading the remaining AOF tail", "DB loaded from append only file"]);
    assert!(log.contains("reading the remaining AOF tail") && log.contains("DB loaded from append only file"), "{log}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(30)).expect("exit after SIGTERM");
    assert!(status.success(), "{status}");
}
