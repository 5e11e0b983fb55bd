//! ACL (users, passwords, command, key and channel permissions) against
//! the real binary, side by side with Debian's redis-server 7.0: the cases
//! of Redis's acl.tcl and acl-v2.tcl whose replies are deterministic —
//! SETUSER rules and their errors, GETUSER and LIST, refusals of commands,
//! keys and channels (at the top level, queued in MULTI, at EXEC, from a
//! script) and what ACL LOG records of them, AUTH and HELLO with users,
//! requirepass and the default user, DELUSER disconnecting, DRYRUN, CAT,
//! GENPASS's shape, COMMAND INFO's categories, and users kept across a
//! restart by ACL SAVE and the aclfile, or given by config-file lines.
//! Skips with a note when redis-server is not installed.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use aof_support::RedisServer;
use common::{start_from_config, Server};
use helpers::{Raw, Resp};
use side_by_side::{start_pair, Pair};
use std::time::Duration;

/// One connection to each server.
struct Conns {
    forkv: Raw,
    redis: Raw,
}

impl Conns {
    fn open(forkv_port: u16, redis_port: u16) -> Conns {
        Conns { forkv: Raw::connect(forkv_port), redis: Raw::connect(redis_port) }
    }

    /// The command on both: the same reply, returned.
    fn both(&mut self, args: &[&str]) -> Resp {
        side_by_side::both(&mut self.forkv, &mut self.redis, args)
    }

    fn line(&mut self, line: &str) -> Resp {
        self.both(&line.split(' ').collect::<Vec<_>>())
    }

    /// Each line in turn, as `line`.
    fn lines(&mut self, lines: &[&str]) {
        for line in lines {
            self.line(line);
        }
    }

    /// An error on both, the same, matching `want` (a prefix).
    fn error(&mut self, line: &str, want: &str) {
        let reply = self.line(line);
        assert!(matches!(&reply, Resp::Error(e) if e.starts_with(want)), "{line}: {reply:?}");
    }

    /// The command on both: the same error, or a reply on both (whose
    /// values differ, as MEMORY STATS's do).
    fn same_outcome(&mut self, line: &str) {
        let args: Vec<&str> = line.split(' ').collect();
        match (self.forkv.cmd(&args), self.redis.cmd(&args)) {
            (Resp::Error(f), Resp::Error(r)) => assert_eq!(f, r, "{line}"),
            (f, r) => assert!(!matches!(f, Resp::Error(_)) && !matches!(r, Resp::Error(_)), "{line}: {f:?} {r:?}"),
        }
    }

    /// Both servers closed this connection (within 5 s).
    fn both_closed(&mut self, what: &str) {
        assert!(self.forkv.is_closed(Duration::from_secs(5)), "forkv kept {what}");
        assert!(self.redis.is_closed(Duration::from_secs(5)), "redis kept {what}");
    }

    /// GETUSER on both: the same, with the single commands of each
    /// command rule compared as a set (their order follows each server's
    /// command table).
    fn same_user(&mut self, name: &str) -> Resp {
        fn normalized(reply: &Resp) -> Resp {
            match reply {
                Resp::Bulk(b) if b.starts_with(b"+@all") || b.starts_with(b"-@all") => {
                    let text = String::from_utf8_lossy(b);
                    let mut words: Vec<&str> = text.split(' ').collect();
                    words[1..].sort();
                    Resp::bulk(&words.join(" "))
                }
                Resp::Array(items) => Resp::Array(items.iter().map(normalized).collect()),
                Resp::Set(items) => Resp::Set(items.iter().map(normalized).collect()),
                Resp::Map(pairs) => Resp::Map(pairs.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()),
                other => other.clone(),
            }
        }
        let args = ["ACL", "GETUSER", name];
        let (f, r) = (self.forkv.cmd(&args), self.redis.cmd(&args));
        assert_eq!(normalized(&f), normalized(&r), "ACL GETUSER {name}");
        f
    }

    /// ACL LIST on both, each line's rules compared as a set: the order
    /// of single commands follows each server's command table.
    fn same_acl_list(&mut self) -> Vec<String> {
        let normalized = |reply: Resp| -> Vec<Vec<String>> {
            reply
                .items()
                .iter()
                .map(|line| {
                    let mut words: Vec<String> = line.text().split(' ').map(str::to_string).collect();
                    words[2..].sort();
                    words
                })
                .collect()
        };
        let (f, r) = (self.forkv.cmd(&["ACL", "LIST"]), self.redis.cmd(&["ACL", "LIST"]));
        assert_eq!(normalized(f.clone()), normalized(r), "ACL LIST");
        f.items().iter().map(Resp::text).collect()
    }

    /// ACL LOG on both: the same entries, less their age and client info.
    fn same_acl_log(&mut self, count: &str) -> Vec<Vec<(String, Resp)>> {
        let entries = |reply: Resp| -> Vec<Vec<(String, Resp)>> {
            reply
                .items()
                .iter()
                .map(|entry| {
                    let fields = entry.items();
                    fields
                        .chunks(2)
                        .map(|kv| (kv[0].text(), kv[1].clone()))
                        .filter(|(k, _)| k != "age-seconds" && k != "client-info")
                        .collect()
                })
                .collect()
        };
        let f = entries(self.forkv.cmd(&["ACL", "LOG", count]));
        let r = entries(self.redis.cmd(&["ACL", "LOG", count]));
        assert_eq!(f, r, "ACL LOG");
        f
    }
}

fn pair_conns(p: &Pair) -> Conns {
    Conns::open(p.forkv_server.port, p.redis_server.port)
}

fn start() -> Option<(Pair, Conns)> {
    let p = start_pair()?;
    let c = pair_conns(&p);
    Some((p, c))
}

#[test]
fn users_rules_and_their_descriptions_match_redis() {
    let Some((p, mut c)) = start() else { return };
    c.line("ACL WHOAMI");
    c.line("ACL SETUSER newuser");
    let reply = c.both(&["ACL", "SETUSER", "a a"]);
    assert_eq!(reply, Resp::err("ERR Usernames can't contain spaces or null characters"));
    c.line("ACL SETUSER newuser >passwd1");
    c.line("ACL SETUSER newuser #34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6");
    c.error(
        "ACL SETUSER newuser #34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e",
        "ERR Error in ACL SETUSER modifier",
    );
    c.error(
        "ACL SETUSER newuser #34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4eq",
        "ERR Error in ACL SETUSER modifier",
    );
    c.same_user("newuser");
    c.line("ACL SETUSER newuser !34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6");
    c.error("ACL SETUSER newuser <nosuchpass", "ERR Error in ACL SETUSER modifier '<nosuchpass'");
    for rules in [
        "on +acl ~foo:* ~bar:* &chan",
        "allkeys ~x",
        "allchannels &x",
        "+nosuchcommand",
        "+@nosuchcategory",
        "-@all +select|0 +client|id",
        "+client|id|x",
        "+get|",
        "%X~k",
        "%RW~rw %R~r %W~w resetchannels &a &b",
        "reset",
        "+@all -get -client|kill",
        "-@all +@hash +@string -@write",
        "(+get ~a*) (+set ~b* &c)",
        "(+get",
        "clearselectors nopass",
        "skip-sanitize-payload",
    ] {
        let mut args = vec!["ACL", "SETUSER", "newuser"];
        args.extend(rules.split(' '));
        c.both(&args);
        c.same_acl_list();
        c.same_user("newuser");
    }
    c.lines(&["ACL SETUSER other on nopass +get", "ACL USERS", "ACL GETUSER nosuchuser"]);
    c.error("ACL DELUSER default newuser", "ERR The 'default' user cannot be removed");
    c.line("ACL DELUSER newuser other nosuchuser");
    c.same_acl_list();
    c.error("ACL NOSUCH", "ERR unknown subcommand 'NOSUCH'. Try ACL HELP.");
    c.error("ACL GETUSER", "ERR wrong number of arguments for 'acl|getuser' command");
    c.line("ACL HELP");
    // RESP3 GETUSER: a map with a set of flags.
    for r in [&mut c.forkv, &mut c.redis] {
        r.cmd(&["HELLO", "3"]);
    }
    c.line("ACL SETUSER r3 on >p ~k* &ch +get (+set ~s*)");
    c.same_user("r3");
    c.same_user("default");
    drop(p);
}

#[test]
fn a_restricted_user_is_refused_commands_keys_and_channels() {
    let Some((p, mut admin)) = start() else { return };
    admin.line("ACL SETUSER limited on >pw +get +set +publish +subscribe +psubscribe +client|id ~k* %R~r* %W~w* &ch*");
    admin.line("SET r1 v");
    let mut c = pair_conns(&p);
    c.lines(&["AUTH limited pw", "ACL WHOAMI", "GET k1", "SET k1 v", "GET r1"]);
    c.error("SET r1 v", "NOPERM this user has no permissions to access one of the keys used as arguments");
    c.error("GET w1", "NOPERM this user has no permissions to access one of the keys used as arguments");
    c.error("GET other", "NOPERM");
    admin.line("ACL SETUSER sorter on >pw +sort +lpush %R~* %W~dst* ~src");
    let mut sorter = pair_conns(&p);
    sorter.lines(&["AUTH sorter pw", "LPUSH src 3 1 2", "SORT src STORE dst1"]);
    sorter.error("SORT src STORE other", "NOPERM this user has no permissions to access one of the keys");
    sorter.line("LPUSH dst2 1");
    sorter.error("LPUSH r1 1", "NOPERM");
    c.error("DEL k1", "NOPERM this user has no permissions to run the 'del' command");
    c.error("CLIENT KILL ID 1", "NOPERM this user has no permissions to run the 'client|kill' command");
    assert!(matches!(c.forkv.cmd(&["CLIENT", "ID"]), Resp::Int(_)));
    assert!(matches!(c.redis.cmd(&["CLIENT", "ID"]), Resp::Int(_)));
    c.line("PUBLISH ch1 hello");
    c.error(
        "PUBLISH other hello",
        "NOPERM this user has no permissions to access one of the channels used as arguments",
    );
    c.error("SUBSCRIBE ch1 other", "NOPERM");
    c.error("PSUBSCRIBE ch1*", "NOPERM");
    c.error("SPUBLISH ch1 m", "NOPERM this user has no permissions to run the 'spublish' command");
    // EXEC refused discards the transaction.
    c.error("MULTI", "NOPERM");
    c.error("EXEC", "EXECABORT Transaction discarded because of: NOPERM");
    admin.line("ACL SETUSER limited +multi +exec");
    // A refusal while queueing aborts the transaction.
    c.line("MULTI");
    c.line("SET k2 v");
    c.error("DEL k2", "NOPERM");
    c.error("EXEC", "EXECABORT");
    // Rules changed between MULTI and EXEC: the command is refused at EXEC.
    c.lines(&["MULTI", "SET k3 v", "GET k3"]);
    admin.line("ACL SETUSER limited -set");
    c.line("EXEC");
    admin.line("ACL SETUSER limited +eval");
    for script in
        ["return redis.call('get','k3')", "return redis.call('set','k3','x')", "return redis.call('get','zz')"]
    {
        c.both(&["EVAL", script, "0"]);
    }
    admin.same_acl_log("20");
    admin.line("ACL LOG RESET");
    admin.line("ACL LOG");
    // Subscribed clients whose channels are revoked are disconnected.
    let mut sub = pair_conns(&p);
    sub.line("AUTH limited pw");
    sub.line("SUBSCRIBE ch1");
    admin.line("ACL SETUSER limited resetchannels &other");
    sub.both_closed("the revoked subscriber");
    // DRYRUN answers without running or logging.
    admin.line("ACL SETUSER limited +set &ch*");
    for line in ["ACL DRYRUN limited get k1", "ACL DRYRUN limited del k1", "ACL DRYRUN limited set r1 v"] {
        admin.line(line);
    }
    admin.line("ACL DRYRUN limited publish nope m");
    admin.error("ACL DRYRUN nosuchuser get k", "ERR User 'nosuchuser' not found");
    admin.error("ACL DRYRUN limited nosuchcmd k", "ERR Command 'nosuchcmd' not found");
    admin.error("ACL DRYRUN limited get", "ERR wrong number of arguments for 'get' command");
    admin.line("ACL LOG");
    drop(p);
}

#[test]
fn auth_and_hello_log_in_as_users() {
    let Some((p, mut admin)) = start() else { return };
    admin.error("AUTH x", "ERR AUTH <password> called without any password configured");
    admin.line("ACL SETUSER alice >alicepw +acl +get ~*");
    let mut c = pair_conns(&p);
    // A new user is off until `on`.
    c.error("AUTH alice alicepw", "WRONGPASS invalid username-password pair or user is disabled.");
    admin.line("ACL SETUSER alice on");
    c.error("AUTH alice wrong", "WRONGPASS");
    c.error("AUTH nosuchuser x", "WRONGPASS");
    c.line("AUTH alice alicepw");
    c.line("ACL WHOAMI");
    c.error("AUTH a b c", "ERR syntax error");
    // HELLO AUTH: the map differs by server name and version only.
    let hello = ["HELLO", "2", "AUTH", "alice", "wrong"];
    c.both(&hello);
    let f = c.forkv.cmd(&["HELLO", "3", "AUTH", "default", "x", "SETNAME", "n"]);
    let r = c.redis.cmd(&["HELLO", "3", "AUTH", "default", "x", "SETNAME", "n"]);
    assert!(matches!((&f, &r), (Resp::Map(_), Resp::Map(_))), "{f:?} {r:?}");
    c.line("ACL WHOAMI");
    c.line("CLIENT GETNAME");
    admin.same_acl_log("10");
    drop(p);
}

#[test]
fn requirepass_and_the_default_user_stay_in_step() {
    let Some((p, mut admin)) = start() else { return };
    admin.line("CONFIG SET requirepass secret");
    admin.same_acl_list();
    let mut c = pair_conns(&p);
    c.error("GET k", "NOAUTH Authentication required.");
    c.error("HELLO 3", "NOAUTH HELLO must be called with the client already authenticated");
    c.error("AUTH wrong", "WRONGPASS");
    c.lines(&["AUTH secret", "AUTH default secret", "GET k"]);
    // Clients logged in before stay so; a password set on the default
    // user directly works as requirepass does.
    admin.line("ACL SETUSER default resetpass >other");
    let mut d = pair_conns(&p);
    d.error("AUTH secret", "WRONGPASS");
    d.line("AUTH other");
    // nopass lets everyone in, even a client that never authenticated.
    let mut e = pair_conns(&p);
    e.error("PING", "NOAUTH");
    admin.line("ACL SETUSER default nopass");
    e.line("PING");
    admin.line("CONFIG SET requirepass again");
    admin.same_acl_list();
    admin.line("CONFIG GET requirepass");
    admin.both(&["CONFIG", "SET", "requirepass", ""]);
    admin.same_acl_list();
    admin.line("CONFIG SET requirepass");
    drop(p);
}

#[test]
fn deleting_a_user_disconnects_its_clients() {
    let Some((p, mut admin)) = start() else { return };
    admin.line("ACL SETUSER bob on >pw +@all ~*");
    let mut c = pair_conns(&p);
    c.line("AUTH bob pw");
    let mut other = pair_conns(&p);
    other.line("AUTH bob pw");
    // CLIENT LIST names the user; CLIENT KILL USER picks its clients.
    let list = admin.forkv.cmd(&["CLIENT", "LIST"]).text();
    assert_eq!(list.matches("user=bob").count(), 2, "{list}");
    admin.error("CLIENT KILL USER nosuch", "ERR No such user 'nosuch'");
    admin.line("CLIENT KILL USER bob SKIPME yes");
    c.both_closed("the killed client");
    let mut d = pair_conns(&p);
    d.line("AUTH bob pw");
    admin.line("ACL DELUSER bob");
    d.both_closed("a deleted user's client");
    other.both_closed("a deleted user's other client");
    // A user that deletes itself gets its reply, then the connection closes.
    admin.line("ACL SETUSER carol on >pw +acl");
    let mut e = pair_conns(&p);
    e.line("AUTH carol pw");
    e.line("ACL DELUSER carol");
    e.both_closed("the client that deleted its user");
    drop(p);
}

#[test]
fn categories_genpass_and_command_info() {
    let Some((p, mut c)) = start() else { return };
    c.line("ACL CAT");
    c.error("ACL CAT nosuch", "ERR Unknown category 'nosuch'");
    // forkv lacks some of Redis's commands: each category it lists must be
    // within Redis's, and hold every forkv command Redis puts in it.
    let forkv_commands: Vec<String> = c.forkv.cmd(&["COMMAND", "LIST"]).items().iter().map(Resp::text).collect();
    for category in c.forkv.cmd(&["ACL", "CAT"]).items().iter().map(Resp::text) {
        let names = |r: &mut Raw| -> Vec<String> {
            let mut v: Vec<String> = r.cmd(&["ACL", "CAT", &category]).items().iter().map(Resp::text).collect();
            v.sort();
            v
        };
        let (f, r) = (names(&mut c.forkv), names(&mut c.redis));
        let known = |n: &String| forkv_commands.contains(&n.split('|').next().unwrap_or_default().to_string());
        let expected: Vec<String> = r.into_iter().filter(known).collect();
        let f_known: Vec<String> = f.into_iter().filter(|n| expected.contains(n) || !n.contains('|')).collect();
        assert_eq!(
            f_known.iter().filter(|n| !n.contains('|')).collect::<Vec<_>>(),
            expected.iter().filter(|n| !n.contains('|')).collect::<Vec<_>>(),
            "@{category}"
        );
    }
    // COMMAND INFO's seventh element: the categories, in Redis's order.
    for name in ["get", "set", "client", "acl", "eval", "blpop", "publish", "del", "ping", "config"] {
        let (f, r) = (c.forkv.cmd(&["COMMAND", "INFO", name]), c.redis.cmd(&["COMMAND", "INFO", name]));
        assert_eq!(f.items()[0].items()[6], r.items()[0].items()[6], "{name}");
    }
    for bits in ["", "1", "5", "128", "4096"] {
        let mut args = vec!["ACL", "GENPASS"];
        args.extend(Some(bits).filter(|b| !b.is_empty()));
        let (f, r) = (c.forkv.cmd(&args).text(), c.redis.cmd(&args).text());
        assert_eq!(f.len(), r.len(), "{args:?}");
        assert!(f.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{f}");
    }
    c.error("ACL GENPASS 0", "ERR ACL GENPASS argument must be the number of bits");
    c.error("ACL GENPASS 4097", "ERR ACL GENPASS argument must be the number of bits");
    c.error("ACL GENPASS x", "ERR value is not an integer or out of range");
    c.error("ACL LOAD", "ERR This Redis instance is not configured to use an ACL file.");
    c.error("ACL SAVE", "ERR This Redis instance is not configured to use an ACL file.");
    drop(p);
}

/// A forkv and a redis-server started with `args`, one connection each.
fn start_both_with(dir: &std::path::Path, args: &[&str]) -> (Server, RedisServer, Conns) {
    let forkv = Server::start_with(&[&["--save", "", "--appendonly", "no"], args].concat());
    let (redis, _) = RedisServer::start(dir, args);
    let c = Conns::open(forkv.port, redis.port);
    (forkv, redis, c)
}

#[test]
fn acl_save_and_the_aclfile_keep_users_across_a_restart() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (forkv_file, redis_file) = (dir.path().join("forkv.acl"), dir.path().join("redis.acl"));
    for f in [&forkv_file, &redis_file] {
        std::fs::write(f, "").unwrap();
    }
    let forkv_args = ["--aclfile", forkv_file.to_str().unwrap()];
    let redis_args = ["--aclfile", redis_file.to_str().unwrap()];
    let mut forkv = Server::start_with(&[&["--save", "", "--appendonly", "no"], &forkv_args[..]].concat());
    let (redis, _) = RedisServer::start(dir.path(), &redis_args);
    let mut c = Conns::open(forkv.port, redis.port);
    c.lines(&[
        "ACL LIST",
        "ACL SETUSER saved on >pw ~k* &ch +get (+set ~s*)",
        "ACL SETUSER default resetpass >defpw",
        "AUTH defpw",
        "ACL SAVE",
    ]);
    let saved = c.same_acl_list();
    let (fs, rs) = (std::fs::read_to_string(&forkv_file).unwrap(), std::fs::read_to_string(&redis_file).unwrap());
    assert_eq!(fs.lines().collect::<Vec<_>>(), saved.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(fs, rs);
    // ACL LOAD drops what was not saved, and the clients of replaced users.
    c.line("ACL SETUSER unsaved on");
    let mut saved_client = Conns::open(forkv.port, redis.port);
    saved_client.line("AUTH saved pw");
    c.line("ACL LOAD");
    c.same_acl_list();
    saved_client.both_closed("a client of a user ACL LOAD replaced");
    // A broken file changes nothing and says why.
    for f in [&forkv_file, &redis_file] {
        std::fs::write(f, "user bad +nosuchcommand\nnot a user line\n").unwrap();
    }
    let (f, r) = (c.forkv.cmd(&["ACL", "LOAD"]).text(), c.redis.cmd(&["ACL", "LOAD"]).text());
    assert_eq!(f.replace("forkv.acl", "redis.acl"), r);
    for f in [&forkv_file, &redis_file] {
        std::fs::write(f, &fs).unwrap();
    }
    forkv.restart();
    let mut after = Raw::connect(forkv.port);
    assert_eq!(after.cmd(&["AUTH", "defpw"]), Resp::ok());
    let users: Vec<String> = after.cmd(&["ACL", "LIST"]).items().iter().map(Resp::text).collect();
    assert_eq!(users, saved);
    // A missing aclfile stops the start, as in Redis.
    std::fs::remove_file(&forkv_file).unwrap();
    forkv.kill();
    let mut child = common::forkv_command(
        dir.path(),
        common::free_port(),
        &["--aclfile", forkv_file.to_str().unwrap()],
        std::fs::File::create(dir.path().join("failed.log")).unwrap(),
    )
    .spawn()
    .unwrap();
    let status = wait_for_exit(&mut child);
    assert!(!status.success(), "started without its aclfile");
    let log = std::fs::read_to_string(dir.path().join("failed.log")).unwrap();
    assert!(log.contains("Error loading ACLs, opening file"), "{log}");
}

fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    for _ in 0..500 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap()
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn user_lines_of_a_config_file_make_users() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (forkv_conf, redis_conf) = (dir.path().join("forkv.conf"), dir.path().join("redis.conf"));
    let users =
        "user alice on >alicepw ~cached:* +get\nuser default on nopass ~* &* +@all -debug\nuser bob off (+set ~b*)\n";
    for conf in [&forkv_conf, &redis_conf] {
        std::fs::write(conf, format!("# users\n{users}")).unwrap();
    }
    let forkv_binary = common::binary();
    let (forkv, port) =
        start_from_config(forkv_binary.as_os_str(), &forkv_conf, dir.path(), &[]).expect("forkv starts");
    let (redis, redis_port) =
        start_from_config("redis-server".as_ref(), &redis_conf, dir.path(), &[]).expect("redis-server starts");
    let mut c = Conns::open(port, redis_port);
    c.same_acl_list();
    c.line("AUTH alice alicepw");
    c.line("GET cached:1");
    c.error("GET other", "NOPERM");
    c.error("AUTH bob x", "WRONGPASS");
    // CONFIG REWRITE writes the users as they are now.
    let mut admin = Conns::open(port, redis_port);
    admin.lines(&["ACL SETUSER carl on >pw +get ~c*", "ACL DELUSER bob", "CONFIG REWRITE"]);
    let user_lines = |conf: &std::path::Path| -> Vec<String> {
        let text = std::fs::read_to_string(conf).unwrap();
        text.lines().filter(|l| l.starts_with("user ")).map(str::to_string).collect()
    };
    let written = user_lines(&forkv_conf);
    assert_eq!(written, admin.same_acl_list());
    assert_eq!(written.len(), user_lines(&redis_conf).len());
    stop(forkv);
    let (forkv, port) =
        start_from_config(forkv_binary.as_os_str(), &forkv_conf, dir.path(), &[]).expect("forkv restarts");
    let mut after = Raw::connect(port);
    let listed: Vec<String> = after.cmd(&["ACL", "LIST"]).items().iter().map(Resp::text).collect();
    assert_eq!(listed, written);
    stop(forkv);
    stop(redis);
    // Both together with an aclfile is refused at startup.
    let both = dir.path().join("both.conf");
    std::fs::write(&both, format!("user x on\naclfile {}\n", dir.path().join("none.acl").display())).unwrap();
    assert!(start_from_config(forkv_binary.as_os_str(), &both, dir.path(), &[]).is_none());
}

#[test]
fn start_both_with_user_arguments() {
    let Some(dir) = RedisServer::available().then(|| tempfile::tempdir().unwrap()) else { return };
    let (_forkv, _redis, mut c) = start_both_with(dir.path(), &["--user", "cli", "on", "nopass", "+ping"]);
    c.same_acl_list();
    c.line("AUTH cli x");
    c.line("PING");
    c.error("GET k", "NOPERM");
}

/// Starts forkv in `dir` with `args` and waits until it answers PING.
fn spawn_forkv(dir: &std::path::Path, port: u16, args: &[&str]) -> std::process::Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("forkv.log")).unwrap();
    let child = common::forkv_command(dir, port, args, log).spawn().unwrap();
    assert!(helpers::wait_until(Duration::from_secs(20), || common::answers_ping(port)), "forkv did not start");
    child
}

#[test]
fn the_aof_replays_whatever_the_default_user_may_run_now() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut first = spawn_forkv(dir.path(), port, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = Raw::connect(port);
    assert_eq!(c.cmd(&["SET", "k", "v"]), Resp::ok());
    c.send(&["SHUTDOWN"]);
    assert!(wait_for_exit(&mut first).success());
    let port = common::free_port();
    let rules = ["--user", "default", "on", "nopass", "~*", "&*", "+@all", "-set"];
    let mut second = spawn_forkv(dir.path(), port, &[&["--appendonly", "yes"], &rules[..]].concat());
    let mut c = Raw::connect(port);
    assert_eq!(c.cmd(&["GET", "k"]), Resp::bulk("v"));
    assert_eq!(c.err(&["SET", "k", "w"]), "NOPERM this user has no permissions to run the 'set' command");
    let _ = second.kill();
    let _ = second.wait();
}

#[test]
fn selectors_and_read_write_key_patterns_as_acl_v2() {
    let Some((p, mut admin)) = start() else { return };
    let mut c = pair_conns(&p);
    admin.line("ACL SETUSER selector-1 on -@all resetkeys nopass");
    c.line("AUTH selector-1 password");
    c.error("PING", "NOPERM");
    admin.line("ACL SETUSER selector-1 (+@write ~write::*) (+@read ~read::*)");
    for line in ["PING", "SET write::foo bar", "GET read::foo", "GET write::foo", "SET read::foo bar"] {
        c.line(line);
    }
    admin.line("ACL SETUSER selector-default reset ()");
    admin.same_user("selector-default");
    admin.both(&["ACL", "SETUSER", "selector-del", "on", "(~added-selector)"]);
    admin.same_user("selector-del");
    admin.line("ACL SETUSER selector-del clearselectors");
    admin.same_user("selector-del");
    admin.lines(&[
        "ACL SETUSER selector-syntax on (this-is-invalid)",
        "ACL SETUSER selector-syntax on (&* &fail)",
        "ACL GETUSER selector-syntax",
    ]);
    admin.both(&["ACL", "SETUSER", "selector-2", "(~key1 +get )", "( ~key2 +get )", "( ~key3 +get)", "(~key4 +get)"]);
    admin.line("ACL SETUSER selector-2 (~key5 +get ) ( ~key6 +get ) ( ~key7 +get) (~key8 +get)");
    admin.same_user("selector-2");
    admin.both(&["ACL", "SETUSER", "invalid-selector", " () "]);
    admin.lines(&[
        "ACL SETUSER invalid-selector (",
        "ACL SETUSER invalid-selector )",
        "SET readstr bar",
        "SET read bar",
    ]);
    let sessions: &[(&str, &[&str])] = &[
        ("%R~read* +@all", &["GET readstr", "SET readstr bar", "GET notread"]),
        ("%W~write* +@all", &["LPUSH writelist 10", "GET writestr", "LPUSH notwrite 10"]),
        ("%R~read* %W~write* +@all", &["COPY read write", "COPY write read"]),
        ("(%R~read* +@all) (%W~write* +@all)", &["LPUSH writelist 10", "GET readstr", "COPY read write"]),
        ("%R~read* +@all", &["SET readstr bar GET", "SET readstr bar EX 100", "SET readstr bar KEEPTTL NX"]),
        ("%W~write* +@all", &["SET writestr bar", "SET writestr get", "SET get writestr", "SET writestr bar get"]),
        ("%W~write* +@all", &["SET writestr bar ex get", "SET writestr bar get keepttl nx"]),
        ("%RW~readwrite* +@all", &["SET readwrite_str bar ex get", "SET readwrite_str bar2 get"]),
        (
            "%R~read* +@all",
            &["BITFIELD readbits get u4 0", "BITFIELD readbits set u4 0 1", "BITFIELD readbits incrby u4 0 1"],
        ),
        ("%W~write* +@all", &["BITFIELD writebits get u4 0", "BITFIELD writebits set u4 0 1"]),
        (
            "+mget ~key (+mget ~key ~otherkey)",
            &["GET key", "MGET otherkey someotherkey", "MGET key otherkey someotherkey"],
        ),
    ];
    for (n, (rules, lines)) in sessions.iter().enumerate() {
        let user = format!("kp{n}");
        let mut args = vec!["ACL", "SETUSER", &user, "on", "nopass"];
        args.extend(rules.split(' '));
        admin.both(&args);
        admin.same_user(&user);
        c.both(&["AUTH", &user, "x"]);
        for line in lines.iter() {
            c.line(line);
        }
    }
    admin.same_acl_log("50");
    admin.line("ACL SETUSER selector-rw-info %R~foo %W~foo %RW~bar");
    admin.same_user("selector-rw-info");
    admin.line("ACL SETUSER command-test +@all %R~read* %W~write* %RW~rw*");
    for line in [
        "GET read",
        "SORT read STORE write",
        "SORT read STORE read",
        "SORT write STORE write",
        "EVAL x 1 rw1",
        "EVAL x 1 read",
        "EVAL_RO x 1 rw1",
        "EVAL_RO x 1 read",
        "EVAL x 0 read",
        "EVAL x -1 read",
        "EVAL x 3 rw rw",
        "EVAL x 3 rw read",
        "GEORADIUS read 0 0 1 M STOREDIST write",
        "GEORADIUS read1 0 0 1 M STOREDIST read2",
        "GEORADIUS write1 0 0 1 M STOREDIST write2",
        "GEORADIUS read 0 0 1 M STORE write",
        "GEORADIUS read1 0 0 1 M STORE read2",
        "HEXISTS read foo",
        "HEXISTS write foo",
        "HEXISTS nothing foo",
        "HSTRLEN write foo",
        "SISMEMBER write foo",
        "SINTERCARD 2 read read",
        "SINTERCARD 2 write read",
        "ZCOUNT write 0 1",
        "PFCOUNT read read",
        "PFCOUNT write read",
        "ZINTERCARD 2 nothing read",
        "TOUCH write",
        "EXISTS rw",
        "EXISTS nothing",
        "MEMORY USAGE write",
        "MEMORY USAGE nothing",
        "TYPE write",
        "OBJECT ENCODING write",
        "RENAME read write",
        "RENAME rw write",
        "SMOVE rw write m",
        "LMOVE read write LEFT RIGHT",
        "ZUNIONSTORE write 2 read rw",
        "ZUNIONSTORE read 2 read rw",
        "BITOP AND write read rw",
        "PFMERGE rw read",
        "DEL read",
        "APPEND write x",
    ] {
        let mut args = vec!["ACL", "DRYRUN", "command-test"];
        args.extend(line.split(' '));
        admin.both(&args);
    }
    admin.lines(&[
        "ACL SETUSER command-test -@all",
        "ACL DRYRUN command-test set somekey somevalue",
        "ACL DRYRUN command-test get somekey",
    ]);
    drop(p);
}

#[test]
fn channel_permissions_as_acl_tcl() {
    let Some((p, mut admin)) = start() else { return };
    admin.line("ACL SETUSER psuser on >pspass +acl +client +@pubsub");
    let mut c = pair_conns(&p);
    c.line("AUTH psuser pspass");
    for line in ["PUBLISH foo bar", "SPUBLISH foo bar", "SUBSCRIBE foo", "SSUBSCRIBE foo", "PSUBSCRIBE foo:*"] {
        c.line(line);
    }
    admin.line("ACL SETUSER psuser resetchannels &foo:1 &bar:* &orders");
    for line in ["PUBLISH foo:1 x", "PUBLISH bar:2 x", "PUBLISH zap x", "SPUBLISH orders x", "SPUBLISH zap x"] {
        c.line(line);
    }
    admin.line("ACL SETUSER hpuser on nopass resetchannels &foo +@all");
    admin.same_acl_list();
    admin.line("ACL DELUSER hpuser");
    admin.line("ACL SETUSER psuser +multi +discard");
    for line in ["PUBLISH notexits helloworld", "SUBSCRIBE notexits foo:1", "PSUBSCRIBE notexits:* bar:*"] {
        c.line("MULTI");
        c.line(line);
        c.line("DISCARD");
    }
    // Subscribing to what is allowed works; a pattern must match literally.
    let mut sub = pair_conns(&p);
    sub.lines(&[
        "AUTH psuser pspass",
        "CLIENT SETNAME pardoned",
        "SUBSCRIBE foo:1",
        "SSUBSCRIBE orders",
        "PSUBSCRIBE bar:*",
        "PSUBSCRIBE bar:1*",
    ]);
    // Kept while its subscriptions stay allowed, or on gaining allchannels.
    admin.line("ACL SETUSER psuser resetchannels &foo:1 &bar:* &orders &baz:qaz &zoo:*");
    admin.line("ACL SETUSER psuser allchannels");
    for r in [&mut admin.forkv, &mut admin.redis] {
        assert!(r.cmd(&["CLIENT", "LIST"]).text().contains("name=pardoned"));
    }
    // Revoking the pattern kills it.
    admin.line("ACL SETUSER psuser resetchannels &foo:1 &orders");
    sub.both_closed("a subscriber whose pattern was revoked");
    for (channel, revoke) in [("SUBSCRIBE foo:1", "&orders &bar:*"), ("SSUBSCRIBE orders", "&foo:1 &bar:*")] {
        admin.line("ACL SETUSER psuser allchannels");
        let mut s = pair_conns(&p);
        s.line("AUTH psuser pspass");
        s.line(channel);
        admin.line(&format!("ACL SETUSER psuser resetchannels {revoke}"));
        s.both_closed(channel);
    }
    drop(p);
}

#[test]
fn acl_pubsub_default_decides_new_users_channels() {
    let Some((p, mut admin)) = start() else { return };
    admin.line("CONFIG SET acl-pubsub-default allchannels");
    admin.line("CONFIG GET acl-pubsub-default");
    admin.line("ACL SETUSER open on >pw +@pubsub");
    admin.line("ACL SETUSER sel on >pw +@pubsub (+get ~k*)");
    admin.line("ACL SETUSER wiped on >pw reset +@pubsub");
    let mut c = pair_conns(&p);
    c.line("AUTH open pw");
    c.line("PUBLISH anything x");
    admin.line("CONFIG SET acl-pubsub-default resetchannels");
    admin.line("ACL SETUSER closed on >pw +@pubsub");
    c.line("AUTH closed pw");
    c.line("PUBLISH anything x");
    admin.same_acl_list();
    admin.line("CONFIG SET acl-pubsub-default sometimes");
    drop(p);
}

#[test]
fn command_rules_as_acl_tcl() {
    let Some((p, mut admin)) = start() else { return };
    admin.line("ACL SETUSER newuser on nopass ~* &* +@all");
    let mut c = pair_conns(&p);
    c.line("AUTH newuser zipzapblabla");
    let steps: &[(&str, &[&str])] = &[
        ("-ping", &["INCR mycounter", "PING"]),
        ("-@all +@set +acl", &["SADD myset a b c", "INCR mycounter"]),
        ("+@all -client", &["CLIENT GETNAME", "CLIENT KILL ID 9999"]),
        ("+client|getname +client|setname", &["CLIENT GETNAME", "CLIENT SETNAME foo", "CLIENT KILL ID 9999"]),
        ("+@all -client|kill", &["CLIENT GETNAME", "CLIENT KILL ID 9999"]),
        ("-client +client|getname +client|setname", &["CLIENT GETNAME", "CLIENT KILL ID 9999"]),
        ("-select +select|0", &["SELECT 0", "SELECT 1"]),
        ("+select|1", &["SELECT 1", "SELECT 2"]),
    ];
    for (rules, lines) in steps {
        let mut args = vec!["ACL", "SETUSER", "newuser"];
        args.extend(rules.split(' '));
        admin.both(&args);
        admin.same_user("newuser");
        for line in lines.iter() {
            c.line(line);
        }
    }
    for rules in
        ["+client|id|arg", "+client|id|arg|arg", "-client|id|arg", "+select|", "-select|0", "+@all -memory|doctor"]
    {
        let mut args = vec!["ACL", "SETUSER", "newuser"];
        args.extend(rules.split(' '));
        admin.both(&args);
    }
    admin.line("ACL SETUSER bob +memory|doctor");
    admin.same_user("bob");
    admin.line("ACL SETUSER bob +memory");
    admin.same_user("bob");
    admin.line("ACL SETUSER bob +@all +client|id");
    admin.same_user("bob");
    admin.line("ACL SETUSER alice on nopass +@all -memory|doctor");
    admin.same_user("alice");
    let mut a = pair_conns(&p);
    a.line("AUTH alice x");
    a.line("MEMORY DOCTOR");
    a.same_outcome("MEMORY STATS");
    admin.line("ACL SETUSER alice +@all -memory");
    admin.same_user("alice");
    a.same_outcome("MEMORY STATS");
    admin.line("ACL SETUSER alice -@all");
    admin.same_user("alice");
    admin.line("ACL SETUSER newuser reset +@all ~* -@string +incr -debug +debug|digest");
    admin.same_user("newuser");
    admin.line("ACL SETUSER newuser reset +@string -incr +acl +debug|digest +debug|segfault");
    admin.same_user("newuser");
    // A single category reads back as just that category (one forkv has
    // commands in: @stream has none yet).
    let categories: Vec<String> = admin.forkv.cmd(&["ACL", "CAT"]).items().iter().map(Resp::text).collect();
    for category in &categories {
        if admin.forkv.cmd(&["ACL", "CAT", category]).items().is_empty() {
            continue;
        }
        admin.both(&["ACL", "SETUSER", "additive", "reset", "+@all", &format!("-@{category}")]);
        admin.same_user("additive");
        admin.both(&["ACL", "SETUSER", "restrictive", "reset", "-@all", &format!("+@{category}")]);
        admin.same_user("restrictive");
    }
    admin.line("ACL SETUSER scripter on nopass +@read");
    for line in ["EVAL_RO x 0", "EVALSHA_RO x 0", "GET k"] {
        let mut args = vec!["ACL", "DRYRUN", "scripter"];
        args.extend(line.split(' '));
        admin.both(&args);
    }
    drop(p);
}

#[test]
fn acl_log_as_acl_tcl() {
    let Some((p, mut admin)) = start() else { return };
    admin.line("ACL SETUSER antirez on >foo +set ~object:* &chan +eval +multi +exec +incr");
    let mut c = pair_conns(&p);
    c.lines(&[
        "AUTH antirez foo",
        "GET foo",
        "GET foo",
        "GET foo",
        "SCRIPT HELP",
        "SET somekeynotallowed 1234",
        "PUBLISH somechannelnotallowed nullmsg",
    ]);
    admin.same_acl_log("10");
    admin.line("ACL LOG RESET");
    admin.line("ACL LOG");
    c.lines(&["MULTI", "INCR foo", "EXEC", "MULTI", "INCR object:1234"]);
    admin.line("ACL SETUSER antirez -incr");
    c.line("EXEC");
    c.both(&["EVAL", "redis.call('incr','foo')", "0"]);
    c.line("AUTH antirez wrong-password");
    c.line("AUTH nosuchuser wrong-password");
    admin.same_acl_log("10");
    admin.same_acl_log("2");
    admin.same_acl_log("-1");
    admin.lines(&["ACL LOG notanumber", "ACL LOG RESET", "CONFIG SET acllog-max-len 5"]);
    for j in 0..10 {
        c.both(&["SET", &format!("obj:{j}"), "123"]);
    }
    admin.same_acl_log("100");
    admin.line("CONFIG GET acllog-max-len");
    drop(p);
}

#[test]
fn the_default_user_off_or_powerless() {
    let Some((p, mut admin)) = start() else { return };
    admin.line("ACL SETUSER default off");
    let mut c = pair_conns(&p);
    c.line("PING");
    c.line("AUTH default x");
    admin.line("ACL SETUSER default on");
    c.line("PING");
    admin.line("ACL SETUSER secure-user >supass on +@all");
    admin.line("ACL SETUSER default -@all");
    let mut d = pair_conns(&p);
    d.line("PING");
    for r in [&mut d.forkv, &mut d.redis] {
        assert!(matches!(r.cmd(&["HELLO", "2", "AUTH", "secure-user", "supass"]), Resp::Array(_)));
    }
    d.line("ACL WHOAMI");
    d.line("ACL SETUSER default nopass +@all");
    drop(p);
}

#[test]
fn duplicate_users_are_refused() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--user", "foo", "--user", "foo"][..], &["--user", "default", "--user", "default"]] {
        let mut child = common::forkv_command(
            dir.path(),
            common::free_port(),
            args,
            std::fs::File::create(dir.path().join("dup.log")).unwrap(),
        )
        .spawn()
        .unwrap();
        assert!(!wait_for_exit(&mut child).success(), "{args:?}");
        let log = std::fs::read_to_string(dir.path().join("dup.log")).unwrap();
        assert!(log.contains("Duplicate user"), "{log}");
    }
    let (forkv_file, redis_file) = (dir.path().join("f.acl"), dir.path().join("r.acl"));
    let good = "user alice on nopass ~* +@all\nuser bob on nopass ~* -@all\nuser default on nopass ~* &* +@all\n";
    for f in [&forkv_file, &redis_file] {
        std::fs::write(f, good).unwrap();
    }
    let forkv = Server::start_with(&["--save", "", "--aclfile", forkv_file.to_str().unwrap()]);
    let (redis, _) = RedisServer::start(dir.path(), &["--aclfile", redis_file.to_str().unwrap()]);
    let mut c = Conns::open(forkv.port, redis.port);
    for extra in ["user alice on nopass ~* -@all", "user default on nopass ~* -@all"] {
        for f in [&forkv_file, &redis_file] {
            std::fs::write(f, format!("{good}{extra}\n")).unwrap();
        }
        let (f, r) = (c.forkv.cmd(&["ACL", "LOAD"]).text(), c.redis.cmd(&["ACL", "LOAD"]).text());
        assert_eq!(f, r);
        c.same_user("alice");
        c.same_acl_list();
    }
}
