//! Redis 7.0 functions against the real binary, side by side with Debian's
//! redis-server: functions.tcl's cases (FUNCTION LOAD/DELETE/FLUSH/LIST/
//! DUMP/RESTORE/STATS/KILL/HELP, FCALL, FCALL_RO, the load-time sandbox,
//! registration errors, flags), replies and errors compared in RESP2 and
//! RESP3; FUNCTION DUMP payloads restored across the two servers; and
//! persistence: SAVE and restart, RDB files read by the other server, the
//! AOF replaying FUNCTION LOAD/DELETE/FLUSH/RESTORE, and BGREWRITEAOF with
//! and without the RDB preamble. Skips with a note when redis-server is not
//! installed.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use aof_support::RedisServer;
use common::Server;
use helpers::{info_field, Raw, Resp};
use side_by_side::{start_pair, Pair};
use std::time::Duration;

/// functions.tcl's get_function_code.
fn code(name: &str, function: &str, body: &str) -> String {
    format!("#!lua name={name}\nredis.register_function('{function}', function(KEYS, ARGV)\n {body} \nend)")
}

/// functions.tcl's get_no_writes_function_code.
fn no_writes_code(name: &str, function: &str, body: &str) -> String {
    format!(
        "#!lua name={name}\nredis.register_function{{function_name='{function}', callback=function(KEYS, ARGV)\n {body} \nend, flags={{'no-writes'}}}}"
    )
}

/// The command on both connections: the same reply, returned. FUNCTION
/// LIST is compared with libraries and functions sorted by name: Redis
/// lists them in the order of its hash tables, which is seeded at random.
fn both(forkv: &mut Raw, redis: &mut Raw, args: &[&str]) -> Resp {
    let f = forkv.cmd(args);
    let r = redis.cmd(args);
    let is_list = args.len() >= 2 && args[0].eq_ignore_ascii_case("function") && args[1].eq_ignore_ascii_case("list");
    if is_list {
        assert_eq!(sorted_listing(f.clone()), sorted_listing(r), "{args:?}");
    } else {
        assert_eq!(f, r, "{args:?}");
    }
    f
}

/// The name in a library's or function's map, either protocol's shape.
fn entry_name(entry: &Resp) -> Vec<u8> {
    match entry {
        Resp::Array(items) => items[1].text().into_bytes(),
        Resp::Map(pairs) => pairs[0].1.text().into_bytes(),
        other => panic!("not a FUNCTION LIST entry: {other:?}"),
    }
}

/// A FUNCTION LIST reply with its libraries, and each one's functions,
/// sorted by name.
fn sorted_listing(list: Resp) -> Resp {
    let Resp::Array(mut libraries) = list else { return list };
    for library in libraries.iter_mut() {
        let functions = match library {
            Resp::Array(items) => &mut items[5],
            Resp::Map(pairs) => &mut pairs[2].1,
            _ => continue,
        };
        if let Resp::Array(fs) = functions {
            fs.sort_by_key(entry_name);
        }
    }
    libraries.sort_by_key(entry_name);
    Resp::Array(libraries)
}

fn same(p: &mut Pair, args: &[&str]) -> Resp {
    both(&mut p.forkv, &mut p.redis, args)
}

/// An error on both, the same text, containing `part`.
fn same_error(p: &mut Pair, args: &[&str], part: &str) {
    match same(p, args) {
        Resp::Error(e) => assert!(e.contains(part), "{args:?}: {e}"),
        other => panic!("{args:?}: expected an error, got {other:?}"),
    }
}

/// FUNCTION LIST of one library `test` with function `test`, no flags.
fn one_test_library() -> Resp {
    Resp::Array(vec![Resp::Array(vec![
        Resp::bulk("library_name"),
        Resp::bulk("test"),
        Resp::bulk("engine"),
        Resp::bulk("LUA"),
        Resp::bulk("functions"),
        Resp::Array(vec![Resp::Array(vec![
            Resp::bulk("name"),
            Resp::bulk("test"),
            Resp::bulk("description"),
            Resp::NullBulk,
            Resp::bulk("flags"),
            Resp::Array(vec![]),
        ])]),
    ])])
}

#[test]
fn function_commands_match_redis() {
    let Some(mut p) = start_pair() else { return };
    assert_eq!(
        same(&mut p, &["FUNCTION", "LOAD", &code("test", "test", "return 'hello'").replace("#!lua", "#!LUA")]),
        Resp::bulk("test")
    );
    assert_eq!(same(&mut p, &["FCALL", "test", "0"]), Resp::bulk("hello"));
    same_error(
        &mut p,
        &["FUNCTION", "LOAD", "foo", "bar", &code("test", "test", "return 'hello'")],
        "Unknown option given: foo",
    );
    same_error(
        &mut p,
        &["FUNCTION", "LOAD", &code("test", "test", "return 'hello1'")],
        "Library 'test' already exists",
    );
    same_error(
        &mut p,
        &["FUNCTION", "LOAD", &code("bad\\0foramat", "test", "return 'hello1'")],
        "Library names can only",
    );
    same_error(
        &mut p,
        &["FUNCTION", "LOAD", &code("test", "test", "return 1").replace("#!lua", "#!bad_engine")],
        "Engine 'bad_engine' not found",
    );
    same_error(
        &mut p,
        &["FUNCTION", "LOAD", "replace", &code("test", "test", "bad script")],
        "Error compiling function",
    );
    assert_eq!(
        same(&mut p, &["FUNCTION", "LOAD", "REPLACE", &code("test", "test", "return 'hello1'")]),
        Resp::bulk("test")
    );
    // Function names are found in any letter case.
    assert_eq!(same(&mut p, &["FCALL", "TEST", "0"]), Resp::bulk("hello1"));
    same_error(
        &mut p,
        &["FUNCTION", "LOAD", "REPLACE", &code("test", "test", "return 1 +")],
        "Error compiling function",
    );
    assert_eq!(same(&mut p, &["FCALL", "test", "0"]), Resp::bulk("hello1"));
    assert_eq!(same(&mut p, &["FUNCTION", "DELETE", "test"]), Resp::ok());
    same_error(&mut p, &["FCALL", "test", "0"], "Function not found");
    same(&mut p, &["FUNCTION", "LOAD", &code("test", "test", "return 'hello'")]);
    same_error(&mut p, &["FCALL", "test", "bad_arg"], "Bad number of keys provided");
    same_error(&mut p, &["FCALL", "test", "10", "key1"], "Number of keys can't be greater than number of args");
    same_error(&mut p, &["FCALL", "test", "-1", "key1"], "Number of keys can't be negative");
    same_error(&mut p, &["FUNCTION", "DELETE", "test1"], "Library not found");
    same_error(&mut p, &["FUNCTION", "KILL"], "NOTBUSY No scripts in execution right now.");
    same_error(&mut p, &["FUNCTION", "bad_subcommand"], "unknown subcommand");
    same_error(&mut p, &["FUNCTION", "DELETE"], "wrong number of arguments for 'function|delete' command");
    same_error(&mut p, &["FUNCTION", "STATS", "x"], "wrong number of arguments");
    same_error(&mut p, &["FCALL", "test"], "wrong number of arguments for 'fcall' command");
    same(&mut p, &["FUNCTION", "HELP"]);

    // FLUSHALL, FLUSHDB and SCRIPT FLUSH keep the libraries.
    same(&mut p, &["FUNCTION", "FLUSH"]);
    same(&mut p, &["FUNCTION", "LOAD", "REPLACE", &code("test", "test", "return redis.call('set', 'x', '1')")]);
    for flush in [&["FLUSHALL"][..], &["FLUSHDB"], &["SCRIPT", "FLUSH"]] {
        same(&mut p, flush);
    }
    assert_eq!(same(&mut p, &["FUNCTION", "LIST"]), one_test_library());

    // FCALL_RO, keys and arguments.
    same(
        &mut p,
        &["FUNCTION", "LOAD", "REPLACE", &no_writes_code("test", "test", "return redis.call('set', 'x', '1')")],
    );
    same_error(&mut p, &["FCALL_RO", "test", "0"], "Write commands are not allowed from read-only scripts");
    same(&mut p, &["SET", "x", "1"]);
    same(&mut p, &["FUNCTION", "LOAD", "REPLACE", &no_writes_code("test", "test", "return redis.call('get', 'x')")]);
    assert_eq!(same(&mut p, &["FCALL_RO", "test", "0"]), Resp::bulk("1"));
    same(&mut p, &["FUNCTION", "LOAD", "REPLACE", &code("test", "test", "return redis.call('set', KEYS[1], ARGV[1])")]);
    assert_eq!(same(&mut p, &["FCALL", "test", "1", "x", "foo"]), Resp::ok());
    assert_eq!(same(&mut p, &["GET", "x"]), Resp::bulk("foo"));
    same_error(
        &mut p,
        &["FCALL_RO", "test", "1", "x", "foo"],
        "Can not execute a script with write flag using *_ro command.",
    );
    assert_eq!(same(&mut p, &["COMMAND", "GETKEYS", "FCALL", "test", "1", "x", "foo"]), Resp::bulks(&["x"]));
    assert_eq!(same(&mut p, &["COMMAND", "GETKEYS", "FCALL_RO", "test", "1", "x", "foo"]), Resp::bulks(&["x"]));

    // FUNCTION FLUSH and its options.
    same(&mut p, &["FUNCTION", "FLUSH", "ASYNC"]);
    same(&mut p, &["FUNCTION", "FLUSH", "SYNC"]);
    same_error(&mut p, &["FUNCTION", "FLUSH", "bad_arg"], "FUNCTION FLUSH only supports SYNC|ASYNC option");
    same_error(
        &mut p,
        &["FUNCTION", "FLUSH", "sync", "extra"],
        "unknown subcommand or wrong number of arguments for 'FLUSH'",
    );
    assert_eq!(same(&mut p, &["FUNCTION", "LIST"]), Resp::Array(vec![]));
}

#[test]
fn list_and_stats_match_redis_in_both_protocols() {
    let Some(mut p) = start_pair() else { return };
    let library = "#!lua name=library1\nredis.register_function('f6', function(keys, args) return 7 end)\nredis.register_function{function_name='f7', description='seven', callback=function() return 7 end, flags={'no-writes', 'ALLOW-OOM', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}";
    same(&mut p, &["FUNCTION", "LOAD", library]);
    let mut forkv3 = Raw::connect(p.forkv_server.port);
    let mut redis3 = Raw::connect(p.redis_server.port);
    for r in [&mut forkv3, &mut redis3] {
        assert!(matches!(r.cmd(&["HELLO", "3"]), Resp::Map(_)));
    }
    for args in [
        &["FUNCTION", "LIST"][..],
        &["FUNCTION", "LIST", "WITHCODE"],
        &["FUNCTION", "LIST", "LIBRARYNAME", "LIB*"],
        &["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "nomatch*"],
        &["FUNCTION", "STATS"],
        &["FCALL", "f7", "0"],
    ] {
        same(&mut p, args);
        both(&mut forkv3, &mut redis3, args);
    }
    same_error(&mut p, &["FUNCTION", "LIST", "bad_argument"], "Unknown argument bad_argument");
    same_error(&mut p, &["FUNCTION", "LIST", "libraryname"], "library name argument was not given");
    same_error(&mut p, &["FUNCTION", "LIST", "withcode", "withcode"], "Unknown argument withcode");
    same_error(
        &mut p,
        &["FUNCTION", "LIST", "withcode", "libraryname", "foo", "libraryname", "foo"],
        "Unknown argument libraryname",
    );
    // Several libraries: the counts (Redis lists them in hash order).
    same(&mut p, &["FUNCTION", "LOAD", &code("test", "test", "return 1")]);
    same(&mut p, &["FUNCTION", "STATS"]);
    assert_eq!(same(&mut p, &["FUNCTION", "DELETE", "library1"]), Resp::ok());
    same(&mut p, &["FUNCTION", "STATS"]);
    both(&mut forkv3, &mut redis3, &["FUNCTION", "STATS"]);
    let info = p.forkv.cmd(&["INFO", "memory"]).text();
    assert_eq!(info_field(&info, "number_of_functions").as_deref(), Some("1"));
    assert_eq!(info_field(&info, "number_of_libraries").as_deref(), Some("1"));
    assert!(info_field(&info, "used_memory_functions").is_some_and(|v| v.parse::<u64>().unwrap() > 0));
}

#[test]
fn load_sandbox_and_registration_errors_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let libraries = [
        // What a library's code may reach while it loads.
        "#!lua name=lib1\nreturn math.random()",
        "#!lua name=lib1\nredis.call('ping')",
        "#!lua name=lib1\nredis.setresp(3)",
        "#!lua name=lib1\nredis.set_repl(redis.REPL_NONE)",
        "#!lua name=lib1\nlocal a = redis.pcall",
        "#!lua name=lib1\nerror('boom')",
        "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)\nx = 1",
        "#!lua name=lib1\nredis.redis = 1",
        "#!lua name=lib1\nredis.log(redis.LOG_NOTICE, 'loading')\nredis.register_function('v', function() return redis.REDIS_VERSION end)",
        // Registration.
        "#!lua name=lib1\nredis.register_function()",
        "#!lua name=lib1\nredis.register_function('f1')",
        "#!lua name=lib1\nredis.register_function('f1', function() return 1 end, {})",
        "#!lua name=lib1\nredis.register_function(function() return 1 end, function() return 1 end)",
        "#!lua name=lib1\nredis.register_function('f$', function() return 1 end)",
        "#!lua name=lib1\nredis.register_function('', function() return 1 end)",
        "#!lua name=lib1\nredis.register_function('f1', 'not a function')",
        "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)\nredis.register_function('f1', function() return 1 end)",
        "#!lua name=lib1\nredis.register_function{function_name='f1', callback=function() return 1 end}",
        "#!lua name=lib2\nredis.register_function{function_name=function() end, callback=function() return 1 end}",
        "#!lua name=lib2\nredis.register_function{function_name='f2', callback='x'}",
        "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() return 1 end, description=function() end}",
        "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() return 1 end, some_unknown='x'}",
        "#!lua name=lib2\nredis.register_function{callback=function() return 1 end}",
        "#!lua name=lib2\nredis.register_function{function_name='f2'}",
        "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() return 1 end, flags='bad flags type'}",
        "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() return 1 end, flags={function() end}}",
        "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() return 1 end, flags={'unknown'}}",
        "#!lua name=lib2\nredis.register_function('f1', function() return 2 end)",
        "#!lua name=lib2\nredis.register_function('F1', function() return 2 end)",
        "#!lua name=lib2\nlocal a = 1",
        "#!lua name=lib4\nredis.register_function('f2', function() return redis.register_function('f3', function() end) end)",
        // Metadata.
        "return 1",
        "#!lua name=lib3",
        "#!lua\nreturn 1",
        "#!lua name=a name=b\nreturn 1",
        "#!lua foo=bar\nreturn 1",
        "#!lua name=\nreturn 1",
    ];
    for library in libraries {
        same(&mut p, &["FUNCTION", "LOAD", library]);
    }
    assert_eq!(same(&mut p, &["FCALL", "f1", "0"]), Resp::Int(2));
    assert_eq!(same(&mut p, &["FCALL", "v", "0"]), Resp::bulk("7.0.15"));
    same_error(&mut p, &["FCALL", "f2", "0"], "attempt to call field 'register_function' (a nil value) script: f2");
    // Shared code, and the globals a function sees when it runs.
    let shared = "#!lua name=shared\nlocal function add1(a) return a + 1 end\nredis.register_function('g1', function(keys, args) return add1(1) end)\nredis.register_function('g2', function(keys, args) return add1(tonumber(args[1])) + #keys end)\nredis.register_function('g3', function(keys, args) return {string.format('%d', 5), math.floor(2.5), cjson.encode({1}), type(KEYS)} end)\nredis.register_function('g4', function(keys, args) error('oops') end)\nredis.register_function('g5', function(keys, args) y = 1 end)\nredis.register_function('g6', function(keys, args) return redis.call('nosuchcommand') end)\nredis.register_function('g7', function(keys, args) return redis.pcall('incr', keys[1]) end)";
    same(&mut p, &["FUNCTION", "LOAD", shared]);
    for call in [
        &["FCALL", "g1", "0"][..],
        &["FCALL", "g2", "2", "a", "b", "41"],
        &["FCALL", "g3", "0"],
        &["FCALL", "g4", "0"],
        &["FCALL", "g5", "0"],
        &["FCALL", "g6", "0"],
        &["SET", "s", "text"],
        &["FCALL", "g7", "1", "s"],
    ] {
        same(&mut p, call);
    }
    // A load that runs too long is stopped.
    same_error(
        &mut p,
        &["FUNCTION", "LOAD", "#!lua name=slow\nlocal a = 1 while 1 do a = a + 1 end"],
        "FUNCTION LOAD timeout",
    );
    assert_eq!(same(&mut p, &["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn flags_gate_writes_and_memory_as_in_redis() {
    let Some(mut p) = start_pair() else { return };
    same(&mut p, &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='writer', callback=function() return redis.call('set', 'x', '1') end}\nredis.register_function{function_name='ro_writer', callback=function() return redis.call('set', 'x', '1') end, flags={'no-writes'}}\nredis.register_function{function_name='reader', callback=function() return redis.call('get', 'x') end, flags={'no-writes'}}\nredis.register_function{function_name='oom_writer', callback=function() return redis.call('set', 'x', '1') end, flags={'allow-oom'}}"]);
    same_error(&mut p, &["FCALL", "ro_writer", "0"], "Write commands are not allowed from read-only scripts");
    same_error(&mut p, &["FCALL_RO", "writer", "0"], "Can not execute a script with write flag using *_ro command.");
    assert_eq!(same(&mut p, &["FCALL", "writer", "0"]), Resp::ok());
    let payload = dump(&mut p.redis);
    same(&mut p, &["CONFIG", "SET", "maxmemory", "1"]);
    same_error(&mut p, &["FCALL", "writer", "0"], "command not allowed when used memory");
    assert_eq!(same(&mut p, &["FCALL", "reader", "0"]), Resp::bulk("1"));
    assert_eq!(same(&mut p, &["FCALL", "oom_writer", "0"]), Resp::ok());
    same_error(
        &mut p,
        &["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\nredis.register_function('f1', function() return 1 end)"],
        "command not allowed when used memory",
    );
    same(&mut p, &["FUNCTION", "FLUSH"]);
    let refused = restore(&mut p.forkv, &payload, None);
    assert_eq!(refused, restore(&mut p.redis, &payload, None));
    assert!(refused.text().contains("command not allowed when used memory"), "{refused:?}");
    same(&mut p, &["CONFIG", "SET", "maxmemory", "0"]);
    // Refused before they run, as Redis counts them.
    let stats = p.forkv.cmd(&["INFO", "commandstats"]).text();
    for name in ["cmdstat_function|load", "cmdstat_function|restore"] {
        assert!(info_field(&stats, name).is_some_and(|v| v.contains("rejected_calls=1,failed_calls=0")), "{stats}");
    }
    assert_eq!(restore(&mut p.forkv, &payload, None), Resp::ok());
    assert_eq!(restore(&mut p.redis, &payload, None), Resp::ok());
    assert_eq!(same(&mut p, &["FCALL", "reader", "0"]), Resp::bulk("1"));
}

/// `FUNCTION DUMP`'s payload as bytes.
fn dump(r: &mut Raw) -> Vec<u8> {
    match r.cmd(&["FUNCTION", "DUMP"]) {
        Resp::Bulk(b) => b,
        other => panic!("FUNCTION DUMP: {other:?}"),
    }
}

fn restore(r: &mut Raw, payload: &[u8], policy: Option<&str>) -> Resp {
    let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", payload];
    args.extend(policy.map(str::as_bytes));
    r.cmd_bytes(&args)
}

#[test]
fn dump_and_restore_match_redis_and_cross_servers() {
    let Some(mut p) = start_pair() else { return };
    // The same library dumps to the same bytes.
    same(&mut p, &["FUNCTION", "LOAD", &code("test", "test", "return 'hello'")]);
    let (from_forkv, from_redis) = (dump(&mut p.forkv), dump(&mut p.redis));
    assert_eq!(from_forkv, from_redis);
    same(&mut p, &["FUNCTION", "DELETE", "test"]);
    assert_eq!(dump(&mut p.forkv), dump(&mut p.redis), "an empty dump");
    // Each server restores the other's payload.
    assert_eq!(restore(&mut p.forkv, &from_redis, None), Resp::ok());
    assert_eq!(restore(&mut p.redis, &from_forkv, None), Resp::ok());
    assert_eq!(same(&mut p, &["FUNCTION", "LIST"]), one_test_library());
    assert_eq!(same(&mut p, &["FCALL", "test", "0"]), Resp::bulk("hello"));
    // Policies.
    same(&mut p, &["FUNCTION", "FLUSH"]);
    assert_eq!(restore(&mut p.forkv, &from_redis, Some("FLUSH")), restore(&mut p.redis, &from_forkv, Some("FLUSH")));
    same(&mut p, &["FUNCTION", "FLUSH"]);
    same(&mut p, &["FUNCTION", "LOAD", &code("test", "test", "return 'hello1'")]);
    for policy in [None, Some("APPEND"), Some("append")] {
        let f = restore(&mut p.forkv, &from_redis, policy);
        assert_eq!(f, restore(&mut p.redis, &from_forkv, policy));
        assert_eq!(f, Resp::err("ERR Library test already exists"));
    }
    same(&mut p, &["FUNCTION", "FLUSH"]);
    same(&mut p, &["FUNCTION", "LOAD", &code("test1", "test1", "return 'hello1'")]);
    assert_eq!(restore(&mut p.forkv, &from_redis, Some("APPEND")), restore(&mut p.redis, &from_forkv, Some("APPEND")));
    assert_eq!(same(&mut p, &["FCALL", "test", "0"]), Resp::bulk("hello"));
    assert_eq!(same(&mut p, &["FCALL", "test1", "0"]), Resp::bulk("hello1"));
    same(&mut p, &["FUNCTION", "LOAD", "REPLACE", &code("test", "test", "return 'hello2'")]);
    assert_eq!(
        restore(&mut p.forkv, &from_redis, Some("REPLACE")),
        restore(&mut p.redis, &from_forkv, Some("REPLACE"))
    );
    assert_eq!(same(&mut p, &["FCALL", "test", "0"]), Resp::bulk("hello"));
    // Bad payloads and policies leave the libraries as they were.
    same_error(&mut p, &["FUNCTION", "RESTORE", "bad_payload"], "payload version or checksum are wrong");
    let mut bad_type = from_redis.clone();
    bad_type[0] = 0;
    let sealed = forkv::rdb::seal_payload(bad_type[..bad_type.len() - 10].to_vec());
    assert_eq!(restore(&mut p.forkv, &sealed, None), restore(&mut p.redis, &sealed, None));
    let truncated = forkv::rdb::seal_payload(from_redis[..5].to_vec());
    assert_eq!(restore(&mut p.forkv, &truncated, None), restore(&mut p.redis, &truncated, None));
    same_error(
        &mut p,
        &["FUNCTION", "RESTORE", "payload", "bad_policy"],
        "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
    );
    same_error(
        &mut p,
        &["function", "restore", "arg1", "args2", "arg3"],
        "unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.",
    );
    assert_eq!(same(&mut p, &["FCALL", "test1", "0"]), Resp::bulk("hello1"));

    // functions.tcl's restore with a function name collision.
    same(&mut p, &["FUNCTION", "FLUSH"]);
    same(&mut p, &["FUNCTION", "LOAD", "#!lua name=lib1\nlocal function add1(a) return a + 1 end\nredis.register_function('f1', function(keys, args) return add1(1) end)\nredis.register_function('f2', function(keys, args) return add1(2) end)\nredis.register_function('f3', function(keys, args) return add1(3) end)"]);
    let lib1 = dump(&mut p.redis);
    same(&mut p, &["FUNCTION", "FLUSH"]);
    same(
        &mut p,
        &["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f6', function(keys, args) return 7 end)"],
    );
    same(&mut p, &["FUNCTION", "LOAD", "#!lua name=lib2\nlocal function add1(a) return a + 1 end\nredis.register_function('f4', function(keys, args) return add1(4) end)\nredis.register_function('f5', function(keys, args) return add1(5) end)\nredis.register_function('f3', function(keys, args) return add1(3) end)"]);
    for policy in [None, Some("replace")] {
        assert_eq!(restore(&mut p.forkv, &lib1, policy), restore(&mut p.redis, &lib1, policy));
    }
    for (f, want) in [("f3", 4), ("f4", 5), ("f5", 6), ("f6", 7)] {
        assert_eq!(same(&mut p, &["FCALL", f, "0"]), Resp::Int(want));
    }
}

fn load_counter(r: &mut Raw) {
    let lib = "#!lua name=counter\nredis.register_function('bump', function(keys, args) return redis.call('incr', keys[1]) end)\nredis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}";
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("counter"));
}

/// forkv started with `args`, the counter library loaded and `n` bumped once.
fn counter_server(args: &[&str]) -> (Server, Raw) {
    let s = Server::start_with(args);
    let mut r = Raw::connect(s.port);
    load_counter(&mut r);
    assert_eq!(r.cmd(&["FCALL", "bump", "1", "n"]), Resp::Int(1));
    (s, r)
}

fn listing(r: &mut Raw) -> Resp {
    r.cmd(&["FUNCTION", "LIST", "WITHCODE"])
}

#[test]
fn load_logs_and_command_stats() {
    let (s, mut r) = counter_server(&["--save", "", "--appendonly", "no"]);
    let logging = "#!lua name=logging\nredis.log(redis.LOG_WARNING, 'library logging loads')\nredis.register_function('quiet', function() return 0 end)";
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", logging]), Resp::bulk("logging"));
    s.wait_for_log("library logging loads");
    let stats = r.cmd(&["INFO", "commandstats"]).text();
    for name in ["cmdstat_function|load", "cmdstat_fcall"] {
        assert!(info_field(&stats, name).is_some_and(|v| v.starts_with("calls=")), "{name} in {stats}");
    }
}

#[test]
fn save_and_restart_keep_the_libraries() {
    let (mut s, mut r) = counter_server(&["--save", "", "--appendonly", "no"]);
    let before = listing(&mut r);
    assert_eq!(r.cmd(&["SAVE"]), Resp::ok());
    s.restart();
    let mut r = Raw::connect(s.port);
    assert_eq!(listing(&mut r), before);
    assert_eq!(r.cmd(&["FCALL", "bump", "1", "n"]), Resp::Int(2));
    assert_eq!(r.cmd(&["FCALL_RO", "peek", "1", "n"]), Resp::bulk("2"));
    // BGSAVE (the fork child) too, after a FUNCTION DELETE.
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", &code("other", "other", "return 1")]), Resp::bulk("other"));
    assert_eq!(r.cmd(&["FUNCTION", "DELETE", "counter"]), Resp::ok());
    assert_eq!(r.cmd(&["BGSAVE"]), Resp::Simple("Background saving started".into()));
    assert!(helpers::wait_until(Duration::from_secs(20), || {
        info_field(&r.cmd(&["INFO", "persistence"]).text(), "rdb_bgsave_in_progress").as_deref() == Some("0")
    }));
    s.restart();
    let mut r = Raw::connect(s.port);
    assert_eq!(r.cmd(&["FCALL", "other", "0"]), Resp::Int(1));
    assert_eq!(r.cmd(&["FCALL", "bump", "1", "n"]), Resp::err("ERR Function not found"));
}

#[test]
fn rdb_files_with_libraries_load_in_both_servers() {
    if !RedisServer::available() {
        return;
    }
    // forkv's dump in redis-server.
    let (mut s, mut r) = counter_server(&["--save", "", "--appendonly", "no"]);
    let forkv_listing = listing(&mut r);
    assert_eq!(r.cmd(&["SAVE"]), Resp::ok());
    s.stop();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(s.path("dump.rdb"), dir.path().join("dump.rdb")).unwrap();
    let (redis, mut con) = RedisServer::start(dir.path(), &["--appendonly", "no"]);
    let mut rr = Raw::connect(redis.port);
    assert_eq!(sorted_listing(listing(&mut rr)), sorted_listing(forkv_listing));
    assert_eq!(rr.cmd(&["FCALL", "bump", "1", "n"]), Resp::Int(2));
    // redis-server's dump in forkv.
    assert_eq!(rr.cmd(&["FUNCTION", "LOAD", &code("fromredis", "fromredis", "return 'r'")]), Resp::bulk("fromredis"));
    assert_eq!(rr.cmd(&["SAVE"]), Resp::ok());
    redis.shutdown(&mut con);
    std::fs::copy(dir.path().join("dump.rdb"), s.path("dump.rdb")).unwrap();
    s.spawn();
    let mut r = Raw::connect(s.port);
    assert_eq!(r.cmd(&["FCALL", "fromredis", "0"]), Resp::bulk("r"));
    assert_eq!(r.cmd(&["FCALL", "bump", "1", "n"]), Resp::Int(3));
    assert_eq!(r.cmd(&["FUNCTION", "STATS"]).items().len(), 4);
}

#[test]
fn the_aof_replays_function_commands() {
    let (mut s, mut r) = counter_server(&["--save", "", "--appendonly", "yes"]);
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", &code("gone", "gone", "return 1")]), Resp::bulk("gone"));
    assert_eq!(r.cmd(&["FUNCTION", "DELETE", "gone"]), Resp::ok());
    let payload = dump(&mut r);
    assert_eq!(r.cmd(&["FUNCTION", "FLUSH"]), Resp::ok());
    assert_eq!(restore(&mut r, &payload, None), Resp::ok());
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", "REPLACE", &code("later", "later", "return 2")]), Resp::bulk("later"));
    let before = listing(&mut r);
    let aof = std::fs::read(s.path("appendonly.aof")).unwrap();
    for command in ["FUNCTION", "incr"] {
        assert!(aof_support::contains(&aof, command.as_bytes()), "{command} in the AOF");
    }
    assert!(!aof_support::contains(&aof, b"FCALL"), "a function's effects are logged, not the call");
    s.kill();
    s.spawn();
    let mut r = Raw::connect(s.port);
    assert_eq!(listing(&mut r), before);
    assert_eq!(r.cmd(&["FCALL", "bump", "1", "n"]), Resp::Int(2));
    assert_eq!(r.cmd(&["FCALL", "gone", "0"]), Resp::err("ERR Function not found"));
}

#[test]
fn rewrites_with_and_without_preamble_keep_the_libraries() {
    for preamble in ["yes", "no"] {
        let (mut s, mut r) = counter_server(&["--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble]);
        let before = listing(&mut r);
        r.cmd(&["BGREWRITEAOF"]);
        assert!(helpers::wait_until(Duration::from_secs(20), || {
            let info = r.cmd(&["INFO", "persistence"]).text();
            info_field(&info, "aof_rewrite_in_progress").as_deref() == Some("0")
                && info_field(&info, "aof_rewrites").as_deref() == Some("1")
        }));
        let aof = std::fs::read(s.path("appendonly.aof")).unwrap();
        assert_eq!(aof.starts_with(b"REDIS"), preamble == "yes", "preamble {preamble}");
        if preamble == "no" {
            assert!(aof.starts_with(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"), "libraries come first");
        }
        s.restart();
        let mut r = Raw::connect(s.port);
        assert_eq!(listing(&mut r), before, "preamble {preamble}");
        assert_eq!(r.cmd(&["FCALL", "bump", "1", "n"]), Resp::Int(2));
    }
}

#[test]
fn pause_write_holds_library_changes_and_writing_functions() {
    let (s, mut admin) = counter_server(&["--save", "", "--appendonly", "no"]);
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), Resp::ok());
    let mut loader = Raw::connect(s.port);
    loader.send(&["FUNCTION", "LOAD", &code("later", "later", "return 1")]);
    let mut writer = Raw::connect(s.port);
    writer.send(&["FCALL", "bump", "1", "n"]);
    assert!(helpers::wait_until(Duration::from_secs(10), || {
        info_field(&admin.cmd(&["INFO", "clients"]).text(), "blocked_clients").as_deref() == Some("2")
    }));
    // Reads, and functions that declare no writes, go on.
    let mut reader = Raw::connect(s.port);
    assert_eq!(reader.cmd(&["FCALL", "peek", "1", "n"]), Resp::bulk("1"));
    assert_eq!(reader.cmd(&["FUNCTION", "STATS"]).items().len(), 4);
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), Resp::ok());
    assert_eq!(loader.read(), Resp::bulk("later"));
    assert_eq!(writer.read(), Resp::Int(2));
}

#[test]
fn persistence_errors_refuse_writing_functions_as_redis() {
    if !RedisServer::available() {
        return;
    }
    let forkv = Server::start_with(&["--save", "3600 1", "--appendonly", "no"]);
    let dir = tempfile::tempdir().unwrap();
    let (redis, _con) = RedisServer::start(dir.path(), &["--save", "3600 1", "--appendonly", "no"]);
    let (mut f, mut r) = (Raw::connect(forkv.port), Raw::connect(redis.port));
    let lib = "#!lua name=lib\nredis.register_function('w', function() return redis.call('set', 'x', '1') end)\nredis.register_function{function_name='r', callback=function() return redis.call('get', 'x') end, flags={'no-writes'}}";
    both(&mut f, &mut r, &["FUNCTION", "LOAD", lib]);
    let payload = dump(&mut r);
    // A directory where the dump goes: every save fails.
    std::fs::create_dir(forkv.path("dump.rdb")).unwrap();
    std::fs::create_dir(dir.path().join("dump.rdb")).unwrap();
    for c in [&mut f, &mut r] {
        assert_eq!(c.cmd(&["BGSAVE"]), Resp::Simple("Background saving started".into()));
        assert!(helpers::wait_until(Duration::from_secs(20), || {
            info_field(&c.cmd(&["INFO", "persistence"]).text(), "rdb_last_bgsave_status").as_deref() == Some("err")
        }));
    }
    for args in [
        &["FCALL", "w", "0"][..],
        &["FCALL", "r", "0"],
        &["FCALL_RO", "r", "0"],
        &["EVAL", "#!lua\nreturn redis.call('set', 'x', '1')", "0"],
        &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
        &["FUNCTION", "LOAD", &code("other", "other", "return 1")],
        &["FUNCTION", "DELETE", "lib"],
        &["FUNCTION", "FLUSH"],
        &["FUNCTION", "LIST"],
    ] {
        both(&mut f, &mut r, args);
    }
    assert_eq!(restore(&mut f, &payload, Some("REPLACE")), restore(&mut r, &payload, Some("REPLACE")));
    assert!(f.cmd(&["FCALL", "w", "0"]).text().starts_with("MISCONF Redis is configured to save RDB snapshots"));
}
