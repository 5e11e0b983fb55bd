//! Debian's redis-cli works against forkv: commands typed on its standard
//! input (as an interactive user would type them) get Redis-formatted answers.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn redis_cli_runs_typed_commands() {
    if Command::new("redis-cli").arg("--version").output().is_err() {
        eprintln!("redis-cli not installed; skipping (tests/run.sh installs it)");
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
