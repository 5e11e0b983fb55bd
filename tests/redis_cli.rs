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
