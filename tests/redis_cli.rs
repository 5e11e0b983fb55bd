//! Debian's redis-cli works against forkv: commands typed on its standard
//! input (as an interactive user would type them) get Redis-formatted answers.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

/// Whether redis-cli is installed; a note when it is not.
fn redis_cli_available() -> bool {
    let ok = Command::new("redis-cli").arg("--version").output().is_ok();
    if !ok {
        eprintln!("redis-cli not installed; skipping (tests/run.sh installs it)");
    }
    ok
}

#[test]
fn redis_cli_runs_typed_commands() {
    if !redis_cli_available() {
        return;
    }
    let server = common::Server::start();
    let mut cli = Command::new("redis-cli")
        .args(["-p", &server.port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start redis-cli");
    let script =
        "SET greeting hello\nGET greeting\nRPUSH l a b c\nLRANGE l 0 -1\nHSET h f v\nHGETALL h\nNOSUCH x\nDBSIZE\n";
    cli.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = cli.wait_with_output().expect("redis-cli finishes");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "OK",
            "hello",
            "3",
            "a",
            "b",
            "c",
            "1",
            "f",
            "v",
            "ERR unknown command 'NOSUCH', with args beginning with: 'x' ",
            // redis-cli ends an error with an empty line when not on a tty.
            "",
            "3"
        ],
        "redis-cli output:\n{text}"
    );
}

/// `redis-cli --memkeys` sizes every key with MEMORY USAGE and reports the
/// biggest per type.
#[test]
fn redis_cli_memkeys_finds_the_biggest_keys() {
    if !redis_cli_available() {
        return;
    }
    let server = common::Server::start();
    let mut con = server.client();
    let _: () = redis::cmd("SET").arg("small").arg("x").query(&mut con).unwrap();
    let _: () = redis::cmd("SET").arg("big").arg("y".repeat(10_000)).query(&mut con).unwrap();
    let fields: Vec<(String, String)> = (0..500).map(|i| (format!("f{i}"), "v".repeat(100))).collect();
    let _: () = redis::cmd("HSET").arg("hash").arg(&fields).query(&mut con).unwrap();
    let out = Command::new("redis-cli").args(["-p", &server.port.to_string(), "--memkeys"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Biggest string found '\"big\"'"), "{text}");
    assert!(text.contains("Biggest   hash found '\"hash\"'"), "{text}");
    assert!(!text.contains("strings with 0 bytes"), "{text}");
}

/// Runs redis-cli on a pseudo-terminal, as a person at a terminal runs it,
/// types `line`, and returns what redis-cli showed until `until` appeared
/// (or 10 s passed), without terminal control sequences.
fn interactive_redis_cli(port: u16, line: &str, until: &str) -> String {
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let pty = nix::pty::openpty(None, None).expect("openpty");
    let tty = |fd: &std::os::fd::OwnedFd| Stdio::from(fd.as_fd().try_clone_to_owned().unwrap());
    let mut cli = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .stdin(tty(&pty.slave))
        .stdout(tty(&pty.slave))
        .stderr(tty(&pty.slave))
        .spawn()
        .expect("start redis-cli");
    drop(pty.slave);
    let mut terminal = std::fs::File::from(pty.master);
    let mut reader = terminal.try_clone().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // Ends with an error (EIO) once redis-cli has exited.
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let (mut answered, mut typed) = (0, false);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !without_escapes(&seen).contains(until) {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        // linenoise asks where the cursor is and waits for the answer.
        while answered < seen.matches("\x1b[6n").count() {
            terminal.write_all(b"\x1b[1;80R").unwrap();
            answered += 1;
        }
        if !typed && seen.contains(&format!("127.0.0.1:{port}> ")) {
            terminal.write_all(format!("{line}\r").as_bytes()).unwrap();
            typed = true;
        }
    }
    let _ = terminal.write_all(b"quit\r");
    let exited = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        cli.try_wait().ok().flatten().is_some()
    });
    if !exited {
        let _ = cli.kill();
        let _ = cli.wait();
    }
    without_escapes(&seen)
}

/// The text with terminal control sequences (`ESC [ … letter`) taken out.
fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch == '\x1b' {
            // Skip '[' and the parameters up to the final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(ch);
        }
    }
    out
}

#[test]
fn interactive_redis_cli_has_command_help() {
    if !redis_cli_available() {
        return;
    }
    let server = common::Server::start();
    let shown = interactive_redis_cli(server.port, "help set", "group: string");
    // The summary comes from redis-cli's own help, which it uses because
    // forkv answers COMMAND DOCS with an error (an empty answer left it
    // with no help at all).
    assert!(shown.contains("summary: Set the string value of a key"), "redis-cli showed:\n{shown}");
}
