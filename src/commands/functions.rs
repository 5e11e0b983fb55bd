//! Functions: FUNCTION (LOAD, DELETE, FLUSH, LIST, DUMP, RESTORE, STATS,
//! KILL, HELP), FCALL and FCALL_RO. The libraries are in
//! `crate::functions`, their Lua side in `crate::function_lua`. LOAD,
//! DELETE, FLUSH and RESTORE reach the AOF as themselves; a function's
//! writes, as the commands it ran (wrapped in MULTI/EXEC when more than one).

use crate::engine::key_finders::script_keys;
use crate::engine::table::{cmd, CommandSpec, CONTAINER, MAY_REPLICATE, READONLY, SKIP_MONITOR};
use crate::engine::{Call, Engine};
use crate::functions::{self, Libraries, LOAD_TIMEOUT};
use crate::rdb::{read_functions_payload, verify_payload, write_functions_payload};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("fcall", -3, SKIP_MONITOR | MAY_REPLICATE, (0, 0, 0), fcall).keys_by(script_keys),
    cmd("fcall_ro", -3, READONLY | SKIP_MONITOR, (0, 0, 0), fcall_ro).keys_by(script_keys),
    cmd("function", -2, CONTAINER, (0, 0, 0), function),
];

fn fcall(e: &mut Engine, c: &mut Call) {
    fcall_generic(e, c, false);
}

fn fcall_ro(e: &mut Engine, c: &mut Call) {
    fcall_generic(e, c, true);
}

fn fcall_generic(e: &mut Engine, c: &mut Call, read_only: bool) {
    // Before the function runs, so that the commands it runs follow it.
    e.show_to_monitors(c.client, c.args);
    // The function's own commands record themselves.
    c.propagate_nothing();
    let name = String::from_utf8_lossy(c.arg(1)).into_owned();
    if e.functions.function(c.arg(1)).is_none() {
        return c.out.error("ERR Function not found");
    }
    let Some(numkeys) = crate::util::parse_i64(c.arg(2)) else {
        return c.out.error("ERR Bad number of keys provided");
    };
    if numkeys > c.argc() as i64 - 3 {
        return c.out.error("ERR Number of keys can't be greater than number of args");
    }
    if numkeys < 0 {
        return c.out.error("ERR Number of keys can't be negative");
    }
    let split = 3 + numkeys as usize;
    let (keys, args) = (&c.args[3..split], &c.args[split..]);
    crate::function_lua::call(e, c.client, c.out, &name, keys, args, read_only);
}

const HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

/// Subcommands with their Redis arity.
const SUBCOMMANDS: &[(&str, i32)] = &[
    ("load", -3),
    ("delete", 3),
    ("flush", -2),
    ("list", -2),
    ("dump", 2),
    ("restore", -3),
    ("stats", 2),
    ("kill", 2),
    ("help", 2),
];

/// Whether `args` is one of the FUNCTION `subcommands`.
fn is_subcommand(args: &[&[u8]], subcommands: &[&str]) -> bool {
    args.len() > 1
        && args[0].eq_ignore_ascii_case(b"function")
        && subcommands.iter().any(|s| args[1].eq_ignore_ascii_case(s.as_bytes()))
}

/// Whether `args` is a FUNCTION subcommand Redis flags `write` (LOAD,
/// DELETE, FLUSH, RESTORE): refused while persistence fails, held by
/// CLIENT PAUSE WRITE.
pub fn changes_libraries(args: &[&[u8]]) -> bool {
    is_subcommand(args, &["load", "delete", "flush", "restore"])
}

/// Whether `args` is a FUNCTION subcommand Redis flags `denyoom` (LOAD,
/// RESTORE): refused over `maxmemory`.
pub fn adds_libraries(args: &[&[u8]]) -> bool {
    is_subcommand(args, &["load", "restore"])
}

fn function(e: &mut Engine, c: &mut Call) {
    let sub = String::from_utf8_lossy(c.arg(1)).to_ascii_lowercase();
    let argc = c.argc() as i32;
    let known = SUBCOMMANDS.iter().find(|(name, _)| *name == sub);
    if known.is_none_or(|&(_, arity)| if arity > 0 { argc != arity } else { argc < -arity }) {
        let names: Vec<&str> = SUBCOMMANDS.iter().map(|(n, _)| *n).collect();
        return c.subcommand_error(&names);
    }
    match sub.as_str() {
        "load" => load(e, c),
        "delete" => {
            if e.functions.delete(c.arg(2)) {
                e.dirty += 1;
                c.out.ok();
            } else {
                c.out.error("ERR Library not found");
            }
        }
        "flush" => flush(e, c),
        "list" => list(e, c),
        "dump" => {
            match write_functions_payload(e.functions.libraries().map(|l| l.code.as_slice()), e.config.rdbcompression) {
                Ok(payload) => c.out.bulk(&payload),
                Err(err) => c.out.error(&format!("ERR {err}")),
            }
        }
        "restore" => restore(e, c),
        "stats" => stats(e, c),
        // Functions run to completion on the keyspace thread: none is ever
        // running when another command is read.
        "kill" => c.out.error(crate::script_busy::NOTBUSY),
        _ => c.out.help(HELP),
    }
}

/// FUNCTION LOAD [REPLACE] <code>
fn load(e: &mut Engine, c: &mut Call) {
    let mut replace = false;
    let last = c.argc() - 1;
    for i in 2..last {
        if c.is(i, "replace") {
            replace = true;
        } else {
            let option = String::from_utf8_lossy(c.arg(i)).into_owned();
            return c.out.error(&format!("ERR Unknown option given: {option}"));
        }
    }
    // What the AOF replays loaded once already: no time limit.
    let timeout = (!c.client.loader).then_some(LOAD_TIMEOUT);
    match functions::load(e, None, c.arg(last), replace, timeout) {
        Ok(name) => {
            e.dirty += 1;
            c.out.bulk(name.as_bytes());
        }
        Err(err) => c.out.error(&format!("ERR {err}")),
    }
}

/// FUNCTION FLUSH [ASYNC|SYNC]
fn flush(e: &mut Engine, c: &mut Call) {
    if c.argc() > 3 {
        return c.subcommand_syntax_error();
    }
    if c.argc() == 3 && !c.is(2, "sync") && !c.is(2, "async") {
        return c.out.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    }
    e.functions.replace_all(Libraries::default());
    e.dirty += 1;
    c.out.ok();
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
fn list(e: &mut Engine, c: &mut Call) {
    let (mut with_code, mut pattern) = (false, None);
    let mut i = 2;
    while i < c.argc() {
        if !with_code && c.is(i, "withcode") {
            with_code = true;
        } else if pattern.is_none() && c.is(i, "libraryname") {
            if i + 1 >= c.argc() {
                return c.out.error("ERR library name argument was not given");
            }
            i += 1;
            pattern = Some(c.arg(i));
        } else {
            let arg = String::from_utf8_lossy(c.arg(i)).into_owned();
            return c.out.error(&format!("ERR Unknown argument {arg}"));
        }
        i += 1;
    }
    let shown: Vec<_> = (e.functions.libraries())
        .filter(|l| pattern.is_none_or(|p| crate::glob::glob_match(p, l.name.as_bytes(), true)))
        .collect();
    let out = &mut *c.out;
    out.array(shown.len());
    for library in shown {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(library.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(library.functions.len());
        for f in &library.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names = f.flags.names();
            out.set(names.len());
            for name in names {
                out.simple(name);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&library.code);
        }
    }
}

/// FUNCTION RESTORE <payload> [FLUSH|APPEND|REPLACE]
fn restore(e: &mut Engine, c: &mut Call) {
    if c.argc() > 4 {
        return c.subcommand_syntax_error();
    }
    let (mut flush, mut replace) = (false, false);
    if c.argc() == 4 {
        if c.is(3, "flush") {
            flush = true;
        } else if c.is(3, "replace") {
            replace = true;
        } else if !c.is(3, "append") {
            return c.out.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
        }
    }
    let payload = c.arg(2);
    if !verify_payload(payload) {
        return c.out.error("ERR DUMP payload version or checksum are wrong");
    }
    let restored = read_functions_payload(payload).and_then(|codes| {
        let mut libraries = Libraries::default();
        for code in codes {
            functions::load(e, Some(&mut libraries), &code, false, None)?;
        }
        Ok(libraries)
    });
    let joined = restored.and_then(|libraries| {
        if flush {
            e.functions.replace_all(libraries);
            Ok(())
        } else {
            e.functions.join(libraries, replace)
        }
    });
    match joined {
        Ok(()) => {
            e.dirty += 1;
            c.out.ok();
        }
        Err(err) => c.out.error(&format!("ERR {err}")),
    }
}

/// FUNCTION STATS: nothing is running while a command is read.
fn stats(e: &mut Engine, c: &mut Call) {
    let out = &mut *c.out;
    out.map(2);
    out.bulk(b"running_script");
    out.null();
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(e.functions.library_count() as i64);
    out.bulk(b"functions_count");
    out.int(e.functions.function_count() as i64);
}
