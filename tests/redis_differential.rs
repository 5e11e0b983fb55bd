//! The same random commands sent to forkv and to Debian's redis-server
//! (7.0) must get the same replies, byte for byte: reply types, error
//! texts, the order of argument checks, float formatting. The commands
//! come from a small grammar over a few keys, members, numbers and option
//! words, so types collide, errors are common and encodings convert.
//! Every command is followed by an ECHO so that a command answering twice
//! (or not at all) is caught where it happens; one seed runs in RESP3.
//! Skips with a note when redis-server is not installed.

mod aof_support;
mod common;
mod helpers;

use aof_support::{RedisServer, Rng};
use common::Server;
use helpers::{wait_until, Raw, Resp};
use std::time::Duration;

const KEYS: &[&str] = &["k1", "k2", "k3", "s1", "s2", "z1", "z2", "h1", "l1", "l2"];
const MEMBERS: &[&str] = &["a", "b", "c", "1", "2", "-1", "3.5", "10", "", "xyz"];
const NUMBERS: &[&str] = &[
    "-0",
    "00",
    "1.",
    ".5",
    "1e308",
    "-1e-320",
    "0x1p-1074",
    "-100",
    "100",
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "-5",
    "1.5",
    "-2.5",
    "inf",
    "-inf",
    "+inf",
    "abc",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "(1",
    "(2",
    "[a",
    "(b",
    "-",
    "+",
    "1e2",
    "0.0",
    " 1",
    "nan",
    "0x10",
    "7",
    "63",
];
const WORDS: &[&str] = &[
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "WITHSCORES",
    "LIMIT",
    "BYSCORE",
    "BYLEX",
    "REV",
    "KEEPTTL",
    "GET",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "PERSIST",
    "BEFORE",
    "AFTER",
    "LEFT",
    "RIGHT",
    "COUNT",
    "RANK",
    "MAXLEN",
    "AGGREGATE",
    "WEIGHTS",
    "SUM",
    "MIN",
    "MAX",
    "MATCH",
    "TYPE",
    "REPLACE",
    "DB",
    "BIT",
    "BYTE",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "SET",
    "INCRBY",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "u1",
    "u8",
    "u63",
    "i5",
    "i8",
    "i64",
    "#1",
    "#3",
];
/// Deterministic commands (no randomness, no blocking, no server state
/// such as INFO or clients).
const COMMANDS: &[&str] = &[
    "watch",
    "unwatch",
    "hset",
    "hsetnx",
    "hmset",
    "hget",
    "hmget",
    "hdel",
    "hexists",
    "hlen",
    "hstrlen",
    "hkeys",
    "hvals",
    "hgetall",
    "hincrby",
    "hincrbyfloat",
    "del",
    "unlink",
    "exists",
    "touch",
    "type",
    "rename",
    "renamenx",
    "keys",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "ttl",
    "expiretime",
    "persist",
    "dbsize",
    "copy",
    "lpush",
    "rpush",
    "lpushx",
    "rpushx",
    "lpop",
    "rpop",
    "llen",
    "lrange",
    "lindex",
    "lset",
    "lrem",
    "ltrim",
    "linsert",
    "lpos",
    "lmove",
    "rpoplpush",
    "lmpop",
    "sadd",
    "srem",
    "smembers",
    "sismember",
    "smismember",
    "scard",
    "smove",
    "sinter",
    "sintercard",
    "sunion",
    "sdiff",
    "sinterstore",
    "sunionstore",
    "sdiffstore",
    "get",
    "set",
    "setnx",
    "setex",
    "psetex",
    "mget",
    "mset",
    "msetnx",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "incrbyfloat",
    "append",
    "strlen",
    "getrange",
    "substr",
    "setrange",
    "getset",
    "getdel",
    "getex",
    "setbit",
    "getbit",
    "bitcount",
    "bitpos",
    "bitop",
    "bitfield",
    "bitfield_ro",
    "pfadd",
    "pfcount",
    "pfmerge",
    "zadd",
    "zincrby",
    "zrem",
    "zscore",
    "zmscore",
    "zcard",
    "zcount",
    "zlexcount",
    "zrank",
    "zrevrank",
    "zrange",
    "zrangestore",
    "zrangebyscore",
    "zrevrangebyscore",
    "zrangebylex",
    "zrevrangebylex",
    "zrevrange",
    "zremrangebyrank",
    "zremrangebyscore",
    "zremrangebylex",
    "zpopmin",
    "zpopmax",
    "zmpop",
    "zunionstore",
    "zinterstore",
    "zdiffstore",
    "zunion",
    "zinter",
    "zdiff",
    "zintercard",
    "echo",
    "ping",
];
/// Replies whose order is the server's hash order, not a contract.
const UNORDERED: &[&str] = &["smembers", "sinter", "sunion", "sdiff", "keys", "hkeys", "hvals"];

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len() as u64) as usize]
}

fn random_argument(rng: &mut Rng) -> String {
    match rng.below(20) {
        0..=5 => pick(rng, KEYS),
        6..=10 => pick(rng, MEMBERS),
        11..=16 => pick(rng, NUMBERS),
        _ => pick(rng, WORDS),
    }
    .to_string()
}

/// A collection big or long enough to change encoding (listpack → hash
/// table, intset → set, …).
fn bulk_insert(rng: &mut Rng) -> Vec<String> {
    let command = pick(rng, &["sadd", "rpush", "hset", "zadd"]);
    let mut args = vec![command.to_string(), pick(rng, KEYS).to_string()];
    for _ in 0..1 + rng.below(140) {
        if command == "zadd" {
            args.push((rng.below(11) as i64 - 5).to_string());
        }
        args.push(match rng.below(4) {
            0 => pick(rng, MEMBERS).to_string(),
            1 => format!("m{}", rng.below(300)),
            2 => rng.below(1000).to_string(),
            _ => "x".repeat(1 + rng.below(80) as usize),
        });
        if command == "hset" {
            args.push(pick(rng, MEMBERS).to_string());
        }
    }
    args
}

/// A bitmap command of the right shape with random parts: random
/// arguments alone rarely make a well-formed SETBIT or BITFIELD.
fn bitmap_command(rng: &mut Rng) -> Vec<String> {
    const OFFSETS: &[&str] = &["0", "1", "7", "8", "13", "63", "100", "#1", "#3", "-1", "x"];
    const VALUES: &[&str] = &["0", "1", "-1", "3", "100", "255", "-128", "9223372036854775807", "-9223372036854775808"];
    const INDEXES: &[&str] = &["0", "-1", "1", "-2", "3", "7", "100", "-100", "x"];
    let mut args: Vec<&str> = vec![];
    match rng.below(5) {
        0 => args.extend(["setbit", pick(rng, KEYS), pick(rng, OFFSETS), pick(rng, &["0", "1", "1", "2"])]),
        1 => args.extend(["getbit", pick(rng, KEYS), pick(rng, OFFSETS)]),
        2 => {
            args.extend([pick(rng, &["bitcount", "bitpos"]), pick(rng, KEYS)]);
            if args[0] == "bitpos" {
                args.push(pick(rng, &["0", "1", "1", "2"]));
            }
            let range = [pick(rng, INDEXES), pick(rng, INDEXES), pick(rng, &["BIT", "BYTE", "bit", "x"])];
            args.extend(&range[..rng.below(4) as usize]);
        }
        3 => {
            args.extend(["bitop", pick(rng, &["AND", "OR", "XOR", "NOT", "nand"]), pick(rng, KEYS)]);
            args.extend((0..1 + rng.below(3)).map(|_| pick(rng, KEYS)));
        }
        _ => {
            args.extend([pick(rng, &["bitfield", "bitfield", "bitfield_ro"]), pick(rng, KEYS)]);
            for _ in 0..1 + rng.below(4) {
                let kind = pick(rng, &["u1", "u8", "u63", "i5", "i8", "i64", "u64"]);
                match pick(rng, &["GET", "SET", "INCRBY", "OVERFLOW"]) {
                    "OVERFLOW" => args.extend(["OVERFLOW", pick(rng, &["WRAP", "SAT", "FAIL", "x"])]),
                    "GET" => args.extend(["GET", kind, pick(rng, OFFSETS)]),
                    sub => args.extend([sub, kind, pick(rng, OFFSETS), pick(rng, VALUES)]),
                }
            }
        }
    }
    args.into_iter().map(String::from).collect()
}

fn random_command(rng: &mut Rng) -> Vec<String> {
    match rng.below(100) {
        0..=3 => return vec!["object".into(), "encoding".into(), pick(rng, KEYS).into()],
        4 => return vec![pick(rng, &["multi", "exec", "discard"]).into()],
        5 => return vec!["select".into(), pick(rng, &["0", "1", "16", "x"]).into()],
        6 => return vec!["swapdb".into(), pick(rng, &["0", "1", "x"]).into(), pick(rng, &["0", "1", "-1"]).into()],
        7 => return vec!["move".into(), pick(rng, KEYS).into(), pick(rng, &["0", "1", "x"]).into()],
        8..=9 => return bulk_insert(rng),
        10..=13 => return bitmap_command(rng),
        _ => {}
    }
    let command = pick(rng, COMMANDS);
    let extra = [0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7][rng.below(14) as usize];
    let mut args = vec![command.to_string()];
    if extra > 0 {
        args.push(pick(rng, KEYS).to_string());
    }
    for _ in 1..extra {
        args.push(random_argument(rng));
    }
    // A short TTL could run out between the two servers' clocks.
    let long_ttl = match command {
        "expire" | "pexpire" | "setex" | "psetex" | "set" | "getex" => "100000",
        "expireat" | "pexpireat" => "99999999999",
        _ => return args,
    };
    for a in args.iter_mut().skip(2) {
        if a.trim_start_matches('-').bytes().all(|c| c.is_ascii_digit()) && !a.trim_start_matches('-').is_empty() {
            *a = long_ttl.to_string();
        }
    }
    args
}

/// The reply with what is not a contract taken out: hash order.
fn comparable(command: &str, reply: Resp) -> Resp {
    match (command, reply) {
        (c, Resp::Array(mut items)) if UNORDERED.contains(&c) => {
            items.sort_by_key(|i| format!("{i:?}"));
            Resp::Array(items)
        }
        // RESP3 answers SMEMBERS and friends with a set.
        (c, Resp::Set(mut items)) if UNORDERED.contains(&c) => {
            items.sort_by_key(|i| format!("{i:?}"));
            Resp::Set(items)
        }
        ("hgetall", Resp::Array(items)) => {
            let mut pairs: Vec<_> = items.chunks(2).map(|p| p.to_vec()).collect();
            pairs.sort_by_key(|p| format!("{p:?}"));
            Resp::Array(pairs.concat())
        }
        ("hgetall", Resp::Map(mut pairs)) => {
            pairs.sort_by_key(|p| format!("{p:?}"));
            Resp::Map(pairs)
        }
        (_, reply) => reply,
    }
}

/// `protocol` is 2 or 3 (RESP3's maps, sets, doubles and nulls).
fn run(seed: u64, protocol: &str, commands: usize, forkv: &mut Raw, redis: &mut Raw) {
    let mut rng = Rng::new(seed);
    for c in [&mut *forkv, &mut *redis] {
        // Out of any transaction the last run left open, back to db 0.
        c.cmd(&["DISCARD"]);
        assert!(matches!(c.cmd(&["HELLO", protocol]), Resp::Map(_) | Resp::Array(_)));
        assert_eq!(c.cmd(&["SELECT", "0"]), Resp::ok());
        assert_eq!(c.cmd(&["FLUSHALL"]), Resp::ok());
    }
    for i in 0..commands {
        let args = random_command(&mut rng);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let marker = format!("m{i}");
        let mut replies = vec![];
        for c in [&mut *forkv, &mut *redis] {
            c.send(&args);
            c.send(&["ECHO", &marker]);
            replies.push((c.read(), c.read()));
        }
        let (forkv_reply, forkv_echo) = replies.remove(0);
        let (redis_reply, redis_echo) = replies.remove(0);
        assert_eq!(
            forkv_echo, redis_echo,
            "seed {seed}, command {i}: {args:?} answered a different number of times\nforkv: {forkv_reply:?}\nredis: {redis_reply:?}"
        );
        assert_eq!(
            comparable(args[0], forkv_reply),
            comparable(args[0], redis_reply),
            "seed {seed}, command {i}: {args:?}"
        );
    }
}

/// forkv and redis-server side by side, persistence off, DEBUG allowed on
/// both (forkv allows it by default); None when redis-server is not
/// installed. Dropped in order: the servers before redis-server's directory.
fn start_pair() -> Option<(Server, RedisServer, tempfile::TempDir)> {
    if !RedisServer::available() {
        return None;
    }
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (redis_server, _) = RedisServer::start(dir.path(), &["--appendonly", "no", "--enable-debug-command", "yes"]);
    Some((server, redis_server, dir))
}

#[test]
fn random_commands_get_the_same_replies_as_redis_server() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let mut forkv = Raw::connect(server.port);
    let mut redis = Raw::connect(redis_server.port);
    for (seed, protocol) in [(1, "2"), (2, "2"), (3, "3")] {
        run(seed, protocol, 8_000, &mut forkv, &mut redis);
    }
    // And one seed that changes from run to run (printed for a replay).
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("random seed {seed}");
    run(seed, "2", 8_000, &mut forkv, &mut redis);
}

/// INFO's text with the timing fields taken out.
fn info_without_timings(c: &mut Raw, section: &str) -> Vec<String> {
    let text = c.cmd(&["INFO", section]).text();
    text.lines().map(|l| l.split(',').filter(|f| !f.starts_with("usec")).collect::<Vec<_>>().join(",")).collect()
}

#[test]
fn info_commandstats_and_errorstats_count_as_redis_server_does() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let script: &[&[&str]] = &[
        &["SET", "a", "1"],
        &["GET", "a"],
        &["GET"],
        &["LPUSH", "a", "x"],
        &["CLIENT", "ID"],
        &["CLIENT", "NOSUCH"],
        &["CONFIG", "GET", "maxmemory"],
        &["NOSUCHCOMMAND"],
        &["OBJECT", "ENCODING", "a"],
        &["INCR", "a"],
        &["SET", "a", "x"],
        &["INCR", "a"],
        &["MULTI"],
        &["SET", "b", "1"],
        &["GET"],
        &["EXEC"],
    ];
    let mut seen = vec![];
    for port in [server.port, redis_server.port] {
        let mut c = Raw::connect(port);
        assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), Resp::ok());
        for args in script {
            c.cmd(args);
        }
        let mut commandstats = info_without_timings(&mut c, "commandstats");
        commandstats.sort();
        let errorstats = info_without_timings(&mut c, "errorstats");
        let total_errors: Vec<String> =
            info_without_timings(&mut c, "stats").into_iter().filter(|l| l.contains("error_replies:")).collect();
        let sections = |c: &mut Raw, arg: &[&str]| -> Vec<String> {
            c.cmd(arg).text().lines().filter(|l| l.starts_with('#')).map(str::to_string).collect()
        };
        let default_sections = sections(&mut c, &["INFO"]);
        let all_sections = sections(&mut c, &["INFO", "all"]);
        seen.push((commandstats, errorstats, total_errors, default_sections, all_sections));
    }
    let (forkv, redis) = (&seen[0], &seen[1]);
    assert!(forkv.0.len() > 10 && forkv.2.len() == 2, "{forkv:?}");
    assert_eq!(forkv.0, redis.0, "INFO commandstats");
    assert_eq!(forkv.1, redis.1, "INFO errorstats");
    assert_eq!(forkv.2, redis.2, "error reply totals");
    assert_eq!(forkv.3, redis.3, "INFO's default sections");
    // `all` adds Commandstats and Latencystats.
    assert!(forkv.4.contains(&"# Latencystats".to_string()), "{:?}", forkv.4);
    assert_eq!(forkv.4, redis.4, "INFO all's sections");
}

/// The slow log's arguments and client names, newest first (ids, times,
/// durations and ports differ between the servers).
fn slowlog_entries(c: &mut Raw) -> Vec<(Vec<Resp>, Resp)> {
    let entries = c.cmd(&["SLOWLOG", "GET", "-1"]);
    entries.items().iter().map(|e| (e.items()[3].items().to_vec(), e.items()[5].clone())).collect()
}

#[test]
fn slowlog_keeps_what_redis_server_keeps() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let long = "x".repeat(200);
    let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut rpush = vec!["RPUSH", "list"];
    rpush.extend(many.iter().map(String::as_str));
    let mut seen = vec![];
    for port in [server.port, redis_server.port] {
        let mut c = Raw::connect(port);
        assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), Resp::ok());
        assert_eq!(c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), Resp::ok());
        assert_eq!(c.cmd(&["CLIENT", "SETNAME", "tester"]), Resp::ok());
        c.cmd(&["SET", "k", &long]);
        c.cmd(&rpush);
        c.cmd(&["AUTH", "nobody", "secret"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["INCR", "n"]);
        c.cmd(&["EXEC"]);
        let entries = slowlog_entries(&mut c);
        assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), Resp::Int(entries.len() as i64 + 1), "SLOWLOG GET is logged too");
        assert_eq!(c.cmd(&["CONFIG", "SET", "slowlog-max-len", "2"]), Resp::ok());
        c.cmd(&["PING"]);
        assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), Resp::Int(2));
        assert_eq!(c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]), Resp::ok());
        assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), Resp::ok());
        c.cmd(&["PING"]);
        assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), Resp::Int(0), "-1 turns the log off");
        assert_eq!(c.err(&["SLOWLOG", "GET", "-2"]), "ERR count should be greater than or equal to -1");
        seen.push(entries);
    }
    assert!(seen[0].len() >= 6, "{:?}", seen[0]);
    assert_eq!(seen[0], seen[1]);
}

/// LATENCY DOCTOR's text with the measured numbers masked.
fn doctor_masked(c: &mut Raw) -> String {
    c.cmd(&["LATENCY", "DOCTOR"]).text().chars().map(|ch| if ch.is_ascii_digit() { '#' } else { ch }).collect()
}

#[test]
fn latency_monitor_reports_as_redis_server_does() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let mut clients = [Raw::connect(server.port), Raw::connect(redis_server.port)];
    let mut seen = vec![vec![]; 2];
    let mut record = |i: usize, what: String| seen[i].push(what);
    for (i, c) in clients.iter_mut().enumerate() {
        record(i, c.cmd(&["LATENCY", "DOCTOR"]).text());
        assert_eq!(c.cmd(&["LATENCY", "LATEST"]), Resp::Array(vec![]));
        // 25 ms: no ordinary command of this test comes near it.
        assert_eq!(c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "25"]), Resp::ok());
        record(i, c.cmd(&["LATENCY", "DOCTOR"]).text());
        record(i, format!("{:?}", c.cmd(&["LATENCY", "HELP"])));
        record(i, c.err(&["LATENCY", "GRAPH", "command"]));
        record(i, c.err(&["LATENCY", "NOSUCH"]));
        record(i, c.err(&["LATENCY", "LATEST", "extra"]));
        record(i, c.err(&["CONFIG", "SET", "latency-monitor-threshold", "-1"]));
    }
    // Three slow commands, each in a second of its own.
    for millis in [40, 80, 160] {
        for c in clients.iter_mut() {
            assert_eq!(c.cmd(&["DEBUG", "SLEEP", &format!("0.{millis:03}")]), Resp::ok());
        }
        std::thread::sleep(Duration::from_millis(1100));
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let history = c.cmd(&["LATENCY", "HISTORY", "command"]);
        let latencies: Vec<i64> = history.items().iter().map(|s| s.items()[1].int()).collect();
        assert_eq!(latencies.len(), 3, "one sample a second: {history:?}");
        for (got, slept) in latencies.iter().zip([40, 80, 160]) {
            assert!((slept..slept + 40).contains(got), "slept {slept} ms, sampled {got}");
        }
        let latest = c.cmd(&["LATENCY", "LATEST"]);
        let command = latest.items().iter().find(|e| e.items()[0].text() == "command").expect("command event");
        assert_eq!(command.items()[2].int(), latencies[2], "LATEST is the last sample");
        assert_eq!(command.items()[3].int(), latencies[2], "and the worst so far");
        let graph = c.cmd(&["LATENCY", "GRAPH", "command"]).text();
        let lines: Vec<&str> = graph.lines().collect();
        assert!(lines[0].starts_with("command - high "), "{graph}");
        // Title, rule, four rows of bars, a blank line, then the labels
        // ("3s", "2s", "1s"…) written downwards.
        assert_eq!(lines[1], "-".repeat(80));
        assert_eq!(lines.len(), 9, "{graph}");
        assert_eq!(lines[8], "sss", "{graph}");
        record(i, doctor_masked(c));
        record(i, format!("{:?}", c.cmd(&["LATENCY", "RESET", "COMMAND", "nosuch"])));
        record(i, format!("{:?}", c.cmd(&["LATENCY", "HISTORY", "command"])));
    }
    assert!(seen[0][7].contains("#. command: # latency spikes"), "{}", seen[0][7]);
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn debug_populate_answers_as_redis_server_does() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let script: &[&[&str]] = &[
        &["DEBUG", "POPULATE", "-5"],
        &["DEBUG", "POPULATE", "abc"],
        &["DEBUG", "POPULATE", "5", "k", "-1"],
        &["DEBUG", "POPULATE", "5", "k", "x"],
        &["DEBUG", "POPULATE", "0"],
        &["DEBUG", "POPULATE", "3000", "k", "4"],
        &["GET", "k:2999"],
        &["DEBUG", "POPULATE", "10", "k"],
        &["DBSIZE"],
    ];
    let mut replies = vec![];
    let mut tables = vec![];
    for port in [server.port, redis_server.port] {
        let mut c = Raw::connect(port);
        let empty = c.cmd(&["DEBUG", "HTSTATS", "1"]);
        replies.push(script.iter().map(|args| c.cmd(args)).collect::<Vec<_>>());
        let filled = htstats_outline(&mut c);
        // Into a db that holds keys: one rehash straight to the size.
        c.cmd(&["DEBUG", "POPULATE", "200000", "k"]);
        let grown = htstats_outline(&mut c);
        let errors: Vec<Resp> = ["abc", "16", "-1"].iter().map(|db| c.cmd(&["DEBUG", "HTSTATS", db])).collect();
        tables.push((empty, filled, grown, errors));
    }
    assert_eq!(replies[0][0], Resp::err("ERR value is out of range, must be positive"));
    assert_eq!(replies[0], replies[1]);
    assert!(tables[0].2.contains(&" table size: 262144".to_string()), "{:?}", tables[0].2);
    assert_eq!(tables[0], tables[1], "DEBUG HTSTATS");
}

/// DEBUG HTSTATS 0 without the lines that depend on the hash function
/// (slots used, chain lengths).
fn htstats_outline(c: &mut Raw) -> Vec<String> {
    let text = c.cmd(&["DEBUG", "HTSTATS", "0"]).text();
    let kept = ["[", "Hash table", " table size", " number of elements", "No stats"];
    text.lines().filter(|l| kept.iter().any(|k| l.starts_with(k))).map(str::to_string).collect()
}

/// The slot tops Redis reports LATENCY HISTOGRAM buckets under (µs).
const HISTOGRAM_KEYS: &[i64] = &[
    1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532, 541065, 1073741,
];

/// A LATENCY HISTOGRAM reply (RESP2) as (command, calls), sorted, after
/// checking each distribution: keys among Redis's slot tops, counts
/// rising, the last one all the calls. The keys depend on timing.
fn histograms(reply: &Resp) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = reply
        .items()
        .chunks(2)
        .map(|pair| {
            let name = pair[0].text();
            let fields = pair[1].items();
            assert_eq!((fields[0].text().as_str(), fields[2].text().as_str()), ("calls", "histogram_usec"));
            let calls = fields[1].int();
            let buckets: Vec<(i64, i64)> = fields[3].items().chunks(2).map(|b| (b[0].int(), b[1].int())).collect();
            assert!(buckets.iter().all(|(k, _)| HISTOGRAM_KEYS.contains(k)), "{name}: {buckets:?}");
            assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{name}: {buckets:?}");
            assert_eq!(buckets.last().map(|b| b.1), Some(calls), "{name}: {buckets:?}");
            (name, calls)
        })
        .collect();
    out.sort();
    out
}

/// INFO latencystats as (field, value) pairs sorted by field.
/// Expiring a key whose deletion takes time shows as Redis's expire-cycle
/// and expire-del events (threshold 1 ms; a 300k-member set).
#[test]
fn expiring_a_big_key_is_a_latency_event() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "1"]);
    let script = "for i = 1, tonumber(ARGV[1]) do redis.call('sadd', KEYS[1], i) end";
    c.cmd(&["EVAL", script, "1", "big", "300000"]);
    assert_eq!(c.cmd(&["PEXPIRE", "big", "50"]), Resp::Int(1));
    assert!(wait_until(Duration::from_secs(5), || c.cmd(&["DBSIZE"]) == Resp::Int(0)), "never expired");
    let latest = c.cmd(&["LATENCY", "LATEST"]);
    let events: Vec<String> = latest.items().iter().map(|e| e.items()[0].text()).collect();
    assert!(events.iter().any(|e| e == "expire-cycle"), "{events:?}");
    assert!(events.iter().any(|e| e == "expire-del"), "{events:?}");
}

fn latencystats(c: &mut Raw) -> Vec<(String, String)> {
    let text = c.cmd(&["INFO", "latencystats"]).text();
    let mut fields: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(field, value)| (field.to_string(), value.to_string()))
        .collect();
    fields.sort();
    fields
}

/// `p50=1.003,p99=2.007` → the percentile names, each value checked for
/// Redis's three decimals.
fn percentile_names(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|p| {
            let (name, usec) = p.split_once('=').unwrap_or_else(|| panic!("{value}"));
            let (whole, decimals) = usec.split_once('.').unwrap_or_else(|| panic!("{value}"));
            assert!(whole.parse::<u64>().is_ok() && decimals.len() == 3, "{value}");
            name.to_string()
        })
        .collect()
}

#[test]
fn latency_histograms_answer_as_redis_server_does() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let script: &[&[&str]] = &[
        &["SET", "a", "1"],
        &["SET", "a", "2"],
        &["GET", "a"],
        &["GET"],
        &["LPUSH", "l", "x"],
        &["CONFIG", "GET", "maxmemory"],
        &["CLIENT", "ID"],
        &["MULTI"],
        &["SET", "b", "1"],
        &["EXEC"],
        &["DEBUG", "SLEEP", "0.002"],
    ];
    let mut seen = vec![];
    for port in [server.port, redis_server.port] {
        let mut c = Raw::connect(port);
        assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), Resp::ok());
        for args in script {
            c.cmd(args);
        }
        let all = histograms(&c.cmd(&["LATENCY", "HISTOGRAM"]));
        let some = histograms(&c.cmd(&["LATENCY", "HISTOGRAM", "set", "CONFIG|GET", "client", "nosuch"]));
        let stats = latencystats(&mut c);
        let names: Vec<String> = stats.iter().map(|(f, _)| f.clone()).collect();
        let percentiles: Vec<Vec<String>> = stats.iter().map(|(_, v)| percentile_names(v)).collect();
        let mut defaults: Vec<(String, String)> = c
            .cmd(&["CONFIG", "GET", "latency-tracking*"])
            .items()
            .chunks(2)
            .map(|p| (p[0].text(), p[1].text()))
            .collect();
        defaults.sort();
        let set = c.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", "0 100"]);
        let custom: Vec<Vec<String>> = latencystats(&mut c).iter().map(|(_, v)| percentile_names(v)).collect();
        let errors = [
            c.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", "101"]),
            c.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", "50 abc"]),
            c.cmd(&["CONFIG", "GET", "latency-tracking-info-percentiles"]),
        ];
        // Off: INFO shows the bare header and calls are no longer added.
        c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
        c.cmd(&["SET", "a", "3"]);
        let off = (c.cmd(&["INFO", "latencystats"]).text(), histograms(&c.cmd(&["LATENCY", "HISTOGRAM", "set"])));
        seen.push((all, some, names, percentiles, defaults, set, custom, errors, off));
    }
    let (forkv, redis) = (&seen[0], &seen[1]);
    assert!(forkv.0.contains(&("set".into(), 3)) && forkv.0.contains(&("debug".into(), 1)), "{:?}", forkv.0);
    assert_eq!(forkv.0, redis.0, "LATENCY HISTOGRAM");
    assert_eq!(forkv.1, redis.1, "LATENCY HISTOGRAM set CONFIG|GET client nosuch");
    assert_eq!(forkv.2, redis.2, "INFO latencystats fields");
    assert_eq!(forkv.3, redis.3, "INFO latencystats percentiles");
    assert_eq!(forkv.4, redis.4, "CONFIG GET latency-tracking*");
    assert_eq!(forkv.5, redis.5, "CONFIG SET latency-tracking-info-percentiles");
    assert_eq!(forkv.6, redis.6, "INFO latencystats with custom percentiles");
    assert_eq!(forkv.7, redis.7, "bad percentiles");
    assert_eq!(forkv.8, redis.8, "latency-tracking no");
}

#[test]
fn command_getkeys_finds_the_keys_redis_server_finds() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let mut forkv = Raw::connect(server.port);
    let mut redis = Raw::connect(redis_server.port);
    let lines = [
        "ZUNIONSTORE d 2 a b WEIGHTS 1 2",
        "ZINTERSTORE d 1 a",
        "ZDIFFSTORE d 3 a b",
        "ZDIFFSTORE d 0 a",
        "ZDIFFSTORE d x a",
        "ZUNION 2 a b",
        "ZINTER -1 a",
        "ZDIFF 1 a",
        "ZINTERCARD 2 a b LIMIT 3",
        "SINTERCARD 1 a",
        "LMPOP 2 a b LEFT",
        "BLMPOP 0 2 a b RIGHT COUNT 2",
        "ZMPOP 1 a MIN",
        "BZMPOP 1 3 a b MAX",
        "EVAL s 1 k a",
        "EVAL s 0",
        "EVALSHA_RO s 5 k",
        "OBJECT ENCODING k",
        "OBJECT FREQ k x",
        "OBJECT HELP",
        "OBJECT NOSUCH k",
        "MEMORY USAGE k SAMPLES 0",
        "MEMORY USAGE",
        "MEMORY STATS",
        "SET a b",
        "MSET a 1 b 2",
        "GET a b",
        "PING x",
        "NOSUCH a",
        "GET",
    ];
    for line in lines {
        let args: Vec<&str> = ["COMMAND", "GETKEYS"].into_iter().chain(line.split(' ')).collect();
        assert_eq!(forkv.cmd(&args), redis.cmd(&args), "COMMAND GETKEYS {line}");
    }
}

/// A MONITOR line with its time and the client's port masked.
fn monitor_line_masked(reply: Resp) -> String {
    let line = reply.text();
    let (time, rest) = line.split_once(' ').expect("time first");
    assert!(time.split_once('.').is_some_and(|(s, us)| s.parse::<u64>().is_ok() && us.len() == 6), "{line}");
    let (db_addr, args) = rest.split_once("] ").expect("[db addr]");
    let (db, addr) = db_addr.trim_start_matches('[').split_once(' ').expect("db and addr");
    assert!(addr.starts_with("127.0.0.1:") || addr == "lua", "{line}");
    let from = if addr == "lua" { " lua" } else { "" };
    format!("[{db}{from}] {args}")
}

#[test]
fn monitor_shows_what_redis_server_shows() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let mut seen = Vec::new();
    for port in [server.port, redis_server.port] {
        let mut monitor = Raw::connect(port);
        assert_eq!(monitor.cmd(&["MONITOR"]), Resp::ok());
        let mut c = Raw::connect(port);
        c.cmd(&["SET", "k", "a b"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["INCR", "n"]);
        c.cmd(&["MONITOR"]);
        // MONITOR inside EXEC is refused: EXEC's client wants one reply per command.
        let exec = c.cmd(&["EXEC"]);
        assert_eq!(exec.items()[1], Resp::err("ERR MONITOR isn't allowed for DENY BLOCKING client"));
        c.cmd(&["AUTH", "secret"]);
        c.cmd(&["HELLO", "2", "AUTH", "default", "secret"]);
        c.cmd(&["CONFIG", "GET", "maxmemory"]);
        c.cmd(&["SELECT", "2"]);
        c.cmd(&["SET", "y", "q\"\\\n\t\x01"]);
        c.cmd(&["NOSUCH"]);
        c.cmd(&["GET"]);
        // A script shows first, then what it runs, from "lua".
        c.cmd(&["EVAL", "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])", "1", "sk", "v"]);
        c.cmd(&["EVALSHA", "nosuch", "0"]);
        c.cmd(&["ECHO", "last"]);
        let mut lines = Vec::new();
        while lines.last().is_none_or(|l: &String| !l.ends_with("\"last\"")) {
            assert!(lines.len() < 30, "{lines:?}");
            lines.push(monitor_line_masked(monitor.read()));
        }
        // MONITOR again is ignored without a reply; RESET ends monitoring.
        monitor.send(&["MONITOR"]);
        assert_eq!(monitor.cmd(&["RESET"]), Resp::Simple("RESET".into()));
        c.cmd(&["PING"]);
        assert_eq!(monitor.cmd(&["ECHO", "after"]), Resp::bulk("after"));
        seen.push(lines);
    }
    assert_eq!(seen[0], seen[1]);
    assert!(seen[0].contains(&r#"[0] "AUTH" "(redacted)""#.to_string()), "{:?}", seen[0]);
    assert!(seen[0].contains(&r#"[2 lua] "SET" "sk" "v""#.to_string()), "{:?}", seen[0]);
}

#[test]
fn encoding_limits_default_to_redis_servers() {
    let Some((server, redis_server, _dir)) = start_pair() else { return };
    let mut forkv = Raw::connect(server.port);
    let mut redis = Raw::connect(redis_server.port);
    for name in [
        "hash-max-listpack-entries",
        "hash-max-listpack-value",
        "set-max-intset-entries",
        "zset-max-listpack-entries",
        "zset-max-listpack-value",
        "list-max-listpack-size",
        "hll-sparse-max-bytes",
    ] {
        assert_eq!(forkv.cmd(&["CONFIG", "GET", name]), redis.cmd(&["CONFIG", "GET", name]), "{name}");
    }
    // And the encodings follow: a hash converts past 512 fields on both.
    for fields in [512, 513] {
        for c in [&mut forkv, &mut redis] {
            c.cmd(&["DEL", "h"]);
            for i in 0..fields {
                c.cmd(&["HSET", "h", &format!("f{i}"), "v"]);
            }
        }
        assert_eq!(forkv.cmd(&["OBJECT", "ENCODING", "h"]), redis.cmd(&["OBJECT", "ENCODING", "h"]), "{fields} fields");
    }
}
