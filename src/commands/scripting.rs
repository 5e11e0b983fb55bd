//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT
//! (LOAD, EXISTS, FLUSH, KILL, HELP). The interpreter side is in
//! `crate::scripting`. A script's writes reach the AOF as the commands it
//! ran (wrapped in MULTI/EXEC when more than one), never as the script.

use crate::engine::key_finders::script_keys;
use crate::engine::table::{cmd, CommandSpec, CONTAINER, MAY_REPLICATE, READONLY, SKIP_MONITOR};
use crate::engine::{Call, Engine};
use crate::scripting::{self, NOSCRIPT};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("eval", -3, SKIP_MONITOR | MAY_REPLICATE, (0, 0, 0), eval).keys_by(script_keys),
    cmd("evalsha", -3, SKIP_MONITOR | MAY_REPLICATE, (0, 0, 0), evalsha).keys_by(script_keys),
    cmd("eval_ro", -3, READONLY | SKIP_MONITOR, (0, 0, 0), eval_ro).keys_by(script_keys),
    cmd("evalsha_ro", -3, READONLY | SKIP_MONITOR, (0, 0, 0), evalsha_ro).keys_by(script_keys),
    cmd("script", -2, CONTAINER, (0, 0, 0), script),
];

fn eval(e: &mut Engine, c: &mut Call) {
    eval_generic(e, c, false, false);
}

fn evalsha(e: &mut Engine, c: &mut Call) {
    eval_generic(e, c, true, false);
}

fn eval_ro(e: &mut Engine, c: &mut Call) {
    eval_generic(e, c, false, true);
}

fn evalsha_ro(e: &mut Engine, c: &mut Call) {
    eval_generic(e, c, true, true);
}

fn eval_generic(e: &mut Engine, c: &mut Call, by_sha: bool, read_only: bool) {
    // Before the script runs, so that the commands it runs follow it.
    e.show_to_monitors(c.client, c.args);
    // The script's own commands record themselves.
    c.propagate_nothing();
    if by_sha && c.arg(1).len() != 40 {
        return c.out.error(NOSCRIPT);
    }
    let Some(numkeys) = c.int_arg(2) else { return };
    if numkeys > c.argc() as i64 - 3 {
        return c.out.error("ERR Number of keys can't be greater than number of args");
    }
    if numkeys < 0 {
        return c.out.error("ERR Number of keys can't be negative");
    }
    let sha = if by_sha {
        match e.scripts.by_sha(c.arg(1)) {
            Some((sha, _)) => sha.clone(),
            None => return c.out.error(NOSCRIPT),
        }
    } else {
        match scripting::create_function(e, c.arg(1)) {
            Ok(sha) => sha,
            Err(msg) => return c.out.error(&msg),
        }
    };
    let split = 3 + numkeys as usize;
    let (keys, args) = (&c.args[3..split], &c.args[split..]);
    scripting::run(e, c.client, c.out, &sha, keys, args, read_only);
}

const HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

fn script(e: &mut Engine, c: &mut Call) {
    let argc = c.argc();
    if argc == 2 && c.is(1, "help") {
        c.out.help(HELP);
    } else if argc >= 2 && c.is(1, "flush") {
        if argc > 3 || (argc == 3 && !c.is(2, "sync") && !c.is(2, "async")) {
            return c.out.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        }
        e.scripts.scripts.clear();
        scripting::reset_interpreter(scripting::Interpreter::Eval);
        c.out.ok();
    } else if argc >= 3 && c.is(1, "exists") {
        c.out.array(argc - 2);
        for i in 2..argc {
            c.out.int(e.scripts.by_sha(c.arg(i)).is_some() as i64);
        }
    } else if argc == 3 && c.is(1, "load") {
        match scripting::create_function(e, c.arg(2)) {
            Ok(sha) => c.out.bulk(sha.as_bytes()),
            Err(msg) => c.out.error(&msg),
        }
    } else if argc == 2 && c.is(1, "kill") {
        // Scripts run to completion on the keyspace thread: none is ever
        // running when another command is read.
        c.out.error(crate::script_busy::NOTBUSY);
    } else if argc == 3 && c.is(1, "debug") {
        // The Lua debugger is not provided: debugging stays off.
        if c.is(2, "no") {
            c.out.ok();
        } else if c.is(2, "yes") || c.is(2, "sync") {
            c.out.error("ERR SCRIPT DEBUG is not supported: scripts always run without the debugger");
        } else {
            c.out.error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
        }
    } else {
        c.subcommand_error(&["help", "flush", "exists", "load", "kill", "debug"]);
    }
}
