//! A script that runs past `busy-reply-threshold`, against the real binary:
//! a client that connects meanwhile gets Redis's -BUSY, SCRIPT KILL and
//! FUNCTION KILL stop a script that has not written (even one that wraps
//! its loop in pcall), UNKILLABLE refuses one that has, SHUTDOWN NOSAVE
//! stops the server anyway, and the busy client's pipelined commands are
//! answered in order once the script is gone.

mod common;
mod helpers;

use common::Server;
use helpers::{Raw, Resp};
use std::time::Duration;

const EVAL_BUSY: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const FUNCTION_BUSY: &str = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// A server whose scripts count as busy after 50 ms.
fn server() -> Server {
    Server::start_with(&["--save", "", "--appendonly", "no", "--busy-reply-threshold", "50"])
}

/// Waits until the script is busy, then connects: that client gets
/// `expected` for a PING.
fn wait_busy(s: &Server, expected: &str) -> Raw {
    s.wait_for_log("Slow script detected");
    let mut r = Raw::connect(s.port);
    assert_eq!(r.cmd(&["PING"]), Resp::err(expected));
    r
}

#[test]
fn a_busy_script_gets_busy_replies_and_script_kill_stops_it() {
    let s = server();
    let mut r = Raw::connect(s.port);
    assert_eq!(r.cmd(&["SET", "k", "before"]), Resp::ok());
    assert_eq!(r.err(&["SCRIPT", "KILL"]), "NOTBUSY No scripts in execution right now.");
    let mut runner = Raw::connect(s.port);
    // Pipelined behind the script: answered after it, in order.
    runner.write(&helpers::encode(&[b"EVAL", b"while true do end", b"0"]));
    runner.send(&["GET", "k"]);
    let mut other = wait_busy(&s, EVAL_BUSY);
    assert_eq!(other.err(&["GET", "k"]), EVAL_BUSY);
    assert_eq!(other.err(&["FUNCTION", "KILL"]), EVAL_BUSY, "FUNCTION KILL does not stop an EVAL");
    assert_eq!(other.err(&["SHUTDOWN"]), EVAL_BUSY, "only SHUTDOWN NOSAVE is allowed");
    assert_eq!(other.cmd(&["SCRIPT", "KILL"]), Resp::ok());
    assert_eq!(runner.read(), Resp::err(KILLED));
    assert_eq!(runner.read(), Resp::bulk("before"));
    // The connection made while busy is served normally from then on.
    assert_eq!(other.cmd(&["GET", "k"]), Resp::bulk("before"));
    assert_eq!(other.err(&["SCRIPT", "KILL"]), "NOTBUSY No scripts in execution right now.");
    assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert!(s.log().contains("Slow script detected"), "{}", s.log());
}

#[test]
fn pcall_cannot_hold_a_killed_script() {
    let s = server();
    let mut runner = Raw::connect(s.port);
    let script = "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end";
    runner.write(&helpers::encode(&[b"EVAL", script.as_bytes(), b"0"]));
    let mut other = wait_busy(&s, EVAL_BUSY);
    assert_eq!(other.cmd(&["SCRIPT", "KILL"]), Resp::ok());
    match runner.read() {
        Resp::Error(e) => assert!(e.contains("killed by user"), "{e}"),
        reply => panic!("the killed script replied {reply:?}"),
    }
    assert_eq!(runner.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn a_busy_function_is_stopped_by_function_kill_only() {
    let s = server();
    let mut r = Raw::connect(s.port);
    let library = "#!lua name=spin\nredis.register_function('spin', function() while true do end end)";
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", library]), Resp::bulk("spin"));
    r.send(&["FCALL", "spin", "0"]);
    let mut other = wait_busy(&s, FUNCTION_BUSY);
    assert_eq!(other.err(&["SCRIPT", "KILL"]), FUNCTION_BUSY, "SCRIPT KILL does not stop a function");
    assert_eq!(other.cmd(&["FUNCTION", "KILL"]), Resp::ok());
    assert_eq!(r.read(), Resp::err(KILLED));
    assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn a_script_that_wrote_is_unkillable_but_shutdown_nosave_stops_the_server() {
    let mut s = server();
    let mut runner = Raw::connect(s.port);
    runner.send(&["EVAL", "redis.call('set', KEYS[1], 'y') while true do end", "1", "x"]);
    let mut other = wait_busy(&s, EVAL_BUSY);
    let unkillable = other.err(&["SCRIPT", "KILL"]);
    assert!(unkillable.starts_with("UNKILLABLE Sorry the script already executed write commands"), "{unkillable}");
    assert_eq!(other.err(&["PING"]), EVAL_BUSY, "still busy after the refused kill");
    other.send(&["SHUTDOWN", "NOSAVE"]);
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    assert!(other.is_closed(Duration::from_secs(5)));
}

#[test]
fn with_a_password_set_a_client_cannot_kill_before_authenticating() {
    let s = Server::start_with(&["--save", "", "--busy-reply-threshold", "50", "--requirepass", "secret"]);
    let mut runner = Raw::connect(s.port);
    assert_eq!(runner.cmd(&["AUTH", "secret"]), Resp::ok());
    runner.send(&["EVAL", "while true do end", "0"]);
    s.wait_for_log("Slow script detected");
    // No password can be checked while the keyspace is inside the script.
    let noauth = "NOAUTH Authentication required.";
    let mut other = Raw::connect(s.port);
    assert_eq!(other.err(&["SCRIPT", "KILL"]), noauth);
    assert_eq!(other.err(&["AUTH", "secret"]), noauth);
    assert_eq!(other.cmd(&["QUIT"]), Resp::ok());
    assert!(other.is_closed(Duration::from_secs(5)));
}

#[test]
fn sigterm_stops_a_busy_script_and_shuts_down_gracefully() {
    let mut s = Server::start_with(&["--save", "", "--appendonly", "yes", "--busy-reply-threshold", "50"]);
    let mut r = Raw::connect(s.port);
    assert_eq!(r.cmd(&["SET", "kept", "1"]), Resp::ok());
    r.send(&["EVAL", "redis.call('incr', 'kept') while true do end", "0"]);
    s.wait_for_log("Slow script detected");
    s.signal(nix::sys::signal::Signal::SIGTERM);
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}\n{}", s.log());
    assert!(s.log().contains("Lua script stopped to shut down."), "{}", s.log());
    // What the script wrote before it was stopped is in the AOF, as in memory.
    s.restart();
    let mut r = Raw::connect(s.port);
    assert_eq!(r.cmd(&["GET", "kept"]), Resp::bulk("2"));
}
