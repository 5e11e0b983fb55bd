//! Connection and server commands: PING, ECHO, SELECT, HELLO/RESP3, AUTH,
//! CLIENT, COMMAND, maxclients, QUIT, INFO, CONFIG, TIME, DEBUG.

mod common;
mod helpers;

use helpers::{info_field, wait_until, Raw, Resp};
use std::io::{Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn pong() -> Resp {
    Resp::Simple("PONG".into())
}

#[test]
fn ping_echo_select() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    assert_eq!(r.cmd(&["PING"]), pong());
    assert_eq!(r.cmd(&["PING", "hi"]), Resp::bulk("hi"));
    assert_eq!(r.err(&["PING", "a", "b"]), "ERR wrong number of arguments for 'ping' command");
    assert_eq!(r.cmd(&["ECHO", "hello world"]), Resp::bulk("hello world"));
    assert_eq!(r.cmd_bytes(&[b"ECHO", b"\x00\xff\r\n"]), Resp::Bulk(b"\x00\xff\r\n".to_vec()));
    assert_eq!(r.err(&["ECHO"]), "ERR wrong number of arguments for 'echo' command");
    assert_eq!(r.cmd(&["SELECT", "15"]), Resp::ok());
    assert_eq!(r.err(&["SELECT", "16"]), "ERR DB index is out of range");
    assert_eq!(r.err(&["SELECT", "-1"]), "ERR DB index is out of range");
    assert_eq!(r.err(&["SELECT", "abc"]), "ERR value is not an integer or out of range");
    // The failed SELECTs left db 15 selected.
    r.cmd(&["SET", "k", "v"]);
    assert_eq!(r.int(&["DBSIZE"]), 1);
    r.cmd(&["SELECT", "0"]);
    assert_eq!(r.int(&["DBSIZE"]), 0);
}

#[test]
fn hello_switches_protocol() {
    let s = common::Server::start();
    let mut sock = s.raw();
    let reply = common::roundtrip(&mut sock, b"HELLO 3\r\n");
    assert!(reply.starts_with(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), "{}", String::from_utf8_lossy(&reply));
    let text = String::from_utf8_lossy(&reply);
    assert!(text.contains("$5\r\nproto\r\n:3\r\n"), "{text}");
    assert!(text.contains("$7\r\nversion\r\n$6\r\n7.0.15\r\n"), "{text}");
    // Nulls are `_` now, maps `%`.
    assert_eq!(common::roundtrip(&mut sock, b"GET nokey\r\n"), b"_\r\n");
    let config = common::roundtrip(&mut sock, b"CONFIG GET maxclients\r\n");
    assert_eq!(config, b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
    // Back to RESP2.
    let reply = common::roundtrip(&mut sock, b"HELLO 2\r\n");
    assert!(reply.starts_with(b"*14\r\n"), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(common::roundtrip(&mut sock, b"GET nokey\r\n"), b"$-1\r\n");

    let mut r = Raw::connect(s.port);
    assert_eq!(r.err(&["HELLO", "4"]), "NOPROTO unsupported protocol version");
    assert_eq!(r.err(&["HELLO", "1"]), "NOPROTO unsupported protocol version");
    assert_eq!(r.err(&["HELLO", "abc"]), "ERR Protocol version is not an integer or out of range");
    assert_eq!(r.err(&["HELLO", "3", "FOO"]), "ERR Syntax error in HELLO option 'FOO'");
    // Still RESP2 after the failures.
    assert_eq!(r.cmd(&["GET", "nokey"]), Resp::NullBulk);
    match r.cmd(&["HELLO", "3", "SETNAME", "myname"]) {
        Resp::Map(pairs) => {
            assert_eq!(pairs.len(), 7);
            assert_eq!(pairs[2], (Resp::bulk("proto"), Resp::Int(3)));
            assert_eq!(pairs[5], (Resp::bulk("role"), Resp::bulk("master")));
        }
        other => panic!("HELLO 3: {other:?}"),
    }
    assert_eq!(r.cmd(&["CLIENT", "GETNAME"]), Resp::bulk("myname"));
    assert_eq!(r.cmd(&["GET", "nokey"]), Resp::Null);
    match r.cmd(&["INFO", "server"]) {
        Resp::Verbatim(fmt, text) => {
            assert_eq!(fmt, "txt");
            assert!(String::from_utf8_lossy(&text).starts_with("# Server\r\n"));
        }
        other => panic!("INFO in RESP3: {other:?}"),
    }
    // HELLO without a version answers in the current protocol.
    assert!(matches!(r.cmd(&["HELLO"]), Resp::Map(_)));
}

#[test]
fn requirepass_gates_everything_but_auth_hello_quit() {
    let s = common::Server::start_with(&["--save", "", "--appendonly", "no", "--requirepass", "secret"]);
    let mut r = Raw::connect(s.port);
    let noauth = "NOAUTH Authentication required.";
    for args in [
        &["PING"][..],
        &["GET", "k"],
        &["SET", "k", "v"],
        &["SELECT", "1"],
        &["INFO"],
        &["CONFIG", "GET", "requirepass"],
        &["CLIENT", "ID"],
        &["MULTI"],
        &["SUBSCRIBE", "ch"],
        &["ECHO", "x"],
        &["DBSIZE"],
    ] {
        assert_eq!(r.err(args), noauth, "{args:?}");
    }
    assert_eq!(
        r.err(&["HELLO", "3"]),
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
    );
    let wrongpass = "WRONGPASS invalid username-password pair or user is disabled.";
    assert_eq!(r.err(&["AUTH", "nope"]), wrongpass);
    assert_eq!(r.err(&["AUTH", "someone", "secret"]), wrongpass);
    assert_eq!(r.err(&["AUTH", "default", "nope"]), wrongpass);
    assert_eq!(r.err(&["HELLO", "3", "AUTH", "default", "nope"]), wrongpass);
    assert_eq!(r.err(&["AUTH", "a", "b", "c"]), "ERR syntax error");
    assert_eq!(r.err(&["GET", "k"]), noauth);
    assert_eq!(r.cmd(&["AUTH", "secret"]), Resp::ok());
    assert_eq!(r.cmd(&["SET", "k", "v"]), Resp::ok());

    let mut r2 = Raw::connect(s.port);
    assert_eq!(r2.cmd(&["AUTH", "default", "secret"]), Resp::ok());
    assert_eq!(r2.cmd(&["GET", "k"]), Resp::bulk("v"));
    let mut r3 = Raw::connect(s.port);
    assert!(matches!(r3.cmd(&["HELLO", "3", "AUTH", "default", "secret"]), Resp::Map(_)));
    assert_eq!(r3.cmd(&["GET", "k"]), Resp::bulk("v"));
    // RESET forgets the authentication.
    assert_eq!(r3.cmd(&["RESET"]), Resp::Simple("RESET".into()));
    assert_eq!(r3.err(&["GET", "k"]), noauth);

    let mut q = Raw::connect(s.port);
    assert_eq!(q.cmd(&["QUIT"]), Resp::ok());
    assert!(q.is_closed(Duration::from_secs(3)));

    // The redis crate authenticates through the URL.
    let client = redis::Client::open(format!("redis://:secret@127.0.0.1:{}/", s.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(v, "v");
}

#[test]
fn auth_without_requirepass() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    assert_eq!(
        r.err(&["AUTH", "x"]),
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
    );
    assert_eq!(r.cmd(&["AUTH", "default", "anything"]), Resp::ok());
    assert_eq!(r.err(&["AUTH", "someone", "x"]), "WRONGPASS invalid username-password pair or user is disabled.");
    assert_eq!(
        r.err(&["HELLO", "3", "AUTH", "someone", "x"]),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
}

#[test]
fn client_id_name_list_kill() {
    let s = common::Server::start();
    let mut a = Raw::connect(s.port);
    let mut b = Raw::connect(s.port);
    let id_a = a.int(&["CLIENT", "ID"]);
    let id_b = b.int(&["CLIENT", "ID"]);
    assert_ne!(id_a, id_b);
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), Resp::NullBulk);
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), Resp::ok());
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), Resp::bulk("alpha"));
    assert_eq!(
        a.err(&["CLIENT", "SETNAME", "a b"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(a.err(&["CLIENT", "FOO"]), "ERR unknown subcommand 'FOO'. Try CLIENT HELP.");
    assert_eq!(a.err(&["CLIENT", "GETNAME", "x"]), "ERR wrong number of arguments for 'client|getname' command");
    assert_eq!(a.err(&["CLIENT", "KILL"]), "ERR wrong number of arguments for 'client|kill' command");

    // The harness's readiness probe (a PING) has closed its socket, but the
    // server may not have seen it go yet: wait (bounded) for a and b alone.
    wait_until(Duration::from_secs(5), || b.cmd(&["CLIENT", "LIST"]).text().lines().count() == 2);
    let list = b.cmd(&["CLIENT", "LIST"]).text();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    let line_a = lines.iter().find(|l| l.starts_with(&format!("id={id_a} "))).expect("a listed");
    assert!(line_a.contains(" name=alpha "), "{line_a}");
    assert!(line_a.contains(" db=0 "), "{line_a}");
    assert!(line_a.contains(" cmd=client"), "{line_a}");
    let line_b = lines.iter().find(|l| l.starts_with(&format!("id={id_b} "))).expect("b listed");
    assert!(line_b.contains(" addr=127.0.0.1:"), "{line_b}");
    assert!(line_b.contains(" laddr=127.0.0.1:"), "{line_b}");
    let addr_a = line_a.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string();
    assert!(b.cmd(&["CLIENT", "INFO"]).text().starts_with(&format!("id={id_b} ")));

    // Kill by id: a's socket closes, b goes on.
    assert_eq!(b.int(&["CLIENT", "KILL", "ID", &id_a.to_string()]), 1);
    assert!(a.is_closed(Duration::from_secs(3)), "killed client still open");
    assert_eq!(b.cmd(&["PING"]), pong());
    assert_eq!(b.int(&["CLIENT", "KILL", "ID", &id_a.to_string()]), 0);
    assert_eq!(b.err(&["CLIENT", "KILL", &addr_a]), "ERR No such client");
    assert_eq!(b.err(&["CLIENT", "KILL", "ID", "0"]), "ERR client-id should be greater than 0");
    assert_eq!(b.err(&["CLIENT", "KILL", "FOO", "bar"]), "ERR syntax error");
    assert!(wait_until(Duration::from_secs(3), || b.cmd(&["CLIENT", "LIST"]).text().lines().count() == 1));

    // Old form: CLIENT KILL addr.
    let mut c = Raw::connect(s.port);
    let id_c = c.int(&["CLIENT", "ID"]);
    let list = b.cmd(&["CLIENT", "LIST"]).text();
    let line_c = list.lines().find(|l| l.starts_with(&format!("id={id_c} "))).unwrap();
    let addr_c = line_c.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string();
    assert_eq!(b.cmd(&["CLIENT", "KILL", &addr_c]), Resp::ok());
    assert!(c.is_closed(Duration::from_secs(3)));
    // SKIPME yes (the default) spares the caller.
    assert_eq!(b.int(&["CLIENT", "KILL", "ID", &id_b.to_string()]), 0);
    assert_eq!(b.cmd(&["PING"]), pong());
    assert_eq!(b.int(&["CLIENT", "KILL", "ID", &id_b.to_string(), "SKIPME", "no"]), 1);
    assert!(b.is_closed(Duration::from_secs(3)));
}

#[test]
fn command_count_info_docs() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let count = r.int(&["COMMAND", "COUNT"]);
    assert!(count > 50, "COMMAND COUNT {count}");
    let all = r.cmd(&["COMMAND"]);
    assert_eq!(all.items().len() as i64, count);
    let info = r.cmd(&["COMMAND", "INFO", "get", "nosuchcommand", "SET"]);
    let items = info.items();
    assert_eq!(items.len(), 3);
    let get = items[0].items();
    assert_eq!(get[0], Resp::bulk("get"));
    assert_eq!(get[1], Resp::Int(2));
    assert!(get[2].items().contains(&Resp::Simple("readonly".into())));
    assert_eq!(&get[3..6], &[Resp::Int(1), Resp::Int(1), Resp::Int(1)]);
    assert_eq!(items[1], Resp::NullArray);
    assert_eq!(items[2].items()[1], Resp::Int(-3));
    assert!(items[2].items()[2].items().contains(&Resp::Simple("write".into())));
    assert_eq!(r.cmd(&["COMMAND", "INFO"]).items().len() as i64, count, "no names: every command");
    // No documentation to give: an error sends redis-cli to its own help.
    assert_eq!(r.err(&["COMMAND", "DOCS"]), "ERR unknown subcommand 'DOCS'. Try COMMAND HELP.");
    let help = r.cmd(&["COMMAND", "HELP"]);
    assert!(help.items().iter().any(|l| l.text() == "GETKEYS <full-command>"), "{help:?}");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "SET", "a", "b"]), Resp::bulks(&["a"]));
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]), Resp::bulks(&["a", "b"]));
    assert_eq!(r.err(&["COMMAND", "FOO"]), "ERR unknown subcommand 'FOO'. Try COMMAND HELP.");
    assert_eq!(r.err(&["COMMAND", "COUNT", "x"]), "ERR wrong number of arguments for 'command|count' command");
}

#[test]
fn maxclients_rejects_the_extra_connection() {
    let s = common::Server::start_with(&["--save", "", "--appendonly", "no", "--maxclients", "2"]);
    let mut a = Raw::connect(s.port);
    // The harness's readiness probe may not have been counted out yet.
    assert!(wait_until(Duration::from_secs(3), || {
        info_field(&a.cmd(&["INFO", "clients"]).text(), "connected_clients").as_deref() == Some("1")
    }));
    let mut b = Raw::connect(s.port);
    assert_eq!(a.cmd(&["PING"]), pong());
    assert_eq!(b.cmd(&["PING"]), pong());
    let mut third = s.raw();
    let mut buf = Vec::new();
    let _ = third.read_to_end(&mut buf);
    assert_eq!(buf, b"-ERR max number of clients reached\r\n");
    // The two admitted clients carry on; the rejection is counted.
    let info = a.cmd(&["INFO", "stats"]).text();
    assert_eq!(info_field(&info, "rejected_connections").as_deref(), Some("1"));
    assert_eq!(b.cmd(&["PING"]), pong());
    // A slot frees up when a client leaves.
    drop(b);
    assert!(wait_until(Duration::from_secs(3), || {
        let mut c = Raw::connect(s.port);
        c.writer.write_all(b"PING\r\n").is_ok()
            && helpers::read_reply(&mut c.reader).map(|r| r == pong()).unwrap_or(false)
    }));
}

#[test]
fn quit_closes_after_replying() {
    let s = common::Server::start();
    let mut sock = s.raw();
    sock.write_all(b"PING\r\nQUIT\r\nPING\r\n").unwrap();
    let mut buf = Vec::new();
    sock.read_to_end(&mut buf).unwrap();
    assert_eq!(buf, b"+PONG\r\n+OK\r\n");
}

#[test]
fn info_sections_and_fields() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let _other = Raw::connect(s.port);
    r.cmd(&["SET", "a", "1"]);
    r.cmd(&["SET", "b", "2", "EX", "100"]);
    let info = r.cmd(&["INFO"]).text();
    for section in ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "Keyspace"] {
        assert!(info.contains(&format!("# {section}\r\n")), "missing section {section}");
    }
    assert_eq!(info_field(&info, "redis_version").as_deref(), Some("7.0.15"));
    assert!(wait_until(Duration::from_secs(3), || {
        let info = r.cmd(&["INFO", "clients"]).text();
        info_field(&info, "connected_clients").as_deref() == Some("2")
    }));
    for field in ["used_memory", "used_memory_rss", "total_commands_processed", "instantaneous_ops_per_sec"] {
        let v = info_field(&info, field).unwrap_or_else(|| panic!("no {field}"));
        assert!(v.parse::<u64>().is_ok(), "{field}:{v}");
    }
    assert!(info_field(&info, "used_memory").unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(info_field(&info, "rdb_changes_since_last_save").as_deref(), Some("2"));
    assert_eq!(info_field(&info, "aof_enabled").as_deref(), Some("0"));
    assert_eq!(info_field(&info, "expired_keys").as_deref(), Some("0"));
    assert_eq!(info_field(&info, "role").as_deref(), Some("master"));
    assert_eq!(info_field(&info, "db0").as_deref(), Some("keys=2,expires=1,avg_ttl=0"));
    assert!(info_field(&info, "tcp_port").unwrap() == s.port.to_string());

    // One section, case-insensitive; several sections; an unknown one is empty.
    let server = r.cmd(&["INFO", "SERVER"]).text();
    assert!(server.starts_with("# Server\r\n") && !server.contains("# Clients"));
    let two = r.cmd(&["INFO", "clients", "keyspace"]).text();
    assert!(two.contains("# Clients") && two.contains("# Keyspace") && !two.contains("# Server"));
    assert_eq!(r.cmd(&["INFO", "nosuchsection"]), Resp::bulk(""));

    // total_commands_processed grows with commands.
    let before: u64 =
        info_field(&r.cmd(&["INFO", "stats"]).text(), "total_commands_processed").unwrap().parse().unwrap();
    for _ in 0..10 {
        r.cmd(&["PING"]);
    }
    let after: u64 =
        info_field(&r.cmd(&["INFO", "stats"]).text(), "total_commands_processed").unwrap().parse().unwrap();
    assert_eq!(after, before + 11);
}

#[test]
fn config_get_set_resetstat() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let pairs = |reply: Resp| -> Vec<(String, String)> {
        let items = reply.items().to_vec();
        items.chunks(2).map(|p| (p[0].text(), p[1].text())).collect()
    };
    assert_eq!(pairs(r.cmd(&["CONFIG", "GET", "maxclients"])), vec![("maxclients".into(), "10000".into())]);
    let max = pairs(r.cmd(&["CONFIG", "GET", "max*"]));
    assert!(max.iter().any(|(k, _)| k == "maxclients"), "{max:?}");
    assert!(max.iter().any(|(k, _)| k == "maxmemory"), "{max:?}");
    assert!(max.iter().all(|(k, _)| k.starts_with("max")), "{max:?}");
    let port = pairs(r.cmd(&["CONFIG", "GET", "port"]));
    assert_eq!(port, vec![("port".into(), s.port.to_string())]);
    let two = pairs(r.cmd(&["CONFIG", "GET", "port", "hz"]));
    assert_eq!(two.len(), 2);
    assert!(r.cmd(&["CONFIG", "GET", "nosuchparam"]).items().is_empty());
    assert!(pairs(r.cmd(&["CONFIG", "GET", "*"])).len() > 10);

    assert_eq!(r.cmd(&["CONFIG", "SET", "hz", "20", "maxclients", "100"]), Resp::ok());
    assert_eq!(pairs(r.cmd(&["CONFIG", "GET", "hz"])), vec![("hz".into(), "20".into())]);
    assert_eq!(pairs(r.cmd(&["CONFIG", "GET", "maxclients"])), vec![("maxclients".into(), "100".into())]);
    assert_eq!(
        r.err(&["CONFIG", "SET", "hz", "abc"]),
        "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        r.err(&["CONFIG", "SET", "nosuch", "1"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    assert_eq!(
        r.err(&["CONFIG", "SET", "hz", "10", "hz", "30"]),
        "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"
    );
    // A failing multi-parameter SET changes nothing.
    assert!(r.cmd(&["CONFIG", "SET", "hz", "30", "maxclients", "abc"]).text().starts_with("ERR"));
    assert_eq!(pairs(r.cmd(&["CONFIG", "GET", "hz"])), vec![("hz".into(), "20".into())]);
    assert_eq!(r.err(&["CONFIG", "GET"]), "ERR wrong number of arguments for 'config|get' command");
    assert_eq!(r.err(&["CONFIG", "SET", "hz"]), "ERR wrong number of arguments for 'config|set' command");
    assert_eq!(r.err(&["CONFIG", "FOO"]), "ERR unknown subcommand 'FOO'. Try CONFIG HELP.");

    for _ in 0..5 {
        r.cmd(&["PING"]);
    }
    assert_eq!(r.cmd(&["CONFIG", "RESETSTAT"]), Resp::ok());
    let stats = r.cmd(&["INFO", "stats"]).text();
    assert_eq!(info_field(&stats, "total_commands_processed").as_deref(), Some("1"));
    assert_eq!(info_field(&stats, "total_connections_received").as_deref(), Some("0"));
}

#[test]
fn time_and_debug_sleep() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let reply = r.cmd(&["TIME"]);
    let items = reply.items();
    assert_eq!(items.len(), 2);
    let secs: u64 = items[0].text().parse().unwrap();
    let micros: u64 = items[1].text().parse().unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(secs.abs_diff(now) <= 2, "TIME {secs} vs {now}");
    assert!(micros < 1_000_000);
    assert_eq!(r.err(&["TIME", "x"]), "ERR wrong number of arguments for 'time' command");
    assert_eq!(r.cmd(&["DEBUG", "SLEEP", "0"]), Resp::ok());
    let start = std::time::Instant::now();
    assert_eq!(r.cmd(&["DEBUG", "SLEEP", "0.2"]), Resp::ok());
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.err(&["DEBUG", "SLEEP", "abc"]), "ERR value is not an integer or out of range");
    assert_eq!(
        r.err(&["DEBUG", "FOO"]),
        "ERR unknown subcommand or wrong number of arguments for 'FOO'. Try DEBUG HELP."
    );
}
